//! Fake Google Ads conversion-action management (reference/google.md §2):
//! `POST /{version}/customers/{id}/conversionActions:mutate` (create / update / remove, with or
//! without partial failure) and `POST /{version}/customers/{id}/googleAds:search` /
//! `:searchStream` for `SELECT conversion_action.… FROM conversion_action [WHERE …]` (and, for
//! the account picker, `FROM customer_client`, served from `google_accounts`).
//!
//! The GAQL support is deliberately small: field selection, `=`/`!=`/`IN` conditions joined by
//! `AND`, and `LIMIT`. Other resources answer `queryError`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::google_account::{ConversionAction, GoogleAccount};
use super::google_ads::{ads_rejected, api_version, check_request, customer_id, parse_rejected};
use super::google_error::{
    AdsError, invalid_json_error, loc, partial_failure_error, unknown_field_error,
};
use super::{Outcome, PlatformRequest};
use crate::checks::{camel_case_keys, first_unknown_key, opaque_id};
use crate::record::Verdict;
use crate::state::{AppState, lock};

const MUTATE: &str = "conversionActions:mutate";
const ACTION_KEYS: [&str; 22] = [
    "resourceName",
    "id",
    "name",
    "status",
    "type",
    "origin",
    "primaryForGoal",
    "category",
    "ownerCustomer",
    "includeInConversionsMetric",
    "clickThroughLookbackWindowDays",
    "viewThroughLookbackWindowDays",
    "valueSettings",
    "countingType",
    "attributionModelSettings",
    "tagSnippets",
    "phoneCallDurationSeconds",
    "appId",
    "mobileAppVendor",
    "firebaseSettings",
    "thirdPartyAppAnalyticsSettings",
    "googleAnalytics4Settings",
];
/// §2 `type` values; the ones after `WEBPAGE_CODELESS` are read-only (cannot be created).
const TYPES: [&str; 13] = [
    "AD_CALL",
    "CLICK_TO_CALL",
    "GOOGLE_PLAY_DOWNLOAD",
    "GOOGLE_PLAY_IN_APP_PURCHASE",
    "UPLOAD_CALLS",
    "UPLOAD_CLICKS",
    "WEBPAGE",
    "WEBSITE_CALL",
    "STORE_SALES_DIRECT_UPLOAD",
    "STORE_SALES",
    "WEBPAGE_CODELESS",
    "GOOGLE_ANALYTICS_4_PURCHASE",
    "GOOGLE_ANALYTICS_4_CUSTOM",
];
const READ_ONLY_TYPES: [&str; 3] = [
    "WEBPAGE_CODELESS",
    "GOOGLE_ANALYTICS_4_PURCHASE",
    "GOOGLE_ANALYTICS_4_CUSTOM",
];
/// §2 `category` values.
const CATEGORIES: [&str; 21] = [
    "DEFAULT",
    "PAGE_VIEW",
    "PURCHASE",
    "SIGNUP",
    "DOWNLOAD",
    "ADD_TO_CART",
    "BEGIN_CHECKOUT",
    "SUBSCRIBE_PAID",
    "PHONE_CALL_LEAD",
    "IMPORTED_LEAD",
    "SUBMIT_LEAD_FORM",
    "BOOK_APPOINTMENT",
    "REQUEST_QUOTE",
    "GET_DIRECTIONS",
    "OUTBOUND_CLICK",
    "CONTACT",
    "ENGAGEMENT",
    "STORE_VISIT",
    "STORE_SALE",
    "QUALIFIED_LEAD",
    "CONVERTED_LEAD",
];

/// Handles `conversionActions:mutate`.
pub fn handle_mutate(state: &AppState, req: &PlatformRequest) -> Outcome {
    if let Err(o) = check_request(state, req, MUTATE) {
        return *o;
    }
    let version = api_version(req);
    let body = match req.json() {
        Ok(v @ Value::Object(_)) => camel_case_keys(&v),
        Ok(_) => return parse_rejected(MUTATE, invalid_json_error("Expected an object.")),
        Err(e) => return parse_rejected(MUTATE, invalid_json_error(&e)),
    };
    let operations = match check_mutate_structure(&body) {
        Ok(ops) => ops,
        Err(e) => return parse_rejected(MUTATE, e),
    };
    let partial = body
        .get("partialFailure")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let validate_only = body
        .get("validateOnly")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let customer = customer_id(req);
    let mut account = lock(&state.google);
    // Work on a copy: without partial failure one bad operation applies nothing.
    let mut draft = account.actions.clone();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (i, op) in operations.iter().enumerate() {
        let id_hint = account.next_id();
        match apply(&mut draft, i, op, id_hint, req.now_ms) {
            Ok(id) => results.push(Some(id)),
            Err(e) => {
                results.push(None);
                errors.push(e);
            }
        }
    }
    if !partial && !errors.is_empty() {
        return ads_rejected(MUTATE, StatusCode::BAD_REQUEST, &version, &errors);
    }
    if !validate_only {
        account.actions = draft;
    }
    let with_resource =
        body.get("responseContentType").and_then(Value::as_str) == Some("MUTABLE_RESOURCE");
    let response = mutate_response(
        &account,
        &customer,
        &results,
        with_resource,
        validate_only,
        &errors,
        &version,
    );
    drop(account);
    let verdict = if errors.is_empty() {
        Verdict::Accepted
    } else {
        Verdict::PartiallyAccepted
    };
    let mut o = Outcome::new(MUTATE, StatusCode::OK, Some(response), verdict);
    o.error_codes = errors.iter().map(AdsError::code_name).collect();
    o.error = errors
        .first()
        .map(|e| format!("{}, at {}", e.message, e.path()));
    o
}

fn mutate_response(
    account: &GoogleAccount,
    customer: &str,
    results: &[Option<u64>],
    with_resource: bool,
    validate_only: bool,
    errors: &[AdsError],
    version: &str,
) -> Value {
    let mut response = Map::new();
    if !validate_only {
        let rows: Vec<Value> = results
            .iter()
            .map(|r| match r.and_then(|id| account.action(id)) {
                Some(a) if with_resource => json!({"resourceName": format!("customers/{customer}/conversionActions/{}", a.id), "conversionAction": a.to_json(customer)}),
                Some(a) => json!({"resourceName": format!("customers/{customer}/conversionActions/{}", a.id)}),
                None => json!({}),
            })
            .collect();
        response.insert("results".into(), Value::Array(rows));
    }
    if !errors.is_empty() {
        response.insert(
            "partialFailureError".into(),
            partial_failure_error(version, errors),
        );
    }
    Value::Object(response)
}

fn check_mutate_structure(body: &Value) -> Result<Vec<Value>, (String, Value)> {
    let top = body
        .as_object()
        .ok_or_else(|| invalid_json_error("Expected an object."))?;
    if let Some(k) = first_unknown_key(
        top,
        &[
            "operations",
            "partialFailure",
            "validateOnly",
            "responseContentType",
        ],
    ) {
        return Err(unknown_field_error(k, ""));
    }
    let ops = top
        .get("operations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, op) in ops.iter().enumerate() {
        let at = format!("operations[{i}]");
        let o = op
            .as_object()
            .ok_or_else(|| invalid_json_error(&format!("Invalid value at '{at}'")))?;
        if let Some(k) = first_unknown_key(o, &["create", "update", "remove", "updateMask"]) {
            return Err(unknown_field_error(k, &at));
        }
        for kind in ["create", "update"] {
            let Some(action) = o.get(kind).and_then(Value::as_object) else {
                continue;
            };
            if let Some(k) = first_unknown_key(action, &ACTION_KEYS) {
                return Err(unknown_field_error(k, &format!("{at}.{kind}")));
            }
            check_enums(action, &format!("{at}.{kind}"))?;
        }
    }
    Ok(ops)
}

fn check_enums(action: &Map<String, Value>, at: &str) -> Result<(), (String, Value)> {
    let checks: [(&str, &str, &[&str]); 4] = [
        ("type", "type", &TYPES),
        ("category", "category", &CATEGORIES),
        ("status", "status", &["ENABLED", "REMOVED", "HIDDEN"]),
        (
            "countingType",
            "counting_type",
            &["ONE_PER_CLICK", "MANY_PER_CLICK"],
        ),
    ];
    for (key, field, values) in checks {
        if let Some(v) = action.get(key)
            && !v.as_str().is_some_and(|v| values.contains(&v))
        {
            return Err(invalid_json_error(&format!(
                "Invalid value at '{at}.{field}', {v}"
            )));
        }
    }
    Ok(())
}

fn op_err(
    i: usize,
    kind: &str,
    field: &str,
    code_kind: &'static str,
    code: &str,
    message: &str,
) -> AdsError {
    AdsError::new(
        code_kind,
        code,
        message,
        loc(&[("operations", Some(i)), (kind, None), (field, None)]),
    )
}

fn int(v: Option<&Value>) -> Option<i64> {
    v.and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

fn apply(
    actions: &mut Vec<ConversionAction>,
    i: usize,
    op: &Value,
    new_id: u64,
    now_ms: i64,
) -> Result<u64, AdsError> {
    let kinds: Vec<&str> = ["create", "update", "remove"]
        .into_iter()
        .filter(|k| op.get(*k).is_some())
        .collect();
    match kinds.as_slice() {
        ["create"] => create(
            actions,
            i,
            op.get("create").unwrap_or(&Value::Null),
            new_id,
            now_ms,
        ),
        ["update"] => update(actions, i, op),
        ["remove"] => {
            let name = op.get("remove").and_then(Value::as_str).unwrap_or_default();
            let id = resource_id(name).ok_or_else(|| {
                op_err(
                    i,
                    "remove",
                    "resource_name",
                    "requestError",
                    "RESOURCE_NAME_MALFORMED",
                    "The resource name is malformed.",
                )
            })?;
            let action = actions
                .iter_mut()
                .find(|a| a.id == id && a.status != "REMOVED")
                .ok_or_else(|| {
                    AdsError::new(
                        "mutateError",
                        "RESOURCE_NOT_FOUND",
                        "Requested resource not found.",
                        loc(&[("operations", Some(i)), ("remove", None)]),
                    )
                })?;
            action.status = "REMOVED".into();
            Ok(id)
        }
        _ => Err(AdsError::new(
            "requestError",
            "OPERATION_REQUIRED",
            "Exactly one of create, update or remove is required.",
            loc(&[("operations", Some(i))]),
        )),
    }
}

fn resource_id(name: &str) -> Option<u64> {
    match name.split('/').collect::<Vec<_>>().as_slice() {
        ["customers", _, "conversionActions", id] => id.parse().ok(),
        _ => None,
    }
}

fn create(
    actions: &mut Vec<ConversionAction>,
    i: usize,
    c: &Value,
    id: u64,
    now_ms: i64,
) -> Result<u64, AdsError> {
    let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        return Err(op_err(
            i,
            "create",
            "name",
            "fieldError",
            "REQUIRED",
            "The required field was not present.",
        ));
    }
    if actions
        .iter()
        .any(|a| a.name == name && a.status != "REMOVED")
    {
        return Err(op_err(
            i,
            "create",
            "name",
            "conversionActionError",
            "DUPLICATE_NAME",
            "A conversion action with this name already exists.",
        ));
    }
    let Some(kind) = c.get("type").and_then(Value::as_str) else {
        return Err(op_err(
            i,
            "create",
            "type",
            "fieldError",
            "REQUIRED",
            "The required field was not present.",
        ));
    };
    if READ_ONLY_TYPES.contains(&kind) {
        return Err(op_err(
            i,
            "create",
            "type",
            "conversionActionError",
            "CREATION_NOT_SUPPORTED",
            "Creation of this conversion action type isn't supported.",
        ));
    }
    let mut action = ConversionAction {
        id,
        name: name.into(),
        action_type: kind.into(),
        category: "DEFAULT".into(),
        status: "ENABLED".into(),
        primary_for_goal: true,
        counting_type: "MANY_PER_CLICK".into(),
        click_through_lookback_window_days: 30,
        view_through_lookback_window_days: 1,
        value_settings: json!({}),
        created_at_ms: now_ms,
        tag_send_to: (kind == "WEBPAGE").then(|| format!("AW-123/lbl{id}")),
    };
    set_fields(&mut action, i, "create", c, None)?;
    actions.push(action);
    Ok(id)
}

fn update(actions: &mut [ConversionAction], i: usize, op: &Value) -> Result<u64, AdsError> {
    let u = op.get("update").unwrap_or(&Value::Null);
    let name = u
        .get("resourceName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id = resource_id(name).ok_or_else(|| {
        op_err(
            i,
            "update",
            "resource_name",
            "requestError",
            "RESOURCE_NAME_MALFORMED",
            "The resource name is malformed.",
        )
    })?;
    let mask: Option<Vec<String>> = op.get("updateMask").and_then(Value::as_str).map(|m| {
        m.split(',')
            .map(|f| crate::checks::snake_to_lower_camel(f.trim()))
            .collect()
    });
    let names: Vec<String> = actions
        .iter()
        .filter(|a| a.id != id && a.status != "REMOVED")
        .map(|a| a.name.clone())
        .collect();
    let action = actions.iter_mut().find(|a| a.id == id).ok_or_else(|| {
        AdsError::new(
            "mutateError",
            "RESOURCE_NOT_FOUND",
            "Requested resource not found.",
            loc(&[("operations", Some(i)), ("update", None)]),
        )
    })?;
    if let Some(kind) = u.get("type").and_then(Value::as_str)
        && kind != action.action_type
        && mask.as_ref().is_none_or(|m| m.iter().any(|f| f == "type"))
    {
        return Err(op_err(
            i,
            "update",
            "type",
            "fieldError",
            "IMMUTABLE_FIELD",
            "The field cannot be modified because it's immutable.",
        ));
    }
    if let Some(new_name) = u.get("name").and_then(Value::as_str)
        && names.iter().any(|n| n == new_name)
    {
        return Err(op_err(
            i,
            "update",
            "name",
            "conversionActionError",
            "DUPLICATE_NAME",
            "A conversion action with this name already exists.",
        ));
    }
    set_fields(action, i, "update", u, mask.as_deref())?;
    Ok(id)
}

fn set_fields(
    a: &mut ConversionAction,
    i: usize,
    kind: &str,
    c: &Value,
    mask: Option<&[String]>,
) -> Result<(), AdsError> {
    let wanted = |f: &str| {
        c.get(f)
            .filter(|_| mask.is_none_or(|m| m.iter().any(|x| x == f)))
    };
    if let Some(v) = wanted("name").and_then(Value::as_str) {
        a.name = v.into();
    }
    for (field, target) in [
        ("category", &mut a.category),
        ("status", &mut a.status),
        ("countingType", &mut a.counting_type),
    ] {
        if let Some(v) = wanted(field).and_then(Value::as_str) {
            *target = v.into();
        }
    }
    if let Some(v) = wanted("primaryForGoal").and_then(Value::as_bool) {
        a.primary_for_goal = v;
    }
    if let Some(v) = wanted("valueSettings") {
        a.value_settings = v.clone();
    }
    // §1.7/§2: click-through window up to 90 days; view-through up to 30.
    for (field, snake, max, target) in [
        (
            "clickThroughLookbackWindowDays",
            "click_through_lookback_window_days",
            90,
            &mut a.click_through_lookback_window_days,
        ),
        (
            "viewThroughLookbackWindowDays",
            "view_through_lookback_window_days",
            30,
            &mut a.view_through_lookback_window_days,
        ),
    ] {
        if let Some(days) = wanted(field).map(|v| int(Some(v))) {
            match days {
                Some(d) if (1..=max).contains(&d) => *target = d,
                Some(d) if d > max => {
                    return Err(op_err(
                        i,
                        kind,
                        snake,
                        "rangeError",
                        "TOO_HIGH",
                        "Too high.",
                    ));
                }
                _ => return Err(op_err(i, kind, snake, "rangeError", "TOO_LOW", "Too low.")),
            }
        }
    }
    Ok(())
}

/// Handles `googleAds:search` (`stream == false`) and `googleAds:searchStream`.
pub fn handle_search(state: &AppState, req: &PlatformRequest, stream: bool) -> Outcome {
    let endpoint = if stream {
        "googleAds:searchStream"
    } else {
        "googleAds:search"
    };
    if let Err(o) = check_request(state, req, endpoint) {
        return *o;
    }
    let version = api_version(req);
    let body = match req.json() {
        Ok(v @ Value::Object(_)) => camel_case_keys(&v),
        Ok(_) => return parse_rejected(endpoint, invalid_json_error("Expected an object.")),
        Err(e) => return parse_rejected(endpoint, invalid_json_error(&e)),
    };
    let allowed: &[&str] = if stream {
        &["query", "summaryRowSetting"]
    } else {
        &[
            "query",
            "pageToken",
            "pageSize",
            "validateOnly",
            "returnTotalResultsCount",
            "summaryRowSetting",
            "searchSettings",
        ]
    };
    if let Some(k) = body.as_object().and_then(|b| first_unknown_key(b, allowed)) {
        return parse_rejected(endpoint, unknown_field_error(k, ""));
    }
    let query = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let customer = customer_id(req);
    let parsed = match super::gaql::Query::parse(query) {
        Ok(q) => q,
        Err(e) => return ads_rejected(endpoint, StatusCode::BAD_REQUEST, &version, &[e]),
    };
    let rows = if parsed.resource() == "customer_client" {
        parsed.run(super::google_accounts::customer_clients(
            &state.config.google_ads_accounts,
            &customer,
        ))
    } else {
        let account = lock(&state.google);
        let actions: Vec<Value> = account
            .actions
            .iter()
            .map(|a| a.to_json(&customer))
            .collect();
        drop(account);
        parsed.run(actions)
    };
    let page = json!({ "results": rows, "fieldMask": parsed.field_mask(), "requestId": opaque_id("request", 22) });
    let response = if stream { json!([page]) } else { page };
    let mut o = Outcome::new(endpoint, StatusCode::OK, Some(response), Verdict::Accepted);
    o.error = None;
    o
}
