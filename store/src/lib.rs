//! The one database of akash-incentives.
//!
//! Every part of the system (indexer, uptime prober, settlement, reports) reads and writes the same
//! store, so that an auditor can trace each paid amount back to the rows it came from. Two backends
//! carry exactly the same tables and queries:
//!
//! * **SQLite** (bundled, the embedded default): a single file, created on first use, opened in WAL
//!   mode with foreign keys enforced. Nothing has to be installed.
//! * **PostgreSQL** for production, chosen by a `postgres://` URL.
//!
//! Migrations live in `migrations/` at the workspace root, one folder per migration whose SQL runs
//! unchanged on both backends, and are embedded in the binary. Money and chain decimals are stored
//! as exact text, never as floating point: diesel's SQLite `Numeric` mapping goes through `f64`.
//! The amount types themselves are `domain`'s ([`domain::BaseUnits`], [`domain::ChainDecimal`]).

mod amounts;
pub mod chain;
mod connection;
pub mod cursor;
mod database_url;
mod error;
pub mod leader;
pub mod probe_rejections;
pub mod probe_signatures;
pub mod probes;
pub mod schema;
pub mod settlement;
mod status;
#[cfg(feature = "testing")]
pub mod testing;

pub use connection::{AnyConnection, Backend, MultiBackend, Store};
pub use database_url::DatabaseUrl;
pub use error::StoreError;
pub use status::{MigrationState, StoreStatus, TableCount};
