//! The four Consent Mode v2 signals, partial statements of them, and how sources combine.
//!
//! Two operations, deliberately different (DESIGN §4):
//! - **merge** (`ConsentState::merge`, `PartialConsent::merge`): two statements about the *same*
//!   event disagree (the pixel's copy and the backend's copy, or two CMP cookies): the most
//!   restrictive wins, signal by signal (`Denied` beats `Granted`).
//! - **resolve** ([`resolve`]): sources of different authority are consulted in order, explicit event
//!   field → our consent cookie → region default, and each signal is taken from the first source
//!   that states it.
//!
//! This file holds no policy about what a platform may receive (see `policy.rs`) and reads no
//! cookie (see `cookie.rs`, `tcf.rs`, `cmp.rs`).

use core::fmt;
use core::str::FromStr;

/// One consent signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Signal {
    /// The shopper agreed (or the region's default grants it).
    Granted,
    /// The shopper refused, or the region requires opt-in and none was given.
    Denied,
}

impl Signal {
    /// Whether this is [`Signal::Granted`].
    pub const fn is_granted(self) -> bool {
        matches!(self, Self::Granted)
    }

    /// The more restrictive of two signals: `Denied` wins (DESIGN §4: "when copies of one event
    /// disagree, the most restrictive state wins").
    #[must_use]
    pub const fn most_restrictive(self, other: Self) -> Self {
        match (self, other) {
            (Self::Granted, Self::Granted) => Self::Granted,
            _ => Self::Denied,
        }
    }

    /// `Granted` when `granted` is true, `Denied` otherwise.
    pub const fn from_bool(granted: bool) -> Self {
        if granted { Self::Granted } else { Self::Denied }
    }

    /// The lowercase name Consent Mode uses: `"granted"` or `"denied"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Denied => "denied",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A consent signal that is neither `granted` nor `denied`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("consent signal must be \"granted\" or \"denied\", got {0:?}")]
pub struct UnknownSignal(pub String);

impl FromStr for Signal {
    type Err = UnknownSignal;

    /// Accepts `granted` / `denied` in any ASCII case (gtag writes lowercase, Google's APIs
    /// uppercase), surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("granted") {
            Ok(Self::Granted)
        } else if t.eq_ignore_ascii_case("denied") {
            Ok(Self::Denied)
        } else {
            Err(UnknownSignal(s.to_owned()))
        }
    }
}

/// Google Consent Mode v2's four signals, all resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct ConsentState {
    /// Cookies and identifiers for advertising (fbc, fbp, click-ID cookies).
    pub ad_storage: Signal,
    /// Cookies for analytics (`_ga`).
    pub analytics_storage: Signal,
    /// Sending user data (hashed PII) to Google/Meta for advertising.
    pub ad_user_data: Signal,
    /// Personalized advertising (remarketing).
    pub ad_personalization: Signal,
}

impl ConsentState {
    /// Every signal granted.
    pub const ALL_GRANTED: Self = Self::uniform(Signal::Granted);
    /// Every signal denied.
    pub const ALL_DENIED: Self = Self::uniform(Signal::Denied);

    /// All four signals set to `signal`.
    pub const fn uniform(signal: Signal) -> Self {
        Self {
            ad_storage: signal,
            analytics_storage: signal,
            ad_user_data: signal,
            ad_personalization: signal,
        }
    }

    /// The most restrictive combination of two states about the same event, signal by signal.
    #[must_use]
    pub const fn merge(self, other: Self) -> Self {
        Self {
            ad_storage: self.ad_storage.most_restrictive(other.ad_storage),
            analytics_storage: self
                .analytics_storage
                .most_restrictive(other.analytics_storage),
            ad_user_data: self.ad_user_data.most_restrictive(other.ad_user_data),
            ad_personalization: self
                .ad_personalization
                .most_restrictive(other.ad_personalization),
        }
    }
}

/// What one source states about consent: each signal may be left unstated (`None`).
///
/// CMPs do not all speak to all four signals (an IAB TCF string says nothing about
/// `analytics_storage`), so sources produce this and [`resolve`] fills the gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct PartialConsent {
    /// `ad_storage`, if stated.
    #[cfg_attr(feature = "server", serde(default))]
    pub ad_storage: Option<Signal>,
    /// `analytics_storage`, if stated.
    #[cfg_attr(feature = "server", serde(default))]
    pub analytics_storage: Option<Signal>,
    /// `ad_user_data`, if stated.
    #[cfg_attr(feature = "server", serde(default))]
    pub ad_user_data: Option<Signal>,
    /// `ad_personalization`, if stated.
    #[cfg_attr(feature = "server", serde(default))]
    pub ad_personalization: Option<Signal>,
}

/// Most restrictive of two optional signals; a stated signal beats an unstated one.
const fn merge_opt(a: Option<Signal>, b: Option<Signal>) -> Option<Signal> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.most_restrictive(y)),
        (Some(x), None) | (None, Some(x)) => Some(x),
        (None, None) => None,
    }
}

impl PartialConsent {
    /// Nothing stated.
    pub const NONE: Self = Self {
        ad_storage: None,
        analytics_storage: None,
        ad_user_data: None,
        ad_personalization: None,
    };

    /// Whether no signal is stated.
    pub const fn is_empty(&self) -> bool {
        self.ad_storage.is_none()
            && self.analytics_storage.is_none()
            && self.ad_user_data.is_none()
            && self.ad_personalization.is_none()
    }

    /// The most restrictive combination of two statements of the same authority (e.g. two CMP
    /// cookies on one request). `Denied` wins; a signal only one side states is kept, since
    /// "unstated" adds no restriction of its own (the region default still fills what neither
    /// states).
    #[must_use]
    pub const fn merge(self, other: Self) -> Self {
        Self {
            ad_storage: merge_opt(self.ad_storage, other.ad_storage),
            analytics_storage: merge_opt(self.analytics_storage, other.analytics_storage),
            ad_user_data: merge_opt(self.ad_user_data, other.ad_user_data),
            ad_personalization: merge_opt(self.ad_personalization, other.ad_personalization),
        }
    }

    /// Each signal from `self` where stated, otherwise from `fallback` (a lower-authority source).
    #[must_use]
    pub const fn or(self, fallback: Self) -> Self {
        const fn first(a: Option<Signal>, b: Option<Signal>) -> Option<Signal> {
            match a {
                Some(_) => a,
                None => b,
            }
        }
        Self {
            ad_storage: first(self.ad_storage, fallback.ad_storage),
            analytics_storage: first(self.analytics_storage, fallback.analytics_storage),
            ad_user_data: first(self.ad_user_data, fallback.ad_user_data),
            ad_personalization: first(self.ad_personalization, fallback.ad_personalization),
        }
    }

    /// A complete state: each stated signal, the `default`'s signal where unstated.
    pub const fn complete_with(self, default: ConsentState) -> ConsentState {
        const fn or_default(a: Option<Signal>, d: Signal) -> Signal {
            match a {
                Some(s) => s,
                None => d,
            }
        }
        ConsentState {
            ad_storage: or_default(self.ad_storage, default.ad_storage),
            analytics_storage: or_default(self.analytics_storage, default.analytics_storage),
            ad_user_data: or_default(self.ad_user_data, default.ad_user_data),
            ad_personalization: or_default(self.ad_personalization, default.ad_personalization),
        }
    }
}

impl From<ConsentState> for PartialConsent {
    fn from(s: ConsentState) -> Self {
        Self {
            ad_storage: Some(s.ad_storage),
            analytics_storage: Some(s.analytics_storage),
            ad_user_data: Some(s.ad_user_data),
            ad_personalization: Some(s.ad_personalization),
        }
    }
}

/// The consent state of one event, by source order (DESIGN §4): the event's explicit `consent`
/// field, then our consent cookie (merged beforehand with any CMP cookie), then the region default.
/// Each signal comes from the first source that states it.
pub const fn resolve(
    explicit: PartialConsent,
    cookie: PartialConsent,
    region_default: ConsentState,
) -> ConsentState {
    explicit.or(cookie).complete_with(region_default)
}

#[cfg(test)]
mod tests;
