//! What a platform's answer means, per event: the shared error classifier (DESIGN §5).
//!
//! Each `classify_*` takes the HTTP status and body of the answer to a request built from `n`
//! events and returns `n` [`Verdict`]s in body order ([`Built::sent`](super::request::Built)).
//! Meta rejects whole batches (meta-capi.md §5.1), so a rejected multi-event batch yields
//! [`Verdict::SplitAndRetry`] to isolate the bad event by bisection. Data Manager fails a whole
//! request fast and names the events at fault in `fieldViolations` (`events[N]`,
//! data-manager.md §5).
//!
//! Backoff growth per attempt is the caller's ([`backoff_secs`]); delays here are the first wait
//! each answer calls for. Reasons never quote request data, only the platform's code and message.

use serde_json::Value;

mod google;

pub use google::{classify_data_manager, classify_ga4, field_path_index};

/// What to do with one event after an answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Accepted, or already recorded (a duplicate counts as delivered).
    Delivered,
    /// A transient fault: send again after `after_secs`.
    Retry {
        /// Seconds to wait.
        after_secs: u64,
        /// What happened.
        reason: String,
    },
    /// Rate limited: send again after `after_secs`, and slow down.
    Throttled {
        /// Seconds to wait.
        after_secs: u64,
        /// What happened.
        reason: String,
    },
    /// This event will never be accepted as it is: the row fails with the reason (kept, shown on
    /// the admin page, replayable).
    Permanent {
        /// What is wrong.
        reason: String,
    },
    /// The merchant's setup is wrong (token, permission, conversion action): alert; the event
    /// may be replayed once fixed.
    ConfigError {
        /// What to fix.
        reason: String,
    },
    /// The platform refused the credential itself (Meta code 190, Google `invalid_grant` on
    /// refresh): the merchant must reconnect. The row waits, unattempted, and delivery to the
    /// platform pauses (`connect::status`) instead of burning retries.
    Reconnect {
        /// The platform's reason.
        reason: String,
    },
    /// The whole multi-event request was rejected for one bad event: send each half
    /// (`batch::halves`) on its own.
    SplitAndRetry {
        /// The platform's complaint.
        reason: String,
    },
}

impl Verdict {
    /// Whether the operator should be alerted.
    pub fn needs_alert(&self) -> bool {
        matches!(self, Self::ConfigError { .. })
    }
}

/// First wait after a transient fault.
pub const RETRY_SECS: u64 = 60;
/// First wait after throttling.
pub const THROTTLE_SECS: u64 = 300;
/// Longest wait between attempts.
pub const MAX_BACKOFF_SECS: u64 = 3600;

/// Exponential backoff for attempt `attempt` (0-based) starting at `first_secs`, capped at
/// [`MAX_BACKOFF_SECS`] (but never below `first_secs`).
pub fn backoff_secs(first_secs: u64, attempt: u32) -> u64 {
    let factor = 1u64.checked_shl(attempt.min(20)).unwrap_or(u64::MAX);
    first_secs
        .saturating_mul(factor)
        .min(MAX_BACKOFF_SECS)
        .max(first_secs)
}

/// Whether a Google answer refuses the access token itself (HTTP 401, `UNAUTHENTICATED`,
/// google.md §1.9): a cached token revoked before its expiry. The send run then asks once for a
/// fresh token and sends again, rather than failing every row as a setup problem.
pub fn refuses_access_token(status: u16, body: &str) -> bool {
    status == 401
        || serde_json::from_str::<Value>(body)
            .is_ok_and(|v| v["error"]["status"].as_str() == Some("UNAUTHENTICATED"))
}

/// The verdict for a request that got no answer (timeout, connection error): retry
/// (meta-capi.md §5.1: "retrying the request in cases where the response indicates a non-client
/// error, such as a timeout").
pub fn transport_failure() -> Verdict {
    retry("no answer (timeout or connection error)")
}

fn retry(reason: impl Into<String>) -> Verdict {
    Verdict::Retry {
        after_secs: RETRY_SECS,
        reason: reason.into(),
    }
}

fn throttled(reason: impl Into<String>) -> Verdict {
    Verdict::Throttled {
        after_secs: THROTTLE_SECS,
        reason: reason.into(),
    }
}

fn permanent(reason: impl Into<String>) -> Verdict {
    Verdict::Permanent {
        reason: reason.into(),
    }
}

fn config(reason: impl Into<String>) -> Verdict {
    Verdict::ConfigError {
        reason: reason.into(),
    }
}

/// A payload rejection of a whole request: bisect a batch, give up on a single event.
fn rejected(n: usize, reason: String) -> Vec<Verdict> {
    if n > 1 {
        vec![Verdict::SplitAndRetry { reason }; n]
    } else {
        vec![permanent(reason); n]
    }
}

/// At most 200 characters of a platform message.
fn short(message: &str) -> String {
    message.chars().take(200).collect()
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

// ------------------------------------------------------------------------------------------
// Meta

/// Classifies a Meta Conversions API answer to a request of `n` events (meta-capi.md §5.2).
#[must_use]
pub fn classify_meta(status: u16, body: &str, n: usize) -> Vec<Verdict> {
    if is_success(status) {
        return vec![Verdict::Delivered; n];
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = &json["error"];
    let code = error["code"].as_i64();
    let subcode = error["error_subcode"].as_i64();
    let message = short(error["message"].as_str().unwrap_or(""));
    let reason = match (code, subcode) {
        (Some(c), Some(s)) => format!("meta {c}/{s}: {message}"),
        (Some(c), None) => format!("meta {c}: {message}"),
        _ => format!("meta HTTP {status}"),
    };
    let verdict = match (code, subcode) {
        // 190: "access token expired → new token": the credential itself is refused (expired,
        // revoked, password changed), so the merchant reconnects and delivery pauses meanwhile.
        (Some(190), _) => Verdict::Reconnect { reason },
        // 3 capability, 10 and 200-299 permissions; 100/33: pixel missing or not permitted.
        (Some(3 | 10 | 200..=299), _) | (Some(100), Some(33)) => config(reason),
        // 4, 17, 32, 613 call-rate limits, 341 application limit, 80000-80008 Marketing API
        // business-use-case limits: throttling, retry later.
        (Some(4 | 17 | 32 | 341 | 613 | 80_000..=80_008), _) => throttled(reason),
        // 1 API Unknown, 2 API Service: temporary.
        (Some(1 | 2), _) => retry(reason),
        // 368: "temporarily blocked for policy → wait and retry".
        (Some(368), _) => Verdict::Retry {
            after_secs: MAX_BACKOFF_SECS,
            reason,
        },
        _ if error["is_transient"].as_bool() == Some(true) => retry(reason),
        // 100 with a payload subcode (2804003 too old, 2804001 bad fbc, 2804050 insufficient
        // customer information, …): "If any event you send in a batch is invalid, we reject the
        // entire batch" (§5.1) → bisect.
        (Some(100), _) => return rejected(n, reason),
        _ => match status {
            401 | 403 => config(reason),
            429 => throttled(reason),
            408 | 500..=599 => retry(reason),
            // RudderStack maps unknown codes to retry; an unknown 4xx is about the payload.
            _ if code.is_some() && !(400..500).contains(&status) => retry(reason),
            _ => return rejected(n, reason),
        },
    };
    vec![verdict; n]
}

#[cfg(test)]
mod tests;
