//! The configuration file exactly as written: serde structs that refuse unknown keys.
//!
//! These mirror the TOML layout one to one. Checking what the values mean, filling defaults and
//! building the typed configuration happens in `load`; keeping the two apart lets every semantic
//! error carry the key path of the value it is about.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

use domain::{BaseUnits, UnixMs};

use crate::values::{DurationText, ExactDecimal};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub chain: RawChain,
    #[serde(default)]
    pub database: RawDatabase,
    #[serde(default)]
    pub prober: RawProber,
    #[serde(default)]
    pub metrics: RawMetrics,
    #[serde(default)]
    pub payouts: RawPayouts,
    #[serde(default)]
    pub serve: RawServe,
    #[serde(default)]
    pub settle: RawSettle,
    #[serde(default)]
    pub reports: RawReports,
    pub program: RawProgram,
    pub prices: Option<RawPrices>,
    #[serde(default)]
    pub classes: Vec<RawClass>,
    #[serde(default)]
    pub vesting: BTreeMap<String, RawVesting>,
    #[serde(default)]
    pub pools: RawPools,
}

/// A published programme (`programme.toml` of an audit bundle): the programme sections with just
/// the chain id and the staleness limit, and no way to name a file or an operational setting.
///
/// The programme fields repeat [`RawConfig`]'s because serde cannot refuse unknown keys across a
/// flattened struct; [`RawProgrammeParts`] is where the two meet.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublished {
    pub chain: RawPublishedChain,
    pub prober: RawPublishedProber,
    pub program: RawProgram,
    #[serde(default, deserialize_with = "published_prices")]
    pub prices: Option<RawPrices>,
    #[serde(default)]
    pub classes: Vec<RawClass>,
    #[serde(default)]
    pub vesting: BTreeMap<String, RawVesting>,
    #[serde(default)]
    pub pools: RawPools,
}

/// The sections that describe the programme, borrowed from either file shape so one builder
/// serves both.
pub struct RawProgrammeParts<'a> {
    pub program: &'a RawProgram,
    pub prices: Option<&'a RawPrices>,
    pub classes: &'a [RawClass],
    pub vesting: &'a BTreeMap<String, RawVesting>,
    pub pools: &'a RawPools,
}

impl RawConfig {
    /// The programme sections of the configuration.
    pub fn programme_parts(&self) -> RawProgrammeParts<'_> {
        RawProgrammeParts {
            program: &self.program,
            prices: self.prices.as_ref(),
            classes: &self.classes,
            vesting: &self.vesting,
            pools: &self.pools,
        }
    }
}

impl RawPublished {
    /// The programme sections of the published file.
    pub fn programme_parts(&self) -> RawProgrammeParts<'_> {
        RawProgrammeParts {
            program: &self.program,
            prices: self.prices.as_ref(),
            classes: &self.classes,
            vesting: &self.vesting,
            pools: &self.pools,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChain {
    pub chain_id: String,
    pub rpc_urls: Vec<String>,
    pub start_height: u64,
    pub cometbft_038_height: Option<u64>,
    #[serde(default)]
    pub watched_wallets: Vec<String>,
    pub fetch_concurrency: Option<usize>,
    pub batch_size: Option<usize>,
    pub request_timeout: Option<DurationText>,
}

/// The chain of a published programme: only its id, which says whose records the programme pays
/// for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublishedChain {
    pub chain_id: String,
}

/// The prober of a published programme: the staleness limit, which changes uptime and so
/// rewards (required, so no default of a later release can change a verification), and the
/// vantage points whose signatures the published observations carry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublishedProber {
    pub max_staleness: DurationText,
    #[serde(default)]
    pub vantage: Vec<RawVantage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProber {
    pub id: Option<String>,
    pub interval: Option<DurationText>,
    pub timeout: Option<DurationText>,
    pub concurrency: Option<usize>,
    pub max_gpus_per_node: Option<u32>,
    pub unverified_gpus_warn: Option<u32>,
    pub max_staleness: Option<DurationText>,
    pub key_file: Option<String>,
    #[serde(default)]
    pub vantage: Vec<RawVantage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVantage {
    pub id: String,
    pub public_key: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub listen: Option<String>,
    #[serde(default)]
    pub per_provider: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServe {
    pub ready_lag_blocks: Option<u64>,
    pub shutdown_timeout: Option<DurationText>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettle {
    #[serde(default)]
    pub auto: bool,
    pub delay: Option<DurationText>,
    pub grace: Option<DurationText>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReports {
    pub out: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayouts {
    pub wallet: Option<String>,
    pub max_msgs: Option<usize>,
    pub gas_limit: Option<u64>,
    pub fee_amount: Option<BaseUnits>,
    pub fee_denom: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProgram {
    pub name: String,
    #[serde(deserialize_with = "domain::time::rfc3339_text")]
    pub start: UnixMs,
    pub epoch_length: DurationText,
    pub epochs: u32,
    pub denom: String,
    /// How many base units make one whole token; 10^6 (uakt, uact) unless given.
    pub base_units_per_token: Option<BaseUnits>,
}

/// An amount in base units of the payout denom, or in US dollars: exactly one of the two.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMoney {
    pub base_units: Option<BaseUnits>,
    pub usd: Option<ExactDecimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrices {
    /// Where the prices come from, recorded next to every conversion.
    pub source: String,
    /// USD per whole token from a date (or RFC 3339 instant) on.
    #[serde(default)]
    pub points: Vec<RawPricePoint>,
    /// A CSV file of `date,usd_per_token` rows, relative to the configuration file.
    pub csv: Option<PathBuf>,
}

/// The prices of a published programme: always inline, so the file is self-contained.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublishedPrices {
    pub source: String,
    #[serde(default)]
    pub points: Vec<RawPricePoint>,
}

/// Reads a published `[prices]`, which cannot name a CSV file, into the configuration's form, so
/// both files' prices go through the same price-table builder.
fn published_prices<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RawPrices>, D::Error> {
    let prices = Option::<RawPublishedPrices>::deserialize(deserializer)?;
    Ok(prices.map(|p| RawPrices {
        source: p.source,
        points: p.points,
        csv: None,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPricePoint {
    pub from: String,
    pub usd: ExactDecimal,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    pub name: String,
    pub gpu_model: String,
    pub gpu_ram: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawVesting {
    Immediate,
    Delayed {
        after: DurationText,
    },
    Linear {
        cliff: DurationText,
        duration: DurationText,
    },
    Periodic {
        period: DurationText,
        count: u32,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPools {
    pub committed: Option<RawCommittedPool>,
    pub liquidity_mining: Option<RawProRataPool>,
    pub rnd: Option<RawProRataPool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommittedPool {
    pub budget: RawMoney,
    #[serde(default)]
    pub verify_capacity: bool,
    #[serde(default)]
    pub contracts: Vec<RawContract>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    pub id: String,
    pub provider: String,
    pub class: String,
    pub gpus: u64,
    pub rate: RawMoney,
    #[serde(deserialize_with = "domain::time::rfc3339_text")]
    pub start: UnixMs,
    pub term: DurationText,
    pub sla_uptime: ExactDecimal,
    pub vesting: String,
    pub max_consecutive_breaches: u32,
}

/// A pool paid pro rata: the liquidity-mining pool, or the R&D pool (which may also have grants
/// and may have no pro-rata part at all). One struct for both keeps unknown keys refused, which
/// serde cannot do across flattened parts; `load` checks which keys each pool needs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProRataPool {
    pub budget: RawMoney,
    pub classes: Option<Vec<RawClassShare>>,
    pub alpha: Option<ExactDecimal>,
    pub beta: Option<ExactDecimal>,
    pub min_uptime: Option<ExactDecimal>,
    pub max_share_per_provider: Option<ExactDecimal>,
    pub undistributed: Option<RawUndistributed>,
    pub vesting: Option<String>,
    pub eligible_models: Option<Vec<String>>,
    pub grants: Option<Vec<RawGrant>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawUndistributed {
    Carry,
    Return,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClassShare {
    pub class: String,
    pub share: ExactDecimal,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrant {
    pub id: String,
    pub provider: String,
    pub amount: RawMoney,
    pub epoch: u32,
    pub vesting: String,
}
