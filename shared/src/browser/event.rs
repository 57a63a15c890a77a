//! An event as the page reports it with `ar('track', name, props)`, and what the pixel decides
//! before anything leaves the page: that the worker maps it, that it carries its business key, and
//! its ID, derived from the mapping the worker serves (`config`), so the pixel's ID is the one the
//! server copy gets (DESIGN §3).
//!
//! A refusal names the field, in the words the worker would use (`order_id: required for
//! transaction.purchase`), so the page's promise rejects with something a developer can act on.

use core::fmt;

use crate::event::EventName;
use crate::event_id::{BusinessKeys, EventId};
use crate::event_rules::{
    ForeignEventId, MAX_ITEMS, TOO_LONG, TOO_MANY_ITEMS, event_id_for, item_field, item_problem,
    key_too_long, money_problem,
};
use crate::mapping::{BusinessKey, needs_value};

use super::config::{PixelConfig, PixelEvent};
use super::tags::LineItem;

/// What the page stated about an event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageEvent {
    /// `event_id`, when the page chose one.
    pub event_id: Option<String>,
    /// `order_id`, `checkout_id`, `cart_id`, `lead_id`, `user_id`.
    pub keys: BusinessKeys,
    /// `value`.
    pub value: Option<f64>,
    /// `currency`.
    pub currency: Option<String>,
    /// `items`.
    pub items: Vec<LineItem>,
    /// `order_token`, the shop's signature over a purchase (only its length is checked here).
    pub order_token: Option<String>,
}

impl PageEvent {
    /// Value and currency, when both are stated.
    pub fn money(&self) -> Option<(f64, &str)> {
        Some((self.value?, self.currency.as_deref()?))
    }
}

/// Why the pixel refuses an event: the field and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    /// The field at fault (`event`, `order_id`, `value`, `items[2].price`, …).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl EventError {
    /// `field: problem` (built without `core::fmt`, `crate::text`).
    #[must_use]
    pub fn message(&self) -> String {
        [&self.field, ": ", &self.problem].concat()
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for EventError {}

/// An event the pixel will report: its mapping and its ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified<'a> {
    /// How the tags name it.
    pub mapping: &'a PixelEvent,
    /// Its ID.
    pub event_id: EventId,
}

/// Checks `page` as event `name` under `config` and fixes its ID: the stated `event_id`, else the
/// ID of its business key, else one from `random`.
///
/// # Errors
/// [`EventError`] naming the field: an unknown or unmapped event, a missing business key, an
/// unusable `event_id`, or a purchase without value and currency.
pub fn identify<'a>(
    config: &'a PixelConfig,
    name: &str,
    page: &PageEvent,
    random: [u8; 16],
) -> Result<Identified<'a>, EventError> {
    let bad = |field: &str, problem: String| EventError {
        field: field.to_owned(),
        problem,
    };
    let parsed: EventName = name
        .parse()
        .map_err(|e: crate::event::EventNameError| bad("event", e.message().to_owned()))?;
    let name = parsed.as_str();
    // trust: refunds and cancellations come from the shop only.
    if parsed.is_adjustment() {
        return Err(bad(
            "event",
            [name, " is reported by the shop only, not the pixel"].concat(),
        ));
    }
    let mapping = config.event(&parsed).ok_or_else(|| {
        bad(
            "event",
            [name, " is not a standard event and has no custom mapping"].concat(),
        )
    })?;
    if let Some(field) = key_too_long(
        &page.keys,
        page.currency.as_deref(),
        page.order_token.as_deref(),
    ) {
        return Err(bad(field, TOO_LONG.to_owned()));
    }
    let key = page.keys.key_for(mapping.key);
    if key.is_none() && mapping.key != BusinessKey::None {
        return Err(bad(
            mapping.key.field_name(),
            ["required for ", name].concat(),
        ));
    }
    // The worker's own checks (event_rules), so no tag fires for an event it would refuse.
    let stated = page
        .event_id
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: crate::event_id::EventIdError| bad("event_id", e.message().to_owned()))?;
    let event_id = event_id_for(&parsed, key.as_deref(), stated, random)
        .map_err(|_| bad("event_id", ForeignEventId::problem(&parsed, mapping.key)))?;
    if let Some((field, problem)) = money_problem(page.value, page.currency.as_deref()) {
        return Err(bad(field, problem.to_owned()));
    }
    // meta-capi.md §1.5: value and currency are required for Purchase.
    if needs_value(&parsed) && page.money().is_none() {
        let field = if page.value.is_none() {
            "value"
        } else {
            "currency"
        };
        return Err(bad(field, ["required for ", name].concat()));
    }
    if page.items.len() > MAX_ITEMS {
        return Err(bad("items", TOO_MANY_ITEMS.to_owned()));
    }
    for (i, item) in page.items.iter().enumerate() {
        if let Some((field, problem)) = item_problem(
            &item.id,
            item.name.as_deref(),
            item.category.as_deref(),
            item.price,
            item.quantity,
        ) {
            return Err(EventError {
                field: item_field(i, field),
                problem: problem.to_owned(),
            });
        }
    }
    Ok(Identified { mapping, event_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::config::PixelEvent;

    fn config() -> PixelConfig {
        let events = EventName::STANDARD
            .iter()
            .map(|e| {
                let m = crate::mapping::standard(e).unwrap_or_else(|| unreachable!());
                PixelEvent {
                    name: e.clone(),
                    meta: m.meta,
                    ga4: m.ga4,
                    key: m.key,
                    send_to: None,
                }
            })
            .collect();
        PixelConfig {
            events,
            ..PixelConfig::default()
        }
    }

    fn purchase(order: &str) -> PageEvent {
        PageEvent {
            keys: BusinessKeys {
                order_id: Some(order.into()),
                ..BusinessKeys::default()
            },
            value: Some(59.9),
            currency: Some("EUR".into()),
            ..PageEvent::default()
        }
    }

    #[test]
    fn the_pixel_refuses_long_keys_many_items_and_bad_items_as_the_worker_does() {
        // event_rules: the worker's own limits (512-byte texts, 200 items, item prices), checked
        // on the page before a tag fires, in the worker's words for the same field.
        let item = |id: &str| LineItem {
            id: id.into(),
            name: None,
            price: None,
            quantity: None,
            category: None,
        };
        let long = "x".repeat(513);
        let cart = |cart: &str, items: Vec<LineItem>| PageEvent {
            keys: BusinessKeys {
                cart_id: Some(cart.into()),
                line_item_id: items.first().map(|i| i.id.clone()),
                ..BusinessKeys::default()
            },
            items,
            ..PageEvent::default()
        };
        let many: Vec<LineItem> = (0..201).map(|i| item(&format!("p{i}"))).collect();
        let many_json = (0..201)
            .map(|i| format!(r#"{{"id":"p{i}"}}"#))
            .collect::<Vec<_>>()
            .join(",");
        let priced = LineItem {
            price: Some(-1.0),
            ..item("b")
        };
        let named = LineItem {
            name: Some(long.clone()),
            ..item("a")
        };
        let cases = [
            (
                cart(&long, vec![item("a")]),
                format!(r#""cart_id":"{long}","items":[{{"id":"a"}}]"#),
            ),
            (
                cart("c1", many),
                format!(r#""cart_id":"c1","items":[{many_json}]"#),
            ),
            (
                cart("c1", vec![item("a"), priced]),
                r#""cart_id":"c1","items":[{"id":"a"},{"id":"b","price":-1}]"#.to_owned(),
            ),
            (
                cart("c1", vec![named]),
                format!(r#""cart_id":"c1","items":[{{"id":"a","name":"{long}"}}]"#),
            ),
        ];
        let mappings = crate::mapping_config::Mappings::default();
        for (page, fields) in cases {
            let pixel = identify(&config(), "cart.added", &page, [0; 16]).unwrap_err();
            let json = [r#"{"event":"cart.added","#, &fields, "}"].concat();
            let input = crate::wire::parse_event(json.as_bytes()).unwrap();
            let ctx = crate::wire::ValidationContext {
                mappings: &mappings,
                now_ms: 1_764_000_000_000,
                random: [7; 16],
            };
            let worker = crate::wire::validate(input, ctx).unwrap_err();
            assert_eq!(
                (pixel.field.as_str(), pixel.problem.as_str()),
                (worker.field.as_str(), worker.problem.as_str())
            );
        }
    }

    #[test]
    fn the_pixel_derives_the_id_the_server_copy_derives() {
        // DESIGN §3: the same ID from (event, business key) on both sides.
        let c = config();
        let id = identify(&c, "transaction.purchase", &purchase("1001"), [0; 16]).unwrap();
        assert_eq!(
            id.event_id,
            EventId::from_business_key(&EventName::Purchase, "1001")
        );
        assert_eq!(id.mapping.meta, "Purchase");
    }

    #[test]
    fn a_missing_business_key_is_refused_naming_the_field() {
        let err = identify(
            &config(),
            "transaction.purchase",
            &PageEvent::default(),
            [0; 16],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "order_id: required for transaction.purchase"
        );
        let cart = PageEvent {
            keys: BusinessKeys {
                cart_id: Some("c1".into()),
                ..BusinessKeys::default()
            },
            ..PageEvent::default()
        };
        let err = identify(&config(), "cart.added", &cart, [0; 16]).unwrap_err();
        assert_eq!(err.field, "cart_id and items[0].id");
    }

    #[test]
    fn a_purchase_without_value_or_currency_is_refused() {
        // meta-capi.md §1.5: Purchase needs value and currency.
        let mut p = purchase("1");
        p.currency = None;
        let err = identify(&config(), "transaction.purchase", &p, [0; 16]).unwrap_err();
        assert_eq!(err.field, "currency");
        p.value = None;
        let err = identify(&config(), "transaction.purchase", &p, [0; 16]).unwrap_err();
        assert_eq!(err.field, "value");
    }

    // trust: refunds and cancellations come from the shop only; the pixel refuses them.
    #[test]
    fn the_pixel_refuses_refunds_and_cancellations() {
        for name in ["transaction.refunded", "transaction.cancelled"] {
            let err = identify(&config(), name, &purchase("1001"), [0; 16]).unwrap_err();
            assert_eq!(err.field, "event");
            assert!(err.problem.contains("shop only"), "{err}");
        }
    }

    #[test]
    fn unmapped_or_malformed_names_are_refused() {
        let err = identify(&config(), "quiz.done", &PageEvent::default(), [0; 16]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "event: quiz.done is not a standard event and has no custom mapping"
        );
        let err = identify(&config(), "Quiz Done", &PageEvent::default(), [0; 16]).unwrap_err();
        assert_eq!(err.field, "event");
    }

    #[test]
    fn a_stated_event_id_is_kept_and_keyless_events_get_a_random_one() {
        let c = config();
        let stated = PageEvent {
            event_id: Some("page-chosen-1".into()),
            ..PageEvent::default()
        };
        let id = identify(&c, "product.viewed", &stated, [0; 16]).unwrap();
        assert_eq!(id.event_id.as_str(), "page-chosen-1");
        let id = identify(&c, "product.viewed", &PageEvent::default(), [0xab; 16]).unwrap();
        assert_eq!(id.event_id, EventId::from_random([0xab; 16]));
        let bad = PageEvent {
            event_id: Some("a b".into()),
            ..PageEvent::default()
        };
        let err = identify(&c, "product.viewed", &bad, [0; 16]).unwrap_err();
        assert_eq!(err.field, "event_id");
    }
}
