//! Data Manager API `events:ingest`, the one path for Google Ads conversions
//! (`POST {base}/v1/events:ingest`, google.md Addendum C; DESIGN §1). A conversion action is fed
//! in one of two ways, never both:
//!
//! - a `WEBPAGE` action (the gtag's): multi-source conversions, deduplicated against the
//!   browser tag by `transactionId` (google.md §8, §0.1);
//! - an `UPLOAD_CLICKS` action: offline conversions, `operatingAccount` = the Ads account that
//!   owns the action, `productDestinationId` = the action, the click in `adIdentifiers`
//!   (data-manager.md §1.2, §1.5). Since 2026-06-15 the Ads API's `uploadClickConversions` takes
//!   no new adopters (google.md Addendum C), so nothing here builds that call.
//!
//! A request names one destination (operating account + conversion action), so events share a
//! request only when their action matches ([`group_key`]; `batch` groups). Consent is stated per
//! event (`CONSENT_GRANTED|CONSENT_DENIED`, google.md §5: per-event overrides request-level).
//! The API fails fast: one bad event fails the request (data-manager.md §5), handled by
//! `verdict`. Data Manager documents no minimum wait after a click (data-manager.md §2): offline
//! conversions go out at once, and a too-young click shows up later as a processing reason.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::consent::Signal;
use crate::consent::policy::GoogleAdsPermission;
use crate::outbound::{GoogleClickId, OutboundEvent};

use super::ownership::transaction_id;
use super::request::{
    ActionKind, Body, Built, ConversionAction, ConversionActions, DataManagerConfig, HttpRequest,
    Mode, NotSent, Skipped, digits, number, trim_base,
};

/// `events[] (≤2,000)` (data-manager.md §1.3).
pub const MAX_EVENTS: usize = 2000;

/// How far a conversion may seem to precede its click and still be taken for clock skew between
/// the shopper's device and the edge.
pub const CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;

/// Data Manager's consent values (google.md §5).
fn consent(signal: Signal) -> &'static str {
    if signal.is_granted() {
        "CONSENT_GRANTED"
    } else {
        "CONSENT_DENIED"
    }
}

/// `eventTimestamp` in RFC 3339 (UTC).
pub fn event_timestamp(unix_ms: u64) -> Result<String, NotSent> {
    let nanos = i128::from(unix_ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| NotSent::BadTime)?
        .format(&Rfc3339)
        .map_err(|_| NotSent::BadTime)
}

/// The click id Google may get. With click-id cookies allowed it is the event's click id. Without,
/// only a click id in the event's own page URL (Consent Mode's `url_passthrough` carries it with
/// `ad_storage` denied, google.md §5), and its click time is then unknown.
pub fn usable_click(
    event: &OutboundEvent,
    permission: &GoogleAdsPermission,
) -> Option<(GoogleClickId, Option<u64>)> {
    if permission.click_id_cookies {
        return event.google_click.clone();
    }
    let url = event.page_url.as_deref()?;
    let query = url.split_once('?')?.1.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes()).find_map(|(key, value)| {
        let value = value.into_owned();
        match key.as_ref() {
            _ if value.is_empty() => None,
            "gclid" => Some((GoogleClickId::Gclid(value), None)),
            "gbraid" => Some((GoogleClickId::Gbraid(value), None)),
            "wbraid" => Some((GoogleClickId::Wbraid(value), None)),
            _ => None,
        }
    })
}

/// The time to state for an offline conversion: its own, or just after its click when the device
/// clock ran a little behind the edge's. data-manager.md §2: a conversion earlier than its click
/// fails as `PROCESSING_ERROR_REASON_CONVERSION_PRECEDES_CLICK`, so one clearly before its click
/// is never worth sending.
fn offline_time(occurred_at_ms: u64, click_at_ms: Option<u64>) -> Result<u64, NotSent> {
    match click_at_ms {
        Some(click) if occurred_at_ms <= click => {
            if click - occurred_at_ms > CLOCK_SKEW_MS {
                return Err(NotSent::PrecedesClick);
            }
            Ok(click + 1000)
        }
        _ => Ok(occurred_at_ms),
    }
}

/// The event's conversion action, of either kind; for a refund or cancellation, its purchase's
/// (`ownership::google_ads_route`).
pub fn action<'a>(
    actions: &'a ConversionActions,
    event: &OutboundEvent,
) -> Result<&'a ConversionAction, NotSent> {
    super::ownership::google_ads_route(event, actions).map(|(_, a)| a)
}

/// Events with equal keys (the same conversion action) may share one request.
pub fn group_key(actions: &ConversionActions, event: &OutboundEvent) -> Result<String, NotSent> {
    action(actions, event).map(|a| a.action_id.clone())
}

/// One element of `events`, or why the event cannot go to Data Manager.
pub fn event_json(actions: &ConversionActions, event: &OutboundEvent) -> Result<Value, NotSent> {
    let kind = action(actions, event)?.kind;
    let permission = &event.permissions.google_ads;
    let click = usable_click(event, permission);
    // data-manager.md §3.1: an adjustment is the purchase's conversion again (its time), with
    // the new total; its own time is when the conversion was last updated (§1.4).
    let conversion_at_ms = event
        .adjusts
        .as_ref()
        .map_or(event.occurred_at_ms, |a| a.purchase_occurred_at_ms);
    let occurred_at_ms = match kind {
        ActionKind::UploadClicks => {
            offline_time(conversion_at_ms, click.as_ref().and_then(|c| c.1))?
        }
        ActionKind::Webpage => conversion_at_ms,
    };
    let mut e = Map::new();
    // google.md §8: "Required for conversions using multiple data sources"; byte-identical to
    // gtag. data-manager.md §1.4: sent for every offline conversion too, since adjustments match
    // on it (§3.1).
    e.insert("transactionId".into(), json!(transaction_id(event)));
    e.insert(
        "eventTimestamp".into(),
        json!(event_timestamp(occurred_at_ms)?),
    );
    if let Some(adjustment) = &event.adjusts {
        e.insert(
            "lastUpdatedTimestamp".into(),
            json!(event_timestamp(event.occurred_at_ms)?),
        );
        // "The new value replaces the recorded value" (data-manager.md §3.1): the restated
        // total, zero for a cancellation (Data Manager documents no retraction).
        let crate::money::Money { value, currency } = &adjustment.restated;
        e.insert("conversionValue".into(), json!(value));
        e.insert("currency".into(), json!(currency));
    }
    e.insert("eventSource".into(), json!("WEB"));
    if let Some(crate::money::Money { value, currency }) = &event.money
        && event.adjusts.is_none()
        && let Some(v) = number(*value)
    {
        e.insert("conversionValue".into(), v);
        e.insert("currency".into(), json!(currency));
    }
    let mut identifiers = Vec::new();
    if permission.hashed_pii {
        let g = &event.user.google;
        if let Some(email) = &g.email {
            identifiers.push(json!({"emailAddress": email.as_str()}));
        }
        if let Some(phone) = &g.phone {
            identifiers.push(json!({"phoneNumber": phone.as_str()}));
        }
        // google.md §3: names hashed, regionCode and postalCode plain; all four or none.
        if let (Some(given), Some(family), Some(region), Some(postal)) =
            (&g.first_name, &g.last_name, &g.country_code, &g.postal_code)
        {
            identifiers.push(json!({"address": {
                "givenName": given.as_str(),
                "familyName": family.as_str(),
                "regionCode": region,
                "postalCode": postal,
            }}));
        }
    }
    let mut ad_ids = Map::new();
    // data-manager.md §1.4: click ids go in `adIdentifiers`; §1.5: one click id per event.
    match &click {
        Some((GoogleClickId::Gclid(id), _)) => ad_ids.insert("gclid".into(), json!(id)),
        Some((GoogleClickId::Gbraid(id), _)) => ad_ids.insert("gbraid".into(), json!(id)),
        Some((GoogleClickId::Wbraid(id), _)) => ad_ids.insert("wbraid".into(), json!(id)),
        None => None,
    };
    if click.is_none() && identifiers.is_empty() {
        return Err(NotSent::NoGoogleIdentifier);
    }
    if !identifiers.is_empty() {
        e.insert("userData".into(), json!({"userIdentifiers": identifiers}));
    }
    if !ad_ids.is_empty() {
        e.insert("adIdentifiers".into(), Value::Object(ad_ids));
    }
    // The shopper's device is user data too: only with ad_user_data granted (data-manager.md §1.4
    // `eventDeviceInfo`; IP matching is accepted for all offline callers, google.md Addendum C).
    if permission.hashed_pii {
        let mut device = Map::new();
        if let Some(ua) = event.user_agent.as_deref().filter(|s| !s.is_empty()) {
            device.insert("userAgent".into(), json!(ua));
        }
        if let Some(ip) = event.client_ip.as_deref().filter(|s| !s.is_empty()) {
            device.insert("ipAddress".into(), json!(ip));
        }
        if !device.is_empty() {
            e.insert("eventDeviceInfo".into(), Value::Object(device));
        }
    }
    e.insert(
        "consent".into(),
        json!({
            "adUserData": consent(permission.ad_user_data),
            "adPersonalization": consent(permission.ad_personalization),
        }),
    );
    Ok(Value::Object(e))
}

/// The ingest request for `events` of one [`group_key`] (at most [`MAX_EVENTS`]). Events for
/// another action than the first sendable one are left out as [`NotSent::OtherRequest`].
/// [`Mode::Test`] sets `validateOnly`.
pub fn ingest_request(
    config: &DataManagerConfig,
    actions: &ConversionActions,
    access_token: &str,
    events: &[&OutboundEvent],
    mode: Mode,
) -> Built {
    let mut out = Vec::new();
    let mut sent = Vec::new();
    let mut skipped = Vec::new();
    let mut destination: Option<String> = None;
    for (index, event) in events.iter().enumerate() {
        let result = group_key(actions, event).and_then(|key| {
            if destination.as_ref().is_some_and(|d| *d != key) {
                return Err(NotSent::OtherRequest);
            }
            let v = event_json(actions, event)?;
            destination.get_or_insert(key);
            Ok(v)
        });
        match result {
            Ok(v) => {
                out.push(v);
                sent.push(index);
            }
            Err(reason) => skipped.push(Skipped { index, reason }),
        }
    }
    let request = destination.map(|action_id| {
        let mut dest = Map::new();
        // google.md §8, data-manager.md §1.2: operatingAccount GOOGLE_ADS (the account that owns
        // the action), productDestinationId = the conversion action id as a numeric string, for
        // WEBPAGE and UPLOAD_CLICKS actions alike. The login account (a manager account) is a
        // GOOGLE_ADS account too: Data Manager's ProductAccount.AccountType has no manager value (google.md §8's
        // "GOOGLE_ADS_MANAGER per Segment" is not a value of that enum; Google's client library
        // reference lists ACCOUNT_TYPE_UNSPECIFIED, GOOGLE_ADS, DISPLAY_VIDEO_PARTNER,
        // DISPLAY_VIDEO_ADVERTISER, DATA_PARTNER, GOOGLE_ANALYTICS_PROPERTY, …).
        dest.insert(
            "operatingAccount".into(),
            json!({"accountType": "GOOGLE_ADS", "accountId": digits(&config.operating_account_id)}),
        );
        if let Some(login) = config.login_account_id.as_deref().map(digits)
            && !login.is_empty()
        {
            dest.insert(
                "loginAccount".into(),
                json!({"accountType": "GOOGLE_ADS", "accountId": login}),
            );
        }
        dest.insert("productDestinationId".into(), json!(action_id));
        let body = json!({
            "destinations": [Value::Object(dest)],
            "events": out,
            // google.md §8: required with user data; our hashes are lowercase hex.
            "encoding": "HEX",
            "validateOnly": mode == Mode::Test,
        });
        let url = format!("{}/v1/events:ingest", trim_base(&config.base_url));
        let headers = vec![("authorization".into(), format!("Bearer {access_token}"))];
        HttpRequest::post(url, headers, Body::Json(body))
    });
    Built {
        request,
        sent,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    // Snapshot tests are host-only (insta); their imports go unused on wasm32.
    #![cfg_attr(target_arch = "wasm32", allow(unused_imports, dead_code))]

    use super::*;
    use crate::EventName;
    use crate::consent::ConsentState;
    use crate::platform::fixtures::{
        NOW_MS, actions, all_names, data_manager_config, event, refund, slug, upload_actions,
        webpage_actions, with_consent,
    };

    fn one(e: &OutboundEvent, mode: Mode) -> Built {
        ingest_request(
            &data_manager_config(),
            &webpage_actions(),
            "ACCESS",
            &[e],
            mode,
        )
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn snapshots_every_event_type_live_and_validate_only() {
        for name in all_names() {
            let e = event(name.clone());
            for (mode, tag) in [(Mode::Live, "live"), (Mode::Test, "test")] {
                insta::assert_json_snapshot!(
                    format!("data_manager_{}_{tag}", slug(&name)),
                    one(&e, mode).request
                );
            }
        }
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn all_denied_states_consent_denied_without_user_data_or_device() {
        let e = with_consent(event(EventName::Purchase), ConsentState::ALL_DENIED, true);
        insta::assert_json_snapshot!(
            "data_manager_purchase_all_denied",
            one(&e, Mode::Live).request
        );
    }

    fn offline(e: &OutboundEvent) -> Built {
        ingest_request(
            &data_manager_config(),
            &upload_actions(),
            "ACCESS",
            &[e],
            Mode::Live,
        )
    }

    fn first_event(built: Built) -> Value {
        match built.request.map(|r| r.body) {
            Some(Body::Json(v)) => v["events"][0].clone(),
            other => panic!("no JSON body: {other:?}"),
        }
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn snapshots_every_event_type_as_an_offline_conversion() {
        for name in all_names() {
            let e = event(name.clone());
            for (mode, tag) in [(Mode::Live, "live"), (Mode::Test, "test")] {
                let built = ingest_request(
                    &data_manager_config(),
                    &upload_actions(),
                    "ACCESS",
                    &[&e],
                    mode,
                );
                insta::assert_json_snapshot!(
                    format!("data_manager_offline_{}_{tag}", slug(&name)),
                    built.request
                );
            }
        }
    }

    // data-manager.md §1.2: an UPLOAD_CLICKS action is a Data Manager destination like a WEBPAGE
    // one: the owning account as operatingAccount, the action as productDestinationId.
    #[test]
    fn upload_clicks_actions_are_offline_data_manager_destinations() {
        let e = event(EventName::CartAdded);
        let built = ingest_request(&data_manager_config(), &actions(), "A", &[&e], Mode::Live);
        assert!(built.skipped.is_empty(), "{:?}", built.skipped);
        let Some(Body::Json(body)) = built.request.map(|r| r.body) else {
            panic!("a JSON ingest request");
        };
        assert_eq!(body["destinations"][0]["productDestinationId"], "604");
        assert_eq!(
            body["destinations"][0]["operatingAccount"],
            json!({"accountType": "GOOGLE_ADS", "accountId": "1234567890"})
        );
        assert_eq!(body["events"][0]["adIdentifiers"]["gclid"], "Cj0KCQ-cookie");
    }

    // google.md §5 (url_passthrough): with ad_storage denied only the page URL's click id is used,
    // and without ad_user_data no hashed user data goes.
    #[test]
    fn all_denied_sends_the_url_click_id_without_user_data_and_states_denied() {
        let e = with_consent(event(EventName::Purchase), ConsentState::ALL_DENIED, true);
        let ev = first_event(offline(&e));
        assert_eq!(ev["adIdentifiers"]["gclid"], "Cj0KCQ-url");
        assert!(ev.get("userData").is_none() && ev.get("eventDeviceInfo").is_none());
        assert_eq!(ev["consent"]["adUserData"], "CONSENT_DENIED");
    }

    // data-manager.md §1.4: NO_IDENTIFIERS_PROVIDED fails the whole request, so such an event is
    // never put in one.
    #[test]
    fn an_event_without_a_click_id_or_user_data_is_not_sent() {
        let mut e = with_consent(event(EventName::CartAdded), ConsentState::ALL_DENIED, false);
        e.page_url = Some("https://shop.example.com/p".into());
        let built = offline(&e);
        assert_eq!(built.request, None);
        assert_eq!(built.skipped[0].reason, NotSent::NoGoogleIdentifier);
    }

    #[test]
    fn hashed_email_alone_is_enough_without_a_click() {
        let mut e = event(EventName::LeadSubmitted);
        e.google_click = None;
        e.page_url = None;
        let ev = first_event(offline(&e));
        assert!(ev.get("adIdentifiers").is_none());
        assert!(ev["userData"]["userIdentifiers"][0]["emailAddress"].is_string());
    }

    // data-manager.md §1.5: send one click id (the Ads API refused gbraid and wbraid together).
    #[test]
    fn braids_are_sent_alone() {
        let mut e = event(EventName::Purchase);
        e.google_click = Some((GoogleClickId::Wbraid("WB".into()), None));
        let ev = first_event(offline(&e));
        assert_eq!(ev["adIdentifiers"], json!({"wbraid": "WB"}));
    }

    // data-manager.md §2: CONVERSION_PRECEDES_CLICK.
    #[test]
    fn an_offline_conversion_before_its_click_is_not_sent() {
        let mut e = event(EventName::Purchase);
        e.occurred_at_ms = NOW_MS - 60 * 60 * 1000;
        e.google_click = Some((GoogleClickId::Gclid("G".into()), Some(NOW_MS)));
        assert_eq!(offline(&e).skipped[0].reason, NotSent::PrecedesClick);
    }

    // data-manager.md §2 (CONVERSION_PRECEDES_CLICK): a device clock a minute behind the edge must
    // not lose the conversion.
    #[test]
    fn an_offline_conversion_seemingly_before_its_click_by_clock_skew_is_dated_after_it() {
        let mut e = event(EventName::Purchase);
        let click = 1_546_345_965_000;
        e.occurred_at_ms = click - 40_000;
        e.google_click = Some((GoogleClickId::Gclid("G".into()), Some(click)));
        let ev = first_event(offline(&e));
        assert_eq!(ev["eventTimestamp"], "2019-01-01T12:32:46Z");
    }

    // data-manager.md §2: Data Manager documents no minimum wait after the click, so a click of a
    // minute ago does not hold the conversion back.
    #[test]
    fn a_fresh_click_is_sent_at_once() {
        let mut e = event(EventName::Purchase);
        e.occurred_at_ms = NOW_MS;
        e.google_click = Some((GoogleClickId::Gclid("G".into()), Some(NOW_MS - 60_000)));
        let built = offline(&e);
        assert_eq!(built.sent, [0]);
    }

    // data-manager.md §3.1: an adjustment is sent with the same transactionId, destination and
    // action as its purchase, the purchase's time, and the new total as conversionValue.
    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn a_refund_restates_its_purchase_with_the_same_transaction_id_and_the_new_total() {
        let e = refund();
        let built = offline(&e);
        insta::assert_json_snapshot!("data_manager_offline_refund_restatement", built.request);
        let ev = first_event(offline(&e));
        assert_eq!(ev["transactionId"], "ORD-10042");
        assert_eq!(ev["conversionValue"], 119.9);
        assert_eq!(ev["eventTimestamp"], "2026-05-28T18:26:40Z");
        assert_eq!(ev["lastUpdatedTimestamp"], "2026-05-28T19:26:40.123Z");
        let Some(Body::Json(body)) = offline(&e).request.map(|r| r.body) else {
            panic!("a JSON ingest request");
        };
        // The purchase's action, not an action of the refund's own.
        assert_eq!(body["destinations"][0]["productDestinationId"], "555");
    }

    // data-manager.md §3.1: no retraction is documented, so a cancellation restates to zero.
    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn a_cancellation_restates_its_purchase_to_zero() {
        let mut e = refund();
        e.name = EventName::Cancelled;
        e.event_id = crate::EventId::from_business_key(&EventName::Cancelled, "ORD-10042");
        if let Some(a) = e.adjusts.as_mut() {
            a.restated = crate::money::Money::new(0.0, "USD");
            a.refunded = crate::money::Money::new(129.9, "USD");
        }
        let built = offline(&e);
        insta::assert_json_snapshot!(
            "data_manager_offline_cancellation_restatement",
            built.request
        );
        let ev = first_event(offline(&e));
        assert_eq!(ev["transactionId"], "ORD-10042");
        assert_eq!(ev["conversionValue"], 0.0);
    }

    #[test]
    fn an_unlinked_refund_is_never_sent_as_a_conversion() {
        let mut e = refund();
        e.adjusts = None;
        assert_eq!(offline(&e).skipped[0].reason, NotSent::PurchaseNotFound);
    }

    #[test]
    fn events_for_another_action_wait_for_their_own_request() {
        let a = event(EventName::Purchase);
        let b = event(EventName::CartAdded);
        let built = ingest_request(
            &data_manager_config(),
            &webpage_actions(),
            "A",
            &[&a, &b],
            Mode::Live,
        );
        assert_eq!(built.sent, [0]);
        assert_eq!(built.skipped[0].reason, NotSent::OtherRequest);
    }

    #[test]
    fn event_timestamps_are_rfc3339_utc() {
        assert_eq!(
            event_timestamp(1_546_345_965_250),
            Ok("2019-01-01T12:32:45.25Z".into())
        );
        assert_eq!(event_timestamp(u64::MAX), Err(NotSent::BadTime));
    }
}
