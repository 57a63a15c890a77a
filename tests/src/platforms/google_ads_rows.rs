//! Row rules of the fake `uploadClickConversions` (reference/google.md §1.2, §1.5, §1.7): each
//! failing conversion becomes one `GoogleAdsError` located at `conversions[i].<field>`, the other
//! rows still succeed (partial failure).

use std::collections::HashSet;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use super::google_account::GoogleAccount;
use super::google_error::{AdsError, loc};
use crate::checks::is_sha256_lower_hex;
use crate::state::AppState;

/// Google's click-upload wait: clicks under 6 hours old fail with `TOO_RECENT_EVENT` (§0, §1.5).
pub const CLICK_MIN_AGE_MS: i64 = 6 * 3_600_000;
/// A new conversion action cannot take uploads for 6 hours (`TOO_RECENT_CONVERSION_ACTION`).
pub const ACTION_MIN_AGE_MS: i64 = 6 * 3_600_000;
/// At most 5 user identifiers per conversion (§1.2).
pub const MAX_USER_IDENTIFIERS: usize = 5;

/// `yyyy-mm-dd hh:mm:ss+|-hh:mm` (§1.2 `conversionDateTime`).
const DATE_TIME: &[BorrowedFormatItem<'static>] = format_description!(
    "[year]-[month]-[day] [hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
);

/// Parses a Google Ads date-time (`2019-01-01 12:32:45-08:00`) to Unix ms.
pub fn parse_ads_date_time(value: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(value, DATE_TIME).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// An accepted row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Conversion action id.
    pub action_id: u64,
    /// Its name (for the per-event counters).
    pub action_name: String,
    /// `orderId`, if given.
    pub order_id: Option<String>,
    /// The click id, if any.
    pub click_id: Option<String>,
    /// Which click id field (`gclid`, `gbraid`, `wbraid`).
    pub click_field: Option<&'static str>,
    /// `conversionDateTime` as sent.
    pub date_time: String,
    /// `userIdentifiers` as sent.
    pub user_identifiers: Option<Value>,
}

impl Row {
    /// The `ClickConversionResult` for this row.
    pub fn result(&self, customer: &str) -> Value {
        let mut r = json!({
            "conversionAction": format!("customers/{customer}/conversionActions/{}", self.action_id),
            "conversionDateTime": self.date_time,
        });
        if let (Some(field), Some(id)) = (self.click_field, &self.click_id) {
            r[field] = json!(id);
        }
        if let Some(ids) = &self.user_identifiers {
            r["userIdentifiers"] = ids.clone();
        }
        r
    }
}

/// What the rows of one request share.
#[derive(Debug)]
pub struct RowContext<'a> {
    /// Sandbox state (settings).
    pub state: &'a AppState,
    /// The account (actions, clicks, used order ids).
    pub account: &'a GoogleAccount,
    /// Customer id from the path.
    pub customer: &'a str,
    /// Sandbox now.
    pub now_ms: i64,
    /// `(action, orderId)` seen earlier in this request.
    pub seen_orders: HashSet<(u64, String)>,
    /// `(action, click, dateTime)` seen earlier in this request.
    pub seen_clicks: HashSet<(u64, String, String)>,
}

fn err(i: usize, field: &str, kind: &'static str, code: &str, message: &str) -> AdsError {
    AdsError::new(
        kind,
        code,
        message,
        loc(&[("conversions", Some(i)), (field, None)]),
    )
}

fn upload_err(i: usize, field: &str, code: &str, message: &str) -> AdsError {
    err(i, field, "conversionUploadError", code, message)
}

fn text<'v>(c: &'v Value, key: &str) -> Option<&'v str> {
    c.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Checks conversion `i`.
///
/// # Errors
/// The first rule the row breaks.
pub fn check_row(ctx: &mut RowContext<'_>, i: usize, c: &Value) -> Result<Row, AdsError> {
    let (action_id, action_name, click_window_days, one_per_click) = check_action(ctx, i, c)?;
    let Some(date_time) = text(c, "conversionDateTime") else {
        return Err(err(
            i,
            "conversion_date_time",
            "fieldError",
            "REQUIRED",
            "The required field was not present.",
        ));
    };
    // §1.2: "The timezone must be specified. The format is yyyy-mm-dd hh:mm:ss+|-hh:mm".
    let Some(conversion_ms) = parse_ads_date_time(date_time) else {
        return Err(err(
            i,
            "conversion_date_time",
            "dateError",
            "INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET",
            "The string date time's format should be yyyy-mm-dd hh:mm:ss+|-hh:mm.",
        ));
    };
    if let Some(v) = c.get("conversionValue")
        && !v.is_number()
    {
        return Err(err(
            i,
            "conversion_value",
            "fieldError",
            "INVALID_VALUE",
            "The field is not valid.",
        ));
    }
    if let Some(currency) = c.get("currencyCode")
        && !currency
            .as_str()
            .is_some_and(crate::checks::is_currency_code)
    {
        return Err(err(
            i,
            "currency_code",
            "currencyCodeError",
            "UNSUPPORTED",
            "The currency code is not supported.",
        ));
    }
    let (click_field, click_id) =
        check_click(ctx, i, c, conversion_ms, click_window_days, one_per_click)?;
    let user_identifiers = check_identifiers(i, c)?;
    let order_id = text(c, "orderId").map(str::to_owned);
    if let Some(order) = &order_id {
        // §1.5: ORDER_ID_ALREADY_IN_USE (recorded before), DUPLICATE_ORDER_ID (twice in one request).
        let key = (action_id, order.clone());
        if ctx.account.used_order_ids.contains(&key) {
            return Err(upload_err(
                i,
                "order_id",
                "ORDER_ID_ALREADY_IN_USE",
                "The conversion has an order ID that was previously recorded, so the event was not processed.",
            ));
        }
        if !ctx.seen_orders.insert(key) {
            return Err(upload_err(
                i,
                "order_id",
                "DUPLICATE_ORDER_ID",
                "The request contains two conversions with the same order ID.",
            ));
        }
    }
    if let Some(click) = &click_id {
        let key = (action_id, click.clone(), date_time.to_owned());
        if ctx.account.click_conversions.contains(&key) {
            return Err(upload_err(
                i,
                click_field.unwrap_or("gclid"),
                "CLICK_CONVERSION_ALREADY_EXISTS",
                "A click conversion with the same click and conversion date time already exists.",
            ));
        }
        if !ctx.seen_clicks.insert(key) {
            return Err(upload_err(
                i,
                click_field.unwrap_or("gclid"),
                "DUPLICATE_CLICK_CONVERSION_IN_REQUEST",
                "The request contains two conversions with the same click and conversion date time.",
            ));
        }
    }
    Ok(Row {
        action_id,
        action_name,
        order_id,
        click_id,
        click_field,
        date_time: date_time.to_owned(),
        user_identifiers,
    })
}

fn check_action(
    ctx: &RowContext<'_>,
    i: usize,
    c: &Value,
) -> Result<(u64, String, i64, bool), AdsError> {
    let Some(resource) = text(c, "conversionAction") else {
        return Err(err(
            i,
            "conversion_action",
            "fieldError",
            "REQUIRED",
            "The required field was not present.",
        ));
    };
    // `customers/{cid}/conversionActions/{id}`; "validation will ignore the customer id and use the
    // conversion action id as the sole identifier" (§1.2).
    let parts: Vec<&str> = resource.split('/').collect();
    let id = match parts.as_slice() {
        ["customers", _, "conversionActions", id] => id.parse::<u64>().ok(),
        _ => None,
    };
    let Some(id) = id else {
        return Err(err(
            i,
            "conversion_action",
            "requestError",
            "RESOURCE_NAME_MALFORMED",
            "The resource name is malformed.",
        ));
    };
    let action = ctx.account.action(id).filter(|a| a.status != "REMOVED");
    let Some(action) = action else {
        return Err(upload_err(
            i,
            "conversion_action",
            "NO_CONVERSION_ACTION_FOUND",
            "The conversion action specified in the upload request cannot be found. Make sure it's available in this account.",
        ));
    };
    // §0: a WEBPAGE action is rejected with INVALID_CONVERSION_ACTION_TYPE.
    if action.action_type != "UPLOAD_CLICKS" {
        return Err(upload_err(
            i,
            "conversion_action",
            "INVALID_CONVERSION_ACTION_TYPE",
            "The conversion action specified in the upload request isn't set up for uploading conversions.",
        ));
    }
    if ctx.now_ms - action.created_at_ms < ACTION_MIN_AGE_MS {
        return Err(upload_err(
            i,
            "conversion_action",
            "TOO_RECENT_CONVERSION_ACTION",
            "The conversion action was created too recently. Retry the upload 6 hours after creating the action.",
        ));
    }
    Ok((
        id,
        action.name.clone(),
        action.click_through_lookback_window_days,
        action.counting_type == "ONE_PER_CLICK",
    ))
}

/// Click id format: base64url-ish characters (real gclids are opaque, e.g. `Cj0K…`).
fn parseable_click_id(id: &str) -> bool {
    id.len() >= 6
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_click(
    ctx: &RowContext<'_>,
    i: usize,
    c: &Value,
    conversion_ms: i64,
    window_days: i64,
    one_per_click: bool,
) -> Result<(Option<&'static str>, Option<String>), AdsError> {
    let gclid = text(c, "gclid");
    let gbraid = text(c, "gbraid");
    let wbraid = text(c, "wbraid");
    // §1.2/§1.5: gbraid and wbraid together → GBRAID_WBRAID_BOTH_SET; Google's sample sets exactly
    // one of gclid/gbraid/wbraid ("If set, the wbraid and gbraid parameters must be None").
    if gbraid.is_some() && wbraid.is_some() {
        return Err(upload_err(
            i,
            "wbraid",
            "GBRAID_WBRAID_BOTH_SET",
            "Both gbraid and wbraid are set. Only one of them may be set.",
        ));
    }
    if gclid.is_some() && (gbraid.is_some() || wbraid.is_some()) {
        let field = if gbraid.is_some() { "gbraid" } else { "wbraid" };
        return Err(err(
            i,
            field,
            "fieldError",
            "VALUE_MUST_BE_UNSET",
            "The field must not be set when gclid is set.",
        ));
    }
    let (field, id) = match (gclid, gbraid, wbraid) {
        (Some(id), _, _) => ("gclid", id),
        (_, Some(id), _) => ("gbraid", id),
        (_, _, Some(id)) => ("wbraid", id),
        // Enhanced conversions for leads: no click id, hashed email/phone instead (§0).
        _ if c
            .get("userIdentifiers")
            .and_then(Value::as_array)
            .is_some_and(|ids| !ids.is_empty()) =>
        {
            return Ok((None, None));
        }
        _ => {
            return Err(err(
                i,
                "gclid",
                "fieldError",
                "REQUIRED",
                "The required field was not present.",
            ));
        }
    };
    if !parseable_click_id(id) {
        let code = format!("UNPARSEABLE_{}", field.to_uppercase());
        return Err(upload_err(
            i,
            field,
            &code,
            &format!("The {field} could not be decoded."),
        ));
    }
    if field != "gclid" && one_per_click {
        return Err(upload_err(
            i,
            field,
            "ONE_PER_CLICK_CONVERSION_ACTION_NOT_PERMITTED_WITH_BRAID",
            "A ONE_PER_CLICK conversion action cannot be used with gbraid or wbraid.",
        ));
    }
    if let Some(owner) = ctx
        .account
        .clicks
        .get(id)
        .and_then(|k| k.customer_id.as_deref())
        && owner != ctx.customer
    {
        return Err(upload_err(
            i,
            field,
            "INVALID_CUSTOMER_FOR_CLICK",
            "The click associated with the given identifier belongs to a different Google Ads account.",
        ));
    }
    match ctx.account.click_time_ms(id) {
        Some(clicked) => check_click_time(ctx, i, field, clicked, conversion_ms, window_days)?,
        None if ctx.state.config.strict_clicks => {
            return Err(upload_err(
                i,
                field,
                "EVENT_NOT_FOUND",
                "The click associated with the given identifier could not be found.",
            ));
        }
        None => {}
    }
    Ok((Some(field), Some(id.to_owned())))
}

fn check_click_time(
    ctx: &RowContext<'_>,
    i: usize,
    field: &str,
    clicked: i64,
    conversion_ms: i64,
    window_days: i64,
) -> Result<(), AdsError> {
    // §1.5: "TOO_RECENT_EVENT (click < 6 h ago, retry after 6 h)" — measured at upload time.
    if ctx.now_ms - clicked < CLICK_MIN_AGE_MS {
        return Err(upload_err(
            i,
            field,
            "TOO_RECENT_EVENT",
            "The click associated with the given identifier or iOS URL parameter occurred less than 6 hours ago, please retry after 6 hours have passed.",
        ));
    }
    // §1.5: CONVERSION_PRECEDES_EVENT: "conversion_date_time precedes click".
    if conversion_ms < clicked {
        return Err(upload_err(
            i,
            "conversion_date_time",
            "CONVERSION_PRECEDES_EVENT",
            "The conversion occurred before the click associated with it.",
        ));
    }
    // §1.7: EXPIRED_EVENT: click older than the action's click-through window.
    if conversion_ms - clicked > window_days * 86_400_000 {
        return Err(upload_err(
            i,
            field,
            "EXPIRED_EVENT",
            "The click associated with the given identifier occurred before this conversion's click-through window.",
        ));
    }
    Ok(())
}

/// §1.2: at most 5 identifiers, each exactly one of the oneof fields; only `hashedEmail` and
/// `hashedPhoneNumber` are supported for uploads (`UNSUPPORTED_USER_IDENTIFIER`, `addressInfo`
/// included, §1.2); hashes must be 64 lowercase hex (`INVALID_USER_IDENTIFIER`, §3).
fn check_identifiers(i: usize, c: &Value) -> Result<Option<Value>, AdsError> {
    let Some(ids) = c.get("userIdentifiers") else {
        return Ok(None);
    };
    let list = ids.as_array().map(Vec::as_slice).unwrap_or_default();
    if list.len() > MAX_USER_IDENTIFIERS {
        return Err(err(
            i,
            "user_identifiers",
            "collectionSizeError",
            "TOO_MANY",
            "Too many elements: at most 5 user identifiers per conversion.",
        ));
    }
    for (j, id) in list.iter().enumerate() {
        let at = || loc(&[("conversions", Some(i)), ("user_identifiers", Some(j))]);
        let set: Vec<&str> = [
            "hashedEmail",
            "hashedPhoneNumber",
            "mobileId",
            "thirdPartyUserId",
            "addressInfo",
        ]
        .into_iter()
        .filter(|k| id.get(*k).is_some())
        .collect();
        match set.as_slice() {
            ["hashedEmail" | "hashedPhoneNumber"] => {
                let value = id.get(set[0]).and_then(Value::as_str).unwrap_or_default();
                if !is_sha256_lower_hex(value) {
                    return Err(AdsError::new(
                        "conversionUploadError",
                        "INVALID_USER_IDENTIFIER",
                        "The user identifier is not a valid SHA-256 hash of normalized data.",
                        at(),
                    ));
                }
            }
            [] => {
                return Err(AdsError::new(
                    "fieldError",
                    "REQUIRED",
                    "The required field was not present.",
                    at(),
                ));
            }
            [_] => {
                return Err(AdsError::new(
                    "conversionUploadError",
                    "UNSUPPORTED_USER_IDENTIFIER",
                    "Only hashed_email and hashed_phone_number are supported for conversion uploads.",
                    at(),
                ));
            }
            _ => {
                return Err(AdsError::new(
                    "fieldError",
                    "VALUE_MUST_BE_UNSET",
                    "Only one identifier may be set per user identifier.",
                    at(),
                ));
            }
        }
    }
    Ok(Some(ids.clone()))
}
