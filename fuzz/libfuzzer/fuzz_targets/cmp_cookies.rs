//! libFuzzer entry for `ar_fuzz::targets::cmp_cookies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ar_fuzz::targets::cmp_cookies(data));
