//! The JSON event shape the worker accepts from the pixel (`/_ar/collect`).
//!
//! Strict: unknown fields are rejected with a message naming them, because a typo in a field
//! name would otherwise silently drop data.

use serde::Deserialize;

use crate::event::EventName;
use crate::event_id::EventId;

/// A browser-reported event as received on `/_ar/collect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedEvent {
    /// The business event.
    pub event: EventName,
    /// The ID the pixel computed (and used for the browser tags).
    pub event_id: EventId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCollected {
    event: String,
    event_id: String,
}

/// Why a collect body was rejected; the message names the field and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not JSON, wrong types, missing or unknown fields.
    #[error("invalid JSON body: {0}")]
    Json(String),
    /// `event` is not a valid event name.
    #[error("field `event`: {0}")]
    Event(#[from] crate::event::EventNameError),
    /// `event_id` is not a valid ID.
    #[error("field `event_id`: {0}")]
    EventId(#[from] crate::event_id::EventIdError),
}

/// Parses and validates a `/_ar/collect` body.
///
/// # Errors
/// [`WireError`] naming the offending field.
pub fn parse_collected(body: &[u8]) -> Result<CollectedEvent, WireError> {
    let raw: RawCollected =
        serde_json::from_slice(body).map_err(|e| WireError::Json(e.to_string()))?;
    Ok(CollectedEvent {
        event: raw.event.parse()?,
        event_id: raw.event_id.parse()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_rejected_by_name() {
        let err = parse_collected(br#"{"event":"cart.added","event_id":"ar1_x","evnt_id":1}"#)
            .unwrap_err();
        assert!(err.to_string().contains("evnt_id"), "{err}");
    }

    #[test]
    fn a_valid_body_parses() {
        let ok = parse_collected(br#"{"event":"cart.added","event_id":"ar1_00"}"#);
        assert_eq!(
            ok,
            Ok(CollectedEvent {
                event: EventName::CartAdded,
                event_id: "ar1_00".parse().unwrap()
            })
        );
    }
}
