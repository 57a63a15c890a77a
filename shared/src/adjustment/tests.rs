//! Tests for linking refunds and cancellations to their purchase, and the delivery gate.

use super::*;
use crate::delivery::fixtures::{NOW, record, settings};
use crate::delivery::plan::{RowStatus, plan_rows};
use crate::platform::Platform;
use crate::record::Source;

const PURCHASE: &str = r#"{"event":"transaction.purchase","order_id":"A-1","value":59.9,"currency":"EUR",
    "page":{"url":"https://shop.example.com/thanks?gclid=Cj0-purchase"},"user":{"email":"a@example.com"},
    "occurred_at":1763990000000}"#;

fn refund(id: &str, value: f64, at: u64) -> EventRecord {
    record(
        &format!(
            r#"{{"event":"transaction.refunded","order_id":"A-1","refund_id":"{id}","value":{value},"currency":"EUR","occurred_at":{at}}}"#
        ),
        Source::Server,
    )
}

fn cancel() -> EventRecord {
    record(
        r#"{"event":"transaction.cancelled","order_id":"A-1","occurred_at":1763999000000}"#,
        Source::Server,
    )
}

fn earlier(r: &EventRecord) -> EarlierRefund {
    EarlierRefund {
        refund_id: r.refund_id.clone().unwrap(),
        occurred_at_ms: r.occurred_at_ms,
        money: r.money.clone().unwrap(),
    }
}

fn eur(value: f64) -> Money {
    Money {
        value,
        currency: "EUR".into(),
    }
}

// data-manager.md §3.1: a restatement carries the conversion's new total (the original value minus
// every refund so far), so two partial refunds restate 59.90 to 49.90, then to 29.95.
#[test]
fn two_partial_refunds_restate_the_purchase_total_after_each() {
    let purchase = record(PURCHASE, Source::Server);
    let mut first = refund("r-1", 10.0, 1_763_995_000_000);
    link(&mut first, Some(&purchase), &[]).unwrap();
    let a = first.adjusts.clone().unwrap();
    assert_eq!((a.restated, a.refunded), (eur(49.9), eur(10.0)));
    let mut second = refund("r-2", 19.95, 1_763_996_000_000);
    link(&mut second, Some(&purchase), &[earlier(&first)]).unwrap();
    let a = second.adjusts.unwrap();
    assert_eq!((a.restated, a.refunded), (eur(29.95), eur(19.95)));
    assert_eq!(a.purchase_event_id, purchase.event_id);
    assert_eq!(a.purchase_occurred_at_ms, 1_763_990_000_000);
}

// Each refund_id counts once, itself never twice, and a refund that happened later does not lower
// an earlier one's total.
#[test]
fn a_refund_counts_each_earlier_refund_once_and_not_later_ones() {
    let purchase = record(PURCHASE, Source::Server);
    let first = refund("r-1", 10.0, 1_763_995_000_000);
    let later = refund("r-3", 5.0, 1_763_998_000_000);
    let mut this = refund("r-2", 19.95, 1_763_996_000_000);
    let list = [
        earlier(&first),
        earlier(&first),
        earlier(&later),
        earlier(&this),
    ];
    link(&mut this, Some(&purchase), &list).unwrap();
    assert_eq!(this.adjusts.unwrap().restated, eur(29.95));
}

// data-manager.md §3.1: Data Manager documents no retraction, so a cancellation restates the value
// to zero; GA4's refund takes back what was left.
#[test]
fn a_cancellation_restates_to_zero_and_takes_back_the_remainder() {
    let purchase = record(PURCHASE, Source::Server);
    let first = refund("r-1", 10.0, 1_763_995_000_000);
    let mut c = cancel();
    link(&mut c, Some(&purchase), &[earlier(&first)]).unwrap();
    let a = c.adjusts.unwrap();
    assert_eq!((a.restated, a.refunded), (eur(0.0), eur(49.9)));
}

#[test]
fn a_refund_larger_than_what_is_left_restates_to_zero_not_below() {
    let purchase = record(PURCHASE, Source::Server);
    let mut r = refund("r-9", 80.0, 1_763_995_000_000);
    link(&mut r, Some(&purchase), &[]).unwrap();
    let a = r.adjusts.unwrap();
    assert_eq!((a.restated, a.refunded), (eur(0.0), eur(59.9)));
}

#[test]
fn a_refund_in_another_currency_is_not_linked() {
    let purchase = record(PURCHASE, Source::Server);
    let mut r = record(
        r#"{"event":"transaction.refunded","order_id":"A-1","refund_id":"r-1","value":1,"currency":"USD"}"#,
        Source::Server,
    );
    assert_eq!(link(&mut r, Some(&purchase), &[]), Err(Unlinked::Currency));
    assert_eq!(r.adjusts, None);
}

// data-manager.md §3.1: the same identifiers as the original; GA4 needs the purchase's client id.
#[test]
fn an_adjustment_carries_its_purchases_identifiers_and_session() {
    let mut purchase = record(PURCHASE, Source::Server);
    purchase.session.ga_session_id = Some(1_763_990_000);
    let mut r = refund("r-1", 10.0, 1_763_995_000_000);
    r.session = crate::record::SessionContext::default();
    link(&mut r, Some(&purchase), &[]).unwrap();
    assert_eq!(r.user, purchase.user);
    assert_eq!(r.session.ga_client_id.as_deref(), Some("111.222"));
    assert_eq!(r.session.ga_session_id, Some(1_763_990_000));
    assert_eq!(r.page_url, purchase.page_url);
}

// data-manager.md §3.1: an unmatched transactionId creates a new conversion, so an adjustment
// without its purchase gets no Google row that could be sent; Meta never gets one.
#[test]
fn an_adjustment_without_its_purchase_is_skipped_everywhere_with_a_reason() {
    let mut r = refund("r-1", 10.0, NOW - 1000);
    assert_eq!(link(&mut r, None, &[]), Err(Unlinked::NoPurchase));
    let s = settings(&[
        ("DATA_MANAGER_OPERATING_ACCOUNT_ID", "1234567890"),
        ("GOOGLE_CLIENT_ID", "c"),
        ("GOOGLE_CLIENT_SECRET", "s"),
        ("GOOGLE_REFRESH_TOKEN", "t"),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=1001:upload_clicks",
        ),
    ]);
    let rows = plan_rows(&r, &s, NOW);
    let status: Vec<(Platform, RowStatus)> = rows.iter().map(|r| (r.platform, r.status)).collect();
    assert_eq!(
        status,
        [
            (Platform::Meta, RowStatus::Skipped),
            (Platform::DataManager, RowStatus::Skipped),
            (Platform::Ga4, RowStatus::Skipped),
        ]
    );
    assert!(
        rows[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("no refund or retraction")
    );
    assert!(
        rows[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("new conversion")
    );
}

// Meta: recorded as not applicable, never a negative purchase; Google and GA4 are pending.
#[test]
fn a_linked_refund_is_pending_for_google_and_not_applicable_for_meta() {
    let purchase = record(PURCHASE, Source::Server);
    let mut r = refund("r-1", 10.0, NOW - 1000);
    link(&mut r, Some(&purchase), &[]).unwrap();
    let s = settings(&[
        ("DATA_MANAGER_OPERATING_ACCOUNT_ID", "1234567890"),
        ("GOOGLE_CLIENT_ID", "c"),
        ("GOOGLE_CLIENT_SECRET", "s"),
        ("GOOGLE_REFRESH_TOKEN", "t"),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=1001:upload_clicks",
        ),
    ]);
    let rows = plan_rows(&r, &s, NOW);
    let status: Vec<(Platform, RowStatus)> = rows.iter().map(|r| (r.platform, r.status)).collect();
    assert_eq!(
        status,
        [
            (Platform::Meta, RowStatus::Skipped),
            (Platform::DataManager, RowStatus::Pending),
            (Platform::Ga4, RowStatus::Pending),
        ]
    );
}

#[test]
fn an_adjustment_waits_for_its_purchase_and_is_skipped_if_it_never_arrived() {
    assert_eq!(gate(Some(PurchaseDelivery::Delivered)), Gate::Send);
    assert_eq!(
        gate(Some(PurchaseDelivery::InFlight)),
        Gate::Wait(PURCHASE_WAIT_SECS)
    );
    assert_eq!(
        gate(Some(PurchaseDelivery::Never)),
        Gate::Skip(NotSent::PurchaseNotDelivered)
    );
    assert_eq!(gate(None), Gate::Skip(NotSent::PurchaseNotDelivered));
    assert_eq!(
        PurchaseDelivery::of_row(Some(RowStatus::Held)),
        PurchaseDelivery::InFlight
    );
    assert_eq!(
        PurchaseDelivery::of_row(Some(RowStatus::Failed)),
        PurchaseDelivery::Never
    );
}
