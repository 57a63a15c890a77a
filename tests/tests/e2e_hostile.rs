//! The trust boundaries, tried as an attacker would (`ar_shared::trust`, `tokens`, `signature`):
//! one test per attack on the real worker and the fake Meta, each named after the attack and
//! asserting the honest outcome — the shop's purchase reaches Meta exactly once with the shop's
//! name, value and time; the forged one does not. The generated corpus of malformed requests is
//! `e2e_hostile_corpus.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::harness::Worker;
use ar_shared::money::Money;
use ar_shared::signature::{KeyPurpose, derive_key};
use ar_shared::tokens::{OrderClaim, order_token};
use ar_shared::{EventId, EventName};
use serde_json::{Value, json};

const SECRET: &str = "e2e-hostile-secret";
const ADMIN: &str = "e2e-hostile-admin-0123456789";
const UA: &str = "Mozilla/5.0 (e2e-hostile)";

fn start(sb: &Sandbox, extra: &[(&str, &str)]) -> Worker {
    let mut vars = vec![("ADMIN_TOKEN", ADMIN)];
    vars.extend_from_slice(extra);
    common::meta_worker(sb, SECRET, &vars)
}

/// Posts `body` to collect as a browser on the shop's page would; returns status and JSON.
async fn collect(worker: &Worker, body: &Value) -> (u16, Value) {
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("user-agent", UA)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn shop_events(worker: &Worker, events: Value) -> Value {
    let (status, json) =
        common::post_signed_events(&worker.base_url, SECRET, &json!({ "events": events })).await;
    assert_eq!(status, 200, "{json}");
    json
}

/// Meta events the sandbox accepted with this event id.
async fn meta_events(sb: &Sandbox, id: &str) -> Vec<Value> {
    common::platform_requests(sb, "meta", Some(id))
        .await
        .iter()
        .filter(|r| r["verdict"] == "accepted")
        .flat_map(|r| r["body"]["data"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["event_id"] == id)
        .collect()
}

/// Waits until the Meta row of `id` is final (delivered, failed, skipped or held; triggering the
/// cron while it waits, for batched events), then returns Meta's accepted events for `id`. An
/// event stored without a Meta row was withheld at planning (its rows are written with it, in one
/// batch), which is final too. An event never stored (refused) counts as final once the queue had
/// time to store it: three times its batch timeout (`max_batch_timeout = 5` in `wrangler.toml`).
async fn settled_meta_events(sb: &Sandbox, worker: &Worker, id: &str) -> Vec<Value> {
    let start = Instant::now();
    let deadline = start + Duration::from_mins(1);
    loop {
        let rows = worker.d1(&format!(
            "select (select status from outbox where platform = 'meta' and event_id = '{id}') \
               as status, exists (select 1 from events where event_id = '{id}') as stored"
        ));
        let status = rows
            .first()
            .and_then(|r| r["status"].as_str())
            .map(str::to_owned);
        let stored = rows.first().is_some_and(|r| r["stored"] == 1);
        match status.as_deref() {
            Some("delivered" | "failed" | "skipped" | "held") => {
                let why = worker.d1(&format!(
                    "select status, last_error from outbox where event_id = '{id}'"
                ));
                println!("{id}: {why:?}");
                return meta_events(sb, id).await;
            }
            None if stored || start.elapsed() > Duration::from_secs(15) => {
                return meta_events(sb, id).await;
            }
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the Meta row of {id} is still {status:?}"
        );
        common::cron(&worker.base_url).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn purchase_id(order: &str) -> EventId {
    EventId::from_business_key(&EventName::Purchase, order)
}

/// The shopper's consent as the shop's backend states it (a server event without a session has
/// no region to take a default from, DESIGN §4).
fn granted() -> Value {
    json!({"ad_storage": "granted", "analytics_storage": "granted", "ad_user_data": "granted",
           "ad_personalization": "granted"})
}

fn shop_purchase(order: &str, value: f64) -> Value {
    json!({"event": "transaction.purchase", "order_id": order, "value": value, "currency": "EUR",
           "client": {"ip": "203.0.113.7", "user_agent": UA}, "consent": granted(),
           "page": {"url": "https://shop.example.com/thank-you"}})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_view_posted_under_a_purchases_id_cannot_stop_the_shops_purchase() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let id = purchase_id("H-1002");
    let (status, json) = collect(
        &worker,
        &json!({"event": "product.viewed", "event_id": id.as_str(), "items": [{"id": "sku-1"}],
                "page": {"url": "https://shop.example.com/p/1"}}),
    )
    .await;
    assert_eq!(status, 204, "{json}");
    shop_events(&worker, json!([shop_purchase("H-1002", 59.9)])).await;
    common::cron(&worker.base_url).await;
    let events = settled_meta_events(&sb, &worker, id.as_str()).await;
    let purchases: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_name"] == "Purchase")
        .collect();
    assert_eq!(purchases.len(), 1, "{events:#?}");
    assert_eq!(purchases[0]["custom_data"]["value"], 59.9);
    // Now that the shop's purchase holds the ID, a view under it is refused (README "Trust").
    let (status, json) = collect(
        &worker,
        &json!({"event": "product.viewed", "event_id": id.as_str(), "items": [{"id": "sku-1"}]}),
    )
    .await;
    assert_eq!(status, 409, "{json}");
    assert_eq!(json["error"], "event_id_conflict", "{json}");
    // A purchase stated under another order's ID is refused outright.
    let (status, json) = collect(
        &worker,
        &json!({"event": "transaction.purchase", "order_id": "H-9", "event_id": id.as_str(),
                "value": 1, "currency": "EUR"}),
    )
    .await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["field"], "event_id", "{json}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_purchase_under_a_payments_id_is_refused_and_never_sent() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let payment = EventId::from_business_key(&EventName::PaymentInfoAdded, "C-77");
    let (status, json) = collect(
        &worker,
        &json!({"event": "transaction.purchase", "order_id": "C-77", "event_id": payment.as_str(),
                "value": 1e12, "currency": "EUR"}),
    )
    .await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["field"], "event_id", "{json}");
    shop_events(
        &worker,
        json!([{"event": "payment_info.added", "checkout_id": "C-77", "value": 20, "currency": "EUR",
                "client": {"ip": "203.0.113.7", "user_agent": UA}, "consent": granted(),
                "page": {"url": "https://shop.example.com/payment"}}]),
    )
    .await;
    let events = settled_meta_events(&sb, &worker, payment.as_str()).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["event_name"], "AddPaymentInfo");
    assert_eq!(events[0]["custom_data"]["value"], 20.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_copy_dated_2015_cannot_age_the_shops_purchase() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let id = purchase_id("H-2015");
    let (status, _) = collect(
        &worker,
        &json!({"event": "transaction.purchase", "order_id": "H-2015", "value": 1, "currency": "EUR",
                "occurred_at": 1_420_070_400_000_u64}),
    )
    .await;
    assert_eq!(status, 204);
    let before = common::now_s();
    shop_events(&worker, json!([shop_purchase("H-2015", 80.0)])).await;
    let events = settled_meta_events(&sb, &worker, id.as_str()).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let time = events[0]["event_time"].as_i64().unwrap();
    assert!(time >= before - 5, "the shop's time, not 2015: {time}");
    assert_eq!(events[0]["custom_data"]["value"], 80.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_orders_token_cannot_vouch_for_another_purchase() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let key = derive_key(SECRET.as_bytes(), KeyPurpose::OrderToken);
    let cheap_id = purchase_id("T-1");
    let cheap = Money::new(1.0, "EUR");
    let token = order_token(
        &key,
        &OrderClaim {
            event: &EventName::Purchase,
            event_id: &cheap_id,
            order_id: "T-1",
            money: &cheap,
        },
    );
    let page = json!({"url": "https://shop.example.com/thank-you"});
    for (order, value) in [("T-2", 1.0), ("T-3", 1_000_000.0), ("T-1", 1_000_000.0)] {
        let (status, json) = collect(
            &worker,
            &json!({"event": "transaction.purchase", "order_id": order, "value": value,
                    "currency": "EUR", "order_token": token, "page": page}),
        )
        .await;
        assert_eq!(status, 204, "{json}");
    }
    let (status, _) = collect(
        &worker,
        &json!({"event": "transaction.purchase", "order_id": "T-1", "value": 1, "currency": "EUR",
                "order_token": token, "page": page}),
    )
    .await;
    assert_eq!(status, 204);
    for order in ["T-2", "T-3"] {
        let events = settled_meta_events(&sb, &worker, purchase_id(order).as_str()).await;
        assert!(
            events.is_empty(),
            "{order} went out on another order's token: {events:#?}"
        );
    }
    // The token's own order at the token's own amount is believed, and its signed amount beats
    // the forged 1,000,000 that arrived first.
    let events = settled_meta_events(&sb, &worker, cheap_id.as_str()).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["custom_data"]["value"], 1.0);
}

/// Posts `body` to collect with `cookies`; returns the status and the `_ar_sid` the answer set.
async fn collect_with(worker: &Worker, cookies: &str, body: &Value) -> (u16, Option<String>) {
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("user-agent", UA)
        .header("cookie", cookies)
        .json(body)
        .send()
        .await
        .unwrap();
    let sid = common::session_set(&res);
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert!(
        status == 204 || status == 200,
        "{status}: {text}\n{}",
        worker.process.output().join("\n")
    );
    (status, sid)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_from_another_visit_can_neither_claim_nor_suppress_the_shops_purchase() {
    // trust::same_visit: the shop's copy names the shopper's session, so a browser copy from any
    // other session adds nothing to it, before or after the shop's copy or the shopper's own:
    // not its click ID (claiming the sale for another ad) and not its consent denial
    // (suppressing the sale).
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let shopper_fbc = "fb.1.1764000000000.IwAR-shopper";
    let (status, sid) = collect_with(
        &worker,
        &format!("_ar_consent=1.gggg; _fbc={shopper_fbc}"),
        &json!({"event": "product.viewed", "items": [{"id": "sku-1"}]}),
    )
    .await;
    assert_eq!(status, 204);
    let sid = sid.expect("the shopper's session");
    // The session is stored in the background: the shop's copy matches it once it is.
    let deadline = Instant::now() + Duration::from_secs(20);
    while worker
        .d1(&format!(
            "select 1 from sessions where session_id = '{sid}'"
        ))
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the session {sid} was never stored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let forged = |order: &str| json!({"event": "transaction.purchase", "order_id": order, "value": 1, "currency": "EUR"});
    // Before the shop's copies: one with the attacker's click, one with consent denied.
    let (status, _) = collect_with(
        &worker,
        "_ar_consent=1.gggg; _fbc=fb.1.1764000000000.IwAR-attacker",
        &forged("H-CLAIM"),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = collect_with(&worker, "_ar_consent=1.dddd", &forged("H-DENY")).await;
    assert_eq!(status, 204);
    // Between the shopper's own copy and the shop's: a denial from another session.
    let own = format!("_ar_sid={sid}; _ar_consent=1.gggg");
    let (status, _) = collect_with(&worker, &own, &forged("H-BETWEEN")).await;
    assert_eq!(status, 204);
    let (status, _) = collect_with(&worker, "_ar_consent=1.dddd", &forged("H-BETWEEN")).await;
    assert_eq!(status, 204);
    let mut purchases = Vec::new();
    for order in ["H-CLAIM", "H-DENY", "H-AFTER", "H-BETWEEN"] {
        let mut p = shop_purchase(order, 59.9);
        p["session_id"] = json!(sid);
        purchases.push(p);
    }
    shop_events(&worker, Value::Array(purchases)).await;
    // After it: a denial, at once (inside the merge window), answered as any other copy.
    let (status, _) = collect_with(&worker, "_ar_consent=1.dddd", &forged("H-AFTER")).await;
    assert_eq!(status, 204);
    // The shopper's own copy still joins.
    let (status, _) = collect_with(
        &worker,
        &format!("_ar_sid={sid}; _ar_consent=1.gggg"),
        &forged("H-AFTER"),
    )
    .await;
    assert_eq!(status, 204);
    for order in ["H-CLAIM", "H-DENY", "H-AFTER", "H-BETWEEN"] {
        let events = settled_meta_events(&sb, &worker, purchase_id(order).as_str()).await;
        assert_eq!(events.len(), 1, "{order}: {events:#?}");
        assert_eq!(events[0]["custom_data"]["value"], 59.9, "{order}");
        assert_eq!(
            events[0]["user_data"]["fbc"], shopper_fbc,
            "{order}: the shopper's click"
        );
    }
    // Only the shopper's own copy counts as the pixel's.
    for (order, pixel) in [
        ("H-CLAIM", 0),
        ("H-DENY", 0),
        ("H-AFTER", 1),
        ("H-BETWEEN", 1),
    ] {
        let rows = worker.d1(&format!(
            "select from_pixel from events where event_id = '{}'",
            purchase_id(order).as_str()
        ));
        assert_eq!(
            rows.first().map(|r| r["from_pixel"].clone()),
            Some(json!(pixel)),
            "{order}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn five_thousand_signature_candidates_are_refused_in_well_under_a_second() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let body = vec![b' '; 1024 * 1024 - 16];
    let candidates = vec![format!("v1={}", "0".repeat(64)); 5000].join(",");
    let started = Instant::now();
    let res = common::http()
        .post(format!("{}/_ar/events", worker.base_url))
        .header("x-ar-timestamp", common::now_s().to_string())
        .header("x-ar-signature", candidates)
        .body(body)
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(res.status().as_u16(), 401);
    let json: Value = res.json().await.unwrap();
    assert_eq!(json["problem"], "too_many_signatures", "{json}");
    println!(
        "5,000 candidates, 1 MiB body: refused in {} ms",
        elapsed.as_millis()
    );
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_only_custom_purchase_is_held_not_sent() {
    let sb = common::sandbox().await;
    let mapping = r#"{"events":{"deal.closed":{"meta":"Purchase","ga4":"deal_closed","path":"real_time","key":"order_id"}}}"#;
    let worker = start(&sb, &[("EVENT_MAPPING", mapping)]);
    let (status, json) = collect(
        &worker,
        &json!({"event": "deal.closed", "order_id": "D-1", "value": 5000, "currency": "EUR",
                "page": {"url": "https://shop.example.com/deal"}}),
    )
    .await;
    assert_eq!(status, 204, "{json}");
    let id = EventId::from_business_key(&"deal.closed".parse().unwrap(), "D-1");
    let events = settled_meta_events(&sb, &worker, id.as_str()).await;
    assert!(
        events.is_empty(),
        "a browser-only Purchase went out: {events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_cannot_state_its_ip_plant_an_fbc_or_borrow_a_session() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    for (body, field) in [
        (
            json!({"event": "product.viewed", "client": {"ip": "198.51.100.1"}}),
            "client.ip",
        ),
        (
            json!({"event": "product.viewed", "click_ids": {"fbc": "fb.1.1.Planted"}}),
            "click_ids.fbc",
        ),
        (
            json!({"event": "product.viewed", "session_id": "0123456789abcdef0123"}),
            "session_id",
        ),
    ] {
        let (status, json) = collect(&worker, &body).await;
        assert_eq!(status, 400, "{body}: {json}");
        assert_eq!(json["field"], field, "{json}");
    }
    // A session cookie the worker did not mint is no session: a new one is minted, HttpOnly.
    let res = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("cookie", "_ar_sid=0123456789abcdef0123456789abcdef")
        .body(r#"{"event":"product.viewed"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let set: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let sid = set
        .iter()
        .find(|c| c.starts_with("_ar_sid="))
        .expect("a new session");
    assert!(
        !sid.starts_with("_ar_sid=0123456789abcdef0123456789abcdef;"),
        "{sid}"
    );
    assert!(sid.contains("; HttpOnly"), "{sid}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_token_is_never_guessed_or_kept_in_a_url() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let health = format!("{}/_ar/health", worker.base_url);
    for _ in 0..10 {
        let res = common::http()
            .get(&health)
            .header("cf-connecting-ip", "198.51.100.50")
            .bearer_auth("a-wrong-guess-0123456789abc")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401);
    }
    let res = common::http()
        .get(&health)
        .header("cf-connecting-ip", "198.51.100.50")
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        429,
        "throttled, even with the right token"
    );
    assert!(res.headers().get("retry-after").is_some());
    let other = common::http()
        .get(&health)
        .header("cf-connecting-ip", "198.51.100.51")
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status().as_u16(),
        200,
        "other clients are not affected"
    );
    let short = Worker::start(&[("ADMIN_TOKEN", "short")]);
    let res = common::http()
        .get(format!("{}/_ar/health", short.base_url))
        .bearer_auth("short")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        503,
        "a short token turns the admin off"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_pii_in_a_page_url_never_reaches_d1_or_meta() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let mut event = shop_purchase("P-1", 10.0);
    event["page"]["url"] =
        json!("https://shop.example.com/thank-you?email=jane.pii@example.com&fbclid=IwAR-ok");
    event["page"]["referrer"] = json!("https://mail.example.com/inbox/jane.pii@example.com");
    shop_events(&worker, json!([event])).await;
    let events = settled_meta_events(&sb, &worker, purchase_id("P-1").as_str()).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["event_source_url"],
        "https://shop.example.com/thank-you?fbclid=IwAR-ok"
    );
    let stored = serde_json::to_string(&worker.d1("select record from events")).unwrap();
    assert!(!stored.contains("jane.pii"), "{stored}");
    let sent = serde_json::to_string(&common::platform_requests(&sb, "meta", None).await).unwrap();
    assert!(!sent.contains("jane.pii"), "{sent}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_signed_request_is_refused_and_nothing_doubles() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let body = json!({"events": [{"event": "product.viewed", "items": [{"id": "sku-9"}],
        "client": {"ip": "203.0.113.7", "user_agent": UA}, "consent": granted(),
        "page": {"url": "https://shop.example.com/p/9"}}]})
    .to_string();
    let ts = common::now_s().to_string();
    let sig =
        ar_shared::signature::sign_request(SECRET.as_bytes(), ts.parse().unwrap(), body.as_bytes());
    let mut answers = Vec::new();
    for _ in 0..2 {
        let res = common::http()
            .post(format!("{}/_ar/events", worker.base_url))
            .header("x-ar-timestamp", &ts)
            .header("x-ar-signature", &sig)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        answers.push((res.status().as_u16(), res.json::<Value>().await.unwrap()));
    }
    assert_eq!(answers[0].0, 200, "{:?}", answers[0]);
    assert_eq!(answers[1].0, 401, "{:?}", answers[1]);
    assert_eq!(answers[1].1["problem"], "replayed");
    let id = answers[0].1["results"][0]["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    common::cron(&worker.base_url).await;
    let events = settled_meta_events(&sb, &worker, &id).await;
    assert_eq!(events.len(), 1, "{events:#?}");
}

/// A shop origin for the proxy tests: reports orders by the edge header, signed with `secret`.
async fn shop_for(worker_port: u16, secret: &str) -> Sandbox {
    let mut config = ar_sandbox::SandboxConfig::default();
    config.shop.worker_url = format!("http://127.0.0.1:{worker_port}");
    config.shop.server_secret = secret.into();
    config.shop.report = ar_sandbox::ReportMode::Edge;
    Sandbox::start_local(config).await.expect("sandbox")
}

fn proxy_worker(port: u16, shop: &Sandbox, platforms: &Sandbox) -> Worker {
    Worker::start_on(
        port,
        &[
            ("ORIGIN_URL", &shop.shop_url),
            ("META_BASE_URL", &platforms.platform_url),
            ("META_PIXEL_ID", "123"),
            ("META_ACCESS_TOKEN", "sandbox-meta-token"),
            ("AR_SERVER_SECRET", SECRET),
            ("ADMIN_TOKEN", ADMIN),
            ("GEO_OVERRIDE", "US"),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_origin_header_without_the_shops_signature_is_not_a_shop_copy() {
    let platforms = common::sandbox().await;
    let port = ar_sandbox::harness::free_port();
    // The "shop" signs with another secret: its x-ar-event is not the shop's.
    let shop = shop_for(port, "not-the-shops-secret").await;
    let worker = proxy_worker(port, &shop, &platforms);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = &worker.base_url;
    let cart = client
        .post(format!("{base}/cart/add"))
        .form(&[("sku", "sku-1"), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    let shop_cookie = cart
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("shop_session="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let order = client
        .post(format!("{base}/payment"))
        .header("cookie", &shop_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(order.status().as_u16(), 303);
    assert!(order.headers().get("x-ar-event").is_none());
    let line = worker
        .process
        .wait_for_line("x-ar-event", Duration::from_mins(1));
    assert!(
        line.contains("ignored") && line.contains("signed"),
        "{line}"
    );
    let stored = worker.d1("select count(*) as n from events");
    assert_eq!(stored[0]["n"], 0, "an unsigned edge header was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_x_ar_header_from_a_browser_reaches_the_origin_and_cached_pages_get_no_cookies() {
    let platforms = common::sandbox().await;
    let port = ar_sandbox::harness::free_port();
    let shop = shop_for(port, SECRET).await;
    let worker = proxy_worker(port, &shop, &platforms);
    let echo: Value = common::http()
        .get(format!("{}/_shop/echo", worker.base_url))
        .header("x-ar-event", "eyJldmVudCI6InRyYW5zYWN0aW9uLnB1cmNoYXNlIn0")
        .header("x-ar-timestamp", "1")
        .header("X-AR-Anything", "1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&String> = echo["headers"].as_object().unwrap().keys().collect();
    assert!(names.iter().all(|n| !n.starts_with("x-ar-")), "{names:?}");
    let cached = common::http()
        .get(format!(
            "{}/_shop/cached?fbclid=IwAR-cached_1",
            worker.base_url
        ))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status().as_u16(), 200);
    let ours: Vec<&str> = cached
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with("_fb") || c.starts_with("_ar"))
        .collect();
    assert!(
        ours.is_empty(),
        "cookies on a publicly cacheable page: {ours:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ipv6_client_rotating_within_its_64_shares_one_limit() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let mut allowed = 0u32;
    let limited = loop {
        // A new address of the same /64 for every request.
        let ip = format!("2001:db8:7:7:{:x}::1", allowed + 1);
        let res = common::http()
            .post(format!("{}/_ar/collect", worker.base_url))
            .header("content-type", "application/json")
            .header("cf-connecting-ip", ip)
            .body("{")
            .send()
            .await
            .unwrap();
        if res.status().as_u16() == 429 {
            break true;
        }
        allowed += 1;
        if allowed > 600 {
            break false;
        }
    };
    assert!(limited, "no limit after {allowed} addresses of one /64");
    assert!(allowed >= 300, "limited after {allowed}");
    let other = common::http()
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "application/json")
        .header("cf-connecting-ip", "2001:db8:7:8::1")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 400, "another /64 is not limited");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batched_server_event_too_large_for_a_queue_message_is_still_stored() {
    let sb = common::sandbox().await;
    let worker = start(&sb, &[]);
    let items: Vec<Value> = (0..200)
        .map(|i| json!({"id": format!("sku-{i}-{}", "x".repeat(500)), "price": 1.5, "quantity": 1}))
        .collect();
    let event = json!({"event": "checkout.started", "checkout_id": "big-1", "items": items,
        "value": 300, "currency": "EUR", "client": {"ip": "203.0.113.7", "user_agent": UA},
        "page": {"url": "https://shop.example.com/checkout"}});
    assert!(event.to_string().len() > 100 * 1024);
    let json = shop_events(&worker, json!([event])).await;
    assert_eq!(json["accepted"], 1, "{json}");
    let id = json["results"][0]["event_id"].as_str().unwrap().to_owned();
    let stored = worker.d1(&format!(
        "select event_id from events where event_id = '{id}'"
    ));
    assert_eq!(
        stored.len(),
        1,
        "stored at once, not lost to the queue's message limit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crawler_without_cookies_cannot_fill_d1_with_sessions() {
    let platforms = common::sandbox().await;
    let port = ar_sandbox::harness::free_port();
    let shop = shop_for(port, SECRET).await;
    let worker = proxy_worker(port, &shop, &platforms);
    // The budget is 30 new sessions per client in each one-minute window (`rate_limit`): the
    // requests may straddle a window boundary, so the bound is 30 per window they touched, and
    // 100 requests exceed it even across three windows.
    let window = || u64::try_from(ar_sandbox::clock::real_now_ms() / 60_000).unwrap_or(0);
    let first_window = window();
    for _ in 0..100 {
        let res = common::http()
            .get(format!("{}/", worker.base_url))
            .header("accept", "text/html")
            .header("cf-connecting-ip", "198.51.100.77")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
    let windows = window() - first_window + 1;
    // Session writes happen after the response: wait until they have settled (the count stops
    // growing) rather than for a fixed time.
    let count = || {
        worker.d1("select count(*) as n from sessions")[0]["n"]
            .as_u64()
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut last = count();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = count();
        if (now == last && now > 0) || Instant::now() > deadline {
            last = now;
            break;
        }
        last = now;
    }
    assert!(last > 0, "sessions are stored");
    assert!(
        last <= 30 * windows,
        "{last} sessions from one cookie-less client in {windows} one-minute window(s)"
    );
}
