//! One sign-in in progress, from "Connect …" to the account picked.
//!
//! - **Started**: the worker made a random `state` (and, for Google, a PKCE verifier), stored the
//!   flow under the state's hash with a tag of the console session, and sent the browser to the
//!   platform. The `state` is what ties the callback to this browser (RFC 6749 §10.12: "bind the
//!   value of the state parameter to the user-agent's authenticated state").
//! - **Granted**: the callback came back with the same `state`, from the same console session,
//!   within [`FLOW_TTL_MS`]; the code was exchanged once (a started flow becomes granted in one
//!   conditional write, so a replayed callback finds nothing to exchange) and the grant is kept,
//!   sealed, until the merchant picks the account.
//! - Picking the account stores the connection and deletes the flow.

use sha2::{Digest, Sha256};

use super::{ConnectError, Provider};
use crate::signature::hex;

/// How long a sign-in may take, from Connect to the account picked (Google's authorization codes
/// live about as long; RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is
/// RECOMMENDED").
pub const FLOW_TTL_MS: u64 = 10 * 60 * 1000;

/// Where a flow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Sent to the platform; waiting for the callback.
    Started,
    /// Code exchanged; waiting for the merchant to pick the account.
    Granted,
}

impl Stage {
    /// The D1 value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Granted => "granted",
        }
    }

    /// Parses [`Stage::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Started, Self::Granted]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A stored flow, as far as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Whose.
    pub provider: Provider,
    /// [`session_tag`] of the console session that started it.
    pub session_tag: String,
    /// Where it is.
    pub stage: Stage,
    /// When it started (Unix ms).
    pub started_at_ms: u64,
}

/// A new `state` from 32 random bytes (base64url, 43 characters: RFC 6749 §10.10 asks for a
/// value "infeasible for an attacker to guess").
pub fn new_state(random: &[u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
}

/// The key a flow is stored under: the `state` itself never reaches D1.
pub fn state_hash(state: &str) -> String {
    hex(&Sha256::digest(
        format!("ar-connect-state|{state}").as_bytes(),
    ))
}

/// A tag of the console session cookie, so a callback is accepted only in the session that
/// started the sign-in.
pub fn session_tag(session_cookie: &str) -> String {
    hex(&Sha256::digest(
        format!("ar-connect-session|{session_cookie}").as_bytes(),
    ))
}

/// Checks that `flow` (looked up by the callback's state) may continue at `stage` for this
/// session at `now_ms`.
///
/// # Errors
/// [`ConnectError::UnknownState`] for a missing, expired or already-used flow (or another
/// provider's), [`ConnectError::OtherSession`] for another session's.
pub fn check(
    flow: Option<&Flow>,
    provider: Provider,
    stage: Stage,
    session_tag: &str,
    now_ms: u64,
) -> Result<(), ConnectError> {
    let unknown = ConnectError::UnknownState(provider.label());
    let Some(flow) = flow else {
        return Err(unknown);
    };
    if flow.provider != provider
        || flow.stage != stage
        || now_ms.saturating_sub(flow.started_at_ms) > FLOW_TTL_MS
    {
        return Err(unknown);
    }
    if flow.session_tag != session_tag {
        return Err(ConnectError::OtherSession(provider.label()));
    }
    Ok(())
}

/// What came back to the callback route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// `?code=…&state=…`.
    Code {
        /// The authorization code.
        code: String,
        /// The state.
        state: String,
    },
    /// `?error=…&state=…` (RFC 6749 §4.1.2.1; Meta adds `error_reason`, `error_description`).
    Denied {
        /// The error code (`access_denied`, …).
        error: String,
        /// The state, when echoed.
        state: String,
    },
    /// Neither.
    Malformed,
}

/// Longest code or state accepted (real ones are a few hundred characters).
const MAX_PARAM: usize = 2048;

impl Callback {
    /// Reads the callback's query pairs.
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let (mut code, mut state, mut error) = (None, None, None);
        for (k, v) in pairs {
            let slot = match k {
                "code" => &mut code,
                "state" => &mut state,
                "error" => &mut error,
                _ => continue,
            };
            if slot.is_none() && !v.is_empty() && v.len() <= MAX_PARAM {
                *slot = Some(v.to_owned());
            }
        }
        match (code, state, error) {
            (_, state, Some(error)) => Self::Denied {
                error: super::short(&error, 64),
                state: state.unwrap_or_default(),
            },
            (Some(code), Some(state), None) => Self::Code { code, state },
            _ => Self::Malformed,
        }
    }
}

#[cfg(test)]
mod tests;
