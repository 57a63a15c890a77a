//! Which destination owns the server copy of an event (DESIGN §1). Google has no event-ID dedup,
//! so each Google destination gets a copy only where it cannot double count:
//!
//! - Google Ads, always through the Data Manager API (google.md Addendum C): the event's
//!   conversion action is either the gtag's `WEBPAGE` action, deduplicated by `transactionId`, or
//!   a secondary `UPLOAD_CLICKS` action fed as offline conversions: one action per event, so never
//!   both (google.md §0.2, §8).
//! - GA4 Measurement Protocol: purchases (GA4 dedups them by `transaction_id`), or events whose
//!   gtag did not fire; never without a `_ga` client id or analytics consent.
//! - Meta: always (Meta dedups browser and server copies by `event_id`), unless consent forbids.
//!
//! The transaction id is the order id for purchases and the event ID otherwise, byte for byte
//! what the pixel passes to gtag (google.md §8: the overlap diagnostic flags `order-12345` vs
//! `12345`, case and leading-zero differences).

use crate::consent::policy::{Ga4Permission, MetaPermission};
use crate::event::EventName;
use crate::outbound::OutboundEvent;

use super::Platform;
use super::request::{ConversionAction, ConversionActions, NotSent};

/// The id Google deduplicates by: the order id for purchases, the event ID otherwise. Never
/// reformatted: trimming or case changes would break the match with the browser's gtag copy.
/// The rule is `event_id::transaction_id`, which the pixel uses for gtag too.
pub fn transaction_id(event: &OutboundEvent) -> &str {
    crate::event_id::transaction_id(&event.name, event.order_id.as_deref(), &event.event_id)
}

/// Whether Meta gets a server copy.
pub fn meta_owns(event: &OutboundEvent) -> Result<(), NotSent> {
    // The Conversions API has no refund or retraction; a negative purchase would be counted as
    // one more purchase (`adjustment`).
    if event.name.is_adjustment() {
        return Err(NotSent::NoMetaAdjustment);
    }
    match event.permissions.meta {
        MetaPermission::Send(_) => Ok(()),
        MetaPermission::Skip { reason } => Err(NotSent::Consent(reason)),
    }
}

/// The Google Ads destination of an event and its conversion action: Data Manager for either
/// kind (`WEBPAGE` multi-source, `UPLOAD_CLICKS` offline; google.md Addendum C).
pub fn google_ads_route<'a>(
    event: &OutboundEvent,
    actions: &'a ConversionActions,
) -> Result<(Platform, &'a ConversionAction), NotSent> {
    // An adjustment goes to its purchase's action (data-manager.md §3.1: "the same destination and
    // conversion action").
    let name = if event.name.is_adjustment() {
        EventName::Purchase.as_str()
    } else {
        event.name.as_str()
    };
    let action = actions.for_event(name).ok_or(NotSent::NoConversionAction)?;
    if event.name.is_adjustment() && event.adjusts.is_none() {
        return Err(NotSent::PurchaseNotFound);
    }
    Ok((Platform::DataManager, action))
}

/// Whether GA4 gets a server copy (DESIGN §1, §4).
pub fn ga4_owns(event: &OutboundEvent) -> Result<(), NotSent> {
    if let Ga4Permission::Skip { reason } = event.permissions.ga4 {
        return Err(NotSent::Consent(reason));
    }
    if event.name.is_adjustment() && event.adjusts.is_none() {
        return Err(NotSent::PurchaseNotFound);
    }
    if event.ga_client_id.as_deref().is_none_or(str::is_empty) {
        return Err(NotSent::NoGaClientId);
    }
    // GA4 dedups purchases by transaction_id; any other event fired by gtag would count twice.
    if event.name != EventName::Purchase && !event.name.is_adjustment() && event.fired.google {
        return Err(NotSent::BrowserTagFired);
    }
    Ok(())
}

/// Every destination's decision for one event, in a fixed order (Meta, Google Ads, GA4).
#[must_use]
pub fn route(
    event: &OutboundEvent,
    actions: &ConversionActions,
) -> Vec<(Platform, Result<(), NotSent>)> {
    let ads = match google_ads_route(event, actions) {
        Ok((destination, _)) => (destination, Ok(())),
        Err(reason) => (Platform::DataManager, Err(reason)),
    };
    vec![
        (Platform::Meta, meta_owns(event)),
        ads,
        (Platform::Ga4, ga4_owns(event)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::ConsentState;
    use crate::consent::policy::SkipReason;
    use crate::platform::fixtures::{actions, event, with_consent};

    #[test]
    fn purchases_use_the_order_id_verbatim_as_transaction_id() {
        let mut e = event(EventName::Purchase);
        e.order_id = Some(" ORD-0042 ".into());
        assert_eq!(transaction_id(&e), " ORD-0042 ");
    }

    #[test]
    fn other_events_use_the_event_id_as_transaction_id() {
        let e = event(EventName::CartAdded);
        assert_eq!(transaction_id(&e), e.event_id.as_str());
    }

    #[test]
    // google.md Addendum C: uploadClickConversions takes no new adopters; both kinds go to Data
    // Manager.
    fn webpage_and_upload_clicks_actions_both_route_to_data_manager() {
        let acts = actions();
        let purchase = event(EventName::Purchase);
        let cart = event(EventName::CartAdded);
        assert_eq!(
            google_ads_route(&purchase, &acts).map(|r| r.0),
            Ok(Platform::DataManager)
        );
        assert_eq!(
            google_ads_route(&cart, &acts).map(|r| r.0),
            Ok(Platform::DataManager)
        );
    }

    #[test]
    fn an_event_without_a_configured_action_goes_to_no_ads_destination() {
        let e = event(EventName::Custom("unmapped.event".into()));
        assert_eq!(
            google_ads_route(&e, &actions()).map(|r| r.0),
            Err(NotSent::NoConversionAction)
        );
    }

    #[test]
    fn ga4_gets_purchases_even_when_gtag_fired() {
        let mut e = event(EventName::Purchase);
        e.fired.google = true;
        assert_eq!(ga4_owns(&e), Ok(()));
    }

    #[test]
    fn ga4_skips_browse_events_that_gtag_already_sent() {
        let mut e = event(EventName::ProductViewed);
        e.fired.google = true;
        assert_eq!(ga4_owns(&e), Err(NotSent::BrowserTagFired));
        e.fired.google = false;
        assert_eq!(ga4_owns(&e), Ok(()));
    }

    #[test]
    fn ga4_needs_a_ga_client_id() {
        let mut e = event(EventName::Purchase);
        e.ga_client_id = None;
        assert_eq!(ga4_owns(&e), Err(NotSent::NoGaClientId));
    }

    #[test]
    fn ga4_and_meta_follow_the_consent_policy() {
        let mut denied = ConsentState::ALL_GRANTED;
        denied.analytics_storage = crate::consent::Signal::Denied;
        let e = with_consent(event(EventName::Purchase), denied, false);
        assert_eq!(
            ga4_owns(&e),
            Err(NotSent::Consent(SkipReason::AnalyticsStorageDenied))
        );
        let e = with_consent(event(EventName::Purchase), ConsentState::ALL_DENIED, true);
        assert_eq!(
            meta_owns(&e),
            Err(NotSent::Consent(SkipReason::AdUserDataDeniedInOptInRegion))
        );
        let routes = route(&e, &actions());
        assert_eq!(routes.len(), 3);
        assert_eq!(routes[1], (Platform::DataManager, Ok(())));
    }
}
