//! The demo shop origin (the "shop" listener): plain server-rendered HTML that embeds the pixel
//! like a merchant would, fakes the Meta and Google browser tags, and has a backend that reports
//! orders, sign-ups and leads to the worker (signed API call or edge header).
//!
//! In `make dev` the worker sits in front of it and proxies every non-`/_ar/` path here, so
//! `/_ar/pixel.js` on these pages is served by the worker, not by the shop.

pub mod catalog;
pub mod forms;
pub mod pages;
pub mod probe;
pub mod report;
pub mod session;
pub mod tag_standins;
pub mod templates;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The shop's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/products/{id}", get(pages::product_page))
        .route("/cart/add", post(pages::cart_add))
        .route("/cart", get(pages::cart))
        .route(
            "/checkout",
            get(pages::checkout).post(pages::checkout_submit),
        )
        .route("/payment", get(pages::payment).post(pages::place_order))
        .route("/thank-you", get(pages::thank_you))
        .route("/signup", get(forms::signup).post(forms::signup_submit))
        .route("/welcome", get(forms::welcome))
        .route("/lead", get(forms::lead).post(forms::lead_submit))
        .route("/lead/thanks", get(forms::lead_thanks))
        .route("/_shop/reports", get(pages::reports))
        .route("/_shop/echo", get(probe::echo).post(probe::echo))
        .route("/_shop/echo/{*rest}", get(probe::echo).post(probe::echo))
        .route("/_shop/cached", get(probe::cached))
        .route("/_shop/module-only", get(probe::module_only))
        .route("/_shop/csp", get(probe::csp))
        .route("/_shop/csp.js", get(probe::csp_script))
}
