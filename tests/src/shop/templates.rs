//! The demo shop's page template: the merchant's pixel snippet in `<head>` and one `ar('track', …)`
//! call per page, nothing else. The pixel fires Meta's and Google's browser tags itself; in the
//! sandbox their base tags are stand-ins the worker's configuration points at
//! (`/_sandbox/tags/fbevents.js`, `/_sandbox/tags/gtag.js`, `tag_standins.rs`), which record every
//! call at `/_sandbox/browser-tags`.
//!
//! The resolved event ID is shown in `#ar-event-id` (`data-state="sent"` or `"error"`, the
//! rejection's message naming the field).

use serde_json::{Map, Value, json};

use crate::html::{escape, script_json};

/// The merchant's embed snippet, verbatim (README "Adding the pixel to a shop"; a test checks it
/// against `ar_shared::browser::snippet`).
pub const PIXEL_SNIPPET: &str = r#"<script>(function(w,d){var m=d.cookie.match(/(?:^|;\s*)_ar_consent=1\.([gdGD-]{4})(?:;|$)/),c=m?m[1].toLowerCase():"----",n=["ad_storage","analytics_storage","ad_user_data","ad_personalization"],s={},i,A=function(){return arguments},l=w.dataLayer=w.dataLayer||[],o=/(?:^|;\s*)_ar_oo=1(?:;|$)/.test(d.cookie)||navigator.globalPrivacyControl===true,g=[A("consent","default",s)],q=[],f=w.fbq;for(i=0;i<4;i++)s[n[i]]=c.charAt(i)=="g"?"granted":"denied";s.wait_for_update=500;if(o)g.push(A("set","restricted_data_processing",true));if(w.google_tag_manager)for(i=0;i<g.length;i++)l.push(g[i]);else l.unshift.apply(l,g);if(!w.gtag){w.gtag=function(){l.push(arguments)};w.gtag._ar=1}if(!f){f=w.fbq=function(){f.callMethod?f.callMethod.apply(f,arguments):f.queue.push(arguments)};if(!w._fbq)w._fbq=f;f.push=f;f.loaded=!0;f.version="2.0";f.queue=[];f._ar=1}if(!(s.ad_storage=="granted"&&s.ad_user_data=="granted"))q.push(A("consent","revoke"));if(o)q.push(A("dataProcessingOptions",["LDU"],0,0));if(f.callMethod)for(i=0;i<q.length;i++)f.apply(w,q[i]);else f.queue.unshift.apply(f.queue,q);w.ar=w.ar||function(){var a=arguments;return new Promise(function(r,j){(w.ar.q=w.ar.q||[]).push([a,r,j])})}})(window,document);</script><script type="module" src="/_ar/pixel.js"></script>"#;

/// What a page reports.
#[derive(Debug, Clone)]
pub struct Track {
    /// Aegis event name.
    pub event: &'static str,
    /// Business key (`None`: the pixel picks a random ID); a cart line is `<cart id>:<sku>`.
    pub key: Option<String>,
    /// `{value, currency, items}`.
    pub data: Value,
}

impl Track {
    /// The `props` of the page's `ar('track', event, props)`: the event shape (DESIGN §3).
    pub fn props(&self) -> Value {
        let mut props = match &self.data {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        let field = match self.event {
            "transaction.purchase" => Some("order_id"),
            "payment_info.added" | "checkout.started" => Some("checkout_id"),
            "user.signed_up" => Some("user_id"),
            "lead.submitted" => Some("lead_id"),
            _ => None,
        };
        match (&self.key, field) {
            (Some(key), Some(field)) => {
                props.insert(field.into(), json!(key));
            }
            (Some(key), None) if self.event == "cart.added" => {
                let (cart, sku) = key.split_once(':').unwrap_or((key, ""));
                props.insert("cart_id".into(), json!(cart));
                props
                    .entry("items")
                    .or_insert_with(|| json!([{ "id": sku }]));
            }
            _ => {}
        }
        Value::Object(props)
    }
}

/// The page's one pixel call, and where it shows the outcome.
fn track_script(t: &Track) -> String {
    format!(
        "<script>ar(\"track\", {}, {}).then(function (id) {{ var o = document.getElementById(\"ar-event-id\"); o.textContent = id; o.setAttribute(\"data-state\", \"sent\"); }}, function (e) {{ var o = document.getElementById(\"ar-event-id\"); o.textContent = String(e && e.message || e); o.setAttribute(\"data-state\", \"error\"); }});</script>",
        script_json(&Value::String(t.event.to_owned())),
        script_json(&t.props())
    )
}

/// A full page; `pixel_src` is where the snippet loads the pixel from (`None`: the shop's own
/// host).
pub fn page(title: &str, body: &str, track: Option<&Track>, pixel_src: Option<&str>) -> String {
    let call = track.map_or_else(String::new, track_script);
    let snippet = pixel_src.map_or_else(
        || PIXEL_SNIPPET.to_owned(),
        |src| PIXEL_SNIPPET.replace("src=\"/_ar/pixel.js\"", &format!("src=\"{}\"", escape(src))),
    );
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} · Demo shop</title>{snippet}{call}\
         <style>body{{font:15px system-ui,sans-serif;margin:2em;max-width:46em}}nav a{{margin-right:1em}}label{{display:block;margin:.3em 0}}</style></head>\
         <body><nav><a href=\"/\">Products</a><a href=\"/cart\">Cart</a><a href=\"/signup\">Sign up</a><a href=\"/lead\">Contact us</a></nav>\
         <h1>{title}</h1>{body}<p><small>event ID: <code id=\"ar-event-id\">{pending}</code></small></p></body></html>",
        title = escape(title),
        pending = if track.is_some() { "pending" } else { "none" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_keys_become_the_events_key_field() {
        let t = Track {
            event: "cart.added",
            key: Some("cart-9:sku-1".into()),
            data: json!({ "value": 1.0, "currency": "EUR" }),
        };
        assert_eq!(
            t.props(),
            json!({ "value": 1.0, "currency": "EUR", "cart_id": "cart-9", "items": [{ "id": "sku-1" }] })
        );
        let t = Track {
            event: "transaction.purchase",
            key: Some("1001".into()),
            data: json!({}),
        };
        assert_eq!(t.props(), json!({ "order_id": "1001" }));
    }
}
