//! When an address was a provider registered on chain.
//!
//! Only a registered provider can take leases, so an address is measured only while it is
//! registered: from the block time of its `MsgCreateProvider` (inclusive) to that of its
//! `MsgDeleteProvider` (exclusive). Observations of it outside those spans say nothing the
//! programme pays for ([`crate::uptime`]'s rule 6), and lease time outside them is not counted
//! ([`crate::leases::Lease::within`]). Without this, anyone who could get probe lines into the
//! store could get an address that is on no chain paid.
//!
//! A provider first seen through an update (an index started mid-chain) was registered before
//! the indexed history: its span has no start. One not deleted has no end. Spans are half-open,
//! like every interval in this crate; a provider created and deleted in the same block was never
//! registered for any time.

use crate::calendar::{DurationMs, Window};
use domain::UnixMs;
use thiserror::Error;

/// One life of a provider on chain, as the store and the published `registrations` table give
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredSpan {
    /// Block time of the creation; `None` when it precedes the indexed history.
    pub from_ms: Option<UnixMs>,
    /// Block time of the deletion; `None` while the provider is registered.
    pub until_ms: Option<UnixMs>,
}

/// A span that ends before it starts: corrupt data, never a chain's.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "registration deleted at {} before it was created at {}",
    .until_ms.as_millis(),
    .from_ms.as_millis()
)]
pub struct RegistrationError {
    /// Creation time.
    pub from_ms: UnixMs,
    /// Deletion time.
    pub until_ms: UnixMs,
}

/// The union of an address's registered spans; empty for an address that was never registered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registration {
    /// Sorted, disjoint, non-empty `[from, until)`; an open end is `i64::MIN` or `i64::MAX`.
    spans: Vec<(UnixMs, UnixMs)>,
}

impl Registration {
    /// The union of `spans`. Touching or overlapping spans merge; an empty span adds nothing.
    pub fn new(spans: impl IntoIterator<Item = RegisteredSpan>) -> Result<Self, RegistrationError> {
        let mut bounded = Vec::new();
        for span in spans {
            let from = span.from_ms.unwrap_or(UnixMs(i64::MIN));
            let until = span.until_ms.unwrap_or(UnixMs(i64::MAX));
            if until < from {
                return Err(RegistrationError {
                    from_ms: from,
                    until_ms: until,
                });
            }
            if until > from {
                bounded.push((from, until));
            }
        }
        bounded.sort_unstable();
        let mut merged: Vec<(UnixMs, UnixMs)> = Vec::with_capacity(bounded.len());
        for (from, until) in bounded {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(until),
                _ => merged.push((from, until)),
            }
        }
        Ok(Registration { spans: merged })
    }

    /// Registered at every instant: what a measurement that does not depend on the chain's
    /// registrations (a utilization report) uses.
    pub fn always() -> Self {
        Registration {
            spans: vec![(UnixMs(i64::MIN), UnixMs(i64::MAX))],
        }
    }

    /// Whether the address is registered at `t`.
    pub fn contains(&self, t: UnixMs) -> bool {
        let i = self.spans.partition_point(|&(_, until)| until <= t);
        self.spans.get(i).is_some_and(|&(from, _)| from <= t)
    }

    /// The registered parts of `[start, end)`, in time order.
    pub fn clip(&self, start: UnixMs, end: UnixMs) -> impl Iterator<Item = (UnixMs, UnixMs)> + '_ {
        let first = self.spans.partition_point(|&(_, until)| until <= start);
        self.spans
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(move |&&(from, _)| from < end)
            .map(move |&(from, until)| (from.max(start), until.min(end)))
            .filter(|(a, b)| a < b)
    }

    /// Registered milliseconds inside `window`.
    pub fn registered_ms(&self, window: Window) -> DurationMs {
        self.clip(window.start_ms(), window.end_ms())
            .map(|(a, b)| window.overlap_ms(a, b))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(from: Option<i64>, until: Option<i64>) -> RegisteredSpan {
        RegisteredSpan {
            from_ms: from.map(UnixMs),
            until_ms: until.map(UnixMs),
        }
    }

    #[test]
    fn spans_merge_and_clip_half_open() {
        let r = Registration::new([
            span(Some(50), Some(60)),
            span(Some(10), Some(20)),
            span(Some(20), Some(30)),
            span(Some(70), Some(70)),
        ])
        .unwrap();
        let pieces: Vec<_> = r.clip(UnixMs(0), UnixMs(55)).collect();
        assert_eq!(
            pieces,
            vec![(UnixMs(10), UnixMs(30)), (UnixMs(50), UnixMs(55))]
        );
        assert!(r.contains(UnixMs(10)) && r.contains(UnixMs(29)));
        assert!(!r.contains(UnixMs(30)) && !r.contains(UnixMs(70)));
        let window = Window::new(UnixMs(0), UnixMs(100)).unwrap();
        assert_eq!(r.registered_ms(window), 30);
    }

    #[test]
    fn open_ends_reach_any_window_and_a_reversed_span_is_refused() {
        let r = Registration::new([span(None, Some(40)), span(Some(90), None)]).unwrap();
        let window = Window::new(UnixMs(0), UnixMs(100)).unwrap();
        assert_eq!(r.registered_ms(window), 50);
        assert_eq!(Registration::always().registered_ms(window), 100);
        assert_eq!(Registration::default().registered_ms(window), 0);
        assert!(Registration::new([span(Some(5), Some(4))]).is_err());
    }
}
