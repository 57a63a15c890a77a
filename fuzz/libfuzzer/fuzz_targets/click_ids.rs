//! libFuzzer entry for `ar_fuzz::targets::click_ids`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ar_fuzz::targets::click_ids(data));
