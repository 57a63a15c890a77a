//! The one Google Ads account the sandbox simulates: its conversion actions, the clicks it knows
//! and the order ids already used (the OAuth credentials live in `google_grants`).
//!
//! Any 10-digit customer id addresses this account; resource names echo the id from the request
//! path. Conversion actions are identified by their numeric id alone, as Google's validation
//! does ("validation will ignore the customer id", reference/google.md §1.2).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::config::DEFAULT_GTAG_SEND_TO;

/// A conversion action (reference/google.md §2).
#[derive(Debug, Clone, Serialize)]
pub struct ConversionAction {
    /// Numeric id.
    pub id: u64,
    /// Unique name.
    pub name: String,
    /// `UPLOAD_CLICKS`, `WEBPAGE`, … (immutable).
    pub action_type: String,
    /// `PURCHASE`, `SIGNUP`, …
    pub category: String,
    /// `ENABLED`, `REMOVED`, `HIDDEN`.
    pub status: String,
    /// Whether it drives bidding.
    pub primary_for_goal: bool,
    /// `ONE_PER_CLICK` or `MANY_PER_CLICK`.
    pub counting_type: String,
    /// Click-through window (1–90 days).
    pub click_through_lookback_window_days: i64,
    /// View-through window (1–30 days).
    pub view_through_lookback_window_days: i64,
    /// `valueSettings` as posted.
    pub value_settings: Value,
    /// Sandbox-clock creation time (uploads within 6 h fail with `TOO_RECENT_CONVERSION_ACTION`).
    pub created_at_ms: i64,
    /// For WEBPAGE actions: the gtag `send_to` that reports into this action.
    pub tag_send_to: Option<String>,
}

impl ConversionAction {
    /// The resource as the REST API returns it (lowerCamelCase).
    pub fn to_json(&self, customer_id: &str) -> Value {
        let mut v = json!({
            "resourceName": format!("customers/{customer_id}/conversionActions/{}", self.id),
            "id": self.id.to_string(),
            "name": self.name,
            "type": self.action_type,
            "category": self.category,
            "status": self.status,
            "primaryForGoal": self.primary_for_goal,
            "countingType": self.counting_type,
            "clickThroughLookbackWindowDays": self.click_through_lookback_window_days.to_string(),
            "viewThroughLookbackWindowDays": self.view_through_lookback_window_days.to_string(),
            "valueSettings": self.value_settings,
            "ownerCustomer": format!("customers/{customer_id}"),
        });
        if let (Some(send_to), Some(map)) = (&self.tag_send_to, v.as_object_mut()) {
            map.insert("tagSnippets".into(), tag_snippets(send_to));
        }
        v
    }
}

/// `conversion_action.tag_snippets` as Google returns them for a WEBPAGE action (`TagSnippet`:
/// `type`, `pageFormat`, `globalSiteTag`, `eventSnippet`), one per page format: the HTML event
/// snippet names `send_to`; the AMP one carries the id and label as `vars` instead.
fn tag_snippets(send_to: &str) -> Value {
    let (account, label) = send_to.split_once('/').unwrap_or((send_to, ""));
    let id = account.trim_start_matches("AW-");
    let site = format!(
        "<!-- Google tag (gtag.js) -->\n<script async src=\"https://www.googletagmanager.com/gtag/js?id={account}\"></script>\n\
         <script>\n  window.dataLayer = window.dataLayer || [];\n  function gtag(){{dataLayer.push(arguments);}}\n  \
         gtag('js', new Date());\n\n  gtag('config', '{account}');\n</script>\n"
    );
    json!([
        {"type": "WEBPAGE", "pageFormat": "HTML", "globalSiteTag": site,
         "eventSnippet": format!("<!-- Event snippet for conversion page -->\n<script>\n  gtag('event', 'conversion', {{\n      'send_to': '{send_to}',\n      'value': 1.0,\n      'currency': 'EUR',\n      'transaction_id': ''\n  }});\n</script>\n")},
        {"type": "WEBPAGE", "pageFormat": "AMP",
         "globalSiteTag": format!("<amp-analytics type=\"gtag\" data-credentials=\"include\">\n<script type=\"application/json\">\n{{\"vars\": {{\"gtag_id\": \"{account}\", \"config\": {{\"{account}\": {{\"groups\": \"default\"}}}}}}}}\n</script>\n</amp-analytics>\n"),
         "eventSnippet": format!("\"triggers\": {{\"C_conversion\": {{\"on\": \"visible\", \"vars\": {{\"event_name\": \"conversion\", \"google_conversion_id\": \"{id}\", \"google_conversion_label\": \"{label}\"}}}}}}")},
    ])
}

/// A click the sandbox knows (registered with `POST /_sandbox/clicks`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Click {
    /// Exactly one of `gclid`, `gbraid`, `wbraid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gclid: Option<String>,
    /// App-campaign click id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gbraid: Option<String>,
    /// Web click id (iOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wbraid: Option<String>,
    /// When the click happened (Unix ms, sandbox clock); default: now.
    #[serde(default)]
    pub clicked_at_ms: Option<i64>,
    /// The Ads account that owns the click (default: any); another account's upload fails with
    /// `INVALID_CUSTOMER_FOR_CLICK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

impl Click {
    /// The click id, whichever kind it is.
    pub fn id(&self) -> Option<&str> {
        self.gclid
            .as_deref()
            .or(self.gbraid.as_deref())
            .or(self.wbraid.as_deref())
    }
}

/// Prefix of self-describing sandbox click ids: `sbx-<click unix ms>-<anything>` carries its own
/// click time, so a test needs no registration call (`sbx-1767225600000-abc`).
pub const SELF_DESCRIBING_PREFIX: &str = "sbx-";

/// Account state.
#[derive(Debug)]
pub struct GoogleAccount {
    /// Conversion actions by id.
    pub actions: Vec<ConversionAction>,
    next_action_id: u64,
    /// Registered clicks by click id.
    pub clicks: HashMap<String, Click>,
    /// `(action id, orderId)` already recorded (`ORDER_ID_ALREADY_IN_USE`).
    pub used_order_ids: HashSet<(u64, String)>,
    /// `(action id, click id, conversionDateTime)` already recorded (`CLICK_CONVERSION_ALREADY_EXISTS`).
    pub click_conversions: HashSet<(u64, String, String)>,
    /// Data Manager conversions by `(conversion action id, transactionId)`: their value, which an
    /// adjustment replaces (data-manager.md §3.1).
    pub dm_conversions: HashMap<(String, String), f64>,
    /// Data Manager adjustments in arrival order: `(action id, transactionId, new value)`.
    pub dm_adjustments: Vec<(String, String, f64)>,
    /// Data Manager ingest requests by `requestId`: what `requestStatus:retrieve` answers
    /// (data-manager.md §4).
    pub dm_requests: HashMap<String, Value>,
}

impl Default for GoogleAccount {
    fn default() -> Self {
        Self {
            actions: seeded_actions(),
            next_action_id: 5_000,
            clicks: HashMap::new(),
            used_order_ids: HashSet::new(),
            click_conversions: HashSet::new(),
            dm_conversions: HashMap::new(),
            dm_adjustments: Vec::new(),
            dm_requests: HashMap::new(),
        }
    }
}

impl GoogleAccount {
    /// Back to the seeded actions with no clicks or order ids.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The action with this numeric id.
    pub fn action(&self, id: u64) -> Option<&ConversionAction> {
        self.actions.iter().find(|a| a.id == id)
    }

    /// The WEBPAGE action a gtag `send_to` reports into.
    pub fn action_for_send_to(&self, send_to: &str) -> Option<&ConversionAction> {
        self.actions
            .iter()
            .find(|a| a.tag_send_to.as_deref() == Some(send_to))
    }

    /// A fresh action id.
    pub fn next_id(&mut self) -> u64 {
        self.next_action_id += 1;
        self.next_action_id
    }

    /// The click time of a click id: registered, or encoded as `sbx-<ms>-…`.
    pub fn click_time_ms(&self, click_id: &str) -> Option<i64> {
        if let Some(click) = self.clicks.get(click_id) {
            return click.clicked_at_ms;
        }
        let rest = click_id.strip_prefix(SELF_DESCRIBING_PREFIX)?;
        rest.split('-').next()?.parse().ok()
    }
}

fn seeded(
    id: u64,
    name: &str,
    action_type: &str,
    category: &str,
    primary: bool,
) -> ConversionAction {
    ConversionAction {
        id,
        name: name.into(),
        action_type: action_type.into(),
        category: category.into(),
        status: "ENABLED".into(),
        primary_for_goal: primary,
        counting_type: "MANY_PER_CLICK".into(),
        click_through_lookback_window_days: 90,
        view_through_lookback_window_days: 1,
        value_settings: Value::Object(Map::new()),
        created_at_ms: 0,
        tag_send_to: None,
    }
}

/// The WEBPAGE actions: the purchase action the demo shop's gtag reports into (id 2001, `send_to`
/// `AW-123/label`), and one per other standard event (2002–2007, `AW-123/<name>`), so every event
/// can be a multi-source conversion deduplicated by `transactionId`.
const WEBPAGE_ACTIONS: [(u64, &str, &str, &str); 6] = [
    (2002, "Sign-up (website tag)", "SIGNUP", "AW-123/signup"),
    (
        2003,
        "Lead (website tag)",
        "SUBMIT_LEAD_FORM",
        "AW-123/lead",
    ),
    (
        2004,
        "Add to cart (website tag)",
        "ADD_TO_CART",
        "AW-123/cart",
    ),
    (
        2005,
        "Checkout (website tag)",
        "BEGIN_CHECKOUT",
        "AW-123/checkout",
    ),
    (
        2006,
        "Payment info (website tag)",
        "DEFAULT",
        "AW-123/payment",
    ),
    (
        2007,
        "Product view (website tag)",
        "PAGE_VIEW",
        "AW-123/view",
    ),
];

/// The actions every fresh sandbox has: one `UPLOAD_CLICKS` action per standard event (secondary,
/// ids 1001–1007) and the WEBPAGE actions above. All were "created" long ago, so uploads are not
/// too recent.
pub fn seeded_actions() -> Vec<ConversionAction> {
    let mut webpage = seeded(2001, "Purchase (website tag)", "WEBPAGE", "PURCHASE", true);
    webpage.tag_send_to = Some(DEFAULT_GTAG_SEND_TO.into());
    let others = WEBPAGE_ACTIONS.iter().map(|(id, name, category, send_to)| {
        let mut a = seeded(*id, name, "WEBPAGE", category, true);
        a.tag_send_to = Some((*send_to).into());
        a
    });
    let mut all = vec![
        seeded(1001, "srv purchase", "UPLOAD_CLICKS", "PURCHASE", false),
        seeded(1002, "srv sign_up", "UPLOAD_CLICKS", "SIGNUP", false),
        seeded(
            1003,
            "srv generate_lead",
            "UPLOAD_CLICKS",
            "SUBMIT_LEAD_FORM",
            false,
        ),
        seeded(
            1004,
            "srv add_to_cart",
            "UPLOAD_CLICKS",
            "ADD_TO_CART",
            false,
        ),
        seeded(
            1005,
            "srv begin_checkout",
            "UPLOAD_CLICKS",
            "BEGIN_CHECKOUT",
            false,
        ),
        seeded(
            1006,
            "srv add_payment_info",
            "UPLOAD_CLICKS",
            "DEFAULT",
            false,
        ),
        seeded(1007, "srv view_item", "UPLOAD_CLICKS", "PAGE_VIEW", false),
        webpage,
    ];
    all.extend(others);
    all
}
