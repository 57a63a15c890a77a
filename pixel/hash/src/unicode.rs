//! The browser's Unicode tables for `ar_shared::pii`'s normalizers, so the pixel does not link
//! Rust's (lower-casing alone is an 11.7 KB table).
//!
//! `ar_shared::pii::Unicode` defines the answers (Rust's standard library's); this module gets
//! the same answers from the browser: `String.prototype.toLowerCase` for the case mapping and
//! `\p{Alphabetic}` / `\p{N}` regular expressions for the classes. `pixel/tests/unicode.rs`
//! checks them against Rust's on every code point in headless Chromium.
//!
//! ASCII is answered in Rust: it is most of what shoppers type, and a call into JavaScript per
//! character would cost more than the answer.

use ar_shared::pii::Unicode;
use js_sys::{JsString, RegExp};

/// `ar_shared::pii::Unicode` answered by the browser.
pub struct BrowserUnicode {
    alphanumeric: RegExp,
    alphabetic: RegExp,
}

impl BrowserUnicode {
    /// Compiles the two character-class expressions.
    #[must_use]
    pub fn new() -> Self {
        Self {
            // `char::is_alphanumeric`: Alphabetic, or General_Category Nd, Nl or No.
            alphanumeric: RegExp::new(r"^[\p{Alphabetic}\p{N}]$", "u"),
            alphabetic: RegExp::new(r"^\p{Alphabetic}$", "u"),
        }
    }
}

impl Default for BrowserUnicode {
    fn default() -> Self {
        Self::new()
    }
}

/// `toLowerCase` of `s`.
fn to_lower_case(s: &str) -> String {
    JsString::from(s).to_lower_case().into()
}

/// Tests one character against a `^…$` expression.
fn test(expression: &RegExp, c: char) -> bool {
    let mut buf = [0; 4];
    expression.test(c.encode_utf8(&mut buf))
}

impl Unicode for BrowserUnicode {
    fn lowercase_chars(&self, s: &str) -> String {
        if s.is_ascii() {
            return s.to_ascii_lowercase();
        }
        // `toLowerCase` applies Final_Sigma (`Σ` → `ς` at a word's end), which character-wise
        // lower-casing does not: every `Σ` is lowered to `σ` first, as Rust lowers it alone.
        // No other character has a context-dependent lowercase outside the Lithuanian, Turkish
        // and Azeri locales, which `toLowerCase` (unlike `toLocaleLowerCase`) does not use.
        to_lower_case(&s.replace('Σ', "σ"))
    }

    fn lowercase_text(&self, s: &str) -> String {
        if s.is_ascii() {
            return s.to_ascii_lowercase();
        }
        to_lower_case(s)
    }

    fn is_alphanumeric(&self, c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_alphanumeric();
        }
        test(&self.alphanumeric, c)
    }

    fn is_alphabetic(&self, c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_alphabetic();
        }
        test(&self.alphabetic, c)
    }
}
