//! Runs in real headless Chromium (`wasm-bindgen-test-runner` + ChromeDriver): the pixel's wasm
//! build must compute exactly the IDs the native build computes.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Same value as `ar_shared::event_id` pins natively (and the end-to-end test checks in a page).
const PURCHASE_1001: &str = "ar1_47c5cc731af4b5c9fbd830ab4db17cf4";

#[wasm_bindgen_test]
fn business_key_id_in_the_browser_matches_the_native_id() {
    let id = ar_pixel::event_id("transaction.purchase", Some("1001".into())).ok();
    assert_eq!(id.as_deref(), Some(PURCHASE_1001));
}

#[wasm_bindgen_test]
fn ids_without_a_business_key_come_from_browser_randomness() {
    let a = ar_pixel::event_id("product.viewed", None).ok();
    let b = ar_pixel::event_id("product.viewed", None).ok();
    assert!(a.is_some() && b.is_some());
    assert_ne!(a, b, "two random IDs must differ");
}

#[wasm_bindgen_test]
fn invalid_event_names_are_refused() {
    assert!(ar_pixel::event_id("Not An Event", None).is_err());
}
