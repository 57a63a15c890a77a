//! Tests for merging copies with stored events.

use super::*;
use crate::delivery::fixtures::{CART, NOW, PURCHASE, record, settings};
use crate::delivery::plan::RowStatus;
use crate::platform::Platform;
use crate::record::Source;

#[test]
fn a_first_copy_becomes_a_new_event_at_version_zero() {
    let s = settings(&[]);
    let (merged, outcomes) = merge_copies(
        Stored::default(),
        &s,
        vec![record(PURCHASE, Source::Server)],
        NOW,
    );
    assert_eq!(outcomes, [CopyOutcome::New]);
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].base_version, 0);
    assert_eq!(merged[0].status, EventStatus::Pending);
    assert!(!merged[0].rows.is_empty());
}

#[test]
fn two_copies_in_one_call_become_one_event_with_both_sources() {
    let s = settings(&[]);
    let copies = vec![
        record(PURCHASE, Source::Pixel),
        record(PURCHASE, Source::Server),
    ];
    let (merged, outcomes) = merge_copies(Stored::default(), &s, copies, NOW);
    assert_eq!(outcomes, [CopyOutcome::New, CopyOutcome::Merged]);
    assert_eq!(merged.len(), 1, "one event per id");
    let sources = merged[0].record.sources;
    assert!(sources.pixel && sources.server);
    // The shop's copy corroborates the browser's: nothing is held.
    assert!(merged[0].rows.iter().all(|r| r.status != RowStatus::Held));
}

#[test]
fn a_copy_merges_into_the_stored_record_and_keeps_its_version_as_base() {
    let s = settings(&[]);
    let stored_copy = record(PURCHASE, Source::Pixel);
    let id = stored_copy.event_id.to_string();
    let stored = Stored {
        records: [(id.clone(), stored_copy)].into(),
        versions: [(id.clone(), 3)].into(),
        rows: BTreeMap::new(),
    };
    let (merged, outcomes) = merge_copies(stored, &s, vec![record(PURCHASE, Source::Server)], NOW);
    assert_eq!(outcomes, [CopyOutcome::Merged]);
    assert_eq!(merged[0].base_version, 3);
    assert!(merged[0].record.sources.pixel && merged[0].record.sources.server);
}

#[test]
fn an_unparseable_stored_record_is_replaced_under_its_version() {
    let s = settings(&[]);
    let copy = record(CART, Source::Pixel);
    let stored = Stored {
        versions: [(copy.event_id.to_string(), 5)].into(),
        ..Stored::default()
    };
    let (merged, outcomes) = merge_copies(stored, &s, vec![copy], NOW);
    assert_eq!(outcomes, [CopyOutcome::New]);
    assert_eq!(merged[0].base_version, 5);
}

#[test]
fn a_copy_after_delivery_only_records_its_source() {
    let s = settings(&[]);
    let first = record(PURCHASE, Source::Server);
    let id = first.event_id.to_string();
    let rows = vec![
        ExistingRow {
            platform: Platform::Meta,
            status: RowStatus::Delivered,
            next_attempt_at_ms: NOW,
        },
        ExistingRow {
            platform: Platform::Ga4,
            status: RowStatus::Delivered,
            next_attempt_at_ms: NOW,
        },
    ];
    let stored = Stored {
        records: [(id.clone(), first)].into(),
        versions: [(id.clone(), 1)].into(),
        rows: [(id, rows)].into(),
    };
    let (merged, outcomes) = merge_copies(stored, &s, vec![record(PURCHASE, Source::Pixel)], NOW);
    assert_eq!(outcomes, [CopyOutcome::Duplicate]);
    assert!(
        merged[0].rows.is_empty(),
        "delivered rows are never re-planned"
    );
    assert!(merged[0].record.sources.pixel);
    assert_eq!(merged[0].status, EventStatus::Done);
}

#[test]
fn distinct_events_keep_the_order_of_their_first_copy() {
    let s = settings(&[]);
    let copies = vec![
        record(CART, Source::Pixel),
        record(PURCHASE, Source::Server),
        record(CART, Source::Pixel),
    ];
    let (merged, outcomes) = merge_copies(Stored::default(), &s, copies, NOW);
    assert_eq!(outcomes.len(), 3);
    let names: Vec<&str> = merged.iter().map(|m| m.record.event.as_str()).collect();
    assert_eq!(names, ["cart.added", "transaction.purchase"]);
}

/// A browser copy of `PURCHASE` from the visit `session`.
fn visit(session: &str) -> EventRecord {
    let mut copy = record(PURCHASE, Source::Pixel);
    copy.session_id = Some(session.into());
    copy
}

#[test]
fn a_copy_left_out_against_the_stored_record_alone_stands_at_once() {
    let s = settings(&[]);
    let first = visit("shopper");
    let id = first.event_id.to_string();
    let stored = Stored {
        records: [(id.clone(), first)].into(),
        versions: [(id, 1)].into(),
        rows: BTreeMap::new(),
    };
    let (merged, outcomes) = merge_copies(stored, &s, vec![visit("other")], NOW);
    assert_eq!(outcomes, [CopyOutcome::Untied]);
    assert!(merged.is_empty(), "nothing to write for it");
    // Nothing can change the verdict: a retry would meet the same record (the 409 / "untied"
    // answer, not a loop that ends in 503).
    assert!(stands(outcomes[0], false, false));
}

#[test]
fn a_copy_left_out_against_a_copy_whose_write_lost_is_judged_again() {
    // Two visits' copies in one call: the second is left out against the first, which is not
    // stored yet. If the first's write loses to another writer (say the shop's copy naming the
    // second visit), the verdict was reached against a record storage never held.
    let s = settings(&[]);
    let (merged, outcomes) =
        merge_copies(Stored::default(), &s, vec![visit("one"), visit("two")], NOW);
    assert_eq!(outcomes, [CopyOutcome::New, CopyOutcome::Untied]);
    assert_eq!(merged.len(), 1);
    assert!(
        !stands(outcomes[1], false, true),
        "merged again after the lost write"
    );
    assert!(!stands(outcomes[0], false, true));
    // Once the first copy's write applied, both verdicts stand.
    assert!(stands(outcomes[0], true, true) && stands(outcomes[1], true, true));
}
