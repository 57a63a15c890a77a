//! What a send attempt does to an outbox row (DESIGN §5, "Failures"): the platform's answer,
//! classified per event by `platform::verdict`, becomes the row's next state.
//!
//! - delivered → `delivered`;
//! - retry / throttled → back to `pending`, due after an exponential backoff
//!   ([`verdict::backoff_secs`]); a delayed Queue wake-up (the cron flush as backstop) sends it
//!   again when due; after
//!   [`RetryPolicy::max_attempts`] attempts the row fails with the last reason;
//! - permanent → `failed` with the platform's reason (replayable once fixed);
//! - configuration error → `failed` with [`FailureKind::Config`], so health shows it as a setup
//!   problem and not as bad events;
//! - not sendable (consent, missing context, too old) → `skipped` with the recorded reason;
//! - credential refused (reconnect) → back to `pending`, not an attempt: the platform pauses.
//!
//! Pure: `now_ms` is an argument.

use crate::delivery::plan::RowStatus;
use crate::platform::Platform;
use crate::platform::request::NotSent;
use crate::platform::verdict::{self, Verdict};

/// Why a row failed: the merchant's setup (token, permission, conversion action — fix it, then
/// replay) or the event itself (the platform will never accept it as it is). Stored in the
/// `outbox.failure_kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The merchant's setup is wrong.
    Config,
    /// The event is refused, or retries ran out.
    Event,
}

impl FailureKind {
    /// Every kind.
    pub const ALL: [Self; 2] = [Self::Config, Self::Event];

    /// The column value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Event => "event",
        }
    }

    /// Parses a column value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How retries back off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Replaces the first wait each verdict asks for (dev/test only: `RETRY_BASE_SECS`, so an
    /// end-to-end test need not wait a minute). `None`: the verdict's own wait.
    pub first_wait_secs: Option<u64>,
    /// Attempts before a row is given up as failed.
    pub max_attempts: u32,
}

/// Attempts before giving up: with a 60 s first wait doubling to the one-hour cap this spans
/// about six hours, past any platform outage worth waiting for.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 12;

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_wait_secs: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

impl RetryPolicy {
    /// The policy with an optional `RETRY_BASE_SECS` value (whole seconds; ignored if invalid).
    pub fn from_var(retry_base_secs: Option<&str>) -> Self {
        Self {
            first_wait_secs: retry_base_secs.and_then(|v| v.trim().parse().ok()),
            ..Self::default()
        }
    }
}

/// A row's next state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowUpdate {
    /// New status.
    pub status: RowStatus,
    /// When it is due next (Unix ms; only meaningful for `pending`).
    pub next_attempt_at_ms: u64,
    /// Why (failure, skip, hold or last retry reason).
    pub last_error: Option<String>,
    /// For `failed` rows: whose problem it is.
    pub failure: Option<FailureKind>,
    /// Whether the attempt counts (a request was sent).
    pub attempted: bool,
}

/// The next state after `verdict` for a row that had `attempts_before` attempts.
#[must_use]
pub fn after_verdict(
    verdict: &Verdict,
    attempts_before: u32,
    now_ms: u64,
    policy: &RetryPolicy,
) -> RowUpdate {
    let attempts = attempts_before.saturating_add(1);
    let done = |status, last_error, failure| RowUpdate {
        status,
        next_attempt_at_ms: now_ms,
        last_error,
        failure,
        attempted: true,
    };
    let (after_secs, reason) = match verdict {
        Verdict::Delivered => return done(RowStatus::Delivered, None, None),
        Verdict::Permanent { reason } => {
            return done(
                RowStatus::Failed,
                Some(reason.clone()),
                Some(FailureKind::Event),
            );
        }
        Verdict::ConfigError { reason } => {
            return done(
                RowStatus::Failed,
                Some(reason.clone()),
                Some(FailureKind::Config),
            );
        }
        Verdict::Reconnect { reason } => {
            return paused(&format!("waiting for reconnection: {reason}"), now_ms);
        }
        Verdict::Retry { after_secs, reason } | Verdict::Throttled { after_secs, reason } => {
            (*after_secs, reason.clone())
        }
        // The sender bisects rejected batches; a leftover split is retried as a whole.
        Verdict::SplitAndRetry { reason } => (verdict::RETRY_SECS, reason.clone()),
    };
    if attempts >= policy.max_attempts {
        return done(
            RowStatus::Failed,
            Some(format!("gave up after {attempts} attempts: {reason}")),
            Some(FailureKind::Event),
        );
    }
    let first = policy.first_wait_secs.unwrap_or(after_secs);
    let wait_ms = verdict::backoff_secs(first, attempts_before).saturating_mul(1000);
    RowUpdate {
        status: RowStatus::Pending,
        next_attempt_at_ms: now_ms.saturating_add(wait_ms),
        last_error: Some(reason),
        failure: None,
        attempted: true,
    }
}

/// The state of a row the platform does not get (recorded, never silently dropped).
#[must_use]
pub fn skipped(reason: NotSent, now_ms: u64) -> RowUpdate {
    RowUpdate {
        status: RowStatus::Skipped,
        next_attempt_at_ms: now_ms,
        last_error: Some(reason.to_string()),
        failure: None,
        attempted: false,
    }
}

/// The state of a row held back until the event is corroborated (DESIGN §4, "Forged events").
#[must_use]
pub fn held(reason: &str, now_ms: u64) -> RowUpdate {
    RowUpdate {
        status: RowStatus::Held,
        next_attempt_at_ms: now_ms,
        last_error: Some(reason.to_owned()),
        failure: None,
        attempted: false,
    }
}

/// The state of a row left unsent by this run (its request budget ran out): due again at once,
/// and not an attempt, so deferral never counts towards giving up.
#[must_use]
pub fn deferred(reason: &str, now_ms: u64) -> RowUpdate {
    RowUpdate {
        status: RowStatus::Pending,
        next_attempt_at_ms: now_ms,
        last_error: Some(reason.to_owned()),
        failure: None,
        attempted: false,
    }
}

/// The state of a row whose platform refused the credential, or is paused until the merchant
/// reconnects it (`connect::status`): pending and due, but not an attempt, so waiting never
/// counts towards giving up; the flush does not claim a paused platform's rows, and each
/// platform's age limit still applies when they go out.
#[must_use]
pub fn paused(reason: &str, now_ms: u64) -> RowUpdate {
    RowUpdate {
        status: RowStatus::Pending,
        next_attempt_at_ms: now_ms,
        last_error: Some(reason.to_owned()),
        failure: None,
        attempted: false,
    }
}

/// The state of a row that could not be sent for a reason of ours (no access token, no stored
/// record): a configuration error fails at once, a transient one is retried.
#[must_use]
pub fn not_attempted(
    verdict: &Verdict,
    attempts_before: u32,
    now_ms: u64,
    policy: &RetryPolicy,
) -> RowUpdate {
    RowUpdate {
        attempted: false,
        ..after_verdict(verdict, attempts_before, now_ms, policy)
    }
}

/// The platform's trace id for a delivered request, kept with the row for support cases and, for
/// Data Manager, to ask for Google's own verdict later: Meta answers
/// `{"events_received": n, "fbtrace_id": "…"}` (meta-capi.md §1.6), Data Manager
/// `{"requestId": "…"}` (data-manager.md §1.3, §4).
#[must_use]
pub fn trace_id(platform: Platform, body: &str) -> Option<String> {
    match platform {
        Platform::Meta => serde_json::from_str::<serde_json::Value>(body)
            .ok()?
            .get("fbtrace_id")?
            .as_str()
            .map(|s| s.chars().take(64).collect()),
        Platform::DataManager => serde_json::from_str::<serde_json::Value>(body)
            .ok()?
            .get("requestId")?
            .as_str()
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .map(str::to_owned),
        Platform::Ga4 => None,
    }
}

/// The longest delay a Cloudflare Queue message can have: 12 hours.
pub const MAX_WAKE_DELAY_SECS: u32 = 12 * 60 * 60;

/// When rows sent back to `pending` should be woken: `(delay in seconds, event ids)`, one entry
/// per distinct wait, shortest first. Rows not pending, already due, or waiting longer than
/// [`MAX_WAKE_DELAY_SECS`] get none (the cron flush sends them).
pub fn wake_ups<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a RowUpdate)>,
    now_ms: u64,
) -> Vec<(u32, Vec<&'a str>)> {
    let mut by_delay: std::collections::BTreeMap<u32, Vec<&'a str>> =
        std::collections::BTreeMap::new();
    for (event_id, u) in rows {
        if u.status != RowStatus::Pending || u.next_attempt_at_ms <= now_ms {
            continue;
        }
        let secs = (u.next_attempt_at_ms - now_ms).div_ceil(1000);
        if let Ok(secs) = u32::try_from(secs)
            && secs <= MAX_WAKE_DELAY_SECS
        {
            by_delay.entry(secs).or_default().push(event_id);
        }
    }
    by_delay
        .into_iter()
        .map(|(secs, mut ids)| {
            ids.sort_unstable();
            ids.dedup();
            (secs, ids)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000_000;

    fn retry() -> Verdict {
        Verdict::Retry {
            after_secs: 60,
            reason: "meta HTTP 500".into(),
        }
    }

    #[test]
    fn pending_rows_are_woken_once_per_distinct_wait_within_the_queue_delay_limit() {
        let pending = |at_ms: u64| RowUpdate {
            status: RowStatus::Pending,
            next_attempt_at_ms: at_ms,
            last_error: None,
            failure: None,
            attempted: true,
        };
        let rows = [
            ("b", pending(NOW + 60_000)),
            ("a", pending(NOW + 59_001)),
            ("c", pending(NOW + 300_000)),
            ("due", pending(NOW)),
            // Cloudflare Queues: delaySeconds at most 12 h; the cron sends it later.
            ("far", pending(NOW + 13 * 3_600_000)),
            (
                "done",
                after_verdict(&Verdict::Delivered, 0, NOW, &RetryPolicy::default()),
            ),
        ];
        let wakes = wake_ups(rows.iter().map(|(id, u)| (*id, u)), NOW);
        assert_eq!(wakes, vec![(60, vec!["a", "b"]), (300, vec!["c"])]);
    }

    #[test]
    fn delivered_rows_are_final() {
        let u = after_verdict(&Verdict::Delivered, 0, NOW, &RetryPolicy::default());
        assert_eq!(u.status, RowStatus::Delivered);
        assert!(u.attempted && u.last_error.is_none());
    }

    #[test]
    fn retries_back_off_exponentially_and_return_to_pending() {
        let p = RetryPolicy::default();
        let first = after_verdict(&retry(), 0, NOW, &p);
        assert_eq!(first.status, RowStatus::Pending);
        assert_eq!(first.next_attempt_at_ms, NOW + 60_000);
        let third = after_verdict(&retry(), 2, NOW, &p);
        assert_eq!(third.next_attempt_at_ms, NOW + 240_000);
        assert_eq!(third.last_error.as_deref(), Some("meta HTTP 500"));
    }

    #[test]
    fn retries_give_up_after_the_maximum_attempts() {
        let p = RetryPolicy::default();
        let u = after_verdict(&retry(), DEFAULT_MAX_ATTEMPTS - 1, NOW, &p);
        assert_eq!(u.status, RowStatus::Failed);
        assert!(
            u.last_error
                .unwrap_or_default()
                .starts_with("gave up after 12")
        );
    }

    #[test]
    fn a_test_retry_base_shortens_the_first_wait() {
        let p = RetryPolicy::from_var(Some("1"));
        assert_eq!(
            after_verdict(&retry(), 0, NOW, &p).next_attempt_at_ms,
            NOW + 1_000
        );
        assert_eq!(RetryPolicy::from_var(Some("x")), RetryPolicy::default());
    }

    #[test]
    fn config_errors_fail_as_the_merchants_setup() {
        let v = Verdict::ConfigError {
            reason: "meta 190: token expired".into(),
        };
        let u = after_verdict(&v, 0, NOW, &RetryPolicy::default());
        assert_eq!(u.status, RowStatus::Failed);
        assert_eq!(u.failure, Some(FailureKind::Config));
        assert_eq!(u.last_error.as_deref(), Some("meta 190: token expired"));
    }

    #[test]
    fn permanent_errors_fail_with_the_platform_reason() {
        let v = Verdict::Permanent {
            reason: "meta 100/2804003: too old".into(),
        };
        let u = after_verdict(&v, 3, NOW, &RetryPolicy::default());
        assert_eq!(u.status, RowStatus::Failed);
        assert_eq!(u.failure, Some(FailureKind::Event));
        assert_eq!(u.last_error.as_deref(), Some("meta 100/2804003: too old"));
    }

    #[test]
    fn skipped_rows_record_the_reason_and_are_not_attempts() {
        let u = skipped(NotSent::TooOld, NOW);
        assert_eq!(u.status, RowStatus::Skipped);
        assert!(!u.attempted);
        assert_eq!(
            u.last_error.as_deref(),
            Some("older than the platform's window")
        );
    }

    #[test]
    fn meta_trace_ids_are_kept() {
        let body = r#"{"events_received":1,"fbtrace_id":"AbC123"}"#;
        assert_eq!(trace_id(Platform::Meta, body).as_deref(), Some("AbC123"));
        assert_eq!(trace_id(Platform::Ga4, body), None);
        assert_eq!(trace_id(Platform::Meta, "not json"), None);
    }
}
