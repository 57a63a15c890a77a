//! The fake Google Ads API validates click uploads and conversion-action management like Google
//! (shared/reference/google.md §1, §2): request-level `google.rpc.Status` errors, row errors as
//! `partialFailureError` with `conversions[i]` field paths, and the 6-hour `TOO_RECENT_EVENT`
//! rule on the sandbox clock.

// Helpers outside #[test] fns fail loudly too: that is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const HOUR_MS: i64 = 3_600_000;

/// A sandbox where the default customer is still allowlisted for click uploads, as an early
/// adopter would be (reference/google.md Addendum C); by default nobody is.
async fn allowlisted() -> ar_sandbox::Sandbox {
    sandbox_with(|c| c.google_ads_allowlisted = vec!["1234567890".into()]).await
}

// reference/google.md Addendum C, data-manager.md §8: since 2026-06-15 a new adopter's click upload is
// refused per conversion with notAllowlistedError, inside HTTP 200; nothing is recorded.
#[tokio::test]
async fn click_uploads_from_a_customer_not_allowlisted_are_refused_inside_http_200() {
    let sb = sandbox().await;
    let token = google_token(&sb).await;
    click(&sb, "Cj0KCQ-old-click", 7).await;
    let (status, res) = upload(
        &sb,
        &token,
        &body(vec![
            click_conversion("Cj0KCQ-old-click", "1001"),
            click_conversion("Cj0KCQ-old-click", "1002"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    let errors = res["partialFailureError"]["details"][0]["errors"]
        .as_array()
        .unwrap();
    assert_eq!(errors.len(), 2, "{res}");
    for (i, e) in errors.iter().enumerate() {
        assert_eq!(
            e["errorCode"]["notAllowlistedError"],
            "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"
        );
        assert_eq!(e["location"]["fieldPathElements"][0]["index"], i);
    }
    assert_eq!(res["results"], json!([{}, {}]));
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["google_ads"]["events_accepted"], 0, "{counts}");
}

fn body(conversions: Vec<Value>) -> Value {
    json!({ "conversions": Value::Array(conversions), "partialFailure": true })
}

/// Registers a click `hours_ago` hours before the sandbox's now.
async fn click(sb: &ar_sandbox::Sandbox, gclid: &str, hours_ago: i64) {
    let at = sb.state.clock.now_ms() - hours_ago * HOUR_MS;
    let (status, _) = post_json(
        &format!("{}/_sandbox/clicks", sb.platform_url),
        &json!({"gclid": gclid, "clicked_at_ms": at}),
        &[],
    )
    .await;
    assert_eq!(status, 201);
}

fn first_location(body: &Value) -> String {
    let e =
        &body["partialFailureError"]["details"][0]["errors"][0]["location"]["fieldPathElements"];
    e.as_array()
        .unwrap()
        .iter()
        .map(|p| match p["index"].as_u64() {
            Some(i) => format!("{}[{i}]", p["fieldName"].as_str().unwrap()),
            None => p["fieldName"].as_str().unwrap().to_owned(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[tokio::test]
async fn valid_upload_returns_results_and_job_id() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    click(&sb, "Cj0KCQ-old-click", 7).await;
    let (status, res) = upload(
        &sb,
        &token,
        &body(vec![click_conversion("Cj0KCQ-old-click", "1001")]),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["results"][0]["gclid"], "Cj0KCQ-old-click");
    assert_eq!(
        res["results"][0]["conversionAction"],
        "customers/1234567890/conversionActions/1001"
    );
    assert!(res["jobId"].is_string());
    assert!(res.get("partialFailureError").is_none());
}

#[tokio::test]
async fn missing_bearer_token_is_401_unauthenticated() {
    let sb = allowlisted().await;
    let (status, res) = post_json(
        &ads_upload_url(&sb),
        &body(vec![click_conversion("Cj0KCQabc", "1")]),
        &[("developer-token", "sandbox-developer-token")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(res["error"]["status"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn token_not_minted_by_the_sandbox_is_oauth_token_invalid() {
    let sb = allowlisted().await;
    let (status, res) = upload(
        &sb,
        "ya29.made-up",
        &body(vec![click_conversion("Cj0KCQabc", "1")]),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(ads_error_codes(&res["error"]), ["OAUTH_TOKEN_INVALID"]);
}

#[tokio::test]
async fn expired_token_is_oauth_token_expired() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    sb.state.clock.advance_ms(2 * HOUR_MS);
    let (status, res) = upload(&sb, &token, &body(vec![click_conversion("Cj0KCQabc", "1")])).await;
    assert_eq!(status, 401);
    assert_eq!(ads_error_codes(&res["error"]), ["OAUTH_TOKEN_EXPIRED"]);
}

#[tokio::test]
async fn missing_developer_token_is_developer_token_invalid() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let auth = format!("Bearer {token}");
    let (status, res) = post_json(
        &ads_upload_url(&sb),
        &body(vec![click_conversion("Cj0KCQabc", "1")]),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(ads_error_codes(&res["error"]), ["DEVELOPER_TOKEN_INVALID"]);
}

#[tokio::test]
async fn dashed_customer_id_is_invalid_customer_id() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let url = format!(
        "{}/v22/customers/123-456-7890:uploadClickConversions",
        sb.platform_url
    );
    let auth = format!("Bearer {token}");
    let (status, res) = post_json(
        &url,
        &body(vec![]),
        &[
            ("authorization", &auth),
            ("developer-token", "sandbox-developer-token"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(ads_error_codes(&res["error"]), ["INVALID_CUSTOMER_ID"]);
}

#[tokio::test]
async fn partial_failure_false_fails_the_whole_request() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let (status, res) = upload(
        &sb,
        &token,
        &json!({"conversions": [click_conversion("Cj0KCQabc", "1")], "partialFailure": false}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(res["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(
        ads_error_codes(&res["error"]),
        ["PARTIAL_FAILURE_MODE_REQUIRED"]
    );
    assert!(
        res["error"]["details"][0]["@type"]
            .as_str()
            .unwrap()
            .ends_with("v22.errors.GoogleAdsFailure")
    );
}

#[tokio::test]
async fn more_than_2000_conversions_is_too_many_conversions_in_request() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let many: Vec<Value> = (0..2001)
        .map(|i| click_conversion("Cj0KCQabc", &i.to_string()))
        .collect();
    let (status, res) = upload(&sb, &token, &body(many)).await;
    assert_eq!(status, 400);
    assert_eq!(
        ads_error_codes(&res["error"]),
        ["TOO_MANY_CONVERSIONS_IN_REQUEST"]
    );
}

#[tokio::test]
async fn unknown_json_field_is_rejected_by_the_parser() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let mut c = click_conversion("Cj0KCQabc", "1");
    c["clickId"] = json!("x");
    let (status, res) = upload(&sb, &token, &body(vec![c])).await;
    assert_eq!(status, 400);
    let message = res["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Unknown name \"clickId\" at 'conversions[0]'"),
        "{message}"
    );
    assert_eq!(
        res["error"]["details"][0]["@type"],
        "type.googleapis.com/google.rpc.BadRequest"
    );
}

#[tokio::test]
async fn snake_case_field_names_are_accepted_like_the_proto_parser() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let c = json!({"gclid": "Cj0KCQsnake", "conversion_action": "customers/1234567890/conversionActions/1001", "conversion_date_time": ads_time(sb.state.clock.now_ms()), "order_id": "s1"});
    let (status, res) = upload(
        &sb,
        &token,
        &json!({"conversions": [c], "partial_failure": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(res.get("partialFailureError").is_none(), "{res}");
}

#[tokio::test]
async fn click_under_six_hours_old_is_too_recent_event_until_the_clock_advances() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    click(&sb, "Cj0KCQ-fresh", 1).await;
    let conversion = click_conversion("Cj0KCQ-fresh", "2001");
    let (status, res) = upload(&sb, &token, &body(vec![conversion.clone()])).await;
    assert_eq!(status, 200);
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["TOO_RECENT_EVENT"]
    );
    assert_eq!(first_location(&res), "conversions[0].gclid");
    assert_eq!(res["results"][0], json!({}));
    // Five more hours later the click is six hours old: the same upload succeeds.
    let (status, _) = post_json(
        &format!("{}/_sandbox/clock", sb.platform_url),
        &json!({"advance_ms": 5 * HOUR_MS + 60_000}),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let token = google_token(&sb).await;
    let (_, res) = upload(&sb, &token, &body(vec![conversion])).await;
    assert!(res.get("partialFailureError").is_none(), "{res}");
}

#[tokio::test]
async fn self_describing_sandbox_gclid_carries_its_click_time() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let gclid = format!("sbx-{}-abc", sb.state.clock.now_ms() - HOUR_MS);
    let (_, res) = upload(&sb, &token, &body(vec![click_conversion(&gclid, "3001")])).await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["TOO_RECENT_EVENT"]
    );
}

#[tokio::test]
async fn partial_failure_reports_the_failing_row_index_and_keeps_the_others() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let mut both = click_conversion("Cj0KCQabc", "b");
    both.as_object_mut().unwrap().remove("gclid");
    both["gbraid"] = json!("gbraid-value-1");
    both["wbraid"] = json!("wbraid-value-1");
    let rows = vec![
        click_conversion("Cj0KCQok1", "a"),
        click_conversion("Cj0KCQok2", "c"),
        click_conversion("Cj0KCQok3", "d"),
        both,
    ];
    let (status, res) = upload(&sb, &token, &body(rows)).await;
    assert_eq!(status, 200);
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["GBRAID_WBRAID_BOTH_SET"]
    );
    assert_eq!(first_location(&res), "conversions[3].wbraid");
    assert_eq!(res["partialFailureError"]["code"], 3);
    assert!(
        res["partialFailureError"]["message"]
            .as_str()
            .unwrap()
            .contains("at conversions[3].wbraid")
    );
    assert_eq!(res["results"][3], json!({}));
    assert_eq!(res["results"][0]["gclid"], "Cj0KCQok1");
    let records = get_json(&format!(
        "{}/_sandbox/requests?platform=google_ads&verdict=partially_accepted",
        sb.platform_url
    ))
    .await;
    assert_eq!(records.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn gclid_together_with_a_braid_is_rejected() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let mut c = click_conversion("Cj0KCQabc", "x");
    c["wbraid"] = json!("wbraid-value-1");
    let (_, res) = upload(&sb, &token, &body(vec![c])).await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["VALUE_MUST_BE_UNSET"]
    );
}

#[tokio::test]
async fn no_click_id_and_no_user_identifiers_is_required_gclid() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let mut c = click_conversion("Cj0KCQabc", "x");
    c.as_object_mut().unwrap().remove("gclid");
    c.as_object_mut().unwrap().remove("userIdentifiers");
    let (_, res) = upload(&sb, &token, &body(vec![c])).await;
    assert_eq!(ads_error_codes(&res["partialFailureError"]), ["REQUIRED"]);
    assert_eq!(first_location(&res), "conversions[0].gclid");
}

#[tokio::test]
async fn unparseable_gclid_is_rejected() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let (_, res) = upload(
        &sb,
        &token,
        &body(vec![click_conversion("not a gclid!", "x")]),
    )
    .await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["UNPARSEABLE_GCLID"]
    );
}

#[tokio::test]
async fn date_time_without_timezone_is_a_date_error() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let mut c = click_conversion("Cj0KCQabc", "x");
    c["conversionDateTime"] = json!("2026-05-01T12:32:45Z");
    let (_, res) = upload(&sb, &token, &body(vec![c])).await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET"]
    );
}

#[tokio::test]
async fn conversion_before_the_click_and_expired_clicks_are_rejected() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    click(&sb, "Cj0KCQ-precedes", 7).await;
    let mut c = click_conversion("Cj0KCQ-precedes", "p");
    c["conversionDateTime"] = json!(ads_time(sb.state.clock.now_ms() - 8 * HOUR_MS));
    let (_, res) = upload(&sb, &token, &body(vec![c])).await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["CONVERSION_PRECEDES_EVENT"]
    );
    click(&sb, "Cj0KCQ-expired", 91 * 24).await;
    let (_, res) = upload(
        &sb,
        &token,
        &body(vec![click_conversion("Cj0KCQ-expired", "e")]),
    )
    .await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["EXPIRED_EVENT"]
    );
}

#[tokio::test]
async fn webpage_and_unknown_actions_are_rejected() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let mut web = click_conversion("Cj0KCQabc", "w");
    web["conversionAction"] = json!("customers/1234567890/conversionActions/2001");
    let mut missing = click_conversion("Cj0KCQabd", "m");
    missing["conversionAction"] = json!("customers/1234567890/conversionActions/999");
    let (_, res) = upload(&sb, &token, &body(vec![web, missing])).await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        [
            "INVALID_CONVERSION_ACTION_TYPE",
            "NO_CONVERSION_ACTION_FOUND"
        ]
    );
}

#[tokio::test]
async fn reused_order_id_is_order_id_already_in_use_and_duplicates_in_a_request_are_flagged() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let (_, res) = upload(
        &sb,
        &token,
        &body(vec![
            click_conversion("Cj0KCQone", "ORD-1"),
            click_conversion("Cj0KCQtwo", "ORD-1"),
        ]),
    )
    .await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["DUPLICATE_ORDER_ID"]
    );
    let (_, res) = upload(
        &sb,
        &token,
        &body(vec![click_conversion("Cj0KCQthree", "ORD-1")]),
    )
    .await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["ORDER_ID_ALREADY_IN_USE"]
    );
    let counts = get_json(&format!("{}/_sandbox/counts", sb.platform_url)).await;
    assert_eq!(counts["google_ads"]["deduplicated"], 1);
    assert_eq!(counts["google_ads"]["events_received"], 3);
}

#[tokio::test]
async fn user_identifiers_must_be_hashed_and_supported() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let mut raw = click_conversion("Cj0KCQabc", "u1");
    raw["userIdentifiers"] = json!([{ "hashedEmail": "john@example.com" }]);
    let mut address = click_conversion("Cj0KCQabd", "u2");
    address["userIdentifiers"] = json!([{ "addressInfo": { "hashedFirstName": "x" } }]);
    let mut many = click_conversion("Cj0KCQabe", "u3");
    many["userIdentifiers"] = json!(vec![
        json!({"hashedEmail": ar_sandbox::checks::sha256_hex("a")});
        6
    ]);
    let (_, res) = upload(&sb, &token, &body(vec![raw, address, many])).await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        [
            "INVALID_USER_IDENTIFIER",
            "UNSUPPORTED_USER_IDENTIFIER",
            "TOO_MANY"
        ]
    );
}

#[tokio::test]
async fn invalid_consent_enum_fails_the_whole_request() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let mut c = click_conversion("Cj0KCQabc", "c");
    c["consent"] = json!({"adUserData": "YES"});
    let (status, res) = upload(&sb, &token, &body(vec![c])).await;
    assert_eq!(status, 400);
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("conversions[0].consent.ad_user_data")
    );
}

#[tokio::test]
async fn validate_only_returns_no_results_and_records_nothing() {
    let sb = allowlisted().await;
    let token = google_token(&sb).await;
    let (_, res) = upload(&sb, &token, &json!({"conversions": [click_conversion("Cj0KCQv", "V1")], "partialFailure": true, "validateOnly": true})).await;
    assert!(res.get("results").is_none());
    let (_, res) = upload(&sb, &token, &body(vec![click_conversion("Cj0KCQv", "V1")])).await;
    assert!(
        res.get("partialFailureError").is_none(),
        "validateOnly must not use the order id: {res}"
    );
}

async fn ads_post(sb: &ar_sandbox::Sandbox, path: &str, body: &Value) -> (u16, Value) {
    let token = google_token(sb).await;
    let auth = format!("Bearer {token}");
    post_json(
        &format!("{}/v22/customers/1234567890/{path}", sb.platform_url),
        body,
        &[
            ("authorization", &auth),
            ("developer-token", "sandbox-developer-token"),
        ],
    )
    .await
}

#[tokio::test]
async fn created_conversion_action_is_listed_and_too_recent_for_six_hours() {
    let sb = allowlisted().await;
    let create = json!({"operations": [{"create": {"name": "srv custom", "type": "UPLOAD_CLICKS", "category": "DEFAULT", "status": "ENABLED", "primaryForGoal": false, "clickThroughLookbackWindowDays": "90"}}]});
    let (status, res) = ads_post(&sb, "conversionActions:mutate", &create).await;
    assert_eq!(status, 200, "{res}");
    let resource = res["results"][0]["resourceName"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, found) = ads_post(&sb, "googleAds:search", &json!({"query": "SELECT conversion_action.id, conversion_action.name FROM conversion_action WHERE conversion_action.name = 'srv custom'"})).await;
    assert_eq!(
        found["results"][0]["conversionAction"]["resourceName"],
        resource
    );
    assert_eq!(
        found["results"][0]["conversionAction"]["name"],
        "srv custom"
    );
    assert!(
        found["results"][0]["conversionAction"]
            .get("category")
            .is_none()
    );
    let token = google_token(&sb).await;
    let mut c = click_conversion("Cj0KCQabc", "new");
    c["conversionAction"] = json!(resource);
    let (_, res) = upload(&sb, &token, &body(vec![c])).await;
    assert_eq!(
        ads_error_codes(&res["partialFailureError"]),
        ["TOO_RECENT_CONVERSION_ACTION"]
    );
}

#[tokio::test]
async fn duplicate_action_name_fails_the_mutate_without_partial_failure() {
    let sb = allowlisted().await;
    let create =
        json!({"operations": [{"create": {"name": "srv purchase", "type": "UPLOAD_CLICKS"}}]});
    let (status, res) = ads_post(&sb, "conversionActions:mutate", &create).await;
    assert_eq!(status, 400);
    assert_eq!(ads_error_codes(&res["error"]), ["DUPLICATE_NAME"]);
}

#[tokio::test]
async fn changing_an_action_type_is_immutable_field() {
    let sb = allowlisted().await;
    let update = json!({"operations": [{"update": {"resourceName": "customers/1234567890/conversionActions/1001", "type": "WEBPAGE"}, "updateMask": "type"}]});
    let (status, res) = ads_post(&sb, "conversionActions:mutate", &update).await;
    assert_eq!(status, 400);
    assert_eq!(ads_error_codes(&res["error"]), ["IMMUTABLE_FIELD"]);
}

#[tokio::test]
async fn search_stream_lists_seeded_actions_and_rejects_other_resources() {
    let sb = allowlisted().await;
    let (status, res) = ads_post(&sb, "googleAds:searchStream", &json!({"query": "SELECT conversion_action.id, conversion_action.type FROM conversion_action WHERE conversion_action.type IN ('WEBPAGE')"})).await;
    assert_eq!(status, 200);
    assert_eq!(res[0]["results"].as_array().unwrap().len(), 7);
    assert_eq!(res[0]["results"][0]["conversionAction"]["id"], "2001");
    let (status, res) = ads_post(
        &sb,
        "googleAds:search",
        &json!({"query": "SELECT campaign.id FROM campaign"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(res["error"]["status"], "INVALID_ARGUMENT");
}
