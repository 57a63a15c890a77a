//! Shared test fixtures for the delivery modules: settings from vars, records from event JSON.

use crate::cookies::ClickContext;
use crate::mapping_config::Mappings;
use crate::pii::hash_user_data;
use crate::record::{EventRecord, SessionContext, Source};
use crate::settings::Settings;
use crate::wire::{ValidationContext, parse_event, validate};

pub const NOW: u64 = 1_764_000_000_000;

pub fn settings(extra: &[(&str, &str)]) -> Settings {
    let mut vars: Vec<(&str, &str)> = vec![
        ("META_PIXEL_ID", "123"),
        ("META_ACCESS_TOKEN", "t"),
        ("GA4_MEASUREMENT_ID", "G-TEST"),
        ("GA4_API_SECRET", "s"),
    ];
    vars.extend_from_slice(extra);
    let lookup = move |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    Settings::from_lookup(&lookup).unwrap()
}

pub fn record(json: &str, source: Source) -> EventRecord {
    let mappings = Mappings::default();
    let ev = validate(
        parse_event(json.as_bytes()).unwrap(),
        ValidationContext {
            mappings: &mappings,
            now_ms: NOW,
            random: [7; 16],
        },
    )
    .unwrap();
    let (user, _) = hash_user_data(&ev.user, "US");
    let session = SessionContext {
        clicks: ClickContext {
            fbp: Some("fb.1.1763990000000.123456789".parse().unwrap()),
            ..ClickContext::default()
        },
        client_ip: Some("203.0.113.9".into()),
        user_agent: Some("Mozilla/5.0".into()),
        country: Some("US".into()),
        ga_client_id: Some("111.222".into()),
        ..SessionContext::default()
    };
    EventRecord::from_copy(&ev, user, session, source)
}

pub const PURCHASE: &str = r#"{"event":"transaction.purchase","order_id":"1001","value":10,"currency":"USD",
    "page":{"url":"https://shop.example.com/thanks"},"user":{"email":"a@example.com"},"occurred_at":1763999990000}"#;
pub const CART: &str = r#"{"event":"cart.added","cart_id":"c1","items":[{"id":"sku"}],
    "page":{"url":"https://shop.example.com/p"},"occurred_at":1763999990000}"#;

/// `n` claimed server purchases (order ids `{prefix}-0`, …) with a hashed email, each after
/// `attempts` attempts.
pub fn purchase_rows(
    n: usize,
    prefix: &str,
    attempts: u32,
) -> Vec<crate::delivery::run::ClaimedRow> {
    (0..n)
        .map(|i| {
            let json = format!(
                r#"{{"event":"transaction.purchase","order_id":"{prefix}-{i}","value":10,"currency":"USD",
                "page":{{"url":"https://shop.example.com/thanks"}},"user":{{"email":"a@example.com"}},
                "occurred_at":1763999990000}}"#
            );
            let r = record(&json, Source::Server);
            crate::delivery::run::ClaimedRow {
                event_id: r.event_id.to_string(),
                attempts,
                record: Some(r),
                purchase: None,
            }
        })
        .collect()
}
