//! Meta's normalization of customer information parameters before SHA-256, one function per
//! `user_data` key (`em`, `ph`, `fn`, `ln`, `ge`, `db`, `ct`, `st`, `zp`, `country`,
//! `external_id`).
//!
//! Every rule follows Meta's documentation (`reference/meta-capi.md` §2.1), whose worked examples
//! are this module's fixed test vectors. Where Meta's SDKs do something else (§2.3) the docs win
//! (design §3); the comments say where that matters. The phone and date-of-birth rules live in
//! [`super::phone`] and [`super::dob`] and are re-exported here.
//!
//! Each function returns the normalized text; hashing is [`super::Sha256Hex::digest`].

pub use super::dob::meta_date_of_birth;
pub use super::phone::meta_phone;

use super::NormalizeError;
use super::country::country_code;
use super::text::{is_punctuation, lowercase_alphanumeric, lowercase_filtered};
use super::unicode::Unicode;
use super::us_states::us_state_code;

/// `em`: "Trim any leading and trailing spaces. Convert all characters to lowercase."
/// Dots and `+tags` are kept: that gmail rule is Google's only (`reference/google.md` §3).
///
/// # Errors
/// [`NormalizeError::NotAnEmail`] unless the result is `local@domain.tld` without spaces.
pub fn meta_email(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    let email = unicode.lowercase_text(raw.trim());
    check_email(&email)?;
    Ok(email)
}

/// `fn` / `ln`: "Lowercase only with no punctuation. If using special characters, the text must
/// be encoded in UTF-8" — accents and other scripts are kept (`Valéry` → `valéry`). The docs say
/// nothing about spaces; they recommend "a-z characters", and Meta's parameter builder removes
/// whitespace (§2.3), so spaces are removed too (`Mary Ann` → `maryann`).
///
/// # Errors
/// [`NormalizeError::Empty`] when nothing but punctuation and spaces was given.
pub fn meta_name(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    non_empty(lowercase_filtered(unicode, raw, |c| {
        !is_punctuation(c) && !c.is_whitespace() && !c.is_control()
    }))
}

/// `ge`: "initial in lowercase", `f` or `m`. The spelled-out words are accepted as input.
///
/// # Errors
/// [`NormalizeError::UnknownGender`] for anything else: Meta has no other value.
pub fn meta_gender(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    match lowercase_alphanumeric(unicode, raw).as_str() {
        "f" | "female" | "woman" => Ok("f".to_owned()),
        "m" | "male" | "man" => Ok("m".to_owned()),
        _ => Err(NormalizeError::UnknownGender),
    }
}

/// `ct`: "Lowercase only with no punctuation, no special characters, and no spaces (UTF-8 if
/// special chars)" — `New York` → `newyork`. Letters of any script and digits are kept; Meta's
/// parameter builder drops accented letters too (§2.3), the docs do not.
///
/// # Errors
/// [`NormalizeError::Empty`] when no letter or digit remains.
pub fn meta_city(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    non_empty(lowercase_alphanumeric(unicode, raw))
}

/// `st`: "2-character ANSI abbreviation code in lowercase. Normalize states outside the U.S. in
/// lowercase with no punctuation, no special characters, and no spaces." US state names become
/// their code (`California` → `ca`); other regions stay spelled out — the parameter builder's
/// truncation to two characters is not in the docs (§2.3).
///
/// # Errors
/// [`NormalizeError::Empty`] when no letter or digit remains.
pub fn meta_state(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    match us_state_code(unicode, raw) {
        Some(code) => Ok(code.to_owned()),
        None => non_empty(lowercase_alphanumeric(unicode, raw)),
    }
}

/// `zp`: "lowercase with no spaces and no dash. Use only the first 5 digits for U.S. zip codes."
/// `country` (ISO 3166-1 alpha-2, either case) is the address's country, or the default country
/// when the address has none. UK postcodes keep all their parts (`M1 1AE` → `m11ae`).
///
/// # Errors
/// [`NormalizeError::NotAUsZip`] for a US code that does not start with five digits;
/// [`NormalizeError::Empty`] when nothing remains.
pub fn meta_zip(unicode: &dyn Unicode, raw: &str, country: &str) -> Result<String, NormalizeError> {
    let zip = non_empty(lowercase_filtered(unicode, raw, |c| {
        !c.is_whitespace() && !c.is_control() && !matches!(c, '-' | '\u{2010}'..='\u{2015}')
    }))?;
    if !country.trim().eq_ignore_ascii_case("us") {
        return Ok(zip);
    }
    match zip.get(..5) {
        Some(first5) if first5.bytes().all(|b| b.is_ascii_digit()) => Ok(first5.to_owned()),
        _ => Err(NormalizeError::NotAUsZip),
    }
}

/// `country`: "lowercase, 2-letter country codes in ISO 3166-1 alpha-2"; names are mapped as in
/// Meta's example (`United States` → `us`).
///
/// # Errors
/// [`NormalizeError::UnknownCountry`] when neither a code nor a known name.
pub fn meta_country(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    country_code(unicode, raw).ok_or(NormalizeError::UnknownCountry)
}

/// `external_id`: Meta only asks for "the same format as when sent via" other channels (§2.1).
/// We follow Meta's parameter builder (§2.3): lowercase, whitespace removed. The pixel sends the
/// hash of this same form to `fbq`, so both channels agree.
///
/// # Errors
/// [`NormalizeError::Empty`] for a blank ID.
pub fn meta_external_id(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    non_empty(lowercase_filtered(unicode, raw, |c| {
        !c.is_whitespace() && !c.is_control()
    }))
}

/// Accepts `local@domain.tld` with exactly one `@`, no whitespace and a dotted domain.
pub(crate) fn check_email(email: &str) -> Result<(), NormalizeError> {
    let Some((local, domain)) = email.split_once('@') else {
        return Err(NormalizeError::NotAnEmail);
    };
    let valid = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(())
    } else {
        Err(NormalizeError::NotAnEmail)
    }
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
    use crate::pii::Sha256Hex;
    use crate::pii::unicode::StdUnicode;

    fn hex(normalized: Result<String, NormalizeError>) -> String {
        Sha256Hex::digest(&normalized.unwrap_or_default()).to_string()
    }

    /// Meta's worked examples, `reference/meta-capi.md` §2.1, input → normalized → SHA-256.
    #[test]
    fn metas_published_hashing_examples_match() {
        assert_eq!(
            meta_email(&StdUnicode, "John_Smith@gmail.com").as_deref(),
            Ok("john_smith@gmail.com")
        );
        assert_eq!(
            hex(meta_email(&StdUnicode, "John_Smith@gmail.com")),
            "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
        );
        assert_eq!(
            hex(meta_phone("(650)555-1212", "US")),
            "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
        );
        assert_eq!(
            hex(meta_name(&StdUnicode, "Mary")),
            "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"
        );
        assert_eq!(
            hex(meta_name(&StdUnicode, "정")),
            "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14"
        );
        assert_eq!(meta_name(&StdUnicode, "Valéry").as_deref(), Ok("valéry"));
        assert_eq!(
            hex(meta_name(&StdUnicode, "Valéry")),
            "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"
        );
        assert_eq!(
            hex(meta_date_of_birth(&StdUnicode, "2/16/1997")),
            "01acdbf6ec7b4f478a225f1a246e5d6767eeab1a7ffa17f025265b5b94f40f0c"
        );
        assert_eq!(
            hex(meta_country(&StdUnicode, "United States")),
            "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
        );
    }

    #[test]
    fn metas_documented_city_state_and_zip_examples_hold() {
        assert_eq!(meta_city(&StdUnicode, "New York").as_deref(), Ok("newyork"));
        assert_eq!(meta_city(&StdUnicode, " Paris ").as_deref(), Ok("paris"));
        assert_eq!(meta_state(&StdUnicode, "AZ").as_deref(), Ok("az"));
        assert_eq!(meta_zip(&StdUnicode, "94035", "US").as_deref(), Ok("94035"));
        assert_eq!(meta_zip(&StdUnicode, "1987", "AU").as_deref(), Ok("1987"));
        assert_eq!(meta_zip(&StdUnicode, "75018", "fr").as_deref(), Ok("75018"));
        assert_eq!(
            meta_zip(&StdUnicode, "M1 1AE", "GB").as_deref(),
            Ok("m11ae")
        );
    }

    #[test]
    fn us_state_names_become_two_letter_codes() {
        assert_eq!(meta_state(&StdUnicode, "California").as_deref(), Ok("ca"));
        assert_eq!(meta_state(&StdUnicode, "new york").as_deref(), Ok("ny"));
        assert_eq!(
            meta_state(&StdUnicode, "Île-de-France").as_deref(),
            Ok("îledefrance")
        );
    }

    #[test]
    fn us_zip_codes_keep_the_first_five_digits() {
        assert_eq!(
            meta_zip(&StdUnicode, "94035-1234", "us").as_deref(),
            Ok("94035")
        );
        assert_eq!(
            meta_zip(&StdUnicode, "9403", "US"),
            Err(NormalizeError::NotAUsZip)
        );
        assert_eq!(
            meta_zip(&StdUnicode, " - ", "US"),
            Err(NormalizeError::Empty)
        );
    }

    #[test]
    fn gmail_dots_and_plus_tags_are_kept_for_meta() {
        assert_eq!(
            meta_email(&StdUnicode, " Cloudy.SanFrancisco+shopping@gmail.com ").as_deref(),
            Ok("cloudy.sanfrancisco+shopping@gmail.com")
        );
    }

    #[test]
    fn emails_without_at_or_with_spaces_are_rejected() {
        for raw in [
            "john.example.com",
            "@example.com",
            "john@",
            "jo hn@example.com",
            "a@b@c.de",
        ] {
            assert_eq!(
                meta_email(&StdUnicode, raw),
                Err(NormalizeError::NotAnEmail),
                "{raw}"
            );
        }
    }

    #[test]
    fn names_lose_punctuation_and_spaces_but_keep_accents() {
        assert_eq!(
            meta_name(&StdUnicode, " O’Brien-Smith ").as_deref(),
            Ok("obriensmith")
        );
        assert_eq!(meta_name(&StdUnicode, "Mary Ann").as_deref(), Ok("maryann"));
        assert_eq!(meta_name(&StdUnicode, " .- "), Err(NormalizeError::Empty));
    }

    #[test]
    fn gender_becomes_its_lowercase_initial() {
        assert_eq!(meta_gender(&StdUnicode, "Female").as_deref(), Ok("f"));
        assert_eq!(meta_gender(&StdUnicode, " M ").as_deref(), Ok("m"));
        assert_eq!(
            meta_gender(&StdUnicode, "other"),
            Err(NormalizeError::UnknownGender)
        );
    }

    #[test]
    fn countries_become_lowercase_alpha2() {
        assert_eq!(meta_country(&StdUnicode, "US").as_deref(), Ok("us"));
        assert_eq!(meta_country(&StdUnicode, "Germany").as_deref(), Ok("de"));
        assert_eq!(
            meta_country(&StdUnicode, "Narnia"),
            Err(NormalizeError::UnknownCountry)
        );
    }

    #[test]
    fn external_ids_are_lowercased_without_whitespace() {
        assert_eq!(
            meta_external_id(&StdUnicode, " Cust 42 ").as_deref(),
            Ok("cust42")
        );
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
        fn meta_normalizers_are_idempotent_and_never_panic(raw in "\\PC{0,40}") {
            assert_idempotent(|s| meta_email(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| meta_name(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| meta_gender(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| meta_city(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| meta_state(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| meta_zip(&StdUnicode, s, "US"), &raw)?;
            assert_idempotent(|s| meta_zip(&StdUnicode, s, "GB"), &raw)?;
            assert_idempotent(|s| meta_country(&StdUnicode, s), &raw)?;
            assert_idempotent(|s| meta_external_id(&StdUnicode, s), &raw)?;
        }

        #[test]
        fn email_shaped_input_is_idempotent(raw in "[ A-Za-z0-9._+-]{1,12}@[A-Za-z0-9.-]{1,12} ?") {
            assert_idempotent(|s| meta_email(&StdUnicode, s), &raw)?;
        }
    }
}
