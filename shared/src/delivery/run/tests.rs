//! The send sequence driven with scripted answers.

use std::collections::BTreeMap;

use super::*;
use crate::delivery::fixtures::{NOW, record, settings};
use crate::delivery::outcome::FailureKind;
use crate::record::Source;

const DM: &[(&str, &str)] = &[
    ("DATA_MANAGER_OPERATING_ACCOUNT_ID", "1234567890"),
    (
        "GOOGLE_CONVERSION_ACTIONS",
        "transaction.purchase=111:webpage",
    ),
    ("GOOGLE_CLIENT_ID", "id"),
    ("GOOGLE_CLIENT_SECRET", "secret"),
    ("GOOGLE_REFRESH_TOKEN", "refresh"),
];

fn purchase(order: &str, source: Source) -> EventRecord {
    let json = format!(
        r#"{{"event":"transaction.purchase","order_id":"{order}","value":10,"currency":"USD",
        "page":{{"url":"https://shop.example.com/thanks"}},"user":{{"email":"a@example.com"}},
        "occurred_at":1763999990000}}"#
    );
    record(&json, source)
}

fn claimed(records: Vec<EventRecord>) -> Vec<ClaimedRow> {
    records
        .into_iter()
        .map(|r| ClaimedRow {
            event_id: r.event_id.to_string(),
            attempts: 0,
            record: Some(r),
            purchase: None,
        })
        .collect()
}

fn purchases(n: usize) -> Vec<ClaimedRow> {
    claimed(
        (0..n)
            .map(|i| purchase(&format!("order-{i}"), Source::Server))
            .collect(),
    )
}

/// The event IDs a request carries, in body order (Meta `data[].event_id`, Data Manager
/// `events[].transactionId` = the order id for purchases).
fn carried(request: &HttpRequest) -> Vec<String> {
    let crate::platform::request::Body::Json(body) = &request.body else {
        return Vec::new();
    };
    let (list, field) = if body.get("data").is_some() {
        ("data", "event_id")
    } else {
        ("events", "transactionId")
    };
    body[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e[field].as_str().map(str::to_owned))
        .collect()
}

/// Drives `run` to the end: `token` answers a token request, `answer` each request (by the ids
/// it carries). Returns the outcomes by event id and every request's ids.
fn drive(
    mut run: DeliveryRun<'_>,
    token: impl Fn() -> Result<String, Verdict>,
    mut answer: impl FnMut(&[String]) -> Option<(u16, String)>,
) -> (BTreeMap<String, RowOutcome>, Vec<Vec<String>>) {
    let mut requests = Vec::new();
    loop {
        match run.poll() {
            Step::NeedToken => run.token(token()),
            Step::Send(request) => {
                let ids = carried(&request);
                let reply = answer(&ids);
                requests.push(ids);
                match &reply {
                    Some((status, body)) => run.answer(Answer::Response {
                        status: *status,
                        body,
                    }),
                    None => run.answer(Answer::NoAnswer),
                }
            }
            Step::Done(outcomes) => {
                let n = outcomes.len();
                let by_id: BTreeMap<String, RowOutcome> = outcomes
                    .into_iter()
                    .map(|o| (o.event_id.clone(), o))
                    .collect();
                assert_eq!(by_id.len(), n, "one outcome per row");
                return (by_id, requests);
            }
        }
    }
}

fn meta_ok() -> (u16, String) {
    (200, r#"{"events_received":1,"fbtrace_id":"TRACE1"}"#.into())
}

fn meta_bad_event() -> (u16, String) {
    (
        400,
        r#"{"error":{"code":100,"error_subcode":2804003,"message":"Invalid parameter"}}"#.into(),
    )
}

fn status(outcomes: &BTreeMap<String, RowOutcome>, id: &str) -> RowStatus {
    outcomes[id].update.status
}

#[test]
fn a_meta_batch_with_one_bad_event_is_bisected_down_to_it() {
    let s = settings(&[]);
    let rows = purchases(8);
    let bad = rows[5].event_id.clone();
    let run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        rows.clone(),
    );
    let (outcomes, requests) = drive(
        run,
        || Ok(String::new()),
        |ids| {
            if ids.contains(&bad) {
                Some(meta_bad_event())
            } else {
                Some(meta_ok())
            }
        },
    );
    assert_eq!(outcomes.len(), 8);
    for row in &rows {
        let o = &outcomes[&row.event_id];
        if row.event_id == bad {
            assert_eq!(o.update.status, RowStatus::Failed);
            assert_eq!(o.update.failure, Some(FailureKind::Event));
            assert!(
                o.update
                    .last_error
                    .as_deref()
                    .unwrap_or("")
                    .contains("2804003")
            );
        } else {
            assert_eq!(o.update.status, RowStatus::Delivered, "{}", row.event_id);
            assert_eq!(o.trace_id.as_deref(), Some("TRACE1"));
        }
    }
    // 8 → 4 + 4 → (2 + 2) → (1 + 1): the bad event alone at the end.
    assert_eq!(requests.len(), 7);
    assert!(requests.contains(&vec![bad.clone()]), "{requests:?}");
    assert_eq!(
        requests.iter().flatten().filter(|id| **id == bad).count(),
        4,
        "the bad event is in every request of its branch"
    );
}

#[test]
fn data_manager_field_violations_fail_only_the_named_events() {
    let s = settings(DM);
    let rows = purchases(3);
    let run = DeliveryRun::new(
        Platform::DataManager,
        &s,
        RetryPolicy::default(),
        NOW,
        rows.clone(),
    );
    let body = r#"{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad","details":[
        {"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[
          {"field":"events[1].userData.userIdentifiers[0].emailAddress","description":"not hex"}]}]}}"#;
    let (outcomes, requests) = drive(run, || Ok("TOKEN".into()), |_| Some((400, body.into())));
    assert_eq!(
        requests.len(),
        1,
        "Data Manager names the events: no bisection"
    );
    assert_eq!(status(&outcomes, &rows[1].event_id), RowStatus::Failed);
    assert_eq!(
        outcomes[&rows[1].event_id].update.failure,
        Some(FailureKind::Event)
    );
    for i in [0, 2] {
        let o = &outcomes[&rows[i].event_id];
        assert_eq!(
            o.update.status,
            RowStatus::Pending,
            "the others are sent again"
        );
        assert!(o.update.attempted);
    }
}

#[test]
fn a_throttled_answer_returns_every_row_to_pending_after_the_throttle_wait() {
    let s = settings(&[]);
    let rows = purchases(3);
    let run = DeliveryRun::new(Platform::Meta, &s, RetryPolicy::default(), NOW, rows);
    let body = r#"{"error":{"code":4,"message":"Application request limit reached"}}"#;
    let (outcomes, _) = drive(run, || Ok(String::new()), |_| Some((400, body.into())));
    for o in outcomes.values() {
        assert_eq!(o.update.status, RowStatus::Pending);
        assert_eq!(
            o.update.next_attempt_at_ms,
            NOW + verdict::THROTTLE_SECS * 1000
        );
        assert!(o.update.attempted);
    }
}

#[test]
fn a_refused_token_fails_every_row_that_needed_it_as_a_setup_problem_without_a_request() {
    let s = settings(DM);
    let run = DeliveryRun::new(
        Platform::DataManager,
        &s,
        RetryPolicy::default(),
        NOW,
        purchases(4),
    );
    let refused = || {
        Err(Verdict::ConfigError {
            reason: "google oauth invalid_grant".into(),
        })
    };
    let (outcomes, requests) = drive(run, refused, |_| Some(meta_ok()));
    assert!(requests.is_empty());
    assert_eq!(outcomes.len(), 4);
    for o in outcomes.values() {
        assert_eq!(o.update.status, RowStatus::Failed);
        assert_eq!(o.update.failure, Some(FailureKind::Config));
        assert!(!o.update.attempted, "no request was sent");
    }
}

#[test]
fn an_unreachable_token_endpoint_retries_the_rows() {
    let s = settings(DM);
    let run = DeliveryRun::new(
        Platform::DataManager,
        &s,
        RetryPolicy::default(),
        NOW,
        purchases(2),
    );
    let (outcomes, requests) = drive(
        run,
        || Err(verdict::transport_failure()),
        |_| Some(meta_ok()),
    );
    assert!(requests.is_empty());
    assert!(
        outcomes
            .values()
            .all(|o| o.update.status == RowStatus::Pending)
    );
}

#[test]
fn meta_needs_no_token() {
    let s = settings(&[]);
    let mut run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        purchases(1),
    );
    assert!(matches!(run.poll(), Step::Send(_)));
}

#[test]
fn the_request_budget_running_out_defers_the_rest_to_the_next_flush() {
    let s = settings(&[]);
    // Every request is refused as a batch: bisecting 64 events needs 127 requests.
    let rows = purchases(64);
    let run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        rows.clone(),
    );
    let (outcomes, requests) = drive(run, || Ok(String::new()), |_| Some(meta_bad_event()));
    assert_eq!(requests.len(), MAX_REQUESTS);
    assert_eq!(outcomes.len(), 64);
    let deferred: Vec<&RowOutcome> = outcomes
        .values()
        .filter(|o| o.update.last_error.as_deref() == Some(BUDGET_REASON))
        .collect();
    assert!(!deferred.is_empty());
    for o in deferred {
        assert_eq!(o.update.status, RowStatus::Pending);
        assert_eq!(o.update.next_attempt_at_ms, NOW, "due at once");
        assert!(!o.update.attempted, "a deferral is not an attempt");
    }
}

#[test]
fn a_browser_only_purchase_is_held_and_not_sent() {
    let s = settings(&[]);
    let rows = claimed(vec![purchase("77", Source::Pixel)]);
    let run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        rows.clone(),
    );
    let (outcomes, requests) = drive(run, || Ok(String::new()), |_| Some(meta_ok()));
    assert!(requests.is_empty());
    let o = &outcomes[&rows[0].event_id];
    assert_eq!(o.update.status, RowStatus::Held);
    assert_eq!(o.update.last_error.as_deref(), Some(UNVERIFIED_REASON));
}

#[test]
fn a_browser_only_purchase_is_sent_when_holding_is_switched_off() {
    let s = settings(&[("HOLD_UNVERIFIED", "false")]);
    let rows = claimed(vec![purchase("77", Source::Pixel)]);
    let run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        rows.clone(),
    );
    let (outcomes, requests) = drive(run, || Ok(String::new()), |_| Some(meta_ok()));
    assert_eq!(requests.len(), 1);
    assert_eq!(status(&outcomes, &rows[0].event_id), RowStatus::Delivered);
}

#[test]
fn a_timeout_after_the_platform_accepted_retries_the_row() {
    let s = settings(&[]);
    let rows = purchases(2);
    let run = DeliveryRun::new(Platform::Meta, &s, RetryPolicy::default(), NOW, rows);
    // The platform may have stored the events; no answer reached us. Meta deduplicates the
    // resend by event_id (meta-capi.md §4).
    let (outcomes, requests) = drive(run, || Ok(String::new()), |_| None);
    assert_eq!(requests.len(), 1);
    for o in outcomes.values() {
        assert_eq!(o.update.status, RowStatus::Pending);
        assert!(o.update.attempted);
        assert_eq!(
            o.update.next_attempt_at_ms,
            NOW + verdict::RETRY_SECS * 1000
        );
    }
}

#[test]
fn missing_records_and_unmapped_events_fail_without_a_request() {
    let s = settings(&[]);
    let mut rows = purchases(1);
    rows[0].record = None;
    let mut custom = purchase("9", Source::Server);
    custom.event = crate::EventName::Custom("quiz.completed".into());
    // A row stored before records kept the mapping they were accepted with, for an event whose
    // mapping has since been removed.
    custom.mapping = None;
    let custom_id = custom.event_id.to_string();
    rows.extend(claimed(vec![custom]));
    let run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        rows.clone(),
    );
    let (outcomes, requests) = drive(run, || Ok(String::new()), |_| Some(meta_ok()));
    assert!(requests.is_empty());
    let missing = &outcomes[&rows[0].event_id].update;
    assert_eq!(missing.last_error.as_deref(), Some(MISSING_RECORD_REASON));
    assert_eq!(missing.status, RowStatus::Failed);
    let unmapped = &outcomes[&custom_id].update;
    assert_eq!(unmapped.last_error.as_deref(), Some(UNMAPPED_REASON));
    assert_eq!(unmapped.failure, Some(FailureKind::Event));
}

#[test]
fn rows_of_a_platform_whose_settings_were_removed_fail_as_a_setup_problem() {
    let mut s = settings(&[]);
    // The rows were planned while Meta was configured; its settings are gone now.
    s.meta = None;
    let run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        purchases(2),
    );
    let (outcomes, requests) = drive(run, || Ok("T".into()), |_| Some(meta_ok()));
    assert!(requests.is_empty());
    for o in outcomes.values() {
        assert_eq!(
            o.update.status,
            RowStatus::Failed,
            "{:?}",
            o.update.last_error
        );
        assert_eq!(o.update.failure, Some(FailureKind::Config));
    }
}

#[test]
fn events_too_old_for_the_platform_are_skipped_with_the_reason() {
    let s = settings(&[]);
    let rows = purchases(1);
    let later = NOW + 8 * 24 * 3_600_000;
    let run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        later,
        rows.clone(),
    );
    let (outcomes, requests) = drive(run, || Ok(String::new()), |_| Some(meta_ok()));
    assert!(requests.is_empty());
    let o = &outcomes[&rows[0].event_id].update;
    assert_eq!(o.status, RowStatus::Skipped);
    assert_eq!(
        o.last_error.as_deref(),
        Some("older than the platform's window")
    );
}

#[test]
fn outcomes_come_back_in_claim_order() {
    let s = settings(&[]);
    let rows = purchases(5);
    let mut run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        rows.clone(),
    );
    let outcomes = loop {
        match run.poll() {
            Step::Send(_) => run.answer(Answer::Response {
                status: 200,
                body: "{}",
            }),
            Step::NeedToken => run.token(Ok(String::new())),
            Step::Done(o) => break o,
        }
    };
    let ids: Vec<&str> = outcomes.iter().map(|o| o.event_id.as_str()).collect();
    let claimed: Vec<&str> = rows.iter().map(|r| r.event_id.as_str()).collect();
    assert_eq!(ids, claimed);
    assert!(
        matches!(run.poll(), Step::Done(o) if o.is_empty()),
        "a finished run stays finished"
    );
}

#[test]
fn in_test_mode_the_ga4_debug_endpoints_validation_messages_fail_the_event() {
    let s = settings(&[]);
    let mut record = purchase("5", Source::Server);
    record.session.ga_client_id = Some("111.222".into());
    let rows = claimed(vec![record]);
    let run = DeliveryRun::new(Platform::Ga4, &s, RetryPolicy::default(), NOW, rows.clone())
        .in_test_mode();
    let body = r#"{"validationMessages":[{"fieldPath":"events","description":"Event at index: [0] has invalid name","validationCode":"NAME_INVALID"}]}"#;
    let mut urls = Vec::new();
    let mut run = run;
    let outcomes = loop {
        match run.poll() {
            Step::Send(request) => {
                urls.push(request.url.clone());
                run.answer(Answer::Response { status: 200, body });
            }
            Step::NeedToken => run.token(Ok(String::new())),
            Step::Done(o) => break o,
        }
    };
    assert!(
        urls.iter().all(|u| u.contains("/debug/mp/collect")),
        "{urls:?}"
    );
    assert_eq!(outcomes[0].update.status, RowStatus::Failed);
}

/// The property test (host only: proptest does not build for wasm32).
#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// A scripted answer for the property test.
    #[derive(Debug, Clone, Copy)]
    enum Scripted {
        Ok,
        BadBatch,
        ServerError,
        Throttled,
        ExpiredToken,
        NoAnswer,
    }

    impl Scripted {
        fn reply(self) -> Option<(u16, String)> {
            match self {
                Self::Ok => Some(meta_ok()),
                Self::BadBatch => Some(meta_bad_event()),
                Self::ServerError => Some((500, "oops".into())),
                Self::Throttled => Some((429, r#"{"error":{"code":17,"message":"limit"}}"#.into())),
                Self::ExpiredToken => {
                    Some((400, r#"{"error":{"code":190,"message":"expired"}}"#.into()))
                }
                Self::NoAnswer => None,
            }
        }
    }

    fn scripted() -> impl Strategy<Value = Scripted> {
        prop_oneof![
            Just(Scripted::Ok),
            Just(Scripted::BadBatch),
            Just(Scripted::ServerError),
            Just(Scripted::Throttled),
            Just(Scripted::ExpiredToken),
            Just(Scripted::NoAnswer),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// For any sequence of answers, every claimed row ends with exactly one final update, and
        /// an event is sent again in the same run only after its whole batch was refused.
        #[test]
        fn every_claimed_row_gets_exactly_one_update_and_no_event_is_sent_twice(
            n in 1usize..24,
            held in proptest::collection::vec(any::<bool>(), 24),
            answers in proptest::collection::vec(scripted(), 0..60),
        ) {
            let s = settings(&[]);
            let rows = claimed(
                (0..n)
                    .map(|i| {
                        let source = if held[i] { Source::Pixel } else { Source::Server };
                        purchase(&format!("p-{i}"), source)
                    })
                    .collect(),
            );
            let mut script = answers.into_iter();
            let mut finalized: BTreeSet<String> = BTreeSet::new();
            let run = DeliveryRun::new(Platform::Meta, &s, RetryPolicy::default(), NOW, rows.clone());
            let (outcomes, requests) = drive(run, || Ok(String::new()), |ids| {
                for id in ids {
                    assert!(!finalized.contains(id), "{id} sent again after a final answer");
                }
                let answer = script.next().unwrap_or(Scripted::Ok);
                let splits = matches!(answer, Scripted::BadBatch) && ids.len() > 1;
                if !splits {
                    finalized.extend(ids.iter().cloned());
                }
                answer.reply()
            });
            prop_assert!(requests.len() <= MAX_REQUESTS);
            prop_assert_eq!(outcomes.len(), n);
            for row in &rows {
                let o = &outcomes[&row.event_id];
                prop_assert!(o.update.status != RowStatus::Sending);
                if row.record.as_ref().is_some_and(|r| r.awaits_corroboration(&s.mappings)) {
                    prop_assert_eq!(o.update.status, RowStatus::Held);
                }
            }
        }
    }
}

// adjustment::gate in a run: a refund goes only once its purchase was delivered on the platform;
// while the purchase is on its way it waits; without a delivered purchase it is never sent
// (data-manager.md §3.1: an unmatched transactionId would be a new conversion).
#[test]
fn a_refund_is_sent_only_after_its_purchase_was_delivered() {
    use crate::adjustment::PurchaseDelivery as P;
    let s = settings(DM);
    let paid = purchase("A-7", Source::Server);
    let mut refund = record(
        r#"{"event":"transaction.refunded","order_id":"A-7","refund_id":"r-1","value":4,"currency":"USD"}"#,
        Source::Server,
    );
    crate::adjustment::link(&mut refund, Some(&paid), &[]).unwrap();
    let id = refund.event_id.to_string();
    let rows = |purchase| {
        vec![ClaimedRow {
            event_id: id.clone(),
            attempts: 0,
            record: Some(refund.clone()),
            purchase,
        }]
    };
    let policy = RetryPolicy::default();
    for (state, expected) in [
        (Some(P::Never), RowStatus::Skipped),
        (None, RowStatus::Skipped),
        (Some(P::InFlight), RowStatus::Pending),
    ] {
        let run = DeliveryRun::new(Platform::DataManager, &s, policy, NOW, rows(state));
        let (outcomes, requests) = drive(run, || Ok("T".into()), |_| Some((200, "{}".into())));
        assert!(requests.is_empty(), "{state:?}: nothing sent");
        assert_eq!(outcomes[&id].update.status, expected, "{state:?}");
    }
    let run = DeliveryRun::new(
        Platform::DataManager,
        &s,
        policy,
        NOW,
        rows(Some(P::Delivered)),
    );
    let (outcomes, requests) = drive(run, || Ok("T".into()), |_| Some((200, "{}".into())));
    assert_eq!(requests, [vec!["A-7".to_owned()]]);
    assert_eq!(outcomes[&id].update.status, RowStatus::Delivered);
}
