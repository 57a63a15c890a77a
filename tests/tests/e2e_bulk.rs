//! A full `/_ar/events` request (1000 events) against the real worker and the fake Meta: the
//! worker stores it in a bounded number of D1 queries and Queue sends (Cloudflare limits them per
//! invocation), answers every event, sends each real-time purchase exactly once after the merge
//! window and the batched cart events in platform-sized requests after the cron flush (DESIGN §5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::harness::Worker;
use ar_shared::{EventId, EventName};
use serde_json::{Value, json};

const SECRET: &str = "e2e-bulk-secret";
const CARTS: usize = 990;
const PURCHASES: usize = 10;

fn start(sb: &Sandbox) -> Worker {
    common::meta_worker(sb, SECRET, &[("HOLD_UNVERIFIED", "false")])
}

async fn post_signed(worker: &Worker, body: &Value) -> (u16, Value) {
    common::post_signed_events(&worker.base_url, SECRET, body).await
}

async fn cron(worker: &Worker) {
    common::cron(&worker.base_url).await;
}

/// The fake Meta's accepted requests.
async fn meta_requests(sb: &Sandbox) -> Vec<Value> {
    common::platform_requests(sb, "meta", None)
        .await
        .into_iter()
        .filter(|r| r["verdict"] == "accepted")
        .collect()
}

/// How often Meta received each event id, and the size of the request that carried it.
fn received(requests: &[Value]) -> BTreeMap<String, Vec<u64>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in requests {
        let size = r["events"].as_u64().unwrap_or(0);
        for id in r["event_ids"].as_array().cloned().unwrap_or_default() {
            if let Some(id) = id.as_str() {
                out.entry(id.to_owned()).or_default().push(size);
            }
        }
    }
    out
}

/// The shopper's consent as the merchant backend states it: without it a server copy is withheld
/// from Meta by the consent policy.
fn granted() -> Value {
    json!({"ad_storage": "granted", "analytics_storage": "granted", "ad_user_data": "granted",
           "ad_personalization": "granted"})
}

fn client(i: usize) -> Value {
    json!({"ip": format!("203.0.113.{}", i % 250 + 1), "user_agent": "Mozilla/5.0 (e2e-bulk)"})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_of_1000_events_is_stored_and_each_event_reaches_meta_once() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let mut events: Vec<Value> = (0..CARTS)
        .map(|i| {
            json!({"event": "cart.added", "cart_id": format!("bulk-cart-{i}"),
                   "items": [{"id": "sku-1"}],
                   "page": {"url": "https://shop.example.com/p"}, "client": client(i), "consent": granted()})
        })
        .collect();
    let orders: Vec<String> = (0..PURCHASES).map(|i| format!("bulk-order-{i}")).collect();
    events.extend(orders.iter().enumerate().map(|(i, order)| {
        json!({"event": "transaction.purchase", "order_id": order, "value": 20, "currency": "EUR",
               "user": {"email": format!("Bulk.Buyer{i}@Example.com")}, "client": client(i), "consent": granted(),
               "page": {"url": "https://shop.example.com/thank-you"}})
    }));

    let (status, report) = post_signed(&worker, &json!({ "events": events })).await;
    assert_eq!(
        status,
        200,
        "{report}\nworker log:\n{}",
        worker.process.output().join("\n")
    );
    assert_eq!(report["accepted"], 1000, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 1000);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["index"], i, "results in input order: {r}");
        assert_eq!(r["status"], "accepted", "{r}");
    }
    let ids: Vec<String> = results
        .iter()
        .map(|r| r["event_id"].as_str().unwrap().to_owned())
        .collect();
    let purchase_ids: Vec<String> = orders
        .iter()
        .map(|o| {
            EventId::from_business_key(&EventName::Purchase, o)
                .as_str()
                .to_owned()
        })
        .collect();
    assert_eq!(ids[CARTS..], purchase_ids[..]);

    // Real-time purchases leave after the merge window, without any cron run.
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut got = received(&meta_requests(&sb).await);
    while purchase_ids.iter().any(|id| !got.contains_key(id)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        got = received(&meta_requests(&sb).await);
    }
    for id in &purchase_ids {
        assert_eq!(
            got.get(id).map_or(0, Vec::len),
            1,
            "purchase {id} exactly once; worker log:\n{}",
            worker.process.output().join("\n")
        );
    }

    // Batched carts reach D1 through the Queue and leave with the cron flush.
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(2)).await;
        cron(&worker).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        got = received(&meta_requests(&sb).await);
        if ids.iter().all(|id| got.contains_key(id)) {
            break;
        }
    }
    let missing = ids.iter().filter(|id| !got.contains_key(*id)).count();
    assert_eq!(
        missing,
        0,
        "every event reached Meta; worker log:\n{}",
        worker.process.output().join("\n")
    );
    for id in &ids {
        assert_eq!(got[id].len(), 1, "{id} exactly once: {:?}", got[id]);
    }
    for id in &ids[..CARTS] {
        assert!(got[id][0] > 1, "cart {id} went out in a batch");
    }
    // Later cron runs never send anything again: once every row is final, one more flush.
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    common::outbox_settled(&worker, &all, "1").await;
    let again = received(&meta_requests(&sb).await);
    assert!(again.values().all(|sizes| sizes.len() == 1));
}
