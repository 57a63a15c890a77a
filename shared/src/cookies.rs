//! The identifier cookies: reading the Cookie header, describing `Set-Cookie`s, and the one
//! decision about which click cookies to (re)set on a response.
//!
//! The worker sets `_fbc`, `_fbp` and our own click cookie on the storefront's own responses, which
//! survives Safari ITP's 7-day cap on script-set cookies; the pixel writes the same descriptions
//! with `document.cookie` only as a fallback (DESIGN §4). Google's `_gcl_*` and `_ga*` cookies are
//! read and never written.
//!
//! What this module does not do: resolve consent (the caller passes whether `ad_storage` is
//! granted), look up the Public Suffix List (see `crate::domain`, server only), or touch a clock or
//! a random source (time and random bytes are arguments).

mod header;
mod plan;
mod scope;
mod set_cookie;

pub use header::CookieJar;
pub use plan::{ClickContext, CookiePlan, ExistingClickCookies, plan_click_cookies};
pub use scope::{CookieScope, candidate_cookie_domains};
pub use set_cookie::{COOKIE_MAX_AGE_SECS, SetCookie, SetCookieError};

/// Meta's click cookie (`reference/meta-capi.md` §3.1).
pub const FBC_COOKIE: &str = "_fbc";
/// Meta's browser ID cookie (`reference/meta-capi.md` §3.1).
pub const FBP_COOKIE: &str = "_fbp";
/// Our own first-party Google click cookie (value: [`crate::click_ids::GoogleClick`]).
pub const GOOGLE_CLICK_COOKIE: &str = "_ar_gclk";
/// Google's gclid cookie, read only (`reference/google.md` §6).
pub const GCL_AW_COOKIE: &str = "_gcl_aw";
/// Google's cookie holding the gbraid, read only (`reference/google.md` §6).
pub const GCL_AG_COOKIE: &str = "_gcl_ag";
/// Google's cookie holding the wbraid, read only (`reference/google.md` §6).
pub const GCL_GB_COOKIE: &str = "_gcl_gb";
/// GA4's client ID cookie, read only (`reference/google.md` §6).
pub const GA_COOKIE: &str = "_ga";
