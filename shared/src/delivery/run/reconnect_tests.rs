//! A refused credential (Meta code 190, Google `invalid_grant` on refresh) pauses the platform:
//! its rows wait, unattempted, and nothing more is sent until the merchant reconnects
//! (`connect::status`; README "Connect accounts").

use super::*;
use crate::connect::Provider;
use crate::connect::credential::fingerprint;
use crate::connect::status::Refusal;
use crate::delivery::fixtures::{NOW, purchase_rows, settings};

fn purchases(n: usize) -> Vec<ClaimedRow> {
    purchase_rows(n, "r", 3)
}

fn assert_waiting(outcomes: &[RowOutcome], n: usize, why: &str) {
    assert_eq!(outcomes.len(), n);
    for o in outcomes {
        assert_eq!(o.update.status, RowStatus::Pending, "{o:?}");
        assert!(!o.update.attempted, "waiting is not an attempt: {o:?}");
        assert_eq!(o.update.next_attempt_at_ms, NOW);
        let e = o.update.last_error.as_deref().unwrap_or_default();
        assert!(e.contains(why), "{e}");
    }
}

/// meta-capi.md §5.2: 190 "access token expired → new token": not a retry, not a failure.
#[test]
fn meta_code_190_leaves_the_rows_waiting_and_reports_the_refused_credential() {
    let s = settings(&[]);
    let mut run = DeliveryRun::new(
        Platform::Meta,
        &s,
        RetryPolicy::default(),
        NOW,
        purchases(2),
    );
    let Step::Send(_) = run.poll() else {
        panic!("a request")
    };
    let body = r#"{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"x"}}"#;
    run.answer(Answer::Response { status: 400, body });
    let Step::Done(outcomes) = run.poll() else {
        panic!("done")
    };
    assert_waiting(&outcomes, 2, "190/460");
    assert!(run.credential_refused().unwrap().contains("190/460"));
}

/// google.md §1.1: a refused refresh (`invalid_grant`) is the merchant's to fix by reconnecting.
#[test]
fn a_refused_google_refresh_leaves_every_row_waiting() {
    let s = settings(&[
        ("DATA_MANAGER_OPERATING_ACCOUNT_ID", "1234567890"),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=111:webpage",
        ),
        ("GOOGLE_CLIENT_ID", "id"),
        ("GOOGLE_CLIENT_SECRET", "secret"),
        ("GOOGLE_REFRESH_TOKEN", "refresh"),
    ]);
    let mut run = DeliveryRun::new(
        Platform::DataManager,
        &s,
        RetryPolicy::default(),
        NOW,
        purchases(3),
    );
    assert!(matches!(run.poll(), Step::NeedToken));
    run.token(Err(Verdict::Reconnect {
        reason: "Google refused the token refresh (invalid_grant)".into(),
    }));
    let Step::Done(outcomes) = run.poll() else {
        panic!("nothing is sent")
    };
    assert_waiting(&outcomes, 3, "invalid_grant");
    assert!(run.credential_refused().is_some());
}

#[test]
fn a_paused_platform_sends_nothing_until_its_credential_changes() {
    let refusal = Refusal {
        provider: Provider::Meta,
        fingerprint: fingerprint("t"),
        reason: "meta 190/460: session invalidated".into(),
        since_ms: NOW - 1,
    };
    let base = settings(&[]);
    let paused = base.clone().with_connections(None, None, vec![refusal]);
    let mut run = DeliveryRun::new(
        Platform::Meta,
        &paused,
        RetryPolicy::default(),
        NOW,
        purchases(2),
    );
    let Step::Done(outcomes) = run.poll() else {
        panic!("no request while paused")
    };
    assert_waiting(&outcomes, 2, "waiting for Meta to be reconnected");
    assert_eq!(run.credential_refused(), None, "nothing new was refused");
    // GA4 has no credential to refuse: unaffected.
    let mut ga4 = DeliveryRun::new(
        Platform::Ga4,
        &paused,
        RetryPolicy::default(),
        NOW,
        purchases(1),
    );
    assert!(matches!(ga4.poll(), Step::Send(_) | Step::Done(_)));
}
