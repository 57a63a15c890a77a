//! What the worker serves the pixel, end to end against the real worker (workerd via
//! `wrangler dev`): the configuration (`GET /_ar/config`) with the mapping in effect, the tags to
//! drive and each `WEBPAGE` action's conversion tag, revalidated by version; and the visitor's
//! consent region default (`GET /_ar/region`), per request and never cached.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ar_sandbox::harness::Worker;
use ar_shared::browser::PixelConfig;
use ar_shared::browser::region::RegionAnswer;
use ar_shared::consent::ConsentState;
use ar_shared::mapping::BusinessKey;

const MAPPING: &str = r#"{"events":{"quiz.completed":{"meta":"QuizCompleted","ga4":"quiz_completed","key":"lead_id"}}}"#;

fn vars<'a>(mapping: &'a str, geo: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("EVENT_MAPPING", mapping),
        ("GEO_OVERRIDE", geo),
        ("META_PIXEL_ID", "123456789"),
        ("META_ACCESS_TOKEN", "sandbox-meta-token"),
        ("GA4_MEASUREMENT_ID", "G-E2E"),
        ("GA4_API_SECRET", "sandbox-ga4-secret"),
        ("DATA_MANAGER_OPERATING_ACCOUNT_ID", "1234567890"),
        ("GOOGLE_CLIENT_ID", "c"),
        ("GOOGLE_CLIENT_SECRET", "s"),
        ("GOOGLE_REFRESH_TOKEN", "r"),
        (
            "GOOGLE_CONVERSION_ACTIONS",
            "transaction.purchase=2001:webpage:AW-123/AbC-d_1,lead.submitted=2002:webpage",
        ),
        ("CONSENT_BANNER", "on"),
    ]
}

async fn get(url: &str, etag: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    if let Some(tag) = etag {
        req = req.header("if-none-match", tag);
    }
    req.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_config_carries_the_mapping_tags_and_conversion_tags_and_revalidates_by_version() {
    let worker = Worker::start(&vars(MAPPING, "US"));
    let url = format!("{}/_ar/config", worker.base_url);
    let first = get(&url, None).await;
    assert_eq!(first.status().as_u16(), 200);
    // DESIGN §4 "Configuration served to the pixel": revalidated on every page.
    assert_eq!(header(&first, "cache-control"), "no-cache");
    let etag = header(&first, "etag");
    let config = PixelConfig::parse(&first.text().await.unwrap()).unwrap();
    assert_eq!(etag, format!("\"{}\"", config.version));
    assert_eq!(
        config.meta.as_ref().map(|t| t.id.as_str()),
        Some("123456789")
    );
    assert_eq!(config.ga4.as_ref().map(|t| t.id.as_str()), Some("G-E2E"));
    let meta = config.meta.as_ref().unwrap();
    assert_eq!(meta.src, "https://connect.facebook.net/en_US/fbevents.js");
    assert!(!meta.load, "base tags are loaded only when asked");
    assert!(config.banner.is_some());
    assert_eq!(
        config.events.len(),
        8,
        "7 standard events and the custom one"
    );
    let purchase = config.event(&ar_shared::EventName::Purchase).unwrap();
    assert_eq!(
        purchase
            .send_to
            .as_ref()
            .map(ar_shared::browser::SendTo::as_str),
        Some("AW-123/AbC-d_1")
    );
    let lead = config.event(&ar_shared::EventName::LeadSubmitted).unwrap();
    assert_eq!(
        lead.send_to, None,
        "a webpage action without a tag fires no conversion"
    );
    let quiz = config.event(&"quiz.completed".parse().unwrap()).unwrap();
    assert_eq!(
        (quiz.meta.as_str(), quiz.key),
        ("QuizCompleted", BusinessKey::LeadId)
    );

    let again = get(&url, Some(&etag)).await;
    assert_eq!(again.status().as_u16(), 304, "unchanged config revalidates");
    assert_eq!(header(&again, "etag"), etag);
    let stale = get(&url, Some("\"0000000000000000\"")).await;
    assert_eq!(
        stale.status().as_u16(),
        200,
        "an old version gets the new config"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_region_default_is_answered_per_visitor_and_never_cached() {
    for (geo, expected, banner) in [
        ("DE", ConsentState::ALL_DENIED, true),
        ("US", ConsentState::ALL_GRANTED, false),
    ] {
        let worker = Worker::start(&vars(MAPPING, geo));
        let r = get(&format!("{}/_ar/region", worker.base_url), None).await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(header(&r, "cache-control"), "private, no-store");
        let answer = RegionAnswer::parse(&r.text().await.unwrap()).unwrap();
        assert_eq!(answer.default, expected, "{geo}");
        assert_eq!(
            answer.banner, banner,
            "{geo}: the banner asks in opt-in regions"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pixel_js_is_revalidated_on_every_page_and_names_its_files_by_the_only_version_served() {
    // ar_shared::browser::files: pixel.js carries each file's version; the worker serves a
    // versioned request only with that version (cacheable for good), so a glue from before a
    // deploy never runs the new wasm.
    let worker = Worker::start(&vars(MAPPING, "US"));
    let base = format!("{}/_ar", worker.base_url);
    let js = get(&format!("{base}/pixel.js"), None).await;
    // Revalidated on every page, so no page keeps a pixel.js whose files a deploy took away.
    assert_eq!(header(&js, "cache-control"), "no-cache");
    let etag = header(&js, "etag");
    let js = js.text().await.unwrap();
    assert_eq!(
        etag,
        format!("\"{}\"", ar_shared::browser::files::version(js.as_bytes())),
        "pixel.js's ETag is its version"
    );
    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"x\", {etag}"),
        "*".into(),
    ] {
        let unchanged = get(&format!("{base}/pixel.js"), Some(&tag)).await;
        assert_eq!(unchanged.status().as_u16(), 304, "If-None-Match: {tag}");
        assert_eq!(header(&unchanged, "cache-control"), "no-cache");
        assert_eq!(header(&unchanged, "etag"), etag);
        // A shop served elsewhere loads it cross-origin (DESIGN §4 "Deployment").
        assert_eq!(header(&unchanged, "access-control-allow-origin"), "*");
        assert!(unchanged.bytes().await.unwrap().is_empty());
    }
    let earlier = get(&format!("{base}/pixel.js"), Some("\"0123456789abcdef\"")).await;
    assert_eq!(
        earlier.status().as_u16(),
        200,
        "an earlier deploy's pixel.js is replaced"
    );
    for file in ar_shared::browser::files::FILES.into_iter().skip(1) {
        let key = format!("\"{file}\":\"");
        let (_, rest) = js
            .split_once(&key)
            .unwrap_or_else(|| panic!("pixel.js names no version of {file}"));
        let version: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
        let current = get(&format!("{base}/{file}?v={version}"), None).await;
        assert_eq!(current.status().as_u16(), 200, "{file}?v={version}");
        assert_eq!(
            header(&current, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        let bytes = current.bytes().await.unwrap();
        assert_eq!(
            ar_shared::browser::files::version(&bytes),
            version,
            "{file}"
        );
        for (query, tag, status, what) in [
            (
                version.clone(),
                Some(format!("\"{version}\"")),
                304,
                "revalidated",
            ),
            ("0123456789abcdef".to_owned(), None, 404, "of another build"),
            (
                version[..8].to_owned(),
                None,
                404,
                "a prefix is not a version",
            ),
        ] {
            let r = get(&format!("{base}/{file}?v={query}"), tag.as_deref()).await;
            assert_eq!(r.status().as_u16(), status, "{file}?v={query}: {what}");
        }
        let plain = get(&format!("{base}/{file}"), None).await;
        assert_eq!(plain.status().as_u16(), 200, "{file} unversioned");
    }
}
