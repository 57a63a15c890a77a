//! Google's own verdict on a delivered Data Manager request (data-manager.md §4): the ingest
//! answer is only a `requestId`, processing happens later, and
//! `GET {base}/v1/requestStatus:retrieve?requestId=…` reports per destination the status, the
//! number of records and the processing errors by reason (`…_INVALID_GCLID`,
//! `…_DENIED_CONSENT`, …), counts only.
//!
//! When to ask: "Wait for 30 minutes, then send a `RetrieveRequestStatus` request … Periodically
//! repeat this step … until the destination status … reaches `SUCCESS`, `PARTIAL_SUCCESS`, or
//! `FAILURE`. Use an exponential backoff algorithm" (data-manager.md §4); Google's own guidance
//! checks from 30 minutes to 24 hours later, so a request still processing after a day is given
//! up. This module builds the request, reads the answer and says when to ask next; the worker
//! (cron) stores the counts for `/_ar/health`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::request::{Body, DataManagerConfig, HttpRequest, Method, trim_base};

/// First look, after the ingest: "Wait for 30 minutes" (data-manager.md §4).
pub const FIRST_CHECK_AFTER_MS: u64 = 30 * 60 * 1000;
/// Google's guidance checks up to a day after the ingest (data-manager.md §4).
pub const GIVE_UP_AFTER_MS: u64 = 24 * 60 * 60 * 1000;
/// First wait between two looks at a request still processing; doubles, at most [`MAX_WAIT_MS`].
pub const FIRST_WAIT_MS: u64 = 5 * 60 * 1000;
/// Longest wait between two looks.
pub const MAX_WAIT_MS: u64 = 4 * 60 * 60 * 1000;

/// `GET …/v1/requestStatus:retrieve?requestId=…` with an empty body (data-manager.md §4).
pub fn retrieve_request(
    config: &DataManagerConfig,
    access_token: &str,
    request_id: &str,
) -> HttpRequest {
    let id: String = form_urlencoded::byte_serialize(request_id.as_bytes()).collect();
    HttpRequest {
        method: Method::Get,
        url: format!(
            "{}/v1/requestStatus:retrieve?requestId={id}",
            trim_base(&config.base_url)
        ),
        headers: vec![("authorization".into(), format!("Bearer {access_token}"))],
        body: Body::Form(String::new()),
    }
}

/// What Google says about one request, summed over its destinations (we send one per request).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct RequestStatus {
    /// `SUCCESS`, `PARTIAL_SUCCESS`, `FAILED`, `PROCESSING` or `REQUEST_STATUS_UNKNOWN`; with
    /// several destinations the least finished, else the worst.
    pub status: String,
    /// Records Google counted (`eventsIngestionStatus.recordCount`).
    pub record_count: u64,
    /// Records per processing error reason (`errorInfo.errorCounts`), the
    /// `PROCESSING_ERROR_REASON_` prefix removed.
    pub errors: BTreeMap<String, u64>,
    /// Records per processing warning reason (`warningInfo.warningCounts`).
    pub warnings: BTreeMap<String, u64>,
    /// The destinations' conversion actions (`destination.productDestinationId`), comma-separated.
    #[serde(default)]
    pub destination: String,
}

impl RequestStatus {
    /// Whether Google is done with the request: `SUCCESS`, `PARTIAL_SUCCESS` or `FAILED`
    /// (data-manager.md §4).
    pub fn is_final(&self) -> bool {
        matches!(
            self.status.as_str(),
            "SUCCESS" | "PARTIAL_SUCCESS" | "FAILED"
        )
    }

    /// Records Google processed without an error.
    pub fn processed(&self) -> u64 {
        self.record_count
            .saturating_sub(self.errors.values().sum::<u64>())
    }
}

/// An int64 as JSON: a string (proto3 JSON) or a number.
fn int64(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

fn counts(list: &Value, into: &mut BTreeMap<String, u64>) {
    for c in list.as_array().into_iter().flatten() {
        let reason = c["reason"].as_str().unwrap_or("UNSPECIFIED");
        let short = reason
            .strip_prefix("PROCESSING_ERROR_REASON_")
            .or_else(|| reason.strip_prefix("PROCESSING_WARNING_REASON_"))
            .or_else(|| reason.strip_prefix("PROCESSING_ERROR_"))
            .unwrap_or(reason);
        *into.entry(short.to_owned()).or_default() += int64(&c["recordCount"]);
    }
}

/// Rank of a status when destinations disagree: unfinished first, then the worst outcome.
fn rank(status: &str) -> u8 {
    match status {
        "PROCESSING" => 5,
        "FAILED" => 3,
        "PARTIAL_SUCCESS" => 2,
        "SUCCESS" => 1,
        // REQUEST_STATUS_UNKNOWN and anything new.
        _ => 4,
    }
}

/// Reads a `requestStatus:retrieve` answer. `None` for an answer that is no status (an error,
/// an unreadable body): the caller asks again later.
pub fn parse(http_status: u16, body: &str) -> Option<RequestStatus> {
    if !(200..300).contains(&http_status) {
        return None;
    }
    let json: Value = serde_json::from_str(body).ok()?;
    let destinations = json["requestStatusPerDestination"].as_array()?;
    let mut out = RequestStatus::default();
    for d in destinations {
        let status = d["requestStatus"]
            .as_str()
            .unwrap_or("REQUEST_STATUS_UNKNOWN");
        if out.status.is_empty() || rank(status) > rank(&out.status) {
            status.clone_into(&mut out.status);
        }
        out.record_count += int64(&d["eventsIngestionStatus"]["recordCount"]);
        if let Some(id) = d["destination"]["productDestinationId"].as_str() {
            if !out.destination.is_empty() {
                out.destination.push(',');
            }
            out.destination.push_str(id);
        }
        counts(&d["errorInfo"]["errorCounts"], &mut out.errors);
        counts(&d["warningInfo"]["warningCounts"], &mut out.warnings);
    }
    if out.status.is_empty() {
        "REQUEST_STATUS_UNKNOWN".clone_into(&mut out.status);
    }
    Some(out)
}

/// When to look at a request sent at `sent_at_ms` for the first time: after `first_check_ms`
/// ([`FIRST_CHECK_AFTER_MS`] unless a test shortens it).
pub const fn first_check_at(sent_at_ms: u64, first_check_ms: u64) -> u64 {
    sent_at_ms.saturating_add(first_check_ms)
}

/// When to look again at a request sent at `sent_at_ms` that was still processing at its
/// `checks`-th look at `now_ms`: exponential backoff from [`FIRST_WAIT_MS`], at most
/// [`MAX_WAIT_MS`]; `None` once [`GIVE_UP_AFTER_MS`] has passed since it was sent.
pub fn next_check_at(sent_at_ms: u64, checks: u32, now_ms: u64) -> Option<u64> {
    if now_ms.saturating_sub(sent_at_ms) >= GIVE_UP_AFTER_MS {
        return None;
    }
    let wait = FIRST_WAIT_MS
        .saturating_mul(1_u64 << checks.saturating_sub(1).min(16))
        .min(MAX_WAIT_MS);
    Some(now_ms.saturating_add(wait))
}

/// Google's verdict next to our own delivery counts, over the requests we asked about
/// (`/_ar/health`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct GoogleVerdict {
    /// Delivered requests with a request id.
    pub requests: u64,
    /// Of those, the ones Google has not finished (or we have not asked about yet).
    pub pending: u64,
    /// Events we sent in the finished requests.
    pub sent: u64,
    /// Records Google processed without an error in them.
    pub processed: u64,
    /// Records per processing error reason.
    pub errors: BTreeMap<String, u64>,
    /// `sent 120, Google processed 117, 3 × INVALID_GCLID`.
    pub summary: String,
    /// The same per destination (conversion action id): records Google processed and errors by
    /// reason, for the finished requests.
    pub by_destination: BTreeMap<String, DestinationVerdict>,
}

/// Google's verdict for one destination (conversion action).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct DestinationVerdict {
    /// Events we sent to it in finished requests.
    pub sent: u64,
    /// Records Google processed without an error.
    pub processed: u64,
    /// Records per processing error reason.
    pub errors: BTreeMap<String, u64>,
}

/// Sums `requests` (events we sent in each, and Google's final status when known).
pub fn verdict<'a>(
    requests: impl IntoIterator<Item = (u64, Option<&'a RequestStatus>)>,
) -> GoogleVerdict {
    let mut v = GoogleVerdict::default();
    for (sent, status) in requests {
        v.requests += 1;
        match status.filter(|s| s.is_final()) {
            Some(s) => {
                v.sent += sent;
                v.processed += s.processed();
                let d = v.by_destination.entry(s.destination.clone()).or_default();
                d.sent += sent;
                d.processed += s.processed();
                for (reason, n) in &s.errors {
                    *v.errors.entry(reason.clone()).or_default() += n;
                    *d.errors.entry(reason.clone()).or_default() += n;
                }
            }
            None => v.pending += 1,
        }
    }
    let mut summary = format!("sent {}, Google processed {}", v.sent, v.processed);
    for (reason, n) in &v.errors {
        let _ = write!(summary, ", {n} × {reason}");
    }
    if v.pending > 0 {
        let _ = write!(summary, " ({} requests still processing)", v.pending);
    }
    v.summary = summary;
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[cfg_attr(target_arch = "wasm32", allow(dead_code))] // used by the host-only snapshot
    fn config() -> DataManagerConfig {
        DataManagerConfig {
            base_url: "https://datamanager.googleapis.com/".into(),
            operating_account_id: "1234567890".into(),
            login_account_id: None,
        }
    }

    // data-manager.md §4: GET with the request id in the query and an empty body.
    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn the_status_request_is_a_get_with_the_request_id() {
        let r = retrieve_request(&config(), "ACCESS", "req/1+2");
        insta::assert_json_snapshot!("data_manager_request_status_retrieve", r);
        assert_eq!(
            r.url,
            "https://datamanager.googleapis.com/v1/requestStatus:retrieve?requestId=req%2F1%2B2"
        );
    }

    // data-manager.md §4 response shape: counts per reason, int64 as strings.
    #[test]
    fn a_partial_success_counts_records_and_errors_by_reason() {
        let body = json!({"requestStatusPerDestination": [{
            "destination": {"productDestinationId": "555"},
            "requestStatus": "PARTIAL_SUCCESS",
            "eventsIngestionStatus": {"recordCount": "120"},
            "errorInfo": {"errorCounts": [
                {"reason": "PROCESSING_ERROR_REASON_INVALID_GCLID", "recordCount": "3"}]},
            "warningInfo": {"warningCounts": [
                {"reason": "PROCESSING_WARNING_REASON_INTERNAL_ERROR", "recordCount": "1"}]}
        }]})
        .to_string();
        let s = parse(200, &body).unwrap();
        assert!(s.is_final());
        assert_eq!(s.record_count, 120);
        assert_eq!(s.processed(), 117);
        assert_eq!(s.errors, BTreeMap::from([("INVALID_GCLID".to_owned(), 3)]));
        assert_eq!(
            s.warnings,
            BTreeMap::from([("INTERNAL_ERROR".to_owned(), 1)])
        );
        assert_eq!(s.destination, "555");
    }

    #[test]
    fn the_verdict_puts_googles_counts_next_to_ours() {
        let done = RequestStatus {
            status: "PARTIAL_SUCCESS".into(),
            record_count: 120,
            errors: BTreeMap::from([("INVALID_GCLID".to_owned(), 3)]),
            warnings: BTreeMap::new(),
            destination: "555".into(),
        };
        let v = verdict([(120, Some(&done)), (5, None)]);
        assert_eq!(
            v.summary,
            "sent 120, Google processed 117, 3 × INVALID_GCLID (1 requests still processing)"
        );
        assert_eq!(
            (v.requests, v.pending, v.sent, v.processed),
            (2, 1, 120, 117)
        );
        assert_eq!(v.by_destination["555"].errors["INVALID_GCLID"], 3);
    }

    #[test]
    fn processing_is_not_final_and_errors_are_no_status() {
        let body = json!({"requestStatusPerDestination": [
            {"requestStatus": "SUCCESS", "eventsIngestionStatus": {"recordCount": 2}},
            {"requestStatus": "PROCESSING"}]})
        .to_string();
        let s = parse(200, &body).unwrap();
        assert_eq!(s.status, "PROCESSING");
        assert!(!s.is_final());
        assert_eq!(parse(400, "{}"), None);
        assert_eq!(parse(200, "not json"), None);
    }

    // data-manager.md §4: wait 30 minutes, then back off exponentially; Google checks up to a day.
    #[test]
    fn status_checks_start_after_30_minutes_back_off_and_stop_after_a_day() {
        let sent = 1_000_000_000;
        assert_eq!(
            first_check_at(sent, FIRST_CHECK_AFTER_MS),
            sent + 30 * 60 * 1000
        );
        let at = sent + FIRST_CHECK_AFTER_MS;
        assert_eq!(next_check_at(sent, 1, at), Some(at + 5 * 60 * 1000));
        assert_eq!(next_check_at(sent, 3, at), Some(at + 20 * 60 * 1000));
        assert_eq!(next_check_at(sent, 30, at), Some(at + MAX_WAIT_MS));
        assert_eq!(next_check_at(sent, 2, sent + GIVE_UP_AFTER_MS), None);
    }
}
