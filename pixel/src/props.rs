//! Reads what the page passed to `ar('track', name, props)` into `ar_shared::browser::event`'s
//! types, and writes the event the worker's collect route takes.
//!
//! `props` is the event shape of the README (`order_id`, `value`, `currency`, `items`, `user`, …),
//! or a bare string: the event's business key.

use ar_shared::browser::event::PageEvent;
use ar_shared::browser::tags::LineItem;
use ar_shared::event_id::BusinessKeys;
use ar_shared::event_rules::{
    BROWSER_MAY_NOT_STATE, ITEM_WITHOUT_ID, NOT_A_PAGE_FIELD, NOT_A_STRING, NOT_AN_EVENT_FIELD,
    PAGE_FIELDS, READ_FROM_THE_REQUEST, is_event_field, item_field, reportable_url, url_problem,
};
use ar_shared::mapping::BusinessKey;
use wasm_bindgen::{JsCast as _, JsValue};

use crate::PixelError;
use crate::js::{elements, get, get_f64, get_str, object, set, set_str};

/// The fields a business key is read from.
const KEY_FIELDS: [&str; 5] = ["order_id", "checkout_id", "cart_id", "lead_id", "user_id"];

/// The page's statement as the shared rules take it. A bare string is the business key of the
/// event's kind (a cart line needs an object with `items`).
pub(crate) fn page_event(props: &JsValue, key_kind: BusinessKey) -> PageEvent {
    if let Some(key) = props.as_string() {
        let mut keys = BusinessKeys::default();
        match key_kind {
            BusinessKey::OrderId => keys.order_id = Some(key),
            BusinessKey::CheckoutId => keys.checkout_id = Some(key),
            BusinessKey::UserId => keys.user_id = Some(key),
            BusinessKey::LeadId => keys.lead_id = Some(key),
            BusinessKey::RefundId => keys.refund_id = Some(key),
            BusinessKey::CartLine | BusinessKey::None => {}
        }
        return PageEvent {
            keys,
            ..PageEvent::default()
        };
    }
    let items: Vec<LineItem> = elements(&get(props, "items"))
        .iter()
        .filter_map(|i| {
            Some(LineItem {
                id: get_str(i, "id")?,
                name: get_str(i, "name"),
                price: get_f64(i, "price"),
                quantity: get_f64(i, "quantity").and_then(quantity),
                category: get_str(i, "category"),
            })
        })
        .collect();
    PageEvent {
        event_id: get_str(props, "event_id"),
        keys: BusinessKeys {
            order_id: get_str(props, "order_id"),
            checkout_id: get_str(props, "checkout_id"),
            cart_id: get_str(props, "cart_id"),
            lead_id: get_str(props, "lead_id"),
            user_id: get_str(props, "user_id"),
            line_item_id: items.first().map(|i| i.id.clone()),
            refund_id: get_str(props, "refund_id"),
        },
        value: get_f64(props, "value"),
        currency: get_str(props, "currency"),
        items,
        order_token: get_str(props, "order_token"),
    }
}

/// Refuses what the worker's parse would (`ar_shared::event_rules`): a field it does not take
/// (also in a `page` object the page passes, whose `url` and `referrer` must be strings it takes),
/// an item without an `id`. Checked before any tag fires.
pub(crate) fn check_fields(props: &JsValue) -> Result<(), PixelError> {
    if !props.is_object() {
        return Ok(());
    }
    let fields = js_sys::Object::keys(props.unchecked_ref::<js_sys::Object>());
    // A key whose value JSON leaves out (`undefined`, a function) is not sent: not refused.
    let sent = |v: &JsValue| !v.is_undefined() && !v.is_function() && !v.is_symbol();
    if let Some(name) = fields
        .iter()
        .filter_map(|k| k.as_string())
        .find(|k| sent(&get(props, k)) && !is_event_field(k))
    {
        return Err(PixelError::Field(name, NOT_AN_EVENT_FIELD));
    }
    if let Some(name) = BROWSER_MAY_NOT_STATE.into_iter().find(|k| {
        let v = get(props, k);
        !v.is_undefined() && !v.is_null()
    }) {
        return Err(PixelError::Field(name.to_owned(), READ_FROM_THE_REQUEST));
    }
    // A page object the merchant passes goes as it is: the worker's PageInput and url rules.
    let page = get(props, "page");
    if page.is_object() {
        for k in js_sys::Object::keys(page.unchecked_ref::<js_sys::Object>())
            .iter()
            .filter_map(|k| k.as_string())
        {
            let v = get(&page, &k);
            let field = || ["page.", &k].concat();
            if !PAGE_FIELDS.contains(&k.as_str()) {
                if sent(&v) {
                    return Err(PixelError::Field(field(), NOT_A_PAGE_FIELD));
                }
            } else if let Some(url) = v.as_string() {
                if let Some(problem) = url_problem(&url) {
                    return Err(PixelError::Field(field(), problem));
                }
            } else if v.as_f64().is_some() || v.as_bool().is_some() {
                // An object may serialize to a string (a `URL`): the worker judges it.
                return Err(PixelError::Field(field(), NOT_A_STRING));
            }
        }
    }
    let missing = elements(&get(props, "items"))
        .iter()
        .position(|i| get_str(i, "id").is_none());
    if let Some(i) = missing {
        return Err(PixelError::Field(item_field(i, "id"), ITEM_WITHOUT_ID));
    }
    Ok(())
}

/// A whole, positive quantity that fits the wire's `u32`.
fn quantity(q: f64) -> Option<u32> {
    let whole = q.trunc();
    // Truncation is intended: quantities are counts, checked to be in range first.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (whole >= 1.0 && whole <= f64::from(u32::MAX)).then_some(whole as u32)
}

/// The collect body: the page's own fields (the worker checks them and names any it does not
/// know), with the business keys, amounts and items as read, the name and ID, the time and the
/// page. `user` is replaced by its hashed form before sending.
pub(crate) fn collect_body(
    props: &JsValue,
    name: &str,
    event_id: &str,
    page: &PageEvent,
) -> Result<JsValue, PixelError> {
    let body = object();
    if props.is_object() {
        let (to, from): (&js_sys::Object, &js_sys::Object) =
            (body.unchecked_ref(), props.unchecked_ref());
        js_sys::Object::assign(to, from);
    }
    let keys = &page.keys;
    for (field, value) in KEY_FIELDS.iter().zip([
        &keys.order_id,
        &keys.checkout_id,
        &keys.cart_id,
        &keys.lead_id,
        &keys.user_id,
    ]) {
        if let Some(v) = value {
            set_str(&body, field, v)?;
        }
    }
    if let Some(v) = page.value {
        set(&body, "value", &JsValue::from_f64(v))?;
    }
    if !page.items.is_empty() {
        let items = js_sys::Array::new();
        for i in &page.items {
            let o = object();
            set_str(&o, "id", &i.id)?;
            if let Some(n) = &i.name {
                set_str(&o, "name", n)?;
            }
            if let Some(p) = i.price {
                set(&o, "price", &JsValue::from_f64(p))?;
            }
            if let Some(q) = i.quantity {
                set(&o, "quantity", &JsValue::from(q))?;
            }
            if let Some(c) = &i.category {
                set_str(&o, "category", c)?;
            }
            items.push(&o);
        }
        set(&body, "items", &items)?;
    }
    set_str(&body, "event", name)?;
    set_str(&body, "event_id", event_id)?;
    set(
        &body,
        "occurred_at",
        &JsValue::from_f64(js_sys::Date::now().floor()),
    )?;
    if get(&body, "page").is_undefined() {
        set(&body, "page", &page_info()?)?;
    }
    Ok(body)
}

fn page_info() -> Result<JsValue, PixelError> {
    let window = web_sys::window().ok_or(PixelError::NoWindow)?;
    let page = object();
    // As the worker takes them (event_rules::reportable_url): an app's referrer or a URL too
    // long would have the whole event refused.
    if let Some(href) = window
        .location()
        .href()
        .ok()
        .and_then(|h| reportable_url(&h))
    {
        set_str(&page, "url", &href)?;
    }
    if let Some(referrer) = window
        .document()
        .map(|d| d.referrer())
        .filter(|r| !r.is_empty())
        .and_then(|r| reportable_url(&r))
    {
        set_str(&page, "referrer", &referrer)?;
    }
    Ok(page)
}
