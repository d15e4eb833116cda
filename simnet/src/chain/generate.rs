//! A deterministic synthetic Akash chain (era A: deployment and provider `v1beta3`, market
//! `v1beta4`, CometBFT 0.34 JSON) for scale tests and benchmarks.
//!
//! The same seed and options always give byte-identical blocks. The traffic is shaped like
//! mainnet's: most blocks are empty or hold one or two transactions; providers register early
//! and occasionally update; tenants create deployments of one or two groups asking for one GPU
//! model, several, or any; one to three providers bid; the cheapest bid becomes a lease
//! (sometimes through `MsgExec`); leases close by the tenant, the provider, the deployment's
//! close, or the chain itself (only a `lease-closed` event inside a `MsgWithdrawLease`), or stay
//! open. Bank sends, programme payouts, staking noise and failed transactions (code 11, no
//! effect) are mixed in.
//!
//! It is a load generator, not an oracle: correctness tests use the independent fixtures.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, SecondsFormat};
use indexer::decode::messages::base::{
    Attribute, Coin, Cpu, DecCoin, Gpu, Memory, PlacementRequirements, ResourceValue, Resources,
    Storage,
};
use indexer::decode::messages::cosmos::{self, Any, MsgExec, MsgMultiSend, MsgSend, MultiSendLeg};
use indexer::decode::messages::dec_to_wire;
use indexer::decode::messages::deployment::v1beta3 as deployment;
use indexer::decode::messages::market::v1beta4 as market;
use indexer::decode::messages::provider::{self as provider_msg, ProviderInfo};
use thiserror::Error;

use super::encode::{block_json, block_results_json, pseudo_hash, tx_bytes, GenEvent, GenTx};
use super::source::MemoryChain;
use axum::body::Bytes;

/// GPU models the synthetic providers and tenants use: (model, ram).
const GPU_MODELS: [(&str, &str); 7] = [
    ("a100", "80Gi"),
    ("a100", "40Gi"),
    ("h100", "80Gi"),
    ("h200", "141Gi"),
    ("t4", "16Gi"),
    ("rtx4090", "24Gi"),
    ("l40s", "48Gi"),
];

/// How many distinct tenant accounts deploy.
const TENANTS: usize = 400;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Seed: the same seed gives the same chain.
    pub seed: u64,
    /// Number of blocks.
    pub blocks: u64,
    /// Number of providers that register.
    pub providers: u32,
    /// Height of the first block (era A heights: below CometBFT 0.38's switch).
    pub first_height: u64,
    /// The chain id written in headers and `/status`.
    pub chain_id: String,
    /// Unix time of the first block.
    pub start_unix: i64,
    /// Seconds from one block to the next (Akash's blocks are about six seconds apart).
    pub block_seconds: u32,
    /// The host URIs of the first providers, in order, such as fake providers on 127.0.0.1
    /// ([`crate::providers::FakeProvider::host_uri`]); the others register
    /// `https://provider<i>.simnet.local:8443`, which resolves nowhere.
    pub host_uris: Vec<String>,
}

/// A provider the generator registers, known before any block is made ([`providers`]), so
/// that a fake provider can be started under its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticProvider {
    /// Its account address.
    pub address: String,
    /// The GPU models it first registers, as (model, memory): what its fake should report.
    pub gpus: Vec<(&'static str, &'static str)>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            blocks: 1_000,
            providers: 50,
            first_height: 14_000_000,
            chain_id: "akashnet-2".into(),
            start_unix: 1_709_251_200, // 2024-03-01T00:00:00Z
            block_seconds: 6,
            host_uris: Vec::new(),
        }
    }
}

/// Options that cannot produce a chain.
#[derive(Debug, Error)]
pub enum GenerateError {
    /// Nothing to generate, or heights that do not fit.
    #[error("invalid generator options: {0}")]
    Options(String),
    /// Writing the folder failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Counts of what was generated, to compare with what the indexer recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerationSummary {
    /// Blocks written.
    pub blocks: u64,
    /// Transactions written (failed ones included).
    pub transactions: u64,
    /// Transactions with code 11.
    pub failed_transactions: u64,
    /// Providers registered.
    pub providers: u64,
    /// Deployments created.
    pub deployments: u64,
    /// Leases created.
    pub leases_created: u64,
    /// Leases closed (any cause).
    pub leases_closed: u64,
    /// The account whose sends are programme payouts.
    pub program_wallet: String,
}

/// One generated block.
#[derive(Debug, Clone)]
pub struct GeneratedBlock {
    /// Its height.
    pub height: u64,
    /// Its hash (upper-case hex).
    pub hash: String,
    /// Its time (RFC 3339, nanoseconds).
    pub time: String,
    /// The `/block` result JSON.
    pub block: Vec<u8>,
    /// The `/block_results` result JSON.
    pub block_results: Vec<u8>,
}

/// The providers `options` generate, in registration order (one per block from the first).
///
/// # Errors
/// As [`generate_in_memory`], for options that cannot produce a chain.
pub fn providers(options: &GenerateOptions) -> Result<Vec<SyntheticProvider>, GenerateError> {
    Ok(ChainGenerator::new(options)?
        .providers
        .iter()
        .map(|p| SyntheticProvider {
            address: p.address.clone(),
            gpus: p.models.iter().map(|m| GPU_MODELS[*m]).collect(),
        })
        .collect())
}

/// Generates a chain in memory, ready for [`super::ChainSource::memory`].
pub fn generate_in_memory(
    options: &GenerateOptions,
) -> Result<(MemoryChain, GenerationSummary), GenerateError> {
    let mut generator = ChainGenerator::new(options)?;
    let capacity = usize::try_from(options.blocks).unwrap_or(0);
    let mut chain = MemoryChain {
        chain_id: options.chain_id.clone(),
        first_height: options.first_height,
        blocks: Vec::with_capacity(capacity),
        block_results: Vec::with_capacity(capacity),
        headers: Vec::with_capacity(capacity),
    };
    for block in generator.by_ref() {
        chain.blocks.push(Bytes::from(block.block));
        chain.block_results.push(Bytes::from(block.block_results));
        chain.headers.push((block.hash, block.time));
    }
    Ok((chain, generator.summary))
}

/// Generates a chain into `dir` in the fixture layout (`status.json`, `block/<h>.json`,
/// `block_results/<h>.json`), one block at a time, so any length fits.
pub fn write_folder(
    options: &GenerateOptions,
    dir: &Path,
) -> Result<GenerationSummary, GenerateError> {
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes).map_err(|source| GenerateError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    for sub in ["block", "block_results"] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(|source| GenerateError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    let mut generator = ChainGenerator::new(options)?;
    let mut first: Option<(String, String)> = None;
    let mut last: Option<(String, String)> = None;
    for block in generator.by_ref() {
        write(
            &dir.join(format!("block/{}.json", block.height)),
            &block.block,
        )?;
        write(
            &dir.join(format!("block_results/{}.json", block.height)),
            &block.block_results,
        )?;
        if first.is_none() {
            first = Some((block.hash.clone(), block.time.clone()));
        }
        last = Some((block.hash, block.time));
    }
    let (first_hash, first_time) = first.unwrap_or_default();
    let (last_hash, last_time) = last.unwrap_or_default();
    let last_height = options.first_height + options.blocks - 1;
    let status = serde_json::json!({
        "node_info": {
            "protocol_version": {"p2p": "8", "block": "11", "app": "0"},
            "id": "0000000000000000000000000000000000000000",
            "listen_addr": "tcp://127.0.0.1:26656",
            "network": options.chain_id,
            "version": "0.34.27",
            "channels": "40202122233038606100",
            "moniker": "simnet",
            "other": {"tx_index": "on", "rpc_address": "tcp://127.0.0.1:26657"}
        },
        "sync_info": {
            "latest_block_hash": last_hash,
            "latest_app_hash": "",
            "latest_block_height": last_height.to_string(),
            "latest_block_time": last_time,
            "earliest_block_hash": first_hash,
            "earliest_app_hash": "",
            "earliest_block_height": options.first_height.to_string(),
            "earliest_block_time": first_time,
            "catching_up": false
        },
        "validator_info": {"address": "", "pub_key": null, "voting_power": "10"}
    });
    write(
        &dir.join("status.json"),
        &serde_json::to_vec(&status).unwrap_or_default(),
    )?;
    Ok(generator.summary)
}

struct Provider {
    address: String,
    host_uri: String,
    models: Vec<usize>,
    active: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GroupState {
    Open,
    Leased,
    Closed,
}

struct Group {
    gseq: u32,
    gpus_per_replica: u32,
    count: u32,
    /// Indices into [`GPU_MODELS`]; empty means any model.
    accepted: Vec<usize>,
    state: GroupState,
    bids: Vec<(usize, String)>,
    lease: Option<(usize, String)>,
}

struct Deployment {
    owner: String,
    dseq: u64,
    groups: Vec<Group>,
    open: bool,
}

#[derive(Clone, Copy)]
enum CloseBy {
    Owner,
    Provider,
    Deployment,
    InsufficientFunds,
}

#[derive(Clone, Copy)]
enum Action {
    Bid {
        deployment: usize,
        group: usize,
    },
    Lease {
        deployment: usize,
        group: usize,
    },
    Close {
        deployment: usize,
        group: usize,
        by: CloseBy,
    },
}

/// Iterates over the blocks of a synthetic chain.
pub struct ChainGenerator {
    options: GenerateOptions,
    rng: fastrand::Rng,
    next_height: u64,
    previous_hash: String,
    proposer: String,
    providers: Vec<Provider>,
    tenants: Vec<String>,
    program_wallet: String,
    deployments: Vec<Deployment>,
    schedule: BTreeMap<u64, Vec<Action>>,
    sequence: u64,
    summary: GenerationSummary,
}

impl ChainGenerator {
    /// Prepares the accounts; blocks are made as the iterator is advanced.
    pub fn new(options: &GenerateOptions) -> Result<Self, GenerateError> {
        if options.blocks == 0 {
            return Err(GenerateError::Options(
                "at least one block is needed".into(),
            ));
        }
        if options.first_height == 0
            || options
                .first_height
                .checked_add(options.blocks)
                .is_none_or(|end| end > i64::MAX as u64)
        {
            return Err(GenerateError::Options(
                "heights must start at 1 and stay below 2^63".into(),
            ));
        }
        // Real bech32 accounts, so every address passes the checks real ones do.
        let account = |kind: u8, index: u64| -> String {
            let seed = options.seed.rotate_left(8) ^ (u64::from(kind) << 56) ^ index;
            let mut payload = [0u8; 20];
            payload.copy_from_slice(&super::encode::pseudo_bytes(seed, 20));
            domain::ProviderAddr::from_account_bytes(payload).to_string()
        };
        let mut rng = fastrand::Rng::with_seed(options.seed);
        let mut providers = Vec::with_capacity(options.providers as usize);
        for i in 0..u64::from(options.providers) {
            let mut models = vec![rng.usize(..GPU_MODELS.len())];
            if rng.f32() < 0.4 {
                let other = rng.usize(..GPU_MODELS.len());
                if !models.contains(&other) {
                    models.push(other);
                }
            }
            providers.push(Provider {
                address: account(1, i),
                host_uri: usize::try_from(i)
                    .ok()
                    .and_then(|i| options.host_uris.get(i).cloned())
                    .unwrap_or_else(|| format!("https://provider{i}.simnet.local:8443")),
                models,
                active: false,
            });
        }
        let tenants = (0..TENANTS as u64).map(|i| account(2, i)).collect();
        let program_wallet = account(3, 0);
        Ok(Self {
            options: options.clone(),
            rng,
            next_height: options.first_height,
            previous_hash: pseudo_hash(options.seed ^ 0xfeed),
            proposer: pseudo_hash(options.seed ^ 0xbeef)[..40].to_string(),
            providers,
            tenants,
            summary: GenerationSummary {
                program_wallet: program_wallet.clone(),
                ..GenerationSummary::default()
            },
            program_wallet,
            deployments: Vec::new(),
            schedule: BTreeMap::new(),
            sequence: 0,
        })
    }

    /// Counts of what has been generated so far.
    pub fn summary(&self) -> &GenerationSummary {
        &self.summary
    }

    fn make_block(&mut self, height: u64) -> GeneratedBlock {
        let index = height - self.options.first_height;
        let mut txs: Vec<GenTx> = Vec::new();

        // Providers register one per block at the start, then update now and then.
        if let Some(p) = usize::try_from(index)
            .ok()
            .filter(|i| *i < self.providers.len())
        {
            txs.push(self.provider_tx(p, provider_msg::v1beta3::MSG_CREATE_PROVIDER));
            self.providers[p].active = true;
            self.summary.providers += 1;
        } else if !self.providers.is_empty() && self.rng.f32() < 0.003 {
            let p = self.rng.usize(..self.providers.len());
            if self.providers[p].active {
                self.providers[p].models = vec![self.rng.usize(..GPU_MODELS.len())];
                txs.push(self.provider_tx(p, provider_msg::v1beta3::MSG_UPDATE_PROVIDER));
            }
        }

        for action in self.schedule.remove(&height).unwrap_or_default() {
            if let Some(tx) = self.perform(action, height) {
                txs.push(tx);
            }
        }

        if self.providers.iter().any(|p| p.active) && self.rng.f32() < 0.10 {
            txs.push(self.create_deployment(height));
        }
        if self.rng.f32() < 0.25 {
            txs.push(self.send_tx());
        }
        if self.rng.f32() < 0.15 {
            txs.push(self.staking_noise());
        }
        if self.rng.f32() < 0.01 {
            txs.push(self.multi_send_tx());
        }
        if index % 1_500 == 750 && !self.providers.is_empty() {
            txs.push(self.payout_tx());
        }
        if self.rng.f32() < 0.03 {
            txs.push(self.failed_tx());
        }

        self.summary.blocks += 1;
        self.summary.transactions += txs.len() as u64;
        self.summary.failed_transactions += txs.iter().filter(|t| t.code != 0).count() as u64;

        let time = self.block_time(index);
        let hash = pseudo_hash(self.options.seed ^ height.rotate_left(17));
        let raw: Vec<Vec<u8>> = txs
            .iter()
            .map(|tx| {
                self.sequence += 1;
                tx_bytes(tx, self.sequence)
            })
            .collect();
        let block = block_json(
            &self.options.chain_id,
            height,
            &time,
            &hash,
            &self.previous_hash,
            &self.proposer,
            &raw,
        );
        let begin = [
            GenEvent::new("coin_spent")
                .attr("spender", self.tenants[0].clone())
                .attr("amount", "7412uakt"),
            GenEvent::new("mint")
                .attr("bonded_ratio", "0.4")
                .attr("inflation", "0.13")
                .attr("amount", "7412"),
        ];
        let results = block_results_json(height, &txs, &begin);
        self.previous_hash = hash.clone();
        GeneratedBlock {
            height,
            hash,
            time,
            block: serde_json::to_vec(&block).unwrap_or_default(),
            block_results: serde_json::to_vec(&results).unwrap_or_default(),
        }
    }

    fn block_time(&mut self, index: u64) -> String {
        let step = index.saturating_mul(u64::from(self.options.block_seconds));
        let secs = self.options.start_unix + i64::try_from(step).unwrap_or(0);
        let nanos = self.rng.u32(..1_000_000_000);
        DateTime::from_timestamp(secs, nanos)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Nanos, true))
            .unwrap_or_default()
    }

    fn provider_tx(&mut self, p: usize, type_url: &'static str) -> GenTx {
        let provider = &self.providers[p];
        let mut attributes: Vec<Attribute> = provider
            .models
            .iter()
            .map(|m| Attribute {
                key: format!(
                    "capabilities/gpu/vendor/nvidia/model/{}/ram/{}",
                    GPU_MODELS[*m].0, GPU_MODELS[*m].1
                ),
                value: "true".into(),
            })
            .collect();
        attributes.push(Attribute {
            key: "host".into(),
            value: "akash".into(),
        });
        attributes.push(Attribute {
            key: "region".into(),
            value: ["us-west", "us-east", "eu-central", "ap-south"][p % 4].into(),
        });
        let message = provider_msg::MsgProvider {
            owner: provider.address.clone(),
            host_uri: provider.host_uri.clone(),
            attributes,
            info: Some(ProviderInfo {
                email: format!("ops@provider{p}.simnet.local"),
                website: String::new(),
            }),
        };
        let action = if type_url == provider_msg::v1beta3::MSG_CREATE_PROVIDER {
            "provider-created"
        } else {
            "provider-updated"
        };
        GenTx {
            messages: vec![Any::pack(type_url, &message)],
            code: 0,
            events: vec![
                message_event(type_url, &provider.address, "provider"),
                GenEvent::new("akash.v1")
                    .attr("module", "provider")
                    .attr("action", action)
                    .attr("owner", provider.address.clone()),
            ],
        }
    }

    fn create_deployment(&mut self, height: u64) -> GenTx {
        let owner = self.tenants[self.rng.usize(..self.tenants.len())].clone();
        let group_count = if self.rng.f32() < 0.8 { 1 } else { 2 };
        let mut groups = Vec::new();
        let mut specs = Vec::new();
        for gseq in 1..=group_count {
            let draw = self.rng.f32();
            let accepted: Vec<usize> = if draw < 0.7 {
                vec![self.rng.usize(..GPU_MODELS.len())]
            } else if draw < 0.9 {
                let a = self.rng.usize(..GPU_MODELS.len());
                let b = (a + 1 + self.rng.usize(..GPU_MODELS.len() - 1)) % GPU_MODELS.len();
                vec![a, b]
            } else {
                Vec::new()
            };
            let gpus_per_replica = [1, 1, 1, 2, 2, 4, 8][self.rng.usize(..7)];
            let count = if self.rng.f32() < 0.85 { 1 } else { 2 };
            let gpu_attributes: Vec<Attribute> = if accepted.is_empty() {
                vec![gpu_attribute("vendor/nvidia/model/*".into())]
            } else {
                accepted
                    .iter()
                    .map(|m| {
                        gpu_attribute(format!(
                            "vendor/nvidia/model/{}/ram/{}",
                            GPU_MODELS[*m].0, GPU_MODELS[*m].1
                        ))
                    })
                    .collect()
            };
            specs.push(deployment::GroupSpec {
                name: format!("dcloud-{gseq}"),
                requirements: Some(PlacementRequirements {
                    signed_by: None,
                    attributes: vec![Attribute {
                        key: "host".into(),
                        value: "akash".into(),
                    }],
                }),
                resources: vec![deployment::ResourceUnit {
                    resource: Some(resources(1, gpus_per_replica, gpu_attributes)),
                    count,
                    price: Some(DecCoin {
                        denom: "uakt".into(),
                        amount: dec_to_wire("10000").unwrap_or_default(),
                    }),
                }],
            });
            groups.push(Group {
                gseq,
                gpus_per_replica,
                count,
                accepted,
                state: GroupState::Open,
                bids: Vec::new(),
                lease: None,
            });
        }
        let index = self.deployments.len();
        let dseq = height;
        for group in 0..groups.len() {
            let bid_at = height + 1 + self.rng.u64(..2);
            self.schedule.entry(bid_at).or_default().push(Action::Bid {
                deployment: index,
                group,
            });
        }
        let message = deployment::MsgCreateDeployment {
            id: Some(deployment::DeploymentId {
                owner: owner.clone(),
                dseq,
            }),
            groups: specs,
            version: super::encode::pseudo_bytes(dseq, 32),
            deposit: Some(Coin {
                denom: "uakt".into(),
                amount: "5000000".into(),
            }),
            depositor: owner.clone(),
        };
        self.deployments.push(Deployment {
            owner: owner.clone(),
            dseq,
            groups,
            open: true,
        });
        self.summary.deployments += 1;
        GenTx {
            messages: vec![Any::pack(deployment::MSG_CREATE_DEPLOYMENT, &message)],
            code: 0,
            events: vec![
                message_event(deployment::MSG_CREATE_DEPLOYMENT, &owner, "deployment"),
                GenEvent::new("akash.v1")
                    .attr("module", "deployment")
                    .attr("action", "deployment-created")
                    .attr("owner", owner.clone())
                    .attr("dseq", dseq.to_string()),
            ],
        }
    }

    fn perform(&mut self, action: Action, height: u64) -> Option<GenTx> {
        match action {
            Action::Bid { deployment, group } => self.bids(deployment, group, height),
            Action::Lease { deployment, group } => self.lease(deployment, group, height),
            Action::Close {
                deployment,
                group,
                by,
            } => self.close(deployment, group, by),
        }
    }

    /// One transaction carrying a bid from each of up to three matching providers.
    fn bids(&mut self, d: usize, g: usize, height: u64) -> Option<GenTx> {
        let dep = self.deployments.get(d)?;
        let group = dep.groups.get(g)?;
        if !dep.open || group.state != GroupState::Open {
            return None;
        }
        let matching: Vec<usize> = self
            .providers
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.active
                    && (group.accepted.is_empty()
                        || p.models.iter().any(|m| group.accepted.contains(m)))
            })
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            return None;
        }
        let wanted = 1 + self.rng.usize(..3);
        let mut bidders = Vec::new();
        for _ in 0..wanted {
            let p = matching[self.rng.usize(..matching.len())];
            if !bidders.contains(&p) {
                bidders.push(p);
            }
        }
        let (owner, dseq, gseq) = (dep.owner.clone(), dep.dseq, group.gseq);
        let (gpus, count, accepted) = (group.gpus_per_replica, group.count, group.accepted.clone());
        let mut messages = Vec::new();
        let mut events = Vec::new();
        let mut bids = Vec::new();
        for p in bidders {
            let price = format!(
                "{}.{:018}",
                100 + self.rng.u32(..4_900),
                self.rng.u64(..1_000_000_000_000_000_000)
            );
            let provider = &self.providers[p];
            let model = provider
                .models
                .iter()
                .copied()
                .find(|m| accepted.is_empty() || accepted.contains(m))
                .unwrap_or(provider.models[0]);
            let offer_gpu = gpu_attribute(format!(
                "vendor/nvidia/model/{}/ram/{}",
                GPU_MODELS[model].0, GPU_MODELS[model].1
            ));
            let message = market::MsgCreateBid {
                order: Some(market::OrderId {
                    owner: owner.clone(),
                    dseq,
                    gseq,
                    oseq: 1,
                }),
                provider: provider.address.clone(),
                price: Some(DecCoin {
                    denom: "uakt".into(),
                    amount: dec_to_wire(&price).unwrap_or_default(),
                }),
                deposit: Some(Coin {
                    denom: "uakt".into(),
                    amount: "500000".into(),
                }),
                resources_offer: vec![market::ResourceOffer {
                    resources: Some(resources(1, gpus, vec![offer_gpu])),
                    count,
                }],
            };
            messages.push(Any::pack(market::MSG_CREATE_BID, &message));
            events.push(message_event(
                market::MSG_CREATE_BID,
                &provider.address,
                "market",
            ));
            events.push(
                id_event("bid-created", &owner, dseq, gseq, &provider.address)
                    .attr("price-denom", "uakt")
                    .attr("price-amount", price.clone()),
            );
            bids.push((p, price));
        }
        self.deployments[d].groups[g].bids = bids;
        let lease_at = height + 1 + self.rng.u64(..4);
        self.schedule
            .entry(lease_at)
            .or_default()
            .push(Action::Lease {
                deployment: d,
                group: g,
            });
        Some(GenTx {
            messages,
            code: 0,
            events,
        })
    }

    fn lease(&mut self, d: usize, g: usize, height: u64) -> Option<GenTx> {
        let dep = self.deployments.get(d)?;
        let group = dep.groups.get(g)?;
        if !dep.open || group.state != GroupState::Open || group.bids.is_empty() {
            return None;
        }
        let (winner, price) = group
            .bids
            .iter()
            .min_by(|a, b| {
                let key = |p: &str| (p.len(), p.to_string());
                key(&a.1).cmp(&key(&b.1))
            })?
            .clone();
        let (owner, dseq, gseq) = (dep.owner.clone(), dep.dseq, group.gseq);
        let provider = self.providers[winner].address.clone();
        let message = market::MsgCreateLease {
            id: Some(bid_id(&owner, dseq, gseq, &provider)),
        };
        let lease_any = Any::pack(market::MSG_CREATE_LEASE, &message);
        let authz = self.rng.f32() < 0.1;
        let (messages, first_event) = if authz {
            let grantee = self.tenants[self.rng.usize(..self.tenants.len())].clone();
            let exec = MsgExec {
                grantee: grantee.clone(),
                msgs: vec![lease_any],
            };
            (
                vec![Any::pack(cosmos::MSG_EXEC, &exec)],
                message_event(cosmos::MSG_EXEC, &grantee, "authz"),
            )
        } else {
            (
                vec![lease_any],
                message_event(market::MSG_CREATE_LEASE, &owner, "market"),
            )
        };
        let mut events = vec![
            first_event,
            id_event("lease-created", &owner, dseq, gseq, &provider)
                .attr("price-denom", "uakt")
                .attr("price-amount", price.clone()),
        ];
        for (p, losing_price) in &group.bids {
            if *p != winner {
                events.push(
                    id_event(
                        "bid-closed",
                        &owner,
                        dseq,
                        gseq,
                        &self.providers[*p].address,
                    )
                    .attr("price-denom", "uakt")
                    .attr("price-amount", losing_price.clone()),
                );
            }
        }
        let group = &mut self.deployments[d].groups[g];
        group.state = GroupState::Leased;
        group.lease = Some((winner, price));
        self.summary.leases_created += 1;
        if self.rng.f32() < 0.7 {
            let by = match self.rng.u32(..100) {
                0..45 => CloseBy::Owner,
                45..60 => CloseBy::Provider,
                60..85 => CloseBy::Deployment,
                _ => CloseBy::InsufficientFunds,
            };
            let close_at = height + 20 + self.rng.u64(..3_000);
            self.schedule
                .entry(close_at)
                .or_default()
                .push(Action::Close {
                    deployment: d,
                    group: g,
                    by,
                });
        }
        Some(GenTx {
            messages,
            code: 0,
            events,
        })
    }

    fn close(&mut self, d: usize, g: usize, by: CloseBy) -> Option<GenTx> {
        let dep = self.deployments.get(d)?;
        if !dep.open {
            return None;
        }
        let (owner, dseq) = (dep.owner.clone(), dep.dseq);
        if let CloseBy::Deployment = by {
            let mut events = vec![
                message_event(deployment::MSG_CLOSE_DEPLOYMENT, &owner, "deployment"),
                GenEvent::new("akash.v1")
                    .attr("module", "deployment")
                    .attr("action", "deployment-closed")
                    .attr("owner", owner.clone())
                    .attr("dseq", dseq.to_string()),
            ];
            let leases: Vec<(u32, String, String)> = dep
                .groups
                .iter()
                .filter(|group| group.state == GroupState::Leased)
                .filter_map(|group| {
                    let (p, price) = group.lease.clone()?;
                    Some((group.gseq, self.providers[p].address.clone(), price))
                })
                .collect();
            for (gseq, provider, price) in &leases {
                events.push(
                    id_event("lease-closed", &owner, dseq, *gseq, provider)
                        .attr("price-denom", "uakt")
                        .attr("price-amount", price.clone()),
                );
            }
            self.summary.leases_closed += leases.len() as u64;
            let dep = &mut self.deployments[d];
            dep.open = false;
            for group in &mut dep.groups {
                group.state = GroupState::Closed;
            }
            let message = deployment::MsgCloseDeployment {
                id: Some(deployment::DeploymentId {
                    owner: owner.clone(),
                    dseq,
                }),
            };
            return Some(GenTx {
                messages: vec![Any::pack(deployment::MSG_CLOSE_DEPLOYMENT, &message)],
                code: 0,
                events,
            });
        }
        let group = dep.groups.get(g)?;
        if group.state != GroupState::Leased {
            return None;
        }
        let (p, price) = group.lease.clone()?;
        let gseq = group.gseq;
        let provider = self.providers[p].address.clone();
        let id = bid_id(&owner, dseq, gseq, &provider);
        let closed = id_event("lease-closed", &owner, dseq, gseq, &provider)
            .attr("price-denom", "uakt")
            .attr("price-amount", price);
        let (type_url, signer, module, mut events) = match by {
            CloseBy::Owner => (market::MSG_CLOSE_LEASE, owner.clone(), "market", vec![]),
            CloseBy::Provider => (
                market::MSG_CLOSE_BID,
                provider.clone(),
                "market",
                vec![id_event("bid-closed", &owner, dseq, gseq, &provider)],
            ),
            // The chain closes the lease itself while settling the provider's withdrawal.
            _ => (
                market::MSG_WITHDRAW_LEASE,
                provider.clone(),
                "market",
                vec![],
            ),
        };
        events.insert(0, message_event(type_url, &signer, module));
        events.push(closed);
        self.deployments[d].groups[g].state = GroupState::Closed;
        self.summary.leases_closed += 1;
        Some(GenTx {
            messages: vec![Any::pack(type_url, &market::MsgBidRef { id: Some(id) })],
            code: 0,
            events,
        })
    }

    fn send_tx(&mut self) -> GenTx {
        let from = self.tenants[self.rng.usize(..self.tenants.len())].clone();
        let to = self.tenants[self.rng.usize(..self.tenants.len())].clone();
        let amount = format!("{}", 1_000 + self.rng.u64(..100_000_000));
        bank_send(&from, &to, &amount)
    }

    fn payout_tx(&mut self) -> GenTx {
        let p = self.rng.usize(..self.providers.len());
        let to = self.providers[p].address.clone();
        let amount = format!("{}", 1_000_000 * (1 + self.rng.u64(..999)));
        bank_send(&self.program_wallet.clone(), &to, &amount)
    }

    fn multi_send_tx(&mut self) -> GenTx {
        let from = self.tenants[self.rng.usize(..self.tenants.len())].clone();
        let outputs: Vec<MultiSendLeg> = (0..2)
            .map(|_| MultiSendLeg {
                address: self.tenants[self.rng.usize(..self.tenants.len())].clone(),
                coins: vec![Coin {
                    denom: "uakt".into(),
                    amount: "2500".into(),
                }],
            })
            .collect();
        let message = MsgMultiSend {
            inputs: vec![MultiSendLeg {
                address: from.clone(),
                coins: vec![Coin {
                    denom: "uakt".into(),
                    amount: "5000".into(),
                }],
            }],
            outputs,
        };
        GenTx {
            messages: vec![Any::pack(cosmos::MSG_MULTI_SEND, &message)],
            code: 0,
            events: vec![message_event(cosmos::MSG_MULTI_SEND, &from, "bank")],
        }
    }

    /// Staking traffic the indexer must ignore. `MsgDelegate` has the wire shape of `MsgSend`
    /// (two strings, then a coin), so that struct encodes it.
    fn staking_noise(&mut self) -> GenTx {
        let from = self.tenants[self.rng.usize(..self.tenants.len())].clone();
        let message = MsgSend {
            from_address: from.clone(),
            to_address: "akashvaloper1synthetic".into(),
            amount: vec![Coin {
                denom: "uakt".into(),
                amount: "1000000".into(),
            }],
        };
        let type_url = "/cosmos.staking.v1beta1.MsgDelegate";
        GenTx {
            messages: vec![Any::pack(type_url, &message)],
            code: 0,
            events: vec![message_event(type_url, &from, "staking")],
        }
    }

    /// A transaction that fails (code 11): a close of some lease, which must stay open.
    fn failed_tx(&mut self) -> GenTx {
        let owner = self.tenants[self.rng.usize(..self.tenants.len())].clone();
        let provider = self
            .providers
            .first()
            .map(|p| p.address.clone())
            .unwrap_or_else(|| owner.clone());
        let dseq = self.next_height.saturating_sub(1 + self.rng.u64(..500));
        let message = market::MsgBidRef {
            id: Some(bid_id(&owner, dseq, 1, &provider)),
        };
        GenTx {
            messages: vec![Any::pack(market::MSG_CLOSE_LEASE, &message)],
            code: 11,
            events: Vec::new(),
        }
    }
}

impl Iterator for ChainGenerator {
    type Item = GeneratedBlock;

    fn next(&mut self) -> Option<GeneratedBlock> {
        if self.next_height >= self.options.first_height + self.options.blocks {
            return None;
        }
        let height = self.next_height;
        let block = self.make_block(height);
        self.next_height += 1;
        Some(block)
    }
}

fn resources(id: u32, gpus: u32, gpu_attributes: Vec<Attribute>) -> Resources {
    Resources {
        id,
        cpu: Some(Cpu {
            units: Some(ResourceValue::from_u64(4_000)),
            attributes: Vec::new(),
        }),
        memory: Some(Memory {
            quantity: Some(ResourceValue::from_u64(16 << 30)),
            attributes: Vec::new(),
        }),
        storage: vec![Storage {
            name: "default".into(),
            quantity: Some(ResourceValue::from_u64(100 << 30)),
            attributes: Vec::new(),
        }],
        gpu: Some(Gpu {
            units: Some(ResourceValue::from_u64(u64::from(gpus))),
            attributes: gpu_attributes,
        }),
        endpoints: Vec::new(),
    }
}

fn gpu_attribute(key: String) -> Attribute {
    Attribute {
        key,
        value: "true".into(),
    }
}

fn bid_id(owner: &str, dseq: u64, gseq: u32, provider: &str) -> market::BidId {
    market::BidId {
        owner: owner.into(),
        dseq,
        gseq,
        oseq: 1,
        provider: provider.into(),
    }
}

fn message_event(type_url: &str, sender: &str, module: &'static str) -> GenEvent {
    GenEvent::new("message")
        .attr("action", type_url)
        .attr("sender", sender)
        .attr("module", module)
}

fn id_event(action: &'static str, owner: &str, dseq: u64, gseq: u32, provider: &str) -> GenEvent {
    GenEvent::new("akash.v1")
        .attr("module", "market")
        .attr("action", action)
        .attr("owner", owner)
        .attr("dseq", dseq.to_string())
        .attr("gseq", gseq.to_string())
        .attr("oseq", "1")
        .attr("provider", provider)
}

fn bank_send(from: &str, to: &str, amount: &str) -> GenTx {
    let message = MsgSend {
        from_address: from.into(),
        to_address: to.into(),
        amount: vec![Coin {
            denom: "uakt".into(),
            amount: amount.into(),
        }],
    };
    GenTx {
        messages: vec![Any::pack(cosmos::MSG_SEND, &message)],
        code: 0,
        events: vec![
            message_event(cosmos::MSG_SEND, from, "bank"),
            GenEvent::new("transfer")
                .attr("recipient", to)
                .attr("sender", from)
                .attr("amount", format!("{amount}uakt")),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> GenerateOptions {
        GenerateOptions {
            seed: 9,
            blocks: 400,
            providers: 20,
            ..GenerateOptions::default()
        }
    }

    #[test]
    fn providers_are_known_before_the_chain_and_register_the_host_uris_given() {
        use indexer::decode::chain_json::{BlockResponse, BlockResultsResponse, CometVersion};
        use indexer::decode::{decode_block, DecodeOptions, Fact};
        let options = GenerateOptions {
            host_uris: vec!["https://127.0.0.1:4001".into()],
            block_seconds: 1,
            ..small()
        };
        let known = providers(&options).unwrap();
        assert_eq!(known.len(), 20);
        assert!(known.iter().all(|p| !p.gpus.is_empty()));
        let (chain, _) = generate_in_memory(&options).unwrap();
        let mut registered = Vec::new();
        for (block, results) in chain.blocks.iter().zip(&chain.block_results).take(20) {
            let block: BlockResponse = serde_json::from_slice(block).unwrap();
            let results: BlockResultsResponse = serde_json::from_slice(results).unwrap();
            let decoded = decode_block(
                &block,
                &results,
                CometVersion::V034,
                &DecodeOptions::default(),
            );
            for fact in decoded.facts {
                if let Fact::ProviderCreated(p) = fact.fact {
                    registered.push((p.owner, p.host_uri));
                }
            }
        }
        assert_eq!(registered.len(), 20);
        assert_eq!(
            registered[0],
            (known[0].address.clone(), "https://127.0.0.1:4001".into())
        );
        assert_eq!(registered[1].0, known[1].address);
        assert_eq!(registered[1].1, "https://provider1.simnet.local:8443");
        // One second apart: the header times differ in their seconds only.
        assert_eq!(&chain.headers[0].1[..19], "2024-03-01T00:00:00");
        assert_eq!(&chain.headers[1].1[..19], "2024-03-01T00:00:01");
    }

    #[test]
    fn the_same_seed_gives_the_same_chain() {
        let (a, sa) = generate_in_memory(&small()).unwrap();
        let (b, sb) = generate_in_memory(&small()).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(a.blocks, b.blocks);
        assert_eq!(a.block_results, b.block_results);
        let (c, _) = generate_in_memory(&GenerateOptions {
            seed: 10,
            ..small()
        })
        .unwrap();
        assert_ne!(a.blocks, c.blocks, "another seed must give another chain");
    }

    #[test]
    fn the_traffic_has_the_advertised_mix() {
        let (chain, summary) = generate_in_memory(&small()).unwrap();
        assert_eq!(chain.blocks.len(), 400);
        assert_eq!(summary.providers, 20);
        assert!(summary.deployments > 10, "{summary:?}");
        assert!(summary.leases_created > 5, "{summary:?}");
        assert!(summary.leases_closed > 0, "{summary:?}");
        assert!(summary.failed_transactions > 0, "{summary:?}");
        // Mostly small blocks: the average stays around one transaction.
        let per_block = summary.transactions as f64 / summary.blocks as f64;
        assert!((0.3..3.0).contains(&per_block), "{per_block}");
    }

    #[test]
    fn blocks_parse_as_the_indexer_reads_them() {
        use indexer::decode::chain_json::{BlockResponse, BlockResultsResponse};
        let (chain, _) = generate_in_memory(&small()).unwrap();
        for (i, (block, results)) in chain.blocks.iter().zip(&chain.block_results).enumerate() {
            let block: BlockResponse = serde_json::from_slice(block).unwrap();
            let results: BlockResultsResponse = serde_json::from_slice(results).unwrap();
            assert_eq!(block.height(), chain.first_height + i as u64);
            assert_eq!(results.height.0, block.height());
            assert_eq!(results.txs_results.items().len(), block.txs().len());
        }
    }

    #[test]
    fn the_indexer_decodes_every_synthetic_block_without_rejection() {
        use indexer::decode::chain_json::{BlockResponse, BlockResultsResponse, CometVersion};
        use indexer::decode::{decode_block, DecodeOptions, Fact};
        let (chain, summary) = generate_in_memory(&GenerateOptions {
            blocks: 1_000,
            ..small()
        })
        .unwrap();
        let options = DecodeOptions::watching([summary.program_wallet.clone()]);
        let (mut leases, mut failed, mut payouts) = (0, 0, 0);
        for (block, results) in chain.blocks.iter().zip(&chain.block_results) {
            let block: BlockResponse = serde_json::from_slice(block).unwrap();
            let results: BlockResultsResponse = serde_json::from_slice(results).unwrap();
            let decoded = decode_block(&block, &results, CometVersion::V034, &options);
            assert!(
                decoded.rejections.is_empty(),
                "height {}: {:?}",
                decoded.height,
                decoded.rejections
            );
            assert!(decoded.unknown_messages.is_empty());
            failed += decoded.failed_tx_count;
            for fact in &decoded.facts {
                match fact.fact {
                    Fact::LeaseCreated { .. } => leases += 1,
                    Fact::Transfer(_) => payouts += 1,
                    _ => {}
                }
            }
        }
        assert_eq!(leases, summary.leases_created);
        assert_eq!(u64::from(failed), summary.failed_transactions);
        assert!(
            payouts > 0,
            "the programme payout at block 750 must be a watched transfer"
        );
    }
}
