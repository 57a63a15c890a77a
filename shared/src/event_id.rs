//! Stable event IDs: the one value that lets Meta deduplicate the browser copy and the server copy
//! of a business event.
//!
//! The thank-you page (pixel) and the merchant backend (worker) compute the same ID for the same
//! order without talking to each other: the ID is a SHA-256 digest of the event name and its
//! business key. Events without a business key (a product view) take an ID from random bytes the
//! caller supplies; the pixel sends it along so the server copy reuses it.
//!
//! Format: `ar1_` + 32 lowercase hex digits (128 bits). The prefix carries the version so a future
//! derivation can coexist; hex keeps the ID safe in URLs, cookies and every platform's ID field.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

use crate::event::EventName;
use crate::mapping::BusinessKey;

/// Version prefix of every ID this crate mints.
pub const EVENT_ID_PREFIX: &str = "ar1_";
/// Number of digest bytes kept (128 bits).
const ID_BYTES: usize = 16;
/// Longest event ID accepted from callers (Meta allows free-form IDs; we bound them for storage).
pub const MAX_EVENT_ID_LEN: usize = 128;

/// A stable event ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

/// Why a string is not an acceptable event ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventIdError {
    /// Empty string.
    Empty,
    /// Longer than [`MAX_EVENT_ID_LEN`].
    TooLong,
    /// Contains a character that is not URL- and cookie-safe.
    BadCharacters,
}

impl EventIdError {
    /// What is wrong (a static text: the pixel builds its messages without `core::fmt`).
    #[must_use]
    pub const fn message(&self) -> &'static str {
        match self {
            Self::Empty => "event_id is empty",
            // MAX_EVENT_ID_LEN (a test holds the two together).
            Self::TooLong => "event_id is longer than 128 characters",
            Self::BadCharacters => "event_id may contain only A-Z, a-z, 0-9, '-', '_' and '.'",
        }
    }
}

impl fmt::Display for EventIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for EventIdError {}

impl EventId {
    /// The ID of the business event `event` identified by `business_key` (an order id, a checkout
    /// id, …). Deterministic: the same inputs give the same ID on every platform.
    #[must_use]
    pub fn from_business_key(event: &EventName, business_key: &str) -> Self {
        let mut hasher = Sha256::new();
        // Unit separators keep ("a.b", "c") and ("a", "b.c") apart.
        hasher.update(EVENT_ID_PREFIX.as_bytes());
        hasher.update([0x1f]);
        hasher.update(event.as_str().as_bytes());
        hasher.update([0x1f]);
        hasher.update(business_key.as_bytes());
        let digest = hasher.finalize();
        Self::from_bytes(&digest[..ID_BYTES])
    }

    /// A fresh ID for an event without a business key, from 16 random bytes the caller supplies.
    #[must_use]
    pub fn from_random(random: [u8; ID_BYTES]) -> Self {
        Self::from_bytes(&random)
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(EVENT_ID_PREFIX.len() + 2 * bytes.len());
        s.push_str(EVENT_ID_PREFIX);
        for b in bytes {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        Self(s)
    }

    /// The ID as sent to platforms.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The business identifiers an event may carry. Which one identifies an event is the mapping's
/// [`BusinessKey`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessKeys {
    /// The shop's order id.
    pub order_id: Option<String>,
    /// The checkout (session) id.
    pub checkout_id: Option<String>,
    /// The cart id.
    pub cart_id: Option<String>,
    /// The lead id.
    pub lead_id: Option<String>,
    /// The shop's user id.
    pub user_id: Option<String>,
    /// For cart lines: the item added (the first item's id).
    pub line_item_id: Option<String>,
    /// The shop's refund id (refunds).
    pub refund_id: Option<String>,
}

impl BusinessKeys {
    /// The keys an event states, by field name (`line_item_id` is the first item's `id`, checked
    /// with the items).
    #[must_use]
    pub fn by_field(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("order_id", self.order_id.as_deref()),
            ("checkout_id", self.checkout_id.as_deref()),
            ("cart_id", self.cart_id.as_deref()),
            ("lead_id", self.lead_id.as_deref()),
            ("user_id", self.user_id.as_deref()),
            ("refund_id", self.refund_id.as_deref()),
        ]
    }

    /// The key string an event's ID is derived from, or `None` when the identifying key is
    /// absent (or the event has none). One rule for pixel and worker: a cart line is
    /// `<cart_id>:<item id>`, so adding two different items to one cart gives two events.
    pub fn key_for(&self, kind: BusinessKey) -> Option<String> {
        let non_empty =
            |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        match kind {
            BusinessKey::OrderId => non_empty(&self.order_id),
            BusinessKey::CheckoutId => non_empty(&self.checkout_id),
            BusinessKey::UserId => non_empty(&self.user_id),
            BusinessKey::LeadId => non_empty(&self.lead_id),
            BusinessKey::RefundId => non_empty(&self.refund_id),
            BusinessKey::CartLine => {
                Some([non_empty(&self.cart_id)?, non_empty(&self.line_item_id)?].join(":"))
            }
            BusinessKey::None => None,
        }
    }
}

/// The id Google deduplicates an event by, byte for byte the same in the browser's gtag and the
/// server copy: the order id for purchases, the event ID otherwise (DESIGN §1; google.md §8: the
/// overlap diagnostic flags `order-12345` vs `12345`, case and leading-zero differences). Never
/// reformatted.
pub fn transaction_id<'a>(
    event: &EventName,
    order_id: Option<&'a str>,
    event_id: &'a EventId,
) -> &'a str {
    match (event, order_id) {
        // An adjustment names its purchase's conversion: the same transactionId
        // (data-manager.md §3.1) and GA4 transaction_id.
        (EventName::Purchase | EventName::Refunded | EventName::Cancelled, Some(order))
            if !order.is_empty() =>
        {
            order
        }
        _ => event_id.as_str(),
    }
}

impl FromStr for EventId {
    type Err = EventIdError;

    /// Accepts IDs minted by any version of this crate and merchant-supplied IDs that are
    /// URL- and cookie-safe.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(EventIdError::Empty);
        }
        if s.len() > MAX_EVENT_ID_LEN {
            return Err(EventIdError::TooLong);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(EventIdError::BadCharacters);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Stored and sent as its text; reading it back checks it again.
#[cfg(feature = "server")]
impl serde::Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "server")]
impl<'de> serde::Deserialize<'de> for EventId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse()
            .map_err(|e: EventIdError| serde::de::Error::custom(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_too_long_message_names_the_limit() {
        let limit = [" ", &crate::text::decimal(MAX_EVENT_ID_LEN as u64), " "].concat();
        assert!(EventIdError::TooLong.message().contains(&limit));
        assert_eq!(
            EventIdError::TooLong.to_string(),
            EventIdError::TooLong.message()
        );
    }

    #[test]
    fn business_key_ids_are_stable_across_versions_of_the_code() {
        // Pinned: changing this value breaks deduplication with IDs already sent to platforms.
        let id = EventId::from_business_key(&EventName::Purchase, "1001");
        assert_eq!(id.as_str(), PINNED_PURCHASE_1001);
    }

    /// Also asserted in the browser (pixel tests) and end to end: wasm32 and native must agree.
    pub(crate) const PINNED_PURCHASE_1001: &str = "ar1_47c5cc731af4b5c9fbd830ab4db17cf4";

    #[test]
    fn different_events_with_the_same_key_get_different_ids() {
        let a = EventId::from_business_key(&EventName::Purchase, "1001");
        let b = EventId::from_business_key(&EventName::PaymentInfoAdded, "1001");
        assert_ne!(a, b);
    }

    #[test]
    fn ids_are_128_bits_of_url_safe_hex_with_a_version_prefix() {
        let id = EventId::from_business_key(&EventName::CartAdded, "cart-9:sku-1");
        let hex = id
            .as_str()
            .strip_prefix(EVENT_ID_PREFIX)
            .unwrap_or_default();
        assert_eq!(hex.len(), 32);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(id.as_str().parse::<EventId>(), Ok(id.clone()));
    }

    #[test]
    fn random_ids_use_the_supplied_bytes() {
        let id = EventId::from_random([0xab; 16]);
        assert_eq!(id.as_str(), "ar1_abababababababababababababababab");
    }

    #[test]
    fn cart_lines_are_keyed_by_cart_and_item() {
        let keys = BusinessKeys {
            cart_id: Some("c9".into()),
            line_item_id: Some("sku-1".into()),
            ..BusinessKeys::default()
        };
        assert_eq!(
            keys.key_for(BusinessKey::CartLine).as_deref(),
            Some("c9:sku-1")
        );
        let no_item = BusinessKeys {
            cart_id: Some("c9".into()),
            ..BusinessKeys::default()
        };
        assert_eq!(no_item.key_for(BusinessKey::CartLine), None);
    }

    #[test]
    fn empty_business_keys_count_as_missing() {
        let keys = BusinessKeys {
            order_id: Some(String::new()),
            ..BusinessKeys::default()
        };
        assert_eq!(keys.key_for(BusinessKey::OrderId), None);
        assert_eq!(keys.key_for(BusinessKey::None), None);
    }

    #[test]
    fn unsafe_ids_are_rejected() {
        assert_eq!("".parse::<EventId>(), Err(EventIdError::Empty));
        assert_eq!("a b".parse::<EventId>(), Err(EventIdError::BadCharacters));
        assert_eq!(
            "x".repeat(129).parse::<EventId>(),
            Err(EventIdError::TooLong)
        );
    }
}
