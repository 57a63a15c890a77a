//! The demo shop's own in-memory sessions (cookie `shop_session`): cart, checkout identity and
//! completed orders, plus a log of the server-side reports the backend sent.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The shop's session cookie.
pub const SESSION_COOKIE: &str = "shop_session";
/// The worker's first-party session cookie the backend passes on as `session_id`.
pub const AR_SESSION_COOKIE: &str = "_ar_sid";

/// Shopper identity entered on the checkout form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Customer {
    /// Email address.
    #[serde(default)]
    pub email: String,
    /// Phone number.
    #[serde(default)]
    pub phone: String,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// Postal code.
    #[serde(default)]
    pub zip: String,
    /// ISO country code.
    #[serde(default)]
    pub country: String,
}

/// One shopper's session.
#[derive(Debug, Clone, Default)]
pub struct ShopSession {
    /// Cart id (business key of `cart.added` with the SKU).
    pub cart_id: String,
    /// `(sku, quantity)`
    pub items: Vec<(String, u32)>,
    /// Checkout id (business key of `checkout.started` / `payment_info.added`).
    pub checkout_id: Option<String>,
    /// Identity from the checkout form.
    pub customer: Option<Customer>,
    /// Customer number (`external_id`).
    pub customer_no: String,
}

/// A completed order.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    /// Order id.
    pub order_id: String,
    /// Total.
    pub value: f64,
    /// Currency.
    pub currency: String,
    /// Items as reported.
    pub items: Value,
}

/// What the backend reported, and how the worker answered.
#[derive(Debug, Clone, Serialize)]
pub struct ReportLog {
    /// `api` or `edge`.
    pub via: String,
    /// The event JSON.
    pub event: Value,
    /// Worker HTTP status (api), if it answered.
    pub status: Option<u16>,
    /// Transport error (api), if any.
    pub error: Option<String>,
}

/// All sessions and orders.
#[derive(Debug, Default)]
pub struct ShopStore {
    /// Sessions by cookie value.
    pub sessions: HashMap<String, ShopSession>,
    /// Orders by id.
    pub orders: HashMap<String, Order>,
    /// Reports sent.
    pub reports: Vec<ReportLog>,
    counter: u64,
}

impl ShopStore {
    /// The next number of a sequence shared by every id kind (orders start at 1001).
    pub fn next_number(&mut self) -> u64 {
        self.counter += 1;
        1_000 + self.counter
    }

    /// The session for `cookie`, created if missing; returns its cookie value.
    pub fn session(&mut self, cookie: Option<&str>) -> String {
        if let Some(c) = cookie.filter(|c| self.sessions.contains_key(*c)) {
            return c.to_owned();
        }
        let n = self.next_number();
        let id = format!("s{n}-{}", crate::checks::opaque_id("shop-session", 12));
        let session = ShopSession {
            cart_id: format!("cart-{n}"),
            customer_no: format!("cust-{n}"),
            ..ShopSession::default()
        };
        self.sessions.insert(id.clone(), session);
        id
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
