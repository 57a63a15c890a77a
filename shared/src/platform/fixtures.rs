//! Test fixtures: one fully populated event per standard name, with the raw PII of the "raw
//! values never leave" test hashed through `pii::hash_user_data`, and the configurations.
#![cfg_attr(target_arch = "wasm32", allow(dead_code))] // snapshot helpers are host-only

use crate::consent::policy::{PolicyContext, permissions};
use crate::consent::{ConsentState, Ldu};
use crate::event::EventName;
use crate::event_id::EventId;
use crate::mapping::{AdsCategory, BusinessKey, DeliveryPath, EventMapping, standard};
use crate::outbound::{GoogleClickId, OutboundEvent};
use crate::pii::hash_user_data;
use crate::pii::input::{PiiField, RawUserData};
use crate::wire::{ItemInput, TagsFired};

use super::request::{
    ActionKind, ConversionAction, ConversionActions, DataManagerConfig, Ga4Config, GoogleAdsConfig,
    MetaConfig,
};

/// 2026-05-28T20:26:40Z.
pub const NOW_MS: u64 = 1_780_000_000_000;
pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 24 * HOUR_MS;

pub const RAW_EMAIL: &str = "Jane.Doe+x@Gmail.com";
pub const RAW_PHONE: &str = "+1 (650) 555-1234";
pub const RAW_FIRST: &str = "Jane";
pub const RAW_LAST: &str = "Doe";

pub fn raw_user() -> RawUserData {
    RawUserData::default()
        .with(PiiField::Email, RAW_EMAIL)
        .with(PiiField::Phone, RAW_PHONE)
        .with(PiiField::FirstName, RAW_FIRST)
        .with(PiiField::LastName, RAW_LAST)
        .with(PiiField::City, "Mountain View")
        .with(PiiField::State, "CA")
        .with(PiiField::Zip, "94043")
        .with(PiiField::Country, "US")
        .with(PiiField::ExternalId, "cust-42")
}

fn mapping(name: &EventName) -> EventMapping {
    standard(name).unwrap_or(EventMapping {
        meta: "QuizDone".into(),
        ga4: "quiz_done".into(),
        ads_category: AdsCategory::Default,
        path: DeliveryPath::Batched,
        key: BusinessKey::None,
    })
}

/// A fully populated event, all consent granted, occurred one hour before [`NOW_MS`], clicked two
/// days before.
pub fn event(name: EventName) -> OutboundEvent {
    let (user, problems) = hash_user_data(&raw_user(), "US");
    assert_eq!(problems, []);
    let purchase = name == EventName::Purchase;
    let event_id = if purchase {
        EventId::from_business_key(&name, "ORD-10042")
    } else {
        EventId::from_random([7; 16])
    };
    OutboundEvent {
        event_id,
        mapping: mapping(&name),
        occurred_at_ms: NOW_MS - HOUR_MS + 123,
        order_id: purchase.then(|| "ORD-10042".to_owned()),
        money: Some(crate::money::Money::new(129.9, "USD")),
        adjusts: None,
        items: vec![
            ItemInput {
                id: "SKU-1".into(),
                name: Some("Blue Mug".into()),
                price: Some(19.95),
                quantity: Some(2),
                category: Some("Kitchen".into()),
            },
            ItemInput {
                id: "SKU-2".into(),
                name: None,
                price: Some(90.0),
                quantity: None,
                category: None,
            },
        ],
        page_url: Some("https://shop.example.com/checkout/thanks?gclid=Cj0KCQ-url".into()),
        referrer_url: Some("https://shop.example.com/checkout".into()),
        user,
        fbc: "fb.1.1779990000000.IwZXh0bgNhZW0CMTAAAR-uK_5w".parse().ok(),
        fbp: "fb.1.1779900000000.1098115397".parse().ok(),
        google_click: Some((
            GoogleClickId::Gclid("Cj0KCQ-cookie".into()),
            Some(NOW_MS - 2 * DAY_MS),
        )),
        ga_client_id: Some("468604437.1611708469".into()),
        ga_session_id: Some(1_779_996_000),
        client_ip: Some("2001:db8::1".into()),
        user_agent: Some("Mozilla/5.0 (test)".into()),
        consent: ConsentState::ALL_GRANTED,
        permissions: permissions(ConsentState::ALL_GRANTED, PolicyContext::default()),
        fired: TagsFired::default(),
        name,
    }
}

/// `event` under another consent state (and opt-in region or not).
/// A partial refund of 10.00 of order `ORD-10042` (129.90), as `adjustment::link` leaves it:
/// restated to 119.90, the purchase's time an hour before the refund.
pub fn refund() -> OutboundEvent {
    let mut e = event(EventName::Refunded);
    e.event_id = EventId::from_business_key(&EventName::Refunded, "RF-1");
    e.order_id = Some("ORD-10042".into());
    e.money = Some(crate::money::Money::new(10.0, "USD"));
    e.adjusts = Some(crate::adjustment::Adjustment {
        purchase_event_id: EventId::from_business_key(&EventName::Purchase, "ORD-10042"),
        purchase_occurred_at_ms: NOW_MS - 2 * HOUR_MS,
        purchase_money: crate::money::Money::new(129.9, "USD"),
        restated: crate::money::Money::new(119.9, "USD"),
        refunded: crate::money::Money::new(10.0, "USD"),
    });
    e
}

pub fn with_consent(mut e: OutboundEvent, state: ConsentState, opt_in: bool) -> OutboundEvent {
    let ctx = PolicyContext {
        opt_in_region: opt_in,
        sale_opt_out: None,
    };
    e.consent = state;
    e.permissions = permissions(state, ctx);
    e
}

/// `event` for a Californian who opted out of sale/sharing.
pub fn with_ldu(mut e: OutboundEvent) -> OutboundEvent {
    let ctx = PolicyContext {
        opt_in_region: false,
        sale_opt_out: Some(Ldu::CALIFORNIA),
    };
    e.permissions = permissions(e.consent, ctx);
    e
}

pub fn meta_config() -> MetaConfig {
    MetaConfig {
        base_url: "https://graph.facebook.com/".into(),
        api_version: "v25.0".into(),
        pixel_id: "1234567890".into(),
        access_token: "META_TOKEN".into(),
        partner_agent: Some("activereach".into()),
        test_event_code: Some("TEST123".into()),
    }
}

pub fn ads_config() -> GoogleAdsConfig {
    GoogleAdsConfig {
        base_url: "https://googleads.googleapis.com".into(),
        api_version: "v22".into(),
        customer_id: "123-456-7890".into(),
        login_customer_id: Some("111-222-3333".into()),
        developer_token: Some("DEV_TOKEN".into()),
    }
}

pub fn data_manager_config() -> DataManagerConfig {
    DataManagerConfig {
        base_url: "https://datamanager.googleapis.com".into(),
        operating_account_id: "123-456-7890".into(),
        login_account_id: Some("1112223333".into()),
    }
}

pub fn ga4_config() -> Ga4Config {
    Ga4Config {
        base_url: "https://www.google-analytics.com".into(),
        measurement_id: "G-ABC123".into(),
        api_secret: "GA_SECRET".into(),
    }
}

/// Purchase on the gtag's `WEBPAGE` action; everything else on `UPLOAD_CLICKS` actions.
pub fn actions() -> ConversionActions {
    let mut all = vec![ConversionAction {
        event: "transaction.purchase".into(),
        action_id: "555".into(),
        kind: ActionKind::Webpage,
        send_to: None,
    }];
    for (i, e) in EventName::STANDARD.iter().skip(1).enumerate() {
        all.push(ConversionAction {
            event: e.as_str().into(),
            action_id: format!("60{i}"),
            kind: ActionKind::UploadClicks,
            send_to: None,
        });
    }
    all.push(ConversionAction {
        event: "quiz.done".into(),
        action_id: "700".into(),
        kind: ActionKind::UploadClicks,
        send_to: None,
    });
    ConversionActions(all)
}

/// Every action as `UPLOAD_CLICKS` (for click-upload snapshots of every event type).
pub fn upload_actions() -> ConversionActions {
    let mut all = actions();
    for a in &mut all.0 {
        a.kind = ActionKind::UploadClicks;
    }
    all
}

/// Every action as `WEBPAGE` (for Data Manager snapshots of every event type).
pub fn webpage_actions() -> ConversionActions {
    let mut all = actions();
    for a in &mut all.0 {
        a.kind = ActionKind::Webpage;
    }
    all
}

/// Every standard event plus one custom event.
pub fn all_names() -> Vec<EventName> {
    let mut names = EventName::STANDARD.to_vec();
    names.push(EventName::Custom("quiz.done".into()));
    names
}

/// A short snapshot-name suffix for an event.
pub fn slug(name: &EventName) -> String {
    name.as_str().replace('.', "_")
}
