//! The node types of a Dataset Quality answer and Graph field selection over them
//! (docs/platforms/meta-capi.md §12.2): `fields=web{event_match_quality{composite_score},event_name}`
//! answers only what was asked; a field listed without an expansion answers its node's default
//! fields; a name the node does not have is refused as Graph refuses it, `(#100) Tried accessing
//! nonexisting field (dedup_key_feedback) on node type (AdsPixelCAPIIntegrationQuality)` (§12.3).
//!
//! Node names are Meta's where its reference names them (`AdsPixelCAPIIntegrationQuality`,
//! `AdsPixelCAPIEMQ`, `AdsDatasetEventCoverage`, `AdsDatasetDedupKeyFeedback`,
//! `AdsDatasetDedupKeyFeedbackCoverage`, `AdsDatasetDataFreshness`, `AdsDatasetCAPIACR`); the root's
//! and the match-key entries' names are the sandbox's guess.

use serde_json::{Map, Value};

use super::meta::GraphError;
use super::meta_graph::Field;

/// A node type: its fields (with the node type of each expandable one) and its defaults.
#[derive(Debug)]
pub struct Node {
    name: &'static str,
    fields: &'static [(&'static str, Option<&'static Node>)],
    defaults: &'static [&'static str],
}

const PERCENT_DESCRIBED: &[(&str, Option<&Node>)] = &[("percentage", None), ("description", None)];
const BOTH: &[&str] = &["percentage", "description"];

const ALY_ACR: Node = Node {
    name: "AdsDatasetCAPIEventCoverageALYACR",
    fields: PERCENT_DESCRIBED,
    defaults: BOTH,
};
const KEY_COVERAGE: Node = Node {
    name: "AdsPixelCAPIEMQMatchKeyCoverage",
    fields: &[("percentage", None)],
    defaults: &["percentage"],
};
const MATCH_KEY: Node = Node {
    name: "AdsPixelCAPIEMQMatchKeyFeedback",
    fields: &[
        ("identifier", None),
        ("coverage", Some(&KEY_COVERAGE)),
        ("potential_aly_acr_increase", Some(&ALY_ACR)),
    ],
    defaults: &["identifier", "coverage"],
};
const DIAGNOSTIC_FIELDS: &[&str] = &[
    "name",
    "description",
    "solution",
    "percentage",
    "affected_event_count",
    "total_event_count",
];
const DIAGNOSTIC: Node = Node {
    name: "AdsPixelCAPIEMQDiagnostic",
    fields: &[
        ("name", None),
        ("description", None),
        ("solution", None),
        ("percentage", None),
        ("affected_event_count", None),
        ("total_event_count", None),
    ],
    defaults: DIAGNOSTIC_FIELDS,
};
const EMQ: Node = Node {
    name: "AdsPixelCAPIEMQ",
    fields: &[
        ("composite_score", None),
        ("match_key_feedback", Some(&MATCH_KEY)),
        ("diagnostics", Some(&DIAGNOSTIC)),
    ],
    // The page's `web{event_match_quality,event_name}` answers the score and the key feedback.
    defaults: &["composite_score", "match_key_feedback"],
};
const COVERAGE: Node = Node {
    name: "AdsDatasetEventCoverage",
    fields: &[
        ("percentage", None),
        ("goal_percentage", None),
        ("description", None),
        ("potential_aly_acr_increase", Some(&ALY_ACR)),
    ],
    defaults: &["percentage", "goal_percentage", "description"],
};
const DEDUPE_COVERAGE: Node = Node {
    name: "AdsDatasetDedupKeyFeedbackCoverage",
    fields: PERCENT_DESCRIBED,
    defaults: BOTH,
};
const DEDUPE: Node = Node {
    name: "AdsDatasetDedupKeyFeedback",
    fields: &[
        ("dedupe_key", None),
        ("browser_events_with_dedupe_key", Some(&DEDUPE_COVERAGE)),
        ("server_events_with_dedupe_key", Some(&DEDUPE_COVERAGE)),
        (
            "overall_browser_coverage_from_dedupe_key",
            Some(&DEDUPE_COVERAGE),
        ),
    ],
    defaults: &[
        "dedupe_key",
        "browser_events_with_dedupe_key",
        "server_events_with_dedupe_key",
        "overall_browser_coverage_from_dedupe_key",
    ],
};
const FRESHNESS: Node = Node {
    name: "AdsDatasetDataFreshness",
    fields: &[("upload_frequency", None), ("description", None)],
    defaults: &["upload_frequency", "description"],
};
const ACR: Node = Node {
    name: "AdsDatasetCAPIACR",
    fields: PERCENT_DESCRIBED,
    defaults: BOTH,
};
/// One `web` entry (§12.2; the SDKs' field list, without the undocumented `event_ad_sets` and
/// `event_spend`). `dedupe_key_feedback` only: `dedup_key_feedback` is refused (§12.3).
const WEB: Node = Node {
    name: "AdsPixelCAPIIntegrationQuality",
    fields: &[
        ("event_name", None),
        ("event_match_quality", Some(&EMQ)),
        ("event_potential_aly_acr_increase", Some(&ALY_ACR)),
        ("acr", Some(&ACR)),
        ("event_coverage", Some(&COVERAGE)),
        ("dedupe_key_feedback", Some(&DEDUPE)),
        ("data_freshness", Some(&FRESHNESS)),
    ],
    defaults: &["event_name", "event_match_quality"],
};
/// The answer: "`web` … is required by default in this API" (§12.2).
pub const ROOT: Node = Node {
    name: "AdsDatasetQuality",
    fields: &[("web", Some(&WEB))],
    defaults: &["web"],
};

fn defaults(node: &Node) -> Vec<Field> {
    node.defaults
        .iter()
        .map(|f| Field {
            name: (*f).into(),
            sub: Vec::new(),
        })
        .collect()
}

fn nonexisting(field: &str, node: &Node) -> GraphError {
    GraphError::new(
        100,
        &format!(
            "(#100) Tried accessing nonexisting field ({field}) on node type ({})",
            node.name
        ),
    )
}

/// Checks every requested name against the node types, before any data is read (an empty answer
/// refuses a wrong name too).
///
/// # Errors
/// The first nonexisting field.
pub(crate) fn check(node: &Node, fields: &[Field]) -> Result<(), GraphError> {
    for f in fields {
        let Some((_, sub)) = node.fields.iter().find(|(n, _)| *n == f.name) else {
            return Err(nonexisting(&f.name, node));
        };
        if let Some(sub) = sub {
            check(sub, &f.sub)?;
        }
    }
    Ok(())
}

/// The requested fields of `full` (a node of type `node`); fields absent from `full` are left out,
/// as Meta leaves out metrics it has not computed.
pub(crate) fn select(full: &Value, node: &Node, fields: &[Field]) -> Value {
    let own = defaults(node);
    let wanted = if fields.is_empty() { &own[..] } else { fields };
    let mut out = Map::new();
    for f in wanted {
        let (Some(value), Some((_, sub))) = (
            full.get(&f.name),
            node.fields.iter().find(|(n, _)| *n == f.name),
        ) else {
            continue;
        };
        let value = match (sub, value) {
            (Some(sub), Value::Array(items)) => {
                Value::Array(items.iter().map(|i| select(i, sub, &f.sub)).collect())
            }
            (Some(sub), Value::Object(_)) => select(value, sub, &f.sub),
            _ => value.clone(),
        };
        out.insert(f.name.clone(), value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::meta_graph::parse_fields;
    use serde_json::json;

    #[test]
    fn the_tables_spelling_of_dedupe_key_feedback_is_a_nonexisting_field() {
        let e = check(&ROOT, &parse_fields("web{event_name,dedup_key_feedback}"))
            .err()
            .map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some(
                "(#100) Tried accessing nonexisting field (dedup_key_feedback) on node type (AdsPixelCAPIIntegrationQuality)"
            )
        );
        assert!(check(&ROOT, &parse_fields("web{dedupe_key_feedback{dedupe_key}}")).is_ok());
    }

    #[test]
    fn a_field_without_expansion_answers_its_defaults() {
        let full = json!({"web": [{"event_name": "Lead", "acr": {"percentage": 3, "description": "d"},
            "event_match_quality": {"composite_score": 7, "diagnostics": [], "match_key_feedback": []}}]});
        let picked = select(&full, &ROOT, &parse_fields("web{event_match_quality}"));
        assert_eq!(
            picked,
            json!({"web": [{"event_match_quality": {"composite_score": 7, "match_key_feedback": []}}]})
        );
        let acr = select(
            &full,
            &ROOT,
            &parse_fields("web{acr{percentage},event_name}"),
        );
        assert_eq!(
            acr,
            json!({"web": [{"acr": {"percentage": 3}, "event_name": "Lead"}]})
        );
    }
}
