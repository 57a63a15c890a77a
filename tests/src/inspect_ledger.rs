//! `/_sandbox` endpoints for tests that push many events through failing platforms:
//!
//! - `GET /_sandbox/dedup?platform=meta` — the platform's own dedup ledger ([`Ledger`]): accepted
//!   copies per dedup key (Meta `event_name|event_id`, Google Ads `action:<id>|<orderId>`, Data
//!   Manager `action:<destination>|<transactionId>`) and the ids of requests that took effect but
//!   were answered only after the client gave up. Unlike `/_sandbox/requests` it is not capped,
//!   so it answers for every event of a long run.
//! - `POST /_sandbox/revoke-tokens` — Google revokes every access token it minted (as when the
//!   merchant disconnects the app or changes the account password, google.md §1.1): API calls
//!   with them answer `401 UNAUTHENTICATED` until a new token is minted from the refresh token.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::counts::Ledger;
use crate::record::Platform;
use crate::state::{AppState, lock};

/// The routes of this module (merged into [`crate::inspect::routes`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/dedup", get(dedup))
        .route("/_sandbox/revoke-tokens", post(revoke_tokens))
}

/// `GET /_sandbox/dedup` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DedupQuery {
    platform: String,
}

async fn dedup(State(state): State<AppState>, Query(q): Query<DedupQuery>) -> Response {
    let Some(platform) = Platform::parse(&q.platform) else {
        let message = format!("unknown platform {:?}", q.platform);
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response();
    };
    let ledger: Ledger = lock(&state.counts).ledger(platform);
    Json(ledger).into_response()
}

async fn revoke_tokens(State(state): State<AppState>) -> Json<serde_json::Value> {
    let revoked = lock(&state.google_oauth).revoke_access_tokens();
    Json(json!({ "revoked": revoked }))
}
