//! libFuzzer entry for `ar_fuzz::targets::consent_cookie`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ar_fuzz::targets::consent_cookie(data));
