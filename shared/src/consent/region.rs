//! Region defaults: where consent is opt-in (everything denied until the shopper agrees) and where
//! it is opt-out (granted until refused), from a compact config string.
//!
//! # Config format
//!
//! A comma-separated list of tokens applied left to right to an empty set (whitespace and letter
//! case ignored, empty tokens skipped):
//!
//! | token | meaning |
//! |---|---|
//! | `DEFAULT` | the built-in set: `EEA,GB,CH` |
//! | `EEA` | `EU` plus Iceland, Liechtenstein, Norway |
//! | `EU` | the 27 member states, plus the parts of them with their own ISO code (Åland `AX`, and the outermost regions `GF GP MQ RE YT MF`), where GDPR applies as at home |
//! | `NONE` | clears the set (`NONE` alone: no opt-in regions) |
//! | `GB`, `+GB` | an ISO 3166-1 alpha-2 country |
//! | `US-CA`, `+US-CA` | an ISO 3166-2 subdivision, opt-in even if its country is not |
//! | `-NO`, `-EEA` | removes a country or a group's countries |
//! | `-ES-CN` | the subdivision is opt-out even if its country is opt-in |
//!
//! Examples: `DEFAULT,US-CA` adds California; `EEA,GB,CH,-NO` drops Norway. An empty string is an
//! error rather than "no opt-in regions" so that a blank variable never silently grants consent
//! everywhere; write `NONE` for that. Country codes are checked against the ISO 3166-1 list (so the
//! common mistake `UK` is rejected: the United Kingdom is `GB`); `XK` (Kosovo, user-assigned but what
//! Cloudflare reports) is accepted too.
//!
//! # Unknown visitors
//!
//! A visitor whose country is missing or unknown (`XX`, Tor's `T1`, anything not an ISO code) is
//! treated as opt-in: denying by mistake loses a conversion's identifiers, granting by mistake
//! processes an EU resident's data without consent, which is the costlier error.
//!
//! This file does not find the visitor's location (the worker reads it from the edge) and holds no
//! platform rule (`policy.rs`).

use core::fmt;
use core::str::FromStr;
use std::collections::BTreeSet;

use super::signals::{ConsentState, Signal};

/// ISO 3166-1 alpha-2: all 249 assigned codes (checked against Debian `iso-codes`) plus `XK`
/// (Kosovo), as one string of 2-letter chunks to stay small in the pixel's wasm.
const ISO_3166_1: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ\
CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGN\
GPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULV\
LYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPT\
PWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUS\
UYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

/// The EU's 27 member states, then Åland and the outermost regions that have their own codes.
const EU: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", // 27 member states
    "AX", "GF", "GP", "MQ", "RE", "YT", "MF",
];
/// EEA = EU + these three (EEA Agreement; GDPR applies through it).
const EEA_EXTRA: &[&str] = &["IS", "LI", "NO"];
/// Outside the EEA, with their own opt-in laws: UK GDPR, Switzerland's revised FADP.
const DEFAULT_EXTRA: &[&str] = &["GB", "CH"];

/// Whether `code` is an assigned ISO 3166-1 alpha-2 code (or `XK`), in any letter case.
pub(super) fn is_iso_country(code: &str) -> bool {
    code.len() == 2
        && ISO_3166_1
            .as_bytes()
            .chunks_exact(2)
            .any(|c| c.eq_ignore_ascii_case(code.as_bytes()))
}

/// Where consent is opt-in. Build it with [`RegionPolicy::default`] or by parsing the config format
/// above; `Display` writes the config back in a canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct RegionPolicy {
    countries: BTreeSet<String>,
    /// Subdivisions (`US-CA`) that are opt-in whatever their country.
    regions_in: BTreeSet<String>,
    /// Subdivisions that are opt-out whatever their country.
    regions_out: BTreeSet<String>,
}

/// A region config token that is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionConfigError {
    /// The whole config is blank.
    #[error(
        "opt-in region list is empty: write DEFAULT for EEA,GB,CH or NONE for no opt-in regions"
    )]
    Empty,
    /// Not an ISO 3166-1 alpha-2 code nor a group name.
    #[error(
        "{0:?} is not an ISO 3166-1 alpha-2 country code nor one of DEFAULT, EEA, EU, NONE (the United Kingdom is GB)"
    )]
    UnknownCountry(String),
    /// Not a `CC-SUB` ISO 3166-2 code.
    #[error(
        "{0:?} is not an ISO 3166-2 region code like US-CA (country, '-', 1 to 3 letters or digits)"
    )]
    BadRegion(String),
    /// `-NONE` or `+NONE`.
    #[error("{0:?}: NONE cannot take a sign")]
    SignedNone(String),
}

impl Default for RegionPolicy {
    /// `EEA,GB,CH`.
    fn default() -> Self {
        let mut p = Self::empty();
        p.apply_group(EU, true);
        p.apply_group(EEA_EXTRA, true);
        p.apply_group(DEFAULT_EXTRA, true);
        p
    }
}

impl RegionPolicy {
    /// No opt-in regions at all (config `NONE`); unknown countries are still opt-in.
    pub const fn empty() -> Self {
        Self {
            countries: BTreeSet::new(),
            regions_in: BTreeSet::new(),
            regions_out: BTreeSet::new(),
        }
    }

    fn apply_group(&mut self, group: &[&str], add: bool) {
        for c in group {
            if add {
                self.countries.insert((*c).into());
            } else {
                self.countries.remove(*c);
            }
        }
    }

    /// Whether a visitor from `country` (ISO 3166-1 alpha-2, e.g. Cloudflare's `cf.country`) and
    /// `region` (ISO 3166-2, either the subdivision part `CA` as Cloudflare's `cf.regionCode` gives
    /// it, or the full `US-CA`) must opt in. Case-insensitive. Missing or unknown country → `true`.
    pub fn is_opt_in_region(&self, country: Option<&str>, region: Option<&str>) -> bool {
        let Some(country) = country.map(|c| c.trim().to_ascii_uppercase()) else {
            return true;
        };
        if !is_iso_country(&country) {
            return true;
        }
        if let Some(sub) = region.map(str::trim).filter(|r| !r.is_empty()) {
            let sub = sub.to_ascii_uppercase();
            let sub = sub
                .strip_prefix(&country)
                .and_then(|s| s.strip_prefix('-'))
                .unwrap_or(&sub);
            let full = format!("{country}-{sub}");
            if self.regions_in.contains(&full) {
                return true;
            }
            if self.regions_out.contains(&full) {
                return false;
            }
        }
        self.countries.contains(&country)
    }

    /// The region default (DESIGN §4, third source): every signal denied where consent is opt-in,
    /// granted elsewhere.
    pub fn default_state(&self, country: Option<&str>, region: Option<&str>) -> ConsentState {
        if self.is_opt_in_region(country, region) {
            ConsentState::uniform(Signal::Denied)
        } else {
            ConsentState::uniform(Signal::Granted)
        }
    }

    fn apply(&mut self, raw: &str) -> Result<(), RegionConfigError> {
        let token = raw.trim().to_ascii_uppercase();
        let (add, body) = match token.as_bytes().first() {
            Some(b'-') => (false, &token[1..]),
            Some(b'+') => (true, &token[1..]),
            _ => (true, token.as_str()),
        };
        match body {
            "NONE" if body.len() == token.len() => *self = Self::empty(),
            "NONE" => return Err(RegionConfigError::SignedNone(raw.trim().into())),
            "DEFAULT" => {
                self.apply_group(EU, add);
                self.apply_group(EEA_EXTRA, add);
                self.apply_group(DEFAULT_EXTRA, add);
            }
            "EEA" => {
                self.apply_group(EU, add);
                self.apply_group(EEA_EXTRA, add);
            }
            "EU" => self.apply_group(EU, add),
            _ => match body.split_once('-') {
                None if is_iso_country(body) => self.apply_group(&[body], add),
                None => return Err(RegionConfigError::UnknownCountry(raw.trim().into())),
                Some((country, sub)) => {
                    let sub_ok = (1..=3).contains(&sub.len())
                        && sub.bytes().all(|b| b.is_ascii_alphanumeric());
                    if !is_iso_country(country) || !sub_ok {
                        return Err(RegionConfigError::BadRegion(raw.trim().into()));
                    }
                    let (to, from) = if add {
                        (&mut self.regions_in, &mut self.regions_out)
                    } else {
                        (&mut self.regions_out, &mut self.regions_in)
                    };
                    from.remove(body);
                    to.insert(body.into());
                }
            },
        }
        Ok(())
    }
}

impl FromStr for RegionPolicy {
    type Err = RegionConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(RegionConfigError::Empty);
        }
        let mut policy = Self::empty();
        for token in s.split(',').filter(|t| !t.trim().is_empty()) {
            policy.apply(token)?;
        }
        Ok(policy)
    }
}

impl fmt::Display for RegionPolicy {
    /// Canonical config: `EEA` when all of it is present, then other countries, then regions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has_eea = EU
            .iter()
            .chain(EEA_EXTRA)
            .all(|c| self.countries.contains(*c));
        let mut tokens: Vec<String> = Vec::new();
        if has_eea {
            tokens.push("EEA".into());
        }
        for c in &self.countries {
            if !(has_eea && (EU.contains(&c.as_str()) || EEA_EXTRA.contains(&c.as_str()))) {
                tokens.push(c.clone());
            }
        }
        tokens.extend(self.regions_in.iter().cloned());
        tokens.extend(self.regions_out.iter().map(|r| format!("-{r}")));
        if tokens.is_empty() {
            return f.write_str("NONE");
        }
        f.write_str(&tokens.join(","))
    }
}

impl TryFrom<String> for RegionPolicy {
    type Error = RegionConfigError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RegionPolicy> for String {
    fn from(p: RegionPolicy) -> Self {
        p.to_string()
    }
}

#[cfg(test)]
mod tests;
