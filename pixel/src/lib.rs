//! `ar-pixel`: the browser half of Active Reach Conversions.
//!
//! A thin shell around `ar-shared`: it reads what only the browser has (the page, the crypto
//! random source), asks `ar-shared` for the rules (event IDs), and reports each event to the edge
//! worker at `/_ar/collect`. It holds no business rule of its own.
//!
//! The JS loader (`pixel/loader.js`, appended to the wasm-bindgen glue) exposes `window.ar(...)`,
//! a command queue in the style of `fbq`/`gtag`, and forwards each command to [`track`].

use ar_shared::event_id::BusinessKeys;
use ar_shared::mapping::{self, BusinessKey};
use ar_shared::{EventId, EventName};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Path of the worker's collect endpoint (same origin as the storefront).
const COLLECT_PATH: &str = "/_ar/collect";

/// Why the pixel could not report an event.
#[derive(Debug, thiserror::Error)]
pub enum PixelError {
    /// The event name is not valid.
    #[error("{0}")]
    EventName(#[from] ar_shared::event::EventNameError),
    /// No `window` (not running in a page).
    #[error("no window: the pixel runs only in a browser page")]
    NoWindow,
    /// The browser refused a call (crypto, fetch).
    #[error("browser error: {0}")]
    Browser(String),
    /// The worker answered with an error status.
    #[error("collect answered HTTP {0}")]
    Status(u16),
}

impl From<PixelError> for JsValue {
    fn from(e: PixelError) -> Self {
        js_sys::Error::new(&e.to_string()).into()
    }
}

fn browser(e: &JsValue) -> PixelError {
    PixelError::Browser(e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// The stable event ID for `event` identified by `business_key`, or a random one when there is no
/// business key. Exposed so a page can fire its own tags with the same ID.
///
/// # Errors
/// An invalid event name, or no browser crypto source.
#[wasm_bindgen(js_name = eventId)]
#[allow(clippy::needless_pass_by_value)] // wasm-bindgen passes owned strings from JS
pub fn event_id(event: &str, business_key: Option<String>) -> Result<String, JsValue> {
    Ok(compute_event_id(event, business_key.as_deref())?.to_string())
}

fn compute_event_id(event: &str, business_key: Option<&str>) -> Result<EventId, PixelError> {
    let name: EventName = event.parse()?;
    Ok(match business_key {
        Some(key) if !key.is_empty() => EventId::from_business_key(&name, key),
        _ => EventId::from_random(random_bytes()?),
    })
}

fn random_bytes() -> Result<[u8; 16], PixelError> {
    let crypto = web_sys::window()
        .ok_or(PixelError::NoWindow)?
        .crypto()
        .map_err(|e| browser(&e))?;
    let mut bytes = [0u8; 16];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|e| browser(&e))?;
    Ok(bytes)
}

/// Reports `event` to the worker and resolves to the event ID used, so the page's browser tags
/// can carry the same ID. `props` is either the business key as a string (an order id for a
/// purchase, …) or an object in the event shape (`order_id`, `value`, `currency`, `items`, …).
///
/// # Errors
/// An invalid event name, a network failure, or a non-2xx answer from the worker (whose JSON
/// error names the field at fault).
#[wasm_bindgen]
pub async fn track(event: String, props: JsValue) -> Result<String, JsValue> {
    let name: EventName = event.parse().map_err(PixelError::from)?;
    let key_kind = mapping::standard(&name).map_or(BusinessKey::None, |m| m.key);
    let body = js_sys::Object::new();
    if props.is_object() {
        js_sys::Object::assign(&body, props.unchecked_ref());
    } else if let (Some(key), Some(field)) = (props.as_string(), single_key_field(key_kind)) {
        set(&body, field, &JsValue::from_str(&key))?;
    }
    let id = if let Some(id) = get_string(&body, "event_id") {
        id
    } else {
        match business_keys(&body).key_for(key_kind) {
            Some(key) => EventId::from_business_key(&name, &key),
            None => EventId::from_random(random_bytes()?),
        }
        .to_string()
    };
    set(&body, "event", &JsValue::from_str(name.as_str()))?;
    set(&body, "event_id", &JsValue::from_str(&id))?;
    set(
        &body,
        "occurred_at",
        &JsValue::from_f64(js_sys::Date::now().floor()),
    )?;
    if js_sys::Reflect::get(&body, &"page".into()).is_ok_and(|p| p.is_undefined()) {
        set(&body, "page", &page_info()?)?;
    }
    // JSON.stringify in the browser: the pixel does not link serde_json (~15 KB gzipped).
    let json = js_sys::JSON::stringify(&body)
        .map_err(|e| browser(&e))?
        .as_string()
        .unwrap_or_default();
    post_collect(&json).await?;
    Ok(id)
}

/// The field a bare-string business key fills (cart lines need an object with `items`).
fn single_key_field(kind: BusinessKey) -> Option<&'static str> {
    match kind {
        BusinessKey::OrderId => Some("order_id"),
        BusinessKey::CheckoutId => Some("checkout_id"),
        BusinessKey::UserId => Some("user_id"),
        BusinessKey::LeadId => Some("lead_id"),
        BusinessKey::CartLine | BusinessKey::None => None,
    }
}

fn business_keys(body: &js_sys::Object) -> BusinessKeys {
    let first_item = js_sys::Reflect::get(body, &"items".into())
        .ok()
        .and_then(|items| js_sys::Reflect::get(&items, &0u32.into()).ok())
        .and_then(|item| js_sys::Reflect::get(&item, &"id".into()).ok())
        .and_then(|id| id.as_string());
    BusinessKeys {
        order_id: get_string(body, "order_id"),
        checkout_id: get_string(body, "checkout_id"),
        cart_id: get_string(body, "cart_id"),
        lead_id: get_string(body, "lead_id"),
        user_id: get_string(body, "user_id"),
        line_item_id: first_item,
    }
}

fn get_string(obj: &js_sys::Object, key: &str) -> Option<String> {
    js_sys::Reflect::get(obj, &key.into())
        .ok()
        .and_then(|v| v.as_string())
}

fn set(obj: &js_sys::Object, key: &str, value: &JsValue) -> Result<(), PixelError> {
    js_sys::Reflect::set(obj, &key.into(), value)
        .map(|_| ())
        .map_err(|e| browser(&e))
}

fn page_info() -> Result<JsValue, PixelError> {
    let window = web_sys::window().ok_or(PixelError::NoWindow)?;
    let page = js_sys::Object::new();
    if let Ok(href) = window.location().href() {
        set(&page, "url", &JsValue::from_str(&href))?;
    }
    if let Some(referrer) = window
        .document()
        .map(|d| d.referrer())
        .filter(|r| !r.is_empty())
    {
        set(&page, "referrer", &JsValue::from_str(&referrer))?;
    }
    Ok(page.into())
}

async fn post_collect(body: &str) -> Result<(), PixelError> {
    let window = web_sys::window().ok_or(PixelError::NoWindow)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    init.set_mode(web_sys::RequestMode::SameOrigin);
    let request =
        web_sys::Request::new_with_str_and_init(COLLECT_PATH, &init).map_err(|e| browser(&e))?;
    request
        .headers()
        .set("content-type", "application/json")
        .map_err(|e| browser(&e))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| browser(&e))?
        .dyn_into()
        .map_err(|e| browser(&e))?;
    if response.ok() {
        Ok(())
    } else {
        Err(PixelError::Status(response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_string_key_fills_the_events_own_key_field() {
        assert_eq!(single_key_field(BusinessKey::OrderId), Some("order_id"));
        assert_eq!(single_key_field(BusinessKey::LeadId), Some("lead_id"));
        assert_eq!(single_key_field(BusinessKey::CartLine), None);
    }
}
