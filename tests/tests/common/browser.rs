//! Helpers for the end-to-end tests that drive headless Chromium through the worker: a worker in
//! front of the demo shop with the pixel loading the sandbox's stand-in base tags, navigation that
//! waits for the page it means, and the browser-tag calls the stand-ins recorded.

use std::time::{Duration, Instant};

use ar_sandbox::harness::{ChromeDriver, Worker};
use ar_sandbox::{ReportMode, Sandbox, SandboxConfig};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;

/// The server secret the shop and the worker share in these tests.
pub const SECRET: &str = "e2e-tags-secret";

/// Every standard event on a `WEBPAGE` action with its conversion tag (the sandbox's seeded
/// actions 2001–2007).
pub const ALL_WEBPAGE_ACTIONS: &str = "transaction.purchase=2001:webpage:AW-123/label,\
user.signed_up=2002:webpage:AW-123/signup,lead.submitted=2003:webpage:AW-123/lead,\
cart.added=2004:webpage:AW-123/cart,checkout.started=2005:webpage:AW-123/checkout,\
payment_info.added=2006:webpage:AW-123/payment,product.viewed=2007:webpage:AW-123/view";

/// A sandbox whose shop reports to a worker on `worker_port`.
pub async fn shop_sandbox(worker_port: u16, report: ReportMode) -> Sandbox {
    let mut config = SandboxConfig::default();
    config.shop.worker_url = format!("http://127.0.0.1:{worker_port}");
    config.shop.server_secret = SECRET.into();
    config.shop.report = report;
    Sandbox::start_local(config).await.expect("sandbox")
}

/// The worker in front of the shop, every platform at the sandbox, every standard event on a
/// `WEBPAGE` action, the pixel loading the stand-in base tags; `extra` settings replace or add.
pub fn shop_worker(sb: &Sandbox, port: u16, extra: &[(&str, &str)]) -> Worker {
    let p = sb.platform_url.as_str();
    let token_url = format!("{p}/token");
    let meta_tag = format!("{p}/_sandbox/tags/fbevents.js");
    let gtag = format!("{p}/_sandbox/tags/gtag.js");
    let mut vars: Vec<(&str, &str)> = vec![
        ("ORIGIN_URL", &sb.shop_url),
        ("GEO_OVERRIDE", "US"),
        ("AR_SERVER_SECRET", SECRET),
        ("META_BASE_URL", p),
        ("META_PIXEL_ID", "123456789"),
        ("META_ACCESS_TOKEN", "sandbox-meta-token"),
        ("GA4_BASE_URL", p),
        ("GA4_MEASUREMENT_ID", "G-E2E"),
        ("GA4_API_SECRET", "sandbox-ga4-secret"),
        ("DATA_MANAGER_BASE_URL", p),
        ("DATA_MANAGER_OPERATING_ACCOUNT_ID", "1234567890"),
        ("GOOGLE_OAUTH_URL", &token_url),
        ("GOOGLE_CLIENT_ID", "sandbox-client-id"),
        ("GOOGLE_CLIENT_SECRET", "sandbox-client-secret"),
        ("GOOGLE_REFRESH_TOKEN", "sandbox-refresh-token"),
        ("PIXEL_LOAD_TAGS", "true"),
        ("META_TAG_URL", &meta_tag),
        ("GTAG_URL", &gtag),
        ("GOOGLE_CONVERSION_ACTIONS", ALL_WEBPAGE_ACTIONS),
    ];
    vars.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    vars.extend_from_slice(extra);
    Worker::start_on(port, &vars)
}

/// Worker variables for a visitor the built-in banner asks: in an opt-in region (DE), banner on.
pub const BANNER_VISITOR: [(&str, &str); 2] = [("GEO_OVERRIDE", "DE"), ("CONSENT_BANNER", "on")];

/// A headless Chromium session (the driver must outlive it).
pub async fn browser(driver: &ChromeDriver) -> Client {
    ClientBuilder::new(HttpConnector::new())
        .capabilities(ChromeDriver::capabilities())
        .connect(&driver.url)
        .await
        .expect("connect to chromedriver")
}

/// Clicks `css` once it exists. A click that starts a navigation can race the old page's
/// unloading; an element that went stale is looked up again (bounded).
pub async fn click(client: &Client, css: &str) {
    let mut last = String::new();
    for _ in 0..5 {
        let found = client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(el) => match el.click().await {
                Ok(()) => return,
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
    }
    panic!("click {css}: {last}");
}

/// The event ID a page shows once its `ar('track')` settled: waits for `#ar-event-id[data-state]`
/// on the page that has `marker` (so the previous page never answers), and panics on a pixel
/// error.
pub async fn shown_event_id(client: &Client, marker: &str) -> String {
    let css = format!("body:has({marker}) #ar-event-id[data-state]");
    let mut last = String::new();
    for _ in 0..5 {
        let Ok(el) = client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(&css))
            .await
        else {
            continue;
        };
        let (state, text) = (el.attr("data-state").await, el.text().await);
        match (state, text) {
            (Ok(Some(state)), Ok(text)) => {
                assert_eq!(state, "sent", "pixel error on {marker}: {text}");
                return text;
            }
            (s, t) => last = format!("{s:?} {t:?}"),
        }
    }
    panic!("no event ID on the page with {marker}: {last}");
}

/// Reads JSON from `url`.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The calls the stand-in base tags recorded: `(tag, args, page, seq)` bodies, in arrival order.
pub async fn tag_calls(platform_url: &str) -> Vec<Value> {
    get_json(&format!("{platform_url}/_sandbox/browser-tags"))
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r["body"].clone())
        .collect()
}

/// Polls `check` (and runs the worker's cron, which flushes batched events) until it returns
/// `Some`, for at most `limit`.
pub async fn until<T, F, Fut>(worker: &Worker, limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        super::cron(&worker.base_url).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every Meta server event (from accepted requests) and every Data Manager event.
pub async fn server_events(platform_url: &str, platform: &str, list: &str) -> Vec<Value> {
    get_json(&format!(
        "{platform_url}/_sandbox/requests?platform={platform}"
    ))
    .await
    .as_array()
    .cloned()
    .unwrap_or_default()
    .iter()
    .filter(|r| r["verdict"] == "accepted")
    .flat_map(|r| r["body"][list].as_array().cloned().unwrap_or_default())
    .collect()
}
