//! What Google's fake authorization server has handed out: authorization codes (one-time, 10
//! minutes), refresh tokens, and the access tokens minted from them or from the configured
//! `google_refresh_token` — and which of them are revoked.
//!
//! Formats look like Google's (`4/0…` codes, `1//0…` refresh tokens, `ya29.…` access tokens) but
//! carry nothing: every check is a lookup here. Revoking a refresh token revokes the access
//! tokens minted from it, as Google's revocation endpoint does ("If the token is an access token
//! and it has a corresponding refresh token, the refresh token will also be revoked",
//! developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke; oauth.md §3).

use std::collections::HashMap;

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::checks::opaque_id;

/// Authorization codes expire 10 minutes after they are issued (sandbox clock).
pub const CODE_TTL_MS: i64 = 10 * 60_000;

/// RFC 7636 `code_challenge_method`; Google accepts `S256` and `plain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    /// `BASE64URL(SHA256(verifier)) == challenge`.
    S256,
    /// `verifier == challenge` (the default when no method is given, RFC 7636 §4.3).
    Plain,
}

/// A PKCE challenge a code was issued with.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// `code_challenge`.
    pub value: String,
    /// `code_challenge_method`.
    pub method: ChallengeMethod,
}

impl Challenge {
    /// Whether `verifier` answers the challenge (RFC 7636 §4.6).
    pub fn verifies(&self, verifier: &str) -> bool {
        match self.method {
            ChallengeMethod::Plain => verifier == self.value,
            ChallengeMethod::S256 => {
                let digest = Sha256::digest(verifier.as_bytes());
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == self.value
            }
        }
    }
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct AuthCode {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request (the exchange must repeat it).
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// PKCE challenge, if the request had one.
    pub challenge: Option<Challenge>,
    /// Whether the exchange returns a refresh token (`access_type=offline`, and a first consent
    /// or `prompt=consent`).
    pub refresh: bool,
    /// Sandbox-clock issue time (Unix ms).
    pub issued_at_ms: i64,
    /// Whether it was exchanged already.
    pub redeemed: bool,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    /// Client it belongs to.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Revoked (by `/revoke` or `/_sandbox/oauth/revoke`).
    pub revoked: bool,
}

/// Where an access token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantor {
    /// The configured `google_refresh_token` (its user is not held to the account hierarchy).
    Configured,
    /// A refresh token the consent flow issued (a "connected" user).
    Issued(String),
}

/// A minted access token.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    /// Expiry (sandbox-clock Unix ms).
    pub expires_at_ms: i64,
    /// The refresh token it was minted from.
    pub grantor: Grantor,
    /// Scopes, space-separated.
    pub scope: String,
    /// Revoked.
    pub revoked: bool,
}

impl AccessGrant {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// What `GET /_sandbox/oauth` shows for Google (no token values).
#[derive(Debug, Default, Clone, Serialize)]
pub struct GoogleGrantCounts {
    /// Authorization codes issued (Allow on the consent page).
    pub codes_issued: usize,
    /// Codes exchanged at `/token`.
    pub codes_redeemed: usize,
    /// Refresh tokens issued by code exchanges.
    pub refresh_tokens_issued: usize,
    /// Access tokens minted (any grant).
    pub access_tokens_issued: usize,
    /// Tokens revoked (refresh and access).
    pub tokens_revoked: usize,
    /// Whether the configured `google_refresh_token` is revoked.
    pub configured_refresh_token_revoked: bool,
}

/// A refresh token as `/token` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshState {
    /// Never issued.
    Unknown,
    /// Issued (or configured) and revoked.
    Revoked,
    /// Usable by `client_id` for `scope`.
    Live {
        /// Its client (`None`: the configured token, any configured client).
        client_id: Option<String>,
        /// Scopes.
        scope: String,
        /// Who the minted access token belongs to.
        grantor: Grantor,
    },
}

/// Google's issued credentials.
#[derive(Debug, Default)]
pub struct GoogleGrants {
    codes: HashMap<String, AuthCode>,
    refresh: HashMap<String, RefreshGrant>,
    access: HashMap<String, AccessGrant>,
    counts: GoogleGrantCounts,
}

impl GoogleGrants {
    /// Stores `code` and returns its value.
    pub fn issue_code(&mut self, code: AuthCode) -> String {
        let value = format!("4/0Sbx{}", opaque_id("google-code", 40));
        self.codes.insert(value.clone(), code);
        self.counts.codes_issued += 1;
        value
    }

    /// The code `value`, to check and mark redeemed.
    pub fn code_mut(&mut self, value: &str) -> Option<&mut AuthCode> {
        self.codes.get_mut(value)
    }

    /// Notes a successful code exchange.
    pub fn note_redeemed(&mut self) {
        self.counts.codes_redeemed += 1;
    }

    /// Issues a refresh token for `client_id` with `scope`.
    pub fn issue_refresh(&mut self, client_id: &str, scope: &str) -> String {
        let value = format!("1//0sbx{}", opaque_id("google-refresh", 40));
        let grant = RefreshGrant {
            client_id: client_id.into(),
            scope: scope.into(),
            revoked: false,
        };
        self.refresh.insert(value.clone(), grant);
        self.counts.refresh_tokens_issued += 1;
        value
    }

    /// Whether `client_id` holds a refresh token that still works (then Google returns no new
    /// one unless the user is asked to consent again).
    pub fn has_live_refresh(&self, client_id: &str) -> bool {
        self.refresh
            .values()
            .any(|g| g.client_id == client_id && !g.revoked)
    }

    /// What `token` is, with `configured` the sandbox's `google_refresh_token` and `scopes` its
    /// scopes.
    pub fn refresh_state(&self, token: &str, configured: &str, scopes: &str) -> RefreshState {
        if token == configured {
            if self.counts.configured_refresh_token_revoked {
                return RefreshState::Revoked;
            }
            return RefreshState::Live {
                client_id: None,
                scope: scopes.into(),
                grantor: Grantor::Configured,
            };
        }
        match self.refresh.get(token) {
            None => RefreshState::Unknown,
            Some(g) if g.revoked => RefreshState::Revoked,
            Some(g) => RefreshState::Live {
                client_id: Some(g.client_id.clone()),
                scope: g.scope.clone(),
                grantor: Grantor::Issued(token.into()),
            },
        }
    }

    /// Mints an access token.
    pub fn mint_access(&mut self, grantor: Grantor, scope: &str, expires_at_ms: i64) -> String {
        let value = format!("ya29.sandbox-{}", opaque_id("access-token", 40));
        let grant = AccessGrant {
            expires_at_ms,
            grantor,
            scope: scope.into(),
            revoked: false,
        };
        self.access.insert(value.clone(), grant);
        self.counts.access_tokens_issued += 1;
        value
    }

    /// The access token `value`.
    pub fn access(&self, value: &str) -> Option<&AccessGrant> {
        self.access.get(value)
    }

    /// `POST /revoke?token=…`: revokes a refresh or access token and everything tied to it.
    /// Returns `false` for a token that is unknown or already revoked.
    pub fn revoke(&mut self, token: &str, configured: &str) -> bool {
        if token == configured {
            if self.counts.configured_refresh_token_revoked {
                return false;
            }
            self.counts.configured_refresh_token_revoked = true;
            self.counts.tokens_revoked += 1;
            self.revoke_access_where(|g| g.grantor == Grantor::Configured);
            return true;
        }
        if let Some(grant) = self.refresh.get_mut(token).filter(|g| !g.revoked) {
            grant.revoked = true;
            self.counts.tokens_revoked += 1;
            let refresh = Grantor::Issued(token.into());
            self.revoke_access_where(|g| g.grantor == refresh);
            return true;
        }
        let Some(access) = self.access.get(token).filter(|g| !g.revoked).cloned() else {
            return false;
        };
        match access.grantor {
            Grantor::Configured => self.revoke(configured, configured),
            Grantor::Issued(refresh) if self.refresh.contains_key(&refresh) => {
                self.revoke(&refresh, configured)
            }
            // Online access: no refresh token behind it.
            Grantor::Issued(_) => {
                let grantor = access.grantor.clone();
                self.revoke_access_where(|g| g.grantor == grantor) > 0
            }
        }
    }

    fn revoke_access_where(&mut self, pick: impl Fn(&AccessGrant) -> bool) -> usize {
        let mut n = 0;
        for grant in self.access.values_mut().filter(|g| !g.revoked && pick(g)) {
            grant.revoked = true;
            n += 1;
        }
        self.counts.tokens_revoked += n;
        n
    }

    /// `POST /_sandbox/revoke-tokens`: every access token stops working; refresh tokens still
    /// mint new ones. Returns how many were revoked.
    pub fn revoke_access_tokens(&mut self) -> usize {
        self.revoke_access_where(|_| true)
    }

    /// `POST /_sandbox/oauth/revoke {"platform":"google"}`: the merchant removed the app's
    /// access, so every refresh token (the configured one too) and access token is revoked.
    pub fn revoke_all(&mut self) -> usize {
        let access = self.revoke_access_tokens();
        let mut refresh = 0;
        for grant in self.refresh.values_mut().filter(|g| !g.revoked) {
            grant.revoked = true;
            refresh += 1;
        }
        if !self.counts.configured_refresh_token_revoked {
            self.counts.configured_refresh_token_revoked = true;
            refresh += 1;
        }
        self.counts.tokens_revoked += refresh;
        access + refresh
    }

    /// The counters for `GET /_sandbox/oauth`.
    pub fn counts(&self) -> GoogleGrantCounts {
        self.counts.clone()
    }

    /// `POST /_sandbox/reset`: the configured refresh token works again; issued codes and tokens
    /// keep their state (a running worker keeps its credentials).
    pub fn reset(&mut self) {
        self.counts.configured_refresh_token_revoked = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_challenges_follow_rfc_7636s_example() {
        // RFC 7636 Appendix B.
        let challenge = Challenge {
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: ChallengeMethod::S256,
        };
        assert!(challenge.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!challenge.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"));
    }

    #[test]
    fn revoking_a_refresh_token_revokes_the_access_tokens_minted_from_it() {
        let mut g = GoogleGrants::default();
        let refresh = g.issue_refresh("c", "s");
        let minted = g.mint_access(Grantor::Issued(refresh.clone()), "s", i64::MAX);
        let other = g.mint_access(Grantor::Configured, "s", i64::MAX);
        assert!(g.revoke(&minted, "conf"));
        assert_eq!(
            g.refresh_state(&refresh, "conf", "s"),
            RefreshState::Revoked
        );
        assert!(g.access(&minted).is_some_and(|a| a.revoked));
        assert!(g.access(&other).is_some_and(|a| !a.revoked));
        assert!(
            !g.revoke(&refresh, "conf"),
            "a second revocation finds nothing"
        );
    }
}
