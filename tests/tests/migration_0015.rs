//! Migration 0015 on a local D1 (`wrangler d1 execute --local`): the health totals start from the
//! rows already stored, and the triggers keep them equal to a count of the rows through every kind
//! of write the worker makes (insert, merge upsert, claim, outcome, replay, retention delete).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use ar_sandbox::harness::{
    TempDir, local_d1 as d1, local_d1_each as d1_each, migrate_local as migrate,
};
use serde_json::{Value, json};

fn sql(state: &Path, command: &str) -> Vec<Value> {
    d1(state, &["--command", command])
}

/// What the health report used to count per view, counted from the rows, beside the totals: the
/// outbox's rows counted, its totals, the events counted, their totals.
const CHECKS: &str = "SELECT platform, status, \
       CASE WHEN status = 'failed' THEN COALESCE(failure_kind, '') ELSE '' END AS kind, \
       CASE WHEN status IN ('skipped', 'held') OR (status = 'failed' AND failure_kind = 'config') \
         THEN COALESCE(last_error, '') ELSE '' END AS reason, COUNT(*) AS n \
     FROM outbox GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4; \
     SELECT platform, status, kind, reason, n FROM outbox_totals WHERE n != 0 \
     ORDER BY 1, 2, 3, 4; \
     SELECT COUNT(*) AS total, COALESCE(SUM(from_shop), 0) AS shop, \
       COALESCE(SUM(from_pixel), 0) AS pixel, COALESCE(SUM(from_shop * from_pixel), 0) AS both, \
       COALESCE(SUM(match_quality), 0) AS mq FROM events; \
     SELECT total, shop, pixel, both, CAST(mq_sum AS INTEGER) AS mq FROM event_totals";

/// Runs `writes` (nothing when empty), then checks that the totals equal a count of the rows; one
/// `wrangler d1 execute` for both (each start costs about two seconds of CPU). Returns the event
/// totals.
fn step(state: &Path, step: &str, writes: &str) -> Value {
    let command = if writes.is_empty() {
        CHECKS.to_owned()
    } else {
        format!("{writes}; {CHECKS}")
    };
    let results = d1_each(state, &["--command", &command]);
    let [.., outbox_counted, outbox_kept, events_counted, events_kept] = results.as_slice() else {
        panic!("four result sets after {step}: {results:?}");
    };
    assert_eq!(outbox_kept, outbox_counted, "outbox totals after {step}");
    assert_eq!(events_kept, events_counted, "event totals after {step}");
    events_kept.first().cloned().unwrap_or_default()
}

fn event(id: &str, pixel: u8, shop: u8, mq: u8) -> String {
    format!(
        "INSERT INTO events (event_id, event, record, path, status, match_quality, from_pixel, \
         from_shop, created_at, updated_at) VALUES ('{id}', 'transaction.purchase', '{{}}', \
         'real_time', 'pending', {mq}, {pixel}, {shop}, 1000, 1000)"
    )
}

#[test]
fn health_totals_follow_every_write_of_their_rows() {
    let state = TempDir::new("migration-0015");
    migrate(&state.0, 1, 15);
    // Rows stored before the migration: the totals start from them.
    sql(
        &state.0,
        &format!(
            "{}; {}; INSERT INTO outbox (event_id, platform, status, next_attempt_at, last_error, \
             updated_at) VALUES ('e1', 'meta', 'delivered', 0, NULL, 1), \
             ('e1', 'ga4', 'skipped', 0, 'no client id', 1), \
             ('e2', 'meta', 'pending', 0, NULL, 1)",
            event("e1", 1, 1, 7),
            event("e2", 0, 1, 4)
        ),
    );
    migrate(&state.0, 15, 16);
    let totals = step(&state.0, "the migration", "");
    assert_eq!(totals["total"], json!(2), "{totals:?}");

    // New events and rows, the merge-write's upserts (a pixel copy joining a shop copy).
    step(
        &state.0,
        "inserts and upserts",
        &format!(
            "{}; INSERT INTO outbox (event_id, platform, status, next_attempt_at, updated_at) \
             VALUES ('e3', 'meta', 'pending', 0, 2), ('e3', 'data_manager', 'held', 0, 2); \
             INSERT INTO events (event_id, event, record, path, status, match_quality, from_pixel, \
               from_shop, created_at, updated_at) VALUES ('e2', 'transaction.purchase', '{{}}', \
               'real_time', 'pending', 9, 1, 1, 1000, 3) ON CONFLICT (event_id) DO UPDATE SET \
               from_pixel = excluded.from_pixel, match_quality = excluded.match_quality; \
             INSERT INTO outbox (event_id, platform, status, next_attempt_at, last_error, updated_at) \
               VALUES ('e2', 'meta', 'skipped', 0, 'consent denied', 3) \
               ON CONFLICT (event_id, platform) DO UPDATE SET status = excluded.status, \
               last_error = excluded.last_error",
            event("e3", 1, 0, 5)
        ),
    );

    // Claims, outcomes (a configuration error, an event error), a replay, an unchanged update.
    step(
        &state.0,
        "claims and outcomes",
        "UPDATE outbox SET status = 'sending' WHERE event_id = 'e3'; \
         UPDATE outbox SET status = 'failed', failure_kind = 'config', last_error = 'bad pixel id' \
           WHERE event_id = 'e3' AND platform = 'meta'; \
         UPDATE outbox SET status = 'failed', failure_kind = 'event', last_error = 'bad value' \
           WHERE event_id = 'e3' AND platform = 'data_manager'; \
         UPDATE outbox SET attempts = attempts + 1 WHERE event_id = 'e1'",
    );
    step(
        &state.0,
        "a replay",
        "UPDATE outbox SET status = 'pending', failure_kind = NULL, last_error = NULL \
         WHERE event_id = 'e3' AND platform = 'data_manager'",
    );

    // Retention deletes rows, then events.
    let totals = step(
        &state.0,
        "retention",
        "DELETE FROM outbox WHERE event_id IN ('e1', 'e2'); \
         DELETE FROM events WHERE event_id IN ('e1', 'e2')",
    );
    assert_eq!(totals["total"], json!(1), "{totals:?}");
}
