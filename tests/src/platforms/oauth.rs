//! Fake Google OAuth token and revocation endpoints.
//!
//! `POST /token` (form body; a JSON object is accepted too):
//! - `grant_type=refresh_token` (reference/google.md §1.1) with the configured
//!   `google_refresh_token` or one the consent flow issued → `{access_token, expires_in,
//!   token_type:"Bearer", scope}`; minted tokens live `access_token_ttl_s` on the sandbox clock.
//! - `grant_type=authorization_code` (with PKCE) — see `oauth_code`.
//!
//! `POST /revoke?token=…` revokes a refresh or access token and what is tied to it
//! (oauth.md §3).
//!
//! Errors use OAuth 2's `{"error","error_description"}` with Google's wording (oauth.md §2.2,
//! §2.3): the client is authenticated first ("Could not determine client ID
//! from request.", 401 `invalid_client` "The OAuth client was not found." / "Unauthorized",
//! "`client_secret` is missing."), then the grant (`invalid_grant` "Bad Request" for an unknown
//! refresh token, "Token has been expired or revoked." for a revoked one).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::google_auth::{ADWORDS_SCOPE, DATAMANAGER_SCOPE};
use super::google_grants::RefreshState;
use super::{Outcome, PlatformRequest};
use crate::faults::{FaultKind, FaultSpec};
use crate::record::Verdict;
use crate::state::{AppState, lock};

const ENDPOINT: &str = "token";

/// The scopes of the configured refresh token.
pub fn configured_scopes() -> String {
    format!("{ADWORDS_SCOPE} {DATAMANAGER_SCOPE}")
}

/// An OAuth 2 error answer.
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Outcome {
    let body = json!({ "error": error, "error_description": description });
    Outcome::rejected(
        ENDPOINT,
        status,
        body,
        format!("{error}: {description}"),
        vec![error.into()],
    )
}

/// The form (or JSON) parameters of a token request.
pub type Params = Map<String, Value>;

/// A parameter as text (empty when absent).
pub fn param<'a>(params: &'a Params, name: &str) -> &'a str {
    params.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// Handles `POST /token`.
pub fn handle(state: &AppState, req: &PlatformRequest) -> Outcome {
    let missing_grant = || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required parameter is missing: grant_type",
        )
    };
    let params: Params = if req.is_form() {
        req.form()
    } else {
        match req.json() {
            Ok(Value::Object(map)) => map,
            _ => return missing_grant(),
        }
    };
    let grant_type = param(&params, "grant_type");
    if grant_type.is_empty() {
        return missing_grant();
    }
    if grant_type != "refresh_token" && grant_type != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {grant_type}"),
        );
    }
    if let Err(refused) = authenticate_client(state, &params) {
        return *refused;
    }
    if grant_type == "authorization_code" {
        return super::oauth_code::exchange(state, req, &params);
    }
    refresh(state, req, &params)
}

/// Client authentication comes before the grant: no client id, an unknown one, no secret, a
/// wrong one.
fn authenticate_client(state: &AppState, params: &Params) -> Result<(), Box<Outcome>> {
    let config = &state.config;
    let refuse =
        |status, error, description| Err(Box::new(oauth_error(status, error, description)));
    match (param(params, "client_id"), param(params, "client_secret")) {
        ("", _) => refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Could not determine client ID from request.",
        ),
        (id, _) if id != config.google_client_id => refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        ),
        (_, "") => refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_secret is missing.",
        ),
        (_, secret) if secret != config.google_client_secret => {
            refuse(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized")
        }
        _ => Ok(()),
    }
}

fn refresh(state: &AppState, req: &PlatformRequest, params: &Params) -> Outcome {
    let token = param(params, "refresh_token");
    if token.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: refresh_token",
        );
    }
    let config = &state.config;
    let mut grants = lock(&state.google_oauth);
    let found = grants.refresh_state(token, &config.google_refresh_token, &configured_scopes());
    let (scope, grantor) = match found {
        RefreshState::Unknown => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request");
        }
        RefreshState::Revoked => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Token has been expired or revoked.",
            );
        }
        // A refresh token only works for the client it was issued to.
        RefreshState::Live {
            client_id: Some(owner),
            ..
        } if owner != param(params, "client_id") => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized_client",
                "Unauthorized",
            );
        }
        RefreshState::Live { scope, grantor, .. } => (scope, grantor),
    };
    let expires_at = req.now_ms + config.access_token_ttl_s * 1_000;
    let token = grants.mint_access(grantor, &scope, expires_at);
    drop(grants);
    let body = json!({
        "access_token": token,
        "expires_in": config.access_token_ttl_s,
        "scope": scope,
        "token_type": "Bearer",
    });
    Outcome::new(ENDPOINT, StatusCode::OK, Some(body), Verdict::Accepted)
}

/// Handles `POST /revoke?token=…` (the token may also come in the form body): `200 {}`, or
/// `400 {"error":"invalid_token","error_description":"Token expired or revoked"}` for a token
/// that is unknown or already revoked.
pub fn handle_revoke(state: &AppState, req: &PlatformRequest) -> Outcome {
    let form = req.form();
    let token = req
        .query_param("token")
        .or_else(|| form.get("token").and_then(Value::as_str))
        .unwrap_or_default();
    let revoked = !token.is_empty()
        && lock(&state.google_oauth).revoke(token, &state.config.google_refresh_token);
    if revoked {
        return Outcome::new("revoke", StatusCode::OK, Some(json!({})), Verdict::Accepted);
    }
    let mut o = oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_token",
        "Token expired or revoked",
    );
    o.endpoint = "revoke".into();
    o
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
