//! Google through the Data Manager API end to end (issue acceptance): the real worker (workerd via
//! `wrangler dev`, local D1) in front of the sandbox shop, the fake Data Manager, GA4, Meta and
//! OAuth endpoints of the sandbox (strict about click ids).
//!
//! A shopper lands with `?gclid=`, signs up and buys: Data Manager gets offline conversions with
//! that gclid and nothing reaches `uploadClickConversions` (google.md Addendum C). Two partial
//! refunds restate the purchase (same `transactionId`, the new totals, data-manager.md §3.1) and
//! are two GA4 `refund`s with the purchase's client id; Meta records them as not applicable. A
//! cancellation restates to zero (Data Manager documents no retraction). A refund whose purchase
//! never reached Google is not sent. The sandbox's token endpoint forgets every token mid-test and
//! no row fails. `/_ar/health` carries the sandbox's `requestStatus` counts for those requests
//! (data-manager.md §4), an unknown gclid among them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ar_sandbox::Sandbox;
use ar_sandbox::clock::real_now_ms;
use ar_sandbox::config::{
    DEFAULT_CUSTOMER_ID, DEFAULT_GA4_API_SECRET, DEFAULT_GOOGLE_CLIENT_ID,
    DEFAULT_GOOGLE_CLIENT_SECRET, DEFAULT_GOOGLE_REFRESH_TOKEN,
};
use ar_sandbox::harness::Worker;
use ar_shared::{EventId, EventName};
use serde_json::{Value, json};

const SECRET: &str = "e2e-google-refunds-secret";
const ADMIN: &str = "e2e-google-refunds-admin-0123456789";
const UA: &str = "Mozilla/5.0 (e2e-google-refunds)";
const GA_CLIENT: &str = "GA1.1.468604437.1764000000";
const GA_SESSION: &str = "GS1.1.1764000123.1.1.1764000200.0.0.0";
const ORDER: &str = "gr-1001";
const DEADLINE: Duration = Duration::from_mins(2);

fn start(sb: &Sandbox) -> Worker {
    let p = sb.platform_url.as_str();
    let token_url = format!("{p}/token");
    Worker::start(&[
        ("ORIGIN_URL", &sb.shop_url),
        ("AR_SERVER_SECRET", SECRET),
        ("ADMIN_TOKEN", ADMIN),
        ("GEO_OVERRIDE", "US"),
        ("RETRY_BASE_SECS", "1"),
        ("DATA_MANAGER_STATUS_AFTER_SECS", "0"),
        ("META_BASE_URL", p),
        ("META_PIXEL_ID", "123"),
        ("META_ACCESS_TOKEN", "sandbox-meta-token"),
        ("GOOGLE_ADS_BASE_URL", p),
        ("DATA_MANAGER_BASE_URL", p),
        ("GOOGLE_OAUTH_URL", &token_url),
        ("GOOGLE_ADS_CUSTOMER_ID", DEFAULT_CUSTOMER_ID),
        ("GOOGLE_CLIENT_ID", DEFAULT_GOOGLE_CLIENT_ID),
        ("GOOGLE_CLIENT_SECRET", DEFAULT_GOOGLE_CLIENT_SECRET),
        ("GOOGLE_REFRESH_TOKEN", DEFAULT_GOOGLE_REFRESH_TOKEN),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=1001:upload_clicks,user.signed_up=1002:upload_clicks",
        ),
        ("GA4_BASE_URL", p),
        ("GA4_MEASUREMENT_ID", "G-E2E"),
        ("GA4_API_SECRET", DEFAULT_GA4_API_SECRET),
    ])
}

/// The value of cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, value) = pair.split_once('=')?;
            (k.trim() == name).then(|| value.trim().to_owned())
        })
}

fn granted() -> Value {
    json!({"ad_storage": "granted", "ad_user_data": "granted",
           "ad_personalization": "granted", "analytics_storage": "granted"})
}

async fn signed(worker: &Worker, events: Value) {
    let (status, json) =
        common::post_signed_events(&worker.base_url, SECRET, &json!({ "events": events })).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["rejected"], 0, "{json}");
}

/// Every Data Manager event the sandbox accepted, in arrival order.
async fn dm_events(sb: &Sandbox) -> Vec<Value> {
    common::platform_requests(sb, "data_manager", None)
        .await
        .into_iter()
        .filter(|r| r["endpoint"] == "events:ingest" && r["verdict"] == "accepted")
        .flat_map(|r| r["body"]["events"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// GA4 events the sandbox received, with the request's client id.
async fn ga4_events(sb: &Sandbox) -> Vec<(String, Value)> {
    common::platform_requests(sb, "ga4", None)
        .await
        .into_iter()
        .filter(|r| r["endpoint"] == "collect")
        .flat_map(|r| {
            let client = r["body"]["client_id"].as_str().unwrap_or("").to_owned();
            r["body"]["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |e| (client.clone(), e))
        })
        .collect()
}

/// Polls `look` (running the cron between looks) until it returns `Some`, or panics.
async fn until<T, F, Fut>(worker: &Worker, what: &str, mut look: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = look().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reached\n{}",
            worker.process.output().join("\n")
        );
        common::cron(&worker.base_url).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn health(worker: &Worker) -> Value {
    common::admin_health(&worker.base_url, ADMIN).await
}

fn row(worker: &Worker, event_id: &EventId, platform: &str) -> Value {
    worker
        .d1(&format!(
            "SELECT status, last_error FROM outbox WHERE event_id = '{}' AND platform = '{platform}'",
            event_id.as_str()
        ))
        .into_iter()
        .next()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)] // one shopper's story, in order
async fn a_gclid_shoppers_signup_purchase_refunds_and_cancellation_reach_google_as_data_manager_adjustments()
 {
    let sb = common::sandbox_with(|c| c.strict_clicks = true).await;
    let worker = start(&sb);
    let http = common::http();

    // The landing: the edge keeps the gclid in our click cookie and starts a session.
    let gclid = format!("sbx-{}-landing", real_now_ms() - 60_000);
    let res = http
        .get(format!("{}/?gclid={gclid}", worker.base_url))
        .header("user-agent", UA)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let click = set_cookie(&res, "_ar_gclk").expect("click cookie set on the landing");
    let sid = set_cookie(&res, "_ar_sid").expect("session cookie set on the landing");
    let cookies = format!("_ar_gclk={click}; _ar_sid={sid}; _ga={GA_CLIENT}; _ga_E2E={GA_SESSION}");

    // The pixel's copy of the purchase and the shop's signed copies of the sign-up and purchase.
    let res = http
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("user-agent", UA)
        .header("cookie", &cookies)
        .json(
            &json!({"event": "transaction.purchase", "order_id": ORDER, "value": 100,
                      "currency": "EUR", "page": {"url": "https://shop.example.com/thank-you"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204, "{}", res.text().await.unwrap());
    signed(
        &worker,
        json!([
            {"event": "user.signed_up", "user_id": "u-77", "session_id": sid, "consent": granted(),
             "user": {"email": "Refund.Buyer@Example.com"}},
            {"event": "transaction.purchase", "order_id": ORDER, "value": 100, "currency": "EUR",
             "session_id": sid, "consent": granted(), "user": {"email": "Refund.Buyer@Example.com"}},
            // Another order whose stated gclid Google cannot decode: processed with an error.
            {"event": "transaction.purchase", "order_id": "gr-bad-click", "value": 5, "currency": "EUR",
             "click_ids": {"gclid": "Cj0-not-a-known-click"}, "consent": granted(),
             "user": {"email": "other@example.com"}}
        ]),
    )
    .await;
    let purchase = until(&worker, "the purchase as an offline conversion", || async {
        dm_events(&sb)
            .await
            .into_iter()
            .find(|e| e["transactionId"] == ORDER)
    })
    .await;
    assert_eq!(
        purchase["adIdentifiers"]["gclid"],
        gclid.as_str(),
        "{purchase:#}"
    );
    assert_eq!(purchase["conversionValue"], 100.0);
    let signup = until(&worker, "the sign-up as an offline conversion", || async {
        dm_events(&sb).await.into_iter().find(|e| {
            e["transactionId"] == EventId::from_business_key(&EventName::SignedUp, "u-77").as_str()
        })
    })
    .await;
    assert_eq!(
        signup["adIdentifiers"]["gclid"],
        gclid.as_str(),
        "{signup:#}"
    );
    let purchase_id = EventId::from_business_key(&EventName::Purchase, ORDER);
    until(&worker, "the purchase delivered to GA4", || async {
        (row(&worker, &purchase_id, "ga4")["status"] == "delivered").then_some(())
    })
    .await;

    // Two partial refunds, the token endpoint forgetting every token between them.
    signed(
        &worker,
        json!([{"event": "transaction.refunded", "order_id": ORDER, "refund_id": "rf-1",
                "value": 10, "currency": "EUR"}]),
    )
    .await;
    until(&worker, "the first restatement", || async {
        dm_events(&sb)
            .await
            .into_iter()
            .find(|e| e["transactionId"] == ORDER && e["conversionValue"] == 90.0)
    })
    .await;
    let (status, _) = common::post_json(
        &format!("{}/_sandbox/revoke-tokens", sb.platform_url),
        &json!({}),
        &[],
    )
    .await;
    assert!(status < 300, "revoke tokens: {status}");
    signed(
        &worker,
        json!([{"event": "transaction.refunded", "order_id": ORDER, "refund_id": "rf-2",
                "value": 25.5, "currency": "EUR", "items": [{"id": "sku-2", "price": 25.5, "quantity": 1}]}]),
    )
    .await;
    let second = until(&worker, "the second restatement", || async {
        dm_events(&sb)
            .await
            .into_iter()
            .find(|e| e["transactionId"] == ORDER && e["conversionValue"] == 64.5)
    })
    .await;
    assert_eq!(
        second["adIdentifiers"]["gclid"],
        gclid.as_str(),
        "the purchase's click: {second:#}"
    );
    assert!(second.get("lastUpdatedTimestamp").is_some(), "{second:#}");

    // GA4: two refunds of the refunded amounts, with the purchase's client id.
    let refunds = until(&worker, "two GA4 refunds", || async {
        let r: Vec<(String, Value)> = ga4_events(&sb)
            .await
            .into_iter()
            .filter(|(_, e)| e["name"] == "refund")
            .collect();
        (r.len() == 2).then_some(r)
    })
    .await;
    for ((client, e), value) in refunds.iter().zip([10.0, 25.5]) {
        assert_eq!(client, "468604437.1764000000", "{e:#}");
        assert_eq!(e["params"]["transaction_id"], ORDER);
        assert_eq!(e["params"]["value"], value, "{e:#}");
    }

    // Meta: recorded as not applicable, never sent.
    let refund_id = EventId::from_business_key(&EventName::Refunded, "rf-1");
    let meta = row(&worker, &refund_id, "meta");
    assert_eq!(meta["status"], "skipped", "{meta}");
    assert!(
        meta["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("no refund or retraction"),
        "{meta}"
    );

    // A cancellation restates the conversion to zero.
    signed(
        &worker,
        json!([{"event": "transaction.cancelled", "order_id": ORDER}]),
    )
    .await;
    until(&worker, "the cancellation restated to zero", || async {
        dm_events(&sb)
            .await
            .into_iter()
            .find(|e| e["transactionId"] == ORDER && e["conversionValue"] == 0.0)
    })
    .await;

    // A refund whose purchase was never reported is never sent as a conversion.
    signed(
        &worker,
        json!([{"event": "transaction.refunded", "order_id": "gr-never", "refund_id": "rf-x",
                "value": 3, "currency": "EUR", "consent": granted(),
                "click_ids": {"gclid": gclid}}]),
    )
    .await;
    let orphan = EventId::from_business_key(&EventName::Refunded, "rf-x");
    let skipped = until(&worker, "the orphan refund skipped", || async {
        let r = row(&worker, &orphan, "data_manager");
        (r["status"] == "skipped").then_some(r)
    })
    .await;
    assert!(
        skipped["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("new conversion"),
        "{skipped}"
    );

    // The browser may not report a refund.
    let res = http
        .post(format!("{}/_ar/collect", worker.base_url))
        .header("content-type", "text/plain")
        .header("cookie", &cookies)
        .json(
            &json!({"event": "transaction.refunded", "order_id": ORDER, "refund_id": "rf-9",
                      "value": 1, "currency": "EUR"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);

    // Google's verdict, asked for by the cron, next to our counts.
    let verdict = until(
        &worker,
        "requestStatus counts on the health page",
        || async {
            let h = health(&worker).await;
            let v = h["google_processing"].clone();
            (v["requests"].as_u64().unwrap_or(0) >= 3 && v["pending"] == 0).then_some(v)
        },
    )
    .await;
    assert_eq!(verdict["errors"]["INVALID_GCLID"], 1, "{verdict:#}");
    // Per destination: the purchase action holds the bad click, the sign-up action none.
    assert_eq!(
        verdict["by_destination"]["1001"]["errors"]["INVALID_GCLID"], 1,
        "{verdict:#}"
    );
    assert_eq!(
        verdict["by_destination"]["1002"]["errors"],
        json!({}),
        "{verdict:#}"
    );
    assert!(
        verdict["summary"]
            .as_str()
            .unwrap_or("")
            .contains("1 × INVALID_GCLID"),
        "{verdict:#}"
    );

    assert!(
        common::platform_requests(&sb, "google_ads", None)
            .await
            .is_empty(),
        "nothing at uploadClickConversions"
    );
    assert!(
        dm_events(&sb)
            .await
            .iter()
            .all(|e| e["transactionId"] != "gr-never"),
        "the orphan refund never reached Data Manager"
    );
    let failed = worker.d1("SELECT platform, last_error FROM outbox WHERE status = 'failed'");
    assert!(
        failed.is_empty(),
        "no row failed, token restart included: {failed:#?}"
    );
}
