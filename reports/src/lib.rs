//! Audit outputs: what the community downloads to check our numbers. Every file the system
//! publishes is written by this crate, so its format and the way it reaches the disk are decided
//! in one place.
//!
//! * [`allocations`]: an epoch's line items as CSV (`rewards compute`).
//! * [`atomic`]: how every file is published: through a temporary file in the same folder,
//!   synced, then renamed over the target, so no reader ever sees half a file.
//! * [`exports`]: CSV exports of the indexed chain (`export leases`, `export providers`), with
//!   stable column names and a stable row order so two exports of the same database are
//!   byte-identical and can be diffed.
//! * [`inputs`]: one epoch's measured inputs as CSV (`rewards compute --inputs`, and the
//!   published `inputs` table), read and written here so the format has one definition.
//! * [`merkle`]: the Merkle tree of cumulative vested amounts, its root and per-provider proofs,
//!   specified exactly so that anyone can re-implement it.
//! * [`positions`]: the providers' positions as CSV (`settle positions`).

pub mod allocations;
pub mod atomic;
pub mod exports;
pub mod inputs;
pub mod merkle;
pub mod positions;
