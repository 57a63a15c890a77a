//! What the merchant console shows, as pure functions: times written for people.

use time::OffsetDateTime;

/// `ms` (Unix milliseconds) as `YYYY-MM-DD HH:MM:SS UTC`; `–` for a time out of range.
pub fn utc_time(ms: u64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return "–".into();
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_utc() {
        assert_eq!(utc_time(1_764_000_000_000), "2025-11-24 16:00:00 UTC");
        assert_eq!(utc_time(u64::MAX), "–");
    }
}
