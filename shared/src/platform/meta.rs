//! Meta Conversions API: `POST {base}/{version}/{pixel_id}/events` (meta-capi.md §1).
//!
//! One server event per [`OutboundEvent`], with only keys Meta knows (meta-capi.md §1.4: unknown
//! keys are rejected, and one invalid event rejects the whole batch, §5.1). The consent policy's
//! [`MetaPermission`] decides what may be in it: nothing at all, no `fbc`/`fbp`, no hashed PII,
//! or Limited Data Use. This module does not check event age or batch sizes (`batch`).

use serde_json::{Map, Value, json};

use crate::browser::tags::{LineItem, meta_custom_data};
use crate::click_ids::{Fbc, Fbp};
use crate::consent::policy::MetaPermission;
use crate::outbound::OutboundEvent;

use super::request::{
    Body, Built, HttpRequest, MetaConfig, Mode, NotSent, Skipped, number, trim_base,
};

/// Meta's batch limit: "You can send up to 1,000 events in data" (meta-capi.md §5.1).
pub const MAX_EVENTS: usize = 1000;

/// One element of `data`, or why the event cannot go to Meta.
pub fn server_event(event: &OutboundEvent) -> Result<Value, NotSent> {
    let send = match event.permissions.meta {
        MetaPermission::Send(send) => send,
        MetaPermission::Skip { reason } => return Err(NotSent::Consent(reason)),
    };
    // meta-capi.md §1.3: website events require client_user_agent and event_source_url.
    let user_agent = non_empty(event.user_agent.as_deref()).ok_or(NotSent::MissingUserAgent)?;
    let source_url = non_empty(event.page_url.as_deref()).ok_or(NotSent::MissingSourceUrl)?;

    let mut user = Map::new();
    if send.hashed_pii {
        // meta-capi.md §1.4: hashed keys take "string or list<string>"; one value each here.
        for (key, hash) in event.user.meta.keyed() {
            user.insert(key.into(), json!(hash));
        }
    }
    if send.click_ids {
        // meta-capi.md §3.1: "do not apply any modifications" to fbc/fbp.
        let fbc = event.fbc.as_ref().map(Fbc::as_str);
        let fbp = event.fbp.as_ref().map(Fbp::as_str);
        for (key, value) in [("fbc", fbc), ("fbp", fbp)] {
            if let Some(v) = non_empty(value) {
                user.insert(key.into(), json!(v));
            }
        }
    }
    // meta-capi.md §1.4: IP and user agent are never hashed.
    if let Some(ip) = non_empty(event.client_ip.as_deref()) {
        user.insert("client_ip_address".into(), json!(ip));
    }
    user.insert("client_user_agent".into(), json!(user_agent));

    let mut out = Map::new();
    out.insert("event_name".into(), json!(event.mapping.meta));
    // meta-capi.md §1.3: Unix seconds, the original occurrence time.
    out.insert("event_time".into(), json!(event.occurred_at_ms / 1000));
    out.insert("event_id".into(), json!(event.event_id.as_str()));
    out.insert("action_source".into(), json!("website"));
    out.insert("event_source_url".into(), json!(source_url));
    // meta-capi.md §1.3 lists `referrer_url` among server event fields.
    if let Some(r) = non_empty(event.referrer_url.as_deref()) {
        out.insert("referrer_url".into(), json!(r));
    }
    out.insert("user_data".into(), Value::Object(user));
    let custom = custom_data(event);
    if !custom.is_empty() {
        out.insert("custom_data".into(), Value::Object(custom));
    }
    // meta-capi.md §6: LDU is per event, with country and state codes (0, 0 = geolocate).
    if let Some(ldu) = send.ldu {
        out.insert("data_processing_options".into(), json!(["LDU"]));
        out.insert("data_processing_options_country".into(), json!(ldu.country));
        out.insert("data_processing_options_state".into(), json!(ldu.state));
    }
    Ok(Value::Object(out))
}

/// `custom_data` (meta-capi.md §1.5): value, currency, contents, `content_ids`, `content_type`,
/// `num_items` (`InitiateCheckout` only) and `order_id`.
fn custom_data(event: &OutboundEvent) -> Map<String, Value> {
    // One rule for both copies: the pixel's fbq gets the same custom_data (browser::tags).
    let items: Vec<LineItem> = event
        .items
        .iter()
        .map(|i| LineItem {
            id: i.id.clone(),
            name: i.name.clone(),
            price: i.price,
            quantity: i.quantity,
            category: i.category.clone(),
        })
        .collect();
    let money = event.money.as_ref().map(|m| (m.value, m.currency.as_str()));
    let d = meta_custom_data(&event.name, money, &items, event.order_id.as_deref());
    let mut c = Map::new();
    if let Some((value, currency)) = &d.money
        && let Some(v) = number(*value)
    {
        c.insert("value".into(), v);
        c.insert("currency".into(), json!(currency));
    }
    if !d.contents.is_empty() {
        let contents: Vec<Value> = d
            .contents
            .iter()
            .map(|item| {
                let mut o = Map::new();
                o.insert("id".into(), json!(item.id));
                o.insert("quantity".into(), json!(item.quantity));
                if let Some(p) = item.item_price.and_then(number) {
                    o.insert("item_price".into(), p);
                }
                Value::Object(o)
            })
            .collect();
        let ids: Vec<&str> = d.contents.iter().map(|i| i.id.as_str()).collect();
        c.insert("contents".into(), Value::Array(contents));
        c.insert("content_ids".into(), json!(ids));
        c.insert("content_type".into(), json!("product"));
    }
    if let Some(n) = d.num_items {
        c.insert("num_items".into(), json!(n));
    }
    if let Some(order) = &d.order_id {
        c.insert("order_id".into(), json!(order));
    }
    c
}

/// The request for `events` (at most [`MAX_EVENTS`]; `batch` splits larger sets). Events Meta may
/// not receive are left out and listed in [`Built::skipped`].
pub fn events_request(config: &MetaConfig, events: &[&OutboundEvent], mode: Mode) -> Built {
    let mut data = Vec::new();
    let mut sent = Vec::new();
    let mut skipped = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match server_event(event) {
            Ok(v) => {
                data.push(v);
                sent.push(index);
            }
            Err(reason) => skipped.push(Skipped { index, reason }),
        }
    }
    let request = (!data.is_empty()).then(|| {
        let mut body = Map::new();
        body.insert("data".into(), Value::Array(data));
        // meta-capi.md §8: test_event_code only for testing; "remove it" in production.
        if mode == Mode::Test
            && let Some(code) = non_empty(config.test_event_code.as_deref())
        {
            body.insert("test_event_code".into(), json!(code));
        }
        if let Some(agent) = non_empty(config.partner_agent.as_deref()) {
            body.insert("partner_agent".into(), json!(agent));
        }
        HttpRequest::post(url(config), Vec::new(), Body::Json(Value::Object(body)))
    });
    Built {
        request,
        sent,
        skipped,
    }
}

/// meta-capi.md §1.1: `…/{API_VERSION}/{PIXEL_ID}/events?access_token={TOKEN}`.
fn url(config: &MetaConfig) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("access_token", &config.access_token)
        .finish();
    format!(
        "{}/{}/{}/events?{query}",
        trim_base(&config.base_url),
        config.api_version.trim_matches('/'),
        config.pixel_id.trim()
    )
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    // Snapshot tests are host-only (insta); their imports go unused on wasm32.
    #![cfg_attr(target_arch = "wasm32", allow(unused_imports, dead_code))]

    use super::*;
    use crate::consent::{ConsentState, Signal};
    use crate::platform::fixtures::{all_names, event, meta_config, slug, with_consent, with_ldu};

    fn one(e: &OutboundEvent, mode: Mode) -> Built {
        events_request(&meta_config(), &[e], mode)
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn snapshots_every_event_type_live_and_test() {
        for name in all_names() {
            let e = event(name.clone());
            for (mode, tag) in [(Mode::Live, "live"), (Mode::Test, "test")] {
                let built = one(&e, mode);
                assert_eq!(built.sent, [0]);
                insta::assert_json_snapshot!(format!("meta_{}_{tag}", slug(&name)), built.request);
            }
        }
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn denied_ad_user_data_outside_opt_in_regions_strips_hashed_pii() {
        let mut state = ConsentState::ALL_GRANTED;
        state.ad_user_data = Signal::Denied;
        let e = with_consent(event(crate::EventName::Purchase), state, false);
        let built = one(&e, Mode::Live);
        insta::assert_json_snapshot!("meta_purchase_ad_user_data_denied", built.request);
        let body = built.request.map(|r| r.body);
        let Some(Body::Json(body)) = body else {
            panic!("no body")
        };
        let user = &body["data"][0]["user_data"];
        assert!(user.get("em").is_none() && user.get("external_id").is_none());
        assert!(user.get("fbc").is_some(), "ad_storage still granted");
    }

    #[test]
    fn denied_ad_storage_strips_fbc_and_fbp() {
        let mut state = ConsentState::ALL_GRANTED;
        state.ad_storage = Signal::Denied;
        let e = with_consent(event(crate::EventName::CartAdded), state, false);
        let built = one(&e, Mode::Live);
        let Some(Body::Json(body)) = built.request.map(|r| r.body) else {
            panic!("no body")
        };
        let user = &body["data"][0]["user_data"];
        assert!(user.get("fbc").is_none() && user.get("fbp").is_none());
        assert!(user.get("em").is_some());
    }

    #[test]
    fn all_denied_in_an_opt_in_region_sends_nothing_to_meta() {
        let e = with_consent(
            event(crate::EventName::Purchase),
            ConsentState::ALL_DENIED,
            true,
        );
        let built = one(&e, Mode::Live);
        assert_eq!(built.request, None);
        assert_eq!(built.skipped.len(), 1);
        assert!(matches!(built.skipped[0].reason, NotSent::Consent(_)));
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn sale_opt_out_sends_limited_data_use_with_location_codes() {
        let e = with_ldu(event(crate::EventName::Purchase));
        let built = one(&e, Mode::Live);
        insta::assert_json_snapshot!("meta_purchase_ldu_california", built.request);
    }

    #[test]
    fn events_without_user_agent_or_page_url_are_insufficient_context() {
        let mut no_ua = event(crate::EventName::Purchase);
        no_ua.user_agent = None;
        let mut no_url = event(crate::EventName::Purchase);
        no_url.page_url = Some(" ".into());
        let ok = event(crate::EventName::Purchase);
        let built = events_request(&meta_config(), &[&no_ua, &ok, &no_url], Mode::Live);
        assert_eq!(built.sent, [1]);
        assert_eq!(
            built.skipped,
            [
                Skipped {
                    index: 0,
                    reason: NotSent::MissingUserAgent
                },
                Skipped {
                    index: 2,
                    reason: NotSent::MissingSourceUrl
                }
            ]
        );
    }

    #[test]
    fn num_items_is_sent_only_for_initiate_checkout() {
        let checkout = server_event(&event(crate::EventName::CheckoutStarted));
        let cart = server_event(&event(crate::EventName::CartAdded));
        assert_eq!(
            checkout.map(|v| v["custom_data"]["num_items"].clone()),
            Ok(json!(3))
        );
        assert_eq!(
            cart.map(|v| v["custom_data"].get("num_items").is_none()),
            Ok(true)
        );
    }

    #[test]
    fn the_access_token_is_url_encoded_in_the_query() {
        let mut cfg = meta_config();
        cfg.access_token = "a b&c".into();
        assert!(url(&cfg).ends_with("/v25.0/1234567890/events?access_token=a+b%26c"));
    }

    #[test]
    fn event_time_is_the_occurrence_time_in_seconds() {
        let e = event(crate::EventName::Purchase);
        let v = server_event(&e).unwrap_or_default();
        assert_eq!(v["event_time"], json!(e.occurred_at_ms / 1000));
    }
}
