//! GA4 e-commerce pushes on `window.dataLayer` (the loader hands each past and future push here):
//! translated by `ar_shared::browser::datalayer` into the event shape and reported like
//! `ar('track')`, the tags fired too in `fire` mode.

use ar_shared::browser::config::{DataLayerMode, KEY_FIELDS};
use ar_shared::browser::datalayer::{ITEM_FIELDS, event_for, key_path, reported};
use ar_shared::event_rules::{ITEM_KINDS, item_field};
use wasm_bindgen::JsValue;

use crate::js::{elements, get, object, set};
use crate::{PixelError, State, props, track};

/// The value at a dot path (`ecommerce.checkout_id`).
fn at(obj: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(obj.clone(), |v, key| get(&v, key))
}

/// Reports one push; `undefined` for a push that is not a captured event or lacks its key.
pub(crate) fn push(state: &State, entry: &JsValue) -> Result<JsValue, PixelError> {
    let Some(name) = get(entry, "event").as_string() else {
        return Ok(JsValue::UNDEFINED);
    };
    let Some(event) = event_for(&state.config, &name) else {
        return Ok(JsValue::UNDEFINED);
    };
    let ecommerce = get(entry, "ecommerce");
    let p = object();
    for field in ["value", "currency"] {
        let v = get(&ecommerce, field);
        if !v.is_undefined() {
            set(&p, field, &v)?;
        }
    }
    let items = js_sys::Array::new();
    for (i, item) in elements(&get(&ecommerce, "items")).iter().enumerate() {
        let o = object();
        for (from, to) in ITEM_FIELDS {
            let v = get(item, from);
            if !v.is_undefined() {
                set(&o, to, &v)?;
            }
        }
        // A field the pixel cannot read as its kind (`price: 'abc'`, `item_name: {}`) is left
        // out with a warning: the push comes from the page's own GTM setup, and refusing it whole
        // (as `ar('track')` is refused, event_rules::ITEM_KINDS) would lose the event.
        // (An unreadable `id` is the item's, left out below.)
        for (field, kind) in ITEM_KINDS {
            if field != "id" && !props::item_field_readable(&o, field, kind) {
                set(&o, field, &JsValue::UNDEFINED)?;
                crate::js::warn(
                    &[
                        "ar: dataLayer ",
                        &name,
                        ": ",
                        &item_field(i, field),
                        " left out: ",
                        kind.problem(),
                    ]
                    .concat(),
                );
            }
        }
        // An item without its id cannot be reported (event_rules::ITEM_WITHOUT_ID); the push's
        // other items and its event still are.
        if crate::js::get_str(&o, "id").is_some() {
            items.push(&o);
        }
    }
    if items.length() > 0 {
        set(&p, "items", &items)?;
    }
    for field in KEY_FIELDS {
        if let Some(path) = key_path(&state.config, field) {
            let v = at(entry, path);
            if !v.is_undefined() && !v.is_null() {
                set(&p, field, &v)?;
            }
        }
    }
    let page = props::page_event(&p, event.key);
    // The keyless rule: no random-ID copy beside the shop's keyed one.
    if !reported(event, &page.keys) {
        crate::js::warn(
            &[
                "ar: dataLayer ",
                &name,
                " has no ",
                event.key.field_name(),
                ": not reported (it would count twice)",
            ]
            .concat(),
        );
        return Ok(JsValue::UNDEFINED);
    }
    let fire = state.config.datalayer == DataLayerMode::Fire;
    track::report(state, event.name.as_str(), &p, fire)
}
