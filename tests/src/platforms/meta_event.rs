//! Per-event checks of the fake Meta Conversions API (reference/meta-capi.md §1.3–§1.5, §3, §6):
//! known keys only, required fields, hashed `user_data` as 64 lowercase hex, `fbc`/`fbp`
//! formats, Meta's insufficient-customer-information combinations, Purchase value/currency and
//! Limited Data Use fields. `event_time` is checked by the caller (it rejects the whole request
//! before anything else).

use serde_json::{Map, Value};

use super::meta::GraphError;
use crate::checks::{first_unknown_key, is_sha256_lower_hex};

const EVENT_KEYS: [&str; 19] = [
    "event_name",
    "event_time",
    "user_data",
    "custom_data",
    "event_source_url",
    "opt_out",
    "event_id",
    "action_source",
    "data_processing_options",
    "data_processing_options_country",
    "data_processing_options_state",
    "app_data",
    "referrer_url",
    "original_event_data",
    "customer_segmentation",
    "messaging_channel",
    "attribution_data",
    "advanced_measurement_table",
    "advertiser_tracking_enabled",
];

/// §1.4: keys whose values must be SHA-256 hashed.
const HASHED_KEYS: [&str; 10] = [
    "em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country",
];

/// §1.4: every `user_data` key Meta knows.
const USER_DATA_KEYS: [&str; 25] = [
    "em",
    "ph",
    "fn",
    "ln",
    "db",
    "ge",
    "ct",
    "st",
    "zp",
    "country",
    "external_id",
    "client_ip_address",
    "client_user_agent",
    "fbc",
    "fbp",
    "subscription_id",
    "fb_login_id",
    "lead_id",
    "anon_id",
    "madid",
    "page_id",
    "page_scoped_user_id",
    "ctwa_clid",
    "ig_account_id",
    "ig_sid",
];

/// §1.3 `action_source` values.
const ACTION_SOURCES: [&str; 9] = [
    "email",
    "website",
    "app",
    "phone_call",
    "chat",
    "physical_store",
    "system_generated",
    "business_messaging",
    "other",
];

fn required(i: usize, field: &str) -> GraphError {
    GraphError::new(
        100,
        &format!("(#100) The parameter data[{i}].{field} is required"),
    )
}

/// Checks one element of `data` (all but `event_time`).
///
/// # Errors
/// The Graph error Meta would answer for the whole request.
pub fn check_event(i: usize, event: &Value) -> Result<(), GraphError> {
    let Some(event) = event.as_object() else {
        return Err(GraphError::new(
            100,
            &format!("(#100) data[{i}] must be an object"),
        ));
    };
    // §1.4 (woocommerce PR #3668): unknown keys are rejected, not ignored.
    if let Some(key) = first_unknown_key(event, &EVENT_KEYS) {
        return Err(unexpected(key, &format!("$['data'][{i}]")));
    }
    let name = event
        .get("event_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() {
        return Err(required(i, "event_name"));
    }
    if let Some(id) = event.get("event_id")
        && (!id.is_string() || id.as_str().is_some_and(str::is_empty))
    {
        return Err(GraphError::invalid(
            None,
            "Invalid Event ID",
            format!("data[{i}].event_id must be a non-empty string."),
        ));
    }
    // §1.3: action_source is required and enumerated.
    let Some(source) = event.get("action_source").and_then(Value::as_str) else {
        return Err(required(i, "action_source"));
    };
    if !ACTION_SOURCES.contains(&source) {
        return Err(GraphError::invalid(
            None,
            "Invalid Action Source",
            format!("data[{i}].action_source {source:?} is not a valid action source."),
        ));
    }
    let Some(user_data) = event.get("user_data").and_then(Value::as_object) else {
        return Err(required(i, "user_data"));
    };
    check_user_data(i, user_data)?;
    // §1.3: website events require event_source_url and client_user_agent.
    if source == "website" {
        let url = event
            .get("event_source_url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(required(i, "event_source_url"));
        }
        if user_data
            .get("client_user_agent")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(required(i, "user_data.client_user_agent"));
        }
    }
    if let Some(v) = event.get("opt_out")
        && !v.is_boolean()
    {
        return Err(GraphError::invalid(
            None,
            "Invalid opt_out",
            format!("data[{i}].opt_out must be a boolean."),
        ));
    }
    check_custom_data(i, name, event.get("custom_data"))?;
    check_data_processing_options(i, event)
}

fn unexpected(key: &str, param: &str) -> GraphError {
    GraphError::new(
        100,
        &format!("Server Side Api Parameter Error: Unexpected key \"{key}\" on param \"{param}\""),
    )
}

fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn check_user_data(i: usize, user_data: &Map<String, Value>) -> Result<(), GraphError> {
    if let Some(key) = first_unknown_key(user_data, &USER_DATA_KEYS) {
        return Err(unexpected(key, &format!("$['data'][{i}]['user_data']")));
    }
    for key in HASHED_KEYS {
        let Some(value) = user_data.get(key) else {
            continue;
        };
        // §1.4: "Hashing required"; §2.1: 64-char lowercase hex digests.
        let ok = strings(value)
            .is_some_and(|v| !v.is_empty() && v.iter().all(|s| is_sha256_lower_hex(s)));
        if !ok {
            return Err(GraphError::invalid(
                None,
                "Unhashed Customer Information",
                format!(
                    "data[{i}].user_data.{key} must be SHA-256 hashed (64 lowercase hex characters, or a list of them)."
                ),
            ));
        }
    }
    if let Some(value) = user_data.get("external_id")
        && strings(value).is_none_or(|v| v.is_empty() || v.iter().any(|s| s.is_empty()))
    {
        return Err(GraphError::invalid(
            None,
            "Invalid External ID",
            format!("data[{i}].user_data.external_id must be a string or a list of strings."),
        ));
    }
    // §1.4: client_ip_address must be a valid IPv4/IPv6 address, never hashed.
    if let Some(ip) = user_data.get("client_ip_address")
        && ip
            .as_str()
            .and_then(|s| s.parse::<std::net::IpAddr>().ok())
            .is_none()
    {
        return Err(GraphError::invalid(
            None,
            "Invalid IP Address",
            format!("data[{i}].user_data.client_ip_address is not a valid IPv4 or IPv6 address."),
        ));
    }
    // §3.1, §5.2: malformed fbc is error_subcode 2804001 "Click ID Incorrectly Formatted".
    if let Some(fbc) = user_data.get("fbc")
        && !fbc.as_str().is_some_and(|v| is_fb_cookie(v, false))
    {
        return Err(GraphError::invalid(
            Some(2_804_001),
            "Click ID Incorrectly Formatted",
            format!(
                "The click ID (_fbc) parameter data[{i}].user_data.fbc is not formatted correctly: fb.<subdomainIndex>.<creationTime ms>.<fbclid>."
            ),
        ));
    }
    if let Some(fbp) = user_data.get("fbp")
        && !fbp.as_str().is_some_and(|v| is_fb_cookie(v, true))
    {
        return Err(GraphError::invalid(
            None,
            "Browser ID Incorrectly Formatted",
            format!(
                "Your server is sending an invalid fbp parameter value in data[{i}].user_data.fbp: fb.<subdomainIndex>.<creationTime ms>.<random number>."
            ),
        ));
    }
    check_sufficient(i, user_data)
}

/// §1.4 (best practices, since v13.0): an event is invalid if its user data is only a subset of
/// `ct+country+st+zp+ge+client_user_agent`, `db+client_user_agent`, `fn+ge` or `ln+ge`
/// (code 100, subcode 2804050).
fn check_sufficient(i: usize, user_data: &Map<String, Value>) -> Result<(), GraphError> {
    const WEAK_SETS: [&[&str]; 4] = [
        &["ct", "country", "st", "zp", "ge", "client_user_agent"],
        &["db", "client_user_agent"],
        &["fn", "ge"],
        &["ln", "ge"],
    ];
    let keys: Vec<&str> = user_data.keys().map(String::as_str).collect();
    let insufficient = keys.is_empty()
        || WEAK_SETS
            .iter()
            .any(|set| keys.iter().all(|k| set.contains(k)));
    if insufficient {
        return Err(GraphError::invalid(
            Some(2_804_050),
            "Insufficient Customer Information",
            format!(
                "This event has insufficient customer information: data[{i}].user_data has only {keys:?}."
            ),
        ));
    }
    Ok(())
}

/// §3.1/§3.4: `fb.<subdomainIndex>.<13-digit ms>.<value>` with an optional Parameter Builder
/// appendix (2 chars or 8 chars of base64url). `fbp` values are digits; `fbc` values (the fbclid)
/// are kept verbatim and may hold `-`/`_` but no dot.
pub fn is_fb_cookie(value: &str, fbp: bool) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    if !(parts.len() == 4 || parts.len() == 5) || parts[0] != "fb" {
        return false;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let b64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let last_ok = if fbp {
        digits(parts[3])
    } else {
        b64url(parts[3])
    };
    let appendix_ok = parts
        .get(4)
        .is_none_or(|a| (a.len() == 2 || a.len() == 8) && b64url(a));
    digits(parts[1]) && parts[2].len() == 13 && digits(parts[2]) && last_ok && appendix_ok
}

/// §1.5: Purchase requires `value` (a number) and `currency` (ISO 4217); subcode 2804019 is the
/// one a real project saw for a missing Purchase value (low confidence, §5.2).
fn check_custom_data(i: usize, name: &str, custom: Option<&Value>) -> Result<(), GraphError> {
    let custom = match custom {
        None => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => {
            return Err(GraphError::invalid(
                None,
                "Invalid custom_data",
                format!("data[{i}].custom_data must be an object."),
            ));
        }
    };
    let value = custom.and_then(|c| c.get("value"));
    let currency = custom.and_then(|c| c.get("currency"));
    if let Some(v) = value
        && !v.is_number()
    {
        return Err(GraphError::invalid(
            Some(2_804_019),
            "Invalid Value",
            format!("data[{i}].custom_data.value must be a number."),
        ));
    }
    if let Some(c) = currency
        && !c
            .as_str()
            .is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(GraphError::invalid(
            Some(2_804_019),
            "Invalid Currency",
            format!("data[{i}].custom_data.currency must be an ISO 4217 code."),
        ));
    }
    if name == "Purchase" && (value.is_none() || currency.is_none()) {
        return Err(GraphError::invalid(
            Some(2_804_019),
            "Missing Value or Currency",
            format!(
                "Purchase events require custom_data.value and custom_data.currency (data[{i}])."
            ),
        ));
    }
    Ok(())
}

/// §6: `data_processing_options` is `[]` or `["LDU"]`; with LDU the country is 0 or 1 and
/// "If you set a country, you must also set a state" (0 or 1000–1013).
fn check_data_processing_options(i: usize, event: &Map<String, Value>) -> Result<(), GraphError> {
    let Some(options) = event.get("data_processing_options") else {
        return Ok(());
    };
    let bad = |msg: &str| {
        Err(GraphError::invalid(
            None,
            "Invalid Data Processing Options",
            format!("data[{i}]: {msg}"),
        ))
    };
    let Some(options) = strings(options).filter(|_| options.is_array()) else {
        return bad("data_processing_options must be an array");
    };
    if options.iter().any(|o| *o != "LDU") {
        return bad("data_processing_options may only contain \"LDU\"");
    }
    let country = event
        .get("data_processing_options_country")
        .map(Value::as_i64);
    let state = event
        .get("data_processing_options_state")
        .map(Value::as_i64);
    if let Some(country) = country {
        if !matches!(country, Some(0 | 1)) {
            return bad("data_processing_options_country must be 0 or 1");
        }
        let Some(state) = state else {
            return bad("data_processing_options_state is required when a country is set");
        };
        if !matches!(state, Some(0 | 1000..=1013)) {
            return bad("data_processing_options_state must be 0 or 1000-1013");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fb_cookies_accept_real_shapes_and_reject_seconds_or_missing_segments() {
        assert!(is_fb_cookie(
            "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890",
            false
        ));
        assert!(is_fb_cookie(
            "fb.1.1554763741205.IwZXh0bgNhZW0CMTAAAR-uK_5w.AQQCAQIB",
            false
        ));
        assert!(is_fb_cookie("fb.1.1596403881668.1116446470", true));
        assert!(!is_fb_cookie("fb.1.1596403881.1116446470", true));
        assert!(!is_fb_cookie("fb.1.1554763741205", false));
        assert!(!is_fb_cookie("fb.1.1596403881668.abc", true));
    }
}
