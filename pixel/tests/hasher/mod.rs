//! The hashing module in the browser tests: the loader hands the pixel `ar-pixel-hash`'s `hash`
//! as the `hash` hook once it has fetched the module; here the crate is linked into the test and
//! `window.arHash` calls it (the tests' hooks pass `hash` on to it).

use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::Closure;

/// Defines `window.arHash(user, country)` as `ar_pixel_hash::hash`.
pub fn install() {
    let hash =
        Closure::<dyn Fn(JsValue, String) -> JsValue>::new(|user: JsValue, country: String| {
            ar_pixel_hash::hash(&user, &country)
        });
    js_sys::Reflect::set(&js_sys::global(), &"arHash".into(), hash.as_ref())
        .expect("window is writable");
    hash.forget();
}
