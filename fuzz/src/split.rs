//! Turning one fuzz input into several arguments: the input as text (invalid UTF-8 replaced, as a
//! header or cookie value that reached a parser would already be text), cut at newlines.

/// The input as text.
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The first `N` newline-separated parts of the input; missing parts are empty.
pub fn parts<const N: usize>(data: &[u8]) -> [String; N] {
    let text = text(data);
    let mut pieces = text.splitn(N, '\n');
    core::array::from_fn(|_| pieces.next().unwrap_or_default().to_owned())
}

/// `Some(part)` unless the part is empty (absent headers and cookies).
pub fn present(part: &str) -> Option<&str> {
    (!part.is_empty()).then_some(part)
}

/// A number from the first eight bytes (little-endian, zero-padded).
pub fn number(data: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(data) {
        *d = *s;
    }
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_fill_missing_pieces_with_empty_strings() {
        let [a, b, c] = parts::<3>(b"x\ny");
        assert_eq!((a.as_str(), b.as_str(), c.as_str()), ("x", "y", ""));
        let [only] = parts::<1>(b"a\nb");
        assert_eq!(only, "a\nb", "the last part keeps the rest");
    }

    #[test]
    fn numbers_are_read_from_at_most_eight_bytes() {
        assert_eq!(number(&[1]), 1);
        assert_eq!(number(&[0, 1, 0, 0, 0, 0, 0, 0, 9]), 256);
    }
}
