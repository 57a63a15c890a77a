//! libFuzzer entry for `ar_fuzz::targets::landing_urls`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ar_fuzz::targets::landing_urls(data));
