//! Failures and replay end to end against the real worker (workerd via `wrangler dev`, local D1)
//! and the fake Meta: a purchase rejected permanently (a missing permission, Meta code 10) is listed
//! with its reason, filtered, and after the setup is fixed replayed once and delivered once; an
//! event past Meta's window by the next flush is refused with the reason; a held browser-only
//! purchase is listed but not replayed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::clock::real_now_ms;
use ar_sandbox::harness::Worker;
use ar_shared::{EventId, EventName};
use serde_json::{Value, json};

const ADMIN: &str = "admin-e2e-replay-0123456789abcdef";
const SECRET: &str = "e2e-replay-secret";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn start(sb: &Sandbox) -> Worker {
    common::meta_worker(sb, SECRET, &[("ADMIN_TOKEN", ADMIN)])
}

async fn get(worker: &Worker, path: &str) -> (u16, Value) {
    let res = common::http()
        .get(format!("{}{path}", worker.base_url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn replay_json(worker: &Worker, query: &str) -> (u16, Value) {
    let res = common::http()
        .post(format!("{}/_ar/admin/replay?{query}", worker.base_url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The console's replay form; returns status and the page's outcome line.
async fn replay_form(worker: &Worker, fields: &[(&str, &str)]) -> (u16, String) {
    common::console_form(&worker.base_url, "/_ar/admin/replay", ADMIN, fields).await
}

async fn purchase(worker: &Worker, order: &str, occurred_at: i64) {
    let body = json!({"events": [{"event": "transaction.purchase", "order_id": order,
        "occurred_at": occurred_at, "value": 20, "currency": "EUR",
        "user": {"email": "replay.buyer@example.com"},
        "page": {"url": "https://shop.example.com/thanks"},
        "consent": {"ad_storage": "granted", "analytics_storage": "granted",
                    "ad_user_data": "granted", "ad_personalization": "granted"},
        "client": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (e2e-replay)"}}]});
    let (status, answer) = common::post_signed_events(&worker.base_url, SECRET, &body).await;
    assert_eq!(
        (status, answer["rejected"].clone()),
        (200, json!(0)),
        "{answer}"
    );
}

fn rows(report: &Value) -> Vec<Value> {
    report["rows"].as_array().cloned().unwrap_or_default()
}

/// Accepted Meta copies of `id`.
async fn accepted(sb: &Sandbox, id: &str) -> usize {
    common::platform_requests(sb, "meta", Some(id))
        .await
        .iter()
        .filter(|r| r["verdict"] == "accepted")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanently_failing_event_is_replayed_once_after_the_fix_and_delivered_once() {
    let sb = common::sandbox().await;
    let worker = start(&sb);
    let log = || worker.process.output().join("\n");
    let faults = format!("{}/_sandbox/faults", sb.platform_url);
    let (status, body) = common::post_json(
        &faults,
        &json!({"platform": "meta", "kind": "permanent", "code": 10, "seconds": 600}),
        &[],
    )
    .await;
    assert!(status < 300, "{status} {body}");

    let now = real_now_ms();
    purchase(&worker, "rp-1", now - 60_000).await;
    // Inside Meta's 7 days now (sent, and rejected), outside by the next flush.
    purchase(&worker, "rp-old", now - 7 * DAY_MS + 12 * 60_000).await;
    let fresh = EventId::from_business_key(&EventName::Purchase, "rp-1").to_string();
    let old = EventId::from_business_key(&EventName::Purchase, "rp-old").to_string();
    // A browser-only purchase: held for the shop's copy.
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("user-agent", "Mozilla/5.0 (e2e-replay)")
        .json(
            &json!({"event": "transaction.purchase", "order_id": "rp-held", "value": 9,
                      "currency": "EUR", "page": {"url": "https://shop.example.com/thanks"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);

    let deadline = Instant::now() + Duration::from_mins(1);
    let report = loop {
        let (_, report) = get(&worker, "/_ar/admin/failures?status=failed").await;
        if rows(&report).len() >= 2 {
            break report;
        }
        if Instant::now() > deadline {
            let (_, health) = get(&worker, "/_ar/health").await;
            let meta = common::platform_requests(&sb, "meta", None).await;
            panic!("never failed: {report:#}\n{health:#}\n{meta:#?}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    // The setup is fixed (the merchant renewed the token).
    let cleared = common::http().delete(&faults).send().await.unwrap();
    assert!(cleared.status().is_success());

    let listed = rows(&report);
    let row = |id: &str| listed.iter().find(|r| r["event_id"] == id).unwrap().clone();
    let reason = row(&fresh)["reason"].as_str().unwrap().to_owned();
    assert!(!reason.is_empty());
    assert_eq!(row(&fresh)["replayable"], true, "{report:#}");
    assert_eq!(row(&old)["replayable"], false);
    assert!(
        row(&old)["refused"].as_str().unwrap().contains("7 days"),
        "{report:#}"
    );

    check_filters(&worker, &reason).await;

    // Replay the fresh one from the console's form (selected), then every row of the reason.
    let (status, outcome) = replay_form(&worker, &[("row", &format!("{fresh}:meta"))]).await;
    assert_eq!(status, 200, "{outcome}");
    assert!(outcome.contains("Queued 1 row"), "{outcome}");
    let (status, all) = replay_json(
        &worker,
        &format!("platform=meta&reason={}", url_encode(&reason)),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["requeued"], 0, "already queued: {all:#}");
    let refused = all["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{all:#}");
    assert_eq!(refused[0]["event_id"], old.as_str());
    let (_, again) = replay_form(&worker, &[("row", &format!("{fresh}:meta"))]).await;
    assert!(
        again.contains("Queued 0 row") && again.contains("not a failed row"),
        "{again}"
    );

    let deadline = Instant::now() + Duration::from_mins(1);
    while accepted(&sb, &fresh).await == 0 {
        assert!(Instant::now() < deadline, "never delivered\n{}", log());
        common::cron(&worker.base_url).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    common::cron(&worker.base_url).await;
    let (_, after) = get(&worker, "/_ar/admin/failures?status=failed").await;
    assert_eq!(accepted(&sb, &fresh).await, 1, "delivered once");
    assert_eq!(accepted(&sb, &old).await, 0);
    let left: Vec<String> = rows(&after)
        .iter()
        .filter_map(|r| r["event_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(left, [old], "only the refused row is still failed");
    let (_, health) = get(&worker, "/_ar/health").await;
    assert_eq!(health["delivery"]["meta"]["delivered"], 1, "{health:#}");
}

/// Filters: by reason, event type, platform and status; a wrong one names its field.
async fn check_filters(worker: &Worker, reason: &str) {
    let by_reason = format!("/_ar/admin/failures?reason={}", url_encode(reason));
    assert_eq!(rows(&get(worker, &by_reason).await.1).len(), 2);
    assert!(
        rows(
            &get(worker, "/_ar/admin/failures?event=user.signed_up")
                .await
                .1
        )
        .is_empty()
    );
    assert!(rows(&get(worker, "/_ar/admin/failures?platform=ga4").await.1).is_empty());
    let held = rows(&get(worker, "/_ar/admin/failures?status=held").await.1);
    assert_eq!(held.len(), 1, "{held:#?}");
    assert!(held[0]["refused"].as_str().unwrap().contains("confirms"));
    for (q, field) in [
        ("status=done", "status"),
        ("platform=metta", "platform"),
        ("colour=red", "colour"),
    ] {
        let (status, answer) = get(worker, &format!("/_ar/admin/failures?{q}")).await;
        assert_eq!(
            (status, answer["field"].clone()),
            (400, json!(field)),
            "{q}: {answer}"
        );
    }
}

fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
