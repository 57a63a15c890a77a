//! The targets. Each one feeds the input to a parser the way the worker or the pixel does, and
//! checks the properties that must hold for any input: no panic, and printers round-trip.

use ar_shared::click_ids::{
    Fbc, Fbp, GaClientId, GaSessionId, GoogleClick, GoogleCookieClicks, LandingClickIds,
};
use ar_shared::consent::cmp::{OneTrustGroups, consent_from_cookiebot, consent_from_onetrust};
use ar_shared::consent::tcf::{TcString, consent_from_tc_string};
use ar_shared::consent::{format_consent_cookie, parse_consent_cookie};
use ar_shared::cookies::{CookieJar, candidate_cookie_domains};
use ar_shared::mapping_config::Mappings;
use ar_shared::wire::{self, ValidationContext};
use ar_shared::{collect_guard, domain, edge_event, signature, tokens, visit};

use crate::split::{number, parts, present, text};

/// A fixed receive time for validation (2026-11-01), so a run is repeatable.
const NOW_MS: u64 = 1_793_491_200_000;

fn validate(input: wire::EventInput) {
    let mappings = Mappings::default();
    let ctx = ValidationContext {
        mappings: &mappings,
        now_ms: NOW_MS,
        random: [7; 16],
    };
    let _ = wire::validate(input, ctx);
}

/// One `/_ar/collect` body: parsed, then validated like the worker does.
pub fn event_wire(data: &[u8]) {
    if let Ok(input) = wire::parse_event(data) {
        validate(input);
    }
}

/// One `/_ar/events` body: the batch, then each element on its own.
pub fn event_batch(data: &[u8]) {
    if let Ok(events) = wire::parse_batch(data, 1000) {
        for value in events {
            if let Ok(input) = wire::event_from_value(value) {
                validate(input);
            }
        }
    }
}

/// The storefront's `x-ar-event` header (base64url JSON).
pub fn edge_event(data: &[u8]) {
    if let Ok(input) = edge_event::decode_edge_event(&text(data)) {
        validate(input);
    }
}

/// A `Cookie` header, and everything the worker reads from it: consent, the session id, the
/// cookie domains of the host on the second line.
pub fn cookie_header(data: &[u8]) {
    let [header, host] = parts::<2>(data);
    let jar = CookieJar::parse(&header);
    let _ = visit::consent_from_cookies(&jar, &OneTrustGroups::default());
    let _ = visit::is_session_id(&header);
    let _ = candidate_cookie_domains(&host);
    let _ = domain::registrable_domain(&host);
    let _ = domain::cookie_scope(&host, present(&header));
}

/// Our `_ar_consent` cookie: what parses prints back to the same consent.
///
/// # Panics
/// When the property fails: that is the finding.
pub fn consent_cookie(data: &[u8]) {
    if let Some(consent) = parse_consent_cookie(&text(data)) {
        let printed = format_consent_cookie(consent);
        assert_eq!(
            parse_consent_cookie(&printed),
            Some(consent),
            "{printed:?} does not read back"
        );
    }
}

/// An IAB TCF v2 `euconsent-v2` string.
pub fn tcf(data: &[u8]) {
    let s = text(data);
    let _ = s.parse::<TcString>();
    let _ = consent_from_tc_string(&s);
}

/// OneTrust's `OptanonConsent` and Cookiebot's `CookieConsent` values.
pub fn cmp_cookies(data: &[u8]) {
    let s = text(data);
    let _ = consent_from_onetrust(&s, &OneTrustGroups::default());
    let _ = consent_from_cookiebot(&s);
}

/// `_fbc`, `_fbp`, `_ga`, `_ga_<id>`, our Google click cookie and Google's `_gcl_*` cookies: what
/// parses prints back to the same value.
///
/// # Panics
/// When the property fails: that is the finding.
pub fn click_ids(data: &[u8]) {
    let s = text(data);
    if let Ok(fbc) = s.parse::<Fbc>() {
        assert_eq!(fbc.to_string().parse::<Fbc>().ok(), Some(fbc));
    }
    if let Ok(fbp) = s.parse::<Fbp>() {
        assert_eq!(fbp.to_string().parse::<Fbp>().ok(), Some(fbp));
    }
    if let Ok(click) = s.parse::<GoogleClick>() {
        assert_eq!(click.to_string().parse::<GoogleClick>().ok(), Some(click));
    }
    if let Ok(ga) = s.parse::<GaClientId>() {
        assert_eq!(ga.to_string().parse::<GaClientId>().ok(), Some(ga));
    }
    let _ = s.parse::<GaSessionId>();
    let [aw, ag, gb] = parts::<3>(data);
    let _ = GoogleCookieClicks::from_values(present(&aw), present(&ag), present(&gb)).newest();
}

/// A page URL and its referrer (click ids), an `Origin` header and a `Content-Type`; the URL as a
/// collect URL with its `?sent=`.
///
/// # Panics
/// When the property fails: that is the finding.
pub fn landing_urls(data: &[u8]) {
    let [url, referrer, content_type] = parts::<3>(data);
    let _ = LandingClickIds::from_urls(&url, present(&referrer));
    let _ = collect_guard::origin_host(&url);
    let allowed = [referrer.clone()];
    let _ = collect_guard::origin_allowed(present(&url), &referrer, &allowed);
    let _ = collect_guard::body_type(present(&content_type));
    // A collect URL's `?sent=` (the device's clock): a browser time put on the edge's clock is
    // within the hour before the arrival, whatever the two device times say.
    if let Ok(Some(sent)) = collect_guard::sent_at(url.split_once('?').map(|(_, q)| q)) {
        let occurred = referrer.parse::<u64>().unwrap_or(u64::MAX);
        let t = ar_shared::trust::on_edge_clock(occurred, sent, NOW_MS);
        assert!((NOW_MS - ar_shared::trust::BROWSER_MAX_AGE_MS..=NOW_MS).contains(&t));
    }
}

/// The merchant's `EVENT_MAPPING` JSON.
pub fn mapping_json(data: &[u8]) {
    if let Ok(mappings) = Mappings::from_json(&text(data)) {
        for name in ar_shared::EventName::STANDARD {
            let _ = mappings.lookup(&name);
        }
    }
}

/// `/_ar/events` signatures and order tokens: arbitrary headers never verify by accident, and
/// what we sign always verifies.
///
/// # Panics
/// When the property fails: that is the finding.
pub fn signatures(data: &[u8]) {
    let [secret, timestamp, sig, body] = parts::<4>(data);
    let now = number(data) % 4_000_000_000;
    let verdict = signature::verify_request(
        secret.as_bytes(),
        present(&timestamp),
        present(&sig),
        body.as_bytes(),
        now,
    );
    if verdict.is_ok()
        && let Ok(ts) = timestamp.trim().parse::<u64>()
        && ts.to_string() == timestamp.trim()
    {
        let expected = signature::sign_request(secret.as_bytes(), ts, body.as_bytes());
        assert!(
            sig.to_ascii_lowercase().contains(&expected),
            "a signature we did not make verified: {sig:?}"
        );
    }
    let honest = signature::sign_request(secret.as_bytes(), now, body.as_bytes());
    let ts = now.to_string();
    let signed = signature::verify_request(
        secret.as_bytes(),
        Some(&ts),
        Some(&honest),
        body.as_bytes(),
        now,
    );
    assert!(signed.is_ok(), "our own signature was refused: {signed:?}");
    let value = f64::from(u32::try_from(now % 1_000_000).unwrap_or(0)) / 100.0;
    let money = ar_shared::money::Money::new(value, "EUR");
    let event_id =
        ar_shared::EventId::from_business_key(&ar_shared::EventName::Purchase, &timestamp);
    let claim = tokens::OrderClaim {
        event: &ar_shared::EventName::Purchase,
        event_id: &event_id,
        order_id: &timestamp,
        money: &money,
    };
    let key = signature::derive_key(secret.as_bytes(), signature::KeyPurpose::OrderToken);
    let token = tokens::order_token(&key, &claim);
    assert!(tokens::verify_order_token(&key, &token, &claim));
    let _ = tokens::verify_order_token(&key, &sig, &claim);
    // Session ids and edge signatures read attacker text: never panic, never accept a forgery.
    let session = signature::derive_key(secret.as_bytes(), signature::KeyPurpose::Session);
    let _ = tokens::is_minted_session_id(&session, &sig);
    let edge = signature::derive_key(secret.as_bytes(), signature::KeyPurpose::EdgeEvent);
    let _ = tokens::verify_edge_event(&edge, &body, now);
}
