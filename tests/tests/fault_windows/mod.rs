//! The events of the fault-window test (`e2e_faults.rs`) and how they enter the worker: every
//! standard event type, half through the pixel's route `/_ar/collect` (one event per request,
//! spread over many client addresses so the per-client rate limit never answers) and half signed
//! through `/_ar/events` in bulk requests.
//!
//! Every event's id is known to the test (derived from its business key as the worker derives it,
//! or stated for product views), so it knows what each platform must count. Pixel
//! events carry our click cookie for a Google click at least 7 hours old; server events carry the
//! buyer's email, which Google Ads matches without a click. Every [`FOREIGN_EVERY`]th pixel click
//! belongs to another Google Ads account: Data Manager accepts those conversions and rejects them
//! while processing (`INVALID_OPERATING_ACCOUNT_FOR_CLICK` in its request status).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;

use ar_sandbox::clock::real_now_ms;
use ar_shared::{EventId, EventName};
use futures_util::StreamExt;
use serde_json::{Value, json};

/// Signs `/_ar/events` requests.
pub const SECRET: &str = "e2e-faults-secret";
/// Protects `/_ar/health` and `/_ar/admin/replay`.
pub const ADMIN: &str = "e2e-faults-admin-0123456789abcdef";
/// Every this-many-th event's click belongs to another Google Ads account.
pub const FOREIGN_EVERY: usize = 25;
/// Server events per signed request.
const SERVER_CHUNK: usize = 250;
/// Pixel requests in flight at once.
const COLLECT_CONCURRENCY: usize = 12;
/// Pixel events per client address (the limit is 300 a minute per address).
const EVENTS_PER_CLIENT: usize = 40;

/// A standard event type: our name, Meta's name, the seeded `UPLOAD_CLICKS` action it reports
/// into (`tests/src/platforms/google_account.rs`), the business key field.
pub const TYPES: [(&str, &str, u32, &str); 7] = [
    ("transaction.purchase", "Purchase", 1001, "order_id"),
    ("user.signed_up", "CompleteRegistration", 1002, "user_id"),
    ("lead.submitted", "Lead", 1003, "lead_id"),
    ("cart.added", "AddToCart", 1004, "cart_id"),
    ("checkout.started", "InitiateCheckout", 1005, "checkout_id"),
    ("payment_info.added", "AddPaymentInfo", 1006, "checkout_id"),
    ("product.viewed", "ViewContent", 1007, ""),
];

/// `GOOGLE_CONVERSION_ACTIONS` for [`TYPES`].
pub fn conversion_actions() -> String {
    TYPES
        .iter()
        .map(|(event, _, action, _)| format!("{event}={action}:upload_clicks"))
        .collect::<Vec<_>>()
        .join(",")
}

/// One planned event.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Its stated event id.
    pub id: String,
    /// Meta's dedup key (`event_name|event_id`).
    pub meta_key: String,
    /// Google Ads' dedup key (`action:<id>|<orderId>`; orderId is the order id for purchases,
    /// the event id otherwise).
    pub ads_key: String,
    /// The Google click id.
    pub gclid: String,
    /// Whether that click belongs to another account (Google rejects the conversion).
    pub foreign: bool,
    /// Whether it goes through `/_ar/collect` (else `/_ar/events`).
    pub pixel: bool,
    /// The event body.
    pub body: Value,
}

/// `per_type` events of each type, starting at `first` (windows use disjoint ranges).
pub fn plan(first: usize, per_type: usize) -> Vec<Planned> {
    let clicked = real_now_ms() - 7 * 3_600_000;
    let mut out = Vec::new();
    for n in first..first + per_type {
        for (t, (event, meta, action, key)) in TYPES.iter().enumerate() {
            let index = n * TYPES.len() + t;
            let gclid = format!("sbx-{clicked}-flt{t}x{n}");
            let mut body = json!({
                "event": event,
                "page": {"url": "https://shop.example.com/p"},
                "consent": {"ad_storage": "granted", "analytics_storage": "granted",
                            "ad_user_data": "granted", "ad_personalization": "granted"},
            });
            let business = format!("k-{t}-{n}");
            // The id the pixel and the shop both derive from the business key (DESIGN §3); only a
            // product view, which has none, states its own.
            let id = if key.is_empty() {
                let id = format!("flt-{t}-{n}");
                body["event_id"] = json!(id);
                id
            } else {
                body[*key] = json!(business);
                let name: EventName = event.parse().expect("a standard event");
                let key = if *event == "cart.added" {
                    format!("{business}:sku-{n}")
                } else {
                    business.clone()
                };
                EventId::from_business_key(&name, &key).to_string()
            };
            if matches!(*event, "cart.added" | "product.viewed" | "checkout.started") {
                body["items"] = json!([{"id": format!("sku-{n}"), "price": 9.5, "quantity": 1}]);
            }
            if *event == "transaction.purchase" {
                body["value"] = json!(19.5);
                body["currency"] = json!("EUR");
            }
            let pixel = index.is_multiple_of(2);
            if !pixel {
                body["user"] = json!({"email": format!("buyer{t}x{n}@example.com")});
            }
            let order = if *event == "transaction.purchase" {
                &business
            } else {
                &id
            };
            out.push(Planned {
                meta_key: format!("{meta}|{id}"),
                ads_key: format!("action:{action}|{order}"),
                gclid,
                foreign: pixel && (index / 2) % FOREIGN_EVERY == FOREIGN_EVERY - 1,
                pixel,
                id,
                body,
            });
        }
    }
    out
}

/// Registers the foreign clicks of `events` with the sandbox (owned by another customer).
pub async fn register_foreign_clicks(platform_url: &str, events: &[Planned]) {
    for e in events.iter().filter(|e| e.foreign) {
        let (status, body) = crate::common::post_json(
            &format!("{platform_url}/_sandbox/clicks"),
            &json!({"gclid": e.gclid, "clicked_at_ms": real_now_ms() - 7 * 3_600_000,
                    "customer_id": "9999999999"}),
            &[],
        )
        .await;
        assert!(status < 300, "register click: {status} {body}");
    }
}

/// Sends every event of `events` to the worker at `base_url`; panics on any refusal.
pub async fn ingest(base_url: &str, events: &[Planned]) {
    let server: Vec<&Planned> = events.iter().filter(|e| !e.pixel).collect();
    for chunk in server.chunks(SERVER_CHUNK) {
        let batch: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut body = e.body.clone();
                body["client"] = json!({"ip": format!("2001:db8:5::{:x}", i + 1),
                                        "user_agent": "Mozilla/5.0 (e2e-faults server)"});
                body
            })
            .collect();
        let body = json!({ "events": batch });
        let (status, report) = crate::common::post_signed_events(base_url, SECRET, &body).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["rejected"], 0, "{report}");
    }
    let client = Arc::new(crate::common::http());
    let pixel: Vec<(usize, &Planned)> = events.iter().filter(|e| e.pixel).enumerate().collect();
    futures_util::stream::iter(pixel)
        .for_each_concurrent(COLLECT_CONCURRENCY, |(i, e)| {
            let client = Arc::clone(&client);
            async move { collect(&client, base_url, i, e).await }
        })
        .await;
}

async fn collect(client: &reqwest::Client, base_url: &str, i: usize, e: &Planned) {
    let clicked = e.gclid.split('-').nth(1).unwrap_or("0");
    // Each simulated client in its own /64, as separate households are.
    let household = i / EVENTS_PER_CLIENT + 1;
    let ip = format!(
        "2001:db8:{:x}:{:x}::1",
        0x7000 + (household >> 16),
        household & 0xffff
    );
    let res = client
        .post(format!("{base_url}/_ar/collect"))
        .header("content-type", "text/plain")
        .header("user-agent", "Mozilla/5.0 (e2e-faults pixel)")
        .header("cf-connecting-ip", ip)
        .header(
            "cookie",
            format!("_ar_gclk=ar1.{clicked}.gclid.{}", e.gclid),
        )
        .body(e.body.to_string())
        .send()
        .await
        .expect("post collect");
    let status = res.status().as_u16();
    assert_eq!(
        status,
        204,
        "{}: {}",
        e.id,
        res.text().await.unwrap_or_default()
    );
}
