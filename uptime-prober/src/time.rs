//! Observation times: unix milliseconds in the store, RFC 3339 UTC text in exports.
//!
//! Observations are keyed on milliseconds, so the text form carries at most three fractional
//! digits (none when the millisecond part is zero: `2024-02-15T00:15:00Z`), and text with finer
//! precision is refused rather than rounded: two distinct times must never merge into one key.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// Earliest time accepted from outside (before Akash mainnet; guards against `0` and typos).
const EARLIEST_MS: i64 = 946_684_800_000; // 2000-01-01T00:00:00Z
/// Latest time accepted from outside.
const LATEST_MS: i64 = 7_258_118_400_000; // 2200-01-01T00:00:00Z

/// The canonical text of `time_ms`: RFC 3339, UTC, `Z`, at most millisecond precision.
pub fn format_time(time_ms: i64) -> String {
    DateTime::from_timestamp_millis(time_ms).map_or_else(
        || time_ms.to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    )
}

/// Reads an RFC 3339 time (any offset) as unix milliseconds, refusing sub-millisecond precision
/// and times outside 2000–2200.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let time = DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time: {e}"))?;
    if time.timestamp_subsec_nanos() % 1_000_000 != 0 {
        return Err(format!("{text:?} is more precise than a millisecond"));
    }
    let ms = time.timestamp_millis();
    if !(EARLIEST_MS..LATEST_MS).contains(&ms) {
        return Err(format!("{text:?} is outside the years 2000 to 2199"));
    }
    Ok(ms)
}

/// Reads a command-line bound: an RFC 3339 time, or a date `YYYY-MM-DD` meaning its UTC midnight.
pub fn parse_bound(text: &str) -> Result<i64, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        return midnight
            .map(|t: DateTime<Utc>| t.timestamp_millis())
            .ok_or_else(|| format!("{text:?} is not a date"));
    }
    parse_time(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_round_trips() {
        for text in [
            "2024-02-15T00:15:00Z",
            "2024-02-15T00:15:00.120Z",
            "2024-02-15T00:15:00.001Z",
        ] {
            assert_eq!(format_time(parse_time(text).unwrap()), text);
        }
        assert_eq!(
            format_time(parse_time("2024-02-15T02:15:00+02:00").unwrap()),
            "2024-02-15T00:15:00Z"
        );
    }

    #[test]
    fn bad_times_are_refused() {
        for text in [
            "2024-02-15",
            "yesterday",
            "2024-02-15T00:15:00.0001Z",
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-30T00:00:00Z",
            "",
        ] {
            assert!(parse_time(text).is_err(), "{text}");
        }
    }

    #[test]
    fn bounds_accept_dates() {
        assert_eq!(
            parse_bound("2024-02-15").unwrap(),
            parse_time("2024-02-15T00:00:00Z").unwrap()
        );
        assert!(parse_bound("2024-13-01").is_err());
    }
}
