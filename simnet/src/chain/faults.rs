//! Scripted, seeded misbehaviour of the local RPC node, so the indexer's retry, rotation and
//! missing-block handling can be exercised on loopback exactly as a flaky public node would
//! exercise them.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use thiserror::Error;

/// Which faults the server injects, and how often.
///
/// Each fraction is the share of requests (any method, including `/status`) that get that fault;
/// they are drawn from one seeded generator, so a given seed and request order always misbehave
/// the same way. The fractions are probabilities, not money, so `f64` is the right type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Seed of the fault generator.
    pub seed: u64,
    /// Share of requests answered `500 Internal Server Error` with no JSON-RPC body, as a
    /// crashing proxy would.
    pub http_500: f64,
    /// Share of requests answered `429 Too Many Requests`, as a rate-limited public node would.
    pub http_429: f64,
    /// Share of requests whose TCP connection is reset (RST) instead of answered.
    pub reset: f64,
    /// Share of requests that stall for [`Faults::stall_for`] before being answered normally.
    pub stall: f64,
    /// How long a stalled request waits.
    pub stall_for: Duration,
    /// Heights inside the served range whose block the node does not have: `/block` answers a
    /// `null` block and `/block_results` the node's "could not find results" error.
    pub missing_heights: BTreeSet<u64>,
}

/// A fault configuration that cannot be honoured.
#[derive(Debug, Error, PartialEq)]
pub enum FaultsError {
    /// A fraction outside 0..=1 (or not a number).
    #[error("the {name} fraction must be between 0 and 1, got {value}")]
    FractionOutOfRange {
        /// Which fault.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// The fractions together exceed one request in one.
    #[error("the fault fractions add up to {total}, more than 1")]
    TotalAboveOne {
        /// Their sum.
        total: f64,
    },
}

impl Faults {
    /// Checks every fraction, so a typo such as `--fail-500 10` is an error, not a dead node.
    pub fn validate(&self) -> Result<(), FaultsError> {
        let fractions = [
            ("HTTP 500", self.http_500),
            ("HTTP 429", self.http_429),
            ("reset", self.reset),
            ("stall", self.stall),
        ];
        for (name, value) in fractions {
            if !(0.0..=1.0).contains(&value) {
                return Err(FaultsError::FractionOutOfRange { name, value });
            }
        }
        let total: f64 = fractions.iter().map(|(_, v)| v).sum();
        if total > 1.0 {
            return Err(FaultsError::TotalAboveOne { total });
        }
        Ok(())
    }

    /// Whether any request-level fault is switched on.
    fn any_request_fault(&self) -> bool {
        self.http_500 > 0.0 || self.http_429 > 0.0 || self.reset > 0.0 || self.stall > 0.0
    }
}

/// How many faults a server has injected so far, so a test can prove its faults happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InjectedFaults {
    /// HTTP 500 replies.
    pub http_500: u64,
    /// HTTP 429 replies.
    pub http_429: u64,
    /// Connections reset.
    pub resets: u64,
    /// Requests stalled.
    pub stalls: u64,
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer normally.
    None,
    /// Answer HTTP 500 without a body.
    Http500,
    /// Answer HTTP 429.
    Http429,
    /// Reset the connection.
    Reset,
    /// Wait, then answer normally.
    Stall(Duration),
}

/// The seeded dice behind [`Faults`].
pub(crate) struct FaultDice {
    faults: Faults,
    rng: Mutex<fastrand::Rng>,
    counts: [AtomicU64; 4],
}

impl FaultDice {
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = Mutex::new(fastrand::Rng::with_seed(faults.seed));
        Self {
            faults,
            rng,
            counts: Default::default(),
        }
    }

    /// Whether `height` is one the node pretends not to have.
    pub(crate) fn is_missing(&self, height: u64) -> bool {
        self.faults.missing_heights.contains(&height)
    }

    /// Whether connections must be set up so they can be reset.
    pub(crate) fn resets_connections(&self) -> bool {
        self.faults.reset > 0.0
    }

    /// The faults injected so far.
    pub(crate) fn injected(&self) -> InjectedFaults {
        let count = |i: usize| self.counts[i].load(Ordering::Relaxed);
        InjectedFaults {
            http_500: count(0),
            http_429: count(1),
            resets: count(2),
            stalls: count(3),
        }
    }

    /// Draws the fate of the next request (and counts it).
    pub(crate) fn roll(&self) -> Fault {
        let fault = self.draw();
        let slot = match fault {
            Fault::None => return fault,
            Fault::Http500 => 0,
            Fault::Http429 => 1,
            Fault::Reset => 2,
            Fault::Stall(_) => 3,
        };
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        fault
    }

    fn draw(&self) -> Fault {
        if !self.faults.any_request_fault() {
            return Fault::None;
        }
        let draw = match self.rng.lock() {
            Ok(mut rng) => rng.f64(),
            // A panicked holder cannot leave an Rng half-updated in a way that matters here.
            Err(poisoned) => poisoned.into_inner().f64(),
        };
        let f = &self.faults;
        let mut threshold = f.http_500;
        if draw < threshold {
            return Fault::Http500;
        }
        threshold += f.http_429;
        if draw < threshold {
            return Fault::Http429;
        }
        threshold += f.reset;
        if draw < threshold {
            return Fault::Reset;
        }
        threshold += f.stall;
        if draw < threshold {
            return Fault::Stall(f.stall_for);
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_are_validated() {
        let bad = Faults {
            http_500: 10.0,
            ..Faults::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(FaultsError::FractionOutOfRange { .. })
        ));
        let too_many = Faults {
            http_500: 0.6,
            http_429: 0.6,
            ..Faults::default()
        };
        assert!(matches!(
            too_many.validate(),
            Err(FaultsError::TotalAboveOne { .. })
        ));
        let nan = Faults {
            stall: f64::NAN,
            ..Faults::default()
        };
        assert!(nan.validate().is_err(), "NaN must not pass as a fraction");
    }

    #[test]
    fn the_same_seed_gives_the_same_faults_in_roughly_the_asked_shares() {
        let faults = Faults {
            seed: 7,
            http_500: 0.10,
            http_429: 0.05,
            stall: 0.02,
            stall_for: Duration::from_secs(2),
            ..Faults::default()
        };
        let a: Vec<Fault> = {
            let dice = FaultDice::new(faults.clone());
            (0..10_000).map(|_| dice.roll()).collect()
        };
        let b: Vec<Fault> = {
            let dice = FaultDice::new(faults);
            (0..10_000).map(|_| dice.roll()).collect()
        };
        assert_eq!(a, b, "a seed must reproduce the same fault sequence");
        let count = |f: Fault| a.iter().filter(|x| **x == f).count();
        assert!((800..1200).contains(&count(Fault::Http500)));
        assert!((350..650).contains(&count(Fault::Http429)));
        assert!((100..300).contains(&count(Fault::Stall(Duration::from_secs(2)))));
        assert_eq!(count(Fault::Reset), 0);
    }
}
