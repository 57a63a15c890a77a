//! A revoked Google access token (google.md §1.9): the run asks once for a freshly minted token
//! and sends the same batch again; a second refusal fails the rows as a setup problem.

use super::*;
use crate::delivery::fixtures::{NOW, purchase_rows, settings};
use crate::delivery::outcome::FailureKind;

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

const UNAUTHENTICATED: &str = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#;

fn rows(n: usize) -> Vec<ClaimedRow> {
    purchase_rows(n, "t", 0)
}

fn bearer(request: &HttpRequest) -> String {
    request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Drives a Data Manager run: tokens handed out are `t1`, `t2`, …; `answer` gets the bearer
/// header of each request. Returns the outcomes, the fresh-token flags of each token request and
/// the bearer of each request.
fn drive(
    answer: impl Fn(&str) -> (u16, &'static str),
) -> (Vec<RowOutcome>, Vec<bool>, Vec<String>) {
    let s = settings(DM);
    let mut run = DeliveryRun::new(
        Platform::DataManager,
        &s,
        RetryPolicy::default(),
        NOW,
        rows(3),
    );
    let (mut fresh, mut sent) = (Vec::new(), Vec::new());
    loop {
        match run.poll() {
            Step::NeedToken => {
                fresh.push(run.wants_fresh_token());
                run.token(Ok(format!("t{}", fresh.len())));
            }
            Step::Send(request) => {
                let auth = bearer(&request);
                let (status, body) = answer(&auth);
                sent.push(auth);
                run.answer(Answer::Response { status, body });
            }
            Step::Done(outcomes) => return (outcomes, fresh, sent),
        }
    }
}

#[test]
fn a_refused_access_token_is_replaced_by_a_fresh_one_and_the_batch_sent_again() {
    let (outcomes, fresh, sent) = drive(|auth| {
        if auth.ends_with("t1") {
            (401, UNAUTHENTICATED)
        } else {
            (200, r#"{"requestId":"r-1"}"#)
        }
    });
    assert_eq!(
        fresh,
        [false, true],
        "the second token must not come from the cache"
    );
    assert_eq!(sent, ["Bearer t1", "Bearer t2"]);
    assert_eq!(outcomes.len(), 3);
    for o in &outcomes {
        assert_eq!(o.update.status, RowStatus::Delivered, "{o:?}");
    }
}

#[test]
fn a_fresh_token_refused_again_fails_the_rows_as_a_setup_problem() {
    let (outcomes, fresh, sent) = drive(|_| (401, UNAUTHENTICATED));
    assert_eq!(fresh, [false, true]);
    assert_eq!(sent.len(), 2, "one resend, not a loop: {sent:?}");
    for o in &outcomes {
        assert_eq!(o.update.status, RowStatus::Failed, "{o:?}");
        assert_eq!(o.update.failure, Some(FailureKind::Config), "{o:?}");
    }
}

#[test]
fn a_permission_error_is_not_a_revoked_token() {
    let denied = r#"{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}"#;
    let (outcomes, fresh, sent) = drive(|_| (403, denied));
    assert_eq!(
        (fresh.len(), sent.len()),
        (1, 1),
        "no fresh token for a 403"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| o.update.failure == Some(FailureKind::Config))
    );
}

#[test]
fn only_401_or_unauthenticated_refuses_the_token() {
    assert!(verdict::refuses_access_token(401, ""));
    assert!(verdict::refuses_access_token(400, UNAUTHENTICATED));
    assert!(!verdict::refuses_access_token(403, "{}"));
    assert!(!verdict::refuses_access_token(500, "not json"));
}
