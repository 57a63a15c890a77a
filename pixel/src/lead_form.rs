//! `<form data-ar-lead>` (the loader calls [`submitted`] from a capturing `submit` listener, so
//! the form's own submission goes ahead undelayed): the lead id into the hidden `ar_lead_id`
//! field, and `lead.submitted` with the hashed contact fields (`ar_shared::browser::lead_form`).

use ar_shared::browser::lead_form::{
    FIELD_ATTRIBUTE, LEAD_FORM_ATTRIBUTE, LEAD_ID_FIELD, contact_field, mint_lead_id,
};
use wasm_bindgen::{JsCast, JsValue};

use crate::js::{object, set, set_str};
use crate::{PixelError, State, random_bytes, track};

/// Reports a submitted lead form; `undefined` for any other form.
pub(crate) fn submitted(state: &State, form: &JsValue) -> Result<JsValue, PixelError> {
    let Ok(form) = form.clone().dyn_into::<web_sys::HtmlFormElement>() else {
        return Ok(JsValue::UNDEFINED);
    };
    if !state.config.lead_forms || !form.has_attribute(LEAD_FORM_ATTRIBUTE) {
        return Ok(JsValue::UNDEFINED);
    }
    let user = object();
    let mut lead_id = None;
    let elements = form.elements();
    for i in 0..elements.length() {
        let Some(input) = elements
            .item(i)
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            continue;
        };
        if input.name() == LEAD_ID_FIELD && !input.value().is_empty() {
            lead_id = Some(input.value());
        }
        let named = input.get_attribute(FIELD_ATTRIBUTE);
        if let Some(field) = contact_field(&input.type_(), named.as_deref())
            && !input.value().trim().is_empty()
        {
            set_str(&user, field.as_str(), &input.value())?;
        }
    }
    let lead_id = if let Some(id) = lead_id {
        id
    } else {
        let id = mint_lead_id(random_bytes()?);
        hidden_field(&form, &id)?;
        id
    };
    let props = object();
    set_str(&props, "lead_id", &lead_id)?;
    set(&props, "user", &user)?;
    track::track(state, "lead.submitted", &props)
}

/// Whether `target` (an element; `undefined` for the whole page) is in, or has, a lead form.
pub(crate) fn ahead(state: &State, target: &JsValue) -> bool {
    if !state.config.lead_forms {
        return false;
    }
    let selector = format!("form[{LEAD_FORM_ATTRIBUTE}]");
    if let Some(element) = target.dyn_ref::<web_sys::Element>() {
        return element.closest(&selector).ok().flatten().is_some();
    }
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&selector).ok().flatten())
        .is_some()
}

fn hidden_field(form: &web_sys::HtmlFormElement, id: &str) -> Result<(), PixelError> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(PixelError::NoWindow)?;
    let input: web_sys::HtmlInputElement = document
        .create_element("input")
        .map_err(|e| crate::browser(&e))?
        .unchecked_into();
    input.set_type("hidden");
    input.set_name(LEAD_ID_FIELD);
    input.set_value(id);
    form.append_child(&input).map_err(|e| crate::browser(&e))?;
    Ok(())
}
