//! Settling epochs in order and sealing them in the store.
//!
//! A settle run opens a [`Session`]: it reads how many epochs of the programme are sealed and
//! rebuilds the engine's [`ProgrammeState`] after the last one (the carried state stored with
//! that epoch, with every vesting entry made into its open entries and closed totals). Each
//! further epoch is then
//!
//! 1. **checked for readiness:** its window has ended at the run's `now`, and the indexer has
//!    indexed a block at or after its end ([`SettlementError::NotEnded`],
//!    [`SettlementError::NotIndexed`]);
//! 2. **measured** ([`measure_epoch`]) and **settled** by the rewards engine, which checks every
//!    ledger identity before anything is kept;
//! 3. **sealed** in one transaction: the epoch row (state, seal time, inputs and their hash,
//!    programme hash, carried state), every line item, every pool ledger, the new vesting
//!    entries and the clawbacks of earlier entries. In a dry run nothing is written and the
//!    state is carried in memory only, so several epochs can be previewed.
//!
//! A sealed epoch is never changed. Asking for it again re-measures it and compares the hash
//! with the sealed one: equal means nothing arrived late; different means data arrived after
//! sealing ([`AlreadySealed::late_data`]), which is reported loudly and changes nothing.

use domain::UnixMs;
use rewards::calendar::{DurationMs, Window};
use rewards::ledger::PoolLedger;
use rewards::programme::{PoolKind, Programme};
use rewards::vesting::VestingEntry;
use rewards::{Engine, EpochSettlement, ProgrammeState};
use store::settlement::{
    indexed_time_span, insert_allocations, insert_epoch, insert_pool_ledgers,
    insert_vesting_entries, pool_ledgers, record_clawback, record_programme, sealed_epoch,
    sealed_epoch_numbers, vesting_entries, EpochRow, PoolLedgerRow, ProgrammeBooks, SEALED,
};
use store::Store;
use tracing::{info, info_span, warn};

use crate::measure::{measure_epoch, sha256_hex, MeasuredEpoch};
use crate::rows::{self, int};
use crate::SettlementError;

/// What settlement needs from the configuration. Plain values, so the crate can be used and
/// tested without a configuration file.
#[derive(Debug, Clone, Copy)]
pub struct SettlementConfig<'a> {
    /// The programme's name: its key in the store.
    pub name: &'a str,
    /// The programme definition.
    pub programme: &'a Programme,
    /// How long an observation stands (`prober.max_staleness`), in milliseconds.
    pub max_staleness_ms: DurationMs,
    /// The wallets whose transfers are payouts (`chain.watched_wallets`): recorded with each
    /// seal, so that statements can be read from the database alone.
    pub watched_wallets: &'a [String],
}

/// Whether settled epochs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Seal each settled epoch in the store.
    Seal,
    /// Compute and report only; nothing is written.
    DryRun,
}

/// One pool's movements in an epoch, as the administrator reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSummary {
    /// The pool.
    pub pool: PoolKind,
    /// Balance at the start of the epoch, funding included.
    pub opening: u128,
    /// Money that entered the pool this epoch.
    pub funded: u128,
    /// Allocated to providers.
    pub allocated: u128,
    /// Sent back to the community pool.
    pub returned: u128,
    /// Unvested amounts taken back.
    pub clawed_back: u128,
    /// Balance at the end of the epoch.
    pub closing: u128,
}

impl From<&PoolLedger> for PoolSummary {
    fn from(l: &PoolLedger) -> Self {
        PoolSummary {
            pool: l.pool,
            opening: l.opening.0,
            funded: l.funded.0,
            allocated: l.allocated.0,
            returned: l.returned.0,
            clawed_back: l.clawed_back.0,
            closing: l.closing.0,
        }
    }
}

impl TryFrom<&PoolLedgerRow> for PoolSummary {
    type Error = SettlementError;

    fn try_from(row: &PoolLedgerRow) -> Result<Self, SettlementError> {
        let what = format!("ledger of epoch {} pool {:?}", row.epoch, row.pool);
        Ok(PoolSummary {
            pool: rows::from_code(&what, &row.pool)?,
            opening: row.opening.0,
            funded: row.funded.0,
            allocated: row.allocated.0,
            returned: row.returned.0,
            clawed_back: row.clawed_back.0,
            closing: row.closing.0,
        })
    }
}

/// An epoch settled by this run: sealed, or computed only in a dry run.
#[derive(Debug, Clone)]
pub struct SealedEpoch {
    /// Epoch index.
    pub epoch: u32,
    /// Its window.
    pub window: Window,
    /// The seal time recorded (the run's `now`).
    pub sealed_at_ms: i64,
    /// What was measured, with the inputs hash.
    pub measured: MeasuredEpoch,
    /// The engine's line items, ledgers, vesting entries and clawbacks.
    pub settlement: EpochSettlement,
    /// Whether it was written (false in a dry run).
    pub written: bool,
}

impl SealedEpoch {
    /// Per pool summary, in pool order.
    pub fn pools(&self) -> Vec<PoolSummary> {
        self.settlement
            .ledgers
            .iter()
            .map(PoolSummary::from)
            .collect()
    }
}

/// An epoch that was already sealed, re-measured now for comparison.
#[derive(Debug, Clone)]
pub struct AlreadySealed {
    /// Epoch index.
    pub epoch: u32,
    /// Its window.
    pub window: Window,
    /// When it was sealed.
    pub sealed_at_ms: i64,
    /// The inputs hash sealed with it.
    pub sealed_inputs_hash: String,
    /// The same epoch measured from the store as it is now.
    pub remeasured: MeasuredEpoch,
    /// The sealed ledgers, in pool order.
    pub pools: Vec<PoolSummary>,
}

impl AlreadySealed {
    /// Whether data arrived after sealing: the inputs measured now differ from the sealed ones.
    /// The sealed allocations stand; the difference is for the administrator to examine.
    pub fn late_data(&self) -> bool {
        self.sealed_inputs_hash != self.remeasured.inputs_hash
    }
}

/// What happened to one requested epoch.
#[derive(Debug, Clone)]
pub enum EpochOutcome {
    /// Settled by this run.
    Sealed(SealedEpoch),
    /// Sealed before; re-measured and compared.
    AlreadySealed(AlreadySealed),
}

impl EpochOutcome {
    /// The epoch index.
    pub fn epoch(&self) -> u32 {
        match self {
            EpochOutcome::Sealed(s) => s.epoch,
            EpochOutcome::AlreadySealed(a) => a.epoch,
        }
    }
}

/// How many epochs of the programme are sealed, which is also the next epoch to settle.
pub fn next_epoch(store: &mut Store, config: &SettlementConfig) -> Result<u32, SettlementError> {
    let numbers = sealed_epoch_numbers(store.conn(), config.name)?;
    contiguous(config.name, &numbers)
}

/// The last epoch whose window has ended at `now_ms`, if any: what `settle --all` settles
/// through.
pub fn last_ended_epoch(programme: &Programme, now_ms: i64) -> Option<u32> {
    let calendar = &programme.calendar;
    (0..calendar.epochs)
        .rev()
        .find(|&k| calendar.window(k).is_ok_and(|w| w.end_ms().0 <= now_ms))
}

/// Settles and seals the next epoch.
pub fn settle_next(
    store: &mut Store,
    config: &SettlementConfig,
    now_ms: i64,
) -> Result<SealedEpoch, SettlementError> {
    Session::open(store, config)?.settle_one(store, now_ms, Mode::Seal)
}

/// Settles epoch `epoch` when it is the next one; re-measures and compares it when it is
/// already sealed; refuses it when earlier epochs are still unsettled.
pub fn settle_epoch(
    store: &mut Store,
    config: &SettlementConfig,
    epoch: u32,
    now_ms: i64,
    mode: Mode,
) -> Result<EpochOutcome, SettlementError> {
    config.programme.calendar.window(epoch)?;
    let mut session = Session::open(store, config)?;
    if epoch < session.sealed {
        Ok(EpochOutcome::AlreadySealed(
            session.check_sealed(store, epoch)?,
        ))
    } else if epoch == session.sealed {
        session.settle_or_recheck(store, now_ms, mode)
    } else {
        Err(SettlementError::OutOfOrder {
            requested: epoch,
            next: session.sealed,
        })
    }
}

/// Every epoch from 0 through `through`, in order: sealed ones are re-measured and compared,
/// the others settled. Each outcome is handed to `report` as soon as it is known, so a run that
/// stops at an unready epoch has already reported (and, unless dry, sealed) the ones before.
pub fn settle_through(
    store: &mut Store,
    config: &SettlementConfig,
    through: u32,
    now_ms: i64,
    mode: Mode,
    mut report: impl FnMut(EpochOutcome),
) -> Result<(), SettlementError> {
    config.programme.calendar.window(through)?;
    let mut session = Session::open(store, config)?;
    for epoch in 0..=through {
        let outcome = if epoch < session.sealed {
            EpochOutcome::AlreadySealed(session.check_sealed(store, epoch)?)
        } else {
            session.settle_or_recheck(store, now_ms, mode)?
        };
        report(outcome);
    }
    Ok(())
}

/// Hex SHA-256 of the programme definition's JSON: what each sealed epoch records, so that a
/// later run can tell whether the definition changed.
pub(crate) fn programme_hash(programme: &Programme) -> Result<String, SettlementError> {
    Ok(sha256_hex(&serde_json::to_string(programme)?))
}

/// Checks that sealed epochs are exactly `0..n` and returns `n`.
pub(crate) fn contiguous(programme: &str, numbers: &[i32]) -> Result<u32, SettlementError> {
    for (expected, &found) in numbers.iter().enumerate() {
        if usize::try_from(found).ok() != Some(expected) {
            return Err(SettlementError::corrupt(
                format!("epochs of programme {programme:?}"),
                format!("epoch {found} is sealed but epoch {expected} is not"),
            ));
        }
    }
    u32::try_from(numbers.len())
        .map_err(|e| SettlementError::corrupt(format!("epochs of programme {programme:?}"), e))
}

/// One settle run: the engine, and the state after the last epoch settled so far.
struct Session<'c> {
    config: &'c SettlementConfig<'c>,
    engine: Engine<'c>,
    programme_hash: String,
    /// State after the last epoch settled in this session (sealed, or computed in a dry run).
    state: ProgrammeState,
    /// Epochs sealed in the store.
    sealed: u32,
}

impl<'c> Session<'c> {
    fn open(store: &mut Store, config: &'c SettlementConfig<'c>) -> Result<Self, SettlementError> {
        let engine = Engine::new(config.programme).map_err(SettlementError::InvalidProgramme)?;
        let programme_hash = programme_hash(config.programme)?;
        let sealed = next_epoch(store, config)?;
        let state = match sealed.checked_sub(1) {
            None => ProgrammeState::default(),
            Some(last) => load_state(store, config.name, last, &programme_hash)?,
        };
        Ok(Session {
            config,
            engine,
            programme_hash,
            state,
            sealed,
        })
    }

    /// Settles `state.next_epoch` (see the module docs) and, with [`Mode::Seal`], seals it.
    fn settle_one(
        &mut self,
        store: &mut Store,
        now_ms: i64,
        mode: Mode,
    ) -> Result<SealedEpoch, SettlementError> {
        let config = self.config;
        let epoch = self.state.next_epoch;
        let calendar = &config.programme.calendar;
        if epoch >= calendar.epochs {
            return Err(SettlementError::Complete {
                programme: config.name.to_owned(),
                epochs: calendar.epochs,
            });
        }
        let span = info_span!("epoch", programme = config.name, epoch);
        let _entered = span.enter();
        let window = calendar.window(epoch)?;
        if now_ms < window.end_ms().0 {
            return Err(SettlementError::NotEnded {
                epoch,
                end_ms: window.end_ms().0,
                now_ms,
            });
        }
        let coverage = indexed_time_span(store.conn())?;
        match coverage {
            Some((_, newest)) if newest >= window.end_ms().0 => {}
            _ => {
                return Err(SettlementError::NotIndexed {
                    epoch,
                    end_ms: window.end_ms().0,
                    newest_block_ms: coverage.map(|(_, newest)| newest),
                })
            }
        }
        if let Some((oldest, _)) = coverage.filter(|(oldest, _)| *oldest > window.start_ms().0) {
            warn!(
                oldest_block = %domain::UnixMs(oldest),
                "the oldest indexed block is after the epoch's start: leases created before it \
                 are unknown to the indexer and earn nothing"
            );
        }
        let measured = measure_epoch(store, config.programme, epoch, config.max_staleness_ms)?;
        let mut after = self.state.clone();
        let settlement = self
            .engine
            .settle_epoch(&mut after, &measured.inputs)
            .map_err(|source| SettlementError::Engine { epoch, source })?;
        let written = mode == Mode::Seal;
        if written {
            self.write(store, &settlement, &measured, &after, now_ms)?;
            self.sealed += 1;
        }
        info!(
            inputs_hash = %measured.inputs_hash,
            lines = settlement.line_items.len(),
            written,
            "epoch settled"
        );
        let unattributed = measured.measurements.unattributed_leased_gpu_ms();
        let unsized_leases = measured.measurements.unsized_leases();
        if unattributed > 0 || unsized_leases > 0 {
            warn!(
                unattributed_gpu_ms = %unattributed,
                unsized_leases,
                "leased GPU time that no class could take"
            );
        }
        self.state = after;
        Ok(SealedEpoch {
            epoch,
            window,
            sealed_at_ms: now_ms,
            measured,
            settlement,
            written,
        })
    }

    /// Settles the next epoch like [`Session::settle_one`]; when another settle run seals it
    /// first ([`SettlementError::SealedMeanwhile`]), reports it as already sealed and carries on
    /// from the state that run stored. Runs started together on one database thus agree: each
    /// epoch is sealed by exactly one of them, and the others report it as sealed instead of
    /// failing, because nothing is wrong — the work they were asked to do has been done.
    fn settle_or_recheck(
        &mut self,
        store: &mut Store,
        now_ms: i64,
        mode: Mode,
    ) -> Result<EpochOutcome, SettlementError> {
        let epoch = self.state.next_epoch;
        match self.settle_one(store, now_ms, mode) {
            Ok(sealed) => Ok(EpochOutcome::Sealed(sealed)),
            Err(SettlementError::SealedMeanwhile { .. }) => {
                info!(
                    programme = self.config.name,
                    epoch, "another settle run sealed this epoch first; continuing from its seal"
                );
                *self = Session::open(store, self.config)?;
                Ok(EpochOutcome::AlreadySealed(
                    self.check_sealed(store, epoch)?,
                ))
            }
            Err(other) => Err(other),
        }
    }

    /// Writes one settled epoch in a single transaction.
    fn write(
        &self,
        store: &mut Store,
        settlement: &EpochSettlement,
        measured: &MeasuredEpoch,
        after: &ProgrammeState,
        now_ms: i64,
    ) -> Result<(), SettlementError> {
        let name = self.config.name;
        let epoch = settlement.epoch;
        // The vesting lives in its own table; the state's vesting parts are rebuilt from it.
        let carried = ProgrammeState {
            next_epoch: after.next_epoch,
            pools: after.pools.clone(),
            contracts: after.contracts.clone(),
            ..ProgrammeState::default()
        };
        let epoch_row = EpochRow {
            programme: name.to_owned(),
            epoch: int(epoch, "epoch")?,
            start_ms: settlement.window.start_ms().0,
            end_ms: settlement.window.end_ms().0,
            state: SEALED.to_owned(),
            sealed_at_ms: Some(now_ms),
            inputs_hash: Some(measured.inputs_hash.clone()),
            inputs: Some(measured.canonical_json.clone()),
            programme_hash: Some(self.programme_hash.clone()),
            carried_state: Some(serde_json::to_string(&carried)?),
        };
        let allocations = rows::allocation_rows(name, settlement)?;
        let ledgers = rows::ledger_rows(name, settlement)?;
        let entries = rows::vesting_rows(name, settlement)?;
        store.transaction(|conn| {
            let sealed = contiguous(name, &sealed_epoch_numbers(conn, name)?)?;
            if sealed != epoch {
                return Err(SettlementError::SealedMeanwhile { epoch });
            }
            insert_epoch(conn, &epoch_row).map_err(|e| {
                if e.is_unique_violation() {
                    SettlementError::SealedMeanwhile { epoch }
                } else {
                    e.into()
                }
            })?;
            record_programme(
                conn,
                &ProgrammeBooks {
                    name: name.to_owned(),
                    denom: self.config.programme.denom.name.clone(),
                    watched_wallets: self.config.watched_wallets.to_vec(),
                },
            )?;
            insert_allocations(conn, &allocations)?;
            insert_pool_ledgers(conn, &ledgers)?;
            insert_vesting_entries(conn, &entries)?;
            for clawback in &settlement.clawbacks {
                let record = &clawback.record;
                let number = clawback.entry.number;
                let changed = record_clawback(
                    conn,
                    name,
                    int(number, "vesting entry number")?,
                    int(record.epoch, "epoch")?,
                    record.at_ms.0,
                    record.amount,
                )?;
                if changed != 1 {
                    return Err(SettlementError::Inconsistent {
                        epoch,
                        problem: format!(
                            "vesting entry {number} is missing or already clawed back"
                        ),
                    });
                }
            }
            Ok(())
        })
    }

    /// Re-measures sealed epoch `epoch` and compares it with what was sealed.
    fn check_sealed(
        &self,
        store: &mut Store,
        epoch: u32,
    ) -> Result<AlreadySealed, SettlementError> {
        let config = self.config;
        let span = info_span!("epoch", programme = config.name, epoch);
        let _entered = span.enter();
        let what = || format!("epoch {epoch} of programme {:?}", config.name);
        let row = sealed_epoch(store.conn(), config.name, int(epoch, "epoch")?)?
            .ok_or_else(|| SettlementError::corrupt(what(), "not found"))?;
        let window = config.programme.calendar.window(epoch)?;
        if (row.start_ms, row.end_ms) != (window.start_ms().0, window.end_ms().0) {
            return Err(SettlementError::corrupt(
                what(),
                format!(
                    "it was sealed for [{}, {}) but the configuration now puts it at [{}, {}); \
                     the programme's calendar must not change once epochs are sealed",
                    domain::UnixMs(row.start_ms),
                    domain::UnixMs(row.end_ms),
                    window.start_ms(),
                    window.end_ms()
                ),
            ));
        }
        let (Some(sealed_at_ms), Some(sealed_inputs_hash)) = (row.sealed_at_ms, row.inputs_hash)
        else {
            return Err(SettlementError::corrupt(
                what(),
                "seal time or inputs hash missing",
            ));
        };
        let remeasured = measure_epoch(store, config.programme, epoch, config.max_staleness_ms)?;
        let mut pools = pool_ledgers(store.conn(), config.name, int(epoch, "epoch")?)?
            .iter()
            .map(PoolSummary::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        pools.sort_by_key(|p| p.pool);
        let checked = AlreadySealed {
            epoch,
            window,
            sealed_at_ms,
            sealed_inputs_hash,
            remeasured,
            pools,
        };
        if checked.late_data() {
            warn!(
                sealed = %checked.sealed_inputs_hash,
                now = %checked.remeasured.inputs_hash,
                "LATE DATA: the inputs measured now differ from the sealed ones; the sealed \
                 allocations stand unchanged"
            );
        }
        Ok(checked)
    }
}

/// Sealed epoch `last` as the store holds it: its row, its carried state (without vesting) and
/// the vesting entries created up to it as they stood at its end, only the clawbacks made up to
/// it applied: the whole history, which [`SealedHistory::into_state`] makes into the engine's
/// state.
pub(crate) struct SealedHistory {
    row: EpochRow,
    carried: ProgrammeState,
    pub(crate) entries: Vec<VestingEntry>,
}

impl SealedHistory {
    /// The engine state after the epoch, with its row: the carried state with the entries
    /// made into its open entries and closed totals ([`ProgrammeState::set_vesting`]).
    pub(crate) fn into_state(self) -> Result<(ProgrammeState, EpochRow), SettlementError> {
        let SealedHistory {
            row,
            mut carried,
            entries,
        } = self;
        carried
            .set_vesting(entries, UnixMs(row.end_ms))
            .map_err(|e| {
                SettlementError::corrupt(
                    format!("epoch {} of programme {:?}", row.epoch, row.programme),
                    e,
                )
            })?;
        Ok((carried, row))
    }
}

/// Reads the [`SealedHistory`] of sealed epoch `last`.
pub(crate) fn history_after(
    store: &mut Store,
    programme: &str,
    last: u32,
) -> Result<SealedHistory, SettlementError> {
    let what = format!("epoch {last} of programme {programme:?}");
    let row = sealed_epoch(store.conn(), programme, int(last, "epoch")?)?
        .ok_or_else(|| SettlementError::corrupt(&what, "not found"))?;
    let json = row
        .carried_state
        .as_deref()
        .ok_or_else(|| SettlementError::corrupt(&what, "no carried state"))?;
    let carried: ProgrammeState =
        serde_json::from_str(json).map_err(|e| SettlementError::corrupt(&what, e))?;
    let vesting_free =
        carried.vesting.is_empty() && carried.next_entry == 0 && carried.vested_closed.is_empty();
    if carried.next_epoch != last + 1 || !vesting_free {
        return Err(SettlementError::corrupt(
            &what,
            "the carried state is not the state after this epoch",
        ));
    }
    let rows = vesting_entries(store.conn(), programme)?;
    let mut entries = Vec::with_capacity(rows.len());
    for (expected, row) in rows.iter().enumerate() {
        if usize::try_from(row.entry).ok() != Some(expected) {
            return Err(SettlementError::corrupt(
                format!("vesting entries of programme {programme:?}"),
                format!("entry {expected} is missing"),
            ));
        }
        let mut entry = rows::entry_from_row(row)?;
        if entry.epoch > last {
            break;
        }
        if entry.clawback.as_ref().is_some_and(|c| c.epoch > last) {
            entry.clawback = None;
        }
        entries.push(entry);
    }
    Ok(SealedHistory {
        row,
        carried,
        entries,
    })
}

/// The engine state after sealed epoch `last`, with the epoch's row.
pub(crate) fn state_after(
    store: &mut Store,
    programme: &str,
    last: u32,
) -> Result<(ProgrammeState, EpochRow), SettlementError> {
    history_after(store, programme, last)?.into_state()
}

/// The engine state after sealed epoch `last`, for settling the next one; warns when the
/// programme definition changed since `last` was sealed.
fn load_state(
    store: &mut Store,
    programme: &str,
    last: u32,
    programme_hash: &str,
) -> Result<ProgrammeState, SettlementError> {
    let (state, row) = state_after(store, programme, last)?;
    if row.programme_hash.as_deref() != Some(programme_hash) {
        warn!(
            epoch = last,
            "the programme definition differs from the one epoch {last} was sealed under; \
             settling continues from the sealed state with the current definition"
        );
    }
    Ok(state)
}
