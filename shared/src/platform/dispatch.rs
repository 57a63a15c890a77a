//! One entry point per step for every [`Platform`]: plan batches, build a request, classify its
//! answer. Each dispatches to the platform's own module, so a caller that holds a `Platform`
//! never matches on it.

use crate::outbound::OutboundEvent;
use crate::settings::Settings;

use super::batch::{self, DEFAULT_CLICK_WINDOW_DAYS, Plan};
use super::request::{Built, Mode};
use super::verdict::{self, Verdict};
use super::{Platform, data_manager, ga4, meta};

/// The batches `events` go out in on `platform` at `now_ms`, and the events left out with why.
pub fn plan(
    settings: &Settings,
    platform: Platform,
    events: &[&OutboundEvent],
    now_ms: u64,
) -> Plan {
    match platform {
        Platform::Meta => batch::plan_meta(events, now_ms),
        Platform::DataManager => batch::plan_data_manager(
            &settings.conversion_actions,
            events,
            now_ms,
            DEFAULT_CLICK_WINDOW_DAYS,
        ),
        Platform::Ga4 => batch::plan_ga4(events, now_ms),
    }
}

/// The request for `events` on `platform` (no request when the platform is not configured).
/// `token` is the Google OAuth access token (unused by Meta and GA4).
pub fn build(
    settings: &Settings,
    platform: Platform,
    events: &[&OutboundEvent],
    token: &str,
    mode: Mode,
) -> Built {
    let none = || Built {
        request: None,
        sent: Vec::new(),
        skipped: Vec::new(),
    };
    match platform {
        Platform::Meta => settings
            .meta
            .as_ref()
            .map_or_else(none, |c| meta::events_request(c, events, mode)),
        Platform::DataManager => settings.data_manager.as_ref().map_or_else(none, |c| {
            data_manager::ingest_request(c, &settings.conversion_actions, token, events, mode)
        }),
        Platform::Ga4 => settings
            .ga4
            .as_ref()
            .map_or_else(none, |c| ga4::collect_request(c, events, mode)),
    }
}

/// The per-event verdicts for an answer to a request carrying `events` (in body order).
#[must_use]
pub fn classify(
    platform: Platform,
    status: u16,
    body: &str,
    events: &[&OutboundEvent],
    mode: Mode,
) -> Vec<Verdict> {
    let n = events.len();
    match platform {
        Platform::Meta => verdict::classify_meta(status, body, n),
        Platform::DataManager => verdict::classify_data_manager(status, body, n),
        Platform::Ga4 => verdict::classify_ga4(status, body, n, mode),
    }
}
