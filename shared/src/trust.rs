//! Trust boundaries: what each source of an event may decide.
//!
//! `/_ar/collect` is open to the world, so a browser copy is a claim, not a fact. The rules:
//!
//! - **The shop decides the business facts.** When a copy from the shop exists (the signed
//!   backend, `/_ar/events`, or the signed edge header of an edge-routed checkout), the event's
//!   name, business key, money, items and occurrence time are the shop's (and, without a shop
//!   copy, those of a browser copy whose order token vouches for them). Between the two shop
//!   sources the backend wins ([`Authority`]): it signs its whole body and reports the order as
//!   the shop's system of record has it; the edge header is the checkout's view at payment time.
//! - **A browser contributes what the edge itself sees and what only the browser knows**: the
//!   visit's identifiers (cookies, IP, user agent, the page URL — read by the worker from the
//!   request, never from the body: [`browser_may_not_state`]), hashed customer data (hashes only;
//!   a shop copy's identifiers replace them) and which tags fired.
//! - **An ID cannot be borrowed.** An event with a business key has exactly one ID, derived from
//!   it; a stated `event_id` that differs is refused (`wire::validate`). Copies that share an ID
//!   but not a name are different events: a shop copy replaces a browser record of another name
//!   entirely (rows included: whatever was sent was sent under the other name, which the
//!   platforms keep apart), and any other conflicting copy is refused
//!   ([`crate::record::MergeOutcome`]).
//! - **A browser copy speaks for its own visit only** ([`same_visit`]). Copies of one event from
//!   two sessions (`_ar_sid`, which only the worker mints) do not merge: the shop's copy (naming
//!   the session it read), then a browser copy with a valid order token, speaks for the event
//!   alone, and a browser copy from another session contributes nothing to it: not its click IDs
//!   and cookies (claiming the sale for another ad click), not its consent (a forged denial
//!   suppressing the sale), not its customer data or fired flags. Between plain browser copies
//!   the first session stands.
//! - **Browser times are bounded.** A browser-only event happened at most
//!   [`BROWSER_MAX_AGE_MS`] before it arrived (a resend from the next page of the visit) and never
//!   after: an old time could push real purchases out of the platforms' windows.
//! - **Money needs corroboration** ([`needs_corroboration`]): a browser copy of an event that is
//!   purchase-like by its mapping, or that carries money on the real-time (conversion) path, is
//!   held until the shop's copy or a signed order token bound to exactly this event and amount
//!   confirms it. Leads and sign-ups from the browser alone stay allowed (pixel-only lead forms
//!   must work), but without a value until the shop confirms one; the collect rate limit and the
//!   origin check guard them.

use crate::event::EventName;
use crate::mapping::{AdsCategory, DeliveryPath, EventMapping};
use crate::money::Money;
use crate::wire::{ValidatedEvent, ValidationError};

/// Whether two copies of an event are of one visit, so that what one browser saw may join the
/// rest: either names no session (nothing tells them apart), or both name the same one (`_ar_sid`,
/// which only the worker mints; on `/_ar/events` only a session the worker saw counts). Otherwise
/// the copy with more authority speaks for the event alone (`record::EventRecord::merge`): anyone
/// who knows an order's ID could post a copy of it with their own click ID, or with consent denied.
#[must_use]
pub fn same_visit(record_session: Option<&str>, copy_session: Option<&str>) -> bool {
    record_session.is_none() || copy_session.is_none() || record_session == copy_session
}

/// How far before its arrival a browser-only event may have happened.
pub const BROWSER_MAX_AGE_MS: u64 = 60 * 60 * 1000;

/// Who reported a copy, in increasing order of authority over the business facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Authority {
    /// A browser (`/_ar/collect`): anyone.
    Browser,
    /// A browser copy carrying a valid order token for exactly its event and amount: the shop
    /// signed these facts, so they beat an unsigned browser copy's.
    VouchedBrowser,
    /// The signed edge header of an edge-routed checkout.
    Edge,
    /// The shop's signed backend (`/_ar/events`).
    Backend,
}

/// The time a browser-only copy is taken to have happened: its stated time, but not earlier than
/// [`BROWSER_MAX_AGE_MS`] before `received_at_ms` and not after it.
#[must_use]
pub fn browser_time(stated_ms: u64, received_at_ms: u64) -> u64 {
    stated_ms.clamp(
        received_at_ms.saturating_sub(BROWSER_MAX_AGE_MS),
        received_at_ms,
    )
}

/// A browser event's time on the edge's clock: by the device's own clock it happened
/// `sent_ms - occurred_ms` before it was sent (both `Date.now()` there), and it was sent when it
/// arrived (`received_ms`; the transit is milliseconds). A device clock set wrong then shifts
/// nothing: before, a clock more than 5 minutes fast had every pixel event refused as "in the
/// future", and one an hour slow had each event stored an hour early. A time stated after its
/// own send is taken as the arrival; an age over [`BROWSER_MAX_AGE_MS`] (a device clock that jumped
/// while the event waited in the outbox) counts as that age, the bound [`browser_time`] sets.
#[must_use]
pub fn on_edge_clock(occurred_ms: u64, sent_ms: u64, received_ms: u64) -> u64 {
    let age = sent_ms.saturating_sub(occurred_ms).min(BROWSER_MAX_AGE_MS);
    received_ms.saturating_sub(age)
}

/// Refuses the fields a browser may not state about its own request: the worker reads the
/// shopper's IP and user agent, click IDs and session from the request itself.
///
/// # Errors
/// The first such field present, with what to do instead.
pub fn browser_may_not_state(event: &ValidatedEvent) -> Result<(), ValidationError> {
    // Refunds and cancellations take revenue back from the ads platforms: only the shop (signed
    // `/_ar/events` or the signed edge header) reports them, never a browser.
    if event.name.is_adjustment() {
        return Err(ValidationError::new(
            "event",
            format!(
                "{} is reported by the shop only (signed /_ar/events or the signed edge header)",
                event.name
            ),
        ));
    }
    let c = &event.click_ids;
    let fields = [
        ("client.ip", event.client.ip.is_some()),
        ("client.user_agent", event.client.user_agent.is_some()),
        ("click_ids.fbc", c.fbc.is_some()),
        ("click_ids.fbp", c.fbp.is_some()),
        ("click_ids.gclid", c.gclid.is_some()),
        ("click_ids.gbraid", c.gbraid.is_some()),
        ("click_ids.wbraid", c.wbraid.is_some()),
        ("session_id", event.session_id.is_some()),
    ];
    match fields.into_iter().find(|(_, present)| *present) {
        Some((field, _)) => Err(ValidationError::new(
            field,
            crate::event_rules::READ_FROM_THE_REQUEST,
        )),
        None => Ok(()),
    }
}

/// Meta's `Purchase` (meta-capi.md §1.5) or Google's purchase category: counted as revenue.
fn purchase_like(mapping: &EventMapping) -> bool {
    mapping.meta == "Purchase" || mapping.ads_category == AdsCategory::Purchase
}

/// Leads and sign-ups: allowed from the browser alone.
fn lead_like(name: &EventName, mapping: &EventMapping) -> bool {
    matches!(name, EventName::LeadSubmitted | EventName::SignedUp)
        || matches!(mapping.meta.as_str(), "Lead" | "CompleteRegistration")
}

/// Whether a browser-only copy of this event must wait for the shop (or a signed order token)
/// before it is sent.
#[must_use]
pub fn needs_corroboration(
    name: &EventName,
    mapping: &EventMapping,
    money: Option<&Money>,
) -> bool {
    if purchase_like(mapping) {
        return true;
    }
    let conversion = mapping.path == DeliveryPath::RealTime;
    money.is_some() && conversion && !lead_like(name, mapping)
}

/// Whether a browser-only copy of this event is sent without its value: leads and sign-ups go
/// out alone, but a value only the shop can vouch for.
#[must_use]
pub fn drops_unvouched_value(name: &EventName, mapping: &EventMapping) -> bool {
    lead_like(name, mapping) && !purchase_like(mapping)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping_config::Mappings;

    fn mapping(name: &EventName) -> EventMapping {
        Mappings::default().lookup(name).unwrap_or_else(|| {
            Mappings::default()
                .lookup(&EventName::ProductViewed)
                .expect("standard mapping")
        })
    }

    // trust: a browser copy of a refund or cancellation is refused (collect answers 400).
    #[test]
    fn a_browser_may_not_report_a_refund_or_cancellation() {
        let mappings = Mappings::default();
        for json in [
            r#"{"event":"transaction.refunded","order_id":"1","refund_id":"r","value":1,"currency":"EUR"}"#,
            r#"{"event":"transaction.cancelled","order_id":"1"}"#,
        ] {
            let ev = crate::wire::validate(
                crate::wire::parse_event(json.as_bytes()).unwrap(),
                crate::wire::ValidationContext {
                    mappings: &mappings,
                    now_ms: 1_764_000_000_000,
                    random: [0; 16],
                },
            )
            .unwrap();
            let err = browser_may_not_state(&ev).unwrap_err();
            assert!(err.to_string().contains("shop only"), "{err}");
        }
    }

    #[test]
    fn browser_times_are_clamped_to_the_hour_before_arrival() {
        let now = 1_764_000_000_000;
        assert_eq!(
            browser_time(1_420_070_400_000, now),
            now - BROWSER_MAX_AGE_MS
        );
        assert_eq!(browser_time(now - 5_000, now), now - 5_000);
        assert_eq!(browser_time(now + 60_000, now), now);
    }

    #[test]
    fn a_browser_time_is_put_on_the_edge_clock_by_its_age_at_send() {
        let now = 1_764_000_000_000;
        // A device 10 minutes fast: an event 3 s old when sent happened 3 s before arrival.
        let fast = now + 600_000;
        assert_eq!(on_edge_clock(fast - 3_000, fast, now), now - 3_000);
        // An hour slow, an event resent from the outbox 2 minutes after it happened.
        let slow = now - 3_600_000;
        assert_eq!(on_edge_clock(slow - 120_000, slow, now), now - 120_000);
        // Stated after its own send (no device does that): the arrival.
        assert_eq!(on_edge_clock(now + 5, now, now), now);
        // A clock reset to 1970 that synced while the event waited: the oldest a browser time
        // may be, not a time validation would refuse as seconds.
        assert_eq!(on_edge_clock(0, now + 1, now), now - BROWSER_MAX_AGE_MS);
        assert_eq!(on_edge_clock(0, u64::MAX, 0), 0);
    }

    #[test]
    fn purchases_and_payments_with_money_need_corroboration_leads_do_not() {
        let money = Money::new(10.0, "EUR");
        for name in [EventName::Purchase, EventName::PaymentInfoAdded] {
            assert!(
                needs_corroboration(&name, &mapping(&name), Some(&money)),
                "{name}"
            );
        }
        assert!(
            needs_corroboration(&EventName::Purchase, &mapping(&EventName::Purchase), None),
            "purchase-like even without a value"
        );
        for name in [EventName::LeadSubmitted, EventName::SignedUp] {
            assert!(
                !needs_corroboration(&name, &mapping(&name), Some(&money)),
                "{name}"
            );
            assert!(drops_unvouched_value(&name, &mapping(&name)));
        }
        let cart = EventName::CartAdded;
        assert!(
            !needs_corroboration(&cart, &mapping(&cart), Some(&money)),
            "browse events keep their value"
        );
    }

    #[test]
    fn a_custom_event_mapped_to_meta_purchase_needs_corroboration() {
        let mappings = Mappings::from_json(
            r#"{"events":{"deal.closed":{"meta":"Purchase","ga4":"deal_closed"}}}"#,
        )
        .expect("mapping");
        let name: EventName = "deal.closed".parse().expect("name");
        let m = mappings.lookup(&name).expect("mapped");
        assert!(needs_corroboration(&name, &m, None));
    }
}
