//! Google Ads conversion-action provisioning (google.md §2), idempotent: list what exists
//! (`googleAds:search`), diff against the wanted set by name, create only what is missing
//! (`conversionActions:mutate`).
//!
//! The standard set is one action per standard event with its category (DESIGN §3, google.md §2:
//! there is no `ADD_PAYMENT_INFO` category, so payment info is `DEFAULT`), plus the merchant's
//! custom events. Names are unique per account, so the name is the identity. An existing action of
//! the wanted name but another type is reported as a conflict, never "fixed": `type` is immutable.

use serde_json::{Value, json};

use crate::browser::SendTo;
use crate::event::EventName;
use crate::mapping::{AdsCategory, standard};

use super::request::{
    ActionKind, Body, ConversionAction, ConversionActions, GoogleAdsConfig, HttpRequest, digits,
    trim_base,
};

/// `Authorization`, `developer-token` (only if configured: optional since its sunset) and
/// `login-customer-id` (digits only) headers (google.md §1.1).
fn auth_headers(config: &GoogleAdsConfig, access_token: &str) -> Vec<(String, String)> {
    let mut headers = vec![("authorization".into(), format!("Bearer {access_token}"))];
    if let Some(token) = config.developer_token.as_deref().filter(|t| !t.is_empty()) {
        headers.push(("developer-token".into(), token.to_owned()));
    }
    if let Some(login) = config.login_customer_id.as_deref().map(digits)
        && !login.is_empty()
    {
        headers.push(("login-customer-id".into(), login));
    }
    headers
}

/// An action we want to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedAction {
    /// The business event it receives.
    pub event: String,
    /// Unique action name.
    pub name: String,
    /// Category.
    pub category: AdsCategory,
    /// `WEBPAGE` or `UPLOAD_CLICKS`.
    pub kind: ActionKind,
    /// Whether it drives bidding.
    pub primary_for_goal: bool,
}

/// Upper-funnel events never drive bidding (google.md §2: mark `add_to_cart`, `view_item`,
/// `begin_checkout`, `add_payment_info` `primaryForGoal:false`).
fn upper_funnel(event: &EventName) -> bool {
    matches!(
        event,
        EventName::CartAdded
            | EventName::ProductViewed
            | EventName::CheckoutStarted
            | EventName::PaymentInfoAdded
    )
}

/// The standard set plus `custom` (event name, category), named `"{prefix} {ga4 name}"` (custom:
/// `"{prefix} {event}"`). Click-upload actions are secondary when the merchant also has a browser
/// conversion tag, so one conversion is never counted twice in bidding (DESIGN §1, google.md §0.2).
#[must_use]
pub fn wanted_actions(
    prefix: &str,
    kind: ActionKind,
    browser_tag_exists: bool,
    custom: &[(String, AdsCategory)],
) -> Vec<WantedAction> {
    let secondary = kind == ActionKind::UploadClicks && browser_tag_exists;
    let mut out: Vec<WantedAction> = EventName::STANDARD
        .iter()
        .filter_map(|event| {
            let mapping = standard(event)?;
            Some(WantedAction {
                event: event.as_str().to_owned(),
                name: format!("{prefix} {}", mapping.ga4),
                category: mapping.ads_category,
                kind,
                primary_for_goal: !secondary && !upper_funnel(event),
            })
        })
        .collect();
    out.extend(custom.iter().map(|(event, category)| WantedAction {
        event: event.clone(),
        name: format!("{prefix} {event}"),
        category: *category,
        kind,
        primary_for_goal: !secondary,
    }));
    out
}

/// The Google Ads API `type` of a kind.
pub fn type_name(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Webpage => "WEBPAGE",
        ActionKind::UploadClicks => "UPLOAD_CLICKS",
    }
}

fn base(config: &GoogleAdsConfig) -> String {
    format!(
        "{}/{}/customers/{}",
        trim_base(&config.base_url),
        config.api_version.trim_matches('/'),
        digits(&config.customer_id)
    )
}

/// Lists the account's conversion actions (google.md §2: GAQL `FROM conversion_action`), one
/// page; pass the previous answer's `nextPageToken` for the next.
pub fn search_request(
    config: &GoogleAdsConfig,
    access_token: &str,
    page_token: Option<&str>,
) -> HttpRequest {
    let mut body = json!({
        "query": "SELECT conversion_action.id, conversion_action.name, conversion_action.type, \
                  conversion_action.status, conversion_action.tag_snippets FROM conversion_action \
                  WHERE conversion_action.status != 'REMOVED'"
    });
    if let Some(token) = page_token {
        body["pageToken"] = json!(token);
    }
    HttpRequest::post(
        format!("{}/googleAds:search", base(config)),
        auth_headers(config, access_token),
        Body::Json(body),
    )
}

/// Creates `actions` (google.md §2 field set: ENABLED, `MANY_PER_CLICK` because `ONE_PER_CLICK`
/// cannot take braids (§1.5), the 90-day maximum click window). `partialFailure` so that one
/// existing name does not block the rest.
pub fn create_request(
    config: &GoogleAdsConfig,
    access_token: &str,
    actions: &[WantedAction],
    validate_only: bool,
) -> HttpRequest {
    let operations: Vec<Value> = actions
        .iter()
        .map(|a| {
            json!({"create": {
                "name": a.name,
                "type": type_name(a.kind),
                "category": a.category.as_str(),
                "status": "ENABLED",
                "primaryForGoal": a.primary_for_goal,
                "countingType": "MANY_PER_CLICK",
                "clickThroughLookbackWindowDays": 90,
                "valueSettings": {"defaultValue": 0, "alwaysUseDefaultValue": false},
            }})
        })
        .collect();
    HttpRequest::post(
        format!("{}/conversionActions:mutate", base(config)),
        auth_headers(config, access_token),
        Body::Json(json!({
            "operations": operations,
            "partialFailure": true,
            "validateOnly": validate_only,
        })),
    )
}

/// A conversion action that exists in the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingAction {
    /// Numeric id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Type (`WEBPAGE`, `UPLOAD_CLICKS`, …).
    pub action_type: String,
    /// A `WEBPAGE` action's conversion tag, read from its `tagSnippets[].eventSnippet`.
    pub send_to: Option<SendTo>,
}

/// The `send_to` target of an event snippet, `gtag('event', 'conversion', {'send_to':
/// 'AW-123/AbC'});` (Google Ads API `TagSnippet.event_snippet`; single or double quotes).
fn send_to_in_snippet(snippet: &str) -> Option<SendTo> {
    let after = &snippet[snippet.find("send_to")? + "send_to".len()..];
    let after = after.trim_start_matches(['\'', '"', ' ', ':']);
    let end = after.find(['\'', '"'])?;
    after[..end].parse().ok()
}

/// The first conversion tag among an action's `tagSnippets` (one per page format, all naming
/// the same `send_to`).
fn snippets_send_to(action: &Value) -> Option<SendTo> {
    action["tagSnippets"]
        .as_array()?
        .iter()
        .find_map(|t| send_to_in_snippet(t["eventSnippet"].as_str()?))
}

/// Why a search answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the conversion-action search answer is not valid JSON with `results`")]
pub struct SearchParseError;

/// Reads a `googleAds:search` answer: the actions on this page and the next page's token.
pub fn parse_search_response(
    body: &str,
) -> Result<(Vec<ExistingAction>, Option<String>), SearchParseError> {
    let json: Value = serde_json::from_str(body).map_err(|_| SearchParseError)?;
    if !json.is_object() {
        return Err(SearchParseError);
    }
    let actions = json["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let a = &row["conversionAction"];
            // int64 ids arrive as JSON strings (proto3 JSON); accept numbers too.
            let id = a["id"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| a["id"].as_u64().map(|n| n.to_string()))?;
            Some(ExistingAction {
                id,
                name: a["name"].as_str()?.to_owned(),
                action_type: a["type"].as_str().unwrap_or("").to_owned(),
                send_to: snippets_send_to(a),
            })
        })
        .collect();
    let next = json["nextPageToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Ok((actions, next))
}

/// Wanted versus existing actions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
pub struct ProvisioningDiff {
    /// To create.
    pub missing: Vec<WantedAction>,
    /// Already there with the right type.
    pub present: Vec<(WantedAction, ExistingAction)>,
    /// A same-named action of another type: needs the merchant's decision.
    pub conflicts: Vec<(WantedAction, ExistingAction)>,
}

impl ProvisioningDiff {
    /// The event → action routing for what is present.
    pub fn conversion_actions(&self) -> ConversionActions {
        ConversionActions(
            self.present
                .iter()
                .map(|(w, e)| ConversionAction {
                    event: w.event.clone(),
                    action_id: e.id.clone(),
                    kind: w.kind,
                    // Only a WEBPAGE action has a tag the pixel can fire into.
                    send_to: e.send_to.clone().filter(|_| w.kind == ActionKind::Webpage),
                })
                .collect(),
        )
    }
}

/// Which wanted actions are missing: provisioning twice creates nothing the second time.
pub fn diff(wanted: &[WantedAction], existing: &[ExistingAction]) -> ProvisioningDiff {
    let mut out = ProvisioningDiff::default();
    for w in wanted {
        match existing.iter().find(|e| e.name == w.name) {
            None => out.missing.push(w.clone()),
            Some(e) if e.action_type == type_name(w.kind) => {
                out.present.push((w.clone(), e.clone()));
            }
            Some(e) => out.conflicts.push((w.clone(), e.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    // Snapshot tests are host-only (insta); their imports go unused on wasm32.
    #![cfg_attr(target_arch = "wasm32", allow(unused_imports, dead_code))]

    use super::*;
    use crate::platform::fixtures::ads_config;

    fn wanted() -> Vec<WantedAction> {
        wanted_actions(
            "AR",
            ActionKind::UploadClicks,
            true,
            &[("quiz.done".into(), AdsCategory::Engagement)],
        )
    }

    #[test]
    fn the_standard_set_has_one_action_per_standard_event_with_its_category() {
        let names: Vec<(String, &str)> = wanted()
            .iter()
            .map(|w| (w.name.clone(), w.category.as_str()))
            .collect();
        let expected = [
            ("AR purchase", "PURCHASE"),
            ("AR add_payment_info", "DEFAULT"),
            ("AR sign_up", "SIGNUP"),
            ("AR generate_lead", "SUBMIT_LEAD_FORM"),
            ("AR begin_checkout", "BEGIN_CHECKOUT"),
            ("AR add_to_cart", "ADD_TO_CART"),
            ("AR view_item", "PAGE_VIEW"),
            ("AR quiz.done", "ENGAGEMENT"),
        ];
        let expected: Vec<(String, &str)> = expected
            .iter()
            .map(|(n, c)| ((*n).to_owned(), *c))
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn upload_actions_are_secondary_when_a_browser_tag_exists() {
        assert!(wanted().iter().all(|w| !w.primary_for_goal));
        let alone = wanted_actions("AR", ActionKind::UploadClicks, false, &[]);
        let primary: Vec<&str> = alone
            .iter()
            .filter(|w| w.primary_for_goal)
            .map(|w| w.name.as_str())
            .collect();
        assert_eq!(primary, ["AR purchase", "AR sign_up", "AR generate_lead"]);
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // insta is a host-only dev-dependency
    fn requests_snapshot() {
        let cfg = ads_config();
        insta::assert_json_snapshot!("provisioning_search", search_request(&cfg, "ACCESS", None));
        let create = create_request(&cfg, "ACCESS", &wanted()[..2], false);
        insta::assert_json_snapshot!("provisioning_create", create);
    }

    #[test]
    fn provisioning_is_idempotent_by_name_and_reports_type_conflicts() {
        let body = json!({"results": [
            {"conversionAction": {"resourceName": "customers/1/conversionActions/11", "id": "11", "name": "AR purchase", "type": "UPLOAD_CLICKS"}},
            {"conversionAction": {"id": 12, "name": "AR sign_up", "type": "WEBPAGE"}},
            {"conversionAction": {"id": "13", "name": "Other", "type": "WEBPAGE"}}
        ], "nextPageToken": "p2"})
        .to_string();
        let (existing, next) = parse_search_response(&body).unwrap_or_default();
        assert_eq!(next.as_deref(), Some("p2"));
        let d = diff(&wanted(), &existing);
        assert_eq!(d.present.len(), 1);
        assert_eq!(d.conflicts.len(), 1);
        assert_eq!(d.conflicts[0].1.id, "12");
        assert_eq!(d.missing.len(), 6);
        let routing = d.conversion_actions();
        assert_eq!(
            routing
                .for_event("transaction.purchase")
                .map(|a| a.action_id.as_str()),
            Some("11")
        );
        // After creating the missing ones, nothing is missing.
        let mut all = existing.clone();
        all.extend(d.missing.iter().enumerate().map(|(i, w)| ExistingAction {
            id: format!("9{i}"),
            name: w.name.clone(),
            action_type: "UPLOAD_CLICKS".into(),
            send_to: None,
        }));
        assert!(diff(&wanted(), &all).missing.is_empty());
    }

    #[test]
    fn a_webpage_actions_tag_is_read_from_its_event_snippet() {
        let body = json!({"results": [{"conversionAction": {"id": "21", "name": "AR purchase",
            "type": "WEBPAGE", "tagSnippets": [
                {"type": "WEBPAGE", "pageFormat": "HTML", "globalSiteTag": "<script>…</script>",
                 "eventSnippet": "<script>\n  gtag('event', 'conversion', {\n      'send_to': 'AW-123456789/AbC-D_efG',\n      'value': 1.0\n  });\n</script>"}]}}]})
        .to_string();
        let (existing, _) = parse_search_response(&body).unwrap_or_default();
        assert_eq!(
            existing[0].send_to.as_ref().map(SendTo::as_str),
            Some("AW-123456789/AbC-D_efG")
        );
        assert_eq!(
            send_to_in_snippet(r#"gtag("event", "conversion", {"send_to": "AW-1/x"});"#)
                .map(|s| s.to_string()),
            Some("AW-1/x".into())
        );
        assert_eq!(send_to_in_snippet("gtag('event', 'conversion');"), None);
        let w = wanted_actions("AR", ActionKind::Webpage, true, &[]);
        let routing = diff(&w, &existing).conversion_actions();
        let purchase = routing.for_event("transaction.purchase");
        assert_eq!(
            purchase
                .and_then(|a| a.send_to.as_ref())
                .map(SendTo::as_str),
            Some("AW-123456789/AbC-D_efG")
        );
    }

    #[test]
    fn unreadable_search_answers_are_errors() {
        assert_eq!(parse_search_response("nope"), Err(SearchParseError));
        assert_eq!(parse_search_response("[]"), Err(SearchParseError));
        assert_eq!(parse_search_response("{}"), Ok((Vec::new(), None)));
    }
}
