//! Meta's `_fbc` and `_fbp` values: `fb.<subdomainIndex>.<creationTimeMs>.<payload>[.<appendix>]`,
//! where the payload is the fbclid (`_fbc`) or a random number (`_fbp`).
//!
//! Parsed values keep the original string and display it unchanged: Meta says "Do not override or
//! adjust the _fbc or _fbp cookie" (`reference/meta-capi.md` §3.2), so a leading zero, a legacy
//! seconds timestamp or a Parameter Builder appendix all survive a read-and-refresh.
//!
//! What this file does not do: decide when to mint or replace a value (see
//! [`crate::cookies::plan_click_cookies`]).

use core::fmt;
use core::ops::Range;
use core::str::FromStr;

use super::id::{ClickIdError, Fbclid};

/// Which domain level a cookie is set on: the number of dots in the cookie domain
/// (`com` = 0, `example.com` = 1, `www.example.com` = 2, `example.co.uk` = 2; IP hosts = 0).
/// `reference/meta-capi.md` §3.1 (Meta's definition) and §3.3 (Parameter Builder: labels − 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubdomainIndex(u8);

impl SubdomainIndex {
    /// Index Meta prescribes for a value generated on a server without a cookie
    /// (`reference/meta-capi.md` §3.1: "use the value 1").
    pub const SERVER_WITHOUT_COOKIE: Self = Self(1);

    /// The index of the cookie domain `domain` (a leading `.` is ignored).
    pub fn of_domain(domain: &str) -> Self {
        let domain = domain.strip_prefix('.').unwrap_or(domain);
        let dots = domain.bytes().filter(|&b| b == b'.').count();
        Self(u8::try_from(dots).unwrap_or(u8::MAX))
    }

    /// An index from its number.
    pub const fn new(index: u8) -> Self {
        Self(index)
    }

    /// The index as a number.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for SubdomainIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::decimal(u64::from(self.0)))
    }
}

/// The optional 5th segment Meta's Parameter Builder appends: 8 base64url characters (format,
/// language, new/modified/unchanged, SDK version) or a legacy 2-character language token
/// (`reference/meta-capi.md` §3.2, §3.3). Kept verbatim; we never add one ourselves, because it
/// would claim to come from Meta's SDK.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Appendix<'a>(&'a str);

impl Appendix<'_> {
    /// The appendix exactly as it appears in the cookie.
    pub const fn as_str(&self) -> &str {
        self.0
    }
}

/// The 2-character appendices the Parameter Builder accepts (PHP, Python, Java, Node.js, Ruby,
/// client JS; `reference/meta-capi.md` §3.3).
const LEGACY_APPENDICES: [&str; 6] = ["AQ", "Ag", "Aw", "BA", "BQ", "Bg"];

fn is_valid_appendix(s: &str) -> bool {
    match s.len() {
        2 => LEGACY_APPENDICES.contains(&s),
        8 => s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')),
        _ => false,
    }
}

/// Why a string is not a valid `_fbc` / `_fbp` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FbCookieError {
    /// Not 4 or 5 `.`-separated segments.
    #[error(
        "expected fb.<subdomainIndex>.<creationTime>.<value> with an optional 5th appendix segment"
    )]
    SegmentCount,
    /// The first segment is not `fb`.
    #[error("the version segment must be \"fb\"")]
    Version,
    /// The subdomain index is not a number from 0 to 255.
    #[error("the subdomain index must be a number from 0 to 255")]
    SubdomainIndex,
    /// The creation time is not a number of milliseconds.
    #[error("the creation time must be a Unix time in milliseconds (digits only)")]
    CreationTime,
    /// The fbclid segment of an `_fbc` is not a valid click ID.
    #[error("the fbclid segment is invalid: {0}")]
    Fbclid(ClickIdError),
    /// The random segment of an `_fbp` is not 1 to 20 digits.
    #[error("the random segment of _fbp must be 1 to 20 digits")]
    Random,
    /// The 5th segment is neither a known 2-character token nor 8 base64url characters.
    #[error("the appendix must be a known 2-character token or 8 base64url characters")]
    Appendix,
}

/// The parsed shape shared by `_fbc` and `_fbp`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FbValue {
    raw: String,
    subdomain_index: SubdomainIndex,
    created_at_ms: u64,
    payload: Range<usize>,
    appendix: Option<Range<usize>>,
}

fn parse_digits<T: FromStr>(s: &str, max_len: usize) -> Option<T> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl FbValue {
    /// Splits and checks the common segments (`reference/meta-capi.md` §3.3 step 2: 4 or 5
    /// segments, `fb`, digit index and time, non-empty payload, known appendix).
    fn parse(s: &str) -> Result<Self, FbCookieError> {
        let mut segments = s.split('.');
        let (Some(version), Some(index), Some(time), Some(payload)) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(FbCookieError::SegmentCount);
        };
        let appendix = segments.next();
        if segments.next().is_some() {
            return Err(FbCookieError::SegmentCount);
        }
        if version != "fb" {
            return Err(FbCookieError::Version);
        }
        let subdomain_index =
            SubdomainIndex(parse_digits(index, 3).ok_or(FbCookieError::SubdomainIndex)?);
        let created_at_ms = parse_digits(time, 20).ok_or(FbCookieError::CreationTime)?;
        let payload_start = version.len() + index.len() + time.len() + 3;
        let payload_range = payload_start..payload_start + payload.len();
        let appendix = match appendix {
            None => None,
            Some(a) if is_valid_appendix(a) => Some(payload_range.end + 1..s.len()),
            Some(_) => return Err(FbCookieError::Appendix),
        };
        Ok(Self {
            raw: s.to_owned(),
            subdomain_index,
            created_at_ms,
            payload: payload_range,
            appendix,
        })
    }

    fn build(subdomain_index: SubdomainIndex, created_at_ms: u64, payload: &str) -> Self {
        // Built without `core::fmt` (`crate::text`): the pixel's capture module mints `_fbp`.
        let raw = [
            "fb.",
            &crate::text::decimal(u64::from(subdomain_index.0)),
            ".",
            &crate::text::decimal(created_at_ms),
            ".",
            payload,
        ]
        .concat();
        let payload = raw.len() - payload.len()..raw.len();
        Self {
            raw,
            subdomain_index,
            created_at_ms,
            payload,
            appendix: None,
        }
    }

    fn payload(&self) -> &str {
        self.raw.get(self.payload.clone()).unwrap_or_default()
    }

    fn appendix(&self) -> Option<Appendix<'_>> {
        let range = self.appendix.clone()?;
        self.raw.get(range).map(Appendix)
    }
}

/// Defines the accessors and conversions common to [`Fbc`] and [`Fbp`].
macro_rules! fb_cookie_value {
    ($name:ident) => {
        impl $name {
            /// The value exactly as parsed or built: what goes into the cookie and to Meta.
            pub fn as_str(&self) -> &str {
                &self.0.raw
            }

            /// The domain level the cookie was set on.
            pub const fn subdomain_index(&self) -> SubdomainIndex {
                self.0.subdomain_index
            }

            /// When the value was created, in Unix milliseconds (as written; legacy writers that
            /// used seconds give a small number here).
            pub const fn created_at_ms(&self) -> u64 {
                self.0.created_at_ms
            }

            /// The Parameter Builder appendix (5th segment), if any.
            pub fn appendix(&self) -> Option<Appendix<'_>> {
                self.0.appendix()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0.raw)
            }
        }

        impl TryFrom<String> for $name {
            type Error = FbCookieError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0.raw
            }
        }
    };
}

/// Meta's click cookie value, `fb.<subdomainIndex>.<creationTimeMs>.<fbclid>[.<appendix>]`
/// (`reference/meta-capi.md` §3.1, §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct Fbc(FbValue);

fb_cookie_value!(Fbc);

impl Fbc {
    /// A new value for a click first seen at `created_at_ms` on a cookie at `subdomain_index`.
    /// The fbclid goes in verbatim (`reference/meta-capi.md` §3.1).
    pub fn new(subdomain_index: SubdomainIndex, created_at_ms: u64, fbclid: &Fbclid) -> Self {
        Self(FbValue::build(
            subdomain_index,
            created_at_ms,
            fbclid.as_str(),
        ))
    }

    /// The fbclid inside the value. With a 5-segment value this is the 4th segment, not the last
    /// one (`reference/meta-capi.md` §3.1 caveat, as the Parameter Builder compares).
    pub fn fbclid(&self) -> &str {
        self.0.payload()
    }

    /// Whether this value records the click `fbclid` (exact, case-sensitive comparison).
    pub fn is_for(&self, fbclid: &Fbclid) -> bool {
        self.fbclid() == fbclid.as_str()
    }
}

impl FromStr for Fbc {
    type Err = FbCookieError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value = FbValue::parse(s)?;
        super::id::validate("fbclid", value.payload()).map_err(FbCookieError::Fbclid)?;
        Ok(Self(value))
    }
}

/// Meta's browser ID cookie value, `fb.<subdomainIndex>.<creationTimeMs>.<random>[.<appendix>]`
/// (`reference/meta-capi.md` §3.1, §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct Fbp(FbValue);

fb_cookie_value!(Fbp);

/// Lowest and span of the 18-digit random numbers we mint, the width Meta's pixel writes today
/// (e.g. `fb.1.1730980207699.201376450717234808`).
const FBP_RANDOM_MIN: u64 = 100_000_000_000_000_000;
const FBP_RANDOM_SPAN: u64 = 900_000_000_000_000_000;

impl Fbp {
    /// A new browser ID minted at `now_ms` from 8 random bytes the caller supplies
    /// (`reference/meta-capi.md` §3.3 step 4; no appendix, which only Meta's SDK may add).
    pub fn mint(subdomain_index: SubdomainIndex, now_ms: u64, random: [u8; 8]) -> Self {
        let random = FBP_RANDOM_MIN + u64::from_le_bytes(random) % FBP_RANDOM_SPAN;
        Self(FbValue::build(
            subdomain_index,
            now_ms,
            &crate::text::decimal(random),
        ))
    }

    /// The random segment.
    pub fn random(&self) -> &str {
        self.0.payload()
    }
}

impl FromStr for Fbp {
    type Err = FbCookieError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value = FbValue::parse(s)?;
        let random = value.payload();
        if random.is_empty() || random.len() > 20 || !random.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FbCookieError::Random);
        }
        Ok(Self(value))
    }
}

#[cfg(test)]
mod tests;
