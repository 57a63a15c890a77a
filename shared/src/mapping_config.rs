//! The merchant's custom event mapping: JSON that adds events or overrides the standard table.
//!
//! ```json
//! {"events": {
//!   "quiz.completed": {"meta": "QuizCompleted", "ga4": "quiz_completed",
//!                      "ads_category": "DEFAULT", "path": "batched", "key": "lead_id"},
//!   "cart.added": {"path": "real_time"}
//! }}
//! ```
//! A standard event may override any subset of fields; a custom event must name `meta` and `ga4`
//! (the rest defaults to `DEFAULT`, `batched`, no business key). Invalid configuration is
//! rejected whole, with the event and field named, so a typo never silently drops events.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::event::EventName;
use crate::mapping::{AdsCategory, BusinessKey, DeliveryPath, EventMapping, standard};

/// Meta: custom event names must be under 50 characters (meta-capi.md §1.3, "custom events").
const META_NAME_MAX: usize = 50;
/// GA4: event names ≤ 40 characters matching `^[A-Za-z][A-Za-z0-9_]*$` (google.md §4, limits).
const GA4_NAME_MAX: usize = 40;
/// GA4 reserves these prefixes (google.md §4 validation code `NAME_RESERVED`).
const GA4_RESERVED_PREFIXES: [&str; 4] = ["_", "firebase_", "ga_", "google_"];

/// The effective mapping: the standard table with the merchant's additions and overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mappings {
    overrides: BTreeMap<String, EventMapping>,
}

/// Why a mapping configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Not JSON, or the wrong shape (the message says where).
    #[error("event mapping is not valid JSON of the documented shape: {0}")]
    Json(String),
    /// An event key is not a valid event name.
    #[error("event mapping: {event:?} is not a valid event name: {reason}")]
    EventName {
        /// The key as written.
        event: String,
        /// Why it is not a name.
        reason: crate::event::EventNameError,
    },
    /// A custom event lacks a required field.
    #[error("event mapping for {event:?}: custom events must set `{field}`")]
    Missing {
        /// The event.
        event: String,
        /// The missing field.
        field: &'static str,
    },
    /// A platform name breaks that platform's naming rules.
    #[error("event mapping for {event:?}: `{field}` = {value:?} {problem}")]
    BadName {
        /// The event.
        event: String,
        /// `meta` or `ga4`.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What rule it breaks.
        problem: &'static str,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    events: BTreeMap<String, RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    meta: Option<String>,
    ga4: Option<String>,
    ads_category: Option<AdsCategory>,
    path: Option<DeliveryPath>,
    key: Option<BusinessKey>,
}

impl Mappings {
    /// Parses a mapping configuration. An empty string means "standard table only".
    ///
    /// # Errors
    /// [`MappingError`] naming the event and field at fault.
    pub fn from_json(json: &str) -> Result<Self, MappingError> {
        if json.trim().is_empty() {
            return Ok(Self::default());
        }
        let raw: RawConfig =
            serde_json::from_str(json).map_err(|e| MappingError::Json(e.to_string()))?;
        let mut overrides = BTreeMap::new();
        for (key, entry) in raw.events {
            let name: EventName = key.parse().map_err(|reason| MappingError::EventName {
                event: key.clone(),
                reason,
            })?;
            let base = standard(&name);
            let missing = |field| MappingError::Missing {
                event: key.clone(),
                field,
            };
            let meta = match (entry.meta, &base) {
                (Some(m), _) => m,
                (None, Some(b)) => b.meta.clone(),
                (None, None) => return Err(missing("meta")),
            };
            let ga4 = match (entry.ga4, &base) {
                (Some(g), _) => g,
                (None, Some(b)) => b.ga4.clone(),
                (None, None) => return Err(missing("ga4")),
            };
            check_meta_name(&key, &meta)?;
            check_ga4_name(&key, &ga4)?;
            let mapping = EventMapping {
                meta,
                ga4,
                ads_category: entry
                    .ads_category
                    .or(base.as_ref().map(|b| b.ads_category))
                    .unwrap_or(AdsCategory::Default),
                path: entry
                    .path
                    .or(base.as_ref().map(|b| b.path))
                    .unwrap_or(DeliveryPath::Batched),
                key: entry
                    .key
                    .or(base.as_ref().map(|b| b.key))
                    .unwrap_or(BusinessKey::None),
            };
            overrides.insert(key, mapping);
        }
        Ok(Self { overrides })
    }

    /// The mapping for `event`: the merchant's entry, else the standard one; `None` for a custom
    /// event nobody mapped (the worker rejects it with a message saying so).
    pub fn lookup(&self, event: &EventName) -> Option<EventMapping> {
        self.overrides
            .get(event.as_str())
            .cloned()
            .or_else(|| standard(event))
    }
}

impl Mappings {
    /// Every mapped event: the standard table (with the merchant's overrides), then the custom
    /// events in name order. What the pixel is told (`browser::served`).
    pub fn all(&self) -> Vec<(EventName, EventMapping)> {
        let standard = EventName::STANDARD
            .iter()
            .filter_map(|e| Some((e.clone(), self.lookup(e)?)));
        let custom = self.overrides.iter().filter_map(|(name, m)| {
            let name: EventName = name.parse().ok()?;
            matches!(name, EventName::Custom(_)).then(|| (name, m.clone()))
        });
        standard.chain(custom).collect()
    }
}

fn check_meta_name(event: &str, value: &str) -> Result<(), MappingError> {
    let bad = |problem| MappingError::BadName {
        event: event.into(),
        field: "meta",
        value: value.into(),
        problem,
    };
    if value.is_empty() || value.chars().count() >= META_NAME_MAX {
        return Err(bad("must be 1 to 49 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("must not contain control characters"));
    }
    Ok(())
}

fn check_ga4_name(event: &str, value: &str) -> Result<(), MappingError> {
    let bad = |problem| MappingError::BadName {
        event: event.into(),
        field: "ga4",
        value: value.into(),
        problem,
    };
    let first_is_letter = value
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic());
    if value.len() > GA4_NAME_MAX
        || !first_is_letter
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(bad(
            "must match ^[A-Za-z][A-Za-z0-9_]*$ and be at most 40 characters",
        ));
    }
    if GA4_RESERVED_PREFIXES.iter().any(|p| value.starts_with(p)) {
        return Err(bad("uses a prefix GA4 reserves (firebase_, ga_, google_)"));
    }
    #[cfg(feature = "server")]
    if !crate::platform::ga4_rules::event_name_ok(value) {
        return Err(bad("is a name GA4 reserves (page_view, session_start, …)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_events_are_added_with_defaults() {
        let m = Mappings::from_json(
            r#"{"events":{"quiz.completed":{"meta":"QuizCompleted","ga4":"quiz_completed"}}}"#,
        )
        .unwrap();
        let q = m.lookup(&"quiz.completed".parse().unwrap()).unwrap();
        assert_eq!(q.meta, "QuizCompleted");
        assert_eq!(q.path, DeliveryPath::Batched);
        assert_eq!(q.key, BusinessKey::None);
        assert_eq!(q.ads_category, AdsCategory::Default);
    }

    #[test]
    fn standard_events_can_be_partly_overridden() {
        let m = Mappings::from_json(r#"{"events":{"cart.added":{"path":"real_time"}}}"#).unwrap();
        let c = m.lookup(&EventName::CartAdded).unwrap();
        assert_eq!(
            (c.meta.as_str(), c.path),
            ("AddToCart", DeliveryPath::RealTime)
        );
        assert_eq!(
            m.lookup(&EventName::Purchase),
            standard(&EventName::Purchase)
        );
    }

    #[test]
    fn all_lists_standard_events_with_overrides_then_custom_events() {
        let m = Mappings::from_json(
            r#"{"events":{"quiz.completed":{"meta":"QuizCompleted","ga4":"quiz_completed"},"cart.added":{"meta":"AddToBasket"}}}"#,
        )
        .unwrap();
        let all = m.all();
        assert_eq!(all.len(), 8);
        assert_eq!(all[0].0, EventName::Purchase);
        let cart = all
            .iter()
            .find(|(n, _)| *n == EventName::CartAdded)
            .unwrap();
        assert_eq!(cart.1.meta, "AddToBasket");
        assert_eq!(all[7].0.as_str(), "quiz.completed");
    }

    #[test]
    fn unmapped_custom_events_have_no_mapping() {
        assert_eq!(
            Mappings::default().lookup(&"quiz.completed".parse().unwrap()),
            None
        );
    }

    #[test]
    fn invalid_configuration_is_rejected_with_the_event_and_field_named() {
        let cases = [
            (
                r#"{"events":{"quiz.done":{"ga4":"quiz"}}}"#,
                "must set `meta`",
            ),
            (
                r#"{"events":{"quiz.done":{"meta":"Quiz","ga4":"page_view"}}}"#,
                "reserves",
            ),
            (
                r#"{"events":{"quiz.done":{"meta":"Quiz","ga4":"google_quiz"}}}"#,
                "reserves",
            ),
            (
                r#"{"events":{"quiz.done":{"meta":"Quiz","ga4":"9quiz"}}}"#,
                "^[A-Za-z]",
            ),
            (
                r#"{"events":{"Quiz Done":{"meta":"Quiz","ga4":"quiz"}}}"#,
                "not a valid event name",
            ),
            (
                r#"{"events":{"quiz.done":{"meta":"Quiz","ga4":"quiz","paht":"batched"}}}"#,
                "paht",
            ),
            (
                r#"{"events":{"quiz.done":{"meta":"Quiz","ga4":"quiz","path":"slow"}}}"#,
                "slow",
            ),
            (
                r#"{"events":{"quiz.done":{"meta":"","ga4":"quiz"}}}"#,
                "1 to 49",
            ),
            ("[]", "not valid JSON"),
        ];
        for (json, needle) in cases {
            let err = Mappings::from_json(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
