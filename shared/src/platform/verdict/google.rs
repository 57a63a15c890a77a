//! The Google answers: the Data Manager API (fast-fail, per-event `fieldViolations`,
//! data-manager.md §5) and GA4 Measurement Protocol (no errors live, validation messages in
//! debug, google.md §4).

use serde_json::Value;

use super::super::request::Mode;
use super::{Verdict, config, is_success, permanent, rejected, retry, short, throttled};

/// The index of element `list` in a Google field path: a string like `events[3].adIdentifiers.gclid`
/// (data-manager.md §5), or `fieldPathElements` objects (google.md §1.3).
pub fn field_path_index(location: &Value, list: &str) -> Option<usize> {
    if let Some(path) = location.as_str() {
        let rest = path.split('.').find_map(|seg| seg.strip_prefix(list))?;
        let digits = rest.strip_prefix('[')?.strip_suffix(']')?;
        return digits.parse().ok();
    }
    location["fieldPathElements"]
        .as_array()?
        .iter()
        .find(|e| e["fieldName"].as_str() == Some(list))
        .and_then(|e| e["index"].as_u64())
        .and_then(|i| usize::try_from(i).ok())
}

/// A Google RPC error without usable details, by HTTP status and `google.rpc.Code` name.
fn google_http_fallback(status: u16, rpc: &Value, n: usize) -> Vec<Verdict> {
    let code = rpc["status"].as_str().unwrap_or("");
    let reason = format!(
        "google HTTP {status} {code}: {}",
        short(rpc["message"].as_str().unwrap_or(""))
    );
    let verdict = match (status, code) {
        (_, "UNAUTHENTICATED" | "PERMISSION_DENIED") | (401 | 403, _) => config(reason),
        (_, "RESOURCE_EXHAUSTED") | (429, _) => throttled(reason),
        (_, "UNAVAILABLE" | "INTERNAL" | "DEADLINE_EXCEEDED" | "ABORTED")
        | (408 | 500..=599, _) => retry(reason),
        _ => return rejected(n, reason),
    };
    vec![verdict; n]
}

// ------------------------------------------------------------------------------------------
// Data Manager

/// Data Manager `ErrorReason`s that are the merchant's setup, not an event (data-manager.md §5
/// "setup errors"): fix the account or action, then replay.
const SETUP_REASONS: &[&str] = &[
    "INVALID_DESTINATION",
    "TOO_MANY_DESTINATIONS",
    "DUPLICATE_DESTINATION_REFERENCE",
    "INVALID_CONVERSION_ACTION_ID",
    "INVALID_CONVERSION_ACTION_TYPE",
    "DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS",
    "DESTINATION_ACCOUNT_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS",
    "DESTINATION_ACCOUNT_ENHANCED_CONVERSIONS_TERMS_NOT_SIGNED",
    "TERMS_AND_CONDITIONS_NOT_SIGNED",
    "OPERATING_ACCOUNT_LOGIN_ACCOUNT_MISMATCH",
    "NOT_ALLOWLISTED",
    "ENCRYPTION_NOT_SUPPORTED",
    "REQUIRED_PREREQUISITE_LINK_MISSING",
];

/// Classifies an `events:ingest` answer to a request of `n` events. The API fails fast: the
/// whole request fails (data-manager.md §5); `BadRequest.fieldViolations` naming `events[N]`
/// mark those events permanent, each with its own field and reason, and the others for an
/// immediate resend without them. A violation in `destinations[…]`, or a setup reason
/// ([`SETUP_REASONS`], in a violation or the `ErrorInfo`), is the merchant's setup: every event
/// waits for a fix as a configuration problem instead of being bisected into failures.
#[must_use]
pub fn classify_data_manager(status: u16, body: &str, n: usize) -> Vec<Verdict> {
    if is_success(status) {
        return vec![Verdict::Delivered; n];
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let rpc = &json["error"];
    let details: Vec<&Value> = rpc["details"].as_array().into_iter().flatten().collect();
    let violations: Vec<&Value> = details
        .iter()
        .filter_map(|d| d["fieldViolations"].as_array())
        .flatten()
        .collect();
    let info_reason = details.iter().find_map(|d| {
        d["reason"]
            .as_str()
            .filter(|_| d["fieldViolations"].is_null())
    });
    let is_setup = |reason: Option<&str>| reason.is_some_and(|r| SETUP_REASONS.contains(&r));
    if let Some(v) = violations.iter().find(|v| {
        v["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("destinations"))
            || is_setup(v["reason"].as_str())
    }) {
        return vec![config(violation_reason(v)); n];
    }
    if violations.is_empty() && is_setup(info_reason) {
        let reason = format!(
            "data manager {}: {}",
            info_reason.unwrap_or_default(),
            short(rpc["message"].as_str().unwrap_or(""))
        );
        return vec![config(reason); n];
    }
    let mut named: Vec<Option<Verdict>> = vec![None; n];
    for violation in violations {
        if let Some(i) = field_path_index(&violation["field"], "events").filter(|&i| i < n) {
            named[i] = Some(permanent(violation_reason(violation)));
        }
    }
    if named.iter().all(Option::is_none) {
        return google_http_fallback(status, rpc, n);
    }
    named
        .into_iter()
        .map(|v| {
            v.unwrap_or_else(|| Verdict::Retry {
                after_secs: 0,
                reason: "data manager: request failed for other events".into(),
            })
        })
        .collect()
}

/// `data manager <field> <REASON>: <description>` for one `FieldViolation`.
fn violation_reason(v: &Value) -> String {
    let field = v["field"].as_str().unwrap_or("");
    let description = short(v["description"].as_str().unwrap_or(""));
    match v["reason"].as_str().filter(|r| !r.is_empty()) {
        Some(reason) => format!("data manager {field} {reason}: {description}"),
        None => format!("data manager {field}: {description}"),
    }
}

// ------------------------------------------------------------------------------------------
// GA4

/// Classifies a Measurement Protocol answer to a request of `n` events. The live endpoint
/// "does not return HTTP error codes, even if an event is malformed" (google.md §4), so a 2xx is
/// all it says; the debug endpoint's `validationMessages` ("Event at index: [0] …") mark events
/// permanent in [`Mode::Test`].
#[must_use]
pub fn classify_ga4(status: u16, body: &str, n: usize, mode: Mode) -> Vec<Verdict> {
    if !is_success(status) {
        return google_http_fallback(status, &Value::Null, n);
    }
    if mode == Mode::Live {
        return vec![Verdict::Delivered; n];
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let messages = json["validationMessages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = vec![Verdict::Delivered; n];
    for m in &messages {
        let description = m["description"].as_str().unwrap_or("");
        let code = m["validationCode"].as_str().unwrap_or("");
        let v = permanent(format!("ga4 {code}: {}", short(description)));
        match event_index(description).filter(|&i| i < n) {
            Some(i) => out[i] = v,
            None => out.iter_mut().for_each(|slot| *slot = v.clone()),
        }
    }
    out
}

/// `N` in "Event at index: [N] …".
fn event_index(description: &str) -> Option<usize> {
    let rest = description.split("index: [").nth(1)?;
    rest.split(']').next()?.parse().ok()
}
