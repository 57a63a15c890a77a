use super::*;
use crate::platform::request::Mode;
use serde_json::json;

/// The variant name, for table tests.
fn kind(v: &Verdict) -> &'static str {
    match v {
        Verdict::Delivered => "delivered",
        Verdict::Retry { .. } => "retry",
        Verdict::Throttled { .. } => "throttled",
        Verdict::Permanent { .. } => "permanent",
        Verdict::ConfigError { .. } => "config",
        Verdict::SplitAndRetry { .. } => "split",
        Verdict::Reconnect { .. } => "reconnect",
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
        (400, 190, None, "reconnect"),    // access token expired: reconnect
        (400, 10, None, "config"),        // permission
        (403, 200, None, "config"),       // permission (200-299)
        (400, 299, None, "config"),       // permission (200-299)
        (400, 3, None, "config"),         // capability
        (400, 100, Some(33), "config"),   // pixel missing / no permission
        (400, 4, None, "throttled"),      // too many calls
        (400, 17, None, "throttled"),     // user too many calls
        (400, 32, None, "throttled"),     // page-level rate limit
        (400, 613, None, "throttled"),    // rate limit
        (400, 341, None, "throttled"),    // application limit
        (400, 80_004, None, "throttled"), // business use case limit
        (500, 1, None, "retry"),          // API unknown
        (503, 2, None, "retry"),          // API service
        (400, 368, None, "retry"),        // temporarily blocked for policy
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

// data-manager.md §5: each violation names its event, field and reason; the reason is kept with the
// event's failure so the admin shows what Google refused.
#[test]
fn data_manager_violations_mark_each_named_event_with_its_own_reason() {
    let body = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INVALID_FORMAT"},
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [
                {"field": "events[0].ad_identifiers.gclid", "description": "not a click id",
                 "reason": "INVALID_FORMAT"},
                {"field": "events[2]", "description": "no identifiers",
                 "reason": "NO_IDENTIFIERS_PROVIDED"}]}]}})
    .to_string();
    let got = classify_data_manager(400, &body, 3);
    assert_eq!(kinds(&got), ["permanent", "retry", "permanent"]);
    assert_eq!(
        got[0],
        Verdict::Permanent {
            reason: "data manager events[0].ad_identifiers.gclid INVALID_FORMAT: not a click id"
                .into()
        }
    );
    assert!(
        matches!(&got[2], Verdict::Permanent { reason } if reason.contains("NO_IDENTIFIERS_PROVIDED"))
    );
}

// data-manager.md §5 "setup errors": a wrong action type or a missing allowlisting is the
// merchant's account, even when Google names it on an event or only in the ErrorInfo.
#[test]
fn data_manager_setup_reasons_are_config_errors_wherever_they_appear() {
    let on_event = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "details": [
        {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [
            {"field": "events[1]", "reason": "INVALID_CONVERSION_ACTION_TYPE", "description": "d"}]}]}})
    .to_string();
    assert_eq!(
        kinds(&classify_data_manager(400, &on_event, 2)),
        ["config"; 2]
    );
    let info_only = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "m",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "NOT_ALLOWLISTED"}]}})
    .to_string();
    assert_eq!(
        kinds(&classify_data_manager(400, &info_only, 2)),
        ["config"; 2]
    );
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
        proptest::prop_assert_eq!(classify_data_manager(status, &body, n).len(), n);
        proptest::prop_assert_eq!(classify_ga4(status, &body, n, Mode::Test).len(), n);
    }
}
