//! Pages the end-to-end tests use to watch the proxy from the origin's side: what request
//! reached the shop (`/_shop/echo…`: method, path, query and headers as JSON), a page a shared
//! cache may store (`/_shop/cached`: `Cache-Control: public`), which must get no cookie of the
//! worker's, and a page installed wrongly (`/_shop/module-only`: the pixel's module script
//! without the snippet's inline part).

use axum::Json;
use axum::http::{HeaderMap, Method, Uri, header};
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
