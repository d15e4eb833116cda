//! What-if on sealed history: the sealed epochs settled again under another programme
//! definition (a *policy*: other shares, α/β, `min_uptime`, caps, schedules, budgets), in
//! memory only, and compared with what was sealed.
//!
//! The administrator asks "what would providers have been paid had the policy been this one?".
//! The answer must come from the very inputs that were paid on, so a re-run uses the
//! measurements each epoch was sealed with (stored with it as canonical JSON), not a fresh
//! reading of the store, which may hold data that arrived after sealing.
//!
//! * **Chained like a real run.** The first simulated epoch starts from the sealed state before
//!   it (the fresh state for epoch 0); each later one from the state the simulated epoch before
//!   it left, so balances, breach runs, vesting entries and clawbacks follow the policy. A range
//!   `A..=B` starting after 0 therefore answers "had the policy changed at epoch A".
//! * **Re-measured only when the measurements depend on the policy.** What is measured follows
//!   from the GPU classes (which leases and GPUs fall in which class), the contracts (their
//!   providers and classes are measured even with nothing observed), the grants' providers and
//!   the observation staleness. When the policy changes any of these, the stored measurements
//!   cannot answer for it, and each epoch is measured again from the store's leases and
//!   observations under the policy ([`Simulation::remeasured`]). That is refused when the store
//!   no longer measures to the sealed inputs under the sealed programme
//!   ([`SettlementError::LateData`]): the comparison would mix late data into the policy's
//!   effect.
//! * **Same calendar.** Measurements belong to a window, so a policy that moves an epoch's
//!   window is refused ([`SettlementError::PolicyCalendar`]).
//! * **Nothing is written.** The store is only read.
//!
//! The comparison ([`compare`]) is pure: per pool, each provider's net amount over the range
//! (allocated, `PAID` and `CAPPED`, minus `CLAWED_BACK`) sealed against simulated, plus what the
//! pool returned to the community pool and its closing balance at the end of the range.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use rewards::ledger::Reason;
use rewards::programme::{PoolKind, Programme};
use rewards::{Engine, EpochSettlement, ProgrammeState};
use store::settlement::sealed_epoch_numbers;
use store::Store;

use crate::measure::{measure_material, read_material};
use crate::seal::{contiguous, state_after};
use crate::sealed::{read_sealed_rows, SealedRows};
use crate::{SettlementConfig, SettlementError};

/// One provider's net amount in one pool over the simulated range, sealed and simulated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDifference {
    /// The provider.
    pub provider: String,
    /// Allocated minus clawed back, as sealed (negative when the range claws back more than it
    /// allocates).
    pub sealed: i128,
    /// The same under the policy.
    pub simulated: i128,
}

impl ProviderDifference {
    /// `|simulated − sealed|`.
    pub fn abs(&self) -> u128 {
        self.simulated.abs_diff(self.sealed)
    }
}

/// One pool compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolComparison {
    /// The pool.
    pub pool: PoolKind,
    /// Providers with a line in the pool in either run.
    pub providers: usize,
    /// The providers whose net amounts differ, by address.
    pub differences: Vec<ProviderDifference>,
    /// Σ |difference| over `differences`.
    pub sum_abs: u128,
    /// Returned to the community pool over the range: sealed, simulated.
    pub returned: (u128, u128),
    /// Balance after the range's last epoch: sealed, simulated (0 where the pool does not exist).
    pub closing: (u128, u128),
}

impl PoolComparison {
    /// The largest difference (the first, by address, among equals).
    pub fn largest(&self) -> Option<&ProviderDifference> {
        self.differences.iter().rev().max_by_key(|d| d.abs())
    }

    /// Whether the policy leaves this pool exactly as sealed.
    pub fn changes_nothing(&self) -> bool {
        self.differences.is_empty()
            && self.returned.0 == self.returned.1
            && self.closing.0 == self.closing.1
    }
}

/// Sealed and simulated epochs compared, pool by pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Every pool of either programme, in pool order.
    pub pools: Vec<PoolComparison>,
}

impl Comparison {
    /// Whether the policy changes nothing at all.
    pub fn changes_nothing(&self) -> bool {
        self.pools.iter().all(PoolComparison::changes_nothing)
    }
}

/// A what-if run over sealed epochs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulation {
    /// The epochs re-run.
    pub epochs: RangeInclusive<u32>,
    /// Whether they were measured again under the policy (see the module docs) rather than
    /// re-run on their sealed measurements.
    pub remeasured: bool,
    /// The simulated settlements, in epoch order.
    pub simulated: Vec<EpochSettlement>,
    /// Against what was sealed.
    pub comparison: Comparison,
}

/// Re-runs sealed epochs `epochs` of the programme `sealed` under `policy` (its name is not
/// used: the sealed epochs are the sealed programme's) and compares them with what was sealed.
/// `None` means every sealed epoch. Reads only.
pub fn simulate(
    store: &mut Store,
    sealed: &SettlementConfig,
    policy: &SettlementConfig,
    epochs: Option<RangeInclusive<u32>>,
) -> Result<Simulation, SettlementError> {
    let count = contiguous(
        sealed.name,
        &sealed_epoch_numbers(store.conn(), sealed.name)?,
    )?;
    let epochs = match epochs {
        Some(range) => range,
        None if count == 0 => {
            return Err(SettlementError::NotSealed {
                programme: sealed.name.to_owned(),
                epoch: 0,
                sealed: 0,
            })
        }
        None => 0..=count - 1,
    };
    let (first, last) = (*epochs.start(), *epochs.end());
    if first > last || last >= count {
        return Err(SettlementError::NotSealed {
            programme: sealed.name.to_owned(),
            epoch: last.max(first),
            sealed: count,
        });
    }
    for epoch in epochs.clone() {
        if policy.programme.calendar.window(epoch).ok()
            != Some(sealed.programme.calendar.window(epoch)?)
        {
            return Err(SettlementError::PolicyCalendar { epoch });
        }
    }
    let engine = Engine::new(policy.programme).map_err(SettlementError::InvalidProgramme)?;
    let remeasured = !measured_alike(sealed, policy);
    let mut state = match first.checked_sub(1) {
        None => ProgrammeState::default(),
        Some(before) => state_after(store, sealed.name, before)?.0,
    };
    let mut sealed_epochs = Vec::new();
    let mut simulated = Vec::new();
    for epoch in epochs.clone() {
        let SealedRows {
            measured,
            settlement,
            ..
        } = read_sealed_rows(store, sealed, epoch)?;
        let inputs = if remeasured {
            let material = read_material(store, sealed.programme, epoch, sealed.max_staleness_ms)?;
            let now =
                measure_material(sealed.programme, epoch, sealed.max_staleness_ms, &material)?;
            if now.inputs_hash != measured.inputs_hash {
                return Err(SettlementError::LateData {
                    epoch,
                    sealed: measured.inputs_hash,
                    now: now.inputs_hash,
                });
            }
            measure_material(policy.programme, epoch, policy.max_staleness_ms, &material)?.inputs
        } else {
            measured.inputs
        };
        let outcome = engine
            .settle_epoch(&mut state, &inputs)
            .map_err(|source| SettlementError::Engine { epoch, source })?;
        sealed_epochs.push(settlement);
        simulated.push(outcome);
    }
    let comparison = compare(&sealed_epochs, &simulated)?;
    Ok(Simulation {
        epochs,
        remeasured,
        simulated,
        comparison,
    })
}

/// Whether `a` and `b` measure every epoch alike: same GPU classes, same contract providers and
/// classes, same grant providers, same staleness (see the module docs).
fn measured_alike(a: &SettlementConfig, b: &SettlementConfig) -> bool {
    fn contracts(p: &Programme) -> BTreeSet<(&str, &str)> {
        p.committed
            .iter()
            .flat_map(|pool| &pool.contracts)
            .map(|c| (c.provider.as_str(), c.class.as_str()))
            .collect()
    }
    fn grantees(p: &Programme) -> BTreeSet<&str> {
        p.rnd
            .iter()
            .flat_map(|pool| &pool.grants)
            .map(|g| g.provider.as_str())
            .collect()
    }
    let (pa, pb) = (a.programme, b.programme);
    a.max_staleness_ms == b.max_staleness_ms
        && pa.gpu_classes == pb.gpu_classes
        && contracts(pa) == contracts(pb)
        && grantees(pa) == grantees(pb)
}

/// Per pool and provider: Σ net amount; per pool: Σ returned and the last closing balance.
#[derive(Default)]
struct Totals {
    net: BTreeMap<PoolKind, BTreeMap<String, i128>>,
    returned: BTreeMap<PoolKind, u128>,
    closing: BTreeMap<PoolKind, u128>,
}

impl Totals {
    fn of(epochs: &[EpochSettlement]) -> Result<Self, SettlementError> {
        let overflow = || SettlementError::Overflow {
            what: "a what-if comparison",
        };
        let mut totals = Totals::default();
        for settlement in epochs {
            for line in &settlement.line_items {
                let sign = match line.reason {
                    Reason::Paid | Reason::Capped => 1,
                    Reason::ClawedBack => -1,
                    _ => 0,
                };
                let Some(provider) = line.provider.clone() else {
                    continue;
                };
                let amount = i128::try_from(line.amount.0).map_err(|_| overflow())?;
                let net = totals
                    .net
                    .entry(line.pool)
                    .or_default()
                    .entry(provider)
                    .or_default();
                *net = amount
                    .checked_mul(sign)
                    .and_then(|a| net.checked_add(a))
                    .ok_or_else(overflow)?;
            }
            for ledger in &settlement.ledgers {
                let returned = totals.returned.entry(ledger.pool).or_default();
                *returned = returned
                    .checked_add(ledger.returned.0)
                    .ok_or_else(overflow)?;
                totals.closing.insert(ledger.pool, ledger.closing.0);
            }
        }
        Ok(totals)
    }
}

/// Compares sealed epochs with the same epochs simulated (see the module docs); a provider with
/// lines in one run only counts as 0 in the other.
pub fn compare(
    sealed: &[EpochSettlement],
    simulated: &[EpochSettlement],
) -> Result<Comparison, SettlementError> {
    let (before, after) = (Totals::of(sealed)?, Totals::of(simulated)?);
    let pools: BTreeSet<PoolKind> = [&before, &after]
        .iter()
        .flat_map(|t| t.net.keys().chain(t.returned.keys()).copied())
        .collect();
    let no_lines = BTreeMap::new();
    let mut comparison = Comparison { pools: Vec::new() };
    for pool in pools {
        let (was, now) = (
            before.net.get(&pool).unwrap_or(&no_lines),
            after.net.get(&pool).unwrap_or(&no_lines),
        );
        let providers: BTreeSet<&String> = was.keys().chain(now.keys()).collect();
        let differences: Vec<ProviderDifference> = providers
            .iter()
            .map(|&provider| ProviderDifference {
                provider: provider.clone(),
                sealed: was.get(provider).copied().unwrap_or(0),
                simulated: now.get(provider).copied().unwrap_or(0),
            })
            .filter(|d| d.sealed != d.simulated)
            .collect();
        let sum_abs = differences
            .iter()
            .try_fold(0u128, |sum, d| sum.checked_add(d.abs()))
            .ok_or(SettlementError::Overflow {
                what: "a what-if comparison",
            })?;
        let pair = |m: &BTreeMap<PoolKind, u128>, n: &BTreeMap<PoolKind, u128>| {
            (
                m.get(&pool).copied().unwrap_or(0),
                n.get(&pool).copied().unwrap_or(0),
            )
        };
        comparison.pools.push(PoolComparison {
            pool,
            providers: providers.len(),
            differences,
            sum_abs,
            returned: pair(&before.returned, &after.returned),
            closing: pair(&before.closing, &after.closing),
        });
    }
    Ok(comparison)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{BaseUnits, ClassName};
    use rewards::calendar::Window;
    use rewards::ledger::{Basis, Bucket, LineItem, PoolLedger};

    fn window() -> Window {
        rewards::calendar::EpochCalendar {
            start_ms: domain::UnixMs(0),
            epoch_length_ms: 1_000,
            epochs: 1,
        }
        .window(0)
        .unwrap()
    }

    fn line(pool: PoolKind, provider: &str, amount: u128, reason: Reason) -> LineItem {
        LineItem {
            epoch: 0,
            pool,
            bucket: Bucket::Class(ClassName::new("a100").unwrap()),
            provider: Some(provider.into()),
            basis: Basis::Weight(1),
            amount: BaseUnits(amount),
            reason,
            vesting: None,
            price: None,
            clawback_of: None,
        }
    }

    fn ledger(pool: PoolKind, returned: u128, closing: u128) -> PoolLedger {
        PoolLedger {
            epoch: 0,
            pool,
            opening: BaseUnits(0),
            funded: BaseUnits(0),
            emitted: BaseUnits(0),
            allocated: BaseUnits(0),
            forfeited: BaseUnits(0),
            clawed_back: BaseUnits(0),
            returned: BaseUnits(returned),
            carried: BaseUnits(0),
            shortfall: BaseUnits(0),
            closing: BaseUnits(closing),
            price: None,
        }
    }

    fn epoch(lines: Vec<LineItem>, ledgers: Vec<PoolLedger>) -> EpochSettlement {
        EpochSettlement {
            epoch: 0,
            window: window(),
            line_items: lines,
            ledgers,
            new_vesting: Vec::new(),
            clawbacks: Vec::new(),
            contracts: BTreeMap::new(),
        }
    }

    const LM: PoolKind = PoolKind::LiquidityMining;

    #[test]
    fn identical_settlements_change_nothing() {
        let sealed = epoch(
            vec![
                line(LM, "p1", 10, Reason::Paid),
                line(LM, "p2", 0, Reason::UptimeBelowThreshold),
            ],
            vec![ledger(LM, 3, 7)],
        );
        let same = std::slice::from_ref(&sealed);
        let comparison = compare(same, same).unwrap();
        assert!(comparison.changes_nothing());
        assert_eq!(comparison.pools.len(), 1);
        assert_eq!(comparison.pools[0].providers, 2);
        assert_eq!(comparison.pools[0].largest(), None);
    }

    /// Net amounts subtract clawbacks; a provider in one run only counts as 0 in the other;
    /// the largest and the sum are over absolute differences.
    #[test]
    fn differences_are_net_of_clawbacks_and_absolute() {
        let sealed = epoch(
            vec![
                line(LM, "p1", 10, Reason::Paid),
                line(LM, "p1", 4, Reason::ClawedBack),
                line(LM, "p2", 5, Reason::Capped),
            ],
            vec![ledger(LM, 0, 1)],
        );
        let simulated = epoch(
            vec![
                line(LM, "p1", 6, Reason::Paid),
                line(LM, "p3", 9, Reason::Paid),
                line(LM, "p2", 5, Reason::Paid),
            ],
            vec![ledger(LM, 2, 0)],
        );
        let comparison = compare(&[sealed], &[simulated]).unwrap();
        let pool = &comparison.pools[0];
        assert!(!comparison.changes_nothing());
        assert_eq!(pool.providers, 3);
        assert_eq!(
            pool.differences,
            [ProviderDifference {
                provider: "p3".into(),
                sealed: 0,
                simulated: 9
            }]
        );
        assert_eq!(pool.sum_abs, 9);
        assert_eq!(pool.largest().unwrap().provider, "p3");
        assert_eq!((pool.returned, pool.closing), ((0, 2), (1, 0)));
    }

    /// Only a returned or closing amount changing still counts as a change.
    #[test]
    fn a_changed_return_alone_is_a_change() {
        let sealed = epoch(vec![], vec![ledger(PoolKind::Rnd, 0, 5)]);
        let simulated = epoch(vec![], vec![ledger(PoolKind::Rnd, 5, 0)]);
        let comparison = compare(&[sealed], &[simulated]).unwrap();
        assert!(!comparison.changes_nothing());
        assert!(comparison.pools[0].differences.is_empty());
    }
}
