//! What Meta's fake login has handed out — authorization codes (one-time, 10 minutes), short- and
//! long-lived user tokens — and how every Graph fake checks an access token: the configured
//! `meta_access_token` and `meta_system_user_token` (system-user tokens never expire) or an
//! issued user token, not expired and not revoked.
//!
//! A bad token answers code 190 (Graph error-handling guide, "Access token has expired"):
//! - unknown: "Invalid OAuth access token - Cannot parse access token";
//! - expired: subcode 463, "Error validating access token: Session has expired on Monday,
//!   24-Oct-16 21:00:00 PDT. The current time is …" (Pacific time, as Meta writes it);
//! - revoked because the app was removed: subcode 458, "Error validating access token: The user
//!   has not authorized application <app id>.";
//! - revoked by a password change: subcode 460, "Error validating access token: The session has
//!   been invalidated because the user changed their password or Facebook has changed the
//!   session for security reasons.".
//!
//! Sources in docs/platforms/oauth.md.

use std::collections::HashMap;

use serde::Serialize;
use time::{Date, Month, OffsetDateTime, UtcOffset};

use super::meta::GraphError;
use crate::checks::opaque_id;
use crate::state::{AppState, lock};

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

/// Looks up `token` in the state.
pub fn lookup(state: &AppState, token: &str, now_ms: i64) -> TokenCheck {
    let c = &state.config;
    let configured = (
        c.meta_access_token.as_str(),
        c.meta_system_user_token.as_str(),
        c.meta_login_config_scopes.as_slice(),
    );
    lock(&state.meta_oauth).lookup(token, configured, now_ms)
}

/// The Graph error for a token that is not valid (`None` for a valid one).
pub fn token_error(check: &TokenCheck, app_id: &str, now_ms: i64) -> Option<GraphError> {
    let mut e = match check {
        TokenCheck::Valid(_) => return None,
        TokenCheck::Unknown => {
            return Some(GraphError::new(
                190,
                "Invalid OAuth access token - Cannot parse access token",
            ));
        }
        TokenCheck::Expired(info) => {
            let expired = info.expires_at_ms.unwrap_or(now_ms);
            let message = format!(
                "Error validating access token: Session has expired on {}. The current time is {}.",
                pacific(expired),
                pacific(now_ms)
            );
            let mut e = GraphError::new(190, &message);
            e.subcode = Some(463);
            e
        }
        TokenCheck::Revoked(_, Revocation::AppRemoved) => {
            let message = format!(
                "Error validating access token: The user has not authorized application {app_id}."
            );
            let mut e = GraphError::new(190, &message);
            e.subcode = Some(458);
            e
        }
        TokenCheck::Revoked(_, Revocation::PasswordChanged) => {
            let mut e = GraphError::new(
                190,
                "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
            );
            e.subcode = Some(460);
            e
        }
    };
    e.kind = "OAuthException";
    Some(e)
}

/// A valid token for the request, or the Graph error to answer (`None` token: code 104).
///
/// # Errors
/// Code 104 without a token, 190 for a bad one.
pub fn check_token(
    state: &AppState,
    token: Option<&str>,
    now_ms: i64,
) -> Result<TokenInfo, GraphError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(GraphError::new(
            104,
            "An access token is required to request this resource.",
        ));
    };
    match lookup(state, token, now_ms) {
        TokenCheck::Valid(info) => Ok(info),
        other => Err(
            token_error(&other, &state.config.meta_app_id, now_ms).unwrap_or_else(|| {
                GraphError::new(
                    190,
                    "Invalid OAuth access token - Cannot parse access token",
                )
            }),
        ),
    }
}

/// Whether a token may use dataset `id`: the configured CAPI token any, the others only the
/// configured ad accounts' datasets.
pub fn may_use_dataset(state: &AppState, info: &TokenInfo, id: &str) -> bool {
    !info.restricted
        || state
            .config
            .meta_ad_accounts
            .iter()
            .any(|a| a.datasets.iter().any(|d| d.id == id))
}

/// Graph's answer for an object the token cannot see (code 100, subcode 33).
pub fn no_such_object(id: &str, verb: &str) -> GraphError {
    let mut e = GraphError::new(
        100,
        &format!(
            "Unsupported {verb} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ),
    );
    e.kind = "GraphMethodException";
    e.subcode = Some(33);
    e
}

/// `Monday, 24-Oct-16 21:00:00 PDT`: Meta's expiry time, in US Pacific time.
fn pacific(ms: i64) -> String {
    let utc = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1_000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (hours, zone) = if daylight_saving(utc) {
        (-7, "PDT")
    } else {
        (-8, "PST")
    };
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC);
    let t = utc.to_offset(offset);
    let month = t.month().to_string();
    format!(
        "{}, {:02}-{}-{:02} {:02}:{:02}:{:02} {zone}",
        t.weekday(),
        t.day(),
        &month[..3],
        t.year().rem_euclid(100),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// US daylight saving time: from the second Sunday of March, 2:00 PST (10:00 UTC), to the first
/// Sunday of November, 2:00 PDT (09:00 UTC).
fn daylight_saving(utc: OffsetDateTime) -> bool {
    let sunday = |month: Month, nth: u8| {
        Date::from_calendar_date(utc.year(), month, 1).map(|first| {
            let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
            first.day() + to_sunday + 7 * (nth - 1)
        })
    };
    let (Ok(start), Ok(end)) = (sunday(Month::March, 2), sunday(Month::November, 1)) else {
        return false;
    };
    let at = |month: Month, day: u8, hour: u8| {
        Date::from_calendar_date(utc.year(), month, day)
            .and_then(|d| d.with_hms(hour, 0, 0))
            .map(time::PrimitiveDateTime::assume_utc)
    };
    match (at(Month::March, start, 10), at(Month::November, end, 9)) {
        (Ok(start), Ok(end)) => utc >= start && utc < end,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_times_are_written_in_pacific_time_like_meta_does() {
        // Meta's own example: "Session has expired on Monday, 24-Oct-16 21:00:00 PDT".
        assert_eq!(pacific(1_477_368_000_000), "Monday, 24-Oct-16 21:00:00 PDT");
        assert_eq!(
            pacific(1_767_225_600_000),
            "Wednesday, 31-Dec-25 16:00:00 PST"
        );
    }

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
