//! The console's "Set up Google" (README "Admin API"): which conversion action each event should
//! feed, of which kind, and what the account has — on top of [`super::provisioning`]'s
//! list-diff-create requests. Pure: the worker sends the requests and stores the routing.
//!
//! The kind rule (google.md §0.2, DESIGN §1 "never both"): an event gets a `WEBPAGE` action when
//! the pixel fires a gtag conversion for it, and that is `transaction.purchase` by default (the
//! pixel fires a conversion for the purchase only, when the action has a tag); every other event
//! gets an `UPLOAD_CLICKS` action, secondary (`primaryForGoal: false`) so a browser tag and the
//! upload never both drive bidding. The merchant changes the kind per event; an event already
//! routed (console or `GOOGLE_CONVERSION_ACTIONS`) keeps its kind unless changed.
//!
//! It does not change an existing action: `type` is immutable, so a same-named action of the
//! other kind is reported as a conflict for the merchant to resolve in Google Ads.

use serde::Serialize;

use super::provisioning::{ProvisioningDiff, WantedAction, wanted_actions};
use super::request::{ActionKind, ConversionActions};
use crate::mapping::AdsCategory;

/// Names of the actions the console creates: `"AR purchase"`, `"AR quiz.completed"`.
pub const ACTION_PREFIX: &str = "AR";

/// The event the pixel fires a gtag conversion for by default.
pub const PIXEL_CONVERSION_EVENT: &str = "transaction.purchase";

/// The kind an event gets when neither the merchant nor the configuration chose one.
#[must_use]
pub fn default_kind(event: &str) -> ActionKind {
    if event == PIXEL_CONVERSION_EVENT {
        ActionKind::Webpage
    } else {
        ActionKind::UploadClicks
    }
}

/// `webpage` / `upload_clicks` (any case, as the settings and the API spell them).
#[must_use]
pub fn parse_kind(value: &str) -> Option<ActionKind> {
    match value.trim().to_ascii_lowercase().as_str() {
        "webpage" => Some(ActionKind::Webpage),
        "upload_clicks" => Some(ActionKind::UploadClicks),
        _ => None,
    }
}

/// A kind choice that cannot be used; `field` names it (`kinds.<event>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct KindError {
    /// The input field at fault.
    pub field: String,
    /// What is wrong and what to send.
    pub message: String,
}

/// The wanted actions: the standard set and `custom` (mapped events with their category), each
/// of the kind chosen in `overrides`, else the kind `configured` routes it with, else
/// [`default_kind`]. `WEBPAGE` actions drive bidding (upper-funnel ones excepted); upload
/// actions are secondary.
///
/// # Errors
/// An override for an event outside the set, or of an unknown kind.
pub fn plan(
    custom: &[(String, AdsCategory)],
    configured: &ConversionActions,
    overrides: &[(String, String)],
) -> Result<Vec<WantedAction>, KindError> {
    let webpage = wanted_actions(ACTION_PREFIX, ActionKind::Webpage, true, custom);
    let upload = wanted_actions(ACTION_PREFIX, ActionKind::UploadClicks, true, custom);
    let mut chosen = Vec::new();
    for (event, value) in overrides {
        let field = format!("kinds.{event}");
        if !webpage.iter().any(|w| &w.event == event) {
            return Err(KindError {
                field,
                message: "is neither a standard event nor a mapped custom event".into(),
            });
        }
        let kind = parse_kind(value).ok_or_else(|| KindError {
            field,
            message: format!("{value:?} is not webpage or upload_clicks"),
        })?;
        chosen.push((event.as_str(), kind));
    }
    Ok(webpage
        .into_iter()
        .zip(upload)
        .map(|(web, up)| {
            let kind = chosen
                .iter()
                .find(|(e, _)| *e == web.event)
                .map(|(_, k)| *k)
                .or_else(|| configured.for_event(&web.event).map(|a| a.kind))
                .unwrap_or_else(|| default_kind(&web.event));
            if kind == ActionKind::Webpage { web } else { up }
        })
        .collect())
}

/// Where an event's action stands in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    /// The action exists with the wanted kind.
    Exists,
    /// No action of that name: provisioning creates it.
    Missing,
    /// An action of that name but another type: rename or remove it in Google Ads.
    Conflict,
}

/// One event's line in "Set up Google".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupRow {
    /// The business event.
    pub event: String,
    /// The action's name in the account.
    pub name: String,
    /// The wanted kind.
    pub kind: ActionKind,
    /// Exists, missing or conflict.
    pub state: ActionState,
    /// The existing action's id.
    pub action_id: Option<String>,
    /// The existing action's type (differs from `kind` for a conflict).
    pub existing_type: Option<String>,
    /// A `WEBPAGE` action's conversion tag, `AW-…/label`.
    pub send_to: Option<String>,
}

/// The lines for `wanted`, in its order.
#[must_use]
pub fn rows(wanted: &[WantedAction], diff: &ProvisioningDiff) -> Vec<SetupRow> {
    wanted
        .iter()
        .map(|w| {
            let found = |list: &[(WantedAction, super::provisioning::ExistingAction)]| {
                list.iter()
                    .find(|(x, _)| x.event == w.event)
                    .map(|(_, e)| e.clone())
            };
            let (state, existing) = match (found(&diff.present), found(&diff.conflicts)) {
                (Some(e), _) => (ActionState::Exists, Some(e)),
                (None, Some(e)) => (ActionState::Conflict, Some(e)),
                (None, None) => (ActionState::Missing, None),
            };
            SetupRow {
                event: w.event.clone(),
                name: w.name.clone(),
                kind: w.kind,
                state,
                action_id: existing.as_ref().map(|e| e.id.clone()),
                existing_type: existing.as_ref().map(|e| e.action_type.clone()),
                send_to: existing
                    .and_then(|e| e.send_to)
                    .filter(|_| w.kind == ActionKind::Webpage)
                    .map(|s| s.to_string()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::provisioning::{ExistingAction, diff};
    use crate::platform::request::ConversionAction;

    fn custom() -> Vec<(String, AdsCategory)> {
        vec![("quiz.completed".into(), AdsCategory::Engagement)]
    }

    #[test]
    fn the_purchase_is_a_webpage_action_and_every_other_event_a_secondary_upload() {
        let wanted = plan(&custom(), &ConversionActions::default(), &[]).unwrap();
        assert_eq!(wanted.len(), 8);
        for w in &wanted {
            let expect = if w.event == "transaction.purchase" {
                ActionKind::Webpage
            } else {
                ActionKind::UploadClicks
            };
            assert_eq!(w.kind, expect, "{}", w.event);
            assert_eq!(
                w.primary_for_goal,
                w.kind == ActionKind::Webpage,
                "{}",
                w.event
            );
        }
    }

    #[test]
    fn a_chosen_kind_wins_over_the_configured_one_which_wins_over_the_default() {
        let configured = ConversionActions(vec![ConversionAction {
            event: "transaction.purchase".into(),
            action_id: "1001".into(),
            kind: ActionKind::UploadClicks,
            send_to: None,
        }]);
        let wanted = plan(&custom(), &configured, &[]).unwrap();
        assert_eq!(wanted[0].kind, ActionKind::UploadClicks);
        let overrides = [
            ("transaction.purchase".to_owned(), "WEBPAGE".to_owned()),
            ("quiz.completed".to_owned(), "webpage".to_owned()),
        ];
        let wanted = plan(&custom(), &configured, &overrides).unwrap();
        let kind = |e: &str| wanted.iter().find(|w| w.event == e).map(|w| w.kind);
        assert_eq!(kind("transaction.purchase"), Some(ActionKind::Webpage));
        assert_eq!(kind("quiz.completed"), Some(ActionKind::Webpage));
    }

    #[test]
    fn a_choice_for_an_unknown_event_or_kind_names_its_field() {
        let none = ConversionActions::default();
        let err = plan(&custom(), &none, &[("x.y".into(), "webpage".into())]).unwrap_err();
        assert_eq!(err.field, "kinds.x.y");
        let err = plan(&custom(), &none, &[("cart.added".into(), "both".into())]).unwrap_err();
        assert_eq!(err.field, "kinds.cart.added");
        assert!(err.message.contains("webpage or upload_clicks"), "{err}");
    }

    #[test]
    fn rows_say_which_actions_exist_are_missing_or_conflict() {
        let wanted = plan(&[], &ConversionActions::default(), &[]).unwrap();
        let existing = [
            ExistingAction {
                id: "7".into(),
                name: "AR purchase".into(),
                action_type: "WEBPAGE".into(),
                send_to: "AW-1/abc".parse().ok(),
            },
            ExistingAction {
                id: "8".into(),
                name: "AR add_to_cart".into(),
                action_type: "WEBPAGE".into(),
                send_to: None,
            },
        ];
        let rows = rows(&wanted, &diff(&wanted, &existing));
        let purchase = rows
            .iter()
            .find(|r| r.event == "transaction.purchase")
            .unwrap();
        assert_eq!(purchase.state, ActionState::Exists);
        assert_eq!(purchase.send_to.as_deref(), Some("AW-1/abc"));
        let cart = rows.iter().find(|r| r.event == "cart.added").unwrap();
        assert_eq!(cart.state, ActionState::Conflict);
        assert_eq!(cart.existing_type.as_deref(), Some("WEBPAGE"));
        assert_eq!(
            rows.iter()
                .filter(|r| r.state == ActionState::Missing)
                .count(),
            5
        );
    }
}
