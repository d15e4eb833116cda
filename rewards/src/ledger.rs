//! Outputs: line items and per-pool, per-epoch ledgers, with the identities they must satisfy.

use crate::money::PriceUse;
use crate::programme::PoolKind;
use domain::{BaseUnits, ClassName};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a line item's amount was allocated under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Bucket {
    /// A GPU class of a pro-rata pool.
    Class(ClassName),
    /// A committed contract, by id.
    Contract(String),
    /// An R&D grant, by id.
    Grant(String),
    /// The pool as a whole: money that belongs to no class, contract or grant, such as the
    /// balance returned at the end of the programme ([`Reason::ProgrammeEnd`]).
    Pool,
}

/// Why a line item has its amount. Reported verbatim so that every unit can be explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// Allocated to the provider (counts in `allocated`).
    Paid,
    /// The provider's weight is reported, but its uptime is below `min_uptime`; amount 0.
    UptimeBelowThreshold,
    /// The contract's uptime was below `sla_uptime`; the epoch's pay is forfeited (counts in
    /// `forfeited`).
    SlaBreach,
    /// Too many consecutive breaches: the contract is terminated and this epoch's pay forfeited
    /// (counts in `forfeited`).
    CommitmentBroken,
    /// An unvested amount taken back into the pool (counts in `clawed_back`).
    ClawedBack,
    /// Allocated to the provider, limited by `max_share_per_provider` (counts in `allocated`).
    Capped,
    /// Part of a class's slice that nobody could take because every eligible provider with
    /// weight is capped (counts in `returned` under either policy: the specification returns it).
    CapExcess,
    /// A class's whole slice: no eligible provider had positive weight (counts in `carried` or
    /// `returned`).
    NoEligibleWeight,
    /// Pay due under a contract that the committed reserve could not cover (counts in
    /// `shortfall`; this money does not exist in the pool).
    PoolExhausted,
    /// The pool's balance after the programme's last epoch (never-used budget, forfeits and
    /// clawbacks left in the committed reserve, the R&D leftover), returned to the community pool
    /// in that epoch (counts in `returned`; not part of any emission). Without it the money would
    /// sit in a pool that no later epoch can pay from.
    ProgrammeEnd,
    /// The contract's or grant's provider was registered on chain at no time in the epoch
    /// ([`crate::registration`]): nothing is paid and the amount stays in the pool (counts in
    /// `forfeited`). For a contract it is a breach like any other epoch without uptime.
    ProviderNotRegistered,
}

impl Reason {
    /// The reason as text (`PAID`, `CAP_EXCESS`, …): its serde name, which the store, the JSON
    /// state and every CSV report use. Spelled out once here so that no output needs its own
    /// table, and a test keeps it equal to the serde name.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Paid => "PAID",
            Reason::UptimeBelowThreshold => "UPTIME_BELOW_THRESHOLD",
            Reason::SlaBreach => "SLA_BREACH",
            Reason::CommitmentBroken => "COMMITMENT_BROKEN",
            Reason::ProviderNotRegistered => "PROVIDER_NOT_REGISTERED",
            Reason::ClawedBack => "CLAWED_BACK",
            Reason::Capped => "CAPPED",
            Reason::CapExcess => "CAP_EXCESS",
            Reason::NoEligibleWeight => "NO_ELIGIBLE_WEIGHT",
            Reason::PoolExhausted => "POOL_EXHAUSTED",
            Reason::ProgrammeEnd => "PROGRAMME_END",
        }
    }
}

/// The quantity a line item's amount was derived from ("weight or basis").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Basis {
    /// Pro-rata weight `α·online_gpu_ms + β·leased_gpu_ms` (thousandths of a GPU-ms); on a
    /// class-level line, the total eligible weight of the class.
    Weight(u128),
    /// Committed pay basis: the GPU-milliseconds paid for, `gpus × overlap_ms × delivered`.
    DeliveredGpuMs(u128),
    /// The amount the line refers to: a grant's amount, or a clawed-back entry's original amount.
    Amount(BaseUnits),
}

/// A vesting entry, identified as the engine identifies it everywhere: its
/// [`crate::vesting::VestingEntry::number`] (creation order across the programme, the number the
/// store keeps), together with the epoch in which its amount was earned, so a reader can find
/// the line that created it without the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryRef {
    /// Epoch in which the entry's amount was earned (its [`crate::vesting::VestingEntry::epoch`]).
    pub epoch: u32,
    /// The entry's number.
    pub entry: usize,
}

/// One line of the settlement: (epoch, pool, bucket, provider) with its amount and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// Epoch being settled.
    pub epoch: u32,
    /// Pool the amount belongs to.
    pub pool: PoolKind,
    /// Class, contract or grant.
    pub bucket: Bucket,
    /// Provider address; `None` for class-level lines (undistributed slices).
    pub provider: Option<String>,
    /// What the amount was derived from.
    pub basis: Basis,
    /// Base units.
    pub amount: BaseUnits,
    /// Why.
    pub reason: Reason,
    /// Vesting schedule id of allocated and clawed-back amounts, and of a contract's forfeited
    /// pay (`SLA_BREACH`, `COMMITMENT_BROKEN`): the schedule the pay would have vested on.
    pub vesting: Option<String>,
    /// Price used when the amount came from a USD figure.
    pub price: Option<PriceUse>,
    /// On a `CLAWED_BACK` line, the vesting entry it takes back, so that every clawback line can
    /// be matched to its entry directly rather than by its position among the epoch's clawback
    /// records. `None` on every other line; left out of the JSON then, so records without a
    /// reference read and hash as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clawback_of: Option<EntryRef>,
}

/// One pool's movements in one epoch, in base units.
///
/// Identities (checked by [`PoolLedger::check`] on every settlement):
/// - `closing = opening − allocated − returned + clawed_back`;
/// - `emitted = allocated + forfeited + carried + returned − released`, where `released` is the
///   balance returned at programme end (the [`Reason::ProgrammeEnd`] line, 0 in earlier epochs):
///   it is returned without ever being emitted;
/// - `opening = previous closing + funded` (checked by the engine across epochs).
///
/// Across the programme, `Σ allocated − Σ clawed_back + Σ returned + final closing = Σ funded`
/// (the budget, see [`crate::settle::PoolTotals`]), and the final closing is 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolLedger {
    /// Epoch.
    pub epoch: u32,
    /// Pool.
    pub pool: PoolKind,
    /// Balance at the start of the epoch, including `funded`.
    pub opening: BaseUnits,
    /// Money that entered the pool this epoch: the budget at epoch 0, R&D grants in their epoch.
    pub funded: BaseUnits,
    /// Put up for allocation this epoch: the emission `E_k` (plus grants) of a pro-rata pool, or
    /// the pay due under the committed contracts.
    pub emitted: BaseUnits,
    /// Allocated to providers (vesting from the end of this epoch).
    pub allocated: BaseUnits,
    /// Emitted but withheld for cause (SLA breach, broken commitment); stays in the pool.
    pub forfeited: BaseUnits,
    /// Unvested amounts taken back into the pool.
    pub clawed_back: BaseUnits,
    /// Sent back to the community pool (`CAP_EXCESS`, `NO_ELIGIBLE_WEIGHT` when not carried, and
    /// the pool's whole balance at programme end).
    pub returned: BaseUnits,
    /// Emitted but undistributed, staying in the pool for later epochs (always 0 in the last
    /// epoch, which has none).
    pub carried: BaseUnits,
    /// Pay due that the pool could not cover (not money in the pool; see [`Reason::PoolExhausted`]).
    pub shortfall: BaseUnits,
    /// Balance at the end of the epoch.
    pub closing: BaseUnits,
    /// The price in force at the epoch start, when a USD figure was converted for this pool.
    pub price: Option<PriceUse>,
}

/// A broken accounting identity. This is a bug in the engine or corrupted state, never a
/// user error; the settlement is refused rather than shipped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("epoch {epoch}, pool {pool:?}: identity {identity} does not hold ({left} ≠ {right})")]
pub struct IdentityViolation {
    /// Epoch.
    pub epoch: u32,
    /// Pool.
    pub pool: PoolKind,
    /// The identity, written out.
    pub identity: &'static str,
    /// Its left-hand side.
    pub left: String,
    /// Its right-hand side.
    pub right: String,
}

impl IdentityViolation {
    /// A violation of `identity` in `ledger`'s pool and epoch; `None` sides overflowed.
    pub(crate) fn new(
        ledger: &PoolLedger,
        identity: &'static str,
        left: Option<BaseUnits>,
        right: Option<BaseUnits>,
    ) -> Self {
        let show = |v: Option<BaseUnits>| v.map_or_else(|| "overflow".into(), |v| v.to_string());
        IdentityViolation {
            epoch: ledger.epoch,
            pool: ledger.pool,
            identity,
            left: show(left),
            right: show(right),
        }
    }
}

impl PoolLedger {
    /// Checks the per-epoch identities, and that the line items of this pool and epoch add up to
    /// the ledger's columns (so the published lines and the ledger cannot disagree).
    pub fn check(&self, lines: &[LineItem]) -> Result<(), IdentityViolation> {
        let equal =
            |identity, left: Option<BaseUnits>, right: Option<BaseUnits>| match (left, right) {
                (Some(l), Some(r)) if l == r => Ok(()),
                _ => Err(IdentityViolation::new(self, identity, left, right)),
            };
        equal(
            "closing + allocated + returned = opening + clawed_back",
            self.closing
                .checked_add(self.allocated)
                .and_then(|v| v.checked_add(self.returned)),
            self.opening.checked_add(self.clawed_back),
        )?;
        let sum = |reasons: &[Reason]| {
            lines
                .iter()
                .filter(|l| l.pool == self.pool && l.epoch == self.epoch)
                .filter(|l| reasons.contains(&l.reason))
                .try_fold(BaseUnits::ZERO, |acc, l| acc.checked_add(l.amount))
        };
        // The balance released at programme end is returned without being emitted. Subtracting
        // it before adding keeps the sum within the budget, so it cannot overflow.
        let released = sum(&[Reason::ProgrammeEnd]);
        equal(
            "emitted = allocated + forfeited + carried + returned − PROGRAMME_END",
            Some(self.emitted),
            released
                .and_then(|r| self.returned.checked_sub(r))
                .and_then(|v| v.checked_add(self.allocated))
                .and_then(|v| v.checked_add(self.forfeited))
                .and_then(|v| v.checked_add(self.carried)),
        )?;
        equal(
            "allocated = Σ lines PAID + CAPPED",
            Some(self.allocated),
            sum(&[Reason::Paid, Reason::Capped]),
        )?;
        equal(
            "forfeited = Σ lines SLA_BREACH + COMMITMENT_BROKEN + PROVIDER_NOT_REGISTERED",
            Some(self.forfeited),
            sum(&[
                Reason::SlaBreach,
                Reason::CommitmentBroken,
                Reason::ProviderNotRegistered,
            ]),
        )?;
        equal(
            "clawed_back = Σ lines CLAWED_BACK",
            Some(self.clawed_back),
            sum(&[Reason::ClawedBack]),
        )?;
        equal(
            "carried + returned = Σ lines NO_ELIGIBLE_WEIGHT + CAP_EXCESS + PROGRAMME_END",
            self.carried.checked_add(self.returned),
            sum(&[
                Reason::NoEligibleWeight,
                Reason::CapExcess,
                Reason::ProgrammeEnd,
            ]),
        )?;
        equal(
            "shortfall = Σ lines POOL_EXHAUSTED",
            Some(self.shortfall),
            sum(&[Reason::PoolExhausted]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_are_the_serde_names() {
        let all = [
            Reason::Paid,
            Reason::UptimeBelowThreshold,
            Reason::SlaBreach,
            Reason::CommitmentBroken,
            Reason::ProviderNotRegistered,
            Reason::ClawedBack,
            Reason::Capped,
            Reason::CapExcess,
            Reason::NoEligibleWeight,
            Reason::PoolExhausted,
            Reason::ProgrammeEnd,
        ];
        for reason in all {
            let serde_name = serde_json::to_value(reason).unwrap();
            assert_eq!(
                serde_name,
                serde_json::Value::from(reason.code()),
                "{reason:?}"
            );
        }
    }

    fn ledger() -> PoolLedger {
        PoolLedger {
            epoch: 3,
            pool: PoolKind::LiquidityMining,
            opening: BaseUnits(100),
            funded: BaseUnits(0),
            emitted: BaseUnits(40),
            allocated: BaseUnits(30),
            forfeited: BaseUnits(0),
            clawed_back: BaseUnits(0),
            returned: BaseUnits(10),
            carried: BaseUnits(0),
            shortfall: BaseUnits(0),
            closing: BaseUnits(60),
            price: None,
        }
    }

    fn line(amount: u128, reason: Reason) -> LineItem {
        LineItem {
            epoch: 3,
            pool: PoolKind::LiquidityMining,
            bucket: Bucket::Class(ClassName::new("a100").unwrap()),
            provider: None,
            basis: Basis::Weight(0),
            amount: BaseUnits(amount),
            reason,
            vesting: None,
            price: None,
            clawback_of: None,
        }
    }

    #[test]
    fn consistent_ledger_and_lines_pass() {
        let lines = [line(30, Reason::Paid), line(10, Reason::NoEligibleWeight)];
        assert_eq!(ledger().check(&lines), Ok(()));
    }

    #[test]
    fn a_unit_missing_anywhere_is_caught() {
        let lines = [line(30, Reason::Paid), line(10, Reason::NoEligibleWeight)];
        let mut closing_off = ledger();
        closing_off.closing = BaseUnits(61);
        assert!(closing_off.check(&lines).is_err());
        let mut emitted_off = ledger();
        emitted_off.emitted = BaseUnits(41);
        assert!(emitted_off.check(&lines).is_err());
        let short_lines = [line(29, Reason::Paid), line(10, Reason::NoEligibleWeight)];
        let err = ledger().check(&short_lines).unwrap_err();
        assert_eq!(err.identity, "allocated = Σ lines PAID + CAPPED");
        assert_eq!((err.left.as_str(), err.right.as_str()), ("30", "29"));
    }
}
