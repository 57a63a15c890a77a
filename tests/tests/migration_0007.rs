//! Migration 0007 on a local D1 (`wrangler d1 execute --local`): outbox rows stored under the old
//! `google_ads` platform (the Ads API's click uploads, closed to new adopters: google.md
//! Addendum C) are delivered through Data Manager afterwards, and the health counters follow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ar_sandbox::harness::{TempDir, local_d1 as d1, migrate_local as migrate};

#[test]
fn outbox_rows_under_google_ads_move_to_data_manager() {
    let state = TempDir::new("migration-0007");
    migrate(&state.0, 1, 7);
    d1(
        &state.0,
        &[
            "--command",
            "INSERT INTO outbox (event_id, platform, status, attempts, next_attempt_at, last_error, updated_at) VALUES \
            ('e-wait', 'google_ads', 'pending', 0, 1000000, NULL, 1000), \
            ('e-retry', 'google_ads', 'pending', 2, 5000, 'google HTTP 503', 4000), \
            ('e-failed', 'google_ads', 'failed', 1, 3000, 'google ads EXPIRED_EVENT: m', 3000), \
            ('e-both', 'google_ads', 'pending', 0, 9000, NULL, 900), \
            ('e-both', 'data_manager', 'delivered', 1, 900, NULL, 900), \
            ('e-meta', 'meta', 'pending', 0, 7000, NULL, 700); \
          INSERT INTO counters (day, platform, metric, n) VALUES \
            (20000, 'google_ads', 'delivered', 3), (20000, 'data_manager', 'delivered', 4), \
            (20000, 'google_ads', 'failed', 1)",
        ],
    );
    migrate(&state.0, 7, 8);
    let rows = d1(
        &state.0,
        &[
            "--command",
            "SELECT event_id, platform, status, attempts, next_attempt_at, last_error FROM outbox ORDER BY event_id, platform",
        ],
    );
    let got: Vec<(String, String, String, i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["event_id"].as_str().unwrap().to_owned(),
                r["platform"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                r["attempts"].as_i64().unwrap(),
                r["next_attempt_at"].as_i64().unwrap(),
            )
        })
        .collect();
    let row = |id: &str, p: &str, s: &str, a: i64, at: i64| {
        (id.to_owned(), p.to_owned(), s.to_owned(), a, at)
    };
    assert_eq!(
        got,
        [
            // The Data Manager row of an event stands; the stray old row is gone.
            row("e-both", "data_manager", "delivered", 1, 900),
            // A failed row keeps its reason, to be replayed through Data Manager.
            row("e-failed", "data_manager", "failed", 1, 3000),
            row("e-meta", "meta", "pending", 0, 7000),
            // A retry keeps its backoff.
            row("e-retry", "data_manager", "pending", 2, 5000),
            // A row held for the click's 6-hour mark is due now (data-manager.md §2: no wait).
            row("e-wait", "data_manager", "pending", 0, 1000),
        ]
    );
    let failed = rows.iter().find(|r| r["event_id"] == "e-failed").unwrap();
    assert_eq!(failed["last_error"], "google ads EXPIRED_EVENT: m");
    let counters = d1(
        &state.0,
        &[
            "--command",
            "SELECT platform, metric, n FROM counters ORDER BY platform, metric",
        ],
    );
    let counters: Vec<(String, String, i64)> = counters
        .iter()
        .map(|r| {
            (
                r["platform"].as_str().unwrap().to_owned(),
                r["metric"].as_str().unwrap().to_owned(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counters,
        [
            ("data_manager".to_owned(), "delivered".to_owned(), 7),
            ("data_manager".to_owned(), "failed".to_owned(), 1),
        ]
    );
    let schema = d1(
        &state.0,
        &[
            "--command",
            "SELECT value FROM ar_meta WHERE key = 'schema'",
        ],
    );
    assert_eq!(schema[0]["value"], "7");
}
