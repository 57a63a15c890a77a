//! SHA-256 as platforms want it: lowercase hex of the normalized value.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

/// A SHA-256 digest as 64 lowercase hex digits: the only form in which personal data leaves the
/// shopper's browser or the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
        let mut s = String::with_capacity(64);
        for b in digest {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        Self(s)
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

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
