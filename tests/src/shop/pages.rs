//! The demo shop's pages and form handlers: products, cart, checkout (identity form), payment
//! (places the order and reports it server-side), thank-you, sign-up and lead forms.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use serde_json::{Map, Value, json};

use super::catalog::{PRODUCTS, product, round_cents};
use super::report::{EDGE_HEADER, EventContext, finish_event, report, user_json};
use super::session::{AR_SESSION_COOKIE, Customer, Order, SESSION_COOKIE, ShopSession, cookie};
use super::templates::{Track, page};
use crate::html::escape;
use crate::state::{AppState, lock};

type Params = Query<BTreeMap<String, String>>;

/// Renders a shop page.
pub fn render(state: &AppState, title: &str, body: &str, track: Option<&Track>) -> String {
    page(title, body, track, state.config.shop.pixel_src.as_deref())
}

/// The shopper's session id, created if needed; `Some(cookie)` when a cookie must be set.
fn session(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    let sent = cookie(headers, SESSION_COOKIE);
    let id = lock(&state.shop).session(sent.as_deref());
    let set_cookie = (sent.as_deref() != Some(id.as_str()))
        .then(|| format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"));
    (id, set_cookie)
}

fn with_session(sid: &str, state: &AppState) -> ShopSession {
    lock(&state.shop)
        .sessions
        .get(sid)
        .cloned()
        .unwrap_or_default()
}

fn respond(html: String, set_cookie: Option<String>) -> Response {
    let mut r = Html(html).into_response();
    if let Some(v) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// A 303 redirect, optionally setting the session cookie and the `x-ar-event` header.
pub fn redirect(location: &str, set_cookie: Option<String>, edge: Option<String>) -> Response {
    let mut r = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response();
    if let Some(v) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    if let Some(v) = edge.and_then(|e| HeaderValue::from_str(&e).ok()) {
        r.headers_mut().insert(EDGE_HEADER, v);
    }
    r
}

/// The page context of a server event (session cookie, page URL, referrer).
pub fn context(headers: &HeaderMap, path: &str) -> EventContext {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let referrer = headers
        .get(header::REFERER)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    EventContext {
        session_id: cookie(headers, AR_SESSION_COOKIE),
        page_url: format!("http://{host}{path}"),
        referrer: referrer.to_owned(),
    }
}

fn items_json(items: &[(String, u32)]) -> (Value, f64) {
    let mut total = 0.0;
    let list: Vec<Value> = items
        .iter()
        .filter_map(|(sku, qty)| product(sku).map(|p| (p, *qty)))
        .map(|(p, qty)| {
            total += p.price * f64::from(qty);
            json!({ "id": p.id, "name": p.name, "price": p.price, "quantity": qty })
        })
        .collect();
    (Value::Array(list), round_cents(total))
}

/// `GET /`
pub async fn home(State(state): State<AppState>) -> Html<String> {
    let list = PRODUCTS.iter().fold(String::new(), |mut out, p| {
        let _ = write!(
            out,
            "<li><a href=\"/products/{id}\">{}</a> — {:.2} {}</li>",
            escape(p.name),
            p.price,
            escape(&state.config.shop.currency),
            id = p.id
        );
        out
    });
    Html(render(
        &state,
        "Products",
        &format!("<ul id=\"products\">{list}</ul>"),
        None,
    ))
}

/// `GET /products/{id}`
pub async fn product_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(p) = product(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Html(render(&state, "Not found", "<p>No such product.</p>", None)),
        )
            .into_response();
    };
    let currency = &state.config.shop.currency;
    let body = format!(
        "<p>{:.2} {}</p><form method=\"post\" action=\"/cart/add\"><input type=\"hidden\" name=\"sku\" value=\"{id}\"><label>Quantity <input name=\"quantity\" value=\"1\" size=\"3\"></label><button id=\"add-to-cart\">Add to cart</button></form>",
        p.price,
        escape(currency),
        id = p.id
    );
    let data = json!({ "value": p.price, "currency": currency, "items": [{ "id": p.id, "name": p.name, "price": p.price, "quantity": 1 }] });
    let track = Track {
        event: "product.viewed",
        key: None,
        data,
    };
    Html(render(&state, p.name, &body, Some(&track))).into_response()
}

/// `POST /cart/add` (form `sku`, `quantity`).
pub async fn cart_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let (sid, set) = session(&state, &headers);
    let sku = form.get("sku").cloned().unwrap_or_default();
    let qty: u32 = form
        .get("quantity")
        .and_then(|q| q.trim().parse().ok())
        .filter(|q| *q > 0)
        .unwrap_or(1);
    if product(&sku).is_none() {
        return (StatusCode::BAD_REQUEST, "unknown sku").into_response();
    }
    if let Some(s) = lock(&state.shop).sessions.get_mut(&sid) {
        match s.items.iter_mut().find(|(k, _)| *k == sku) {
            Some((_, q)) => *q += qty,
            None => s.items.push((sku.clone(), qty)),
        }
    }
    redirect(&format!("/cart?added={sku}"), set, None)
}

/// `GET /cart`
pub async fn cart(State(state): State<AppState>, headers: HeaderMap, Query(q): Params) -> Response {
    let (sid, set) = session(&state, &headers);
    let s = with_session(&sid, &state);
    let (items, total) = items_json(&s.items);
    let rows = s.items.iter().fold(String::new(), |mut out, (sku, qty)| {
        let _ = write!(out, "<li>{} × {qty}</li>", escape(sku));
        out
    });
    let body = if s.items.is_empty() {
        "<p>Your cart is empty.</p>".to_owned()
    } else {
        format!(
            "<ul id=\"cart\">{rows}</ul><p>Total {total:.2}</p><p><a id=\"checkout\" href=\"/checkout\">Checkout</a></p>"
        )
    };
    let track = q.get("added").and_then(|sku| product(sku)).map(|p| {
        let qty = s.items.iter().find(|(k, _)| k == p.id).map_or(1, |(_, q)| *q);
        let data = json!({ "value": round_cents(p.price * f64::from(qty)), "currency": state.config.shop.currency, "items": [{ "id": p.id, "name": p.name, "price": p.price, "quantity": qty }] });
        Track { event: "cart.added", key: Some(format!("{}:{}", s.cart_id, p.id)), data }
    });
    let _ = items;
    respond(render(&state, "Cart", &body, track.as_ref()), set)
}

/// `GET /checkout`: identity form; starts the checkout.
pub async fn checkout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (sid, set) = session(&state, &headers);
    let mut store = lock(&state.shop);
    let n = store.next_number();
    let Some(s) = store.sessions.get_mut(&sid) else {
        return redirect("/cart", set, None);
    };
    if s.items.is_empty() {
        drop(store);
        return redirect("/cart", set, None);
    }
    let checkout_id = s
        .checkout_id
        .get_or_insert_with(|| format!("chk-{n}"))
        .clone();
    let c = s.customer.clone().unwrap_or_else(|| Customer {
        email: "Shopper@Example.com".into(),
        phone: "+49 170 1234567".into(),
        first_name: "Erika".into(),
        last_name: "Mustermann".into(),
        city: "Berlin".into(),
        zip: "10115".into(),
        country: "DE".into(),
    });
    let items = s.items.clone();
    drop(store);
    let (items, total) = items_json(&items);
    let field = |name: &str, label: &str, value: &str| {
        format!(
            "<label>{label} <input name=\"{name}\" value=\"{}\"></label>",
            escape(value)
        )
    };
    let body = format!(
        "<form method=\"post\" action=\"/checkout\">{}{}{}{}{}{}{}<button id=\"to-payment\">Continue to payment</button></form>",
        field("email", "Email", &c.email),
        field("phone", "Phone", &c.phone),
        field("first_name", "First name", &c.first_name),
        field("last_name", "Last name", &c.last_name),
        field("city", "City", &c.city),
        field("zip", "Postcode", &c.zip),
        field("country", "Country", &c.country),
    );
    let data = json!({ "value": total, "currency": state.config.shop.currency, "items": items });
    let track = Track {
        event: "checkout.started",
        key: Some(checkout_id),
        data,
    };
    respond(render(&state, "Checkout", &body, Some(&track)), set)
}

/// `POST /checkout`: stores the identity.
pub async fn checkout_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(customer): Form<Customer>,
) -> Response {
    let (sid, set) = session(&state, &headers);
    if let Some(s) = lock(&state.shop).sessions.get_mut(&sid) {
        s.customer = Some(customer);
    }
    redirect("/payment", set, None)
}

/// `GET /payment`: the payment step.
pub async fn payment(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (sid, set) = session(&state, &headers);
    let s = with_session(&sid, &state);
    let Some(checkout_id) = s.checkout_id.clone().filter(|_| !s.items.is_empty()) else {
        return redirect("/cart", set, None);
    };
    let (items, total) = items_json(&s.items);
    let body = format!(
        "<p>Total {total:.2} {}</p><form method=\"post\" action=\"/payment\"><label>Card <input name=\"card\" value=\"4242 4242 4242 4242\"></label><button id=\"place-order\">Place order</button></form>",
        escape(&state.config.shop.currency)
    );
    // The shop knows who is paying: the pixel hashes it in the browser before it leaves.
    let user = user_json(s.customer.as_ref(), &s.customer_no);
    let data = json!({ "value": total, "currency": state.config.shop.currency, "items": items, "user": user });
    let track = Track {
        event: "payment_info.added",
        key: Some(checkout_id),
        data,
    };
    respond(render(&state, "Payment", &body, Some(&track)), set)
}

/// `POST /payment`: places the order, reports `transaction.purchase`, redirects to thank-you.
pub async fn place_order(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (sid, set) = session(&state, &headers);
    let mut store = lock(&state.shop);
    let order_id = store.next_number().to_string();
    let Some(s) = store.sessions.get_mut(&sid) else {
        return redirect("/cart", set, None);
    };
    if s.items.is_empty() {
        drop(store);
        return redirect("/cart", set, None);
    }
    let (items, total) = items_json(&s.items);
    let user = user_json(s.customer.as_ref(), &s.customer_no);
    s.items.clear();
    s.checkout_id = None;
    let currency = state.config.shop.currency.clone();
    store.orders.insert(
        order_id.clone(),
        Order {
            order_id: order_id.clone(),
            value: total,
            currency: currency.clone(),
            items: items.clone(),
        },
    );
    drop(store);
    let mut event = Map::new();
    event.insert("event".into(), json!("transaction.purchase"));
    event.insert("order_id".into(), json!(order_id));
    event.insert("value".into(), json!(total));
    event.insert("currency".into(), json!(currency));
    event.insert("items".into(), items);
    event.insert("user".into(), user);
    let edge = report(&state, finish_event(event, &context(&headers, "/payment")));
    redirect(&format!("/thank-you?order={order_id}"), set, edge)
}

/// `GET /thank-you?order=…`
pub async fn thank_you(State(state): State<AppState>, Query(q): Params) -> Response {
    let order = q
        .get("order")
        .and_then(|id| lock(&state.shop).orders.get(id).cloned());
    let Some(order) = order else {
        return (
            StatusCode::NOT_FOUND,
            Html(render(
                &state,
                "Unknown order",
                "<p>No such order.</p>",
                None,
            )),
        )
            .into_response();
    };
    let body = format!(
        "<p>Thank you! Order <b id=\"order-id\">{}</b>, {:.2} {}.</p>",
        escape(&order.order_id),
        order.value,
        escape(&order.currency)
    );
    let data = json!({ "value": order.value, "currency": order.currency, "items": order.items });
    let track = Track {
        event: "transaction.purchase",
        key: Some(order.order_id.clone()),
        data,
    };
    Html(render(&state, "Thank you", &body, Some(&track))).into_response()
}

/// `GET /_shop/reports`: what the backend reported (JSON, for tests and people).
pub async fn reports(State(state): State<AppState>) -> Json<Value> {
    Json(json!(lock(&state.shop).reports))
}
