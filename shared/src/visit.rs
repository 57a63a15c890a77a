//! What one request tells about a shopper's visit, decided in one place: the consent the cookies
//! state, where the visitor is, their IP and user agent, GA4's ids, the click identifiers, which
//! cookies to (re)set, and our first-party session cookie `_ar_sid`.
//!
//! The worker reads headers and draws random bytes; [`read_visit`] turns them into a [`Visit`]:
//! a [`SessionContext`] (what the edge knows), the resolved [`ConsentState`], and the cookies to
//! set. Rules, each cited:
//! - Consent sources (DESIGN §4): the caller's explicit statement (an event's `consent` field)
//!   first, then the cookies: our `_ar_consent`, merged most-restrictively with the CMP cookies
//!   we read (IAB TCF `euconsent-v2`, OneTrust `OptanonConsent`, Cookiebot `CookieConsent`; see
//!   `consent/mod.rs` step 1), then the region default for where the visitor is.
//! - `Sec-GPC: 1` is a US opt-out of sale/sharing (`consent::gpc`).
//! - `ad_storage` denied: no ad cookie is read or set (DESIGN §4 table; `cookies::plan`).
//! - `analytics_storage` denied: `_ga` is not read (DESIGN §4 table).
//! - Location: Cloudflare's `cf.country` / `cf.regionCode`, unless `GEO_OVERRIDE` is configured
//!   (local workerd has no real geo data; DESIGN §4).
//! - IP: `CF-Connecting-IP` (set by Cloudflare, not forgeable behind it), else the first hop of
//!   `X-Forwarded-For`, else `X-Real-IP` (local and test setups). Values that are not IP addresses
//!   are ignored.
//! - `_ar_sid` is set on every page response whatever the consent: it is a random first-party
//!   value that never leaves for any platform; it only links a server event to the context the
//!   edge saw, and what that context may contribute is decided by consent at send time
//!   (`consent::permissions`). It carries the identifier cookies' attributes (90 days, `Secure`,
//!   `SameSite=Lax`, `Path=/`, the registrable domain).
//!
//! What this file does not do: read a request, a clock or a random source (all are inputs), or
//! store anything (`session_update.rs` decides how stored context changes).

use crate::click_ids::{GaClientId, GaSessionId, LandingClickIds, ga_session_cookie_name};
use crate::consent::cmp::{OneTrustGroups, consent_from_cookiebot, consent_from_onetrust};
use crate::consent::tcf::{TCF_COOKIE_NAME, consent_from_tc_string};
use crate::consent::{
    CONSENT_COOKIE_NAME, ConsentState, PartialConsent, RegionPolicy, gpc_header_opts_out,
    parse_consent_cookie, resolve,
};
use crate::cookies::{
    COOKIE_MAX_AGE_SECS, CookieJar, CookieScope, ExistingClickCookies, GA_COOKIE, SetCookie,
    plan_click_cookies,
};
use crate::record::SessionContext;
use crate::wire::MAX_USER_AGENT_LEN;

/// Our first-party session cookie; its value is what a merchant backend sends as `session_id`.
pub const SESSION_COOKIE: &str = "_ar_sid";

/// Shortest session cookie value accepted from a browser (we mint 32 hex characters).
const MIN_SESSION_ID_LEN: usize = 16;
/// Longest session cookie value accepted (the `session_id` field's limit, `wire::validate`).
const MAX_SESSION_ID_LEN: usize = 128;

/// The parts of a request that say something about the visit (header values as sent).
#[derive(Debug, Clone, Copy, Default)]
pub struct VisitRequest<'a> {
    /// The request's host, as in the URL or `Host` header (port allowed).
    pub host: &'a str,
    /// The page the shopper is on: the request URL for a page view, the event's `page.url` for a
    /// pixel event. Click IDs are read from it.
    pub landing_url: &'a str,
    /// That page's referrer (`Referer` header, or the event's `page.referrer`).
    pub referrer: Option<&'a str>,
    /// `Cookie` header.
    pub cookie_header: Option<&'a str>,
    /// `Sec-GPC` header.
    pub sec_gpc: Option<&'a str>,
    /// `User-Agent` header.
    pub user_agent: Option<&'a str>,
    /// `CF-Connecting-IP` header.
    pub cf_connecting_ip: Option<&'a str>,
    /// `X-Forwarded-For` header.
    pub x_forwarded_for: Option<&'a str>,
    /// `X-Real-IP` header.
    pub x_real_ip: Option<&'a str>,
    /// Cloudflare's `cf.country` (ISO 3166-1 alpha-2).
    pub cf_country: Option<&'a str>,
    /// Cloudflare's `cf.regionCode` (the ISO 3166-2 subdivision part, e.g. `CA`).
    pub cf_region_code: Option<&'a str>,
}

/// The configuration a visit is read with (from `Settings`).
#[derive(Debug, Clone, Copy)]
pub struct VisitConfig<'a> {
    /// `COOKIE_DOMAIN` override.
    pub cookie_domain: Option<&'a str>,
    /// `GEO_OVERRIDE`: country and optional full region (`US`, `US-CA`).
    pub geo_override: Option<(&'a str, Option<&'a str>)>,
    /// Opt-in regions for the consent default.
    pub regions: &'a RegionPolicy,
    /// GA4 measurement id, which names the `_ga_<id>` session cookie.
    pub ga4_measurement_id: Option<&'a str>,
    /// OneTrust group ids.
    pub onetrust_groups: &'a OneTrustGroups,
    /// The key session ids are minted and checked with (`tokens`); `None` without a server
    /// secret, when any well-formed value is taken as a session id.
    pub session_key: Option<&'a crate::signature::DerivedKey>,
}

/// Randomness a visit may need: a new `_fbp` and a new session id.
#[derive(Debug, Clone, Copy)]
pub struct VisitRandom {
    /// For a minted `_fbp`.
    pub fbp: [u8; 8],
    /// For a new `_ar_sid`.
    pub session: [u8; 16],
}

/// Everything the edge learns from one request, and what to set on the response.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "the cookies must be set and the context stored"]
pub struct Visit {
    /// Our session id: the request's `_ar_sid`, or a new one.
    pub session_id: String,
    /// Whether `session_id` was minted for this request (no valid cookie arrived).
    pub new_session: bool,
    /// What the edge knows about the visit.
    pub context: SessionContext,
    /// Consent resolved against the region default.
    pub consent: ConsentState,
    /// Identifier cookies to set (`_fbc`, `_fbp`, our Google click cookie); empty when
    /// `ad_storage` is denied.
    pub ad_cookies: Vec<SetCookie>,
    /// The `_ar_sid` cookie (set whatever the consent: see the module docs). `None` only if the
    /// value could not be a cookie, which a value we accept or mint never is.
    pub session_cookie: Option<SetCookie>,
}

impl Visit {
    /// Every `Set-Cookie` header value to put on the response.
    pub fn set_cookie_headers(&self) -> Vec<String> {
        self.ad_cookies
            .iter()
            .chain(&self.session_cookie)
            .map(SetCookie::to_header_value)
            .collect()
    }
}

/// Reads a visit from a request. `explicit` is consent the caller states outright (an event's
/// `consent` field), which beats every cookie (DESIGN §4 source order).
pub fn read_visit(
    req: &VisitRequest<'_>,
    config: &VisitConfig<'_>,
    explicit: PartialConsent,
    now_ms: u64,
    random: VisitRandom,
) -> Visit {
    let jar = CookieJar::parse(req.cookie_header.unwrap_or_default());
    let cookie_consent = consent_from_cookies(&jar, config.onetrust_groups);
    let (country, region) = location(req, config);
    let consent = resolve(
        explicit,
        cookie_consent,
        config
            .regions
            .default_state(country.as_deref(), region.as_deref()),
    );
    let scope = crate::domain::cookie_scope(req.host, config.cookie_domain);
    let landing = LandingClickIds::from_urls(req.landing_url, req.referrer);
    let plan = plan_click_cookies(
        &ExistingClickCookies::from_jar(&jar),
        &landing,
        now_ms,
        random.fbp,
        &scope,
        consent.ad_storage.is_granted(),
    );
    let (ga_client_id, ga_session_id) = if consent.analytics_storage.is_granted() {
        ga_ids(&jar, config.ga4_measurement_id)
    } else {
        (None, None)
    };
    // A session id the worker did not mint is no session: nobody can name another visit.
    let existing_sid = jar
        .get(SESSION_COOKIE)
        .filter(|v| match config.session_key {
            Some(key) => crate::tokens::is_minted_session_id(key, v),
            None => is_session_id(v),
        });
    let session_id = existing_sid.map_or_else(
        || match config.session_key {
            Some(key) => crate::tokens::mint_session_id(key, random.session),
            None => hex(&random.session),
        },
        str::to_owned,
    );
    let context = SessionContext {
        clicks: plan.context,
        ga_client_id: ga_client_id.map(String::from),
        ga_session_id: ga_session_id.map(GaSessionId::get),
        consent: cookie_consent,
        client_ip: client_ip(req),
        user_agent: req.user_agent.and_then(user_agent),
        country,
        region,
        sale_opt_out: gpc_header_opts_out(req.sec_gpc),
    };
    Visit {
        session_cookie: session_cookie(&session_id, &scope),
        new_session: existing_sid.is_none(),
        session_id,
        context,
        consent,
        ad_cookies: plan.set_cookies,
    }
}

/// Whether `value` can be one of our session ids: 16 to 128 of `A-Z a-z 0-9 - _ .` (what the
/// `session_id` event field accepts, with a floor that rules out guessable values).
pub fn is_session_id(value: &str) -> bool {
    (MIN_SESSION_ID_LEN..=MAX_SESSION_ID_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The consent the request's cookies state: ours and every CMP cookie we read, merged most
/// restrictively (two statements of the same authority; `PartialConsent::merge`).
pub fn consent_from_cookies(jar: &CookieJar<'_>, groups: &OneTrustGroups) -> PartialConsent {
    [
        jar.get(CONSENT_COOKIE_NAME).and_then(parse_consent_cookie),
        jar.get(TCF_COOKIE_NAME).and_then(consent_from_tc_string),
        jar.get(crate::consent::cmp::ONETRUST_COOKIE_NAME)
            .and_then(|v| consent_from_onetrust(v, groups)),
        jar.get(crate::consent::cmp::COOKIEBOT_COOKIE_NAME)
            .and_then(consent_from_cookiebot),
    ]
    .into_iter()
    .flatten()
    .fold(PartialConsent::NONE, PartialConsent::merge)
}

/// Country (upper-case alpha-2) and region (full ISO 3166-2, `US-CA`).
fn location(req: &VisitRequest<'_>, config: &VisitConfig<'_>) -> (Option<String>, Option<String>) {
    visitor_location(req.cf_country, req.cf_region_code, config.geo_override)
}

/// Where the visitor is: `GEO_OVERRIDE` when configured, else Cloudflare's `cf.country` and
/// `cf.regionCode`; country upper-case alpha-2, region full ISO 3166-2 (`US-CA`).
pub fn visitor_location(
    cf_country: Option<&str>,
    cf_region_code: Option<&str>,
    geo_override: Option<(&str, Option<&str>)>,
) -> (Option<String>, Option<String>) {
    let (country, region) = match geo_override {
        Some((c, r)) => (Some(c), r),
        None => (cf_country, cf_region_code),
    };
    let country = country
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    let region = region
        .map(|r| r.trim().to_ascii_uppercase())
        .filter(|r| !r.is_empty())
        .and_then(|r| match &country {
            Some(c) if r.starts_with(&format!("{c}-")) => Some(r),
            Some(c) => Some(format!("{c}-{r}")),
            // A subdivision without its country names nothing.
            None => None,
        });
    (country, region)
}

fn client_ip(req: &VisitRequest<'_>) -> Option<String> {
    client_ip_from(req.cf_connecting_ip, req.x_forwarded_for, req.x_real_ip)
}

/// The client's IP from the `CF-Connecting-IP`, `X-Forwarded-For` and `X-Real-IP` header values,
/// by preference (module docs); values that are not IP addresses are skipped.
pub fn client_ip_from(
    cf_connecting_ip: Option<&str>,
    x_forwarded_for: Option<&str>,
    x_real_ip: Option<&str>,
) -> Option<String> {
    let first_hop = x_forwarded_for
        .and_then(|v| v.split(',').next())
        .map(str::trim);
    [
        cf_connecting_ip.map(str::trim),
        first_hop,
        x_real_ip.map(str::trim),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| v.parse::<core::net::IpAddr>().ok())
    .map(|ip| ip.to_string())
}

/// A user agent as forwarded: trimmed, non-empty, at most the wire limit (cut on a char boundary).
fn user_agent(ua: &str) -> Option<String> {
    let ua = ua.trim();
    if ua.is_empty() {
        return None;
    }
    let mut end = ua.len().min(MAX_USER_AGENT_LEN);
    while !ua.is_char_boundary(end) {
        end -= 1;
    }
    ua.get(..end).map(str::to_owned)
}

/// GA4's client id (`_ga`) and session id (`_ga_<measurement id>`, or the first `_ga_*` cookie
/// when no measurement id is configured).
fn ga_ids(
    jar: &CookieJar<'_>,
    measurement_id: Option<&str>,
) -> (Option<GaClientId>, Option<GaSessionId>) {
    let client = jar.get(GA_COOKIE).and_then(GaClientId::from_ga_cookie);
    let session_value = match measurement_id {
        Some(id) => jar.get(&ga_session_cookie_name(id)),
        None => jar
            .iter()
            .find(|(name, _)| name.starts_with("_ga_"))
            .map(|(_, v)| v),
    };
    let session = session_value.and_then(GaSessionId::from_session_cookie);
    (client, session)
}

fn session_cookie(session_id: &str, scope: &CookieScope) -> Option<SetCookie> {
    SetCookie::new(SESSION_COOKIE, session_id, scope, COOKIE_MAX_AGE_SECS)
        .ok()
        .map(SetCookie::hidden_from_scripts)
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests;
