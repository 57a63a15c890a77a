//! What `/_ar/events` answers the merchant backend: one result per event, in order, so that one
//! bad event never hides what happened to the others (DESIGN §5 "One bad event never sinks a
//! batch"), and the rule for "insufficient context" (DESIGN §3).
//!
//! ```json
//! {"results": [{"index": 0, "event_id": "…", "status": "accepted"},
//!              {"index": 1, "status": "rejected", "error": {"field": "currency", "message": "…"}},
//!              {"index": 2, "event_id": "…", "status": "merged",
//!               "warnings": ["user.phone: is not a phone number…"],
//!               "match_quality": {"points": 42, "identifiers": ["em", "client_ip_address"],
//!                                 "missing": ["ph", "fbc", …]}}],
//!  "accepted": 2, "rejected": 1}
//! ```
//!
//! Statuses: `accepted` (first copy), `merged` (joined an unsent copy), `duplicate` (already
//! sent; only its source was recorded), `rejected` (not stored: `error` says why; `retryable`
//! when the fault was ours, so sending it again later may succeed).

use serde::Serialize;

use crate::pii::FieldProblem;
use crate::record::EventRecord;
use crate::wire::ValidationError;

/// Warning given to a server event that cannot be a Meta website event (DESIGN §3).
pub const INSUFFICIENT_CONTEXT: &str = "insufficient_context: no client.user_agent and no \
     session_id matching a visit; Meta needs the shopper's user agent for a website event, so \
     pass session_id (the _ar_sid cookie) or client.user_agent";

/// What happened to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// The first copy of the event.
    Accepted,
    /// Merged into an earlier copy not sent yet.
    Merged,
    /// Already sent; this copy only recorded its source.
    Duplicate,
    /// Not stored.
    Rejected,
}

impl From<crate::delivery::plan::CopyOutcome> for ReportStatus {
    fn from(outcome: crate::delivery::plan::CopyOutcome) -> Self {
        use crate::delivery::plan::CopyOutcome;
        match outcome {
            CopyOutcome::New => Self::Accepted,
            CopyOutcome::Merged => Self::Merged,
            CopyOutcome::Duplicate => Self::Duplicate,
            // Only a browser copy is left out so, never one of `/_ar/events`.
            CopyOutcome::Conflict | CopyOutcome::Untied => Self::Rejected,
        }
    }
}

impl ReportStatus {
    /// Whether the event was stored.
    pub const fn is_stored(self) -> bool {
        !matches!(self, Self::Rejected)
    }
}

/// Why an event was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventError {
    /// The field (JSON path), `body` for the event as a whole, `server` for our own fault.
    pub field: String,
    /// What is wrong, in words a merchant can act on.
    pub message: String,
}

/// A stored copy's match-quality estimate (Meta's view, `match_quality`), so a shop's developer
/// sees weak events at integration time: the score, the identifiers it carried (after its
/// visit's stored context was added) and the most valuable ones it lacked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualityReport {
    /// The estimate, 0–100 points (a tenth of it is the score of 10 Meta shows).
    pub points: u8,
    /// Meta match keys present (`em`, `ph`, `fbc`, `client_ip_address`, …).
    pub identifiers: Vec<&'static str>,
    /// Keys missing that would raise the score, most valuable first (at most 5).
    pub missing: Vec<&'static str>,
}

impl QualityReport {
    /// The estimate for `record`.
    pub fn of(record: &EventRecord) -> Self {
        let quality = record.match_quality();
        Self {
            points: quality.points,
            identifiers: crate::match_quality::MatchKey::ALL
                .iter()
                .filter(|k| !quality.missing.contains(k))
                .map(|k| k.meta_name())
                .collect(),
            missing: quality
                .missing
                .iter()
                .take(5)
                .map(|k| k.meta_name())
                .collect(),
        }
    }
}

/// One event's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventResult {
    /// Position in the request's `events` array.
    pub index: usize,
    /// The stable event ID, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// What happened.
    pub status: ReportStatus,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<EventError>,
    /// A rejection caused by our side (storage); sending the event again later may succeed.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub retryable: bool,
    /// Stored, but no Meta website event can be built from it (DESIGN §3).
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub insufficient_context: bool,
    /// Fields dropped while hashing, and other problems that did not stop the event.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// A stored copy's match-quality estimate and identifiers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_quality: Option<Box<QualityReport>>,
}

impl EventResult {
    /// A stored event.
    pub fn stored(
        index: usize,
        event_id: String,
        status: ReportStatus,
        warnings: Vec<String>,
    ) -> Self {
        Self {
            index,
            event_id: Some(event_id),
            status,
            error: None,
            retryable: false,
            insufficient_context: warnings.iter().any(|w| w == INSUFFICIENT_CONTEXT),
            warnings,
            match_quality: None,
        }
    }

    /// The result of a stored copy: its outcome, or a rejection when its ID belongs to another
    /// event (`trust`: an ID cannot be borrowed).
    pub fn of_copy(
        index: usize,
        event_id: String,
        outcome: crate::delivery::plan::CopyOutcome,
        warnings: Vec<String>,
    ) -> Self {
        if outcome == crate::delivery::plan::CopyOutcome::Conflict {
            let conflict = ValidationError::new(
                "event_id",
                "belongs to another event; leave event_id out or use the ID its business key gives",
            );
            return Self::invalid(index, Some(event_id), &conflict);
        }
        Self::stored(index, event_id, outcome.into(), warnings)
    }

    /// An event rejected for what it holds.
    pub fn invalid(index: usize, event_id: Option<String>, error: &ValidationError) -> Self {
        Self {
            index,
            event_id,
            status: ReportStatus::Rejected,
            error: Some(EventError {
                field: error.field.clone(),
                message: error.to_string(),
            }),
            retryable: false,
            insufficient_context: false,
            warnings: Vec::new(),
            match_quality: None,
        }
    }

    /// An event we could not store (our fault; the message holds no event data).
    pub fn failed(index: usize, event_id: String, message: &str) -> Self {
        Self {
            index,
            event_id: Some(event_id),
            status: ReportStatus::Rejected,
            error: Some(EventError {
                field: "server".into(),
                message: message.to_owned(),
            }),
            retryable: true,
            insufficient_context: false,
            warnings: Vec::new(),
            match_quality: None,
        }
    }
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchReport {
    /// One per event, in order.
    pub results: Vec<EventResult>,
    /// How many were stored (accepted, merged or duplicate).
    pub accepted: usize,
    /// How many were rejected.
    pub rejected: usize,
}

impl BatchReport {
    /// Counts the results.
    pub fn new(results: Vec<EventResult>) -> Self {
        let accepted = results.iter().filter(|r| r.status.is_stored()).count();
        Self {
            rejected: results.len() - accepted,
            accepted,
            results,
        }
    }
}

/// DESIGN §3: "A server event with neither a user agent nor a session match cannot be a Meta
/// website event": true when the record (after filling from its session) has no user agent and
/// no stored session context was found for it.
pub fn has_insufficient_context(record: &EventRecord, session_matched: bool) -> bool {
    record.session.user_agent.is_none() && !session_matched
}

/// The warnings of a copy: each field dropped while hashing (never its value), then the
/// insufficient-context warning when it applies.
pub fn warnings(problems: &[FieldProblem], insufficient_context: bool) -> Vec<String> {
    problems
        .iter()
        .map(ToString::to_string)
        .chain(insufficient_context.then(|| INSUFFICIENT_CONTEXT.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping_config::Mappings;
    use crate::pii::hash_user_data;
    use crate::record::{SessionContext, Source};
    use crate::wire::{ValidationContext, parse_event, validate};

    fn record(json: &str) -> (EventRecord, Vec<FieldProblem>) {
        let mappings = Mappings::default();
        let ev = validate(
            parse_event(json.as_bytes()).unwrap(),
            ValidationContext {
                mappings: &mappings,
                now_ms: 1_764_000_000_000,
                random: [1; 16],
            },
        )
        .unwrap();
        let (user, problems) = hash_user_data(&ev.user, "US");
        (
            EventRecord::from_copy(&ev, user, SessionContext::default(), Source::Server),
            problems,
        )
    }

    #[test]
    fn stored_results_carry_the_copys_match_quality_and_identifiers() {
        let mappings = Mappings::default();
        let ev = validate(
            parse_event(
                br#"{"event":"user.signed_up","user_id":"q-1","user":{"email":"a@example.com"}}"#,
            )
            .unwrap(),
            ValidationContext {
                mappings: &mappings,
                now_ms: 1_764_000_000_000,
                random: [0; 16],
            },
        )
        .unwrap();
        let (user, _) = hash_user_data(&ev.user, "US");
        let record = EventRecord::from_copy(&ev, user, SessionContext::default(), Source::Server);
        let q = QualityReport::of(&record);
        assert_eq!(q.identifiers, ["em"]);
        assert!(
            q.points > 0 && q.missing.len() == 5 && !q.missing.contains(&"em"),
            "{q:?}"
        );
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json["identifiers"][0], "em");
    }

    #[test]
    fn a_server_event_without_user_agent_or_session_has_insufficient_context() {
        let (r, _) = record(r#"{"event":"lead.submitted","lead_id":"L1"}"#);
        assert!(has_insufficient_context(&r, false));
        assert!(!has_insufficient_context(&r, true));
        let (r, _) = record(
            r#"{"event":"lead.submitted","lead_id":"L1","client":{"user_agent":"Mozilla/5.0"}}"#,
        );
        assert!(!has_insufficient_context(&r, false));
    }

    #[test]
    fn hashing_problems_become_warnings_without_the_value() {
        let (_, problems) =
            record(r#"{"event":"lead.submitted","lead_id":"L1","user":{"phone":"12"}}"#);
        let w = warnings(&problems, true);
        assert!(w.iter().any(|w| w.starts_with("user.phone")), "{w:?}");
        assert!(w.iter().all(|w| !w.contains("\"12\"")), "{w:?}");
        assert_eq!(w.last().map(String::as_str), Some(INSUFFICIENT_CONTEXT));
    }

    #[test]
    fn the_report_counts_and_serializes_as_documented() {
        let bad = ValidationError {
            field: "currency".into(),
            problem: "required when value is set".into(),
        };
        let report = BatchReport::new(vec![
            EventResult::stored(0, "ar1_x".into(), ReportStatus::Accepted, Vec::new()),
            EventResult::invalid(1, None, &bad),
            EventResult::stored(
                2,
                "ar1_y".into(),
                ReportStatus::Merged,
                vec![INSUFFICIENT_CONTEXT.into()],
            ),
        ]);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["accepted"], 2);
        assert_eq!(json["rejected"], 1);
        assert_eq!(
            json["results"][0],
            serde_json::json!({"index": 0, "event_id": "ar1_x", "status": "accepted"})
        );
        assert_eq!(json["results"][1]["error"]["field"], "currency");
        assert_eq!(
            json["results"][1]["error"]["message"],
            "currency: required when value is set"
        );
        assert_eq!(json["results"][2]["insufficient_context"], true);
        assert_eq!(json["results"][2]["status"], "merged");
    }
}
