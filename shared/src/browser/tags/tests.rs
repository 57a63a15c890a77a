//! Tests for the browser tags' calls.

use super::*;
use crate::mapping::BusinessKey;

fn mapping(name: EventName, meta: &str, ga4: &str, send_to: Option<&str>) -> PixelEvent {
    PixelEvent {
        name,
        meta: meta.into(),
        ga4: ga4.into(),
        key: BusinessKey::OrderId,
        send_to: send_to.map(|s| s.parse().unwrap()),
    }
}

fn items() -> Vec<LineItem> {
    vec![
        LineItem {
            id: "sku-1".into(),
            name: Some("Mug".into()),
            price: Some(19.95),
            quantity: Some(2),
            category: None,
        },
        LineItem {
            id: "sku-2".into(),
            ..LineItem::default()
        },
    ]
}

#[test]
fn meta_standard_events_are_tracked_and_other_names_tracked_custom() {
    // meta-capi.md §11.1: `track` takes only the standard events; anything else is custom.
    assert_eq!(MetaMethod::for_name("Purchase"), MetaMethod::Track);
    assert_eq!(MetaMethod::for_name("Lead"), MetaMethod::Track);
    assert_eq!(
        MetaMethod::for_name("QuizCompleted"),
        MetaMethod::TrackCustom
    );
    assert_eq!(MetaMethod::for_name("purchase"), MetaMethod::TrackCustom);
    for name in EventName::STANDARD {
        let m = crate::mapping::standard(&name).unwrap();
        assert_eq!(MetaMethod::for_name(&m.meta), MetaMethod::Track, "{name}");
    }
}

#[test]
fn the_fbq_event_id_is_the_server_event_id() {
    // meta-capi.md §4: the pixel's eventID must match the server copy's event_id.
    let id = EventId::from_business_key(&EventName::Purchase, "1001");
    let m = mapping(EventName::Purchase, "Purchase", "purchase", None);
    let p = plan(&TagEvent {
        mapping: &m,
        event_id: &id,
        order_id: Some("1001"),
        money: Some((59.9, "EUR")),
        items: &items(),
    });
    assert_eq!(p.meta.event_id, id.as_str());
    assert_eq!(p.meta.method.as_str(), "track");
    assert_eq!(p.meta.data.money, Some((59.9, "EUR".into())));
    assert_eq!(p.meta.data.order_id.as_deref(), Some("1001"));
    assert_eq!(p.meta.data.contents[1].quantity, 1);
    assert_eq!(p.meta.data.num_items, None, "num_items only for checkouts");
}

#[test]
fn purchases_carry_the_order_id_verbatim_as_transaction_id() {
    // google.md §8: byte-identical transaction ids in gtag and Data Manager.
    let id = EventId::from_business_key(&EventName::Purchase, " ORD-0042 ");
    let m = mapping(
        EventName::Purchase,
        "Purchase",
        "purchase",
        Some("AW-1/abc"),
    );
    let p = plan(&TagEvent {
        mapping: &m,
        event_id: &id,
        order_id: Some(" ORD-0042 "),
        money: None,
        items: &[],
    });
    assert_eq!(p.ga4.transaction_id, " ORD-0042 ");
    let conversion = p.conversion.unwrap();
    assert_eq!(conversion.transaction_id, " ORD-0042 ");
    assert_eq!(conversion.send_to.as_str(), "AW-1/abc");
}

#[test]
fn other_events_use_the_event_id_as_transaction_id_and_fire_a_conversion_only_with_a_tag() {
    let id = EventId::from_business_key(&EventName::CheckoutStarted, "chk-1");
    let m = mapping(
        EventName::CheckoutStarted,
        "InitiateCheckout",
        "begin_checkout",
        None,
    );
    let p = plan(&TagEvent {
        mapping: &m,
        event_id: &id,
        order_id: None,
        money: Some((10.0, "EUR")),
        items: &items(),
    });
    assert_eq!(p.ga4.transaction_id, id.as_str());
    assert_eq!(p.ga4.name, "begin_checkout");
    assert_eq!(p.conversion, None);
    assert_eq!(p.meta.data.num_items, Some(3));
}

#[test]
fn a_value_that_is_not_a_number_is_left_out() {
    let id = EventId::from_random([1; 16]);
    let m = mapping(EventName::CartAdded, "AddToCart", "add_to_cart", None);
    let p = plan(&TagEvent {
        mapping: &m,
        event_id: &id,
        order_id: None,
        money: Some((f64::NAN, "EUR")),
        items: &[],
    });
    assert_eq!(p.meta.data.money, None);
    assert_eq!(p.ga4.money, None);
}
