//! The demo shop: pages embed the pixel the merchant's way, the flow product → cart → checkout →
//! payment works, and the backend reports the order with a correctly signed `POST /_ar/events`
//! (checked here by an independent receiver) or an `x-ar-event` header (edge mode).

// Helpers outside #[test] fns fail loudly too: that is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use ar_sandbox::{ReportMode, Sandbox};
use axum::body::Bytes;
use axum::http::HeaderMap;
use base64::Engine as _;
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::mpsc;

/// A stand-in worker: receives `/_ar/events` and forwards headers + raw body to the test.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/_ar/events",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn shop(worker_url: &str, report: ReportMode) -> Sandbox {
    let worker_url = worker_url.to_owned();
    sandbox_with(move |c| {
        c.shop.worker_url = worker_url;
        c.shop.report = report;
        c.shop.server_secret = "test-secret".into();
    })
    .await
}

/// A tiny cookie-keeping browser.
struct Shopper {
    base: String,
    cookies: Vec<String>,
}

impl Shopper {
    fn cookie_header(&self) -> String {
        self.cookies.join("; ")
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap().to_owned();
            let name = pair.split('=').next().unwrap().to_owned();
            self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            self.cookies.push(pair);
        }
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let res = http()
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let res = http()
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }
}

/// The product's snippet (`ar_shared::browser::snippet`), which the shop must embed verbatim.
const SNIPPET: &str = ar_shared::browser::snippet::SNIPPET;

/// Walks product → cart → checkout → payment; returns the order-placing response.
async fn buy_three_mugs(s: &mut Shopper) -> reqwest::Response {
    let (status, home) = s.get("/").await;
    assert_eq!(status, 200);
    assert!(
        home.contains(SNIPPET),
        "the merchant snippet is embedded verbatim"
    );
    let (_, product) = s.get("/products/sku-1").await;
    assert!(
        product.contains("ar(\"track\", \"product.viewed\", {"),
        "{product}"
    );
    let res = s
        .post("/cart/add", &[("sku", "sku-1"), ("quantity", "3")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, cart) = s.get("/cart?added=sku-1").await;
    assert!(
        cart.contains("\"cart.added\"") && cart.contains("\"cart_id\":\"cart-"),
        "{cart}"
    );
    let (_, checkout) = s.get("/checkout").await;
    assert!(checkout.contains("\"checkout_id\":\"chk-"));
    let identity = [
        ("email", "Shopper@Example.com"),
        ("phone", "+49 170 1234567"),
        ("first_name", "Erika"),
        ("last_name", "Mustermann"),
        ("city", "Berlin"),
        ("zip", "10115"),
        ("country", "DE"),
    ];
    assert_eq!(s.post("/checkout", &identity).await.status().as_u16(), 303);
    let (_, payment) = s.get("/payment").await;
    assert!(
        payment.contains("\"payment_info.added\"") && payment.contains("\"checkout_id\":\"chk-")
    );
    let res = s.post("/payment", &[("card", "4242")]).await;
    assert_eq!(res.status().as_u16(), 303);
    res
}

fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={}", hex.concat())
}

#[tokio::test]
async fn checkout_flow_posts_a_correctly_signed_purchase_to_the_worker() {
    let (worker, mut events) = receiver().await;
    let sb = shop(&worker, ReportMode::Api).await;
    let mut shopper = Shopper {
        base: sb.shop_url.clone(),
        cookies: vec!["_ar_sid=sid-123".into()],
    };
    let placed = buy_three_mugs(&mut shopper).await;
    let location = placed.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        placed.headers().get("x-ar-event").is_none(),
        "api mode sets no edge header"
    );
    let order_id = location
        .strip_prefix("/thank-you?order=")
        .unwrap()
        .to_owned();

    let (headers, body) = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(headers["content-type"], "application/json");
    let timestamp = headers["x-ar-timestamp"].to_str().unwrap();
    let age = now_s() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age));
    assert_eq!(
        headers["x-ar-signature"].to_str().unwrap(),
        expected_signature("test-secret", timestamp, &body)
    );

    let json: Value = serde_json::from_slice(&body).unwrap();
    let event = &json["events"][0];
    assert_eq!(json["events"].as_array().unwrap().len(), 1);
    assert_eq!(event["event"], "transaction.purchase");
    assert_eq!(event["order_id"], order_id.as_str());
    assert_eq!(event["value"], 59.85);
    assert_eq!(event["currency"], "EUR");
    assert_eq!(
        event["items"][0],
        serde_json::json!({"id": "sku-1", "name": "Mug", "price": 19.95, "quantity": 3})
    );
    assert_eq!(event["user"]["email"], "Shopper@Example.com");
    assert_eq!(event["user"]["country"], "DE");
    assert!(
        event["user"]["external_id"]
            .as_str()
            .unwrap()
            .starts_with("cust-")
    );
    assert_eq!(event["session_id"], "sid-123");
    assert!(event["page"]["url"].as_str().unwrap().ends_with("/payment"));
    assert!(event["occurred_at"].as_i64().unwrap() > 1_700_000_000_000);

    let (status, thanks) = shopper.get(&location).await;
    assert_eq!(status, 200);
    assert!(thanks.contains("ar(\"track\", \"transaction.purchase\", {"));
    assert!(thanks.contains(&format!("\"order_id\":\"{order_id}\"")));
}

#[tokio::test]
async fn edge_mode_puts_the_event_in_an_x_ar_event_header_and_posts_nothing() {
    let (worker, mut events) = receiver().await;
    let sb = shop(&worker, ReportMode::Edge).await;
    let mut shopper = Shopper {
        base: sb.shop_url.clone(),
        cookies: Vec::new(),
    };
    let placed = buy_three_mugs(&mut shopper).await;
    let header = placed.headers()["x-ar-event"].to_str().unwrap();
    // `<payload>;t=<unix s>;v1=<hex MAC>`: the payload is unpadded base64url.
    let (payload, signature) = header.split_once(';').unwrap();
    assert!(!payload.contains('='));
    assert!(
        signature.starts_with("t=") && signature.contains(";v1="),
        "{header}"
    );
    let event: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(event["event"], "transaction.purchase");
    assert_eq!(event["value"], 59.85);
    assert!(
        event.get("session_id").is_none(),
        "no _ar_sid cookie, no session_id"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), events.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn shop_keeps_working_when_the_worker_does_not_answer() {
    let sb = shop("http://127.0.0.1:9", ReportMode::Both).await;
    let mut shopper = Shopper {
        base: sb.shop_url.clone(),
        cookies: Vec::new(),
    };
    let placed = buy_three_mugs(&mut shopper).await;
    assert!(placed.headers().get("x-ar-event").is_some());
    let location = placed.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(shopper.get(&location).await.0, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, reports) = shopper.get("/_shop/reports").await;
    let reports: Value = serde_json::from_str(&reports).unwrap();
    assert!(
        reports
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["via"] == "api" && r["error"].is_string()),
        "{reports}"
    );
}

#[tokio::test]
async fn signup_and_lead_forms_report_their_events_with_business_keys() {
    let (worker, mut events) = receiver().await;
    let sb = shop(&worker, ReportMode::Api).await;
    let mut shopper = Shopper {
        base: sb.shop_url.clone(),
        cookies: Vec::new(),
    };
    let res = shopper
        .post(
            "/signup",
            &[("email", "new@example.com"), ("first_name", "Max")],
        )
        .await;
    let welcome = res.headers()["location"].to_str().unwrap().to_owned();
    let (_, body) = events.recv().await.unwrap();
    let event: Value = serde_json::from_slice::<Value>(&body).unwrap()["events"][0].clone();
    assert_eq!(event["event"], "user.signed_up");
    let user_id = event["user_id"].as_str().unwrap().to_owned();
    assert_eq!(welcome, format!("/welcome?user={user_id}"));
    assert!(shopper.get(&welcome).await.1.contains(&format!(
        "\"user.signed_up\", {{\"user_id\":\"{user_id}\"}}"
    )));

    let res = shopper
        .post(
            "/lead",
            &[("email", "lead@example.com"), ("phone", "+49 30 123456")],
        )
        .await;
    let thanks = res.headers()["location"].to_str().unwrap().to_owned();
    let (_, body) = events.recv().await.unwrap();
    let event: Value = serde_json::from_slice::<Value>(&body).unwrap()["events"][0].clone();
    assert_eq!(event["event"], "lead.submitted");
    assert_eq!(event["user"]["phone"], "+49 30 123456");
    let lead_id = event["lead_id"].as_str().unwrap();
    assert!(shopper.get(&thanks).await.1.contains(&format!(
        "\"lead.submitted\", {{\"lead_id\":\"{lead_id}\"}}"
    )));
}

#[tokio::test]
async fn pages_carry_only_the_snippet_and_one_ar_call() {
    // The acceptance of issue 11: the shop fires no tag itself; the pixel does.
    let sb = sandbox().await;
    let mut shopper = Shopper {
        base: sb.shop_url.clone(),
        cookies: Vec::new(),
    };
    let (_, html) = shopper.get("/products/sku-2").await;
    assert!(html.contains(SNIPPET));
    let own = html.replace(SNIPPET, "");
    for own_tag in ["fbq", "gtag", "dataLayer", "eventID"] {
        assert!(!own.contains(own_tag), "the page mentions {own_tag}: {own}");
    }
    assert_eq!(
        html.matches("<script").count(),
        3,
        "snippet, pixel, one call"
    );
    assert_eq!(html.matches("ar(\"track\"").count(), 1);
}

#[tokio::test]
async fn the_stand_in_base_tags_are_served_and_other_tags_are_blocked() {
    let sb = sandbox().await;
    for (name, marker) in [
        ("fbevents.js", "callMethod"),
        ("gtag.js", "google_tag_manager"),
    ] {
        let res = reqwest::get(format!("{}/_sandbox/tags/{name}", sb.platform_url))
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert!(res.text().await.unwrap().contains(marker), "{name}");
    }
    let blocked = reqwest::get(format!("{}/_sandbox/tags/blocked.js", sb.platform_url))
        .await
        .unwrap();
    assert_eq!(blocked.status().as_u16(), 404);
}
