//! Runs in real headless Chromium: the browser's Unicode answers (`ar_pixel_hash::BrowserUnicode`,
//! which the pixel hashes with) must equal Rust's (`ar_shared::pii::StdUnicode`, which the worker
//! hashes with) on every code point, and the whole hashing must give the same digests on inputs
//! chosen to break case mapping: Turkish dotted and dotless i, German sharp s, final sigma,
//! Cyrillic, full-width forms, combining marks, emoji, mixed scripts.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ar_pixel_hash::BrowserUnicode;
use ar_shared::pii::{
    PiiField, RawUserData, StdUnicode, Unicode, hash_user_data, hash_user_data_with,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Every Unicode scalar value (surrogates are not chars), in blocks of 4096.
fn blocks() -> impl Iterator<Item = Vec<char>> {
    let all: Vec<char> = (0..=0x10_ffff).filter_map(char::from_u32).collect();
    let blocks: Vec<Vec<char>> = all.chunks(4096).map(<[char]>::to_vec).collect();
    blocks.into_iter()
}

/// The code points of `block` for which `differs` holds, written `U+XXXX` (the first 20 of a
/// block: a broken mapping would otherwise print megabytes).
fn differing(block: &[char], differs: impl Fn(char) -> bool) -> Vec<String> {
    block
        .iter()
        .filter(|&&c| differs(c))
        .take(20)
        .map(|&c| format!("U+{:04X}", u32::from(c)))
        .collect()
}

/// Each code point `c` in the contexts that decide `Σ`'s lowercase (Unicode's `Final_Sigma`):
/// `AΣc` and `cΣ` depend on whether `c` is cased, `AcΣ` on whether it is case-ignorable.
fn around(c: char) -> String {
    format!("AΣ{c} A{c}Σ {c}Σ ")
}

/// Compares `lowercase` of the browser and of Rust around every code point.
fn lowercase_differs(lowercase: impl Fn(&dyn Unicode, &str) -> String) -> Vec<String> {
    let browser = BrowserUnicode::new();
    let mut wrong = Vec::new();
    for block in blocks() {
        let text: String = block.iter().map(|&c| around(c)).collect();
        if lowercase(&browser, &text) != lowercase(&StdUnicode, &text) {
            wrong.extend(differing(&block, |c| {
                lowercase(&browser, &around(c)) != lowercase(&StdUnicode, &around(c))
            }));
        }
    }
    wrong
}

#[wasm_bindgen_test]
fn lowercasing_each_character_matches_rust_on_every_code_point() {
    let wrong = lowercase_differs(|u, s| u.lowercase_chars(s));
    assert!(wrong.is_empty(), "lowercase differs for {wrong:?}");
}

#[wasm_bindgen_test]
fn lowercasing_text_matches_rust_around_every_code_point() {
    let wrong = lowercase_differs(|u, s| u.lowercase_text(s));
    assert!(
        wrong.is_empty(),
        "lowercase in context differs for {wrong:?}"
    );
}

#[wasm_bindgen_test]
fn letter_and_digit_classes_match_rust_on_every_code_point() {
    let browser = BrowserUnicode::new();
    let mut wrong = Vec::new();
    for block in blocks() {
        wrong.extend(differing(&block, |c| {
            browser.is_alphanumeric(c) != StdUnicode.is_alphanumeric(c)
                || browser.is_alphabetic(c) != StdUnicode.is_alphabetic(c)
        }));
    }
    assert!(wrong.is_empty(), "classes differ for {wrong:?}");
}

/// Inputs that break naive case mapping, each tried in every field.
const TRICKY: &[&str] = &[
    "İstanbul",
    "ISPARTA ısparta",
    "STRASSE Straße ẞ",
    "ΟΔΥΣΣΕΥΣ",
    "Σ",
    "ΣΑΣ.",
    "ΌΣΟΣ'Σ",
    "ὈΔΥΣΣΕΎΣ",
    "Ωμέγα Ω Ω",
    "ДЖОН Йозеф Ёлка Ѐ",
    "ＪＯＨＮ　ＳＭＩＴＨ ｊｏｈｎ",
    "Ｊｏｈｎ＠Ｅｘａｍｐｌｅ．ｃｏｍ",
    "Valéry Vale\u{301}ry",
    "Z\u{351}\u{36b}\u{343}A\u{308}L\u{330}G\u{314}O",
    "👩‍👩‍👧 Mary 🇺🇸",
    "Mary정Ανναмария日本",
    "ǅemal ǈ ǋ",
    "K Å Ⅻ ⅻ Ⓐ ½ ٣",
    "Ꭰ Ᏸ 𐐀 𞤀 Ა",
    "  Mr. Ölçek, Jr. ",
    "1990-02-16",
    "16 Февраль 1990",
    "31 ΙΑΝΟΥΑΡΙΟΣ 1990",
    "(650) 555-1212",
    "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨",
    "ÖSTERREICH",
    "Deutschland",
    "CALİFORNİA",
    "ΣΙΣΥΦΟΣ@ΠΑΡΑΔΕΙΓΜΑ.ΕΛ",
    "İ.Y@GMAIL.COM",
    "STRAẞE+TAG@googlemail.com",
];

fn all_fields(value: &str) -> RawUserData {
    PiiField::ALL
        .into_iter()
        .fold(RawUserData::default(), |raw, field| raw.with(field, value))
}

#[wasm_bindgen_test]
fn the_browser_hashes_tricky_text_exactly_as_the_worker() {
    let browser = BrowserUnicode::new();
    for &value in TRICKY {
        let raw = all_fields(value);
        for country in ["US", "DE", "TR", "GR"] {
            assert_eq!(
                hash_user_data_with(&raw, country, &browser),
                hash_user_data(&raw, country),
                "{value:?} with default country {country}"
            );
        }
    }
}
