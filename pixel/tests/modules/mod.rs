//! The pixel's other modules in the browser tests: the loader fetches `ar-pixel-hash` and
//! `ar-pixel-capture` when a page needs them and wires them to the `hash` and `capture` hooks;
//! here the crates are linked into the test, `window.arHash(user, country)` calls the hashing
//! module and `window.arCapture(args)` runs the capture module and writes what it answers (the
//! tests' hooks pass on to them).

use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::Closure;

fn define(name: &str, f: &JsValue) {
    Reflect::set(&js_sys::global(), &name.into(), f).expect("window is writable");
}

/// Defines `window.arHash` and `window.arCapture`.
pub fn install() {
    let hash =
        Closure::<dyn Fn(JsValue, String) -> JsValue>::new(|user: JsValue, country: String| {
            ar_pixel_hash::hash(&user, &country)
        });
    define("arHash", hash.as_ref());
    hash.forget();
    let capture = Closure::<dyn Fn(Array)>::new(|a: Array| {
        let text = |i| a.get(i).as_string();
        let random = js_sys::Uint8Array::from(a.get(4)).to_vec();
        let cookies = ar_pixel_capture::capture(
            &text(0).unwrap_or_default(),
            text(1),
            &text(2).unwrap_or_default(),
            a.get(3).as_f64().unwrap_or_default(),
            &random,
            text(5),
            &text(6).unwrap_or_default(),
            a.get(7).is_truthy(),
        );
        let document = Reflect::get(&js_sys::global(), &"document".into()).unwrap();
        for c in cookies {
            Reflect::set(&document, &"cookie".into(), &c.into()).unwrap();
        }
    });
    define("arCapture", capture.as_ref());
    capture.forget();
}
