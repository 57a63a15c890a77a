//! The browser copy and the server copy of every standard event line up, end to end: headless
//! Chromium walks the demo shop through the real worker (workerd via `wrangler dev`); the shop's
//! pages carry only the snippet and one `ar('track', …)` call; the pixel fires the sandbox's
//! stand-in base tags, which record each call; the worker sends the server copies to the fake
//! Meta and Data Manager. For each event, fbq's `eventID` is Meta's server `event_id` (meta-capi.md
//! §4) and gtag's conversion `transaction_id` is the Data Manager `transactionId` (google.md §8).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use std::time::Duration;

use ar_sandbox::ReportMode;
use ar_sandbox::harness::{ChromeDriver, free_port};
use common::browser::{
    ALL_WEBPAGE_ACTIONS, browser, click, server_events, shop_sandbox, shop_worker, shown_event_id,
    tag_calls, until,
};
use fantoccini::Locator;
use serde_json::Value;

/// One page's event: its name, Meta's name, its conversion tag, and the ID the page showed.
struct Seen {
    event: &'static str,
    meta: &'static str,
    send_to: &'static str,
    id: String,
    transaction_id: String,
}

#[tokio::test(flavor = "multi_thread")]
async fn every_standard_event_reaches_the_tags_and_the_server_with_the_same_ids() {
    let port = free_port();
    let sb = shop_sandbox(port, ReportMode::Api).await;
    let p = sb.platform_url.clone();
    // A browser-only payment step would wait for the shop's copy (DESIGN §4 "Forged events");
    // this test is about IDs, so it goes out alone.
    let worker = shop_worker(
        &sb,
        port,
        &[
            ("GOOGLE_CONVERSION_ACTIONS", ALL_WEBPAGE_ACTIONS),
            ("HOLD_UNVERIFIED", "false"),
        ],
    );
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    let base = &worker.base_url;
    let mut seen = Vec::new();
    let mut see = |event, meta, send_to, id: String, txn: Option<String>| {
        let transaction_id = txn.unwrap_or_else(|| id.clone());
        seen.push(Seen {
            event,
            meta,
            send_to,
            id,
            transaction_id,
        });
    };

    client
        .goto(&format!("{base}/?fbclid=IwAR-tags_1&gclid=Cj0-tags"))
        .await
        .unwrap();
    click(&client, "a[href^='/products/']").await;
    let id = shown_event_id(&client, "#add-to-cart").await;
    see("product.viewed", "ViewContent", "AW-123/view", id, None);
    click(&client, "#add-to-cart").await;
    let id = shown_event_id(&client, "#checkout").await;
    see("cart.added", "AddToCart", "AW-123/cart", id, None);
    click(&client, "#checkout").await;
    let id = shown_event_id(&client, "#to-payment").await;
    see(
        "checkout.started",
        "InitiateCheckout",
        "AW-123/checkout",
        id,
        None,
    );
    click(&client, "#to-payment").await;
    let id = shown_event_id(&client, "#place-order").await;
    see(
        "payment_info.added",
        "AddPaymentInfo",
        "AW-123/payment",
        id,
        None,
    );
    click(&client, "#place-order").await;
    let id = shown_event_id(&client, "#order-id").await;
    let order = client
        .find(Locator::Css("#order-id"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    see(
        "transaction.purchase",
        "Purchase",
        "AW-123/label",
        id,
        Some(order),
    );
    client.goto(&format!("{base}/signup")).await.unwrap();
    click(&client, "#sign-up").await;
    let id = shown_event_id(&client, "#user-id").await;
    see(
        "user.signed_up",
        "CompleteRegistration",
        "AW-123/signup",
        id,
        None,
    );
    client.goto(&format!("{base}/lead")).await.unwrap();
    click(&client, "#send-lead").await;
    let id = shown_event_id(&client, "#lead-id").await;
    see("lead.submitted", "Lead", "AW-123/lead", id, None);
    // Leave the last page so its event is sent if the tags had not settled yet.
    client.goto(&format!("{base}/")).await.unwrap();

    // Every server copy has arrived (batched events go out with the cron flush).
    let ids: Vec<String> = seen.iter().map(|s| s.id.clone()).collect();
    let txns: Vec<String> = seen.iter().map(|s| s.transaction_id.clone()).collect();
    let arrived = until(&worker, Duration::from_secs(90), || async {
        let meta = server_events(&p, "meta", "data").await;
        let dm = server_events(&p, "data_manager", "events").await;
        let all = ids
            .iter()
            .all(|id| meta.iter().any(|e| e["event_id"] == id.as_str()))
            && txns
                .iter()
                .all(|t| dm.iter().any(|e| e["transactionId"] == t.as_str()));
        all.then_some((meta, dm))
    })
    .await;
    client.close().await.unwrap();
    let (meta, dm) = arrived.unwrap_or_else(|| {
        panic!(
            "not every server copy arrived; worker output:\n{}",
            worker.process.output().join("\n")
        )
    });
    // Both tags really fired for every event, and the pixel said so (DESIGN §1).
    for s in &seen {
        let rows = worker.d1(&format!(
            "SELECT record FROM events WHERE event_id = '{}'",
            s.id
        ));
        let record: Value = serde_json::from_str(rows[0]["record"].as_str().unwrap()).unwrap();
        assert_eq!(
            record["fired"],
            serde_json::json!({"meta": true, "google": true}),
            "{}",
            s.event
        );
    }
    let tags = tag_calls(&p).await;
    for s in &seen {
        // meta-capi.md §4: one server copy whose event_id and event_name match the pixel's.
        let server: Vec<&Value> = meta
            .iter()
            .filter(|e| e["event_id"] == s.id.as_str())
            .collect();
        assert_eq!(server.len(), 1, "{}: one Meta server copy", s.event);
        assert_eq!(server[0]["event_name"], s.meta, "{}", s.event);
        let fbq = tags.iter().any(|c| {
            c["tag"] == "fbq"
                && c["args"][0] == "track"
                && c["args"][1] == s.meta
                && c["args"][3]["eventID"] == s.id.as_str()
        });
        assert!(
            fbq,
            "{}: fbq('track', {}, …, {{eventID: {}}})",
            s.event, s.meta, s.id
        );
        // google.md §8: the gtag conversion and the Data Manager event share the transaction id.
        let copies = dm
            .iter()
            .filter(|e| e["transactionId"] == s.transaction_id.as_str())
            .count();
        assert_eq!(copies, 1, "{}: one Data Manager copy", s.event);
        let conversion = tags.iter().any(|c| {
            c["tag"] == "gtag"
                && c["args"][1] == "conversion"
                && c["args"][2]["send_to"] == s.send_to
                && c["args"][2]["transaction_id"] == s.transaction_id.as_str()
        });
        assert!(
            conversion,
            "{}: gtag conversion into {}",
            s.event, s.send_to
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn blocked_tags_leave_the_server_copy_and_ga4_sends_it_for_a_returning_visitor() {
    // An ad blocker: the base tags fail to load. The pixel reports fired = false, Meta still gets
    // the server copy, and GA4 gets one because gtag did not fire and the visitor has a `_ga`
    // cookie (DESIGN §1).
    let port = free_port();
    let sb = shop_sandbox(port, ReportMode::None).await;
    let p = sb.platform_url.clone();
    let blocked = format!("{p}/_sandbox/tags/blocked.js");
    let worker = shop_worker(
        &sb,
        port,
        &[("META_TAG_URL", &blocked), ("GTAG_URL", &blocked)],
    );
    let driver = ChromeDriver::start();
    let client = browser(&driver).await;
    client.goto(&format!("{}/", worker.base_url)).await.unwrap();
    client
        .execute(
            "document.cookie = '_ga=GA1.1.1234567890.1700000000; path=/'",
            vec![],
        )
        .await
        .unwrap();
    click(&client, "a[href^='/products/']").await;
    let id = shown_event_id(&client, "#add-to-cart").await;
    client.goto(&format!("{}/", worker.base_url)).await.unwrap();

    let arrived = until(&worker, Duration::from_mins(1), || async {
        let meta = server_events(&p, "meta", "data").await;
        let ga4 = server_events(&p, "ga4", "events").await;
        let in_meta = meta.iter().any(|e| e["event_id"] == id.as_str());
        let in_ga4 = ga4
            .iter()
            .any(|e| e["params"]["transaction_id"] == id.as_str());
        (in_meta && in_ga4).then_some(ga4)
    })
    .await;
    client.close().await.unwrap();
    assert!(
        arrived.is_some(),
        "Meta and GA4 server copies of {id}; worker output:\n{}",
        worker.process.output().join("\n")
    );
    let rows = worker.d1(&format!(
        "SELECT record FROM events WHERE event_id = '{id}'"
    ));
    let record: Value = serde_json::from_str(rows[0]["record"].as_str().unwrap()).unwrap();
    assert_eq!(
        record["fired"],
        serde_json::json!({"meta": false, "google": false})
    );
    assert!(
        tag_calls(&p).await.is_empty(),
        "no tag call left the browser"
    );
}
