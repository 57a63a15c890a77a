//! A per-client rate limit for `/_ar/collect` (DESIGN §4: "Rate limits and size limits apply per
//! client"): a fixed one-minute window counter per client key (the IP address).
//!
//! Why in memory and not in KV or D1: a KV read and write on every pixel event would cost more
//! than the event itself, KV allows one write per second per key, and it is eventually consistent
//! so it cannot count bursts anyway. The worker keeps one [`RateLimiter`] per isolate instead:
//! Cloudflare routes a client's requests to the same location, where an isolate serves many
//! requests, so a flood from one address is cut without any IO. It is a guard against floods, not
//! an exact quota; a merchant who needs a global limit adds a Cloudflare rate-limiting rule on
//! `/_ar/collect`.
//!
//! Memory is bounded: at most [`RateLimiter::MAX_CLIENTS`] keys; past that, counters of past
//! windows are dropped, and if every key is current the table is cleared (failing open rather
//! than refusing shoppers). Pure: the caller passes the time.

use std::collections::BTreeMap;

/// The window length.
pub const WINDOW_MS: u64 = 60_000;

/// Whether one more request from a client is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Go ahead.
    Allow,
    /// Over the limit: answer 429 with `Retry-After` in seconds.
    Limited {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
}

/// Fixed-window request counters per client.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: u32,
    counters: BTreeMap<String, (u64, u32)>,
}

impl RateLimiter {
    /// Most clients tracked at once.
    pub const MAX_CLIENTS: usize = 10_000;

    /// A limiter allowing `limit` requests per client per minute.
    pub const fn new(limit: u32) -> Self {
        Self {
            limit,
            counters: BTreeMap::new(),
        }
    }

    /// Counts one request from `client` at `now_ms` and decides.
    pub fn check(&mut self, client: &str, now_ms: u64) -> RateDecision {
        let window = now_ms / WINDOW_MS;
        if !self.counters.contains_key(client) && self.counters.len() >= Self::MAX_CLIENTS {
            self.counters.retain(|_, (w, _)| *w == window);
            if self.counters.len() >= Self::MAX_CLIENTS {
                self.counters.clear();
            }
        }
        let entry = self
            .counters
            .entry(client.to_owned())
            .or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 <= self.limit {
            RateDecision::Allow
        } else {
            let ends = (window + 1) * WINDOW_MS;
            RateDecision::Limited {
                retry_after_secs: ends.saturating_sub(now_ms).div_ceil(1000).max(1),
            }
        }
    }

    /// How many clients are tracked.
    pub fn len(&self) -> usize {
        self.counters.len()
    }

    /// Whether no client is tracked.
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_764_000_000_000; // a window boundary

    #[test]
    fn requests_over_the_limit_in_one_window_are_refused() {
        let mut rl = RateLimiter::new(3);
        for _ in 0..3 {
            assert_eq!(rl.check("203.0.113.9", T0 + 1_000), RateDecision::Allow);
        }
        assert_eq!(
            rl.check("203.0.113.9", T0 + 1_000),
            RateDecision::Limited {
                retry_after_secs: 59
            }
        );
        assert_eq!(rl.check("198.51.100.1", T0 + 1_000), RateDecision::Allow);
    }

    #[test]
    fn a_new_window_starts_a_new_count() {
        let mut rl = RateLimiter::new(1);
        assert_eq!(rl.check("a", T0), RateDecision::Allow);
        assert!(matches!(
            rl.check("a", T0 + 59_999),
            RateDecision::Limited { .. }
        ));
        assert_eq!(rl.check("a", T0 + WINDOW_MS), RateDecision::Allow);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut rl = RateLimiter::new(1);
        for i in 0..RateLimiter::MAX_CLIENTS {
            let _ = rl.check(&i.to_string(), T0);
        }
        assert_eq!(rl.len(), RateLimiter::MAX_CLIENTS);
        // Next window: the old counters go first.
        assert_eq!(rl.check("new", T0 + WINDOW_MS), RateDecision::Allow);
        assert_eq!(rl.len(), 1);
        // All current and full: cleared rather than refusing.
        for i in 0..RateLimiter::MAX_CLIENTS {
            let _ = rl.check(&format!("x{i}"), T0 + WINDOW_MS);
        }
        assert_eq!(rl.check("late", T0 + WINDOW_MS), RateDecision::Allow);
        assert!(rl.len() <= RateLimiter::MAX_CLIENTS);
    }
}
