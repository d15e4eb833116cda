//! A sealed epoch read back from the store exactly as it was sealed: what a published report
//! holds, and what an offline `verify` must be able to re-derive from the report alone.
//!
//! Reading refuses what could not be re-derived: an epoch that is not sealed, one sealed under
//! another programme definition than the configured one, and one whose leases and observations
//! in the store no longer measure to the inputs it was sealed with (data that arrived after
//! sealing). Publishing any of these would hand auditors a report that fails to verify for
//! reasons that are not theirs to find.

use domain::Height;
use rewards::calendar::Window;
use rewards::settle::EntryClawback;
use rewards::{EpochSettlement, ProgrammeState};
use store::settlement::{allocations, heights_between, pool_ledgers, sealed_epoch_numbers};
use store::Store;

use crate::measure::{
    measure_material, read_material, read_proofs, EpochMaterial, EpochMeasurements,
};
use crate::rows::{self, int};
use crate::seal::{contiguous, history_after, programme_hash, state_after};
use crate::{MeasuredEpoch, SettlementConfig, SettlementError};

/// One sealed epoch with everything it was settled from and everything it settled.
#[derive(Debug, Clone)]
pub struct SealedRecord {
    /// Epoch index.
    pub epoch: u32,
    /// Its window.
    pub window: Window,
    /// The leases and observations it was measured from.
    pub material: EpochMaterial,
    /// The measurements it was sealed with, and their hash.
    pub measured: MeasuredEpoch,
    /// Its line items, pool ledgers, new vesting entries and clawbacks, as sealed.
    pub settlement: EpochSettlement,
    /// The engine's state after it: its open vesting entries and closed totals.
    pub state: ProgrammeState,
    /// The lowest and highest indexed heights whose block time lies in the window.
    pub heights: Option<(Height, Height)>,
}

/// What a sealed epoch's own rows hold: the measurements it was sealed with and what it settled,
/// checked against the configured programme (calendar and definition hash) but not against the
/// store's leases and observations — what a what-if re-run needs, and the first half of
/// [`read_sealed`].
pub(crate) struct SealedRows {
    /// The epoch's window.
    pub(crate) window: Window,
    /// The measurements it was sealed with, and their hash.
    pub(crate) measured: MeasuredEpoch,
    /// Its line items, pool ledgers, new vesting entries and clawbacks, as sealed.
    pub(crate) settlement: EpochSettlement,
    /// The engine's state after it: its open vesting entries and closed totals.
    pub(crate) state: ProgrammeState,
}

/// Reads the rows of sealed epoch `epoch` (see [`SealedRows`]).
pub(crate) fn read_sealed_rows(
    store: &mut Store,
    config: &SettlementConfig,
    epoch: u32,
) -> Result<SealedRows, SettlementError> {
    let name = config.name;
    let sealed = contiguous(name, &sealed_epoch_numbers(store.conn(), name)?)?;
    if epoch >= sealed {
        return Err(SettlementError::NotSealed {
            programme: name.to_owned(),
            epoch,
            sealed,
        });
    }
    let window = config.programme.calendar.window(epoch)?;
    let history = history_after(store, name, epoch)?;
    // The epoch's own entries and clawbacks come from the history; the state keeps only the
    // open entries.
    let entries = history.entries.clone();
    let (state, row) = history.into_state()?;
    let what = || format!("epoch {epoch} of programme {name:?}");
    if (row.start_ms, row.end_ms) != (window.start_ms().0, window.end_ms().0) {
        return Err(SettlementError::corrupt(
            what(),
            "its sealed window is not the configured calendar's",
        ));
    }
    let configured = programme_hash(config.programme)?;
    if row.programme_hash.as_deref() != Some(configured.as_str()) {
        return Err(SettlementError::ProgrammeChanged {
            epoch,
            sealed: row.programme_hash.unwrap_or_default(),
            configured,
        });
    }
    let (Some(inputs), Some(inputs_hash)) = (row.inputs, row.inputs_hash) else {
        return Err(SettlementError::corrupt(
            what(),
            "inputs or their hash missing",
        ));
    };
    let measurements: EpochMeasurements =
        serde_json::from_str(&inputs).map_err(|e| SettlementError::corrupt(what(), e))?;
    let measured = MeasuredEpoch::from_measurements(measurements)?;
    if measured.inputs_hash != inputs_hash {
        return Err(SettlementError::corrupt(
            what(),
            "the stored inputs do not hash to the stored inputs hash",
        ));
    }
    let number = int(epoch, "epoch")?;
    let line_items = allocations(store.conn(), name, number)?
        .iter()
        .map(rows::line_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let mut ledgers = pool_ledgers(store.conn(), name, number)?
        .iter()
        .map(rows::ledger_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    ledgers.sort_by_key(|l| l.pool);
    let new_vesting = entries
        .iter()
        .filter(|entry| entry.epoch == epoch)
        .cloned()
        .collect();
    // Each clawback carries its entry as it stood before the clawback.
    let clawbacks = entries
        .into_iter()
        .filter_map(|mut entry| {
            let record = entry.clawback.take().filter(|c| c.epoch == epoch)?;
            Some(EntryClawback { entry, record })
        })
        .collect();
    Ok(SealedRows {
        window,
        measured,
        settlement: EpochSettlement {
            epoch,
            window,
            line_items,
            ledgers,
            new_vesting,
            clawbacks,
            contracts: state.contracts.clone(),
        },
        state,
    })
}

/// Reads sealed epoch `epoch` of the configured programme back from the store (see the module
/// docs for what is refused).
pub fn read_sealed(
    store: &mut Store,
    config: &SettlementConfig,
    epoch: u32,
) -> Result<SealedRecord, SettlementError> {
    let SealedRows {
        window,
        measured,
        settlement,
        state,
    } = read_sealed_rows(store, config, epoch)?;
    let mut material = read_material(store, config.programme, epoch, config.max_staleness_ms)?;
    let now = measure_material(config.programme, epoch, config.max_staleness_ms, &material)?;
    if now.inputs_hash != measured.inputs_hash {
        return Err(SettlementError::LateData {
            epoch,
            sealed: measured.inputs_hash,
            now: now.inputs_hash,
        });
    }
    material.proofs = read_proofs(store, &material.observations)?;
    let heights = heights_between(store.conn(), window.start_ms().0, window.end_ms().0)?
        .map(|(low, high)| -> Result<_, SettlementError> {
            let height = |h: i64| {
                Height::from_stored(h).map_err(|e| SettlementError::corrupt("block height", e))
            };
            Ok((height(low)?, height(high)?))
        })
        .transpose()?;
    Ok(SealedRecord {
        epoch,
        window,
        material,
        measured,
        settlement,
        state,
        heights,
    })
}

/// The last sealed epoch of programme `config.name` whose window ended at or before `at_ms`,
/// its window and the engine's state after it (its open vesting entries and closed totals), or
/// `None` when no sealed epoch had ended by then.
///
/// Unlike [`read_sealed`] this does not re-measure the epoch: a payout commits to what was
/// sealed (its Merkle root), and late data, which cannot change a sealed epoch, must not stop
/// the providers from being paid what it settled.
pub fn last_sealed_state(
    store: &mut Store,
    config: &SettlementConfig,
    at_ms: i64,
) -> Result<Option<(u32, Window, ProgrammeState)>, SettlementError> {
    let name = config.name;
    let sealed = contiguous(name, &sealed_epoch_numbers(store.conn(), name)?)?;
    let mut last = None;
    for epoch in 0..sealed {
        let window = config.programme.calendar.window(epoch)?;
        if window.end_ms().0 > at_ms {
            break;
        }
        last = Some((epoch, window));
    }
    let Some((epoch, window)) = last else {
        return Ok(None);
    };
    let (state, _) = state_after(store, name, epoch)?;
    Ok(Some((epoch, window, state)))
}
