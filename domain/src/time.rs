//! Instants: unix milliseconds in memory and in the store, one canonical text everywhere else.
//!
//! Every time the system handles is truncated to the millisecond before it is used (block times,
//! probe times, epoch bounds), so an instant is a whole number of milliseconds since the unix
//! epoch, UTC. Its text is RFC 3339 in UTC with a `Z` and as many fractional digits as the
//! millisecond needs: none when it is zero (`2024-02-15T00:15:00Z`), three otherwise
//! (`2024-02-15T00:15:00.120Z`). That is the form of every published file and every message.
//!
//! Two readers share one implementation:
//! * [`UnixMs::parse_rfc3339`] for recorded times (observations, configuration instants): RFC 3339
//!   with any offset, at most millisecond precision — finer text is refused rather than rounded,
//!   so two distinct times never merge into one key;
//! * [`UnixMs::parse`] (also `FromStr`) for what people type (`--now`, `--from`, `--at`): the same,
//!   or a plain date `YYYY-MM-DD` meaning 00:00 UTC of that day.
//!
//! Both refuse instants outside the years 2000 to 2199, which catches `0`, a missing digit or a
//! swapped field long before any money moves.
//!
//! A block header's time is the chain's own word, written by CometBFT with nanoseconds: it is
//! read by [`UnixMs::from_chain_time`], which truncates it to its millisecond (the chain's text is
//! kept verbatim beside it wherever it is stored).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Earliest instant accepted from text (before Akash mainnet; guards against `0` and typos).
const EARLIEST_MS: i64 = 946_684_800_000; // 2000-01-01T00:00:00Z
/// First instant no longer accepted from text.
const LATEST_MS: i64 = 7_258_118_400_000; // 2200-01-01T00:00:00Z

/// Why a text is not an instant.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeError {
    /// Not RFC 3339 (nor, where allowed, a date).
    #[error("{text:?} is not an RFC 3339 time ({why}); write it like \"2024-03-01T00:00:00Z\"")]
    Malformed {
        /// The text, shortened.
        text: String,
        /// The parser's reason.
        why: String,
    },
    /// Finer than a millisecond: rounding would merge distinct times.
    #[error("{0:?} is more precise than a millisecond")]
    TooPrecise(String),
    /// Outside 2000–2199.
    #[error("{0:?} is outside the years 2000 to 2199")]
    OutOfRange(String),
}

/// Unix time in milliseconds, UTC.
///
/// Ordering and arithmetic are those of the underlying `i64`; the serde form is that integer, so
/// stored records and hashes do not depend on the text format.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMs(pub i64);

impl UnixMs {
    /// The instant `ms` milliseconds after the unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Reads a recorded time: RFC 3339 with any offset, at most millisecond precision, within
    /// 2000–2199 (see the module docs).
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimeError> {
        let time = DateTime::parse_from_rfc3339(text).map_err(|e| TimeError::Malformed {
            text: shortened(text),
            why: e.to_string(),
        })?;
        if time.timestamp_subsec_nanos() % 1_000_000 != 0 {
            return Err(TimeError::TooPrecise(shortened(text)));
        }
        Self::within_range(time.timestamp_millis(), text)
    }

    /// Reads what a person typed: an RFC 3339 time as [`UnixMs::parse_rfc3339`] does, or a date
    /// `YYYY-MM-DD` meaning its 00:00 UTC.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let midnight = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
            return match midnight {
                Some(t) => Self::within_range(t.timestamp_millis(), text),
                None => Err(TimeError::Malformed {
                    text: shortened(text),
                    why: "not a date".into(),
                }),
            };
        }
        Self::parse_rfc3339(text)
    }

    /// Reads a block header's time (RFC 3339, up to nanoseconds), truncated (floored) to its
    /// millisecond. No range is imposed: what the chain recorded is what happened.
    pub fn from_chain_time(text: &str) -> Result<Self, TimeError> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| Self(t.timestamp_millis()))
            .map_err(|e| TimeError::Malformed {
                text: shortened(text),
                why: e.to_string(),
            })
    }

    fn within_range(ms: i64, text: &str) -> Result<Self, TimeError> {
        if (EARLIEST_MS..LATEST_MS).contains(&ms) {
            Ok(Self(ms))
        } else {
            Err(TimeError::OutOfRange(shortened(text)))
        }
    }
}

impl fmt::Display for UnixMs {
    /// The canonical text (see the module docs); an instant chrono cannot represent (beyond
    /// ±262,000 years) falls back to its millisecond count rather than failing a message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::from_timestamp_millis(self.0) {
            Some(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => write!(f, "{}", self.0),
        }
    }
}

impl FromStr for UnixMs {
    type Err = TimeError;

    /// Same as [`UnixMs::parse`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl From<i64> for UnixMs {
    fn from(ms: i64) -> Self {
        Self(ms)
    }
}

impl From<UnixMs> for i64 {
    fn from(t: UnixMs) -> Self {
        t.0
    }
}

/// Reads an instant written as RFC 3339 text in a document (a configuration file), with
/// [`UnixMs::parse_rfc3339`]: `#[serde(deserialize_with = "domain::time::rfc3339_text")]`.
pub fn rfc3339_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<UnixMs, D::Error> {
    let text = String::deserialize(deserializer)?;
    UnixMs::parse_rfc3339(text.trim()).map_err(serde::de::Error::custom)
}

/// Keeps hostile input from blowing up log lines.
fn shortened(text: &str) -> String {
    text.chars().take(80).collect()
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
            assert_eq!(UnixMs::parse_rfc3339(text).unwrap().to_string(), text);
        }
        assert_eq!(
            UnixMs::parse("2024-02-15T02:15:00+02:00")
                .unwrap()
                .to_string(),
            "2024-02-15T00:15:00Z"
        );
    }

    #[test]
    fn recorded_times_refuse_dates_and_nonsense() {
        for text in [
            "2024-02-15",
            "yesterday",
            "2024-02-15T00:15:00.0001Z",
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-30T00:00:00Z",
            "",
        ] {
            assert!(UnixMs::parse_rfc3339(text).is_err(), "{text}");
        }
    }

    #[test]
    fn typed_times_also_accept_dates() {
        assert_eq!(
            UnixMs::parse("2024-02-15").unwrap(),
            UnixMs::parse_rfc3339("2024-02-15T00:00:00Z").unwrap()
        );
        assert_eq!(
            " 2024-03-01 ".parse::<UnixMs>().unwrap().0,
            1_709_251_200_000
        );
        assert!(UnixMs::parse("2024-13-01").is_err());
        assert!(UnixMs::parse("1999-12-31").is_err());
    }

    #[test]
    fn chain_times_are_floored_to_their_millisecond() {
        assert_eq!(
            UnixMs::from_chain_time("2024-02-15T00:02:04.846443707Z").unwrap(),
            UnixMs(1_707_955_324_846)
        );
        assert!(UnixMs::from_chain_time("2024-02-15").is_err());
    }

    #[test]
    fn errors_say_what_to_write() {
        let error = UnixMs::parse("soon").unwrap_err().to_string();
        assert!(error.contains("\"soon\""), "{error}");
        assert!(error.contains("2024-03-01T00:00:00Z"), "{error}");
    }

    #[test]
    fn serde_form_is_the_millisecond_integer() {
        let t = UnixMs(1_707_955_200_000);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1707955200000");
        assert_eq!(serde_json::from_str::<UnixMs>("1707955200000").unwrap(), t);
    }

    #[test]
    fn documents_write_instants_as_text() {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(deserialize_with = "rfc3339_text")]
            t: UnixMs,
        }
        let doc: Doc = serde_json::from_str(r#"{"t": "2024-03-01T01:00:00+01:00"}"#).unwrap();
        assert_eq!(doc.t, UnixMs(1_709_251_200_000));
        assert!(serde_json::from_str::<Doc>(r#"{"t": 1709251200000}"#).is_err());
    }

    #[test]
    fn unrepresentable_instants_still_print() {
        assert_eq!(UnixMs(i64::MAX).to_string(), i64::MAX.to_string());
    }
}
