//! Click IDs and the identifier cookies that carry them: typed values, parsers and formatters.
//!
//! - [`Fbclid`], [`Gclid`], [`Gbraid`], [`Wbraid`]: the IDs an ad click appends to the landing URL
//!   ([`LandingClickIds`] finds them in the URL and, for `fbclid`, the Referer).
//! - [`Fbc`] / [`Fbp`]: Meta's `_fbc` / `_fbp` cookie values, 4 or 5 segments, kept verbatim.
//! - [`GoogleClick`]: a Google click (gclid and at most one braid) with its time, the value of our own
//!   first-party click cookie.
//! - [`GoogleCookieClicks`], [`GaClientId`], [`GaSessionId`]: what Google's own cookies (`_gcl_aw`,
//!   `_gcl_ag`, `_gcl_gb`, `_ga`, `_ga_<id>`) say. We read those and never write them.
//!
//! What this module does not do: read the Cookie header or decide which cookies to set (see
//! [`crate::cookies`]), decide what consent allows to be forwarded (see [`crate::consent`]), or
//! choose which Google ID an upload carries (the Google platform module does).
//!
//! Every parser here is total: arbitrary input gives a value or an error, never a panic.

mod fb_cookie;
mod ga;
mod google_click;
mod google_cookies;
mod id;
mod landing;

pub use fb_cookie::{Appendix, FbCookieError, Fbc, Fbp, SubdomainIndex};
pub use ga::{GaClientId, GaCookieError, GaSessionId, ga_session_cookie_name};
pub use google_click::{Braid, GoogleClick, GoogleClickError, GoogleClickIds};
pub use google_cookies::GoogleCookieClicks;
pub use id::{ClickIdError, Fbclid, Gbraid, Gclid, MAX_CLICK_ID_LEN, Wbraid};
pub use landing::{CLICK_ID_PARAMS, LandingClickIds};
