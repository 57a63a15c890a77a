//! GA4 e-commerce pushes on `window.dataLayer` as events (`DATALAYER=capture|fire`): the pushes a
//! shop's theme or GTM setup already makes (`{event: 'purchase', ecommerce: {transaction_id, value,
//! currency, items}}`, google.md §4 [S46], §11.1), past and future, become the mapped business
//! events with their items, value and currency.
//!
//! Business keys: GA4 pushes carry `transaction_id`, which is the order id of a purchase; the
//! other keys (`checkout_id`, `cart_id`, `user_id`, `lead_id`) are wherever the merchant puts them,
//! named by `DATALAYER_KEYS` (`checkout_id=ecommerce.checkout_id`).
//!
//! **The keyless rule**: a push for an event that needs a business key but lacks it is not
//! reported at all. Its ID would be random, so beside the shop's keyed server copy of the same
//! conversion it would be a second conversion at Meta (another `event_id`) and at Google (another
//! `transaction_id`) (meta-capi.md §4; google.md §8). Product views need no key and are always
//! reported.
//!
//! `capture` reports the events and leaves the tags to the page's GTM (which fires them with its
//! own IDs); `fire` also fires the tags with the shared IDs, as `ar('track')` does.

use super::config::{DataLayerMode, PixelConfig, PixelEvent};
use crate::mapping::BusinessKey;

/// The GA4 e-commerce events the pixel captures (google.md §10).
pub const GA4_EVENTS: [&str; 7] = [
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "add_payment_info",
    "purchase",
    "sign_up",
    "generate_lead",
];

/// Where `order_id` sits when the merchant names nothing: GA4's own field.
pub const ORDER_ID_PATH: &str = "ecommerce.transaction_id";

/// The GA4 item fields and the event's item fields they become.
pub const ITEM_FIELDS: [(&str, &str); 5] = [
    ("item_id", "id"),
    ("item_name", "name"),
    ("price", "price"),
    ("quantity", "quantity"),
    ("item_category", "category"),
];

/// The mapped event a push named `ga4_name` becomes, when capture is on.
pub fn event_for<'a>(config: &'a PixelConfig, ga4_name: &str) -> Option<&'a PixelEvent> {
    if config.datalayer == DataLayerMode::Off || !GA4_EVENTS.contains(&ga4_name) {
        return None;
    }
    config.events.iter().find(|e| e.ga4 == ga4_name)
}

/// The dot path of `field` (`order_id`, `checkout_id`, …) in a push.
pub fn key_path<'a>(config: &'a PixelConfig, field: &str) -> Option<&'a str> {
    config
        .datalayer_keys
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, p)| p.as_str())
        .or((field == "order_id").then_some(ORDER_ID_PATH))
}

/// Whether a push with these keys present is reported (the keyless rule above).
pub fn reported(event: &PixelEvent, keys: &crate::event_id::BusinessKeys) -> bool {
    event.key == BusinessKey::None || keys.key_for(event.key).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventName;
    use crate::event_id::BusinessKeys;

    fn config(mode: DataLayerMode) -> PixelConfig {
        let events = EventName::STANDARD
            .iter()
            .filter_map(|e| {
                let m = crate::mapping::standard(e)?;
                Some(PixelEvent {
                    name: e.clone(),
                    meta: m.meta,
                    ga4: m.ga4,
                    key: m.key,
                    send_to: None,
                })
            })
            .collect();
        PixelConfig {
            datalayer: mode,
            datalayer_keys: vec![("checkout_id".into(), "ecommerce.checkout_id".into())],
            events,
            ..PixelConfig::default()
        }
    }

    #[test]
    fn ga4_ecommerce_pushes_become_the_mapped_events() {
        let c = config(DataLayerMode::Capture);
        assert_eq!(
            event_for(&c, "purchase").map(|e| &e.name),
            Some(&EventName::Purchase)
        );
        assert_eq!(
            event_for(&c, "begin_checkout").map(|e| &e.name),
            Some(&EventName::CheckoutStarted)
        );
        assert_eq!(event_for(&c, "page_view"), None, "not an e-commerce event");
        assert_eq!(event_for(&config(DataLayerMode::Off), "purchase"), None);
    }

    #[test]
    fn purchases_take_the_order_id_from_transaction_id_and_other_keys_where_configured() {
        let c = config(DataLayerMode::Fire);
        assert_eq!(key_path(&c, "order_id"), Some("ecommerce.transaction_id"));
        assert_eq!(key_path(&c, "checkout_id"), Some("ecommerce.checkout_id"));
        assert_eq!(key_path(&c, "user_id"), None);
    }

    #[test]
    fn a_push_without_its_business_key_never_becomes_a_second_conversion() {
        // meta-capi.md §4, google.md §8: a random ID would not deduplicate with the shop's copy.
        let c = config(DataLayerMode::Capture);
        let purchase = event_for(&c, "purchase").unwrap();
        assert!(!reported(purchase, &BusinessKeys::default()));
        let keyed = BusinessKeys {
            order_id: Some("1001".into()),
            ..BusinessKeys::default()
        };
        assert!(reported(purchase, &keyed));
        let view = event_for(&c, "view_item").unwrap();
        assert!(
            reported(view, &BusinessKeys::default()),
            "views need no key"
        );
    }
}
