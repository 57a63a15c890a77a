//! When a click upload may first be sent (google.md §0.3): Google answers `TOO_RECENT_EVENT` while the
//! click is under 6 hours old ("Retry after 6 hours", google.md §1.5), so such conversions are
//! scheduled for after the click's 6-hour mark instead of being sent to fail.
//!
//! Only click uploads wait; Meta, Data Manager and GA4 copies go out at once. A click of unknown
//! time (a click id read from the page URL under denied `ad_storage`) is sent at once, and a
//! `TOO_RECENT_EVENT` answer then schedules the retry (`verdict`).

use crate::outbound::OutboundEvent;

use super::google_ads::usable_click;

/// How long after its click a conversion can be uploaded (google.md §1.5 `TOO_RECENT_EVENT`).
pub const CLICK_UPLOAD_DELAY_MS: u64 = 6 * 60 * 60 * 1000;

/// Slack after the 6-hour mark: the click time we know (our cookie, the landing request) is a
/// little earlier than Google's, and clocks differ.
pub const SAFETY_MARGIN_MS: u64 = 5 * 60 * 1000;

/// The earliest time (Unix ms) a click upload for a click at `click_at_ms` should be sent,
/// never before `now_ms`.
pub fn click_upload_at(click_at_ms: Option<u64>, now_ms: u64) -> u64 {
    click_at_ms.map_or(now_ms, |click| {
        click
            .saturating_add(CLICK_UPLOAD_DELAY_MS)
            .saturating_add(SAFETY_MARGIN_MS)
            .max(now_ms)
    })
}

/// [`click_upload_at`] for an event, with the click the consent policy lets Google have.
pub fn event_click_upload_at(event: &OutboundEvent, now_ms: u64) -> u64 {
    let click = usable_click(event, &event.permissions.google_ads);
    click_upload_at(click.and_then(|(_, at)| at), now_ms)
}

/// Seconds to wait after a `TOO_RECENT_EVENT` answer: until the click's 6-hour mark when the click
/// time is known, otherwise the full 6 hours.
pub fn too_recent_retry_secs(click_at_ms: Option<u64>, now_ms: u64) -> u64 {
    let full = (CLICK_UPLOAD_DELAY_MS + SAFETY_MARGIN_MS) / 1000;
    match click_at_ms {
        Some(click) => {
            let at = click_upload_at(Some(click), now_ms);
            // Google said "too recent", so never retry immediately even if our clock disagrees.
            (at - now_ms).div_ceil(1000).max(SAFETY_MARGIN_MS / 1000)
        }
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventName;
    use crate::platform::fixtures::{HOUR_MS, NOW_MS, event};

    #[test]
    fn a_click_under_six_hours_old_is_uploaded_after_its_six_hour_mark() {
        let click = NOW_MS - HOUR_MS;
        assert_eq!(
            click_upload_at(Some(click), NOW_MS),
            click + 6 * HOUR_MS + SAFETY_MARGIN_MS
        );
    }

    #[test]
    fn an_older_click_is_uploaded_now() {
        assert_eq!(click_upload_at(Some(NOW_MS - 7 * HOUR_MS), NOW_MS), NOW_MS);
        assert_eq!(click_upload_at(None, NOW_MS), NOW_MS);
        assert_eq!(click_upload_at(Some(u64::MAX), 0), u64::MAX);
    }

    #[test]
    fn the_event_schedule_uses_the_events_click_time() {
        let mut e = event(EventName::CartAdded);
        if let Some((_, at)) = e.google_click.as_mut() {
            *at = Some(NOW_MS - 2 * HOUR_MS);
        }
        assert_eq!(
            event_click_upload_at(&e, NOW_MS),
            NOW_MS + 4 * HOUR_MS + SAFETY_MARGIN_MS
        );
    }

    #[test]
    fn too_recent_retries_wait_for_the_six_hour_mark() {
        assert_eq!(
            too_recent_retry_secs(Some(NOW_MS - 5 * HOUR_MS), NOW_MS),
            3600 + 300
        );
        assert_eq!(too_recent_retry_secs(None, NOW_MS), 6 * 3600 + 300);
        assert_eq!(
            too_recent_retry_secs(Some(NOW_MS - 9 * HOUR_MS), NOW_MS),
            300
        );
    }
}
