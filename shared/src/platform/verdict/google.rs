//! The Google answers: Ads API click uploads (partial failures by `conversions[N]`, google.md
//! §1.3, §1.5, §1.6), the Data Manager API (fast-fail, google.md §8) and GA4 Measurement Protocol
//! (no errors live, validation messages in debug, google.md §4).

use serde_json::Value;

use super::super::request::Mode;
use super::super::schedule::too_recent_retry_secs;
use super::{Verdict, config, is_success, permanent, rejected, retry, short, throttled};

/// A `GoogleAdsError`'s `errorCode`, e.g. (`conversionUploadError`, `TOO_RECENT_EVENT`).
fn error_code(error: &Value) -> Option<(&str, &str)> {
    let (kind, value) = error["errorCode"].as_object()?.iter().next()?;
    Some((kind.as_str(), value.as_str()?))
}

/// The index of element `list` in a Google field path (`fieldPathElements` objects, google.md
/// §1.3, or a string like `conversions[3].gclid`).
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

/// One Google Ads error for a conversion whose click was at `click_at_ms`.
fn google_ads_error(
    kind: &str,
    value: &str,
    message: &str,
    click_at_ms: Option<u64>,
    now_ms: u64,
) -> Verdict {
    let reason = format!("google ads {value}: {}", short(message));
    match (kind, value) {
        // google.md §1.6: duplicates are success, do not retry.
        (
            "conversionUploadError",
            "ORDER_ID_ALREADY_IN_USE"
            | "CLICK_CONVERSION_ALREADY_EXISTS"
            | "DUPLICATE_ORDER_ID"
            // Not in §1.6's list, but the same outcome: Google identifies a click conversion
            // by click, action and time, and another conversion of this request with that
            // identity was accepted; a resend alone would be CLICK_CONVERSION_ALREADY_EXISTS.
            | "DUPLICATE_CLICK_CONVERSION_IN_REQUEST",
        ) => Verdict::Delivered,
        // §1.5: "click < 6 h ago, retry after 6 h" → at the click's 6-hour mark.
        ("conversionUploadError", "TOO_RECENT_EVENT") => Verdict::Retry {
            after_secs: too_recent_retry_secs(click_at_ms, now_ms),
            reason,
        },
        // §1.5: "action just created, retry in 6 h".
        ("conversionUploadError", "TOO_RECENT_CONVERSION_ACTION") => Verdict::Retry {
            after_secs: 6 * 3600,
            reason,
        },
        ("conversionUploadError", "TOO_MANY_CONVERSIONS_IN_REQUEST") => {
            Verdict::SplitAndRetry { reason }
        }
        // The account's setup, not the event: operator action (§1.5, §1.6, §9).
        (
            "conversionUploadError",
            "NO_CONVERSION_ACTION_FOUND"
            | "INVALID_CONVERSION_ACTION_TYPE"
            | "UNAUTHORIZED_CUSTOMER"
            | "CUSTOM_VARIABLE_NOT_ENABLED"
            | "CUSTOMER_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS"
            | "CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS"
            | "CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS",
        )
        // headerError: a bad `login-customer-id` / `developer-token` header — the settings.
        | (
            "authenticationError" | "authorizationError" | "partialFailureError" | "headerError",
            _,
        ) => config(reason),
        // §1.6: quota → retry later.
        ("quotaError", _) => throttled(reason),
        // §1.6: INTERNAL_ERROR, TRANSIENT_ERROR, DEADLINE_EXCEEDED; CONCURRENT_MODIFICATION.
        ("internalError", _) | ("databaseError", "CONCURRENT_MODIFICATION") => retry(reason),
        // Every other conversion error is about this event (EXPIRED_EVENT, CLICK_NOT_FOUND,
        // UNPARSEABLE_GCLID, CONVERSION_PRECEDES_EVENT, INVALID_USER_IDENTIFIER, …), as are
        // request and field errors.
        _ => permanent(reason),
    }
}

/// The `GoogleAdsFailure.errors` inside a `google.rpc.Status`.
fn status_errors(status: &Value) -> Vec<&Value> {
    status["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["errors"].as_array())
        .flatten()
        .collect()
}

/// Classifies an `uploadClickConversions` answer. `click_times[i]` is the click time (Unix ms)
/// of the i-th conversion in the body, for `TOO_RECENT_EVENT` retries (google.md §1.3, §1.5).
#[must_use]
pub fn classify_google_ads(
    status: u16,
    body: &str,
    click_times: &[Option<u64>],
    now_ms: u64,
) -> Vec<Verdict> {
    let n = click_times.len();
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let rpc = if is_success(status) {
        &json["partialFailureError"]
    } else {
        &json["error"]
    };
    let errors = status_errors(rpc);
    if is_success(status) && errors.is_empty() {
        return vec![Verdict::Delivered; n];
    }
    let mut per_event: Vec<Option<Verdict>> = vec![None; n];
    let mut whole: Option<Verdict> = None;
    for error in &errors {
        let Some((kind, value)) = error_code(error) else {
            continue;
        };
        let message = error["message"].as_str().unwrap_or("");
        match field_path_index(&error["location"], "conversions") {
            // A row we did not send: nothing to mark.
            Some(i) if i >= n => {}
            Some(i) => {
                let click = click_times.get(i).copied().flatten();
                let v = google_ads_error(kind, value, message, click, now_ms);
                per_event[i] = Some(match per_event[i].take() {
                    Some(prev) => prev.worse(v),
                    None => v,
                });
            }
            None => {
                let v = google_ads_error(kind, value, message, None, now_ms);
                whole = Some(match whole {
                    Some(prev) => prev.worse(v),
                    None => v,
                });
            }
        }
    }
    let named_any = per_event.iter().any(Option::is_some);
    if !is_success(status) && whole.is_none() && !named_any {
        return google_http_fallback(status, rpc, n);
    }
    let fallback = whole.unwrap_or_else(|| {
        if is_success(status) {
            // partialFailureError: the conversions it does not name succeeded.
            Verdict::Delivered
        } else {
            // The request failed for named conversions; the others were not processed.
            Verdict::Retry {
                after_secs: 0,
                reason: "google ads: request failed for other conversions".into(),
            }
        }
    });
    per_event
        .into_iter()
        .map(|v| v.unwrap_or_else(|| fallback.clone()))
        .collect()
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

/// Classifies an `events:ingest` answer to a request of `n` events. The API fails fast: the
/// whole request fails (google.md §8); `BadRequest.fieldViolations` naming `events[N]` mark
/// those events permanent and the others for an immediate resend without them.
#[must_use]
pub fn classify_data_manager(status: u16, body: &str, n: usize) -> Vec<Verdict> {
    if is_success(status) {
        return vec![Verdict::Delivered; n];
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let rpc = &json["error"];
    let mut named: Vec<Option<Verdict>> = vec![None; n];
    let violations: Vec<&Value> = rpc["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["fieldViolations"].as_array())
        .flatten()
        .collect();
    // A violation in `destinations[…]` (account, login account, conversion action) is the
    // merchant's setup, not the events: alert instead of bisecting the batch into failures.
    if let Some(v) = violations.iter().find(|v| {
        v["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("destinations"))
    }) {
        let field = v["field"].as_str().unwrap_or("");
        let description = short(v["description"].as_str().unwrap_or(""));
        return vec![config(format!("data manager {field}: {description}")); n];
    }
    for violation in violations {
        if let Some(i) = field_path_index(&violation["field"], "events").filter(|&i| i < n) {
            let field = violation["field"].as_str().unwrap_or("");
            let description = short(violation["description"].as_str().unwrap_or(""));
            named[i] = Some(permanent(format!("data manager {field}: {description}")));
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
