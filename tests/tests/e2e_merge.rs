//! DESIGN §5 "Idempotent outbox", against the real worker and the fake Meta: the pixel's copy of a
//! purchase (cookies fbc/fbp, the shopper's IP and user agent) and the merchant backend's signed
//! copy (order data, email) meet within the merge window in EITHER arrival order and leave as
//! exactly one Meta event carrying both. Browser purchases are held by default until the shop
//! corroborates them (DESIGN §4 "Forged events").

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::harness::Worker;
use ar_shared::{EventId, EventName};
use serde_json::{Value, json};

const SECRET: &str = "e2e-merge-secret";
const UA: &str = "Mozilla/5.0 (e2e-merge)";
const FBC: &str = "fb.1.1764000000000.IwAR-merge_test";
const FBP: &str = "fb.1.1764000000000.1234567890";

/// The events row records both the pixel's and the shop's copy.
const BOTH: &str = "e.from_pixel = 1 AND e.from_shop = 1";

fn start(sb: &Sandbox) -> Worker {
    common::meta_worker(sb, SECRET, &[])
}

async fn pixel_copy(worker: &Worker, order: &str) {
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("user-agent", UA)
        .header("cookie", format!("_fbc={FBC}; _fbp={FBP}"))
        .json(&json!({"event": "transaction.purchase", "order_id": order, "value": 10, "currency": "EUR",
                      "page": {"url": "https://shop.example.com/thank-you"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        204,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

async fn server_copy(worker: &Worker, order: &str) {
    let body = json!({"events": [{"event": "transaction.purchase", "order_id": order, "value": 59.9,
        "currency": "EUR", "items": [{"id": "sku-1", "price": 19.95, "quantity": 3}],
        "user": {"email": "Merge.Buyer@Example.com"}}]});
    let (status, json) = common::post_signed_events(&worker.base_url, SECRET, &body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["rejected"], 0, "{json}");
}

async fn meta_events(sb: &Sandbox, id: &str) -> Vec<Value> {
    common::platform_requests(sb, "meta", Some(id))
        .await
        .iter()
        .filter(|r| r["verdict"] == "accepted")
        .flat_map(|r| r["body"]["data"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["event_id"] == id)
        .collect()
}

async fn one_merged_meta_event(sb: &Sandbox, worker: &Worker, order: &str) {
    let id = EventId::from_business_key(&EventName::Purchase, order);
    let deadline = Instant::now() + Duration::from_mins(1);
    while meta_events(sb, id.as_str()).await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    common::outbox_settled(worker, &[id.as_str()], BOTH).await;
    assert_one_merged_meta_event(sb, worker, order).await;
}

/// Meta holds exactly one event for `order`, with the pixel's and the backend's data.
async fn assert_one_merged_meta_event(sb: &Sandbox, worker: &Worker, order: &str) {
    let id = EventId::from_business_key(&EventName::Purchase, order);
    let events = meta_events(sb, id.as_str()).await;
    assert_eq!(
        events.len(),
        1,
        "exactly one Meta event; worker log:\n{}",
        worker.process.output().join("\n")
    );
    let e = &events[0];
    let user = &e["user_data"];
    assert_eq!(user["fbc"], FBC, "the pixel's fbc, verbatim");
    assert_eq!(user["fbp"], FBP, "the pixel's fbp");
    assert_eq!(user["client_user_agent"], UA, "the pixel's user agent");
    assert!(
        user["client_ip_address"].is_string(),
        "the pixel's IP: {user}"
    );
    let em = user["em"]
        .as_str()
        .or_else(|| user["em"][0].as_str())
        .unwrap_or_default();
    assert_eq!(em.len(), 64, "the backend's hashed email: {user}");
    assert_eq!(
        e["custom_data"]["value"], 59.9,
        "the backend's order data wins: {e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pixel_first_then_server_copy_send_one_merged_event() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    pixel_copy(&worker, "merge-p1").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    server_copy(&worker, "merge-p1").await;
    one_merged_meta_event(&sb, &worker, "merge-p1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_first_then_pixel_copy_send_one_merged_event() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    server_copy(&worker, "merge-s1").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    pixel_copy(&worker, "merge-s1").await;
    one_merged_meta_event(&sb, &worker, "merge-s1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_only_purchase_is_held_until_the_shop_confirms_it() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let id = EventId::from_business_key(&EventName::Purchase, "merge-h1");
    pixel_copy(&worker, "merge-h1").await;
    // Its Meta row is final (held) and a cron run has passed: it would have left by now.
    common::outbox_settled(&worker, &[id.as_str()], "e.from_pixel = 1").await;
    assert!(
        meta_events(&sb, id.as_str()).await.is_empty(),
        "an unverified browser purchase was forwarded"
    );
    server_copy(&worker, "merge-h1").await;
    one_merged_meta_event(&sb, &worker, "merge-h1").await;
}

/// Both copies of each purchase sent at the same instant: the two merges race in D1. Every
/// order must still leave as one Meta event carrying both sides (an optimistic version check
/// re-merges the copy that lost the race instead of overwriting the winner).
#[tokio::test(flavor = "multi_thread")]
async fn simultaneous_copies_of_many_purchases_each_leave_as_one_merged_event() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let orders: Vec<String> = (0..12).map(|i| format!("merge-race-{i}")).collect();
    let sends = orders.iter().map(|order| {
        let worker = &worker;
        async move {
            tokio::join!(pixel_copy(worker, order), server_copy(worker, order));
        }
    });
    futures_util::future::join_all(sends).await;
    let ids: Vec<EventId> = orders
        .iter()
        .map(|o| EventId::from_business_key(&EventName::Purchase, o))
        .collect();
    let deadline = Instant::now() + Duration::from_mins(1);
    for id in &ids {
        while meta_events(&sb, id.as_str()).await.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Late duplicates would leave from a row still open.
    let ids: Vec<&str> = ids.iter().map(EventId::as_str).collect();
    common::outbox_settled(&worker, &ids, BOTH).await;
    for order in &orders {
        assert_one_merged_meta_event(&sb, &worker, order).await;
    }
}
