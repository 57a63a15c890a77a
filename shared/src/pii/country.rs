//! Countries: ISO 3166-1 alpha-2 codes, their international calling codes, and the country names
//! shoppers and shop systems commonly type instead of a code.
//!
//! The table is one compact string (about 1.5 KB in the pixel) rather than a map: a linear scan
//! over 250 entries happens at most a few times per event. Calling codes follow ITU-T E.164; the
//! North American Numbering Plan countries all share `1` (their area code is part of the national
//! number), and territories without their own code carry the code their numbers are dialled with.
//!
//! What it deliberately does not do: number-length or numbering-plan validation (that is
//! libphonenumber's job and would not fit the pixel's budget).

/// `CCdigits` entries: alpha-2 code (uppercase) followed by the calling code, space-separated.
const CALLING_CODES: &str = "\
AD376 AE971 AF93 AG1 AI1 AL355 AM374 AO244 AQ672 AR54 AS1 AT43 AU61 AW297 AX358 AZ994 BA387 BB1 \
BD880 BE32 BF226 BG359 BH973 BI257 BJ229 BL590 BM1 BN673 BO591 BQ599 BR55 BS1 BT975 BV47 BW267 \
BY375 BZ501 CA1 CC61 CD243 CF236 CG242 CH41 CI225 CK682 CL56 CM237 CN86 CO57 CR506 CU53 CV238 \
CW599 CX61 CY357 CZ420 DE49 DJ253 DK45 DM1 DO1 DZ213 EC593 EE372 EG20 EH212 ER291 ES34 ET251 \
FI358 FJ679 FK500 FM691 FO298 FR33 GA241 GB44 GD1 GE995 GF594 GG44 GH233 GI350 GL299 GM220 GN224 \
GP590 GQ240 GR30 GS500 GT502 GU1 GW245 GY592 HK852 HM672 HN504 HR385 HT509 HU36 ID62 IE353 IL972 \
IM44 IN91 IO246 IQ964 IR98 IS354 IT39 JE44 JM1 JO962 JP81 KE254 KG996 KH855 KI686 KM269 KN1 \
KP850 KR82 KW965 KY1 KZ7 LA856 LB961 LC1 LI423 LK94 LR231 LS266 LT370 LU352 LV371 LY218 MA212 \
MC377 MD373 ME382 MF590 MG261 MH692 MK389 ML223 MM95 MN976 MO853 MP1 MQ596 MR222 MS1 MT356 MU230 \
MV960 MW265 MX52 MY60 MZ258 NA264 NC687 NE227 NF672 NG234 NI505 NL31 NO47 NP977 NR674 NU683 NZ64 \
OM968 PA507 PE51 PF689 PG675 PH63 PK92 PL48 PM508 PN64 PR1 PS970 PT351 PW680 PY595 QA974 RE262 \
RO40 RS381 RU7 RW250 SA966 SB677 SC248 SD249 SE46 SG65 SH290 SI386 SJ47 SK421 SL232 SM378 SN221 \
SO252 SR597 SS211 ST239 SV503 SX1 SY963 SZ268 TC1 TD235 TF262 TG228 TH66 TJ992 TK690 TL670 TM993 \
TN216 TO676 TR90 TT1 TV688 TW886 TZ255 UA380 UG256 UM1 US1 UY598 UZ998 VA39 VC1 VE58 VG1 VI1 \
VN84 VU678 WF681 WS685 XK383 YE967 YT262 ZA27 ZM260 ZW263";

/// Names and non-ISO abbreviations that appear in country fields, keyed by their lowercase
/// alphanumeric form (spaces and punctuation removed). Meta's own example maps `United States` to
/// `us` (`reference/meta-capi.md` §2.1); the rest covers the shop systems' usual spellings.
const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("unitedstates", "us"),
    ("unitedstatesofamerica", "us"),
    ("usa", "us"),
    ("america", "us"),
    ("unitedkingdom", "gb"),
    ("uk", "gb"),
    ("greatbritain", "gb"),
    ("england", "gb"),
    ("scotland", "gb"),
    ("wales", "gb"),
    ("northernireland", "gb"),
    ("gbr", "gb"),
    ("canada", "ca"),
    ("can", "ca"),
    ("australia", "au"),
    ("aus", "au"),
    ("newzealand", "nz"),
    ("ireland", "ie"),
    ("germany", "de"),
    ("deutschland", "de"),
    ("deu", "de"),
    ("france", "fr"),
    ("fra", "fr"),
    ("spain", "es"),
    ("españa", "es"),
    ("espana", "es"),
    ("esp", "es"),
    ("italy", "it"),
    ("italia", "it"),
    ("ita", "it"),
    ("netherlands", "nl"),
    ("thenetherlands", "nl"),
    ("nederland", "nl"),
    ("holland", "nl"),
    ("nld", "nl"),
    ("belgium", "be"),
    ("belgië", "be"),
    ("belgique", "be"),
    ("switzerland", "ch"),
    ("schweiz", "ch"),
    ("suisse", "ch"),
    ("austria", "at"),
    ("österreich", "at"),
    ("portugal", "pt"),
    ("sweden", "se"),
    ("sverige", "se"),
    ("norway", "no"),
    ("norge", "no"),
    ("denmark", "dk"),
    ("danmark", "dk"),
    ("finland", "fi"),
    ("suomi", "fi"),
    ("poland", "pl"),
    ("polska", "pl"),
    ("mexico", "mx"),
    ("méxico", "mx"),
    ("brazil", "br"),
    ("brasil", "br"),
    ("india", "in"),
    ("japan", "jp"),
    ("china", "cn"),
    ("southkorea", "kr"),
    ("korea", "kr"),
    ("singapore", "sg"),
    ("hongkong", "hk"),
    ("southafrica", "za"),
    ("unitedarabemirates", "ae"),
    ("uae", "ae"),
];

use super::unicode::Unicode;

/// The international calling code (digits, no `+`) of an ISO 3166-1 alpha-2 country code, in
/// either case.
///
/// A binary search over the compact table (sorted by code, as a test checks): every phone number
/// and country field of every event looks a code up, and a linear scan of 250 entries was half of
/// `hash_user_data`'s time (`make bench`).
pub fn calling_code(alpha2: &str) -> Option<&'static str> {
    let code = alpha2.trim().as_bytes();
    let [a, b] = code else {
        return None;
    };
    let want = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
    let table = CALLING_CODES.as_bytes();
    let (mut lo, mut hi) = (0, table.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        // The entry holding byte `mid` starts after the last space before it.
        let start = table[..mid]
            .iter()
            .rposition(|&c| c == b' ')
            .map_or(0, |i| i + 1);
        let end = table[start..]
            .iter()
            .position(|&c| c == b' ')
            .map_or(table.len(), |i| start + i);
        match table.get(start..start + 2)?.cmp(&want[..]) {
            core::cmp::Ordering::Equal => return CALLING_CODES.get(start + 2..end),
            core::cmp::Ordering::Less => lo = end + 1,
            core::cmp::Ordering::Greater => hi = start,
        }
    }
    None
}

/// The lowercase ISO 3166-1 alpha-2 code for a code in either case or a common country name
/// (`"United States"`, `"USA"`, `"Deutschland"`); `None` when the country is not recognized.
pub fn country_code(unicode: &dyn Unicode, raw: &str) -> Option<String> {
    let key = super::text::lowercase_alphanumeric(unicode, raw);
    if key.len() == 2 && calling_code(&key).is_some() {
        return Some(key);
    }
    COUNTRY_NAMES
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, code)| (*code).to_owned())
}

/// Whether `digits` is the calling code of some country (`44`, `1`, `353`).
pub(crate) fn is_calling_code(digits: &str) -> bool {
    !digits.is_empty()
        && CALLING_CODES
            .split(' ')
            .any(|entry| entry.get(2..) == Some(digits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::unicode::StdUnicode;

    #[test]
    fn calling_codes_are_found_in_either_case() {
        assert_eq!(calling_code("US"), Some("1"));
        assert_eq!(calling_code("de"), Some("49"));
        assert_eq!(calling_code("gb"), Some("44"));
        assert_eq!(calling_code("ZW"), Some("263"));
        assert_eq!(calling_code("ad"), Some("376"));
        assert_eq!(calling_code("XX"), None);
        assert_eq!(calling_code("USA"), None);
        assert_eq!(calling_code(""), None);
    }

    #[test]
    fn every_table_entry_is_an_uppercase_code_and_digits_in_order() {
        let mut previous = "";
        for entry in CALLING_CODES.split(' ') {
            let (cc, digits) = entry.split_at(2);
            assert!(cc.bytes().all(|b| b.is_ascii_uppercase()), "{entry}");
            assert!(
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
                "{entry}"
            );
            assert!(cc > previous, "table out of order at {entry}");
            previous = cc;
        }
    }

    /// The lookup before it became a binary search, as the oracle.
    fn linear(alpha2: &str) -> Option<&'static str> {
        let code = alpha2.trim().as_bytes();
        if code.len() != 2 {
            return None;
        }
        CALLING_CODES.split(' ').find_map(|entry| {
            let (cc, digits) = entry.split_at_checked(2)?;
            cc.as_bytes().eq_ignore_ascii_case(code).then_some(digits)
        })
    }

    #[test]
    fn the_binary_search_answers_like_the_linear_scan_for_every_ascii_pair() {
        for a in 0u8..128 {
            for b in 0u8..128 {
                let code = String::from_utf8(vec![a, b]).unwrap();
                assert_eq!(calling_code(&code), linear(&code), "{code:?}");
            }
        }
        for entry in CALLING_CODES.split(' ') {
            let (cc, digits) = entry.split_at(2);
            assert_eq!(calling_code(cc), Some(digits));
            assert_eq!(calling_code(&cc.to_lowercase()), Some(digits));
        }
        for odd in ["", "U", "USA", " us ", "é", "\u{0}\u{0}"] {
            assert_eq!(calling_code(odd), linear(odd), "{odd:?}");
        }
    }

    #[test]
    fn country_names_map_to_lowercase_alpha2() {
        assert_eq!(
            country_code(&StdUnicode, "United States").as_deref(),
            Some("us")
        );
        assert_eq!(country_code(&StdUnicode, " USA ").as_deref(), Some("us"));
        assert_eq!(country_code(&StdUnicode, "U.K.").as_deref(), Some("gb"));
        assert_eq!(country_code(&StdUnicode, "DE").as_deref(), Some("de"));
        assert_eq!(
            country_code(&StdUnicode, "Österreich").as_deref(),
            Some("at")
        );
        assert_eq!(country_code(&StdUnicode, "Atlantis"), None);
    }

    #[test]
    fn every_name_maps_to_a_known_code() {
        for (name, code) in COUNTRY_NAMES {
            assert!(calling_code(code).is_some(), "{name} -> {code}");
        }
    }
}
