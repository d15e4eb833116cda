//! Encoding of synthetic transactions and of the node's JSON shapes (CometBFT 0.34).
//!
//! Transactions are real protobuf: Akash messages are the indexer's own prost structs, wrapped in
//! `TxBody`/`AuthInfo`/`TxRaw` from `cosmrs::proto` with a dummy secp256k1 key and signature (no
//! one verifies signatures when replaying a chain to an indexer).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::crypto::secp256k1::PubKey;
use cosmrs::proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmrs::proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
};
use cosmrs::proto::prost::Message as _;
use indexer::decode::messages::cosmos::Any;
use serde_json::{json, Value};

/// One ABCI event, with plain-text attributes (encoded to base64 when written).
#[derive(Debug, Clone)]
pub(crate) struct GenEvent {
    pub(crate) kind: &'static str,
    pub(crate) attributes: Vec<(&'static str, String)>,
}

impl GenEvent {
    pub(crate) fn new(kind: &'static str) -> Self {
        Self {
            kind,
            attributes: Vec::new(),
        }
    }

    pub(crate) fn attr(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push((key, value.into()));
        self
    }

    /// CometBFT 0.34 JSON: keys and values base64.
    fn to_json(&self) -> Value {
        let attributes: Vec<Value> = self
            .attributes
            .iter()
            .map(|(key, value)| {
                json!({
                    "key": BASE64.encode(key),
                    "value": BASE64.encode(value),
                    "index": true
                })
            })
            .collect();
        json!({"type": self.kind, "attributes": attributes})
    }
}

/// A transaction and how it ended.
#[derive(Debug, Clone)]
pub(crate) struct GenTx {
    pub(crate) messages: Vec<Any>,
    /// 0 for success; failed transactions carry no events.
    pub(crate) code: u32,
    pub(crate) events: Vec<GenEvent>,
}

/// The `TxRaw` bytes of `tx`, signed by a dummy key derived from `sequence`.
pub(crate) fn tx_bytes(tx: &GenTx, sequence: u64) -> Vec<u8> {
    let messages = tx
        .messages
        .iter()
        .map(|m| cosmrs::Any {
            type_url: m.type_url.clone(),
            value: m.value.clone(),
        })
        .collect();
    let body = TxBody {
        messages,
        memo: String::new(),
        timeout_height: 0,
        extension_options: Vec::new(),
        non_critical_extension_options: Vec::new(),
    };
    let mut key = vec![0x02u8];
    key.extend_from_slice(&pseudo_bytes(sequence, 32));
    let signer = SignerInfo {
        public_key: Some(cosmrs::Any {
            type_url: "/cosmos.crypto.secp256k1.PubKey".into(),
            value: PubKey { key }.encode_to_vec(),
        }),
        mode_info: Some(ModeInfo {
            sum: Some(mode_info::Sum::Single(mode_info::Single {
                mode: SignMode::Direct as i32,
            })),
        }),
        sequence,
    };
    let auth = AuthInfo {
        signer_infos: vec![signer],
        fee: Some(Fee {
            amount: vec![ProtoCoin {
                denom: "uakt".into(),
                amount: "5000".into(),
            }],
            gas_limit: 200_000,
            payer: String::new(),
            granter: String::new(),
        }),
        ..AuthInfo::default()
    };
    TxRaw {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: auth.encode_to_vec(),
        signatures: vec![pseudo_bytes(sequence ^ 0x5eed, 64)],
    }
    .encode_to_vec()
}

/// Deterministic filler bytes (keys, signatures, hashes).
pub(crate) fn pseudo_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// Upper-case hex of 32 filler bytes, as CometBFT writes hashes.
pub(crate) fn pseudo_hash(seed: u64) -> String {
    use std::fmt::Write as _;
    let mut hash = String::with_capacity(64);
    for byte in pseudo_bytes(seed, 32) {
        let _ = write!(hash, "{byte:02X}");
    }
    hash
}

/// The `/block` result of a block.
pub(crate) fn block_json(
    chain_id: &str,
    height: u64,
    time: &str,
    hash: &str,
    previous_hash: &str,
    proposer: &str,
    txs: &[Vec<u8>],
) -> Value {
    let txs: Vec<String> = txs.iter().map(|tx| BASE64.encode(tx)).collect();
    let parts = |seed: u64| json!({"total": 1, "hash": pseudo_hash(seed)});
    json!({
        "block_id": {"hash": hash, "parts": parts(height ^ 0xa1)},
        "block": {
            "header": {
                "version": {"block": "11", "app": "3"},
                "chain_id": chain_id,
                "height": height.to_string(),
                "time": time,
                "last_block_id": {"hash": previous_hash, "parts": parts(height ^ 0xa2)},
                "last_commit_hash": pseudo_hash(height ^ 0xb1),
                "data_hash": pseudo_hash(height ^ 0xb2),
                "validators_hash": pseudo_hash(0xb3),
                "next_validators_hash": pseudo_hash(0xb3),
                "consensus_hash": pseudo_hash(0xb4),
                "app_hash": pseudo_hash(height ^ 0xb5),
                "last_results_hash": pseudo_hash(height ^ 0xb6),
                "evidence_hash": pseudo_hash(0xb7),
                "proposer_address": proposer
            },
            "data": {"txs": txs},
            "evidence": {"evidence": []},
            "last_commit": {
                "height": height.saturating_sub(1).to_string(),
                "round": 0,
                "block_id": {"hash": previous_hash, "parts": parts(height ^ 0xa2)},
                "signatures": [{
                    "block_id_flag": 2,
                    "validator_address": proposer,
                    "timestamp": time,
                    "signature": BASE64.encode(pseudo_bytes(height ^ 0xc1, 64))
                }]
            }
        }
    })
}

/// The `/block_results` result of a block.
pub(crate) fn block_results_json(height: u64, txs: &[GenTx], begin_block: &[GenEvent]) -> Value {
    let results: Vec<Value> = txs
        .iter()
        .map(|tx| {
            let events: Vec<Value> = tx.events.iter().map(GenEvent::to_json).collect();
            let (log, codespace) = if tx.code == 0 {
                ("[]".to_string(), "")
            } else {
                (
                    "failed to execute message; message index: 0: insufficient funds".to_string(),
                    "sdk",
                )
            };
            json!({
                "code": tx.code,
                "data": if tx.code == 0 { BASE64.encode(pseudo_bytes(height, 8)) } else { String::new() },
                "log": log,
                "info": "",
                "gas_wanted": "200000",
                "gas_used": "120000",
                "events": events,
                "codespace": codespace
            })
        })
        .collect();
    let begin: Vec<Value> = begin_block.iter().map(GenEvent::to_json).collect();
    json!({
        "height": height.to_string(),
        "txs_results": if results.is_empty() { Value::Null } else { Value::Array(results) },
        "begin_block_events": begin,
        "end_block_events": null,
        "validator_updates": null,
        "consensus_param_updates": null
    })
}
