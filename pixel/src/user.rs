//! Customer data on the page: `ar('identify', user)` and `user{}` in `ar('track')`, hashed with
//! `ar_shared::pii::hash_user_data_with` (the worker's rules, the browser's Unicode tables) before
//! anything leaves the page; the hashes go to the worker in the per-platform form and, while
//! `ad_user_data` is granted, to the tags (`ar_shared::browser::user`). An identified visitor's hashes are kept in `sessionStorage` for
//! the visit's later events; the plain values are never stored.

use ar_shared::browser::user::{gtag_user_data, meta_matching, tags_may_get_user_data};
use ar_shared::pii::{HashedUserData, PiiField, PiiValue, RawUserData, hash_user_data_with};
use wasm_bindgen::JsValue;

use crate::BrowserUnicode;
use crate::js::{call_global, get, get_str, object, set, set_str};
use crate::{PixelError, State};

/// The `sessionStorage` key of the visit's hashed identity.
const IDENTITY_KEY: &str = "ar:user";

/// The page's `user{}` object, as the shared rules take it.
fn raw(user: &JsValue) -> RawUserData {
    PiiField::ALL
        .into_iter()
        .fold(RawUserData::default(), |raw, field| {
            match get_str(user, field.as_str()) {
                Some(v) => raw.with(field, v),
                None => raw,
            }
        })
}

/// The per-platform form the worker takes.
fn wire(hashed: &HashedUserData) -> Result<JsValue, PixelError> {
    let input = hashed.to_input();
    let out = object();
    for field in PiiField::ALL {
        if let Some(PiiValue::PerPlatform(v)) = input.get(field) {
            let o = object();
            if let Some(m) = &v.meta {
                set_str(&o, "meta", m)?;
            }
            if let Some(g) = &v.google {
                set_str(&o, "google", g)?;
            }
            set(&out, field.as_str(), &o)?;
        }
    }
    Ok(out)
}

/// Hashes `user` and hands the digests to the tags when consent allows; returns the worker's form.
pub(crate) fn hash(state: &State, user: &JsValue) -> Result<JsValue, PixelError> {
    let (hashed, _problems) = hash_user_data_with(
        &raw(user),
        &state.config.default_country,
        &BrowserUnicode::new(),
    );
    if tags_may_get_user_data(state.consent.get()) {
        to_tags(state, &hashed)?;
    }
    wire(&hashed)
}

fn to_tags(state: &State, hashed: &HashedUserData) -> Result<(), PixelError> {
    if let Some(meta) = &state.config.meta
        && state.tags.meta.usable
        && crate::consent::meta_allowed(state)
    {
        let matching = object();
        for (k, v) in meta_matching(&hashed.meta) {
            set_str(&matching, k, v)?;
        }
        call_global("fbq", &["init".into(), meta.id.as_str().into(), matching]);
    }
    if state.tags.google.usable {
        let (top, address) = gtag_user_data(&hashed.google);
        let data = object();
        for (k, v) in top {
            set_str(&data, k, v)?;
        }
        if !address.is_empty() {
            let a = object();
            for (k, v) in address {
                set_str(&a, k, v)?;
            }
            set(&data, "address", &a)?;
        }
        call_global("gtag", &["set".into(), "user_data".into(), data]);
    }
    Ok(())
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// `ar('identify', user)`: hashes the visitor's data and keeps the digests for the visit.
pub(crate) fn identify(state: &State, user: &JsValue) -> Result<JsValue, PixelError> {
    let hashed = hash(state, user)?;
    if let (Some(storage), Ok(json)) = (session_storage(), js_sys::JSON::stringify(&hashed))
        && let Some(json) = json.as_string()
    {
        let _ = storage.set_item(IDENTITY_KEY, &json);
    }
    Ok(JsValue::UNDEFINED)
}

/// The user an event carries: the page's `user{}` hashed, else the visit's identity.
pub(crate) fn for_event(state: &State, props: &JsValue) -> Result<Option<JsValue>, PixelError> {
    let user = get(props, "user");
    if user.is_object() {
        return hash(state, &user).map(Some);
    }
    let stored = session_storage()
        .and_then(|s| s.get_item(IDENTITY_KEY).ok().flatten())
        .and_then(|json| js_sys::JSON::parse(&json).ok());
    Ok(stored)
}
