//! Validation of a parsed event: what types cannot check.

use super::{EventInput, ItemInput, ValidatedEvent, ValidationError};
use super::{
    MAX_FUTURE_SKEW_MS, MAX_ITEMS, MAX_STRING_LEN, MAX_USER_AGENT_LEN, MIN_OCCURRED_AT_MS,
};
use crate::event::EventName;
use crate::event_id::{BusinessKeys, EventId};
use crate::event_rules::{TOO_LONG, key_too_long};
use crate::mapping::BusinessKey;
use crate::mapping_config::Mappings;

/// What validation needs from the outside world.
#[derive(Debug, Clone, Copy)]
pub struct ValidationContext<'a> {
    /// Event mapping (standard + merchant's).
    pub mappings: &'a Mappings,
    /// Receive time, Unix ms.
    pub now_ms: u64,
    /// Random bytes for an ID when the event has neither an ID nor a business key.
    pub random: [u8; 16],
}

/// Validates an event and fixes its ID and time.
///
/// # Errors
/// The first [`ValidationError`] found.
pub fn validate(
    input: EventInput,
    ctx: ValidationContext<'_>,
) -> Result<ValidatedEvent, ValidationError> {
    let name: EventName = input
        .event
        .parse()
        .map_err(|e| ValidationError::new("event", format!("{e}")))?;
    let mapping = ctx.mappings.lookup(&name).ok_or_else(|| {
        ValidationError::new(
            "event",
            format!("{name} is not a standard event and has no custom mapping"),
        )
    })?;
    let keys = BusinessKeys {
        order_id: input.order_id,
        checkout_id: input.checkout_id,
        cart_id: input.cart_id,
        lead_id: input.lead_id,
        user_id: input.user_id,
        line_item_id: input.items.first().map(|i| i.id.clone()),
        refund_id: input.refund_id,
    };
    // Every business key, the currency and the order token within MAX_STRING_LEN (the pixel
    // checks the same).
    let long = key_too_long(
        &keys,
        input.currency.as_deref(),
        input.order_token.as_deref(),
    );
    if let Some(field) = long {
        return Err(ValidationError::new(field, TOO_LONG));
    }
    check_adjustment(&name, &keys)?;
    let key = keys.key_for(mapping.key);
    if key.is_none() && mapping.key != BusinessKey::None {
        return Err(ValidationError::new(
            mapping.key.field_name(),
            format!("required for {name}"),
        ));
    }
    let stated: Option<EventId> = input
        .event_id
        .map(|id| id.parse())
        .transpose()
        .map_err(|e| ValidationError::new("event_id", format!("{e}")))?;
    let event_id = crate::event_rules::event_id_for(&name, key.as_deref(), stated, ctx.random)
        .map_err(|_| {
            ValidationError::new(
                "event_id",
                crate::event_rules::ForeignEventId::problem(&name, mapping.key),
            )
        })?;
    let occurred_at_ms = check_time(input.occurred_at, ctx.now_ms)?;
    let money = check_money(
        input.value,
        input.currency.as_deref(),
        crate::mapping::needs_value(&name),
    )?;
    check_items(&input.items)?;
    let page = input.page.unwrap_or_default();
    check_url("page.url", page.url.as_deref())?;
    check_url("page.referrer", page.referrer.as_deref())?;
    let client = input.client.unwrap_or_default();
    if let Some(ip) = client.ip.as_deref() {
        ip.parse::<std::net::IpAddr>()
            .map_err(|_| ValidationError::new("client.ip", "must be an IPv4 or IPv6 address"))?;
    }
    check_len(
        "client.user_agent",
        client.user_agent.as_deref(),
        MAX_USER_AGENT_LEN,
    )?;
    let click_ids = input.click_ids.unwrap_or_default();
    check_click_ids_and_session(&click_ids, input.session_id.as_deref())?;
    Ok(ValidatedEvent {
        name,
        mapping,
        event_id,
        occurred_at_ms,
        keys,
        money,
        items: input.items,
        user: input.user.unwrap_or_default(),
        page,
        click_ids,
        consent: input.consent.unwrap_or_default(),
        sale_opt_out: input.sale_opt_out == Some(true),
        client,
        session_id: input.session_id,
        order_token: input.order_token,
        fired: input.fired,
    })
}

/// An adjustment names the purchase it adjusts (a refund's own key is its `refund_id`).
fn check_adjustment(name: &EventName, keys: &BusinessKeys) -> Result<(), ValidationError> {
    if name.is_adjustment() && keys.key_for(BusinessKey::OrderId).is_none() {
        return Err(ValidationError::new(
            "order_id",
            format!("required for {name}: the purchase it adjusts"),
        ));
    }
    Ok(())
}

fn check_click_ids_and_session(
    click_ids: &super::ClickIdsInput,
    session_id: Option<&str>,
) -> Result<(), ValidationError> {
    for (field, value) in [
        ("click_ids.fbc", &click_ids.fbc),
        ("click_ids.fbp", &click_ids.fbp),
        ("click_ids.gclid", &click_ids.gclid),
        ("click_ids.gbraid", &click_ids.gbraid),
        ("click_ids.wbraid", &click_ids.wbraid),
    ] {
        check_len(field, value.as_deref(), MAX_STRING_LEN)?;
    }
    if let Some(sid) = session_id {
        let safe = !sid.is_empty()
            && sid.len() <= 128
            && sid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !safe {
            return Err(ValidationError::new(
                "session_id",
                "must be the session cookie's value (1-128 of A-Z a-z 0-9 - _ .)",
            ));
        }
    }
    Ok(())
}

fn check_len(field: &str, value: Option<&str>, max: usize) -> Result<(), ValidationError> {
    match value {
        Some(v) if v.len() > max => Err(ValidationError::new(
            field,
            format!("longer than {max} bytes"),
        )),
        _ => Ok(()),
    }
}

fn check_url(field: &str, value: Option<&str>) -> Result<(), ValidationError> {
    match value.and_then(crate::event_rules::url_problem) {
        Some(problem) => Err(ValidationError::new(field, problem)),
        None => Ok(()),
    }
}

fn check_time(occurred_at: Option<u64>, now_ms: u64) -> Result<u64, ValidationError> {
    let Some(t) = occurred_at else {
        return Ok(now_ms);
    };
    if t < MIN_OCCURRED_AT_MS {
        return Err(ValidationError::new(
            "occurred_at",
            "must be Unix time in milliseconds (this looks like seconds)",
        ));
    }
    if t > now_ms.saturating_add(MAX_FUTURE_SKEW_MS) {
        return Err(ValidationError::new(
            "occurred_at",
            "is more than 5 minutes in the future",
        ));
    }
    // Up to 5 minutes ahead is a fast device clock: the event happened now. The platforms refuse
    // future times (GA4 `timestamp_micros` must be ≤ the request time and drops the event
    // silently otherwise, google.md §4; Meta rejects future `event_time`), so none is stored.
    Ok(t.min(now_ms))
}

/// Meta: `value` and `currency` are required for Purchase (meta-capi.md §1.5); GA4: `currency` is
/// required when `value` is set (google.md §4).
fn check_money(
    value: Option<f64>,
    currency: Option<&str>,
    is_purchase: bool,
) -> Result<Option<crate::money::Money>, ValidationError> {
    // event_rules: ISO 4217, a value with its currency and in range (the pixel checks the same).
    if let Some((field, problem)) = crate::event_rules::money_problem(value, currency) {
        return Err(ValidationError::new(field, problem));
    }
    let currency = currency.map(str::to_ascii_uppercase);
    match (value, currency) {
        (Some(v), Some(c)) => Ok(Some(crate::money::Money::new(v, c))),
        (None, Some(_) | None) if is_purchase => Err(ValidationError::new(
            "value",
            "required for transaction.purchase (with currency)",
        )),
        // A value without a currency was refused above.
        _ => Ok(None),
    }
}

/// `event_rules::item_problem` for each item (the pixel checks the same).
fn check_items(items: &[ItemInput]) -> Result<(), ValidationError> {
    if items.len() > MAX_ITEMS {
        return Err(ValidationError::new(
            "items",
            crate::event_rules::TOO_MANY_ITEMS,
        ));
    }
    for (i, item) in items.iter().enumerate() {
        if let Some((field, problem)) = crate::event_rules::item_problem(
            &item.id,
            item.name.as_deref(),
            item.category.as_deref(),
            item.price,
            item.quantity,
        ) {
            return Err(ValidationError::new(
                crate::event_rules::item_field(i, field),
                problem,
            ));
        }
    }
    Ok(())
}
