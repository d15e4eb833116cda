//! Audit outputs: what the community downloads to check our numbers.
//!
//! * [`exports`]: CSV exports of the indexed chain (`export leases`, `export providers`), with
//!   stable column names and a stable row order so two exports of the same database are
//!   byte-identical and can be diffed.

pub mod exports;
