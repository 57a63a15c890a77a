//! What may leave for each platform: [`HashedUserData`], SHA-256 digests keyed the way each
//! platform names them, plus the four address fields Google requires unhashed
//! (`reference/google.md` §3: postal code and country code "not hashed"; the Ads API takes city
//! and state plain).
//!
//! Built by [`super::hash_user_data`]. `Debug` shows digests but redacts Google's plain address
//! fields. With the `server` feature the types (de)serialize for the outbox and Meta's
//! `user_data` (Meta's own key names, `fn` included).

use core::fmt;

use super::Sha256Hex;
use super::input::{PerPlatformValue, PiiValue, RawUserData};
use crate::match_quality::{MatchKey, MatchKeys};

/// Meta's hashed `user_data` keys (`reference/meta-capi.md` §1.4), each the SHA-256 of the value
/// normalized by Meta's rules; serialized with Meta's key names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct MetaUserData {
    /// Email.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub em: Option<Sha256Hex>,
    /// Phone: country code and number, digits only.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub ph: Option<Sha256Hex>,
    /// First name (`fn`).
    #[cfg_attr(
        feature = "server",
        serde(rename = "fn", skip_serializing_if = "Option::is_none", default)
    )]
    pub fn_: Option<Sha256Hex>,
    /// Last name.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub ln: Option<Sha256Hex>,
    /// Gender: `f` or `m`.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub ge: Option<Sha256Hex>,
    /// Date of birth: `YYYYMMDD`.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub db: Option<Sha256Hex>,
    /// City.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub ct: Option<Sha256Hex>,
    /// State: US two-letter code, or other regions spelled out.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub st: Option<Sha256Hex>,
    /// Postal code (US: first five digits).
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub zp: Option<Sha256Hex>,
    /// Country: lowercase ISO 3166-1 alpha-2.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub country: Option<Sha256Hex>,
    /// The merchant's customer ID.
    #[cfg_attr(
        feature = "server",
        serde(skip_serializing_if = "Option::is_none", default)
    )]
    pub external_id: Option<Sha256Hex>,
}

impl MetaUserData {
    /// Each present digest with Meta's key name (`em`, `ph`, `fn`, …, `external_id`), in Meta's
    /// order: what the Conversions API's `user_data` and the browser pixel's advanced matching
    /// both send (meta-capi.md §1.4).
    pub fn keyed(&self) -> Vec<(&'static str, &str)> {
        [
            ("em", &self.em),
            ("ph", &self.ph),
            ("fn", &self.fn_),
            ("ln", &self.ln),
            ("ge", &self.ge),
            ("db", &self.db),
            ("ct", &self.ct),
            ("st", &self.st),
            ("zp", &self.zp),
            ("country", &self.country),
            ("external_id", &self.external_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.as_ref().map(Sha256Hex::as_str)?)))
        .collect()
    }
}

/// Google's user identifiers: hashed contact fields and the plain address fields Google requires
/// unhashed (`reference/google.md` §3). `Debug` redacts the plain ones.
#[derive(Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(default)
)]
pub struct GoogleUserData {
    /// SHA-256 of the normalized email (gmail dots and `+tags` removed).
    pub email: Option<Sha256Hex>,
    /// SHA-256 of the E.164 phone number.
    pub phone: Option<Sha256Hex>,
    /// SHA-256 of the given name.
    pub first_name: Option<Sha256Hex>,
    /// SHA-256 of the family name.
    pub last_name: Option<Sha256Hex>,
    /// SHA-256 of the street address.
    pub street: Option<Sha256Hex>,
    /// City, plain (lowercase, no symbols).
    pub city: Option<String>,
    /// Region, state or province, plain.
    pub region: Option<String>,
    /// Postal code, plain.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code, plain, uppercase.
    pub country_code: Option<String>,
}

impl fmt::Debug for GoogleUserData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = |v: &Option<String>| {
            if v.is_some() {
                "Some(<redacted>)"
            } else {
                "None"
            }
        };
        f.debug_struct("GoogleUserData")
            .field("email", &self.email)
            .field("phone", &self.phone)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("street", &self.street)
            .field("city", &format_args!("{}", plain(&self.city)))
            .field("region", &format_args!("{}", plain(&self.region)))
            .field("postal_code", &format_args!("{}", plain(&self.postal_code)))
            .field(
                "country_code",
                &format_args!("{}", plain(&self.country_code)),
            )
            .finish()
    }
}

/// What may leave for each platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct HashedUserData {
    /// Meta's `user_data` hashed keys.
    pub meta: MetaUserData,
    /// Google's user identifiers.
    pub google: GoogleUserData,
}

impl HashedUserData {
    /// True when neither platform gets any user data.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The same data as per-platform input: what the pixel sends to the worker so that raw PII
    /// never leaves the browser (design §4). `hash_user_data` of the result gives `self` back.
    #[must_use]
    pub fn to_input(&self) -> RawUserData {
        let (m, g) = (&self.meta, &self.google);
        let hex = |h: &Option<Sha256Hex>| h.as_ref().map(|h| h.as_str().to_owned());
        let pair = |meta: Option<String>, google: Option<String>| {
            (meta.is_some() || google.is_some())
                .then_some(PiiValue::PerPlatform(PerPlatformValue { meta, google }))
        };
        RawUserData {
            email: pair(hex(&m.em), hex(&g.email)),
            phone: pair(hex(&m.ph), hex(&g.phone)),
            first_name: pair(hex(&m.fn_), hex(&g.first_name)),
            last_name: pair(hex(&m.ln), hex(&g.last_name)),
            gender: pair(hex(&m.ge), None),
            date_of_birth: pair(hex(&m.db), None),
            street: pair(None, hex(&g.street)),
            city: pair(hex(&m.ct), g.city.clone()),
            state: pair(hex(&m.st), g.region.clone()),
            zip: pair(hex(&m.zp), g.postal_code.clone()),
            country: pair(hex(&m.country), g.country_code.clone()),
            external_id: pair(hex(&m.external_id), None),
        }
    }
}

impl MetaUserData {
    /// The match keys present, for the match-quality estimate (the worker adds `fbc`, `fbp`,
    /// IP address and user agent, which are not personal data in this module's sense).
    pub fn match_keys(&self) -> MatchKeys {
        [
            (self.em.is_some(), MatchKey::Email),
            (self.ph.is_some(), MatchKey::Phone),
            (self.fn_.is_some(), MatchKey::FirstName),
            (self.ln.is_some(), MatchKey::LastName),
            (self.ge.is_some(), MatchKey::Gender),
            (self.db.is_some(), MatchKey::DateOfBirth),
            (self.ct.is_some(), MatchKey::City),
            (self.st.is_some(), MatchKey::State),
            (self.zp.is_some(), MatchKey::Zip),
            (self.country.is_some(), MatchKey::Country),
            (self.external_id.is_some(), MatchKey::ExternalId),
        ]
        .into_iter()
        .filter_map(|(present, key)| present.then_some(key))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::{PiiField, hash_user_data};

    fn full() -> RawUserData {
        RawUserData::default()
            .with(PiiField::Email, "jane@example.com")
            .with(PiiField::Phone, "+1 650 555 1212")
            .with(PiiField::FirstName, "Jane")
            .with(PiiField::LastName, "Doe")
            .with(PiiField::Gender, "f")
            .with(PiiField::DateOfBirth, "1990-01-31")
            .with(PiiField::Street, "1600 Amphitheatre Pkwy")
            .with(PiiField::City, "Mountain View")
            .with(PiiField::State, "CA")
            .with(PiiField::Zip, "94043")
            .with(PiiField::Country, "US")
            .with(PiiField::ExternalId, "cust-42")
    }

    #[test]
    fn the_pixels_per_platform_form_hashes_back_to_the_same_data() {
        let (hashed, _) = hash_user_data(&full(), "US");
        let input = hashed.to_input();
        assert!(!format!("{input:?}").contains("94043"));
        assert_eq!(hash_user_data(&input, "US"), (hashed, Vec::new()));
    }

    #[test]
    fn debug_of_google_data_redacts_plain_address_fields() {
        let (hashed, _) = hash_user_data(&full(), "US");
        let shown = format!("{hashed:?}");
        assert!(
            !shown.contains("mountain") && !shown.contains("94043"),
            "{shown}"
        );
    }

    #[test]
    fn match_keys_reflect_the_hashed_fields() {
        let (hashed, _) = hash_user_data(&full(), "US");
        let keys = hashed.meta.match_keys();
        assert!(keys.contains(MatchKey::Email) && keys.contains(MatchKey::ExternalId));
        assert!(!keys.contains(MatchKey::Fbc));
        assert_eq!(keys.iter().count(), 11);
    }
}

#[cfg(all(test, feature = "server"))]
mod wire_tests {
    use super::*;
    use crate::pii::{PiiField, hash_user_data};

    #[test]
    fn meta_user_data_serializes_with_metas_key_names() {
        let (hashed, _) = hash_user_data(
            &RawUserData::default().with(PiiField::FirstName, "Mary"),
            "US",
        );
        let json = serde_json::to_string(&hashed.meta).unwrap();
        assert_eq!(
            json,
            r#"{"fn":"6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"}"#
        );
    }

    #[test]
    fn hashed_user_data_round_trips_through_json() {
        let raw: RawUserData = serde_json::from_str(
            r#"{"email":"a@b.com","zip":{"meta":"x","google":"94035"},"country":"us"}"#,
        )
        .unwrap();
        let (hashed, problems) = hash_user_data(&raw, "US");
        assert_eq!(
            problems.len(),
            1,
            "meta zip `x` is not a US ZIP: {problems:?}"
        );
        let json = serde_json::to_string(&hashed).unwrap();
        assert_eq!(
            serde_json::from_str::<HashedUserData>(&json).unwrap(),
            hashed
        );
    }
}
