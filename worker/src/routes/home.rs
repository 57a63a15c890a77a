//! `/`: until a storefront origin is configured, a page that shows the pixel working.

use worker::{Response, Result};

const PAGE: &str = include_str!("home.html");

pub fn page() -> Result<Response> {
    Response::from_html(PAGE)
}
