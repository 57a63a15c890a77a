//! From received user data to what each platform gets: [`hash_user_data`], and the
//! [`FieldProblem`]s it reports.
//!
//! Every field is normalized by each platform's rules ([`super::normalize_meta`],
//! [`super::normalize_google`]) and hashed, except the four address fields Google wants plain
//! (`reference/google.md` §3). A value that already is a 64-hex digest passes through unchanged,
//! never hashed twice (`reference/meta-capi.md` §2.2). An invalid field is dropped for the
//! platform(s) it is invalid for and reported; the rest of the event goes ahead.
//!
//! Country context: the ZIP rule ("first 5 digits for U.S. zip codes") and phones written without
//! a country code use the address's own country when it is readable, otherwise the configured
//! default country (design §3).

use core::fmt;

use super::country::country_code;
use super::hashed::{GoogleUserData, HashedUserData, MetaUserData};
use super::input::{PiiField, PiiValue, RawUserData};
use super::normalize_google as google;
use super::normalize_meta as meta;
use super::unicode::{StdUnicode, Unicode};
use super::{NormalizeError, Sha256Hex};

/// The two platforms that receive user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Meta Conversions API.
    Meta,
    /// Google Ads, Data Manager and GA4.
    Google,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Meta => "Meta",
            Self::Google => "Google",
        })
    }
}

/// A field that was dropped, and why. Never contains the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("user.{field}{}: {problem}", platform.map(|p| format!(" (for {p})")).unwrap_or_default())]
pub struct FieldProblem {
    /// The field, named as in the event JSON.
    pub field: PiiField,
    /// The platform it was dropped for; `None` when dropped for every platform that uses it.
    pub platform: Option<Platform>,
    /// What is wrong with it.
    pub problem: NormalizeError,
}

/// Normalizes and hashes `raw` for both platforms. Never fails as a whole: each invalid field is
/// dropped (for the platforms it is invalid for) and reported.
///
/// `default_country` (ISO 3166-1 alpha-2, either case) applies to phones without a country code
/// and to the ZIP rule when the address has no readable country.
///
/// Lower-casing and character classes are Rust's ([`StdUnicode`]); the pixel passes the
/// browser's to [`hash_user_data_with`].
#[must_use]
pub fn hash_user_data(
    raw: &RawUserData,
    default_country: &str,
) -> (HashedUserData, Vec<FieldProblem>) {
    hash_user_data_with(raw, default_country, &StdUnicode)
}

/// [`hash_user_data`] with the lower-casing and character classes of `unicode`, which must
/// answer as [`StdUnicode`] does for the hashes to match the worker's.
#[must_use]
pub fn hash_user_data_with(
    raw: &RawUserData,
    default_country: &str,
    unicode: &dyn Unicode,
) -> (HashedUserData, Vec<FieldProblem>) {
    use PiiField as F;
    use Platform::{Google, Meta};

    let u = unicode;
    let country = address_country(u, raw).unwrap_or_else(|| default_country.trim().to_owned());
    let mut p = Problems(Vec::new());
    let mut m = MetaUserData::default();
    let mut g = GoogleUserData::default();
    let get = |field| raw.get(field);
    let phone_m = |s: &str| meta::meta_phone(s, &country);
    let phone_g = |s: &str| google::google_phone(s, &country);
    let zip_m = |s: &str| meta::meta_zip(u, s, &country);

    (m.em, g.email) = p.both(
        F::Email,
        hashed(get(F::Email), Meta, |s| meta::meta_email(u, s)),
        hashed(get(F::Email), Google, |s| google::google_email(u, s)),
    );
    (m.ph, g.phone) = p.both(
        F::Phone,
        hashed(get(F::Phone), Meta, phone_m),
        hashed(get(F::Phone), Google, phone_g),
    );
    (m.fn_, g.first_name) = p.both(
        F::FirstName,
        hashed(get(F::FirstName), Meta, |s| meta::meta_name(u, s)),
        hashed(get(F::FirstName), Google, |s| {
            google::google_first_name(u, s)
        }),
    );
    (m.ln, g.last_name) = p.both(
        F::LastName,
        hashed(get(F::LastName), Meta, |s| meta::meta_name(u, s)),
        hashed(get(F::LastName), Google, |s| google::google_last_name(u, s)),
    );
    m.ge = p.one(
        F::Gender,
        hashed(get(F::Gender), Meta, |s| meta::meta_gender(u, s)),
    );
    m.db = p.one(
        F::DateOfBirth,
        hashed(get(F::DateOfBirth), Meta, |s| {
            meta::meta_date_of_birth(u, s)
        }),
    );
    g.street = p.one(
        F::Street,
        hashed(get(F::Street), Google, |s| google::google_street(u, s)),
    );
    (m.ct, g.city) = p.both(
        F::City,
        hashed(get(F::City), Meta, |s| meta::meta_city(u, s)),
        plain(get(F::City), Google, |s| google::google_city(u, s)),
    );
    (m.st, g.region) = p.both(
        F::State,
        hashed(get(F::State), Meta, |s| meta::meta_state(u, s)),
        plain(get(F::State), Google, |s| google::google_region(u, s)),
    );
    (m.zp, g.postal_code) = p.both(
        F::Zip,
        hashed(get(F::Zip), Meta, zip_m),
        plain(get(F::Zip), Google, google::google_postal_code),
    );
    (m.country, g.country_code) = p.both(
        F::Country,
        hashed(get(F::Country), Meta, |s| meta::meta_country(u, s)),
        plain(get(F::Country), Google, |s| {
            google::google_country_code(u, s)
        }),
    );
    m.external_id = p.one(
        F::ExternalId,
        hashed(get(F::ExternalId), Meta, |s| meta::meta_external_id(u, s)),
    );

    (HashedUserData { meta: m, google: g }, p.0)
}

/// A field's outcome for one platform: `None` when absent, else normalized or why not.
type Outcome<T> = Option<Result<T, NormalizeError>>;

/// The platform's non-blank text for a field.
fn text_for(value: Option<&PiiValue>, platform: Platform) -> Option<&str> {
    value?
        .for_platform(platform)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Normalize-then-hash, or pass an existing hash through.
fn hashed(
    value: Option<&PiiValue>,
    platform: Platform,
    normalize: impl Fn(&str) -> Result<String, NormalizeError>,
) -> Outcome<Sha256Hex> {
    let text = text_for(value, platform)?;
    Some(match text.parse::<Sha256Hex>() {
        Ok(hash) => Ok(hash),
        Err(_) => normalize(text).map(|n| Sha256Hex::digest(&n)),
    })
}

/// Normalize only: the platform wants the value unhashed, so a hash cannot serve.
fn plain(
    value: Option<&PiiValue>,
    platform: Platform,
    normalize: impl Fn(&str) -> Result<String, NormalizeError>,
) -> Outcome<String> {
    let text = text_for(value, platform)?;
    Some(if Sha256Hex::looks_hashed(text) {
        Err(NormalizeError::HashedButPlainRequired)
    } else {
        normalize(text)
    })
}

/// The address's own country as a lowercase alpha-2 code, from whichever side is plain.
fn address_country(unicode: &dyn Unicode, raw: &RawUserData) -> Option<String> {
    let value = raw.country.as_ref()?;
    [Platform::Google, Platform::Meta]
        .into_iter()
        .filter_map(|platform| value.for_platform(platform))
        .filter(|text| !Sha256Hex::looks_hashed(text.trim()))
        .find_map(|text| country_code(unicode, text))
}

struct Problems(Vec<FieldProblem>);

impl Problems {
    /// Keeps the good outcomes; one problem when both platforms fail the same way.
    fn both<A, B>(
        &mut self,
        field: PiiField,
        meta: Outcome<A>,
        google: Outcome<B>,
    ) -> (Option<A>, Option<B>) {
        let meta_error = meta.as_ref().and_then(|r| r.as_ref().err().copied());
        let google_error = google.as_ref().and_then(|r| r.as_ref().err().copied());
        match (meta_error, google_error) {
            (Some(a), Some(b)) if a == b => self.push(field, None, a),
            _ => {
                if let Some(problem) = meta_error {
                    self.push(field, Some(Platform::Meta), problem);
                }
                if let Some(problem) = google_error {
                    self.push(field, Some(Platform::Google), problem);
                }
            }
        }
        (meta.and_then(Result::ok), google.and_then(Result::ok))
    }

    /// For a field only one platform uses.
    fn one<T>(&mut self, field: PiiField, outcome: Outcome<T>) -> Option<T> {
        match outcome? {
            Ok(value) => Some(value),
            Err(problem) => {
                self.push(field, None, problem);
                None
            }
        }
    }

    fn push(&mut self, field: PiiField, platform: Option<Platform>, problem: NormalizeError) {
        self.0.push(FieldProblem {
            field,
            platform,
            problem,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::PerPlatformValue;

    const HEX: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";

    fn full() -> RawUserData {
        RawUserData::default()
            .with(PiiField::Email, " John.Smith+shop@Gmail.com ")
            .with(PiiField::Phone, "(650) 555-1212")
            .with(PiiField::FirstName, "Mr. John")
            .with(PiiField::LastName, "Smith, Jr.")
            .with(PiiField::Gender, "Male")
            .with(PiiField::DateOfBirth, "2/16/1997")
            .with(PiiField::Street, "1600 Amphitheatre Pkwy.")
            .with(PiiField::City, "Mountain View")
            .with(PiiField::State, "California")
            .with(PiiField::Zip, "94043-1351")
            .with(PiiField::Country, "United States")
            .with(PiiField::ExternalId, "Cust-42")
    }

    #[expect(clippy::unnecessary_wraps, reason = "compared with the Option fields")]
    fn digest(s: &str) -> Option<Sha256Hex> {
        Some(Sha256Hex::digest(s))
    }

    #[test]
    fn every_field_is_normalized_per_platform_and_hashed() {
        let (hashed, problems) = hash_user_data(&full(), "DE");
        assert_eq!(problems, []);
        let m = &hashed.meta;
        assert_eq!(m.em, digest("john.smith+shop@gmail.com"));
        assert_eq!(
            m.ph,
            digest("16505551212"),
            "the address country (US) beats the default"
        );
        assert_eq!(m.fn_, digest("mrjohn"));
        assert_eq!(m.ln, digest("smithjr"));
        assert_eq!(m.ge, digest("m"));
        assert_eq!(m.db, digest("19970216"));
        assert_eq!(m.ct, digest("mountainview"));
        assert_eq!(m.st, digest("ca"));
        assert_eq!(m.zp, digest("94043"));
        assert_eq!(m.country, digest("us"));
        assert_eq!(m.external_id, digest("cust-42"));
        let g = &hashed.google;
        assert_eq!(g.email, digest("johnsmith@gmail.com"));
        assert_eq!(g.phone, digest("+16505551212"));
        assert_eq!(g.first_name, digest("john"));
        assert_eq!(g.last_name, digest("smith"));
        assert_eq!(g.street, digest("1600 amphitheatre pkwy"));
        assert_eq!(g.city.as_deref(), Some("mountain view"));
        assert_eq!(g.region.as_deref(), Some("california"));
        assert_eq!(g.postal_code.as_deref(), Some("94043-1351"));
        assert_eq!(g.country_code.as_deref(), Some("US"));
    }

    #[test]
    fn already_hashed_values_pass_through_to_both_platforms_unchanged() {
        let raw = RawUserData::default().with(PiiField::Email, HEX.to_ascii_uppercase());
        let (hashed, problems) = hash_user_data(&raw, "US");
        assert_eq!(problems, []);
        assert_eq!(hashed.meta.em.as_ref().map(Sha256Hex::as_str), Some(HEX));
        assert_eq!(
            hashed.google.email.as_ref().map(Sha256Hex::as_str),
            Some(HEX)
        );
    }

    #[test]
    fn a_hash_cannot_stand_in_for_googles_plain_fields() {
        let raw = RawUserData::default().with(PiiField::Zip, HEX);
        let (hashed, problems) = hash_user_data(&raw, "US");
        assert_eq!(hashed.meta.zp.as_ref().map(Sha256Hex::as_str), Some(HEX));
        assert_eq!(hashed.google.postal_code, None);
        assert_eq!(
            problems,
            [FieldProblem {
                field: PiiField::Zip,
                platform: Some(Platform::Google),
                problem: NormalizeError::HashedButPlainRequired,
            }]
        );
    }

    #[test]
    fn per_platform_values_go_only_to_their_platform() {
        let other = Sha256Hex::digest("other");
        let raw = RawUserData::default().with(
            PiiField::Email,
            PiiValue::PerPlatform(PerPlatformValue {
                meta: Some(HEX.into()),
                google: Some(other.to_string()),
            }),
        );
        let (hashed, problems) = hash_user_data(&raw, "US");
        assert_eq!(problems, []);
        assert_eq!(hashed.meta.em.as_ref().map(Sha256Hex::as_str), Some(HEX));
        assert_eq!(hashed.google.email, Some(other));
    }

    #[test]
    fn invalid_fields_are_dropped_and_named_while_the_rest_goes_ahead() {
        let raw = full()
            .with(PiiField::Email, "not-an-email")
            .with(PiiField::DateOfBirth, "1990-02-30");
        let (hashed, problems) = hash_user_data(&raw, "US");
        assert_eq!(hashed.meta.em, None);
        assert_eq!(hashed.google.email, None);
        assert_eq!(hashed.meta.db, None);
        assert!(hashed.meta.ph.is_some());
        assert_eq!(
            problems,
            [
                FieldProblem {
                    field: PiiField::Email,
                    platform: None,
                    problem: NormalizeError::NotAnEmail
                },
                FieldProblem {
                    field: PiiField::DateOfBirth,
                    platform: None,
                    problem: NormalizeError::NotADate
                },
            ]
        );
        assert_eq!(
            problems[0].to_string(),
            "user.email: is not an email address: expected local@domain.tld without spaces"
        );
    }

    #[test]
    fn blank_fields_are_absent_not_problems() {
        let raw = RawUserData::default()
            .with(PiiField::Email, "  ")
            .with(PiiField::Phone, "");
        let (hashed, problems) = hash_user_data(&raw, "US");
        assert!(hashed.is_empty());
        assert_eq!(problems, []);
    }

    #[test]
    fn phone_without_country_code_takes_the_default_country() {
        let raw = RawUserData::default().with(PiiField::Phone, "0151 1234 5678");
        let (hashed, _) = hash_user_data(&raw, "de");
        assert_eq!(hashed.meta.ph, digest("4915112345678"));
        assert_eq!(hashed.google.phone, digest("+4915112345678"));
    }
}
