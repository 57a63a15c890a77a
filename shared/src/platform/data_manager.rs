//! Data Manager API multi-source conversions: `POST {base}/v1/events:ingest` into the gtag's
//! `WEBPAGE` conversion action, deduplicated against the browser tag by `transactionId`
//! (google.md §8, §0.1).
//!
//! A request names one destination (operating account + conversion action), so events share a
//! request only when their action matches ([`group_key`]; `batch` groups). Consent is stated per
//! event (`CONSENT_GRANTED|CONSENT_DENIED`, google.md §5: per-event overrides request-level).
//! The API fails fast: one bad event fails the request (google.md §8), handled by `verdict`.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::consent::Signal;
use crate::outbound::{GoogleClickId, OutboundEvent};

use super::google_ads::usable_click;
use super::ownership::transaction_id;
use super::request::{
    ActionKind, Body, Built, ConversionAction, ConversionActions, DataManagerConfig, HttpRequest,
    Mode, NotSent, Skipped, digits, number, trim_base,
};

/// `events[] (≤2,000)` (google.md §8).
pub const MAX_EVENTS: usize = 2000;

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

/// The event's `WEBPAGE` action.
fn action<'a>(
    actions: &'a ConversionActions,
    event: &OutboundEvent,
) -> Result<&'a ConversionAction, NotSent> {
    actions
        .for_event(event.name.as_str())
        .filter(|a| a.kind == ActionKind::Webpage)
        .ok_or(NotSent::NoConversionAction)
}

/// Events with equal keys (the same conversion action) may share one request.
pub fn group_key(actions: &ConversionActions, event: &OutboundEvent) -> Result<String, NotSent> {
    action(actions, event).map(|a| a.action_id.clone())
}

/// One element of `events`, or why the event cannot go to Data Manager.
pub fn event_json(actions: &ConversionActions, event: &OutboundEvent) -> Result<Value, NotSent> {
    action(actions, event)?;
    let permission = &event.permissions.google_ads;
    let mut e = Map::new();
    // google.md §8: "Required for conversions using multiple data sources"; byte-identical to gtag.
    e.insert("transactionId".into(), json!(transaction_id(event)));
    e.insert(
        "eventTimestamp".into(),
        json!(event_timestamp(event.occurred_at_ms)?),
    );
    e.insert("eventSource".into(), json!("WEB"));
    if let Some(crate::money::Money { value, currency }) = &event.money
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
    let click = usable_click(event, permission);
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
    // The shopper's device is user data too: only with ad_user_data granted.
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
        // google.md §8: operatingAccount GOOGLE_ADS, productDestinationId = the WEBPAGE
        // conversion action id. The login account (a manager account) is a GOOGLE_ADS account
        // too: Data Manager's ProductAccount.AccountType has no manager value (google.md §8's
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
        actions, all_names, data_manager_config, event, slug, webpage_actions, with_consent,
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

    #[test]
    fn upload_clicks_actions_are_not_data_manager_destinations() {
        let e = event(EventName::CartAdded);
        let built = ingest_request(&data_manager_config(), &actions(), "A", &[&e], Mode::Live);
        assert_eq!(built.skipped[0].reason, NotSent::NoConversionAction);
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
