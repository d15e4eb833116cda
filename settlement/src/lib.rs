//! # `settlement`: from the store to sealed epochs
//!
//! The rewards engine ([`rewards`]) is pure: it settles one epoch from measured inputs and the
//! state the previous epoch left. This crate is the bridge the Pilot Program Administrator runs
//! (`akash-incentives settle`): it measures each epoch from what the indexer and the prober
//! stored, settles it with the engine, and seals the result in the store, so that every paid
//! unit can be traced back to stored rows and re-derived.
//!
//! It reads the store only (observations become the engine's input in [`observations`]); it
//! does not depend on the prober or the indexer, so what is paid follows from stored rows alone.
//!
//! | step | function |
//! |---|---|
//! | measure leases, uptime and online GPU time of one epoch, with an inputs hash | [`measure_epoch`] |
//! | the same from an epoch's leases and observations alone (what `verify` runs) | [`measure_material`] |
//! | settle and seal the next epoch | [`settle_next`] |
//! | settle one epoch, or re-check a sealed one for late data | [`settle_epoch`] |
//! | settle every epoch through `K` (dry run possible) | [`settle_through`] |
//! | a sealed epoch read back as sealed, with its material (what a report publishes) | [`sealed::read_sealed`] |
//! | earned / vested / unvested / clawed back / paid / claimable / overpaid per provider | [`positions`] |
//! | one provider's statement: the same per epoch and bucket, with reasons, payments and uptime | [`statement::statement`] |
//! | sealed epochs re-run under another policy, compared with what was sealed (writes nothing) | [`simulate::simulate`] |
//! | every sealed vesting entry (what payouts and reconciliation measure vested from) | [`vesting_entries`] |
//! | the engine state after the last sealed epoch (what a payout memo's Merkle root is of) | [`sealed::last_sealed_state`] |
//!
//! ## Guarantees
//!
//! * **In order, on complete data.** Epochs are settled strictly in order. An epoch is refused
//!   while its window has not ended at the run's `now`, and while the indexer has not indexed a
//!   block at or after its end. `now` is a parameter: the CLI reads the clock, or takes
//!   `--now`, so a recorded chain settles the same way every time.
//! * **One transaction per epoch.** The epoch row, every line item, every pool ledger, the new
//!   vesting entries and the clawbacks of earlier entries are written together or not at all.
//! * **Concurrent runs agree.** Several settle runs on one database seal each epoch exactly
//!   once: the sealing transaction checks, under the write lock (SQLite's `BEGIN IMMEDIATE`,
//!   PostgreSQL's unique key on the epoch), that the epoch is still unsealed, and a run that
//!   lost the race reports the epoch as already sealed and continues from the winner's seal.
//! * **Sealed means immutable.** Settling a sealed epoch again writes nothing; it re-measures the
//!   epoch and compares the inputs hash, and reports late data when they differ.
//! * **Continuation.** The engine's state after each epoch is stored with it as JSON (pool
//!   balances and totals, contract states); the vesting entries, which only grow, are rebuilt
//!   from their table rather than copied into every epoch.
//! * **Exact and deterministic.** Money is [`domain::BaseUnits`], stored as exact text; the same
//!   store, configuration and `now` produce byte-identical rows.
//!
//! ## Tables (see the foundation migration)
//!
//! * `epochs (programme, epoch)`: window, `state = 'sealed'`, `sealed_at_ms`, `inputs` (the
//!   canonical JSON of [`EpochMeasurements`]) and `inputs_hash` (its SHA-256),
//!   `programme_hash` (SHA-256 of the programme definition's JSON) and `carried_state`.
//! * `allocations (programme, epoch, line)`: one row per line item in the engine's order, with
//!   pool, bucket kind and name, provider, basis kind and value, amount, reason, vesting
//!   schedule and the price used. Several lines may share a pool, bucket and provider.
//! * `pool_ledgers (programme, epoch, pool)`: every ledger column, `funded` and `shortfall`
//!   included, and the price used.
//! * `vesting_entries (programme, entry)`: every entry in creation order with the line that
//!   created it, its schedule as JSON, and the clawback columns a later epoch fills in.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod measure;
pub mod metrics;
pub mod observations;
mod positions;
mod rows;
mod seal;
pub mod sealed;
pub mod simulate;
pub mod statement;

pub use error::SettlementError;
pub use measure::{
    measure_epoch, measure_material, measure_observed, read_material, EpochMaterial,
    EpochMeasurements, MeasuredEpoch,
};
pub use positions::{positions, vesting_entries};
pub use rows::pool_name;
pub use seal::{
    last_ended_epoch, next_epoch, settle_epoch, settle_next, settle_through, AlreadySealed,
    EpochOutcome, Mode, PoolSummary, SealedEpoch, SettlementConfig,
};
