//! Which outbox rows an event gets, and how a new copy changes rows that already exist
//! (DESIGN §5, "Idempotent outbox").
//!
//! One row per `(event_id, platform)`. A copy of an event is merged into the stored record by
//! [`EventRecord::merge`]; this module then re-plans the rows from the merged record: which
//! destinations own the event ([`ownership::route`]), which are switched on in the settings,
//! whether a browser-only purchase is held back as unverified (DESIGN §4, "Forged events"), and
//! when each row is first due (after the merge window for real-time events).
//!
//! Rows that were already claimed for sending, delivered or failed are never re-planned, so a
//! copy that arrives after sending only records its source and is never sent twice. This module
//! does no IO: the worker reads the existing rows, calls [`merge_rows`] and writes the result.

use crate::mapping::DeliveryPath;
use crate::platform::Platform;
use crate::platform::ownership::route;
use crate::platform::request::NotSent;
use crate::record::EventRecord;
use crate::settings::Settings;

/// The state of one outbox row (`outbox.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// Waiting to be sent once `next_attempt_at` has passed.
    Pending,
    /// Claimed by one sender; nobody else sends it.
    Sending,
    /// The platform accepted it.
    Delivered,
    /// Given up, with a reason (replayable from the admin API).
    Failed,
    /// This platform does not get the event (consent, missing context, age), with a reason.
    Skipped,
    /// A browser-only purchase awaiting corroboration (DESIGN §4).
    Held,
}

impl RowStatus {
    /// Every status.
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Sending,
        Self::Delivered,
        Self::Failed,
        Self::Skipped,
        Self::Held,
    ];

    /// The column value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Held => "held",
        }
    }

    /// Parses a column value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether a new copy may re-plan a row in this state. Claimed, delivered and failed rows
    /// stay as they are: the event is never sent twice (DESIGN §5).
    pub const fn replannable(self) -> bool {
        matches!(self, Self::Pending | Self::Skipped | Self::Held)
    }
}

/// The state of an event as a whole (`events.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Some row still waits to be sent.
    Pending,
    /// Held back as an unverified browser purchase.
    Unverified,
    /// Every row is final (delivered, failed or skipped).
    Done,
}

impl EventStatus {
    /// The column value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Unverified => "unverified",
            Self::Done => "done",
        }
    }

    /// What one row in state `row` says about its event on its own.
    pub const fn of_row(row: RowStatus) -> Self {
        match row {
            RowStatus::Pending | RowStatus::Sending => Self::Pending,
            RowStatus::Held => Self::Unverified,
            RowStatus::Delivered | RowStatus::Failed | RowStatus::Skipped => Self::Done,
        }
    }

    /// How urgent a state is: an event takes the most urgent state of its rows.
    const fn urgency(self) -> u8 {
        match self {
            Self::Done => 0,
            Self::Unverified => 1,
            Self::Pending => 2,
        }
    }

    /// The event's state from its rows' states: pending while any row waits or is being sent,
    /// unverified while one is held, done when every row is final.
    pub fn of(rows: impl IntoIterator<Item = RowStatus>) -> Self {
        rows.into_iter()
            .map(Self::of_row)
            .max_by_key(|s| s.urgency())
            .unwrap_or(Self::Done)
    }

    /// The row states that make an event this state on their own (storage evaluates
    /// [`EventStatus::of`] in SQL from these sets, so the rule is written once).
    pub fn implied_by(self) -> impl Iterator<Item = RowStatus> {
        RowStatus::ALL
            .into_iter()
            .filter(move |r| Self::of_row(*r) == self)
    }
}

/// Why a held row is held.
pub const UNVERIFIED_REASON: &str =
    "unverified: a browser-reported purchase waits for the shop's copy or a signed order token";

/// One outbox row as planned for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRow {
    /// Destination.
    pub platform: Platform,
    /// `Pending`, `Held` or `Skipped`.
    pub status: RowStatus,
    /// When it is first due (Unix ms).
    pub next_attempt_at_ms: u64,
    /// Why it is skipped or held.
    pub reason: Option<String>,
}

/// An outbox row as read back from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRow {
    /// Destination.
    pub platform: Platform,
    /// Its state.
    pub status: RowStatus,
    /// When it is due (kept for pending rows: a retry's backoff or the first copy's timer).
    pub next_attempt_at_ms: u64,
}

/// How the rows of an event are planned from its (merged) record at `now_ms`.
///
/// Returns no rows for an event nobody mapped. Destinations that are switched off get no row;
/// a Google event without a conversion action gets none either (a setup question shown in
/// health, not a per-event fact).
#[must_use]
pub fn plan_rows(record: &EventRecord, settings: &Settings, now_ms: u64) -> Vec<PlannedRow> {
    let Some(event) = record.to_outbound(&settings.mappings, &settings.regions) else {
        return Vec::new();
    };
    let held = settings.hold_unverified && record.awaits_corroboration(&settings.mappings);
    // DESIGN §5: real-time events wait a short merge window so the pixel's and the backend's
    // copies meet; batched ones are flushed by the cron at its next run.
    let due = match event.mapping.path {
        DeliveryPath::RealTime => now_ms.saturating_add(settings.merge_window_ms),
        DeliveryPath::Batched => now_ms,
    };
    let mut rows = Vec::new();
    for (platform, owned) in route(&event, &settings.conversion_actions) {
        if !platform.enabled(settings) {
            continue;
        }
        let row = match owned {
            Err(NotSent::NoConversionAction) => continue,
            Err(reason) => PlannedRow {
                platform,
                status: RowStatus::Skipped,
                next_attempt_at_ms: now_ms,
                reason: Some(reason.to_string()),
            },
            Ok(()) if held => PlannedRow {
                platform,
                status: RowStatus::Held,
                next_attempt_at_ms: due,
                reason: Some(UNVERIFIED_REASON.to_owned()),
            },
            // data-manager.md §2: Data Manager documents no minimum wait after a click (the 6-hour
            // TOO_RECENT_EVENT wait was the Ads API's), so offline conversions are due at once.
            Ok(()) => PlannedRow {
                platform,
                status: RowStatus::Pending,
                next_attempt_at_ms: due,
                reason: None,
            },
        };
        rows.push(row);
    }
    rows
}

/// What a copy did to its event; the word the APIs report for it is [`CopyOutcome::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOutcome {
    /// The first copy.
    New,
    /// Merged into an earlier copy that has not been sent yet.
    Merged,
    /// Some platform already has the event; this copy only recorded its source.
    Duplicate,
    /// The copy names another event under an ID already taken, without the authority to
    /// replace it (`trust`): refused, nothing changed.
    Conflict,
    /// A browser copy of another visit than the record's (`trust::same_visit`) without more
    /// authority: left out, nothing changed.
    Untied,
}

impl CopyOutcome {
    /// The per-event result word of `/_ar/events` and `/_ar/collect`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "accepted",
            Self::Merged => "merged",
            Self::Duplicate => "duplicate",
            Self::Conflict => "conflict",
            Self::Untied => "untied",
        }
    }
}

/// The rows to write after a copy merged, the event's resulting state, and what the copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMerge {
    /// Rows to insert or overwrite (only rows that are new or re-plannable).
    pub writes: Vec<PlannedRow>,
    /// The event's state once written.
    pub event_status: EventStatus,
    /// What the copy did.
    pub outcome: CopyOutcome,
}

/// Combines freshly planned rows with the rows already stored for an event (`existed`: whether
/// the event row itself was stored before this copy).
///
/// A row that is claimed, delivered or failed is kept as is. A pending row keeps its due time,
/// so a second copy neither resets a retry's backoff nor postpones the first copy's timer.
#[must_use]
pub fn merge_rows(existed: bool, existing: &[ExistingRow], planned: Vec<PlannedRow>) -> RowMerge {
    let mut writes = Vec::new();
    let mut states: Vec<RowStatus> = existing
        .iter()
        .filter(|e| !planned.iter().any(|p| p.platform == e.platform))
        .map(|e| e.status)
        .collect();
    for mut row in planned {
        match existing.iter().find(|e| e.platform == row.platform) {
            Some(old) if !old.status.replannable() => states.push(old.status),
            Some(old) => {
                if old.status == RowStatus::Pending && row.status == RowStatus::Pending {
                    row.next_attempt_at_ms = old.next_attempt_at_ms;
                }
                states.push(row.status);
                writes.push(row);
            }
            None => {
                states.push(row.status);
                writes.push(row);
            }
        }
    }
    let sent = existing
        .iter()
        .any(|e| matches!(e.status, RowStatus::Delivered | RowStatus::Sending));
    let outcome = if sent {
        CopyOutcome::Duplicate
    } else if existed || !existing.is_empty() {
        CopyOutcome::Merged
    } else {
        CopyOutcome::New
    };
    RowMerge {
        writes,
        event_status: EventStatus::of(states),
        outcome,
    }
}

#[cfg(test)]
mod tests;
