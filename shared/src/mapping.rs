//! Which platform event each business event becomes, how fast it must go out, and which business
//! key identifies it.
//!
//! The standard table is DESIGN §3; merchants add custom events or override standard ones with a
//! JSON mapping (parsed with the `server` feature). This module decides names and paths only; the
//! request shapes live in `platform`.

use crate::event::EventName;

/// How quickly an event must reach the platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "server", serde(rename_all = "snake_case"))]
pub enum DeliveryPath {
    /// Sent seconds after arrival (after the merge window): purchases, payments, sign-ups, leads.
    RealTime,
    /// Queued and flushed in platform-sized batches, within the hour.
    Batched,
}

impl DeliveryPath {
    /// The stored column value (`events.path`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RealTime => "real_time",
            Self::Batched => "batched",
        }
    }
}

/// The business key that identifies an event, from which its stable ID is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "server", serde(rename_all = "snake_case"))]
pub enum BusinessKey {
    /// `order_id` (purchases).
    OrderId,
    /// `checkout_id` (checkout started, payment info added).
    CheckoutId,
    /// `user_id` (sign-ups).
    UserId,
    /// `lead_id` (lead forms).
    LeadId,
    /// `cart_id` plus the line's item id (add to cart).
    CartLine,
    /// `refund_id` (refunds: two partial refunds of one order are two events).
    RefundId,
    /// No business key: the ID comes from randomness (product views).
    None,
}

impl BusinessKey {
    /// Every key kind, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::OrderId,
        Self::CheckoutId,
        Self::UserId,
        Self::LeadId,
        Self::CartLine,
        Self::RefundId,
        Self::None,
    ];

    /// The configuration name (`order_id`, `cart_line`, …), as in `EVENT_MAPPING`'s `key` and the
    /// pixel's configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OrderId => "order_id",
            Self::CheckoutId => "checkout_id",
            Self::UserId => "user_id",
            Self::LeadId => "lead_id",
            Self::CartLine => "cart_line",
            Self::RefundId => "refund_id",
            Self::None => "none",
        }
    }

    /// The key kind named `name` ([`BusinessKey::as_str`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The event field that carries this key (for error messages and the pixel's props).
    pub fn field_name(self) -> &'static str {
        match self {
            Self::OrderId => "order_id",
            Self::CheckoutId => "checkout_id",
            Self::UserId => "user_id",
            Self::LeadId => "lead_id",
            Self::CartLine => "cart_id and items[0].id",
            Self::RefundId => "refund_id",
            Self::None => "event_id",
        }
    }
}

/// Google Ads conversion-action categories (`ConversionActionCategoryEnum`, google.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "server", serde(rename_all = "SCREAMING_SNAKE_CASE"))]
#[allow(missing_docs)] // the variants are Google's enum names
pub enum AdsCategory {
    Default,
    PageView,
    Purchase,
    Signup,
    Lead,
    Download,
    AddToCart,
    BeginCheckout,
    SubscribePaid,
    PhoneCallLead,
    ImportedLead,
    SubmitLeadForm,
    BookAppointment,
    RequestQuote,
    GetDirections,
    OutboundClick,
    Contact,
    Engagement,
    StoreVisit,
    StoreSale,
    QualifiedLead,
    ConvertedLead,
}

impl AdsCategory {
    /// Every category, in declaration order (the console's choices).
    pub const ALL: [Self; 22] = [
        Self::Default,
        Self::PageView,
        Self::Purchase,
        Self::Signup,
        Self::Lead,
        Self::Download,
        Self::AddToCart,
        Self::BeginCheckout,
        Self::SubscribePaid,
        Self::PhoneCallLead,
        Self::ImportedLead,
        Self::SubmitLeadForm,
        Self::BookAppointment,
        Self::RequestQuote,
        Self::GetDirections,
        Self::OutboundClick,
        Self::Contact,
        Self::Engagement,
        Self::StoreVisit,
        Self::StoreSale,
        Self::QualifiedLead,
        Self::ConvertedLead,
    ];

    /// Google's enum name (`PURCHASE`, `ADD_TO_CART`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "DEFAULT",
            Self::PageView => "PAGE_VIEW",
            Self::Purchase => "PURCHASE",
            Self::Signup => "SIGNUP",
            Self::Lead => "LEAD",
            Self::Download => "DOWNLOAD",
            Self::AddToCart => "ADD_TO_CART",
            Self::BeginCheckout => "BEGIN_CHECKOUT",
            Self::SubscribePaid => "SUBSCRIBE_PAID",
            Self::PhoneCallLead => "PHONE_CALL_LEAD",
            Self::ImportedLead => "IMPORTED_LEAD",
            Self::SubmitLeadForm => "SUBMIT_LEAD_FORM",
            Self::BookAppointment => "BOOK_APPOINTMENT",
            Self::RequestQuote => "REQUEST_QUOTE",
            Self::GetDirections => "GET_DIRECTIONS",
            Self::OutboundClick => "OUTBOUND_CLICK",
            Self::Contact => "CONTACT",
            Self::Engagement => "ENGAGEMENT",
            Self::StoreVisit => "STORE_VISIT",
            Self::StoreSale => "STORE_SALE",
            Self::QualifiedLead => "QUALIFIED_LEAD",
            Self::ConvertedLead => "CONVERTED_LEAD",
        }
    }
}

/// Where and how one business event is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct EventMapping {
    /// Meta standard or custom event name (`Purchase`, …).
    pub meta: String,
    /// GA4 event name (`purchase`, …).
    pub ga4: String,
    /// Google Ads conversion-action category.
    pub ads_category: AdsCategory,
    /// Real-time or batched.
    pub path: DeliveryPath,
    /// Which business key identifies the event.
    pub key: BusinessKey,
}

impl EventMapping {
    fn new(
        meta: &str,
        ga4: &str,
        ads_category: AdsCategory,
        path: DeliveryPath,
        key: BusinessKey,
    ) -> Self {
        Self {
            meta: meta.into(),
            ga4: ga4.into(),
            ads_category,
            path,
            key,
        }
    }
}

/// Whether `event` must carry `value` and `currency`: Meta requires both for Purchase
/// (meta-capi.md §1.5). Checked by the worker (`wire::validate`) and, before anything is sent, by
/// the pixel (`browser::event`).
pub fn needs_value(event: &EventName) -> bool {
    matches!(event, EventName::Purchase | EventName::Refunded)
}

/// The standard table (DESIGN §3; Meta names from meta-capi.md §1.3, GA4 names and Ads categories
/// from google.md §10). `None` for custom events.
pub fn standard(event: &EventName) -> Option<EventMapping> {
    use AdsCategory as C;
    use BusinessKey as K;
    use DeliveryPath::{Batched, RealTime};
    Some(match event {
        // Adjustments of a purchase: GA4's `refund` (google.md §10), the purchase's Google Ads
        // action (its category), no Meta event (the Conversions API has none: `ownership`).
        EventName::Refunded => EventMapping::new("", "refund", C::Purchase, RealTime, K::RefundId),
        EventName::Cancelled => EventMapping::new("", "refund", C::Purchase, RealTime, K::OrderId),
        EventName::Purchase => {
            EventMapping::new("Purchase", "purchase", C::Purchase, RealTime, K::OrderId)
        }
        EventName::PaymentInfoAdded => EventMapping::new(
            "AddPaymentInfo",
            "add_payment_info",
            C::Default,
            RealTime,
            K::CheckoutId,
        ),
        EventName::SignedUp => EventMapping::new(
            "CompleteRegistration",
            "sign_up",
            C::Signup,
            RealTime,
            K::UserId,
        ),
        EventName::LeadSubmitted => EventMapping::new(
            "Lead",
            "generate_lead",
            C::SubmitLeadForm,
            RealTime,
            K::LeadId,
        ),
        EventName::CheckoutStarted => EventMapping::new(
            "InitiateCheckout",
            "begin_checkout",
            C::BeginCheckout,
            Batched,
            K::CheckoutId,
        ),
        EventName::CartAdded => EventMapping::new(
            "AddToCart",
            "add_to_cart",
            C::AddToCart,
            Batched,
            K::CartLine,
        ),
        EventName::ProductViewed => {
            EventMapping::new("ViewContent", "view_item", C::PageView, Batched, K::None)
        }
        EventName::Custom(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_event_has_a_mapping() {
        for e in EventName::STANDARD {
            assert!(standard(&e).is_some(), "{e}");
        }
        assert!(standard(&EventName::Custom("quiz.done".into())).is_none());
    }

    #[test]
    fn purchases_payments_signups_and_leads_go_out_in_real_time() {
        let real_time: std::vec::Vec<_> = EventName::STANDARD
            .iter()
            .filter(|e| standard(e).is_some_and(|m| m.path == DeliveryPath::RealTime))
            .map(EventName::as_str)
            .collect();
        assert_eq!(
            real_time,
            [
                "transaction.purchase",
                "payment_info.added",
                "user.signed_up",
                "lead.submitted"
            ]
        );
    }

    #[cfg(feature = "server")]
    #[test]
    fn key_names_are_the_serde_names() {
        for k in BusinessKey::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(BusinessKey::from_name(k.as_str()), Some(k));
        }
        assert_eq!(BusinessKey::from_name("order"), None);
    }

    #[test]
    fn standard_names_match_the_design_table() {
        let m = standard(&EventName::CartAdded).unwrap();
        assert_eq!(
            (m.meta.as_str(), m.ga4.as_str(), m.ads_category.as_str()),
            ("AddToCart", "add_to_cart", "ADD_TO_CART")
        );
        let m = standard(&EventName::LeadSubmitted).unwrap();
        assert_eq!(
            (m.meta.as_str(), m.ga4.as_str(), m.ads_category.as_str()),
            ("Lead", "generate_lead", "SUBMIT_LEAD_FORM")
        );
        let m = standard(&EventName::ProductViewed).unwrap();
        assert_eq!(
            (m.meta.as_str(), m.ga4.as_str(), m.ads_category.as_str()),
            ("ViewContent", "view_item", "PAGE_VIEW")
        );
    }
}
