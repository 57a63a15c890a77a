//! How the pixel gets an event to `/_ar/collect` on a shopper's device, where networks fail and
//! pages go away (DESIGN §5 Decision on browser delivery):
//!
//! - each event is first written to the visit's outbox in `sessionStorage`, then posted with
//!   `fetch(…, {keepalive: true})` as `text/plain` (collect accepts it, and it needs no CORS
//!   preflight from a shop page to a collect host on its subdomain);
//! - a network failure, a 429 or a 5xx is retried after [`retry_delay_ms`], at most
//!   [`MAX_ATTEMPTS`] sends in all; any other answer ends it (a 4xx will not change by sending it
//!   again, and its message names the field);
//! - when the page goes away (`pagehide`), what is still in the outbox goes with
//!   `navigator.sendBeacon`, which the browser delivers after the page is gone, or with
//!   keepalive `fetch` where there is no beacon or it refuses the body;
//! - the next page of the visit sends what is still in the outbox.
//!
//! Sending an event twice is harmless: the worker merges copies by event ID and sends each
//! platform one copy (DESIGN §5 "Idempotent outbox").

/// Most sends of one event on one page.
pub const MAX_ATTEMPTS: u32 = 3;

/// Most events the outbox keeps (the oldest go first): `sessionStorage` is small and shared with
/// the shop.
pub const MAX_OUTBOX: usize = 20;

/// `sessionStorage` key of the outbox.
pub const OUTBOX_KEY: &str = "ar:outbox";

/// Whether an answer (`0`: no answer at all) is worth sending again.
pub const fn retryable(status: u16) -> bool {
    matches!(status, 0 | 429 | 500..=599)
}

/// How long to wait before send number `attempt + 1` after send number `attempt` (1-based)
/// answered `status`; `None` to stop: the answer is final or the attempts are spent.
pub const fn retry_delay_ms(attempt: u32, status: u16) -> Option<u32> {
    if !retryable(status) || attempt >= MAX_ATTEMPTS {
        return None;
    }
    // 1 s, then 4 s: a flaky connection usually comes back within seconds.
    Some(match attempt {
        1 => 1_000,
        _ => 4_000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_failures_throttling_and_server_errors_are_retried_a_bounded_number_of_times() {
        assert_eq!(retry_delay_ms(1, 0), Some(1_000));
        assert_eq!(retry_delay_ms(2, 503), Some(4_000));
        assert_eq!(retry_delay_ms(2, 429), Some(4_000));
        assert_eq!(retry_delay_ms(MAX_ATTEMPTS, 0), None, "attempts spent");
    }

    #[test]
    fn an_accepted_or_refused_event_is_not_sent_again() {
        for status in [204, 400, 403, 413, 415] {
            assert_eq!(retry_delay_ms(1, status), None, "{status}");
        }
    }
}
