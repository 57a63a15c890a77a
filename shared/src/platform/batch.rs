//! What goes in which request: each platform's time window and size limits (DESIGN §5).
//!
//! - Meta: at most 1000 events, none older than 7 days: "If any `event_time` in data is greater
//!   than 7 days in the past, we return an error for the entire request" (meta-capi.md §1.3).
//! - Data Manager: at most 2000 events (data-manager.md §1.3), one conversion action per request;
//!   offline conversions (`UPLOAD_CLICKS`) with clicks inside the click-through window (90 days by
//!   default, google.md §1.7; Data Manager names the reason, `EVENT_TOO_OLD`, but no number,
//!   data-manager.md §2).
//! - GA4: at most 25 events and a body under 130 kB, events no older than 72 hours (google.md §4),
//!   one client id and consent per request.
//!
//! Events outside a window are reported ([`Plan::skipped`]), never sent to poison a batch, and
//! never re-timed: `event_time` stays the original occurrence time. The planner also drops what
//! the builders would drop (consent, missing context), so every batch builds in full.

use crate::outbound::OutboundEvent;

use super::request::{ActionKind, Body, ConversionActions, Mode, NotSent, Skipped};
use super::{data_manager, ga4, meta};

const MINUTE_MS: u64 = 60 * 1000;
const DAY_MS: u64 = 24 * 60 * MINUTE_MS;

/// Meta's window (meta-capi.md §1.3).
pub const META_MAX_AGE_MS: u64 = 7 * DAY_MS;
/// GA4's window: "Events backdatable up to 72 hours" (google.md §4).
pub const GA4_MAX_AGE_MS: u64 = 3 * DAY_MS;
/// The default click-through window, the maximum Google allows (google.md §1.7).
pub const DEFAULT_CLICK_WINDOW_DAYS: u32 = 90;
/// Taken off each window: a batch planned now is sent a little later (queue, retries).
pub const SEND_MARGIN_MS: u64 = 10 * MINUTE_MS;
/// How far in the future an occurrence time may be (client clock skew) before it is refused.
pub const FUTURE_TOLERANCE_MS: u64 = 5 * MINUTE_MS;

/// Requests to build: each inner list holds indices into the planner's input, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
pub struct Plan {
    /// One entry per request.
    pub batches: Vec<Vec<usize>>,
    /// Events that go in no request, and why.
    pub skipped: Vec<Skipped>,
}

/// One sendable event: its index, the key of the request it may share, its encoded size.
struct Item {
    index: usize,
    group: String,
    size: usize,
}

/// Packs items into batches per group (groups in order of first appearance), within
/// `max_events` and, when given, `max_bytes` (envelope + events + separators).
fn pack(items: Vec<Item>, max_events: usize, max_bytes: Option<(usize, usize)>) -> Plan {
    let mut plan = Plan::default();
    let mut groups: Vec<(String, Vec<Item>)> = Vec::new();
    for item in items {
        match groups.iter_mut().find(|(g, _)| *g == item.group) {
            Some((_, members)) => members.push(item),
            None => groups.push((item.group.clone(), vec![item])),
        }
    }
    for (_, members) in groups {
        let mut current: Vec<usize> = Vec::new();
        let mut bytes = 0;
        for item in members {
            if let Some((envelope, limit)) = max_bytes {
                if envelope + item.size > limit {
                    plan.skipped.push(Skipped {
                        index: item.index,
                        reason: NotSent::TooLarge,
                    });
                    continue;
                }
                if !current.is_empty() && envelope + bytes + 1 + item.size > limit {
                    plan.batches.push(core::mem::take(&mut current));
                    bytes = 0;
                }
            }
            if current.len() == max_events.max(1) {
                plan.batches.push(core::mem::take(&mut current));
                bytes = 0;
            }
            bytes += item.size + 1;
            current.push(item.index);
        }
        if !current.is_empty() {
            plan.batches.push(current);
        }
    }
    plan
}

/// Refuses events from the future and, with `max_age_ms`, events older than the window.
fn check_time(event: &OutboundEvent, now_ms: u64, max_age_ms: Option<u64>) -> Result<(), NotSent> {
    if event.occurred_at_ms > now_ms.saturating_add(FUTURE_TOLERANCE_MS) {
        return Err(NotSent::InTheFuture);
    }
    if let Some(max_age) = max_age_ms
        && now_ms.saturating_sub(event.occurred_at_ms) > max_age.saturating_sub(SEND_MARGIN_MS)
    {
        return Err(NotSent::TooOld);
    }
    Ok(())
}

fn json_len(v: &serde_json::Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX / 2, |b| b.len())
}

/// Runs `check` per event; sendable ones become items.
fn items(
    events: &[&OutboundEvent],
    mut check: impl FnMut(&OutboundEvent) -> Result<(String, usize), NotSent>,
    skipped: &mut Vec<Skipped>,
) -> Vec<Item> {
    let mut out = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match check(event) {
            Ok((group, size)) => out.push(Item { index, group, size }),
            Err(reason) => skipped.push(Skipped { index, reason }),
        }
    }
    out
}

fn finish(mut plan: Plan, mut skipped: Vec<Skipped>) -> Plan {
    skipped.append(&mut plan.skipped);
    skipped.sort_by_key(|s| s.index);
    plan.skipped = skipped;
    plan
}

/// Meta batches at `now_ms`.
pub fn plan_meta(events: &[&OutboundEvent], now_ms: u64) -> Plan {
    let mut skipped = Vec::new();
    let items = items(
        events,
        |e| {
            check_time(e, now_ms, Some(META_MAX_AGE_MS))?;
            meta::server_event(e).map(|_| (String::new(), 0))
        },
        &mut skipped,
    );
    finish(pack(items, meta::MAX_EVENTS, None), skipped)
}

/// Data Manager batches at `now_ms`, one conversion action per request. Offline conversions
/// (`UPLOAD_CLICKS` actions) whose click is older than `click_window_days` (the actions'
/// click-through window; [`DEFAULT_CLICK_WINDOW_DAYS`] unless changed) are left out.
pub fn plan_data_manager(
    actions: &ConversionActions,
    events: &[&OutboundEvent],
    now_ms: u64,
    click_window_days: u32,
) -> Plan {
    let window = u64::from(click_window_days) * DAY_MS;
    let mut skipped = Vec::new();
    let items = items(
        events,
        |e| {
            check_time(e, now_ms, None)?;
            data_manager::event_json(actions, e)?;
            let offline = data_manager::action(actions, e)?.kind == ActionKind::UploadClicks;
            let click = data_manager::usable_click(e, &e.permissions.google_ads);
            if offline
                && let Some((_, Some(click_at))) = click
                && now_ms.saturating_sub(click_at) > window.saturating_sub(SEND_MARGIN_MS)
            {
                return Err(NotSent::ClickWindowExpired);
            }
            Ok((data_manager::group_key(actions, e)?, 0))
        },
        &mut skipped,
    );
    finish(pack(items, data_manager::MAX_EVENTS, None), skipped)
}

/// Room for what the GA4 envelope holds besides events (client id, consent, user data, the test
/// flag); measured per group from a one-event request, plus this slack.
const GA4_ENVELOPE_SLACK: usize = 256;

/// GA4 batches at `now_ms`: per client id and consent, 25 events and 130 kB at most.
pub fn plan_ga4(events: &[&OutboundEvent], now_ms: u64) -> Plan {
    let mut skipped = Vec::new();
    let mut envelope = 0usize;
    let items = items(
        events,
        |e| {
            check_time(e, now_ms, Some(GA4_MAX_AGE_MS))?;
            let event_len = json_len(&ga4::event_json(e)?);
            let group = ga4::group_key(e)?;
            let single = ga4::collect_request(&ga4_probe_config(), &[e], Mode::Test);
            if let Some(Body::Json(body)) = single.request.map(|r| r.body) {
                envelope = envelope.max(json_len(&body).saturating_sub(event_len));
            }
            Ok((group, event_len))
        },
        &mut skipped,
    );
    let limit = (envelope + GA4_ENVELOPE_SLACK, ga4::MAX_BODY_BYTES);
    finish(pack(items, ga4::MAX_EVENTS, Some(limit)), skipped)
}

/// Only the body is measured; the URL is not part of the 130 kB.
fn ga4_probe_config() -> super::request::Ga4Config {
    super::request::Ga4Config {
        base_url: String::new(),
        measurement_id: String::new(),
        api_secret: String::new(),
    }
}

/// Splits a rejected batch in two to isolate the bad event (meta-capi.md §5.2: "on a 400 for a
/// multi-event batch, bisect"). A one-event batch has nothing to split.
#[must_use]
pub fn halves(batch: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (a, b) = batch.split_at(batch.len() / 2);
    (a.to_vec(), b.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventName;
    use crate::platform::fixtures::{
        DAY_MS, HOUR_MS, NOW_MS, actions, event, upload_actions, webpage_actions,
    };

    fn refs(events: &[OutboundEvent]) -> Vec<&OutboundEvent> {
        events.iter().collect()
    }

    #[test]
    fn meta_batches_hold_at_most_1000_events() {
        let events = vec![event(EventName::CartAdded); 2500];
        let plan = plan_meta(&refs(&events), NOW_MS);
        let sizes: Vec<usize> = plan.batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        assert!(plan.skipped.is_empty());
    }

    #[test]
    fn meta_drops_events_older_than_seven_days_and_keeps_their_time() {
        let mut old = event(EventName::Purchase);
        old.occurred_at_ms = NOW_MS - 7 * DAY_MS;
        let fresh = event(EventName::Purchase);
        let plan = plan_meta(&[&old, &fresh], NOW_MS);
        assert_eq!(plan.batches, [vec![1]]);
        assert_eq!(
            plan.skipped,
            [Skipped {
                index: 0,
                reason: NotSent::TooOld
            }]
        );
    }

    #[test]
    fn events_from_the_future_are_refused() {
        let mut e = event(EventName::Purchase);
        e.occurred_at_ms = NOW_MS + HOUR_MS;
        assert_eq!(
            plan_meta(&[&e], NOW_MS).skipped[0].reason,
            NotSent::InTheFuture
        );
    }

    #[test]
    fn data_manager_batches_hold_at_most_2000_events() {
        let events = vec![event(EventName::CartAdded); 4001];
        let plan = plan_data_manager(
            &upload_actions(),
            &refs(&events),
            NOW_MS,
            DEFAULT_CLICK_WINDOW_DAYS,
        );
        let sizes: Vec<usize> = plan.batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2000, 2000, 1]);
    }

    #[test]
    // google.md §1.7 (the click-through window), data-manager.md §2 (EVENT_TOO_OLD).
    fn offline_conversions_drop_clicks_outside_the_click_window() {
        let mut e = event(EventName::CartAdded);
        e.google_click = e
            .google_click
            .map(|(id, _)| (id, Some(NOW_MS - 31 * DAY_MS)));
        let offline = upload_actions();
        let thirty = plan_data_manager(&offline, &[&e], NOW_MS, 30);
        assert_eq!(thirty.skipped[0].reason, NotSent::ClickWindowExpired);
        let ninety = plan_data_manager(&offline, &[&e], NOW_MS, 90);
        assert_eq!(ninety.batches, [vec![0]]);
        // A multi-source conversion is the gtag's: its window is not ours to apply.
        let mut p = event(EventName::Purchase);
        p.google_click = e.google_click.clone();
        assert_eq!(
            plan_data_manager(&actions(), &[&p], NOW_MS, 30).batches,
            [vec![0]]
        );
    }

    #[test]
    fn data_manager_batches_are_per_conversion_action() {
        let p = event(EventName::Purchase);
        let c = event(EventName::CartAdded);
        let plan = plan_data_manager(
            &webpage_actions(),
            &[&p, &c, &p],
            NOW_MS,
            DEFAULT_CLICK_WINDOW_DAYS,
        );
        assert_eq!(plan.batches, [vec![0, 2], vec![1]]);
    }

    #[test]
    fn ga4_batches_hold_25_events_per_client() {
        let mut events = vec![event(EventName::Purchase); 30];
        events[3].ga_client_id = Some("9.9".into());
        let plan = plan_ga4(&refs(&events), NOW_MS);
        let sizes: Vec<usize> = plan.batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [25, 4, 1]);
        assert_eq!(plan.batches[2], [3]);
    }

    #[test]
    fn ga4_batches_stay_under_130_kb() {
        let mut e = event(EventName::Purchase);
        e.items = vec![e.items[0].clone(); 200];
        let events = vec![e; 20];
        let plan = plan_ga4(&refs(&events), NOW_MS);
        assert!(plan.batches.len() > 1, "{:?}", plan.batches);
        for batch in &plan.batches {
            let picked: Vec<&OutboundEvent> = batch.iter().map(|&i| &events[i]).collect();
            let built = ga4::collect_request(&ga4_probe_config(), &picked, Mode::Test);
            let len = built.request.map_or(0, |r| r.body.to_bytes().len());
            assert!(len < ga4::MAX_BODY_BYTES, "{len}");
        }
    }

    #[test]
    fn a_ga4_event_with_more_items_than_ga4_takes_is_skipped_with_the_reason() {
        // 2000 items: beyond GA4's 200 (data-manager.md §7) before it is beyond 130 kB.
        let mut e = event(EventName::Purchase);
        e.items = vec![e.items[0].clone(); 2000];
        assert_eq!(
            plan_ga4(&[&e], NOW_MS).skipped[0].reason,
            NotSent::Ga4Rule(super::super::ga4_rules::Ga4Rule::TooManyItems)
        );
    }

    #[test]
    fn ga4_drops_events_older_than_72_hours() {
        let mut e = event(EventName::Purchase);
        e.occurred_at_ms = NOW_MS - 3 * DAY_MS;
        assert_eq!(plan_ga4(&[&e], NOW_MS).skipped[0].reason, NotSent::TooOld);
    }

    #[test]
    fn halves_isolate_a_bad_event_by_bisection() {
        assert_eq!(halves(&[4, 5, 6]), (vec![4], vec![5, 6]));
        assert_eq!(halves(&[4]), (vec![], vec![4]));
    }
}
