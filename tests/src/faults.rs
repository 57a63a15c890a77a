//! Fault injection: tests ask a fake platform to fail the next N requests (or for S seconds) the
//! way the real one fails: a 5xx, a throttle answer with the platform's own throttle code, a
//! transient Graph error, a hang longer than the client's timeout, or a specific permanent error.
//!
//! This module only stores and matches faults; each platform module renders its own error body
//! (`render_fault`), so the shapes stay next to the platform's other errors.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::record::Platform;

/// Longest hang a `timeout` fault may ask for: faults must stay bounded so a test run ends.
pub const MAX_TIMEOUT_MS: u64 = 120_000;
/// Default hang for a `timeout` fault: longer than any sane client timeout (Meta suggests 1.5 s).
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// What kind of failure to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with the given HTTP `status` (default 500) and the platform's internal-error body.
    Status,
    /// The platform's rate-limit answer (Meta code 4, Google `RESOURCE_EXHAUSTED` / HTTP 429).
    Throttle,
    /// A transient error (Meta code 2 with `is_transient: true`, Google `TRANSIENT_ERROR`).
    Transient,
    /// Hang for `delay_ms`, then process the request normally (as a real timed-out request
    /// may still have been processed).
    Timeout,
    /// Process the request normally at once (the platform accepts and counts it), then hang for
    /// `delay_ms` before answering: the client times out on a request that did take effect, the
    /// one case where a resend is a raw duplicate that only the platform's dedup absorbs.
    AcceptThenTimeout,
    /// A permanent, platform-shaped error with the `code` given in the fault.
    Permanent,
}

/// A fault as posted to `POST /_sandbox/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// `meta`, `google_ads`, `data_manager`, `ga4`, `oauth`, `meta_oauth`, or `all`. The consent
    /// and login pages a browser shows take no faults.
    pub platform: String,
    /// The failure.
    pub kind: FaultKind,
    /// How many requests fail (default 1 unless `seconds` is given).
    #[serde(default)]
    pub count: Option<u32>,
    /// For how many seconds (wall clock) requests fail.
    #[serde(default)]
    pub seconds: Option<u64>,
    /// HTTP status to answer (defaults per kind and platform).
    #[serde(default)]
    pub status: Option<u16>,
    /// `permanent`: Meta Graph `code` (integer, e.g. 190), Google Ads `errorCode` as
    /// `"<kind>.<ENUM>"` (e.g. `"authorizationError.USER_PERMISSION_DENIED"`), Data Manager
    /// `ErrorReason` (e.g. `"PERMISSION_DENIED"`).
    #[serde(default)]
    pub code: Option<Value>,
    /// `permanent` on Meta: `error_subcode`.
    #[serde(default)]
    pub subcode: Option<i64>,
    /// Message to put in the error body.
    #[serde(default)]
    pub message: Option<String>,
    /// `timeout` / `accept_then_timeout`: how long to hang, in ms (default 30 000, at most
    /// 120 000).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// A `Retry-After` header (seconds) on the fault's answer (throttles, 503s).
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
}

impl FaultSpec {
    /// The bounded hang of a `timeout` fault.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(
            self.delay_ms
                .unwrap_or(DEFAULT_TIMEOUT_MS)
                .min(MAX_TIMEOUT_MS),
        )
    }

    /// A short text for the error message, falling back to `default`.
    pub fn message_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.message.as_deref().unwrap_or(default)
    }
}

/// An active fault with what is left of it.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveFault {
    /// The fault as posted.
    pub spec: FaultSpec,
    /// Requests left to fail (`None`: limited by time only).
    pub remaining: Option<u32>,
    /// Seconds left (`None`: limited by count only).
    pub seconds_left: Option<u64>,
    #[serde(skip)]
    until: Option<Instant>,
}

/// The active faults, matched in the order they were added.
#[derive(Debug, Default)]
pub struct Faults {
    active: Vec<ActiveFault>,
}

impl Faults {
    /// Adds a fault.
    ///
    /// # Errors
    /// When the platform name is unknown.
    pub fn add(&mut self, spec: FaultSpec) -> Result<(), String> {
        if spec.platform != "all" && Platform::parse(&spec.platform).is_none() {
            return Err(format!("unknown platform {:?}", spec.platform));
        }
        let until = spec
            .seconds
            .map(|s| Instant::now() + Duration::from_secs(s));
        let remaining = match (spec.count, spec.seconds) {
            (None, None) => Some(1),
            (count, _) => count,
        };
        self.active.push(ActiveFault {
            spec,
            remaining,
            seconds_left: None,
            until,
        });
        Ok(())
    }

    /// Takes one use of the first live fault for `platform`, if any.
    pub fn take(&mut self, platform: Platform) -> Option<FaultSpec> {
        let now = Instant::now();
        self.active
            .retain(|f| f.until.is_none_or(|u| u > now) && f.remaining != Some(0));
        let fault = self
            .active
            .iter_mut()
            .find(|f| f.spec.platform == "all" || f.spec.platform == platform.as_str())?;
        if let Some(n) = fault.remaining.as_mut() {
            *n -= 1;
        }
        Some(fault.spec.clone())
    }

    /// The live faults (for `GET /_sandbox/faults`).
    pub fn list(&mut self) -> Vec<ActiveFault> {
        let now = Instant::now();
        self.active
            .retain(|f| f.until.is_none_or(|u| u > now) && f.remaining != Some(0));
        self.active
            .iter()
            .map(|f| {
                let mut f = f.clone();
                f.seconds_left = f.until.map(|u| u.saturating_duration_since(now).as_secs());
                f
            })
            .collect()
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.active.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(platform: &str, count: Option<u32>) -> FaultSpec {
        FaultSpec {
            platform: platform.into(),
            kind: FaultKind::Status,
            count,
            seconds: None,
            status: Some(500),
            code: None,
            subcode: None,
            message: None,
            delay_ms: None,
            retry_after_secs: None,
        }
    }

    #[test]
    fn a_counted_fault_fails_exactly_that_many_requests() {
        let mut faults = Faults::default();
        faults.add(spec("meta", Some(2))).unwrap();
        assert!(faults.take(Platform::GoogleAds).is_none());
        assert!(faults.take(Platform::Meta).is_some());
        assert!(faults.take(Platform::Meta).is_some());
        assert!(faults.take(Platform::Meta).is_none());
    }

    #[test]
    fn unknown_platform_names_are_refused() {
        assert!(Faults::default().add(spec("tiktok", None)).is_err());
    }

    #[test]
    fn accept_then_timeout_is_a_fault_kind_with_a_bounded_hang() {
        let f: FaultSpec = serde_json::from_value(serde_json::json!(
            {"platform": "meta", "kind": "accept_then_timeout", "delay_ms": 999_999}
        ))
        .unwrap();
        assert_eq!(f.kind, FaultKind::AcceptThenTimeout);
        assert_eq!(f.delay(), Duration::from_millis(MAX_TIMEOUT_MS));
    }
}
