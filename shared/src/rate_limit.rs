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

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

/// The key a client is counted under: its IPv4 address, or the /64 network of its IPv6 address
/// (one subscriber line gets a whole /64 and can rotate through it at will). Text that is not an
/// address is counted as it is.
pub fn client_key(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4.to_string();
            }
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

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

    /// The decision for `client` at `now_ms` without counting a request (to refuse a client
    /// that is over its limit before doing any work for it).
    pub fn peek(&self, client: &str, now_ms: u64) -> RateDecision {
        let window = now_ms / WINDOW_MS;
        match self.counters.get(client) {
            Some((w, n)) if *w == window && *n >= self.limit => {
                let ends = (window + 1) * WINDOW_MS;
                RateDecision::Limited {
                    retry_after_secs: ends.saturating_sub(now_ms).div_ceil(1000).max(1),
                }
            }
            _ => RateDecision::Allow,
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

/// Failures counted over any minute, not per calendar minute: at most `limit` in any
/// [`WINDOW_MS`] span. For guesses at a secret (the admin token), where a fixed window would let
/// a guesser make twice the limit across a window's edge. Each client keeps the times of its
/// last `limit` failures, so memory is bounded by [`RateLimiter::MAX_CLIENTS`] × `limit`; past
/// that, clients with no failure in the last minute are dropped, then the table is cleared
/// (failing open). Pure: the caller passes the time.
#[derive(Debug, Clone)]
pub struct FailureLimiter {
    limit: u32,
    times: BTreeMap<String, VecDeque<u64>>,
}

impl FailureLimiter {
    /// A limiter refusing a client once it has `limit` failures in the last minute.
    pub const fn new(limit: u32) -> Self {
        Self {
            limit,
            times: BTreeMap::new(),
        }
    }

    /// Counts one failure from `client` at `now_ms`.
    pub fn record(&mut self, client: &str, now_ms: u64) {
        if !self.times.contains_key(client) && self.times.len() >= RateLimiter::MAX_CLIENTS {
            self.times
                .retain(|_, t| t.back().is_some_and(|&last| now_ms < last + WINDOW_MS));
            if self.times.len() >= RateLimiter::MAX_CLIENTS {
                self.times.clear();
            }
        }
        let times = self.times.entry(client.to_owned()).or_default();
        times.push_back(now_ms);
        while times.len() > self.limit as usize {
            times.pop_front();
        }
    }

    /// Whether `client` is refused at `now_ms`: `limit` failures within the last minute. The
    /// wait runs until the oldest of them is a minute old.
    pub fn peek(&self, client: &str, now_ms: u64) -> RateDecision {
        let Some(times) = self.times.get(client) else {
            return RateDecision::Allow;
        };
        let recent = times.iter().filter(|&&t| now_ms < t + WINDOW_MS).count();
        match times.front() {
            Some(&oldest) if self.limit > 0 && recent >= self.limit as usize => {
                RateDecision::Limited {
                    retry_after_secs: (oldest + WINDOW_MS)
                        .saturating_sub(now_ms)
                        .div_ceil(1000)
                        .max(1),
                }
            }
            _ => RateDecision::Allow,
        }
    }

    /// How many clients are tracked.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether no client is tracked.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_per_64_network() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::/64");
        assert_ne!(client_key("2001:db8:1:3::1"), client_key("2001:db8:1:2::1"));
        assert_eq!(client_key("203.0.113.9"), "203.0.113.9");
        assert_eq!(client_key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(client_key("unknown"), "unknown");
    }

    #[test]
    fn peeking_does_not_count() {
        let mut l = RateLimiter::new(2);
        assert_eq!(l.peek("a", 0), RateDecision::Allow);
        l.check("a", 0);
        l.check("a", 0);
        assert!(matches!(l.peek("a", 0), RateDecision::Limited { .. }));
        assert_eq!(l.peek("a", WINDOW_MS), RateDecision::Allow);
    }

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
    #[test]
    fn failures_are_counted_over_any_minute_not_per_calendar_minute() {
        let mut f = FailureLimiter::new(10);
        // Five just before a window's edge, five just after: a fixed window would allow more.
        for i in 0..5 {
            f.record("a", T0 - 2_000 + i);
        }
        for i in 0..4 {
            f.record("a", T0 + 1_000 + i);
        }
        assert_eq!(f.peek("a", T0 + 1_500), RateDecision::Allow, "nine so far");
        f.record("a", T0 + 1_600);
        assert_eq!(
            f.peek("a", T0 + 2_000),
            RateDecision::Limited {
                retry_after_secs: 56
            },
            "until the oldest failure is a minute old"
        );
        assert_eq!(f.peek("b", T0 + 2_000), RateDecision::Allow);
        assert_eq!(f.peek("a", T0 + 58_000), RateDecision::Allow);
    }

    #[test]
    fn failure_memory_stays_bounded() {
        let mut f = FailureLimiter::new(3);
        for _ in 0..50 {
            f.record("a", T0);
        }
        assert_eq!(f.times["a"].len(), 3);
        for i in 1..RateLimiter::MAX_CLIENTS {
            f.record(&i.to_string(), T0);
        }
        assert_eq!(f.len(), RateLimiter::MAX_CLIENTS);
        f.record("late", T0 + WINDOW_MS);
        assert_eq!(f.len(), 1, "stale clients dropped first");
        assert!(!f.is_empty());
    }
}
