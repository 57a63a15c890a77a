//! `POST /token` with `grant_type=authorization_code`: exchanging a code from the consent page
//! (developers.google.com/identity/protocols/oauth2/web-server, step 5) for
//! `{access_token, expires_in, refresh_token, scope, token_type:"Bearer"}`.
//!
//! Rules, each with Google's answer (oauth.md §2.1, §2.2):
//! - `code` and `redirect_uri` are required (`invalid_request` "Missing required parameter: …").
//! - A code the server never issued: `invalid_grant` "Malformed auth code.".
//! - A code already exchanged, or older than 10 minutes, or issued to another client:
//!   `invalid_grant` "Bad Request".
//! - `redirect_uri` must be the one of the authorization request: `redirect_uri_mismatch`
//!   "Bad Request".
//! - PKCE (RFC 7636 §4.6): a code issued with a `code_challenge` needs the `code_verifier`
//!   (`invalid_grant` "Missing code verifier.") and it must match (`invalid_grant` "Invalid code
//!   verifier."); a verifier for a code issued without a challenge is refused too
//!   (`invalid_grant` "`code_verifier` or verifier is not needed.").
//! - The refresh token comes only with `access_type=offline`, and only on a first consent or
//!   with `prompt=consent` (web-server guide, "Refresh an access token (offline access)").

use axum::http::StatusCode;
use serde_json::json;

use super::google_grants::{CODE_TTL_MS, Grantor};
use super::oauth::{Params, oauth_error, param};
use super::{Outcome, PlatformRequest};
use crate::record::Verdict;
use crate::state::{AppState, lock};

/// What a valid code grants.
struct Granted {
    scope: String,
    refresh: bool,
}

fn bad_request(error: &str, description: &str) -> Outcome {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

/// Exchanges the code (the client is already authenticated).
pub fn exchange(state: &AppState, req: &PlatformRequest, params: &Params) -> Outcome {
    for required in ["code", "redirect_uri"] {
        if param(params, required).is_empty() {
            return bad_request(
                "invalid_request",
                &format!("Missing required parameter: {required}"),
            );
        }
    }
    let granted = match redeem(state, req, params) {
        Ok(g) => g,
        Err(refused) => return *refused,
    };
    let config = &state.config;
    let client_id = param(params, "client_id");
    let mut grants = lock(&state.google_oauth);
    let refresh = granted
        .refresh
        .then(|| grants.issue_refresh(client_id, &granted.scope));
    // Without a refresh token (online access) the access token still belongs to the connected
    // user: tie it to a grant name nobody can refresh.
    let grantor = Grantor::Issued(
        refresh
            .clone()
            .unwrap_or_else(|| format!("online:{}", param(params, "code"))),
    );
    let expires_at = req.now_ms + config.access_token_ttl_s * 1_000;
    let access = grants.mint_access(grantor, &granted.scope, expires_at);
    grants.note_redeemed();
    drop(grants);
    let mut body = json!({
        "access_token": access,
        "expires_in": config.access_token_ttl_s,
        "scope": granted.scope,
        "token_type": "Bearer",
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    Outcome::new("token", StatusCode::OK, Some(body), Verdict::Accepted)
}

/// Checks the code against its issue and marks it used.
fn redeem(
    state: &AppState,
    req: &PlatformRequest,
    params: &Params,
) -> Result<Granted, Box<Outcome>> {
    let refuse = |error: &str, description: &str| Err(Box::new(bad_request(error, description)));
    let mut grants = lock(&state.google_oauth);
    let Some(code) = grants.code_mut(param(params, "code")) else {
        return refuse("invalid_grant", "Malformed auth code.");
    };
    if code.redeemed
        || req.now_ms - code.issued_at_ms > CODE_TTL_MS
        || code.client_id != param(params, "client_id")
    {
        return refuse("invalid_grant", "Bad Request");
    }
    if code.redirect_uri != param(params, "redirect_uri") {
        return refuse("redirect_uri_mismatch", "Bad Request");
    }
    let verifier = param(params, "code_verifier");
    match (&code.challenge, verifier) {
        (Some(_), "") => return refuse("invalid_grant", "Missing code verifier."),
        (Some(c), v) if !verifier_well_formed(v) || !c.verifies(v) => {
            return refuse("invalid_grant", "Invalid code verifier.");
        }
        (None, v) if !v.is_empty() => {
            return refuse("invalid_grant", "code_verifier or verifier is not needed.");
        }
        _ => {}
    }
    // RFC 6749 §4.1.2: a code is used once; a wrong verifier above does not spend it.
    code.redeemed = true;
    Ok(Granted {
        scope: code.scope.clone(),
        refresh: code.refresh,
    })
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
fn verifier_well_formed(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_must_be_43_to_128_unreserved_characters() {
        assert!(verifier_well_formed(&"a".repeat(43)));
        assert!(verifier_well_formed(&"A-._~9".repeat(20)));
        assert!(!verifier_well_formed(&"a".repeat(42)));
        assert!(!verifier_well_formed(&"a".repeat(129)));
        assert!(!verifier_well_formed(&format!("{}+", "a".repeat(43))));
    }
}
