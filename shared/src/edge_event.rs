//! The edge-routed checkout (DESIGN §1): instead of calling `/_ar/events`, the storefront puts the
//! event on its response to the order-placing request as `x-ar-event: <base64url(event JSON)>`
//! (unpadded; padding tolerated). The worker removes the header before the browser sees it
//! (`proxy.rs`), decodes it here, and handles the event like a server copy from the shop.
//!
//! Decoding is strict about the payload (the one wire shape, `wire::parse_event`) and bounded in
//! size. It does not validate or hash: the caller runs `wire::validate` and `pii` as for every
//! other copy.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::wire::{EventInput, ValidationError, parse_event};

/// The response header carrying the event.
pub const EDGE_EVENT_HEADER: &str = "x-ar-event";

/// Longest header value accepted (a header this large is already unusual for proxies).
pub const MAX_EDGE_EVENT_LEN: usize = 16 * 1024;

/// Decodes an `x-ar-event` header value into an event.
///
/// # Errors
/// [`ValidationError`] with field `x-ar-event` when the value is too long or not base64url, or
/// the JSON path of the first problem in the event.
pub fn decode_edge_event(value: &str) -> Result<EventInput, ValidationError> {
    let value = value.trim();
    if value.len() > MAX_EDGE_EVENT_LEN {
        return Err(ValidationError {
            field: EDGE_EVENT_HEADER.into(),
            problem: format!("longer than {MAX_EDGE_EVENT_LEN} bytes"),
        });
    }
    let json = URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|e| ValidationError {
            field: EDGE_EVENT_HEADER.into(),
            problem: format!("must be unpadded base64url of the event JSON: {e}"),
        })?;
    parse_event(&json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn an_unpadded_base64url_event_decodes() {
        let ev = decode_edge_event(&encode(
            r#"{"event":"transaction.purchase","order_id":"1001?>","value":10,"currency":"EUR"}"#,
        ))
        .unwrap();
        assert_eq!(ev.event, "transaction.purchase");
        assert_eq!(ev.order_id.as_deref(), Some("1001?>"));
    }

    #[test]
    fn padding_is_tolerated() {
        let padded = base64::engine::general_purpose::URL_SAFE.encode(r#"{"event":"x"}"#);
        assert!(padded.ends_with('='));
        assert_eq!(decode_edge_event(&padded).unwrap().event, "x");
    }

    #[test]
    fn garbage_and_bad_events_name_the_problem() {
        let e = decode_edge_event("not base64!").unwrap_err();
        assert_eq!(e.field, "x-ar-event");
        let e = decode_edge_event(&encode(r#"{"event":"x","extra":1}"#)).unwrap_err();
        assert!(e.problem.contains("extra"), "{e}");
        let long = "A".repeat(MAX_EDGE_EVENT_LEN + 1);
        assert_eq!(decode_edge_event(&long).unwrap_err().field, "x-ar-event");
    }
}
