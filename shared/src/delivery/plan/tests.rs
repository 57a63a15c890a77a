//! Tests for outbox row planning and how copies change stored rows.

use super::*;
use crate::delivery::fixtures::{CART, NOW, PURCHASE, record, settings};
use crate::record::Source;

fn platforms(rows: &[PlannedRow]) -> Vec<(Platform, RowStatus)> {
    rows.iter().map(|r| (r.platform, r.status)).collect()
}

#[test]
fn a_server_purchase_gets_a_pending_row_per_enabled_platform_after_the_merge_window() {
    let rows = plan_rows(&record(PURCHASE, Source::Server), &settings(&[]), NOW);
    assert_eq!(
        platforms(&rows),
        [
            (Platform::Meta, RowStatus::Pending),
            (Platform::Ga4, RowStatus::Pending)
        ]
    );
    assert!(rows.iter().all(|r| r.next_attempt_at_ms == NOW + 2_000));
}

#[test]
fn batched_events_are_due_at_once_for_the_next_flush() {
    let rows = plan_rows(&record(CART, Source::Pixel), &settings(&[]), NOW);
    assert_eq!(rows[0].platform, Platform::Meta);
    assert_eq!(rows[0].next_attempt_at_ms, NOW);
}

#[test]
fn switched_off_platforms_get_no_row() {
    let s = settings(&[("GA4_MEASUREMENT_ID", ""), ("GA4_API_SECRET", "")]);
    let rows = plan_rows(&record(PURCHASE, Source::Server), &s, NOW);
    assert_eq!(platforms(&rows), [(Platform::Meta, RowStatus::Pending)]);
}

#[test]
fn browser_purchases_without_corroboration_are_held() {
    let rows = plan_rows(&record(PURCHASE, Source::Pixel), &settings(&[]), NOW);
    assert!(rows.iter().all(|r| r.status == RowStatus::Held), "{rows:?}");
    let open = settings(&[("HOLD_UNVERIFIED", "false")]);
    let rows = plan_rows(&record(PURCHASE, Source::Pixel), &open, NOW);
    assert!(rows.iter().all(|r| r.status == RowStatus::Pending));
}

#[test]
fn browse_events_whose_gtag_fired_are_skipped_for_ga4_with_a_reason() {
    let mut r = record(CART, Source::Pixel);
    r.fired.google = true;
    let rows = plan_rows(&r, &settings(&[]), NOW);
    let ga4 = rows.iter().find(|r| r.platform == Platform::Ga4).unwrap();
    assert_eq!(ga4.status, RowStatus::Skipped);
    assert!(ga4.reason.as_deref().unwrap_or_default().contains("gtag"));
}

#[test]
// google.md Addendum C: an `upload_clicks` action is a Data Manager offline destination; the Ads
// customer id alone names its operating account. data-manager.md §2: no wait after the click.
fn google_ads_rows_go_to_data_manager_only_for_events_with_a_conversion_action() {
    let s = settings(&[
        ("GOOGLE_ADS_CUSTOMER_ID", "1234567890"),
        ("GOOGLE_CLIENT_ID", "c"),
        ("GOOGLE_CLIENT_SECRET", "s"),
        ("GOOGLE_REFRESH_TOKEN", "r"),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=1001:upload_clicks",
        ),
    ]);
    let purchase = plan_rows(&record(PURCHASE, Source::Server), &s, NOW);
    let dm = purchase
        .iter()
        .find(|r| r.platform == Platform::DataManager)
        .expect("a Data Manager row");
    assert_eq!(dm.next_attempt_at_ms, NOW + 2_000, "only the merge window");
    let cart = plan_rows(&record(CART, Source::Pixel), &s, NOW);
    assert!(cart.iter().all(|r| r.platform != Platform::DataManager));
}

fn existing(platform: Platform, status: RowStatus, at: u64) -> ExistingRow {
    ExistingRow {
        platform,
        status,
        next_attempt_at_ms: at,
    }
}

fn pending(platform: Platform, at: u64) -> PlannedRow {
    PlannedRow {
        platform,
        status: RowStatus::Pending,
        next_attempt_at_ms: at,
        reason: None,
    }
}

#[test]
fn the_first_copy_is_new_and_writes_every_row() {
    let m = merge_rows(false, &[], vec![pending(Platform::Meta, NOW)]);
    assert_eq!(m.outcome, CopyOutcome::New);
    assert_eq!(m.writes.len(), 1);
    assert_eq!(m.event_status, EventStatus::Pending);
}

#[test]
fn a_second_copy_before_sending_merges_and_keeps_the_first_due_time() {
    let old = [existing(Platform::Meta, RowStatus::Pending, NOW)];
    let m = merge_rows(true, &old, vec![pending(Platform::Meta, NOW + 1_000)]);
    assert_eq!(m.outcome, CopyOutcome::Merged);
    assert_eq!(m.writes[0].next_attempt_at_ms, NOW);
}

#[test]
fn a_copy_after_sending_never_rewrites_delivered_rows() {
    let old = [
        existing(Platform::Meta, RowStatus::Delivered, NOW),
        existing(Platform::Ga4, RowStatus::Skipped, NOW),
    ];
    let m = merge_rows(
        true,
        &old,
        vec![pending(Platform::Meta, NOW), pending(Platform::Ga4, NOW)],
    );
    assert_eq!(m.outcome, CopyOutcome::Duplicate);
    assert_eq!(platforms(&m.writes), [(Platform::Ga4, RowStatus::Pending)]);
    assert_eq!(m.event_status, EventStatus::Pending);
}

#[test]
fn a_shop_copy_releases_held_rows() {
    let old = [existing(Platform::Meta, RowStatus::Held, NOW)];
    let m = merge_rows(true, &old, vec![pending(Platform::Meta, NOW + 2_000)]);
    assert_eq!(platforms(&m.writes), [(Platform::Meta, RowStatus::Pending)]);
    assert_eq!(m.writes[0].next_attempt_at_ms, NOW + 2_000);
}

#[test]
fn event_status_follows_its_rows() {
    use RowStatus as R;
    assert_eq!(
        EventStatus::of([R::Delivered, R::Skipped]),
        EventStatus::Done
    );
    assert_eq!(
        EventStatus::of([R::Held, R::Skipped]),
        EventStatus::Unverified
    );
    assert_eq!(EventStatus::of([R::Held, R::Sending]), EventStatus::Pending);
    assert_eq!(EventStatus::of([]), EventStatus::Done);
}

#[test]
fn column_values_round_trip() {
    for p in Platform::ALL {
        assert_eq!(Platform::parse(p.as_str()), Some(p));
    }
    for s in RowStatus::ALL {
        assert_eq!(RowStatus::parse(s.as_str()), Some(s));
    }
}
