//! Failures and replay (the console's "Failures"): which rows are listed, which may be sent again
//! and why one may not.
//!
//! A failed row (a permanent rejection, a setup error, or retries exhausted: the dead letter of
//! the outbox) may be replayed after a fix; a replay goes out at the next flush. A row whose event
//! is past its platform's window by then is refused with the reason instead: Meta rejects a whole
//! request when one event is older than 7 days (meta-capi.md §1.3), GA4 takes events up to 72 hours
//! old (google.md §4), Google takes conversions within the click-through window (at most 90 days
//! after the click, google.md §1.7). Held rows (browser-only purchases awaiting the shop's copy,
//! DESIGN §4) are listed but never replayed: replay is not a way around corroboration.

use crate::event::EventName;
use crate::platform::Platform;
use crate::platform::batch::{
    DEFAULT_CLICK_WINDOW_DAYS, GA4_MAX_AGE_MS, META_MAX_AGE_MS, SEND_MARGIN_MS,
};
use crate::record::EventRecord;

use super::plan::RowStatus;

const MINUTE_MS: u64 = 60 * 1000;
const DAY_MS: u64 = 24 * 60 * MINUTE_MS;
/// A replay waits for the next flush (the cron runs every 5 minutes).
pub const FLUSH_INTERVAL_MS: u64 = 5 * MINUTE_MS;
/// Rows one listing or one replay handles at most.
pub const MAX_ROWS: u32 = 500;

/// Which rows the console lists: `GET /_ar/admin/failures?platform=&reason=&event=&status=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureFilter {
    /// One platform.
    pub platform: Option<Platform>,
    /// Rows whose reason is exactly this.
    pub reason: Option<String>,
    /// One event type.
    pub event: Option<EventName>,
    /// `failed` or `held` (default: both).
    pub status: Option<RowStatus>,
}

/// A filter or replay input that is not valid, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InputError {
    /// The field at fault.
    pub field: String,
    /// What is wrong and what is accepted.
    pub problem: String,
}

fn bad(field: &str, problem: impl Into<String>) -> InputError {
    InputError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// A platform by name, or the error listing the names.
///
/// # Errors
/// [`InputError`] on `field` for an unknown name.
pub fn platform_named(field: &str, value: &str) -> Result<Platform, InputError> {
    Platform::parse(value).ok_or_else(|| {
        let known: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
        bad(
            field,
            format!(
                "unknown platform {value:?}: use one of {}",
                known.join(", ")
            ),
        )
    })
}

impl FailureFilter {
    /// The filter from query or form fields; empty values count as left out, other fields are
    /// ignored only when `allowed` names them (the replay form's own fields).
    ///
    /// # Errors
    /// [`InputError`] naming the field at fault.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        allowed: &[&str],
    ) -> Result<Self, InputError> {
        let mut f = Self::default();
        for (field, value) in pairs {
            let value = value.trim();
            if value.is_empty() || allowed.contains(&field) {
                continue;
            }
            match field {
                "platform" => f.platform = Some(platform_named(field, value)?),
                "reason" => {
                    if value.len() > 1000 {
                        return Err(bad(field, "is longer than 1000 characters"));
                    }
                    f.reason = Some(value.to_owned());
                }
                "event" => {
                    f.event = Some(
                        value
                            .parse()
                            .map_err(|e| bad(field, format!("not an event name: {e}")))?,
                    );
                }
                "status" => {
                    f.status = Some(match value {
                        "failed" => RowStatus::Failed,
                        "held" => RowStatus::Held,
                        _ => return Err(bad(field, format!("{value:?}: use failed or held"))),
                    });
                }
                other => {
                    return Err(bad(
                        other,
                        "is not a filter: use platform, reason, event, status",
                    ));
                }
            }
        }
        Ok(f)
    }
}

/// One row named for a replay: `<event_id>:<platform>`.
///
/// # Errors
/// [`InputError`] on `row` when it is not that shape.
pub fn row_named(value: &str) -> Result<(String, Platform), InputError> {
    let (id, platform) = value
        .trim()
        .rsplit_once(':')
        .ok_or_else(|| bad("row", format!("{value:?}: use <event_id>:<platform>")))?;
    let id: crate::EventId = id
        .parse()
        .map_err(|e| bad("row", format!("{id:?} is not an event ID: {e}")))?;
    Ok((id.to_string(), platform_named("row", platform)?))
}

/// How long after it happened `platform` still takes an event (for Google, after the click when
/// there is one).
pub const fn window_ms(platform: Platform) -> u64 {
    match platform {
        Platform::Meta => META_MAX_AGE_MS,
        Platform::Ga4 => GA4_MAX_AGE_MS,
        Platform::DataManager => DEFAULT_CLICK_WINDOW_DAYS as u64 * DAY_MS,
    }
}

/// Whether a row of `status` for `record` may be replayed to `platform` at `now_ms`: `Ok`, or
/// why not.
///
/// # Errors
/// The reason, for the console and the API's `refused` list.
pub fn replayable(
    platform: Platform,
    status: RowStatus,
    record: Option<&EventRecord>,
    now_ms: u64,
) -> Result<(), String> {
    match status {
        RowStatus::Failed => {}
        RowStatus::Held => {
            return Err(
                "held until the shop's copy or a signed order token confirms it; \
                        replay does not send unverified purchases"
                    .into(),
            );
        }
        other => return Err(format!("{} rows are not replayed", other.as_str())),
    }
    let Some(record) = record else {
        return Err("the event's record is gone (past RETENTION_DAYS): nothing to send".into());
    };
    let from = match platform {
        Platform::DataManager => record.session.clicks.google.as_ref().map_or(
            record.occurred_at_ms,
            crate::click_ids::GoogleClick::clicked_at_ms,
        ),
        _ => record.occurred_at_ms,
    };
    let sent_by = now_ms.saturating_add(FLUSH_INTERVAL_MS + SEND_MARGIN_MS);
    let window = window_ms(platform);
    if sent_by.saturating_sub(from) > window {
        let what = match platform {
            Platform::Meta => {
                "Meta takes events up to 7 days old (and rejects a whole request \
                               with an older one)"
            }
            Platform::Ga4 => "GA4 takes events up to 72 hours old",
            Platform::DataManager => "Google takes conversions up to 90 days after the click",
        };
        return Err(format!(
            "past the platform's window: {what}; it happened at {}, and a replay leaves at the next \
             flush",
            crate::console::utc_time(from)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::fixtures;
    use crate::record::Source;

    const NOW: u64 = 1_764_000_000_000;

    fn purchase(age_ms: u64) -> EventRecord {
        let json = format!(
            r#"{{"event":"transaction.purchase","order_id":"r-1","value":5,"currency":"EUR","occurred_at":{}}}"#,
            NOW - age_ms
        );
        let mut r = fixtures::record(&json, Source::Server);
        r.occurred_at_ms = NOW - age_ms;
        r
    }

    #[test]
    fn a_failed_row_inside_the_window_is_replayable() {
        let r = purchase(DAY_MS);
        assert_eq!(
            replayable(Platform::Meta, RowStatus::Failed, Some(&r), NOW),
            Ok(())
        );
        assert_eq!(
            replayable(Platform::Ga4, RowStatus::Failed, Some(&r), NOW),
            Ok(())
        );
    }

    #[test]
    fn rows_past_the_platforms_window_by_the_next_flush_are_refused_with_the_reason() {
        // Inside Meta's 7 days now, outside by the time the next flush sends it.
        let r = purchase(7 * DAY_MS - 12 * MINUTE_MS);
        let why = replayable(Platform::Meta, RowStatus::Failed, Some(&r), NOW).unwrap_err();
        assert!(why.contains("7 days") && why.contains("UTC"), "{why}");
        let r = purchase(3 * DAY_MS);
        let why = replayable(Platform::Ga4, RowStatus::Failed, Some(&r), NOW).unwrap_err();
        assert!(why.contains("72 hours"), "{why}");
        assert_eq!(
            replayable(Platform::DataManager, RowStatus::Failed, Some(&r), NOW),
            Ok(())
        );
    }

    #[test]
    fn held_and_gone_rows_are_never_replayed() {
        let r = purchase(MINUTE_MS);
        assert!(
            replayable(Platform::Meta, RowStatus::Held, Some(&r), NOW)
                .unwrap_err()
                .contains("confirms")
        );
        assert!(
            replayable(Platform::Meta, RowStatus::Failed, None, NOW)
                .unwrap_err()
                .contains("RETENTION_DAYS")
        );
        assert!(replayable(Platform::Meta, RowStatus::Delivered, Some(&r), NOW).is_err());
    }

    #[test]
    fn filters_and_rows_name_the_field_at_fault() {
        let f = FailureFilter::from_pairs(
            [
                ("platform", "meta"),
                ("event", "cart.added"),
                ("status", "held"),
                ("reason", " "),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(f.platform, Some(Platform::Meta));
        assert_eq!(f.status, Some(RowStatus::Held));
        assert_eq!(f.reason, None);
        for (pairs, field) in [
            (vec![("platform", "tiktok")], "platform"),
            (vec![("status", "done")], "status"),
            (vec![("event", "Bad Name")], "event"),
            (vec![("colour", "red")], "colour"),
        ] {
            let e = FailureFilter::from_pairs(pairs, &[]).unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
        assert!(FailureFilter::from_pairs([("row", "x")], &["row"]).is_ok());
        let id = crate::EventId::from_business_key(&EventName::Purchase, "r-1");
        assert_eq!(
            row_named(&format!("{id}:ga4")).unwrap(),
            (id.to_string(), Platform::Ga4)
        );
        assert_eq!(row_named("nope").unwrap_err().field, "row");
        assert_eq!(row_named(&format!("{id}:fax")).unwrap_err().field, "row");
    }
}
