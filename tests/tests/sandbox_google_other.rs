//! The fake Data Manager `events:ingest` (fast-fail, `ErrorReason`s), GA4 Measurement Protocol
//! (204 / validationMessages) and OAuth token endpoint behave like Google's
//! (shared/reference/google.md §1.1, §4, §8).

// Helpers outside #[test] fns fail loudly too: that is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ar_sandbox::checks::sha256_hex;
use common::*;
use serde_json::{Value, json};

fn dm_body(events: Vec<Value>) -> Value {
    json!({
        "destinations": [{ "operatingAccount": { "accountType": "GOOGLE_ADS", "accountId": "1234567890" }, "productDestinationId": "2001" }],
        "events": Value::Array(events),
        "encoding": "HEX",
        "consent": { "adUserData": "CONSENT_GRANTED", "adPersonalization": "CONSENT_DENIED" }
    })
}

fn dm_event(txn: &str) -> Value {
    json!({
        "transactionId": txn,
        "eventTimestamp": "2026-11-25T12:00:00Z",
        "conversionValue": 59.9,
        "currency": "EUR",
        "eventSource": "WEB",
        "userData": { "userIdentifiers": [{ "emailAddress": sha256_hex("john@example.com") }] },
        "adIdentifiers": { "gclid": "Cj0KCQabc" }
    })
}

async fn ingest(sb: &ar_sandbox::Sandbox, body: &Value) -> (u16, Value) {
    let token = google_token(sb).await;
    let auth = format!("Bearer {token}");
    post_json(
        &format!("{}/v1/events:ingest", sb.platform_url),
        body,
        &[("authorization", &auth)],
    )
    .await
}

fn reason(res: &Value) -> String {
    res["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|d| d["reason"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn data_manager_accepts_valid_events_and_dedups_by_transaction_id() {
    let sb = sandbox().await;
    let (status, res) = ingest(&sb, &dm_body(vec![dm_event("1001"), dm_event("1002")])).await;
    assert_eq!(status, 200, "{res}");
    assert!(res["requestId"].is_string());
    ingest(&sb, &dm_body(vec![dm_event("1001")])).await;
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["data_manager"]["events_accepted"], 3);
    assert_eq!(counts["data_manager"]["deduplicated"], 2);
    assert_eq!(counts["data_manager"]["duplicates"], 1);
}

#[tokio::test]
async fn data_manager_requires_a_bearer_token() {
    let sb = sandbox().await;
    let (status, res) = post_json(
        &format!("{}/v1/events:ingest", sb.platform_url),
        &dm_body(vec![dm_event("1")]),
        &[],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(res["error"]["status"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn data_manager_one_bad_event_fails_the_whole_request() {
    let sb = sandbox().await;
    let mut bad = dm_event("2");
    bad["userData"]["userIdentifiers"][0]["emailAddress"] = json!("john@example.com");
    let (status, res) = ingest(&sb, &dm_body(vec![dm_event("1"), bad])).await;
    assert_eq!(status, 400);
    assert_eq!(reason(&res), "INVALID_HEX_ENCODING");
    assert_eq!(
        res["error"]["details"][0]["fieldViolations"][0]["field"],
        "events[1].user_data.user_identifiers[0].email_address"
    );
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["data_manager"]["events_accepted"], 0);
}

// data-manager.md §1.2: an UPLOAD_CLICKS action takes offline conversions; §3.1, §5: a call or
// store-sales action takes none (INVALID_CONVERSION_ACTION_TYPE, a setup error).
#[tokio::test]
async fn data_manager_takes_offline_conversions_for_upload_clicks_actions_only() {
    let sb = sandbox().await;
    let mut body = dm_body(vec![dm_event("offline-1")]);
    body["destinations"][0]["productDestinationId"] = json!("1001");
    let (status, res) = ingest(&sb, &body).await;
    assert_eq!(status, 200, "{res}");
    {
        let mut google = ar_sandbox::state::lock(&sb.state.google);
        let mut calls = google.action(1001).unwrap().clone();
        calls.id = 1099;
        calls.name = "phone calls".into();
        calls.action_type = "UPLOAD_CALLS".into();
        google.actions.push(calls);
    }
    body["destinations"][0]["productDestinationId"] = json!("1099");
    let (status, res) = ingest(&sb, &body).await;
    assert_eq!(status, 400, "{res}");
    assert_eq!(reason(&res), "INVALID_CONVERSION_ACTION_TYPE");
}

// data-manager.md §1.4, §5: no identifier, a malformed gclid and an operating account that is not
// a Google Ads account fail the request in Google's error shape, naming the field.
#[tokio::test]
async fn data_manager_rejects_missing_identifiers_malformed_gclids_and_wrong_account_types() {
    let sb = sandbox().await;
    let field = |res: &Value| {
        res["error"]["details"][0]["fieldViolations"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let mut bare = dm_event("no-ids");
    bare.as_object_mut().unwrap().remove("userData");
    bare.as_object_mut().unwrap().remove("adIdentifiers");
    let (status, res) = ingest(&sb, &dm_body(vec![dm_event("ok"), bare])).await;
    assert_eq!(status, 400, "{res}");
    assert_eq!(reason(&res), "NO_IDENTIFIERS_PROVIDED");
    assert_eq!(field(&res), "events[1]");
    let mut bad_click = dm_event("bad-click");
    bad_click["adIdentifiers"]["gclid"] = json!("not a gclid!");
    let (status, res) = ingest(&sb, &dm_body(vec![bad_click])).await;
    assert_eq!(status, 400, "{res}");
    assert_eq!(reason(&res), "INVALID_FORMAT");
    assert_eq!(field(&res), "events[0].ad_identifiers.gclid");
    let mut body = dm_body(vec![dm_event("wrong-account")]);
    body["destinations"][0]["operatingAccount"]["accountType"] = json!("DATA_PARTNER");
    let (status, res) = ingest(&sb, &body).await;
    assert_eq!(status, 400, "{res}");
    assert_eq!(reason(&res), "INVALID_DESTINATION");
    assert_eq!(
        field(&res),
        "destinations[0].operating_account.account_type"
    );
}

#[tokio::test]
async fn data_manager_requires_transaction_ids_for_multi_source_conversions() {
    let sb = sandbox().await;
    let mut e = dm_event("1");
    e.as_object_mut().unwrap().remove("transactionId");
    assert_eq!(
        reason(&ingest(&sb, &dm_body(vec![e])).await.1),
        "REQUIRED_FIELD_MISSING"
    );
}

#[tokio::test]
async fn data_manager_rejects_an_account_type_that_is_not_in_the_enum() {
    let sb = sandbox().await;
    let mut body = dm_body(vec![dm_event("1")]);
    body["destinations"][0]["loginAccount"] =
        json!({ "accountType": "GOOGLE_ADS_MANAGER", "accountId": "1112223333" });
    let (status, res) = ingest(&sb, &body).await;
    assert_eq!(status, 400, "{res}");
    assert_eq!(reason(&res), "INVALID_ARGUMENT");
    // A manager login account is a GOOGLE_ADS account.
    body["destinations"][0]["loginAccount"]["accountType"] = json!("GOOGLE_ADS");
    let (status, res) = ingest(&sb, &body).await;
    assert!(status < 300, "{status} {res}");
}

#[tokio::test]
async fn data_manager_limits_events_and_requires_encoding_for_user_data() {
    let sb = sandbox().await;
    let many: Vec<Value> = (0..2001).map(|i| dm_event(&i.to_string())).collect();
    assert_eq!(
        reason(&ingest(&sb, &dm_body(many)).await.1),
        "TOO_MANY_EVENTS"
    );
    let mut body = dm_body(vec![dm_event("1")]);
    body.as_object_mut().unwrap().remove("encoding");
    assert_eq!(
        reason(&ingest(&sb, &body).await.1),
        "REQUIRED_FIELD_MISSING"
    );
}

#[tokio::test]
async fn data_manager_rejects_unknown_fields_and_bad_timestamps() {
    let sb = sandbox().await;
    let mut e = dm_event("1");
    e["orderId"] = json!("1");
    let (status, res) = ingest(&sb, &dm_body(vec![e])).await;
    assert_eq!(status, 400);
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown name \"orderId\"")
    );
    let mut e = dm_event("1");
    e["eventTimestamp"] = json!("2026-11-25 12:00:00");
    assert_eq!(
        reason(&ingest(&sb, &dm_body(vec![e])).await.1),
        "INVALID_FORMAT"
    );
}

fn ga4_body(events: Vec<Value>) -> Value {
    json!({ "client_id": "468604437.1611708469", "consent": {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"}, "events": Value::Array(events) })
}

fn purchase(txn: &str) -> Value {
    json!({ "name": "purchase", "params": { "transaction_id": txn, "value": 59.9, "currency": "EUR", "items": [{"item_id": "sku-1", "quantity": 3}] } })
}

#[tokio::test]
async fn ga4_collect_answers_204_and_dedups_purchases_by_transaction_id() {
    let sb = sandbox().await;
    let url = format!(
        "{}/mp/collect?measurement_id=G-TEST&api_secret=sandbox-ga4-secret",
        sb.platform_url
    );
    for _ in 0..2 {
        let res = http()
            .post(&url)
            .json(&ga4_body(vec![purchase("1001")]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 204);
    }
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["ga4"]["events_accepted"], 2);
    assert_eq!(counts["ga4"]["deduplicated"], 1);
}

#[tokio::test]
async fn ga4_collect_silently_drops_a_bad_api_secret_but_records_why() {
    let sb = sandbox().await;
    let url = format!(
        "{}/mp/collect?measurement_id=G-TEST&api_secret=wrong",
        sb.platform_url
    );
    let res = http()
        .post(&url)
        .json(&ga4_body(vec![purchase("1")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let records = get_json(&format!(
        "{}/_sandbox/requests?platform=ga4",
        sb.platform_url
    ))
    .await;
    assert_eq!(records[0]["verdict"], "rejected");
    assert_eq!(records[0]["query"]["api_secret"], "[redacted]");
}

#[tokio::test]
async fn ga4_debug_endpoint_returns_validation_messages() {
    let sb = sandbox().await;
    let url = format!("{}/debug/mp/collect?measurement_id=G-TEST", sb.platform_url);
    let (status, res) = post_json(&url, &ga4_body(vec![purchase("1")]), &[]).await;
    assert_eq!(
        (status, res["validationMessages"].clone()),
        (200, json!([]))
    );
    let cases: Vec<(Value, &str)> = vec![
        (
            ga4_body(vec![json!({"name": "_badEventName"})]),
            "NAME_INVALID",
        ),
        (
            ga4_body(vec![json!({"name": "session_start"})]),
            "NAME_RESERVED",
        ),
        (
            ga4_body(vec![json!({"name": "purchase", "params": {"value": 1}})]),
            "VALUE_REQUIRED",
        ),
        (
            ga4_body((0..26).map(|_| purchase("x")).collect()),
            "EXCEEDED_MAX_ENTITIES",
        ),
        (
            ga4_body(vec![json!({"name": "x", "params": {"p": "v".repeat(101)}})]),
            "VALUE_OUT_OF_BOUNDS",
        ),
        (json!({"events": [purchase("1")]}), "VALUE_REQUIRED"),
        (
            json!({"client_id": "1.2", "timestamp_micros": (ar_sandbox::clock::real_now_ms() - 73 * 3_600_000) * 1_000, "events": [purchase("1")]}),
            "VALUE_INVALID",
        ),
        (
            json!({"client_id": "1.2", "user_data": {"sha256_email_address": ["a@b.c"]}, "events": [purchase("1")]}),
            "VALUE_INVALID",
        ),
    ];
    for (body, code) in cases {
        let (_, res) = post_json(&url, &body, &[]).await;
        let codes: Vec<&str> = res["validationMessages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["validationCode"].as_str())
            .collect();
        assert!(codes.contains(&code), "{body} -> {res}");
        assert!(res["validationMessages"][0]["fieldPath"].is_string());
    }
}

#[tokio::test]
async fn oauth_refresh_grant_mints_a_bearer_token_with_expiry() {
    let sb = sandbox().await;
    let res = http()
        .post(format!("{}/token", sb.platform_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "sandbox-client-id"),
            ("client_secret", "sandbox-client-secret"),
            ("refresh_token", "sandbox-refresh-token"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["access_token"].as_str().unwrap().starts_with("ya29."));
}

#[tokio::test]
async fn oauth_rejects_bad_refresh_tokens_clients_and_grants() {
    let sb = sandbox().await;
    let url = format!("{}/token", sb.platform_url);
    let cases = [
        (
            [
                ("grant_type", "refresh_token"),
                ("client_id", "sandbox-client-id"),
                ("client_secret", "sandbox-client-secret"),
                ("refresh_token", "old"),
            ],
            400,
            "invalid_grant",
        ),
        (
            [
                ("grant_type", "refresh_token"),
                ("client_id", "other"),
                ("client_secret", "sandbox-client-secret"),
                ("refresh_token", "sandbox-refresh-token"),
            ],
            401,
            "invalid_client",
        ),
        // authorization_code is served now (sandbox_connect.rs); client_credentials is not a
        // grant Google's token endpoint serves to web clients.
        (
            [
                ("grant_type", "client_credentials"),
                ("client_id", "sandbox-client-id"),
                ("client_secret", "sandbox-client-secret"),
                ("refresh_token", "sandbox-refresh-token"),
            ],
            400,
            "unsupported_grant_type",
        ),
    ];
    for (form, status, error) in cases {
        let res = http().post(&url).form(&form).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], error);
    }
    let records = get_json(&format!(
        "{}/_sandbox/requests?platform=oauth",
        sb.platform_url
    ))
    .await;
    assert!(
        !records.to_string().contains("sandbox-client-secret"),
        "secrets must not be recorded"
    );
}

async fn request_status(sb: &ar_sandbox::Sandbox, request_id: &str) -> (u16, Value) {
    let token = google_token(sb).await;
    let res = http()
        .get(format!(
            "{}/v1/requestStatus:retrieve?requestId={request_id}",
            sb.platform_url
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

// data-manager.md §4: the ingest answer is a requestId; requestStatus:retrieve reports per
// destination the record count and the processing errors by reason, derived here from what was
// received (another account's click, denied consent).
#[tokio::test]
async fn data_manager_request_status_counts_processing_errors_by_reason() {
    let sb = sandbox().await;
    let (status, _) = post_json(
        &format!("{}/_sandbox/clicks", sb.platform_url),
        &json!({"gclid": "Cj0-foreign", "customer_id": "9999999999"}),
        &[],
    )
    .await;
    assert_eq!(status, 201);
    let mut foreign = dm_event("foreign");
    foreign["adIdentifiers"]["gclid"] = json!("Cj0-foreign");
    let mut denied = dm_event("denied");
    denied["consent"] =
        json!({"adUserData": "CONSENT_DENIED", "adPersonalization": "CONSENT_DENIED"});
    let (status, res) = ingest(&sb, &dm_body(vec![dm_event("fine"), foreign, denied])).await;
    assert_eq!(status, 200, "{res}");
    let id = res["requestId"].as_str().unwrap().to_owned();
    let (status, body) = request_status(&sb, &id).await;
    assert_eq!(status, 200, "{body}");
    let d = &body["requestStatusPerDestination"][0];
    assert_eq!(d["requestStatus"], "PARTIAL_SUCCESS", "{body}");
    assert_eq!(d["eventsIngestionStatus"]["recordCount"], "3");
    assert_eq!(d["destination"]["productDestinationId"], "2001");
    let counts: Vec<(String, String)> = d["errorInfo"]["errorCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["reason"].as_str().unwrap().to_owned(),
                c["recordCount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            (
                "PROCESSING_ERROR_REASON_DENIED_CONSENT".to_owned(),
                "1".to_owned()
            ),
            (
                "PROCESSING_ERROR_REASON_INVALID_OPERATING_ACCOUNT_FOR_CLICK".to_owned(),
                "1".to_owned()
            ),
        ]
    );
    let (status, body) = request_status(&sb, "never-issued").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(reason(&body), "INVALID_REQUEST_ID");
}

// data-manager.md §3.1: a transactionId that matches an earlier conversion of the same action is
// an adjustment: its value replaces the recorded one, and no conversion is added.
#[tokio::test]
async fn data_manager_treats_a_known_transaction_id_with_a_new_value_as_an_adjustment() {
    let sb = sandbox().await;
    ingest(&sb, &dm_body(vec![dm_event("order-9")])).await;
    let mut restated = dm_event("order-9");
    restated["conversionValue"] = json!(20.0);
    let (status, res) = ingest(&sb, &dm_body(vec![restated])).await;
    assert_eq!(status, 200, "{res}");
    let adjustments = ar_sandbox::state::lock(&sb.state.google)
        .dm_adjustments
        .clone();
    assert_eq!(
        adjustments,
        [("2001".to_owned(), "order-9".to_owned(), 20.0)]
    );
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["data_manager"]["duplicates"], 0, "{counts}");
}
