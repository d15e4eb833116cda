//! Time windows and the epoch calendar.
//!
//! Instants are [`domain::UnixMs`] (unix milliseconds, UTC) and durations are milliseconds
//! ([`DurationMs`], `u64`). The instant type is the workspace's one vocabulary type rather than a
//! local alias, so a time measured by the prober, recorded by the indexer and bounding an epoch
//! here is one type end to end and cannot be confused with a count or an amount; its serde form
//! is the bare integer, so serialised windows and states read exactly as before. Block times and
//! probe times are truncated to milliseconds before they reach this crate, so every interval
//! length below is an exact integer.

use domain::UnixMs;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A length of time in milliseconds. A plain integer: a duration is not an instant, and the
/// arithmetic on it (lengths, overlaps, offsets) is what this crate does all day.
pub type DurationMs = u64;

/// Why a window or an epoch could not be formed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// A window must have positive length, so uptime fractions are well defined.
    #[error(
        "window [{}, {}) is empty or reversed",
        .start_ms.as_millis(),
        .end_ms.as_millis()
    )]
    EmptyWindow {
        /// Requested start.
        start_ms: UnixMs,
        /// Requested end.
        end_ms: UnixMs,
    },
    /// The epoch index is outside `0..epochs`.
    #[error("epoch {epoch} is outside the programme's {epochs} epochs")]
    EpochOutOfRange {
        /// Requested epoch.
        epoch: u32,
        /// Number of epochs in the programme.
        epochs: u32,
    },
    /// `start + k·L` does not fit in an `i64` millisecond timestamp.
    #[error("epoch {epoch} ends beyond the representable time range")]
    TimeOverflow {
        /// The epoch whose bounds overflowed.
        epoch: u32,
    },
    /// A zero epoch length would make every epoch empty.
    #[error("epoch length must be positive")]
    ZeroEpochLength,
}

/// A half-open time interval `[start_ms, end_ms)` of positive length.
///
/// The fields are private so that every window in circulation is non-empty: uptime divides by
/// the window's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawWindow")]
pub struct Window {
    start_ms: UnixMs,
    end_ms: UnixMs,
}

/// A window as read from outside, checked by [`Window::new`] on deserialisation.
#[derive(Deserialize)]
struct RawWindow {
    start_ms: UnixMs,
    end_ms: UnixMs,
}

impl TryFrom<RawWindow> for Window {
    type Error = CalendarError;

    fn try_from(raw: RawWindow) -> Result<Self, Self::Error> {
        Window::new(raw.start_ms, raw.end_ms)
    }
}

impl Window {
    /// The window `[start_ms, end_ms)`; refused unless `start_ms < end_ms`.
    pub fn new(start_ms: UnixMs, end_ms: UnixMs) -> Result<Self, CalendarError> {
        if start_ms < end_ms {
            Ok(Window { start_ms, end_ms })
        } else {
            Err(CalendarError::EmptyWindow { start_ms, end_ms })
        }
    }

    /// First millisecond inside the window.
    pub fn start_ms(&self) -> UnixMs {
        self.start_ms
    }

    /// First millisecond after the window.
    pub fn end_ms(&self) -> UnixMs {
        self.end_ms
    }

    /// `end − start`, always positive. Any two instants are less than `2^64` apart, so this fits.
    pub fn length_ms(&self) -> DurationMs {
        span_ms(self.start_ms, self.end_ms)
    }

    /// `|[a, b) ∩ self|` in milliseconds; zero when they do not meet or `b ≤ a`.
    pub fn overlap_ms(&self, a: UnixMs, b: UnixMs) -> DurationMs {
        span_ms(a.max(self.start_ms), b.min(self.end_ms))
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: UnixMs) -> bool {
        self.start_ms <= t && t < self.end_ms
    }
}

/// `max(0, b − a)` in milliseconds without overflow.
pub(crate) fn span_ms(a: UnixMs, b: UnixMs) -> DurationMs {
    // The difference of two i64s lies in (−2^64, 2^64), so the i128 is exact and, when positive,
    // fits in a u64.
    u64::try_from(i128::from(b.0) - i128::from(a.0)).unwrap_or(0)
}

/// `t + d` as a timestamp, or `None` when it leaves the `i64` range.
pub(crate) fn add_ms(t: UnixMs, d: DurationMs) -> Option<UnixMs> {
    i64::try_from(i128::from(t.0) + i128::from(d))
        .ok()
        .map(UnixMs)
}

/// The programme's epochs: epoch `k` is `[start + k·L, start + (k+1)·L)` for `k` in `0..epochs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochCalendar {
    /// `program.start`: the first millisecond of epoch 0.
    pub start_ms: UnixMs,
    /// `program.epoch_length` `L` in milliseconds; must be positive.
    pub epoch_length_ms: DurationMs,
    /// `program.epochs` `N`: how many epochs the programme runs.
    pub epochs: u32,
}

impl EpochCalendar {
    /// Epoch `k`'s window `[start + k·L, start + (k+1)·L)`.
    pub fn window(&self, epoch: u32) -> Result<Window, CalendarError> {
        if epoch >= self.epochs {
            return Err(CalendarError::EpochOutOfRange {
                epoch,
                epochs: self.epochs,
            });
        }
        if self.epoch_length_ms == 0 {
            return Err(CalendarError::ZeroEpochLength);
        }
        let length = i128::from(self.epoch_length_ms);
        let start = i128::from(self.start_ms.0) + i128::from(epoch) * length;
        let to_ms = |t: i128| {
            i64::try_from(t)
                .map(UnixMs)
                .map_err(|_| CalendarError::TimeOverflow { epoch })
        };
        Window::new(to_ms(start)?, to_ms(start + length)?)
    }

    /// The whole programme `[start, start + N·L)`.
    pub fn programme_window(&self) -> Result<Window, CalendarError> {
        let first = self.window(0)?;
        let last = self.window(self.epochs.saturating_sub(1))?;
        Window::new(first.start_ms, last.end_ms)
    }

    /// The epoch containing `t`, if `t` falls inside the programme.
    pub fn epoch_at(&self, t: UnixMs) -> Option<u32> {
        let programme = self.programme_window().ok()?;
        if !programme.contains(t) {
            return None;
        }
        let k = span_ms(self.start_ms, t) / self.epoch_length_ms;
        u32::try_from(k).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    #[test]
    fn epochs_tile_the_programme_without_gaps() {
        let cal = EpochCalendar {
            start_ms: UnixMs(1_707_436_800_000),
            epoch_length_ms: DAY,
            epochs: 3,
        };
        let w0 = cal.window(0).unwrap();
        let w1 = cal.window(1).unwrap();
        assert_eq!(w0.end_ms(), w1.start_ms());
        assert_eq!(w1.start_ms(), UnixMs(1_707_436_800_000 + 86_400_000));
        assert_eq!(cal.epoch_at(w1.start_ms()), Some(1));
        assert_eq!(cal.epoch_at(UnixMs(w1.start_ms().0 - 1)), Some(0));
        assert_eq!(cal.epoch_at(cal.window(2).unwrap().end_ms()), None);
        assert!(matches!(
            cal.window(3),
            Err(CalendarError::EpochOutOfRange { .. })
        ));
    }

    #[test]
    fn overflowing_epochs_are_errors_not_panics() {
        let cal = EpochCalendar {
            start_ms: UnixMs(i64::MAX - 10),
            epoch_length_ms: u64::MAX,
            epochs: u32::MAX,
        };
        assert_eq!(cal.window(5), Err(CalendarError::TimeOverflow { epoch: 5 }));
        assert_eq!(cal.epoch_at(UnixMs(0)), None);
    }

    #[test]
    fn overlap_is_clamped_to_the_window() {
        let w = Window::new(UnixMs(100), UnixMs(200)).unwrap();
        assert_eq!(w.overlap_ms(UnixMs(50), UnixMs(150)), 50);
        assert_eq!(w.overlap_ms(UnixMs(150), UnixMs(400)), 50);
        assert_eq!(w.overlap_ms(UnixMs(200), UnixMs(400)), 0);
        assert_eq!(w.overlap_ms(UnixMs(180), UnixMs(120)), 0);
        assert_eq!(w.overlap_ms(UnixMs(i64::MIN), UnixMs(i64::MAX)), 100);
    }
}
