//! Consent in the browser (DESIGN §4): what the tags are told, in which order, and what
//! `ar('consent', …)` writes.
//!
//! - Before any tag runs, the snippet ([`super::snippet`]) tells gtag the consent default and revokes
//!   Meta's pixel unless it may run: from the `_ar_consent` cookie, or strictly (everything
//!   denied, `wait_for_update`) when the cookie states nothing (google.md §5, §11.3; meta-capi.md
//!   §11.3). [`snippet_default`] is what it computes; a browser test holds the snippet to it.
//! - Once the pixel knows the visitor's region default (`GET /_ar/region`), signals the cookie
//!   leaves unstated take it ([`page_consent`]), and the tags are updated.
//! - Meta's pixel has one switch: it runs only with `ad_storage` (its `_fbp`/`_fbc` cookies) and
//!   `ad_user_data` (it sends events and identifiers for advertising) granted ([`meta_may_run`]).
//!   The pixel never calls `fbq('track')` otherwise.
//! - `ar('consent', {ad_storage, analytics_storage, ad_user_data, ad_personalization,
//!   sale_opt_out})` states signals ([`Choice`]); unstated ones keep the cookie's.
//! - A sale/sharing opt-out (`ar('consent', {sale_opt_out: true})`, or Global Privacy Control)
//!   gives Meta Limited Data Use (`fbq('dataProcessingOptions', ['LDU'], 0, 0)`, meta-capi.md §6,
//!   §11.3) and Google restricted data processing (google.md §11.3), and every event says
//!   `sale_opt_out` so the server copies follow (DESIGN §4 Decision on stated opt-outs).

use crate::consent::{ConsentCookie, ConsentState, PartialConsent, Signal};

use super::region::RegionAnswer;

/// Our cookie recording a sale/sharing opt-out made through `ar('consent')` (value `1`).
pub const SALE_OPT_OUT_COOKIE: &str = "_ar_oo";

/// How long the pixel's consent cookies last: a year, so the banner does not ask again soon.
pub const CONSENT_COOKIE_MAX_AGE_SECS: u32 = 365 * 24 * 60 * 60;

/// How long gtag holds its first hits for a consent update (google.md §5: `wait_for_update: 500`).
pub const WAIT_FOR_UPDATE_MS: u32 = 500;

/// The signals' Consent Mode names, in the cookie's order.
pub const SIGNAL_NAMES: [&str; 4] = [
    "ad_storage",
    "analytics_storage",
    "ad_user_data",
    "ad_personalization",
];

/// The consent default the snippet issues: the cookie's signals, every unstated one denied.
pub fn snippet_default(consent_cookie: Option<&str>) -> ConsentState {
    cookie_consent(consent_cookie).complete_with(ConsentState::ALL_DENIED)
}

fn cookie_consent(value: Option<&str>) -> PartialConsent {
    value
        .and_then(|v| v.parse::<ConsentCookie>().ok())
        .map(|c| c.consent)
        .unwrap_or_default()
}

/// The page's consent: the cookie's signals, then the region default; strict (all denied) while
/// the region default is not known.
pub fn page_consent(consent_cookie: Option<&str>, region: Option<&RegionAnswer>) -> ConsentState {
    let default = region.map_or(ConsentState::ALL_DENIED, |r| r.default);
    cookie_consent(consent_cookie).complete_with(default)
}

/// Whether the built-in banner asks: it is on for this visitor (the region answer), the cookie
/// states nothing yet, and no TCF CMP runs on the page (that one is followed instead).
pub fn banner_asks(
    region: Option<&RegionAnswer>,
    consent_cookie: Option<&str>,
    tcf_cmp: bool,
) -> bool {
    region.is_some_and(|r| r.banner) && cookie_consent(consent_cookie).is_empty() && !tcf_cmp
}

/// Whether Meta's pixel may run (module docs).
pub const fn meta_may_run(state: ConsentState) -> bool {
    state.ad_storage.is_granted() && state.ad_user_data.is_granted()
}

/// `fbq('consent', …)`'s argument.
pub const fn meta_command(state: ConsentState) -> &'static str {
    if meta_may_run(state) {
        "grant"
    } else {
        "revoke"
    }
}

/// The gtag consent parameters: each signal's name and `granted` / `denied`.
pub fn gtag_params(state: ConsentState) -> [(&'static str, &'static str); 4] {
    let s = [
        state.ad_storage,
        state.analytics_storage,
        state.ad_user_data,
        state.ad_personalization,
    ];
    [0, 1, 2, 3].map(|i| (SIGNAL_NAMES[i], s[i].as_str()))
}

/// What a page stated with `ar('consent', …)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Choice {
    /// The signals it stated.
    pub consent: PartialConsent,
    /// It opted out of the sale/sharing of data.
    pub sale_opt_out: bool,
}

/// One stated signal: `"granted"` / `"denied"` (any case) or `true` / `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stated<'a> {
    /// A string.
    Text(&'a str),
    /// A boolean.
    Bool(bool),
}

/// Why a consent choice was refused (the message names the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceError {
    /// The signal at fault.
    pub field: &'static str,
}

impl ChoiceError {
    /// `field: must be …` (built without `core::fmt`, `crate::text`).
    #[must_use]
    pub fn message(&self) -> String {
        [
            self.field,
            ": must be \"granted\", \"denied\", true or false",
        ]
        .concat()
    }
}

impl core::fmt::Display for ChoiceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for ChoiceError {}

impl Choice {
    /// Reads a choice: `get(name)` is what the page stated for each signal.
    ///
    /// # Errors
    /// [`ChoiceError`] for a value that is neither granted nor denied.
    pub fn read<'a>(
        get: impl Fn(&str) -> Option<Stated<'a>>,
        sale_opt_out: bool,
    ) -> Result<Self, ChoiceError> {
        let mut signals = [None; 4];
        for (slot, field) in signals.iter_mut().zip(SIGNAL_NAMES) {
            *slot = match get(field) {
                None => None,
                Some(Stated::Bool(b)) => Some(Signal::from_bool(b)),
                Some(Stated::Text(t)) => Some(t.parse().map_err(|_| ChoiceError { field })?),
            };
        }
        let [
            ad_storage,
            analytics_storage,
            ad_user_data,
            ad_personalization,
        ] = signals;
        Ok(Self {
            consent: PartialConsent {
                ad_storage,
                analytics_storage,
                ad_user_data,
                ad_personalization,
            },
            sale_opt_out,
        })
    }

    /// The `_ar_consent` value after this choice: its signals, the cookie's where it states none.
    pub fn cookie_after(&self, consent_cookie: Option<&str>) -> String {
        crate::consent::format_consent_cookie(self.consent.or(cookie_consent(consent_cookie)))
    }
}

/// The consent an event's collect body states itself (its `consent` field, which the worker takes
/// before any cookie, DESIGN §4 source order): the signals chosen on this page (`chosen`, the
/// `_ar_consent` value the page tried to write) while the page's cookie (`consent_cookie`) does
/// not carry them, because the browser refused it. Otherwise nothing: the worker reads the cookie
/// itself. So a visitor who said no on a page whose cookies are blocked is not tracked by the
/// server copy under a granting region default. What the event states itself (`stated`, the
/// page's own `consent` in `track`) is merged in, the most restrictive signal winning: two
/// statements about one event (DESIGN §4). Each pair is a signal's name and `granted` /
/// `denied`, `None` for a signal neither states.
pub fn stated_for_collect(
    consent_cookie: Option<&str>,
    chosen: Option<&str>,
    stated: PartialConsent,
) -> Option<[(&'static str, Option<&'static str>); 4]> {
    let chosen = chosen.filter(|c| Some(*c) != consent_cookie)?;
    let c = cookie_consent(Some(chosen)).merge(stated);
    let s = [
        c.ad_storage,
        c.analytics_storage,
        c.ad_user_data,
        c.ad_personalization,
    ];
    Some([0, 1, 2, 3].map(|i| (SIGNAL_NAMES[i], s[i].map(Signal::as_str))))
}

/// What `__tcfapi` reports, reduced to what Google's mapping reads (google.md Addendum A, §11.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcfSignals {
    /// `gdprApplies`.
    pub gdpr_applies: bool,
    /// `vendor.consents[755]` (Google).
    pub google_vendor: bool,
    /// `purpose.consents[1]`, `[3]`, `[4]`, `[7]`.
    pub purposes: [bool; 4],
}

impl TcfSignals {
    /// The Consent Mode signals a TCF CMP states; nothing where GDPR does not apply.
    pub const fn consent(&self) -> PartialConsent {
        if !self.gdpr_applies {
            return PartialConsent::NONE;
        }
        crate::consent::tcf_purposes_to_consent(self.google_vendor, self.purposes)
    }
}

#[cfg(test)]
mod tests;
