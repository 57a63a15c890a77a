//! The one decision about identifier cookies on a response: which of `_fbc`, `_fbp` and our Google
//! click cookie to (re)set, and which identifiers the event carries.
//!
//! Rules, each in one place below:
//! - `ad_storage` denied: nothing is read or set, and no fbc/fbp leaves (DESIGN §4 consent table).
//! - `_fbp`: kept (and refreshed) when valid, otherwise minted (`reference/meta-capi.md` §3.3 step 4).
//! - `_fbc`: replaced only when a *different* fbclid arrives; the same fbclid keeps the cookie and
//!   its creation time (`reference/meta-capi.md` §3.1, §3.3 step 5).
//! - Google click: the newest click wins (landing URL, our cookie, Google's `_gcl_*`); the same IDs
//!   keep their first click time; clicks older than Google's 90-day window are dropped
//!   (`reference/google.md` §1.7).
//! - Every kept cookie is set again: the edge-set copy outlives Safari ITP's 7-day cap on
//!   script-set cookies (DESIGN §4).

use crate::click_ids::{
    Fbc, Fbp, Gbraid, Gclid, GoogleClick, GoogleCookieClicks, LandingClickIds, Wbraid,
};

use super::header::CookieJar;
use super::scope::CookieScope;
use super::set_cookie::{COOKIE_MAX_AGE_SECS, SetCookie};
use super::{
    FBC_COOKIE, FBP_COOKIE, GCL_AG_COOKIE, GCL_AW_COOKIE, GCL_GB_COOKIE, GOOGLE_CLICK_COOKIE,
};

/// Google's longest click-through window: a click older than this is rejected with
/// `EXPIRED_EVENT` (`reference/google.md` §1.7: "max 90 days").
const GOOGLE_CLICK_WINDOW_MS: u64 = 90 * 24 * 60 * 60 * 1000;

/// The identifier cookies a request arrived with, parsed; an invalid value counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExistingClickCookies {
    /// `_fbc`, if valid.
    pub fbc: Option<Fbc>,
    /// `_fbp`, if valid.
    pub fbp: Option<Fbp>,
    /// Our click cookie, if valid.
    pub google_click: Option<GoogleClick>,
    /// What Google's `_gcl_aw` / `_gcl_ag` / `_gcl_gb` record.
    pub google_cookies: GoogleCookieClicks,
}

impl ExistingClickCookies {
    /// Reads the identifier cookies from a parsed `Cookie` header or `document.cookie`.
    pub fn from_jar(jar: &CookieJar<'_>) -> Self {
        Self {
            fbc: jar.get(FBC_COOKIE).and_then(|v| v.parse().ok()),
            fbp: jar.get(FBP_COOKIE).and_then(|v| v.parse().ok()),
            google_click: jar.get(GOOGLE_CLICK_COOKIE).and_then(|v| v.parse().ok()),
            google_cookies: GoogleCookieClicks::from_values(
                jar.get(GCL_AW_COOKIE),
                jar.get(GCL_AG_COOKIE),
                jar.get(GCL_GB_COOKIE),
            ),
        }
    }
}

/// The click identifiers an event carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "server", derive(serde::Serialize, serde::Deserialize))]
pub struct ClickContext {
    /// Meta's click value, verbatim.
    pub fbc: Option<Fbc>,
    /// Meta's browser ID, verbatim.
    pub fbp: Option<Fbp>,
    /// The newest Google click within the 90-day window, with its click time.
    pub google: Option<GoogleClick>,
}

impl ClickContext {
    /// The gclid of the Google click, if any.
    pub fn gclid(&self) -> Option<&Gclid> {
        self.google.as_ref()?.ids().gclid()
    }

    /// The gbraid of the Google click, if any (never together with a wbraid).
    pub fn gbraid(&self) -> Option<&Gbraid> {
        self.google.as_ref()?.ids().gbraid()
    }

    /// The wbraid of the Google click, if any (never together with a gbraid).
    pub fn wbraid(&self) -> Option<&Wbraid> {
        self.google.as_ref()?.ids().wbraid()
    }

    /// When the Google click happened, in Unix milliseconds.
    pub fn google_click_time_ms(&self) -> Option<u64> {
        self.google.as_ref().map(GoogleClick::clicked_at_ms)
    }
}

/// What to do with the identifier cookies on one response, and what the event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the cookies must be set and the context attached to the event"]
pub struct CookiePlan {
    /// Cookies to set, in the order `_fbc`, `_fbp`, our click cookie (each only when it applies).
    pub set_cookies: Vec<SetCookie>,
    /// The effective identifiers for the event.
    pub context: ClickContext,
}

/// Decides which identifier cookies to (re)set and which identifiers the event carries.
///
/// `existing`: the request's cookies; `landing`: click IDs of the page URL (+ Referer); `now_ms`:
/// the current Unix time in milliseconds; `fbp_random`: random bytes for a new `_fbp`; `scope`:
/// where cookies go (its subdomain index goes into new `_fbc` / `_fbp` values);
/// `ad_storage_granted`: the resolved Consent Mode `ad_storage` signal.
#[must_use = "the cookies must be set and the context attached to the event"]
pub fn plan_click_cookies(
    existing: &ExistingClickCookies,
    landing: &LandingClickIds,
    now_ms: u64,
    fbp_random: [u8; 8],
    scope: &CookieScope,
    ad_storage_granted: bool,
) -> CookiePlan {
    if !ad_storage_granted {
        // DESIGN §4: ad_storage denied → "no fbc/fbp; no ad cookies read or set". A Google click
        // ID still travels in the URL itself (`reference/google.md` §5, url_passthrough), so the
        // landing's own IDs stay in the context; whether they are forwarded is consent policy.
        let google = landing
            .google
            .clone()
            .map(|ids| GoogleClick::new(ids, now_ms));
        return CookiePlan {
            set_cookies: Vec::new(),
            context: ClickContext {
                fbc: None,
                fbp: None,
                google,
            },
        };
    }

    let index = scope.subdomain_index();
    // `reference/meta-capi.md` §3.1: set `_fbc` when none exists or when the URL's fbclid "isn't
    // equal to the corresponding value in the _fbc cookie"; the same fbclid keeps the original
    // creation time (a reload must not look like a new click).
    let fbc = match (&landing.fbclid, &existing.fbc) {
        (Some(fbclid), Some(old)) if old.is_for(fbclid) => Some(old.clone()),
        (Some(fbclid), _) => Some(Fbc::new(index, now_ms, fbclid)),
        (None, old) => old.clone(),
    };
    // `reference/meta-capi.md` §3.3 step 4: mint `_fbp` only when there is no valid one, so the
    // browser keeps one stable ID (peers.md: regenerating it on every request loses match quality).
    let fbp = existing
        .fbp
        .clone()
        .unwrap_or_else(|| Fbp::mint(index, now_ms, fbp_random));
    let google = effective_google_click(existing, landing, now_ms);

    let mut set_cookies = Vec::with_capacity(3);
    if let Some(fbc) = &fbc {
        set_cookies.push(SetCookie::from_checked(
            FBC_COOKIE,
            fbc.as_str().to_owned(),
            scope,
            COOKIE_MAX_AGE_SECS,
        ));
    }
    set_cookies.push(SetCookie::from_checked(
        FBP_COOKIE,
        fbp.as_str().to_owned(),
        scope,
        COOKIE_MAX_AGE_SECS,
    ));
    if let Some(click) = &google {
        set_cookies.push(SetCookie::from_checked(
            GOOGLE_CLICK_COOKIE,
            click.value(),
            scope,
            remaining_window_secs(click, now_ms),
        ));
    }
    CookiePlan {
        set_cookies,
        context: ClickContext {
            fbc,
            fbp: Some(fbp),
            google,
        },
    }
}

/// The newest Google click still inside the click window.
fn effective_google_click(
    existing: &ExistingClickCookies,
    landing: &LandingClickIds,
    now_ms: u64,
) -> Option<GoogleClick> {
    let from_google = existing.google_cookies.newest();
    let recorded = [existing.google_click.as_ref(), from_google.as_ref()];
    let newest = match &landing.google {
        // A click on this very page view is the newest, whatever a skewed cookie time says.
        Some(ids) => GoogleClick::new(ids.clone(), now_ms),
        // Ties go to our cookie, which keeps milliseconds.
        None => recorded
            .into_iter()
            .flatten()
            .reduce(|a, b| {
                if b.clicked_at_ms() > a.clicked_at_ms() {
                    b
                } else {
                    a
                }
            })?
            .clone(),
    };
    // The same IDs seen before are the same click: keep its first recorded time.
    let click = recorded
        .into_iter()
        .flatten()
        .filter(|seen| seen.ids() == newest.ids())
        .min_by_key(|seen| seen.clicked_at_ms())
        .cloned()
        .unwrap_or(newest);
    (remaining_window_ms(&click, now_ms) > 0).then_some(click)
}

fn remaining_window_ms(click: &GoogleClick, now_ms: u64) -> u64 {
    let age = now_ms.saturating_sub(click.clicked_at_ms());
    GOOGLE_CLICK_WINDOW_MS.saturating_sub(age)
}

/// Our click cookie expires when the click leaves Google's window, so refreshing it never keeps a
/// click Google would reject.
fn remaining_window_secs(click: &GoogleClick, now_ms: u64) -> u32 {
    let secs = remaining_window_ms(click, now_ms).div_ceil(1000);
    u32::try_from(secs).map_or(COOKIE_MAX_AGE_SECS, |s| s.min(COOKIE_MAX_AGE_SECS))
}

#[cfg(test)]
mod tests;
