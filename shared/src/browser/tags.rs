//! The browser tags' calls for one event: what the pixel passes to Meta's `fbq` and Google's
//! `gtag`, so that each platform can deduplicate the browser copy against the server copy.
//!
//! - Meta: `fbq('track', Name, custom_data, {eventID})` for Meta's standard events,
//!   `fbq('trackCustom', …)` for any other name (meta-capi.md §11.1); `eventID` is the server
//!   copy's `event_id` (meta-capi.md §4). `custom_data` is built by [`meta_custom_data`], the
//!   same function the Conversions API request uses.
//! - Google: `gtag('event', ga4_name, {transaction_id, value, currency, items})`, and for an
//!   event whose conversion action is the gtag's `WEBPAGE` action,
//!   `gtag('event', 'conversion', {send_to, transaction_id, value, currency})` (google.md §11.1);
//!   `transaction_id` is [`crate::event_id::transaction_id`], what the worker sends Data Manager.
//!
//! This file describes calls; the pixel makes them. Whether a tag may fire under the visitor's
//! consent is `browser::consent`'s decision.

use crate::event::EventName;
use crate::event_id::{EventId, transaction_id};

use super::config::PixelEvent;
use super::send_to::SendTo;

/// Meta's standard web events (meta-capi.md §11.1): tracked with `track`, all others with
/// `trackCustom`.
pub const META_STANDARD_EVENTS: [&str; 17] = [
    "AddPaymentInfo",
    "AddToCart",
    "AddToWishlist",
    "CompleteRegistration",
    "Contact",
    "CustomizeProduct",
    "Donate",
    "FindLocation",
    "InitiateCheckout",
    "Lead",
    "Purchase",
    "Schedule",
    "Search",
    "StartTrial",
    "SubmitApplication",
    "Subscribe",
    "ViewContent",
];

/// One line item, as both platforms' parameters need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineItem {
    /// SKU or product id.
    pub id: String,
    /// Product name.
    pub name: Option<String>,
    /// Unit price.
    pub price: Option<f64>,
    /// Quantity.
    pub quantity: Option<u32>,
    /// Category.
    pub category: Option<String>,
}

/// What the tags need to know about one event.
#[derive(Debug, Clone, Copy)]
pub struct TagEvent<'a> {
    /// Its mapping (names, `send_to`).
    pub mapping: &'a PixelEvent,
    /// Its ID.
    pub event_id: &'a EventId,
    /// Its order id (purchases).
    pub order_id: Option<&'a str>,
    /// Value and currency.
    pub money: Option<(f64, &'a str)>,
    /// Line items.
    pub items: &'a [LineItem],
}

/// `fbq`'s tracking method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaMethod {
    /// `track`: a Meta standard event.
    Track,
    /// `trackCustom`: any other name.
    TrackCustom,
}

impl MetaMethod {
    /// The method for the Meta event `name`.
    pub fn for_name(name: &str) -> Self {
        if META_STANDARD_EVENTS.contains(&name) {
            Self::Track
        } else {
            Self::TrackCustom
        }
    }

    /// The `fbq` command.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Track => "track",
            Self::TrackCustom => "trackCustom",
        }
    }
}

/// One entry of Meta's `contents`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaContent {
    /// Product id.
    pub id: String,
    /// Quantity (1 when not stated).
    pub quantity: u32,
    /// Unit price.
    pub item_price: Option<f64>,
}

/// Meta's `custom_data` for an event (meta-capi.md §1.5), the same in the browser and the server
/// copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaCustomData {
    /// `value` and `currency`.
    pub money: Option<(f64, String)>,
    /// `contents`, `content_ids` and `content_type: "product"` when there are items.
    pub contents: Vec<MetaContent>,
    /// `num_items` ("Use only with `InitiateCheckout`", meta-capi.md §1.5).
    pub num_items: Option<u64>,
    /// `order_id`.
    pub order_id: Option<String>,
}

/// Meta's `custom_data` for `event`: value and currency, the items as `contents` and
/// `content_ids`, `num_items` for checkouts, and the order id.
pub fn meta_custom_data(
    event: &EventName,
    money: Option<(f64, &str)>,
    items: &[LineItem],
    order_id: Option<&str>,
) -> MetaCustomData {
    MetaCustomData {
        money: money
            .filter(|(v, _)| v.is_finite())
            .map(|(v, c)| (v, c.to_owned())),
        contents: items
            .iter()
            .map(|i| MetaContent {
                id: i.id.clone(),
                quantity: i.quantity.unwrap_or(1),
                item_price: i.price.filter(|p| p.is_finite()),
            })
            .collect(),
        num_items: (*event == EventName::CheckoutStarted && !items.is_empty()).then(|| {
            items
                .iter()
                .map(|i| u64::from(i.quantity.unwrap_or(1)))
                .sum()
        }),
        order_id: order_id.filter(|o| !o.is_empty()).map(str::to_owned),
    }
}

/// `fbq(method, name, custom_data, {eventID})`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaCall {
    /// `track` or `trackCustom`.
    pub method: MetaMethod,
    /// The Meta event name.
    pub name: String,
    /// The parameters.
    pub data: MetaCustomData,
    /// `eventID`: the server copy's `event_id`.
    pub event_id: String,
}

/// `gtag('event', name, {transaction_id, value, currency, items})`.
#[derive(Debug, Clone, PartialEq)]
pub struct GtagEvent {
    /// The GA4 event name.
    pub name: String,
    /// What Google deduplicates by.
    pub transaction_id: String,
    /// `value` and `currency`.
    pub money: Option<(f64, String)>,
    /// `items` (`item_id`, `item_name`, `price`, `quantity`, `item_category`).
    pub items: Vec<LineItem>,
}

/// `gtag('event', 'conversion', {send_to, transaction_id, value, currency})`.
#[derive(Debug, Clone, PartialEq)]
pub struct GtagConversion {
    /// The `WEBPAGE` action's tag.
    pub send_to: SendTo,
    /// Byte for byte the Data Manager `transactionId`.
    pub transaction_id: String,
    /// `value` and `currency`.
    pub money: Option<(f64, String)>,
}

/// Every browser-tag call for one event.
#[derive(Debug, Clone, PartialEq)]
pub struct TagPlan {
    /// The `fbq` call.
    pub meta: MetaCall,
    /// The GA4 `gtag` event.
    pub ga4: GtagEvent,
    /// The Google Ads conversion, for events with a `WEBPAGE` action.
    pub conversion: Option<GtagConversion>,
}

/// The calls for `event`.
pub fn plan(event: &TagEvent<'_>) -> TagPlan {
    let m = event.mapping;
    let money = event
        .money
        .filter(|(v, _)| v.is_finite())
        .map(|(v, c)| (v, c.to_owned()));
    let tid = transaction_id(&m.name, event.order_id, event.event_id).to_owned();
    TagPlan {
        meta: MetaCall {
            method: MetaMethod::for_name(&m.meta),
            name: m.meta.clone(),
            data: meta_custom_data(&m.name, event.money, event.items, event.order_id),
            event_id: event.event_id.as_str().to_owned(),
        },
        ga4: GtagEvent {
            name: m.ga4.clone(),
            transaction_id: tid.clone(),
            money: money.clone(),
            items: event.items.to_vec(),
        },
        conversion: m.send_to.clone().map(|send_to| GtagConversion {
            send_to,
            transaction_id: tid,
            money,
        }),
    }
}

#[cfg(test)]
mod tests;
