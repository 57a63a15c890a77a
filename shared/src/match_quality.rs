//! An estimate of Meta's Event Match Quality (EMQ) for one event, from which identifiers it
//! carries, and the identifiers worth adding, most valuable first, for the admin health page.
//!
//! Meta scores EMQ "from 0 to 10 based on the quality of customer information you're sending"
//! and the share of events matched; the formula is not public (`reference/meta-capi.md` §7). This
//! estimate uses Meta's published priority table instead (§7, Business Help Center "About Event
//! Match Quality"):
//!
//! | priority | keys | points each |
//! |---|---|---|
//! | high | email (`em`), click ID (`fbc`) | 20 |
//! | medium | phone, external ID, browser ID (`fbp`), birthdate, country | 8 |
//! | pair | client IP address **and** user agent, together | 8 |
//! | low | first name, last name, city, zip; state and gender (not in Meta's table) | 2 |
//!
//! 2 × 20 + 5 × 8 + 8 + 6 × 2 = 100 points = a score of 10. IP and user agent are not in the
//! priority table, but Meta's best practices list the IP among high-quality parameters and its
//! customer-information page says sending both "may help improve event matching" (§7); they
//! count once, as a pair. Facebook Login ID and Lead ID (medium and low in Meta's table) are not
//! collected by this product and so are not keys here.
//!
//! This module knows nothing about where keys come from: the worker fills a [`MatchKeys`] from
//! hashed user data, cookies and the request.

use core::fmt;

/// An identifier Meta can match an event on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum MatchKey {
    /// `em`
    Email,
    /// `fbc`, the click ID
    Fbc,
    /// `ph`
    Phone,
    /// `external_id`
    ExternalId,
    /// `fbp`, the browser ID
    Fbp,
    /// `db`
    DateOfBirth,
    /// `country`
    Country,
    /// `client_ip_address` (counts together with the user agent)
    ClientIpAddress,
    /// `client_user_agent` (counts together with the IP address)
    ClientUserAgent,
    /// `fn`
    FirstName,
    /// `ln`
    LastName,
    /// `ct`
    City,
    /// `zp`
    Zip,
    /// `st`
    State,
    /// `ge`
    Gender,
}

/// Meta's priority class of a key (`reference/meta-capi.md` §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Email and click ID.
    High,
    /// Phone, external ID, browser ID, birthdate, country; IP and user agent as a pair.
    Medium,
    /// Names and address parts.
    Low,
}

impl MatchKey {
    /// Every key, most valuable first (the order missing keys are listed in).
    pub const ALL: [MatchKey; 15] = [
        MatchKey::Email,
        MatchKey::Fbc,
        MatchKey::Phone,
        MatchKey::ExternalId,
        MatchKey::Fbp,
        MatchKey::DateOfBirth,
        MatchKey::Country,
        MatchKey::ClientIpAddress,
        MatchKey::ClientUserAgent,
        MatchKey::FirstName,
        MatchKey::LastName,
        MatchKey::City,
        MatchKey::Zip,
        MatchKey::State,
        MatchKey::Gender,
    ];

    /// The key's name in Meta's `user_data`.
    pub fn meta_name(self) -> &'static str {
        match self {
            Self::Email => "em",
            Self::Fbc => "fbc",
            Self::Phone => "ph",
            Self::ExternalId => "external_id",
            Self::Fbp => "fbp",
            Self::DateOfBirth => "db",
            Self::Country => "country",
            Self::ClientIpAddress => "client_ip_address",
            Self::ClientUserAgent => "client_user_agent",
            Self::FirstName => "fn",
            Self::LastName => "ln",
            Self::City => "ct",
            Self::Zip => "zp",
            Self::State => "st",
            Self::Gender => "ge",
        }
    }

    /// Meta's priority class of the key.
    pub fn priority(self) -> Priority {
        match self {
            Self::Email | Self::Fbc => Priority::High,
            Self::Phone
            | Self::ExternalId
            | Self::Fbp
            | Self::DateOfBirth
            | Self::Country
            | Self::ClientIpAddress
            | Self::ClientUserAgent => Priority::Medium,
            Self::FirstName
            | Self::LastName
            | Self::City
            | Self::Zip
            | Self::State
            | Self::Gender => Priority::Low,
        }
    }

    /// Points the key adds (for IP and user agent: the pair's points, earned once both are set).
    fn points(self) -> u8 {
        match self.priority() {
            Priority::High => 20,
            Priority::Medium => 8,
            Priority::Low => 2,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for MatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.meta_name())
    }
}

/// A set of [`MatchKey`]s.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MatchKeys(u16);

impl MatchKeys {
    /// No keys.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Adds `key`.
    pub fn insert(&mut self, key: MatchKey) {
        self.0 |= key.bit();
    }

    /// The set with `key` added.
    #[must_use]
    pub fn with(mut self, key: MatchKey) -> Self {
        self.insert(key);
        self
    }

    /// The set with `key` added when `present`.
    #[must_use]
    pub fn with_if(self, present: bool, key: MatchKey) -> Self {
        if present { self.with(key) } else { self }
    }

    /// True when `key` is in the set.
    pub fn contains(self, key: MatchKey) -> bool {
        self.0 & key.bit() != 0
    }

    /// The keys in the set, most valuable first.
    pub fn iter(self) -> impl Iterator<Item = MatchKey> {
        MatchKey::ALL.into_iter().filter(move |&k| self.contains(k))
    }
}

impl FromIterator<MatchKey> for MatchKeys {
    fn from_iter<I: IntoIterator<Item = MatchKey>>(keys: I) -> Self {
        keys.into_iter().fold(Self::empty(), Self::with)
    }
}

impl Extend<MatchKey> for MatchKeys {
    fn extend<I: IntoIterator<Item = MatchKey>>(&mut self, keys: I) {
        for key in keys {
            self.insert(key);
        }
    }
}

impl fmt::Debug for MatchKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The estimate for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "server", derive(serde::Serialize))]
pub struct MatchQuality {
    /// 0–100; the score out of 10 is a tenth of this.
    pub points: u8,
    /// Keys not present that would raise the score, most valuable first.
    pub missing: Vec<MatchKey>,
}

impl MatchQuality {
    /// The estimate on Meta's 0–10 scale.
    pub fn score(&self) -> f32 {
        f32::from(self.points) / 10.0
    }
}

impl fmt::Display for MatchQuality {
    /// `7.4/10`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}/10", self.points / 10, self.points % 10)
    }
}

/// Estimates the match quality of an event carrying `keys`.
#[must_use]
pub fn estimate(keys: MatchKeys) -> MatchQuality {
    let ip_and_ua =
        keys.contains(MatchKey::ClientIpAddress) && keys.contains(MatchKey::ClientUserAgent);
    let points = keys
        .iter()
        .filter(|&k| !matches!(k, MatchKey::ClientIpAddress | MatchKey::ClientUserAgent))
        .map(MatchKey::points)
        .chain(ip_and_ua.then_some(MatchKey::ClientIpAddress.points()))
        .sum();
    // `ALL` is already ordered by points, so filtering keeps "most valuable first".
    let missing = MatchKey::ALL
        .into_iter()
        .filter(|&k| !keys.contains(k))
        .collect();
    MatchQuality { points, missing }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[MatchKey]) -> MatchKeys {
        list.iter().copied().collect()
    }

    #[test]
    fn every_key_scores_ten() {
        let all = estimate(keys(&MatchKey::ALL));
        assert_eq!(all.points, 100);
        assert_eq!(all.to_string(), "10.0/10");
        assert!(all.missing.is_empty());
    }

    #[test]
    fn no_key_scores_zero_and_lists_everything_most_valuable_first() {
        let none = estimate(MatchKeys::empty());
        assert_eq!(none.points, 0);
        assert_eq!(none.missing, MatchKey::ALL);
        assert_eq!(&none.missing[..2], &[MatchKey::Email, MatchKey::Fbc]);
    }

    #[test]
    fn email_and_fbc_weigh_most() {
        let high = estimate(keys(&[MatchKey::Email, MatchKey::Fbc]));
        let medium = estimate(keys(&[MatchKey::Phone, MatchKey::Fbp]));
        let low = estimate(keys(&[
            MatchKey::FirstName,
            MatchKey::LastName,
            MatchKey::City,
        ]));
        assert!(high.points > medium.points && medium.points > low.points);
        assert_eq!(high.to_string(), "4.0/10");
    }

    #[test]
    fn ip_and_user_agent_count_only_together() {
        let ip_only = estimate(keys(&[MatchKey::ClientIpAddress]));
        assert_eq!(ip_only.points, 0);
        assert!(ip_only.missing.contains(&MatchKey::ClientUserAgent));
        let both = estimate(keys(&[
            MatchKey::ClientIpAddress,
            MatchKey::ClientUserAgent,
        ]));
        assert_eq!(both.points, 8);
    }

    #[test]
    fn a_typical_browser_purchase_scores_as_documented() {
        let typical = estimate(keys(&[
            MatchKey::Email,
            MatchKey::Fbp,
            MatchKey::ClientIpAddress,
            MatchKey::ClientUserAgent,
            MatchKey::FirstName,
            MatchKey::LastName,
        ]));
        assert_eq!(typical.points, 20 + 8 + 8 + 2 + 2);
        assert!((typical.score() - 4.0).abs() < f32::EPSILON);
        assert_eq!(typical.missing.first(), Some(&MatchKey::Fbc));
    }

    #[test]
    fn the_priority_order_of_all_is_non_increasing() {
        assert!(
            MatchKey::ALL
                .windows(2)
                .all(|w| w[0].priority() <= w[1].priority())
        );
        assert_eq!(MatchKey::ALL.len(), 15);
        let all: MatchKeys = MatchKey::ALL.into_iter().collect();
        assert_eq!(all.iter().count(), 15);
    }
}
