//! What Meta's fake login has handed out — authorization codes (one-time, 10 minutes), short- and
//! long-lived user tokens — which of them are revoked, and what a token is: the configured
//! `meta_access_token` and `meta_system_user_token` (system-user tokens never expire) or an
//! issued user token. `meta_tokens` turns a lookup into the Graph error a caller gets.

use std::collections::HashMap;

use serde::Serialize;

use crate::checks::opaque_id;

/// Codes expire 10 minutes after the dialog issued them.
pub const CODE_TTL_MS: i64 = 10 * 60_000;
/// Short-lived user tokens last about an hour ("short-lived, expiring in hours").
pub const SHORT_LIVED_S: i64 = 3_600;
/// Long-lived user tokens last about 60 days.
pub const LONG_LIVED_S: i64 = 60 * 86_400;

/// Why a token stopped working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Revocation {
    /// The user removed the app (subcode 458).
    #[default]
    AppRemoved,
    /// The user changed their password (subcode 460).
    PasswordChanged,
}

/// A token's kind, as `debug_token` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A Facebook Login user token.
    User,
    /// A Business Manager system-user token.
    SystemUser,
}

/// An issued code.
#[derive(Debug, Clone)]
pub struct MetaCode {
    /// The dialog's `redirect_uri` (the exchange must repeat it).
    pub redirect_uri: String,
    /// Granted permissions.
    pub scopes: Vec<String>,
    /// Sandbox-clock issue time (Unix ms).
    pub issued_at_ms: i64,
    /// Exchanged already.
    pub redeemed: bool,
}

/// What the fakes know about a valid token.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// User or system user.
    pub kind: TokenKind,
    /// Permissions.
    pub scopes: Vec<String>,
    /// Sandbox-clock issue time (`None` for the configured tokens).
    pub issued_at_ms: Option<i64>,
    /// Expiry (`None`: never).
    pub expires_at_ms: Option<i64>,
    /// Held to the configured ad accounts' datasets (everything but `meta_access_token`).
    pub restricted: bool,
}

#[derive(Debug, Clone)]
struct IssuedToken {
    info: TokenInfo,
    revoked: Option<Revocation>,
}

/// A token as looked up.
#[derive(Debug, Clone)]
pub enum TokenCheck {
    /// Usable.
    Valid(TokenInfo),
    /// Past its expiry.
    Expired(TokenInfo),
    /// Revoked.
    Revoked(TokenInfo, Revocation),
    /// Never issued.
    Unknown,
}

/// What `GET /_sandbox/oauth` shows for Meta (no token values).
#[derive(Debug, Default, Clone, Serialize)]
pub struct MetaGrantCounts {
    /// Codes issued by the dialog's Continue.
    pub codes_issued: usize,
    /// Codes exchanged.
    pub codes_redeemed: usize,
    /// Short-lived user tokens issued.
    pub user_tokens_issued: usize,
    /// Long-lived user tokens issued by `fb_exchange_token`.
    pub long_lived_tokens_issued: usize,
    /// Tokens revoked.
    pub tokens_revoked: usize,
    /// Whether the configured `meta_access_token` and system-user token are revoked.
    pub configured_tokens_revoked: bool,
}

/// Meta's issued credentials.
#[derive(Debug, Default)]
pub struct MetaGrants {
    codes: HashMap<String, MetaCode>,
    tokens: HashMap<String, IssuedToken>,
    configured_revoked: Option<Revocation>,
    counts: MetaGrantCounts,
}

impl MetaGrants {
    /// Stores a code and returns it (Meta's codes start with `AQ`).
    pub fn issue_code(&mut self, code: MetaCode) -> String {
        let value = format!("AQSbx{}", opaque_id("meta-code", 48));
        self.codes.insert(value.clone(), code);
        self.counts.codes_issued += 1;
        value
    }

    /// The code `value`.
    pub fn code_mut(&mut self, value: &str) -> Option<&mut MetaCode> {
        self.codes.get_mut(value)
    }

    /// Issues a user token living `ttl_s` (Meta's user tokens start with `EAA`).
    pub fn issue_user_token(&mut self, scopes: Vec<String>, now_ms: i64, ttl_s: i64) -> String {
        let long_lived = ttl_s > SHORT_LIVED_S;
        let value = format!("EAASbx{}", opaque_id("meta-token", 48));
        let info = TokenInfo {
            kind: TokenKind::User,
            scopes,
            issued_at_ms: Some(now_ms),
            expires_at_ms: Some(now_ms + ttl_s * 1_000),
            restricted: true,
        };
        self.tokens.insert(
            value.clone(),
            IssuedToken {
                info,
                revoked: None,
            },
        );
        if long_lived {
            self.counts.long_lived_tokens_issued += 1;
        } else {
            self.counts.user_tokens_issued += 1;
        }
        value
    }

    /// Notes a successful code exchange.
    pub fn note_redeemed(&mut self) {
        self.counts.codes_redeemed += 1;
    }

    /// Looks `token` up (`configured`: the sandbox's `(meta_access_token, system-user token,
    /// their scopes)`).
    pub fn lookup(
        &self,
        token: &str,
        configured: (&str, &str, &[String]),
        now_ms: i64,
    ) -> TokenCheck {
        let (capi, system, scopes) = configured;
        if token == capi || token == system {
            let info = TokenInfo {
                kind: TokenKind::SystemUser,
                scopes: scopes.to_vec(),
                issued_at_ms: None,
                expires_at_ms: None,
                restricted: token != capi,
            };
            return match self.configured_revoked {
                Some(why) => TokenCheck::Revoked(info, why),
                None => TokenCheck::Valid(info),
            };
        }
        match self.tokens.get(token) {
            None => TokenCheck::Unknown,
            Some(t) => match t.revoked {
                Some(why) => TokenCheck::Revoked(t.info.clone(), why),
                None if t.info.expires_at_ms.is_some_and(|e| e <= now_ms) => {
                    TokenCheck::Expired(t.info.clone())
                }
                None => TokenCheck::Valid(t.info.clone()),
            },
        }
    }

    /// `POST /_sandbox/oauth/revoke {"platform":"meta"}`: every token, the configured ones too.
    pub fn revoke_all(&mut self, why: Revocation) -> usize {
        let mut n = 0;
        for t in self.tokens.values_mut().filter(|t| t.revoked.is_none()) {
            t.revoked = Some(why);
            n += 1;
        }
        if self.configured_revoked.is_none() {
            self.configured_revoked = Some(why);
            n += 2;
        }
        self.counts.tokens_revoked += n;
        n
    }

    /// The counters for `GET /_sandbox/oauth`.
    pub fn counts(&self) -> MetaGrantCounts {
        MetaGrantCounts {
            configured_tokens_revoked: self.configured_revoked.is_some(),
            ..self.counts.clone()
        }
    }

    /// `POST /_sandbox/reset`: the configured tokens work again.
    pub fn reset(&mut self) {
        self.configured_revoked = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoking_meta_revokes_issued_and_configured_tokens() {
        let mut g = MetaGrants::default();
        let t = g.issue_user_token(vec![], 0, SHORT_LIVED_S);
        let conf = ("capi", "system", &[][..]);
        assert!(matches!(g.lookup(&t, conf, 1), TokenCheck::Valid(_)));
        assert!(matches!(
            g.lookup(&t, conf, SHORT_LIVED_S * 1_000),
            TokenCheck::Expired(_)
        ));
        g.revoke_all(Revocation::AppRemoved);
        assert!(matches!(
            g.lookup("system", conf, 1),
            TokenCheck::Revoked(_, Revocation::AppRemoved)
        ));
        assert!(matches!(g.lookup(&t, conf, 1), TokenCheck::Revoked(..)));
        g.reset();
        assert!(matches!(g.lookup("capi", conf, 1), TokenCheck::Valid(_)));
    }
}
