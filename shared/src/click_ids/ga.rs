//! Reading (never writing) GA4's cookies: the client ID in `_ga` and the session ID in
//! `_ga_<measurement id suffix>`, which a GA4 Measurement Protocol hit needs to join the browser's
//! session (`reference/google.md` §4, §6, §9).
//!
//! - `_ga` = `GA1.<domainDepth>.<random>.<firstSeenSeconds>`; the client ID is the last two fields,
//!   e.g. `GA1.2.468604437.1611708469` → `468604437.1611708469`.
//! - `_ga_<id>` = `GS1.1.<sessionId>.<sessionNumber>.…` (old) or
//!   `GS2.1.s<sessionId>$o<n>$g<engaged>$t<lastHit>…` (since ~2025-05; fields keyed by their first
//!   letter, order not guaranteed).
//!
//! Whether `_ga` may be read at all is a consent question (`analytics_storage`), decided elsewhere.

use core::fmt;
use core::str::FromStr;

/// Why a string is not a GA client or session ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GaCookieError {
    /// A client ID must be `<digits>.<digits>`.
    #[error("a GA client_id must be <random digits>.<timestamp digits>")]
    ClientId,
    /// A session ID must be digits.
    #[error("a GA session_id must be 1 to 20 digits")]
    SessionId,
}

fn is_digits(s: &str, max_len: usize) -> bool {
    !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
}

/// A GA4 client ID, `<random>.<timestamp>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct GaClientId(String);

impl GaClientId {
    /// The client ID in a `_ga` cookie value, or `None` when the value is not one.
    pub fn from_ga_cookie(value: &str) -> Option<Self> {
        let mut segments = value.split('.');
        let (version, depth, random, time) = (
            segments.next()?,
            segments.next()?,
            segments.next()?,
            segments.next()?,
        );
        // `GA1`; depth is digits, or `<n>-<m>` when the cookie path is not `/`.
        let depth_ok = !depth.is_empty() && depth.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        if segments.next().is_some()
            || version.strip_prefix("GA").is_none_or(|v| !is_digits(v, 3))
            || !depth_ok
        {
            return None;
        }
        format!("{random}.{time}").parse().ok()
    }

    /// The client ID as sent in the Measurement Protocol's `client_id`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for GaClientId {
    type Err = GaCookieError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('.') {
            Some((random, time)) if is_digits(random, 20) && is_digits(time, 20) => {
                Ok(Self(s.to_owned()))
            }
            _ => Err(GaCookieError::ClientId),
        }
    }
}

impl fmt::Display for GaClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for GaClientId {
    type Error = GaCookieError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<GaClientId> for String {
    fn from(id: GaClientId) -> String {
        id.0
    }
}

/// A GA4 session ID (the session's start time in Unix seconds, as GA4 writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct GaSessionId(u64);

impl GaSessionId {
    /// The session ID in a `_ga_<id>` cookie value, old `GS1` or new `GS2` format, or `None` when
    /// the value is neither.
    pub fn from_session_cookie(value: &str) -> Option<Self> {
        let mut segments = value.splitn(3, '.');
        let (version, _depth, rest) = (segments.next()?, segments.next()?, segments.next()?);
        let session = match version {
            "GS1" => rest.split('.').next()?,
            v if v.strip_prefix("GS").is_some_and(|n| is_digits(n, 3)) => {
                rest.split('$').find_map(|field| field.strip_prefix('s'))?
            }
            _ => return None,
        };
        session.parse().ok()
    }

    /// The ID as a number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl FromStr for GaSessionId {
    type Err = GaCookieError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_digits(s, 20) {
            return Err(GaCookieError::SessionId);
        }
        s.parse().map(Self).map_err(|_| GaCookieError::SessionId)
    }
}

impl fmt::Display for GaSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The name of the session cookie for a GA4 measurement ID: `G-ABC123` → `_ga_ABC123`.
pub fn ga_session_cookie_name(measurement_id: &str) -> String {
    let suffix = measurement_id.strip_prefix("G-").unwrap_or(measurement_id);
    format!("_ga_{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ga_cookie_gives_the_last_two_fields_as_client_id() {
        let id = GaClientId::from_ga_cookie("GA1.1.1664500529.1767032662").unwrap();
        assert_eq!(id.as_str(), "1664500529.1767032662");
        assert_eq!(
            GaClientId::from_ga_cookie("GA1.2.963086772.1764315072").map(String::from),
            Some("963086772.1764315072".into())
        );
        assert!(GaClientId::from_ga_cookie("GA1.2-2.963086772.1764315072").is_some());
    }

    #[test]
    fn garbage_ga_cookies_give_no_client_id() {
        for bad in [
            "",
            "GA1.1.1",
            "GA1.1.a.1",
            "GA1.1.1.2.3",
            "XX1.1.1.2",
            "GA1..1.2",
            "GAx.1.1.2",
            "GA1.1.1.",
        ] {
            assert_eq!(GaClientId::from_ga_cookie(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn old_gs1_session_cookie_gives_the_session_id() {
        let id = GaSessionId::from_session_cookie("GS1.1.1717533519.1.0.1717533523.56.0.0");
        assert_eq!(id.map(GaSessionId::get), Some(1_717_533_519));
    }

    #[test]
    fn new_gs2_session_cookie_gives_the_session_id_wherever_the_field_is() {
        let id = GaSessionId::from_session_cookie("GS2.1.s1764315072$o1$g1$t1764315996$j48$l0$h0");
        assert_eq!(id.map(GaSessionId::get), Some(1_764_315_072));
        let reordered = GaSessionId::from_session_cookie("GS2.2.o3$g0$s1790347813$t1790347813");
        assert_eq!(reordered.map(GaSessionId::get), Some(1_790_347_813));
    }

    #[test]
    fn garbage_session_cookies_give_no_session_id() {
        for bad in [
            "",
            "GS1.1",
            "GS1.1.x.1",
            "GS2.1.o1$g0",
            "GS2.1.sabc$o1",
            "XX.1.1",
            "GS1.1.",
            "GS2.1.s$o1",
        ] {
            assert_eq!(GaSessionId::from_session_cookie(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn session_cookie_name_drops_the_g_prefix() {
        assert_eq!(ga_session_cookie_name("G-9BZF483VNQ"), "_ga_9BZF483VNQ");
        assert_eq!(ga_session_cookie_name("9BZF483VNQ"), "_ga_9BZF483VNQ");
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = GaClientId::from_ga_cookie(&s);
            let _ = GaSessionId::from_session_cookie(&s);
            let _ = s.parse::<GaClientId>();
        }

        #[test]
        fn client_id_round_trips(random in 0u64..u64::MAX, time in 0u64..u64::MAX) {
            let id = GaClientId::from_ga_cookie(&format!("GA1.1.{random}.{time}")).unwrap();
            prop_assert_eq!(id.to_string(), format!("{random}.{time}"));
            prop_assert_eq!(id.to_string().parse::<GaClientId>().unwrap(), id);
        }

        #[test]
        fn session_id_is_read_from_both_formats(sid in 0u64..u64::MAX) {
            prop_assert_eq!(GaSessionId::from_session_cookie(&format!("GS1.1.{sid}.1.0")).map(GaSessionId::get), Some(sid));
            prop_assert_eq!(GaSessionId::from_session_cookie(&format!("GS2.1.s{sid}$o1")).map(GaSessionId::get), Some(sid));
        }
    }
}
