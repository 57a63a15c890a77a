//! The two things `ar-shared` never does itself: reading the clock and drawing randomness.

use wasm_bindgen::JsCast;

/// Now, Unix milliseconds.
pub fn now_ms() -> u64 {
    // Date.now() is a whole, non-negative number of milliseconds well inside u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ms = js_sys::Date::now() as u64;
    ms
}

/// `N` bytes from the runtime's CSPRNG (`crypto.getRandomValues`).
///
/// # Errors
/// When the runtime has no `crypto` (never on Workers).
pub fn random_bytes<const N: usize>() -> worker::Result<[u8; N]> {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let crypto = scope
        .crypto()
        .map_err(|e| worker::Error::JsError(format!("crypto: {e:?}")))?;
    let mut bytes = [0u8; N];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|e| worker::Error::JsError(format!("getRandomValues: {e:?}")))?;
    Ok(bytes)
}
