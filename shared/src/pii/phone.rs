//! Phone numbers: one reading of the digits, rendered for each platform.
//!
//! Both platforms want the number with its country code: Meta as digits only ("Remove symbols,
//! letters, and any leading zeros. Phone numbers must include a country code",
//! `reference/meta-capi.md` §2.1, whose example turns `(650)555-1212` into `16505551212`), Google
//! as E.164, `+` then digits (`(800)555-0100` → `+18005550100`, `reference/google.md` §3).
//! Meta's parameter builder adds no country code at all (§2.3); the docs win (design §3), so a
//! number written without one takes the configured default country's calling code.
//!
//! How a number is read (no numbering-plan tables, which would not fit the pixel):
//! 1. `+` before the first digit, or an international call prefix (`00…`, or `011…` in North
//!    America) → the digits already start with the country code.
//! 2. A national trunk prefix (`0…`, as in `020 7946 0958` or `0151 1234567`) → the zeros are
//!    dropped and the default country's code is prepended.
//! 3. Digits that start with the default country's code followed by at least 8 more digits
//!    (`16505551212` in the US, `447911123456` in the UK) → already international.
//! 4. Digits too many to be a national number of the default country, that start with a
//!    country calling code (`441134960987` with the US as default: US numbers have 10 digits)
//!    → already international, written without its `+`. Google's own formatters read digits
//!    that way (data-manager.md §6.3: `441134960987` → `+441134960987`); prepending the default
//!    code instead would hash a number nobody has, on both platforms.
//! 5. Anything else (`6505551212`) → the default country's code is prepended.
//!
//! The `(0)` of `+44 (0)20 …` is dropped before reading. The result must have 7 to 15 digits
//! (E.164's maximum is 15).

use super::NormalizeError;
use super::country::calling_code;

/// Fewest digits (country code included) accepted: the shortest numbering plans have 7.
const MIN_DIGITS: usize = 7;
/// E.164's maximum length.
const MAX_DIGITS: usize = 15;
/// National digits that must follow a leading default calling code for rule 3.
const MIN_NATIONAL_AFTER_CODE: usize = 8;

/// The longest national significant number of the countries whose shoppers most often write
/// their number without `+`, by calling code (ITU-T E.164 national numbering plans). A country
/// not listed gets no rule 4: its numbers are read as national.
const MAX_NATIONAL_DIGITS: &[(&str, usize)] = &[
    ("1", 10),
    ("7", 10),
    ("31", 9),
    ("32", 9),
    ("33", 9),
    ("34", 9),
    ("39", 11),
    ("41", 9),
    ("44", 10),
    ("45", 8),
    ("46", 9),
    ("47", 8),
    ("48", 9),
    ("61", 9),
    ("64", 10),
    ("91", 10),
];

/// Whether `digits` (no `+`, no trunk prefix) are too many to be a national number behind
/// `default_code` and start with another country's calling code.
fn written_international(digits: &str, default_code: &str) -> bool {
    let Some(&(_, max)) = MAX_NATIONAL_DIGITS.iter().find(|(c, _)| *c == default_code) else {
        return false;
    };
    digits.len() > max
        && (1..=3).any(|n| digits.get(..n).is_some_and(super::country::is_calling_code))
}

/// Meta's `ph` form: country code and number as digits only (`16505551212`).
///
/// `default_country` is an ISO 3166-1 alpha-2 code (either case) used when the number carries no
/// country code.
///
/// # Errors
/// [`NormalizeError::NotAPhoneNumber`] when fewer than 7 or more than 15 digits remain;
/// [`NormalizeError::NoCountryCode`] when the number needs the default country and it is unknown.
pub fn meta_phone(raw: &str, default_country: &str) -> Result<String, NormalizeError> {
    international_digits(raw, default_country)
}

/// Google's form: E.164, `+` then country code and number (`+18005550100`).
///
/// # Errors
/// As [`meta_phone`].
pub fn google_phone(raw: &str, default_country: &str) -> Result<String, NormalizeError> {
    international_digits(raw, default_country).map(|digits| ["+", &digits].concat())
}

/// The country code and national number as ASCII digits.
fn international_digits(raw: &str, default_country: &str) -> Result<String, NormalizeError> {
    let text = raw.trim().replace("(0)", "");
    // A `+` before the first digit marks the country code (`tel:+1 …` included).
    let explicit_plus = text
        .chars()
        .find(|c| c.is_ascii_digit() || matches!(c, '+' | '\u{ff0b}'))
        .is_some_and(|c| !c.is_ascii_digit());
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Err(NormalizeError::NotAPhoneNumber);
    }
    let default_code = calling_code(default_country);
    let international = if explicit_plus || digits.starts_with("00") {
        digits.trim_start_matches('0').to_owned()
    } else if let Some(rest) = digits
        .strip_prefix("011")
        .filter(|_| default_code == Some("1"))
    {
        rest.trim_start_matches('0').to_owned()
    } else {
        let national = digits.trim_start_matches('0');
        let code = default_code.ok_or(NormalizeError::NoCountryCode)?;
        let has_trunk_prefix = national.len() < digits.len();
        let starts_with_default =
            national.starts_with(code) && national.len() >= code.len() + MIN_NATIONAL_AFTER_CODE;
        if !has_trunk_prefix && (starts_with_default || written_international(national, code)) {
            national.to_owned()
        } else {
            [code, national].concat()
        }
    };
    if (MIN_DIGITS..=MAX_DIGITS).contains(&international.len()) {
        Ok(international)
    } else {
        Err(NormalizeError::NotAPhoneNumber)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The official Data Manager formatters' phone vectors (data-manager.md §6.3), with the US
    /// as the default country.
    #[test]
    fn a_number_written_with_its_country_code_but_without_plus_is_international() {
        for raw in ["441134960987", "+441134960987", "+44-113-496-0987"] {
            assert_eq!(
                google_phone(raw, "US").as_deref(),
                Ok("+441134960987"),
                "{raw}"
            );
            assert_eq!(
                meta_phone(raw, "US").as_deref(),
                Ok("441134960987"),
                "{raw}"
            );
        }
        for raw in ["1 800 555 0100", "18005550100", "+1 800-555-0100"] {
            assert_eq!(
                google_phone(raw, "US").as_deref(),
                Ok("+18005550100"),
                "{raw}"
            );
        }
        // A UK shopper's US number, default GB: 11 digits are too many for a UK number.
        assert_eq!(
            google_phone("16505551212", "GB").as_deref(),
            Ok("+16505551212")
        );
        // Ten digits fit a US number: read as national.
        assert_eq!(
            google_phone("4411349609", "US").as_deref(),
            Ok("+14411349609")
        );
    }

    #[test]
    fn metas_documented_example_gets_the_us_country_code() {
        assert_eq!(
            meta_phone("(650)555-1212", "US").as_deref(),
            Ok("16505551212")
        );
    }

    #[test]
    fn googles_documented_example_is_e164() {
        assert_eq!(
            google_phone("(800)555-0100", "us").as_deref(),
            Ok("+18005550100")
        );
    }

    #[test]
    fn phone_without_country_code_takes_the_default_country() {
        assert_eq!(
            meta_phone("030 1234567", "DE").as_deref(),
            Ok("49301234567")
        );
        assert_eq!(
            google_phone("07911 123456", "GB").as_deref(),
            Ok("+447911123456")
        );
        assert_eq!(
            google_phone("612 345 678", "FR").as_deref(),
            Ok("+33612345678")
        );
    }

    #[test]
    fn phone_with_country_code_keeps_it_whatever_the_default() {
        assert_eq!(
            meta_phone("+44 7911 123456", "US").as_deref(),
            Ok("447911123456")
        );
        assert_eq!(
            meta_phone("0044 7911 123456", "DE").as_deref(),
            Ok("447911123456")
        );
        assert_eq!(
            meta_phone("011 44 7911 123456", "US").as_deref(),
            Ok("447911123456")
        );
        assert_eq!(
            meta_phone("1-650-555-1212", "US").as_deref(),
            Ok("16505551212")
        );
        assert_eq!(
            google_phone("+44 (0)20 7946 0958", "US").as_deref(),
            Ok("+442079460958")
        );
    }

    #[test]
    fn letters_and_symbols_are_removed() {
        assert_eq!(
            meta_phone("tel: +1 (650) 555-1212", "DE").as_deref(),
            Ok("16505551212")
        );
    }

    #[test]
    fn too_short_too_long_or_empty_numbers_are_rejected() {
        assert_eq!(meta_phone("12", "US"), Err(NormalizeError::NotAPhoneNumber));
        assert_eq!(
            meta_phone("+1234567890123456", "US"),
            Err(NormalizeError::NotAPhoneNumber)
        );
        assert_eq!(
            meta_phone("n/a", "US"),
            Err(NormalizeError::NotAPhoneNumber)
        );
    }

    #[test]
    fn a_national_number_needs_a_known_default_country() {
        assert_eq!(
            meta_phone("6505551212", "ZZ"),
            Err(NormalizeError::NoCountryCode)
        );
        assert_eq!(
            meta_phone("+16505551212", "ZZ").as_deref(),
            Ok("16505551212")
        );
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn e164_is_idempotent_and_never_panics(raw in "\\PC{0,40}", cc in "(US|DE|GB|FR|SG|ZZ)") {
            if let Ok(once) = google_phone(&raw, &cc) {
                prop_assert_eq!(google_phone(&once, &cc), Ok(once.clone()));
                let digits = once.strip_prefix('+').unwrap_or_default();
                prop_assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
            }
        }

        #[test]
        fn phone_shaped_input_is_idempotent(raw in "[+0-9 ()-]{0,24}", cc in "(US|DE|GB|FR|SG)") {
            // Meta's digits-only form drops the `+`, so reading it again takes rule 3; the fixed
            // point that always holds is reading it back as international.
            if let Ok(once) = meta_phone(&raw, &cc) {
                prop_assert_eq!(meta_phone(&format!("+{once}"), &cc), Ok(once.clone()));
                prop_assert_eq!(google_phone(&raw, &cc), Ok(format!("+{once}")));
            }
        }

        #[test]
        fn national_numbers_of_the_default_country_are_idempotent(national in "[1-9][0-9]{7,9}") {
            for cc in ["US", "DE", "GB", "FR"] {
                let once = meta_phone(&national, cc);
                if let Ok(once) = once {
                    prop_assert_eq!(meta_phone(&once, cc), Ok(once.clone()));
                }
            }
        }
    }
}
