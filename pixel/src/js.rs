//! Small helpers over `js_sys` for reading page objects and building the ones the tags and the
//! worker take. Reads never throw: a missing or mistyped property is `None`.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::PixelError;

/// `obj[key]`, or `undefined`.
pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() || obj.is_function() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `obj[key]` as a string; numbers are written as JavaScript writes them (`1001`), since pages
/// pass order ids as either.
pub(crate) fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    let v = get(obj, key);
    v.as_string().or_else(|| {
        v.as_f64()
            .filter(|n| n.is_finite())
            .and_then(|_| js_sys::JSON::stringify(&v).ok()?.as_string())
    })
}

/// `obj[key]` as a number (a numeric string counts: dataLayer values often are strings). Parsed
/// by the browser: Rust's float parser would add its tables to the pixel.
pub(crate) fn get_f64(obj: &JsValue, key: &str) -> Option<f64> {
    let v = get(obj, key);
    v.as_f64()
        .or_else(|| v.as_string().map(|s| js_sys::parse_float(&s)))
        .filter(|n: &f64| n.is_finite())
}

/// `obj[key] = value`.
pub(crate) fn set(obj: &JsValue, key: &str, value: &JsValue) -> Result<(), PixelError> {
    Reflect::set(obj, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|e| crate::browser(&e))
}

/// `obj[key] = "value"`.
pub(crate) fn set_str(obj: &JsValue, key: &str, value: &str) -> Result<(), PixelError> {
    set(obj, key, &JsValue::from_str(value))
}

/// A fresh `{}`.
pub(crate) fn object() -> JsValue {
    Object::new().into()
}

/// The elements of an array-like value (empty for anything else).
pub(crate) fn elements(v: &JsValue) -> Vec<JsValue> {
    if Array::is_array(v) {
        Array::from(v).iter().collect()
    } else {
        Vec::new()
    }
}

/// `window[name]` as a function, if it is one.
pub(crate) fn global_fn(name: &str) -> Option<Function> {
    get(&js_sys::global(), name).dyn_into::<Function>().ok()
}

/// Calls `window[name](...args)`; `false` when there is no such function or it threw (a page's
/// tag must never break ours).
pub(crate) fn call_global(name: &str, args: &[JsValue]) -> bool {
    let Some(f) = global_fn(name) else {
        return false;
    };
    let list: Array = args.iter().collect();
    f.apply(&JsValue::NULL, &list).is_ok()
}

/// `console.warn(message)`.
pub(crate) fn warn(message: &str) {
    let console = get(&js_sys::global(), "console");
    if let Ok(warn) = get(&console, "warn").dyn_into::<Function>() {
        let _ = warn.call1(&console, &JsValue::from_str(message));
    }
}
