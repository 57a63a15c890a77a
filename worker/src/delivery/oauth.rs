//! Google access tokens: exchanged from the merchant's refresh token (`ar_shared::platform::oauth`
//! builds the request and reads the answer) and cached in KV until shortly before expiry
//! (google.md §1.1: "Cache the token … until `expires_in - 60s`"), so a flush does not mint a
//! token per request.

use ar_shared::connect::credential::fingerprint;
use ar_shared::platform::oauth::{self, AccessToken, OAuthClient, OAuthError};
use ar_shared::platform::verdict::{self, Verdict};
use ar_shared::settings::Settings;
use serde::Deserialize;
use serde_json::json;
use worker::{Env, console_error};

use super::send::fetch;
use crate::bindings;

/// KV key prefix of the cached token; the refresh token's fingerprint follows, so a token
/// minted from an old grant is never used after reconnecting.
const KV_KEY: &str = "google_oauth_access_token";
/// KV refuses expirations under 60 s.
const KV_MIN_TTL_SECS: u64 = 60;

/// The KV entry.
#[derive(Deserialize)]
struct Cached {
    token: String,
    expires_at_ms: u64,
}

/// A usable access token, or the verdict for every row that needed one. `fresh`: the cached
/// token was refused (google.md §1.9), so mint a new one whatever the cache holds.
pub(crate) async fn access_token(
    env: &Env,
    settings: &Settings,
    now_ms: u64,
    fresh: bool,
) -> Result<String, Verdict> {
    let Some(google) = &settings.google_oauth else {
        return Err(Verdict::ConfigError {
            reason: "GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN are not set"
                .into(),
        });
    };
    let kv = env.kv(bindings::KV).ok();
    let kv_key = format!("{KV_KEY}:{}", fingerprint(&google.refresh_token));
    if let Some(kv) = kv.as_ref().filter(|_| !fresh)
        && let Ok(Some(cached)) = kv.get(&kv_key).json::<Cached>().await
    {
        let token = AccessToken {
            token: cached.token,
            expires_at_ms: cached.expires_at_ms,
        };
        if !token.token.is_empty() && token.is_fresh(now_ms) {
            return Ok(token.token);
        }
    }
    let client = OAuthClient {
        token_url: google.token_url.clone(),
        client_id: google.client_id.clone(),
        client_secret: google.client_secret.clone(),
        refresh_token: google.refresh_token.clone(),
    };
    let (status, body) = fetch(&oauth::refresh_request(&client))
        .await
        .map_err(|_| verdict::transport_failure())?;
    let token = oauth::parse_token_response(status, &body, now_ms).map_err(|e| match &e {
        // google.md §1.1: `invalid_grant` is a refresh token expired or revoked: the merchant
        // reconnects (delivery pauses meanwhile); anything else refused is the OAuth client's
        // setup (`invalid_client`: wrong id or secret).
        OAuthError::Refused { error } if error == "invalid_grant" => Verdict::Reconnect {
            reason: e.to_string(),
        },
        OAuthError::Refused { .. } => Verdict::ConfigError {
            reason: e.to_string(),
        },
        OAuthError::Unavailable { .. } | OAuthError::Malformed(_) => Verdict::Retry {
            after_secs: verdict::RETRY_SECS,
            reason: e.to_string(),
        },
    })?;
    if let Some(kv) = kv {
        let ttl = (token.refresh_at_ms().saturating_sub(now_ms) / 1000).max(KV_MIN_TTL_SECS);
        let value = json!({"token": token.token, "expires_at_ms": token.expires_at_ms});
        let stored = match kv.put(&kv_key, value.to_string()) {
            Ok(put) => put.expiration_ttl(ttl).execute().await.is_ok(),
            Err(_) => false,
        };
        if !stored {
            // Not fatal: the next flush mints another token.
            console_error!("ar: could not cache the Google access token in KV");
        }
    }
    Ok(token.token)
}
