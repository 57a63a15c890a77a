//! Signatures that let the worker trust what reaches it: merchant-backend requests to
//! `/_ar/events`, and order tokens that a thank-you page renders so a browser-reported purchase
//! can be believed without a server copy (DESIGN §4, "Forged events").
//!
//! Both are HMAC-SHA256 with the merchant's server secret, hex-encoded. Request signatures cover
//! `"<timestamp>.<raw body>"` and expire after [`TOLERANCE_SECS`], so a captured request cannot be
//! replayed later. Comparison is constant-time (`Mac::verify_slice`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Header carrying the Unix timestamp (seconds) the sender signed.
pub const TIMESTAMP_HEADER: &str = "x-ar-timestamp";
/// Header carrying `v1=<hex>` (several, comma-separated, during a secret rotation).
pub const SIGNATURE_HEADER: &str = "x-ar-signature";
/// How far the signed timestamp may be from the worker's clock, either way.
pub const TOLERANCE_SECS: u64 = 300;

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
            Self::Mismatch => "signature_mismatch",
        }
    }
}

fn mac(secret: &[u8]) -> HmacSha256 {
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

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
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

/// Checks a signed request.
///
/// # Errors
/// [`SignatureError`] saying what is missing or wrong.
pub fn verify_request(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: u64,
) -> Result<(), SignatureError> {
    let ts_text = timestamp.ok_or(SignatureError::MissingTimestamp)?.trim();
    let ts: u64 = ts_text.parse().map_err(|_| SignatureError::BadTimestamp)?;
    if ts.abs_diff(now_secs) > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let header = signature.ok_or(SignatureError::MissingSignature)?;
    let matches = header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(unhex)
        .any(|sig| {
            let mut m = mac(secret);
            m.update(ts_text.as_bytes());
            m.update(b".");
            m.update(body);
            m.verify_slice(&sig).is_ok()
        });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn order_message(order_id: &str, value: f64, currency: &str) -> String {
    // Two decimals: the shop's template and the worker must print the same amount.
    format!(
        "{order_id}\u{1f}{value:.2}\u{1f}{}",
        currency.to_ascii_uppercase()
    )
}

/// The order token a thank-you page renders for `order_id` (hex HMAC over order id, value with
/// two decimals, and currency).
#[must_use]
pub fn order_token(secret: &[u8], order_id: &str, value: f64, currency: &str) -> String {
    let mut m = mac(secret);
    m.update(order_message(order_id, value, currency).as_bytes());
    hex(&m.finalize().into_bytes())
}

/// True when `token` is the order token for these order details.
pub fn verify_order_token(
    secret: &[u8],
    token: &str,
    order_id: &str,
    value: f64,
    currency: &str,
) -> bool {
    let Some(sig) = unhex(token.trim()) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(order_message(order_id, value, currency).as_bytes());
    m.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"dev-server-secret";

    #[test]
    fn a_correctly_signed_request_is_accepted() {
        let body = br#"{"events":[]}"#;
        let sig = sign_request(SECRET, 1_764_000_000, body);
        assert_eq!(
            verify_request(SECRET, Some("1764000000"), Some(&sig), body, 1_764_000_100),
            Ok(())
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
        assert_eq!(
            verify_request(SECRET, Some("10"), Some(&header), b"x", 10),
            Ok(())
        );
    }

    #[test]
    fn order_tokens_bind_order_value_and_currency() {
        let t = order_token(SECRET, "1001", 59.9, "eur");
        assert!(verify_order_token(SECRET, &t, "1001", 59.90, "EUR"));
        assert!(!verify_order_token(SECRET, &t, "1001", 599.0, "EUR"));
        assert!(!verify_order_token(SECRET, &t, "1002", 59.9, "EUR"));
        assert!(!verify_order_token(SECRET, &t, "1001", 59.9, "USD"));
        assert!(!verify_order_token(SECRET, "nothex", "1001", 59.9, "EUR"));
    }
}
