//! libFuzzer entry for `ar_fuzz::targets::edge_event`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ar_fuzz::targets::edge_event(data));
