//! The sandbox clock: real time plus an offset that tests move over HTTP.
//!
//! Every time-dependent platform rule in the sandbox (Meta's 7-day window, Google's
//! `TOO_RECENT_EVENT` 6-hour click age, OAuth token expiry, dedup windows) reads this clock, so a
//! test can say "six hours have passed" without waiting. It does not freeze time: the offset is
//! added to the wall clock, so time keeps moving at normal speed.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall clock plus a test-controlled offset, in Unix milliseconds.
#[derive(Debug, Default)]
pub struct SandboxClock {
    offset_ms: AtomicI64,
}

impl SandboxClock {
    /// A clock that starts at real time (offset 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// The sandbox's "now" in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// The offset from the wall clock in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the clock so that `now_ms()` returns `at_ms` at this instant (it keeps ticking).
    pub fn set_ms(&self, at_ms: i64) {
        self.offset_ms
            .store(at_ms - real_now_ms(), Ordering::Relaxed);
    }

    /// Moves the clock forward (or back, with a negative value) by `delta_ms`.
    pub fn advance_ms(&self, delta_ms: i64) {
        self.offset_ms.fetch_add(delta_ms, Ordering::Relaxed);
    }

    /// Back to the wall clock.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

/// The wall clock in Unix milliseconds (0 if the system clock is before 1970).
pub fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_by_the_delta() {
        let clock = SandboxClock::new();
        let before = clock.now_ms();
        clock.advance_ms(6 * 3_600_000);
        let after = clock.now_ms();
        assert!(after - before >= 6 * 3_600_000);
        assert!(after - before < 6 * 3_600_000 + 1_000);
    }

    #[test]
    fn setting_pins_now_to_the_given_instant() {
        let clock = SandboxClock::new();
        clock.set_ms(1_000_000);
        assert!((clock.now_ms() - 1_000_000).abs() < 1_000);
        clock.reset();
        assert_eq!(clock.offset_ms(), 0);
    }
}
