//! The requests `make bench` loads the worker with (`src/bin/ar-bench.rs`), and the table rows it
//! prints. Every request is new to the worker: its own event ids and, for the pixel's route, its
//! own client address (shoppers, not one client hammering: the per-client rate limit must not be
//! what is measured).

// Measurements: counts and microseconds become floating-point figures (far below 2^52).
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::load::{Run, Shot};

/// Signs the bench's `/_ar/events` requests.
pub const SECRET: &str = "bench-server-secret";
/// Pixel events per simulated client address (the worker allows 300 a minute).
const EVENTS_PER_CLIENT: u64 = 20;

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("x"))
}

fn granted() -> Value {
    json!({"ad_storage": "granted", "analytics_storage": "granted", "ad_user_data": "granted",
           "ad_personalization": "granted"})
}

/// The `n`-th pixel event of run `tag`: a product view from its own client address.
pub fn collect(tag: &str, n: u64) -> Shot {
    let body = json!({"event": "product.viewed", "event_id": format!("ld-{tag}-{n}"),
        "items": [{"id": format!("sku-{}", n % 50)}],
        "page": {"url": format!("https://shop.example.com/p/{}", n % 50)}});
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    headers.insert(
        "user-agent",
        HeaderValue::from_static("Mozilla/5.0 (ar-bench)"),
    );
    let client = n / EVENTS_PER_CLIENT;
    let ip = format!(
        "2001:db8:{:x}:{:x}::1",
        (client >> 16) & 0xffff,
        client & 0xffff
    );
    headers.insert("cf-connecting-ip", header(&ip));
    Shot {
        path: "/_ar/collect".into(),
        headers,
        body: body.to_string().into_bytes(),
        also_answered: None,
    }
}

/// [`collect`] with a field collect does not know: refused with a 400 after the work every
/// request does (settings, origin, the rate limit, reading and parsing the body) and before any
/// storage, so its latency against [`collect`]'s splits a collect's time in two.
pub fn collect_refused(tag: &str, n: u64) -> Shot {
    let mut shot = collect(tag, n);
    let mut body: Value = serde_json::from_slice(&shot.body).unwrap_or_default();
    body["not_a_field"] = json!(1);
    shot.body = body.to_string().into_bytes();
    shot.also_answered = Some(400);
    shot
}

/// A signed `/_ar/events` request with `k` purchases, the `n`-th of run `tag`.
pub fn events(tag: &str, n: u64, k: usize) -> Shot {
    let events: Vec<Value> = (0..k)
        .map(|i| {
            json!({"event": "transaction.purchase", "order_id": format!("ld-{tag}-{n}-{i}"),
               "value": 42.5, "currency": "EUR", "user": {"email": format!("b{n}x{i}@example.com")},
               "client": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (ar-bench)"},
               "consent": granted(), "page": {"url": "https://shop.example.com/thanks"}})
        })
        .collect();
    signed(&json!({ "events": events }))
}

/// `body` as a signed `/_ar/events` request (README "Server events").
pub fn signed(body: &Value) -> Shot {
    let body = body.to_string().into_bytes();
    let ts = crate::clock::real_now_ms() / 1000;
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-ar-timestamp", header(&ts.to_string()));
    let sig = crate::shop::report::signature(SECRET, ts, &body);
    headers.insert("x-ar-signature", header(&sig));
    Shot {
        path: "/_ar/events".into(),
        headers,
        body,
        also_answered: None,
    }
}

fn median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.retain(|x| x.is_finite());
    xs.sort_by(f64::total_cmp);
    match (xs.first(), xs.last()) {
        (Some(&lo), Some(&hi)) => (xs[xs.len() / 2], lo, hi),
        _ => (f64::NAN, f64::NAN, f64::NAN),
    }
}

/// `median (min–max)` of one figure over rounds.
pub fn spread(xs: Vec<f64>, unit: &str, digits: usize) -> (f64, String) {
    let (m, lo, hi) = median(xs);
    (
        m,
        format!("{m:.digits$} {unit} ({lo:.digits$}–{hi:.digits$})"),
    )
}

/// Table rows comparing `ours` with `floor` (same scenario, same rounds): throughput, p50, p99.
pub fn rows(name: &str, ours: &[Run], floor: &[Run]) -> Vec<String> {
    let fig = |runs: &[Run], f: &dyn Fn(&Run) -> f64| runs.iter().map(f).collect::<Vec<_>>();
    let mut out = Vec::new();
    let (o, os) = spread(fig(ours, &Run::throughput), "req/s", 0);
    let (b, bs) = spread(fig(floor, &Run::throughput), "req/s", 0);
    out.push(format!(
        "| {name}: throughput | {os} | floor: {bs} | {:.2}× the floor |",
        o / b
    ));
    for p in [50.0, 99.0] {
        let (o, os) = spread(fig(ours, &|r: &Run| r.percentile_ms(p)), "ms", 1);
        let (b, bs) = spread(fig(floor, &|r: &Run| r.percentile_ms(p)), "ms", 1);
        out.push(format!(
            "| {name}: p{p:.0} latency | {os} | floor: {bs} | {:.2}× the floor |",
            o / b
        ));
    }
    let failed: u64 = ours.iter().map(|r| r.failed).sum();
    if failed > 0 {
        let why = ours
            .iter()
            .find_map(|r| r.first_failure.clone())
            .unwrap_or_default();
        out.push(format!(
            "| {name}: failed requests | {failed} | — | first: {} |",
            why.replace('|', "/")
        ));
    }
    out
}
