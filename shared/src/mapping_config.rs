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
    /// A field's value is not one the field accepts (console and API input).
    #[error("event mapping for {event:?}: `{field}` {problem}")]
    Field {
        /// The event.
        event: String,
        /// The field at fault.
        field: String,
        /// What is wrong and what is accepted.
        problem: String,
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

impl MappingError {
    /// The field at fault, for an API answer: `event`, `meta`, `ga4`, `ads_category`, `path`,
    /// `key`, or `body` when the JSON itself is wrong.
    pub fn field(&self) -> String {
        match self {
            Self::Json(_) => "body".into(),
            Self::EventName { .. } => "event".into(),
            Self::Missing { field, .. } | Self::BadName { field, .. } => (*field).into(),
            Self::Field { field, .. } => field.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    events: BTreeMap<String, MappingEntry>,
}

/// One event's entry as written: in `EVENT_MAPPING`, in the admin API's JSON and in the console's
/// form. Fields left out take the standard event's value (custom events must name `meta` and
/// `ga4`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingEntry {
    /// Meta event name.
    pub meta: Option<String>,
    /// GA4 event name.
    pub ga4: Option<String>,
    /// Google Ads conversion-action category.
    pub ads_category: Option<AdsCategory>,
    /// Real-time or batched.
    pub path: Option<DeliveryPath>,
    /// Business key.
    pub key: Option<BusinessKey>,
}

/// The fields a [`MappingEntry`] has, in the order the console shows them.
pub const ENTRY_FIELDS: [&str; 5] = ["meta", "ga4", "ads_category", "path", "key"];

impl MappingEntry {
    /// An entry from form fields (`meta=…&ga4=…&path=batched`); empty values count as left out.
    ///
    /// # Errors
    /// [`MappingError::Field`] naming an unknown field or a value the field does not accept.
    pub fn from_pairs<'a>(
        event: &str,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, MappingError> {
        let mut entry = Self::default();
        for (field, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let bad = |problem: String| MappingError::Field {
                event: event.into(),
                field: field.into(),
                problem,
            };
            match field {
                "meta" => entry.meta = Some(value.to_owned()),
                "ga4" => entry.ga4 = Some(value.to_owned()),
                "ads_category" => {
                    let accepted =
                        "Google's ConversionActionCategory names (DEFAULT, PURCHASE, SIGNUP, …)";
                    entry.ads_category = Some(parse_choice(value, accepted, bad)?);
                }
                "path" => {
                    let accepted = "real_time, batched";
                    entry.path = Some(parse_choice(value, accepted, bad)?);
                }
                "key" => {
                    let accepted: Vec<&str> = BusinessKey::ALL.iter().map(|k| k.as_str()).collect();
                    entry.key = Some(BusinessKey::from_name(value).ok_or_else(|| {
                        bad(format!("= {value:?} is not one of {}", accepted.join(", ")))
                    })?);
                }
                _ => {
                    return Err(bad(format!(
                        "is not a mapping field: use {}",
                        ENTRY_FIELDS.join(", ")
                    )));
                }
            }
        }
        Ok(entry)
    }

    /// `event`'s entry from the admin API's JSON object.
    ///
    /// # Errors
    /// [`MappingError::Field`] naming a field whose value is wrong, [`MappingError::Json`] for
    /// anything else (not JSON, an unknown field).
    pub fn from_json(event: &str, json: &str) -> Result<Self, MappingError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if ENTRY_FIELDS.contains(&path.as_str()) {
                MappingError::Field {
                    event: event.into(),
                    field: path,
                    problem: inner.to_string(),
                }
            } else {
                MappingError::Json(inner.to_string())
            }
        })
    }

    /// The effective mapping of `event` with this entry, checked by the same rules as
    /// `EVENT_MAPPING`.
    ///
    /// # Errors
    /// [`MappingError`] naming the event and field at fault.
    pub fn resolve(self, event: &str) -> Result<(EventName, EventMapping), MappingError> {
        let name: EventName = event.parse().map_err(|reason| MappingError::EventName {
            event: event.to_owned(),
            reason,
        })?;
        let mapping = resolve_entry(event, &name, self)?;
        Ok((name, mapping))
    }
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
            let (_, mapping) = entry.resolve(&key)?;
            overrides.insert(key, mapping);
        }
        Ok(Self { overrides })
    }

    /// These mappings with `entries` (the console's, stored in D1) on top: an entry replaces the
    /// deploy-time one (`EVENT_MAPPING`) or the standard one for its event.
    #[must_use]
    pub fn with_entries<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a str, &'a EventMapping)>,
    ) -> Self {
        let mut overrides = self.overrides.clone();
        for (event, mapping) in entries {
            overrides.insert(event.to_owned(), mapping.clone());
        }
        Self { overrides }
    }

    /// Whether `event` has an entry here (deploy-time or console), not only the standard one.
    pub fn has_entry(&self, event: &str) -> bool {
        self.overrides.contains_key(event)
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

/// A serde enum value from its name, or the field's error listing what is accepted.
fn parse_choice<T: serde::de::DeserializeOwned>(
    value: &str,
    accepted: &str,
    bad: impl Fn(String) -> MappingError,
) -> Result<T, MappingError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| bad(format!("= {value:?} is not one of {accepted}")))
}

fn resolve_entry(
    key: &str,
    name: &EventName,
    entry: MappingEntry,
) -> Result<EventMapping, MappingError> {
    let base = standard(name);
    let missing = |field| MappingError::Missing {
        event: key.to_owned(),
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
    check_meta_name(key, &meta)?;
    check_ga4_name(key, &ga4)?;
    Ok(EventMapping {
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
    })
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

#[cfg(test)]
mod entry_tests {
    use super::*;

    #[test]
    fn form_fields_resolve_like_the_json_mapping() {
        let from_form = MappingEntry::from_pairs(
            "quiz.completed",
            [
                ("meta", "QuizCompleted"),
                ("ga4", "quiz_completed"),
                ("ads_category", "LEAD"),
                ("path", "real_time"),
                ("key", "lead_id"),
            ],
        )
        .unwrap()
        .resolve("quiz.completed")
        .unwrap();
        let from_json = Mappings::from_json(
            r#"{"events":{"quiz.completed":{"meta":"QuizCompleted","ga4":"quiz_completed","ads_category":"LEAD","path":"real_time","key":"lead_id"}}}"#,
        )
        .unwrap();
        assert_eq!(Some(from_form.1), from_json.lookup(&from_form.0));
    }

    #[test]
    fn empty_form_fields_take_the_standard_value() {
        let (_, m) = MappingEntry::from_pairs("cart.added", [("meta", "AddToBasket"), ("ga4", "")])
            .unwrap()
            .resolve("cart.added")
            .unwrap();
        assert_eq!(
            (m.meta.as_str(), m.ga4.as_str()),
            ("AddToBasket", "add_to_cart")
        );
    }

    #[test]
    fn bad_form_and_api_input_names_the_field() {
        let cases: [(&[(&str, &str)], &str); 4] = [
            (
                &[("path", "slow")],
                "`path` = \"slow\" is not one of real_time, batched",
            ),
            (
                &[("key", "order")],
                "`key` = \"order\" is not one of order_id",
            ),
            (&[("ads_category", "purchase")], "`ads_category`"),
            (&[("colour", "red")], "`colour` is not a mapping field"),
        ];
        for (pairs, needle) in cases {
            let err = MappingEntry::from_pairs("quiz.done", pairs.iter().copied())
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
        let err =
            MappingEntry::from_json("quiz.done", r#"{"meta":"Q","ga4":"q","paht":"batched"}"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("paht"), "{err}");
        let err = MappingEntry::from_json("quiz.done", r#"{"meta":"Q","ga4":"q","path":"slow"}"#)
            .unwrap_err();
        assert_eq!(err.field(), "path", "{err}");
        let err = MappingEntry::from_json("quiz.done", r#"{"meta":"Q","ga4":"page_view"}"#)
            .unwrap()
            .resolve("quiz.done")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`ga4`") && err.contains("reserves"), "{err}");
    }

    #[test]
    fn console_entries_override_the_deploy_time_mapping() {
        let deploy = Mappings::from_json(
            r#"{"events":{"quiz.completed":{"meta":"QuizCompleted","ga4":"quiz_completed"}}}"#,
        )
        .unwrap();
        let (name, console) =
            MappingEntry::from_json("quiz.completed", r#"{"meta":"QuizDone","ga4":"quiz_done"}"#)
                .unwrap()
                .resolve("quiz.completed")
                .unwrap();
        let live = deploy.with_entries([("quiz.completed", &console)]);
        assert_eq!(live.lookup(&name).unwrap().meta, "QuizDone");
        assert_eq!(deploy.lookup(&name).unwrap().meta, "QuizCompleted");
        assert!(live.has_entry("quiz.completed") && !live.has_entry("cart.added"));
    }
}
