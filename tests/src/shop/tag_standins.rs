//! Stand-ins for Meta's and Google's base tags (`fbevents.js`, `gtag/js`), served by the platform
//! listener at `/_sandbox/tags/fbevents.js` and `/_sandbox/tags/gtag.js`. They behave like the real
//! libraries where the pixel can tell (meta-capi.md §11.2: `fbq.callMethod` once loaded, the queued
//! calls processed in order; google.md §11.2: `dataLayer` processed in order, `google_tag_manager`
//! defined) and record every call, in order, at `/_sandbox/browser-tags` (`seq` counts per page).
//! A path under `/_sandbox/tags/` that is not one of them answers 404, which is how a test blocks a
//! tag, as an ad blocker would.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Records one call: `record(tag, argumentsLike)`.
const RECORD: &str = r#"
  var base = new URL(document.currentScript.src).origin;
  function record(tag, args) {
    var a = Array.prototype.slice.call(args);
    window.__arTagSeq = (window.__arTagSeq || 0) + 1;
    (window.__arTagCalls = window.__arTagCalls || []).push({ tag: tag, args: a });
    try {
      fetch(base + "/_sandbox/browser-tags", { method: "POST", keepalive: true,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ tag: tag, args: a, page: location.href, seq: window.__arTagSeq }) })
        .catch(function () {});
    } catch (e) {}
  }
"#;

const FBEVENTS: &str = r#"
  var f = window.fbq;
  if (!f) {
    f = window.fbq = function () { f.callMethod ? f.callMethod.apply(f, arguments) : f.queue.push(arguments); };
    f.queue = []; f.push = f; f.loaded = true; f.version = "2.0";
  }
  var queued = f.queue || [];
  f.queue = [];
  f.callMethod = function () { record("fbq", arguments); };
  for (var i = 0; i < queued.length; i++) f.callMethod.apply(f, queued[i]);
"#;

const GTAG: &str = r#"
  var dl = window.dataLayer = window.dataLayer || [];
  function handle(entry) {
    if (Object.prototype.toString.call(entry) === "[object Arguments]") record("gtag", entry);
    else record("dataLayer", [entry]);
  }
  for (var i = 0; i < dl.length; i++) handle(dl[i]);
  var push = dl.push;
  dl.push = function () {
    for (var j = 0; j < arguments.length; j++) handle(arguments[j]);
    return push.apply(dl, arguments);
  };
  window.google_tag_manager = window.google_tag_manager || {};
"#;

/// `GET /_sandbox/tags/{name}`.
pub async fn script(Path(name): Path<String>) -> Response {
    let body = match name.as_str() {
        "fbevents.js" => FBEVENTS,
        "gtag.js" => GTAG,
        _ => return (StatusCode::NOT_FOUND, "no such stand-in tag").into_response(),
    };
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        format!("(function () {{{RECORD}{body}}})();"),
    )
        .into_response()
}
