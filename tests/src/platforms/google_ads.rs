//! Fake Google Ads API click-conversion upload:
//! `POST /{version}/customers/{id}:uploadClickConversions` (reference/google.md §1).
//!
//! Request-level problems (auth, unknown JSON fields, bad enum values, `partialFailure` not true,
//! more than 2,000 conversions) fail the whole request with a `google.rpc.Status`; row problems
//! come back as `partialFailureError` with `conversions[i]…` field paths and an empty result for
//! that row (§1.3). Click ids get their click time from the sandbox (`POST /_sandbox/clicks` or a
//! self-describing `sbx-<ms>-…` id) so `TOO_RECENT_EVENT` and friends can be tested.
//!
//! Strict like Google since 2026-06-15 (reference/google.md Addendum C, data-manager.md §8): a
//! customer not allowlisted (`SandboxConfig::google_ads_allowlisted`, by default nobody) gets
//! every conversion refused with `notAllowlistedError: CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE`
//! as a partial failure inside HTTP 200, the way third parties report it.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::google_account::GoogleAccount;
use super::google_ads_rows::{Row, RowContext, check_row};
use super::google_auth::{check_bearer, check_developer_token};
use super::google_error::{
    AdsError, ads_rpc_error, invalid_json_error, partial_failure_error, unknown_field_error,
};
use super::{Outcome, PlatformRequest};
use crate::checks::{camel_case_keys, first_unknown_key};
use crate::counts::Source;
use crate::record::{Platform, Verdict};
use crate::state::{AppState, lock};

const ENDPOINT: &str = "uploadClickConversions";
/// §1.4: "Upload fewer than 2001 events in a single request".
pub const MAX_CONVERSIONS: usize = 2_000;

/// The API version from the path (`v22`), used in `@type` names.
pub fn api_version(req: &PlatformRequest) -> String {
    req.segments
        .first()
        .cloned()
        .unwrap_or_else(|| "v22".into())
}

/// The customer id from `customers/{id}:…` or `customers/{id}/…`.
pub fn customer_id(req: &PlatformRequest) -> String {
    let raw = req.segments.get(2).map(String::as_str).unwrap_or_default();
    raw.split(':').next().unwrap_or_default().to_owned()
}

/// Auth, developer token, customer id and account-access checks shared by every Google Ads
/// endpoint that names a customer.
///
/// # Errors
/// The outcome to answer.
pub fn check_request(
    state: &AppState,
    req: &PlatformRequest,
    endpoint: &str,
) -> Result<(), Box<Outcome>> {
    let version = api_version(req);
    let auth = check_bearer(state, req, Some(&version))
        .and_then(|grantor| check_developer_token(state, req, &version).map(|()| grantor));
    let grantor = match auth {
        Ok(grantor) => grantor,
        Err(f) => {
            return Err(Box::new(Outcome::rejected(
                endpoint,
                f.status,
                f.body,
                f.message,
                vec![f.code],
            )));
        }
    };
    let customer = customer_id(req);
    // Customer ids are 10 digits without dashes (Segment strips them: reference/google.md §1.1).
    if customer.len() != 10 || !customer.bytes().all(|b| b.is_ascii_digit()) {
        let e = AdsError::new(
            "requestError",
            "INVALID_CUSTOMER_ID",
            "Customer ID is invalid.",
            Vec::new(),
        );
        return Err(Box::new(ads_rejected(
            endpoint,
            StatusCode::BAD_REQUEST,
            &version,
            &[e],
        )));
    }
    super::google_accounts::check_access(state, req, &grantor, &customer, endpoint)
}

/// A request-level Google Ads failure as an outcome.
pub fn ads_rejected(
    endpoint: &str,
    status: StatusCode,
    version: &str,
    errors: &[AdsError],
) -> Outcome {
    let body = ads_rpc_error(status, version, errors);
    let message = errors
        .first()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    Outcome::rejected(
        endpoint,
        status,
        body,
        message,
        errors.iter().map(AdsError::code_name).collect(),
    )
}

/// A JSON-parser refusal as an outcome.
pub fn parse_rejected(endpoint: &str, (message, body): (String, Value)) -> Outcome {
    Outcome::rejected(
        endpoint,
        StatusCode::BAD_REQUEST,
        body,
        message,
        vec!["INVALID_ARGUMENT".into()],
    )
}

/// Handles `:uploadClickConversions`.
pub fn handle_upload(state: &AppState, req: &PlatformRequest) -> Outcome {
    let version = api_version(req);
    let raw = req.body_for_record();
    let mut outcome = upload(state, req, &version);
    outcome.event_ids = order_ids(&camel_case_keys(&raw));
    outcome.events = camel_case_keys(&raw)
        .get("conversions")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    outcome
}

fn order_ids(body: &Value) -> Vec<String> {
    body.get("conversions")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|c| c.get("orderId").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn upload(state: &AppState, req: &PlatformRequest, version: &str) -> Outcome {
    if let Err(o) = check_request(state, req, ENDPOINT) {
        return *o;
    }
    let body = match req.json() {
        Ok(v @ Value::Object(_)) => camel_case_keys(&v),
        Ok(_) => return parse_rejected(ENDPOINT, invalid_json_error("Expected an object.")),
        Err(e) => return parse_rejected(ENDPOINT, invalid_json_error(&e)),
    };
    if let Err(e) = check_structure(&body) {
        return parse_rejected(ENDPOINT, e);
    }
    let conversions = body
        .get("conversions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Err(errors) = check_request_level(&body, &conversions) {
        return ads_rejected(ENDPOINT, StatusCode::BAD_REQUEST, version, &errors);
    }
    let validate_only = body
        .get("validateOnly")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let customer = customer_id(req);
    if !state.config.google_ads_allowlisted.contains(&customer) {
        let errors: Vec<AdsError> = (0..conversions.len())
            .map(|i| {
                AdsError::new(
                    "notAllowlistedError",
                    "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE",
                    "Customer is not allowlisted for accessing this feature.",
                    super::google_error::loc(&[("conversions", Some(i))]),
                )
            })
            .collect();
        return respond(
            version,
            &body,
            &conversions,
            &[],
            &errors,
            validate_only,
            &customer,
        );
    }
    let mut account = lock(&state.google);
    let mut errors = Vec::new();
    let mut accepted: Vec<(usize, Row)> = Vec::new();
    let mut ctx = RowContext {
        state,
        account: &account,
        customer: &customer,
        now_ms: req.now_ms,
        seen_orders: HashSet::new(),
        seen_clicks: HashSet::new(),
    };
    for (i, conversion) in conversions.iter().enumerate() {
        match check_row(&mut ctx, i, conversion) {
            Ok(row) => accepted.push((i, row)),
            Err(e) => errors.push(e),
        }
    }
    if !validate_only {
        commit(state, &mut account, &accepted, req.now_ms);
    }
    drop(account);
    respond(
        version,
        &body,
        &conversions,
        &accepted,
        &errors,
        validate_only,
        &customer,
    )
}

/// §1.2–§1.4: request-level rules.
fn check_request_level(body: &Value, conversions: &[Value]) -> Result<(), Vec<AdsError>> {
    // §1.2 (v23+ docs, applied to every version): "Setting partial_failure = false or omitting the
    // field is not supported and causes the entire request to fail".
    if body.get("partialFailure").and_then(Value::as_bool) != Some(true) {
        return Err(vec![AdsError::new(
            "partialFailureError",
            "PARTIAL_FAILURE_MODE_REQUIRED",
            "The partial failure field was false in the request. This method requires this field be set to true.",
            Vec::new(),
        )]);
    }
    if conversions.is_empty() {
        return Err(vec![AdsError::new(
            "fieldError",
            "REQUIRED_NONEMPTY_LIST",
            "The field's list must be non-empty.",
            super::google_error::loc(&[("conversions", None)]),
        )]);
    }
    // §1.4: at most 2,000 conversions per request.
    if conversions.len() > MAX_CONVERSIONS {
        return Err(vec![AdsError::new(
            "conversionUploadError",
            "TOO_MANY_CONVERSIONS_IN_REQUEST",
            "The request contained more than 2000 conversions.",
            super::google_error::loc(&[("conversions", None)]),
        )]);
    }
    // §1.2: jobId is a non-negative int32.
    if let Some(job) = body.get("jobId") {
        let ok = job
            .as_i64()
            .or_else(|| job.as_str().and_then(|s| s.parse().ok()))
            .is_some_and(|j| (0..i64::from(i32::MAX)).contains(&j));
        if !ok {
            return Err(vec![AdsError::new(
                "conversionUploadError",
                "INVALID_JOB_ID",
                "The job ID provided is not in the allowed range.",
                super::google_error::loc(&[("job_id", None)]),
            )]);
        }
    }
    Ok(())
}

fn commit(state: &AppState, account: &mut GoogleAccount, accepted: &[(usize, Row)], now_ms: i64) {
    let mut counts = lock(&state.counts);
    for (_, row) in accepted {
        if let Some(order) = &row.order_id {
            account
                .used_order_ids
                .insert((row.action_id, order.clone()));
        }
        if let Some(click) = &row.click_id {
            account
                .click_conversions
                .insert((row.action_id, click.clone(), row.date_time.clone()));
        }
        let key = row
            .order_id
            .as_ref()
            .map(|o| format!("action:{}|{o}", row.action_id));
        counts.observe(
            Platform::GoogleAds,
            &row.action_name,
            key,
            Source::Server,
            now_ms,
            None,
        );
    }
}

fn respond(
    version: &str,
    body: &Value,
    conversions: &[Value],
    accepted: &[(usize, Row)],
    errors: &[AdsError],
    validate_only: bool,
    customer: &str,
) -> Outcome {
    let mut response = Map::new();
    if !validate_only {
        let results: Vec<Value> = (0..conversions.len())
            .map(|i| {
                accepted
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map_or_else(|| json!({}), |(_, row)| row.result(customer))
            })
            .collect();
        response.insert("results".into(), Value::Array(results));
        let job = body
            .get("jobId")
            .cloned()
            .unwrap_or_else(|| json!((1_u64 << 31) + 7));
        response.insert(
            "jobId".into(),
            Value::String(job.to_string().trim_matches('"').to_owned()),
        );
    }
    if !errors.is_empty() {
        response.insert(
            "partialFailureError".into(),
            partial_failure_error(version, errors),
        );
    }
    let verdict = match (accepted.len(), errors.len()) {
        (_, 0) => Verdict::Accepted,
        (0, _) => Verdict::Rejected,
        _ => Verdict::PartiallyAccepted,
    };
    let mut o = Outcome::new(
        ENDPOINT,
        StatusCode::OK,
        Some(Value::Object(response)),
        verdict,
    );
    o.accepted_events = if validate_only { 0 } else { accepted.len() };
    o.error = errors
        .first()
        .map(|e| format!("{}, at {}", e.message, e.path()));
    o.error_codes = errors.iter().map(AdsError::code_name).collect();
    o
}

const TOP_KEYS: [&str; 4] = ["conversions", "partialFailure", "validateOnly", "jobId"];
const CONVERSION_KEYS: [&str; 18] = [
    "gclid",
    "gbraid",
    "wbraid",
    "conversionAction",
    "conversionDateTime",
    "conversionValue",
    "currencyCode",
    "orderId",
    "externalAttributionData",
    "customVariables",
    "cartData",
    "userIdentifiers",
    "conversionEnvironment",
    "consent",
    "customerType",
    "userIpAddress",
    "sessionAttributesEncoded",
    "sessionAttributesKeyValuePairs",
];
const IDENTIFIER_KEYS: [&str; 6] = [
    "userIdentifierSource",
    "hashedEmail",
    "hashedPhoneNumber",
    "mobileId",
    "thirdPartyUserId",
    "addressInfo",
];
const CONSENT_VALUES: [&str; 4] = ["UNSPECIFIED", "UNKNOWN", "GRANTED", "DENIED"];

/// What Google's JSON parser refuses before any business rule runs: unknown field names and
/// enum values that do not exist (the whole request fails with HTTP 400).
fn check_structure(body: &Value) -> Result<(), (String, Value)> {
    let top = body
        .as_object()
        .ok_or_else(|| invalid_json_error("Expected an object."))?;
    if let Some(k) = first_unknown_key(top, &TOP_KEYS) {
        return Err(unknown_field_error(k, ""));
    }
    let Some(conversions) = top.get("conversions") else {
        return Ok(());
    };
    let Some(conversions) = conversions.as_array() else {
        return Err(invalid_json_error(
            "Invalid value at 'conversions': expected a list.",
        ));
    };
    for (i, c) in conversions.iter().enumerate() {
        let at = format!("conversions[{i}]");
        let c = c.as_object().ok_or_else(|| {
            invalid_json_error(&format!("Invalid value at '{at}': expected an object."))
        })?;
        if let Some(k) = first_unknown_key(c, &CONVERSION_KEYS) {
            return Err(unknown_field_error(k, &at));
        }
        check_nested(c, &at)?;
    }
    Ok(())
}

fn check_nested(c: &Map<String, Value>, at: &str) -> Result<(), (String, Value)> {
    for (j, id) in c
        .get("userIdentifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(k) = id
            .as_object()
            .and_then(|o| first_unknown_key(o, &IDENTIFIER_KEYS))
        {
            return Err(unknown_field_error(
                k,
                &format!("{at}.user_identifiers[{j}]"),
            ));
        }
    }
    if let Some(consent) = c.get("consent").and_then(Value::as_object) {
        if let Some(k) = first_unknown_key(consent, &["adUserData", "adPersonalization"]) {
            return Err(unknown_field_error(k, &format!("{at}.consent")));
        }
        for (key, field) in [
            ("adUserData", "ad_user_data"),
            ("adPersonalization", "ad_personalization"),
        ] {
            if let Some(v) = consent.get(key)
                && !v.as_str().is_some_and(|v| CONSENT_VALUES.contains(&v))
            {
                return Err(invalid_json_error(&format!(
                    "Invalid value at '{at}.consent.{field}' (type.googleapis.com/google.ads.googleads.v22.enums.ConsentStatusEnum.ConsentStatus), {v}"
                )));
            }
        }
    }
    if let Some(cart) = c.get("cartData").and_then(Value::as_object) {
        let keys = [
            "merchantId",
            "feedCountryCode",
            "feedLanguageCode",
            "localTransactionCost",
            "items",
        ];
        if let Some(k) = first_unknown_key(cart, &keys) {
            return Err(unknown_field_error(k, &format!("{at}.cart_data")));
        }
        for (j, item) in cart
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(k) = item
                .as_object()
                .and_then(|o| first_unknown_key(o, &["productId", "quantity", "unitPrice"]))
            {
                return Err(unknown_field_error(
                    k,
                    &format!("{at}.cart_data.items[{j}]"),
                ));
            }
        }
    }
    for (key, field, values) in [
        (
            "conversionEnvironment",
            "conversion_environment",
            &["UNSPECIFIED", "UNKNOWN", "APP", "WEB"][..],
        ),
        (
            "customerType",
            "customer_type",
            &["UNSPECIFIED", "UNKNOWN", "NEW", "RETURNING"][..],
        ),
    ] {
        if let Some(v) = c.get(key)
            && !v.as_str().is_some_and(|v| values.contains(&v))
        {
            return Err(invalid_json_error(&format!(
                "Invalid value at '{at}.{field}', {v}"
            )));
        }
    }
    Ok(())
}
