//! Recording, counts (platform dedup), reset, the HTML page, browser-tag recording and fault
//! injection over the `/_sandbox` API.

// Helpers outside #[test] fns fail loudly too: that is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn requests_are_recorded_without_secrets_and_filterable_by_event_id() {
    let sb = sandbox().await;
    post_meta(&sb, vec![meta_event("ev-A")]).await;
    post_meta(&sb, vec![meta_event("ev-B")]).await;
    let records = get_json(&format!(
        "{}/_sandbox/requests?platform=meta&event_id=ev-B",
        sb.platform_url
    ))
    .await;
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["verdict"], "accepted");
    assert_eq!(r["status"], 200);
    assert_eq!(r["body"]["data"][0]["event_id"], "ev-B");
    assert_eq!(r["query"]["access_token"], "[redacted]");
    assert!(r["received_at_ms"].as_i64().unwrap() > 0);
    let token = google_token(&sb).await;
    upload(
        &sb,
        &token,
        &json!({"conversions": [click_conversion("Cj0KCQabc", "O-1")], "partialFailure": true}),
    )
    .await;
    let all = get_json(&format!("{}/_sandbox/requests", sb.platform_url))
        .await
        .to_string();
    assert!(!all.contains(&token), "bearer tokens must not be recorded");
    assert!(!all.contains("sandbox-developer-token"));
    assert!(!all.contains("sandbox-meta-token"));
}

#[tokio::test]
async fn rejected_requests_are_recorded_with_their_error_codes() {
    let sb = sandbox().await;
    let mut e = meta_event("bad");
    e["user_data"]["fbc"] = json!("nope");
    post_meta(&sb, vec![e]).await;
    let records = get_json(&format!(
        "{}/_sandbox/requests?verdict=rejected",
        sb.platform_url
    ))
    .await;
    assert_eq!(records[0]["error_codes"], json!(["100/2804001"]));
    assert_eq!(records[0]["event_ids"], json!(["bad"]));
}

#[tokio::test]
async fn meta_counts_browser_and_server_copies_of_one_event_once() {
    let sb = sandbox().await;
    let tag = json!({"tag": "fbq", "args": ["track", "Purchase", {"value": 59.9, "currency": "EUR"}, {"eventID": "ev-1001"}], "page": "http://shop/thank-you"});
    let (status, _) = post_json(
        &format!("{}/_sandbox/browser-tags", sb.platform_url),
        &tag,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    post_meta(&sb, vec![meta_event("ev-1001")]).await;
    post_meta(&sb, vec![meta_event("ev-1001")]).await;
    post_meta(&sb, vec![meta_event("ev-other")]).await;
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    let meta = &counts["meta"];
    assert_eq!(meta["events_accepted"], 3);
    assert_eq!(meta["browser_events"], 1);
    assert_eq!(meta["deduplicated"], 2);
    assert_eq!(meta["by_event"]["Purchase"]["deduplicated"], 2);
    let tags = get_json(&format!(
        "{}/_sandbox/requests?platform=browser_tags&event_id=ev-1001",
        sb.platform_url
    ))
    .await;
    assert_eq!(tags.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn meta_dedup_window_is_48_hours_on_the_sandbox_clock() {
    let sb = sandbox().await;
    post_meta(&sb, vec![meta_event("ev-late")]).await;
    sb.state.clock.advance_ms(49 * 3_600_000);
    let mut later = meta_event("ev-late");
    later["event_time"] = json!(sb.state.clock.now_ms() / 1_000 - 60);
    post_meta(&sb, vec![later]).await;
    assert_eq!(
        get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await["meta"]["deduplicated"],
        2
    );
}

#[tokio::test]
async fn gtag_conversion_and_data_manager_event_for_one_order_count_once() {
    let sb = sandbox().await;
    let tag = json!({"tag": "gtag", "args": ["event", "conversion", {"send_to": "AW-123/label", "transaction_id": "1001", "value": 59.9, "currency": "EUR"}]});
    post_json(
        &format!("{}/_sandbox/browser-tags", sb.platform_url),
        &tag,
        &[],
    )
    .await;
    let token = google_token(&sb).await;
    let auth = format!("Bearer {token}");
    let body = json!({
        "destinations": [{"operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"}, "productDestinationId": "2001"}],
        "events": [{"transactionId": "1001", "eventTimestamp": "2026-11-25T12:00:00Z", "conversionValue": 59.9, "currency": "EUR", "adIdentifiers": {"gclid": "Cj0KCQ-tag"}}]
    });
    let (status, _) = post_json(
        &format!("{}/v1/events:ingest", sb.platform_url),
        &body,
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(status, 200);
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["data_manager"]["browser_events"], 1);
    assert_eq!(counts["data_manager"]["deduplicated"], 1);
}

#[tokio::test]
async fn reset_forgets_requests_counts_faults_and_clock() {
    let sb = sandbox().await;
    post_meta(&sb, vec![meta_event("ev-r")]).await;
    post_json(
        &format!("{}/_sandbox/faults", sb.platform_url),
        &json!({"platform": "meta", "kind": "status", "count": 5}),
        &[],
    )
    .await;
    post_json(
        &format!("{}/_sandbox/clock", sb.platform_url),
        &json!({"advance_ms": 1_000_000}),
        &[],
    )
    .await;
    let (status, _) = post_json(
        &format!("{}/_sandbox/reset", sb.platform_url),
        &json!({}),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        get_json(&format!("{}/_sandbox/requests", sb.platform_url)).await,
        json!([])
    );
    assert_eq!(
        get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await["meta"]["requests"],
        0
    );
    assert_eq!(
        get_json(&format!("{}/_sandbox/faults", sb.platform_url)).await["active"],
        json!([])
    );
    assert_eq!(
        get_json(&format!("{}/_sandbox/clock", sb.platform_url)).await["offset_ms"],
        0
    );
    assert_eq!(post_meta(&sb, vec![meta_event("ev-r")]).await.0, 200);
}

#[tokio::test]
async fn inspection_page_is_plain_html_showing_requests_and_counts() {
    let sb = sandbox().await;
    post_meta(&sb, vec![meta_event("ev-<html>")]).await;
    let res = http()
        .get(format!("{}/_sandbox/", sb.platform_url))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("Counts") && html.contains("/v24.0/1234567890123/events"));
    assert!(html.contains("ev-&lt;html&gt;"), "ids are escaped");
    assert!(
        !html.contains("<script"),
        "no scripts on the inspection page"
    );
}

#[tokio::test]
async fn browser_tag_endpoint_allows_cors_preflight() {
    let sb = sandbox().await;
    let res = http()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/_sandbox/browser-tags", sb.platform_url),
        )
        .header("origin", "http://127.0.0.1:8788")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}

async fn fault(sb: &ar_sandbox::Sandbox, spec: Value) {
    let (status, res) =
        post_json(&format!("{}/_sandbox/faults", sb.platform_url), &spec, &[]).await;
    assert_eq!(status, 201, "{res}");
}

#[tokio::test]
async fn status_fault_fails_exactly_count_requests_then_clears() {
    let sb = sandbox().await;
    fault(
        &sb,
        json!({"platform": "meta", "count": 2, "kind": "status", "status": 500}),
    )
    .await;
    for _ in 0..2 {
        let (status, body) = post_meta(&sb, vec![meta_event("f")]).await;
        assert_eq!(status, 500);
        assert_eq!(body["error"]["code"], 1);
        assert_eq!(body["error"]["is_transient"], true);
    }
    assert_eq!(post_meta(&sb, vec![meta_event("f")]).await.0, 200);
    let faults = get_json(&format!(
        "{}/_sandbox/requests?verdict=fault",
        sb.platform_url
    ))
    .await;
    assert_eq!(faults.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn meta_throttle_and_transient_faults_use_graph_codes() {
    let sb = sandbox().await;
    fault(&sb, json!({"platform": "meta", "kind": "throttle"})).await;
    let (status, body) = post_meta(&sb, vec![meta_event("t")]).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(17)));
    fault(&sb, json!({"platform": "meta", "kind": "transient"})).await;
    let (_, body) = post_meta(&sb, vec![meta_event("t")]).await;
    assert_eq!(body["error"]["code"], 2);
    assert_eq!(body["error"]["is_transient"], true);
}

#[tokio::test]
async fn google_throttle_fault_is_429_resource_exhausted_for_its_duration() {
    let sb = sandbox().await;
    fault(
        &sb,
        json!({"platform": "google_ads", "seconds": 10, "kind": "throttle"}),
    )
    .await;
    let token = google_token(&sb).await;
    for _ in 0..3 {
        let (status, res) = upload(
            &sb,
            &token,
            &json!({"conversions": [click_conversion("Cj0KCQabc", "1")], "partialFailure": true}),
        )
        .await;
        assert_eq!(status, 429);
        assert_eq!(res["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(
            ads_error_codes(&res["error"]),
            ["RESOURCE_TEMPORARILY_EXHAUSTED"]
        );
    }
    let res = http()
        .delete(format!("{}/_sandbox/faults", sb.platform_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (status, _) = upload(
        &sb,
        &token,
        &json!({"conversions": [click_conversion("Cj0KCQabc", "1")], "partialFailure": true}),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn permanent_fault_answers_the_requested_platform_code() {
    let sb = sandbox().await;
    fault(&sb, json!({"platform": "meta", "kind": "permanent", "code": 190, "message": "Error validating access token"})).await;
    let (status, body) = post_meta(&sb, vec![meta_event("p")]).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(190)));
    fault(&sb, json!({"platform": "google_ads", "kind": "permanent", "status": 403, "code": "authorizationError.USER_PERMISSION_DENIED"})).await;
    let token = google_token(&sb).await;
    let (status, res) = upload(
        &sb,
        &token,
        &json!({"conversions": [click_conversion("Cj0KCQabc", "1")], "partialFailure": true}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(res["error"]["status"], "PERMISSION_DENIED");
    assert_eq!(
        res["error"]["details"][0]["errors"][0]["errorCode"]["authorizationError"],
        "USER_PERMISSION_DENIED"
    );
}

#[tokio::test]
async fn timeout_fault_hangs_longer_than_the_client_timeout() {
    let sb = sandbox().await;
    fault(
        &sb,
        json!({"platform": "meta", "kind": "timeout", "delay_ms": 3000}),
    )
    .await;
    let started = Instant::now();
    let res = http()
        .post(meta_url(&sb))
        .json(&json!({"data": [meta_event("slow")]}))
        .timeout(Duration::from_millis(1500))
        .send()
        .await;
    assert!(res.is_err_and(|e| e.is_timeout()));
    assert!(started.elapsed() < Duration::from_millis(2500));
}

#[tokio::test]
async fn unknown_fault_platform_is_refused() {
    let sb = sandbox().await;
    let (status, _) = post_json(
        &format!("{}/_sandbox/faults", sb.platform_url),
        &json!({"platform": "tiktok", "kind": "status"}),
        &[],
    )
    .await;
    assert_eq!(status, 400);
}
