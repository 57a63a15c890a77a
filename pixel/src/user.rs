//! Customer data on the page: `ar('identify', user)` and `user{}` in `ar('track')`, hashed before
//! anything leaves the page by the pixel's hashing module (`ar-pixel-hash`: the worker's rules,
//! `ar_shared::pii`, with the browser's Unicode tables), which the loader fetches only for pages
//! that pass customer data and hands over as the `hash` hook. The hashes go to the worker in the
//! per-platform form and, while `ad_user_data` is granted, to the tags
//! (`ar_shared::browser::user`). An identified visitor's hashes are kept in `sessionStorage` for
//! the visit's later events; the plain values are never stored.

use ar_shared::browser::user::tags_may_get_user_data;
use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::js::{call_global, get};
use crate::{PixelError, State};

/// The `sessionStorage` key of the visit's hashed identity.
const IDENTITY_KEY: &str = "ar:user";

/// Hashes `user` and hands the digests to the tags when consent allows; returns the worker's form.
///
/// # Errors
/// When the hashing module is not loaded: customer data is never sent unhashed, so the caller
/// sends the event without it (a lead form submitted before the module arrived).
pub(crate) fn hash(state: &State, user: &JsValue) -> Result<JsValue, PixelError> {
    let args = Array::of2(user, &state.config.default_country.as_str().into());
    let answer = state
        .hash
        .apply(&JsValue::NULL, &args)
        .map_err(|e| crate::browser(&e))?;
    if !answer.is_object() {
        return Err(PixelError::NoHasher);
    }
    if tags_may_get_user_data(state.consent.get()) {
        to_tags(state, &answer);
    }
    Ok(get(&answer, "wire"))
}

fn to_tags(state: &State, answer: &JsValue) {
    if let Some(meta) = &state.config.meta
        && state.tags.meta.usable
        && crate::consent::meta_allowed(state)
    {
        call_global(
            "fbq",
            &["init".into(), meta.id.as_str().into(), get(answer, "meta")],
        );
    }
    if state.tags.google.usable {
        call_global(
            "gtag",
            &["set".into(), "user_data".into(), get(answer, "google")],
        );
    }
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

/// Whether a command needs the hashing module: `identify`, or `track` with a `user{}` object.
pub(crate) fn needs_hash(name: &str, args: &Array) -> bool {
    match name {
        "identify" => true,
        "track" => get(&args.get(1), "user").is_object(),
        _ => false,
    }
}

/// The user an event carries: the page's `user{}` hashed, else the visit's identity.
pub(crate) fn for_event(state: &State, props: &JsValue) -> Result<Option<JsValue>, PixelError> {
    let user = get(props, "user");
    if user.is_object() {
        return match hash(state, &user) {
            Ok(hashed) => Ok(Some(hashed)),
            // The event still goes, without the customer data (never unhashed).
            Err(PixelError::NoHasher) => {
                crate::js::warn(
                    "ar: the hashing module has not loaded: the event goes without its customer data",
                );
                Ok(None)
            }
            Err(e) => Err(e),
        };
    }
    let stored = session_storage()
        .and_then(|s| s.get_item(IDENTITY_KEY).ok().flatten())
        .and_then(|json| js_sys::JSON::parse(&json).ok());
    Ok(stored)
}
