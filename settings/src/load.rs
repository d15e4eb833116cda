//! From TOML text to a validated [`Config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::BaseUnits;
use rewards::calendar::EpochCalendar;
use rewards::money::{Denomination, Money, PricePoint, PriceTable};
use rewards::programme::{
    ClassShare, CommittedContract, CommittedPool, GpuClass, Grant, LiquidityMiningPool,
    ProRataRules, Programme, RndPool, Undistributed, NEXT_GENERATION_MODELS,
};
use rewards::vesting::Vesting;
use serde::de::DeserializeOwned;

use crate::error::{ConfigError, Problem};
use crate::locate::{KeyPath, LineLocator};
use crate::raw::{
    RawChain, RawConfig, RawContract, RawMetrics, RawMoney, RawPayouts, RawPrices, RawProRataPool,
    RawProber, RawProgrammeParts, RawServe, RawSettle, RawUndistributed, RawVantage, RawVesting,
};
use crate::sections::{
    ChainSettings, MetricsSettings, PayoutSettings, ProberSettings, ReportSettings, ServeSettings,
    SettleSettings, Vantage,
};
use crate::Environment;

/// The SQLite file used when neither the file nor the environment names a database.
pub const DEFAULT_DATABASE_URL: &str = "data/akash-incentives.sqlite";
/// Mainnet height of the v1.0.0 upgrade, from which blocks use CometBFT 0.38 JSON.
const MAINNET_COMETBFT_038_HEIGHT: u64 = 23_939_793;
/// Base units per whole token for Akash's six-decimal denoms (uakt, uact).
const SIX_DECIMALS: u128 = 1_000_000;

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was loaded from.
    pub source: PathBuf,
    /// The text it was loaded from, kept so that the programme can be published as written
    /// (comments and all) in an audit bundle: see [`published_programme`](crate::published_programme).
    pub text: String,
    /// The programme's name, used as its key in the store and in reports.
    pub name: String,
    /// The database URL after environment overrides (a SQLite path or `postgres://…`).
    pub database_url: String,
    /// The chain and how to index it.
    pub chain: ChainSettings,
    /// How providers are probed.
    pub prober: ProberSettings,
    /// Where metrics are served.
    pub metrics: MetricsSettings,
    /// How payouts are planned.
    pub payouts: PayoutSettings,
    /// How the `serve` daemon runs.
    pub serve: ServeSettings,
    /// When `serve` settles by itself.
    pub settle: SettleSettings,
    /// Where `serve` publishes reports.
    pub reports: ReportSettings,
    /// The programme: epochs, pools, contracts, grants, vesting.
    pub programme: Programme,
}

/// Reads, parses and validates the configuration file at `path`.
pub fn load(path: &Path, env: &Environment) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text, env)
}

/// Parses and validates configuration `text`; `path` names it in errors and anchors relative
/// file references (the price CSV, the prober's key file).
pub fn parse(path: &Path, text: &str, env: &Environment) -> Result<Config, ConfigError> {
    let locator = LineLocator::new(text);
    let raw: RawConfig = deserialize(path, text, &locator)?;
    let mut found = Found::default();
    let chain = chain_settings(&raw.chain, env, &mut found);
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let prober = prober_settings(&raw.prober, base_dir, &mut found);
    let metrics = metrics_settings(&raw.metrics, &mut found);
    let payouts = payout_settings(&raw.payouts, &chain, &mut found);
    let serve = serve_settings(&raw.serve, &mut found);
    let settle = settle_settings(&raw.settle, &mut found);
    let reports = ReportSettings {
        out: raw.reports.out.as_ref().map(|out| base_dir.join(out)),
    };
    let database_url = env
        .database_url()
        .or_else(|| raw.database.url.clone())
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
    let programme = checked_programme(&raw.programme_parts(), base_dir, &mut found);
    found.into_result(path, &locator)?;
    Ok(Config {
        source: path.to_path_buf(),
        text: text.to_string(),
        name: raw.program.name,
        database_url,
        chain,
        prober,
        metrics,
        payouts,
        serve,
        settle,
        reports,
        programme,
    })
}

/// `text` read into the raw structs `T`, or the parser's refusal with the file and line.
pub(crate) fn deserialize<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    locator: &LineLocator,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| syntax_error(path, locator, e.span(), e.message()))
}

/// A syntax error at `span` of the text `locator` reads (line 1 when the parser gave no span).
pub(crate) fn syntax_error(
    path: &Path,
    locator: &LineLocator,
    span: Option<Range<usize>>,
    message: &str,
) -> ConfigError {
    ConfigError::Syntax {
        path: path.to_path_buf(),
        line: span.map_or(1, |span| locator.line_of_offset(span.start)),
        message: message.trim().to_string(),
    }
}

/// The programme the sections describe, checked by the rewards crate's own validation.
pub(crate) fn checked_programme(
    parts: &RawProgrammeParts,
    base_dir: &Path,
    found: &mut Found,
) -> Programme {
    let before = found.problems.len();
    let programme = programme(parts, base_dir, found);
    // Validating a programme that could not be built as written would report follow-on noise.
    if found.problems.len() == before {
        if let Err(errors) = programme.validate() {
            for error in errors {
                found.push(config_path(&error.path), error.problem.to_string());
            }
        }
    }
    programme
}

/// Problems found so far, each with the key path it is about.
#[derive(Default)]
pub(crate) struct Found {
    problems: Vec<(KeyPath, String)>,
}

impl Found {
    fn push(&mut self, key: KeyPath, message: impl Into<String>) {
        self.problems.push((key, message.into()));
    }

    /// Nothing when no problem was found; otherwise every problem, with its line, in file order.
    pub(crate) fn into_result(self, path: &Path, locator: &LineLocator) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            return Ok(());
        }
        let mut problems: Vec<Problem> = self
            .problems
            .into_iter()
            .map(|(key, message)| Problem {
                line: locator.line_of(&key),
                key,
                message,
            })
            .collect();
        problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }
}

/// The configuration file's key path for a path reported by `Programme::validate`.
///
/// The rewards crate names a few things by their role rather than by where this file format puts
/// them; everything else is spelled identically.
fn config_path(rewards_path: &str) -> KeyPath {
    let mut path = KeyPath::root();
    let mut first = true;
    for part in rewards_path.split('.') {
        let (name, indices) = part
            .split_once('[')
            .map_or((part, ""), |(n, rest)| (n, rest));
        match (first, name) {
            (true, "denom") => path = path.key("program").key("denom"),
            (true, "prices") => path = path.key("prices").key("points"),
            _ => path = path.key(name),
        }
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                path = path.index(i);
            }
        }
        first = false;
    }
    path
}

/// The chain id as written, trimmed; an empty one is a problem.
pub(crate) fn chain_id(text: &str, found: &mut Found) -> String {
    let id = text.trim();
    if id.is_empty() {
        found.push(
            KeyPath::root().key("chain").key("chain_id"),
            "the chain id must not be empty (mainnet: \"akashnet-2\")",
        );
    }
    id.to_string()
}

fn chain_settings(raw: &RawChain, env: &Environment, found: &mut Found) -> ChainSettings {
    let at = KeyPath::root().key("chain");
    let chain_id = chain_id(&raw.chain_id, found);
    let (rpc_urls, rpc_path) = match env.rpc_urls() {
        Some(urls) => (urls, at.key("rpc_urls")),
        None => (raw.rpc_urls.clone(), at.key("rpc_urls")),
    };
    if rpc_urls.is_empty() {
        found.push(rpc_path.clone(), "at least one RPC URL is needed");
    }
    for (i, url) in rpc_urls.iter().enumerate() {
        if let Err(why) = check_http_url(url) {
            found.push(
                rpc_path.index(i),
                format!("{url:?} is not a usable RPC URL: {why}"),
            );
        }
    }
    if raw.start_height == 0 {
        found.push(at.key("start_height"), "heights start at 1");
    }
    for (i, wallet) in raw.watched_wallets.iter().enumerate() {
        if !looks_like_account(wallet) {
            found.push(
                at.key("watched_wallets").index(i),
                format!("{wallet:?} is not an akash1… account address"),
            );
        }
    }
    ChainSettings {
        chain_id,
        rpc_urls,
        start_height: raw.start_height,
        cometbft_038_height: raw
            .cometbft_038_height
            .unwrap_or(MAINNET_COMETBFT_038_HEIGHT),
        watched_wallets: raw.watched_wallets.clone(),
        fetch_concurrency: bounded(
            found,
            at.key("fetch_concurrency"),
            raw.fetch_concurrency,
            16,
            1..=1024,
        ),
        batch_size: bounded(found, at.key("batch_size"), raw.batch_size, 100, 1..=10_000),
        request_timeout: positive(
            found,
            at.key("request_timeout"),
            raw.request_timeout.map_or(Duration::from_secs(30), |d| d.0),
        ),
    }
}

fn prober_settings(raw: &RawProber, base_dir: &Path, found: &mut Found) -> ProberSettings {
    let at = KeyPath::root().key("prober");
    let interval = positive(
        found,
        at.key("interval"),
        raw.interval.map_or(Duration::from_secs(15 * 60), |d| d.0),
    );
    let timeout = positive(
        found,
        at.key("timeout"),
        raw.timeout.map_or(Duration::from_secs(10), |d| d.0),
    );
    if timeout >= interval {
        found.push(
            at.key("timeout"),
            "the probe timeout must be shorter than the interval",
        );
    }
    let max_staleness = positive(
        found,
        at.key("max_staleness"),
        raw.max_staleness.map_or(interval * 2, |d| d.0),
    );
    let prober_id = raw.id.clone().unwrap_or_else(|| "local".to_string());
    if prober_id.trim().is_empty() || prober_id.chars().any(char::is_whitespace) {
        found.push(
            at.key("id"),
            "the prober id must be a non-empty word, e.g. \"eu-1\"",
        );
    }
    ProberSettings {
        prober_id,
        interval,
        timeout,
        concurrency: bounded(found, at.key("concurrency"), raw.concurrency, 64, 1..=4096),
        max_gpus_per_node: bounded(
            found,
            at.key("max_gpus_per_node"),
            raw.max_gpus_per_node,
            16,
            1..=1024,
        ),
        unverified_gpus_warn: bounded(
            found,
            at.key("unverified_gpus_warn"),
            raw.unverified_gpus_warn,
            8,
            0..=1_000_000,
        ),
        max_staleness,
        key_file: raw.key_file.as_ref().map(|file| base_dir.join(file)),
        vantages: vantages(&raw.vantage, &at, found),
    }
}

/// `[[prober.vantage]]`: ids are words, each named once; keys are `ed25519:` text (their bytes
/// are checked where they are used).
pub(crate) fn vantages(raw: &[RawVantage], at: &KeyPath, found: &mut Found) -> Vec<Vantage> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, v) in raw.iter().enumerate() {
        let here = at.key("vantage").index(i);
        if v.id.is_empty() || v.id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            found.push(
                here.key("id"),
                "a vantage point's id must be a non-empty word",
            );
        } else if !seen.insert(v.id.as_str()) {
            found.push(
                here.key("id"),
                format!("vantage point {:?} is named twice", v.id),
            );
        }
        if !v.public_key.starts_with("ed25519:") {
            found.push(
                here.key("public_key"),
                "expected ed25519:<base64>, as `probe keygen` prints it",
            );
        }
    }
    raw.iter()
        .map(|v| Vantage {
            id: v.id.clone(),
            public_key: v.public_key.clone(),
        })
        .collect()
}

fn serve_settings(raw: &RawServe, found: &mut Found) -> ServeSettings {
    let at = KeyPath::root().key("serve");
    ServeSettings {
        ready_lag_blocks: bounded(
            found,
            at.key("ready_lag_blocks"),
            raw.ready_lag_blocks,
            10,
            0..=1_000_000,
        ),
        shutdown_timeout: positive(
            found,
            at.key("shutdown_timeout"),
            raw.shutdown_timeout
                .map_or(Duration::from_secs(30), |d| d.0),
        ),
    }
}

fn settle_settings(raw: &RawSettle, found: &mut Found) -> SettleSettings {
    let at = KeyPath::root().key("settle");
    let delay = raw.delay.map_or(Duration::from_secs(15 * 60), |d| d.0);
    let grace = positive(
        found,
        at.key("grace"),
        raw.grace.map_or(Duration::from_secs(2 * 60 * 60), |d| d.0),
    );
    if delay >= grace {
        found.push(
            at.key("grace"),
            "the grace must be longer than the delay, or the overdue alert fires before `serve` \
             may settle",
        );
    }
    SettleSettings {
        auto: raw.auto,
        delay,
        grace,
    }
}

fn metrics_settings(raw: &RawMetrics, found: &mut Found) -> MetricsSettings {
    let text = raw.listen.as_deref().unwrap_or("127.0.0.1:9464");
    let listen = text.parse::<SocketAddr>().unwrap_or_else(|_| {
        found.push(
            KeyPath::root().key("metrics").key("listen"),
            format!("{text:?} is not an address:port such as \"127.0.0.1:9464\""),
        );
        SocketAddr::from(([127, 0, 0, 1], 9464))
    });
    MetricsSettings {
        listen,
        per_provider: raw.per_provider,
    }
}

/// Gas for a `MsgMultiSend` grows by roughly 20 000–30 000 per output; 100 outputs in 3 000 000
/// gas leaves headroom, and at Akash's usual minimum gas price of 0.025 uakt that is a fee of
/// 75 000 uakt.
const DEFAULT_PAYOUT_OUTPUTS: usize = 100;
const DEFAULT_PAYOUT_GAS: u64 = 3_000_000;
const DEFAULT_PAYOUT_FEE: u128 = 75_000;

fn payout_settings(raw: &RawPayouts, chain: &ChainSettings, found: &mut Found) -> PayoutSettings {
    let at = KeyPath::root().key("payouts");
    let wallet = match &raw.wallet {
        Some(wallet) => {
            if !looks_like_account(wallet) {
                found.push(
                    at.key("wallet"),
                    format!("{wallet:?} is not an akash1… account address"),
                );
            } else if !chain.watched_wallets.contains(wallet) {
                found.push(
                    at.key("wallet"),
                    format!(
                        "{wallet:?} is not one of chain.watched_wallets: the indexer would not \
                         record what it sends, so payouts from it could never be reconciled"
                    ),
                );
            }
            Some(wallet.clone())
        }
        None => chain.watched_wallets.first().cloned(),
    };
    let fee_denom = raw.fee_denom.clone().unwrap_or_else(|| "uakt".to_string());
    if !is_denom(&fee_denom) {
        found.push(
            at.key("fee_denom"),
            format!("{fee_denom:?} is not a Cosmos denom such as \"uakt\""),
        );
    }
    PayoutSettings {
        wallet,
        max_msgs: bounded(
            found,
            at.key("max_msgs"),
            raw.max_msgs,
            DEFAULT_PAYOUT_OUTPUTS,
            1..=1000,
        ),
        gas_limit: bounded(
            found,
            at.key("gas_limit"),
            raw.gas_limit,
            DEFAULT_PAYOUT_GAS,
            1..=100_000_000,
        ),
        fee_amount: raw.fee_amount.unwrap_or(BaseUnits(DEFAULT_PAYOUT_FEE)),
        fee_denom,
    }
}

/// A Cosmos SDK denom: a letter, then 2 to 127 letters, digits or `/:._-`.
fn is_denom(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && (3..=128).contains(&text.len())
        && chars.all(|c| c.is_ascii_alphanumeric() || "/:._-".contains(c))
}

/// `value` (or `default`) when inside `range`, else a problem naming the range.
fn bounded<T>(
    found: &mut Found,
    key: KeyPath,
    value: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> T
where
    T: PartialOrd + Copy + std::fmt::Display,
{
    let value = value.unwrap_or(default);
    if !range.contains(&value) {
        found.push(
            key,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        );
    }
    value
}

/// `value`, refusing a zero duration.
pub(crate) fn positive(found: &mut Found, key: KeyPath, value: Duration) -> Duration {
    if value.is_zero() {
        found.push(key, "must be longer than zero");
    }
    value
}

fn check_http_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not {:?}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(())
}

/// Whether `address` is a real `akash1…` account address (bech32 checksum included).
fn looks_like_account(address: &str) -> bool {
    domain::ProviderAddr::parse(address).is_ok()
}

fn millis(found: &mut Found, key: &KeyPath, duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or_else(|_| {
        found.push(key.clone(), "is too long a duration");
        0
    })
}

fn programme(raw: &RawProgrammeParts, base_dir: &Path, found: &mut Found) -> Programme {
    let at = KeyPath::root().key("program");
    let calendar = EpochCalendar {
        start_ms: raw.program.start,
        epoch_length_ms: millis(found, &at.key("epoch_length"), raw.program.epoch_length.0),
        epochs: raw.program.epochs,
    };
    let denom = Denomination {
        name: raw.program.denom.clone(),
        base_units_per_token: raw
            .program
            .base_units_per_token
            .map_or(SIX_DECIMALS, |u| u.0),
    };
    let prices = raw.prices.and_then(|p| price_table(p, base_dir, found));
    // A class whose name or model cannot be one is left out; its problem is recorded.
    let gpu_classes = raw
        .classes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let at = KeyPath::root().key("classes").index(i);
            let name = class_name(&c.name, &at, found);
            let gpu_model = gpu_model(&c.gpu_model, &at, found);
            Some(GpuClass {
                name: name?,
                gpu_model: gpu_model?,
                gpu_ram: c.gpu_ram.clone(),
            })
        })
        .collect();
    let vesting = raw
        .vesting
        .iter()
        .map(|(name, schedule)| {
            let key = KeyPath::root().key("vesting").key(name.clone());
            (name.clone(), vesting_schedule(schedule, &key, found))
        })
        .collect::<BTreeMap<_, _>>();
    let pools_at = KeyPath::root().key("pools");
    let committed = raw.pools.committed.as_ref().map(|pool| {
        let at = pools_at.key("committed");
        CommittedPool {
            budget: money(&pool.budget, &at.key("budget"), found),
            verify_capacity: pool.verify_capacity,
            contracts: pool
                .contracts
                .iter()
                .enumerate()
                .filter_map(|(i, c)| contract(c, &at.key("contracts").index(i), found))
                .collect(),
        }
    });
    // A pool whose rules are incomplete is left out; its problems are recorded, so the
    // configuration is refused anyway.
    let liquidity_mining = raw.pools.liquidity_mining.as_ref().and_then(|pool| {
        let at = pools_at.key("liquidity_mining");
        for (present, key) in [
            (pool.eligible_models.is_some(), "eligible_models"),
            (pool.grants.is_some(), "grants"),
        ] {
            if present {
                found.push(at.key(key), "only the R&D pool (pools.rnd) takes this key");
            }
        }
        Some(LiquidityMiningPool {
            budget: money(&pool.budget, &at.key("budget"), found),
            rules: pro_rata_rules(pool, &at, found)?,
        })
    });
    let rnd = raw.pools.rnd.as_ref().map(|pool| {
        let at = pools_at.key("rnd");
        let has_pro_rata = pool.classes.is_some()
            || pool.alpha.is_some()
            || pool.beta.is_some()
            || pool.min_uptime.is_some()
            || pool.vesting.is_some();
        RndPool {
            budget: money(&pool.budget, &at.key("budget"), found),
            eligible_models: pool.eligible_models.clone().unwrap_or_else(|| {
                NEXT_GENERATION_MODELS
                    .iter()
                    .map(|m| m.to_string())
                    .collect()
            }),
            pro_rata: if has_pro_rata {
                pro_rata_rules(pool, &at, found)
            } else {
                None
            },
            grants: pool
                .grants
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, g)| {
                    let key = at.key("grants").index(i);
                    Grant {
                        id: g.id.clone(),
                        provider: g.provider.clone(),
                        amount: money(&g.amount, &key.key("amount"), found),
                        epoch: g.epoch,
                        vesting: g.vesting.clone(),
                    }
                })
                .collect(),
        }
    });
    Programme {
        calendar,
        denom,
        prices,
        gpu_classes,
        vesting,
        liquidity_mining,
        committed,
        rnd,
    }
}

fn vesting_schedule(raw: &RawVesting, key: &KeyPath, found: &mut Found) -> Vesting {
    match raw {
        RawVesting::Immediate => Vesting::Immediate,
        RawVesting::Delayed { after } => Vesting::Delayed {
            after_ms: millis(found, &key.key("after"), after.0),
        },
        RawVesting::Linear { cliff, duration } => Vesting::Linear {
            cliff_ms: millis(found, &key.key("cliff"), cliff.0),
            duration_ms: millis(found, &key.key("duration"), duration.0),
        },
        RawVesting::Periodic { period, count } => Vesting::Periodic {
            period_ms: millis(found, &key.key("period"), period.0),
            count: *count,
        },
    }
}

fn money(raw: &RawMoney, key: &KeyPath, found: &mut Found) -> Money {
    match (raw.base_units, raw.usd) {
        (Some(units), None) => Money::BaseUnits(units),
        (None, Some(usd)) => Money::Usd(usd.0),
        _ => {
            found.push(
                key.clone(),
                "give exactly one of `usd = \"…\"` or `base_units = \"…\"`",
            );
            Money::BaseUnits(domain::BaseUnits::ZERO)
        }
    }
}

/// The contract, or `None` (with its problem recorded) when its class cannot be a class name.
fn contract(raw: &RawContract, key: &KeyPath, found: &mut Found) -> Option<CommittedContract> {
    Some(CommittedContract {
        id: raw.id.clone(),
        provider: raw.provider.clone(),
        class: class_name(&raw.class, &key.key("class"), found)?,
        gpus: raw.gpus,
        rate: money(&raw.rate, &key.key("rate"), found),
        start_ms: raw.start,
        term_ms: millis(found, &key.key("term"), raw.term.0),
        sla_uptime: raw.sla_uptime.0,
        vesting: raw.vesting.clone(),
        max_consecutive_breaches: raw.max_consecutive_breaches,
    })
}

/// `text` as a class name, or `None` with a problem at `key` (an empty name is reported as
/// before the engine took typed names: "must not be empty").
fn class_name(text: &str, key: &KeyPath, found: &mut Found) -> Option<domain::ClassName> {
    match domain::ClassName::new(text) {
        Ok(name) => Some(name),
        Err(_) if text.is_empty() => {
            found.push(key.clone(), "must not be empty");
            None
        }
        Err(e) => {
            found.push(key.clone(), e.to_string());
            None
        }
    }
}

/// `text` as a normalised GPU model, or `None` with a problem at `key`.
fn gpu_model(text: &str, key: &KeyPath, found: &mut Found) -> Option<domain::GpuModel> {
    let model = domain::GpuModel::normalise(text);
    if model.is_none() {
        let message = if text.is_empty() {
            "must not be empty".to_string()
        } else {
            format!("{text:?} is not a GPU model name")
        };
        found.push(key.clone(), message);
    }
    model
}

/// The pro-rata rules of a pool, or `None` (with a problem per missing key) when incomplete.
fn pro_rata_rules(pool: &RawProRataPool, at: &KeyPath, found: &mut Found) -> Option<ProRataRules> {
    let mut missing = |present: bool, name: &str| {
        if !present {
            found.push(at.key(name), format!("the pool needs `{name}`"));
        }
        present
    };
    let complete = [
        missing(pool.classes.is_some(), "classes"),
        missing(pool.alpha.is_some(), "alpha"),
        missing(pool.beta.is_some(), "beta"),
        missing(pool.min_uptime.is_some(), "min_uptime"),
        missing(pool.vesting.is_some(), "vesting"),
    ]
    .iter()
    .all(|&ok| ok);
    if !complete {
        return None;
    }
    Some(ProRataRules {
        classes: pool
            .classes
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, c)| {
                Some(ClassShare {
                    class: class_name(&c.class, &at.key("classes").index(i).key("class"), found)?,
                    share: c.share.0,
                })
            })
            .collect(),
        alpha: pool.alpha?.0,
        beta: pool.beta?.0,
        min_uptime: pool.min_uptime?.0,
        max_share_per_provider: pool.max_share_per_provider.map(|d| d.0),
        undistributed: match pool.undistributed {
            None | Some(RawUndistributed::Carry) => Undistributed::Carry,
            Some(RawUndistributed::Return) => Undistributed::Return,
        },
        vesting: pool.vesting.clone()?,
    })
}

fn price_table(raw: &RawPrices, base_dir: &Path, found: &mut Found) -> Option<PriceTable> {
    let at = KeyPath::root().key("prices");
    let points = match (&raw.csv, raw.points.is_empty()) {
        (Some(_), false) => {
            found.push(
                at.clone(),
                "give the prices either as `points` or as a `csv` file, not both",
            );
            return None;
        }
        (Some(csv), true) => price_csv(&base_dir.join(csv), &at.key("csv"), found)?,
        (None, _) => raw
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match instant_or_date(&p.from) {
                Some(from_ms) => Some(PricePoint {
                    from_ms,
                    usd_per_token: p.usd.0,
                }),
                None => {
                    found.push(
                        at.key("points").index(i).key("from"),
                        format!(
                            "{:?} is neither a date (2024-03-01) nor an RFC 3339 time",
                            p.from
                        ),
                    );
                    None
                }
            })
            .collect(),
    };
    Some(PriceTable {
        source: raw.source.clone(),
        points,
    })
}

/// Reads `date,usd_per_token` rows (an optional header line is skipped).
fn price_csv(path: &Path, key: &KeyPath, found: &mut Found) -> Option<Vec<PricePoint>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            found.push(key.clone(), format!("cannot read {}: {e}", path.display()));
            return None;
        }
    };
    let mut points = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (date, price) = line.split_once(',').unwrap_or((line, ""));
        let parsed = instant_or_date(date.trim())
            .zip(rust_decimal::Decimal::from_str_exact(price.trim()).ok());
        match parsed {
            Some((from_ms, usd_per_token)) => {
                if points
                    .last()
                    .is_some_and(|p: &PricePoint| p.from_ms >= from_ms)
                {
                    found.push(
                        key.clone(),
                        format!("{}:{number}: dates must increase", path.display()),
                    );
                }
                points.push(PricePoint {
                    from_ms,
                    usd_per_token,
                });
            }
            None if number == 1 => {} // a header such as `date,usd_per_token`
            None => found.push(
                key.clone(),
                format!(
                    "{}:{number}: expected `date,usd_per_token`, found {line:?}",
                    path.display()
                ),
            ),
        }
    }
    Some(points)
}

/// `YYYY-MM-DD` (00:00 UTC that day) or an RFC 3339 instant.
fn instant_or_date(text: &str) -> Option<domain::UnixMs> {
    domain::UnixMs::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::Segment;

    #[test]
    fn rewards_paths_map_onto_the_file_layout() {
        assert_eq!(config_path("denom").to_string(), "program.denom");
        assert_eq!(config_path("prices[3]").to_string(), "prices.points[3]");
        assert_eq!(
            config_path("pools.committed.contracts[2].rate").to_string(),
            "pools.committed.contracts[2].rate"
        );
        assert_eq!(
            config_path("classes[0]").segments(),
            &[Segment::Key("classes".into()), Segment::Index(0)]
        );
    }

    #[test]
    fn account_shapes() {
        assert!(looks_like_account(
            "akash1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg"
        ));
        assert!(!looks_like_account(
            "cosmos1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg"
        ));
        assert!(!looks_like_account("akash1BOGUS"));
    }
}
