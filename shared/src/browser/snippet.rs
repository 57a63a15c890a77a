//! The snippet a merchant puts first in every page's `<head>`: synchronous inline code that runs
//! before any tag, then the deferred pixel module.
//!
//! The inline part must run before the page's own tags, so it cannot wait for the wasm: it is the
//! one piece of the product written in JavaScript, and it implements exactly
//! [`super::consent::snippet_default`] and [`super::consent::meta_may_run`] (a browser test runs
//! it against them for every form of the cookie). In order, it:
//! 1. reads `_ar_consent` (`consent::cookie`'s format, version 1) and issues
//!    `gtag('consent', 'default', {…, wait_for_update: 500})` at the front of `dataLayer`, so it
//!    precedes every gtag command even when the page's Google snippet came first (google.md §5,
//!    §11.3); with a sale/sharing opt-out (`_ar_oo=1`, or Global Privacy Control) also
//!    `gtag('set', 'restricted_data_processing', true)`;
//! 2. defines gtag and Meta's `fbq` stub if the page has none yet (meta-capi.md §11.2), and puts
//!    `fbq('consent', 'revoke')` (unless Meta may run) and, with an opt-out,
//!    `fbq('dataProcessingOptions', ['LDU'], 0, 0)` at the front of fbq's queue, before any
//!    `fbq('init')` (meta-capi.md §11.3);
//! 3. defines `window.ar`, which queues calls until the pixel loads (each resolves to its result).

/// The inline script's code.
macro_rules! inline_js {
    () => {
        "(function(w,d){var m=d.cookie.match(/(?:^|;\\s*)_ar_consent=1\\.([gdGD-]{4})(?:;|$)/),\
c=m?m[1].toLowerCase():\"----\",n=[\"ad_storage\",\"analytics_storage\",\"ad_user_data\",\
\"ad_personalization\"],s={},i,A=function(){return arguments},l=w.dataLayer=w.dataLayer||[],\
o=/(?:^|;\\s*)_ar_oo=1(?:;|$)/.test(d.cookie)||navigator.globalPrivacyControl===true,\
g=[A(\"consent\",\"default\",s)],q=[],f=w.fbq;\
for(i=0;i<4;i++)s[n[i]]=c.charAt(i)==\"g\"?\"granted\":\"denied\";s.wait_for_update=500;\
if(o)g.push(A(\"set\",\"restricted_data_processing\",true));\
if(w.google_tag_manager)for(i=0;i<g.length;i++)l.push(g[i]);else l.unshift.apply(l,g);\
if(!w.gtag){w.gtag=function(){l.push(arguments)};w.gtag._ar=1}\
if(!f){f=w.fbq=function(){f.callMethod?f.callMethod.apply(f,arguments):f.queue.push(arguments)};\
if(!w._fbq)w._fbq=f;f.push=f;f.loaded=!0;f.version=\"2.0\";f.queue=[];f._ar=1}\
if(!(s.ad_storage==\"granted\"&&s.ad_user_data==\"granted\"))q.push(A(\"consent\",\"revoke\"));\
if(o)q.push(A(\"dataProcessingOptions\",[\"LDU\"],0,0));\
if(f.callMethod)for(i=0;i<q.length;i++)f.apply(w,q[i]);else f.queue.unshift.apply(f.queue,q);\
w.ar=w.ar||function(){var a=arguments;return new Promise(function(r,j){(w.ar.q=w.ar.q||[]).push([a,r,j])})}\
})(window,document);"
    };
}

/// The inline script's code, without its `<script>` element.
pub const SNIPPET_INLINE: &str = inline_js!();

/// The whole snippet, for a pixel served from the shop's own host (the worker in front of it).
pub const SNIPPET: &str = concat!(
    "<script>",
    inline_js!(),
    "</script><script type=\"module\" src=\"/_ar/pixel.js\"></script>"
);

/// The snippet for a pixel served from another host (a collect host on the shop's subdomain,
/// `https://t.shop.example/_ar/pixel.js`).
pub fn snippet(pixel_src: &str) -> String {
    format!(
        "<script>{SNIPPET_INLINE}</script><script type=\"module\" src=\"{pixel_src}\"></script>"
    )
}

/// The inline script's hash as a Content-Security-Policy source (`'sha256-…'`): a shop whose
/// policy allows inline scripts only by hash or nonce lists it in `script-src` (README
/// "Content-Security-Policy").
#[cfg(feature = "server")]
#[must_use]
pub fn csp_hash() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(SNIPPET_INLINE.as_bytes());
    [
        "'sha256-",
        &base64::engine::general_purpose::STANDARD.encode(digest),
        "'",
    ]
    .concat()
}

/// What a shop's Content-Security-Policy must allow for the pixel served from its own host
/// (`'self'`; a collect host on a subdomain is named beside it): the inline script by its hash,
/// the module and the modules it fetches, WebAssembly compilation (`'wasm-unsafe-eval'`: without
/// it the browser refuses to compile the pixel), and the requests to `/_ar/*`. The tags the pixel
/// drives need their own hosts on top (README "Content-Security-Policy").
#[cfg(feature = "server")]
#[must_use]
pub fn content_security_policy() -> String {
    [
        "script-src 'self' ",
        &csp_hash(),
        " 'wasm-unsafe-eval'; connect-src 'self'",
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "server")]
    #[test]
    fn the_readme_gives_the_policy_the_snippet_needs() {
        let readme = include_str!("../../../README.md");
        let policy = content_security_policy();
        assert!(
            readme.contains(&policy),
            "README \"Content-Security-Policy\" must show: {policy}"
        );
    }

    #[test]
    fn the_snippet_is_one_line_of_inline_code_and_the_module() {
        assert!(!SNIPPET.contains('\n'));
        assert!(SNIPPET.starts_with("<script>(function(w,d){"));
        assert!(SNIPPET.ends_with("<script type=\"module\" src=\"/_ar/pixel.js\"></script>"));
        assert_eq!(snippet("/_ar/pixel.js"), SNIPPET);
        // The names it reads are the ones the rest of the product writes.
        assert!(SNIPPET_INLINE.contains(crate::consent::CONSENT_COOKIE_NAME));
        assert!(SNIPPET_INLINE.contains(super::super::consent::SALE_OPT_OUT_COOKIE));
    }
}
