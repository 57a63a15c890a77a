//! Consent: Google Consent Mode v2's four signals, where they come from, and what each platform may
//! receive under them (DESIGN §4).
//!
//! How the pieces fit, per event:
//! 1. Sources, each a [`PartialConsent`]: the event's explicit `consent` field; our `_ar_consent`
//!    cookie ([`cookie`]), merged (most restrictive) with any CMP cookie the worker reads
//!    (`tcf` for IAB TCF `euconsent-v2`, `cmp` for OneTrust and Cookiebot; `server` feature).
//! 2. [`resolve`] picks each signal from the first source that states it, falling back to the
//!    region default ([`RegionPolicy::default_state`]).
//! 3. Copies of one event that disagree are merged with [`ConsentState::merge`].
//! 4. [`permissions`] turns the state plus the visitor's [`PolicyContext`] (opt-in region, US
//!    sale/sharing opt-out via [`gpc`]) into what Meta, Google Ads and GA4 may receive.
//!
//! Nothing here reads a request or a clock; the worker and pixel pass values in.

pub mod cookie;
pub mod gpc;
pub mod policy;
pub mod region;
pub mod signals;
pub mod tcf_map;

#[cfg(feature = "server")]
pub mod cmp;
#[cfg(feature = "server")]
pub mod tcf;

pub use cookie::{CONSENT_COOKIE_NAME, ConsentCookie, format_consent_cookie, parse_consent_cookie};
pub use gpc::{Ldu, gpc_header_opts_out, opted_out_of_sale};
pub use policy::{
    Ga4Permission, Ga4Send, GoogleAdsPermission, MetaPermission, MetaSend, Permissions,
    PolicyContext, SkipReason, permissions,
};
pub use region::{RegionConfigError, RegionPolicy};
pub use signals::{ConsentState, PartialConsent, Signal, resolve};
pub use tcf_map::tcf_purposes_to_consent;
