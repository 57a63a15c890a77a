//! US state names to their two-letter ANSI (USPS) codes.
//!
//! Meta's documented rule for `st` is "2-character ANSI abbreviation code in lowercase"
//! (`reference/meta-capi.md` §2.1), so `California` and `new york` must become `ca` and `ny`
//! before hashing; a hash of the spelled-out name matches nothing. Meta's own parameter builder
//! also maps Canadian provinces and truncates other states to two characters (§2.3); the docs
//! say non-US states stay spelled out, and the docs win (design §3).
//!
//! Covered: the 50 states, the District of Columbia and the inhabited territories with USPS codes.

use super::unicode::Unicode;

/// Names keyed by their lowercase alphanumeric form (spaces and punctuation removed), with the
/// lowercase code.
const US_STATES: &[(&str, &str)] = &[
    ("alabama", "al"),
    ("alaska", "ak"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("newhampshire", "nh"),
    ("newjersey", "nj"),
    ("newmexico", "nm"),
    ("newyork", "ny"),
    ("northcarolina", "nc"),
    ("northdakota", "nd"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("rhodeisland", "ri"),
    ("southcarolina", "sc"),
    ("southdakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("washington", "wa"),
    ("westvirginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
    ("districtofcolumbia", "dc"),
    ("washingtondc", "dc"),
    ("americansamoa", "as"),
    ("guam", "gu"),
    ("northernmarianaislands", "mp"),
    ("puertorico", "pr"),
    ("virginislands", "vi"),
    ("usvirginislands", "vi"),
];

/// The lowercase two-letter code of a US state, district or territory spelled out in any case,
/// with any spacing or punctuation (`"New York"`, `"new-york"`, `"Washington, D.C."`); `None`
/// for anything else, including codes that are already abbreviated.
pub fn us_state_code(unicode: &dyn Unicode, name: &str) -> Option<&'static str> {
    let key = super::text::lowercase_alphanumeric(unicode, name);
    US_STATES
        .iter()
        .find(|(state, _)| *state == key)
        .map(|(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::unicode::StdUnicode;

    #[test]
    fn state_names_map_to_codes_in_any_spelling() {
        assert_eq!(us_state_code(&StdUnicode, "California"), Some("ca"));
        assert_eq!(us_state_code(&StdUnicode, "new york"), Some("ny"));
        assert_eq!(us_state_code(&StdUnicode, "NEW-YORK"), Some("ny"));
        assert_eq!(us_state_code(&StdUnicode, " Washington, D.C. "), Some("dc"));
        assert_eq!(us_state_code(&StdUnicode, "Puerto Rico"), Some("pr"));
    }

    #[test]
    fn codes_and_foreign_regions_are_not_names() {
        assert_eq!(us_state_code(&StdUnicode, "CA"), None);
        assert_eq!(us_state_code(&StdUnicode, "Bayern"), None);
    }

    #[test]
    fn the_table_has_every_state_once() {
        assert_eq!(US_STATES.len(), 50 + 8);
        for (i, (name, _)) in US_STATES.iter().enumerate() {
            assert!(
                !US_STATES[i + 1..].iter().any(|(other, _)| other == name),
                "{name}"
            );
        }
    }
}
