//! Raw customer data never leaves the shopper's browser (DESIGN §4 "PII"), end to end: headless
//! Chromium checks out through a recording proxy in front of the real worker; the payment page
//! passes the customer's email, phone and name to `ar('track')`. A scan of every `/_ar/*` request
//! the page made and of every call the stand-in tags received finds none of them raw, while the
//! hashes did go out, and Meta's server copy carries the browser's hash.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use ar_sandbox::ReportMode;
use ar_sandbox::harness::{ChromeDriver, free_port};
use ar_sandbox::recording_proxy::RecordingProxy;
use ar_shared::pii::{PiiField, RawUserData, hash_user_data};
use common::browser::{
    browser, click, server_events, shop_sandbox, shop_worker, shown_event_id, tag_calls, until,
};

/// The demo checkout's default identity, as typed.
const RAW: [&str; 5] = [
    "shopper@example.com",
    "+49 170 1234567",
    "1701234567",
    "erika",
    "mustermann",
];

#[tokio::test(flavor = "multi_thread")]
async fn no_request_the_page_makes_carries_a_raw_email_phone_or_name() {
    let port = free_port();
    let sb = shop_sandbox(port, ReportMode::None).await;
    let p = sb.platform_url.clone();
    let worker = shop_worker(&sb, port, &[("HOLD_UNVERIFIED", "false")]);
    let proxy = RecordingProxy::start(&worker.base_url).await.unwrap();
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    client
        .goto(&format!("{}/products/sku-1?fbclid=IwAR-pii", proxy.url))
        .await
        .unwrap();
    shown_event_id(&client, "#add-to-cart").await;
    click(&client, "#add-to-cart").await;
    click(&client, "#checkout").await;
    click(&client, "#to-payment").await;
    let paid = shown_event_id(&client, "#place-order").await;
    client.goto(&format!("{}/", proxy.url)).await.unwrap();
    client.close().await.unwrap();

    // The payment event's server copy carries the browser's hash of the email (meta-capi.md §2).
    let (email, _) = hash_user_data(
        &RawUserData::default().with(PiiField::Email, "Shopper@Example.com"),
        "US",
    );
    let em = email.meta.em.unwrap();
    let meta = until(&worker, Duration::from_secs(30), || async {
        let meta = server_events(&p, "meta", "data").await;
        meta.into_iter().find(|e| e["event_id"] == paid.as_str())
    })
    .await
    .expect("Meta's copy of the payment event");
    assert_eq!(meta["user_data"]["em"], em.as_str());

    let sent: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.target.starts_with("/_ar/"))
        .map(|s| format!("{} {}", s.target, s.body).to_lowercase())
        .collect();
    let hashed = sent.iter().any(|s| {
        s.starts_with("/_ar/collect")
            && s.contains(&format!("\"email\":{{\"meta\":\"{}\"", em.as_str()))
    });
    assert!(
        hashed,
        "the payment event carried the hashed email: {sent:?}"
    );
    let tags: Vec<String> = tag_calls(&p)
        .await
        .iter()
        .map(|c| c.to_string().to_lowercase())
        .collect();
    assert!(!tags.is_empty());
    for raw in RAW {
        for (what, texts) in [("/_ar/* request", &sent), ("tag call", &tags)] {
            let leak = texts.iter().find(|t| t.contains(raw));
            assert!(leak.is_none(), "raw {raw:?} in a {what}: {leak:?}");
        }
    }
}
