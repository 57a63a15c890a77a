//! `ar('track', name, props)`: the event's ID from the shared rules, the browser tags fired with
//! it, and the event handed to the loader for `/_ar/collect`.

use ar_shared::EventName;
use ar_shared::browser::event::identify;
use ar_shared::browser::setup::Fired;
use ar_shared::browser::tags::{TagEvent, plan};
use ar_shared::mapping::BusinessKey;
use wasm_bindgen::{JsCast as _, JsValue};

use crate::{PixelError, State, fired_object, props, random_bytes, tags};

/// Reports `name` and resolves to the event ID used: the tags carry it as `eventID` and (with
/// the order id for purchases) as `transaction_id`, and so does the copy sent to the worker.
pub(crate) fn track(state: &State, name: &str, props: &JsValue) -> Result<JsValue, PixelError> {
    report(state, name, props, true)
}

/// Reports `name`; fires the tags only when `fire` (a dataLayer push in `capture` mode leaves the
/// tags to the page's GTM, and its fired flags say whether they ran).
pub(crate) fn report(
    state: &State,
    name: &str,
    props: &JsValue,
    fire: bool,
) -> Result<JsValue, PixelError> {
    props::check_fields(props)?;
    let kind = name
        .parse::<EventName>()
        .ok()
        .and_then(|n| state.config.event(&n))
        .map_or(BusinessKey::None, |m| m.key);
    let page = props::page_event(props, kind);
    let event = identify(&state.config, name, &page, random_bytes()?)?;
    let id = event.event_id.as_str();
    let calls = plan(&TagEvent {
        mapping: event.mapping,
        event_id: &event.event_id,
        order_id: page.keys.order_id.as_deref(),
        money: page.money(),
        items: &page.items,
    });
    let body = props::collect_body(props, event.mapping.name.as_str(), id, &page)?;
    props::check_kinds(&body)?;
    if !fire {
        finish(state, props, &body)?;
        // The page's own tags ran for the push if their libraries did (the loader asks
        // `fired` once they settled).
        let all = fired_object(Fired {
            meta: true,
            google: true,
        });
        return send(state, &body, &all).map(|()| JsValue::from_str(id));
    }
    // Meta's pixel is not called at all without its consent (browser::consent).
    let meta = state.tags.meta.usable
        && crate::consent::meta_allowed(state)
        && tags::fire_meta(&calls.meta)?;
    let google = state.tags.google.usable && {
        let ga4 = tags::fire_ga4(&calls.ga4)?;
        if let Some(c) = &calls.conversion {
            tags::fire_conversion(c)?;
        }
        ga4
    };
    finish(state, props, &body)?;
    send(state, &body, &fired_object(Fired { meta, google }))?;
    Ok(JsValue::from_str(id))
}

fn send(state: &State, body: &JsValue, called: &JsValue) -> Result<(), PixelError> {
    state
        .send
        .call2(&JsValue::NULL, body, called)
        .map(|_| ())
        .map_err(|e| crate::browser(&e))
}

/// The body's `user` (hashed) and `sale_opt_out`.
fn finish(state: &State, props: &JsValue, body: &JsValue) -> Result<(), PixelError> {
    // Raw customer data never leaves the page (DESIGN §4 "PII").
    if let Some(user) = crate::user::for_event(state, props)? {
        crate::js::set(body, "user", &user)?;
    } else {
        let target: &js_sys::Object = body.unchecked_ref();
        let _ = js_sys::Reflect::delete_property(target, &"user".into());
    }
    if crate::consent::opted_out(state) {
        crate::js::set(body, "sale_opt_out", &JsValue::TRUE)?;
    }
    // The choice made on this page where the browser refused its cookie (browser::consent).
    if let Some(consent) = crate::consent::for_collect(state, &crate::js::get(body, "consent"))? {
        crate::js::set(body, "consent", &consent)?;
    }
    Ok(())
}
