//! What the fake Data Manager does with an accepted ingest request after answering its
//! `requestId`, and `GET /v1/requestStatus:retrieve?requestId=…` (data-manager.md §4).
//!
//! Processing is derived from what the request carried, per destination:
//! - a click id the account knows as another customer's click:
//!   `PROCESSING_ERROR_REASON_INVALID_OPERATING_ACCOUNT_FOR_CLICK`;
//! - with `strict_clicks`, a gclid the sandbox neither knows nor can read the time of
//!   (`sbx-<ms>-…`): `PROCESSING_ERROR_REASON_INVALID_GCLID`;
//! - `adUserData: CONSENT_DENIED` (on the event, else on the request):
//!   `PROCESSING_ERROR_REASON_DENIED_CONSENT`;
//! - an event with neither a click id nor user data:
//!   `PROCESSING_ERROR_REASON_NO_IDENTIFIERS_PROVIDED` (the fast checks refuse such an event
//!   first, `NO_IDENTIFIERS_PROVIDED`, data-manager.md §1.4; kept for a request they let by).
//!
//! An event whose `transactionId` matches an earlier conversion of the same action is an
//! adjustment (data-manager.md §3.1): a different `conversionValue` replaces the recorded one
//! and adds no conversion. Events with a processing error are not counted as conversions.
//! The status is final at once (`SUCCESS`, `PARTIAL_SUCCESS` or `FAILED`): the sandbox has no
//! processing delay to wait for.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::google_account::GoogleAccount;
use super::google_auth::check_bearer;
use super::google_error::rpc_error;
use super::{Outcome, PlatformRequest};
use crate::record::Verdict;
use crate::state::{AppState, lock};

const ENDPOINT: &str = "requestStatus:retrieve";

/// The processing error of one event for a destination of `operating` account, if any.
fn processing_error(
    account: &GoogleAccount,
    strict_clicks: bool,
    operating: &str,
    event: &Value,
    request_consent: Option<&Value>,
) -> Option<&'static str> {
    let ad_ids = event.get("adIdentifiers");
    let click = ["gclid", "gbraid", "wbraid"]
        .iter()
        .find_map(|k| ad_ids.and_then(|a| a.get(*k)).and_then(Value::as_str));
    if let Some(id) = click {
        if let Some(owner) = account
            .clicks
            .get(id)
            .and_then(|c| c.customer_id.as_deref())
            && owner != operating
        {
            return Some("PROCESSING_ERROR_REASON_INVALID_OPERATING_ACCOUNT_FOR_CLICK");
        }
        let is_gclid = ad_ids.and_then(|a| a.get("gclid")).is_some();
        if strict_clicks && is_gclid && account.click_time_ms(id).is_none() {
            return Some("PROCESSING_ERROR_REASON_INVALID_GCLID");
        }
    }
    let consent = event
        .get("consent")
        .or(request_consent)
        .and_then(|c| c.get("adUserData"))
        .and_then(Value::as_str);
    if consent == Some("CONSENT_DENIED") {
        return Some("PROCESSING_ERROR_REASON_DENIED_CONSENT");
    }
    let has_user_data = event
        .get("userData")
        .and_then(|u| u.get("userIdentifiers"))
        .and_then(Value::as_array)
        .is_some_and(|ids| !ids.is_empty());
    if click.is_none() && !has_user_data {
        return Some("PROCESSING_ERROR_REASON_NO_IDENTIFIERS_PROVIDED");
    }
    None
}

/// What an accepted ingest means for one event on one destination.
pub enum Processed {
    /// A new conversion.
    Conversion,
    /// An adjustment of an earlier conversion (its value replaced, no new conversion).
    Adjustment,
    /// The same conversion again with the same value (a resend).
    Repeat,
    /// Failed processing with this reason: no conversion.
    Failed(&'static str),
}

/// Processes the events of an accepted (not `validateOnly`) ingest request and records the
/// status `requestStatus:retrieve` will answer under `request_id`. `destinations` are
/// `(operating account id, conversion action id, the destination JSON)`. Returns, per destination
/// and event, what happened.
pub fn process(
    state: &AppState,
    request_id: &str,
    destinations: &[(String, String, Value)],
    events: &[Value],
    request_consent: Option<&Value>,
) -> Vec<Vec<Processed>> {
    let mut account = lock(&state.google);
    let mut statuses = Vec::new();
    let mut out = Vec::new();
    for (operating, action, destination) in destinations {
        let mut errors: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut per_event = Vec::new();
        for event in events {
            let error = processing_error(
                &account,
                state.config.strict_clicks,
                operating,
                event,
                request_consent,
            );
            let processed = if let Some(reason) = error {
                *errors.entry(reason).or_default() += 1;
                Processed::Failed(reason)
            } else {
                let txn = event
                    .get("transactionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let value = event
                    .get("conversionValue")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                let key = (action.clone(), txn.clone());
                match account.dm_conversions.get(&key).copied() {
                    None => {
                        account.dm_conversions.insert(key, value);
                        Processed::Conversion
                    }
                    Some(old) if (old - value).abs() > 1e-9 => {
                        account.dm_conversions.insert(key, value);
                        account.dm_adjustments.push((action.clone(), txn, value));
                        Processed::Adjustment
                    }
                    Some(_) => Processed::Repeat,
                }
            };
            per_event.push(processed);
        }
        let failed: u64 = errors.values().sum();
        let total = events.len() as u64;
        let status = match failed {
            0 => "SUCCESS",
            f if f == total => "FAILED",
            _ => "PARTIAL_SUCCESS",
        };
        let mut entry = json!({
            "destination": destination,
            "requestStatus": status,
            "eventsIngestionStatus": {"recordCount": total.to_string()},
        });
        if failed > 0 {
            let counts: Vec<Value> = errors
                .iter()
                .map(|(reason, n)| json!({"reason": reason, "recordCount": n.to_string()}))
                .collect();
            entry["errorInfo"] = json!({"errorCounts": counts});
        }
        statuses.push(entry);
        out.push(per_event);
    }
    account.dm_requests.insert(
        request_id.to_owned(),
        json!({"requestStatusPerDestination": statuses}),
    );
    out
}

/// Handles `GET /v1/requestStatus:retrieve?requestId=…`: the recorded status, or
/// `INVALID_REQUEST_ID` for an id the sandbox never answered (or a `validateOnly` request,
/// data-manager.md §4).
pub fn handle(state: &AppState, req: &PlatformRequest) -> Outcome {
    if let Err(f) = check_bearer(state, req, None) {
        return Outcome::rejected(ENDPOINT, f.status, f.body, f.message, vec![f.code]);
    }
    let id = req.query_param("requestId").unwrap_or_default().to_owned();
    let found = lock(&state.google).dm_requests.get(&id).cloned();
    if let Some(body) = found {
        return Outcome::new(ENDPOINT, StatusCode::OK, Some(body), Verdict::Accepted);
    }
    let message = "The request ID is invalid.";
    let body = rpc_error(
        StatusCode::BAD_REQUEST,
        message,
        vec![json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "INVALID_REQUEST_ID", "domain": "datamanager.googleapis.com"})],
    );
    Outcome::rejected(
        ENDPOINT,
        StatusCode::BAD_REQUEST,
        body,
        message.into(),
        vec!["INVALID_REQUEST_ID".into()],
    )
}
