//! The messages on the events queue: a copy of a batched event to store, or a wake-up that
//! sends rows whose retry backoff has ended (DESIGN §5).
//!
//! Serialized as externally tagged JSON, `{"record": {…}}` and `{"wake": ["ar1_…", …]}`, the
//! shapes the queue has always carried, so messages already in flight when a new build deploys
//! still parse. The body travels as JSON text: `serde_wasm_bindgen` would turn a JSON object into
//! a JS `Map`, which does not come back as the same value.

use serde::{Deserialize, Serialize};

use crate::record::EventRecord;

/// One queue message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueMessage {
    /// Store this copy of an event (merging it with the stored one).
    Record(Box<EventRecord>),
    /// Send the due rows of these events.
    Wake(Vec<String>),
}

impl QueueMessage {
    /// The message body (JSON text).
    #[must_use]
    pub fn to_text(&self) -> String {
        // A record and a list of ids always serialize (string keys, finite numbers).
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a body: JSON text, or the JSON value itself (as a producer other than ours would
    /// send it). `None` for anything else: only we produce these messages, so an unreadable one
    /// can never succeed.
    #[must_use]
    pub fn parse(body: &serde_json::Value) -> Option<Self> {
        match body {
            serde_json::Value::String(text) => serde_json::from_str(text).ok(),
            other => Self::deserialize(other).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::fixtures::{CART, record};
    use crate::record::Source;
    use serde_json::json;

    #[test]
    fn wake_ups_keep_the_shape_already_in_flight() {
        let body = json!(r#"{"wake":["ar1_a","ar1_b"]}"#);
        assert_eq!(
            QueueMessage::parse(&body),
            Some(QueueMessage::Wake(vec!["ar1_a".into(), "ar1_b".into()]))
        );
        let message = QueueMessage::Wake(vec!["ar1_a".into()]);
        assert_eq!(message.to_text(), r#"{"wake":["ar1_a"]}"#);
    }

    #[test]
    fn records_round_trip_as_text_and_as_a_value() {
        let r = record(CART, Source::Pixel);
        let message = QueueMessage::Record(Box::new(r.clone()));
        let text = message.to_text();
        assert!(text.starts_with(r#"{"record":{"#), "{text}");
        assert_eq!(QueueMessage::parse(&json!(text)), Some(message.clone()));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(QueueMessage::parse(&value), Some(message));
    }

    #[test]
    fn unreadable_messages_are_refused() {
        assert_eq!(QueueMessage::parse(&json!("not json")), None);
        assert_eq!(QueueMessage::parse(&json!({"other": 1})), None);
        assert_eq!(QueueMessage::parse(&json!(7)), None);
    }
}
