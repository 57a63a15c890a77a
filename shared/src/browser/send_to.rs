//! The target of a Google Ads conversion tag, `AW-<conversion id>/<conversion label>`: what the
//! browser's `gtag('event', 'conversion', {send_to})` names and what a `WEBPAGE` conversion
//! action is reported into (google.md §11.1).
//!
//! The setting `GOOGLE_CONVERSION_ACTIONS` carries it as the optional fourth part of a `webpage`
//! entry (`transaction.purchase=2001:webpage:AW-123/AbC-d_1`); the worker serves it to the pixel
//! with the rest of the pixel's configuration. This file only knows the value's shape.

use core::fmt;
use core::str::FromStr;

/// `AW-<digits>/<label>`: a Google Ads conversion tag target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SendTo(String);

/// Why a string is not an `AW-…/label` target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a conversion tag target is AW-<conversion id digits>/<label of letters, digits, '-' and '_'>, e.g. AW-123456789/AbC-D_efG"
)]
pub struct SendToError;

/// Longest label accepted (Google's are about 20 characters; the bound keeps config sane).
const MAX_LABEL_LEN: usize = 64;

impl SendTo {
    /// The value as gtag takes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The account part, `AW-<digits>`: what `gtag('config', …)` needs before conversions fire.
    pub fn account(&self) -> &str {
        self.0.split('/').next().unwrap_or_default()
    }
}

impl FromStr for SendTo {
    type Err = SendToError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (account, label) = s.split_once('/').ok_or(SendToError)?;
        let id = account.strip_prefix("AW-").ok_or(SendToError)?;
        let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let label_ok = !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if id_ok && label_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(SendToError)
        }
    }
}

impl fmt::Display for SendTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_conversion_targets_parse_and_keep_their_case() {
        // google.md §11.1: labels mix cases, digits, '-' and '_'.
        let t: SendTo = "AW-736702401/3hJnCKSw6KEBEMHfpN8C".parse().unwrap();
        assert_eq!(t.as_str(), "AW-736702401/3hJnCKSw6KEBEMHfpN8C");
        assert_eq!(t.account(), "AW-736702401");
        assert!(
            "AW-1003828847/GoQ_CPT4_7ABEO_s1N4D"
                .parse::<SendTo>()
                .is_ok()
        );
    }

    #[test]
    fn malformed_targets_are_refused() {
        for bad in [
            "",
            "AW-123",
            "AW-/label",
            "AW-12a/label",
            "AAW-1027754075/TXh8",
            "G-ABC/label",
            "AW-123/",
            "AW-123/la bel",
            "AW-123/a/b",
        ] {
            assert_eq!(bad.parse::<SendTo>(), Err(SendToError), "{bad:?}");
        }
    }
}
