//! Reads what the page passed to `ar('track', name, props)` into `ar_shared::browser::event`'s
//! types, and writes the event the worker's collect route takes.
//!
//! `props` is the event shape of the README (`order_id`, `value`, `currency`, `items`, `user`, …),
//! or a bare string: the event's business key.

use ar_shared::browser::event::PageEvent;
use ar_shared::browser::tags::LineItem;
use ar_shared::event_id::BusinessKeys;
use ar_shared::event_rules::{
    BROWSER_MAY_NOT_STATE, EVENT_FIELDS, FIELD_KINDS, ITEM_KINDS, ITEM_WITHOUT_ID, Kind,
    NOT_A_PAGE_FIELD, NOT_A_STRING, NOT_AN_EVENT_FIELD, PAGE_FIELDS, READ_FROM_THE_REQUEST,
    is_event_field, item_field, reportable_url, signal_problem, url_problem,
};
use ar_shared::mapping::BusinessKey;
use wasm_bindgen::{JsCast as _, JsValue};

use crate::PixelError;
use crate::js::{elements, get, get_f64, get_str, object, set, set_str};

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
                quantity: get_f64(i, "quantity").map(quantity),
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
    check_members(&get(props, "page"), "page.", |k, v| {
        if !PAGE_FIELDS.contains(&k) {
            Some(NOT_A_PAGE_FIELD)
        } else if let Some(url) = v.as_string() {
            url_problem(&url)
        } else {
            // An object may serialize to a string (a `URL`): the worker judges it.
            (v.as_f64().is_some() || v.as_bool().is_some()).then_some(NOT_A_STRING)
        }
    })?;
    // Each item's fields as the pixel reads them (a number as an id, a numeric string as a
    // price): one it cannot read is refused, not left out (event_rules::ITEM_KINDS).
    for (i, item) in elements(&get(props, "items")).iter().enumerate() {
        if get_str(item, "id").is_none() {
            return Err(PixelError::Field(item_field(i, "id"), ITEM_WITHOUT_ID));
        }
        for (field, kind) in ITEM_KINDS {
            if !item_field_readable(item, field, kind) {
                return Err(PixelError::Field(item_field(i, field), kind.problem()));
            }
        }
    }
    Ok(())
}

/// Whether the pixel reads `item[field]` as the kind the field takes (a number as an id, a
/// numeric string as a price); an unstated field (`null`, or a value JSON leaves out) is read as
/// absent.
pub(crate) fn item_field_readable(item: &JsValue, field: &str, kind: Kind) -> bool {
    let v = get(item, field);
    !sent(&v)
        || v.is_null()
        || if kind == Kind::Text {
            get_str(item, field).is_some()
        } else {
            get_f64(item, field).is_some()
        }
}

/// Refuses a collect body whose fields the worker's parse would (`event_rules::FIELD_KINDS`,
/// `signal_problem`): those the pixel passes through as the page gave them. Checked before any
/// tag fires.
pub(crate) fn check_kinds(body: &JsValue) -> Result<(), PixelError> {
    for (field, kind) in EVENT_FIELDS.into_iter().zip(FIELD_KINDS) {
        if let Some(problem) = kind_of(&get(body, field)).and_then(|k| kind.problem_of(field, k)) {
            return Err(PixelError::Field(field.to_owned(), problem));
        }
    }
    check_members(&get(body, "consent"), "consent.", |k, v| {
        // `null` is an unstated signal.
        let text = if v.is_null() {
            Some("granted".to_owned())
        } else {
            v.as_string()
        };
        signal_problem(k, text.as_deref())
    })
}

/// Refuses the first member of an object `problem` finds at fault, named `prefix` + its key.
fn check_members(
    obj: &JsValue,
    prefix: &str,
    problem: impl Fn(&str, &JsValue) -> Option<&'static str>,
) -> Result<(), PixelError> {
    if !obj.is_object() {
        return Ok(());
    }
    for k in js_sys::Object::keys(obj.unchecked_ref::<js_sys::Object>())
        .iter()
        .filter_map(|k| k.as_string())
    {
        let v = get(obj, &k);
        if let Some(p) = sent(&v).then(|| problem(&k, &v)).flatten() {
            return Err(PixelError::Field([prefix, &k].concat(), p));
        }
    }
    Ok(())
}

/// Whether JSON writes a key with this value (`undefined`, a function and a Symbol it leaves out).
fn sent(v: &JsValue) -> bool {
    !v.is_undefined() && !v.is_function() && !v.is_symbol()
}

/// The JSON kind of a value, `None` for one JSON leaves out.
fn kind_of(v: &JsValue) -> Option<Kind> {
    Some(if v.is_string() {
        Kind::Text
    } else if let Some(n) = v.as_f64() {
        if n.is_finite() {
            Kind::Number
        } else {
            Kind::Null
        }
    } else if v.as_bool().is_some() {
        Kind::Flag
    } else if js_sys::Array::is_array(v) {
        Kind::List
    } else if v.is_object() {
        Kind::Object
    } else if v.is_null() {
        Kind::Null
    } else {
        return None;
    })
}

/// The wire's `u32` quantity of a finite number.
// A count: the cast truncates and saturates, so less than 1 reads as 0, which
// event_rules::item_problem refuses ("must be at least 1") rather than leaving it out.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn quantity(q: f64) -> u32 {
    q as u32
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
    for (field, value) in page.keys.by_field() {
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
