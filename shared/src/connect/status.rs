//! What the console and `/_ar/health` say about each platform's credential, and when delivery to
//! a platform waits for the merchant instead of failing.
//!
//! A refused credential (Meta code 190, Google `invalid_grant` on refresh) is recorded as a
//! [`Refusal`] with the refused credential's [`fingerprint`](super::credential::fingerprint).
//! While the credential in use has that fingerprint the platform is **paused**: its rows stay
//! pending without attempts (each platform's age limit still applies when they go out) and the
//! console shows "reconnect". Any new credential (connected again, or a new secret put by hand)
//! has another fingerprint, so delivery resumes by itself.

use super::Provider;

/// Warn this long before a user token expires (Facebook Login user tokens last about 60 days).
pub const EXPIRY_WARNING_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// Where a platform's credential comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `wrangler secret put` (wins over a connection).
    Secret,
    /// Connected from the console.
    Console,
}

/// A connection as stored (the credential itself stays sealed elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Connection {
    /// Whose.
    #[serde(skip)]
    pub provider: Option<Provider>,
    /// The operating account (Google Ads customer id) or dataset id.
    pub account_id: String,
    /// Its name.
    pub account_name: String,
    /// Google: the manager the account is reached through.
    pub login_id: Option<String>,
    /// Who granted it (Meta user or system user name; Google: the account name).
    pub connected_as: String,
    /// `USER`, `SYSTEM_USER` (Meta), `OAUTH` (Google).
    pub kind: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When (Unix ms).
    pub connected_at_ms: u64,
    /// When the credential expires (Meta user tokens), Unix ms.
    pub expires_at_ms: Option<u64>,
}

/// A credential the platform refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    /// Whose.
    pub provider: Provider,
    /// Fingerprint of the refused credential.
    #[serde(skip)]
    pub fingerprint: String,
    /// The platform's reason.
    pub reason: String,
    /// When first refused (Unix ms).
    pub since_ms: u64,
}

/// What a platform's credential looks like now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum State {
    /// Nothing configured or connected.
    NotConnected,
    /// Usable.
    Connected,
    /// Usable, but a user token expires within [`EXPIRY_WARNING_MS`].
    ExpiresSoon {
        /// Unix ms.
        expires_at_ms: u64,
    },
    /// Refused by the platform: delivery is paused until the merchant reconnects.
    Reconnect {
        /// The platform's reason.
        reason: String,
        /// Unix ms.
        since_ms: u64,
    },
}

impl State {
    /// Whether delivery to the platform waits.
    pub fn paused(&self) -> bool {
        matches!(self, Self::Reconnect { .. })
    }

    /// pass / warn / fail, as the health page colours it.
    pub fn level(&self) -> &'static str {
        match self {
            Self::Connected => "pass",
            Self::ExpiresSoon { .. } | Self::NotConnected => "warn",
            Self::Reconnect { .. } => "fail",
        }
    }

    /// One line: what it means and what to do.
    pub fn advice(&self, provider: Provider) -> String {
        let p = provider.label();
        match self {
            Self::NotConnected => {
                format!("Not connected: Connect {p} on the console (or set its secrets).")
            }
            Self::Connected => "Connected.".into(),
            Self::ExpiresSoon { .. } => format!(
                "The token expires soon: connect {p} again, or use a system-user token, which does not expire."
            ),
            Self::Reconnect { .. } => format!(
                "{p} refused the credential: events wait (within {p}'s time limit) until you reconnect {p}; they go out once, then."
            ),
        }
    }
}

/// The state of `provider`'s credential with fingerprint `current` (`None`: none configured).
pub fn state(
    provider: Provider,
    current: Option<&str>,
    connection: Option<&Connection>,
    source: Option<Source>,
    refusals: &[Refusal],
    now_ms: u64,
) -> State {
    let Some(current) = current else {
        return State::NotConnected;
    };
    if let Some(r) = refusals
        .iter()
        .find(|r| r.provider == provider && r.fingerprint == current)
    {
        return State::Reconnect {
            reason: r.reason.clone(),
            since_ms: r.since_ms,
        };
    }
    let expires = connection
        .filter(|_| source == Some(Source::Console))
        .and_then(|c| c.expires_at_ms);
    match expires {
        Some(at) if at <= now_ms => State::Reconnect {
            reason: "the token expired".into(),
            since_ms: at,
        },
        Some(at) if at - now_ms <= EXPIRY_WARNING_MS => State::ExpiresSoon { expires_at_ms: at },
        _ => State::Connected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(fp: &str) -> Refusal {
        Refusal {
            provider: Provider::Meta,
            fingerprint: fp.into(),
            reason: "meta 190/460: session invalidated".into(),
            since_ms: 5,
        }
    }

    fn user_token(expires_at_ms: u64) -> Connection {
        Connection {
            provider: Some(Provider::Meta),
            account_id: "111222333".into(),
            account_name: "Shop pixel".into(),
            login_id: None,
            connected_as: "Sandbox User".into(),
            kind: "USER".into(),
            scopes: vec![],
            connected_at_ms: 0,
            expires_at_ms: Some(expires_at_ms),
        }
    }

    #[test]
    fn a_refused_credential_pauses_until_the_credential_changes() {
        let refusals = [refusal("aaaa")];
        let s = state(
            Provider::Meta,
            Some("aaaa"),
            None,
            Some(Source::Secret),
            &refusals,
            10,
        );
        assert!(s.paused());
        assert_eq!(s.level(), "fail");
        // Reconnected (or a new secret): another fingerprint.
        let s = state(
            Provider::Meta,
            Some("bbbb"),
            None,
            Some(Source::Secret),
            &refusals,
            10,
        );
        assert_eq!(s, State::Connected);
        // Google's refusals do not pause Meta.
        let s = state(
            Provider::Google,
            Some("aaaa"),
            None,
            Some(Source::Secret),
            &refusals,
            10,
        );
        assert_eq!(s, State::Connected);
    }

    /// Facebook Login user tokens last about 60 days: warn a week ahead, pause once expired.
    #[test]
    fn a_user_token_is_warned_about_a_week_ahead_and_paused_once_expired() {
        let day = 86_400_000;
        let c = user_token(100 * day);
        let at = |now| {
            state(
                Provider::Meta,
                Some("f"),
                Some(&c),
                Some(Source::Console),
                &[],
                now,
            )
        };
        assert_eq!(at(90 * day), State::Connected);
        assert_eq!(
            at(94 * day),
            State::ExpiresSoon {
                expires_at_ms: 100 * day
            }
        );
        assert!(at(100 * day).paused());
        assert_eq!(
            state(Provider::Meta, None, None, None, &[], 0),
            State::NotConnected
        );
    }
}
