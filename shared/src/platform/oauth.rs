//! Google OAuth: exchanging the merchant's refresh token for an access token (google.md §1.1),
//! as a request description, and reading the answer into a token with its expiry.
//!
//! The worker caches the [`AccessToken`] until [`AccessToken::refresh_at_ms`] (shortly before
//! expiry) and sends it as `Authorization: Bearer …` to the Ads API and the Data Manager API.
//! No secret appears in `Debug` output.

use core::fmt;

use serde_json::Value;

use super::request::{Body, HttpRequest};

/// Google's token endpoint (google.md §1.1).
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// Refresh this long before expiry ("Cache the token … until `expires_in - 60s`", google.md §1.1).
pub const REFRESH_EARLY_MS: u64 = 60_000;

/// An OAuth client and the merchant's refresh token.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// Token endpoint; [`GOOGLE_TOKEN_URL`] in production.
    pub token_url: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// The long-lived refresh token.
    pub refresh_token: String,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The refresh-token exchange: a form `POST` with `grant_type=refresh_token` (google.md §1.1).
pub fn refresh_request(client: &OAuthClient) -> HttpRequest {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("client_id", &client.client_id)
        .append_pair("client_secret", &client.client_secret)
        .append_pair("refresh_token", &client.refresh_token)
        .finish();
    HttpRequest::post(client.token_url.clone(), Vec::new(), Body::Form(form))
}

/// An access token and when to stop using it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The bearer token.
    pub token: String,
    /// When Google says it expires (Unix ms).
    pub expires_at_ms: u64,
}

impl AccessToken {
    /// When to fetch a new one: [`REFRESH_EARLY_MS`] before expiry.
    pub fn refresh_at_ms(&self) -> u64 {
        self.expires_at_ms.saturating_sub(REFRESH_EARLY_MS)
    }

    /// Whether the cached token can still be used at `now_ms`.
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        now_ms < self.refresh_at_ms()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// Why no token came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// Google refused the grant (`invalid_grant`: refresh token revoked or expired;
    /// `invalid_client`: wrong client id/secret). The merchant must reconnect.
    #[error("Google refused the token refresh ({error}): reconnect the Google account")]
    Refused {
        /// OAuth error code.
        error: String,
    },
    /// A transient failure (5xx, 429): try again later.
    #[error("Google's token endpoint is unavailable (HTTP {status}): retry later")]
    Unavailable {
        /// HTTP status.
        status: u16,
    },
    /// A 2xx answer without `access_token`/`expires_in`.
    #[error("Google's token answer is malformed: {0}")]
    Malformed(&'static str),
}

/// Reads the token endpoint's answer (`{access_token, expires_in, token_type, scope}`; tokens
/// live 3,600 s, google.md §1.1) received at `now_ms`.
pub fn parse_token_response(
    status: u16,
    body: &str,
    now_ms: u64,
) -> Result<AccessToken, OAuthError> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        if status == 429 || status >= 500 {
            return Err(OAuthError::Unavailable { status });
        }
        let error = json["error"].as_str().unwrap_or("unknown_error").to_owned();
        return Err(OAuthError::Refused { error });
    }
    let token = json["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or(OAuthError::Malformed("no access_token"))?;
    let expires_in = json["expires_in"]
        .as_u64()
        .ok_or(OAuthError::Malformed("no expires_in"))?;
    Ok(AccessToken {
        token: token.to_owned(),
        expires_at_ms: now_ms.saturating_add(expires_in.saturating_mul(1000)),
    })
}

#[cfg(test)]
mod tests {
    // Snapshot tests are host-only (insta); their imports go unused on wasm32.
    #![cfg_attr(target_arch = "wasm32", allow(unused_imports, dead_code))]

    use super::*;

    fn client() -> OAuthClient {
        OAuthClient {
            token_url: GOOGLE_TOKEN_URL.into(),
            client_id: "cid.apps.googleusercontent.com".into(),
            client_secret: "S3CRET".into(),
            refresh_token: "1//refresh+/=".into(),
        }
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn refresh_request_is_a_form_post_to_the_token_endpoint() {
        insta::assert_json_snapshot!("oauth_refresh_request", refresh_request(&client()));
        assert!(!format!("{:?}", client()).contains("S3CRET"));
    }

    #[test]
    fn tokens_are_cached_until_a_minute_before_expiry() {
        let body =
            r#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer","scope":"s"}"#;
        let t = parse_token_response(200, body, 1_000);
        let Ok(t) = t else { panic!("{t:?}") };
        assert_eq!(t.token, "ya29.x");
        assert_eq!(t.expires_at_ms, 3_600_000);
        assert_eq!(t.refresh_at_ms(), 3_540_000);
        assert!(t.is_fresh(3_539_999) && !t.is_fresh(3_540_000));
        assert!(!format!("{t:?}").contains("ya29"));
    }

    #[test]
    fn refused_grants_ask_for_reconnection_and_outages_for_retry() {
        let refused = parse_token_response(400, r#"{"error":"invalid_grant"}"#, 0);
        assert_eq!(
            refused,
            Err(OAuthError::Refused {
                error: "invalid_grant".into()
            })
        );
        assert_eq!(
            parse_token_response(503, "", 0),
            Err(OAuthError::Unavailable { status: 503 })
        );
        assert_eq!(
            parse_token_response(200, "{}", 0),
            Err(OAuthError::Malformed("no access_token"))
        );
    }
}
