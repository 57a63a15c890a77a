//! Fake Meta Conversions API: `POST /{version}/{pixel_id}/events` (reference/meta-capi.md).
//!
//! Tokens are checked by `meta_grants` (configured, system-user or issued by the fake login;
//! expired → 190/463, revoked → 190/458 or 460).
//!
//! Validates as strictly as Meta: one bad event rejects the whole batch (§5.1), answers in the
//! Graph error envelope `{"error":{"message","type","code","error_subcode","fbtrace_id",…}}`
//! (§5.2) and, on success, `{"events_received":N,"messages":[],"fbtrace_id":…}` (§1.6).
//! Accepted events are counted with Meta's dedup rule (`event_name` + `event_id`, 48 h, §4).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Outcome, PlatformRequest};
use crate::checks::{first_unknown_key, opaque_id};
use crate::counts::{META_DEDUP_WINDOW_MS, Source};
use crate::faults::{FaultKind, FaultSpec};
use crate::record::{Platform, Verdict};
use crate::state::{AppState, lock};

const ENDPOINT: &str = "events";
/// Meta accepts at most 1,000 events per request (§5.1).
pub const MAX_EVENTS: usize = 1_000;
/// `event_time` may be at most 7 days old (§1.3, §5.1).
pub const MAX_EVENT_AGE_S: i64 = 7 * 86_400;

/// A Graph API error.
#[derive(Debug, Clone)]
pub struct GraphError {
    /// HTTP status.
    pub status: StatusCode,
    /// `message`
    pub message: String,
    /// `type`
    pub kind: &'static str,
    /// `code`
    pub code: i64,
    /// `error_subcode`
    pub subcode: Option<i64>,
    /// `error_user_title`
    pub user_title: Option<String>,
    /// `error_user_msg`
    pub user_msg: Option<String>,
    /// `is_transient`
    pub is_transient: bool,
}

impl GraphError {
    /// An `OAuthException` with HTTP 400 and no subcode.
    pub fn new(code: i64, message: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "OAuthException",
            code,
            subcode: None,
            user_title: None,
            user_msg: None,
            is_transient: false,
        }
    }

    /// CAPI's "Invalid parameter" error (code 100) with a subcode and user-facing title/message.
    pub fn invalid(subcode: Option<i64>, title: &str, user_msg: String) -> Self {
        Self {
            subcode,
            user_title: Some(title.into()),
            user_msg: Some(user_msg),
            ..Self::new(100, "Invalid parameter")
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let mut e = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "is_transient": self.is_transient,
            "fbtrace_id": opaque_id("fbtrace", 22),
        });
        if let Some(s) = self.subcode {
            e["error_subcode"] = json!(s);
        }
        if let Some(t) = &self.user_title {
            e["error_user_title"] = json!(t);
        }
        if let Some(m) = &self.user_msg {
            e["error_user_msg"] = json!(m);
        }
        json!({ "error": e })
    }

    /// `code` or `code/subcode` for the log.
    pub fn code_name(&self) -> String {
        match self.subcode {
            Some(s) => format!("{}/{s}", self.code),
            None => self.code.to_string(),
        }
    }

    fn outcome(&self) -> Outcome {
        self.outcome_at(ENDPOINT)
    }

    /// The rejection as the outcome of `endpoint`.
    pub fn outcome_at(&self, endpoint: &str) -> Outcome {
        let error = self.user_msg.clone().map_or_else(
            || self.message.clone(),
            |m| format!("{}: {m}", self.message),
        );
        Outcome::rejected(
            endpoint,
            self.status,
            self.to_json(),
            error,
            vec![self.code_name()],
        )
    }
}

/// Meta's rejection of an unknown key (facebook-for-woocommerce PR #3668, §1.4).
fn unexpected_key(key: &str, param: &str) -> GraphError {
    GraphError::new(
        100,
        &format!("Server Side Api Parameter Error: Unexpected key \"{key}\" on param \"{param}\""),
    )
}

/// Handles `POST /{version}/{pixel_id}/events`.
pub fn handle(state: &AppState, req: &PlatformRequest) -> Outcome {
    let (body, events) = match validate(state, req) {
        Ok(ok) => ok,
        Err(e) => {
            let mut o = e.outcome();
            o.event_ids = event_ids_of(&req.body_for_record());
            o.events = count_events(&req.body_for_record());
            return o;
        }
    };
    let mut counts = lock(&state.counts);
    for event in &events {
        let name = event
            .get("event_name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let key = event_id(event).map(|id| format!("{name}|{id}"));
        counts.observe(
            Platform::Meta,
            name,
            key,
            Source::Server,
            req.now_ms,
            Some(META_DEDUP_WINDOW_MS),
        );
    }
    drop(counts);
    let response = json!({ "events_received": events.len(), "messages": [], "fbtrace_id": opaque_id("fbtrace", 22) });
    let mut o = Outcome::new(ENDPOINT, StatusCode::OK, Some(response), Verdict::Accepted);
    o.event_ids = event_ids_of(&body);
    o.events = events.len();
    o.accepted_events = events.len();
    o
}

fn event_id(event: &Value) -> Option<String> {
    match event.get("event_id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn event_ids_of(body: &Value) -> Vec<String> {
    body.get("data")
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(event_id).collect())
        .unwrap_or_default()
}

fn count_events(body: &Value) -> usize {
    body.get("data")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// The request body as an object, `data` parsed if it came as a form field (the doc example uses
/// `-F data=[…] -F access_token=…`, §1.1).
fn parse_body(req: &PlatformRequest) -> Result<Map<String, Value>, GraphError> {
    if req.is_form() {
        let mut form = req.form();
        if let Some(Value::String(data)) = form.get("data").cloned() {
            let parsed = serde_json::from_str(&data)
                .map_err(|_| GraphError::new(100, "(#100) param data must be an array."))?;
            form.insert("data".into(), parsed);
        }
        return Ok(form);
    }
    match req.json() {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(GraphError::new(
            100,
            "(#100) The parameter data is required",
        )),
    }
}

const TOP_LEVEL_KEYS: [&str; 9] = [
    "data",
    "test_event_code",
    "partner_agent",
    "namespace_id",
    "upload_id",
    "upload_tag",
    "upload_source",
    "access_token",
    "appsecret_proof",
];

fn validate(state: &AppState, req: &PlatformRequest) -> Result<(Value, Vec<Value>), GraphError> {
    check_path(req)?;
    let body = parse_body(req)?;
    // §1.1: the token comes as the `access_token` query parameter or body field.
    let token = req
        .query_param("access_token")
        .map(str::to_owned)
        .or_else(|| {
            body.get("access_token")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    // The configured token, the system-user token, or a user token the fake login issued; a
    // token held to the connected accounts may only post to their datasets (100/33 otherwise).
    let info = super::meta_tokens::check_token(state, token.as_deref(), req.now_ms)?;
    let pixel = req.segments.get(1).map(String::as_str).unwrap_or_default();
    if !super::meta_tokens::may_use_dataset(state, &info, pixel) {
        return Err(super::meta_tokens::no_such_object(pixel, "post"));
    }
    if let Some(key) = first_unknown_key(&body, &TOP_LEVEL_KEYS) {
        return Err(unexpected_key(key, "$"));
    }
    check_partner_agent(&body)?;
    let Some(data) = body.get("data") else {
        return Err(GraphError::new(
            100,
            "(#100) The parameter data is required",
        ));
    };
    let Some(events) = data.as_array().filter(|d| !d.is_empty()) else {
        return Err(GraphError::new(100, "(#100) param data must be an array."));
    };
    // §5.1: "You can send up to 1,000 events in data".
    if events.len() > MAX_EVENTS {
        return Err(GraphError::invalid(
            None,
            "Too Many Events",
            format!(
                "You can send up to {MAX_EVENTS} events in data; this request has {}.",
                events.len()
            ),
        ));
    }
    // §1.3: one event older than 7 days rejects the entire request, so check every event's time
    // first; §5.1: any invalid event rejects the batch.
    for (i, event) in events.iter().enumerate() {
        check_event_time(state, req, i, event)?;
    }
    for (i, event) in events.iter().enumerate() {
        super::meta_event::check_event(i, event)?;
    }
    Ok((Value::Object(body.clone()), events.clone()))
}

fn check_path(req: &PlatformRequest) -> Result<(), GraphError> {
    let version = req.segments.first().map(String::as_str).unwrap_or_default();
    let valid_version = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major
                    .bytes()
                    .chain(minor.bytes())
                    .all(|b| b.is_ascii_digit())
        });
    if !valid_version {
        return Err(GraphError::new(
            2500,
            &format!("Unknown path components: {}", req.path),
        ));
    }
    let pixel = req.segments.get(1).map(String::as_str).unwrap_or_default();
    if pixel.is_empty() || !pixel.bytes().all(|b| b.is_ascii_digit()) {
        let mut e = GraphError::new(
            100,
            &format!(
                "Unsupported post request. Object with ID '{pixel}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            ),
        );
        e.kind = "GraphMethodException";
        e.subcode = Some(33);
        return Err(e);
    }
    Ok(())
}

/// §1.2: `partner_agent` "less than 23 characters and includes at least two alphabetical characters".
fn check_partner_agent(body: &Map<String, Value>) -> Result<(), GraphError> {
    let Some(agent) = body.get("partner_agent") else {
        return Ok(());
    };
    let ok = agent.as_str().is_some_and(|a| {
        a.chars().count() < 23 && a.chars().filter(char::is_ascii_alphabetic).count() >= 2
    });
    if ok {
        Ok(())
    } else {
        Err(GraphError::invalid(
            None,
            "Invalid partner_agent",
            "partner_agent must be under 23 characters with at least two letters.".into(),
        ))
    }
}

fn check_event_time(
    state: &AppState,
    req: &PlatformRequest,
    i: usize,
    event: &Value,
) -> Result<(), GraphError> {
    let Some(time) = event.get("event_time") else {
        return Err(GraphError::new(
            100,
            &format!("(#100) The parameter data[{i}].event_time is required"),
        ));
    };
    let time = match time {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let Some(time) = time else {
        return Err(GraphError::invalid(
            None,
            "Invalid Event Time",
            format!("data[{i}].event_time must be an integer Unix timestamp in seconds."),
        ));
    };
    let now_s = req.now_ms / 1_000;
    // §1.3: "If any event_time in data is greater than 7 days in the past, we return an error for
    // the entire request and process no events." Subcode 2804003 per §5.2.
    if now_s - time > MAX_EVENT_AGE_S {
        return Err(GraphError::invalid(
            Some(2_804_003),
            "Event Timestamp Too Old",
            format!(
                "The timestamp for data[{i}] is too far in the past. Events need to be sent from your server within 7 days of when they occurred."
            ),
        ));
    }
    // §5.1: future timestamps fail (Adsmurai #3); Meta documents no tolerance, the sandbox allows
    // `future_tolerance_s` of clock skew. A millisecond timestamp lands here too.
    if time - now_s > state.config.future_tolerance_s {
        return Err(GraphError::invalid(
            None,
            "Event Timestamp In Future",
            format!(
                "data[{i}].event_time {time} is in the future (is it in milliseconds? Meta wants seconds)."
            ),
        ));
    }
    Ok(())
}

/// An injected fault, Graph-shaped (§5.2 codes: 1 unknown, 2 service/transient, 17 user
/// request limit).
pub fn render_fault(fault: &FaultSpec) -> (StatusCode, Option<Value>) {
    let mut error = match fault.kind {
        FaultKind::Status | FaultKind::Timeout | FaultKind::AcceptThenTimeout => {
            let mut e = GraphError::new(1, fault.message_or("An unknown error has occurred."));
            e.status = StatusCode::INTERNAL_SERVER_ERROR;
            e.is_transient = true;
            e
        }
        // Graph answers rate limits with HTTP 400 and code 4/17 (is_transient), not with 429.
        FaultKind::Throttle => {
            let mut e = GraphError::new(17, fault.message_or("(#17) User request limit reached"));
            e.subcode = Some(2_446_079);
            e.is_transient = true;
            e
        }
        FaultKind::Transient => {
            let mut e = GraphError::new(
                2,
                fault.message_or(
                    "An unexpected error has occurred. Please retry your request later.",
                ),
            );
            e.status = StatusCode::SERVICE_UNAVAILABLE;
            e.is_transient = true;
            e
        }
        FaultKind::Permanent => {
            let code = fault.code.as_ref().and_then(Value::as_i64).unwrap_or(100);
            let mut e = GraphError::new(code, fault.message_or("Invalid parameter"));
            e.subcode = fault.subcode;
            e
        }
    };
    if let Some(status) = fault.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        error.status = status;
    }
    (error.status, Some(error.to_json()))
}
