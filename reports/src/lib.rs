//! Audit outputs: what the community downloads to check our numbers. Every file the system
//! publishes is written by this crate, so its format and the way it reaches the disk are decided
//! in one place, and `verify` reads them back here.
//!
//! * [`table`]: the published tables as polars frames, written as CSV and Parquet with the same
//!   columns and rows, read back strictly from both.
//! * [`allocations`]: an epoch's line items (`allocations`, and `rewards compute`'s output).
//! * [`inputs`]: one epoch's measured inputs (`rewards compute --inputs`, and the published
//!   `inputs` table), read and written here so the format has one definition.
//! * [`material`]: what an epoch was measured from: its `leases` and `observations`.
//! * [`books`]: the pool `ledger` and the `vesting` events.
//! * [`merkle`]: the Merkle tree of cumulative vested amounts, its root and per-provider proofs,
//!   specified exactly so that anyone can re-implement it.
//! * [`bundle`]: an epoch's audit folder (the tables, `state.json`, `programme.toml`, and a
//!   hash-chained `manifest.json`), made deterministically and published atomically.
//! * [`verify`]: re-derives published epochs from their files alone.
//! * [`page`]: `report.html`, the programme's epochs as one self-contained page with charts,
//!   made from the published folders alone and kept outside them.
//! * [`atomic`]: how every single file is published: through a temporary file in the same
//!   folder, synced, then renamed over the target, so no reader ever sees half a file.
//! * [`exports`]: CSV exports of the indexed chain (`export leases`, `export providers`), with
//!   stable column names and a stable row order so two exports of the same database are
//!   byte-identical and can be diffed.
//! * [`positions`]: the providers' positions as CSV (`settle positions`).
//! * [`statement`]: one provider's statement per epoch and bucket (`statement`).
//! * [`utilization`]: the quarterly utilization and lease revenue report.
//! * [`fixed`]: exact ratios and chain decimals as fixed-decimal text.

pub mod allocations;
pub mod atomic;
pub mod books;
pub mod bundle;
pub mod exports;
pub mod fixed;
pub mod inputs;
pub mod material;
pub mod merkle;
pub mod page;
pub mod positions;
pub mod statement;
pub mod table;
pub mod utilization;
pub mod verify;
