//! Google's normalization of user-provided data (enhanced conversions, Data Manager API, GA4
//! Measurement Protocol), `reference/google.md` §3.
//!
//! Hashed (SHA-256 of the result): email, phone, first and last name, street. Sent unhashed, as
//! Google requires: postal code and country code ("`regionCode` … and `postalCode` **not
//! hashed**"), and city and region (the Ads API's `OfflineUserAddressInfo` takes `city` and
//! `state` plain; GA4's `city`/`region` are "plain-normalized").
//!
//! The phone rule (E.164) lives in [`super::phone`] and is re-exported here.

pub use super::phone::google_phone;

use super::NormalizeError;
use super::country::country_code;
use super::normalize_meta::check_email;
use super::text::{collapse_whitespace, lowercase_words};
use super::unicode::Unicode;

/// Honorifics dropped from a given name, as Google's Data Manager formatters drop them
/// (`(mr|mrs|ms|dr)\.` followed by a space or the end, data-manager.md §6.2): only with the dot,
/// so `Mralex` and `Ms Jane`'s `ms` stay. "Don't include prefixes such as Mrs." (google.md §3).
const NAME_PREFIXES: &[&str] = &["mr.", "mrs.", "ms.", "dr."];
/// Suffixes dropped from the end of a family name when a comma or a space precedes them, the
/// formatters' list (data-manager.md §6.2); `jr`/`sr` with or without their dot.
const NAME_SUFFIXES: &[&str] = &[
    "jr.", "jr", "sr.", "sr", "2nd", "3rd", "ii", "iii", "iv", "v", "vi", "cpa", "dc", "dds", "vm",
    "jd", "md", "phd",
];

/// Email: lowercase, leading, trailing and inner whitespace removed; for `gmail.com` and
/// `googlemail.com` only, every `.` and any `+tag` are removed from the local part
/// (`cloudy.sanfrancisco+shopping@gmail.com` → `cloudysanfrancisco@gmail.com`; other domains keep
/// both: `user.name+NYC@Example.com` → `user.name+nyc@example.com`).
///
/// # Errors
/// [`NormalizeError::NotAnEmail`] unless the result is `local@domain.tld`.
pub fn google_email(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    let kept: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let email = unicode.lowercase_chars(&kept);
    check_email(&email)?;
    let Some((local, domain)) = email.split_once('@') else {
        return Err(NormalizeError::NotAnEmail);
    };
    if domain != "gmail.com" && domain != "googlemail.com" {
        return Ok(email);
    }
    // Segment's bug to avoid (§3): `replace('.', '')` in JS removes only the first dot.
    let local: String = local
        .split('+')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|&c| c != '.')
        .collect();
    if local.is_empty() {
        return Err(NormalizeError::NotAnEmail);
    }
    Ok([&*local, "@", domain].concat())
}

/// Given name, as Google's official Data Manager formatters write it: lowercase, trimmed,
/// punctuation kept (`Quinn-Alex` → `quinn-alex`), inner whitespace collapsed to one space,
/// honorifics with their dot removed anywhere (` Mr. Alex ` and ` Alex Dr.` → `alex`).
///
/// Decision (data-manager.md §6.2): the API reference says "no punctuation", but every official
/// formatter keeps it and asserts so in its tests, and they are what Google's own client
/// libraries hash; a hyphenated name must hash the same here as there.
///
/// # Errors
/// [`NormalizeError::Empty`] when nothing but an honorific and spaces was given.
pub fn google_first_name(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    let lower = lower_collapsed(unicode, raw);
    let kept: Vec<&str> = lower
        .split(' ')
        .filter(|w| !NAME_PREFIXES.contains(w))
        .collect();
    non_empty(kept.join(" "))
}

/// Family name, as Google's official formatters write it: lowercase, trimmed, punctuation kept,
/// trailing generational or professional suffixes removed when a comma or a space precedes them
/// (` Quinn, Jr. ` and `quinn, jr., dds` → `quinn`; `Boardds` stays `boardds`).
///
/// # Errors
/// [`NormalizeError::Empty`] when nothing but suffixes, commas and spaces was given.
pub fn google_last_name(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    let mut name = lower_collapsed(unicode, raw);
    loop {
        let trimmed = name.trim_end_matches([' ', ',']).to_owned();
        let cut = NAME_SUFFIXES.iter().find_map(|suffix| {
            let rest = trimmed.strip_suffix(suffix)?;
            rest.ends_with([' ', ','])
                .then(|| rest.trim_end_matches([' ', ',']).to_owned())
        });
        let Some(rest) = cut else {
            name = trimmed;
            break;
        };
        name = rest;
    }
    if name.starts_with(',') || NAME_SUFFIXES.contains(&name.as_str()) {
        return Err(NormalizeError::Empty);
    }
    non_empty(name)
}

/// Lowercase, controls dropped, trimmed, inner whitespace collapsed to one space.
fn lower_collapsed(unicode: &dyn Unicode, raw: &str) -> String {
    let kept: String = collapse_whitespace(raw)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    unicode.lowercase_chars(&kept)
}

/// Street (hashed): symbols removed, lowercase, trimmed (GA4 `sha256_street`, Data Manager
/// `address_line`).
///
/// # Errors
/// [`NormalizeError::Empty`] when nothing remains.
pub fn google_street(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    non_empty(lowercase_words(unicode, raw))
}

/// City (sent plain): symbols removed, lowercase, trimmed.
///
/// # Errors
/// [`NormalizeError::Empty`] when nothing remains.
pub fn google_city(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    non_empty(lowercase_words(unicode, raw))
}

/// Region, state or province (sent plain): normalized as the city.
///
/// # Errors
/// [`NormalizeError::Empty`] when nothing remains.
pub fn google_region(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    google_city(unicode, raw)
}

/// Postal code (sent plain): trimmed, inner whitespace collapsed, otherwise as given.
///
/// # Errors
/// [`NormalizeError::Empty`] for a blank code.
pub fn google_postal_code(raw: &str) -> Result<String, NormalizeError> {
    non_empty(collapse_whitespace(raw))
}

/// Country (sent plain): ISO 3166-1 alpha-2 in uppercase, as in Google's examples (`US`).
///
/// # Errors
/// [`NormalizeError::UnknownCountry`] when neither a code nor a known name.
pub fn google_country_code(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    country_code(unicode, raw)
        .map(|code| code.to_ascii_uppercase())
        .ok_or(NormalizeError::UnknownCountry)
}

fn non_empty(s: String) -> Result<String, NormalizeError> {
    if s.is_empty() {
        Err(NormalizeError::Empty)
    } else {
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::unicode::StdUnicode;

    /// Google's examples, `reference/google.md` §3.
    #[test]
    fn googles_documented_email_examples_hold() {
        assert_eq!(
            google_email(&StdUnicode, "cloudy.sanfrancisco+shopping@gmail.com").as_deref(),
            Ok("cloudysanfrancisco@gmail.com")
        );
        assert_eq!(
            google_email(&StdUnicode, "user.name+NYC@Example.com").as_deref(),
            Ok("user.name+nyc@example.com")
        );
        assert_eq!(
            google_phone("(800)555-0100", "US").as_deref(),
            Ok("+18005550100")
        );
    }

    #[test]
    fn gmail_dots_are_removed_for_google_only() {
        let raw = " J.o.h.n.Smith+promo@GoogleMail.com ";
        assert_eq!(
            google_email(&StdUnicode, raw).as_deref(),
            Ok("johnsmith@googlemail.com")
        );
        assert_eq!(
            crate::pii::normalize_meta::meta_email(&StdUnicode, raw).as_deref(),
            Ok("j.o.h.n.smith+promo@googlemail.com")
        );
    }

    #[test]
    fn inner_whitespace_is_removed_from_emails() {
        assert_eq!(
            google_email(&StdUnicode, " jane @ example.com").as_deref(),
            Ok("jane@example.com")
        );
    }

    #[test]
    fn a_gmail_address_that_is_only_a_tag_is_rejected() {
        assert_eq!(
            google_email(&StdUnicode, "+news@gmail.com"),
            Err(NormalizeError::NotAnEmail)
        );
        assert_eq!(
            google_email(&StdUnicode, "no-at-sign"),
            Err(NormalizeError::NotAnEmail)
        );
    }

    /// The official formatters' given-name vectors (data-manager.md §6.3, Java/.NET).
    #[test]
    fn given_names_match_googles_official_formatter() {
        for (raw, want) in [
            (" Alex   ", "alex"),
            (" Mr. Alex   ", "alex"),
            (" Mrs. Alex   ", "alex"),
            (" Dr. Alex   ", "alex"),
            (" Alex Dr.", "alex"),
            (" Mralex   ", "mralex"),
            ("Mary Ann", "mary ann"),
            (" Mrs. Mary-Ann ", "mary-ann"),
        ] {
            assert_eq!(
                google_first_name(&StdUnicode, raw).as_deref(),
                Ok(want),
                "{raw:?}"
            );
        }
        for raw in [" ", " Mr. "] {
            assert_eq!(
                google_first_name(&StdUnicode, raw),
                Err(NormalizeError::Empty),
                "{raw:?}"
            );
        }
    }

    /// The official formatters' family-name vectors (data-manager.md §6.3).
    #[test]
    fn family_names_match_googles_official_formatter() {
        for (raw, want) in [
            (" Quinn   ", "quinn"),
            ("Quinn-Alex", "quinn-alex"),
            (" Quinn, Jr.   ", "quinn"),
            (" Quinn,Jr.   ", "quinn"),
            (" Quinn Sr.  ", "quinn"),
            ("quinn, jr. dds", "quinn"),
            ("quinn, jr., dds", "quinn"),
            ("Boardds", "boardds"),
            ("lacparm", "lacparm"),
            ("O’Neil", "o’neil"),
            ("Valéry", "valéry"),
        ] {
            assert_eq!(
                google_last_name(&StdUnicode, raw).as_deref(),
                Ok(want),
                "{raw:?}"
            );
        }
        for raw in [" ", ", Jr. ", ",Jr.,DDS "] {
            assert_eq!(
                google_last_name(&StdUnicode, raw),
                Err(NormalizeError::Empty),
                "{raw:?}"
            );
        }
    }

    /// The official formatters' email vectors (data-manager.md §6.3).
    #[test]
    fn emails_match_googles_official_formatter() {
        for (raw, want) in [
            ("QuinnY@example.com", "quinny@example.com"),
            ("QuinnY@EXAMPLE.com", "quinny@example.com"),
            (
                "Jefferson.Loves.hiking@gmail.com",
                "jeffersonloveshiking@gmail.com",
            ),
            (
                "Jefferson.LOVES.Hiking@googlemail.com",
                "jeffersonloveshiking@googlemail.com",
            ),
            (
                "j.e.f..ferson.Loves.hiking@gmail.com",
                "jeffersonloveshiking@gmail.com",
            ),
            (
                "Cloudy.SanFrancisco+shopping@googlemail.com",
                "cloudysanfrancisco@googlemail.com",
            ),
        ] {
            assert_eq!(
                google_email(&StdUnicode, raw).as_deref(),
                Ok(want),
                "{raw:?}"
            );
        }
        for raw in ["", "  ", "quinn", "@example.com"] {
            assert!(google_email(&StdUnicode, raw).is_err(), "{raw:?}");
        }
        // The official hash vector (data-manager.md §6.3).
        let hashed = crate::pii::hash::Sha256Hex::digest(
            &google_email(&StdUnicode, "  ALEXZ@example.com   ").unwrap_or_default(),
        );
        assert_eq!(
            hashed.as_str(),
            "509e933019bb285a134a9334b8bb679dff79d0ce023d529af4bd744d47b4fd8a"
        );
    }

    #[test]
    fn address_fields_are_normalized_plain() {
        assert_eq!(
            google_street(&StdUnicode, " 1600 Amphitheatre Pkwy. ").as_deref(),
            Ok("1600 amphitheatre pkwy")
        );
        assert_eq!(
            google_city(&StdUnicode, "  Mountain  View ").as_deref(),
            Ok("mountain view")
        );
        assert_eq!(google_postal_code(" SW1A  1AA ").as_deref(), Ok("SW1A 1AA"));
        assert_eq!(
            google_country_code(&StdUnicode, "united states").as_deref(),
            Ok("US")
        );
        assert_eq!(google_country_code(&StdUnicode, "gb").as_deref(), Ok("GB"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::pii::unicode::StdUnicode;

    fn assert_idempotent(
        normalize: impl Fn(&str) -> Result<String, NormalizeError>,
        raw: &str,
    ) -> Result<(), TestCaseError> {
        if let Ok(once) = normalize(raw) {
            prop_assert_eq!(normalize(&once), Ok(once.clone()), "input {:?}", raw);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn google_normalizers_are_idempotent_and_never_panic(raw in "\\PC{0,40}") {
            assert_idempotent(|s| google_email(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| google_first_name(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| google_last_name(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| google_street(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| google_city(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| google_region(&StdUnicode, s), &raw)?;
            assert_idempotent(google_postal_code, &raw)?;
            assert_idempotent(|s| google_country_code(&StdUnicode, s), &raw)?;
        }

        #[test]
        fn gmail_shaped_input_is_idempotent(
            raw in "[ A-Za-z0-9.+_-]{1,16}@(gmail|googlemail|example)\\.com",
        ) {
            assert_idempotent(|s| google_email(&StdUnicode, s), &raw)?;
        }
    }
}
