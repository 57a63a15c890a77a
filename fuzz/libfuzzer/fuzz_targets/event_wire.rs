//! libFuzzer entry for `ar_fuzz::targets::event_wire`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ar_fuzz::targets::event_wire(data));
