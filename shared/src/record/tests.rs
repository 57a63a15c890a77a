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
            merged.occurred_at_ms, 1_763_999_995_000,
            "the shop's occurrence time (trust: the shop decides the business facts)"
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
fn a_browser_copy_from_another_visit_adds_nothing_to_the_shops_copy() {
    // trust::same_visit: the shop's copy names the shopper's session; a copy from another
    // session (anyone who knows the order's ID) brings neither its click nor its consent.
    let mut forged = copy(PIXEL, Source::Pixel, browser_session());
    forged.session.consent.ad_user_data = Some(Signal::Denied);
    forged.session_id = Some("attacker".into());
    let mut server = copy(SERVER, Source::Server, SessionContext::default());
    server.session_id = Some("shopper".into());
    // The browser copy arriving second is left out.
    let mut second = server.clone();
    assert_eq!(second.merge(&forged), MergeOutcome::Untied);
    assert_eq!(second, server);
    // Arriving first, its record gives way to the shop's copy (rows kept: one event).
    let mut first = forged.clone();
    assert_eq!(first.merge(&server), MergeOutcome::Merged);
    assert_eq!(first, server);
    assert!(first.session.clicks.fbc.is_none() && first.session.consent.ad_user_data.is_none());
    assert!(!first.sources.pixel);
    // The shopper's own copy joins, and so does one carrying an order token for its amount.
    let mut own = forged.clone();
    own.session_id = Some("shopper".into());
    let mut joined = server.clone();
    assert_eq!(joined.merge(&own), MergeOutcome::Merged);
    assert_eq!(joined.session.consent.ad_user_data, Some(Signal::Denied));
    assert!(joined.session.clicks.fbc.is_some() && joined.sources.pixel);
    // A copy with an order token from another session is no more the shop's visit.
    let mut vouched = forged.clone();
    vouched.vouched = vouched.money.clone();
    let mut tokened = server.clone();
    assert_eq!(tokened.merge(&vouched), MergeOutcome::Untied);
    // A shop copy naming no session cannot tell visits apart: the browser copy joins.
    let mut sessionless = copy(SERVER, Source::Server, SessionContext::default());
    assert_eq!(sessionless.merge(&forged), MergeOutcome::Merged);
    assert_eq!(
        sessionless.session.consent.ad_user_data,
        Some(Signal::Denied)
    );
}

#[test]
fn between_browser_copies_of_two_visits_the_first_or_the_vouched_one_stands() {
    // trust::same_visit: an attacker's copy cannot fill the shopper's record before the shop's
    // copy arrives, in either order; a copy with a valid order token takes over a plain one.
    let mut shopper = copy(PIXEL, Source::Pixel, browser_session());
    shopper.session_id = Some("shopper".into());
    let mut forged = copy(PIXEL, Source::Pixel, SessionContext::default());
    forged.session.consent.ad_user_data = Some(Signal::Denied);
    forged.session_id = Some("attacker".into());
    let mut first = shopper.clone();
    assert_eq!(first.merge(&forged), MergeOutcome::Untied);
    assert_eq!(first, shopper);
    let mut vouched = shopper.clone();
    vouched.vouched = vouched.money.clone();
    let mut taken = forged.clone();
    assert_eq!(taken.merge(&vouched), MergeOutcome::Merged);
    assert_eq!(taken.session_id.as_deref(), Some("shopper"));
    assert!(taken.session.consent.ad_user_data.is_none());
    // Then the shop's copy naming the shopper's session joins it.
    let mut server = copy(SERVER, Source::Server, SessionContext::default());
    server.session_id = Some("shopper".into());
    assert_eq!(taken.merge(&server), MergeOutcome::Merged);
    assert!(taken.sources.pixel && taken.session.clicks.fbc.is_some());
}

#[test]
fn browser_purchases_await_a_shop_copy_or_a_signed_token() {
    let m = Mappings::default();
    let mut pixel = copy(PIXEL, Source::Pixel, browser_session());
    assert!(pixel.awaits_corroboration(&m));
    pixel.vouched = pixel.money.clone();
    assert!(
        !pixel.awaits_corroboration(&m),
        "a token for exactly this amount"
    );
    pixel.vouched = Some(crate::money::Money::new(1.0, "USD"));
    assert!(
        pixel.awaits_corroboration(&m),
        "a token for another amount vouches for nothing"
    );
    let mut pixel = copy(PIXEL, Source::Pixel, browser_session());
    pixel.merge(&copy(SERVER, Source::Server, SessionContext::default()));
    assert!(!pixel.awaits_corroboration(&m));
    let view = copy(
        r#"{"event":"product.viewed"}"#,
        Source::Pixel,
        browser_session(),
    );
    assert!(
        !view.awaits_corroboration(&m),
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

const VIEW_UNDER_ORDER_ID: &str =
    r#"{"event":"product.viewed","event_id":"ID","items":[{"id":"sku-1"}]}"#;

/// A browser copy of another event stated under the purchase's ID.
fn forged_view(id: &EventId) -> EventRecord {
    copy(
        &VIEW_UNDER_ORDER_ID.replace("ID", id.as_str()),
        Source::Pixel,
        browser_session(),
    )
}

#[test]
fn a_shop_copy_replaces_a_browser_record_of_another_name_under_its_id() {
    let server = copy(SERVER, Source::Server, SessionContext::default());
    let mut record = forged_view(&server.event_id);
    assert_eq!(record.merge(&server), MergeOutcome::Replaced);
    assert_eq!(record, server, "nothing of the forged copy survives");
}

#[test]
fn a_browser_copy_of_another_name_is_refused_by_a_shop_record() {
    let server = copy(SERVER, Source::Server, SessionContext::default());
    let mut record = server.clone();
    assert_eq!(
        record.merge(&forged_view(&server.event_id)),
        MergeOutcome::Refused
    );
    assert_eq!(record, server);
}

#[test]
fn a_browser_copy_cannot_move_a_shop_events_time_or_money() {
    let server = copy(SERVER, Source::Server, SessionContext::default());
    let old = PIXEL
        .replace("1763999990000", "1420070400000")
        .replace("\"value\":10", "\"value\":1000000000000");
    let pixel = copy(&old, Source::Pixel, browser_session());
    for (mut merged, other) in [(server.clone(), pixel.clone()), (pixel, server.clone())] {
        assert_eq!(merged.merge(&other), MergeOutcome::Merged);
        assert_eq!(merged.occurred_at_ms, server.occurred_at_ms);
        assert_eq!(merged.money, server.money);
        assert_eq!(merged.items, server.items);
    }
}

#[test]
fn a_browser_only_lead_is_sent_without_its_value() {
    let lead = copy(
        r#"{"event":"lead.submitted","lead_id":"L1","value":5000,"currency":"EUR"}"#,
        Source::Pixel,
        browser_session(),
    );
    let m = Mappings::default();
    assert!(
        !lead.awaits_corroboration(&m),
        "pixel-only lead forms must work"
    );
    let out = lead.to_outbound(&m, &RegionPolicy::default());
    assert_eq!(out.map(|o| o.money), Some(None));
}

#[test]
fn a_browser_copy_cannot_state_its_own_ip_click_ids_or_session() {
    let stated = r#"{"event":"product.viewed","items":[{"id":"a"}],
        "client":{"ip":"198.51.100.7","user_agent":"Forged"},
        "click_ids":{"fbc":"fb.1.1763990000000.Planted"},"session_id":"someone-else"}"#;
    let r = copy(stated, Source::Pixel, SessionContext::default());
    assert_eq!(r.session.client_ip, None);
    assert_eq!(r.session.user_agent, None);
    assert_eq!(r.session.clicks.fbc, None);
    assert_eq!(r.session_id, None);
}

// trust: only the signed backend states a click; its stated gclid is what Google gets, ahead of a
// click cookie the browser brought (which a hostile browser can plant).
#[test]
fn a_signed_server_events_stated_gclid_is_used_before_the_sessions_click() {
    let mut session = browser_session();
    session.clicks.google = Some(
        "ar1.1763990000000.gclid.Planted-by-browser"
            .parse()
            .unwrap(),
    );
    let pixel = copy(PIXEL, Source::Pixel, session);
    let server = copy(
        r#"{"event":"transaction.purchase","order_id":"1001","value":59.9,"currency":"USD",
            "click_ids":{"gclid":"Cj0-shop-stated"},"occurred_at":1763999995000}"#,
        Source::Server,
        SessionContext::default(),
    );
    let mappings = Mappings::default();
    let regions = crate::consent::RegionPolicy::default();
    for (first, second) in [(&pixel, &server), (&server, &pixel)] {
        let mut merged = first.clone();
        merged.merge(second);
        let out = merged.to_outbound(&mappings, &regions).unwrap();
        assert_eq!(
            out.google_click,
            Some((GoogleClickId::Gclid("Cj0-shop-stated".into()), None))
        );
    }
    // Without a stated click the session's is used, with its time.
    let out = pixel.to_outbound(&mappings, &regions).unwrap();
    assert_eq!(
        out.google_click,
        Some((
            GoogleClickId::Gclid("Planted-by-browser".into()),
            Some(1_763_990_000_000)
        ))
    );
}

// trust: the edge header and the pixel cannot state a click; a malformed stated id is ignored.
#[test]
fn only_the_signed_backend_states_a_click_and_only_a_valid_one() {
    let json = r#"{"event":"transaction.purchase","order_id":"1001","value":1,"currency":"USD",
        "click_ids":{"gclid":"Cj0-stated"},"occurred_at":1763999995000}"#;
    assert_eq!(
        copy(json, Source::Edge, SessionContext::default()).stated_google_click,
        None
    );
    let bad = json.replace("Cj0-stated", "has space");
    assert_eq!(
        copy(&bad, Source::Server, SessionContext::default()).stated_google_click,
        None
    );
    let braid = json.replace(r#""gclid":"Cj0-stated""#, r#""wbraid":"WB-1""#);
    assert_eq!(
        copy(&braid, Source::Server, SessionContext::default()).stated_google_click,
        Some(GoogleClickId::Wbraid("WB-1".into()))
    );
}

/// Property tests of the trust rules (host only: proptest does not build for wasm32).
#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A browser copy of order 1001, or a forged copy of another event under its ID.
    fn browser_copy(value: u32, age_s: u32, other_name: bool, id: &EventId) -> EventRecord {
        if other_name {
            return forged_view(id);
        }
        let json = format!(
            r#"{{"event":"transaction.purchase","order_id":"1001","value":{value},"currency":"USD","occurred_at":{}}}"#,
            NOW - u64::from(age_s) * 1000
        );
        copy(&json, Source::Pixel, browser_session())
    }

    fn merge_all(copies: &[EventRecord]) -> EventRecord {
        let mut merged = copies[0].clone();
        for c in &copies[1..] {
            let _ = merged.merge(c);
        }
        merged
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever browser copies arrive, before or after, the merged event's name, business
        /// key, money, items and time are the shop copy's.
        #[test]
        fn the_shop_copy_decides_the_business_facts_in_any_order(
            browsers in proptest::collection::vec((0u32..2_000_000, 0u32..10_000_000, any::<bool>()), 0..6),
            position in 0usize..7,
        ) {
            let shop = copy(SERVER, Source::Server, SessionContext::default());
            let mut copies: Vec<EventRecord> = browsers
                .iter()
                .map(|(v, age, other)| browser_copy(*v, *age, *other, &shop.event_id))
                .collect();
            copies.insert(position.min(copies.len()), shop.clone());
            let merged = merge_all(&copies);
            prop_assert_eq!(&merged.event, &shop.event);
            prop_assert_eq!(&merged.order_id, &shop.order_id);
            prop_assert_eq!(&merged.money, &shop.money);
            prop_assert_eq!(&merged.items, &shop.items);
            prop_assert_eq!(merged.occurred_at_ms, shop.occurred_at_ms);
            prop_assert!(!merged.awaits_corroboration(&Mappings::default()));
        }

        /// Browser copies alone never clear the hold of a purchase, unless a token vouches for
        /// exactly the amount the merged record carries.
        #[test]
        fn no_browser_copy_clears_the_hold_of_a_money_event(
            browsers in proptest::collection::vec((1u32..2_000_000, 0u32..100_000, any::<bool>(), any::<bool>()), 1..6),
        ) {
            let id = EventId::from_business_key(&EventName::Purchase, "1001");
            let copies: Vec<EventRecord> = browsers
                .iter()
                .map(|(v, age, other, token)| {
                    let mut c = browser_copy(*v, *age, *other, &id);
                    if *token {
                        // A token that vouched for this copy's own amount at arrival.
                        c.vouched = c.money.clone();
                    }
                    c
                })
                .collect();
            let merged = merge_all(&copies);
            let m = Mappings::default();
            if merged.event == EventName::Purchase {
                let vouched = merged.vouched.is_some() && merged.vouched == merged.money;
                prop_assert_eq!(merged.awaits_corroboration(&m), !vouched);
                if vouched {
                    prop_assert!(copies.iter().any(|c| c.vouched.is_some() && c.vouched == merged.money));
                }
            }
        }
    }
}

mod accepted_mapping {
    use super::*;
    use crate::mapping_config::MappingEntry;

    fn quiz(meta: &str, ga4: &str) -> Mappings {
        let (_, m) = MappingEntry {
            meta: Some(meta.into()),
            ga4: Some(ga4.into()),
            ..MappingEntry::default()
        }
        .resolve("quiz.completed")
        .unwrap();
        Mappings::default().with_entries([("quiz.completed", &m)])
    }

    fn accepted_with(mappings: &Mappings) -> EventRecord {
        let ev = validate(
            parse_event(br#"{"event":"quiz.completed","occurred_at":1763999990000}"#).unwrap(),
            ValidationContext {
                mappings,
                now_ms: NOW,
                random: [3; 16],
            },
        )
        .unwrap();
        let (user, _) = hash_user_data(&ev.user, "US");
        EventRecord::from_copy(&ev, user, browser_session(), Source::Server)
    }

    #[test]
    fn a_queued_event_keeps_the_mapping_it_was_accepted_with() {
        let record = accepted_with(&quiz("QuizCompleted", "quiz_completed"));
        let changed = quiz("QuizDone", "quiz_done");
        let out = record
            .to_outbound(&changed, &RegionPolicy::default())
            .unwrap();
        assert_eq!(out.mapping.meta, "QuizCompleted");
        assert_eq!(out.mapping.ga4, "quiz_completed");
    }

    #[test]
    fn removing_a_mapping_never_fails_a_queued_event() {
        let record = accepted_with(&quiz("QuizCompleted", "quiz_completed"));
        let stored = serde_json::to_string(&record).unwrap();
        let back: EventRecord = serde_json::from_str(&stored).unwrap();
        let out = back
            .to_outbound(&Mappings::default(), &RegionPolicy::default())
            .expect("still sendable without any mapping for it");
        assert_eq!(out.mapping.meta, "QuizCompleted");
    }

    #[test]
    fn a_row_stored_before_records_kept_their_mapping_uses_the_current_one() {
        let record = accepted_with(&quiz("QuizCompleted", "quiz_completed"));
        let mut stored: serde_json::Value = serde_json::to_value(&record).unwrap();
        stored.as_object_mut().unwrap().remove("mapping");
        let old: EventRecord = serde_json::from_value(stored).unwrap();
        let out = old
            .to_outbound(&quiz("QuizDone", "quiz_done"), &RegionPolicy::default())
            .unwrap();
        assert_eq!(out.mapping.meta, "QuizDone");
    }
}
