//! What GA4's Measurement Protocol silently drops, checked before a request is built: the
//! endpoint answers `2xx` even for a malformed event ("does not return HTTP error codes, even if an
//! event is malformed", google.md §4), so an event that breaks a documented limit is skipped for
//! GA4 with the reason recorded instead of vanishing (data-manager.md §7):
//!
//! - event names: at most 40 characters, letters, digits and underscores, starting with a letter;
//!   not a reserved name (`page_view`, `session_start`, …) and no reserved prefix (`_`,
//!   `firebase_`, `ga_`, `google_`, `gtag.`);
//! - at most 25 parameters per event; parameter names follow the event-name rule;
//! - parameter values (item parameters included) at most 100 characters;
//! - at most 200 items; `value` a number and `currency` a 3-letter code.

use serde_json::Value;

/// Longest event or parameter name.
pub const MAX_NAME_LEN: usize = 40;
/// Most parameters per event.
pub const MAX_PARAMS: usize = 25;
/// Longest parameter value.
pub const MAX_VALUE_LEN: usize = 100;
/// Most items per event.
pub const MAX_ITEMS: usize = 200;

/// Prefixes GA4 reserves for its own names.
pub const RESERVED_PREFIXES: [&str; 5] = ["_", "firebase_", "ga_", "google_", "gtag."];

/// Event names GA4 reserves for web streams (data-manager.md §7).
const RESERVED_EVENTS: [&str; 21] = [
    "ad_impression",
    "app_remove",
    "app_store_refund",
    "app_store_subscription_cancel",
    "app_store_subscription_renew",
    "click",
    "error",
    "file_download",
    "first_open",
    "first_visit",
    "form_start",
    "form_submit",
    "in_app_purchase",
    "page_view",
    "scroll",
    "session_start",
    "user_engagement",
    "view_complete",
    "video_progress",
    "video_start",
    "view_search_results",
];

/// Parameters the Measurement Protocol documents for session attribution, although GA4 reserves
/// their names for custom ones (google.md §4).
const DOCUMENTED_PARAMS: [&str; 2] = ["session_id", "engagement_time_msec"];

/// What breaks a GA4 limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ga4Rule {
    /// The event name breaks the naming rule or is reserved.
    EventName,
    /// More than [`MAX_PARAMS`] parameters.
    TooManyParams,
    /// A parameter name breaks the naming rule or is reserved.
    ParamName,
    /// A parameter value is longer than [`MAX_VALUE_LEN`].
    ValueTooLong,
    /// More than [`MAX_ITEMS`] items.
    TooManyItems,
    /// `value` is not a number or `currency` not a 3-letter code.
    ValueType,
}

impl core::fmt::Display for Ga4Rule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::EventName => "GA4 would drop it: the event name is reserved or not a GA4 name",
            Self::TooManyParams => "GA4 would drop it: more than 25 parameters",
            Self::ParamName => "GA4 would drop it: a parameter name is reserved or not a GA4 name",
            Self::ValueTooLong => "GA4 would drop it: a parameter value is over 100 characters",
            Self::TooManyItems => "GA4 would drop it: more than 200 items",
            Self::ValueType => "GA4 would drop it: value or currency of the wrong type",
        })
    }
}

fn is_name(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether GA4 takes `name` as a custom or recommended event name.
pub fn event_name_ok(name: &str) -> bool {
    is_name(name) && !RESERVED_EVENTS.contains(&name)
}

fn value_ok(v: &Value) -> bool {
    match v {
        Value::String(s) => s.chars().count() <= MAX_VALUE_LEN,
        _ => true,
    }
}

/// Checks one element of a Measurement Protocol `events` array.
///
/// # Errors
/// The first rule the event breaks.
pub fn check_event(event: &Value) -> Result<(), Ga4Rule> {
    if !event["name"].as_str().is_some_and(event_name_ok) {
        return Err(Ga4Rule::EventName);
    }
    let Some(params) = event["params"].as_object() else {
        return Ok(());
    };
    if params.len() > MAX_PARAMS {
        return Err(Ga4Rule::TooManyParams);
    }
    for (name, value) in params {
        if !DOCUMENTED_PARAMS.contains(&name.as_str()) && !is_name(name) {
            return Err(Ga4Rule::ParamName);
        }
        if !value_ok(value) {
            return Err(Ga4Rule::ValueTooLong);
        }
    }
    if params.get("value").is_some_and(|v| !v.is_number())
        || params
            .get("currency")
            .is_some_and(|c| c.as_str().is_none_or(|c| c.len() != 3))
    {
        return Err(Ga4Rule::ValueType);
    }
    let items = params.get("items").and_then(Value::as_array);
    if items.is_some_and(|i| i.len() > MAX_ITEMS) {
        return Err(Ga4Rule::TooManyItems);
    }
    for item in items.into_iter().flatten() {
        if item
            .as_object()
            .is_some_and(|o| o.values().any(|v| !value_ok(v)))
        {
            return Err(Ga4Rule::ValueTooLong);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str, params: Value) -> Value {
        let mut e = json!({ "name": name });
        e["params"] = params;
        e
    }

    #[test]
    fn reserved_and_malformed_event_names_are_refused() {
        for name in [
            "page_view",
            "session_start",
            "google_x",
            "_x",
            "9lives",
            "with-dash",
            &"a".repeat(41),
        ] {
            assert_eq!(
                check_event(&event(name, json!({}))),
                Err(Ga4Rule::EventName),
                "{name}"
            );
        }
        assert_eq!(check_event(&event("purchase", json!({}))), Ok(()));
    }

    #[test]
    fn a_transaction_id_over_100_characters_is_refused_as_ga4_would_drop_it() {
        let long = event("purchase", json!({"transaction_id": "x".repeat(101)}));
        assert_eq!(check_event(&long), Err(Ga4Rule::ValueTooLong));
        let item = event("purchase", json!({"items": [{"item_id": "y".repeat(101)}]}));
        assert_eq!(check_event(&item), Err(Ga4Rule::ValueTooLong));
        let ok = event("purchase", json!({"transaction_id": "x".repeat(100)}));
        assert_eq!(check_event(&ok), Ok(()));
    }

    #[test]
    fn too_many_params_or_items_and_wrong_value_types_are_refused() {
        let mut params = serde_json::Map::new();
        for i in 0..26 {
            params.insert(format!("p{i}"), json!(1));
        }
        assert_eq!(
            check_event(&event("x", Value::Object(params))),
            Err(Ga4Rule::TooManyParams)
        );
        let items: Vec<Value> = (0..201)
            .map(|i| json!({"item_id": i.to_string()}))
            .collect();
        assert_eq!(
            check_event(&event("x", json!({"items": items}))),
            Err(Ga4Rule::TooManyItems)
        );
        assert_eq!(
            check_event(&event("x", json!({"value": "10"}))),
            Err(Ga4Rule::ValueType)
        );
        assert_eq!(
            check_event(&event("x", json!({"currency": "EURO"}))),
            Err(Ga4Rule::ValueType)
        );
    }

    #[test]
    fn the_documented_session_parameters_are_allowed() {
        let e = event(
            "purchase",
            json!({"session_id": "1764000123", "engagement_time_msec": 1}),
        );
        assert_eq!(check_event(&e), Ok(()));
        assert_eq!(
            check_event(&event("x", json!({"ga_custom": 1}))),
            Err(Ga4Rule::ParamName)
        );
    }
}
