//! `Authorization: Bearer` checking for the Google endpoints: the token must have been minted by
//! the sandbox's `/token`, not be revoked, and not be expired on the sandbox clock (access tokens
//! live 3,600 s, reference/google.md §1.1). A token must also carry the API's scope (`adwords`
//! for Google Ads, `datamanager` for Data Manager): the consent page lets a user untick one, and
//! Google then answers `403 "Request had insufficient authentication scopes."` with the reason
//! `ACCESS_TOKEN_SCOPE_INSUFFICIENT` (oauth.md §4.4). Google Ads also wants the `developer-token`
//! header while the sandbox is configured with one (reference/google.md §1.1; see
//! `SandboxConfig::google_developer_token`).

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use super::PlatformRequest;
use super::google_error::{AdsError, ads_rpc_error, rpc_error};
use super::google_grants::Grantor;
use crate::state::{AppState, lock};

/// The Google Ads API scope (reference/google.md §1.1).
pub const ADWORDS_SCOPE: &str = "https://www.googleapis.com/auth/adwords";
/// The Data Manager API scope.
pub const DATAMANAGER_SCOPE: &str = "https://www.googleapis.com/auth/datamanager";

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
/// `GoogleAdsFailure` with an `authenticationError`; it needs the `adwords` scope, the others
/// `datamanager`. Returns whose token it is.
///
/// # Errors
/// The 401 (or 403 for a missing scope) to answer.
pub fn check_bearer(
    state: &AppState,
    req: &PlatformRequest,
    ads_version: Option<&str>,
) -> Result<Grantor, AuthFailure> {
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
    let grant = lock(&state.google_oauth).access(token).cloned();
    let code = match grant {
        // A revoked token is as unknown to Google's token check as a made-up one.
        Some(g) if g.revoked => "OAUTH_TOKEN_INVALID",
        Some(g) if g.expires_at_ms > req.now_ms => {
            let scope = if ads_version.is_some() {
                ADWORDS_SCOPE
            } else {
                DATAMANAGER_SCOPE
            };
            return if g.has_scope(scope) {
                Ok(g.grantor)
            } else {
                Err(insufficient_scope(scope))
            };
        }
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

/// The 403 for a token without `scope`.
fn insufficient_scope(scope: &str) -> AuthFailure {
    let message = "Request had insufficient authentication scopes.";
    let info = json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "domain": "googleapis.com",
        "metadata": { "service": if scope == ADWORDS_SCOPE {
            "googleads.googleapis.com"
        } else {
            "datamanager.googleapis.com"
        } },
    });
    AuthFailure {
        status: StatusCode::FORBIDDEN,
        body: rpc_error(StatusCode::FORBIDDEN, message, vec![info]),
        message: message.into(),
        code: "ACCESS_TOKEN_SCOPE_INSUFFICIENT".into(),
    }
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
