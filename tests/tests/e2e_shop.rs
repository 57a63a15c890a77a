//! A shopper's whole visit, as a person would make it: headless Chromium lands on the demo shop
//! through the real worker (workerd via `wrangler dev`) with `?fbclid=…&gclid=…`, browses, adds to
//! cart, checks out and pays. The pixel reports the purchase from the thank-you page, the shop's
//! backend reports it server-side, and the fake Meta and Google endpoints must then hold exactly
//! one server copy per destination, with the browser's identifiers and the backend's hashed email.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::ReportMode;
use ar_sandbox::harness::{ChromeDriver, free_port};
use ar_shared::{EventId, EventName};
use common::browser::{browser, click, get_json, shop_sandbox, shop_worker};
use serde_json::Value;

const FBCLID: &str = "IwAR-e2e_Shop_1";
const GCLID: &str = "Cj0KCQ-e2e_shop";

/// Meta events with `event_id` across every accepted request the fake Meta recorded.
async fn meta_events(platform_url: &str, event_id: &str) -> Vec<Value> {
    let records = get_json(&format!(
        "{platform_url}/_sandbox/requests?platform=meta&event_id={event_id}"
    ))
    .await;
    let mut events = Vec::new();
    for r in records.as_array().cloned().unwrap_or_default() {
        for e in r["body"]["data"].as_array().cloned().unwrap_or_default() {
            if e["event_id"] == event_id {
                assert_eq!(r["verdict"], "accepted", "fake Meta rejected: {r}");
                events.push(e);
            }
        }
    }
    events
}

/// The thank-you page's report: the pixel's state, the event ID it shows, and the page URL.
///
/// Every page has `#ar-event-id`, so the payment page's own element can match while the order
/// navigates: wait for the thank-you page itself, and read its state, text and URL in one script
/// run so no element can go stale between finding and reading it.
async fn thank_you_report(client: &fantoccini::Client) -> (String, String, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = client
            .execute(
                "const e = document.getElementById('ar-event-id'); \
                 return location.pathname === '/thank-you' && e && e.dataset.state \
                   ? [e.dataset.state, e.textContent, location.href] : null;",
                vec![],
            )
            .await
            .unwrap_or(Value::Null);
        if let Some([state, id, href]) = seen.as_array().map(Vec::as_slice) {
            return (
                state.as_str().unwrap_or_default().to_owned(),
                id.as_str().unwrap_or_default().to_owned(),
                href.as_str().unwrap_or_default().to_owned(),
            );
        }
        assert!(
            Instant::now() < deadline,
            "the thank-you page never reported the purchase"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shoppers_purchase_reaches_each_platform_once_with_browser_and_backend_identifiers() {
    let worker_port = free_port();
    let sandbox = shop_sandbox(worker_port, ReportMode::Api).await;
    let p = sandbox.platform_url.clone();
    let worker = shop_worker(
        &sandbox,
        worker_port,
        &[(
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=2001:webpage:AW-123/label",
        )],
    );
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;

    client
        .goto(&format!(
            "{}/?fbclid={FBCLID}&gclid={GCLID}",
            worker.base_url
        ))
        .await
        .unwrap();
    click(&client, "a[href^='/products/']").await;
    click(&client, "#add-to-cart").await;
    click(&client, "#checkout").await;
    click(&client, "#to-payment").await;
    click(&client, "#place-order").await;
    let (state, page_id, url) = thank_you_report(&client).await;
    let cookies = client.get_all_cookies().await.unwrap();
    assert_eq!(
        state, "sent",
        "pixel error on the thank-you page: {page_id}"
    );
    let order_id = url
        .split_once('?')
        .map(|(_, q)| q)
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "order"))
        .map(|(_, v)| v.into_owned())
        .expect("thank-you URL carries the order id");
    let expected = EventId::from_business_key(&EventName::Purchase, &order_id);
    assert_eq!(
        page_id,
        expected.as_str(),
        "browser and native derive the same ID"
    );

    // Edge-set first-party cookies (DESIGN §4): _fbc keeps the fbclid verbatim.
    let fbc = cookies
        .iter()
        .find(|c| c.name() == "_fbc")
        .expect("_fbc set");
    assert!(fbc.value().ends_with(FBCLID), "{}", fbc.value());
    assert!(cookies.iter().any(|c| c.name() == "_fbp"), "_fbp set");

    // Purchases go out seconds after the 2 s merge window; the minute is only a bound.
    let deadline = Instant::now() + Duration::from_mins(1);
    let events = loop {
        let events = meta_events(&p, expected.as_str()).await;
        if !events.is_empty() || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // A second copy must not produce a second request: wait until both the pixel's and the
    // shop's copies are recorded and every platform's row is final, flush once more, then count.
    // The browser stays open until then: its copy may still be a queued beacon.
    let events = if events.is_empty() {
        events
    } else {
        let both = "e.from_pixel = 1 AND e.from_shop = 1";
        common::outbox_settled(&worker, &[expected.as_str()], both).await;
        meta_events(&p, expected.as_str()).await
    };
    client.close().await.unwrap();
    assert_eq!(events.len(), 1, "exactly one Meta server copy: {events:?}");
    let user = &events[0]["user_data"];
    assert_eq!(user["fbc"], fbc.value(), "the browser's fbc, verbatim");
    assert!(user["fbp"].is_string(), "the browser's fbp");
    assert!(user["client_ip_address"].is_string() && user["client_user_agent"].is_string());
    let em = &user["em"];
    let em = em.as_str().or_else(|| em[0].as_str()).unwrap_or_default();
    assert_eq!(em.len(), 64, "the backend's hashed email: {user}");

    // The browser tag fired with the same ID (platform dedup by event_id).
    let tags = get_json(&format!("{p}/_sandbox/browser-tags")).await;
    let tags = tags.to_string();
    assert!(tags.contains(expected.as_str()), "fbq eventID: {tags}");

    // Google: one Data Manager event into the gtag's WEBPAGE action, transactionId = order id.
    let dm = get_json(&format!("{p}/_sandbox/requests?platform=data_manager")).await;
    let dm_events: Vec<Value> = dm
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .flat_map(|r| r["body"]["events"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["transactionId"] == order_id.as_str())
        .collect();
    assert_eq!(dm_events.len(), 1, "exactly one Data Manager copy: {dm}");

    // No raw PII reached any fake platform.
    let all = get_json(&format!("{p}/_sandbox/requests"))
        .await
        .to_string()
        .to_lowercase();
    for raw in ["shopper@example.com", "erika", "mustermann", "1701234567"] {
        assert!(!all.contains(raw), "raw {raw} reached a platform");
    }
}
