//! The demo shop's sign-up and lead forms: each submission gets an id, is reported server-side
//! (`user.signed_up` with `user_id`, `lead.submitted` with `lead_id`) and lands on a page that
//! reports the same business event from the browser.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, Response};
use serde_json::{Map, json};

use super::pages::{context as context_for, redirect, render as render_page};
use super::report::{finish_event, report, user_json};
use super::session::Customer;
use super::templates::Track;
use crate::html::escape;
use crate::state::{AppState, lock};

const SIGNUP_FORM: &str = "<form method=\"post\" action=\"/signup\"><label>Email <input name=\"email\" value=\"new.user@example.com\"></label><label>First name <input name=\"first_name\" value=\"Max\"></label><label>Last name <input name=\"last_name\" value=\"Muster\"></label><button id=\"sign-up\">Create account</button></form>";
/// A lead form as a merchant marks it for the pixel (`data-ar-lead`): the pixel reports the lead
/// on submit and adds the hidden `ar_lead_id` the backend adopts.
const LEAD_FORM: &str = "<form method=\"post\" action=\"/lead\" data-ar-lead><label>Email <input type=\"email\" name=\"email\" value=\"lead@example.com\"></label><label>Phone <input type=\"tel\" name=\"phone\" value=\"+49 30 123456\"></label><label>Message <input name=\"message\" value=\"Please call me\"></label><button id=\"send-lead\">Send</button></form>";

/// `GET /signup`
pub async fn signup(State(state): State<AppState>) -> Html<String> {
    Html(render_page(&state, "Sign up", SIGNUP_FORM, None))
}

/// `POST /signup`
pub async fn signup_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(customer): Form<Customer>,
) -> Response {
    let user_id = format!("user-{}", lock(&state.shop).next_number());
    let mut event = Map::new();
    event.insert("event".into(), json!("user.signed_up"));
    event.insert("user_id".into(), json!(user_id));
    event.insert("user".into(), user_json(Some(&customer), &user_id));
    let edge = report(
        &state,
        finish_event(event, &context_for(&headers, "/signup")),
    );
    redirect(&format!("/welcome?user={user_id}"), None, edge)
}

/// `GET /welcome?user=…`
pub async fn welcome(
    State(state): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Html<String> {
    let user = q.get("user").cloned().unwrap_or_default();
    let track = Track {
        event: "user.signed_up",
        key: Some(user.clone()),
        data: json!({}),
    };
    Html(render_page(
        &state,
        "Welcome",
        &format!(
            "<p>Account <b id=\"user-id\">{}</b> created.</p>",
            escape(&user)
        ),
        Some(&track),
    ))
}

/// `GET /lead`
pub async fn lead(State(state): State<AppState>) -> Html<String> {
    Html(render_page(&state, "Contact us", LEAD_FORM, None))
}

/// `POST /lead`: the lead id the pixel put into `ar_lead_id` (so both copies are one lead), or
/// the shop's own.
pub async fn lead_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let customer = Customer {
        email: field("email"),
        phone: field("phone"),
        first_name: field("first_name"),
        last_name: field("last_name"),
        ..Customer::default()
    };
    let lead_id = form
        .get("ar_lead_id")
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .cloned()
        .unwrap_or_else(|| format!("lead-{}", lock(&state.shop).next_number()));
    let mut event = Map::new();
    event.insert("event".into(), json!("lead.submitted"));
    event.insert("lead_id".into(), json!(lead_id));
    event.insert("user".into(), user_json(Some(&customer), ""));
    let edge = report(&state, finish_event(event, &context_for(&headers, "/lead")));
    redirect(&format!("/lead/thanks?lead={lead_id}"), None, edge)
}

/// `GET /lead/thanks?lead=…`
pub async fn lead_thanks(
    State(state): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Html<String> {
    let lead = q.get("lead").cloned().unwrap_or_default();
    let track = Track {
        event: "lead.submitted",
        key: Some(lead.clone()),
        data: json!({}),
    };
    Html(render_page(
        &state,
        "Thanks",
        &format!(
            "<p>We will be in touch (<b id=\"lead-id\">{}</b>).</p>",
            escape(&lead)
        ),
        Some(&track),
    ))
}
