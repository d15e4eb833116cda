//! Test support (feature `testing`): reading the independent fixture chains in
//! `shared/fixtures/`, and comparing what the store holds with a fixture's `truth.json`.
//!
//! Used by the decode/apply tests and by the end-to-end tests that run the real `index` command
//! against a fixture served on loopback: both index a chain, then call
//! [`compare_store_to_truth`], which lists every difference in words.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use domain::LeaseId;
use serde::Deserialize;
use store::schema::{
    bids, blocks, deployment_groups, deployments, group_resources, indexer_rejections,
    provider_attributes, providers, transfers,
};
use store::{AnyConnection, StoreError};

use crate::decode::chain_json::{BlockResponse, BlockResultsResponse, CometVersion};
use crate::decode::messages::cosmos::Any;
use crate::decode::{Attribute, DecodeOptions};
use domain::gpu::provider_gpu_models;

/// The directory holding the fixture chains: `$AKASH_FIXTURES_DIR`, or `shared/fixtures` next to
/// the workspace.
pub fn fixtures_root() -> PathBuf {
    match std::env::var_os("AKASH_FIXTURES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}

/// One fixture chain on disk.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Its folder.
    pub dir: PathBuf,
    /// What an indexer must reconstruct from it.
    pub truth: Truth,
}

impl Fixture {
    /// Loads the fixture `name` (e.g. `era-a-small`) from [`fixtures_root`].
    pub fn load(name: &str) -> Result<Self, String> {
        let dir = fixtures_root().join(name);
        let path = dir.join("truth.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let truth = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a truth file: {e}", path.display()))?;
        Ok(Self { dir, truth })
    }

    /// The `/block` and `/block_results` results stored for `height`.
    pub fn block(&self, height: u64) -> Result<(BlockResponse, BlockResultsResponse), String> {
        let read = |kind: &str| {
            let path = self.dir.join(kind).join(format!("{height}.json"));
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let block =
            serde_json::from_str(&read("block")?).map_err(|e| format!("block {height}: {e}"))?;
        let results = serde_json::from_str(&read("block_results")?)
            .map_err(|e| format!("block_results {height}: {e}"))?;
        Ok((block, results))
    }

    /// The CometBFT JSON shape of the fixture's blocks.
    pub fn comet_version(&self) -> CometVersion {
        if self.truth.cometbft == "0.38" {
            CometVersion::V038
        } else {
            CometVersion::V034
        }
    }

    /// Decode options watching the fixture's programme wallet.
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions::watching([self.truth.program_wallet.clone()])
    }
}

/// A fixture's `truth.json` (see `shared/fixtures/README.md`).
#[derive(Debug, Clone, Deserialize)]
pub struct Truth {
    /// First height of the chain.
    pub first_height: u64,
    /// Last height of the chain.
    pub last_height: u64,
    /// `0.34` or `0.38`.
    pub cometbft: String,
    /// Providers after the last height, by owner.
    pub providers: BTreeMap<String, TruthProvider>,
    /// Leases, keyed `owner/dseq/gseq/oseq/provider`.
    pub leases: BTreeMap<String, TruthLease>,
    /// Failed transactions.
    pub failed_txs: u64,
    /// Leases created through `MsgExec`.
    pub authz_wrapped: u64,
    /// `MsgSend` transfers from the programme wallet.
    pub payouts: Vec<TruthPayout>,
    /// The programme wallet.
    pub program_wallet: String,
}

/// A provider in `truth.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct TruthProvider {
    /// Gateway URI.
    pub host_uri: String,
    /// Attributes as the last create or update left them.
    pub attributes: Vec<Attribute>,
    /// GPU models advertised.
    pub gpu_models: Vec<String>,
    /// Created at.
    pub created_height: i64,
    /// Last updated at.
    #[serde(default)]
    pub updated_height: Option<i64>,
    /// Deleted at.
    pub deleted_height: Option<i64>,
}

/// A lease in `truth.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct TruthLease {
    /// The lease's id, spelled out field by field in the file.
    #[serde(flatten)]
    pub id: LeaseId,
    /// GPUs held.
    pub gpu_units: i64,
    /// GPU model, when knowable.
    pub gpu_model: Option<String>,
    /// GPU memory, when the deciding rule names it.
    pub gpu_ram: Option<String>,
    /// Price denom.
    pub price_denom: String,
    /// Price per block.
    pub price_amount: String,
    /// Created at.
    pub created_height: i64,
    /// Block time of creation.
    pub created_time: String,
    /// Closed at.
    pub closed_height: Option<i64>,
    /// Block time of the close.
    pub closed_time: Option<String>,
    /// Close cause.
    pub close_cause: Option<String>,
    /// The chain's close reason (era B).
    pub close_reason: Option<String>,
}

/// A payout in `truth.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TruthPayout {
    /// Height of the transfer.
    pub height: i64,
    /// Recipient.
    pub to: String,
    /// Amount in base units.
    pub amount: String,
    /// Denom.
    pub denom: String,
}

/// Every difference between the store and `truth`, in words; empty when they agree exactly.
pub fn compare_store_to_truth(
    conn: &mut AnyConnection,
    truth: &Truth,
) -> Result<Vec<String>, StoreError> {
    let mut differences = Vec::new();
    compare_providers(conn, truth, &mut differences)?;
    compare_leases(conn, truth, &mut differences)?;
    let failed = store::chain::failed_tx_total(conn)?;
    if u64::try_from(failed).ok() != Some(truth.failed_txs) {
        differences.push(format!(
            "failed transactions: store {failed}, truth {}",
            truth.failed_txs
        ));
    }
    let payouts: Vec<TruthPayout> = store::chain::transfers(conn)?
        .into_iter()
        .filter(|t| t.sender == truth.program_wallet)
        .map(|t| TruthPayout {
            height: t.height,
            to: t.recipient,
            amount: t.amount.to_string(),
            denom: t.denom,
        })
        .collect();
    if payouts != truth.payouts {
        differences.push(format!(
            "payouts: store {payouts:?}, truth {:?}",
            truth.payouts
        ));
    }
    Ok(differences)
}

fn compare_providers(
    conn: &mut AnyConnection,
    truth: &Truth,
    differences: &mut Vec<String>,
) -> Result<(), StoreError> {
    let mut attributes: BTreeMap<String, Vec<Attribute>> = BTreeMap::new();
    for (owner, key, value) in store::chain::provider_last_attributes(conn)? {
        attributes
            .entry(owner)
            .or_default()
            .push(Attribute { key, value });
    }
    let stored = store::chain::providers(conn)?;
    let stored_owners: BTreeSet<&str> = stored.iter().map(|p| p.owner.as_str()).collect();
    for owner in truth.providers.keys() {
        if !stored_owners.contains(owner.as_str()) {
            differences.push(format!("provider {owner}: missing from the store"));
        }
    }
    for row in &stored {
        let Some(expected) = truth.providers.get(&row.owner) else {
            differences.push(format!(
                "provider {}: in the store, not in truth",
                row.owner
            ));
            continue;
        };
        let mut diff = |what: &str, store: String, truth: String| {
            if store != truth {
                differences.push(format!(
                    "provider {} {what}: store {store}, truth {truth}",
                    row.owner
                ));
            }
        };
        diff("host_uri", row.host_uri.clone(), expected.host_uri.clone());
        diff(
            "created_height",
            format!("{:?}", row.created_height),
            format!("{:?}", Some(expected.created_height)),
        );
        diff(
            "updated_height",
            format!("{:?}", row.updated_height),
            format!("{:?}", expected.updated_height),
        );
        diff(
            "deleted_height",
            format!("{:?}", row.deleted_height),
            format!("{:?}", expected.deleted_height),
        );
        let stored_attributes = attributes.remove(&row.owner).unwrap_or_default();
        let mut expected_attributes = expected.attributes.clone();
        expected_attributes.sort();
        diff(
            "attributes",
            format!("{stored_attributes:?}"),
            format!("{expected_attributes:?}"),
        );
        diff(
            "gpu_models",
            format!(
                "{:?}",
                provider_gpu_models(
                    stored_attributes
                        .iter()
                        .map(|a| (a.key.as_str(), a.value.as_str())),
                )
            ),
            format!("{:?}", expected.gpu_models),
        );
    }
    Ok(())
}

fn compare_leases(
    conn: &mut AnyConnection,
    truth: &Truth,
    differences: &mut Vec<String>,
) -> Result<(), StoreError> {
    let stored = store::chain::leases(conn)?;
    let authz = stored.iter().filter(|l| l.via_authz == 1).count() as u64;
    if authz != truth.authz_wrapped {
        differences.push(format!(
            "leases created through MsgExec: store {authz}, truth {}",
            truth.authz_wrapped
        ));
    }
    let mut expected: BTreeMap<LeaseId, &TruthLease> =
        truth.leases.values().map(|l| (l.id.clone(), l)).collect();
    for row in &stored {
        let name = row.id.to_string();
        let Some(lease) = expected.remove(&row.id) else {
            differences.push(format!("lease {name}: in the store, not in truth"));
            continue;
        };
        let store_fields = [
            ("gpu_units", format!("{:?}", row.gpu_units)),
            ("gpu_model", format!("{:?}", row.gpu_model)),
            ("gpu_ram", format!("{:?}", row.gpu_ram)),
            ("price_denom", row.price_denom.clone()),
            ("price_amount", row.price_amount.to_string()),
            ("created_height", row.created_height.to_string()),
            ("created_time", row.created_time.clone()),
            ("closed_height", format!("{:?}", row.closed_height)),
            ("closed_time", format!("{:?}", row.closed_time)),
            ("close_cause", format!("{:?}", row.close_cause)),
            ("close_reason", format!("{:?}", row.close_reason)),
        ];
        let truth_fields = [
            format!("{:?}", Some(lease.gpu_units)),
            format!("{:?}", lease.gpu_model),
            format!("{:?}", lease.gpu_ram),
            lease.price_denom.clone(),
            lease.price_amount.clone(),
            lease.created_height.to_string(),
            lease.created_time.clone(),
            format!("{:?}", lease.closed_height),
            format!("{:?}", lease.closed_time),
            format!("{:?}", lease.close_cause),
            format!("{:?}", lease.close_reason),
        ];
        for ((field, store), truth) in store_fields.iter().zip(truth_fields) {
            if *store != truth {
                differences.push(format!(
                    "lease {name} {field}: store {store}, truth {truth}"
                ));
            }
        }
    }
    for lease in expected.values() {
        differences.push(format!("lease {}: missing from the store", lease.id));
    }
    Ok(())
}

/// Every row of the indexer's fact tables as text, in a fixed order: two stores with equal
/// dumps hold the same indexed data (the cursor is left out).
pub fn dump_indexer_tables(conn: &mut AnyConnection) -> Result<String, StoreError> {
    let mut dump = String::new();
    macro_rules! dump_table {
        ($table:ident, $order:expr, $row:ty) => {{
            let rows: Vec<$row> = $table::table.order($order).load(conn)?;
            let _ = writeln!(dump, "{}: {} rows", stringify!($table), rows.len());
            for row in rows {
                let _ = writeln!(dump, "  {row:?}");
            }
        }};
    }
    dump_table!(blocks, blocks::height, (i64, String, i64, String, i32, i32));
    dump_table!(
        providers,
        providers::owner,
        (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<i64>
        )
    );
    dump_table!(
        provider_attributes,
        (
            provider_attributes::owner,
            provider_attributes::key,
            provider_attributes::set_height
        ),
        (String, String, String, i64, Option<i64>)
    );
    dump_table!(
        deployments,
        (deployments::owner, deployments::dseq),
        (String, i64, String, i64, Option<i64>)
    );
    dump_table!(
        deployment_groups,
        (
            deployment_groups::owner,
            deployment_groups::dseq,
            deployment_groups::gseq
        ),
        (String, i64, i32, String, String, i64, Option<i64>)
    );
    {
        type Row = (
            (String, i64, i32, i32, i64, i64),
            (
                String,
                String,
                String,
                i64,
                String,
                Option<String>,
                Option<String>,
            ),
        );
        let rows: Vec<Row> = group_resources::table
            .order((
                group_resources::owner,
                group_resources::dseq,
                group_resources::gseq,
                group_resources::resource_index,
            ))
            .select((
                (
                    group_resources::owner,
                    group_resources::dseq,
                    group_resources::gseq,
                    group_resources::resource_index,
                    group_resources::resource_id,
                    group_resources::count,
                ),
                (
                    group_resources::cpu_millis,
                    group_resources::memory_bytes,
                    group_resources::storage_bytes,
                    group_resources::gpu_units,
                    group_resources::gpu_attributes,
                    group_resources::price_denom,
                    group_resources::price_amount,
                ),
            ))
            .load(conn)?;
        let _ = writeln!(dump, "group_resources: {} rows", rows.len());
        for row in rows {
            let _ = writeln!(dump, "  {row:?}");
        }
    }
    dump_table!(
        bids,
        (
            bids::owner,
            bids::dseq,
            bids::gseq,
            bids::oseq,
            bids::provider,
            bids::bseq
        ),
        (String, i64, i32, i32, String, i32, String, String, String, i64)
    );
    let leases = store::chain::leases(conn)?;
    let _ = writeln!(dump, "leases: {} rows", leases.len());
    for row in leases {
        let _ = writeln!(dump, "  {row:?}");
    }
    dump_table!(
        transfers,
        (
            transfers::height,
            transfers::tx_index,
            transfers::msg_index,
            transfers::leg
        ),
        (i64, i32, i32, i32, String, String, String, String, String)
    );
    dump_table!(
        indexer_rejections,
        (
            indexer_rejections::height,
            indexer_rejections::tx_index,
            indexer_rejections::seq
        ),
        (
            i64,
            i32,
            i32,
            Option<String>,
            String,
            Option<String>,
            String
        )
    );
    Ok(dump)
}

/// The bytes of a transaction carrying `messages`, with an empty signature: what tests need to
/// put hand-made messages into a block (the indexer reads only the body).
pub fn encode_tx(messages: &[Any]) -> Vec<u8> {
    use cosmrs::proto::cosmos::tx::v1beta1::{TxBody, TxRaw};
    use cosmrs::proto::prost::Message as _;
    let body = TxBody {
        messages: messages
            .iter()
            .map(|m| cosmrs::proto::Any {
                type_url: m.type_url.clone(),
                value: m.value.clone(),
            })
            .collect(),
        ..TxBody::default()
    };
    TxRaw {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: Vec::new(),
        signatures: Vec::new(),
    }
    .encode_to_vec()
}

/// A hand-made chain of blocks in the node's JSON shapes, for scenario and hostile-input tests.
#[derive(Debug, Clone)]
pub struct TestChain {
    comet: CometVersion,
    next_height: u64,
    /// The blocks so far, as the RPC would return them.
    pub blocks: Vec<(BlockResponse, BlockResultsResponse)>,
}

/// One transaction of a [`TestChain`] block, with its result.
#[derive(Debug, Clone)]
pub struct TestTx {
    /// The `txs` entry: normally the base64 of the bytes.
    pub text: String,
    /// The result code.
    pub code: u32,
    /// Events to emit; attributes are written plain and base64-encoded under CometBFT 0.34.
    pub events: Vec<(String, Vec<(String, String)>)>,
    /// Events inserted verbatim (for malformed ones).
    pub raw_events: Vec<serde_json::Value>,
}

impl TestTx {
    /// A successful transaction carrying `messages`.
    pub fn ok(messages: &[Any]) -> Self {
        Self::bytes(&encode_tx(messages))
    }

    /// A successful transaction made of arbitrary bytes.
    pub fn bytes(raw: &[u8]) -> Self {
        use base64::Engine as _;
        Self {
            text: base64::engine::general_purpose::STANDARD.encode(raw),
            code: 0,
            events: Vec::new(),
            raw_events: Vec::new(),
        }
    }

    /// The same transaction with result code `code`.
    pub fn code(mut self, code: u32) -> Self {
        self.code = code;
        self
    }

    /// Adds an event of type `kind` with plain-text attributes.
    pub fn event(mut self, kind: &str, attributes: &[(&str, &str)]) -> Self {
        self.events.push((
            kind.to_string(),
            attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ));
        self
    }

    /// Adds an event exactly as given, never re-encoded.
    pub fn raw_event(mut self, event: serde_json::Value) -> Self {
        self.raw_events.push(event);
        self
    }
}

impl TestChain {
    /// An empty chain whose first block will be `first_height`.
    pub fn new(comet: CometVersion, first_height: u64) -> Self {
        Self {
            comet,
            next_height: first_height,
            blocks: Vec::new(),
        }
    }

    /// The CometBFT shape of the chain.
    pub fn comet(&self) -> CometVersion {
        self.comet
    }

    /// The time of block `height`: six seconds per height from 2024-01-01.
    pub fn time_of(height: u64) -> String {
        let seconds = i64::try_from(height % 1_000_000_000).unwrap_or(0) * 6;
        let time = chrono::DateTime::from_timestamp(1_704_067_200 + seconds, 500_000_000)
            .unwrap_or_default();
        time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    }

    /// Appends a block of `txs` with one result each; returns its height.
    pub fn push(&mut self, txs: Vec<TestTx>) -> u64 {
        let results = txs.iter().map(|tx| self.result_json(tx)).collect();
        self.push_with_results(&txs, results)
    }

    /// Appends a block whose `txs_results` are exactly `results` (for mismatch tests).
    pub fn push_with_results(&mut self, txs: &[TestTx], results: Vec<serde_json::Value>) -> u64 {
        let height = self.next_height;
        self.next_height += 1;
        let texts: Vec<&str> = txs.iter().map(|tx| tx.text.as_str()).collect();
        let block = serde_json::json!({
            "block_id": { "hash": format!("{height:064X}") },
            "block": {
                "header": {
                    "chain_id": "testnet-1",
                    "height": height.to_string(),
                    "time": Self::time_of(height),
                },
                "data": { "txs": texts },
            },
        });
        let mut results = serde_json::json!({
            "height": height.to_string(),
            "txs_results": results,
        });
        let block_events = match self.comet {
            CometVersion::V034 => "end_block_events",
            CometVersion::V038 => "finalize_block_events",
        };
        results[block_events] = serde_json::Value::Null;
        let block = serde_json::from_value(block).unwrap_or_else(|e| panic!("test block: {e}"));
        let results =
            serde_json::from_value(results).unwrap_or_else(|e| panic!("test results: {e}"));
        self.blocks.push((block, results));
        height
    }

    /// The `txs_results` entry of a transaction.
    pub fn result_json(&self, tx: &TestTx) -> serde_json::Value {
        use base64::Engine as _;
        let encode = |text: &str| match self.comet {
            CometVersion::V034 => base64::engine::general_purpose::STANDARD.encode(text),
            CometVersion::V038 => text.to_string(),
        };
        let mut events: Vec<serde_json::Value> = tx
            .events
            .iter()
            .map(|(kind, attributes)| {
                let attributes: Vec<serde_json::Value> = attributes
                    .iter()
                    .map(|(k, v)| serde_json::json!({"key": encode(k), "value": encode(v), "index": true}))
                    .collect();
                serde_json::json!({"type": kind, "attributes": attributes})
            })
            .collect();
        events.extend(tx.raw_events.iter().cloned());
        serde_json::json!({"code": tx.code, "log": "", "events": events})
    }
}
