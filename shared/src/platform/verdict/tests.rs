use super::*;
use crate::platform::request::Mode;
use serde_json::json;

const NOW: u64 = 1_780_000_000_000;
const HOUR: u64 = 3_600_000;

/// The variant name, for table tests.
fn kind(v: &Verdict) -> &'static str {
    match v {
        Verdict::Delivered => "delivered",
        Verdict::Retry { .. } => "retry",
        Verdict::Throttled { .. } => "throttled",
        Verdict::Permanent { .. } => "permanent",
        Verdict::ConfigError { .. } => "config",
        Verdict::SplitAndRetry { .. } => "split",
    }
}

fn kinds(vs: &[Verdict]) -> Vec<&'static str> {
    vs.iter().map(kind).collect()
}

fn meta_error(code: i64, subcode: Option<i64>) -> String {
    let mut e = json!({"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "x"});
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    json!({ "error": e }).to_string()
}

// meta-capi.md §5.2: Graph error codes and the CAPI subcodes under 100.
#[test]
fn meta_error_codes_map_to_documented_recovery() {
    let table: &[(u16, i64, Option<i64>, &str)] = &[
        (400, 190, None, "config"),               // access token expired
        (400, 10, None, "config"),                // permission
        (403, 200, None, "config"),               // permission (200-299)
        (400, 299, None, "config"),               // permission (200-299)
        (400, 3, None, "config"),                 // capability
        (400, 100, Some(33), "config"),           // pixel missing / no permission
        (400, 4, None, "throttled"),              // too many calls
        (400, 17, None, "throttled"),             // user too many calls
        (400, 32, None, "throttled"),             // page-level rate limit
        (400, 613, None, "throttled"),            // rate limit
        (400, 341, None, "throttled"),            // application limit
        (400, 80_004, None, "throttled"),         // business use case limit
        (500, 1, None, "retry"),                  // API unknown
        (503, 2, None, "retry"),                  // API service
        (400, 368, None, "retry"),                // temporarily blocked for policy
        (400, 100, Some(2_804_003), "permanent"), // event timestamp too old
        (400, 100, Some(2_804_001), "permanent"), // click ID incorrectly formatted
        (400, 100, Some(2_804_050), "permanent"), // insufficient customer information
        (400, 100, Some(2_804_019), "permanent"), // invalid parameter
        (400, 100, None, "permanent"),
    ];
    for &(status, code, subcode, expected) in table {
        let got = classify_meta(status, &meta_error(code, subcode), 1);
        assert_eq!(kinds(&got), [expected], "code {code}/{subcode:?}");
    }
}

#[test]
fn meta_success_delivers_every_event() {
    let body = r#"{"events_received":3,"messages":[],"fbtrace_id":"x"}"#;
    assert_eq!(kinds(&classify_meta(200, body, 3)), ["delivered"; 3]);
}

// meta-capi.md §5.1: "If any event you send in a batch is invalid, we reject the entire batch."
#[test]
fn a_meta_batch_with_one_invalid_event_is_split_to_isolate_it() {
    let body = meta_error(100, Some(2_804_050));
    assert_eq!(kinds(&classify_meta(400, &body, 3)), ["split"; 3]);
    assert_eq!(kinds(&classify_meta(400, &body, 1)), ["permanent"]);
}

#[test]
fn meta_is_transient_flag_means_retry() {
    let body = json!({"error": {"code": 999, "is_transient": true, "message": "m"}}).to_string();
    assert_eq!(kinds(&classify_meta(400, &body, 2)), ["retry"; 2]);
}

#[test]
fn meta_answers_without_an_error_envelope_go_by_status() {
    assert_eq!(kinds(&classify_meta(502, "<html>", 2)), ["retry"; 2]);
    assert_eq!(kinds(&classify_meta(429, "", 1)), ["throttled"]);
    assert_eq!(kinds(&classify_meta(401, "", 1)), ["config"]);
    assert_eq!(kinds(&classify_meta(400, "", 2)), ["split"; 2]);
}

#[test]
fn meta_reasons_carry_code_subcode_and_message() {
    let v = classify_meta(400, &meta_error(100, Some(2_804_003)), 1);
    assert_eq!(
        v[0],
        Verdict::Permanent {
            reason: "meta 100/2804003: m".into()
        }
    );
}

fn partial_failure(errors: &[(Option<usize>, &str, &str)]) -> String {
    let errors: Vec<Value> = errors
        .iter()
        .map(|&(index, kind, value)| {
            let mut e = json!({"errorCode": {kind: value}, "message": "msg"});
            if let Some(i) = index {
                e["location"] = json!({"fieldPathElements": [
                    {"fieldName": "conversions", "index": i},
                    {"fieldName": "gclid"}
                ]});
            }
            e
        })
        .collect();
    json!({
        "partialFailureError": {
            "code": 3,
            "message": "partial",
            "details": [{"@type": "type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure", "errors": errors}]
        },
        "results": [{}, {}, {}]
    })
    .to_string()
}

// google.md §1.5 catalogue with the §1.6 classification.
#[test]
fn google_conversion_upload_errors_map_to_documented_recovery() {
    let table: &[(&str, &str)] = &[
        ("ORDER_ID_ALREADY_IN_USE", "delivered"),
        ("CLICK_CONVERSION_ALREADY_EXISTS", "delivered"),
        ("DUPLICATE_ORDER_ID", "delivered"),
        ("DUPLICATE_CLICK_CONVERSION_IN_REQUEST", "delivered"),
        ("TOO_RECENT_EVENT", "retry"),
        ("TOO_RECENT_CONVERSION_ACTION", "retry"),
        ("TOO_MANY_CONVERSIONS_IN_REQUEST", "split"),
        ("EXPIRED_EVENT", "permanent"),
        ("CLICK_NOT_FOUND", "permanent"),
        ("CONVERSION_PRECEDES_EVENT", "permanent"),
        ("UNPARSEABLE_GCLID", "permanent"),
        ("UNPARSEABLE_WBRAID", "permanent"),
        ("UNPARSEABLE_GBRAID", "permanent"),
        ("EVENT_NOT_FOUND", "permanent"),
        ("INVALID_CUSTOMER_FOR_CLICK", "permanent"),
        (
            "CONVERSION_TRACKING_NOT_ENABLED_AT_IMPRESSION_TIME",
            "permanent",
        ),
        ("CONVERSION_NOT_COMPLIANT_WITH_ATT_POLICY", "permanent"),
        ("INVALID_USER_IDENTIFIER", "permanent"),
        ("UNSUPPORTED_USER_IDENTIFIER", "permanent"),
        ("GBRAID_WBRAID_BOTH_SET", "permanent"),
        (
            "ONE_PER_CLICK_CONVERSION_ACTION_NOT_PERMITTED_WITH_BRAID",
            "permanent",
        ),
        ("ORDER_ID_CONTAINS_PII", "permanent"),
        ("CUSTOM_VARIABLE_VALUE_CONTAINS_PII", "permanent"),
        ("INVALID_JOB_ID", "permanent"),
        ("NO_CONVERSION_ACTION_FOUND", "config"),
        ("INVALID_CONVERSION_ACTION_TYPE", "config"),
        ("UNAUTHORIZED_CUSTOMER", "config"),
        ("CUSTOM_VARIABLE_NOT_ENABLED", "config"),
        (
            "CUSTOMER_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS",
            "config",
        ),
        ("CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS", "config"),
        (
            "CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS",
            "config",
        ),
    ];
    for &(value, expected) in table {
        let body = partial_failure(&[(Some(0), "conversionUploadError", value)]);
        let got = classify_google_ads(200, &body, &[Some(NOW - HOUR)], NOW);
        assert_eq!(kinds(&got), [expected], "{value}");
    }
}

// google.md §1.3: partialFailureError names failed rows by `conversions[N]`.
#[test]
fn google_partial_failure_marks_only_the_named_conversion() {
    let body = partial_failure(&[(Some(1), "conversionUploadError", "EXPIRED_EVENT")]);
    let got = classify_google_ads(200, &body, &[None, None, None], NOW);
    assert_eq!(kinds(&got), ["delivered", "permanent", "delivered"]);
}

#[test]
fn google_partial_failure_keeps_the_worst_error_per_conversion() {
    let body = partial_failure(&[
        (Some(0), "conversionUploadError", "ORDER_ID_ALREADY_IN_USE"),
        (
            Some(0),
            "conversionUploadError",
            "NO_CONVERSION_ACTION_FOUND",
        ),
        (Some(2), "conversionUploadError", "TOO_RECENT_EVENT"),
    ]);
    let got = classify_google_ads(200, &body, &[None, None, None], NOW);
    assert_eq!(kinds(&got), ["config", "delivered", "retry"]);
}

#[test]
fn too_recent_event_retries_at_the_clicks_six_hour_mark() {
    let body = partial_failure(&[(Some(0), "conversionUploadError", "TOO_RECENT_EVENT")]);
    let got = classify_google_ads(200, &body, &[Some(NOW - 2 * HOUR)], NOW);
    let Verdict::Retry { after_secs, .. } = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(*after_secs, 4 * 3600 + 300);
}

#[test]
fn out_of_range_indices_are_ignored_not_a_panic() {
    let body = partial_failure(&[(Some(7), "conversionUploadError", "EXPIRED_EVENT")]);
    let got = classify_google_ads(200, &body, &[None], NOW);
    assert_eq!(kinds(&got), ["delivered"]);
}

fn rpc_error(http: u16, status: &str, errors: &[(&str, &str)]) -> String {
    let errors: Vec<Value> = errors
        .iter()
        .map(|&(k, v)| json!({"errorCode": {k: v}, "message": "msg"}))
        .collect();
    json!({"error": {"code": http, "message": "m", "status": status,
        "details": [{"@type": "type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure", "errors": errors}]}})
    .to_string()
}

// google.md §1.3, §1.6: RPC-level errors (auth, quota, internal) fail the whole request.
#[test]
#[allow(clippy::type_complexity)]
fn google_request_level_errors_apply_to_every_conversion() {
    let table: &[(u16, &str, &[(&str, &str)], &str)] = &[
        (
            401,
            "UNAUTHENTICATED",
            &[("authenticationError", "OAUTH_TOKEN_EXPIRED")],
            "config",
        ),
        (
            403,
            "PERMISSION_DENIED",
            &[("authorizationError", "USER_PERMISSION_DENIED")],
            "config",
        ),
        // A malformed login-customer-id header is the merchant's setting, not the events.
        (
            400,
            "INVALID_ARGUMENT",
            &[("headerError", "INVALID_LOGIN_CUSTOMER_ID")],
            "config",
        ),
        (
            429,
            "RESOURCE_EXHAUSTED",
            &[("quotaError", "RESOURCE_EXHAUSTED")],
            "throttled",
        ),
        (
            429,
            "RESOURCE_EXHAUSTED",
            &[("quotaError", "RESOURCE_TEMPORARILY_EXHAUSTED")],
            "throttled",
        ),
        (
            500,
            "INTERNAL",
            &[("internalError", "INTERNAL_ERROR")],
            "retry",
        ),
        (
            503,
            "UNAVAILABLE",
            &[("internalError", "TRANSIENT_ERROR")],
            "retry",
        ),
        (
            504,
            "DEADLINE_EXCEEDED",
            &[("internalError", "DEADLINE_EXCEEDED")],
            "retry",
        ),
        (
            400,
            "INVALID_ARGUMENT",
            &[("databaseError", "CONCURRENT_MODIFICATION")],
            "retry",
        ),
        (
            400,
            "INVALID_ARGUMENT",
            &[("partialFailureError", "PARTIAL_FAILURE_MODE_REQUIRED")],
            "config",
        ),
        (
            400,
            "INVALID_ARGUMENT",
            &[("conversionUploadError", "TOO_MANY_CONVERSIONS_IN_REQUEST")],
            "split",
        ),
        (500, "INTERNAL", &[], "retry"),
        (401, "UNAUTHENTICATED", &[], "config"),
        (429, "RESOURCE_EXHAUSTED", &[], "throttled"),
        (400, "INVALID_ARGUMENT", &[], "split"),
    ];
    for &(http, status, errors, expected) in table {
        let got = classify_google_ads(http, &rpc_error(http, status, errors), &[None, None], NOW);
        assert_eq!(kinds(&got), [expected; 2], "{http} {status} {errors:?}");
    }
}

#[test]
fn a_failed_google_request_naming_one_conversion_resends_the_others() {
    let body = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "details": [{"errors": [
        {"errorCode": {"conversionUploadError": "GBRAID_WBRAID_BOTH_SET"},
         "location": {"fieldPathElements": [{"fieldName": "conversions", "index": 0}]}}
    ]}]}})
    .to_string();
    let got = classify_google_ads(400, &body, &[None, None], NOW);
    assert_eq!(kinds(&got), ["permanent", "retry"]);
}

#[test]
fn field_paths_parse_from_elements_and_strings() {
    assert_eq!(
        field_path_index(&json!("conversions[3].gclid"), "conversions"),
        Some(3)
    );
    assert_eq!(field_path_index(&json!("events[12]"), "events"), Some(12));
    assert_eq!(field_path_index(&json!("events[x]"), "events"), None);
    assert_eq!(
        field_path_index(
            &json!({"fieldPathElements": [{"fieldName": "conversions", "index": 3}]}),
            "conversions"
        ),
        Some(3)
    );
    assert_eq!(field_path_index(&json!(null), "conversions"), None);
}

// google.md §8: fast-fail; fieldViolations name the bad event.
#[test]
fn data_manager_marks_named_events_permanent_and_resends_the_rest() {
    let body = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad",
        "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "events[1].transaction_id", "description": "required"}]}]}})
    .to_string();
    assert_eq!(
        kinds(&classify_data_manager(400, &body, 3)),
        ["retry", "permanent", "retry"]
    );
}

// google.md §8: the destination names the merchant's accounts and conversion action; a problem
// there is a setup error for every event, not a bad event.
#[test]
fn data_manager_destination_errors_are_config_errors_not_bad_events() {
    let body = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad",
        "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "destinations[0].login_account.account_type",
                "description": "Invalid value"}]}]}})
    .to_string();
    assert_eq!(kinds(&classify_data_manager(400, &body, 2)), ["config"; 2]);
}

#[test]
fn data_manager_request_errors_go_by_status() {
    let q = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}).to_string();
    assert_eq!(kinds(&classify_data_manager(429, &q, 2)), ["throttled"; 2]);
    let a = json!({"error": {"code": 403, "status": "PERMISSION_DENIED"}}).to_string();
    assert_eq!(kinds(&classify_data_manager(403, &a, 1)), ["config"]);
    let bad = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT"}}).to_string();
    assert_eq!(kinds(&classify_data_manager(400, &bad, 2)), ["split"; 2]);
    assert_eq!(
        kinds(&classify_data_manager(200, "{}", 2)),
        ["delivered"; 2]
    );
    assert_eq!(kinds(&classify_data_manager(503, "", 1)), ["retry"]);
}

// google.md §4: live MP never reports errors; the debug endpoint returns validationMessages.
#[test]
fn ga4_live_answers_are_delivered_and_debug_messages_mark_their_event() {
    assert_eq!(
        kinds(&classify_ga4(204, "", 2, Mode::Live)),
        ["delivered"; 2]
    );
    let body = json!({"validationMessages": [{"fieldPath": "events",
        "description": "Event at index: [1] has invalid name [_bad].", "validationCode": "NAME_INVALID"}]})
    .to_string();
    assert_eq!(
        kinds(&classify_ga4(200, &body, 2, Mode::Test)),
        ["delivered", "permanent"]
    );
    let body =
        json!({"validationMessages": [{"description": "x", "validationCode": "VALUE_INVALID"}]})
            .to_string();
    assert_eq!(
        kinds(&classify_ga4(200, &body, 2, Mode::Test)),
        ["permanent"; 2]
    );
    assert_eq!(kinds(&classify_ga4(500, "", 1, Mode::Live)), ["retry"]);
}

#[test]
fn backoff_doubles_up_to_an_hour() {
    assert_eq!(backoff_secs(60, 0), 60);
    assert_eq!(backoff_secs(60, 3), 480);
    assert_eq!(backoff_secs(60, 100), 3600);
    assert_eq!(backoff_secs(7200, 0), 7200);
    assert_eq!(kind(&transport_failure()), "retry");
}

#[test]
fn only_config_errors_alert() {
    assert!(config("x").needs_alert());
    assert!(!permanent("x").needs_alert());
}

#[cfg(not(target_arch = "wasm32"))] // proptest is a host-only dev-dependency
proptest::proptest! {
    #[test]
    fn classifiers_never_panic_and_answer_once_per_event(
        status in 0u16..1000, body in ".{0,200}", n in 0usize..5
    ) {
        proptest::prop_assert_eq!(classify_meta(status, &body, n).len(), n);
        proptest::prop_assert_eq!(classify_google_ads(status, &body, &vec![None; n], NOW).len(), n);
        proptest::prop_assert_eq!(classify_data_manager(status, &body, n).len(), n);
        proptest::prop_assert_eq!(classify_ga4(status, &body, n, Mode::Test).len(), n);
    }
}
