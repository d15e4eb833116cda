//! The operational sections of a configuration file: chain, database, prober, metrics and
//! payouts.
//!
//! These are the validated, typed values the indexer, prober and CLI work with. Durations are
//! `std::time::Duration`; URLs have been checked for a scheme and host.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use domain::BaseUnits;

/// Where the chain is and where indexing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSettings {
    /// The chain id the RPC nodes must report (`akashnet-2` on mainnet).
    pub chain_id: String,
    /// One or more CometBFT RPC endpoints; several are used together and rotated on faults.
    pub rpc_urls: Vec<String>,
    /// The first height to index when the store has no cursor yet.
    pub start_height: u64,
    /// The height from which blocks use CometBFT 0.38 JSON (`finalize_block_events`); mainnet's
    /// v1.0.0 upgrade height, 23,939,793, unless the file says otherwise.
    pub cometbft_038_height: u64,
    /// Wallets whose bank transfers (to or from) are recorded: the programme wallet(s).
    pub watched_wallets: Vec<String>,
    /// How many blocks are fetched at once across all endpoints.
    pub fetch_concurrency: usize,
    /// How many blocks are applied and committed in one database transaction.
    pub batch_size: usize,
    /// Timeout of one RPC request.
    pub request_timeout: Duration,
}

/// How the uptime prober checks providers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProberSettings {
    /// This prober's id, recorded with each observation so vantage points can be merged.
    pub prober_id: String,
    /// How often each provider is probed.
    pub interval: Duration,
    /// Timeout of every step of a probe (version, status).
    pub timeout: Duration,
    /// How many providers are probed at once.
    pub concurrency: usize,
    /// The largest GPU count a node may report before it is clamped.
    pub max_gpus_per_node: u32,
    /// `settle` names a provider whose reported online GPUs in a class exceed its leased peak
    /// by more than this for most of the epoch: inventory is self-reported, leases are on chain.
    pub unverified_gpus_warn: u32,
    /// How long an observation stands before the provider's state becomes unknown.
    pub max_staleness: Duration,
    /// This prober's private key (`probe keygen`), relative to the configuration file's folder:
    /// with it every observation it records is
    /// signed; without it they are stored unsigned, and no other database imports them without
    /// `--allow-unsigned`.
    pub key_file: Option<PathBuf>,
    /// The programme's vantage points (`[[prober.vantage]]`): whose signed observations an
    /// import accepts, and which key each must be signed with.
    pub vantages: Vec<Vantage>,
}

/// One vantage point the programme trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vantage {
    /// The prober id its observations carry.
    pub id: String,
    /// Its public key, `ed25519:<base64 of 32 bytes>` (checked by the prober when it is used).
    pub public_key: String,
}

/// Where Prometheus scrapes the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// The listen address of the `/metrics` endpoint.
    pub listen: SocketAddr,
    /// Whether settlement exports series with one value per provider (uptime, amount earned):
    /// off by default, since every provider adds a series to every scrape.
    pub per_provider: bool,
}

/// How the `serve` daemon runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeSettings {
    /// `/readyz` answers ready only while the indexed height is at most this many blocks behind
    /// the chain head: a load balancer or an orchestrator then sends work to a caught-up
    /// process only.
    pub ready_lag_blocks: u64,
    /// How long a stop (SIGINT, SIGTERM) may take: the tasks finish what they hold and store
    /// it within this time, or the process exits non-zero saying which task did not.
    pub shutdown_timeout: Duration,
}

/// When `serve` settles epochs by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettleSettings {
    /// Whether `serve` seals each epoch once its data is complete (off by default: sealing
    /// is final, so an administrator opts in).
    pub auto: bool,
    /// How long after an epoch ends `serve` waits before sealing it, besides waiting for the
    /// indexer to pass its end: time for the last probe round and for other vantage points'
    /// observations to be imported.
    pub delay: Duration,
    /// How long an ended epoch may stay unsealed before the `SettlementOverdue` alert fires;
    /// exported as a metric so the alert rule needs no copy of it.
    pub grace: Duration,
}

/// Where `serve` publishes audit bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSettings {
    /// The folder bundles go to (`<out>/<programme>/epoch-<K>/`), relative to the
    /// configuration file's folder; `None`: `serve` publishes nothing.
    pub out: Option<PathBuf>,
}

/// How `payouts plan` builds the transactions the administrator signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutSettings {
    /// The wallet payouts are sent from: `payouts.wallet`, or the first of
    /// `chain.watched_wallets`; `None` when neither names one. It is always a watched wallet,
    /// so the indexer records what it sends and `reconcile` can compare it.
    pub wallet: Option<String>,
    /// The most outputs one transaction carries; larger plans are split. Bounded so a
    /// transaction stays within a block's gas and a signer's patience.
    pub max_msgs: usize,
    /// Gas limit written into each unsigned transaction.
    pub gas_limit: u64,
    /// Fee written into each unsigned transaction, in base units of `fee_denom`.
    pub fee_amount: BaseUnits,
    /// Denom of the fee (`uakt`: Akash takes fees in AKT).
    pub fee_denom: String,
}
