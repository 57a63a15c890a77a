//! `ar-pixel`: the browser half of Active Reach Conversions.
//!
//! A thin shell around `ar-shared`: it reads what only the browser has (the page, the crypto
//! random source), asks `ar-shared` for the rules (event IDs), and reports each event to the edge
//! worker at `/_ar/collect`. It holds no business rule of its own.
//!
//! The JS loader (`pixel/loader.js`, appended to the wasm-bindgen glue) exposes `window.ar(...)`,
//! a command queue in the style of `fbq`/`gtag`, and forwards each command to [`track`].

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

/// Reports `event` (with its business key, if any) to the worker and resolves to the event ID
/// used, so the page's browser tags can carry the same ID.
///
/// # Errors
/// An invalid event name, a network failure, or a non-2xx answer from the worker.
#[wasm_bindgen]
pub async fn track(event: String, business_key: Option<String>) -> Result<String, JsValue> {
    let id = compute_event_id(&event, business_key.as_deref())?;
    let body = collect_body(&event, &id);
    post_collect(&body).await?;
    Ok(id.to_string())
}

/// The collect body. Built by hand: both values are validated to JSON-safe character sets, and
/// the pixel does not link `serde_json` (about 15 KB gzipped of its budget).
fn collect_body(event: &str, id: &EventId) -> String {
    format!(r#"{{"event":"{event}","event_id":"{id}"}}"#)
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
    fn collect_body_is_the_shape_the_worker_parses() {
        let id = EventId::from_business_key(&EventName::Purchase, "1001");
        assert_eq!(
            collect_body("transaction.purchase", &id),
            format!(r#"{{"event":"transaction.purchase","event_id":"{id}"}}"#)
        );
    }
}
