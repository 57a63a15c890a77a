//! What `make bench` races against Meta's Node SDK (`facebook-nodejs-business-sdk`): one purchase
//! as the shop posts it (raw email, phone, names, address, external id, fbc/fbp, IP, user agent,
//! three items) becomes the body of a Conversions API request, through exactly the code the worker
//! runs — `wire::parse_event`, `wire::validate`, `pii::hash_user_data`, `EventRecord::from_copy`,
//! `to_outbound`, `platform::meta::events_request` (DESIGN §3, §4; meta-capi.md §1, §2).
//!
//! Compiled to wasm32 at the worker's release profile and run in Node (V8, the engine workerd
//! embeds) by `bench/node/meta_sdk.mjs`. Nothing here is part of the product.

use ar_shared::mapping_config::Mappings;
use ar_shared::pii::hash_user_data;
use ar_shared::platform::meta::events_request;
use ar_shared::platform::request::Mode;
use ar_shared::record::{EventRecord, SessionContext, Source};
use ar_shared::settings::Settings;
use ar_shared::wire::{ValidationContext, parse_event, validate};
use wasm_bindgen::prelude::wasm_bindgen;

/// The receive time every event is validated at (the input's `occurred_at` is just before it).
const NOW_MS: u64 = 1_793_491_200_000;

fn settings() -> Option<Settings> {
    let lookup = |name: &str| match name {
        "META_PIXEL_ID" => Some("1234567890".to_owned()),
        "META_ACCESS_TOKEN" => Some("bench-token".to_owned()),
        _ => None,
    };
    Settings::from_lookup(&lookup).ok()
}

fn outbound(
    json: &[u8],
    mappings: &Mappings,
    settings: &Settings,
) -> Option<ar_shared::outbound::OutboundEvent> {
    let ctx = ValidationContext {
        mappings,
        now_ms: NOW_MS,
        random: [0; 16],
    };
    let event = validate(parse_event(json).ok()?, ctx).ok()?;
    let (user, _) = hash_user_data(&event.user, "US");
    let session = SessionContext {
        country: Some("US".into()),
        ..SessionContext::default()
    };
    let record = EventRecord::from_copy(&event, user, session, Source::Server);
    record.to_outbound(&settings.mappings, &settings.regions)
}

/// The Meta request body for `count` copies of the event `json` (each with its own order id,
/// `<order_id>-<i>`), or an empty string when the input is not a sendable event.
#[wasm_bindgen]
pub fn meta_body(json: &str, count: u32) -> String {
    let Some(settings) = settings() else {
        return String::new();
    };
    let mappings = Mappings::default();
    let events: Vec<_> = (0..count)
        .filter_map(|i| {
            if count == 1 {
                return outbound(json.as_bytes(), &mappings, &settings);
            }
            let copy = json.replacen("\"order_id\":\"", &format!("\"order_id\":\"{i}-"), 1);
            outbound(copy.as_bytes(), &mappings, &settings)
        })
        .collect();
    let Some(meta) = &settings.meta else {
        return String::new();
    };
    let refs: Vec<_> = events.iter().collect();
    events_request(meta, &refs, Mode::Live)
        .request
        .map(|r| String::from_utf8_lossy(&r.body.to_bytes()).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The purchase `bench/node/meta_sdk.mjs` races with (kept in one place: `bench/purchase.json`).
    const PURCHASE: &str = include_str!("../../purchase.json");

    #[test]
    fn the_bench_purchase_becomes_a_full_meta_body() {
        let body = meta_body(PURCHASE, 1);
        assert!(!body.is_empty(), "the bench input must be sendable");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let user = &v["data"][0]["user_data"];
        for key in [
            "em",
            "ph",
            "fn",
            "ln",
            "ct",
            "st",
            "zp",
            "country",
            "external_id",
        ] {
            assert_eq!(user[key].as_str().map(str::len), Some(64), "{key}: {body}");
        }
        assert_eq!(
            v["data"][0]["custom_data"]["contents"]
                .as_array()
                .map(Vec::len),
            Some(3)
        );
    }

    #[test]
    fn a_batch_carries_every_copy_with_its_own_order_id() {
        let body = meta_body(PURCHASE, 1000);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let data = v["data"].as_array().cloned().unwrap_or_default();
        assert_eq!(data.len(), 1000);
        assert_ne!(data[0]["event_id"], data[999]["event_id"]);
    }
}

/// The cookie domain the worker computes for `host` (the Public Suffix List, parsed on the first
/// call in an isolate), for the bench's first-lookup figure.
#[wasm_bindgen]
#[must_use]
pub fn cookie_domain(host: &str) -> String {
    ar_shared::domain::registrable_domain(host).unwrap_or_default()
}
