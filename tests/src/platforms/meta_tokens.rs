//! How every Graph fake checks an access token (query `access_token`, body field or bearer) and
//! words its refusal. A bad token answers code 190 (Graph error-handling guide, "Access token has
//! expired"; subcodes from its "Authentication error subcodes" table):
//! - unknown: "Invalid OAuth access token - Cannot parse access token";
//! - expired: subcode 463, "Error validating access token: Session has expired on Monday,
//!   24-Oct-16 21:00:00 PDT. The current time is …" (Pacific time, as Meta writes it);
//! - revoked because the app was removed: subcode 458, "Error validating access token: The user
//!   has not authorized application <app id>.";
//! - revoked by a password change: subcode 460, "Error validating access token: The session has
//!   been invalidated because the user changed their password or Facebook has changed the
//!   session for security reasons.".
//!
//! No token at all is code 104 "An access token is required to request this resource."; a
//! dataset the token may not use is 100/33. Sources: oauth.md §8, §7.

use time::{Date, Month, OffsetDateTime, UtcOffset};

use super::meta::GraphError;
use super::meta_grants::{Revocation, TokenCheck, TokenInfo};
use crate::state::{AppState, lock};

/// Looks up `token` in the state.
pub fn lookup(state: &AppState, token: &str, now_ms: i64) -> TokenCheck {
    let c = &state.config;
    let configured = (
        c.meta_access_token.as_str(),
        c.meta_system_user_token.as_str(),
        c.meta_login_config_scopes.as_slice(),
    );
    lock(&state.meta_oauth).lookup(token, configured, now_ms)
}

/// The Graph error for a token that is not valid (`None` for a valid one).
pub fn token_error(check: &TokenCheck, app_id: &str, now_ms: i64) -> Option<GraphError> {
    let mut e = match check {
        TokenCheck::Valid(_) => return None,
        TokenCheck::Unknown => {
            return Some(GraphError::new(
                190,
                "Invalid OAuth access token - Cannot parse access token",
            ));
        }
        TokenCheck::Expired(info) => {
            let expired = info.expires_at_ms.unwrap_or(now_ms);
            let message = format!(
                "Error validating access token: Session has expired on {}. The current time is {}.",
                pacific(expired),
                pacific(now_ms)
            );
            let mut e = GraphError::new(190, &message);
            e.subcode = Some(463);
            e
        }
        TokenCheck::Revoked(_, Revocation::AppRemoved) => {
            let message = format!(
                "Error validating access token: The user has not authorized application {app_id}."
            );
            let mut e = GraphError::new(190, &message);
            e.subcode = Some(458);
            e
        }
        TokenCheck::Revoked(_, Revocation::PasswordChanged) => {
            let mut e = GraphError::new(
                190,
                "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
            );
            e.subcode = Some(460);
            e
        }
    };
    e.kind = "OAuthException";
    Some(e)
}

/// A valid token for the request, or the Graph error to answer (`None` token: code 104).
///
/// # Errors
/// Code 104 without a token, 190 for a bad one.
pub fn check_token(
    state: &AppState,
    token: Option<&str>,
    now_ms: i64,
) -> Result<TokenInfo, GraphError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(GraphError::new(
            104,
            "An access token is required to request this resource.",
        ));
    };
    match lookup(state, token, now_ms) {
        TokenCheck::Valid(info) => Ok(info),
        other => Err(
            token_error(&other, &state.config.meta_app_id, now_ms).unwrap_or_else(|| {
                GraphError::new(
                    190,
                    "Invalid OAuth access token - Cannot parse access token",
                )
            }),
        ),
    }
}

/// Whether a token may use dataset `id`: the configured CAPI token any, the others only the
/// configured ad accounts' datasets.
pub fn may_use_dataset(state: &AppState, info: &TokenInfo, id: &str) -> bool {
    !info.restricted
        || state
            .config
            .meta_ad_accounts
            .iter()
            .any(|a| a.datasets.iter().any(|d| d.id == id))
}

/// Graph's answer for an object the token cannot see (code 100, subcode 33).
pub fn no_such_object(id: &str, verb: &str) -> GraphError {
    let mut e = GraphError::new(
        100,
        &format!(
            "Unsupported {verb} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ),
    );
    e.kind = "GraphMethodException";
    e.subcode = Some(33);
    e
}

/// `Monday, 24-Oct-16 21:00:00 PDT`: Meta's expiry time, in US Pacific time.
fn pacific(ms: i64) -> String {
    let utc = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1_000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (hours, zone) = if daylight_saving(utc) {
        (-7, "PDT")
    } else {
        (-8, "PST")
    };
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC);
    let t = utc.to_offset(offset);
    let month = t.month().to_string();
    format!(
        "{}, {:02}-{}-{:02} {:02}:{:02}:{:02} {zone}",
        t.weekday(),
        t.day(),
        &month[..3],
        t.year().rem_euclid(100),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// US daylight saving time: from the second Sunday of March, 2:00 PST (10:00 UTC), to the first
/// Sunday of November, 2:00 PDT (09:00 UTC).
fn daylight_saving(utc: OffsetDateTime) -> bool {
    let sunday = |month: Month, nth: u8| {
        Date::from_calendar_date(utc.year(), month, 1).map(|first| {
            let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
            first.day() + to_sunday + 7 * (nth - 1)
        })
    };
    let (Ok(start), Ok(end)) = (sunday(Month::March, 2), sunday(Month::November, 1)) else {
        return false;
    };
    let at = |month: Month, day: u8, hour: u8| {
        Date::from_calendar_date(utc.year(), month, day)
            .and_then(|d| d.with_hms(hour, 0, 0))
            .map(time::PrimitiveDateTime::assume_utc)
    };
    match (at(Month::March, start, 10), at(Month::November, end, 9)) {
        (Ok(start), Ok(end)) => utc >= start && utc < end,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_times_are_written_in_pacific_time_like_meta_does() {
        // Meta's own example: "Session has expired on Monday, 24-Oct-16 21:00:00 PDT".
        assert_eq!(pacific(1_477_368_000_000), "Monday, 24-Oct-16 21:00:00 PDT");
        assert_eq!(
            pacific(1_767_225_600_000),
            "Wednesday, 31-Dec-25 16:00:00 PST"
        );
    }
}
