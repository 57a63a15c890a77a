//! `/`: until a storefront origin is configured, a page that shows the pixel working.

use worker::Response;

use crate::error::RouteResult;

const PAGE: &str = include_str!("home.html");

pub(crate) fn page() -> RouteResult {
    Ok(Response::from_html(PAGE)?)
}
