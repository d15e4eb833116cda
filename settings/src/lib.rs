//! Loads and validates the configuration of one incentive programme.
//!
//! One TOML file describes everything a run needs: the chain to index, the database, the prober,
//! the metrics endpoint, and the programme itself (epochs, pools, budgets, contracts, grants and
//! vesting schedules). Loading refuses anything doubtful — unknown keys, floats where exact
//! decimals are needed, shares that do not sum to 1, references to undefined schedules, contracts
//! the pool cannot afford — and every refusal names the file, the line and the problem, because
//! the person fixing it is an administrator with an editor, not a developer with a debugger.
//!
//! The programme part is built into [`rewards::programme::Programme`] and checked with its own
//! validation, so the config loader and the rewards engine cannot disagree about what is valid.
//! The file format is documented by `config/example.toml`.
//!
//! Each epoch's audit bundle publishes the programme part ([`published_programme`]), and an
//! auditor loads it back with [`parse_published`] through the same builder and validation.

mod environment;
mod error;
mod load;
mod locate;
mod published;
mod raw;
mod sections;
mod values;

pub use environment::{Environment, DATABASE_URL_VAR, FALLBACK_DATABASE_URL_VAR, RPC_URLS_VAR};
pub use error::{ConfigError, Problem};
pub use load::{load, parse, Config, DEFAULT_DATABASE_URL};
pub use locate::{KeyPath, Segment};
pub use published::{parse_published, published_programme, PublishedProgramme};
pub use sections::{
    ChainSettings, MetricsSettings, PayoutSettings, ProberSettings, ReportSettings, ServeSettings,
    SettleSettings, Vantage,
};
