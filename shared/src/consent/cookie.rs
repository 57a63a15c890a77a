//! Our first-party consent cookie, `_ar_consent`: its value format, parsing and formatting.
//!
//! The pixel's consent API (or a CMP adapter) writes it; the edge reads it as the second source in
//! the resolution order (DESIGN §4). Format, version 1:
//!
//! ```text
//! 1.gdg-
//! │ ││││
//! │ │││└ ad_personalization
//! │ ││└─ ad_user_data
//! │ │└── analytics_storage
//! │ └─── ad_storage
//! └───── format version (decimal), then '.'
//! ```
//!
//! Each signal is one character: `g` granted, `d` denied, `-` not stated (a source that states only
//! some signals; the region default fills the rest). Every character is an RFC 6265 `cookie-octet`,
//! so the value needs no quoting or encoding. A future format bumps the version; this reader
//! returns nothing for versions it does not know rather than guessing, so an old worker never
//! misreads a newer pixel's cookie.
//!
//! Parsing is tolerant (whitespace, surrounding double quotes, letter case) and never panics.
//! This file does not decide cookie attributes (domain, lifetime: see `cookies.rs`) nor read CMP
//! cookies (`tcf.rs`, `cmp.rs`).

use core::fmt;
use core::str::FromStr;

use super::signals::{PartialConsent, Signal};

/// Name of our first-party consent cookie.
pub const CONSENT_COOKIE_NAME: &str = "_ar_consent";

/// The format version this code writes and the only one it reads.
pub const CONSENT_COOKIE_VERSION: u32 = 1;

/// The value of the `_ar_consent` cookie: what the shopper (or their CMP) stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ConsentCookie {
    /// The signals the cookie states.
    pub consent: PartialConsent,
}

/// Why an `_ar_consent` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentCookieError {
    /// The value is empty.
    #[error("consent cookie is empty")]
    Empty,
    /// No `<version>.` prefix.
    #[error("consent cookie must start with a version number and '.', e.g. \"1.gdgg\"")]
    MissingVersion,
    /// A version this code does not know (written by a newer pixel); ignore the cookie.
    #[error("consent cookie version {0} is not supported (this build reads version 1)")]
    UnknownVersion(String),
    /// Version 1 needs exactly four signal characters.
    #[error("consent cookie version 1 needs 4 signal characters, got {0}")]
    WrongLength(usize),
    /// A signal character other than `g`, `d` or `-`.
    #[error("consent cookie signal {0:?} must be 'g' (granted), 'd' (denied) or '-' (not stated)")]
    BadSignal(char),
}

const fn signal_char(s: Option<Signal>) -> char {
    match s {
        Some(Signal::Granted) => 'g',
        Some(Signal::Denied) => 'd',
        None => '-',
    }
}

fn char_signal(c: char) -> Result<Option<Signal>, ConsentCookieError> {
    match c.to_ascii_lowercase() {
        'g' => Ok(Some(Signal::Granted)),
        'd' => Ok(Some(Signal::Denied)),
        '-' => Ok(None),
        _ => Err(ConsentCookieError::BadSignal(c)),
    }
}

impl ConsentCookie {
    /// The cookie value, `1.gdgg` (built without `core::fmt`, `crate::text`).
    #[must_use]
    pub fn value(&self) -> String {
        let c = &self.consent;
        let mut out = crate::text::decimal(u64::from(CONSENT_COOKIE_VERSION));
        out.push('.');
        for s in [
            c.ad_storage,
            c.analytics_storage,
            c.ad_user_data,
            c.ad_personalization,
        ] {
            out.push(signal_char(s));
        }
        out
    }
}

impl fmt::Display for ConsentCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value())
    }
}

impl FromStr for ConsentCookie {
    type Err = ConsentCookieError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let v = value.trim();
        // RFC 6265 allows a cookie value wrapped in double quotes.
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(v)
            .trim();
        if v.is_empty() {
            return Err(ConsentCookieError::Empty);
        }
        let (version, flags) = v
            .split_once('.')
            .ok_or(ConsentCookieError::MissingVersion)?;
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConsentCookieError::MissingVersion);
        }
        if version.trim_start_matches('0') != "1" {
            return Err(ConsentCookieError::UnknownVersion(version.to_owned()));
        }
        let mut chars = [None; 4];
        let mut n = 0;
        for c in flags.chars() {
            if let Some(slot) = chars.get_mut(n) {
                *slot = char_signal(c)?;
            }
            n += 1;
        }
        if n != 4 {
            return Err(ConsentCookieError::WrongLength(n));
        }
        let [
            ad_storage,
            analytics_storage,
            ad_user_data,
            ad_personalization,
        ] = chars;
        Ok(Self {
            consent: PartialConsent {
                ad_storage,
                analytics_storage,
                ad_user_data,
                ad_personalization,
            },
        })
    }
}

/// Reads an `_ar_consent` value; `None` for anything unreadable (garbage, an unknown future
/// version), which the caller treats as "the cookie states nothing".
pub fn parse_consent_cookie(value: &str) -> Option<PartialConsent> {
    value.parse::<ConsentCookie>().ok().map(|c| c.consent)
}

/// The `_ar_consent` value for `consent`, in the current format version.
pub fn format_consent_cookie(consent: PartialConsent) -> String {
    ConsentCookie { consent }.value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::ConsentState;
    use Signal::{Denied, Granted};

    #[test]
    fn formats_signals_in_fixed_order_after_the_version() {
        let c = PartialConsent {
            ad_storage: Some(Granted),
            analytics_storage: Some(Denied),
            ad_user_data: Some(Granted),
            ad_personalization: None,
        };
        assert_eq!(format_consent_cookie(c), "1.gdg-");
        assert_eq!(
            format_consent_cookie(ConsentState::ALL_DENIED.into()),
            "1.dddd"
        );
    }

    #[test]
    fn parses_what_it_formats() {
        let p = parse_consent_cookie("1.gdg-").unwrap();
        assert_eq!(p.ad_storage, Some(Granted));
        assert_eq!(p.analytics_storage, Some(Denied));
        assert_eq!(p.ad_user_data, Some(Granted));
        assert_eq!(p.ad_personalization, None);
    }

    #[test]
    fn tolerates_quotes_whitespace_and_case() {
        assert_eq!(
            parse_consent_cookie(" \"1.GGGG\" "),
            Some(ConsentState::ALL_GRANTED.into())
        );
    }

    #[test]
    fn unknown_future_version_is_ignored() {
        assert_eq!(parse_consent_cookie("2.gggg"), None);
        assert_eq!(
            "2.ggggg".parse::<ConsentCookie>(),
            Err(ConsentCookieError::UnknownVersion("2".into()))
        );
    }

    #[test]
    fn garbage_is_ignored() {
        for v in [
            "",
            "gggg",
            "1.",
            "1.ggg",
            "1.ggggg",
            "1.gxgg",
            ".gggg",
            "a.gggg",
            "1.gg\u{e9}g",
        ] {
            assert_eq!(parse_consent_cookie(v), None, "{v:?}");
        }
    }

    #[test]
    fn errors_name_the_bad_character() {
        assert_eq!(
            "1.gxgg".parse::<ConsentCookie>(),
            Err(ConsentCookieError::BadSignal('x'))
        );
        assert_eq!(
            "1.gg".parse::<ConsentCookie>(),
            Err(ConsentCookieError::WrongLength(2))
        );
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn signal() -> impl Strategy<Value = Option<Signal>> {
        prop_oneof![
            Just(None),
            Just(Some(Signal::Granted)),
            Just(Some(Signal::Denied))
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = parse_consent_cookie(&s);
        }

        #[test]
        fn format_then_parse_round_trips(a in signal(), b in signal(), c in signal(), d in signal()) {
            let p = PartialConsent { ad_storage: a, analytics_storage: b, ad_user_data: c, ad_personalization: d };
            let v = format_consent_cookie(p);
            prop_assert!(v.bytes().all(|x| x.is_ascii_graphic() && x != b';' && x != b',' && x != b'"'));
            prop_assert_eq!(parse_consent_cookie(&v), Some(p));
        }
    }
}
