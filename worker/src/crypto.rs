//! Sealing and opening stored credentials with the runtime's Web Crypto (`crypto.subtle`,
//! AES-GCM, 128-bit tag): the key, nonce length, associated data and text form are
//! `ar_shared::connect::credential`'s. Nothing here logs or returns what it seals.

use ar_shared::connect::credential::{NONCE_LEN, Sealed, SealingKey};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

use crate::runtime;

fn subtle() -> worker::Result<SubtleCrypto> {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let crypto = scope
        .crypto()
        .map_err(|_| worker::Error::RustError("no crypto in this runtime".into()))?;
    Ok(crypto.subtle())
}

fn js_err(what: &str) -> impl Fn(JsValue) -> worker::Error + '_ {
    move |_| worker::Error::RustError(format!("Web Crypto {what} failed"))
}

async fn import(subtle: &SubtleCrypto, key: &SealingKey) -> worker::Result<CryptoKey> {
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into()).map_err(js_err("setup"))?;
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let raw = Uint8Array::from(key.0.as_slice());
    let promise = subtle
        .import_key_with_object("raw", &raw, &algorithm, false, &usages)
        .map_err(js_err("importKey"))?;
    let key = JsFuture::from(promise).await.map_err(js_err("importKey"))?;
    key.dyn_into().map_err(js_err("importKey"))
}

fn params(nonce: &[u8; NONCE_LEN], aad: &[u8]) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(nonce.as_slice()));
    params.set_additional_data_u8_array(&Uint8Array::from(aad));
    params.set_tag_length(128);
    params
}

/// Seals `plaintext` under `key` with `aad`, with a fresh random nonce.
///
/// # Errors
/// When the runtime's crypto fails (never in practice).
pub async fn seal(key: &SealingKey, aad: &[u8], plaintext: &str) -> worker::Result<Sealed> {
    let subtle = subtle()?;
    let crypto_key = import(&subtle, key).await?;
    let nonce: [u8; NONCE_LEN] = runtime::random_bytes()?;
    let promise = subtle
        .encrypt_with_object_and_u8_array(&params(&nonce, aad), &crypto_key, plaintext.as_bytes())
        .map_err(js_err("encrypt"))?;
    let buffer = JsFuture::from(promise).await.map_err(js_err("encrypt"))?;
    Ok(Sealed {
        nonce,
        ciphertext: Uint8Array::new(&buffer).to_vec(),
    })
}

/// Opens `sealed`; `None` when it does not open under `key` and `aad` (altered, moved to another
/// account's row, or sealed under another `CREDENTIALS_KEY`).
pub async fn open(key: &SealingKey, aad: &[u8], sealed: &Sealed) -> Option<String> {
    let subtle = subtle().ok()?;
    let crypto_key = import(&subtle, key).await.ok()?;
    let promise = subtle
        .decrypt_with_object_and_u8_array(
            &params(&sealed.nonce, aad),
            &crypto_key,
            &sealed.ciphertext,
        )
        .ok()?;
    let buffer = JsFuture::from(promise).await.ok()?;
    String::from_utf8(Uint8Array::new(&buffer).to_vec()).ok()
}
