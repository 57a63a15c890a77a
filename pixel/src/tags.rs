//! Meta's `fbq` and Google's `gtag` on the page: what the page has, bringing them up as
//! `ar_shared::browser::setup` decides, and making the calls `ar_shared::browser::tags` describes.

use ar_shared::browser::PixelConfig;
use ar_shared::browser::setup::{PageTags, TagSetup, TagState, conversion_accounts};
use ar_shared::browser::tags::{GtagConversion, GtagEvent, LineItem, MetaCall, MetaCustomData};
use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::PixelError;
use crate::js::{call_global, elements, get, global_fn, object, set, set_str};

/// Set on the stubs our snippet and loader define, so the pixel can tell them from the page's.
pub(crate) const OUR_STUB: &str = "_ar";

/// What the page has now.
pub(crate) fn page_tags() -> PageTags {
    let global = js_sys::global();
    let fbq = match global_fn("fbq") {
        None => TagState::Absent,
        Some(f) if get(&f, "callMethod").is_function() => TagState::Loaded,
        Some(f) => TagState::Stub {
            ours: get(&f, OUR_STUB).is_truthy(),
            initialized: queued(&get(&f, "queue"), "init"),
        },
    };
    let gtag = match global_fn("gtag") {
        None => TagState::Absent,
        Some(_) if get(&global, "google_tag_manager").is_object() => TagState::Loaded,
        Some(f) => TagState::Stub {
            ours: get(&f, OUR_STUB).is_truthy(),
            initialized: queued(&get(&global, "dataLayer"), "config"),
        },
    };
    PageTags { fbq, gtag }
}

/// Whether a command queue (fbq's `queue`, gtag's `dataLayer`) holds a `command` call.
fn queued(queue: &JsValue, command: &str) -> bool {
    elements(queue)
        .iter()
        .any(|args| get(args, "0").as_string().as_deref() == Some(command))
}

/// Defines stubs, initializes and loads the tags as `setup` says. `stub` defines a queueing stub
/// (`fbq` or `gtag`), `load` inserts a base tag script; both are the loader's.
pub(crate) fn bring_up(
    config: &PixelConfig,
    setup: &TagSetup,
    load: &js_sys::Function,
) -> Result<(), PixelError> {
    if setup.meta.init
        && let Some(tag) = &config.meta
    {
        call_global("fbq", &["init".into(), tag.id.as_str().into()]);
    }
    if setup.google.init {
        call_global("gtag", &["js".into(), js_sys::Date::new_0().into()]);
        let ga4 = config
            .ga4
            .as_ref()
            .map(|t| t.id.clone())
            .filter(|id| !id.is_empty());
        for id in ga4.into_iter().chain(conversion_accounts(config)) {
            call_global("gtag", &["config".into(), id.into()]);
        }
    }
    for src in [&setup.meta.load, &setup.google.load].into_iter().flatten() {
        call(load, src)?;
    }
    Ok(())
}

/// The tags' queueing stubs the page lacks (`setup`), through the loader's `stub` hook: before
/// any consent command or [`bring_up`].
pub(crate) fn stub(setup: &TagSetup, stub: &js_sys::Function) -> Result<(), PixelError> {
    for (needed, kind) in [(setup.meta.stub, "fbq"), (setup.google.stub, "gtag")] {
        if needed {
            call(stub, kind)?;
        }
    }
    Ok(())
}

fn call(f: &js_sys::Function, arg: &str) -> Result<(), PixelError> {
    f.call1(&JsValue::NULL, &JsValue::from_str(arg))
        .map(|_| ())
        .map_err(|e| crate::browser(&e))
}

/// `fbq(method, name, custom_data, {eventID})`.
pub(crate) fn fire_meta(call: &MetaCall) -> Result<bool, PixelError> {
    let options = object();
    set_str(&options, "eventID", &call.event_id)?;
    Ok(call_global(
        "fbq",
        &[
            call.method.as_str().into(),
            call.name.as_str().into(),
            meta_data(&call.data)?,
            options,
        ],
    ))
}

fn meta_data(d: &MetaCustomData) -> Result<JsValue, PixelError> {
    let o = object();
    money(&o, d.money.as_ref())?;
    if !d.contents.is_empty() {
        let contents = Array::new();
        let ids = Array::new();
        for c in &d.contents {
            let item = object();
            set_str(&item, "id", &c.id)?;
            set(&item, "quantity", &JsValue::from(c.quantity))?;
            if let Some(p) = c.item_price {
                set(&item, "item_price", &JsValue::from_f64(p))?;
            }
            contents.push(&item);
            ids.push(&JsValue::from_str(&c.id));
        }
        set(&o, "contents", &contents)?;
        set(&o, "content_ids", &ids)?;
        set_str(&o, "content_type", "product")?;
    }
    if let Some(n) = d.num_items {
        // Item counts are far below 2^53.
        #[allow(clippy::cast_precision_loss)]
        set(&o, "num_items", &JsValue::from_f64(n as f64))?;
    }
    if let Some(order) = &d.order_id {
        set_str(&o, "order_id", order)?;
    }
    Ok(o)
}

fn money(o: &JsValue, m: Option<&(f64, String)>) -> Result<(), PixelError> {
    if let Some((value, currency)) = m {
        set(o, "value", &JsValue::from_f64(*value))?;
        set_str(o, "currency", currency)?;
    }
    Ok(())
}

/// `gtag('event', name, {transaction_id, value, currency, items})`.
pub(crate) fn fire_ga4(e: &GtagEvent) -> Result<bool, PixelError> {
    let params = object();
    set_str(&params, "transaction_id", &e.transaction_id)?;
    money(&params, e.money.as_ref())?;
    if !e.items.is_empty() {
        let items = Array::new();
        for i in &e.items {
            items.push(&ga4_item(i)?);
        }
        set(&params, "items", &items)?;
    }
    Ok(call_global(
        "gtag",
        &["event".into(), e.name.as_str().into(), params],
    ))
}

fn ga4_item(i: &LineItem) -> Result<JsValue, PixelError> {
    let o = object();
    set_str(&o, "item_id", &i.id)?;
    if let Some(n) = &i.name {
        set_str(&o, "item_name", n)?;
    }
    if let Some(p) = i.price {
        set(&o, "price", &JsValue::from_f64(p))?;
    }
    if let Some(q) = i.quantity {
        set(&o, "quantity", &JsValue::from(q))?;
    }
    if let Some(c) = &i.category {
        set_str(&o, "item_category", c)?;
    }
    Ok(o)
}

/// `gtag('event', 'conversion', {send_to, transaction_id, value, currency})`.
pub(crate) fn fire_conversion(c: &GtagConversion) -> Result<bool, PixelError> {
    let params = object();
    set_str(&params, "send_to", c.send_to.as_str())?;
    set_str(&params, "transaction_id", &c.transaction_id)?;
    money(&params, c.money.as_ref())?;
    Ok(call_global(
        "gtag",
        &["event".into(), "conversion".into(), params],
    ))
}
