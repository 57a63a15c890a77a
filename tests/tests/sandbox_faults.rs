//! The sandbox's fault modes for the fault-window tests (`e2e_faults.rs`): a request that takes
//! effect and is answered only after the client gave up (`accept_then_timeout`), a `Retry-After`
//! on throttle answers, the dedup ledger that counts copies per key, and revoked Google access
//! tokens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{get_json, google_token, meta_event, meta_url, post_json, sandbox, upload};
use serde_json::{Value, json};

async fn fault(sb: &ar_sandbox::Sandbox, spec: Value) {
    let (status, res) =
        post_json(&format!("{}/_sandbox/faults", sb.platform_url), &spec, &[]).await;
    assert_eq!(status, 201, "{res}");
}

async fn ledger(sb: &ar_sandbox::Sandbox, platform: &str) -> Value {
    get_json(&format!(
        "{}/_sandbox/dedup?platform={platform}",
        sb.platform_url
    ))
    .await
}

#[tokio::test]
async fn accept_then_timeout_counts_the_events_before_the_client_gives_up() {
    let sb = sandbox().await;
    fault(
        &sb,
        json!({"platform": "meta", "kind": "accept_then_timeout", "delay_ms": 5_000}),
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let body = json!({"data": [meta_event("ev-late")]});
    let first = client.post(meta_url(&sb)).json(&body).send().await;
    assert!(
        first.as_ref().is_err_and(reqwest::Error::is_timeout),
        "the client timed out: {first:?}"
    );
    // It took effect all the same: recorded as accepted and counted by Meta's dedup.
    let l = ledger(&sb, "meta").await;
    assert_eq!(l["copies"]["Purchase|ev-late"], 1, "{l}");
    assert_eq!(l["answered_late"], json!(["ev-late"]), "{l}");
    let requests = get_json(&format!(
        "{}/_sandbox/requests?platform=meta",
        sb.platform_url
    ))
    .await;
    assert_eq!(requests[0]["verdict"], "accepted", "{requests}");

    // The client's resend is a raw duplicate that the dedup absorbs.
    let (status, _) = post_json(&meta_url(&sb), &body, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(ledger(&sb, "meta").await["copies"]["Purchase|ev-late"], 2);
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["meta"]["deduplicated"], 1, "{counts}");
    assert_eq!(counts["meta"]["duplicates"], 1, "{counts}");
}

#[tokio::test]
async fn a_plain_timeout_answers_nothing_in_time_and_is_not_marked_late() {
    let sb = sandbox().await;
    fault(
        &sb,
        json!({"platform": "meta", "kind": "timeout", "delay_ms": 2_000}),
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let body = json!({"data": [meta_event("ev-hang")]});
    assert!(client.post(meta_url(&sb)).json(&body).send().await.is_err());
    assert_eq!(ledger(&sb, "meta").await["answered_late"], json!([]));
}

#[tokio::test]
async fn a_throttle_fault_can_carry_retry_after() {
    let sb = sandbox().await;
    fault(
        &sb,
        json!({"platform": "google_ads", "kind": "throttle", "retry_after_secs": 7}),
    )
    .await;
    let token = google_token(&sb).await;
    let res = common::http()
        .post(common::ads_upload_url(&sb))
        .bearer_auth(&token)
        .header("developer-token", "sandbox-developer-token")
        .json(&json!({"conversions": [], "partialFailure": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
}

#[tokio::test]
async fn revoked_access_tokens_answer_unauthenticated_until_a_new_one_is_minted() {
    let sb = sandbox().await;
    let old = google_token(&sb).await;
    let body = json!({"conversions": [common::click_conversion("sbx-1-revoke", "o-1")],
                      "partialFailure": true});
    let (status, res) = post_json(
        &format!("{}/_sandbox/revoke-tokens", sb.platform_url),
        &json!({}),
        &[],
    )
    .await;
    assert_eq!((status, &res["revoked"]), (200, &json!(1)), "{res}");
    let (status, res) = upload(&sb, &old, &body).await;
    assert_eq!(status, 401, "{res}");
    assert_eq!(res["error"]["status"], "UNAUTHENTICATED", "{res}");
    let fresh = google_token(&sb).await;
    let (status, res) = upload(&sb, &fresh, &body).await;
    assert_eq!(status, 200, "{res}");
}

#[tokio::test]
async fn the_dedup_ledger_refuses_unknown_platforms() {
    let sb = sandbox().await;
    let res = common::http()
        .get(format!(
            "{}/_sandbox/dedup?platform=tiktok",
            sb.platform_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}
