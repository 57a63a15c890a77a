//! `/_sandbox` endpoints for the fake authorization servers:
//!
//! - `GET /_sandbox/oauth` — per platform, how many codes and tokens were issued, redeemed and
//!   revoked, and whether the configured credentials are revoked (never a token value).
//! - `POST /_sandbox/oauth/revoke` with `{"platform":"google"}` or `{"platform":"meta",
//!   "reason":"app_removed"|"password_changed"}` — "the merchant removed access": every token
//!   that platform's fake issued **and** its configured credentials (`google_refresh_token`;
//!   `meta_access_token` and `meta_system_user_token`) stop working. Google refreshes then answer
//!   `invalid_grant` "Token has been expired or revoked." and bearer calls 401; Meta answers
//!   code 190 with subcode 458 (app removed, the default) or 460 (password changed).
//!   `POST /_sandbox/reset` makes the configured credentials work again (oauth.md §9.3).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::platforms::meta_grants::Revocation;
use crate::state::{AppState, lock};

/// The routes of this module (merged into [`crate::inspect::routes`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/oauth", get(summary))
        .route("/_sandbox/oauth/revoke", post(revoke))
}

async fn summary(State(state): State<AppState>) -> Json<serde_json::Value> {
    let google = lock(&state.google_oauth).counts();
    let meta = lock(&state.meta_oauth).counts();
    Json(json!({ "google": google, "meta": meta }))
}

/// `POST /_sandbox/oauth/revoke` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    platform: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn revoke(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let bad = |message: String| {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
    };
    let request: RevokeRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad(format!(
                "expected {{\"platform\":\"google\"|\"meta\", \"reason\"?}}: {e}"
            ));
        }
    };
    let revoked = match (request.platform.as_str(), request.reason.as_deref()) {
        ("google", None) => lock(&state.google_oauth).revoke_all(),
        ("meta", None | Some("app_removed")) => {
            lock(&state.meta_oauth).revoke_all(Revocation::AppRemoved)
        }
        ("meta", Some("password_changed")) => {
            lock(&state.meta_oauth).revoke_all(Revocation::PasswordChanged)
        }
        ("google" | "meta", Some(other)) => {
            return bad(format!(
                "unknown reason {other:?} (meta: app_removed or password_changed)"
            ));
        }
        (other, _) => return bad(format!("unknown platform {other:?} (google or meta)")),
    };
    Json(json!({ "revoked": revoked })).into_response()
}
