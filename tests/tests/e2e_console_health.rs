//! Health you can trust, end to end: the real worker (workerd via `wrangler dev`, local D1) and
//! the fake Meta, filled with server-only, pixel-only and both-copies events, consent granted,
//! denied and unstated, one failing permanently and one retried; every figure of `/_ar/health`'s
//! `figures` (counted as the events flowed) equals what this test computes from what it sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::harness::Worker;
use serde_json::{Value, json};

const ADMIN: &str = "admin-e2e-health-0123456789abcdef";
const SECRET: &str = "e2e-health-secret";
const UA: &str = "Mozilla/5.0 (e2e-health)";

/// What the test sent of one event (the flags are what the figures count).
#[allow(clippy::struct_excessive_bools)]
struct Sent {
    event: &'static str,
    pixel: bool,
    shop: bool,
    email: bool,
    /// `ad_user_data` as the event's record ends up with it.
    ad_user_data: &'static str,
    fired_meta: bool,
    fails: bool,
}

fn consent(ad_user_data: &str) -> Value {
    json!({"ad_storage": "granted", "analytics_storage": "granted",
           "ad_user_data": ad_user_data, "ad_personalization": "granted"})
}

async fn server(worker: &Worker, event: &str, key: (&str, &str), ad_user_data: &str) {
    let mut e = json!({"event": event, "user": {"email": format!("{}@example.com", key.1)},
        "page": {"url": "https://shop.example.com/done"}, "consent": consent(ad_user_data),
        "client": {"ip": "203.0.113.9", "user_agent": UA}});
    e[key.0] = json!(key.1);
    if event == "transaction.purchase" {
        e["value"] = json!(10);
        e["currency"] = json!("EUR");
    }
    let (status, answer) =
        common::post_signed_events(&worker.base_url, SECRET, &json!({"events": [e]})).await;
    assert_eq!(
        (status, answer["rejected"].clone()),
        (200, json!(0)),
        "{answer}"
    );
}

async fn pixel(worker: &Worker, event: &str, key: (&str, &str), fired_meta: bool) {
    let mut e = json!({"event": event, "page": {"url": "https://shop.example.com/done"},
                       "fired": {"meta": fired_meta, "google": false}});
    e[key.0] = json!(key.1);
    if event == "transaction.purchase" {
        e["value"] = json!(10);
        e["currency"] = json!("EUR");
    }
    common::post_pixel_event(&worker.base_url, UA, &e).await;
}

async fn health(worker: &Worker) -> Value {
    common::admin_health(&worker.base_url, ADMIN).await
}

async fn fault(sb: &Sandbox, spec: Value) {
    let (status, body) =
        common::post_json(&format!("{}/_sandbox/faults", sb.platform_url), &spec, &[]).await;
    assert!(status < 300, "{status} {body}");
}

/// Waits until Meta's delivered + failed rows reach `n`.
async fn settled(worker: &Worker, n: u64) -> Value {
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let h = health(worker).await;
        let m = &h["delivery"]["meta"];
        if m["delivered"].as_u64().unwrap_or(0) + m["failed"].as_u64().unwrap_or(0) >= n {
            return h;
        }
        assert!(
            Instant::now() < deadline,
            "{h:#}\n{}",
            worker.process.output().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: usize, whole: usize) -> f64 {
    ((part as f64 / whole as f64) * 1000.0).round() / 1000.0
}

/// The figures one group of sent events must show.
fn assert_figures(f: &Value, sent: &[&Sent], label: &str) {
    let n = sent.len();
    let count = |p: &dyn Fn(&Sent) -> bool| sent.iter().filter(|s| p(s)).count();
    assert_eq!(f["seen"], n, "{label}: {f:#}");
    assert_eq!(f["from_pixel"], count(&|s| s.pixel), "{label}");
    assert_eq!(f["from_shop"], count(&|s| s.shop), "{label}");
    let both = count(&|s| s.pixel && s.shop);
    assert_eq!(f["both"], both, "{label}");
    assert_eq!(f["dedup_rate"], ratio(both, n), "{label}");
    assert_eq!(
        f["identifiers"]["em"],
        ratio(count(&|s| s.email), n),
        "{label}"
    );
    let mut mix: BTreeMap<&str, usize> = BTreeMap::new();
    for s in sent {
        *mix.entry(s.ad_user_data).or_default() += 1;
    }
    for (state, k) in mix {
        assert_eq!(f["consent"]["ad_user_data"][state], k, "{label}: {state}");
    }
    let meta = &f["platforms"]["meta"];
    let delivered = count(&|s| !s.fails);
    assert_eq!(meta["delivered"], delivered, "{label}: {meta:#}");
    assert_eq!(meta["failed"], count(&|s| s.fails), "{label}");
    assert_eq!(meta["coverage"], ratio(delivered, n), "{label}");
    let fired = count(&|s| s.fired_meta);
    let unfired_delivered = count(&|s| !s.fails && !s.fired_meta);
    assert_eq!(
        meta["combined_coverage"],
        ratio(fired + unfired_delivered, n),
        "{label}"
    );
    let want = if ratio(delivered, n) >= 0.75 {
        "pass"
    } else {
        "warn"
    };
    assert_eq!(meta["coverage_check"]["state"], want, "{label}");
}

/// Sends the events; returns what was sent.
async fn fill(sb: &Sandbox, worker: &Worker) -> Vec<Sent> {
    let mut sent: Vec<Sent> = Vec::new();
    let s = |event, pixel, shop, email, ad_user_data, fired_meta, fails| Sent {
        event,
        pixel,
        shop,
        email,
        ad_user_data,
        fired_meta,
        fails,
    };

    // A lead Meta rejects for good (a missing permission), then one sign-up answered 500 once.
    fault(
        sb,
        json!({"platform": "meta", "kind": "permanent", "code": 10, "count": 1}),
    )
    .await;
    server(worker, "lead.submitted", ("lead_id", "h-fail"), "granted").await;
    sent.push(s(
        "lead.submitted",
        false,
        true,
        true,
        "granted",
        false,
        true,
    ));
    settled(worker, 1).await;
    fault(
        sb,
        json!({"platform": "meta", "kind": "status", "status": 500, "count": 1}),
    )
    .await;
    server(worker, "user.signed_up", ("user_id", "h-retry"), "granted").await;
    sent.push(s(
        "user.signed_up",
        false,
        true,
        true,
        "granted",
        false,
        false,
    ));
    settled(worker, 2).await;

    for i in 0..3 {
        server(
            worker,
            "user.signed_up",
            ("user_id", &format!("h-u{i}")),
            "granted",
        )
        .await;
        sent.push(s(
            "user.signed_up",
            false,
            true,
            true,
            "granted",
            false,
            false,
        ));
    }
    pixel(worker, "lead.submitted", ("lead_id", "h-l1"), true).await;
    pixel(worker, "lead.submitted", ("lead_id", "h-l2"), false).await;
    for fired in [true, false] {
        sent.push(s(
            "lead.submitted",
            true,
            false,
            false,
            "unset",
            fired,
            false,
        ));
    }
    // Both copies of two purchases; the shop states ad_user_data denied for the first.
    for (order, state) in [("h-p1", "denied"), ("h-p2", "granted")] {
        pixel(worker, "transaction.purchase", ("order_id", order), false).await;
        server(worker, "transaction.purchase", ("order_id", order), state).await;
        sent.push(s(
            "transaction.purchase",
            true,
            true,
            true,
            state,
            false,
            false,
        ));
    }
    sent
}

#[tokio::test(flavor = "multi_thread")]
async fn every_health_figure_equals_what_was_sent() {
    let sb = common::sandbox().await;
    let worker = common::meta_worker(
        &sb,
        SECRET,
        &[
            ("ADMIN_TOKEN", ADMIN),
            ("HOLD_UNVERIFIED", "false"),
            ("RETRY_BASE_SECS", "1"),
        ],
    );
    let sent = fill(&sb, &worker).await;
    let h = settled(&worker, sent.len() as u64).await;
    let figures = &h["figures"];

    for window in ["last_24h", "last_7d"] {
        let all: Vec<&Sent> = sent.iter().collect();
        assert_figures(&figures[window]["all"], &all, window);
        for event in ["user.signed_up", "lead.submitted", "transaction.purchase"] {
            let some: Vec<&Sent> = sent.iter().filter(|s| s.event == event).collect();
            assert_figures(&figures[window]["events"][event], &some, event);
        }
    }
    let meta = &figures["last_24h"]["all"]["platforms"]["meta"];
    assert_eq!(meta["retried"], 1, "{meta:#}");
    let (_, failures) = {
        let res = common::http()
            .get(format!("{}/_ar/admin/failures", worker.base_url))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    let reason = failures["rows"][0]["reason"].as_str().unwrap();
    assert_eq!(meta["top_reasons"], json!([[reason, 1]]), "{meta:#}");
    // Latency: occurrence to acceptance, by the bucket the sandbox's receipt times give.
    let p95 = meta["latency_p95_ms"].as_u64().unwrap();
    let p50 = meta["latency_p50_ms"].as_u64().unwrap();
    assert!(
        p50 >= 2_000,
        "real-time events wait the 2 s merge window: {meta:#}"
    );
    assert!(p50 <= p95 && p95 <= 60_000, "{meta:#}");
    assert!(
        figures["last_24h"]["all"]["match_quality"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}
