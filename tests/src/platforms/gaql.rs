//! A very small Google Ads Query Language subset for the fake `googleAds:search`: enough for a
//! worker to list its conversion actions (reference/google.md §2, "Look up IDs: GAQL `SELECT
//! conversion_action.id, conversion_action.name FROM conversion_action`").
//!
//! Supported: `SELECT a.b, … FROM conversion_action [WHERE f = 'v' AND f != 'v' AND f IN ('a','b')]
//! [LIMIT n]`. `ORDER BY` is accepted and ignored. Anything else is a `queryError`.

use serde_json::{Map, Value, json};

use super::google_account::GoogleAccount;
use super::google_error::AdsError;
use crate::checks::snake_to_lower_camel;

/// One `WHERE` condition.
#[derive(Debug, Clone)]
struct Condition {
    field: String,
    negate: bool,
    values: Vec<String>,
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    fields: Vec<String>,
    conditions: Vec<Condition>,
    limit: Option<usize>,
}

fn query_error(code: &str, message: &str) -> AdsError {
    AdsError::new("queryError", code, message, Vec::new())
}

fn unquote(v: &str) -> String {
    v.trim().trim_matches(|c| c == '\'' || c == '"').to_owned()
}

/// Finds a keyword (case-insensitive, surrounded by spaces) and splits around it.
fn split_keyword<'a>(text: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let upper = text.to_ascii_uppercase();
    let needle = format!(" {keyword} ");
    let at = upper.find(&needle)?;
    Some((&text[..at], &text[at + needle.len()..]))
}

impl Query {
    /// Parses a query.
    ///
    /// # Errors
    /// `queryError` for anything outside the subset.
    pub fn parse(query: &str) -> Result<Self, AdsError> {
        let q = format!(
            " {} ",
            query.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        let Some((_, rest)) = split_keyword(&q, "SELECT") else {
            return Err(query_error("EXPECTED_SELECT", "Expected SELECT."));
        };
        let Some((select, rest)) =
            split_keyword(&format!(" {rest} "), "FROM").map(|(a, b)| (a.to_owned(), b.to_owned()))
        else {
            return Err(query_error("EXPECTED_FROM", "Expected FROM."));
        };
        let rest = format!(" {rest} ");
        let (rest, limit) = match split_keyword(&rest, "LIMIT") {
            Some((r, l)) => (
                r.to_owned(),
                Some(
                    l.trim()
                        .parse()
                        .map_err(|_| query_error("INVALID_LIMIT", "LIMIT must be a number."))?,
                ),
            ),
            None => (rest.clone(), None),
        };
        let rest = format!(" {rest} ");
        let rest = split_keyword(&rest, "ORDER BY").map_or(rest.clone(), |(r, _)| r.to_owned());
        let rest = format!(" {rest} ");
        let (resource, conditions) = match split_keyword(&rest, "WHERE") {
            Some((r, w)) => (r.trim().to_owned(), parse_conditions(w)?),
            None => (rest.trim().to_owned(), Vec::new()),
        };
        if resource != "conversion_action" {
            return Err(query_error(
                "BAD_RESOURCE_TYPE_IN_FROM_CLAUSE",
                "The sandbox only serves FROM conversion_action.",
            ));
        }
        let fields: Vec<String> = select
            .split(',')
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect();
        if fields.is_empty() || fields.iter().any(|f| !f.starts_with("conversion_action.")) {
            return Err(query_error(
                "PROHIBITED_FIELD_IN_SELECT_CLAUSE",
                "Only conversion_action fields can be selected.",
            ));
        }
        Ok(Self {
            fields,
            conditions,
            limit,
        })
    }

    /// `conversionAction.id,conversionAction.name`
    pub fn field_mask(&self) -> String {
        self.fields
            .iter()
            .map(|f| snake_to_lower_camel(f))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The matching rows, each `{"conversionAction": {resourceName, <selected fields>}}`.
    pub fn run(&self, account: &GoogleAccount, customer: &str) -> Vec<Value> {
        account
            .actions
            .iter()
            .map(|a| a.to_json(customer))
            .filter(|full| self.conditions.iter().all(|c| c.matches(full)))
            .take(self.limit.unwrap_or(usize::MAX))
            .map(|full| {
                let mut picked = Map::new();
                if let Some(r) = full.get("resourceName") {
                    picked.insert("resourceName".into(), r.clone());
                }
                for f in &self.fields {
                    let key = snake_to_lower_camel(f.trim_start_matches("conversion_action."));
                    if let Some(v) = full.get(&key) {
                        picked.insert(key, v.clone());
                    }
                }
                json!({ "conversionAction": picked })
            })
            .collect()
    }
}

fn parse_conditions(text: &str) -> Result<Vec<Condition>, AdsError> {
    let mut out = Vec::new();
    let mut rest = format!(" {} ", text.trim());
    loop {
        let (head, tail) = match split_keyword(&rest, "AND") {
            Some((h, t)) => (h.to_owned(), Some(t.to_owned())),
            None => (rest.clone(), None),
        };
        out.push(parse_condition(head.trim())?);
        match tail {
            Some(t) => rest = format!(" {t} "),
            None => return Ok(out),
        }
    }
}

fn parse_condition(text: &str) -> Result<Condition, AdsError> {
    let bad = || {
        query_error(
            "UNEXPECTED_INPUT",
            &format!("Cannot parse condition {text:?}."),
        )
    };
    let padded = format!(" {text} ");
    if let Some((field, list)) =
        split_keyword(&padded, "NOT IN").or_else(|| split_keyword(&padded, "IN"))
    {
        let negate = padded.to_ascii_uppercase().contains(" NOT IN ");
        let values = list
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(unquote)
            .collect();
        return Ok(Condition {
            field: field.trim().to_owned(),
            negate,
            values,
        });
    }
    let (field, value, negate) = if let Some((f, v)) = text.split_once("!=") {
        (f, v, true)
    } else if let Some((f, v)) = text.split_once('=') {
        (f, v, false)
    } else {
        return Err(bad());
    };
    Ok(Condition {
        field: field.trim().to_owned(),
        negate,
        values: vec![unquote(value)],
    })
}

impl Condition {
    fn matches(&self, action: &Value) -> bool {
        let key = snake_to_lower_camel(self.field.trim_start_matches("conversion_action."));
        let actual = match action.get(&key) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        self.values.contains(&actual) != self.negate
    }
}
