//! Fake GA4 Measurement Protocol: `POST /mp/collect` and `POST /debug/mp/collect`
//! (reference/google.md §4).
//!
//! Like the real one, `/mp/collect` never returns an HTTP error: it answers 204 and silently drops
//! what is invalid (the sandbox records the verdict and the reasons, so tests can see the drop).
//! `/debug/mp/collect` answers 200 with `{"validationMessages":[{fieldPath, description,
//! validationCode}]}` and does not check `api_secret`. Accepted `purchase` events are deduplicated
//! by `transaction_id`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Outcome, PlatformRequest};
use crate::checks::{first_unknown_key, is_sha256_lower_hex};
use crate::counts::Source;
use crate::faults::{FaultKind, FaultSpec};
use crate::record::{Platform, Verdict};
use crate::state::{AppState, lock};

/// §4: at most 25 events per request.
pub const MAX_EVENTS: usize = 25;
/// §4: at most 25 parameters per event, 25 user properties.
pub const MAX_PARAMS: usize = 25;
/// §4: events may be backdated up to 72 hours.
pub const MAX_AGE_MICROS: i64 = 72 * 3_600 * 1_000_000;
/// §4: post body under 130 kB.
pub const MAX_BODY_BYTES: usize = 130 * 1024;

const TOP_KEYS: [&str; 13] = [
    "client_id",
    "app_instance_id",
    "user_id",
    "timestamp_micros",
    "user_properties",
    "consent",
    "non_personalized_ads",
    "user_data",
    "events",
    "validation_behavior",
    "user_location",
    "device",
    "ip_override",
];
/// Event names GA4 reserves (§4 `NAME_RESERVED`).
const RESERVED_EVENTS: [&str; 27] = [
    "ad_activeview",
    "ad_click",
    "ad_exposure",
    "ad_impression",
    "ad_query",
    "ad_reward",
    "adunit_exposure",
    "app_clear_data",
    "app_exception",
    "app_install",
    "app_remove",
    "app_store_refund",
    "app_update",
    "app_upgrade",
    "dynamic_link_app_open",
    "dynamic_link_app_update",
    "dynamic_link_first_open",
    "error",
    "first_open",
    "first_visit",
    "in_app_purchase",
    "notification_dismiss",
    "notification_foreground",
    "notification_open",
    "notification_receive",
    "os_update",
    "session_start",
];
const RESERVED_PREFIXES: [&str; 4] = ["_", "firebase_", "ga_", "google_"];

/// One validation message.
#[derive(Debug, Clone)]
pub struct Message {
    /// `fieldPath`
    pub field_path: String,
    /// `description`
    pub description: String,
    /// `validationCode`
    pub code: &'static str,
}

fn msg(
    field_path: impl Into<String>,
    code: &'static str,
    description: impl Into<String>,
) -> Message {
    Message {
        field_path: field_path.into(),
        description: description.into(),
        code,
    }
}

/// Handles both endpoints; `debug` selects the validation server.
pub fn handle(state: &AppState, req: &PlatformRequest, debug: bool) -> Outcome {
    let endpoint = if debug { "debug/collect" } else { "collect" };
    let body = req.json().ok();
    let events: Vec<Value> = body
        .as_ref()
        .and_then(|b| b.get("events"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ids: Vec<String> = events
        .iter()
        .filter_map(|e| {
            e.get("params")
                .and_then(|p| p.get("transaction_id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let mut messages = validate(req, body.as_ref());
    // §4: the validation server "does not check api_secret"; collect silently drops a bad one.
    if !debug {
        if req.query_param("measurement_id").is_none_or(str::is_empty)
            && req.query_param("firebase_app_id").is_none()
        {
            messages.push(msg(
                "measurement_id",
                "VALUE_REQUIRED",
                "measurement_id is required.",
            ));
        }
        if req.query_param("api_secret") != Some(state.config.ga4_api_secret.as_str()) {
            messages.push(msg(
                "api_secret",
                "VALUE_INVALID",
                "api_secret is missing or unknown: the hit is dropped.",
            ));
        }
    }
    let accepted = messages.is_empty();
    if accepted && !debug {
        let mut counts = lock(&state.counts);
        for e in &events {
            let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
            let txn = e
                .get("params")
                .and_then(|p| p.get("transaction_id"))
                .and_then(Value::as_str);
            let key = if name == "purchase" {
                txn.map(|t| format!("purchase|{t}"))
            } else {
                None
            };
            counts.observe(Platform::Ga4, name, key, Source::Server, req.now_ms, None);
        }
    }
    let verdict = if accepted {
        Verdict::Accepted
    } else {
        Verdict::Rejected
    };
    let (status, response) = if debug {
        let list: Vec<Value> = messages
            .iter()
            .map(|m| json!({"fieldPath": m.field_path, "description": m.description, "validationCode": m.code}))
            .collect();
        (StatusCode::OK, Some(json!({ "validationMessages": list })))
    } else {
        (StatusCode::NO_CONTENT, None)
    };
    let mut o = Outcome::new(endpoint, status, response, verdict);
    o.error = messages
        .first()
        .map(|m| format!("{}: {}", m.field_path, m.description));
    o.error_codes = messages.iter().map(|m| m.code.to_owned()).collect();
    o.event_ids = ids;
    o.events = events.len();
    o.accepted_events = if accepted && !debug { events.len() } else { 0 };
    o
}

fn valid_name(name: &str, max: usize) -> bool {
    let mut chars = name.chars();
    name.len() <= max
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn validate(req: &PlatformRequest, body: Option<&Value>) -> Vec<Message> {
    let mut out = Vec::new();
    if req.body.len() >= MAX_BODY_BYTES {
        out.push(msg(
            "",
            "VALUE_OUT_OF_BOUNDS",
            "The post body must be smaller than 130 kB.",
        ));
    }
    let Some(body) = body.and_then(Value::as_object) else {
        out.push(msg("", "VALUE_INVALID", "The body must be a JSON object."));
        return out;
    };
    if let Some(k) = first_unknown_key(body, &TOP_KEYS) {
        out.push(msg(k, "NAME_INVALID", format!("Unknown field {k}.")));
    }
    if body
        .get("client_id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        && body.get("app_instance_id").is_none()
    {
        out.push(msg(
            "client_id",
            "VALUE_REQUIRED",
            "client_id is required for web streams.",
        ));
    }
    check_time(
        req,
        body.get("timestamp_micros"),
        "timestamp_micros",
        &mut out,
    );
    check_consent(body.get("consent"), &mut out);
    check_user_data(body.get("user_data"), &mut out);
    check_user_properties(body.get("user_properties"), &mut out);
    let events = body
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if events.is_empty() {
        out.push(msg(
            "events",
            "VALUE_REQUIRED",
            "At least one event is required.",
        ));
    }
    if events.len() > MAX_EVENTS {
        out.push(msg(
            "events",
            "EXCEEDED_MAX_ENTITIES",
            format!(
                "A request may contain at most {MAX_EVENTS} events; it has {}.",
                events.len()
            ),
        ));
    }
    for (i, e) in events.iter().enumerate() {
        check_event(req, i, e, &mut out);
    }
    out
}

/// §4: `timestamp_micros ≥ request time − 72 h and ≤ request time`.
fn check_time(req: &PlatformRequest, value: Option<&Value>, path: &str, out: &mut Vec<Message>) {
    let Some(value) = value else { return };
    let micros = value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()));
    let now = req.now_ms * 1_000;
    match micros {
        Some(t) if t < now - MAX_AGE_MICROS => out.push(msg(
            path,
            "VALUE_INVALID",
            "timestamp_micros is more than 72 hours in the past.",
        )),
        Some(t) if t > now + 60_000_000 => out.push(msg(
            path,
            "VALUE_INVALID",
            "timestamp_micros is in the future.",
        )),
        Some(_) => {}
        None => out.push(msg(
            path,
            "VALUE_INVALID",
            "timestamp_micros must be an integer.",
        )),
    }
}

fn check_consent(consent: Option<&Value>, out: &mut Vec<Message>) {
    let Some(consent) = consent.and_then(Value::as_object) else {
        return;
    };
    for (k, v) in consent {
        if !["ad_user_data", "ad_personalization"].contains(&k.as_str()) {
            out.push(msg(
                format!("consent.{k}"),
                "NAME_INVALID",
                format!("Unknown consent field {k}."),
            ));
        } else if !matches!(v.as_str(), Some("GRANTED" | "DENIED")) {
            out.push(msg(
                format!("consent.{k}"),
                "VALUE_INVALID",
                "Consent values are GRANTED or DENIED.",
            ));
        }
    }
}

/// §3: `sha256_email_address[]` / `sha256_phone_number[]` are lowercase hex SHA-256.
fn check_user_data(user_data: Option<&Value>, out: &mut Vec<Message>) {
    let Some(user_data) = user_data.and_then(Value::as_object) else {
        return;
    };
    for key in ["sha256_email_address", "sha256_phone_number"] {
        let Some(v) = user_data.get(key) else {
            continue;
        };
        let values: Vec<&Value> = v.as_array().map_or_else(|| vec![v], |a| a.iter().collect());
        if values
            .iter()
            .any(|v| !v.as_str().is_some_and(is_sha256_lower_hex))
        {
            out.push(msg(
                format!("user_data.{key}"),
                "VALUE_INVALID",
                "Must be SHA-256 hashes in lowercase hex.",
            ));
        }
    }
}

fn check_user_properties(props: Option<&Value>, out: &mut Vec<Message>) {
    let Some(props) = props.and_then(Value::as_object) else {
        return;
    };
    if props.len() > MAX_PARAMS {
        out.push(msg(
            "user_properties",
            "EXCEEDED_MAX_ENTITIES",
            "At most 25 user properties.",
        ));
    }
    for (k, v) in props {
        if !valid_name(k, 24) {
            out.push(msg(
                format!("user_properties.{k}"),
                "NAME_INVALID",
                "User property names are at most 24 characters, letters, digits and underscores.",
            ));
        }
        let value = v.get("value").unwrap_or(v);
        if value.as_str().is_some_and(|s| s.chars().count() > 36) {
            out.push(msg(
                format!("user_properties.{k}"),
                "VALUE_OUT_OF_BOUNDS",
                "User property values are at most 36 characters.",
            ));
        }
    }
}

fn check_event(req: &PlatformRequest, i: usize, e: &Value, out: &mut Vec<Message>) {
    let path = format!("events[{i}]");
    let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
    if !valid_name(name, 40) {
        out.push(msg(format!("{path}.name"), "NAME_INVALID", format!("Event at index: [{i}] has invalid name [{name}]. Names must start with a letter and use only letters, numbers and underscores (at most 40).")));
    } else if RESERVED_EVENTS.contains(&name)
        || RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
    {
        out.push(msg(
            format!("{path}.name"),
            "NAME_RESERVED",
            format!("Event at index: [{i}] has reserved name [{name}]."),
        ));
    }
    check_time(
        req,
        e.get("timestamp_micros"),
        &format!("{path}.timestamp_micros"),
        out,
    );
    let params: Map<String, Value> = e
        .get("params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if params.len() > MAX_PARAMS {
        out.push(msg(
            format!("{path}.params"),
            "EXCEEDED_MAX_ENTITIES",
            "At most 25 parameters per event.",
        ));
    }
    for (k, v) in &params {
        if !valid_name(k, 40) {
            out.push(msg(
                format!("{path}.params.{k}"),
                "NAME_INVALID",
                "Parameter names are at most 40 characters, letters, digits and underscores.",
            ));
        } else if RESERVED_PREFIXES.iter().any(|p| k.starts_with(p)) {
            out.push(msg(
                format!("{path}.params.{k}"),
                "NAME_RESERVED",
                format!("Parameter name {k} is reserved."),
            ));
        }
        if v.as_str().is_some_and(|s| s.chars().count() > 100) {
            out.push(msg(
                format!("{path}.params.{k}"),
                "VALUE_OUT_OF_BOUNDS",
                "Parameter values are at most 100 characters.",
            ));
        }
    }
    // §4: "currency (required if value)"; items need item_id or item_name.
    if params.contains_key("value")
        && params
            .get("currency")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        out.push(msg(
            format!("{path}.params.currency"),
            "VALUE_REQUIRED",
            "currency is required when value is set.",
        ));
    }
    for (j, item) in params
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if item.get("item_id").is_none() && item.get("item_name").is_none() {
            out.push(msg(
                format!("{path}.params.items[{j}]"),
                "VALUE_REQUIRED",
                "Each item needs item_id or item_name.",
            ));
        }
    }
}

/// An injected fault (the real MP answers 2xx even for bad hits; faults model outages).
pub fn render_fault(fault: &FaultSpec) -> (StatusCode, Option<Value>) {
    let status = match fault.kind {
        FaultKind::Throttle => 429,
        FaultKind::Transient => 503,
        FaultKind::Permanent => 400,
        FaultKind::Status | FaultKind::Timeout | FaultKind::AcceptThenTimeout => 500,
    };
    let status = StatusCode::from_u16(fault.status.unwrap_or(status))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Some(
            json!({ "error": { "code": status.as_u16(), "message": fault.message_or("Injected by the sandbox"), "status": super::google_error::status_name(status) } }),
        ),
    )
}
