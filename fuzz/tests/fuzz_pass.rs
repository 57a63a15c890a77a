//! The short fuzz pass of `make test`: every kept crash input is replayed first (a fixed bug stays
//! fixed), then the seeds, then a seeded, repeatable mutation pass over the seeds — byte flips,
//! inserts from a dictionary of the formats' own tokens, deletions, duplications, splices.
//! `AR_FUZZ_ITERS` sets the mutations per target (default 20,000: seconds for all targets).
//!
//! A panicking input is written to `target/fuzz-failures/<target>/<hash>`; keep it as a
//! regression by moving it to `fuzz/regressions/<target>/` with the fix (`make fuzz` does the
//! same for libFuzzer's crashes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use ar_fuzz::{TARGETS, Target};

/// Tokens of the formats under test, inserted by the mutator.
const DICTIONARY: [&str; 40] = [
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "1e999",
    "-0",
    "\\u0000",
    "\\ud800",
    "\"event\":",
    "\"items\":[",
    "\"user\":{",
    "\"occurred_at\":",
    "\"events\":[",
    "fb.1.",
    "GA1.2.",
    "GS1.1.",
    "GCL.",
    "ar1.",
    ".gclid.",
    "v1=",
    "%",
    "%ff",
    "https://",
    "?gclid=",
    "&fbclid=",
    "groups=C0004%3A1",
    "{stamp:'",
    "marketing:true",
    "1.gggg",
    "\u{0}",
    "\u{10ffff}",
    "9999999999999999999999",
    "xn--",
    "=",
    ";",
];

/// xorshift64*: a repeatable pseudo-random stream (no dependency, same pass on every machine).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % (n as u64)).unwrap_or(0)
        }
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let at = rng.below(input.len() + 1);
    match rng.below(7) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] ^= 1 << rng.below(8);
        }
        1 => {
            let token = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
            input.splice(at..at, token.iter().copied());
        }
        2 if !input.is_empty() => {
            let end = (at + 1 + rng.below(16)).min(input.len());
            input.drain(at.min(end)..end);
        }
        3 if !input.is_empty() => {
            let from = rng.below(input.len());
            let end = (from + 1 + rng.below(32)).min(input.len());
            let piece = input[from..end].to_vec();
            input.splice(at..at, piece);
        }
        4 if !seeds.is_empty() => {
            let other = &seeds[rng.below(seeds.len())];
            let from = rng.below(other.len() + 1);
            input.truncate(at);
            input.extend_from_slice(&other[from..]);
        }
        5 => {
            let byte = u8::try_from(rng.next() & 0xff).unwrap_or(0);
            input.insert(at, byte);
        }
        _ => input.truncate(at),
    }
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

fn root() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap())
}

/// Runs `target` on `input`; on a panic writes the input out and returns where.
fn run(name: &str, target: Target, input: &[u8]) -> Option<PathBuf> {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_ok() {
        return None;
    }
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    let dir = root().join("../target/fuzz-failures").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{hash:016x}"));
    std::fs::write(&path, input).unwrap();
    Some(path)
}

#[test]
fn kept_crash_inputs_and_seeds_run_clean_then_a_mutation_pass_finds_no_panic() {
    let iters: usize = std::env::var("AR_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    // Panics are expected while searching; keep the output to the report below.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let mut ran = 0usize;
    for (t, (name, target)) in TARGETS.into_iter().enumerate() {
        let kept = files(&root().join("regressions").join(name));
        let seeds: Vec<Vec<u8>> = files(&root().join("seeds").join(name))
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        assert!(!seeds.is_empty(), "fuzz/seeds/{name}/ has no seed");
        for (path, input) in &kept {
            if run(name, target, input).is_some() {
                failures.push(format!(
                    "{name}: kept input {} panics again",
                    path.display()
                ));
            }
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1));
        for i in 0..iters + seeds.len() {
            let mut input = seeds[i % seeds.len()].clone();
            if i >= seeds.len() {
                for _ in 0..=rng.below(4) {
                    mutate(&mut rng, &mut input, &seeds);
                }
            }
            ran += 1;
            if let Some(path) = run(name, target, &input) {
                failures.push(format!("{name}: panics on {}", path.display()));
                break;
            }
        }
    }
    let _ = std::panic::take_hook();
    eprintln!("fuzz pass: {} targets, {ran} inputs", TARGETS.len());
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_target_has_a_libfuzzer_binary() {
    for (name, _) in TARGETS {
        let bin = root()
            .join("libfuzzer/fuzz_targets")
            .join(format!("{name}.rs"));
        assert!(bin.is_file(), "{} missing", bin.display());
    }
}

#[test]
fn a_panicking_target_is_caught_and_its_input_written_out() {
    std::panic::set_hook(Box::new(|_| {}));
    let found = run("selftest", |d| assert!(!d.contains(&b'!')), b"ok!");
    let _ = std::panic::take_hook();
    let path = found.expect("the panic was caught");
    assert_eq!(std::fs::read(&path).unwrap(), b"ok!");
    std::fs::remove_file(path).unwrap();
    assert!(run("selftest", |d| assert!(!d.contains(&b'!')), b"ok").is_none());
}
