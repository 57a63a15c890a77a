//! The fake platform endpoints on the "platform" listener: one dispatcher that routes by path the
//! way the real hosts do, applies injected faults, calls the platform module, records the request
//! and answers.
//!
//! Routes (by method and path; Graph API versions look like `v25.0`, Google Ads ones like `v22`):
//! - Meta: `POST /{version}/{pixel_id}/events`; `GET /{version}/me`, `/{version}/me/adaccounts`,
//!   `/{version}/{dataset_id}`, `/{version}/dataset_quality`
//! - Meta login: `GET`/`POST /{version}/dialog/oauth` (HTML), `GET`/`POST
//!   /{version}/oauth/access_token`, `GET /{version}/debug_token`
//! - Google Ads: `POST /{version}/customers/{id}:uploadClickConversions`,
//!   `/{version}/customers/{id}/conversionActions:mutate`,
//!   `/{version}/customers/{id}/googleAds:search` (and `:searchStream`);
//!   `GET /{version}/customers:listAccessibleCustomers`
//! - Data Manager: `POST /v1/events:ingest`, `GET /v1/requestStatus:retrieve`
//! - GA4: `POST /mp/collect`, `/debug/mp/collect`
//! - Google OAuth: `GET`/`POST /o/oauth2/v2/auth` (HTML), `POST /token`, `POST /revoke`
//!
//! The two HTML pages are what a merchant's browser sees, so injected faults skip them.

pub mod data_manager;
pub mod data_manager_status;
pub mod ga4;
pub mod gaql;
pub mod google_account;
pub mod google_accounts;
pub mod google_ads;
pub mod google_ads_actions;
pub mod google_ads_rows;
pub mod google_auth;
pub mod google_consent;
pub mod google_error;
pub mod google_grants;
pub mod login_page;
pub mod meta;
pub mod meta_event;
pub mod meta_grants;
pub mod meta_graph;
pub mod meta_login;
pub mod meta_quality;
pub mod meta_quality_fields;
pub mod meta_quality_grade;
pub mod meta_tokens;
pub mod oauth;
pub mod oauth_code;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::faults::{FaultKind, FaultSpec};
use crate::record::{
    Platform, RecordedRequest, Verdict, recordable_headers, recordable_query, redact_body,
};
use crate::state::{AppState, lock};

/// Largest body the fake platforms read (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A request as the platform modules see it.
#[derive(Debug)]
pub struct PlatformRequest {
    /// HTTP method.
    pub method: Method,
    /// Path, e.g. `/v24.0/123/events`.
    pub path: String,
    /// Non-empty path segments.
    pub segments: Vec<String>,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Bytes,
    /// Sandbox-clock time of receipt (Unix ms).
    pub now_ms: i64,
}

impl PlatformRequest {
    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body is `application/x-www-form-urlencoded`.
    pub fn is_form(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// The parser's message when the body is not JSON.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| e.to_string())
    }

    /// The body decoded as a form, as a JSON object of strings.
    pub fn form(&self) -> Map<String, Value> {
        form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()
    }

    /// The body as best recorded: JSON, a form as an object, or text.
    pub fn body_for_record(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        if self.is_form() {
            return Value::Object(self.form());
        }
        self.json()
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }
}

/// What a platform module decided.
#[derive(Debug)]
pub struct Outcome {
    /// Operation name for the log.
    pub endpoint: String,
    /// HTTP status.
    pub status: StatusCode,
    /// Response body (`None`: empty).
    pub response: Option<Value>,
    /// Extra response headers.
    pub headers: Vec<(HeaderName, String)>,
    /// Verdict for the log.
    pub verdict: Verdict,
    /// First error message.
    pub error: Option<String>,
    /// Error codes answered.
    pub error_codes: Vec<String>,
    /// Dedup ids found in the body.
    pub event_ids: Vec<String>,
    /// Events in the request.
    pub events: usize,
    /// Events accepted.
    pub accepted_events: usize,
    /// An HTML page to answer instead of `response` (which is then only recorded).
    pub page: Option<String>,
}

impl Outcome {
    /// A JSON answer with nothing else filled in.
    pub fn new(
        endpoint: &str,
        status: StatusCode,
        response: Option<Value>,
        verdict: Verdict,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            status,
            response,
            headers: Vec::new(),
            verdict,
            error: None,
            error_codes: Vec::new(),
            event_ids: Vec::new(),
            events: 0,
            accepted_events: 0,
            page: None,
        }
    }

    /// A rejection with `status`, `body`, message and codes.
    pub fn rejected(
        endpoint: &str,
        status: StatusCode,
        body: Value,
        error: String,
        codes: Vec<String>,
    ) -> Self {
        let mut o = Self::new(endpoint, status, Some(body), Verdict::Rejected);
        o.error = Some(error);
        o.error_codes = codes;
        o
    }
}

/// `v25.0`: a Graph API version (Google's are `v22`, without a dot).
fn graph_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major
                    .bytes()
                    .chain(minor.bytes())
                    .all(|b| b.is_ascii_digit())
        })
}

/// The operations that are pages a browser shows (no injected faults).
const PAGES: [&str; 2] = ["auth", "dialog/oauth"];

/// Which platform and operation a request belongs to.
fn route(method: &Method, segments: &[&str]) -> Option<(Platform, &'static str)> {
    let get = method == Method::GET;
    let post = method == Method::POST;
    let routed = match segments {
        ["v1", "requestStatus:retrieve"] if get => {
            (Platform::DataManager, "requestStatus:retrieve")
        }
        ["o", "oauth2", "v2", "auth"] if get || post => (Platform::Oauth, "auth"),
        ["token"] if post => (Platform::Oauth, "token"),
        ["revoke"] if post => (Platform::Oauth, "revoke"),
        [v, "customers:listAccessibleCustomers"] if get && !graph_version(v) => {
            (Platform::GoogleAds, "listAccessibleCustomers")
        }
        [v, "dialog", "oauth"] if (get || post) && graph_version(v) => {
            (Platform::MetaOauth, "dialog/oauth")
        }
        [v, "oauth", "access_token"] if (get || post) && graph_version(v) => {
            (Platform::MetaOauth, "oauth/access_token")
        }
        [v, "debug_token"] if get && graph_version(v) => (Platform::MetaOauth, "debug_token"),
        [v, "me"] if get && graph_version(v) => (Platform::Meta, "me"),
        [v, "me", "adaccounts"] if get && graph_version(v) => (Platform::Meta, "me/adaccounts"),
        [v, "dataset_quality"] if get && graph_version(v) => (Platform::Meta, "dataset_quality"),
        [v, _] if get && graph_version(v) => (Platform::Meta, "dataset"),
        _ if !post => return None,
        ["v1", "events:ingest"] => (Platform::DataManager, "events:ingest"),
        ["mp", "collect"] => (Platform::Ga4, "collect"),
        ["debug", "mp", "collect"] => (Platform::Ga4, "debug/collect"),
        [_, "customers", c] if c.ends_with(":uploadClickConversions") => {
            (Platform::GoogleAds, "uploadClickConversions")
        }
        [_, "customers", _, "conversionActions:mutate"] => {
            (Platform::GoogleAds, "conversionActions:mutate")
        }
        [_, "customers", _, "googleAds:search"] => (Platform::GoogleAds, "googleAds:search"),
        [_, "customers", _, "googleAds:searchStream"] => {
            (Platform::GoogleAds, "googleAds:searchStream")
        }
        [_, _, "events"] => (Platform::Meta, "events"),
        _ => return None,
    };
    Some(routed)
}

/// The platform listener's fallback handler: every non-`/_sandbox` path lands here.
pub async fn dispatch(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let path = parts.uri.path().to_owned();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let routed = route(&parts.method, &refs);
    let mut req = PlatformRequest {
        method: parts.method,
        path,
        segments: segments.clone(),
        query,
        headers: parts.headers,
        body,
        now_ms: state.clock.now_ms(),
    };
    let (platform, outcome) = match routed {
        None => (Platform::Unknown, not_found(&req)),
        Some((platform, endpoint)) => {
            let fault = if PAGES.contains(&endpoint) {
                None
            } else {
                lock(&state.faults).take(platform)
            };
            let outcome = match fault {
                Some(f) if f.kind == FaultKind::Timeout => {
                    tokio::time::sleep(f.delay()).await;
                    req.now_ms = state.clock.now_ms();
                    handle(&state, platform, endpoint, &req)
                }
                Some(f) if f.kind == FaultKind::AcceptThenTimeout => {
                    // Take effect and be recorded now; answer only after the client gave up.
                    let outcome = handle(&state, platform, endpoint, &req);
                    lock(&state.counts).answered_late(platform, &outcome.event_ids);
                    record(&state, platform, &req, &outcome);
                    tokio::time::sleep(f.delay()).await;
                    return respond(outcome);
                }
                Some(f) => fault_outcome(platform, endpoint, &f, &req),
                None => handle(&state, platform, endpoint, &req),
            };
            (platform, outcome)
        }
    };
    record(&state, platform, &req, &outcome);
    respond(outcome)
}

fn handle(state: &AppState, platform: Platform, endpoint: &str, req: &PlatformRequest) -> Outcome {
    match (platform, endpoint) {
        (Platform::Meta, "events") => meta::handle(state, req),
        (Platform::Meta, "dataset_quality") => meta_quality::handle(state, req),
        (Platform::Meta, _) => meta_graph::handle_read(state, req, endpoint),
        (Platform::MetaOauth, "dialog/oauth") => meta_login::handle_dialog(state, req),
        (Platform::MetaOauth, "oauth/access_token") => meta_login::handle_access_token(state, req),
        (Platform::MetaOauth, _) => meta_graph::handle_debug_token(state, req),
        (Platform::Oauth, "auth") => google_consent::handle(state, req),
        (Platform::Oauth, "revoke") => oauth::handle_revoke(state, req),
        (Platform::Oauth, _) => oauth::handle(state, req),
        (Platform::DataManager, "requestStatus:retrieve") => {
            data_manager_status::handle(state, req)
        }
        (Platform::DataManager, _) => data_manager::handle(state, req),
        (Platform::Ga4, "collect") => ga4::handle(state, req, false),
        (Platform::Ga4, _) => ga4::handle(state, req, true),
        (Platform::GoogleAds, "uploadClickConversions") => google_ads::handle_upload(state, req),
        (Platform::GoogleAds, "conversionActions:mutate") => {
            google_ads_actions::handle_mutate(state, req)
        }
        (Platform::GoogleAds, "listAccessibleCustomers") => {
            google_accounts::handle_list_accessible(state, req)
        }
        (Platform::GoogleAds, "googleAds:search") => {
            google_ads_actions::handle_search(state, req, false)
        }
        (Platform::GoogleAds, _) => google_ads_actions::handle_search(state, req, true),
        _ => not_found(req),
    }
}

fn fault_outcome(
    platform: Platform,
    endpoint: &str,
    fault: &FaultSpec,
    req: &PlatformRequest,
) -> Outcome {
    let (status, body) = match platform {
        Platform::Meta | Platform::MetaOauth => meta::render_fault(fault),
        Platform::GoogleAds => google_error::render_ads_fault(fault, &google_ads::api_version(req)),
        Platform::DataManager => data_manager::render_fault(fault),
        Platform::Ga4 => ga4::render_fault(fault),
        _ => oauth::render_fault(fault),
    };
    let mut o = Outcome::new(endpoint, status, body, Verdict::Fault);
    o.error = Some(format!("injected {:?} fault", fault.kind).to_lowercase());
    if let Some(secs) = fault.retry_after_secs {
        o.headers
            .push((axum::http::header::RETRY_AFTER, secs.to_string()));
    }
    o
}

fn not_found(req: &PlatformRequest) -> Outcome {
    let body = json!({"error": {"code": 404, "message": format!("{} {} is not served by the sandbox", req.method, req.path), "status": "NOT_FOUND"}});
    Outcome::rejected(
        "unknown",
        StatusCode::NOT_FOUND,
        body,
        "no such endpoint".into(),
        vec!["NOT_FOUND".into()],
    )
}

fn record(state: &AppState, platform: Platform, req: &PlatformRequest, outcome: &Outcome) {
    let body = if matches!(platform, Platform::Oauth | Platform::MetaOauth) {
        Value::String("[redacted]".into())
    } else {
        redact_body(&req.body_for_record())
    };
    let record = RecordedRequest {
        id: 0,
        platform,
        endpoint: outcome.endpoint.clone(),
        method: req.method.to_string(),
        path: req.path.clone(),
        query: recordable_query(&req.query),
        headers: recordable_headers(&req.headers),
        body,
        verdict: outcome.verdict,
        status: outcome.status.as_u16(),
        error: outcome.error.clone(),
        error_codes: outcome.error_codes.clone(),
        // Minted access tokens are credentials too.
        response: redact_body(&outcome.response.clone().unwrap_or(Value::Null)),
        event_ids: outcome.event_ids.clone(),
        events: outcome.events,
        accepted_events: outcome.accepted_events,
        received_at_ms: req.now_ms,
    };
    lock(&state.counts).request(platform, outcome.events, outcome.accepted_events);
    lock(&state.recorder).push(record);
}

fn respond(outcome: Outcome) -> Response {
    let mut response = match (outcome.page, outcome.response) {
        (Some(html), _) => (outcome.status, axum::response::Html(html)).into_response(),
        // A redirect's `response` is only its note for the log.
        (None, _) if outcome.status.is_redirection() => {
            (outcome.status, Body::empty()).into_response()
        }
        (None, Some(body)) => (outcome.status, axum::Json(body)).into_response(),
        (None, None) => (outcome.status, Body::empty()).into_response(),
    };
    for (name, value) in outcome.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
