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

use crate::record::{EventRecord, MergeOutcome};
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
    /// A shop copy replaced a browser record of another name under this ID: the stored rows
    /// belonged to that other event and are deleted before [`Merged::rows`] are written.
    pub replaced: bool,
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
    let mut replaced: BTreeMap<String, bool> = BTreeMap::new();
    for copy in copies {
        let id = copy.event_id.to_string();
        let existed = records.contains_key(&id);
        let (record, merge) = match records.remove(&id) {
            Some(mut stored) => {
                let merge = stored.merge(&copy);
                (stored, merge)
            }
            None => (copy, MergeOutcome::Merged),
        };
        if matches!(merge, MergeOutcome::Refused | MergeOutcome::Untied) {
            outcomes.push(if merge == MergeOutcome::Refused {
                CopyOutcome::Conflict
            } else {
                CopyOutcome::Untied
            });
            records.insert(id, record);
            continue;
        }
        let was_replaced = merge == MergeOutcome::Replaced || replaced.get(&id) == Some(&true);
        replaced.insert(id.clone(), was_replaced);
        // After a replacement no stored row belongs to this event any more.
        let existing = if was_replaced {
            &[][..]
        } else {
            rows.get(&id).map_or(&[][..], Vec::as_slice)
        };
        let planned = plan_rows(&record, settings, now_ms);
        let m = merge_rows(existed && !was_replaced, existing, planned);
        outcomes.push(m.outcome);
        // A later copy in the same call merges into this result.
        records.insert(id.clone(), record.clone());
        let next = Merged {
            base_version: versions.get(&id).copied().unwrap_or(0),
            record,
            rows: m.writes,
            status: m.event_status,
            replaced: was_replaced,
        };
        if let Some(slot) = position.get(&id).and_then(|&i| merged.get_mut(i)) {
            *slot = next;
        } else {
            position.insert(id, merged.len());
            merged.push(next);
        }
    }
    (merged, outcomes)
}

/// Whether a copy's outcome from [`merge_copies`] stands, after the writes of its call:
/// `written` when its event's write applied (or was deliberately skipped), `merging` when the
/// call had something to write for its event at all (a [`Merged`] of its ID).
///
/// A merged copy stands once its event is written; one whose write lost to another writer is
/// merged again into what that writer stored. A refused or left-out copy (`Conflict`,
/// `Untied`) writes nothing itself: its verdict stands when it was reached against the stored
/// record alone, or against copies of the same call whose write then applied. When it was
/// reached against a copy of this call whose write lost, it is judged again, like that copy,
/// against what the other writer stored.
#[must_use]
pub fn stands(outcome: CopyOutcome, written: bool, merging: bool) -> bool {
    written || (matches!(outcome, CopyOutcome::Conflict | CopyOutcome::Untied) && !merging)
}

#[cfg(test)]
mod tests;
