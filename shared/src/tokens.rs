//! Tokens made with keys derived from the server secret (`signature::derive_key`), each for one
//! purpose:
//!
//! - **Order tokens** (DESIGN §4, "Forged events"): the thank-you page renders
//!   `hex(HMAC(order key, "<event>␟<event_id>␟<order_id>␟<value, 2 decimals>␟<CURRENCY>"))` so a
//!   browser copy of exactly that event at exactly that amount can be believed without the shop's
//!   copy. It is bound to the event: a cheap order's token verifies nothing else.
//! - **Session ids** (`_ar_sid`): `<32 hex random>.<16 hex MAC>`; a value the worker did not mint
//!   is not a session, so nobody can name someone else's visit and inherit its context.
//! - **Edge-event signatures**: an edge-routed checkout's `x-ar-event` header counts only as
//!   `<base64url event>;t=<unix seconds>;v1=<hex HMAC(edge key, "<t>.<base64url event>")>`, fresh
//!   within `signature::TOLERANCE_SECS`: an origin response header alone is not the shop.
//! - **Admin sessions**: `<expiry unix seconds>.<hex MAC>`, short-lived.
//!
//! `␟` is U+001F (unit separator): no field can contain it, so fields cannot run together.

use hmac::Mac;

use crate::event::EventName;
use crate::event_id::EventId;
use crate::money::Money;
use crate::signature::{DerivedKey, TOLERANCE_SECS, constant_time_eq, hex, mac, unhex};

/// The event an order token vouches for.
#[derive(Debug, Clone, Copy)]
pub struct OrderClaim<'a> {
    /// The event (a purchase, or a custom purchase-like event).
    pub event: &'a EventName,
    /// Its ID.
    pub event_id: &'a EventId,
    /// The order.
    pub order_id: &'a str,
    /// The amount.
    pub money: &'a Money,
}

fn order_message(c: &OrderClaim<'_>) -> String {
    // Two decimals: the shop's template and the worker must print the same amount.
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{:.2}\u{1f}{}",
        c.event,
        c.event_id,
        c.order_id,
        c.money.value,
        c.money.currency.to_ascii_uppercase()
    )
}

fn mac_hex(key: &DerivedKey, message: &[u8]) -> String {
    let mut m = mac(&key.0);
    m.update(message);
    hex(&m.finalize().into_bytes())
}

fn mac_matches(key: &DerivedKey, message: &[u8], claimed_hex: &str) -> bool {
    let Some(claimed) = unhex(claimed_hex.trim()) else {
        return false;
    };
    let mut m = mac(&key.0);
    m.update(message);
    let expected = m.finalize().into_bytes();
    constant_time_eq(&claimed, &expected)
}

/// The order token for `claim` (what the thank-you page renders).
#[must_use]
pub fn order_token(key: &DerivedKey, claim: &OrderClaim<'_>) -> String {
    mac_hex(key, order_message(claim).as_bytes())
}

/// True when `token` is the order token for exactly `claim`.
#[must_use]
pub fn verify_order_token(key: &DerivedKey, token: &str, claim: &OrderClaim<'_>) -> bool {
    mac_matches(key, order_message(claim).as_bytes(), token)
}

/// Bytes of randomness in a session id.
const SESSION_RANDOM_HEX: usize = 32;
/// Hex digits of MAC a session id carries (64 bits: forging one takes 2^64 guesses online).
const SESSION_MAC_HEX: usize = 16;

/// A new session id from 16 random bytes.
#[must_use]
pub fn mint_session_id(key: &DerivedKey, random: [u8; 16]) -> String {
    let id = hex(&random);
    let tag = mac_hex(key, id.as_bytes());
    format!("{id}.{}", &tag[..SESSION_MAC_HEX])
}

/// Whether `value` is a session id this key minted.
#[must_use]
pub fn is_minted_session_id(key: &DerivedKey, value: &str) -> bool {
    let Some((id, tag)) = value.split_once('.') else {
        return false;
    };
    if id.len() != SESSION_RANDOM_HEX || tag.len() != SESSION_MAC_HEX {
        return false;
    }
    let expected = mac_hex(key, id.as_bytes());
    constant_time_eq(tag.as_bytes(), &expected.as_bytes()[..SESSION_MAC_HEX])
}

/// The `;t=<timestamp>;v1=<hex MAC>` suffix that signs an edge event's `payload` (the
/// base64url event JSON) at `timestamp`.
#[must_use]
pub fn sign_edge_event(key: &DerivedKey, timestamp: u64, payload: &str) -> String {
    let tag = mac_hex(key, format!("{timestamp}.{payload}").as_bytes());
    format!(";t={timestamp};v1={tag}")
}

/// The payload of a signed `x-ar-event` value (`<payload>;t=<t>;v1=<hex>`) when the signature
/// matches and is fresh at `now_secs`.
#[must_use]
pub fn verify_edge_event<'a>(key: &DerivedKey, header: &'a str, now_secs: u64) -> Option<&'a str> {
    let mut parts = header.trim().split(';');
    let payload = parts.next()?;
    let mut t = None;
    let mut v1 = None;
    for part in parts.map(str::trim) {
        if let Some(x) = part.strip_prefix("t=") {
            t = x.parse::<u64>().ok();
        } else if let Some(x) = part.strip_prefix("v1=") {
            v1 = Some(x);
        }
    }
    let (t, v1) = (t?, v1?);
    let fresh = t.abs_diff(now_secs) <= TOLERANCE_SECS;
    (fresh && mac_matches(key, format!("{t}.{payload}").as_bytes(), v1)).then_some(payload)
}

/// An admin session valid until `expires_secs`.
#[must_use]
pub fn mint_admin_session(key: &DerivedKey, expires_secs: u64) -> String {
    let tag = mac_hex(key, expires_secs.to_string().as_bytes());
    format!("{expires_secs}.{tag}")
}

/// Whether `value` is an admin session this key minted that has not expired at `now_secs`.
#[must_use]
pub fn is_admin_session(key: &DerivedKey, value: &str, now_secs: u64) -> bool {
    let Some((expires, tag)) = value.split_once('.') else {
        return false;
    };
    let Ok(expires_secs) = expires.parse::<u64>() else {
        return false;
    };
    expires_secs > now_secs && mac_matches(key, expires.as_bytes(), tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{KeyPurpose, derive_key};

    const SECRET: &[u8] = b"dev-server-secret";

    fn key(p: KeyPurpose) -> DerivedKey {
        derive_key(SECRET, p)
    }

    #[test]
    fn order_tokens_bind_the_event_its_id_the_order_and_the_amount() {
        let k = key(KeyPurpose::OrderToken);
        let id = EventId::from_business_key(&EventName::Purchase, "1001");
        let money = Money::new(59.9, "EUR");
        let claim = OrderClaim {
            event: &EventName::Purchase,
            event_id: &id,
            order_id: "1001",
            money: &money,
        };
        let t = order_token(&k, &claim);
        assert!(verify_order_token(&k, &t, &claim));
        let other_money = Money::new(599.0, "EUR");
        let other_id = EventId::from_business_key(&EventName::Purchase, "1002");
        for forged in [
            OrderClaim {
                money: &other_money,
                ..claim
            },
            OrderClaim {
                order_id: "1002",
                ..claim
            },
            OrderClaim {
                event_id: &other_id,
                ..claim
            },
            OrderClaim {
                event: &EventName::PaymentInfoAdded,
                ..claim
            },
        ] {
            assert!(!verify_order_token(&k, &t, &forged), "{forged:?}");
        }
        assert!(!verify_order_token(&key(KeyPurpose::Session), &t, &claim));
        assert!(!verify_order_token(&k, "nothex", &claim));
    }

    #[test]
    fn session_ids_are_accepted_only_when_minted_with_the_key() {
        let k = key(KeyPurpose::Session);
        let sid = mint_session_id(&k, [7; 16]);
        assert!(is_minted_session_id(&k, &sid));
        assert!(!is_minted_session_id(&key(KeyPurpose::EdgeEvent), &sid));
        let forged = format!("{}.{}", "0".repeat(32), "0".repeat(16));
        assert!(!is_minted_session_id(&k, &forged));
        assert!(!is_minted_session_id(
            &k,
            "0123456789abcdef0123456789abcdef"
        ));
        assert!(
            crate::visit::is_session_id(&sid),
            "fits the session_id field"
        );
    }

    #[test]
    fn edge_signatures_bind_the_payload_and_expire() {
        let k = key(KeyPurpose::EdgeEvent);
        let header = format!(
            "eyJldmVudCI6Ij{}",
            sign_edge_event(&k, 1_000, "eyJldmVudCI6Ij")
        );
        assert_eq!(
            verify_edge_event(&k, &header, 1_100),
            Some("eyJldmVudCI6Ij")
        );
        let tampered = header.replacen("eyJldmVudCI6Ij", "eyJldmVudCI6Ik", 1);
        assert_eq!(verify_edge_event(&k, &tampered, 1_100), None);
        assert_eq!(
            verify_edge_event(&k, &header, 1_000 + TOLERANCE_SECS + 1),
            None
        );
        assert_eq!(
            verify_edge_event(&k, "eyJldmVudCI6Ij", 1_000),
            None,
            "unsigned"
        );
        assert_eq!(
            verify_edge_event(&key(KeyPurpose::Session), &header, 1_100),
            None
        );
    }

    #[test]
    fn admin_sessions_expire_and_cannot_be_forged() {
        let k = key(KeyPurpose::AdminSession);
        let s = mint_admin_session(&k, 2_000);
        assert!(is_admin_session(&k, &s, 1_999));
        assert!(!is_admin_session(&k, &s, 2_000));
        assert!(!is_admin_session(&k, &s.replace("2000", "9999"), 1_999));
        assert!(!is_admin_session(&key(KeyPurpose::Session), &s, 1_999));
    }
}
