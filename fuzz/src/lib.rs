//! Fuzz targets for every parser and decoder in `ar-shared`: what arrives from a browser, a shop
//! backend or the merchant's settings and is read before anything else is known about it.
//!
//! Each target takes arbitrary bytes and must never panic (a panic aborts the whole wasm
//! instance, STYLE "Errors"); where a parser has a printer, the target also checks that a value
//! it accepted prints back to text it reads as the same value. Two drivers share the targets:
//!
//! - `fuzz/libfuzzer/` (cargo-fuzz, libFuzzer's coverage guidance) — `make fuzz`, for a fixed time
//!   per target;
//! - `tests/fuzz_pass.rs` — inside `make test`: replays every kept crash input
//!   (`fuzz/regressions/<target>/`) and the seeds (`fuzz/seeds/<target>/`), then mutates the seeds
//!   for a short, seeded pass.
//!
//! This crate holds no rules of its own and is never built into the product.

pub mod split;
pub mod targets;

/// A fuzz target: bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target by name (the name is also its directory under `fuzz/seeds/`, `fuzz/regressions/`
/// and its binary in `fuzz/libfuzzer/`).
pub const TARGETS: [(&str, Target); 11] = [
    ("event_wire", targets::event_wire),
    ("event_batch", targets::event_batch),
    ("edge_event", targets::edge_event),
    ("cookie_header", targets::cookie_header),
    ("consent_cookie", targets::consent_cookie),
    ("tcf", targets::tcf),
    ("cmp_cookies", targets::cmp_cookies),
    ("click_ids", targets::click_ids),
    ("landing_urls", targets::landing_urls),
    ("mapping_json", targets::mapping_json),
    ("signatures", targets::signatures),
];
