//! The sample event behind the admin's "Send test" (DESIGN §5, "Test mode"): a small purchase
//! with a made-up customer, built through the same validation, hashing and record code as real
//! events, so the platforms' test facilities judge exactly what live traffic would look like.
//!
//! It is never stored and only ever sent in `Mode::Test` (Meta `test_event_code`, Google
//! `validateOnly`, the GA4 debug endpoint).

use crate::mapping_config::Mappings;
use crate::pii::hash_user_data;
use crate::record::{EventRecord, SessionContext, Source};
use crate::wire::{ValidationContext, ValidationError, event_from_value, validate};

/// A GA4 client id for the sample (GA4 needs one for a server copy).
pub const SAMPLE_GA_CLIENT_ID: &str = "1234567890.1700000000";

/// The sample purchase at `now_ms`, its order id unique per send.
///
/// # Errors
/// Only if the mapping has been configured so that purchases no longer validate.
pub fn sample_record(
    now_ms: u64,
    random: [u8; 16],
    default_country: &str,
    mappings: &Mappings,
) -> Result<EventRecord, ValidationError> {
    let input = event_from_value(serde_json::json!({
        "event": "transaction.purchase",
        "order_id": format!("ar-test-{now_ms}"),
        "occurred_at": now_ms,
        "value": 1.0,
        "currency": "USD",
        "items": [{"id": "ar-test-item", "quantity": 1, "price": 1.0}],
        "user": {"email": "test@example.com"},
        "page": {"url": "https://example.com/ar-test"},
        "client": {"ip": "192.0.2.1", "user_agent": "ActiveReach-Test/1.0"},
    }))?;
    let event = validate(
        input,
        ValidationContext {
            mappings,
            now_ms,
            random,
        },
    )?;
    let (user, _) = hash_user_data(&event.user, default_country);
    let session = SessionContext {
        ga_client_id: Some(SAMPLE_GA_CLIENT_ID.to_owned()),
        ..SessionContext::default()
    };
    Ok(EventRecord::from_copy(
        &event,
        user,
        session,
        Source::Server,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_hashed_server_purchase() {
        let r = sample_record(1_764_000_000_000, [0; 16], "US", &Mappings::default());
        let Ok(r) = r else { panic!("{r:?}") };
        assert_eq!(r.event, crate::EventName::Purchase);
        assert!(r.sources.server && !r.awaits_corroboration(&Mappings::default()));
        let stored = serde_json::to_string(&r).unwrap_or_default();
        assert!(!stored.contains("test@example.com"), "email is hashed");
        assert!(r.user.meta.em.is_some());
    }
}
