//! Connecting ad accounts from the console (README "Connect accounts"): the merchant signs in to
//! Google or Meta, picks the account, and the worker keeps the credential encrypted in D1.
//!
//! - [`pkce`]: the PKCE verifier and its S256 challenge (RFC 7636);
//! - [`flow`]: one sign-in in progress: its `state`, bound to the console session, one use, ten
//!   minutes; reading the callback's query;
//! - [`google`]: the authorization URL, the code exchange, listing the Ads accounts the grant
//!   reaches (through managers too);
//! - [`meta`]: Facebook Login, the long-lived token exchange, the datasets a token reaches, the
//!   token's type and expiry;
//! - [`credential`]: what is sealed with AES-GCM, under which key and associated data;
//! - [`status`]: what the console and `/_ar/health` say about a connection (never the credential).
//!
//! Pure like the rest of the crate: random bytes and the time are arguments; the worker does the
//! fetches and the encryption (Web Crypto) and hands the answers back.

pub mod credential;
pub mod flow;
pub mod google;
pub mod meta;
pub mod pkce;
pub mod status;

/// A platform whose account is connected through the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Google (Data Manager and, for provisioning, the Google Ads API).
    Google,
    /// Meta (Conversions API).
    Meta,
}

impl Provider {
    /// Both.
    pub const ALL: [Self; 2] = [Self::Google, Self::Meta];

    /// The name in URLs and D1.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Meta => "meta",
        }
    }

    /// The name shown to the merchant.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::Meta => "Meta",
        }
    }

    /// Parses [`Provider::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The callback path registered with the platform (the shop's own host in front).
    pub const fn callback_path(self) -> &'static str {
        match self {
            Self::Google => "/_ar/admin/connect/google/callback",
            Self::Meta => "/_ar/admin/connect/meta/callback",
        }
    }
}

/// Why connecting failed: a sentence for the console, never quoting a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The platform's settings are missing (client id, app secret, encryption key).
    #[error("{0}")]
    NotConfigured(String),
    /// The callback's `state` matches no sign-in in progress: unknown, expired or already used.
    #[error("this sign-in is unknown, expired or was already used: start again with Connect {0}")]
    UnknownState(&'static str),
    /// The callback belongs to a sign-in started from another console session.
    #[error("this sign-in was started from another console session: start again with Connect {0}")]
    OtherSession(&'static str),
    /// The merchant declined, or the platform answered the callback with an error.
    #[error("{provider} did not grant access ({error}): nothing was saved")]
    Denied {
        /// Who.
        provider: &'static str,
        /// The platform's error code.
        error: String,
    },
    /// The callback has neither a code nor an error.
    #[error("the callback from {0} has no code: start again")]
    MalformedCallback(&'static str),
    /// The platform refused the code, the token or a call (its error code and message).
    #[error("{provider} refused {what}: {reason}")]
    Refused {
        /// Who.
        provider: &'static str,
        /// What was refused.
        what: &'static str,
        /// The platform's error (code and message, never the request).
        reason: String,
    },
    /// The platform could not be reached or answered nonsense.
    #[error("{provider} could not be reached or answered unexpectedly ({what}): try again")]
    Unavailable {
        /// Who.
        provider: &'static str,
        /// Which call.
        what: &'static str,
    },
    /// The sign-in's PKCE verifier is gone or altered: the code cannot be redeemed.
    #[error(
        "this sign-in's PKCE verifier is missing or was altered, so its code cannot be redeemed: start again with Connect {0}"
    )]
    MissingVerifier(&'static str),
    /// A stored credential could not be opened (tampered with, or the key changed).
    #[error(
        "the stored {0} credential cannot be decrypted (CREDENTIALS_KEY changed, or the row was altered): connect again"
    )]
    Undecryptable(&'static str),
    /// The merchant picked something the grant does not reach.
    #[error("{0}")]
    NotReachable(String),
}

/// The first `max` characters of a platform message, on one line.
pub(crate) fn short(message: &str, max: usize) -> String {
    message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}
