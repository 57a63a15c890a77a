//! Helpers shared by the `sandbox_*` tests: an in-process sandbox on free ports, valid payloads
//! for each fake platform, and small HTTP wrappers.

// Each test file uses some of these; test helpers fail loudly (unwrap/expect) by design.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod connect;
pub mod console_connect;

use ar_sandbox::checks::sha256_hex;
use ar_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

/// A fresh sandbox with the default (dev) credentials.
pub async fn sandbox() -> Sandbox {
    Sandbox::start_local(SandboxConfig::default())
        .await
        .expect("start sandbox")
}

/// A sandbox with a modified config.
pub async fn sandbox_with(change: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
    let mut config = SandboxConfig::default();
    change(&mut config);
    Sandbox::start_local(config).await.expect("start sandbox")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `_ar_sid` session cookie an answer set, if any.
pub fn session_set(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.strip_prefix("_ar_sid="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .next()
}

/// Posts JSON; returns status and JSON body (`Null` when empty).
pub async fn post_json(url: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = http().post(url).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("send");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn get_json(url: &str) -> Value {
    http()
        .get(url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

pub fn now_s() -> i64 {
    ar_sandbox::clock::real_now_ms() / 1_000
}

/// A valid Meta website Purchase event.
pub fn meta_event(event_id: &str) -> Value {
    json!({
        "event_name": "Purchase",
        "event_time": now_s() - 60,
        "event_id": event_id,
        "action_source": "website",
        "event_source_url": "https://shop.example.com/thank-you?order=1001",
        "user_data": {
            "em": [sha256_hex("john_smith@gmail.com")],
            "ph": [sha256_hex("16505551212")],
            "client_ip_address": "2001:db8::1",
            "client_user_agent": "Mozilla/5.0 test",
            "fbc": "fb.1.1554763741205.IwZXh0bgNhZW0CMTAAAR-uK_5w",
            "fbp": "fb.1.1596403881668.1116446470",
            "external_id": [sha256_hex("cust-7")]
        },
        "custom_data": { "value": 59.9, "currency": "EUR", "content_ids": ["sku-1"], "content_type": "product" }
    })
}

pub fn meta_url(sb: &Sandbox) -> String {
    format!(
        "{}/v24.0/1234567890123/events?access_token=sandbox-meta-token",
        sb.platform_url
    )
}

/// Posts `{"data": events}` to Meta.
pub async fn post_meta(sb: &Sandbox, events: Vec<Value>) -> (u16, Value) {
    post_json(&meta_url(sb), &json!({ "data": events }), &[]).await
}

/// Mints a Google access token through the fake OAuth endpoint.
pub async fn google_token(sb: &Sandbox) -> String {
    let res = http()
        .post(format!("{}/token", sb.platform_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "sandbox-client-id"),
            ("client_secret", "sandbox-client-secret"),
            ("refresh_token", "sandbox-refresh-token"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

pub fn ads_upload_url(sb: &Sandbox) -> String {
    format!(
        "{}/v22/customers/1234567890:uploadClickConversions",
        sb.platform_url
    )
}

/// A Google Ads date-time (`yyyy-mm-dd hh:mm:ss+00:00`) for Unix ms.
pub fn ads_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1_000).expect("time");
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A valid click conversion on the seeded `UPLOAD_CLICKS` action 1001, converted a minute ago.
pub fn click_conversion(gclid: &str, order_id: &str) -> Value {
    json!({
        "gclid": gclid,
        "conversionAction": "customers/1234567890/conversionActions/1001",
        "conversionDateTime": ads_time(ar_sandbox::clock::real_now_ms() - 60_000),
        "conversionValue": 59.9,
        "currencyCode": "EUR",
        "orderId": order_id,
        "userIdentifiers": [{ "hashedEmail": sha256_hex("john_smith@gmail.com") }],
        "consent": { "adUserData": "GRANTED" }
    })
}

/// Uploads click conversions with a valid token and developer token.
pub async fn upload(sb: &Sandbox, token: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    post_json(
        &ads_upload_url(sb),
        body,
        &[
            ("authorization", &auth),
            ("developer-token", "sandbox-developer-token"),
        ],
    )
    .await
}

/// The `errorCode` enum values of a Google Ads failure (request-level or partial).
pub fn ads_error_codes(failure: &Value) -> Vec<String> {
    failure["details"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["errors"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| {
            e["errorCode"]
                .as_object()
                .and_then(|c| c.values().next())
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

/// Posts `body` to the worker's `/_ar/events`, signed with `secret` the way a shop backend does
/// (README "Server events"); returns status and JSON answer.
pub async fn post_signed_events(base_url: &str, secret: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let ts = u64::try_from(ar_sandbox::clock::real_now_ms() / 1000).unwrap();
    let res = http()
        .post(format!("{base_url}/_ar/events"))
        .header("content-type", "application/json")
        .header("x-ar-timestamp", ts.to_string())
        .header(
            "x-ar-signature",
            ar_shared::signature::sign_request(secret.as_bytes(), ts, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("post /_ar/events");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The configuration the worker serves the pixel (`/_ar/config`), parsed by the pixel's own rules.
pub async fn pixel_config(base_url: &str) -> ar_shared::browser::PixelConfig {
    let text = http()
        .get(format!("{base_url}/_ar/config"))
        .send()
        .await
        .expect("get /_ar/config")
        .text()
        .await
        .expect("read /_ar/config");
    ar_shared::browser::PixelConfig::parse(&text).expect("a pixel configuration")
}

/// Posts one pixel event to the worker's `/_ar/collect` as the pixel does (`text/plain`, the
/// browser's user agent) and expects it taken (204).
pub async fn post_pixel_event(base_url: &str, user_agent: &str, event: &Value) {
    let res = http()
        .post(format!("{base_url}/_ar/collect"))
        .header("content-type", "text/plain")
        .header("user-agent", user_agent)
        .json(event)
        .send()
        .await
        .expect("post /_ar/collect");
    assert_eq!(
        res.status().as_u16(),
        204,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

/// Runs the worker's cron trigger once (`wrangler dev --test-scheduled`).
pub async fn cron(base_url: &str) {
    let res = http()
        .get(format!("{base_url}/__scheduled?cron=*/5+*+*+*+*"))
        .send()
        .await
        .expect("trigger cron");
    assert!(res.status().is_success(), "cron: {}", res.status());
}

/// The requests a fake platform recorded (`meta`, `google_ads`, `data_manager`, `ga4`),
/// optionally only those carrying `event_id`.
pub async fn platform_requests(sb: &Sandbox, platform: &str, event_id: Option<&str>) -> Vec<Value> {
    let mut url = format!("{}/_sandbox/requests?platform={platform}", sb.platform_url);
    if let Some(id) = event_id {
        url = format!("{url}&event_id={id}");
    }
    get_json(&url).await.as_array().cloned().unwrap_or_default()
}

/// A worker sending to this sandbox's fake Meta (pixel `123`), verifying server events with
/// `secret`, visitors treated as US, plus `extra` settings.
pub fn meta_worker(
    sb: &Sandbox,
    secret: &str,
    extra: &[(&str, &str)],
) -> ar_sandbox::harness::Worker {
    let mut vars: Vec<(&str, &str)> = vec![
        ("META_BASE_URL", &sb.platform_url),
        ("META_PIXEL_ID", "123"),
        ("META_ACCESS_TOKEN", "sandbox-meta-token"),
        ("AR_SERVER_SECRET", secret),
        ("GEO_OVERRIDE", "US"),
    ];
    vars.extend_from_slice(extra);
    ar_sandbox::harness::Worker::start(&vars)
}

/// A `user{}` object as the pixel sends it: each field hashed in the browser, in the per-platform
/// form (`{"email": {"meta": <hex>, "google": <hex>}}`), Google's address parts plain (DESIGN §4).
pub fn pixel_user(fields: &[(ar_shared::pii::PiiField, &str)]) -> Value {
    use ar_shared::pii::{PiiField, PiiValue, RawUserData, hash_user_data};
    let raw = fields
        .iter()
        .fold(RawUserData::default(), |r, (f, v)| r.with(*f, *v));
    let input = hash_user_data(&raw, "US").0.to_input();
    let mut out = serde_json::Map::new();
    for field in PiiField::ALL {
        if let Some(PiiValue::PerPlatform(v)) = input.get(field) {
            out.insert(
                field.as_str().into(),
                json!({ "meta": v.meta, "google": v.google }),
            );
        }
    }
    Value::Object(out)
}

/// Saves the custom mapping of `survey.answered` (Meta `SurveyAnswered`, GA4 `survey_answered`,
/// keyed by `lead_id`, real time) through the console's mapping form; returns status and the
/// page's outcome line.
pub async fn console_save_survey_mapping(base_url: &str, admin: &str) -> (u16, String) {
    console_form(
        base_url,
        "/_ar/admin/mappings",
        admin,
        &[
            ("event", "survey.answered"),
            ("meta", "SurveyAnswered"),
            ("ga4", "survey_answered"),
            ("ads_category", ""),
            ("path", "real_time"),
            ("key", "lead_id"),
            ("action", "save"),
        ],
    )
    .await
}

/// Posts a console form (`fields`) to `path` as the signed-in admin (`admin` token) and returns
/// the status and the page's outcome line (`<p id="outcome">…</p>`).
pub async fn console_form(
    base_url: &str,
    path: &str,
    admin: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let res = http()
        .post(format!("{base_url}{path}"))
        .bearer_auth(admin)
        .form(fields)
        .send()
        .await
        .expect("post the console form");
    let status = res.status().as_u16();
    let html = res.text().await.unwrap_or_default();
    let outcome = html
        .split("id=\"outcome\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_default()
        .to_owned();
    (status, outcome)
}

/// `GET /_ar/health` with the admin token.
pub async fn admin_health(base_url: &str, admin: &str) -> Value {
    http()
        .get(format!("{base_url}/_ar/health"))
        .bearer_auth(admin)
        .send()
        .await
        .expect("GET /_ar/health")
        .json()
        .await
        .expect("health is JSON")
}

/// Waits (at most two minutes) until each of `event_ids` is stored with outbox rows, meets
/// `extra` (SQL over the `events` row, aliased `e`; `"1"` for none), and has no row pending or
/// sending, running the cron every two seconds meanwhile (it sends only rows that are due: a
/// retry after a transient failure, first due a minute later, or a real-time send whose timer was
/// lost), then runs it once more. After this no further request for those events can leave, so
/// what the fake platforms recorded can be counted: "no late duplicate" is waited for as this
/// condition, not as a fixed time.
pub async fn outbox_settled(worker: &ar_sandbox::harness::Worker, event_ids: &[&str], extra: &str) {
    let mut unique = event_ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let ids = unique
        .iter()
        .map(|id| format!("'{}'", id.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let chosen = format!("e.event_id IN ({ids}) AND ({extra})");
    let query = format!(
        "SELECT \
           (SELECT COUNT(*) FROM events e WHERE {chosen} \
              AND EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.event_id)) AS stored, \
           (SELECT COUNT(*) FROM events e JOIN outbox o ON o.event_id = e.event_id \
              WHERE {chosen} AND o.status IN ('pending', 'sending')) AS open"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(2);
    let mut polls = 0_u32;
    loop {
        let row = worker.d1(&query);
        let settled = row.first().is_some_and(|r| {
            r["stored"].as_u64() == Some(unique.len() as u64) && r["open"].as_u64() == Some(0)
        });
        if settled {
            break;
        }
        if std::time::Instant::now() >= deadline {
            let rows = worker.d1(&format!(
                "SELECT o.event_id, o.platform, o.status, o.attempts, o.last_error \
                 FROM outbox o WHERE o.event_id IN ({ids})"
            ));
            panic!(
                "{event_ids:?} never settled where {extra} ({row:?}); outbox: {rows:?}; worker log:\n{}",
                worker.process.output().join("\n")
            );
        }
        polls += 1;
        if polls.is_multiple_of(8) {
            cron(&worker.base_url).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    cron(&worker.base_url).await;
}
