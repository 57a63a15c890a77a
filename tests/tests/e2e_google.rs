//! Google destinations end to end: the real worker (workerd via `wrangler dev`, local D1) sends
//! Google Ads conversions to the fake Data Manager API (with an OAuth access token from the fake
//! token endpoint) and purchases to the fake GA4 Measurement Protocol. DESIGN §1 ownership: a
//! purchase configured for an `UPLOAD_CLICKS` action is a Data Manager offline conversion
//! (google.md Addendum C: `uploadClickConversions` takes no new adopters), and goes to GA4 because
//! it is a purchase.

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

/// The events row records both the pixel's and the shop's copy.
const BOTH: &str = "e.from_pixel = 1 AND e.from_shop = 1";

fn start(sb: &Sandbox) -> Worker {
    let url = sb.platform_url.clone();
    let token_url = format!("{url}/token");
    let actions = format!("transaction.purchase={UPLOAD_ACTION}:upload_clicks");
    Worker::start(&[
        ("AR_SERVER_SECRET", SECRET),
        ("GEO_OVERRIDE", "US"),
        ("GOOGLE_ADS_BASE_URL", &url),
        ("DATA_MANAGER_BASE_URL", &url),
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

/// Waits until `platform` has received a request and the purchase of `order` is settled (every
/// outbox row final, `sources` recorded: see `common::outbox_settled`), so that late duplicates
/// would have arrived; then what `platform` received.
async fn settle(
    sb: &Sandbox,
    worker: &Worker,
    platform: &str,
    order: &str,
    sources: &str,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_mins(1);
    while requests(sb, platform).await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let id = EventId::from_business_key(&EventName::Purchase, order);
    common::outbox_settled(worker, &[id.as_str()], sources).await;
    requests(sb, platform).await
}

/// The Data Manager ingest requests the sandbox received.
async fn ingests(sb: &Sandbox) -> Vec<Value> {
    requests(sb, "data_manager")
        .await
        .into_iter()
        .filter(|r| r["endpoint"] == "events:ingest")
        .collect()
}

// DESIGN §1, google.md Addendum C: a purchase for an UPLOAD_CLICKS action goes to Data Manager as
// one offline conversion (the click in adIdentifiers, the order id as transactionId, the shop's
// value and hashed email, the owning account and the action as its destination), at once although
// the click is an hour old (data-manager.md §2: no documented wait), and never to
// uploadClickConversions; GA4 gets the purchase once with the browser's client and session ids
// (reference/google.md §4).
#[tokio::test(flavor = "multi_thread")]
async fn a_purchase_after_a_click_is_one_data_manager_offline_conversion_and_one_ga4_hit() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let (cookie, gclid) = click_cookie(real_now_ms() - HOUR_MS, "fresh");
    pixel_copy(&worker, "g-1001", &cookie).await;
    server_copy(&worker, "g-1001").await;

    let dm = settle(&sb, &worker, "data_manager", "g-1001", BOTH).await;
    let log = worker.process.output().join("\n");
    let uploads = ingests(&sb).await;
    assert_eq!(uploads.len(), 1, "one ingest request: {dm:#?}\n{log}");
    let upload = &uploads[0];
    assert_eq!(upload["verdict"], "accepted", "{upload:#}");
    let destination = &upload["body"]["destinations"][0];
    assert_eq!(destination["productDestinationId"], UPLOAD_ACTION);
    assert_eq!(
        destination["operatingAccount"],
        json!({"accountType": "GOOGLE_ADS", "accountId": DEFAULT_CUSTOMER_ID})
    );
    let events = upload["body"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{upload:#}");
    let e = &events[0];
    assert_eq!(e["adIdentifiers"]["gclid"], gclid.as_str());
    assert_eq!(e["transactionId"], "g-1001");
    assert_eq!(e["conversionValue"], 42.5, "the shop's value: {e:#}");
    assert_eq!(e["currency"], "EUR");
    let email = e["userData"]["userIdentifiers"]
        .as_array()
        .and_then(|ids| ids.iter().find_map(|i| i["emailAddress"].as_str()))
        .unwrap_or_default();
    assert_eq!(email.len(), 64, "the shop's hashed email: {e:#}");
    assert!(
        requests(&sb, "google_ads").await.is_empty(),
        "nothing at uploadClickConversions (google.md Addendum C)"
    );

    let ga4 = settle(&sb, &worker, "ga4", "g-1001", BOTH).await;
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

// trust: a signed server event's stated gclid is the click Google gets, even with no visit behind
// it (the shop kept the landing's gclid with the order).
#[tokio::test(flavor = "multi_thread")]
async fn a_signed_server_events_stated_gclid_reaches_data_manager() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let body = json!({"events": [{"event": "transaction.purchase", "order_id": "g-2001",
        "value": 10, "currency": "EUR", "click_ids": {"gclid": "Cj0-stated-by-shop"},
        "consent": {"ad_storage": "granted", "ad_user_data": "granted",
                    "ad_personalization": "granted", "analytics_storage": "granted"}}]});
    let (status, json) = common::post_signed_events(&worker.base_url, SECRET, &body).await;
    assert_eq!(status, 200, "{json}");
    settle(&sb, &worker, "data_manager", "g-2001", "e.from_shop = 1").await;
    let uploads = ingests(&sb).await;
    assert_eq!(uploads.len(), 1, "{uploads:#?}");
    let e = &uploads[0]["body"]["events"][0];
    assert_eq!(e["adIdentifiers"]["gclid"], "Cj0-stated-by-shop", "{e:#}");
    assert_eq!(e["transactionId"], "g-2001");
}
