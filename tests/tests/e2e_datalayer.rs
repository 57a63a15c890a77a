//! GA4 e-commerce pushes on `window.dataLayer` become exactly one event per platform, end to end
//! (README "dataLayer"): headless Chromium on the demo shop through the real worker with
//! `DATALAYER=fire`; the page pushes what a GTM shop pushes; the pixel reports each push and fires
//! the stand-in tags once, the shop's backend reports the same order, and the worker sends one
//! server copy. A push that lacks the business key its event needs is not reported at all, so it
//! can never become a second conversion beside the shop's keyed copy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use ar_sandbox::ReportMode;
use ar_sandbox::harness::{ChromeDriver, Worker, free_port};
use ar_shared::event::EventName;
use ar_shared::event_id::EventId;
use common::browser::{
    SECRET, browser, server_events, shop_sandbox, shop_worker, tag_calls, until,
};
use serde_json::{Value, json};

const ORDER: &str = "DL-1001";

/// What a GTM shop pushes: a checkout start without the `checkout_id` our event needs (GA4 has no
/// such field), a product view and a purchase; in that order, so once the purchase is seen the
/// pixel has handled the other two.
const PUSHES: &str = r"
window.dataLayer = window.dataLayer || [];
var items = [{item_id: 'sku-1', item_name: 'Mug', price: '12.50', quantity: 2}];
dataLayer.push({ecommerce: null});
dataLayer.push({event: 'begin_checkout', ecommerce: {currency: 'EUR', value: 25, items: items}});
dataLayer.push({event: 'view_item', ecommerce: {currency: 'EUR', value: 12.5, items: items}});
dataLayer.push({event: 'purchase', ecommerce: {transaction_id: 'DL-1001', currency: 'EUR',
  value: '25.00', items: items}});
";

/// The calls of `tag` (`fbq` or `gtag`) whose arguments start with `head`.
fn calls<'a>(tags: &'a [Value], tag: &str, head: &[&str]) -> Vec<&'a Value> {
    tags.iter()
        .filter(|c| c["tag"] == tag)
        .filter(|c| head.iter().enumerate().all(|(i, h)| c["args"][i] == *h))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn datalayer_pushes_become_one_event_per_platform_and_a_keyless_one_none() {
    let port = free_port();
    // The test plays the shop's backend itself, so the order is reported exactly once.
    let sb = shop_sandbox(port, ReportMode::None).await;
    let p = sb.platform_url.clone();
    let worker = shop_worker(&sb, port, &[("DATALAYER", "fire")]);
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    client.goto(&format!("{}/", worker.base_url)).await.unwrap();
    client.execute(PUSHES, vec![]).await.unwrap();

    // The pixel fired the purchase's tags (it handles pushes in order).
    let fired = until(&worker, Duration::from_mins(1), || async {
        let tags = tag_calls(&p).await;
        let seen = !calls(&tags, "fbq", &["track", "Purchase"]).is_empty();
        seen.then_some(())
    })
    .await;
    assert!(
        fired.is_some(),
        "no fbq Purchase; tag calls: {:?}",
        tag_calls(&p).await
    );
    // The shop's backend reports the same order, keyed by its id (README "Server events").
    let shop = json!({"events": [{"event": "transaction.purchase", "order_id": ORDER,
        "value": 25, "currency": "EUR", "items": [{"id": "sku-1", "price": 12.5, "quantity": 2}],
        "user": {"email": "dl.buyer@example.com"}}]});
    let (status, answer) = common::post_signed_events(&worker.base_url, SECRET, &shop).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rejected"], 0, "{answer}");
    client.goto(&format!("{}/", worker.base_url)).await.unwrap();

    let tags = tag_calls(&p).await;
    let view = calls(&tags, "fbq", &["track", "ViewContent"]);
    assert_eq!(view.len(), 1, "one fbq ViewContent: {tags:?}");
    let view_id = view[0]["args"][3]["eventID"].as_str().unwrap().to_owned();
    let purchase_id = EventId::from_business_key(&EventName::Purchase, ORDER);
    let arrived = until(&worker, Duration::from_secs(90), || async {
        let meta = server_events(&p, "meta", "data").await;
        let dm = server_events(&p, "data_manager", "events").await;
        let done = meta.iter().any(|e| e["event_id"] == purchase_id.as_str())
            && meta.iter().any(|e| e["event_id"] == view_id.as_str())
            && dm.iter().any(|e| e["transactionId"] == ORDER);
        done.then_some((meta, dm))
    })
    .await;
    client.close().await.unwrap();
    let (meta, dm) = arrived.unwrap_or_else(|| {
        panic!(
            "server copies missing; worker output:\n{}",
            worker.process.output().join("\n")
        )
    });
    // Let a late duplicate show itself: one more flush, then count.
    common::cron(&worker.base_url).await;
    let meta_after = server_events(&p, "meta", "data").await;
    assert_eq!(meta_after.len(), meta.len(), "no late Meta copy");

    // Purchase: fbq once with the ID the shop's copy derives from the order (meta-capi.md §4),
    // gtag's purchase and conversion once with the order as transaction_id (google.md §8), one
    // Meta and one Data Manager server copy; GA4 has the browser's copy, so no server copy.
    let fbq = calls(&tags, "fbq", &["track", "Purchase"]);
    assert_eq!(fbq.len(), 1, "one fbq Purchase: {tags:?}");
    assert_eq!(fbq[0]["args"][3]["eventID"], purchase_id.as_str());
    let gtag = calls(&tags, "gtag", &["event", "purchase"]);
    assert_eq!(gtag.len(), 1, "one gtag purchase: {tags:?}");
    assert_eq!(gtag[0]["args"][2]["transaction_id"], ORDER);
    let conversion = calls(&tags, "gtag", &["event", "conversion"]);
    let purchase_conversions = conversion
        .iter()
        .filter(|c| c["args"][2]["transaction_id"] == ORDER)
        .count();
    assert_eq!(purchase_conversions, 1, "one purchase conversion: {tags:?}");
    let meta_purchases: Vec<&Value> = meta
        .iter()
        .filter(|e| e["event_name"] == "Purchase")
        .collect();
    assert_eq!(meta_purchases.len(), 1, "one Meta Purchase: {meta:?}");
    assert_eq!(meta_purchases[0]["event_id"], purchase_id.as_str());
    assert_eq!(meta_purchases[0]["custom_data"]["value"], json!(25.0));
    let dm_purchases = dm.iter().filter(|e| e["transactionId"] == ORDER).count();
    assert_eq!(dm_purchases, 1, "one Data Manager purchase: {dm:?}");
    let ga4 = server_events(&p, "ga4", "events").await;
    assert!(
        !ga4.iter()
            .any(|e| e["params"]["transaction_id"] == ORDER || e["name"] == "purchase"),
        "gtag fired, so no GA4 server copy: {ga4:?}"
    );

    // Product view: one fbq call and one Meta server copy under the same ID.
    let views = meta
        .iter()
        .filter(|e| e["event_name"] == "ViewContent")
        .count();
    assert_eq!(views, 1, "one Meta ViewContent: {meta:?}");

    keyless_checkout_left_no_trace(&worker, &tags, &meta);
}

/// The keyless checkout start: no tag call, nothing stored, nothing sent; and the purchase is
/// one row (the pixel's and the shop's copies merged).
fn keyless_checkout_left_no_trace(worker: &Worker, tags: &[Value], meta: &[Value]) {
    assert!(
        calls(tags, "fbq", &["track", "InitiateCheckout"]).is_empty(),
        "{tags:?}"
    );
    assert!(calls(tags, "gtag", &["event", "begin_checkout"]).is_empty());
    assert!(
        !meta.iter().any(|e| e["event_name"] == "InitiateCheckout"),
        "{meta:?}"
    );
    let stored = worker.d1("SELECT event FROM events");
    let names: Vec<&str> = stored.iter().filter_map(|r| r["event"].as_str()).collect();
    assert!(!names.contains(&"checkout.started"), "stored: {names:?}");
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "transaction.purchase")
            .count(),
        1,
        "one purchase row: {names:?}"
    );
}
