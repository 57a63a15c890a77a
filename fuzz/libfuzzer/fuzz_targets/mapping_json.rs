//! libFuzzer entry for `ar_fuzz::targets::mapping_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ar_fuzz::targets::mapping_json(data));
