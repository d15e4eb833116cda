//! Vesting schedules, vesting entries, clawback and per-provider positions.
//!
//! Every amount allocated to a provider becomes a [`VestingEntry`] anchored at the **end of the
//! epoch in which it was earned**. The entry's schedule says how much of it is vested at any
//! later time; a clawback freezes the vested part and takes the rest back into the pool.

use crate::calendar::{span_ms, DurationMs};
use crate::ledger::Bucket;
use crate::programme::PoolKind;
use crate::wide::mul_div;
use domain::{BaseUnits, UnixMs};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// A vesting schedule, named in the configuration and referenced by pools, contracts and grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Vesting {
    /// Everything vests at the anchor.
    Immediate,
    /// Everything vests at `anchor + after_ms`.
    Delayed {
        /// Delay after the anchor.
        after_ms: DurationMs,
    },
    /// Cosmos `ContinuousVestingAccount` with a cliff: nothing before `anchor + cliff_ms`, then
    /// `vested(t) = floor(A·(t − anchor) / duration_ms)`, capped at `A`.
    Linear {
        /// Nothing vests before this offset; must not exceed `duration_ms`.
        cliff_ms: DurationMs,
        /// Time for the whole amount to vest; positive.
        duration_ms: DurationMs,
    },
    /// `count` pieces; piece `i` (0-based) vests at `anchor + (i+1)·period_ms` with amount
    /// `floor(A·(i+1)/count) − floor(A·i/count)`, so the pieces sum to `A` exactly. Quarterly × 4
    /// is the one-year commitment with quarterly vesting of the proposal.
    Periodic {
        /// Length of one period; positive.
        period_ms: DurationMs,
        /// Number of pieces; positive.
        count: u32,
    },
}

/// Why a schedule is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum VestingProblem {
    /// A linear schedule needs a positive duration to divide by.
    #[error("linear duration must be positive")]
    ZeroDuration,
    /// A cliff after the end of the schedule would make the duration meaningless.
    #[error("linear cliff must not exceed the duration")]
    CliffAfterDuration,
    /// A periodic schedule needs a positive period and at least one piece.
    #[error("periodic schedules need a positive period and count")]
    EmptyPeriodic,
}

impl Vesting {
    /// Checks the schedule's parameters (called by programme validation).
    pub fn check(&self) -> Result<(), VestingProblem> {
        match *self {
            Vesting::Linear { duration_ms: 0, .. } => Err(VestingProblem::ZeroDuration),
            Vesting::Linear {
                cliff_ms,
                duration_ms,
            } if cliff_ms > duration_ms => Err(VestingProblem::CliffAfterDuration),
            Vesting::Periodic { period_ms, count } if period_ms == 0 || count == 0 => {
                Err(VestingProblem::EmptyPeriodic)
            }
            _ => Ok(()),
        }
    }

    /// How much of `amount`, anchored at `anchor_ms`, is vested at time `t` (inclusive: an amount
    /// whose vesting instant is `t` counts as vested at `t`).
    ///
    /// - immediate: `A` once `t ≥ anchor`;
    /// - delayed: `A` once `t ≥ anchor + after`;
    /// - linear: `0` before `anchor + cliff`, then `floor(A·min(t − anchor, duration)/duration)`;
    /// - periodic: `floor(A·m/count)` where `m = min(count, floor((t − anchor)/period))` pieces
    ///   have elapsed.
    ///
    /// Degenerate parameters that [`Vesting::check`] rejects are given a meaning here rather than
    /// a panic: a zero linear duration vests everything at the cliff, and an empty periodic
    /// schedule vests at the anchor.
    pub fn vested(&self, amount: BaseUnits, anchor_ms: UnixMs, t: UnixMs) -> BaseUnits {
        if t < anchor_ms {
            return BaseUnits::ZERO;
        }
        let elapsed = span_ms(anchor_ms, t);
        BaseUnits(self.vested_units(amount.get(), elapsed))
    }

    /// [`Vesting::vested`] on the plain integer, `elapsed` milliseconds after the anchor.
    fn vested_units(&self, amount: u128, elapsed: DurationMs) -> u128 {
        match *self {
            Vesting::Immediate => amount,
            Vesting::Delayed { after_ms } => {
                if elapsed >= after_ms {
                    amount
                } else {
                    0
                }
            }
            Vesting::Linear {
                cliff_ms,
                duration_ms,
            } => {
                if elapsed < cliff_ms {
                    0
                } else if elapsed >= duration_ms {
                    amount
                } else {
                    // elapsed < duration, so the quotient is below `amount` and always fits.
                    mul_div(amount, elapsed.into(), duration_ms.into()).unwrap_or(amount)
                }
            }
            Vesting::Periodic { period_ms, count } => {
                if period_ms == 0 || count == 0 {
                    return amount;
                }
                let pieces = (elapsed / period_ms).min(u64::from(count));
                mul_div(amount, pieces.into(), count.into()).unwrap_or(amount)
            }
        }
    }
}

/// What a clawback took from an entry, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClawbackRecord {
    /// The epoch whose settlement clawed the entry back.
    pub epoch: u32,
    /// The clawback instant (the end of that epoch).
    pub at_ms: UnixMs,
    /// The part that was unvested at `at_ms` and went back to the pool.
    pub amount: BaseUnits,
}

/// One allocated amount on its way to a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VestingEntry {
    /// The entry's number: its place in creation order across the programme, from 0. It never
    /// changes, so clawbacks, the store and published tables name an entry by it even after
    /// the state has let go of the entry (see [`crate::settle::ProgrammeState::vesting`]).
    pub number: usize,
    /// Epoch in which the amount was earned.
    pub epoch: u32,
    /// Pool that paid it.
    pub pool: PoolKind,
    /// Class, contract or grant it was paid under.
    pub bucket: Bucket,
    /// Provider address.
    pub provider: String,
    /// Name of the schedule in the configuration.
    pub schedule_id: String,
    /// The schedule itself, copied so the entry can be evaluated on its own.
    pub schedule: Vesting,
    /// End of the epoch in which the amount was earned.
    pub anchor_ms: UnixMs,
    /// Amount allocated, in base units.
    pub amount: BaseUnits,
    /// Set once the entry has been clawed back.
    pub clawback: Option<ClawbackRecord>,
}

impl VestingEntry {
    /// Adds where the entry stands at `t` — its amount split into vested, still unvested and
    /// clawed back — to running totals `[earned, vested, unvested, clawed_back]` (a position's,
    /// a statement row's). `None` when a total would overflow, or when the entry is corrupt: a
    /// stored clawback larger than what vesting left, so the split would not add up.
    pub fn add_standing_to(&self, t: UnixMs, totals: [&mut BaseUnits; 4]) -> Option<()> {
        let vested = self.vested_at(t);
        let clawed_back = match &self.clawback {
            Some(c) if t >= c.at_ms => c.amount,
            _ => BaseUnits::ZERO,
        };
        let unvested = self.amount.checked_sub(vested)?.checked_sub(clawed_back)?;
        let parts = [self.amount, vested, unvested, clawed_back];
        for (total, part) in totals.into_iter().zip(parts) {
            *total = total.checked_add(part)?;
        }
        Some(())
    }

    /// Vested amount at `t`. After a clawback the vested part is frozen at what had vested
    /// strictly before the clawback instant.
    pub fn vested_at(&self, t: UnixMs) -> BaseUnits {
        match &self.clawback {
            Some(c) if t >= c.at_ms => BaseUnits(self.amount.get().saturating_sub(c.amount.get())),
            _ => self.schedule.vested(self.amount, self.anchor_ms, t),
        }
    }

    /// Whether the entry can no longer change after `t`: its whole amount has vested, or a
    /// clawback at or before `t` froze it. From then on [`VestingEntry::vested_at`] is the same
    /// at every later time, and no clawback can take anything from it.
    pub fn is_closed_at(&self, t: UnixMs) -> bool {
        match &self.clawback {
            Some(c) => t >= c.at_ms,
            None => self.schedule.vested(self.amount, self.anchor_ms, t) == self.amount,
        }
    }

    /// The part a clawback at `at_ms` takes: everything not vested *strictly before* `at_ms`.
    ///
    /// An amount whose vesting instant is exactly `at_ms` therefore goes to the clawback. With
    /// millisecond times, "strictly before `at_ms`" is "at `at_ms − 1`".
    pub fn unvested_for_clawback(&self, at_ms: UnixMs) -> BaseUnits {
        let kept = match at_ms.0.checked_sub(1) {
            Some(before) => self
                .schedule
                .vested(self.amount, self.anchor_ms, UnixMs(before)),
            None => BaseUnits::ZERO,
        };
        BaseUnits(self.amount.get().saturating_sub(kept.get()))
    }
}

/// A provider's position at a time `t`, summed over all its entries.
///
/// `earned = vested + unvested + clawed_back`, and `vested − paid = claimable − overpaid`: at
/// most one of the two is non-zero. An overpayment is its own column rather than a negative
/// claimable, so no payout script that reads `claimable` can mistake it for an amount due, and
/// an auditor sees it named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Allocated in epochs that ended at or before `t`.
    pub earned: BaseUnits,
    /// Vested at `t`.
    pub vested: BaseUnits,
    /// Earned, not yet vested and not clawed back.
    pub unvested: BaseUnits,
    /// Taken back by clawbacks at or before `t`.
    pub clawed_back: BaseUnits,
    /// Already transferred to the provider (from indexed transfers; zero when not provided).
    pub paid: BaseUnits,
    /// `vested − paid` when positive: what may still be paid.
    pub claimable: BaseUnits,
    /// `paid − vested` when positive: what was transferred beyond what has vested.
    pub overpaid: BaseUnits,
}

impl Position {
    /// Every amount with its name, in the order positions are published (the `settle
    /// positions` columns, the `vesting_base_units{state}` metric): one list, so the two never
    /// disagree on what a position holds.
    pub fn named(&self) -> [(&'static str, BaseUnits); 7] {
        [
            ("earned", self.earned),
            ("vested", self.vested),
            ("unvested", self.unvested),
            ("clawed_back", self.clawed_back),
            ("paid", self.paid),
            ("claimable", self.claimable),
            ("overpaid", self.overpaid),
        ]
    }
}

/// Why a position could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PositionError {
    /// A sum left the `u128`/`i128` range; only possible with corrupted entries.
    #[error("position of {provider} overflows")]
    Overflow {
        /// The provider whose sums overflowed.
        provider: String,
    },
}

/// Every provider's [`Position`] at time `t`, from the vesting entries and the amounts already
/// transferred (`paid`, keyed by provider; missing providers have been paid nothing).
///
/// Providers that appear only in `paid` are included too, so an unexpected transfer shows up as
/// `overpaid`.
pub fn positions(
    entries: &[VestingEntry],
    t: UnixMs,
    paid: &BTreeMap<String, BaseUnits>,
) -> Result<BTreeMap<String, Position>, PositionError> {
    let mut out: BTreeMap<String, Position> = BTreeMap::new();
    for entry in entries.iter().filter(|e| e.anchor_ms <= t) {
        let overflow = || PositionError::Overflow {
            provider: entry.provider.clone(),
        };
        let position = out.entry(entry.provider.clone()).or_default();
        let totals = [
            &mut position.earned,
            &mut position.vested,
            &mut position.unvested,
            &mut position.clawed_back,
        ];
        entry.add_standing_to(t, totals).ok_or_else(overflow)?;
    }
    for provider in paid.keys() {
        out.entry(provider.clone()).or_default();
    }
    for (provider, position) in out.iter_mut() {
        position.paid = paid.get(provider).copied().unwrap_or(BaseUnits::ZERO);
        let (vested, paid) = (position.vested.get(), position.paid.get());
        position.claimable = BaseUnits(vested.saturating_sub(paid));
        position.overpaid = BaseUnits(paid.saturating_sub(vested));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    #[test]
    fn periodic_pieces_sum_to_the_amount() {
        // A = 10, quarterly × 4: pieces floor(10·1/4)−0 = 2, 5−2 = 3, 7−5 = 2, 10−7 = 3.
        let q = Vesting::Periodic {
            period_ms: 90 * DAY,
            count: 4,
        };
        let at = |quarters: i64| quarters * 90 * DAY as i64;
        assert_eq!(
            q.vested(BaseUnits(10), UnixMs(0), UnixMs(at(1) - 1)),
            BaseUnits(0)
        );
        assert_eq!(
            q.vested(BaseUnits(10), UnixMs(0), UnixMs(at(1))),
            BaseUnits(2)
        );
        assert_eq!(
            q.vested(BaseUnits(10), UnixMs(0), UnixMs(at(2))),
            BaseUnits(5)
        );
        assert_eq!(
            q.vested(BaseUnits(10), UnixMs(0), UnixMs(at(3))),
            BaseUnits(7)
        );
        assert_eq!(
            q.vested(BaseUnits(10), UnixMs(0), UnixMs(at(4))),
            BaseUnits(10)
        );
        assert_eq!(
            q.vested(BaseUnits(10), UnixMs(0), UnixMs(at(40))),
            BaseUnits(10)
        );
    }

    #[test]
    fn linear_with_cliff_follows_continuous_vesting() {
        let l = Vesting::Linear {
            cliff_ms: 30,
            duration_ms: 100,
        };
        assert_eq!(
            l.vested(BaseUnits(1000), UnixMs(0), UnixMs(29)),
            BaseUnits(0)
        );
        // At the cliff the accrued linear part vests at once: floor(1000·30/100).
        assert_eq!(
            l.vested(BaseUnits(1000), UnixMs(0), UnixMs(30)),
            BaseUnits(300)
        );
        assert_eq!(l.vested(BaseUnits(7), UnixMs(0), UnixMs(50)), BaseUnits(3)); // floor(3.5)
        assert_eq!(
            l.vested(BaseUnits(1000), UnixMs(0), UnixMs(100)),
            BaseUnits(1000)
        );
        assert_eq!(
            l.vested(BaseUnits(1000), UnixMs(5), UnixMs(4)),
            BaseUnits(0)
        );
    }

    #[test]
    fn amount_vesting_at_the_clawback_instant_goes_to_the_clawback() {
        let entry = VestingEntry {
            number: 0,
            epoch: 0,
            pool: PoolKind::Committed,
            bucket: Bucket::Contract("c".into()),
            provider: "p".into(),
            schedule_id: "d".into(),
            schedule: Vesting::Delayed { after_ms: 10 },
            anchor_ms: UnixMs(100),
            amount: BaseUnits(50),
            clawback: None,
        };
        assert_eq!(entry.unvested_for_clawback(UnixMs(110)), BaseUnits(50));
        assert_eq!(entry.unvested_for_clawback(UnixMs(111)), BaseUnits(0));

        // Linear, A = 1000 over 100 ms from the anchor 100: vested(150) = 500 and
        // vested(149) = 490. A clawback at 150 keeps what vested strictly before it (490): the
        // 10 units vesting during millisecond 150 go back with the rest.
        let linear = VestingEntry {
            schedule: Vesting::Linear {
                cliff_ms: 0,
                duration_ms: 100,
            },
            amount: BaseUnits(1000),
            ..entry
        };
        assert_eq!(
            linear
                .schedule
                .vested(BaseUnits(1000), UnixMs(100), UnixMs(150)),
            BaseUnits(500)
        );
        assert_eq!(linear.unvested_for_clawback(UnixMs(150)), BaseUnits(510));
        let clawed = VestingEntry {
            clawback: Some(ClawbackRecord {
                epoch: 0,
                at_ms: UnixMs(150),
                amount: BaseUnits(510),
            }),
            ..linear
        };
        // Before the instant the schedule runs; from it on the vested part is frozen.
        assert_eq!(clawed.vested_at(UnixMs(149)), BaseUnits(490));
        assert_eq!(clawed.vested_at(UnixMs(150)), BaseUnits(490));
        assert_eq!(clawed.vested_at(UnixMs(10_000)), BaseUnits(490));
    }

    #[test]
    fn degenerate_schedules_vest_instead_of_panicking() {
        // Rejected by validation, but a hostile caller may still evaluate them.
        let zero_linear = Vesting::Linear {
            cliff_ms: 5,
            duration_ms: 0,
        };
        let empty = Vesting::Periodic {
            period_ms: 0,
            count: 0,
        };
        let extreme = Vesting::Linear {
            cliff_ms: 0,
            duration_ms: u64::MAX,
        };
        // (schedule, amount, anchor, at, vested)
        let cases = [
            (zero_linear, 7, 0, 4, 0),
            (zero_linear, 7, 0, 5, 7),
            (empty, 7, 10, 10, 7),
            (empty, 7, 10, 9, 0),
            // The widest span: elapsed = 2^64 − 2 of a duration 2^64 − 1, and A = 2^128 − 1 is
            // (2^64 − 1)(2^64 + 1), so exactly A − (2^64 + 1) has vested; the product needs 256
            // bits.
            (
                extreme,
                u128::MAX,
                i64::MIN,
                i64::MAX - 1,
                u128::MAX - (u128::from(u64::MAX) + 2),
            ),
            (extreme, u128::MAX, i64::MIN, i64::MAX, u128::MAX),
        ];
        for (schedule, amount, anchor, at, vested) in cases {
            assert_eq!(
                schedule.vested(BaseUnits(amount), UnixMs(anchor), UnixMs(at)),
                BaseUnits(vested)
            );
        }
    }

    #[test]
    fn invalid_schedules_are_reported() {
        assert_eq!(
            Vesting::Linear {
                cliff_ms: 0,
                duration_ms: 0
            }
            .check(),
            Err(VestingProblem::ZeroDuration)
        );
        assert_eq!(
            Vesting::Linear {
                cliff_ms: 5,
                duration_ms: 4
            }
            .check(),
            Err(VestingProblem::CliffAfterDuration)
        );
        assert_eq!(
            Vesting::Periodic {
                period_ms: 1,
                count: 0
            }
            .check(),
            Err(VestingProblem::EmptyPeriodic)
        );
        assert_eq!(Vesting::Immediate.check(), Ok(()));
    }
}
