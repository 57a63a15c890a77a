//! "Send test" (DESIGN §5 "Test mode"): one sample event sent to every enabled platform in its
//! test mode — Meta with `test_event_code`, Data Manager (either action kind) with
//! `validateOnly`, GA4 to its validation endpoint `/debug/mp/collect` — with, per platform, what
//! to check where.
//!
//! The sample is nobody's personal data and no conversion: a custom event
//! ([`TEST_EVENT`], Meta `ActiveReachTest`, GA4 `active_reach_test`) with a made-up customer
//! (`test@example.com`, a documentation IP address) and every consent signal granted, built
//! through the same validation, hashing and record code as real events. Meta keeps test events:
//! "Events sent with `test_event_code` are not dropped. They flow into Events Manager and are used
//! for targeting and ads measurement purposes" (meta-capi.md §8), so the sample is never a
//! purchase. Google's `validateOnly` and GA4's validation endpoint record nothing.
//!
//! Pure: the worker sends the requests [`TestSend::request`] describes and reads the answers
//! with `platform::dispatch::classify`.

use crate::mapping::{AdsCategory, BusinessKey, DeliveryPath, EventMapping};
use crate::mapping_config::Mappings;
use crate::outbound::{GoogleClickId, OutboundEvent};
use crate::pii::hash_user_data;
use crate::platform::Platform;
use crate::platform::dispatch;
use crate::platform::request::{
    ActionKind, Built, ConversionAction, ConversionActions, HttpRequest, Mode,
};
use crate::record::{EventRecord, SessionContext, Source};
use crate::settings::Settings;
use crate::wire::{ValidationContext, ValidationError, event_from_value, validate};

/// The sample's event name: a custom event, never a conversion.
pub const TEST_EVENT: &str = "active_reach.test";
/// A GA4 client id for the sample (GA4 needs one for a server copy).
pub const SAMPLE_GA_CLIENT_ID: &str = "1234567890.1700000000";
/// How long ago the sample's Google click happened: before the conversion, as a real click is
/// (Data Manager documents no minimum wait, data-manager.md §1).
const SAMPLE_CLICK_AGE_MS: u64 = 60 * 60 * 1000;

/// The sample's mapping: custom names on both platforms, so nothing counts as a conversion.
pub fn test_mapping() -> EventMapping {
    EventMapping {
        meta: "ActiveReachTest".into(),
        ga4: "active_reach_test".into(),
        ads_category: AdsCategory::Default,
        path: DeliveryPath::RealTime,
        key: BusinessKey::None,
    }
}

/// The sample record at `now_ms`, its event ID from `random`.
///
/// # Errors
/// Never for the built-in sample; the error type is validation's.
pub fn sample_record(
    now_ms: u64,
    random: [u8; 16],
    default_country: &str,
) -> Result<EventRecord, ValidationError> {
    let input = event_from_value(serde_json::json!({
        "event": TEST_EVENT,
        "occurred_at": now_ms,
        "user": {"email": "test@example.com"},
        "page": {"url": "https://example.com/ar-test"},
        "client": {"ip": "192.0.2.1", "user_agent": "ActiveReach-Test/1.0"},
        "consent": {"ad_storage": "granted", "analytics_storage": "granted",
                    "ad_user_data": "granted", "ad_personalization": "granted"},
    }))?;
    let mapping = test_mapping();
    let mappings = Mappings::default().with_entries([(TEST_EVENT, &mapping)]);
    let event = validate(
        input,
        ValidationContext {
            mappings: &mappings,
            now_ms,
            random,
        },
    )?;
    let (user, _) = hash_user_data(&event.user, default_country);
    let session = SessionContext {
        ga_client_id: Some(SAMPLE_GA_CLIENT_ID.to_owned()),
        ..SessionContext::default()
    };
    Ok(EventRecord::from_copy(
        &event,
        user,
        session,
        Source::Server,
    ))
}

/// A Meta test code typed in the console: `None` when left empty.
///
/// # Errors
/// What is wrong with it, when it is not 1–64 letters, digits, `_` or `-` (Events Manager's codes
/// look like `TEST12345`).
pub fn test_code(input: &str) -> Result<Option<String>, &'static str> {
    let code = input.trim();
    if code.is_empty() {
        return Ok(None);
    }
    if code.len() > 64
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(
            "must be 1 to 64 letters, digits, _ or - (Events Manager → Test events shows it)",
        );
    }
    Ok(Some(code.to_owned()))
}

/// What the test sends to one platform, or why it sends nothing.
#[derive(Debug, Clone)]
pub struct PlatformTest {
    /// The platform.
    pub platform: Platform,
    /// The request to send; `None` when nothing is sent (see `skipped`).
    pub request: Option<HttpRequest>,
    /// Why nothing is sent, and what to do about it.
    pub skipped: Option<String>,
    /// The conversion action the request names (Google), as `id (kind, the <event> action)`.
    pub action: Option<String>,
    /// What to check, and where.
    pub check: String,
}

/// The whole test: the sample and, per enabled platform, what to send.
#[derive(Debug, Clone)]
pub struct TestSend {
    /// The sample, as the request builders see it.
    pub event: OutboundEvent,
    /// The settings it is sent with ([`plan`]).
    pub settings: Settings,
    /// One entry per enabled platform, in `Platform::ALL` order.
    pub platforms: Vec<PlatformTest>,
}

impl TestSend {
    /// The request for `platform` with a Google access token (built again with the token: the
    /// token is known only after the worker fetched it).
    pub fn request(&self, platform: Platform, token: &str) -> Built {
        let settings = for_platform(&self.settings, platform);
        dispatch::build(&settings, platform, &[&self.event], token, Mode::Test)
    }
}

/// The settings the test sends with: Meta's test code replaced by `meta_code` when given.
fn test_settings(settings: &Settings, meta_code: Option<&str>) -> Settings {
    let mut s = settings.clone();
    if let (Some(meta), Some(code)) = (s.meta.as_mut(), meta_code.filter(|c| !c.trim().is_empty()))
    {
        meta.test_event_code = Some(code.trim().to_owned());
    }
    s
}

/// The conversion action Data Manager validates the sample against: the first configured
/// `WEBPAGE` action, else the first `UPLOAD_CLICKS` one (both go through `events:ingest`;
/// validated only: nothing is recorded).
fn test_action(settings: &Settings, platform: Platform) -> Option<ConversionAction> {
    if platform != Platform::DataManager {
        return None;
    }
    let actions = &settings.conversion_actions.0;
    actions
        .iter()
        .find(|a| a.kind == ActionKind::Webpage)
        .or_else(|| actions.first())
        .map(|a| ConversionAction {
            event: TEST_EVENT.into(),
            ..a.clone()
        })
}

/// `settings` with the sample fed to `platform`'s test action.
fn for_platform(settings: &Settings, platform: Platform) -> Settings {
    let mut s = settings.clone();
    s.conversion_actions = ConversionActions(test_action(settings, platform).into_iter().collect());
    s
}

/// The test of every enabled platform (Google requests built without a token: see
/// [`TestSend::request`]). `meta_code` is a `test_event_code` typed in the console, used instead
/// of `META_TEST_EVENT_CODE`.
///
/// # Errors
/// Never for the built-in sample; the error type is validation's.
pub fn plan(
    settings: &Settings,
    now_ms: u64,
    random: [u8; 16],
    meta_code: Option<&str>,
) -> Result<TestSend, ValidationError> {
    let record = sample_record(now_ms, random, &settings.default_country)?;
    let Some(mut event) = record.to_outbound(&Mappings::default(), &settings.regions) else {
        // The record carries its own mapping, so this cannot happen.
        return Err(ValidationError::new("event", "the sample has no mapping"));
    };
    let clicked = now_ms.saturating_sub(SAMPLE_CLICK_AGE_MS);
    event.google_click = Some((
        GoogleClickId::Gclid(format!("ar-test-{}", event.event_id)),
        Some(clicked),
    ));
    let settings = test_settings(settings, meta_code);
    let id = event.event_id.to_string();
    let mut platforms = Vec::new();
    for platform in Platform::ALL {
        if !platform.enabled(&settings) {
            continue;
        }
        let mut test = PlatformTest {
            platform,
            request: None,
            skipped: None,
            action: None,
            check: check(platform, &id, &settings),
        };
        if platform == Platform::Meta
            && settings
                .meta
                .as_ref()
                .is_none_or(|m| m.test_event_code.is_none())
        {
            // Without a test code a Meta "test" would be a live event (meta-capi.md §8).
            test.skipped = Some(
                "no test code: set META_TEST_EVENT_CODE, or type the code from Events Manager → \
                 Data sources → your dataset → Test events"
                    .into(),
            );
            platforms.push(test);
            continue;
        }
        if platform == Platform::DataManager {
            let Some(a) = test_action(&settings, platform) else {
                test.skipped = Some(
                    "no conversion action in GOOGLE_CONVERSION_ACTIONS to validate against".into(),
                );
                platforms.push(test);
                continue;
            };
            test.action = Some(format!(
                "{} ({}, validated only)",
                a.action_id,
                if a.kind == ActionKind::Webpage {
                    "WEBPAGE"
                } else {
                    "UPLOAD_CLICKS"
                }
            ));
        }
        let built = dispatch::build(
            &for_platform(&settings, platform),
            platform,
            &[&event],
            "",
            Mode::Test,
        );
        if built.request.is_none() {
            let reasons: Vec<String> = built.skipped.iter().map(|s| s.reason.to_string()).collect();
            test.skipped = Some(reasons.join("; "));
        }
        test.request = built.request;
        platforms.push(test);
    }
    Ok(TestSend {
        event,
        settings,
        platforms,
    })
}

/// What to look at after the test, per platform.
fn check(platform: Platform, event_id: &str, settings: &Settings) -> String {
    match platform {
        Platform::Meta => {
            let code = settings
                .meta
                .as_ref()
                .and_then(|m| m.test_event_code.as_deref())
                .unwrap_or("your test code");
            format!(
                "Events Manager → Data sources → your dataset → Test events (code {code}): \
                 ActiveReachTest with event ID {event_id}, received from the server. It is a \
                 custom event, not a conversion: Meta keeps test events for targeting and \
                 measurement, so the test never reports a purchase."
            )
        }
        Platform::DataManager => format!(
            "validateOnly: Google checked the request (destination, action, identifiers) and \
             recorded nothing. Google's answer is the result: a requestId means it would be \
             accepted; nothing about {event_id} appears in Google Ads diagnostics. An error about \
             the token, the account or the conversion action is what to fix."
        ),
        Platform::Ga4 => "GA4's validation endpoint (/debug/mp/collect) records nothing: an \
             empty validationMessages list means GA4 would accept the event; each message names \
             the field to fix. The event does not appear in DebugView or reports."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::MetaPermission;

    const NOW: u64 = 1_764_000_000_000;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let base = [
            ("META_PIXEL_ID", "123"),
            ("META_ACCESS_TOKEN", "t"),
            ("GA4_MEASUREMENT_ID", "G-T"),
            ("GA4_API_SECRET", "s"),
            ("GOOGLE_ADS_CUSTOMER_ID", "1234567890"),
            ("GOOGLE_ADS_DEVELOPER_TOKEN", "d"),
            ("DATA_MANAGER_OPERATING_ACCOUNT_ID", "1234567890"),
            ("GOOGLE_CLIENT_ID", "c"),
            ("GOOGLE_CLIENT_SECRET", "s"),
            ("GOOGLE_REFRESH_TOKEN", "r"),
            ("CONSENT_REGIONS", "DEFAULT"),
        ];
        let vars: Vec<(String, String)> = base
            .iter()
            .chain(vars)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(&|name| {
            vars.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    fn body(t: &PlatformTest) -> serde_json::Value {
        match &t.request.as_ref().unwrap().body {
            crate::platform::request::Body::Json(v) => v.clone(),
            crate::platform::request::Body::Form(f) => panic!("{f}"),
        }
    }

    #[test]
    fn the_sample_is_a_hashed_non_conversion_with_consent_granted() {
        let r = sample_record(NOW, [0; 16], "US").unwrap();
        assert_eq!(r.event.as_str(), TEST_EVENT);
        assert!(r.sources.server);
        let stored = serde_json::to_string(&r).unwrap();
        assert!(!stored.contains("test@example.com"), "email is hashed");
        assert_eq!(r.mapping, Some(test_mapping()));
        assert!(r.money.is_none(), "no value: not a purchase");
    }

    #[test]
    fn every_enabled_platform_gets_its_test_mode_even_where_consent_is_opt_in() {
        let s = settings(&[
            ("META_TEST_EVENT_CODE", "TEST123"),
            (
                "GOOGLE_CONVERSION_ACTIONS",
                "transaction.purchase=2001:webpage",
            ),
        ]);
        let t = plan(&s, NOW, [1; 16], None).unwrap();
        assert!(matches!(t.event.permissions.meta, MetaPermission::Send(_)));
        let by = |p| t.platforms.iter().find(|x| x.platform == p).unwrap();
        let meta = body(by(Platform::Meta));
        assert_eq!(meta["test_event_code"], "TEST123");
        assert_eq!(meta["data"][0]["event_name"], "ActiveReachTest");
        let dm = by(Platform::DataManager);
        assert_eq!(body(dm)["validateOnly"], true);
        assert!(dm.action.as_deref().unwrap().starts_with("2001 (WEBPAGE"));
        let ga4 = by(Platform::Ga4);
        assert!(
            ga4.request
                .as_ref()
                .unwrap()
                .url
                .contains("/debug/mp/collect")
        );
        assert_eq!(body(ga4)["events"][0]["name"], "active_reach_test");
        assert!(by(Platform::Meta).check.contains(t.event.event_id.as_str()));
    }

    #[test]
    fn a_code_typed_in_the_console_replaces_a_missing_meta_test_code() {
        let s = settings(&[(
            "GOOGLE_CONVERSION_ACTIONS",
            "lead.submitted=1003:upload_clicks",
        )]);
        let t = plan(&s, NOW, [1; 16], None).unwrap();
        let meta = t
            .platforms
            .iter()
            .find(|x| x.platform == Platform::Meta)
            .unwrap();
        assert!(meta.request.is_none());
        assert!(
            meta.skipped
                .as_deref()
                .unwrap()
                .contains("META_TEST_EVENT_CODE")
        );
        let t = plan(&s, NOW, [1; 16], Some(" TEST9 ")).unwrap();
        let meta = t
            .platforms
            .iter()
            .find(|x| x.platform == Platform::Meta)
            .unwrap();
        assert_eq!(body(meta)["test_event_code"], "TEST9");
    }

    #[test]
    fn typed_test_codes_are_checked() {
        assert_eq!(test_code("  "), Ok(None));
        assert_eq!(test_code(" TEST123 "), Ok(Some("TEST123".into())));
        assert!(test_code("TEST 1").is_err());
        assert!(test_code(&"A".repeat(65)).is_err());
    }

    #[test]
    fn an_upload_clicks_action_alone_is_validated_through_data_manager_with_a_click() {
        let s = settings(&[(
            "GOOGLE_CONVERSION_ACTIONS",
            "user.signed_up=1002:upload_clicks",
        )]);
        let t = plan(&s, NOW, [1; 16], None).unwrap();
        let dm = t
            .platforms
            .iter()
            .find(|x| x.platform == Platform::DataManager)
            .unwrap();
        assert!(
            dm.action
                .as_deref()
                .unwrap()
                .starts_with("1002 (UPLOAD_CLICKS")
        );
        let b = body(dm);
        assert_eq!(b["validateOnly"], true, "{b:#}");
        assert!(
            b["events"][0]["adIdentifiers"]["gclid"]
                .as_str()
                .unwrap()
                .starts_with("ar-test-"),
            "{b:#}"
        );
    }
}
