//! Dates of birth → `YYYYMMDD`, Meta's `db` format.
//!
//! Meta documents `YYYYMMDD` with year 1900 to the current year, month 01–12 and day 01–31, and
//! turns its example `2/16/1997` into `19970216` (`reference/meta-capi.md` §2.1). Meta's business
//! SDK sends whatever it is given and its parameter builder guesses the order of any three
//! numbers (§2.3); the docs win (design §3), so dates are parsed and checked here and a date that
//! cannot be read with confidence is rejected rather than guessed.
//!
//! Accepted shapes (any of `/ - . ,` or spaces between the parts; a trailing time such as
//! `T00:00:00Z` or ` 12:30` is ignored):
//! - `YYYY-MM-DD` (ISO order whenever the year comes first) and `YYYYMMDD`;
//! - `MM/DD/YYYY` with slashes: month first, as in Meta's own example and US usage;
//! - `DD.MM.YYYY`, `DD-MM-YYYY`: day first, as in European usage;
//! - either of the last two when the preferred reading is impossible but the other one is valid
//!   (`31/01/1990` is read as 31 January);
//! - an English month name or its first three letters in any position (`Jan 31, 1990`,
//!   `31 January 1990`).
//!
//! Two-digit years are rejected (the century is a guess). This crate reads no clock, so the upper
//! bound is the year 2099 instead of the current year.

use super::NormalizeError;
use super::unicode::Unicode;

const MIN_YEAR: u32 = 1900;
const MAX_YEAR: u32 = 2099;
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A date of birth as Meta's `db`: `YYYYMMDD`.
///
/// # Errors
/// [`NormalizeError::NotADate`] when the input is not one of the accepted shapes or names a day
/// that does not exist (`1990-02-30`).
pub fn meta_date_of_birth(unicode: &dyn Unicode, raw: &str) -> Result<String, NormalizeError> {
    let (year, month, day) =
        parse(unicode, strip_time(raw.trim())).ok_or(NormalizeError::NotADate)?;
    let valid = (MIN_YEAR..=MAX_YEAR).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day);
    if valid {
        // Built without `core::fmt` (`crate::text`): the pixel's hashing module runs this.
        let pad = |n: u32, width| crate::text::zero_padded(u64::from(n), width);
        Ok([pad(year, 4), pad(month, 2), pad(day, 2)].concat())
    } else {
        Err(NormalizeError::NotADate)
    }
}

/// Cuts a time of day off a timestamp: everything from the space or `T` that precedes the hour
/// of the first `hh:mm`.
fn strip_time(s: &str) -> &str {
    // Split, not sliced at found indexes: nothing here can panic (a panicking slice links its
    // message formatting into the pixel's wasm).
    let Some((head, _)) = s.split_once(':') else {
        return s;
    };
    head.rsplit_once([' ', 'T', 't'])
        .map_or(s, |(date, _)| date)
}

/// `(year, month, day)` before range checks.
fn parse(unicode: &dyn Unicode, s: &str) -> Option<(u32, u32, u32)> {
    let separator = s.chars().find(|&c| !unicode.is_alphanumeric(c));
    let parts: Vec<&str> = s
        .split(|c: char| !unicode.is_alphanumeric(c))
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [compact] if compact.len() == 8 => {
            let (y, md) = compact.split_at_checked(4)?;
            let (m, d) = md.split_at_checked(2)?;
            Some((number(y)?, number(m)?, number(d)?))
        }
        [a, b, c] if parts.iter().any(|p| alphabetic(unicode, p)) => {
            with_month_name(unicode, [a, b, c])
        }
        [a, b, c] => {
            if a.len() == 4 {
                return Some((number(a)?, number(b)?, number(c)?));
            }
            if c.len() != 4 || a.len() > 2 || b.len() > 2 {
                return None;
            }
            let (first, second, year) = (number(a)?, number(b)?, number(c)?);
            // Slashes read month first (US usage, Meta's example), other separators day first;
            // the other reading is taken only when the preferred one has no such month.
            let (month_first, day_first) = ((first, second), (second, first));
            let preferred = if separator == Some('/') {
                month_first
            } else {
                day_first
            };
            let other = if separator == Some('/') {
                day_first
            } else {
                month_first
            };
            let (month, day) = if preferred.0 <= 12 { preferred } else { other };
            Some((year, month, day))
        }
        _ => None,
    }
}

/// Whether every character of `part` is a letter (a month name, not a number).
fn alphabetic(unicode: &dyn Unicode, part: &str) -> bool {
    part.chars().all(|c| unicode.is_alphabetic(c))
}

/// Reads `[day|year, month name, year|day]` in any order (the year has four digits).
fn with_month_name(unicode: &dyn Unicode, parts: [&str; 3]) -> Option<(u32, u32, u32)> {
    let position = parts.iter().position(|p| alphabetic(unicode, p))?;
    let month = month_number(parts[position])?;
    let mut numbers = parts
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != position)
        .map(|(_, p)| *p);
    let (x, y) = (numbers.next()?, numbers.next()?);
    let (year, day) = if x.len() == 4 { (x, y) } else { (y, x) };
    if year.len() != 4 {
        return None;
    }
    Some((number(year)?, month, number(day)?))
}

/// 1–12 for an English month name or its first three letters, in any case.
fn month_number(name: &str) -> Option<u32> {
    let name = name.to_ascii_lowercase();
    if name.len() < 3 {
        return None;
    }
    let index = MONTHS.iter().position(|m| m.starts_with(&name))?;
    u32::try_from(index + 1).ok()
}

/// A short run of ASCII digits as a number.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::unicode::StdUnicode;

    fn db(raw: &str) -> Result<String, NormalizeError> {
        meta_date_of_birth(&StdUnicode, raw)
    }

    #[test]
    fn metas_documented_example_is_month_first() {
        assert_eq!(db("2/16/1997").as_deref(), Ok("19970216"));
    }

    #[test]
    fn common_formats_become_yyyymmdd() {
        for raw in [
            "1990-01-31",
            "1990/01/31",
            "19900131",
            "01/31/1990",
            "1/31/1990",
            "31.01.1990",
            "31-01-1990",
            "1990-01-31T00:00:00Z",
            "1990-01-31T00:00:00.000+02:00",
            "1990-01-31 12:30",
            "Jan 31, 1990",
            "31 January 1990",
            " 1990-1-31 ",
        ] {
            assert_eq!(db(raw).as_deref(), Ok("19900131"), "{raw}");
        }
    }

    #[test]
    fn ambiguous_day_month_follows_the_separator() {
        // Slash: month first (US, Meta's example). Dot or dash: day first (Europe).
        assert_eq!(db("02/03/1990").as_deref(), Ok("19900203"));
        assert_eq!(db("02.03.1990").as_deref(), Ok("19900302"));
        assert_eq!(db("02-03-1990").as_deref(), Ok("19900302"));
    }

    #[test]
    fn an_impossible_preferred_reading_falls_back_to_the_other() {
        assert_eq!(db("31/01/1990").as_deref(), Ok("19900131"));
        assert_eq!(db("01.31.1990").as_deref(), Ok("19900131"));
    }

    #[test]
    fn invalid_dates_are_rejected() {
        for raw in [
            "1990-02-30",
            "1900-02-29",
            "1990-13-01",
            "1990-00-10",
            "31/31/1990",
            "1899-12-31",
            "2100-01-01",
            "01/02/90",
            "yesterday",
            "",
            "1990",
            "Foo 31 1990",
        ] {
            assert_eq!(db(raw), Err(NormalizeError::NotADate), "{raw}");
        }
    }

    #[test]
    fn leap_days_are_accepted_in_leap_years() {
        assert_eq!(db("2000-02-29").as_deref(), Ok("20000229"));
        assert_eq!(db("1996-02-29").as_deref(), Ok("19960229"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::pii::unicode::StdUnicode;

    proptest! {
        #[test]
        fn date_of_birth_is_idempotent_and_never_panics(raw in "\\PC{0,30}") {
            if let Ok(once) = meta_date_of_birth(&StdUnicode, &raw) {
                prop_assert_eq!(meta_date_of_birth(&StdUnicode, &once), Ok(once.clone()));
            }
        }

        #[test]
        fn date_shaped_input_is_idempotent(raw in "[0-9]{1,4}[-/. ][0-9]{1,2}[-/. ][0-9]{1,4}") {
            if let Ok(once) = meta_date_of_birth(&StdUnicode, &raw) {
                prop_assert_eq!(meta_date_of_birth(&StdUnicode, &once), Ok(once.clone()));
            }
        }
    }
}
