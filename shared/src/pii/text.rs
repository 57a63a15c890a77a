//! Character classes and small text transforms shared by the Meta and Google normalizers.
//!
//! Both platforms say "no punctuation" without defining it, and the Rust standard library has no
//! Unicode punctuation class. This module draws the line once: ASCII punctuation and symbols plus
//! the punctuation blocks that occur in real names and addresses (typographic quotes and dashes,
//! Latin-1 marks such as `¿` and `«`, CJK and full-width punctuation). Letters of every script,
//! combining marks and digits are kept, so `Valéry` and `정` survive as Meta's examples require
//! (`reference/meta-capi.md` §2.1).
//!
//! Lower-casing and the letter/digit class come from a [`Unicode`] implementation (Rust's tables
//! in the worker, the browser's in the pixel); every rule about what is kept stays here.
//!
//! What it deliberately does not do: Unicode normalization (NFC). That would need tables far
//! larger than the pixel's size budget allows.

use super::unicode::Unicode;

/// True for characters both platforms mean by "punctuation" or "symbol characters".
pub(crate) fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(
        c,
        // Latin-1: ¡ ¢ £ ¤ ¥ ¦ § ¨ © « ¬ ® ¯ ° ± ´ ¶ · ¸ » ¿ × ÷
        '\u{a1}'..='\u{a9}'
            | '\u{ab}'..='\u{b1}'
            | '\u{b4}'
            | '\u{b6}'..='\u{b8}'
            | '\u{bb}'
            | '\u{bf}'
            | '\u{d7}'
            | '\u{f7}'
            // Modifier apostrophes often typed in names (ʻOkina, O’Brien look-alikes).
            | '\u{2b9}'..='\u{2bc}'
            // General Punctuation: dashes, quotes, bullets, ellipsis, primes.
            | '\u{2010}'..='\u{205e}'
            // CJK punctuation (、。〈〉「」…) without the ideographic letters 々 〆 〇.
            | '\u{3001}'..='\u{3004}'
            | '\u{3008}'..='\u{3020}'
            | '\u{30fb}'
            // Full-width ASCII punctuation.
            | '\u{ff01}'..='\u{ff0f}'
            | '\u{ff1a}'..='\u{ff20}'
            | '\u{ff3b}'..='\u{ff40}'
            | '\u{ff5b}'..='\u{ff65}'
    )
}

/// Lowercases (Unicode, character by character) and keeps only the characters `keep` accepts.
pub(crate) fn lowercase_filtered(
    unicode: &dyn Unicode,
    raw: &str,
    keep: impl Fn(char) -> bool,
) -> String {
    unicode
        .lowercase_chars(raw)
        .chars()
        .filter(|&c| keep(c))
        .collect()
}

/// Lowercases and keeps letters and digits only (`U.K.` → `uk`): the key of the name tables.
pub(crate) fn lowercase_alphanumeric(unicode: &dyn Unicode, raw: &str) -> String {
    lowercase_filtered(unicode, raw, |c| unicode.is_alphanumeric(c))
}

/// Lowercases, drops punctuation, trims and collapses inner whitespace runs to one space.
pub(crate) fn lowercase_words(unicode: &dyn Unicode, raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for word in raw
        .split(|c: char| c.is_whitespace() || c.is_control())
        .map(|w| lowercase_filtered(unicode, w, |c| !is_punctuation(c) && !c.is_control()))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// Trims and collapses inner whitespace runs to one space, keeping case and punctuation.
pub(crate) fn collapse_whitespace(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::unicode::StdUnicode;

    #[test]
    fn accents_and_other_scripts_are_not_punctuation() {
        assert!(!"Valéry정Øæß日本".chars().any(is_punctuation));
    }

    #[test]
    fn typographic_quotes_and_dashes_are_punctuation() {
        assert!("’‘“”–—…«»¿¡·、。！".chars().all(is_punctuation));
    }

    #[test]
    fn words_are_lowercased_and_collapsed() {
        assert_eq!(
            lowercase_words(&StdUnicode, "  Mary -  Ann\tO’Neil "),
            "mary ann oneil"
        );
    }
}
