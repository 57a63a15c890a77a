//! User data as it arrives: plain values typed by the shopper, hashes the merchant computed, or
//! per-platform hashes the pixel computed in the browser.
//!
//! One field accepts three JSON forms (with the `server` feature):
//! - `"email": "Jane@Example.com"` — plain; normalized and hashed here, per platform;
//! - `"email": "<64 hex digits>"` — already hashed; passed through to both platforms unchanged;
//! - `"email": {"meta": "<hex>", "google": "<hex>"}` — one value per platform, for fields whose
//!   rules differ (Meta keeps gmail dots, Google drops them; Meta phones are digits, Google's
//!   E.164). Each side is treated like a plain field for that platform only, so Google's unhashed
//!   address fields travel as `{"meta": "<hex>", "google": "94035"}`.
//!
//! Raw values never show in `Debug` output (they print as `<redacted>`), and these types are
//! deliberately not `Serialize`: raw PII is never stored, logged or forwarded (design §4).

use core::fmt;

/// One user-data field as received.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "server", derive(serde::Deserialize), serde(untagged))]
pub enum PiiValue {
    /// A plain value, or one SHA-256 hex digest meant for every platform.
    Text(String),
    /// Values prepared separately for each platform (usually hashes from the pixel).
    PerPlatform(PerPlatformValue),
}

/// A field's value per platform; a missing side means "nothing for that platform".
#[derive(Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "server",
    derive(serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct PerPlatformValue {
    /// What Meta gets: a hash, or a plain value normalized by Meta's rules.
    pub meta: Option<String>,
    /// What Google gets: a hash, or a plain value normalized by Google's rules.
    pub google: Option<String>,
}

impl PiiValue {
    /// The text meant for `platform`, if any.
    pub fn for_platform(&self, platform: super::Platform) -> Option<&str> {
        match (self, platform) {
            (Self::Text(text), _) => Some(text),
            (Self::PerPlatform(v), super::Platform::Meta) => v.meta.as_deref(),
            (Self::PerPlatform(v), super::Platform::Google) => v.google.as_deref(),
        }
    }
}

impl From<&str> for PiiValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for PiiValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl fmt::Debug for PiiValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(_) => f.write_str("Text(<redacted>)"),
            Self::PerPlatform(v) => fmt::Debug::fmt(v, f),
        }
    }
}

impl fmt::Debug for PerPlatformValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| {
            if v.is_some() {
                "Some(<redacted>)"
            } else {
                "None"
            }
        };
        f.debug_struct("PerPlatformValue")
            .field("meta", &format_args!("{}", redact(&self.meta)))
            .field("google", &format_args!("{}", redact(&self.google)))
            .finish()
    }
}

/// The user-data fields an event may carry, named as in the event JSON's `user{}` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiField {
    /// `email`: Meta `em`, Google email.
    Email,
    /// `phone`: Meta `ph`, Google phone number.
    Phone,
    /// `first_name`: Meta `fn`, Google given name.
    FirstName,
    /// `last_name`: Meta `ln`, Google family name.
    LastName,
    /// `gender`: Meta `ge` only.
    Gender,
    /// `date_of_birth`: Meta `db` only.
    DateOfBirth,
    /// `street`: Google only (Meta has no street key).
    Street,
    /// `city`: Meta `ct` (hashed), Google city (plain).
    City,
    /// `state`: Meta `st` (hashed), Google region (plain).
    State,
    /// `zip`: Meta `zp` (hashed), Google postal code (plain).
    Zip,
    /// `country`: Meta `country` (hashed), Google country code (plain).
    Country,
    /// `external_id`: Meta `external_id` only.
    ExternalId,
}

impl PiiField {
    /// Every field, in the order problems are reported.
    pub const ALL: [PiiField; 12] = [
        PiiField::Email,
        PiiField::Phone,
        PiiField::FirstName,
        PiiField::LastName,
        PiiField::Gender,
        PiiField::DateOfBirth,
        PiiField::Street,
        PiiField::City,
        PiiField::State,
        PiiField::Zip,
        PiiField::Country,
        PiiField::ExternalId,
    ];

    /// The field's name in the event JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Gender => "gender",
            Self::DateOfBirth => "date_of_birth",
            Self::Street => "street",
            Self::City => "city",
            Self::State => "state",
            Self::Zip => "zip",
            Self::Country => "country",
            Self::ExternalId => "external_id",
        }
    }
}

impl fmt::Display for PiiField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `user{}` object of an event, as received. Every field is optional; unknown fields are
/// rejected (a typo would otherwise silently lose a match key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "server",
    derive(serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct RawUserData {
    /// Email address.
    pub email: Option<PiiValue>,
    /// Phone number, with or without country code.
    pub phone: Option<PiiValue>,
    /// First (given) name.
    pub first_name: Option<PiiValue>,
    /// Last (family) name.
    pub last_name: Option<PiiValue>,
    /// Gender (`f`, `m`, `female`, `male`).
    pub gender: Option<PiiValue>,
    /// Date of birth in a common format.
    pub date_of_birth: Option<PiiValue>,
    /// Street address.
    pub street: Option<PiiValue>,
    /// City.
    pub city: Option<PiiValue>,
    /// State, region or province.
    pub state: Option<PiiValue>,
    /// Postal (ZIP) code.
    pub zip: Option<PiiValue>,
    /// Country code or name.
    pub country: Option<PiiValue>,
    /// The merchant's customer ID.
    pub external_id: Option<PiiValue>,
}

impl RawUserData {
    /// The value of `field`, if present.
    pub fn get(&self, field: PiiField) -> Option<&PiiValue> {
        match field {
            PiiField::Email => self.email.as_ref(),
            PiiField::Phone => self.phone.as_ref(),
            PiiField::FirstName => self.first_name.as_ref(),
            PiiField::LastName => self.last_name.as_ref(),
            PiiField::Gender => self.gender.as_ref(),
            PiiField::DateOfBirth => self.date_of_birth.as_ref(),
            PiiField::Street => self.street.as_ref(),
            PiiField::City => self.city.as_ref(),
            PiiField::State => self.state.as_ref(),
            PiiField::Zip => self.zip.as_ref(),
            PiiField::Country => self.country.as_ref(),
            PiiField::ExternalId => self.external_id.as_ref(),
        }
    }

    /// Sets `field` (builder style, for the pixel and tests).
    #[must_use]
    pub fn with(mut self, field: PiiField, value: impl Into<PiiValue>) -> Self {
        *self.slot_mut(field) = Some(value.into());
        self
    }

    fn slot_mut(&mut self, field: PiiField) -> &mut Option<PiiValue> {
        match field {
            PiiField::Email => &mut self.email,
            PiiField::Phone => &mut self.phone,
            PiiField::FirstName => &mut self.first_name,
            PiiField::LastName => &mut self.last_name,
            PiiField::Gender => &mut self.gender,
            PiiField::DateOfBirth => &mut self.date_of_birth,
            PiiField::Street => &mut self.street,
            PiiField::City => &mut self.city,
            PiiField::State => &mut self.state,
            PiiField::Zip => &mut self.zip,
            PiiField::Country => &mut self.country,
            PiiField::ExternalId => &mut self.external_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_raw_values() {
        let raw = RawUserData::default()
            .with(PiiField::Email, "jane.doe@example.com")
            .with(
                PiiField::Phone,
                PiiValue::PerPlatform(PerPlatformValue {
                    meta: Some("16505551212".into()),
                    google: None,
                }),
            );
        let shown = format!("{raw:?} {raw:#?}");
        assert!(!shown.contains("jane"), "{shown}");
        assert!(!shown.contains("5551212"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(shown.contains("first_name: None"), "{shown}");
    }

    #[test]
    fn every_field_round_trips_through_with_and_get() {
        for field in PiiField::ALL {
            let raw = RawUserData::default().with(field, field.as_str());
            assert_eq!(raw.get(field), Some(&PiiValue::from(field.as_str())));
            let others = PiiField::ALL.iter().filter(|&&f| f != field);
            assert!(others.clone().all(|&f| raw.get(f).is_none()));
        }
    }
}

#[cfg(all(test, feature = "server"))]
mod wire_tests {
    use super::*;

    const HEX: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";

    #[test]
    fn a_field_accepts_plain_hashed_or_per_platform_json() {
        let json = format!(
            r#"{{"email":"a@b.com","phone":"{HEX}","zip":{{"meta":"{HEX}","google":"94035"}}}}"#
        );
        let raw: RawUserData = serde_json::from_str(&json).unwrap();
        assert_eq!(raw.email, Some(PiiValue::from("a@b.com")));
        assert_eq!(raw.phone, Some(PiiValue::from(HEX)));
        assert_eq!(
            raw.zip,
            Some(PiiValue::PerPlatform(PerPlatformValue {
                meta: Some(HEX.into()),
                google: Some("94035".into()),
            }))
        );
    }

    #[test]
    fn unknown_user_fields_and_platforms_are_rejected() {
        assert!(serde_json::from_str::<RawUserData>(r#"{"emial":"a@b.com"}"#).is_err());
        assert!(serde_json::from_str::<RawUserData>(r#"{"email":{"tiktok":"x"}}"#).is_err());
    }
}
