//! Per-platform counters and the platforms' own deduplication, so a test can ask "how many
//! purchases would Meta count?" rather than "how many requests arrived?".
//!
//! Dedup keys follow the platform rules, not the product's:
//! - Meta: `event_name` + `event_id`, browser (`fbq` `eventID`) and server alike, within 48 hours
//!   of the first copy (reference/meta-capi.md §4). Events without `event_id` are never deduplicated.
//! - Google Ads: `orderId` per conversion action (reference/google.md §1.2, "An order id can only be
//!   used for one conversion per conversion action"); a browser `gtag` conversion whose `send_to`
//!   belongs to a WEBPAGE action counts under the same key.
//! - Data Manager: `transactionId` per destination conversion action (reference/google.md §8).
//! - GA4: `purchase` by `transaction_id` (reference/google.md §4); other events are not deduplicated.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::record::Platform;

/// Meta's dedup window: 48 hours (reference/meta-capi.md §4).
pub const META_DEDUP_WINDOW_MS: i64 = 48 * 3_600_000;

/// Counters for one platform.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PlatformCounts {
    /// Requests received (any verdict).
    pub requests: u64,
    /// Server events/conversions received in those requests.
    pub events_received: u64,
    /// Server events the platform accepted.
    pub events_accepted: u64,
    /// Server events rejected.
    pub events_rejected: u64,
    /// Browser-tag copies seen (`fbq` / `gtag`).
    pub browser_events: u64,
    /// Events the platform would count after its own deduplication (browser + server).
    pub deduplicated: u64,
    /// Accepted copies dropped as duplicates by the platform's dedup rule.
    pub duplicates: u64,
    /// `deduplicated`, split by event name (Meta `event_name`, Google action, GA4 event name).
    pub by_event: BTreeMap<String, EventCounts>,
}

/// Counters for one event name.
#[derive(Debug, Default, Clone, Serialize)]
pub struct EventCounts {
    /// Accepted server copies.
    pub server: u64,
    /// Browser copies.
    pub browser: u64,
    /// Counted once after dedup.
    pub deduplicated: u64,
}

/// Where a counted copy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A server request to the fake API.
    Server,
    /// A fake browser tag call.
    Browser,
}

/// One platform's dedup ledger as `GET /_sandbox/dedup` shows it: how many accepted copies each
/// dedup key received, and which ids arrived in requests that took effect but were answered only
/// after the client gave up (`accept_then_timeout`), the one case where a resend is expected.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Ledger {
    /// Dedup key (`Purchase|<event_id>`, `action:1001|<orderId>`, …) → accepted copies.
    pub copies: BTreeMap<String, u64>,
    /// Dedup ids (event ids, order ids, transaction ids) of requests answered late.
    pub answered_late: BTreeSet<String>,
}

/// All counters plus the dedup ledgers.
#[derive(Debug, Default)]
pub struct Counts {
    platforms: BTreeMap<Platform, PlatformCounts>,
    /// (platform, dedup key) → time the first copy was counted.
    ledger: HashMap<(Platform, String), i64>,
    /// Per platform: copies per key and the ids answered late.
    ledgers: BTreeMap<Platform, Ledger>,
}

impl Counts {
    /// Counts one request with `received` events of which `accepted` were accepted.
    pub fn request(&mut self, platform: Platform, received: usize, accepted: usize) {
        let c = self.platforms.entry(platform).or_default();
        c.requests += 1;
        c.events_received += received as u64;
        c.events_accepted += accepted as u64;
        c.events_rejected += received.saturating_sub(accepted) as u64;
    }

    /// Counts one accepted copy of an event. `key` is the platform's dedup key (`None`: never
    /// deduplicated); `window_ms` how long the platform remembers a key (`None`: forever).
    /// Returns whether the platform counts it (`false`: a duplicate).
    pub fn observe(
        &mut self,
        platform: Platform,
        event_name: &str,
        key: Option<String>,
        source: Source,
        now_ms: i64,
        window_ms: Option<i64>,
    ) -> bool {
        if let Some(key) = &key {
            *self
                .ledgers
                .entry(platform)
                .or_default()
                .copies
                .entry(key.clone())
                .or_default() += 1;
        }
        let counted = match key {
            None => true,
            Some(key) => match self.ledger.get(&(platform, key.clone())) {
                Some(first) if window_ms.is_none_or(|w| now_ms - first < w) => false,
                _ => {
                    self.ledger.insert((platform, key), now_ms);
                    true
                }
            },
        };
        let c = self.platforms.entry(platform).or_default();
        let e = c.by_event.entry(event_name.to_owned()).or_default();
        match source {
            Source::Server => e.server += 1,
            Source::Browser => {
                e.browser += 1;
                c.browser_events += 1;
            }
        }
        if counted {
            e.deduplicated += 1;
            c.deduplicated += 1;
        } else {
            c.duplicates += 1;
        }
        counted
    }

    /// Notes that the request carrying `ids` took effect but was answered after the client's
    /// timeout: a resend of these ids is the platform's dedup's to absorb, not the client's bug.
    pub fn answered_late(&mut self, platform: Platform, ids: &[String]) {
        let late = &mut self.ledgers.entry(platform).or_default().answered_late;
        late.extend(ids.iter().cloned());
    }

    /// The dedup ledger of `platform`.
    pub fn ledger(&self, platform: Platform) -> Ledger {
        self.ledgers.get(&platform).cloned().unwrap_or_default()
    }

    /// A snapshot of every platform's counters (platforms never seen report zeros).
    pub fn snapshot(&self) -> BTreeMap<&'static str, PlatformCounts> {
        [
            Platform::Meta,
            Platform::GoogleAds,
            Platform::DataManager,
            Platform::Ga4,
            Platform::Oauth,
            Platform::MetaOauth,
        ]
        .into_iter()
        .map(|p| {
            (
                p.as_str(),
                self.platforms.get(&p).cloned().unwrap_or_default(),
            )
        })
        .collect()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.platforms.clear();
        self.ledger.clear();
        self.ledgers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_counts_a_browser_and_server_copy_once_within_48_hours() {
        let mut counts = Counts::default();
        let key = Some("Purchase|ev1".to_owned());
        assert!(counts.observe(
            Platform::Meta,
            "Purchase",
            key.clone(),
            Source::Browser,
            0,
            Some(META_DEDUP_WINDOW_MS)
        ));
        assert!(!counts.observe(
            Platform::Meta,
            "Purchase",
            key.clone(),
            Source::Server,
            1_000,
            Some(META_DEDUP_WINDOW_MS)
        ));
        assert!(counts.observe(
            Platform::Meta,
            "Purchase",
            key,
            Source::Server,
            META_DEDUP_WINDOW_MS + 1,
            Some(META_DEDUP_WINDOW_MS)
        ));
        assert_eq!(counts.snapshot()["meta"].deduplicated, 2);
    }

    #[test]
    fn the_ledger_counts_every_accepted_copy_per_key_and_the_ids_answered_late() {
        let mut counts = Counts::default();
        for _ in 0..2 {
            counts.observe(
                Platform::Meta,
                "Lead",
                Some("Lead|ev2".into()),
                Source::Server,
                0,
                None,
            );
        }
        counts.observe(Platform::Meta, "Lead", None, Source::Server, 0, None);
        counts.answered_late(Platform::Meta, &["ev2".into()]);
        let ledger = counts.ledger(Platform::Meta);
        assert_eq!(ledger.copies.get("Lead|ev2"), Some(&2));
        assert_eq!(ledger.copies.len(), 1, "keyless copies have no entry");
        assert!(ledger.answered_late.contains("ev2"));
        assert!(counts.ledger(Platform::GoogleAds).copies.is_empty());
    }
}
