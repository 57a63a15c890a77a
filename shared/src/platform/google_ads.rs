//! Google Ads API click-conversion upload:
//! `POST {base}/{version}/customers/{customer_id}:uploadClickConversions` (google.md §1).
//!
//! Only for events whose conversion action is `UPLOAD_CLICKS` (`ownership`); a `WEBPAGE` action
//! would be rejected with `INVALID_CONVERSION_ACTION_TYPE` (google.md §0.1). The consent policy's
//! [`GoogleAdsPermission`] decides whether click-id cookies and hashed email/phone may be used
//! and what `consent.adUserData` says. This module does not decide when an upload may go out
//! (`schedule`) or check the click window (`batch`).

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::consent::policy::GoogleAdsPermission;
use crate::outbound::{GoogleClickId, OutboundEvent};

use super::ownership::transaction_id;
use super::request::{
    ActionKind, Body, Built, ConversionActions, GoogleAdsConfig, HttpRequest, Mode, NotSent,
    Skipped, digits, number, trim_base,
};

/// "Upload fewer than 2001 events in a single request" (google.md §1.4).
pub const MAX_CONVERSIONS: usize = 2000;

/// How far a conversion may seem to precede its click and still be taken for clock skew between
/// the shopper's device and the edge.
pub const CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;

/// `conversionDateTime`: `yyyy-mm-dd hh:mm:ss+|-hh:mm` (google.md §1.2), always in UTC here.
pub fn conversion_date_time(unix_ms: u64) -> Result<String, NotSent> {
    let secs = i64::try_from(unix_ms / 1000).map_err(|_| NotSent::BadTime)?;
    let at = OffsetDateTime::from_unix_timestamp(secs).map_err(|_| NotSent::BadTime)?;
    at.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]+00:00"
    ))
    .map_err(|_| NotSent::BadTime)
}

/// `Authorization`, `developer-token` (only if configured: optional since its sunset) and
/// `login-customer-id` (digits only) headers (google.md §1.1).
pub(crate) fn auth_headers(config: &GoogleAdsConfig, access_token: &str) -> Vec<(String, String)> {
    let mut headers = vec![("authorization".into(), format!("Bearer {access_token}"))];
    if let Some(token) = config.developer_token.as_deref().filter(|t| !t.is_empty()) {
        headers.push(("developer-token".into(), token.to_owned()));
    }
    if let Some(login) = config.login_customer_id.as_deref().map(digits)
        && !login.is_empty()
    {
        headers.push(("login-customer-id".into(), login));
    }
    headers
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

/// One `ClickConversion`, or why the event cannot be uploaded.
pub fn click_conversion(
    config: &GoogleAdsConfig,
    actions: &ConversionActions,
    event: &OutboundEvent,
) -> Result<Value, NotSent> {
    let action = actions
        .for_event(event.name.as_str())
        .filter(|a| a.kind == ActionKind::UploadClicks)
        .ok_or(NotSent::NoConversionAction)?;
    let permission = &event.permissions.google_ads;
    let mut c = Map::new();
    let click = usable_click(event, permission);
    // google.md §1.2: exactly one of gclid/gbraid/wbraid (GBRAID_WBRAID_BOTH_SET otherwise).
    match &click {
        Some((GoogleClickId::Gclid(id), _)) => c.insert("gclid".into(), json!(id)),
        Some((GoogleClickId::Gbraid(id), _)) => c.insert("gbraid".into(), json!(id)),
        Some((GoogleClickId::Wbraid(id), _)) => c.insert("wbraid".into(), json!(id)),
        None => None,
    };
    let mut occurred_at_ms = event.occurred_at_ms;
    if let Some((_, Some(click_at))) = click
        && occurred_at_ms <= click_at
    {
        // google.md §1.2: conversionDateTime "must be after the click time". The click time is
        // the edge's clock; a browser event's time is the shopper's device clock, which may run
        // behind. Within CLOCK_SKEW_MS that is skew, and the conversion is dated just after the
        // click; further back it really preceded the click: CONVERSION_PRECEDES_EVENT (§1.5),
        // never worth sending.
        if click_at - occurred_at_ms > CLOCK_SKEW_MS {
            return Err(NotSent::PrecedesClick);
        }
        occurred_at_ms = click_at + 1000;
    }
    c.insert(
        "conversionAction".into(),
        json!(format!(
            "customers/{}/conversionActions/{}",
            digits(&config.customer_id),
            action.action_id
        )),
    );
    c.insert(
        "conversionDateTime".into(),
        json!(conversion_date_time(occurred_at_ms)?),
    );
    if let Some(crate::money::Money { value, currency }) = &event.money
        && let Some(v) = number(*value)
    {
        c.insert("conversionValue".into(), v);
        c.insert("currencyCode".into(), json!(currency));
    }
    // orderId dedups within one conversion action (google.md §1.2); same id as the browser's.
    c.insert("orderId".into(), json!(transaction_id(event)));
    // google.md §1.2: "Only hashed_email and hashed_phone_number are supported for conversion
    // uploads", one identifier per object.
    let mut identifiers = Vec::new();
    if permission.hashed_pii {
        let g = &event.user.google;
        if let Some(email) = &g.email {
            identifiers.push(json!({"hashedEmail": email.as_str()}));
        }
        if let Some(phone) = &g.phone {
            identifiers.push(json!({"hashedPhoneNumber": phone.as_str()}));
        }
    }
    if click.is_none() && identifiers.is_empty() {
        return Err(NotSent::NoGoogleIdentifier);
    }
    if !identifiers.is_empty() {
        c.insert("userIdentifiers".into(), Value::Array(identifiers));
    }
    // google.md §0.4: ClickConversion.consent takes only adUserData.
    c.insert(
        "consent".into(),
        json!({"adUserData": permission.ad_user_data.as_str().to_ascii_uppercase()}),
    );
    Ok(Value::Object(c))
}

/// The upload request for `events` (at most [`MAX_CONVERSIONS`]). `partialFailure` is always
/// true (google.md §1.2: required since v23); [`Mode::Test`] sets `validateOnly`.
pub fn upload_request(
    config: &GoogleAdsConfig,
    actions: &ConversionActions,
    access_token: &str,
    events: &[&OutboundEvent],
    mode: Mode,
) -> Built {
    let mut conversions = Vec::new();
    let mut sent = Vec::new();
    let mut skipped = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match click_conversion(config, actions, event) {
            Ok(v) => {
                conversions.push(v);
                sent.push(index);
            }
            Err(reason) => skipped.push(Skipped { index, reason }),
        }
    }
    let request = (!conversions.is_empty()).then(|| {
        let url = format!(
            "{}/{}/customers/{}:uploadClickConversions",
            trim_base(&config.base_url),
            config.api_version.trim_matches('/'),
            digits(&config.customer_id)
        );
        let body = json!({
            "conversions": conversions,
            "partialFailure": true,
            "validateOnly": mode == Mode::Test,
        });
        HttpRequest::post(url, auth_headers(config, access_token), Body::Json(body))
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
    use crate::consent::{ConsentState, Signal};
    use crate::platform::fixtures::{
        NOW_MS, actions, ads_config, all_names, event, slug, upload_actions, with_consent,
    };

    fn one(e: &OutboundEvent, mode: Mode) -> Built {
        upload_request(&ads_config(), &upload_actions(), "ACCESS", &[e], mode)
    }

    fn body(built: Built) -> Value {
        match built.request.map(|r| r.body) {
            Some(Body::Json(v)) => v,
            other => panic!("no JSON body: {other:?}"),
        }
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn snapshots_every_event_type_live_and_validate_only() {
        for name in all_names() {
            let e = event(name.clone());
            for (mode, tag) in [(Mode::Live, "live"), (Mode::Test, "test")] {
                let built = one(&e, mode);
                insta::assert_json_snapshot!(
                    format!("google_ads_{}_{tag}", slug(&name)),
                    built.request
                );
            }
        }
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn all_denied_sends_the_url_click_id_without_pii_and_states_denied() {
        let e = with_consent(event(EventName::Purchase), ConsentState::ALL_DENIED, true);
        let built = one(&e, Mode::Live);
        insta::assert_json_snapshot!("google_ads_purchase_all_denied", built.request);
        let c = &body(built)["conversions"][0];
        assert_eq!(
            c["gclid"],
            json!("Cj0KCQ-url"),
            "page URL gclid, not cookie"
        );
        assert!(c.get("userIdentifiers").is_none());
        assert_eq!(c["consent"], json!({"adUserData": "DENIED"}));
    }

    #[test]
    fn denied_ad_storage_without_a_url_click_id_and_without_pii_is_not_sent() {
        let mut e = with_consent(event(EventName::CartAdded), ConsentState::ALL_DENIED, false);
        e.page_url = Some("https://shop.example.com/p".into());
        let built = one(&e, Mode::Live);
        assert_eq!(built.request, None);
        assert_eq!(built.skipped[0].reason, NotSent::NoGoogleIdentifier);
    }

    #[test]
    fn hashed_email_alone_is_enough_without_a_click() {
        let mut e = event(EventName::LeadSubmitted);
        e.google_click = None;
        e.page_url = None;
        let c = &body(one(&e, Mode::Live))["conversions"][0];
        assert!(c.get("gclid").is_none());
        assert_eq!(c["userIdentifiers"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn braids_are_sent_alone() {
        let mut e = event(EventName::Purchase);
        e.google_click = Some((GoogleClickId::Wbraid("WB".into()), None));
        let c = &body(one(&e, Mode::Live))["conversions"][0];
        assert_eq!(c["wbraid"], json!("WB"));
        assert!(c.get("gclid").is_none() && c.get("gbraid").is_none());
    }

    #[test]
    fn webpage_actions_are_not_click_uploads() {
        let e = event(EventName::Purchase);
        let built = upload_request(&ads_config(), &actions(), "A", &[&e], Mode::Live);
        assert_eq!(built.skipped[0].reason, NotSent::NoConversionAction);
    }

    #[test]
    fn a_conversion_before_its_click_is_not_sent() {
        let mut e = event(EventName::Purchase);
        e.occurred_at_ms = NOW_MS - 60 * 60 * 1000;
        e.google_click = Some((GoogleClickId::Gclid("G".into()), Some(NOW_MS)));
        assert_eq!(
            one(&e, Mode::Live).skipped[0].reason,
            NotSent::PrecedesClick
        );
    }

    // google.md §1.2 "conversionDateTime — must be after the click time": a device clock a
    // minute behind the edge must not lose the conversion.
    #[test]
    fn a_conversion_seemingly_before_its_click_by_clock_skew_is_dated_after_the_click() {
        let mut e = event(EventName::Purchase);
        let click = 1_546_345_965_000;
        e.occurred_at_ms = click - 40_000;
        e.google_click = Some((GoogleClickId::Gclid("G".into()), Some(click)));
        let built = one(&e, Mode::Live);
        assert!(built.skipped.is_empty(), "{:?}", built.skipped);
        let Some(Body::Json(body)) = built.request.map(|r| r.body) else {
            panic!("a JSON upload request");
        };
        assert_eq!(
            body["conversions"][0]["conversionDateTime"],
            "2019-01-01 12:32:46+00:00"
        );
    }

    #[test]
    fn conversion_date_time_is_utc_with_an_explicit_offset() {
        assert_eq!(
            conversion_date_time(1_546_345_965_999),
            Ok("2019-01-01 12:32:45+00:00".into())
        );
        assert_eq!(conversion_date_time(u64::MAX), Err(NotSent::BadTime));
    }

    #[test]
    fn granted_ad_user_data_is_stated_granted() {
        let mut state = ConsentState::ALL_GRANTED;
        state.ad_personalization = Signal::Denied;
        let e = with_consent(event(EventName::Purchase), state, true);
        let c = &body(one(&e, Mode::Live))["conversions"][0];
        assert_eq!(c["consent"], json!({"adUserData": "GRANTED"}));
    }
}
