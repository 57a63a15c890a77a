//! The D1 codec: values bound to statements, and typed rows read back.
//!
//! Sets of values are passed to D1 as one JSON array bound to a single parameter and unpacked
//! with `json_each`, so a whole batch is one statement (D1 allows at most 100 bound parameters per
//! statement). Status columns are bound from `ar_shared`'s `as_str()` values, never typed into
//! SQL, so the enums stay the one definition of what a status is.

use ar_shared::delivery::plan::{EventStatus, RowStatus};
use ar_shared::platform::Platform;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

/// A Unix-ms timestamp or count as a JS number (exact below 2^53, which every value here is).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn num(v: u64) -> JsValue {
    JsValue::from_f64(v as f64)
}

/// A JS value for optional text.
pub(crate) fn text(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

/// A JSON array of `values`, for `json_each(?n)`.
pub(crate) fn json_list<'a>(values: impl IntoIterator<Item = &'a str>) -> JsValue {
    let list: Vec<&str> = values.into_iter().collect();
    JsValue::from_str(&serde_json::Value::from(list).to_string())
}

/// The column values of `statuses`, for `status IN (SELECT value FROM json_each(?n))`.
pub(crate) fn statuses(statuses: impl IntoIterator<Item = RowStatus>) -> JsValue {
    let list: Vec<&str> = statuses.into_iter().map(RowStatus::as_str).collect();
    json_list(list)
}

/// One status's column value.
pub(crate) fn status(s: RowStatus) -> JsValue {
    JsValue::from_str(s.as_str())
}

/// One event status's column value.
pub(crate) fn event_status(s: EventStatus) -> JsValue {
    JsValue::from_str(s.as_str())
}

/// One platform's column value.
pub(crate) fn platform(p: Platform) -> JsValue {
    JsValue::from_str(p.as_str())
}

/// Binds `values` to `sql`.
///
/// # Errors
/// When D1 rejects the bindings.
pub(crate) fn statement(
    db: &D1Database,
    sql: &str,
    values: &[JsValue],
) -> Result<D1PreparedStatement> {
    db.prepare(sql).bind(values)
}

/// The rows `sql` returns, typed.
///
/// # Errors
/// D1 failures, or rows that do not have the shape of `T`.
pub(crate) async fn all<T: for<'de> Deserialize<'de>>(
    db: &D1Database,
    sql: &str,
    values: &[JsValue],
) -> Result<Vec<T>> {
    statement(db, sql, values)?.all().await?.results::<T>()
}

/// A whole number as D1 hands it over (a JS number, sometimes fractional-typed, or null).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Whole(pub u64);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Whole;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Whole, E> {
                Ok(Whole(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Whole, E> {
                Ok(Whole(u64::try_from(v).unwrap_or(0)))
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Whole, E> {
                Ok(Whole(if v >= 0.0 { v as u64 } else { 0 }))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Whole, E> {
                Ok(Whole(0))
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<Whole, E> {
                Ok(Whole(0))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `platform` column.
pub(crate) fn parse_platform(s: &str) -> Option<Platform> {
    Platform::parse(s)
}

/// A `status` column.
pub(crate) fn parse_status(s: &str) -> Option<RowStatus> {
    RowStatus::parse(s)
}

/// A row with only an event id (`RETURNING event_id`).
#[derive(Debug, Deserialize)]
pub(crate) struct EventIdRow {
    /// The event.
    pub event_id: String,
}

/// A stored event: its record JSON and version.
#[derive(Debug, Deserialize)]
pub(crate) struct EventRow {
    /// The event.
    pub event_id: String,
    /// `EventRecord` JSON.
    pub record: String,
    /// Optimistic-concurrency version.
    #[serde(default)]
    pub version: Whole,
}

/// An outbox row as the merge needs it.
#[derive(Debug, Deserialize)]
pub(crate) struct OutboxRow {
    /// The event.
    pub event_id: String,
    /// `platform` column.
    pub platform: String,
    /// `status` column.
    pub status: String,
    /// Due time.
    pub next_attempt_at: Whole,
}

/// A claimed row (`RETURNING event_id, platform, attempts`).
#[derive(Debug, Deserialize)]
pub(crate) struct ClaimRow {
    /// The event.
    pub event_id: String,
    /// `platform` column, when the query returns it.
    #[serde(default)]
    pub platform: Option<String>,
    /// Attempts so far.
    pub attempts: Whole,
}
