//! A generated corpus of hostile requests across every public route — malformed, oversized,
//! wrongly signed, replayed, injection-laden — each with the status and error code it must get.
//! Each request comes from its own client address (`cf-connecting-ip`), so no answer is the rate
//! limiter's. Afterwards: nothing was stored, the worker never panicked, no proxy path reached a
//! host other than `ORIGIN_URL`, and no setting value or personal data appears in any answer or
//! log line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ar_sandbox::harness::{Worker, free_port};
use ar_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

const SECRET: &str = "corpus-server-secret-value";
const ADMIN: &str = "corpus-admin-token-0123456789";
const META_TOKEN: &str = "corpus-meta-token-value";
const PII: &str = "corpus.victim@example.com";

/// One hostile request and the answer it must get.
struct Case {
    name: String,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    /// The `error` code of the JSON answer, or `None` to check only the status.
    code: Option<&'static str>,
}

fn case(name: impl Into<String>, method: &'static str, path: &str, status: u16) -> Case {
    Case {
        name: name.into(),
        method,
        path: path.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
        status,
        code: None,
    }
}

impl Case {
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
    fn no_code(mut self) -> Self {
        self.code = None;
        self
    }
}

const VALID: &str = r#"{"event":"product.viewed","items":[{"id":"sku-1","price":9.5,"quantity":1},{"id":"sku-2","price":19.5,"quantity":2}],"value":48.5,"currency":"EUR","page":{"url":"https://shop.example.com/p/1?utm_source=corpus","referrer":"https://search.example/"},"consent":{"ad_storage":"granted","analytics_storage":"granted"},"fired":{"meta":true,"google":false}}"#;

fn collect(
    name: impl Into<String>,
    body: impl Into<Vec<u8>>,
    status: u16,
    code: &'static str,
) -> Case {
    case(name, "POST", "/_ar/collect", status)
        .header("content-type", "application/json")
        .body(body)
        .code(code)
}

fn collect_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    // Every truncation of a valid event is malformed JSON.
    for cut in 1..VALID.len() - 1 {
        cases.push(collect(
            format!("truncated at {cut}"),
            &VALID[..cut],
            400,
            "invalid_event",
        ));
    }
    // One JSON document per body: a valid event followed by anything is refused whole.
    for (name, tail) in [
        ("a second event after the event", VALID),
        ("text after the event", " x"),
        ("a bracket after the event", "]"),
    ] {
        cases.push(collect(
            name,
            format!("{VALID}{tail}"),
            400,
            "invalid_event",
        ));
    }
    let wrong_types = [
        ("value", json!("12")),
        ("value", json!([1])),
        ("value", json!(PII)),
        ("items", json!({"id": "x"})),
        ("items", json!([{"id": 7}])),
        ("items", json!([{"id": "x", "price": PII}])),
        ("currency", json!(978)),
        ("occurred_at", json!("yesterday")),
        ("occurred_at", json!(-1)),
        ("user", json!(PII)),
        ("page", json!("https://x")),
        ("consent", json!(true)),
        ("fired", json!("meta")),
        ("sale_opt_out", json!("yes")),
    ];
    for (field, value) in wrong_types {
        let mut e: Value = serde_json::from_str(VALID).unwrap();
        e[field] = value;
        cases.push(collect(
            format!("{field} of the wrong type"),
            e.to_string(),
            400,
            "invalid_event",
        ));
    }
    cases.extend(collect_injected());
    cases.extend(collect_refused());
    cases
}

/// Injection-laden names and values: field names, event names, currencies, URLs.
fn collect_injected() -> Vec<Case> {
    let mut cases = Vec::new();
    let injected_names = [
        "<script>alert(1)</script>",
        "'; DROP TABLE events;--",
        "../../etc/passwd",
        "__proto__",
        "constructor",
        "$where",
        "{{7*7}}",
        "%00",
        "\u{202e}gnp.exe",
        PII,
        "${jndi:ldap://x}",
        "<img src=x onerror=alert(1)>",
        "\r\nSet-Cookie: x=1",
        "' OR '1'='1",
        "\u{0}",
        "🦀",
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l",
        "{\"$gt\":\"\"}",
        "`rm -rf /`",
        "\\\\server\\share",
    ];
    for name in injected_names {
        let mut e: Value = serde_json::from_str(VALID).unwrap();
        e[name] = json!(1);
        cases.push(collect(
            format!("unknown field {name:?}"),
            e.to_string(),
            400,
            "invalid_event",
        ));
        let mut e: Value = serde_json::from_str(VALID).unwrap();
        e["event"] = json!(name);
        cases.push(collect(
            format!("event named {name:?}"),
            e.to_string(),
            400,
            "invalid_event",
        ));
        let mut e: Value = serde_json::from_str(VALID).unwrap();
        e["currency"] = json!(name);
        e["value"] = json!(1);
        cases.push(collect(
            format!("currency {name:?}"),
            e.to_string(),
            400,
            "invalid_event",
        ));
        let mut e: Value = serde_json::from_str(VALID).unwrap();
        e["page"]["url"] = json!(format!("javascript:{name}"));
        cases.push(collect(
            format!("page url {name:?}"),
            e.to_string(),
            400,
            "invalid_event",
        ));
    }
    cases
}

/// Requests refused before or after validation: stated browser context, borrowed IDs, content
/// types, origins, sizes, methods.
fn collect_refused() -> Vec<Case> {
    let mut cases = Vec::new();
    for (field, value) in [
        ("client", json!({"ip": "198.51.100.9"})),
        ("client", json!({"user_agent": "Forged"})),
        ("click_ids", json!({"gclid": "planted"})),
        ("click_ids", json!({"fbp": "fb.1.1.1"})),
        ("session_id", json!("0123456789abcdef0123")),
    ] {
        let mut e: Value = serde_json::from_str(VALID).unwrap();
        e[field] = value;
        cases.push(collect(
            format!("browser states {field}"),
            e.to_string(),
            400,
            "invalid_event",
        ));
    }
    let purchase_id = ar_shared::EventId::from_business_key(&ar_shared::EventName::Purchase, "O-1");
    for order in ["O-2", "O-3", "", "O-1 "] {
        let e = json!({"event": "transaction.purchase", "order_id": order, "value": 1,
                       "currency": "EUR", "event_id": purchase_id.as_str()});
        cases.push(collect(
            format!("purchase {order:?} under O-1's id"),
            e.to_string(),
            400,
            "invalid_event",
        ));
    }
    for ct in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "image/png",
        "text/html",
        "application/xml",
    ] {
        cases.push(
            case(format!("content type {ct}"), "POST", "/_ar/collect", 415)
                .header("content-type", ct)
                .body(VALID)
                .code("unsupported_media_type"),
        );
    }
    for origin in [
        "https://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
        "file://",
        "https://127.0.0.1",
    ] {
        cases.push(
            collect(format!("origin {origin}"), VALID, 403, "forbidden_origin")
                .header("origin", origin),
        );
    }
    for size in [16 * 1024 + 1, 64 * 1024, 512 * 1024] {
        let body = format!(
            r#"{{"event":"product.viewed","pad":"{}"}}"#,
            "x".repeat(size)
        );
        cases.push(collect(format!("{size} byte body"), body, 413, "too_large"));
    }
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        cases.push(
            case(format!("{method} collect"), method, "/_ar/collect", 405)
                .code("method_not_allowed"),
        );
    }
    cases
}

fn signed(body: &[u8], secret: &str, ts: i64) -> (String, String) {
    let ts_u = u64::try_from(ts).unwrap_or(0);
    (
        ts.to_string(),
        ar_shared::signature::sign_request(secret.as_bytes(), ts_u, body),
    )
}

fn events_case(
    name: impl Into<String>,
    body: &[u8],
    ts: &str,
    sig: &str,
    status: u16,
    code: &'static str,
) -> Case {
    case(name, "POST", "/_ar/events", status)
        .header("content-type", "application/json")
        .header("x-ar-timestamp", ts)
        .header("x-ar-signature", sig)
        .body(body.to_vec())
        .code(code)
}

fn events_cases() -> Vec<Case> {
    let now = common::now_s();
    let body = br#"{"events":[{"event":"lead.submitted","lead_id":"L-corpus"}]}"#;
    let mut cases = Vec::new();
    for i in 0u32..250 {
        let sig = format!("v1={:064x}", u128::from(i) * 0x9e37_79b9_7f4a_7c15);
        cases.push(events_case(
            format!("random signature {i}"),
            body,
            &now.to_string(),
            &sig,
            401,
            "unauthorized",
        ));
    }
    for i in 0..100 {
        let (ts, sig) = signed(body, &format!("wrong-secret-{i}"), now);
        cases.push(events_case(
            format!("wrong secret {i}"),
            body,
            &ts,
            &sig,
            401,
            "unauthorized",
        ));
        let (ts, sig) = signed(body, SECRET, now);
        let tampered = format!(r#"{{"events":[{{"event":"lead.submitted","lead_id":"L-{i}"}}]}}"#);
        cases.push(events_case(
            format!("tampered body {i}"),
            tampered.as_bytes(),
            &ts,
            &sig,
            401,
            "unauthorized",
        ));
        let (ts, sig) = signed(body, SECRET, now - 301 - i64::from(i));
        cases.push(events_case(
            format!("stale by {}", 301 + i),
            body,
            &ts,
            &sig,
            401,
            "unauthorized",
        ));
    }
    cases.extend(events_malformed(body, now));
    cases
}

/// Malformed timestamps, too many candidates, signed malformed batches, replays, sizes.
fn events_malformed(body: &[u8], now: i64) -> Vec<Case> {
    let mut cases = Vec::new();
    for ts in [
        "",
        "soon",
        "1e9",
        "-5",
        "17640000000000000000000",
        "0x10",
        " ",
    ] {
        cases.push(events_case(
            format!("timestamp {ts:?}"),
            body,
            ts,
            "v1=00",
            401,
            "unauthorized",
        ));
    }
    for n in [4, 10, 100, 5000] {
        let sig = vec!["v1=00"; n].join(",");
        cases.push(events_case(
            format!("{n} candidates"),
            body,
            &now.to_string(),
            &sig,
            401,
            "unauthorized",
        ));
    }
    for (i, raw) in [
        &b"{"[..],
        b"[]",
        b"null",
        br#"{"events":{}}"#,
        br#"{"events":[]}"#,
        br#"{"events":[],"x":1}"#,
        br#"{"Events":[{}]}"#,
        b"\xff\xfe",
        br#"{"events":"'; DROP TABLE events;--"}"#,
    ]
    .iter()
    .enumerate()
    {
        let (ts, sig) = signed(raw, SECRET, now - i64::try_from(i).unwrap());
        cases.push(events_case(
            format!("signed malformed batch {i}"),
            raw,
            &ts,
            &sig,
            400,
            "invalid_batch",
        ));
    }
    // One valid request is taken (it stores one event); every replay of it is refused.
    let valid = br#"{"events":[{"event":"lead.submitted","lead_id":"L-replayed"}]}"#;
    let (ts, sig) = signed(valid, SECRET, now);
    cases.push(events_case("the original request", valid, &ts, &sig, 200, "").no_code());
    for i in 0..25 {
        cases.push(events_case(
            format!("replay {i}"),
            valid,
            &ts,
            &sig,
            401,
            "unauthorized",
        ));
    }
    cases.push(
        case("unsigned", "POST", "/_ar/events", 401)
            .body(body.to_vec())
            .code("unauthorized"),
    );
    cases.push(
        case("oversized", "POST", "/_ar/events", 413)
            .body(vec![b' '; 1024 * 1024 + 1])
            .code("too_large"),
    );
    cases
}

fn admin_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, token) in [
        "",
        "x",
        ADMIN.to_uppercase().as_str(),
        &ADMIN[..ADMIN.len() - 1],
        "' OR 1=1 --",
        PII,
    ]
    .iter()
    .enumerate()
    {
        for path in [
            "/_ar/health",
            "/_ar/admin/test",
            "/_ar/admin/replay",
            "/_ar/admin/nowhere",
        ] {
            let method = if path == "/_ar/health" { "GET" } else { "POST" };
            cases.push(
                case(format!("bearer {i} on {path}"), method, path, 401)
                    .header("authorization", &format!("Bearer {token}"))
                    .code("unauthorized"),
            );
        }
        cases.push(case(
            format!("token {i} in the url"),
            "GET",
            &format!("/_ar/admin?token={}", urlencode(token)),
            401,
        ));
        cases.push(
            case(
                format!("sign-in with token {i}"),
                "POST",
                "/_ar/admin/login",
                401,
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={}", urlencode(token))),
        );
    }
    for path in ["/_ar/health", "/_ar/admin/replay"] {
        cases
            .push(case(format!("no credentials on {path}"), "GET", path, 401).code("unauthorized"));
    }
    cases.push(case("sign-in by GET", "GET", "/_ar/admin/login", 405).code("method_not_allowed"));
    for path in [
        "/_ar/",
        "/_ar/x",
        "/_ar/collect/x",
        "/_ar/pixel.js/x",
        "/_ar/events/..",
    ] {
        cases.push(case(format!("unknown {path}"), "GET", path, 404).code("not_found"));
    }
    for method in ["POST", "PUT", "DELETE"] {
        cases.push(case(format!("{method} pixel"), method, "/_ar/pixel.js", 404).code("not_found"));
    }
    cases
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Proxy paths: each must reach the shop (or be refused by it), never another host, never 5xx.
fn proxy_cases(evil: &str) -> Vec<Case> {
    let paths = [
        format!("//{evil}/steal"),
        format!("/\\\\{evil}/steal"),
        format!("/%2F%2F{evil}/steal"),
        format!("/_shop/echo/..%2F..%2F{evil}"),
        "/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        "/..%2f..%2f".to_owned(),
        "/_AR/admin".to_owned(),
        "/_Ar/collect".to_owned(),
        "/%5Far/admin".to_owned(),
        "/_shop/echo?next=//evil.example".to_owned(),
        "/products/%00".to_owned(),
        format!("/{}", "a".repeat(4000)),
        "/_shop/echo/%E2%80%AE".to_owned(),
        "/_shop/echo;jsessionid=1".to_owned(),
    ];
    let mut cases = Vec::new();
    for p in paths {
        for method in ["GET", "POST", "HEAD"] {
            cases.push(case(
                format!("{method} {}", &p[..p.len().min(60)]),
                method,
                &p,
                0,
            ));
        }
    }
    cases
}

async fn send(worker: &Worker, c: &Case, client: usize) -> (u16, String) {
    let method = reqwest::Method::from_bytes(c.method.as_bytes()).unwrap();
    let mut req = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .request(method, format!("{}{}", worker.base_url, c.path))
        .header(
            "cf-connecting-ip",
            format!(
                "10.{}.{}.{}",
                client / 65536 % 256,
                client / 256 % 256,
                client % 256
            ),
        );
    for (n, v) in &c.headers {
        req = req.header(n, v);
    }
    if !c.body.is_empty() {
        req = req.body(c.body.clone());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

/// A host that must never be reached: counts every connection.
async fn evil_host() -> (String, Arc<AtomicUsize>) {
    let port = free_port();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (format!("127.0.0.1:{port}"), hits)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corpus_of_hostile_requests_gets_the_expected_answers_and_changes_nothing() {
    let (evil, evil_hits) = evil_host().await;
    let sb = Sandbox::start_local(SandboxConfig::default())
        .await
        .unwrap();
    let worker = Worker::start(&[
        ("ORIGIN_URL", &sb.shop_url),
        ("META_BASE_URL", &sb.platform_url),
        ("META_PIXEL_ID", "123"),
        ("META_ACCESS_TOKEN", META_TOKEN),
        ("AR_SERVER_SECRET", SECRET),
        ("ADMIN_TOKEN", ADMIN),
        ("GEO_OVERRIDE", "US"),
    ]);
    let count = |w: &Worker| {
        w.d1("select count(*) as n from events")[0]["n"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = count(&worker);
    let mut cases = collect_cases();
    cases.extend(events_cases());
    cases.extend(admin_cases());
    let proxies = proxy_cases(&evil);
    let mut failures = Vec::new();
    let mut answers = String::new();
    let (mut checked, mut by_route) = (0usize, std::collections::BTreeMap::<&str, usize>::new());
    for (i, c) in cases.iter().chain(&proxies).enumerate() {
        let (status, text) = send(&worker, c, i).await;
        answers.push_str(&text);
        checked += 1;
        let route = c.path.split('?').next().unwrap_or_default();
        let route = if route.starts_with("/_ar/") {
            route
        } else {
            "proxy"
        };
        *by_route
            .entry(if route.len() > 20 { "proxy" } else { route })
            .or_default() += 1;
        if c.status == 0 {
            if status >= 500 {
                failures.push(format!("{}: {status} {text:.200}", c.name));
            }
            continue;
        }
        let code = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|j| j["error"].as_str().map(str::to_owned));
        if status != c.status || c.code.is_some_and(|want| code.as_deref() != Some(want)) {
            failures.push(format!(
                "{}: got {status} {code:?}, want {} {:?}: {text:.200}",
                c.name, c.status, c.code
            ));
        }
    }
    println!(
        "hostile corpus: {checked} requests, by route {by_route:?}, {} unexpected",
        failures.len()
    );
    assert!(checked >= 1000, "only {checked} requests");
    assert!(
        failures.is_empty(),
        "{} unexpected answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        count(&worker),
        before + 1,
        "only the one valid request stored an event"
    );
    assert_eq!(
        evil_hits.load(Ordering::SeqCst),
        0,
        "a proxy path reached another host"
    );
    let log = worker.process.output().join("\n");
    assert!(!log.contains("panicked"), "the worker panicked:\n{log}");
    for secret in [SECRET, ADMIN, META_TOKEN, PII] {
        assert!(!answers.contains(secret), "{secret} in an answer");
        assert!(!log.contains(secret), "{secret} in the log");
    }
}
