//! Proof Key for Code Exchange (RFC 7636), S256 only: the verifier stays with the worker, the
//! authorization request carries `BASE64URL(SHA256(verifier))`, and the token request the
//! verifier, so a code intercepted on its way back is useless to anyone else.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A verifier and its challenge.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    /// `code_verifier`: 43 characters of the unreserved set (RFC 7636 §4.1: "a high-entropy
    /// cryptographic random STRING … minimum length of 43 characters").
    pub verifier: String,
    /// `code_challenge` for `code_challenge_method=S256` (RFC 7636 §4.2).
    pub challenge: String,
}

impl core::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// From 32 random bytes: RFC 7636 §4.1 recommends "a 32-octet sequence … base64url-encoded
    /// to produce a 43-octet URL safe string".
    pub fn from_random(bytes: &[u8; 32]) -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let challenge = challenge_of(&verifier);
        Self {
            verifier,
            challenge,
        }
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2).
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: the example verifier and its S256 challenge.
    #[test]
    fn s256_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    /// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
    #[test]
    fn verifier_from_32_bytes_is_43_unreserved_characters() {
        let p = Pkce::from_random(&[0xfb; 32]);
        assert_eq!(p.verifier.len(), 43);
        assert!(
            p.verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        );
        assert_eq!(p.challenge, challenge_of(&p.verifier));
        assert!(
            !format!("{p:?}").contains(&p.verifier),
            "Debug hides the verifier"
        );
    }
}
