//! `make bench`, part 1: hot-path costs of the core, each reported as a ratio against a baseline
//! measured in the same run on the same machine (absolute times vary between machines; ratios
//! travel): the median of 11 rounds, with the lowest and highest round.
//!
//! - validate: parse + validate a purchase event vs. parsing the same bytes into `serde_json::Value`
//! - `hash_user_data`: normalize + hash a full customer for both platforms vs. one bare SHA-256
//! - merge: merge a server copy into a pixel copy vs. cloning the record

use std::hint::black_box;
use std::time::{Duration, Instant};

use ar_shared::mapping_config::Mappings;
use ar_shared::pii::{Sha256Hex, hash_user_data};
use ar_shared::record::{EventRecord, SessionContext, Source};
use ar_shared::wire::{ValidationContext, parse_event, validate};

const PURCHASE: &[u8] = br#"{"event":"transaction.purchase","order_id":"1001","value":59.9,"currency":"EUR",
 "occurred_at":1763999990000,"items":[{"id":"sku-1","price":19.95,"quantity":3},{"id":"sku-2","price":5,"quantity":1}],
 "user":{"email":"Jane.Doe+x@Gmail.com","phone":"(650) 555-1234","first_name":"Jane","last_name":"Doe",
 "city":"Menlo Park","state":"California","zip":"94025-1234","country":"US","external_id":"cust-7"},
 "page":{"url":"https://shop.example/thanks","referrer":"https://shop.example/pay"},
 "client":{"ip":"203.0.113.9","user_agent":"Mozilla/5.0"},"session_id":"s_1"}"#;
const NOW: u64 = 1_764_000_000_000;

/// Timed rounds of a calibrated loop.
const ROUNDS: usize = 11;

/// Nanoseconds per call in each of [`ROUNDS`] timed rounds of a calibrated loop.
fn time<T>(mut f: impl FnMut() -> T) -> Vec<f64> {
    let mut iters = 1u32;
    loop {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        if start.elapsed() > Duration::from_millis(50) {
            break;
        }
        iters *= 2;
    }
    (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(iters)
        })
        .collect()
}

/// Median, lowest and highest of the rounds.
fn stats(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

/// One table row of `make bench` (bench/latest.md): the subject, its baseline, the ratio of medians.
fn report(name: &str, subject: Vec<f64>, baseline_name: &str, baseline: Vec<f64>) {
    let (s, slo, shi) = stats(subject);
    let (b, blo, bhi) = stats(baseline);
    // `AR_BENCH_OPT`: the opt-level this binary was built at (scripts/bench.sh builds two).
    let opt = std::env::var("AR_BENCH_OPT").unwrap_or_else(|_| "\"z\"".into());
    println!(
        "| core, native (opt-level {opt}): {name} | {s:.0} ns ({slo:.0}–{shi:.0}) | {baseline_name}: {b:.0} ns ({blo:.0}–{bhi:.0}) | {:.2}× the baseline |",
        s / b
    );
}

fn record(mappings: &Mappings, source: Source) -> EventRecord {
    let input = parse_event(PURCHASE).unwrap_or_default();
    let ctx = ValidationContext {
        mappings,
        now_ms: NOW,
        random: [0; 16],
    };
    let ev = validate(input, ctx).unwrap_or_else(|e| panic!("bench input is valid: {e}"));
    let (user, _) = hash_user_data(&ev.user, "US");
    EventRecord::from_copy(&ev, user, SessionContext::default(), source)
}

fn main() {
    let mappings = Mappings::default();
    let baseline = time(|| serde_json::from_slice::<serde_json::Value>(PURCHASE).ok());
    let subject = time(|| {
        let ctx = ValidationContext {
            mappings: &mappings,
            now_ms: NOW,
            random: [0; 16],
        };
        parse_event(PURCHASE).ok().map(|i| validate(i, ctx))
    });
    report("validate", subject, "serde_json::Value parse", baseline);

    let input = parse_event(PURCHASE)
        .unwrap_or_default()
        .user
        .unwrap_or_default();
    let baseline = time(|| Sha256Hex::digest("jane.doe+x@gmail.com"));
    let subject = time(|| hash_user_data(&input, "US"));
    report("hash_user_data", subject, "one SHA-256", baseline);

    let pixel = record(&mappings, Source::Pixel);
    let server = record(&mappings, Source::Server);
    let baseline = time(|| pixel.clone());
    let subject = time(|| {
        let mut merged = pixel.clone();
        merged.merge(&server);
        merged
    });
    report("merge", subject, "record clone", baseline);
}
