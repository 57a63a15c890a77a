//! Tests for merging copies of an event and turning a record into an outbound event.

use super::*;
use crate::consent::{MetaPermission, Signal};
use crate::pii::{RawUserData, hash_user_data};
use crate::wire::{ValidationContext, parse_event, validate};

const NOW: u64 = 1_764_000_000_000;

fn copy(json: &str, source: Source, session: SessionContext) -> EventRecord {
    let mappings = Mappings::default();
    let ev = validate(
        parse_event(json.as_bytes()).unwrap(),
        ValidationContext {
            mappings: &mappings,
            now_ms: NOW,
            random: [1; 16],
        },
    )
    .unwrap();
    let (user, _) = hash_user_data(&ev.user, "US");
    EventRecord::from_copy(&ev, user, session, source)
}

fn browser_session() -> SessionContext {
    SessionContext {
        clicks: ClickContext {
            fbc: Some("fb.1.1763990000000.IwAR-x_1".parse().unwrap()),
            fbp: Some("fb.1.1763990000000.123456789".parse().unwrap()),
            google: None,
        },
        client_ip: Some("203.0.113.9".into()),
        user_agent: Some("Mozilla/5.0".into()),
        country: Some("US".into()),
        ..SessionContext::default()
    }
}

const PIXEL: &str = r#"{"event":"transaction.purchase","order_id":"1001","value":10,"currency":"USD","occurred_at":1763999990000}"#;
const SERVER: &str = r#"{"event":"transaction.purchase","order_id":"1001","value":59.9,"currency":"USD",
    "items":[{"id":"sku-1","quantity":3,"price":19.95}],"user":{"email":"Jane@Example.com"},"occurred_at":1763999995000}"#;

#[test]
fn pixel_and_server_copies_merge_into_one_record_in_either_order() {
    let pixel = copy(PIXEL, Source::Pixel, browser_session());
    let server = copy(SERVER, Source::Server, SessionContext::default());
    let mut a = pixel.clone();
    a.merge(&server);
    let mut b = server.clone();
    b.merge(&pixel);
    for merged in [&a, &b] {
        assert_eq!(
            merged.event_id, pixel.event_id,
            "same business key, same ID"
        );
        assert!(merged.session.clicks.fbc.is_some() && merged.session.clicks.fbp.is_some());
        assert_eq!(merged.session.client_ip.as_deref(), Some("203.0.113.9"));
        assert!(
            merged.user.meta.em.is_some(),
            "the backend's hashed email is kept"
        );
        assert_eq!(
            merged.money,
            Some(crate::money::Money::new(59.9, "USD")),
            "the shop's order data wins"
        );
        assert_eq!(merged.items.len(), 1);
        assert_eq!(
            merged.occurred_at_ms, 1_763_999_990_000,
            "earliest occurrence time"
        );
        assert_eq!(
            merged.sources,
            Sources {
                pixel: true,
                server: true,
                edge: false
            }
        );
    }
}

#[test]
fn the_shops_customer_identifiers_replace_a_browser_copys_on_merge() {
    // A browser copy can be posted by anyone; the shop's copy names its real customer.
    let forged = r#"{"event":"transaction.purchase","order_id":"1001","value":10,"currency":"USD",
        "user":{"email":"someone.else@example.com","city":"Paris"}}"#;
    let server = copy(SERVER, Source::Server, SessionContext::default());
    for shop_first in [false, true] {
        let pixel = copy(forged, Source::Pixel, browser_session());
        let merged = if shop_first {
            let mut m = server.clone();
            m.merge(&pixel);
            m
        } else {
            let mut m = pixel.clone();
            m.merge(&server);
            m
        };
        assert_eq!(
            merged.user.meta.em, server.user.meta.em,
            "shop_first={shop_first}"
        );
        assert_eq!(merged.user.google.email, server.user.google.email);
        assert!(
            merged.user.meta.ct.is_some(),
            "what the shop did not send is still filled from the browser"
        );
        assert!(
            merged.session.clicks.fbc.is_some(),
            "the browser's session is kept"
        );
    }
}

#[test]
fn merging_keeps_the_most_restrictive_consent() {
    let mut pixel = copy(PIXEL, Source::Pixel, browser_session());
    pixel.session.consent.ad_user_data = Some(Signal::Granted);
    let server = copy(
        r#"{"event":"transaction.purchase","order_id":"1001","value":1,"currency":"USD","consent":{"ad_user_data":"denied"}}"#,
        Source::Server,
        SessionContext::default(),
    );
    pixel.merge(&server);
    assert_eq!(pixel.session.consent.ad_user_data, Some(Signal::Denied));
}

#[test]
fn browser_purchases_await_a_shop_copy_or_a_signed_token() {
    let mut pixel = copy(PIXEL, Source::Pixel, browser_session());
    assert!(pixel.awaits_corroboration());
    pixel.order_token_valid = true;
    assert!(!pixel.awaits_corroboration());
    let mut pixel = copy(PIXEL, Source::Pixel, browser_session());
    pixel.merge(&copy(SERVER, Source::Server, SessionContext::default()));
    assert!(!pixel.awaits_corroboration());
    let view = copy(
        r#"{"event":"product.viewed"}"#,
        Source::Pixel,
        browser_session(),
    );
    assert!(
        !view.awaits_corroboration(),
        "only money events need corroboration"
    );
}

#[test]
fn stored_session_context_fills_what_a_server_copy_lacks() {
    let mut server = copy(SERVER, Source::Server, SessionContext::default());
    server.fill_from_session(&browser_session());
    assert_eq!(server.session.user_agent.as_deref(), Some("Mozilla/5.0"));
    assert!(server.session.clicks.fbc.is_some());
}

#[test]
fn the_outbound_event_carries_the_policy_for_the_visitors_region() {
    let mut merged = copy(PIXEL, Source::Pixel, browser_session());
    merged.merge(&copy(SERVER, Source::Server, SessionContext::default()));
    let out = merged
        .to_outbound(&Mappings::default(), &RegionPolicy::default())
        .unwrap();
    assert_eq!(out.event_id, merged.event_id);
    assert!(
        matches!(out.permissions.meta, MetaPermission::Send(_)),
        "US visitor, consent by default"
    );
    assert_eq!(
        out.fbc.as_ref().map(crate::click_ids::Fbc::as_str),
        Some("fb.1.1763990000000.IwAR-x_1"),
        "fbc verbatim"
    );

    let mut eu = merged.clone();
    eu.session.country = Some("DE".into());
    let out = eu
        .to_outbound(&Mappings::default(), &RegionPolicy::default())
        .unwrap();
    assert!(
        !matches!(out.permissions.meta, MetaPermission::Send(_)),
        "EEA default is opt-in: nothing to Meta"
    );
}

#[test]
fn records_hold_no_raw_pii_when_stored() {
    let server = copy(SERVER, Source::Server, SessionContext::default());
    let json = serde_json::to_string(&server).unwrap();
    assert!(!json.to_lowercase().contains("jane"), "{json}");
    let _ = RawUserData::default();
}

#[test]
fn match_quality_counts_click_ids_and_connection() {
    let mut merged = copy(PIXEL, Source::Pixel, browser_session());
    let before = merged.match_quality();
    merged.merge(&copy(SERVER, Source::Server, SessionContext::default()));
    assert!(merged.match_quality().points > before.points);
}

// DESIGN §4: "US visitor opted out of sale/sharing (GPC header or signal) → Limited Data Use";
// meta-capi.md §6. The opt-out can be stated on the event, not only by the GPC header.
#[test]
fn a_stated_sale_opt_out_gives_meta_limited_data_use_for_a_us_visitor() {
    let plain = copy(SERVER, Source::Server, browser_session());
    let opted_out = copy(
        r#"{"event":"transaction.purchase","order_id":"1001","value":1,"currency":"USD","sale_opt_out":true}"#,
        Source::Server,
        browser_session(),
    );
    assert!(opted_out.session.sale_opt_out && !plain.session.sale_opt_out);
    let ldu = |r: &EventRecord| match r
        .to_outbound(&Mappings::default(), &RegionPolicy::default())
        .unwrap()
        .permissions
        .meta
    {
        MetaPermission::Send(send) => send.ldu.is_some(),
        MetaPermission::Skip { .. } => panic!("Meta should still get the event"),
    };
    assert!(ldu(&opted_out), "opted out: LDU");
    assert!(!ldu(&plain), "no opt-out: no LDU");
    // Merging a copy without the flag never lifts it.
    let mut merged = opted_out.clone();
    merged.merge(&plain);
    assert!(merged.session.sale_opt_out);
}
