//! Event names: the standard Aegis events of the design's event table, plus merchant-defined
//! custom names.
//!
//! This module only knows names and their shape; the platform mapping and delivery paths are
//! separate concepts.

use core::fmt;
use core::str::FromStr;

/// Longest event name we accept (platforms cap custom event names at 40–50 characters; we keep
/// room for a namespace).
pub const MAX_EVENT_NAME_LEN: usize = 64;

/// A business event's name: one of the standard events, or a custom name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventName {
    /// `transaction.purchase`
    Purchase,
    /// `payment_info.added`
    PaymentInfoAdded,
    /// `user.signed_up`
    SignedUp,
    /// `lead.submitted`
    LeadSubmitted,
    /// `checkout.started`
    CheckoutStarted,
    /// `cart.added`
    CartAdded,
    /// `product.viewed`
    ProductViewed,
    /// `transaction.refunded`: a full or partial refund of a purchase (shop only).
    Refunded,
    /// `transaction.cancelled`: a purchase cancelled (shop only).
    Cancelled,
    /// A merchant-defined event (`[a-z0-9_.]`, starting with a letter).
    Custom(String),
}

/// Why a string is not an event name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventNameError {
    /// Empty string.
    Empty,
    /// Longer than [`MAX_EVENT_NAME_LEN`].
    TooLong,
    /// Contains a character outside `[a-z0-9_.]` or does not start with a letter.
    BadCharacters,
}

impl EventNameError {
    /// What is wrong (a static text: the pixel builds its messages without `core::fmt`).
    #[must_use]
    pub const fn message(&self) -> &'static str {
        match self {
            Self::Empty => "event name is empty",
            // MAX_EVENT_NAME_LEN (a test holds the two together).
            Self::TooLong => "event name is longer than 64 characters",
            Self::BadCharacters => {
                "event name must start with a-z and contain only a-z, 0-9, '_' and '.'"
            }
        }
    }
}

impl fmt::Display for EventNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for EventNameError {}

impl EventName {
    /// The standard events, in the design's table order.
    pub const STANDARD: [EventName; 7] = [
        EventName::Purchase,
        EventName::PaymentInfoAdded,
        EventName::SignedUp,
        EventName::LeadSubmitted,
        EventName::CheckoutStarted,
        EventName::CartAdded,
        EventName::ProductViewed,
    ];

    /// The canonical dotted name.
    pub fn as_str(&self) -> &str {
        match self {
            EventName::Purchase => "transaction.purchase",
            EventName::PaymentInfoAdded => "payment_info.added",
            EventName::SignedUp => "user.signed_up",
            EventName::LeadSubmitted => "lead.submitted",
            EventName::CheckoutStarted => "checkout.started",
            EventName::CartAdded => "cart.added",
            EventName::ProductViewed => "product.viewed",
            EventName::Refunded => "transaction.refunded",
            EventName::Cancelled => "transaction.cancelled",
            EventName::Custom(name) => name,
        }
    }
}

impl EventName {
    /// The events that adjust an earlier purchase (refunds, cancellations). They are not in
    /// [`EventName::STANDARD`]: they are no conversions of their own, and only the shop reports
    /// them (`trust`: the pixel is refused).
    pub const ADJUSTMENTS: [EventName; 2] = [EventName::Refunded, EventName::Cancelled];

    /// Whether this event adjusts an earlier purchase.
    pub fn is_adjustment(&self) -> bool {
        matches!(self, EventName::Refunded | EventName::Cancelled)
    }
}

impl FromStr for EventName {
    type Err = EventNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(standard) = Self::STANDARD
            .iter()
            .chain(Self::ADJUSTMENTS.iter())
            .find(|e| e.as_str() == s)
        {
            return Ok(standard.clone());
        }
        if s.is_empty() {
            return Err(EventNameError::Empty);
        }
        if s.len() > MAX_EVENT_NAME_LEN {
            return Err(EventNameError::TooLong);
        }
        let starts_with_letter = s.as_bytes()[0].is_ascii_lowercase();
        let allowed = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !starts_with_letter || !allowed {
            return Err(EventNameError::BadCharacters);
        }
        Ok(EventName::Custom(s.to_owned()))
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored and sent as its text; reading it back checks it again.
#[cfg(feature = "server")]
impl serde::Serialize for EventName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "server")]
impl<'de> serde::Deserialize<'de> for EventName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse()
            .map_err(|e: EventNameError| serde::de::Error::custom(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_too_long_message_names_the_limit() {
        let limit = [" ", &crate::text::decimal(MAX_EVENT_NAME_LEN as u64), " "].concat();
        assert!(EventNameError::TooLong.message().contains(&limit));
        assert_eq!(
            EventNameError::TooLong.to_string(),
            EventNameError::TooLong.message()
        );
    }

    #[test]
    fn standard_names_round_trip() {
        for e in EventName::STANDARD {
            assert_eq!(e.as_str().parse::<EventName>(), Ok(e.clone()));
        }
    }

    #[test]
    fn custom_names_are_accepted_when_well_formed() {
        assert_eq!(
            "quiz.completed".parse::<EventName>(),
            Ok(EventName::Custom("quiz.completed".into()))
        );
    }

    #[test]
    fn malformed_names_are_rejected_with_the_reason() {
        assert_eq!("".parse::<EventName>(), Err(EventNameError::Empty));
        assert_eq!(
            "Purchase".parse::<EventName>(),
            Err(EventNameError::BadCharacters)
        );
        assert_eq!(
            "9lives".parse::<EventName>(),
            Err(EventNameError::BadCharacters)
        );
        assert_eq!(
            "a".repeat(65).parse::<EventName>(),
            Err(EventNameError::TooLong)
        );
    }
}
