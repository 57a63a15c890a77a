//! IAB TCF v2.x TC strings (the `euconsent-v2` cookie CMPs write) and what they mean for Consent
//! Mode, per Google's TCF integration (google.md Addendum A).
//!
//! Decodes the core segment only: the fields from `version` through the vendor consents section.
//! Segments after the first `.` (disclosed vendors, publisher TC) and the core segment's vendor
//! legitimate-interest and publisher-restriction sections are not read: Google's mapping uses
//! purpose consents and vendor 755's consent only. TCF v2.2 strings still carry `version` 2 (v2.2
//! is a policy version, 4); TCF v1 strings (`version` 1) are rejected.
//!
//! Server-only: the worker reads CMP cookies; the pixel does not. Never panics; a string that is
//! not a TC string is an error, which callers treat as "this source states nothing".

use core::str::FromStr;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::signals::PartialConsent;

/// Name of the cookie IAB TCF v2 CMPs store the TC string in.
pub const TCF_COOKIE_NAME: &str = "euconsent-v2";

/// Google's IAB Global Vendor List id (google.md Addendum A).
pub const GOOGLE_VENDOR_ID: u16 = 755;

/// base64url as TC strings use it (`URL_SAFE_NO_PAD`'s alphabet), but tolerant: padding accepted
/// if present, and non-zero bits after the last byte ignored (TC strings are bit-packed).
const TC_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a TC string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TcfError {
    /// No core segment.
    #[error("TC string is empty")]
    Empty,
    /// The core segment is not base64url.
    #[error("TC string core segment is not base64url: {0}")]
    Base64(base64::DecodeError),
    /// Not a TCF v2 string (v1 strings start with `B`).
    #[error("TC string version {0} is not supported (expected 2)")]
    UnsupportedVersion(u8),
    /// The string ends before a field it must contain.
    #[error("TC string ends inside the {0} field")]
    Truncated(&'static str),
    /// A two-letter code (language, publisher country) holds a value that is not a letter.
    #[error("TC string {0} field is not two letters A-Z")]
    NotALetter(&'static str),
    /// A vendor range whose end is before its start.
    #[error("TC string vendor range {start}-{end} ends before it starts")]
    BadVendorRange {
        /// First vendor id of the range.
        start: u16,
        /// Last vendor id of the range.
        end: u16,
    },
}

/// The decoded core segment of a TC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcString {
    /// Format version (always 2 here).
    pub version: u8,
    /// When the string was created, in deciseconds since the Unix epoch.
    pub created: u64,
    /// When it was last updated, in deciseconds since the Unix epoch.
    pub last_updated: u64,
    /// The CMP's IAB id.
    pub cmp_id: u16,
    /// The CMP's version.
    pub cmp_version: u16,
    /// The CMP screen on which consent was given.
    pub consent_screen: u8,
    /// ISO 639-1 language of the consent UI, uppercase (`EN`).
    pub consent_language: String,
    /// Global Vendor List version used.
    pub vendor_list_version: u16,
    /// TCF policy version (4 = TCF v2.2).
    pub tcf_policy_version: u8,
    /// Consent applies to this service only.
    pub is_service_specific: bool,
    /// The CMP used non-standard texts.
    pub use_non_standard_texts: bool,
    /// Special feature opt-ins, bit 11 = feature 1 … bit 0 = feature 12.
    pub special_feature_opt_ins: u16,
    /// Purpose consents, bit 23 = purpose 1 … bit 0 = purpose 24.
    pub purposes_consent: u32,
    /// Purpose legitimate-interest transparency, same layout.
    pub purposes_li_transparency: u32,
    /// Purpose 1 was not disclosed (publisher's country allows it).
    pub purpose_one_treatment: bool,
    /// The publisher's country, uppercase (`AA` = unknown).
    pub publisher_cc: String,
    /// Highest vendor id the vendor consents section covers.
    pub max_vendor_id: u16,
    /// Vendors with consent, as inclusive ranges.
    pub vendor_consents: Vec<(u16, u16)>,
}

impl TcString {
    /// Whether purpose `n` (1–24) has consent.
    pub const fn purpose_consent(&self, n: u8) -> bool {
        n >= 1 && n <= 24 && (self.purposes_consent >> (24 - n)) & 1 == 1
    }

    /// Whether vendor `id` has consent.
    pub fn vendor_consent(&self, id: u16) -> bool {
        self.vendor_consents
            .iter()
            .any(|&(start, end)| start <= id && id <= end)
    }

    /// The Consent Mode signals this string implies for Google (google.md Addendum A). Only
    /// consent bits count, not legitimate interest; `purpose_one_treatment` is not taken as consent.
    /// `analytics_storage` is left unstated: "TCF does not drive `analytics_storage`".
    pub fn consent(&self) -> PartialConsent {
        super::tcf_map::tcf_purposes_to_consent(
            self.vendor_consent(GOOGLE_VENDOR_ID),
            [1, 3, 4, 7].map(|n| self.purpose_consent(n)),
        )
    }
}

/// Reads big-endian bit fields, never past the end.
struct Bits<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn remaining(&self) -> usize {
        (self.bytes.len() * 8).saturating_sub(self.pos)
    }

    fn read(&mut self, n: usize, field: &'static str) -> Result<u64, TcfError> {
        if n > self.remaining() {
            return Err(TcfError::Truncated(field));
        }
        let mut v = 0u64;
        for i in self.pos..self.pos + n {
            let bit = self.bytes.get(i / 8).map_or(0, |b| (b >> (7 - i % 8)) & 1);
            v = (v << 1) | u64::from(bit);
        }
        self.pos += n;
        Ok(v)
    }

    // The narrowing helpers cannot saturate: each reads at most as many bits as its type holds.
    fn u8(&mut self, n: usize, field: &'static str) -> Result<u8, TcfError> {
        Ok(u8::try_from(self.read(n.min(8), field)?).unwrap_or(u8::MAX))
    }

    fn u16(&mut self, n: usize, field: &'static str) -> Result<u16, TcfError> {
        Ok(u16::try_from(self.read(n.min(16), field)?).unwrap_or(u16::MAX))
    }

    fn u32(&mut self, n: usize, field: &'static str) -> Result<u32, TcfError> {
        Ok(u32::try_from(self.read(n.min(32), field)?).unwrap_or(u32::MAX))
    }

    fn flag(&mut self, field: &'static str) -> Result<bool, TcfError> {
        Ok(self.read(1, field)? == 1)
    }

    /// Two 6-bit letters, 0 = `A`.
    fn letters(&mut self, field: &'static str) -> Result<String, TcfError> {
        let mut s = String::with_capacity(2);
        for _ in 0..2 {
            let v = self.u8(6, field)?;
            if v > 25 {
                return Err(TcfError::NotALetter(field));
            }
            s.push(char::from(b'A' + v));
        }
        Ok(s)
    }
}

/// Vendor consents: a bitfield (bit i-1 = vendor i) or a list of ids and ranges.
fn vendor_consents(bits: &mut Bits<'_>) -> Result<(u16, Vec<(u16, u16)>), TcfError> {
    let max = bits.u16(16, "maxVendorId")?;
    let mut ranges: Vec<(u16, u16)> = Vec::new();
    if bits.flag("isRangeEncoding")? {
        let entries = bits.u16(12, "numEntries")?;
        for _ in 0..entries {
            let is_range = bits.flag("isARange")?;
            let start = bits.u16(16, "startOrOnlyVendorId")?;
            let end = if is_range {
                bits.u16(16, "endVendorId")?
            } else {
                start
            };
            if end < start {
                return Err(TcfError::BadVendorRange { start, end });
            }
            ranges.push((start, end));
        }
    } else {
        if usize::from(max) > bits.remaining() {
            return Err(TcfError::Truncated("vendor consents bitfield"));
        }
        // Runs of consecutive consented vendors, so a lookup stays cheap.
        for id in 1..=max {
            if bits.flag("vendor consents bitfield")? {
                match ranges.last_mut() {
                    Some((_, end)) if end.checked_add(1) == Some(id) => *end = id,
                    _ => ranges.push((id, id)),
                }
            }
        }
    }
    Ok((max, ranges))
}

impl FromStr for TcString {
    type Err = TcfError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let core = s
            .trim()
            .split('.')
            .next()
            .unwrap_or_default()
            .trim_end_matches('=');
        if core.is_empty() {
            return Err(TcfError::Empty);
        }
        // A 6-bit-granular encoder can leave a length of 4k+1 characters, which no base64 decoder
        // accepts; one more zero sextet only adds zero (no consent) bits.
        let padded;
        let core = if core.len() % 4 == 1 {
            padded = format!("{core}A");
            padded.as_str()
        } else {
            core
        };
        let bytes = TC_BASE64.decode(core).map_err(TcfError::Base64)?;
        let mut b = Bits {
            bytes: &bytes,
            pos: 0,
        };
        let version = b.u8(6, "version")?;
        if version != 2 {
            return Err(TcfError::UnsupportedVersion(version));
        }
        let created = b.read(36, "created")?;
        let last_updated = b.read(36, "lastUpdated")?;
        let cmp_id = b.u16(12, "cmpId")?;
        let cmp_version = b.u16(12, "cmpVersion")?;
        let consent_screen = b.u8(6, "consentScreen")?;
        let consent_language = b.letters("consentLanguage")?;
        let vendor_list_version = b.u16(12, "vendorListVersion")?;
        let tcf_policy_version = b.u8(6, "tcfPolicyVersion")?;
        let is_service_specific = b.flag("isServiceSpecific")?;
        let use_non_standard_texts = b.flag("useNonStandardTexts")?;
        let special_feature_opt_ins = b.u16(12, "specialFeatureOptIns")?;
        let purposes_consent = b.u32(24, "purposesConsent")?;
        let purposes_li_transparency = b.u32(24, "purposesLITransparency")?;
        let purpose_one_treatment = b.flag("purposeOneTreatment")?;
        let publisher_cc = b.letters("publisherCC")?;
        let (max_vendor_id, vendor_consents) = vendor_consents(&mut b)?;
        Ok(Self {
            version,
            created,
            last_updated,
            cmp_id,
            cmp_version,
            consent_screen,
            consent_language,
            vendor_list_version,
            tcf_policy_version,
            is_service_specific,
            use_non_standard_texts,
            special_feature_opt_ins,
            purposes_consent,
            purposes_li_transparency,
            purpose_one_treatment,
            publisher_cc,
            max_vendor_id,
            vendor_consents,
        })
    }
}

/// The Consent Mode signals an `euconsent-v2` cookie value implies; `None` if it is not a TC string.
pub fn consent_from_tc_string(value: &str) -> Option<PartialConsent> {
    value.parse::<TcString>().ok().map(|tc| tc.consent())
}

#[cfg(test)]
mod tests;
