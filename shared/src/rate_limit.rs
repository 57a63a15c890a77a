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
}
