//! The Unicode facts the normalizers need, as a parameter: lower-casing and "is a letter or a
//! digit".
//!
//! Why a parameter: Rust's implementations link the standard library's case-mapping and
//! property tables (about 15 KB of wasm), and the browser already has the same tables
//! (`String.prototype.toLowerCase`, `\p{Alphabetic}`). The worker passes [`StdUnicode`]; the pixel
//! passes the browser's implementation (`ar_pixel_hash::BrowserUnicode`). Both must answer alike for
//! every input, or a browser hash would not match the server's: the pixel's browser tests
//! compare the two on every code point and on the normalizers' tricky inputs.
//!
//! What it deliberately does not do: hold any normalization rule. Which characters are kept,
//! dropped or lowercased is decided in [`super::text`] and the normalizers, once for both
//! implementations.

/// Lower-casing and character classes, as Rust's standard library defines them.
pub trait Unicode {
    /// Every character lowercased on its own, as `s.chars().flat_map(char::to_lowercase)`: the
    /// full mapping (`İ` → `i̇`, two characters) without context, so `Σ` is always `σ`.
    fn lowercase_chars(&self, s: &str) -> String;
    /// The whole text lowercased as `str::to_lowercase` does it: like
    /// [`Unicode::lowercase_chars`], except that a final `Σ` becomes `ς` (Unicode's `Final_Sigma`
    /// context).
    fn lowercase_text(&self, s: &str) -> String;
    /// `char::is_alphanumeric`: the Alphabetic property, or a number (Nd, Nl, No).
    fn is_alphanumeric(&self, c: char) -> bool;
    /// `char::is_alphabetic`: the Alphabetic property.
    fn is_alphabetic(&self, c: char) -> bool;
}

/// Rust's standard library: what the worker and the native tests use.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdUnicode;

impl Unicode for StdUnicode {
    fn lowercase_chars(&self, s: &str) -> String {
        s.chars().flat_map(char::to_lowercase).collect()
    }

    fn lowercase_text(&self, s: &str) -> String {
        s.to_lowercase()
    }

    fn is_alphanumeric(&self, c: char) -> bool {
        c.is_alphanumeric()
    }

    fn is_alphabetic(&self, c: char) -> bool {
        c.is_alphabetic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_text_form_knows_final_sigma() {
        assert_eq!(StdUnicode.lowercase_chars("ΟΔΟΣ"), "οδοσ");
        assert_eq!(StdUnicode.lowercase_text("ΟΔΟΣ"), "οδος");
    }

    #[test]
    fn dotted_capital_i_lowercases_to_two_characters() {
        assert_eq!(StdUnicode.lowercase_chars("İ"), "i\u{307}");
        assert_eq!(StdUnicode.lowercase_text("İ"), "i\u{307}");
    }
}
