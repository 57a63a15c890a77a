//! SHA-256 as platforms want it: lowercase hex of the normalized value.
//!
//! Meta's examples are 64 lowercase hex digits (`reference/meta-capi.md` §2.1); the Google Ads API
//! and GA4 expect lowercase hex too (`reference/google.md` §3). A value that already is 64 hex
//! digits is taken as a hash and passed through lowercased, never hashed again: double hashing is
//! a known integration bug (§2.2). With the `server` feature the type (de)serializes as its hex
//! string and rejects anything else.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

/// A SHA-256 digest as 64 lowercase hex digits: the only form in which personal data leaves the
/// shopper's browser or the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "server",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct Sha256Hex(String);

/// The value is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a SHA-256 hash as 64 lowercase hex digits")]
pub struct NotAHash;

impl Sha256Hex {
    /// Hashes an already-normalized value.
    #[must_use]
    pub fn digest(normalized: &str) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::digest(normalized.as_bytes());
        // Into a byte buffer, then one String: pushing 64 chars one by one cost more than the
        // hash's own finalization at the worker's opt-level "z" (`make bench` profile).
        let mut hex = [0u8; 64];
        for (pair, b) in hex.chunks_exact_mut(2).zip(digest) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0x0f)];
        }
        Self(String::from_utf8(hex.to_vec()).unwrap_or_default())
    }

    /// True when `s` already is a SHA-256 hex digest (64 hex digits, either case).
    pub fn looks_hashed(s: &str) -> bool {
        s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Sha256Hex {
    type Err = NotAHash;

    /// Accepts an existing digest; uppercase hex is lowered (platforms want lowercase).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if Self::looks_hashed(s) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(NotAHash)
        }
    }
}

impl TryFrom<String> for Sha256Hex {
    type Error = NotAHash;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Sha256Hex> for String {
    fn from(hash: Sha256Hex) -> Self {
        hash.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_lowercase_hex_of_the_utf8_bytes() {
        assert_eq!(
            Sha256Hex::digest("").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // FIPS 180-2 appendix B.1: every nibble value appears in the hex.
        assert_eq!(
            Sha256Hex::digest("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn already_hashed_values_pass_through_lowercased() {
        let upper = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F";
        assert!(Sha256Hex::looks_hashed(upper));
        let parsed: Sha256Hex = upper.parse().unwrap();
        assert_eq!(parsed.as_str(), upper.to_ascii_lowercase());
    }

    #[test]
    fn anything_else_is_not_a_hash() {
        assert_eq!("abc".parse::<Sha256Hex>(), Err(NotAHash));
        assert_eq!("g".repeat(64).parse::<Sha256Hex>(), Err(NotAHash));
        assert_eq!(Sha256Hex::try_from("é".repeat(32)), Err(NotAHash));
    }
}
