//! GA4 Measurement Protocol: `POST {base}/mp/collect?measurement_id=…&api_secret=…`, and the
//! validation endpoint `/debug/mp/collect` in test mode (google.md §4).
//!
//! A request carries one `client_id`, one `consent` and one `user_data` for all its events, so
//! events only share a request when their [`group_key`] matches (`batch` groups them). Whether GA4
//! gets a copy at all is `ownership`'s rule (purchases, or gtag did not fire; `_ga` and analytics
//! consent required), applied here too so no builder call can bypass it.

use serde_json::{Map, Value, json};

use crate::consent::policy::{Ga4Permission, Ga4Send};
use crate::outbound::OutboundEvent;

use super::ownership::{ga4_owns, transaction_id};
use super::request::{
    Body, Built, Ga4Config, HttpRequest, Mode, NotSent, Skipped, number, trim_base,
};

/// "≤25 events/request" (google.md §4).
pub const MAX_EVENTS: usize = 25;
/// "post body < 130 kB" (google.md §4); counted in decimal kilobytes to stay below either reading.
pub const MAX_BODY_BYTES: usize = 130_000;

/// What GA4 gets at request level: client id, consent and user data.
type RequestLevel = (String, Ga4Send, Option<Value>);

/// [`RequestLevel`] for `event`, or why GA4 gets no copy.
fn request_level(event: &OutboundEvent) -> Result<RequestLevel, NotSent> {
    ga4_owns(event)?;
    let send = match event.permissions.ga4 {
        Ga4Permission::Send(send) => send,
        Ga4Permission::Skip { reason } => return Err(NotSent::Consent(reason)),
    };
    let client_id = event.ga_client_id.clone().ok_or(NotSent::NoGaClientId)?;
    let mut user = Map::new();
    if send.hashed_pii {
        // google.md §3: `sha256_email_address[]`, `sha256_phone_number[]` (E.164 before hashing).
        let g = &event.user.google;
        if let Some(email) = &g.email {
            user.insert("sha256_email_address".into(), json!([email.as_str()]));
        }
        if let Some(phone) = &g.phone {
            user.insert("sha256_phone_number".into(), json!([phone.as_str()]));
        }
    }
    let user = (!user.is_empty()).then_some(Value::Object(user));
    Ok((client_id, send, user))
}

/// Events with equal keys may share one request.
pub fn group_key(event: &OutboundEvent) -> Result<String, NotSent> {
    let (client_id, send, user) = request_level(event)?;
    Ok(format!(
        "{client_id}|{}|{}|{}",
        send.ad_user_data,
        send.ad_personalization,
        user.map(|u| u.to_string()).unwrap_or_default()
    ))
}

/// One element of `events`, or why GA4 gets no copy.
pub fn event_json(event: &OutboundEvent) -> Result<Value, NotSent> {
    request_level(event)?;
    let mut params = Map::new();
    params.insert("transaction_id".into(), json!(transaction_id(event)));
    if let Some(crate::money::Money { value, currency }) = &event.money
        && let Some(v) = number(*value)
    {
        // google.md §4: `currency` is required if `value` is set.
        params.insert("value".into(), v);
        params.insert("currency".into(), json!(currency));
    }
    if !event.items.is_empty() {
        let items: Vec<Value> = event
            .items
            .iter()
            .map(|item| {
                let mut o = Map::new();
                o.insert("item_id".into(), json!(item.id));
                if let Some(name) = &item.name {
                    o.insert("item_name".into(), json!(name));
                }
                if let Some(p) = item.price.and_then(number) {
                    o.insert("price".into(), p);
                }
                o.insert("quantity".into(), json!(item.quantity.unwrap_or(1)));
                if let Some(c) = &item.category {
                    o.insert("item_category".into(), json!(c));
                }
                Value::Object(o)
            })
            .collect();
        params.insert("items".into(), Value::Array(items));
    }
    // google.md §4: session_id and engagement_time_msec attribute the event to the browser's
    // session; without session_id purchases land as "Unassigned" (§9).
    if let Some(session) = event.ga_session_id {
        params.insert("session_id".into(), json!(session.to_string()));
    }
    params.insert("engagement_time_msec".into(), json!(1));
    let built = json!({
        "name": event.mapping.ga4,
        "params": params,
        "timestamp_micros": micros(event.occurred_at_ms),
    });
    // GA4 answers 2xx and drops what breaks its limits: skip with the reason instead.
    super::ga4_rules::check_event(&built).map_err(NotSent::Ga4Rule)?;
    Ok(built)
}

fn micros(ms: u64) -> u64 {
    ms.saturating_mul(1000)
}

/// The request for `events` of one [`group_key`] (at most [`MAX_EVENTS`] and
/// [`MAX_BODY_BYTES`]; `batch` splits). Events of another group than the first sendable one are
/// left out as [`NotSent::OtherRequest`].
pub fn collect_request(config: &Ga4Config, events: &[&OutboundEvent], mode: Mode) -> Built {
    let mut out = Vec::new();
    let mut sent = Vec::new();
    let mut skipped = Vec::new();
    let mut first: Option<(String, RequestLevel, u64)> = None;
    for (index, event) in events.iter().enumerate() {
        let json = group_key(event).and_then(|key| {
            if first.as_ref().is_some_and(|(k, ..)| *k != key) {
                return Err(NotSent::OtherRequest);
            }
            let v = event_json(event)?;
            if first.is_none() {
                first = Some((key, request_level(event)?, event.occurred_at_ms));
            }
            Ok(v)
        });
        match json {
            Ok(v) => {
                if let Some(f) = first.as_mut() {
                    f.2 = f.2.min(event.occurred_at_ms);
                }
                out.push(v);
                sent.push(index);
            }
            Err(reason) => skipped.push(Skipped { index, reason }),
        }
    }
    let request = first.map(|(_, (client_id, send, user), earliest)| {
        let mut body = Map::new();
        body.insert("client_id".into(), json!(client_id));
        body.insert("timestamp_micros".into(), json!(micros(earliest)));
        // google.md §4/§5: GA4 MP consent values are GRANTED|DENIED.
        body.insert(
            "consent".into(),
            json!({
                "ad_user_data": send.ad_user_data.as_str().to_ascii_uppercase(),
                "ad_personalization": send.ad_personalization.as_str().to_ascii_uppercase(),
            }),
        );
        if let Some(user) = user {
            body.insert("user_data".into(), user);
        }
        body.insert("events".into(), Value::Array(out));
        if mode == Mode::Test {
            // google.md §4: strict checks on the validation endpoint.
            body.insert(
                "validation_behavior".into(),
                json!("ENFORCE_RECOMMENDATIONS"),
            );
        }
        HttpRequest::post(
            url(config, mode),
            Vec::new(),
            Body::Json(Value::Object(body)),
        )
    });
    Built {
        request,
        sent,
        skipped,
    }
}

fn url(config: &Ga4Config, mode: Mode) -> String {
    let path = match mode {
        Mode::Live => "mp/collect",
        Mode::Test => "debug/mp/collect",
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("measurement_id", &config.measurement_id)
        .append_pair("api_secret", &config.api_secret)
        .finish();
    format!("{}/{path}?{query}", trim_base(&config.base_url))
}

#[cfg(test)]
mod tests {
    // Snapshot tests are host-only (insta); their imports go unused on wasm32.
    #![cfg_attr(target_arch = "wasm32", allow(unused_imports, dead_code))]

    use super::*;
    use crate::EventName;
    use crate::consent::{ConsentState, Signal};
    use crate::platform::fixtures::{all_names, event, ga4_config, refund, slug, with_consent};

    fn one(e: &OutboundEvent, mode: Mode) -> Built {
        collect_request(&ga4_config(), &[e], mode)
    }

    // GA4 `refund` (google.md §10): the purchase's transaction_id and the refunded amount, with the
    // purchase's client id (the shop's request has no browser).
    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn a_refund_is_a_ga4_refund_of_the_refunded_amount_for_the_purchases_transaction() {
        let e = refund();
        let built = one(&e, Mode::Live);
        insta::assert_json_snapshot!("ga4_refund", built.request);
        let Some(Body::Json(body)) = built.request.map(|r| r.body) else {
            panic!("a JSON collect request");
        };
        let ev = &body["events"][0];
        assert_eq!(ev["name"], "refund");
        assert_eq!(ev["params"]["transaction_id"], "ORD-10042");
        assert_eq!(ev["params"]["value"], 10.0);
        assert_eq!(
            body["client_id"],
            e.ga_client_id.clone().unwrap_or_default()
        );
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn snapshots_every_event_type_live_and_debug() {
        for name in all_names() {
            let e = event(name.clone());
            for (mode, tag) in [(Mode::Live, "live"), (Mode::Test, "debug")] {
                insta::assert_json_snapshot!(
                    format!("ga4_{}_{tag}", slug(&name)),
                    one(&e, mode).request
                );
            }
        }
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn denied_ad_signals_are_stated_and_user_data_left_out() {
        let mut state = ConsentState::ALL_DENIED;
        state.analytics_storage = Signal::Granted;
        let e = with_consent(event(EventName::Purchase), state, true);
        insta::assert_json_snapshot!("ga4_purchase_ads_denied", one(&e, Mode::Live).request);
    }

    #[test]
    fn denied_analytics_storage_sends_nothing() {
        let e = with_consent(event(EventName::Purchase), ConsentState::ALL_DENIED, false);
        let built = one(&e, Mode::Live);
        assert_eq!(built.request, None);
        assert!(matches!(built.skipped[0].reason, NotSent::Consent(_)));
    }

    #[test]
    fn events_of_another_client_wait_for_their_own_request() {
        let a = event(EventName::Purchase);
        let mut b = event(EventName::Purchase);
        b.ga_client_id = Some("1.2".into());
        let built = collect_request(&ga4_config(), &[&a, &b, &a], Mode::Live);
        assert_eq!(built.sent, [0, 2]);
        assert_eq!(built.skipped[0].reason, NotSent::OtherRequest);
    }

    #[test]
    fn the_request_timestamp_is_the_earliest_event_time() {
        let a = event(EventName::Purchase);
        let mut b = event(EventName::Purchase);
        b.occurred_at_ms -= 5000;
        let built = collect_request(&ga4_config(), &[&a, &b], Mode::Live);
        let Some(Body::Json(v)) = built.request.map(|r| r.body) else {
            panic!("no body")
        };
        assert_eq!(v["timestamp_micros"], json!(b.occurred_at_ms * 1000));
        assert_eq!(
            v["events"][0]["timestamp_micros"],
            json!(a.occurred_at_ms * 1000)
        );
    }
}
