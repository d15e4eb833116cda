//! Settlement: one epoch at a time from the state the previous epoch left, or a whole programme.
//!
//! The engine is a pure function of the programme, the state and the epoch's measured inputs.
//! [`Engine::settle_epoch`] computes everything first and only then updates the state, so a
//! refused epoch (an error) leaves the state exactly as it was.

use crate::apportion::ApportionError;
use crate::calendar::{CalendarError, Window};
use crate::committed::settle_committed;
use crate::ledger::{Basis, Bucket, IdentityViolation, LineItem, PoolLedger, Reason};
use crate::money::{Money, MoneyError, PriceUse};
use crate::programme::{
    rnd_pro_rata_budget, PoolKind, Programme, ProgrammeError, RndPool, Undistributed,
};
use crate::prorata::ProRata;
use crate::uptime::Uptime;
use crate::vesting::{ClawbackRecord, VestingEntry};
use domain::{BaseUnits, ClassName, UnixMs};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

/// What was measured for one provider in one GPU class over one epoch.
///
/// The settlement step computes these from the store with [`crate::uptime::Timeline`] and
/// [`crate::leases::leased_gpu_ms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measurement {
    /// `∫ online GPU count dt` over the epoch, in GPU-ms.
    pub online_gpu_ms: u128,
    /// `Σ gpu_units × |lease ∩ epoch|` over the provider's leases of the class, in GPU-ms.
    pub leased_gpu_ms: u128,
    /// The provider's online fraction of the epoch, exact.
    pub uptime: Uptime,
}

/// One epoch's measured inputs: class name → provider address → [`Measurement`]. Classes are
/// [`ClassName`]s and providers text, so the two keys cannot be given in the wrong order.
///
/// A provider absent from a class was not measured there: it has no weight in that class, and a
/// committed contract on it counts as offline for the whole epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochInputs {
    /// Measurements keyed by class, then provider.
    pub measurements: BTreeMap<ClassName, BTreeMap<String, Measurement>>,
    /// Providers that were registered on chain at no time in the epoch
    /// ([`crate::registration`]). Their contracts and grants are not paid
    /// (`PROVIDER_NOT_REGISTERED`); the amount stays in the pool. Empty by default: a caller
    /// that does not know the chain's registrations asserts none is missing.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unregistered: BTreeSet<String>,
}

impl EpochInputs {
    /// Records a measurement, returning the one it replaces.
    pub fn insert(
        &mut self,
        class: &ClassName,
        provider: &str,
        m: Measurement,
    ) -> Option<Measurement> {
        self.measurements
            .entry(class.clone())
            .or_default()
            .insert(provider.to_owned(), m)
    }

    /// The measurement of `provider` in `class`, if any.
    pub fn measurement(&self, class: &ClassName, provider: &str) -> Option<&Measurement> {
        self.measurements.get(class)?.get(provider)
    }

    /// Whether `provider` was registered on chain for some time in the epoch.
    pub fn is_registered(&self, provider: &str) -> bool {
        !self.unregistered.contains(provider)
    }
}

/// When and where a contract was terminated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    /// Epoch of the breach that broke the commitment.
    pub epoch: u32,
    /// The clawback instant: the end of that epoch.
    pub at_ms: UnixMs,
}

/// A contract's state carried from epoch to epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractState {
    /// Length of the current run of consecutive SLA breaches.
    pub consecutive_breaches: u32,
    /// Set once the contract is terminated; it is never paid again.
    pub terminated: Option<Termination>,
}

/// A pool's running sums since the start, for the programme-wide identity
/// `Σ allocated − Σ clawed_back + Σ returned + balance = Σ funded` (the budget).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolTotals {
    /// Σ funded: the pool's budget in base units, once every funding epoch has passed.
    pub funded: BaseUnits,
    /// Σ allocated.
    pub allocated: BaseUnits,
    /// Σ clawed back.
    pub clawed_back: BaseUnits,
    /// Σ returned to the community pool.
    pub returned: BaseUnits,
}

/// A pool's balance and running sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolState {
    /// Balance after the last settled epoch.
    pub balance: BaseUnits,
    /// Running sums.
    pub totals: PoolTotals,
}

/// Everything carried from one epoch to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeState {
    /// The epoch to settle next (0 for a fresh programme).
    pub next_epoch: u32,
    /// Per pool balance and totals.
    pub pools: BTreeMap<PoolKind, PoolState>,
    /// Per contract id, breach run and termination.
    pub contracts: BTreeMap<String, ContractState>,
    /// The **open** vesting entries, in number order: those that may still change, because
    /// part of their amount is unvested at the end of the last settled epoch and no clawback
    /// froze them. An entry that closes ([`VestingEntry::is_closed_at`]) leaves the state and
    /// its vested amount joins [`ProgrammeState::vested_closed`], so the state stays as large
    /// as what is still in flight rather than growing with every epoch ever settled.
    pub vesting: Vec<VestingEntry>,
    /// The number the next vesting entry gets: how many entries the programme has created.
    #[serde(default)]
    pub next_entry: usize,
    /// Per provider (as allocated) and pool, the vested amount of the closed entries. With
    /// the open entries' vested amounts it gives the cumulative vested amounts the published
    /// Merkle tree commits to, from this state alone.
    #[serde(default)]
    pub vested_closed: BTreeMap<String, BTreeMap<PoolKind, BaseUnits>>,
}

/// Why [`ProgrammeState::set_vesting`] refused a set of entries.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VestingStateError {
    /// Entries must come in strictly increasing number order.
    #[error("vesting entry {found} follows entry {after}: entries must be in number order")]
    OutOfOrder {
        /// The number that came second.
        found: usize,
        /// The number before it.
        after: usize,
    },
    /// A clawback names an entry the state does not hold open.
    #[error("vesting entry {0} is not open")]
    NotOpen(usize),
    /// A closed total would leave the `u128` range (only with corrupted entries).
    #[error("the closed vested total of {provider} overflows")]
    Overflow {
        /// The provider whose total overflowed.
        provider: String,
    },
}

impl ProgrammeState {
    /// Makes `entries` the state's vesting as it stands at `at` (the end of the epoch the state
    /// follows): the open ones stay in [`ProgrammeState::vesting`], the closed ones add their
    /// vested amounts to [`ProgrammeState::vested_closed`], and [`ProgrammeState::next_entry`]
    /// moves past the highest number. `entries` are the state's open entries as they now stand
    /// (clawbacks applied) followed by the new ones, in number order. On an error the state is
    /// unchanged.
    pub fn set_vesting(
        &mut self,
        entries: Vec<VestingEntry>,
        at: UnixMs,
    ) -> Result<(), VestingStateError> {
        if let Some(pair) = entries.windows(2).find(|w| w[0].number >= w[1].number) {
            return Err(VestingStateError::OutOfOrder {
                found: pair[1].number,
                after: pair[0].number,
            });
        }
        let next_entry = entries
            .last()
            .map_or(self.next_entry, |e| self.next_entry.max(e.number + 1));
        let mut vested_closed = self.vested_closed.clone();
        let mut open = Vec::with_capacity(entries.len());
        for entry in entries {
            if !entry.is_closed_at(at) {
                open.push(entry);
                continue;
            }
            let total = vested_closed
                .entry(entry.provider.clone())
                .or_default()
                .entry(entry.pool)
                .or_insert(BaseUnits::ZERO);
            *total = total.checked_add(entry.vested_at(at)).ok_or_else(|| {
                VestingStateError::Overflow {
                    provider: entry.provider.clone(),
                }
            })?;
        }
        self.vesting = open;
        self.next_entry = next_entry;
        self.vested_closed = vested_closed;
        Ok(())
    }
}

/// A clawback applied to an existing entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryClawback {
    /// The entry as it stood before the clawback (its number names it); a clawed-back entry
    /// closes and leaves the state, so the clawback carries what a reader needs to show it.
    pub entry: VestingEntry,
    /// What was clawed back, and when.
    pub record: ClawbackRecord,
}

/// One settled epoch: what to publish and what changed in the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochSettlement {
    /// Epoch index.
    pub epoch: u32,
    /// The epoch's window.
    pub window: Window,
    /// Every line item, sorted by pool, bucket and provider.
    pub line_items: Vec<LineItem>,
    /// One ledger per configured pool, in [`PoolKind`] order.
    pub ledgers: Vec<PoolLedger>,
    /// Entries created this epoch, numbered on from the state's `next_entry`.
    pub new_vesting: Vec<VestingEntry>,
    /// Clawbacks applied to earlier entries.
    pub clawbacks: Vec<EntryClawback>,
    /// Every contract's state after this epoch.
    pub contracts: BTreeMap<String, ContractState>,
}

/// A whole programme settled (or as much of it as there were inputs for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeSettlement {
    /// Per epoch, in order.
    pub epochs: Vec<EpochSettlement>,
    /// The state after the last settled epoch; once the programme's last epoch is settled every
    /// pool balance is 0 (see the programme-end choice in the crate docs).
    pub state: ProgrammeState,
}

impl ProgrammeSettlement {
    /// Every vesting entry the settled epochs created, in number order, each with the clawback
    /// that later took from it: the whole history, where [`ProgrammeSettlement::state`] holds
    /// only the entries still open.
    pub fn entries(&self) -> Vec<VestingEntry> {
        let mut entries: Vec<VestingEntry> = self
            .epochs
            .iter()
            .flat_map(|e| e.new_vesting.iter().cloned())
            .collect();
        for clawback in self.epochs.iter().flat_map(|e| &e.clawbacks) {
            if let Ok(i) = entries.binary_search_by_key(&clawback.entry.number, |e| e.number) {
                entries[i].clawback = Some(clawback.record.clone());
            }
        }
        entries
    }
}

/// Why an epoch could not be settled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettleError {
    /// The programme failed validation.
    #[error("invalid programme: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidProgramme(Vec<ProgrammeError>),
    /// The epoch is outside the programme, or its window is not representable.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// A conversion failed (missing price, value beyond bounds).
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// Apportionment failed (total weight beyond bounds).
    #[error(transparent)]
    Apportion(#[from] ApportionError),
    /// Inputs name a class the programme does not define; settling without it could silently
    /// drop someone's GPU-hours.
    #[error("inputs name unknown GPU class {:?}", .0.as_str())]
    UnknownClass(ClassName),
    /// A schedule name that validation should have caught.
    #[error("unknown vesting schedule {0:?}")]
    UnknownVesting(String),
    /// `α·online_gpu_ms + β·leased_gpu_ms` does not fit in a `u128`.
    #[error("weight of {provider} in class {class} overflows")]
    WeightOverflow {
        /// Class.
        class: ClassName,
        /// Provider.
        provider: String,
    },
    /// A sum or balance left the `u128` range (only with corrupted state or absurd inputs).
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
    /// An accounting identity failed: a bug, reported instead of shipped.
    #[error(transparent)]
    Identity(#[from] IdentityViolation),
    /// The state's vesting entries are inconsistent (only with corrupted state).
    #[error(transparent)]
    VestingState(#[from] VestingStateError),
}

/// `a + b`, or [`SettleError::Overflow`] naming `what` was being summed.
pub(crate) fn add(
    a: BaseUnits,
    b: BaseUnits,
    what: &'static str,
) -> Result<BaseUnits, SettleError> {
    a.checked_add(b).ok_or(SettleError::Overflow(what))
}

/// A validated programme, ready to settle epochs.
#[derive(Debug, Clone)]
pub struct Engine<'p> {
    programme: &'p Programme,
    liquidity_mining: Option<ProRata>,
    rnd: Option<ProRata>,
}

/// One pool's contribution to an epoch.
struct PoolResult {
    ledger: PoolLedger,
    lines: Vec<LineItem>,
}

impl<'p> Engine<'p> {
    /// Validates `programme` ([`Programme::validate`]) and prepares its integer parameters.
    pub fn new(programme: &'p Programme) -> Result<Self, Vec<ProgrammeError>> {
        programme.validate()?;
        let at = |path: &str| {
            let path = path.to_owned();
            move |problem| {
                vec![ProgrammeError {
                    path: path.clone(),
                    problem,
                }]
            }
        };
        let liquidity_mining = programme
            .liquidity_mining
            .as_ref()
            .map(|pool| ProRata::new(&pool.rules))
            .transpose()
            .map_err(at("pools.liquidity_mining"))?;
        let rnd = match &programme.rnd {
            Some(RndPool {
                pro_rata: Some(rules),
                ..
            }) => Some(ProRata::new(rules).map_err(at("pools.rnd"))?),
            _ => None,
        };
        Ok(Engine {
            programme,
            liquidity_mining,
            rnd,
        })
    }

    /// Settles epoch `state.next_epoch` with its measured inputs and advances the state.
    ///
    /// Pools are settled in [`PoolKind`] order and are independent of one another. Every ledger
    /// identity (see [`PoolLedger`]) and the programme-wide identity are checked before the
    /// state changes; a violation is returned as [`SettleError::Identity`].
    pub fn settle_epoch(
        &self,
        state: &mut ProgrammeState,
        inputs: &EpochInputs,
    ) -> Result<EpochSettlement, SettleError> {
        let epoch = state.next_epoch;
        let window = self.programme.calendar.window(epoch)?;
        if let Some(unknown) = inputs
            .measurements
            .keys()
            .find(|class| self.programme.class(class).is_none())
        {
            return Err(SettleError::UnknownClass(unknown.clone()));
        }
        let mut results: Vec<PoolResult> = Vec::new();
        let mut clawbacks = Vec::new();
        let mut contracts = state.contracts.clone();
        if let Some(pool) = &self.programme.committed {
            let kind = PoolKind::Committed;
            let (funded, price) = self.funding(&pool.budget, epoch)?;
            let opening = self.opening(state, kind, funded)?;
            let out =
                settle_committed(self.programme, pool, epoch, window, opening, inputs, state)?;
            let closing = opening
                .checked_add(out.clawed_back)
                .and_then(|v| v.checked_sub(out.allocated))
                .ok_or(SettleError::Overflow("committed balance"))?;
            results.push(PoolResult {
                ledger: PoolLedger {
                    epoch,
                    pool: kind,
                    opening,
                    funded,
                    emitted: out.emitted,
                    allocated: out.allocated,
                    forfeited: out.forfeited,
                    clawed_back: out.clawed_back,
                    returned: BaseUnits::ZERO,
                    carried: BaseUnits::ZERO,
                    shortfall: out.shortfall,
                    closing,
                    price: price.or(out.price),
                },
                lines: out.lines,
            });
            clawbacks = out.clawbacks;
            contracts = out.contracts;
        }
        if let (Some(pool), Some(rules)) =
            (&self.programme.liquidity_mining, &self.liquidity_mining)
        {
            let (funded, price) = self.funding(&pool.budget, epoch)?;
            let budget = self.budget_base_units(&pool.budget)?;
            let opening = self.opening(state, PoolKind::LiquidityMining, funded)?;
            let ledger = PoolLedger {
                epoch,
                pool: PoolKind::LiquidityMining,
                opening,
                funded,
                emitted: BaseUnits::ZERO,
                allocated: BaseUnits::ZERO,
                forfeited: BaseUnits::ZERO,
                clawed_back: BaseUnits::ZERO,
                returned: BaseUnits::ZERO,
                carried: BaseUnits::ZERO,
                shortfall: BaseUnits::ZERO,
                closing: opening,
                price,
            };
            results.push(self.pro_rata(rules, ledger, opening, budget, inputs, Vec::new())?);
        }
        if let Some(pool) = &self.programme.rnd {
            results.push(self.settle_rnd(pool, epoch, window, state, inputs)?);
        }
        if epoch + 1 == self.programme.calendar.epochs {
            for result in &mut results {
                release_at_programme_end(result)?;
            }
        }
        let mut line_items = Vec::new();
        let mut ledgers = Vec::new();
        let mut new_vesting = Vec::new();
        let mut pools = state.pools.clone();
        for PoolResult { ledger, lines } in results {
            ledger.check(&lines)?;
            let before = pools.get(&ledger.pool).copied().unwrap_or_default();
            let after = check_programme_identity(&ledger, before)?;
            pools.insert(ledger.pool, after);
            for line in &lines {
                let number = state.next_entry + new_vesting.len();
                if let Some(entry) = self.vesting_entry(line, window, number)? {
                    new_vesting.push(entry);
                }
            }
            line_items.extend(lines);
            ledgers.push(ledger);
        }
        line_items.sort_by(|a, b| {
            (a.pool, &a.bucket, &a.provider).cmp(&(b.pool, &b.bucket, &b.provider))
        });
        let mut vesting = state.vesting.clone();
        for clawback in &clawbacks {
            let index = vesting
                .binary_search_by_key(&clawback.entry.number, |e| e.number)
                .map_err(|_| VestingStateError::NotOpen(clawback.entry.number))?;
            vesting[index].clawback = Some(clawback.record.clone());
        }
        vesting.extend(new_vesting.iter().cloned());
        // The vesting changes first and all at once, or not at all; nothing after it can fail.
        state.set_vesting(vesting, window.end_ms())?;
        state.pools = pools;
        state.contracts = contracts.clone();
        state.next_epoch = epoch + 1;
        Ok(EpochSettlement {
            epoch,
            window,
            line_items,
            ledgers,
            new_vesting,
            clawbacks,
            contracts,
        })
    }

    /// A pool budget in base units: converted at the price in force at the programme start.
    fn budget_base_units(&self, budget: &Money) -> Result<BaseUnits, MoneyError> {
        Ok(self
            .programme
            .to_base_units(budget, self.programme.calendar.start_ms)?
            .0)
    }

    /// What a pool budget funds in `epoch`: all of it at epoch 0, nothing later.
    fn funding(
        &self,
        budget: &Money,
        epoch: u32,
    ) -> Result<(BaseUnits, Option<PriceUse>), MoneyError> {
        if epoch == 0 {
            self.programme
                .to_base_units(budget, self.programme.calendar.start_ms)
        } else {
            Ok((BaseUnits::ZERO, None))
        }
    }

    /// `opening = previous closing + funded`.
    fn opening(
        &self,
        state: &ProgrammeState,
        pool: PoolKind,
        funded: BaseUnits,
    ) -> Result<BaseUnits, SettleError> {
        let balance = state
            .pools
            .get(&pool)
            .map_or(BaseUnits::ZERO, |p| p.balance);
        add(balance, funded, "opening balance")
    }

    /// Runs the pro-rata machinery on `ledger` (whose `opening` and `funded` are set), emitting
    /// from `balance` (carry) or `budget` (return), after any `lines` already allocated.
    fn pro_rata(
        &self,
        rules: &ProRata,
        mut ledger: PoolLedger,
        balance: BaseUnits,
        budget: BaseUnits,
        inputs: &EpochInputs,
        mut lines: Vec<LineItem>,
    ) -> Result<PoolResult, SettleError> {
        let epochs = self.programme.calendar.epochs;
        let emission = rules.emission(balance, budget, ledger.epoch, epochs);
        let dist = rules.distribute(ledger.pool, ledger.epoch, emission, inputs)?;
        let overflow = || SettleError::Overflow("pro-rata ledger");
        ledger.emitted = ledger.emitted.checked_add(emission).ok_or_else(overflow)?;
        ledger.allocated = ledger
            .allocated
            .checked_add(dist.allocated)
            .ok_or_else(overflow)?;
        // A slice without eligible weight follows the policy, except in the last epoch, which
        // has no later epoch to carry it into; a cap excess is always returned.
        let last = ledger.epoch.saturating_add(1) >= epochs;
        let (carried, returned) = match rules.policy {
            Undistributed::Carry if !last => (dist.no_eligible_weight, dist.cap_excess),
            Undistributed::Carry | Undistributed::Return => (
                BaseUnits::ZERO,
                add(dist.no_eligible_weight, dist.cap_excess, "pro-rata ledger")?,
            ),
        };
        ledger.carried = carried;
        ledger.returned = returned;
        ledger.closing = ledger
            .opening
            .checked_sub(ledger.allocated)
            .and_then(|v| v.checked_sub(ledger.returned))
            .ok_or_else(overflow)?;
        lines.extend(dist.lines);
        Ok(PoolResult { ledger, lines })
    }

    /// The R&D pool: `budget − Σ grants` is funded at epoch 0 and each grant in its own epoch,
    /// where it is paid at once. The pro-rata part then emits from the balance left after this
    /// epoch's grants (carry) or from `budget − Σ grants` (return).
    fn settle_rnd(
        &self,
        pool: &RndPool,
        epoch: u32,
        window: Window,
        state: &ProgrammeState,
        inputs: &EpochInputs,
    ) -> Result<PoolResult, SettleError> {
        let kind = PoolKind::Rnd;
        let pro_rata_budget = rnd_pro_rata_budget(pool).map_err(|problem| {
            SettleError::InvalidProgramme(vec![ProgrammeError {
                path: "pools.rnd.grants".into(),
                problem,
            }])
        })?;
        let (pro_rata_funded, mut price) = self.funding(&pro_rata_budget, epoch)?;
        // Every grant of the epoch is funded; one whose provider is not registered is not paid
        // and its amount stays in the pool's balance.
        let (mut paid, mut unpaid) = (BaseUnits::ZERO, BaseUnits::ZERO);
        let mut lines = Vec::new();
        for grant in pool.grants.iter().filter(|g| g.epoch == epoch) {
            let (amount, grant_price) = self
                .programme
                .to_base_units(&grant.amount, window.start_ms())?;
            let reason = if inputs.is_registered(&grant.provider) {
                paid = add(paid, amount, "R&D grants")?;
                Reason::Paid
            } else {
                unpaid = add(unpaid, amount, "R&D grants")?;
                Reason::ProviderNotRegistered
            };
            price = price.or_else(|| grant_price.clone());
            lines.push(LineItem {
                epoch,
                pool: kind,
                bucket: Bucket::Grant(grant.id.clone()),
                provider: Some(grant.provider.clone()),
                basis: Basis::Amount(amount),
                amount,
                reason,
                vesting: Some(grant.vesting.clone()),
                price: grant_price,
                clawback_of: None,
            });
        }
        let grants = add(paid, unpaid, "R&D grants")?;
        let funded = add(pro_rata_funded, grants, "R&D funding")?;
        let opening = self.opening(state, kind, funded)?;
        let balance = opening
            .checked_sub(paid)
            .ok_or(SettleError::Overflow("R&D balance"))?;
        let ledger = PoolLedger {
            epoch,
            pool: kind,
            opening,
            funded,
            emitted: grants,
            allocated: paid,
            forfeited: unpaid,
            clawed_back: BaseUnits::ZERO,
            returned: BaseUnits::ZERO,
            carried: BaseUnits::ZERO,
            shortfall: BaseUnits::ZERO,
            closing: balance,
            price,
        };
        match &self.rnd {
            Some(rules) => {
                let budget = self.budget_base_units(&pro_rata_budget)?;
                self.pro_rata(rules, ledger, balance, budget, inputs, lines)
            }
            None => Ok(PoolResult { ledger, lines }),
        }
    }

    /// The vesting entry an allocated line creates, anchored at the end of the epoch and
    /// numbered `number`.
    fn vesting_entry(
        &self,
        line: &LineItem,
        window: Window,
        number: usize,
    ) -> Result<Option<VestingEntry>, SettleError> {
        let allocated =
            matches!(line.reason, Reason::Paid | Reason::Capped) && line.amount > BaseUnits::ZERO;
        let (Some(provider), Some(schedule_id), true) = (&line.provider, &line.vesting, allocated)
        else {
            return Ok(None);
        };
        let schedule = *self
            .programme
            .vesting
            .get(schedule_id)
            .ok_or_else(|| SettleError::UnknownVesting(schedule_id.clone()))?;
        Ok(Some(VestingEntry {
            number,
            epoch: line.epoch,
            pool: line.pool,
            bucket: line.bucket.clone(),
            provider: provider.clone(),
            schedule_id: schedule_id.clone(),
            schedule,
            anchor_ms: window.end_ms(),
            amount: line.amount,
            clawback: None,
        }))
    }
}

/// Returns what a pool still holds after the programme's last epoch, with one pool-level
/// `PROGRAMME_END` line, so that its final balance is 0 and the whole budget is accounted for as
/// allocated (net of clawbacks) or returned. No later epoch exists to pay the money from, and
/// leaving it in the pool would hide it from the ledgers. Amounts still vesting are not pool
/// money: they stay owed to their providers and are untouched.
fn release_at_programme_end(result: &mut PoolResult) -> Result<(), SettleError> {
    let ledger = &mut result.ledger;
    let rest = ledger.closing;
    if rest == BaseUnits::ZERO {
        return Ok(());
    }
    ledger.returned = add(ledger.returned, rest, "returned at programme end")?;
    ledger.closing = BaseUnits::ZERO;
    result.lines.push(LineItem {
        epoch: ledger.epoch,
        pool: ledger.pool,
        bucket: Bucket::Pool,
        provider: None,
        basis: Basis::Amount(rest),
        amount: rest,
        reason: Reason::ProgrammeEnd,
        vesting: None,
        price: None,
        clawback_of: None,
    });
    Ok(())
}

/// Adds the epoch to the pool's running sums and checks
/// `Σ allocated − Σ clawed_back + Σ returned + closing = Σ funded`, and that the ledger opens
/// where the previous epoch closed.
fn check_programme_identity(
    ledger: &PoolLedger,
    before: PoolState,
) -> Result<PoolState, IdentityViolation> {
    let violation = |identity, left, right| IdentityViolation::new(ledger, identity, left, right);
    let opening = before.balance.checked_add(ledger.funded);
    if opening != Some(ledger.opening) {
        return Err(violation(
            "opening = previous closing + funded",
            Some(ledger.opening),
            opening,
        ));
    }
    let t = before.totals;
    let totals = (|| {
        Some(PoolTotals {
            funded: t.funded.checked_add(ledger.funded)?,
            allocated: t.allocated.checked_add(ledger.allocated)?,
            clawed_back: t.clawed_back.checked_add(ledger.clawed_back)?,
            returned: t.returned.checked_add(ledger.returned)?,
        })
    })()
    .ok_or_else(|| violation("running totals fit in u128", None, None))?;
    // Subtract first: only what was allocated can be clawed back, and when the identity holds
    // every partial sum below is at most the budget, so none of them overflows. Adding the
    // balance before subtracting would overflow for budgets near `u128::MAX`.
    let left = totals
        .allocated
        .checked_sub(totals.clawed_back)
        .and_then(|v| v.checked_add(totals.returned))
        .and_then(|v| v.checked_add(ledger.closing));
    if left != Some(totals.funded) {
        return Err(violation(
            "Σ allocated − Σ clawed_back + Σ returned + balance = Σ funded",
            left,
            Some(totals.funded),
        ));
    }
    Ok(PoolState {
        balance: ledger.closing,
        totals,
    })
}

/// Settles every epoch for which `inputs` has an entry (`inputs[k]` is epoch `k`), from a fresh
/// state. Fails on the first epoch that cannot be settled.
pub fn settle_programme(
    programme: &Programme,
    inputs: &[EpochInputs],
) -> Result<ProgrammeSettlement, SettleError> {
    let engine = Engine::new(programme).map_err(SettleError::InvalidProgramme)?;
    let mut state = ProgrammeState::default();
    let epochs = inputs
        .iter()
        .map(|epoch_inputs| engine.settle_epoch(&mut state, epoch_inputs))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProgrammeSettlement { epochs, state })
}
