//! Fake Google OAuth token endpoint: `POST /token` with `grant_type=refresh_token`
//! (reference/google.md §1.1) → `{access_token, expires_in, token_type:"Bearer", scope}`.
//!
//! Only the configured client id/secret/refresh token are accepted; minted tokens are valid for
//! `access_token_ttl_s` on the sandbox clock. Errors use OAuth 2's `{"error","error_description"}`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Outcome, PlatformRequest};
use crate::checks::opaque_id;
use crate::faults::{FaultKind, FaultSpec};
use crate::record::Verdict;
use crate::state::{AppState, lock};

const ENDPOINT: &str = "token";
const SCOPES: &str =
    "https://www.googleapis.com/auth/adwords https://www.googleapis.com/auth/datamanager";

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Outcome {
    let body = json!({ "error": error, "error_description": description });
    Outcome::rejected(
        ENDPOINT,
        status,
        body,
        format!("{error}: {description}"),
        vec![error.into()],
    )
}

/// Handles `POST /token`.
pub fn handle(state: &AppState, req: &PlatformRequest) -> Outcome {
    // The token endpoint takes a form body; a JSON object is accepted too.
    let params: Map<String, Value> = if req.is_form() {
        req.form()
    } else {
        match req.json() {
            Ok(Value::Object(map)) => map,
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Required parameter is missing: grant_type",
                );
            }
        }
    };
    let get = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or_default();
    let config = &state.config;
    if get("grant_type").is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required parameter is missing: grant_type",
        );
    }
    if get("grant_type") != "refresh_token" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type: only refresh_token is supported by the sandbox",
        );
    }
    if get("client_id") != config.google_client_id
        || get("client_secret") != config.google_client_secret
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    }
    if get("refresh_token") != config.google_refresh_token {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request");
    }
    let token = format!("ya29.sandbox-{}", opaque_id("access-token", 40));
    let expires_at = req.now_ms + config.access_token_ttl_s * 1_000;
    lock(&state.google).tokens.insert(token.clone(), expires_at);
    let body = json!({
        "access_token": token,
        "expires_in": config.access_token_ttl_s,
        "scope": SCOPES,
        "token_type": "Bearer",
    });
    Outcome::new(ENDPOINT, StatusCode::OK, Some(body), Verdict::Accepted)
}

/// An injected fault on the token endpoint.
pub fn render_fault(fault: &FaultSpec) -> (StatusCode, Option<Value>) {
    let (status, error) = match fault.kind {
        FaultKind::Throttle => (429, "rate_limit_exceeded"),
        FaultKind::Permanent => (400, "invalid_grant"),
        FaultKind::Status
        | FaultKind::Transient
        | FaultKind::Timeout
        | FaultKind::AcceptThenTimeout => (500, "internal_failure"),
    };
    let status = StatusCode::from_u16(fault.status.unwrap_or(status))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let error = fault.code.as_ref().and_then(Value::as_str).unwrap_or(error);
    (
        status,
        Some(
            json!({ "error": error, "error_description": fault.message_or("Injected by the sandbox") }),
        ),
    )
}
