//! `ar-pixel-hash`: the pixel's hashing part, a second wasm module (`pixel-hash.js` +
//! `pixel-hash.wasm`) that the loader fetches only when a page passes customer data
//! (`ar('identify')`, `user{}` in `ar('track')`, a lead form on the page). Normalizing and hashing
//! are about a quarter of the pixel's code (the phone, date, country and US-state rules and their
//! tables), and most pages never need them (docs/decisions.md "Gaps", the size budget).
//!
//! Like the main module it holds no rule of its own: [`hash`] reads the page's `user{}` object
//! and hands it to `ar_shared::pii::hash_user_data_with` (the worker's rules, with the browser's
//! Unicode tables: [`BrowserUnicode`]), then writes the digests in the three forms the pixel
//! passes on (`ar_shared::browser::user`). Whether the tags may get them is the main module's
//! decision (consent), not this one's.

mod unicode;

pub use unicode::BrowserUnicode;

use ar_shared::browser::user::{gtag_user_data, meta_matching};
use ar_shared::pii::{HashedUserData, PiiField, PiiValue, RawUserData, hash_user_data_with};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

// The shipped module's allocator, the main module's (`ar-pixel-alloc`).
#[cfg(all(target_arch = "wasm32", feature = "allocator"))]
use ar_pixel_alloc as _;

/// `obj[key]` as a string; numbers are written as JavaScript writes them, since pages pass
/// phone numbers and postal codes as either.
fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    let v = Reflect::get(obj, &JsValue::from_str(key)).ok()?;
    v.as_string().or_else(|| {
        v.as_f64()
            .filter(|n| n.is_finite())
            .and_then(|_| js_sys::JSON::stringify(&v).ok()?.as_string())
    })
}

/// An object of string entries.
fn object<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Object {
    let o = Object::new();
    for (k, v) in entries {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// The page's `user{}` object, as the shared rules take it.
fn raw(user: &JsValue) -> RawUserData {
    if !user.is_object() {
        return RawUserData::default();
    }
    PiiField::ALL
        .into_iter()
        .fold(RawUserData::default(), |raw, field| {
            match get_str(user, field.as_str()) {
                Some(v) => raw.with(field, v),
                None => raw,
            }
        })
}

/// The per-platform form the worker takes: `{email: {meta, google}, …}`.
fn wire(hashed: &HashedUserData) -> Object {
    let input = hashed.to_input();
    let out = Object::new();
    for field in PiiField::ALL {
        if let Some(PiiValue::PerPlatform(v)) = input.get(field) {
            let pair = [("meta", &v.meta), ("google", &v.google)];
            let o = object(pair.iter().filter_map(|(k, v)| Some((*k, v.as_deref()?))));
            set(&out, field.as_str(), &o);
        }
    }
    out
}

/// Normalizes and hashes the page's `user{}` (`default_country` for phone numbers without a
/// country code) and answers `{wire, meta, google}`: the per-platform form for `/_ar/collect`,
/// Meta's advanced-matching object (`fbq('init', id, meta)`), and gtag's `user_data`
/// (`google`). Fields that cannot be normalized are left out, as the
/// worker leaves them out; nothing plain except Google's address parts is in the answer.
#[wasm_bindgen]
#[must_use]
pub fn hash(user: &JsValue, default_country: &str) -> JsValue {
    let (hashed, _problems) =
        hash_user_data_with(&raw(user), default_country, &BrowserUnicode::new());
    let answer = Object::new();
    set(&answer, "wire", &wire(&hashed));
    set(&answer, "meta", &object(meta_matching(&hashed.meta)));
    let (top, address) = gtag_user_data(&hashed.google);
    let google = object(top);
    if !address.is_empty() {
        set(&google, "address", &object(address));
    }
    set(&answer, "google", &google);
    answer.into()
}
