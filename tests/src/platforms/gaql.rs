//! A very small Google Ads Query Language subset for the fake `googleAds:search`: enough for a
//! worker to list its conversion actions (reference/google.md §2, "Look up IDs: GAQL `SELECT
//! conversion_action.id, conversion_action.name FROM conversion_action`") and for the "Connect
//! Google" picker to walk the account hierarchy (`SELECT customer_client.client_customer, …
//! FROM customer_client WHERE customer_client.level <= 1`, the query of Google's
//! get-account-hierarchy sample, oauth.md §4.2).
//!
//! Supported: `SELECT r.f, … FROM conversion_action|customer_client [WHERE f = 'v' AND f != 'v'
//! AND f IN ('a','b') AND f <= 1 …] [LIMIT n]`, every selected field of the `FROM` resource.
//! `ORDER BY` is accepted and ignored. Anything else is a `queryError`.

use serde_json::{Map, Value, json};

use super::google_error::AdsError;
use crate::checks::snake_to_lower_camel;

/// The resources the subset serves, and the key their rows sit under.
const RESOURCES: [(&str, &str); 2] = [
    ("conversion_action", "conversionAction"),
    ("customer_client", "customerClient"),
];

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One `WHERE` condition.
#[derive(Debug, Clone)]
struct Condition {
    field: String,
    op: Op,
    values: Vec<String>,
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    resource: &'static str,
    row_key: &'static str,
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
        let Some((resource, row_key)) = RESOURCES.into_iter().find(|(r, _)| *r == resource) else {
            return Err(query_error(
                "BAD_RESOURCE_TYPE_IN_FROM_CLAUSE",
                "The sandbox only serves FROM conversion_action and FROM customer_client.",
            ));
        };
        let fields: Vec<String> = select
            .split(',')
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect();
        let prefix = format!("{resource}.");
        if fields.is_empty() || fields.iter().any(|f| !f.starts_with(&prefix)) {
            return Err(query_error(
                "PROHIBITED_FIELD_IN_SELECT_CLAUSE",
                &format!("Only {resource} fields can be selected."),
            ));
        }
        Ok(Self {
            resource,
            row_key,
            fields,
            conditions,
            limit,
        })
    }

    /// The `FROM` resource (`conversion_action`, `customer_client`).
    pub fn resource(&self) -> &'static str {
        self.resource
    }

    /// `conversionAction.id,conversionAction.name`
    pub fn field_mask(&self) -> String {
        self.fields
            .iter()
            .map(|f| snake_to_lower_camel(f))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The rows of `resources` (each a full REST resource) that match, with the selected fields
    /// and `resourceName`, each as `{"<resource>": {…}}`.
    pub fn run(&self, resources: impl IntoIterator<Item = Value>) -> Vec<Value> {
        let prefix = format!("{}.", self.resource);
        resources
            .into_iter()
            .filter(|full| self.conditions.iter().all(|c| c.matches(full, &prefix)))
            .take(self.limit.unwrap_or(usize::MAX))
            .map(|full| {
                let mut picked = Map::new();
                if let Some(r) = full.get("resourceName") {
                    picked.insert("resourceName".into(), r.clone());
                }
                for f in &self.fields {
                    let key = snake_to_lower_camel(f.trim_start_matches(&prefix));
                    if let Some(v) = full.get(&key) {
                        picked.insert(key, v.clone());
                    }
                }
                json!({ self.row_key: picked })
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
    let padded = format!(" {text} ");
    if let Some((field, list)) =
        split_keyword(&padded, "NOT IN").or_else(|| split_keyword(&padded, "IN"))
    {
        let op = if padded.to_ascii_uppercase().contains(" NOT IN ") {
            Op::NotIn
        } else {
            Op::In
        };
        let values = list
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(unquote)
            .collect();
        return Ok(Condition {
            field: field.trim().to_owned(),
            op,
            values,
        });
    }
    // Two-character operators first, so `<=` is not read as `<` followed by `=`.
    let operators = [
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let Some((field, value, op)) = operators
        .iter()
        .find_map(|(token, op)| text.split_once(token).map(|(f, v)| (f, v, *op)))
    else {
        return Err(query_error(
            "UNEXPECTED_INPUT",
            &format!("Cannot parse condition {text:?}."),
        ));
    };
    Ok(Condition {
        field: field.trim().to_owned(),
        op,
        values: vec![unquote(value)],
    })
}

impl Condition {
    fn matches(&self, resource: &Value, prefix: &str) -> bool {
        let key = snake_to_lower_camel(self.field.trim_start_matches(prefix));
        let actual = match resource.get(&key) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        // GAQL writes booleans TRUE / FALSE; int64 fields come back as strings ("1").
        let equal = |v: &String| {
            v == &actual
                || (matches!(resource.get(&key), Some(Value::Bool(_)))
                    && v.eq_ignore_ascii_case(&actual))
        };
        let number = |s: &str| s.parse::<f64>().ok();
        let compare = |want: fn(std::cmp::Ordering) -> bool| {
            let value = self.values.first().and_then(|v| number(v));
            match (number(&actual), value) {
                (Some(a), Some(v)) => a.partial_cmp(&v).is_some_and(want),
                _ => false,
            }
        };
        match self.op {
            Op::Eq | Op::In => self.values.iter().any(equal),
            Op::Ne | Op::NotIn => !self.values.iter().any(equal),
            Op::Lt => compare(std::cmp::Ordering::is_lt),
            Op::Le => compare(std::cmp::Ordering::is_le),
            Op::Gt => compare(std::cmp::Ordering::is_gt),
            Op::Ge => compare(std::cmp::Ordering::is_ge),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_comparisons_filter_customer_clients() {
        let q = Query::parse(
            "SELECT customer_client.id, customer_client.level FROM customer_client \
             WHERE customer_client.level <= 1 AND customer_client.manager = FALSE",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let rows = [
            json!({"id": "1", "level": "0", "manager": true}),
            json!({"id": "2", "level": "1", "manager": false}),
            json!({"id": "3", "level": "2", "manager": false}),
        ];
        let ids: Vec<Value> = q
            .run(rows)
            .into_iter()
            .map(|r| r["customerClient"]["id"].clone())
            .collect();
        assert_eq!(ids, [json!("2")]);
        assert_eq!(q.field_mask(), "customerClient.id,customerClient.level");
    }

    #[test]
    fn fields_of_another_resource_cannot_be_selected() {
        let e = Query::parse("SELECT conversion_action.id FROM customer_client")
            .err()
            .map(|e| e.code);
        assert_eq!(e.as_deref(), Some("PROHIBITED_FIELD_IN_SELECT_CLAUSE"));
    }
}
