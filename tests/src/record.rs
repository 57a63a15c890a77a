//! The request log: every request the fake platforms (and the demo shop's fake browser tags)
//! received, accepted or rejected, with secrets removed, so tests and people can see exactly what
//! would have reached Meta and Google.
//!
//! It keeps the newest [`MAX_RECORDS`] requests; it does not persist anything.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many requests the log keeps (oldest dropped first).
pub const MAX_RECORDS: usize = 5_000;

/// Header names never recorded (credentials).
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "developer-token",
    "cookie",
    "x-goog-api-key",
    "proxy-authorization",
];

/// Query/form field names whose values are replaced by `[redacted]`. Not `client_id`: an OAuth
/// client id is public, and GA4's `client_id` is the browser's identifier that inspection needs.
/// Authorization codes and PKCE verifiers are credentials too (a code plus the client secret
/// mints tokens); `state` and `code_challenge` are not.
pub const SECRET_FIELDS: [&str; 11] = [
    "access_token",
    "api_secret",
    "appsecret_proof",
    "client_secret",
    "refresh_token",
    "developer_token",
    "code",
    "code_verifier",
    "fb_exchange_token",
    "input_token",
    "token",
];

/// Which fake endpoint family a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Meta Graph API: the Conversions API (`/{version}/{pixel_id}/events`) and the reads the
    /// "Connect Meta" picker makes (`me`, `me/adaccounts`, `/{dataset_id}`).
    Meta,
    /// Google Ads API (click uploads, conversion actions, search).
    GoogleAds,
    /// Google Data Manager API (`/v1/events:ingest`).
    DataManager,
    /// GA4 Measurement Protocol (`/mp/collect`, `/debug/mp/collect`).
    Ga4,
    /// Google's authorization server: consent page, `/token`, `/revoke`.
    Oauth,
    /// Meta's login: the `dialog/oauth` page, `oauth/access_token`, `debug_token`.
    MetaOauth,
    /// The demo shop's fake `fbq` / `gtag` calls (`/_sandbox/browser-tags`).
    BrowserTags,
    /// A path no fake platform serves.
    Unknown,
}

impl Platform {
    /// Every platform, in display order.
    pub const ALL: [Self; 8] = [
        Self::Meta,
        Self::GoogleAds,
        Self::DataManager,
        Self::Ga4,
        Self::Oauth,
        Self::MetaOauth,
        Self::BrowserTags,
        Self::Unknown,
    ];

    /// The `snake_case` name used in the JSON API (`meta`, `google_ads`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::GoogleAds => "google_ads",
            Self::DataManager => "data_manager",
            Self::Ga4 => "ga4",
            Self::Oauth => "oauth",
            Self::MetaOauth => "meta_oauth",
            Self::BrowserTags => "browser_tags",
            Self::Unknown => "unknown",
        }
    }

    /// Parses the `snake_case` name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// What the fake platform did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every event accepted.
    Accepted,
    /// Google partial failure: some rows accepted, some rejected.
    PartiallyAccepted,
    /// The request (or every row) was rejected.
    Rejected,
    /// An injected fault answered instead of the platform logic.
    Fault,
}

/// One recorded request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Sequence number (starts at 1, increases; survives nothing but the process).
    pub id: u64,
    /// Endpoint family.
    pub platform: Platform,
    /// Operation, e.g. `events`, `uploadClickConversions`, `events:ingest`, `collect`.
    pub endpoint: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Query parameters, secrets redacted.
    pub query: BTreeMap<String, String>,
    /// Request headers without credentials.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (form bodies become an object; anything else a string), secrets redacted.
    pub body: Value,
    /// What happened.
    pub verdict: Verdict,
    /// HTTP status answered.
    pub status: u16,
    /// The first error message, if anything was rejected.
    pub error: Option<String>,
    /// The error codes answered (Meta `code/subcode`, Google enum names, GA4 validation codes).
    pub error_codes: Vec<String>,
    /// The response body answered (JSON, or `null` for an empty body).
    pub response: Value,
    /// Dedup-relevant ids found in the body: Meta `event_id`, Google `orderId`/`transactionId`,
    /// GA4 `transaction_id`, browser `eventID`.
    pub event_ids: Vec<String>,
    /// Number of events/conversions in the request.
    pub events: usize,
    /// Number of events the platform accepted.
    pub accepted_events: usize,
    /// Sandbox-clock time of receipt (Unix ms).
    pub received_at_ms: i64,
}

/// Filters for [`Recorder::query`].
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RequestFilter {
    /// Only this platform (`meta`, `google_ads`, …).
    pub platform: Option<String>,
    /// Only requests carrying this event id / order id / transaction id.
    pub event_id: Option<String>,
    /// Only this verdict (`accepted`, `rejected`, …).
    pub verdict: Option<String>,
    /// Only this endpoint (`events`, `uploadClickConversions`, …).
    pub endpoint: Option<String>,
    /// Only requests with an id greater than this.
    pub after_id: Option<u64>,
}

/// The in-memory request log.
#[derive(Debug, Default)]
pub struct Recorder {
    next_id: u64,
    records: VecDeque<RecordedRequest>,
}

impl Recorder {
    /// Appends `record`, assigning its id; returns the id.
    pub fn push(&mut self, mut record: RecordedRequest) -> u64 {
        self.next_id += 1;
        record.id = self.next_id;
        if self.records.len() >= MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(record);
        self.next_id
    }

    /// Records matching `filter`, oldest first.
    pub fn query(&self, filter: &RequestFilter) -> Vec<RecordedRequest> {
        self.records
            .iter()
            .filter(|r| matches(r, filter))
            .cloned()
            .collect()
    }

    /// Every record, oldest first.
    pub fn all(&self) -> impl Iterator<Item = &RecordedRequest> {
        self.records.iter()
    }

    /// Forgets everything (ids keep increasing).
    pub fn clear(&mut self) {
        self.records.clear();
    }
}

fn matches(record: &RecordedRequest, filter: &RequestFilter) -> bool {
    let verdict = serde_json::to_value(record.verdict).ok();
    filter
        .platform
        .as_deref()
        .is_none_or(|p| record.platform.as_str() == p)
        && filter
            .event_id
            .as_deref()
            .is_none_or(|id| record.event_ids.iter().any(|e| e == id))
        && filter
            .verdict
            .as_deref()
            .is_none_or(|v| verdict.as_ref().and_then(Value::as_str) == Some(v))
        && filter
            .endpoint
            .as_deref()
            .is_none_or(|e| record.endpoint == e)
        && filter.after_id.is_none_or(|after| record.id > after)
}

/// Request headers worth recording: everything except credentials, lowercased names.
pub fn recordable_headers(headers: &axum::http::HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter(|(name, _)| !SECRET_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Query pairs with secret values redacted.
pub fn recordable_query(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| {
            let v = if SECRET_FIELDS.contains(&k.as_str()) {
                "[redacted]".to_owned()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}

/// `body` with secret top-level fields redacted (Meta accepts `access_token` in the body).
pub fn redact_body(body: &Value) -> Value {
    let mut body = body.clone();
    if let Value::Object(map) = &mut body {
        for key in SECRET_FIELDS {
            if let Some(v) = map.get_mut(key) {
                *v = Value::String("[redacted]".into());
            }
        }
    }
    body
}
