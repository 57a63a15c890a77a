//! Google's error shapes (reference/google.md §1.3, §8): the `google.rpc.Status` envelope
//! `{"error":{"code","message","status","details":[…]}}`, Google Ads' `GoogleAdsFailure` detail
//! (`errors[].errorCode{<kind>: ENUM}`, `message`, `location.fieldPathElements`), the
//! `partialFailureError` status for partial failures, and `google.rpc.BadRequest` for JSON the
//! parser refuses (unknown field names).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::checks::opaque_id;
use crate::faults::{FaultKind, FaultSpec};

/// One `GoogleAdsError`.
#[derive(Debug, Clone)]
pub struct AdsError {
    /// The `errorCode` oneof name, e.g. `conversionUploadError`.
    pub kind: &'static str,
    /// The enum value, e.g. `TOO_RECENT_EVENT`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Field path, e.g. `[("conversions", Some(3)), ("gclid", None)]`.
    pub location: Vec<(String, Option<usize>)>,
}

impl AdsError {
    /// An error of `kind`/`code` at `location`.
    pub fn new(
        kind: &'static str,
        code: &str,
        message: &str,
        location: Vec<(String, Option<usize>)>,
    ) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            location,
        }
    }

    /// `kind.CODE`, as recorded in the request log.
    pub fn code_name(&self) -> String {
        format!("{}.{}", self.kind, self.code)
    }

    /// `conversions[3].gclid`
    pub fn path(&self) -> String {
        self.location
            .iter()
            .map(|(name, index)| match index {
                Some(i) => format!("{name}[{i}]"),
                None => name.clone(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The error as JSON.
    pub fn to_json(&self) -> Value {
        let mut error = json!({ "errorCode": { self.kind: self.code }, "message": self.message });
        if !self.location.is_empty() {
            let elements: Vec<Value> = self
                .location
                .iter()
                .map(|(name, index)| match index {
                    Some(i) => json!({"fieldName": name, "index": i}),
                    None => json!({"fieldName": name}),
                })
                .collect();
            error["location"] = json!({ "fieldPathElements": elements });
        }
        error
    }
}

/// A location helper: `loc(&[("conversions", Some(0)), ("gclid", None)])`.
pub fn loc(parts: &[(&str, Option<usize>)]) -> Vec<(String, Option<usize>)> {
    parts.iter().map(|(n, i)| ((*n).to_owned(), *i)).collect()
}

/// The `GoogleAdsFailure` detail for `errors`.
pub fn ads_failure(version: &str, errors: &[AdsError]) -> Value {
    json!({
        "@type": format!("type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure"),
        "errors": errors.iter().map(AdsError::to_json).collect::<Vec<_>>(),
        "requestId": opaque_id("request", 22),
    })
}

/// `"<message>, at <path>"` joined for every error (Google's partial-failure message style).
fn summary(errors: &[AdsError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.location.is_empty() {
                e.message.clone()
            } else {
                format!("{}, at {}", e.message, e.path())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The canonical status name for an HTTP status.
pub fn status_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// The `google.rpc.Status` envelope.
pub fn rpc_error(status: StatusCode, message: &str, details: Vec<Value>) -> Value {
    let mut error =
        json!({ "code": status.as_u16(), "message": message, "status": status_name(status) });
    if !details.is_empty() {
        error["details"] = Value::Array(details);
    }
    json!({ "error": error })
}

/// A request-level Google Ads failure (HTTP 400 unless `status` says otherwise).
pub fn ads_rpc_error(status: StatusCode, version: &str, errors: &[AdsError]) -> Value {
    let message = if status == StatusCode::BAD_REQUEST {
        "Request contains an invalid argument.".to_owned()
    } else {
        summary(errors)
    };
    rpc_error(status, &message, vec![ads_failure(version, errors)])
}

/// `partialFailureError` for rows that failed (gRPC code 3 = `INVALID_ARGUMENT`).
pub fn partial_failure_error(version: &str, errors: &[AdsError]) -> Value {
    json!({ "code": 3, "message": summary(errors), "details": [ads_failure(version, errors)] })
}

/// The JSON parser's refusal of an unknown field: HTTP 400 with a `google.rpc.BadRequest`.
pub fn unknown_field_error(name: &str, at: &str) -> (String, Value) {
    let description = if at.is_empty() {
        format!("Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.")
    } else {
        format!(
            "Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field."
        )
    };
    let body = rpc_error(
        StatusCode::BAD_REQUEST,
        &description,
        vec![json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{ "field": at, "description": description }],
        })],
    );
    (description, body)
}

/// A body that is not JSON at all.
pub fn invalid_json_error(detail: &str) -> (String, Value) {
    let description = format!("Invalid JSON payload received. {detail}");
    let body = rpc_error(StatusCode::BAD_REQUEST, &description, Vec::new());
    (description, body)
}

/// An injected fault, Google Ads-shaped.
pub fn render_ads_fault(fault: &FaultSpec, version: &str) -> (StatusCode, Option<Value>) {
    let (default_status, kind, code, message) = match fault.kind {
        FaultKind::Throttle => (
            429,
            "quotaError",
            "RESOURCE_TEMPORARILY_EXHAUSTED",
            "Too many requests in a short amount of time.",
        ),
        FaultKind::Transient => (
            500,
            "internalError",
            "TRANSIENT_ERROR",
            "The request failed due to a transient error. The user should retry.",
        ),
        FaultKind::Permanent => (400, "", "", "The request was rejected."),
        FaultKind::Status | FaultKind::Timeout | FaultKind::AcceptThenTimeout => (
            500,
            "internalError",
            "INTERNAL_ERROR",
            "An internal error has occurred.",
        ),
    };
    let status = StatusCode::from_u16(fault.status.unwrap_or(default_status))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let error = if fault.kind == FaultKind::Permanent {
        let spec = fault
            .code
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or("requestError.UNKNOWN");
        let (kind, code) = spec.split_once('.').unwrap_or(("requestError", spec));
        AdsError {
            kind: leak_kind(kind),
            code: code.into(),
            message: fault.message_or(message).into(),
            location: Vec::new(),
        }
    } else {
        AdsError::new(kind, code, fault.message_or(message), Vec::new())
    };
    let mut body = ads_rpc_error(status, version, std::slice::from_ref(&error));
    body["error"]["message"] = Value::String(fault.message_or(message).to_owned());
    (status, Some(body))
}

/// The `errorCode` kinds a permanent fault may name (a fixed list keeps `AdsError::kind` static).
fn leak_kind(kind: &str) -> &'static str {
    const KINDS: [&str; 12] = [
        "authenticationError",
        "authorizationError",
        "conversionUploadError",
        "conversionActionError",
        "fieldError",
        "quotaError",
        "internalError",
        "requestError",
        "databaseError",
        "partialFailureError",
        "dateError",
        "queryError",
    ];
    KINDS
        .into_iter()
        .find(|k| *k == kind)
        .unwrap_or("requestError")
}
