//! The sandbox's own HTTP API under `/_sandbox/` on the platform listener: inspect recorded
//! requests and counts, reset, move the clock, register clicks, inject faults, revoke OAuth grants
//! (`inspect_oauth`), receive the demo shop's fake browser-tag calls. Everything answers JSON and allows CORS (the shop's pages post
//! browser tags from another origin).

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::counts::{META_DEDUP_WINDOW_MS, Source};
use crate::faults::FaultSpec;
use crate::platforms::google_account::Click;
use crate::record::{Platform, RecordedRequest, RequestFilter, Verdict};
use crate::state::{AppState, lock};

/// The `/_sandbox` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox", get(crate::inspect_page::page))
        .route("/_sandbox/", get(crate::inspect_page::page))
        .route(
            "/_sandbox/health",
            get(|| async { Json(json!({"ok": true})) }),
        )
        .route("/_sandbox/requests", get(requests))
        .route("/_sandbox/counts", get(counts))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/clock", get(clock).post(set_clock))
        .route("/_sandbox/clicks", get(list_clicks).post(add_click))
        .route("/_sandbox/conversion-actions", get(actions))
        .route(
            "/_sandbox/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route(
            "/_sandbox/browser-tags",
            get(browser_tags).post(add_browser_tag),
        )
        .merge(crate::inspect_ledger::routes())
        .merge(crate::inspect_oauth::routes())
        .route(
            "/_sandbox/tags/{name}",
            get(crate::shop::tag_standins::script),
        )
        .layer(axum::middleware::from_fn(cors))
}

/// Allows any origin on `/_sandbox` (answers preflights itself).
async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    response
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

async fn requests(
    State(state): State<AppState>,
    Query(filter): Query<RequestFilter>,
) -> Json<Vec<RecordedRequest>> {
    Json(lock(&state.recorder).query(&filter))
}

async fn counts(State(state): State<AppState>) -> Json<Value> {
    Json(json!(lock(&state.counts).snapshot()))
}

async fn reset(State(state): State<AppState>) -> Json<Value> {
    state.reset();
    Json(json!({"ok": true}))
}

fn clock_json(state: &AppState) -> Value {
    json!({ "now_ms": state.clock.now_ms(), "offset_ms": state.clock.offset_ms() })
}

async fn clock(State(state): State<AppState>) -> Json<Value> {
    Json(clock_json(&state))
}

/// `POST /_sandbox/clock` body: one of `set_ms`, `advance_ms`, `reset`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    #[serde(default)]
    set_ms: Option<i64>,
    #[serde(default)]
    advance_ms: Option<i64>,
    #[serde(default)]
    reset: Option<bool>,
}

async fn set_clock(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let change: ClockChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return bad_request(&format!(
                "expected {{\"set_ms\"|\"advance_ms\"|\"reset\"}}: {e}"
            ));
        }
    };
    if change.reset == Some(true) {
        state.clock.reset();
    }
    if let Some(at) = change.set_ms {
        state.clock.set_ms(at);
    }
    if let Some(delta) = change.advance_ms {
        state.clock.advance_ms(delta);
    }
    Json(clock_json(&state)).into_response()
}

async fn list_clicks(State(state): State<AppState>) -> Json<Value> {
    Json(json!(
        lock(&state.google)
            .clicks
            .values()
            .cloned()
            .collect::<Vec<_>>()
    ))
}

async fn add_click(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let mut click: Click = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return bad_request(&format!(
                "expected {{\"gclid\"|\"gbraid\"|\"wbraid\", \"clicked_at_ms\"?, \"customer_id\"?}}: {e}"
            ));
        }
    };
    let ids = [&click.gclid, &click.gbraid, &click.wbraid]
        .iter()
        .filter(|i| i.is_some())
        .count();
    if ids != 1 {
        return bad_request("exactly one of gclid, gbraid, wbraid is required");
    }
    click.clicked_at_ms = Some(click.clicked_at_ms.unwrap_or_else(|| state.clock.now_ms()));
    let id = click.id().unwrap_or_default().to_owned();
    lock(&state.google).clicks.insert(id, click.clone());
    (StatusCode::CREATED, Json(json!(click))).into_response()
}

async fn actions(State(state): State<AppState>) -> Json<Value> {
    let google = lock(&state.google);
    Json(json!(
        google
            .actions
            .iter()
            .map(|a| a.to_json(crate::config::DEFAULT_CUSTOMER_ID))
            .collect::<Vec<_>>()
    ))
}

async fn list_faults(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "active": lock(&state.faults).list() }))
}

async fn add_fault(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(&format!("invalid fault: {e}")),
    };
    let mut faults = lock(&state.faults);
    match faults.add(spec) {
        Ok(()) => (
            StatusCode::CREATED,
            Json(json!({ "active": faults.list() })),
        )
            .into_response(),
        Err(e) => bad_request(&e),
    }
}

async fn clear_faults(State(state): State<AppState>) -> Json<Value> {
    lock(&state.faults).clear();
    Json(json!({ "active": [] }))
}

async fn browser_tags(State(state): State<AppState>) -> Json<Vec<RecordedRequest>> {
    let filter = RequestFilter {
        platform: Some("browser_tags".into()),
        ..RequestFilter::default()
    };
    Json(lock(&state.recorder).query(&filter))
}

/// `POST /_sandbox/browser-tags` body: `{"tag":"fbq"|"gtag","args":[…],"page":"…"}`.
#[derive(Debug, Deserialize)]
struct TagCall {
    tag: String,
    #[serde(default)]
    args: Vec<Value>,
    #[serde(default)]
    page: Option<String>,
    /// The call's position among the page's tag calls (the stand-ins count them).
    #[serde(default)]
    seq: Option<u64>,
}

async fn add_browser_tag(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let call: TagCall = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return bad_request(&format!("expected {{\"tag\",\"args\",\"page\"}}: {e}")),
    };
    let now = state.clock.now_ms();
    let id = count_tag(&state, &call, now);
    let record = RecordedRequest {
        id: 0,
        platform: Platform::BrowserTags,
        endpoint: call.tag.clone(),
        method: "POST".into(),
        path: "/_sandbox/browser-tags".into(),
        query: BTreeMap::new(),
        headers: crate::record::recordable_headers(&headers),
        body: json!({ "tag": call.tag, "args": call.args, "page": call.page, "seq": call.seq }),
        verdict: Verdict::Accepted,
        status: 200,
        error: None,
        error_codes: Vec::new(),
        response: Value::Null,
        event_ids: id.into_iter().collect(),
        events: 1,
        accepted_events: 1,
        received_at_ms: now,
    };
    let id = lock(&state.recorder).push(record);
    Json(json!({ "ok": true, "id": id })).into_response()
}

/// Counts a browser copy under the platform's dedup rule; returns its dedup id.
fn count_tag(state: &AppState, call: &TagCall, now: i64) -> Option<String> {
    let arg = |i: usize| call.args.get(i);
    let text = |v: Option<&Value>, k: &str| {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let kind = arg(0).and_then(Value::as_str).unwrap_or_default();
    let name = arg(1)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut counts = lock(&state.counts);
    match (call.tag.as_str(), kind) {
        // fbq('track', name, params, {eventID}) — Meta dedups it with the server's event_id (§4).
        ("fbq", "track" | "trackCustom") => {
            let id = text(arg(3), "eventID");
            let key = id.as_ref().map(|id| format!("{name}|{id}"));
            counts.observe(
                Platform::Meta,
                &name,
                key,
                Source::Browser,
                now,
                Some(META_DEDUP_WINDOW_MS),
            );
            id
        }
        // gtag('event','conversion',{send_to, transaction_id}) reports into a WEBPAGE action, the
        // one Data Manager multi-source events dedup against by transactionId.
        ("gtag", "event") if name == "conversion" => {
            let txn = text(arg(2), "transaction_id");
            let send_to = text(arg(2), "send_to").unwrap_or_default();
            let google = lock(&state.google);
            let (action, label) = google.action_for_send_to(&send_to).map_or_else(
                || (format!("send_to:{send_to}"), send_to.clone()),
                |a| (a.id.to_string(), a.name.clone()),
            );
            drop(google);
            let key = txn.as_ref().map(|t| format!("action:{action}|{t}"));
            counts.observe(
                Platform::DataManager,
                &label,
                key,
                Source::Browser,
                now,
                None,
            );
            txn
        }
        ("gtag", "event") => {
            let txn = text(arg(2), "transaction_id");
            let key = if name == "purchase" {
                txn.as_ref().map(|t| format!("purchase|{t}"))
            } else {
                None
            };
            counts.observe(Platform::Ga4, &name, key, Source::Browser, now, None);
            txn
        }
        _ => None,
    }
}
