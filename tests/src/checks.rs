//! Small value checks the fake platforms share: SHA-256 hex digests, ISO 4217 currency codes,
//! unknown JSON keys, `snake_case` to lowerCamelCase key normalisation (Google's JSON parser accepts
//! both spellings of a proto field), and short random-looking ids.
//!
//! These are written from the platform references, not from `ar-shared`, on purpose.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A SHA-256 digest as the platforms want it: exactly 64 lowercase hex characters.
///
/// Meta: all worked examples are 64-char lowercase hex (reference/meta-capi.md §2.1);
/// Google Ads and GA4 expect lowercase hex (reference/google.md §3).
pub fn is_sha256_lower_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A SHA-256 digest in standard base64 (44 characters ending in one `=`), for Data Manager's
/// `encoding: BASE64` (reference/google.md §3, §8).
pub fn is_sha256_base64(value: &str) -> bool {
    use base64::Engine as _;
    value.len() == 44
        && base64::engine::general_purpose::STANDARD
            .decode(value)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// An ISO 4217-shaped currency code: three ASCII uppercase letters.
pub fn is_currency_code(value: &str) -> bool {
    value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase())
}

/// The first key of `object` not in `allowed`, if any.
pub fn first_unknown_key<'a>(object: &'a Map<String, Value>, allowed: &[&str]) -> Option<&'a str> {
    object
        .keys()
        .map(String::as_str)
        .find(|k| !allowed.contains(k))
}

/// `conversion_action` → `conversionAction`; names already in lowerCamelCase stay as they are.
pub fn snake_to_lower_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A copy of `value` with every object key turned into lowerCamelCase, the way Google's
/// JSON-to-proto parser reads `conversion_action` and `conversionAction` alike.
pub fn camel_case_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (snake_to_lower_camel(k), camel_case_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(camel_case_keys).collect()),
        other => other.clone(),
    }
}

/// A short opaque id (for `fbtrace_id`, Google `requestId`, tokens): hex of a SHA-256 over a
/// process-wide counter, the wall clock and a purpose label. Unique, not secret.
pub fn opaque_id(purpose: &str, len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update(n.to_le_bytes());
    hasher.update(crate::clock::real_now_ms().to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    let digest = hasher.finalize();
    to_hex(&digest).chars().take(len).collect()
}

/// Lowercase hex SHA-256 of `input` (test fixtures and the demo shop use it).
pub fn sha256_hex(input: &str) -> String {
    to_hex(&Sha256::digest(input.as_bytes()))
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_must_be_64_lowercase_hex_chars() {
        let digest = sha256_hex("john_smith@gmail.com");
        assert!(is_sha256_lower_hex(&digest));
        assert!(!is_sha256_lower_hex(&digest.to_uppercase()));
        assert!(!is_sha256_lower_hex("john_smith@gmail.com"));
        assert!(!is_sha256_lower_hex(&digest[..63]));
    }

    #[test]
    fn snake_case_keys_become_lower_camel_case() {
        assert_eq!(
            snake_to_lower_camel("conversion_action"),
            "conversionAction"
        );
        assert_eq!(snake_to_lower_camel("conversionAction"), "conversionAction");
        assert_eq!(snake_to_lower_camel("gclid"), "gclid");
    }
}
