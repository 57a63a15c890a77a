//! Copies of events meeting what storage holds (DESIGN §5, "Idempotent outbox").
//!
//! The worker reads the stored records, versions and outbox rows of a set of event IDs
//! ([`Stored`]), calls [`merge_copies`] with the copies that arrived (in arrival order), and
//! writes each [`Merged`] event guarded by its `base_version` (optimistic concurrency: a write
//! applies only if storage still holds the version this merge read; a loser reads and merges
//! again). A later copy of an event in the same call merges into the earlier ones, exactly as
//! into a stored record, so a call's result does not depend on how copies were grouped.
//!
//! What a copy contributes to a record is [`EventRecord::merge`]'s rule; which rows the merged
//! record gets is [`plan_rows`] and [`merge_rows`]. This module only sequences them.

use std::collections::BTreeMap;

use crate::record::EventRecord;
use crate::settings::Settings;

use super::plan::{CopyOutcome, EventStatus, ExistingRow, PlannedRow, merge_rows, plan_rows};

/// What storage holds for a set of event IDs.
#[derive(Debug, Default, Clone)]
pub struct Stored {
    /// Stored records by event ID.
    pub records: BTreeMap<String, EventRecord>,
    /// Stored versions by event ID (present even when a stored record no longer parses: the new
    /// copy then replaces it, still guarded by the version).
    pub versions: BTreeMap<String, u64>,
    /// Outbox rows by event ID.
    pub rows: BTreeMap<String, Vec<ExistingRow>>,
}

/// One event ready to be written: its merged record, the rows to write, its state.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The merged record.
    pub record: EventRecord,
    /// Rows to insert or re-plan.
    pub rows: Vec<PlannedRow>,
    /// The event's state.
    pub status: EventStatus,
    /// The stored version this merge started from (0: no stored event). The write applies only
    /// if storage still holds this version; the written version is `base_version + 1`.
    pub base_version: u64,
}

/// Merges `copies` (in arrival order) into `stored`: one [`Merged`] per distinct event (its last
/// state, in order of first appearance) and each copy's outcome, in input order.
#[must_use]
pub fn merge_copies(
    stored: Stored,
    settings: &Settings,
    copies: Vec<EventRecord>,
    now_ms: u64,
) -> (Vec<Merged>, Vec<CopyOutcome>) {
    let Stored {
        mut records,
        versions,
        rows,
    } = stored;
    let mut merged: Vec<Merged> = Vec::new();
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(copies.len());
    for copy in copies {
        let existed = records.contains_key(copy.event_id.as_str());
        let record = match records.remove(copy.event_id.as_str()) {
            Some(mut stored) => {
                stored.merge(&copy);
                stored
            }
            None => copy,
        };
        let existing = rows
            .get(record.event_id.as_str())
            .map_or(&[][..], Vec::as_slice);
        let planned = plan_rows(&record, settings, now_ms);
        let m = merge_rows(existed, existing, planned);
        outcomes.push(m.outcome);
        // A later copy in the same call merges into this result.
        records.insert(record.event_id.to_string(), record.clone());
        let next = Merged {
            base_version: versions.get(record.event_id.as_str()).copied().unwrap_or(0),
            record,
            rows: m.writes,
            status: m.event_status,
        };
        if let Some(slot) = position
            .get(next.record.event_id.as_str())
            .and_then(|&i| merged.get_mut(i))
        {
            *slot = next;
        } else {
            position.insert(next.record.event_id.to_string(), merged.len());
            merged.push(next);
        }
    }
    (merged, outcomes)
}

#[cfg(test)]
mod tests;
