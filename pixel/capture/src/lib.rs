//! `ar-pixel-capture`: the pixel's capture part, a third wasm module (`pixel-capture.js` +
//! `pixel-capture.wasm`) that the loader fetches only where the edge's cookie rules may write a
//! click-ID cookie the page lacks (`ar_shared::browser::capture::may_write`, asked by the main
//! module on every page): a landing with a click ID, the first page of a visit the edge did not
//! see, a visit with a Google click. Behind the worker the edge has set them already, so most
//! pages never fetch it (docs/decisions.md "Gaps", the size budget).
//!
//! It holds no rule of its own and touches no page object: [`capture`] takes the page's URL,
//! referrer and cookies as text and answers the `document.cookie` assignments to make, by
//! `ar_shared::browser::capture::cookies_to_write`.

use ar_shared::browser::capture::cookies_to_write;
use ar_shared::cookies::{CookieJar, CookieScope};
use wasm_bindgen::prelude::*;

// The shipped module's allocator, the main module's (`ar-pixel-alloc`).
#[cfg(all(target_arch = "wasm32", feature = "allocator"))]
use ar_pixel_alloc as _;

/// The identifier cookies to write on the page at `url` (its `referrer`, its `document.cookie`
/// text `cookies`), at `now_ms`, with 8 bytes of browser randomness for a new `_fbp`, in the
/// cookie scope the main module found (`domain`, or host-only on `host`), as
/// `document.cookie` assignments. Nothing without `ad_storage` (DESIGN §4 table).
#[wasm_bindgen]
#[must_use]
#[allow(clippy::needless_pass_by_value)] // wasm-bindgen passes owned strings from JS
#[allow(clippy::too_many_arguments)] // one plain value per page fact, no JS objects to read
pub fn capture(
    url: &str,
    referrer: Option<String>,
    cookies: &str,
    now_ms: f64,
    random: &[u8],
    domain: Option<String>,
    host: &str,
    ad_storage_granted: bool,
) -> Vec<String> {
    let mut fbp_random = [0u8; 8];
    for (to, from) in fbp_random.iter_mut().zip(random) {
        *to = *from;
    }
    let scope = domain
        .and_then(|d| CookieScope::domain(&d).ok())
        .unwrap_or_else(|| CookieScope::host_only(host));
    // Milliseconds since 1970 fit u64; Date.now() is never negative.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let now_ms = now_ms as u64;
    cookies_to_write(
        &CookieJar::parse(cookies),
        url,
        referrer.as_deref().filter(|r| !r.is_empty()),
        now_ms,
        fbp_random,
        &scope,
        ad_storage_granted,
    )
    .iter()
    .map(ar_shared::cookies::SetCookie::to_header_value)
    .collect()
}
