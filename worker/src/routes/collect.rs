//! `POST /_ar/collect`: events reported by the browser pixel.

use ar_shared::mapping_config::Mappings;
use ar_shared::wire::{self, ValidationContext};
use worker::{Env, Request, Response, Result, console_log};

use super::error_json;
use crate::runtime;

/// Largest collect body accepted; a pixel event is a few hundred bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub async fn handle(mut req: Request, _env: &Env) -> Result<Response> {
    let body = req.bytes().await?;
    if body.len() > MAX_BODY_BYTES {
        return error_json(413, "too_large", "collect bodies are limited to 16 KiB");
    }
    let input = match wire::parse_event(&body) {
        Ok(input) => input,
        Err(e) => return error_json(400, "invalid_event", &e.to_string()),
    };
    let mappings = Mappings::default();
    let ctx = ValidationContext {
        mappings: &mappings,
        now_ms: runtime::now_ms(),
        random: runtime::random_bytes()?,
    };
    match wire::validate(input, ctx) {
        Ok(event) => {
            // Only the event name and ID: never PII in logs.
            console_log!(
                "ar: collected event={} event_id={}",
                event.name,
                event.event_id
            );
            Response::empty().map(|r| r.with_status(204))
        }
        Err(e) => error_json(400, "invalid_event", &e.to_string()),
    }
}
