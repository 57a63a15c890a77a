//! `Authorization: Bearer` checking for the Google endpoints: the token must have been minted by
//! the sandbox's `/token` and not be expired on the sandbox clock (access tokens live 3,600 s,
//! reference/google.md §1.1). Google Ads also wants the `developer-token` header while the sandbox
//! is configured with one (reference/google.md §1.1; see `SandboxConfig::google_developer_token`).

use axum::http::{StatusCode, header};
use serde_json::Value;

use super::PlatformRequest;
use super::google_error::{AdsError, ads_rpc_error, rpc_error};
use crate::state::{AppState, lock};

/// Why a Google request is not authenticated: status, body, message, code for the log.
#[derive(Debug)]
pub struct AuthFailure {
    /// HTTP status (401).
    pub status: StatusCode,
    /// Error body.
    pub body: Value,
    /// Message.
    pub message: String,
    /// Code for the log.
    pub code: String,
}

const MISSING: &str = "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
const INVALID: &str = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

/// Checks the bearer token. `ads_version` is `Some` for Google Ads, whose 401s carry a
/// `GoogleAdsFailure` with an `authenticationError`.
///
/// # Errors
/// The 401 to answer.
pub fn check_bearer(
    state: &AppState,
    req: &PlatformRequest,
    ads_version: Option<&str>,
) -> Result<(), AuthFailure> {
    let Some(auth) = req.header(header::AUTHORIZATION.as_str()) else {
        let body = rpc_error(StatusCode::UNAUTHORIZED, MISSING, Vec::new());
        return Err(AuthFailure {
            status: StatusCode::UNAUTHORIZED,
            body,
            message: MISSING.into(),
            code: "UNAUTHENTICATED".into(),
        });
    };
    let token = auth
        .strip_prefix("Bearer ")
        .map(str::trim)
        .unwrap_or_default();
    let expiry = lock(&state.google).tokens.get(token).copied();
    let code = match expiry {
        Some(expires_at) if expires_at > req.now_ms => return Ok(()),
        Some(_) => "OAUTH_TOKEN_EXPIRED",
        None if token.is_empty() => "OAUTH_TOKEN_HEADER_INVALID",
        None => "OAUTH_TOKEN_INVALID",
    };
    let body = match ads_version {
        Some(version) => {
            let error = AdsError::new(
                "authenticationError",
                code,
                "Authentication of the request failed.",
                Vec::new(),
            );
            let mut body = ads_rpc_error(StatusCode::UNAUTHORIZED, version, &[error]);
            body["error"]["message"] = Value::String(INVALID.into());
            body
        }
        None => rpc_error(StatusCode::UNAUTHORIZED, INVALID, Vec::new()),
    };
    Err(AuthFailure {
        status: StatusCode::UNAUTHORIZED,
        body,
        message: INVALID.into(),
        code: code.into(),
    })
}

/// Checks `developer-token` against the configured one (if any).
///
/// # Errors
/// The 401 to answer (`authenticationError: DEVELOPER_TOKEN_INVALID`).
pub fn check_developer_token(
    state: &AppState,
    req: &PlatformRequest,
    version: &str,
) -> Result<(), AuthFailure> {
    let Some(expected) = state.config.google_developer_token.as_deref() else {
        return Ok(());
    };
    if req.header("developer-token") == Some(expected) {
        return Ok(());
    }
    let message = "The developer token is not valid.";
    let error = AdsError::new(
        "authenticationError",
        "DEVELOPER_TOKEN_INVALID",
        message,
        Vec::new(),
    );
    let mut body = ads_rpc_error(StatusCode::UNAUTHORIZED, version, &[error]);
    body["error"]["message"] = Value::String(message.into());
    Err(AuthFailure {
        status: StatusCode::UNAUTHORIZED,
        body,
        message: message.into(),
        code: "authenticationError.DEVELOPER_TOKEN_INVALID".into(),
    })
}
