//! `<form data-ar-lead>`: the loader's capturing `submit` listener reads the form's inputs and
//! calls [`submitted`] (so the form's own submission goes ahead undelayed), then puts the lead id
//! this minted into a hidden `ar_lead_id` field; `lead.submitted` goes with the hashed contact
//! fields (`ar_shared::browser::lead_form`). The DOM work is the loader's: the web-sys bindings
//! for it were 2 KB of the every-page module.

use ar_shared::browser::lead_form::{
    FIELD_ATTRIBUTE, LEAD_FORM_ATTRIBUTE, LEAD_ID_FIELD, contact_field, mint_lead_id,
};
use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::js::{elements, get, object, set, set_str};
use crate::{PixelError, State, random_bytes, track};

/// What the loader finds lead forms by: `[form selector, contact field attribute, lead id
/// field]`; `undefined` while the configuration has lead forms off.
pub(crate) fn names(state: &State) -> JsValue {
    if !state.config.lead_forms {
        return JsValue::UNDEFINED;
    }
    Array::of3(
        &["form[", LEAD_FORM_ATTRIBUTE, "]"].concat().into(),
        &FIELD_ATTRIBUTE.into(),
        &LEAD_ID_FIELD.into(),
    )
    .into()
}

/// Reports a submitted lead form from its inputs (`[[name, type, data-ar-field, value], …]`):
/// `[event ID, lead id to put into the hidden field]`, the second `undefined` when the form
/// already had one; `undefined` while lead forms are off. Once a lead id is minted it is always
/// answered, with the event's error in the first place if the event failed: the tags may have
/// fired with it already, and the shop's backend must report the same lead.
///
/// # Errors
/// No browser randomness for a new lead id.
pub(crate) fn submitted(state: &State, inputs: &JsValue) -> Result<JsValue, PixelError> {
    if !state.config.lead_forms {
        return Ok(JsValue::UNDEFINED);
    }
    let user = object();
    let mut lead_id = None;
    for input in elements(inputs) {
        let part = |i: &str| get(&input, i).as_string();
        let value = part("3").unwrap_or_default();
        if part("0").as_deref() == Some(LEAD_ID_FIELD) && !value.is_empty() {
            lead_id = Some(value.clone());
        }
        if let Some(field) = contact_field(&part("1").unwrap_or_default(), part("2").as_deref())
            && !value.trim().is_empty()
        {
            set_str(&user, field.as_str(), &value)?;
        }
    }
    let (lead_id, minted) = if let Some(id) = lead_id {
        (id, JsValue::UNDEFINED)
    } else {
        let id = mint_lead_id(random_bytes()?);
        let minted = JsValue::from_str(&id);
        (id, minted)
    };
    let tracked = (|| {
        let props = object();
        set_str(&props, "lead_id", &lead_id)?;
        set(&props, "user", &user)?;
        track::track(state, "lead.submitted", &props)
    })();
    let first = tracked.unwrap_or_else(JsValue::from);
    Ok(Array::of2(&first, &minted).into())
}
