//! Google destinations end to end: the real worker (workerd via `wrangler dev`, local D1) sends
//! click uploads to the fake Google Ads API (with an OAuth access token from the fake token
//! endpoint) and purchases to the fake GA4 Measurement Protocol. DESIGN §1 ownership: a purchase
//! configured for an `UPLOAD_CLICKS` action goes to Google Ads as a click upload (not to Data
//! Manager), and to GA4 because it is a purchase.
//!
//! Click uploads wait for the click's 6-hour mark (reference/google.md §1.5 `TOO_RECENT_EVENT`):
//! workerd's clock cannot be moved, so the fresh-click case checks the schedule in D1 and that
//! nothing was sent early; the old-click case checks the upload itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::clock::real_now_ms;
use ar_sandbox::config::{
    DEFAULT_CUSTOMER_ID, DEFAULT_GA4_API_SECRET, DEFAULT_GOOGLE_CLIENT_ID,
    DEFAULT_GOOGLE_CLIENT_SECRET, DEFAULT_GOOGLE_DEVELOPER_TOKEN, DEFAULT_GOOGLE_REFRESH_TOKEN,
};
use ar_sandbox::harness::Worker;
use ar_shared::{EventId, EventName};
use serde_json::{Value, json};

const SECRET: &str = "e2e-google-secret";
const UA: &str = "Mozilla/5.0 (e2e-google)";
const HOUR_MS: i64 = 60 * 60 * 1000;
/// The sandbox's seeded `UPLOAD_CLICKS` purchase action (`tests/src/platforms/google_account.rs`).
const UPLOAD_ACTION: &str = "1001";
const GA_CLIENT: &str = "GA1.1.468604437.1764000000";
const GA_SESSION: &str = "GS1.1.1764000123.1.1.1764000200.0.0.0";

fn start(sb: &Sandbox) -> Worker {
    let url = sb.platform_url.clone();
    let token_url = format!("{url}/token");
    let actions = format!("transaction.purchase={UPLOAD_ACTION}:upload_clicks");
    Worker::start(&[
        ("AR_SERVER_SECRET", SECRET),
        ("GEO_OVERRIDE", "US"),
        ("GOOGLE_ADS_BASE_URL", &url),
        ("GOOGLE_OAUTH_URL", &token_url),
        ("GOOGLE_ADS_CUSTOMER_ID", DEFAULT_CUSTOMER_ID),
        ("GOOGLE_ADS_DEVELOPER_TOKEN", DEFAULT_GOOGLE_DEVELOPER_TOKEN),
        ("GOOGLE_CLIENT_ID", DEFAULT_GOOGLE_CLIENT_ID),
        ("GOOGLE_CLIENT_SECRET", DEFAULT_GOOGLE_CLIENT_SECRET),
        ("GOOGLE_REFRESH_TOKEN", DEFAULT_GOOGLE_REFRESH_TOKEN),
        ("GOOGLE_CONVERSION_ACTIONS", &actions),
        ("GA4_BASE_URL", &url),
        ("GA4_MEASUREMENT_ID", "G-E2E"),
        ("GA4_API_SECRET", DEFAULT_GA4_API_SECRET),
    ])
}

/// Our first-party click cookie for a gclid clicked at `clicked_ms`; the `sbx-<ms>-` id tells the
/// fake Google Ads the same click time.
fn click_cookie(clicked_ms: i64, tag: &str) -> (String, String) {
    let gclid = format!("sbx-{clicked_ms}-{tag}");
    (format!("ar1.{clicked_ms}.gclid.{gclid}"), gclid)
}

/// The pixel's copy of a purchase, with the shopper's Google cookies.
async fn pixel_copy(worker: &Worker, order: &str, click_cookie: &str) {
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("user-agent", UA)
        .header(
            "cookie",
            format!("_ar_gclk={click_cookie}; _ga={GA_CLIENT}; _ga_E2E={GA_SESSION}"),
        )
        .json(&json!({"event": "transaction.purchase", "order_id": order,
                      "value": 40, "currency": "EUR", "page": {"url": "https://shop.example.com/thank-you"}}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert_eq!(status, 204, "{}", res.text().await.unwrap_or_default());
}

/// The shop's signed copy: order value and the buyer's email.
async fn server_copy(worker: &Worker, order: &str) {
    let body = json!({"events": [{"event": "transaction.purchase", "order_id": order,
        "value": 42.5, "currency": "EUR", "items": [{"id": "sku-9", "price": 42.5, "quantity": 1}],
        "user": {"email": "Google.Buyer@Example.com"}}]});
    let (status, json) = common::post_signed_events(&worker.base_url, SECRET, &body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["rejected"], 0, "{json}");
}

async fn requests(sb: &Sandbox, platform: &str) -> Vec<Value> {
    common::platform_requests(sb, platform, None).await
}

/// Waits until `platform` has received a request, then a little longer for late duplicates.
async fn settle(sb: &Sandbox, platform: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_mins(1);
    while requests(sb, platform).await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    requests(sb, platform).await
}

// DESIGN §1: a purchase for an UPLOAD_CLICKS action is uploaded once, with the click, the order id
// as `orderId`, the shop's value and the hashed email; GA4 gets the purchase once with the
// browser's client and session ids and `transaction_id` = order id (reference/google.md §1, §4).
#[tokio::test(flavor = "multi_thread")]
async fn a_purchase_after_an_old_click_is_uploaded_once_to_google_ads_and_ga4() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let (cookie, gclid) = click_cookie(real_now_ms() - 7 * HOUR_MS, "old");
    pixel_copy(&worker, "g-1001", &cookie).await;
    server_copy(&worker, "g-1001").await;

    let ads = settle(&sb, "google_ads").await;
    let log = worker.process.output().join("\n");
    let uploads: Vec<&Value> = ads
        .iter()
        .filter(|r| r["endpoint"] == "uploadClickConversions")
        .collect();
    assert_eq!(uploads.len(), 1, "one upload request: {ads:#?}\n{log}");
    let upload = uploads[0];
    assert_eq!(upload["verdict"], "accepted", "{upload:#}");
    let conversions = upload["body"]["conversions"].as_array().unwrap();
    assert_eq!(conversions.len(), 1, "{upload:#}");
    let c = &conversions[0];
    assert_eq!(c["gclid"], gclid.as_str());
    assert_eq!(c["orderId"], "g-1001");
    assert_eq!(
        c["conversionAction"],
        format!("customers/{DEFAULT_CUSTOMER_ID}/conversionActions/{UPLOAD_ACTION}")
    );
    assert_eq!(c["conversionValue"], 42.5, "the shop's value: {c:#}");
    assert_eq!(c["currencyCode"], "EUR");
    let email = c["userIdentifiers"]
        .as_array()
        .and_then(|ids| ids.iter().find_map(|i| i["hashedEmail"].as_str()))
        .unwrap_or_default();
    assert_eq!(email.len(), 64, "the shop's hashed email: {c:#}");
    assert!(
        requests(&sb, "data_manager").await.is_empty(),
        "an UPLOAD_CLICKS purchase never also goes to Data Manager (DESIGN §1)"
    );

    let ga4 = settle(&sb, "ga4").await;
    let hits: Vec<&Value> = ga4.iter().filter(|r| r["endpoint"] == "collect").collect();
    assert_eq!(hits.len(), 1, "one GA4 hit: {ga4:#?}\n{log}");
    let body = &hits[0]["body"];
    assert_eq!(body["client_id"], "468604437.1764000000", "{body:#}");
    let event = &body["events"][0];
    assert_eq!(event["name"], "purchase");
    assert_eq!(event["params"]["transaction_id"], "g-1001");
    assert_eq!(event["params"]["session_id"], "1764000123", "{event:#}");
    assert_eq!(event["params"]["value"], 42.5);
}

// reference/google.md §1.5: a click under 6 hours old is answered TOO_RECENT_EVENT, so the upload
// is scheduled for the click's 6-hour mark (plus a margin) instead of being sent to fail.
#[tokio::test(flavor = "multi_thread")]
async fn a_purchase_after_a_fresh_click_is_scheduled_for_the_clicks_six_hour_mark() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let clicked = real_now_ms() - HOUR_MS;
    let (cookie, _) = click_cookie(clicked, "fresh");
    pixel_copy(&worker, "g-1002", &cookie).await;
    server_copy(&worker, "g-1002").await;

    // GA4 is not held back by the click: it arrives, so delivery has run.
    let ga4 = settle(&sb, "ga4").await;
    assert_eq!(ga4.len(), 1, "{ga4:#?}");
    assert!(
        requests(&sb, "google_ads").await.is_empty(),
        "nothing uploaded before the click is 6 hours old"
    );
    let id = EventId::from_business_key(&EventName::Purchase, "g-1002");
    let rows = worker.d1(&format!(
            "select status, next_attempt_at from outbox where event_id = '{}' and platform = 'google_ads'",
        id.as_str()
    ));
    let row = &rows[0];
    assert_eq!(row["status"], "pending", "{rows:#?}");
    let at = row["next_attempt_at"].as_i64().unwrap();
    let six_hours = clicked + 6 * HOUR_MS;
    assert!(
        (six_hours..=six_hours + 10 * 60 * 1000).contains(&at),
        "scheduled at {at}, click + 6 h = {six_hours}"
    );
}
