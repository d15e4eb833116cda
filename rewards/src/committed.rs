//! The committed pool: per-GPU pay under an uptime SLA, termination and clawback.
//!
//! Each epoch is settled in two phases.
//!
//! **Phase 1 — SLA.** For each live contract whose term overlaps the epoch, in configuration
//! order, the pay is `floor(gpus × rate × overlap_ms / 3_600_000 × delivered)` (see
//! [`overlap_ms`] and [`delivered_gpu_ms`]). With `verify_capacity`, a provider's online GPU-ms
//! of a class is shared among its contracts of that class in configuration order, so one GPU is
//! never paid twice; only a contract that meets its SLA uses any of it up, so a forfeited,
//! terminating or terminated contract leaves it all to the next one. If `uptime < sla_uptime` the pay is forfeited (`SLA_BREACH`) and the run
//! of consecutive breaches grows; an epoch meeting the SLA resets it. When the run exceeds
//! `max_consecutive_breaches`, the contract is terminated (`COMMITMENT_BROKEN`, that epoch's
//! pay forfeited): every unvested amount it was ever paid is clawed back at the end of the
//! epoch ([`crate::vesting::VestingEntry::unvested_for_clawback`]) and it is never paid again.
//! A contract with no measurement has uptime 0 and no online capacity. A contract whose
//! provider was registered at no time in the epoch is a breach whatever its SLA, recorded as
//! `PROVIDER_NOT_REGISTERED` unless it breaks the commitment.
//!
//! **Phase 2 — pay.** Contracts that met the SLA are paid in configuration order from the
//! opening balance plus this epoch's clawbacks. Pay the reserve cannot cover is recorded as
//! `POOL_EXHAUSTED` (a shortfall, not money in the pool).
//!
//! A USD rate is converted at the price in force at the start of the epoch, inside the pay
//! formula (see the money module), so it is never rounded on its own.

use crate::calendar::{span_ms, Window};
use crate::ledger::{Basis, Bucket, EntryRef, LineItem, Reason};
use crate::money::{HourlyRate, MoneyError, PriceUse};
use crate::programme::{CommittedContract, CommittedPool, PoolKind, Problem, Programme};
use crate::settle::{
    add, ContractState, EntryClawback, EpochInputs, ProgrammeState, SettleError, Termination,
};
use crate::vesting::ClawbackRecord;
use domain::{BaseUnits, ClassName, UnixMs};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// `overlap_ms(epoch, term)`: how much of the contract's term `[start, start + term)` falls in
/// the epoch's window.
pub fn overlap_ms(contract: &CommittedContract, window: Window) -> u64 {
    let end = contract.end_ms().unwrap_or(UnixMs(i64::MAX));
    window.overlap_ms(contract.start_ms, end)
}

/// GPU-milliseconds paid for: `gpus × overlap_ms × delivered`, where
/// `delivered = min(1, online_gpu_ms / (gpus × overlap_ms))` when `verify_capacity` is on and 1
/// otherwise. The product simplifies exactly to `min(gpus × overlap_ms, online_gpu_ms)` with
/// verification and `gpus × overlap_ms` without, so no fraction is ever rounded.
pub fn delivered_gpu_ms(gpus: u64, overlap_ms: u64, online_gpu_ms: Option<u128>) -> u128 {
    let committed = u128::from(gpus) * u128::from(overlap_ms);
    online_gpu_ms.map_or(committed, |online| online.min(committed))
}

/// Maximum total a contract can be paid over the programme: the sum over the programme's
/// epochs of `floor(gpus × rate × overlap_ms / 3_600_000)` with full delivery and no breach, a
/// USD rate being converted at the price in force at each epoch's start (the price table as
/// loaded; the last known price stays in force). Used by the configuration's budget check.
pub fn max_total(
    programme: &Programme,
    contract: &CommittedContract,
) -> Result<BaseUnits, Problem> {
    let calendar = &programme.calendar;
    if calendar.epoch_length_ms == 0 {
        return Ok(BaseUnits::ZERO);
    }
    let first = span_ms(calendar.start_ms, contract.start_ms) / calendar.epoch_length_ms;
    let end = contract.end_ms().unwrap_or(UnixMs(i64::MAX));
    let mut total = BaseUnits::ZERO;
    let mut epoch = u32::try_from(first).unwrap_or(u32::MAX);
    // Most epochs repeat the previous one's rate and GPU time, and so its pay: the wide
    // division is done only when either changes (the configuration check runs this for every
    // contract over every epoch, and `verify` loads the configuration of every epoch).
    let mut previous: Option<(HourlyRate, u128, BaseUnits)> = None;
    while epoch < calendar.epochs {
        let window = calendar.window(epoch)?;
        if window.start_ms() >= end {
            break;
        }
        let overlap = overlap_ms(contract, window);
        let (rate, _) = rate_at(programme, contract, window)?;
        let gpu_ms = delivered_gpu_ms(contract.gpus, overlap, None);
        let pay = match &previous {
            Some((r, g, pay)) if *r == rate && *g == gpu_ms => *pay,
            _ => {
                let pay = rate.amount_for(gpu_ms)?;
                previous = Some((rate, gpu_ms, pay));
                pay
            }
        };
        total = total
            .checked_add(pay)
            .ok_or_else(|| MoneyError::TooLarge("maximum total".into()))?;
        epoch += 1;
    }
    Ok(total)
}

/// The contract's rate for an epoch, with the price it was converted at (USD rates only): the
/// price in force at the epoch's start.
fn rate_at(
    programme: &Programme,
    contract: &CommittedContract,
    window: Window,
) -> Result<(HourlyRate, Option<PriceUse>), MoneyError> {
    let price = programme.price_for(&contract.rate, window.start_ms())?;
    let rate = HourlyRate::resolve(
        &contract.rate,
        price.as_ref(),
        programme.denom.base_units_per_token,
    )?;
    Ok((rate, price))
}

/// The committed pool's results for one epoch.
pub(crate) struct CommittedOutcome {
    pub(crate) lines: Vec<LineItem>,
    pub(crate) emitted: BaseUnits,
    pub(crate) allocated: BaseUnits,
    pub(crate) forfeited: BaseUnits,
    pub(crate) clawed_back: BaseUnits,
    pub(crate) shortfall: BaseUnits,
    pub(crate) clawbacks: Vec<EntryClawback>,
    pub(crate) contracts: BTreeMap<String, ContractState>,
    /// The price used for USD rates this epoch, if any.
    pub(crate) price: Option<PriceUse>,
}

/// A contract that met its SLA and waits to be paid.
struct Due<'a> {
    contract: &'a CommittedContract,
    delivered: u128,
    amount: BaseUnits,
    price: Option<PriceUse>,
}

/// Settles the committed pool for one epoch (the two phases of the module docs).
pub(crate) fn settle_committed(
    programme: &Programme,
    pool: &CommittedPool,
    epoch: u32,
    window: Window,
    opening: BaseUnits,
    inputs: &EpochInputs,
    state: &ProgrammeState,
) -> Result<CommittedOutcome, SettleError> {
    let mut out = CommittedOutcome {
        lines: Vec::new(),
        emitted: BaseUnits::ZERO,
        allocated: BaseUnits::ZERO,
        forfeited: BaseUnits::ZERO,
        clawed_back: BaseUnits::ZERO,
        shortfall: BaseUnits::ZERO,
        clawbacks: Vec::new(),
        contracts: state.contracts.clone(),
        price: None,
    };
    let mut capacity: BTreeMap<(&str, &ClassName), u128> = BTreeMap::new();
    let mut due: Vec<Due> = Vec::new();
    for contract in &pool.contracts {
        let status = out.contracts.entry(contract.id.clone()).or_default();
        let overlap = overlap_ms(contract, window);
        if status.terminated.is_some() || overlap == 0 {
            continue;
        }
        let measurement = inputs.measurement(&contract.class, &contract.provider);
        // The capacity still unclaimed by earlier contracts of this provider and class. It is
        // only used up below, by a contract that is paid: a forfeited contract delivered nothing
        // anyone is paid for, so it must not shrink what the next contract is paid for.
        let key = (contract.provider.as_str(), &contract.class);
        let online = pool.verify_capacity.then(|| {
            *capacity
                .entry(key)
                .or_insert_with(|| measurement.map_or(0, |m| m.online_gpu_ms))
        });
        let delivered = delivered_gpu_ms(contract.gpus, overlap, online);
        let (rate, price) = rate_at(programme, contract, window)?;
        if out.price.is_none() {
            out.price.clone_from(&price);
        }
        let amount = rate.amount_for(delivered)?;
        let registered = inputs.is_registered(&contract.provider);
        let met_sla = registered
            && match measurement {
                Some(m) => m.uptime.at_least(contract.sla_uptime),
                // Unmeasured means offline all epoch: uptime 0 meets only a zero SLA.
                None => contract.sla_uptime <= Decimal::ZERO,
            };
        if met_sla {
            if let Some(left) = capacity.get_mut(&key) {
                *left -= delivered.min(*left);
            }
            status.consecutive_breaches = 0;
            due.push(Due {
                contract,
                delivered,
                amount,
                price,
            });
            continue;
        }
        status.consecutive_breaches = status.consecutive_breaches.saturating_add(1);
        let reason = if status.consecutive_breaches > contract.max_consecutive_breaches {
            status.terminated = Some(Termination {
                epoch,
                at_ms: window.end_ms(),
            });
            Reason::CommitmentBroken
        } else if !registered {
            Reason::ProviderNotRegistered
        } else {
            Reason::SlaBreach
        };
        out.forfeited = add(out.forfeited, amount, "committed pool totals")?;
        out.lines.push(contract_line(
            epoch,
            contract,
            delivered,
            amount,
            reason,
            price.clone(),
        ));
        if reason == Reason::CommitmentBroken {
            claw_back(&mut out, state, contract, epoch, window)?;
        }
    }
    let mut available = add(opening, out.clawed_back, "committed pool totals")?;
    for Due {
        contract,
        delivered,
        amount,
        price,
    } in due
    {
        let paid = amount.min(available);
        available = BaseUnits(available.get() - paid.get());
        out.allocated = add(out.allocated, paid, "committed pool totals")?;
        out.lines.push(contract_line(
            epoch,
            contract,
            delivered,
            paid,
            Reason::Paid,
            price.clone(),
        ));
        let missing = BaseUnits(amount.get() - paid.get());
        if missing > BaseUnits::ZERO {
            out.shortfall = add(out.shortfall, missing, "committed pool totals")?;
            let mut line = contract_line(
                epoch,
                contract,
                delivered,
                missing,
                Reason::PoolExhausted,
                price.clone(),
            );
            // Unpaid pay never vests on anything.
            line.vesting = None;
            out.lines.push(line);
        }
    }
    out.emitted = add(out.allocated, out.forfeited, "committed pool totals")?;
    Ok(out)
}

/// Claws back every unvested amount ever paid under `contract`, at the end of the epoch.
fn claw_back(
    out: &mut CommittedOutcome,
    state: &ProgrammeState,
    contract: &CommittedContract,
    epoch: u32,
    window: Window,
) -> Result<(), SettleError> {
    let at_ms = window.end_ms();
    let bucket = Bucket::Contract(contract.id.clone());
    // Closed entries have nothing left to take, so the open ones are all there is to look at.
    for entry in &state.vesting {
        if entry.pool != PoolKind::Committed || entry.bucket != bucket || entry.clawback.is_some() {
            continue;
        }
        let amount = entry.unvested_for_clawback(at_ms);
        if amount == BaseUnits::ZERO {
            continue;
        }
        out.clawed_back = add(out.clawed_back, amount, "committed pool totals")?;
        out.lines.push(LineItem {
            epoch,
            pool: PoolKind::Committed,
            bucket: bucket.clone(),
            provider: Some(entry.provider.clone()),
            basis: Basis::Amount(entry.amount),
            amount,
            reason: Reason::ClawedBack,
            vesting: Some(entry.schedule_id.clone()),
            price: None,
            clawback_of: Some(EntryRef {
                epoch: entry.epoch,
                entry: entry.number,
            }),
        });
        out.clawbacks.push(EntryClawback {
            entry: entry.clone(),
            record: ClawbackRecord {
                epoch,
                at_ms,
                amount,
            },
        });
    }
    Ok(())
}

fn contract_line(
    epoch: u32,
    contract: &CommittedContract,
    delivered: u128,
    amount: BaseUnits,
    reason: Reason,
    price: Option<PriceUse>,
) -> LineItem {
    LineItem {
        epoch,
        pool: PoolKind::Committed,
        bucket: Bucket::Contract(contract.id.clone()),
        provider: Some(contract.provider.clone()),
        basis: Basis::DeliveredGpuMs(delivered),
        amount,
        reason,
        // The contract's schedule, on paid and forfeited pay alike: an auditor sees what the
        // forfeited amount would have vested on. Vesting entries come only from allocated lines.
        vesting: Some(contract.vesting.clone()),
        price,
        clawback_of: None,
    }
}
