//! The demo shop's page template: the merchant's pixel snippet, fake Meta `fbq` and Google `gtag`
//! functions that record their calls (in `window.__arTagCalls` and at the sandbox's
//! `/_sandbox/browser-tags`), and the ONE helper that calls the pixel.
//!
//! Every page reports its event with `arShop.track(eventName, businessKey, data)`. That helper
//! holds the shop's only `ar('track', …)` call, so when the pixel API grows to
//! `ar('track', name, {order_id, value, currency, items, user})` only [`PIXEL_HELPER`] changes.
//! The resolved event ID is shown in `#ar-event-id` (`data-state="sent"` or `"error"`).

use serde_json::Value;

use crate::html::{escape, script_json};

/// The merchant's embed snippet, verbatim.
pub const PIXEL_SNIPPET: &str = r#"<script>window.ar=window.ar||function(){var a=arguments;return new Promise(function(s,j){(ar.q=ar.q||[]).push([a,s,j])})};</script><script type="module" src="/_ar/pixel.js"></script>"#;

/// Fake `fbq` / `gtag` plus the tracking helper (`__AR_SANDBOX__` and `__AR_SEND_TO__` are
/// replaced with JSON strings).
pub const PIXEL_HELPER: &str = r#"<script>
window.__arTagCalls = [];
function __arTag(tag, args) {
  window.__arTagCalls.push({ tag: tag, args: args });
  try {
    fetch(__AR_SANDBOX__ + "/_sandbox/browser-tags", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ tag: tag, args: args, page: location.href }), keepalive: true }).catch(function () {});
  } catch (e) {}
}
window.fbq = function () { __arTag("fbq", Array.prototype.slice.call(arguments)); };
window.gtag = function () { __arTag("gtag", Array.prototype.slice.call(arguments)); };
var AR_TAG_NAMES = {
  "transaction.purchase": ["Purchase", "purchase"], "payment_info.added": ["AddPaymentInfo", "add_payment_info"],
  "checkout.started": ["InitiateCheckout", "begin_checkout"], "cart.added": ["AddToCart", "add_to_cart"],
  "product.viewed": ["ViewContent", "view_item"], "user.signed_up": ["CompleteRegistration", "sign_up"],
  "lead.submitted": ["Lead", "generate_lead"]
};
var AR_KEY_FIELDS = {
  "transaction.purchase": "order_id", "payment_info.added": "checkout_id", "checkout.started": "checkout_id",
  "user.signed_up": "user_id", "lead.submitted": "lead_id"
};
window.arShop = { track: function (name, key, data) {
  data = data || {};
  var out = document.getElementById("ar-event-id");
  // The shop's only pixel call: the event shape the worker validates (DESIGN §3).
  var props = {};
  if (data.value != null) { props.value = data.value; props.currency = data.currency; }
  if (data.items) {
    props.items = data.items.map(function (i) {
      var o = { id: i.id };
      if (i.name != null) o.name = i.name;
      if (i.price != null) o.price = i.price;
      if (i.quantity != null) o.quantity = i.quantity;
      return o;
    });
  }
  if (key != null) {
    if (name === "cart.added") {
      var parts = String(key).split(":");
      props.cart_id = parts[0];
      if (!props.items) props.items = [{ id: parts.slice(1).join(":") }];
    } else if (AR_KEY_FIELDS[name]) {
      props[AR_KEY_FIELDS[name]] = key;
    }
  }
  var tracked = ar("track", name, props);
  return tracked.then(function (id) {
    if (out) { out.textContent = id; out.setAttribute("data-state", "sent"); }
    var names = AR_TAG_NAMES[name] || [name, name];
    var fb = {}, ga = {};
    if (data.value != null) { fb.value = data.value; fb.currency = data.currency; ga.value = data.value; ga.currency = data.currency; }
    if (data.items) {
      fb.content_ids = data.items.map(function (i) { return i.id; }); fb.content_type = "product";
      ga.items = data.items.map(function (i) { return { item_id: i.id, item_name: i.name, price: i.price, quantity: i.quantity }; });
    }
    fbq("track", names[0], fb, { eventID: id });
    if (name === "transaction.purchase") {
      ga.transaction_id = key;
      gtag("event", "conversion", { send_to: __AR_SEND_TO__, transaction_id: key, value: data.value, currency: data.currency });
    }
    gtag("event", names[1], ga);
    return id;
  }, function (err) {
    if (out) { out.textContent = String(err); out.setAttribute("data-state", "error"); }
  });
} };
</script>"#;

/// What a page reports.
#[derive(Debug, Clone)]
pub struct Track {
    /// Aegis event name.
    pub event: &'static str,
    /// Business key (`None`: the pixel picks a random ID).
    pub key: Option<String>,
    /// `{value, currency, items}` for the tags.
    pub data: Value,
}

/// A full page.
pub fn page(
    title: &str,
    body: &str,
    track: Option<&Track>,
    platform_url: &str,
    send_to: &str,
) -> String {
    let helper = PIXEL_HELPER
        .replace(
            "__AR_SANDBOX__",
            &script_json(&Value::String(platform_url.to_owned())),
        )
        .replace(
            "__AR_SEND_TO__",
            &script_json(&Value::String(send_to.to_owned())),
        );
    let call = track.map_or_else(String::new, |t| {
        let key = t.key.as_ref().map_or_else(|| "null".to_owned(), |k| script_json(&Value::String(k.clone())));
        format!(
            "<script>window.addEventListener(\"DOMContentLoaded\", function () {{ arShop.track({}, {key}, {}); }});</script>",
            script_json(&Value::String(t.event.to_owned())),
            script_json(&t.data)
        )
    });
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} · Demo shop</title>{PIXEL_SNIPPET}{helper}{call}\
         <style>body{{font:15px system-ui,sans-serif;margin:2em;max-width:46em}}nav a{{margin-right:1em}}label{{display:block;margin:.3em 0}}</style></head>\
         <body><nav><a href=\"/\">Products</a><a href=\"/cart\">Cart</a><a href=\"/signup\">Sign up</a><a href=\"/lead\">Contact us</a></nav>\
         <h1>{title}</h1>{body}<p><small>event ID: <code id=\"ar-event-id\">{pending}</code></small></p></body></html>",
        title = escape(title),
        pending = if track.is_some() { "pending" } else { "none" },
    )
}
