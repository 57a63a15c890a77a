//! How the stored context of a session changes when the edge sees the visit again (D1
//! `sessions`, one row per `_ar_sid`).
//!
//! Rules:
//! - Click identifiers: what this request resolved replaces what is stored. The cookie plan
//!   already keeps an `_fbc` for the same fbclid and the first time of a repeated Google click
//!   (`cookies::plan`), so a value that differs here is a newer click; a Google click is replaced
//!   only by a newer one.
//! - GA4 ids: the current `_ga` / `_ga_<id>` values replace older ones (GA4 rotates the session).
//! - Consent: each signal the request states replaces the stored one, so a shopper who withdraws
//!   consent is honoured from then on (DESIGN §4: consent is the shopper's latest word).
//! - IP, user agent, country, region: filled when missing, never overwritten, so a server event
//!   gets the context of the visit that carried the click.
//! - Sale/sharing opt-out (GPC) is sticky for the session: the more restrictive state.
//!
//! The worker writes only when [`update_session`] reports a change, which keeps D1 writes to
//! the page views that bring something new. Pure: no IO.

use crate::record::SessionContext;

/// The context to store after seeing `seen` for a session whose stored context is `stored`, or
/// `None` when nothing changes (no write needed).
#[must_use]
pub fn update_session(
    stored: Option<&SessionContext>,
    seen: &SessionContext,
) -> Option<SessionContext> {
    let Some(stored) = stored else {
        return Some(seen.clone());
    };
    let mut next = stored.clone();
    let clicks = &seen.clicks;
    if clicks.fbc.is_some() {
        next.clicks.fbc.clone_from(&clicks.fbc);
    }
    if clicks.fbp.is_some() {
        next.clicks.fbp.clone_from(&clicks.fbp);
    }
    if let Some(click) = &clicks.google {
        let newer = next
            .clicks
            .google
            .as_ref()
            .is_none_or(|old| click.clicked_at_ms() >= old.clicked_at_ms());
        if newer {
            next.clicks.google = Some(click.clone());
        }
    }
    if seen.ga_client_id.is_some() {
        next.ga_client_id.clone_from(&seen.ga_client_id);
    }
    if seen.ga_session_id.is_some() {
        next.ga_session_id = seen.ga_session_id;
    }
    next.consent = seen.consent.or(stored.consent);
    fill(&mut next.client_ip, &seen.client_ip);
    fill(&mut next.user_agent, &seen.user_agent);
    fill(&mut next.country, &seen.country);
    fill(&mut next.region, &seen.region);
    next.sale_opt_out |= seen.sale_opt_out;
    (next != *stored).then_some(next)
}

#[allow(clippy::ref_option)] // called with sibling fields of the same type
fn fill(slot: &mut Option<String>, other: &Option<String>) {
    if slot.is_none() {
        slot.clone_from(other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::click_ids::{GoogleClick, GoogleClickIds};
    use crate::consent::{PartialConsent, Signal};

    fn click(gclid: &str, at: u64) -> GoogleClick {
        let ids = GoogleClickIds::new(Some(gclid.parse().unwrap()), None).unwrap();
        GoogleClick::new(ids, at)
    }

    fn stored() -> SessionContext {
        let mut s = SessionContext {
            client_ip: Some("203.0.113.9".into()),
            user_agent: Some("Mozilla/5.0 first".into()),
            country: Some("US".into()),
            ..SessionContext::default()
        };
        s.clicks.fbc = Some("fb.1.1763990000000.IwAR_old".parse().unwrap());
        s.clicks.fbp = Some("fb.1.1763990000000.123456789".parse().unwrap());
        s.clicks.google = Some(click("old", 2_000));
        s
    }

    #[test]
    fn a_new_session_is_stored_as_seen() {
        let seen = stored();
        assert_eq!(update_session(None, &seen), Some(seen));
    }

    #[test]
    fn the_same_context_again_needs_no_write() {
        let s = stored();
        assert_eq!(update_session(Some(&s), &s), None);
        // A later page view without the landing's click or any new value changes nothing either.
        let bare = SessionContext {
            clicks: crate::cookies::ClickContext {
                fbp: s.clicks.fbp.clone(),
                ..Default::default()
            },
            ..SessionContext::default()
        };
        assert_eq!(update_session(Some(&s), &bare), None);
    }

    #[test]
    fn a_newer_click_replaces_the_stored_one_and_an_older_does_not() {
        let s = stored();
        let mut seen = SessionContext::default();
        seen.clicks.fbc = Some("fb.1.1764000000000.IwAR_new".parse().unwrap());
        seen.clicks.google = Some(click("new", 3_000));
        let next = update_session(Some(&s), &seen).unwrap();
        assert_eq!(next.clicks.fbc.unwrap().fbclid(), "IwAR_new");
        assert_eq!(next.clicks.google, Some(click("new", 3_000)));
        seen.clicks.google = Some(click("older", 1_000));
        seen.clicks.fbc = None;
        assert_eq!(update_session(Some(&s), &seen), None);
    }

    #[test]
    fn ip_user_agent_and_location_are_filled_never_overwritten() {
        let s = SessionContext {
            user_agent: None,
            ..stored()
        };
        let seen = SessionContext {
            client_ip: Some("198.51.100.7".into()),
            user_agent: Some("Mozilla/5.0 later".into()),
            country: Some("DE".into()),
            ..SessionContext::default()
        };
        let next = update_session(Some(&s), &seen).unwrap();
        assert_eq!(next.client_ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(next.user_agent.as_deref(), Some("Mozilla/5.0 later"));
        assert_eq!(next.country.as_deref(), Some("US"));
    }

    #[test]
    fn a_withdrawal_of_consent_replaces_the_stored_grant() {
        let s = SessionContext {
            consent: PartialConsent {
                ad_storage: Some(Signal::Granted),
                analytics_storage: Some(Signal::Granted),
                ..PartialConsent::NONE
            },
            ..stored()
        };
        let seen = SessionContext {
            consent: PartialConsent {
                ad_storage: Some(Signal::Denied),
                ..PartialConsent::NONE
            },
            ..SessionContext::default()
        };
        let next = update_session(Some(&s), &seen).unwrap();
        assert_eq!(next.consent.ad_storage, Some(Signal::Denied));
        assert_eq!(next.consent.analytics_storage, Some(Signal::Granted));
    }

    #[test]
    fn a_sale_opt_out_is_sticky() {
        let s = SessionContext {
            sale_opt_out: true,
            ..stored()
        };
        assert_eq!(update_session(Some(&s), &SessionContext::default()), None);
        let next = update_session(
            Some(&stored()),
            &SessionContext {
                sale_opt_out: true,
                ..SessionContext::default()
            },
        )
        .unwrap();
        assert!(next.sale_opt_out);
    }
}
