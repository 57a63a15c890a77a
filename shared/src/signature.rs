//! Signatures on merchant-backend requests to `/_ar/events`, and the keys every other token is
//! made with (`tokens`).
//!
//! Requests are HMAC-SHA256 with the merchant's server secret over `"<timestamp>.<raw body>"`,
//! hex-encoded; they expire after [`TOLERANCE_SECS`], and within that window the worker refuses a
//! signature it has already seen (a replay), keyed by the signature the check returns.
//! Verification computes the MAC once, however many `v1=` candidates the header lists, and
//! refuses a header with more than [`MAX_SIGNATURES`] of them before computing anything, so an
//! unsigned request costs the worker one pass over the body at most. Comparison is
//! constant-time.
//!
//! Every other use of the secret takes its own key, derived with [`derive_key`] (domain
//! separation): an order token, a session id, an edge-event signature or an admin session made
//! for one purpose is worthless for another, and none of them is a request signature.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Header carrying the Unix timestamp (seconds) the sender signed.
pub const TIMESTAMP_HEADER: &str = "x-ar-timestamp";
/// Header carrying `v1=<hex>` (several, comma-separated, during a secret rotation).
pub const SIGNATURE_HEADER: &str = "x-ar-signature";
/// How far the signed timestamp may be from the worker's clock, either way.
pub const TOLERANCE_SECS: u64 = 300;
/// Most `v1=` candidates one header may carry: the old and the new secret during a rotation,
/// and one spare.
pub const MAX_SIGNATURES: usize = 3;
/// Longest signature header accepted (three candidates and separators fit well inside).
pub const MAX_SIGNATURE_HEADER_LEN: usize = 256;

/// What a derived key is for; each use has its own key (domain separation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Order tokens rendered by the thank-you page.
    OrderToken,
    /// Our `_ar_sid` session ids.
    Session,
    /// The `x-ar-event-signature` of an edge-routed checkout.
    EdgeEvent,
    /// Admin session cookies.
    AdminSession,
    /// The AES-GCM key of stored platform credentials (derived from `CREDENTIALS_KEY`, not from
    /// the server secret: the shop's backend knows that one).
    Credentials,
}

impl KeyPurpose {
    /// The label the key is derived under; published in the README for the shop's side.
    pub const fn label(self) -> &'static str {
        match self {
            Self::OrderToken => "active-reach/v1/order-token",
            Self::Session => "active-reach/v1/session",
            Self::EdgeEvent => "active-reach/v1/edge-event",
            Self::AdminSession => "active-reach/v1/admin-session",
            Self::Credentials => "active-reach/v1/credentials",
        }
    }
}

/// A key derived from the server secret for one purpose: `HMAC-SHA256(secret, label)`.
#[derive(Clone, PartialEq, Eq)]
pub struct DerivedKey(pub(crate) [u8; 32]);

impl core::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DerivedKey(..)")
    }
}

/// The key for `purpose`, derived from the merchant's server secret.
#[must_use]
pub fn derive_key(secret: &[u8], purpose: KeyPurpose) -> DerivedKey {
    let mut m = mac(secret);
    m.update(purpose.label().as_bytes());
    DerivedKey(m.finalize().into_bytes().into())
}

/// The MAC of a verified request: what the worker records to refuse a replay of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMac(pub [u8; 32]);

impl RequestMac {
    /// Hex text, for storage.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No timestamp header.
    #[error("missing {TIMESTAMP_HEADER} header (Unix seconds)")]
    MissingTimestamp,
    /// The timestamp is not a number.
    #[error("{TIMESTAMP_HEADER} must be Unix time in seconds")]
    BadTimestamp,
    /// Outside the tolerance window.
    #[error(
        "{TIMESTAMP_HEADER} is more than 5 minutes from the server's clock; check the sender's clock"
    )]
    Stale,
    /// No signature header.
    #[error("missing {SIGNATURE_HEADER} header (v1=<hex HMAC-SHA256>)")]
    MissingSignature,
    /// More candidates, or a longer header, than a secret rotation needs.
    #[error("{SIGNATURE_HEADER} lists more than {MAX_SIGNATURES} signatures or is too long")]
    TooManySignatures,
    /// No `v1=` signature matches.
    #[error(
        "{SIGNATURE_HEADER} does not match: sign \"<timestamp>.<raw body>\" with HMAC-SHA256 and the server secret"
    )]
    Mismatch,
}

impl SignatureError {
    /// A stable code for the problem, for API answers.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::MissingTimestamp => "missing_timestamp",
            Self::BadTimestamp => "bad_timestamp",
            Self::Stale => "stale_timestamp",
            Self::MissingSignature => "missing_signature",
            Self::TooManySignatures => "too_many_signatures",
            Self::Mismatch => "signature_mismatch",
        }
    }
}

pub(crate) fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` only fails for fixed-size-key MACs.
    match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable_mac(),
    }
}

#[cold]
fn unreachable_mac() -> HmacSha256 {
    // Not reachable for HMAC; a keyed MAC over an empty key keeps this total without panicking.
    <HmacSha256 as KeyInit>::new(&hmac::digest::Key::<HmacSha256>::default())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The `x-ar-signature` value for `body` sent at `timestamp` (what the merchant backend computes).
#[must_use]
pub fn sign_request(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    format!("v1={}", hex(&m.finalize().into_bytes()))
}

/// Checks a signed request; the matching MAC on success.
///
/// # Errors
/// [`SignatureError`] saying what is missing or wrong.
pub fn verify_request(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: u64,
) -> Result<RequestMac, SignatureError> {
    let ts_text = timestamp.ok_or(SignatureError::MissingTimestamp)?.trim();
    let ts: u64 = ts_text.parse().map_err(|_| SignatureError::BadTimestamp)?;
    if ts.abs_diff(now_secs) > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let header = signature.ok_or(SignatureError::MissingSignature)?;
    let candidates: Vec<&str> = header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .collect();
    if header.len() > MAX_SIGNATURE_HEADER_LEN || candidates.len() > MAX_SIGNATURES {
        return Err(SignatureError::TooManySignatures);
    }
    let mut m = mac(secret);
    m.update(ts_text.as_bytes());
    m.update(b".");
    m.update(body);
    let expected: [u8; 32] = m.finalize().into_bytes().into();
    let matched = candidates
        .iter()
        .filter_map(|c| unhex(c))
        .fold(false, |found, sig| {
            found | constant_time_eq(&sig, &expected)
        });
    if matched {
        Ok(RequestMac(expected))
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Equal bytes, compared without stopping at the first difference.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"dev-server-secret";
    const SESSION_KEY_HEX: &str =
        "539e092f0c595b44d7108df5ff24a5709cc55741fbbb8a0c2b31946e58f39c3a";

    #[test]
    fn a_correctly_signed_request_is_accepted() {
        let body = br#"{"events":[]}"#;
        let sig = sign_request(SECRET, 1_764_000_000, body);
        assert!(
            verify_request(SECRET, Some("1764000000"), Some(&sig), body, 1_764_000_100).is_ok()
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Independent vector: printf '1764000000.{}' | openssl dgst -sha256 -hmac dev-server-secret
        assert_eq!(
            sign_request(SECRET, 1_764_000_000, b"{}"),
            "v1=20176d7d1e98f496b30ca68debd2eac0d47f702e5f8b0c0691c0171c6f081cb9"
        );
    }

    #[test]
    fn stale_timestamps_are_refused() {
        let sig = sign_request(SECRET, 1_764_000_000, b"x");
        assert_eq!(
            verify_request(SECRET, Some("1764000000"), Some(&sig), b"x", 1_764_000_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_request(SECRET, Some("1764000000"), Some(&sig), b"x", 1_763_999_600),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn tampered_bodies_and_wrong_secrets_are_refused() {
        let sig = sign_request(SECRET, 1_764_000_000, b"x");
        assert_eq!(
            verify_request(SECRET, Some("1764000000"), Some(&sig), b"y", 1_764_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_request(
                b"other",
                Some("1764000000"),
                Some(&sig),
                b"x",
                1_764_000_000
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_request(
                SECRET,
                Some("1764000000"),
                Some("v1=zz"),
                b"x",
                1_764_000_000
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_or_malformed_headers_say_what_is_missing() {
        assert_eq!(
            verify_request(SECRET, None, Some("v1=00"), b"", 0),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            verify_request(SECRET, Some("soon"), Some("v1=00"), b"", 0),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify_request(SECRET, Some("0"), None, b"", 0),
            Err(SignatureError::MissingSignature)
        );
    }

    #[test]
    fn any_of_several_signatures_may_match_during_rotation() {
        let sig = sign_request(SECRET, 10, b"x");
        let header = format!("v1=00ff, {sig}");
        assert!(verify_request(SECRET, Some("10"), Some(&header), b"x", 10).is_ok());
    }

    #[test]
    fn a_header_with_thousands_of_candidates_is_refused_before_any_mac() {
        let body = vec![b'x'; 1024 * 1024];
        let header = vec!["v1=00"; 5000].join(",");
        assert_eq!(
            verify_request(SECRET, Some("10"), Some(&header), &body, 10),
            Err(SignatureError::TooManySignatures)
        );
        let four = ["v1=00"; 4].join(",");
        assert_eq!(
            verify_request(SECRET, Some("10"), Some(&four), b"x", 10),
            Err(SignatureError::TooManySignatures)
        );
    }

    #[test]
    fn a_verified_request_names_its_mac_for_replay_checks() {
        let sig = sign_request(SECRET, 10, b"x");
        let mac = verify_request(SECRET, Some("10"), Some(&sig), b"x", 10).map(|m| m.to_hex());
        assert_eq!(mac.ok().map(|m| format!("v1={m}")), Some(sig));
    }

    #[test]
    fn derived_keys_differ_per_purpose_and_from_the_secret() {
        let keys = [
            KeyPurpose::OrderToken,
            KeyPurpose::Session,
            KeyPurpose::EdgeEvent,
            KeyPurpose::AdminSession,
        ]
        .map(|p| derive_key(SECRET, p).0);
        for (i, a) in keys.iter().enumerate() {
            assert_ne!(a.as_slice(), SECRET);
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Independent vector: printf 'active-reach/v1/session' | openssl dgst -sha256 -hmac dev-server-secret
        assert_eq!(
            hex(&derive_key(SECRET, KeyPurpose::Session).0),
            SESSION_KEY_HEX
        );
    }
}
