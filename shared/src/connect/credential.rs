//! What a stored credential is, sealed: AES-256-GCM (NIST SP 800-38D) under a key derived from
//! the `CREDENTIALS_KEY` secret, a fresh 96-bit nonce per sealing, and the platform and account
//! as associated data, so a ciphertext copied onto another account's row (or altered at all)
//! does not open. The worker seals and opens with Web Crypto (`crypto.subtle`, AES-GCM, 128-bit
//! tag); this module fixes the key, the associated data and the text form stored in D1.
//!
//! `CREDENTIALS_KEY` is its own secret, not derived from `AR_SERVER_SECRET`: the shop's backend
//! holds the server secret to sign events, and must not be able to open the ad credentials.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::Provider;
use crate::signature::{KeyPurpose, derive_key, hex};

/// Shortest `CREDENTIALS_KEY` accepted (e.g. `openssl rand -base64 32` gives 44 characters).
pub const MIN_KEY_LEN: usize = 32;
/// AES-GCM nonce length: 96 bits, the length SP 800-38D §8.2 recommends.
pub const NONCE_LEN: usize = 12;
/// The tag Web Crypto appends (128 bits, its default `tagLength`).
pub const TAG_LEN: usize = 16;
/// The format's version prefix.
const VERSION: &str = "v1";

/// The raw AES-256 key for `CREDENTIALS_KEY`.
#[derive(Clone, PartialEq, Eq)]
pub struct SealingKey(pub [u8; 32]);

impl core::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

/// The sealing key from the secret's text.
///
/// # Errors
/// A sentence naming the secret when it is shorter than [`MIN_KEY_LEN`].
pub fn sealing_key(secret: &str) -> Result<SealingKey, String> {
    let secret = secret.trim();
    if secret.len() < MIN_KEY_LEN {
        return Err(format!(
            "CREDENTIALS_KEY must be at least {MIN_KEY_LEN} characters: `openssl rand -base64 32 | wrangler secret put CREDENTIALS_KEY`"
        ));
    }
    Ok(SealingKey(
        derive_key(secret.as_bytes(), KeyPurpose::Credentials).0,
    ))
}

/// The associated data of a connection's credential: which platform and account it belongs to.
pub fn connection_aad(provider: Provider, account_id: &str) -> Vec<u8> {
    format!(
        "active-reach/v1/credential|{}|{account_id}",
        provider.as_str()
    )
    .into_bytes()
}

/// The associated data of a grant (or verifier) kept while a sign-in is in progress.
pub fn flow_aad(provider: Provider, state_hash: &str) -> Vec<u8> {
    format!("active-reach/v1/flow|{}|{state_hash}", provider.as_str()).into_bytes()
}

/// A sealed value as stored: nonce and ciphertext (tag included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the tag.
    pub ciphertext: Vec<u8>,
}

impl Sealed {
    /// `v1.<nonce>.<ciphertext>`, base64url without padding.
    pub fn to_text(&self) -> String {
        format!(
            "{VERSION}.{}.{}",
            URL_SAFE_NO_PAD.encode(self.nonce),
            URL_SAFE_NO_PAD.encode(&self.ciphertext)
        )
    }

    /// Parses [`Sealed::to_text`]; `None` for anything else (a row altered by hand included).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let (Some(VERSION), Some(nonce), Some(ct), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD.decode(nonce).ok()?.try_into().ok()?;
        let ciphertext = URL_SAFE_NO_PAD.decode(ct).ok()?;
        (ciphertext.len() > TAG_LEN).then_some(Self { nonce, ciphertext })
    }
}

/// A short, stable tag of a credential, to recognise "the credential the platform refused"
/// without storing it: the first 16 hex digits of a SHA-256 of a high-entropy token reveal
/// nothing usable.
pub fn fingerprint(credential: &str) -> String {
    let digest = Sha256::digest(format!("ar-credential|{credential}").as_bytes());
    hex(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_key_is_derived_from_a_long_enough_secret() {
        let e = sealing_key("short").unwrap_err();
        assert!(e.contains("CREDENTIALS_KEY"), "{e}");
        let a = sealing_key(&"k".repeat(32)).unwrap();
        let b = sealing_key(&"j".repeat(32)).unwrap();
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "SealingKey(..)");
    }

    #[test]
    fn associated_data_names_platform_and_account() {
        assert_ne!(
            connection_aad(Provider::Google, "1234567890"),
            connection_aad(Provider::Google, "1112223334")
        );
        assert_ne!(
            connection_aad(Provider::Google, "1"),
            connection_aad(Provider::Meta, "1")
        );
    }

    #[test]
    fn sealed_text_round_trips_and_refuses_anything_else() {
        let s = Sealed {
            nonce: [7; NONCE_LEN],
            ciphertext: vec![1; 40],
        };
        let text = s.to_text();
        assert!(text.starts_with("v1."));
        assert_eq!(Sealed::parse(&text), Some(s));
        for bad in [
            "",
            "v1",
            "v2.AAAAAAAAAAAAAAAA.AQEBAQEBAQEBAQEBAQEBAQEBAQ",
            "v1.AAAA.AQEBAQEBAQEBAQEBAQEBAQEBAQ",
            "v1.BwcHBwcHBwcHBwcH.AQ",
            "v1.BwcHBwcHBwcHBwcH.AQEBAQEBAQEBAQEBAQEBAQEBAQ.x",
            "1//refresh-token-in-clear",
        ] {
            assert_eq!(Sealed::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn fingerprint_is_short_and_does_not_contain_the_credential() {
        let f = fingerprint("1//0gSandboxRefreshToken");
        assert_eq!(f.len(), 16);
        assert!(!f.contains("Sandbox"));
        assert_ne!(f, fingerprint("1//other"));
    }
}
