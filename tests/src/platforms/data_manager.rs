//! Fake Google Data Manager API: `POST /v1/events:ingest` (reference/google.md §8), for
//! multi-source conversions (`WEBPAGE` actions) and offline conversions (`UPLOAD_CLICKS` actions,
//! data-manager.md §1).
//!
//! Fast-fail like the real API: the first problem fails the whole request with a
//! `google.rpc.Status` carrying a `google.rpc.BadRequest` field violation and a
//! `google.rpc.ErrorInfo` whose `reason` is a Data Manager `ErrorReason` (`INVALID_HEX_ENCODING`,
//! `TOO_MANY_EVENTS`, `INVALID_CONVERSION_ACTION_TYPE`, …). Success is `{"requestId": …}`.
//! Accepted events are deduplicated by `transactionId` per destination conversion action.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::data_manager_status;
use super::google_auth::check_bearer;
use super::google_error::{invalid_json_error, rpc_error, unknown_field_error};
use super::{Outcome, PlatformRequest};
use crate::checks::{
    camel_case_keys, first_unknown_key, is_currency_code, is_sha256_base64, is_sha256_lower_hex,
    opaque_id,
};
use crate::counts::Source;
use crate::faults::{FaultKind, FaultSpec};
use crate::record::{Platform, Verdict};
use crate::state::{AppState, lock};

const ENDPOINT: &str = "events:ingest";
/// §8: `events[] (≤2,000)` per request (the `ErrorReason` page says 10,000; the project's
/// reference says 2,000 and the sandbox enforces the stricter one).
pub const MAX_EVENTS: usize = 2_000;
/// §8: at most 10 destinations.
pub const MAX_DESTINATIONS: usize = 10;
/// §8: at most 10 user identifiers per event.
pub const MAX_USER_IDENTIFIERS: usize = 10;

const TOP_KEYS: [&str; 6] = [
    "destinations",
    "events",
    "consent",
    "validateOnly",
    "encoding",
    "encryptionInfo",
];
const DESTINATION_KEYS: [&str; 5] = [
    "reference",
    "loginAccount",
    "linkedAccount",
    "operatingAccount",
    "productDestinationId",
];
const EVENT_KEYS: [&str; 20] = [
    "destinationReferences",
    "transactionId",
    "eventTimestamp",
    "lastUpdatedTimestamp",
    "userData",
    "consent",
    "adIdentifiers",
    "currency",
    "conversionValue",
    "eventSource",
    "eventDeviceInfo",
    "cartData",
    "customVariables",
    "experimentalFields",
    "userProperties",
    "eventName",
    "clientId",
    "userId",
    "additionalEventParameters",
    "eventLocation",
];
const CONSENT_VALUES: [&str; 3] = [
    "CONSENT_STATUS_UNSPECIFIED",
    "CONSENT_GRANTED",
    "CONSENT_DENIED",
];

/// A fast-fail error: HTTP status, `ErrorReason`, field path, description.
#[derive(Debug)]
struct DmError {
    status: StatusCode,
    reason: &'static str,
    field: String,
    description: String,
}

fn bad(reason: &'static str, field: impl Into<String>, description: impl Into<String>) -> DmError {
    DmError {
        status: StatusCode::BAD_REQUEST,
        reason,
        field: field.into(),
        description: description.into(),
    }
}

impl DmError {
    fn body(&self) -> Value {
        rpc_error(
            self.status,
            &self.description,
            vec![
                json!({"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": self.field, "description": self.description, "reason": self.reason}]}),
                json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": self.reason, "domain": "datamanager.googleapis.com"}),
            ],
        )
    }
}

/// Handles `POST /v1/events:ingest`.
pub fn handle(state: &AppState, req: &PlatformRequest) -> Outcome {
    let raw = camel_case_keys(&req.body_for_record());
    let ids: Vec<String> = raw
        .get("events")
        .and_then(Value::as_array)
        .map(|e| {
            e.iter()
                .filter_map(|e| {
                    e.get("transactionId")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    let count = raw
        .get("events")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut outcome = ingest(state, req);
    outcome.event_ids = ids;
    outcome.events = count;
    outcome
}

fn ingest(state: &AppState, req: &PlatformRequest) -> Outcome {
    if let Err(f) = check_bearer(state, req, None) {
        return Outcome::rejected(ENDPOINT, f.status, f.body, f.message, vec![f.code]);
    }
    let body = if let Ok(v @ Value::Object(_)) = req.json() {
        camel_case_keys(&v)
    } else {
        let (m, b) = invalid_json_error("Expected a JSON object.");
        return Outcome::rejected(
            ENDPOINT,
            StatusCode::BAD_REQUEST,
            b,
            m,
            vec!["INVALID_ARGUMENT".into()],
        );
    };
    if let Err((m, b)) = check_unknown_keys(&body) {
        return Outcome::rejected(
            ENDPOINT,
            StatusCode::BAD_REQUEST,
            b,
            m,
            vec!["INVALID_ARGUMENT".into()],
        );
    }
    let destinations = match check_request(state, &body) {
        Ok(d) => d,
        Err(e) => {
            return Outcome::rejected(
                ENDPOINT,
                e.status,
                e.body(),
                e.description.clone(),
                vec![e.reason.into()],
            );
        }
    };
    let events = body
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let request_id = opaque_id("request", 32);
    if body.get("validateOnly").and_then(Value::as_bool) != Some(true) {
        // data-manager.md §4: processing happens after the answer; its outcome is what
        // requestStatus:retrieve reports. Failed events and adjustments are no new conversions.
        let targets: Vec<(String, String, Value)> = destinations
            .iter()
            .map(|(op, action, _, d)| (op.clone(), action.clone(), d.clone()))
            .collect();
        let processed = data_manager_status::process(
            state,
            &request_id,
            &targets,
            &events,
            body.get("consent"),
        );
        let mut counts = lock(&state.counts);
        for ((_, destination, name, _), per_event) in destinations.iter().zip(processed) {
            for (event, outcome) in events.iter().zip(per_event) {
                if !matches!(
                    outcome,
                    data_manager_status::Processed::Conversion
                        | data_manager_status::Processed::Repeat
                ) {
                    continue;
                }
                let txn = event
                    .get("transactionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let key = Some(format!("action:{destination}|{txn}"));
                counts.observe(
                    Platform::DataManager,
                    name,
                    key,
                    Source::Server,
                    req.now_ms,
                    None,
                );
            }
        }
    }
    let mut o = Outcome::new(
        ENDPOINT,
        StatusCode::OK,
        Some(json!({ "requestId": request_id })),
        Verdict::Accepted,
    );
    o.accepted_events = events.len();
    o
}

fn check_unknown_keys(body: &Value) -> Result<(), (String, Value)> {
    let top = body
        .as_object()
        .ok_or_else(|| invalid_json_error("Expected an object."))?;
    if let Some(k) = first_unknown_key(top, &TOP_KEYS) {
        return Err(unknown_field_error(k, ""));
    }
    for (i, d) in top
        .get("destinations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(k) = d
            .as_object()
            .and_then(|d| first_unknown_key(d, &DESTINATION_KEYS))
        {
            return Err(unknown_field_error(k, &format!("destinations[{i}]")));
        }
    }
    for (i, e) in top
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(e) = e.as_object() else { continue };
        if let Some(k) = first_unknown_key(e, &EVENT_KEYS) {
            return Err(unknown_field_error(k, &format!("events[{i}]")));
        }
        if let Some(k) = e
            .get("adIdentifiers")
            .and_then(Value::as_object)
            .and_then(|a| {
                first_unknown_key(
                    a,
                    &[
                        "sessionAttributes",
                        "gclid",
                        "gbraid",
                        "wbraid",
                        "landingPageDeviceInfo",
                    ],
                )
            })
        {
            return Err(unknown_field_error(
                k,
                &format!("events[{i}].ad_identifiers"),
            ));
        }
        for (j, id) in e
            .get("userData")
            .and_then(|u| u.get("userIdentifiers"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(k) = id
                .as_object()
                .and_then(|o| first_unknown_key(o, &["emailAddress", "phoneNumber", "address"]))
            {
                return Err(unknown_field_error(
                    k,
                    &format!("events[{i}].user_data.user_identifiers[{j}]"),
                ));
            }
        }
    }
    Ok(())
}

/// One checked destination: operating account id, conversion action id, action name, and the
/// destination as sent.
type Resolved = (String, String, String, Value);

/// The request rules; returns each destination, resolved.
fn check_request(state: &AppState, body: &Value) -> Result<Vec<Resolved>, DmError> {
    let destinations = body
        .get("destinations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if destinations.is_empty() {
        return Err(bad(
            "REQUIRED_FIELD_MISSING",
            "destinations",
            "At least one destination is required.",
        ));
    }
    if destinations.len() > MAX_DESTINATIONS {
        return Err(bad(
            "TOO_MANY_DESTINATIONS",
            "destinations",
            "Maximum number of destinations allowed per request is 10.",
        ));
    }
    let events = body
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if events.is_empty() {
        return Err(bad(
            "REQUIRED_FIELD_MISSING",
            "events",
            "At least one event is required.",
        ));
    }
    if events.len() > MAX_EVENTS {
        return Err(bad(
            "TOO_MANY_EVENTS",
            "events",
            format!("At most {MAX_EVENTS} events are allowed per request."),
        ));
    }
    let encoding = body.get("encoding").and_then(Value::as_str);
    if let Some(e) = encoding
        && e != "HEX"
        && e != "BASE64"
    {
        return Err(bad(
            "INVALID_ENUM_VALUE",
            "encoding",
            "encoding must be HEX or BASE64.",
        ));
    }
    check_consent(body.get("consent"), "consent")?;
    let mut resolved = Vec::new();
    for (i, d) in destinations.iter().enumerate() {
        resolved.push(check_destination(state, i, d)?);
    }
    for (i, e) in events.iter().enumerate() {
        check_event(i, e, encoding)?;
    }
    Ok(resolved)
}

fn check_consent(consent: Option<&Value>, at: &str) -> Result<(), DmError> {
    let Some(consent) = consent else {
        return Ok(());
    };
    for (key, field) in [
        ("adUserData", "ad_user_data"),
        ("adPersonalization", "ad_personalization"),
    ] {
        if let Some(v) = consent.get(key)
            && !v.as_str().is_some_and(|v| CONSENT_VALUES.contains(&v))
        {
            return Err(bad(
                "INVALID_ENUM_VALUE",
                format!("{at}.{field}"),
                format!("{v} is not a consent status (CONSENT_GRANTED, CONSENT_DENIED)."),
            ));
        }
    }
    Ok(())
}

/// `ProductAccount.AccountType` values (Data Manager API v1; `ACCOUNT_TYPE_UNSPECIFIED` is
/// accepted by the parser but names no account).
const ACCOUNT_TYPES: [&str; 9] = [
    "GOOGLE_ADS",
    "DISPLAY_VIDEO_PARTNER",
    "DISPLAY_VIDEO_ADVERTISER",
    "DATA_PARTNER",
    "GOOGLE_ANALYTICS_PROPERTY",
    "GOOGLE_AD_MANAGER_AUDIENCE_LINK",
    "FLOODLIGHT_CONFIG",
    "GOOGLE_AD_MANAGER",
    "ACCOUNT_TYPE_UNSPECIFIED",
];

/// §8: `operatingAccount{accountType:"GOOGLE_ADS", accountId}` and `productDestinationId` = the
/// conversion action id. A multi-source conversion goes to the gtag's `WEBPAGE` action (§8); an
/// offline conversion to an `UPLOAD_CLICKS` action (data-manager.md §1.2). Any other type (call,
/// store sales, app conversions) is `INVALID_CONVERSION_ACTION_TYPE` (data-manager.md §3.1, §5).
fn check_destination(state: &AppState, i: usize, d: &Value) -> Result<Resolved, DmError> {
    let at = format!("destinations[{i}]");
    let Some(account) = d.get("operatingAccount").and_then(Value::as_object) else {
        return Err(bad(
            "REQUIRED_FIELD_MISSING",
            format!("{at}.operating_account"),
            "operatingAccount is required.",
        ));
    };
    let kind = account
        .get("accountType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id = account
        .get("accountId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind != "GOOGLE_ADS" {
        return Err(bad(
            "INVALID_DESTINATION",
            format!("{at}.operating_account.account_type"),
            "The sandbox serves GOOGLE_ADS destinations only.",
        ));
    }
    // ProductAccount.AccountType is an enum: the JSON parser refuses any other string (e.g. a
    // made-up "GOOGLE_ADS_MANAGER" for a manager login account; managers are GOOGLE_ADS).
    if let Some(login) = d.get("loginAccount") {
        let login_kind = login
            .get("accountType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !ACCOUNT_TYPES.contains(&login_kind) {
            return Err(bad(
                "INVALID_ARGUMENT",
                format!("{at}.login_account.account_type"),
                format!(
                    "Invalid value at 'destinations[{i}].login_account.account_type' \
                     (type.googleapis.com/google.ads.datamanager.v1.ProductAccount.AccountType), \
                     \"{login_kind}\""
                ),
            ));
        }
    }
    if id.len() != 10 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            "INVALID_DESTINATION",
            format!("{at}.operating_account.account_id"),
            "accountId must be the 10-digit Google Ads customer id without dashes.",
        ));
    }
    let Some(product_id) = d
        .get("productDestinationId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Err(bad(
            "REQUIRED_FIELD_MISSING",
            format!("{at}.product_destination_id"),
            "productDestinationId (the conversion action id) is required.",
        ));
    };
    let google = lock(&state.google);
    let action = product_id
        .parse()
        .ok()
        .and_then(|id| google.action(id))
        .filter(|a| a.status != "REMOVED");
    let Some(action) = action else {
        return Err(bad(
            "INVALID_CONVERSION_ACTION_ID",
            format!("{at}.product_destination_id"),
            "The conversion action ID is invalid.",
        ));
    };
    if action.action_type != "WEBPAGE" && action.action_type != "UPLOAD_CLICKS" {
        return Err(bad(
            "INVALID_CONVERSION_ACTION_TYPE",
            format!("{at}.product_destination_id"),
            format!(
                "The conversion action type is invalid: {} actions take no events here                  (WEBPAGE for multi-source, UPLOAD_CLICKS for offline conversions).",
                action.action_type
            ),
        ));
    }
    Ok((
        id.to_owned(),
        product_id.to_owned(),
        action.name.clone(),
        d.clone(),
    ))
}

fn check_hash(value: &Value, encoding: Option<&str>, at: &str) -> Result<(), DmError> {
    let text = value.as_str().unwrap_or_default();
    match encoding {
        None => Err(bad(
            "REQUIRED_FIELD_MISSING",
            "encoding",
            "encoding (HEX or BASE64) is required when user data is sent.",
        )),
        Some("HEX") if is_sha256_lower_hex(text) => Ok(()),
        Some("HEX") if text.bytes().all(|b| b.is_ascii_hexdigit()) && !text.is_empty() => Err(bad(
            "INVALID_SHA256_FORMAT",
            at,
            "The SHA256 encoded value is malformed.",
        )),
        Some("HEX") => Err(bad(
            "INVALID_HEX_ENCODING",
            at,
            "The HEX encoded value is malformed.",
        )),
        _ if is_sha256_base64(text) => Ok(()),
        _ => Err(bad(
            "INVALID_BASE64_ENCODING",
            at,
            "The base64 encoded value is malformed.",
        )),
    }
}

fn check_event(i: usize, e: &Value, encoding: Option<&str>) -> Result<(), DmError> {
    let at = format!("events[{i}]");
    // §8: "event_timestamp required" (RFC 3339, google.protobuf.Timestamp JSON).
    let Some(ts) = e.get("eventTimestamp").and_then(Value::as_str) else {
        return Err(bad(
            "REQUIRED_FIELD_MISSING",
            format!("{at}.event_timestamp"),
            "eventTimestamp is required.",
        ));
    };
    if OffsetDateTime::parse(ts, &Rfc3339).is_err() {
        return Err(bad(
            "INVALID_FORMAT",
            format!("{at}.event_timestamp"),
            "eventTimestamp must be an RFC 3339 timestamp.",
        ));
    }
    // §8: transaction_id is "Required for conversions using multiple data sources".
    if e.get("transactionId")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad(
            "REQUIRED_FIELD_MISSING",
            format!("{at}.transaction_id"),
            "transactionId is required for multi-source conversions.",
        ));
    }
    if let Some(c) = e.get("currency")
        && !c.as_str().is_some_and(is_currency_code)
    {
        return Err(bad(
            "INVALID_CURRENCY_CODE",
            format!("{at}.currency"),
            "The currency code is not supported.",
        ));
    }
    if let Some(v) = e.get("conversionValue")
        && !v.is_number()
    {
        return Err(bad(
            "INVALID_NUMBER_FORMAT",
            format!("{at}.conversion_value"),
            "conversionValue must be a number.",
        ));
    }
    check_consent(e.get("consent"), &format!("{at}.consent"))?;
    let ad_ids = check_ad_identifiers(&at, e.get("adIdentifiers"))?;
    let ids = e
        .get("userData")
        .and_then(|u| u.get("userIdentifiers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // data-manager.md §1.4: "Events data contains no user identifiers or ad identifiers".
    let has_click = ["gclid", "gbraid", "wbraid"]
        .iter()
        .any(|k| ad_ids.and_then(|a| a.get(*k)).is_some());
    if ids.is_empty() && !has_click {
        return Err(bad(
            "NO_IDENTIFIERS_PROVIDED",
            at,
            "Events data contains no user identifiers or ad identifiers.",
        ));
    }
    if ids.len() > MAX_USER_IDENTIFIERS {
        return Err(bad(
            "TOO_MANY_USER_IDENTIFIERS",
            format!("{at}.user_data.user_identifiers"),
            "Maximum number of user identifiers allowed is 10.",
        ));
    }
    for (j, id) in ids.iter().enumerate() {
        check_identifier(
            &format!("{at}.user_data.user_identifiers[{j}]"),
            id,
            encoding,
        )?;
    }
    Ok(())
}

/// The click ids of one event: well-formed, and never both braids.
fn check_ad_identifiers<'a>(
    at: &str,
    ad_ids: Option<&'a Value>,
) -> Result<Option<&'a Value>, DmError> {
    // data-manager.md §5: a click id that cannot be one (Google's are base64url text) is a
    // format error on its field; one Google cannot decode later is INVALID_GCLID (§4).
    for (key, field) in [
        ("gclid", "gclid"),
        ("gbraid", "gbraid"),
        ("wbraid", "wbraid"),
    ] {
        if let Some(v) = ad_ids.and_then(|a| a.get(key)) {
            let ok = v.as_str().is_some_and(|s| {
                !s.is_empty()
                    && s.len() <= 500
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            });
            if !ok {
                return Err(bad(
                    "INVALID_FORMAT",
                    format!("{at}.ad_identifiers.{field}"),
                    format!("The {key} is malformed."),
                ));
            }
        }
    }
    if ad_ids.and_then(|a| a.get("gbraid")).is_some()
        && ad_ids.and_then(|a| a.get("wbraid")).is_some()
    {
        return Err(bad(
            "INVALID_ARGUMENT",
            format!("{at}.ad_identifiers"),
            "gbraid and wbraid cannot both be set.",
        ));
    }
    Ok(ad_ids)
}

fn check_identifier(at: &str, id: &Value, encoding: Option<&str>) -> Result<(), DmError> {
    let Some(obj) = id.as_object() else {
        return Err(bad(
            "INVALID_FORMAT",
            at,
            "user identifier must be an object.",
        ));
    };
    if obj.len() != 1 {
        return Err(bad(
            "INVALID_ARGUMENT",
            at,
            "Exactly one of emailAddress, phoneNumber, address must be set.",
        ));
    }
    if let Some(v) = obj.get("emailAddress") {
        return check_hash(v, encoding, &format!("{at}.email_address"));
    }
    if let Some(v) = obj.get("phoneNumber") {
        return check_hash(v, encoding, &format!("{at}.phone_number"));
    }
    let address: Map<String, Value> = obj
        .get("address")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(k) = first_unknown_key(
        &address,
        &["givenName", "familyName", "regionCode", "postalCode"],
    ) {
        return Err(bad(
            "INVALID_ARGUMENT",
            format!("{at}.address"),
            format!("Unknown address field {k}."),
        ));
    }
    // §3: givenName/familyName hashed; regionCode (ISO alpha-2) and postalCode plain.
    for (key, field) in [("givenName", "given_name"), ("familyName", "family_name")] {
        match address.get(key) {
            Some(v) => check_hash(v, encoding, &format!("{at}.address.{field}"))?,
            None => {
                return Err(bad(
                    "REQUIRED_FIELD_MISSING",
                    format!("{at}.address.{field}"),
                    format!("address.{key} is required."),
                ));
            }
        }
    }
    let region = address
        .get("regionCode")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if region.len() != 2 || !region.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad(
            "INVALID_COUNTRY_CODE",
            format!("{at}.address.region_code"),
            "regionCode must be an ISO 3166-1 alpha-2 code.",
        ));
    }
    if address
        .get("postalCode")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad(
            "INVALID_POSTAL_CODE",
            format!("{at}.address.postal_code"),
            "Postal code is not valid.",
        ));
    }
    Ok(())
}

/// An injected fault, Data Manager-shaped.
pub fn render_fault(fault: &FaultSpec) -> (StatusCode, Option<Value>) {
    let (status, reason, message) = match fault.kind {
        FaultKind::Throttle => (429, "RESOURCE_EXHAUSTED", "Too many requests."),
        FaultKind::Permanent => (
            400,
            "INVALID_ARGUMENT",
            "There was a problem with the request.",
        ),
        FaultKind::Transient => (
            503,
            "INTERNAL_ERROR",
            "The service is currently unavailable.",
        ),
        FaultKind::Status | FaultKind::Timeout | FaultKind::AcceptThenTimeout => {
            (500, "INTERNAL_ERROR", "An internal error has occurred.")
        }
    };
    let status = StatusCode::from_u16(fault.status.unwrap_or(status))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = fault
        .code
        .as_ref()
        .and_then(Value::as_str)
        .unwrap_or(reason);
    let body = rpc_error(
        status,
        fault.message_or(message),
        vec![
            json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "datamanager.googleapis.com"}),
        ],
    );
    (status, Some(body))
}
