//! The fake Meta Conversions API validates like Meta (shared/reference/meta-capi.md) and answers
//! with Graph-shaped errors.

// Helpers outside #[test] fns fail loudly too: that is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

fn code(body: &Value) -> (i64, Option<i64>) {
    (
        body["error"]["code"].as_i64().unwrap_or(-1),
        body["error"]["error_subcode"].as_i64(),
    )
}

#[tokio::test]
async fn valid_purchase_is_accepted_with_events_received() {
    let sb = sandbox().await;
    let (status, body) = post_meta(&sb, vec![meta_event("ev-1"), meta_event("ev-2")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events_received"], 2);
    assert_eq!(body["messages"], json!([]));
    assert!(body["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()));
}

#[tokio::test]
async fn form_encoded_body_with_token_field_is_accepted() {
    let sb = sandbox().await;
    let data = json!([meta_event("ev-form")]).to_string();
    let res = http()
        .post(format!("{}/v24.0/1234567890123/events", sb.platform_url))
        .form(&[
            ("data", data.as_str()),
            ("access_token", "sandbox-meta-token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn missing_access_token_is_graph_error_104() {
    let sb = sandbox().await;
    let url = format!("{}/v24.0/1234567890123/events", sb.platform_url);
    let (status, body) = post_json(&url, &json!({"data": [meta_event("e")]}), &[]).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body).0, 104);
    assert_eq!(body["error"]["type"], "OAuthException");
    assert!(body["error"]["fbtrace_id"].is_string());
}

#[tokio::test]
async fn wrong_access_token_is_graph_error_190() {
    let sb = sandbox().await;
    let url = format!(
        "{}/v24.0/1234567890123/events?access_token=nope",
        sb.platform_url
    );
    let (status, body) = post_json(&url, &json!({"data": [meta_event("e")]}), &[]).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body).0, 190);
}

#[tokio::test]
async fn non_numeric_pixel_id_is_unsupported_post_request_100_33() {
    let sb = sandbox().await;
    let url = format!(
        "{}/v24.0/my-pixel/events?access_token=sandbox-meta-token",
        sb.platform_url
    );
    let (_, body) = post_json(&url, &json!({"data": [meta_event("e")]}), &[]).await;
    assert_eq!(code(&body), (100, Some(33)));
}

#[tokio::test]
async fn event_older_than_seven_days_rejects_the_whole_batch_with_2804003() {
    let sb = sandbox().await;
    let mut old = meta_event("old");
    old["event_time"] = json!(now_s() - 8 * 86_400);
    let (status, body) = post_meta(&sb, vec![meta_event("fresh"), old]).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), (100, Some(2_804_003)));
    // Nothing of the batch was counted.
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["meta"]["events_accepted"], 0);
    assert_eq!(counts["meta"]["events_rejected"], 2);
}

#[tokio::test]
async fn event_time_in_milliseconds_is_rejected_as_future() {
    let sb = sandbox().await;
    let mut e = meta_event("ms");
    e["event_time"] = json!(now_s() * 1_000);
    let (status, body) = post_meta(&sb, vec![e]).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body).0, 100);
    assert_eq!(
        body["error"]["error_user_title"],
        "Event Timestamp In Future"
    );
}

#[tokio::test]
async fn more_than_1000_events_are_rejected() {
    let sb = sandbox().await;
    let events: Vec<Value> = (0..1001).map(|i| meta_event(&format!("e{i}"))).collect();
    let (status, body) = post_meta(&sb, events).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body).0, 100);
    let ok: Vec<Value> = (0..1000).map(|i| meta_event(&format!("e{i}"))).collect();
    assert_eq!(post_meta(&sb, ok).await.0, 200);
}

#[tokio::test]
async fn unknown_user_data_key_is_rejected_like_meta() {
    let sb = sandbox().await;
    let mut e = meta_event("k");
    e["user_data"]["click_id"] = json!("x");
    let (_, body) = post_meta(&sb, vec![e]).await;
    assert_eq!(code(&body).0, 100);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Unexpected key \"click_id\" on param \"$['data'][0]['user_data']\""),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_event_and_top_level_keys_are_rejected() {
    let sb = sandbox().await;
    let mut e = meta_event("k");
    e["gclid"] = json!("x");
    let (_, body) = post_meta(&sb, vec![e]).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unexpected key \"gclid\"")
    );
    let (_, body) = post_json(
        &meta_url(&sb),
        &json!({"data": [meta_event("k")], "extra": 1}),
        &[],
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unexpected key \"extra\"")
    );
}

#[tokio::test]
async fn unhashed_email_is_rejected() {
    let sb = sandbox().await;
    let mut e = meta_event("h");
    e["user_data"]["em"] = json!("john@example.com");
    let (status, body) = post_meta(&sb, vec![e]).await;
    assert_eq!((status, code(&body).0), (400, 100));
    assert_eq!(
        body["error"]["error_user_title"],
        "Unhashed Customer Information"
    );
}

#[tokio::test]
async fn uppercase_hex_hash_is_rejected() {
    let sb = sandbox().await;
    let mut e = meta_event("h");
    e["user_data"]["ph"] = json!([ar_sandbox::checks::sha256_hex("1").to_uppercase()]);
    assert_eq!(post_meta(&sb, vec![e]).await.0, 400);
}

#[tokio::test]
async fn malformed_fbc_is_2804001_click_id_incorrectly_formatted() {
    let sb = sandbox().await;
    for bad in [
        "fb.1.1554763741205",
        "fb.1.1554763741.IwZX",
        "IwZXh0bgNhZW0CMTAAAR",
    ] {
        let mut e = meta_event("fbc");
        e["user_data"]["fbc"] = json!(bad);
        let (_, body) = post_meta(&sb, vec![e]).await;
        assert_eq!(code(&body), (100, Some(2_804_001)), "{bad}");
    }
}

#[tokio::test]
async fn malformed_fbp_is_rejected_and_appendix_forms_are_accepted() {
    let sb = sandbox().await;
    let mut e = meta_event("fbp");
    e["user_data"]["fbp"] = json!("fb.1.1596403881668.abc");
    assert_eq!(post_meta(&sb, vec![e]).await.0, 400);
    let mut e = meta_event("fbp2");
    e["user_data"]["fbp"] = json!("fb.1.1596403881668.1116446470.AQQCAQIB");
    e["user_data"]["fbc"] = json!("fb.1.1554763741205.IwZXh0bgNhZW0CMTAAAR-uK_5w.Bg");
    assert_eq!(post_meta(&sb, vec![e]).await.0, 200);
}

#[tokio::test]
async fn website_event_without_user_agent_or_source_url_is_rejected() {
    let sb = sandbox().await;
    let mut e = meta_event("ua");
    e["user_data"]
        .as_object_mut()
        .unwrap()
        .remove("client_user_agent");
    let (_, body) = post_meta(&sb, vec![e]).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("client_user_agent")
    );
    let mut e = meta_event("url");
    e.as_object_mut().unwrap().remove("event_source_url");
    let (_, body) = post_meta(&sb, vec![e]).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("event_source_url")
    );
}

#[tokio::test]
async fn missing_required_fields_are_rejected() {
    let sb = sandbox().await;
    for field in ["event_name", "event_time", "action_source", "user_data"] {
        let mut e = meta_event("req");
        e.as_object_mut().unwrap().remove(field);
        let (status, body) = post_meta(&sb, vec![e]).await;
        assert_eq!(status, 400, "{field}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {body}"
        );
    }
    let (_, body) = post_json(&meta_url(&sb), &json!({}), &[]).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("data"));
}

#[tokio::test]
async fn invalid_action_source_and_ip_are_rejected() {
    let sb = sandbox().await;
    let mut e = meta_event("as");
    e["action_source"] = json!("web");
    assert_eq!(post_meta(&sb, vec![e]).await.0, 400);
    let mut e = meta_event("ip");
    e["user_data"]["client_ip_address"] = json!(ar_sandbox::checks::sha256_hex("1.2.3.4"));
    assert_eq!(post_meta(&sb, vec![e]).await.0, 400);
}

#[tokio::test]
async fn purchase_without_value_or_currency_is_2804019() {
    let sb = sandbox().await;
    let mut e = meta_event("pv");
    e["custom_data"].as_object_mut().unwrap().remove("currency");
    let (_, body) = post_meta(&sb, vec![e]).await;
    assert_eq!(code(&body), (100, Some(2_804_019)));
}

#[tokio::test]
async fn user_data_with_only_weak_keys_is_insufficient_2804050() {
    let sb = sandbox().await;
    let mut e = meta_event("weak");
    e["action_source"] = json!("system_generated");
    e["user_data"] = json!({ "ct": ar_sandbox::checks::sha256_hex("berlin"), "country": ar_sandbox::checks::sha256_hex("de") });
    let (_, body) = post_meta(&sb, vec![e]).await;
    assert_eq!(code(&body), (100, Some(2_804_050)));
}

#[tokio::test]
async fn ldu_with_country_but_no_state_is_rejected() {
    let sb = sandbox().await;
    let mut e = meta_event("ldu");
    e["data_processing_options"] = json!(["LDU"]);
    e["data_processing_options_country"] = json!(1);
    assert_eq!(post_meta(&sb, vec![e.clone()]).await.0, 400);
    e["data_processing_options_state"] = json!(1000);
    assert_eq!(post_meta(&sb, vec![e]).await.0, 200);
}

#[tokio::test]
async fn partner_agent_must_be_short_with_two_letters() {
    let sb = sandbox().await;
    let body = json!({ "data": [meta_event("pa")], "partner_agent": "x".repeat(30) });
    assert_eq!(post_json(&meta_url(&sb), &body, &[]).await.0, 400);
    let body = json!({ "data": [meta_event("pa")], "partner_agent": "activereach-1", "test_event_code": "TEST123" });
    assert_eq!(post_json(&meta_url(&sb), &body, &[]).await.0, 200);
}
