//! What a request tells about the visit: cookies, consent, click IDs, IP, user agent, location.
//!
//! The shell half of `ar_shared::visit`: it copies header values and Cloudflare's geo fields out of
//! the request, draws the random bytes, and lets `read_visit` decide everything (consent sources,
//! cookie plan, `_ar_sid`). It also puts the resulting `Set-Cookie`s on a response.

use ar_shared::consent::PartialConsent;
use ar_shared::consent::cmp::OneTrustGroups;
use ar_shared::settings::Settings;
use ar_shared::signature::KeyPurpose;
use ar_shared::visit::{Visit, VisitConfig, VisitRandom, VisitRequest, read_visit};
use wasm_bindgen::JsValue;
use worker::{Headers, Request, Result};

use crate::runtime;

/// The header values and geo fields of one request, owned so the request can be consumed after.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// The full request URL.
    pub url: String,
    /// `host[:port]` of the request URL.
    pub host: String,
    /// `scheme://host[:port]` of the request URL.
    pub public_origin: String,
    /// `Referer`.
    pub referer: Option<String>,
    /// `Cookie`.
    pub cookie: Option<String>,
    /// `Sec-GPC`.
    pub sec_gpc: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `CF-Connecting-IP`.
    pub cf_connecting_ip: Option<String>,
    /// `X-Forwarded-For`.
    pub x_forwarded_for: Option<String>,
    /// `X-Real-IP`.
    pub x_real_ip: Option<String>,
    /// `request.cf.country`.
    pub cf_country: Option<String>,
    /// `request.cf.regionCode`.
    pub cf_region_code: Option<String>,
}

fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

/// A string property of `request.cf`, read without the `worker` crate's getters (they panic on
/// an unexpected type, and a panic aborts the whole wasm instance).
fn cf_string(req: &Request, name: &str) -> Option<String> {
    let cf = js_sys::Reflect::get(req.inner(), &JsValue::from_str("cf")).ok()?;
    if !cf.is_object() {
        return None;
    }
    js_sys::Reflect::get(&cf, &JsValue::from_str(name))
        .ok()?
        .as_string()
}

impl RequestFacts {
    /// Copies what the visit needs out of `req`.
    ///
    /// # Errors
    /// When the request URL cannot be parsed (never for a request the runtime delivered).
    pub fn of(req: &Request) -> Result<Self> {
        let url = req.url()?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => String::new(),
        };
        let h = req.headers();
        Ok(Self {
            public_origin: url.origin().ascii_serialization(),
            url: url.to_string(),
            host,
            referer: header(h, "referer"),
            cookie: header(h, "cookie"),
            sec_gpc: header(h, "sec-gpc"),
            user_agent: header(h, "user-agent"),
            cf_connecting_ip: header(h, "cf-connecting-ip"),
            x_forwarded_for: header(h, "x-forwarded-for"),
            x_real_ip: header(h, "x-real-ip"),
            cf_country: cf_string(req, "country"),
            cf_region_code: cf_string(req, "regionCode"),
        })
    }
}

/// Reads the visit. `landing` is the page the shopper is on and its referrer; `None` means the
/// request itself (a page view through the proxy). `explicit` is consent an event states.
///
/// # Errors
/// When the runtime has no CSPRNG (never on Workers).
pub fn read(
    facts: &RequestFacts,
    settings: &Settings,
    landing: Option<(&str, Option<&str>)>,
    explicit: PartialConsent,
) -> Result<Visit> {
    let (landing_url, referrer) = landing.unwrap_or((facts.url.as_str(), facts.referer.as_deref()));
    let req = VisitRequest {
        host: &facts.host,
        landing_url,
        referrer,
        cookie_header: facts.cookie.as_deref(),
        sec_gpc: facts.sec_gpc.as_deref(),
        user_agent: facts.user_agent.as_deref(),
        cf_connecting_ip: facts.cf_connecting_ip.as_deref(),
        x_forwarded_for: facts.x_forwarded_for.as_deref(),
        x_real_ip: facts.x_real_ip.as_deref(),
        cf_country: facts.cf_country.as_deref(),
        cf_region_code: facts.cf_region_code.as_deref(),
    };
    let groups = OneTrustGroups::default();
    let session_key = settings.key(KeyPurpose::Session);
    let config = VisitConfig {
        cookie_domain: settings.cookie_domain.as_deref(),
        geo_override: settings
            .geo_override
            .as_ref()
            .map(|(c, r)| (c.as_str(), r.as_deref())),
        regions: &settings.regions,
        ga4_measurement_id: settings.ga4.as_ref().map(|g| g.measurement_id.as_str()),
        onetrust_groups: &groups,
        session_key: session_key.as_ref(),
    };
    let random = VisitRandom {
        fbp: runtime::random_bytes()?,
        session: runtime::random_bytes()?,
    };
    Ok(read_visit(
        &req,
        &config,
        explicit,
        runtime::now_ms(),
        random,
    ))
}

/// Appends the visit's `Set-Cookie`s to `headers`.
///
/// # Errors
/// When the runtime refuses a header (never for the values `ar_shared::cookies` builds).
pub fn set_cookies(headers: &Headers, visit: &Visit) -> Result<()> {
    for value in visit.set_cookie_headers() {
        headers.append("set-cookie", &value)?;
    }
    Ok(())
}
