//! Pages the end-to-end tests use to watch the proxy from the origin's side: what request
//! reached the shop (`/_shop/echo…`: method, path, query and headers as JSON), a page a shared
//! cache may store (`/_shop/cached`: `Cache-Control: public`), which must get no cookie of the
//! worker's, a page installed wrongly (`/_shop/module-only`: the pixel's module script
//! without the snippet's inline part), and a page under a Content-Security-Policy the test
//! states (`/_shop/csp?policy=…`).

use axum::Json;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Map, Value, json};

/// `GET|POST /_shop/echo[/…]`: the request as the origin received it.
pub async fn echo(method: Method, uri: Uri, headers: HeaderMap) -> Json<Value> {
    let mut seen = Map::new();
    for (name, value) in &headers {
        seen.insert(
            name.as_str().to_owned(),
            json!(value.to_str().unwrap_or_default()),
        );
    }
    Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "headers": seen,
    }))
}

/// `GET /_shop/cached`: an HTML page marked cacheable by shared caches.
pub async fn cached() -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=600")],
        Html("<!doctype html><title>Cached</title><p id=\"cached\">Same for everyone</p>"),
    )
        .into_response()
}

/// `GET /_shop/module-only`: the pixel's module script alone, without the inline snippet that
/// must come first in `<head>` (README "Adding the pixel"), and no tags of the page's own.
pub async fn module_only() -> Html<&'static str> {
    Html(
        "<!doctype html><html><head><title>Module only</title>\
         <script type=\"module\" src=\"/_ar/pixel.js\"></script></head>\
         <body><p id=\"module-only\">Module only</p></body></html>",
    )
}

/// The query of `/_shop/csp`.
#[derive(Debug, serde::Deserialize)]
pub struct PolicyQuery {
    /// The `Content-Security-Policy` header's value.
    pub policy: Option<String>,
    /// A nonce the snippet's inline script carries (`nonce="…"`), for a policy that allows the
    /// page's inline scripts by nonce instead of by hash.
    pub nonce: Option<String>,
}

/// `GET /_shop/csp?policy=…[&nonce=…]`: the snippet, then the page's own script (`/_shop/csp.js`, which
/// records what the page saw), under the `Content-Security-Policy` given, which the test builds
/// from the product's (`ar_shared::browser::snippet::content_security_policy`).
pub async fn csp(Query(q): Query<PolicyQuery>) -> Response {
    let Some(policy) = q.policy.and_then(|p| HeaderValue::from_str(&p).ok()) else {
        return (
            StatusCode::BAD_REQUEST,
            "policy: a header value is required",
        )
            .into_response();
    };
    let snippet = match q.nonce.as_deref() {
        Some(n) if n.bytes().all(|b| b.is_ascii_alphanumeric()) => super::templates::PIXEL_SNIPPET
            .replacen("<script>", &format!("<script nonce=\"{n}\">"), 1),
        Some(_) => {
            return (StatusCode::BAD_REQUEST, "nonce: letters and digits only").into_response();
        }
        None => super::templates::PIXEL_SNIPPET.to_owned(),
    };
    let html = format!(
        "<!doctype html><html><head><title>Under a policy</title>{snippet}\
         <script src=\"/_shop/csp.js\"></script></head>\
         <body><p id=\"csp\">Under a policy</p></body></html>"
    );
    let mut res = Html(html).into_response();
    res.headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    res
}

/// `GET /_shop/csp.js`: the page's own script under the policy. It runs before the pixel's
/// module (a classic script, the module is deferred): it records the policy's refusals, errors
/// and unhandled rejections, whether the snippet ran, and the outcome of one `ar('track')` call
/// made before the pixel loaded (`window.arPage`).
pub async fn csp_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript")],
        "window.arPage = { refused: [], errors: [], result: null, snippet: typeof window.ar === 'function', consent: JSON.stringify(Array.from((window.dataLayer || [])[0] || [])) };\n\
         addEventListener('securitypolicyviolation', (e) => arPage.refused.push(e.effectiveDirective + ' ' + e.blockedURI));\n\
         addEventListener('error', (e) => arPage.errors.push(String(e.message)));\n\
         addEventListener('unhandledrejection', (e) => arPage.errors.push('unhandled: ' + String(e.reason && e.reason.message || e.reason)));\n\
         const arWarn = console.warn;\n\
         console.warn = function () { arPage.warned = Array.prototype.join.call(arguments, ' '); return arWarn.apply(console, arguments); };\n\
         ar('track', 'cart.added', { cart_id: 'csp-cart', items: [{ id: 'sku-1' }] })\n\
           .then((id) => (arPage.result = 'ok:' + id), (e) => (arPage.result = 'err:' + (e && e.message)));\n",
    )
        .into_response()
}
