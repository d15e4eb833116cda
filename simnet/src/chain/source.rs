//! Where the served chain comes from: a fixture folder on disk, or a chain held in memory (the
//! synthetic generator's output).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use serde_json::Value;
use thiserror::Error;

/// A chain that cannot be served.
#[derive(Debug, Error)]
pub enum SourceError {
    /// `status.json` is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// `status.json` is not the result of `/status`.
    #[error("{path} is not a CometBFT /status result: {problem}")]
    BadStatus {
        /// The file.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An in-memory chain with no blocks, or whose lists disagree.
    #[error("the in-memory chain is inconsistent: {0}")]
    BadMemoryChain(String),
}

/// The `result` JSON of each endpoint, per height, exactly as a node returns it.
#[derive(Clone)]
pub enum ChainSource {
    /// A folder in the fixture layout: `status.json`, `block/<h>.json`, `block_results/<h>.json`.
    /// Blocks are read on demand, so a long recorded chain costs no memory.
    Folder(Arc<FixtureFolder>),
    /// A chain held in memory.
    Memory(Arc<MemoryChain>),
}

/// A fixture folder, with its `/status` already parsed.
pub struct FixtureFolder {
    root: PathBuf,
    status: Value,
    earliest: u64,
    latest: u64,
}

/// A chain held in memory: block `i` is at height `first_height + i`.
pub struct MemoryChain {
    /// The chain id reported by `/status` and written in every header.
    pub chain_id: String,
    /// The height of the first block.
    pub first_height: u64,
    /// `/block` results.
    pub blocks: Vec<Bytes>,
    /// `/block_results` results, parallel to `blocks`.
    pub block_results: Vec<Bytes>,
    /// `(hash, time)` of each block, for `/status`.
    pub headers: Vec<(String, String)>,
}

impl ChainSource {
    /// Opens a fixture folder: reads and checks `status.json` now, blocks later.
    pub fn folder(root: impl AsRef<Path>) -> Result<Self, SourceError> {
        let root = root.as_ref().to_path_buf();
        let path = root.join("status.json");
        let raw = std::fs::read(&path).map_err(|source| SourceError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let bad = |problem: &str| SourceError::BadStatus {
            path: path.display().to_string(),
            problem: problem.to_string(),
        };
        let status: Value = serde_json::from_slice(&raw).map_err(|e| bad(&e.to_string()))?;
        let height = |name: &str| {
            status["sync_info"][name]
                .as_str()
                .and_then(|h| h.parse::<u64>().ok())
                .ok_or_else(|| bad(&format!("sync_info.{name} is not a height")))
        };
        let earliest = height("earliest_block_height")?;
        let latest = height("latest_block_height")?;
        if earliest > latest {
            return Err(bad("earliest_block_height is above latest_block_height"));
        }
        Ok(Self::Folder(Arc::new(FixtureFolder {
            root,
            status,
            earliest,
            latest,
        })))
    }

    /// Wraps an in-memory chain after checking that its lists line up.
    pub fn memory(chain: MemoryChain) -> Result<Self, SourceError> {
        let n = chain.blocks.len();
        if n == 0 {
            return Err(SourceError::BadMemoryChain("it has no blocks".into()));
        }
        if chain.block_results.len() != n || chain.headers.len() != n {
            return Err(SourceError::BadMemoryChain(
                "blocks, block results and headers differ in length".into(),
            ));
        }
        if chain.first_height == 0 {
            return Err(SourceError::BadMemoryChain(
                "heights start at 1, not 0".into(),
            ));
        }
        Ok(Self::Memory(Arc::new(chain)))
    }

    /// The lowest and highest heights this source has.
    pub fn range(&self) -> (u64, u64) {
        match self {
            Self::Folder(f) => (f.earliest, f.latest),
            Self::Memory(m) => (m.first_height, m.first_height + m.blocks.len() as u64 - 1),
        }
    }

    /// The `/block` result at `height`, or `None` when the source has no such block.
    pub(crate) async fn block(&self, height: u64) -> Option<Bytes> {
        self.item(height, "block").await
    }

    /// The `/block_results` result at `height`, or `None` when the source has none.
    pub(crate) async fn block_results(&self, height: u64) -> Option<Bytes> {
        self.item(height, "block_results").await
    }

    async fn item(&self, height: u64, kind: &str) -> Option<Bytes> {
        match self {
            Self::Folder(f) => {
                let path = f.root.join(kind).join(format!("{height}.json"));
                // A missing or unreadable file is a block the node does not have.
                let raw = tokio::fs::read(path).await.ok()?;
                Some(Bytes::from(raw))
            }
            Self::Memory(m) => {
                let index = usize::try_from(height.checked_sub(m.first_height)?).ok()?;
                let list = if kind == "block" {
                    &m.blocks
                } else {
                    &m.block_results
                };
                list.get(index).cloned()
            }
        }
    }

    /// The `/status` result when the node's head is `head` (at most the source's last height).
    pub(crate) async fn status(&self, head: u64) -> Value {
        match self {
            Self::Folder(f) => {
                let mut status = f.status.clone();
                if head < f.latest {
                    let block: Option<Value> = self
                        .block(head)
                        .await
                        .and_then(|raw| serde_json::from_slice(&raw).ok());
                    let sync = &mut status["sync_info"];
                    sync["latest_block_height"] = Value::String(head.to_string());
                    if let Some(block) = block {
                        sync["latest_block_hash"] = block["block_id"]["hash"].clone();
                        sync["latest_block_time"] = block["block"]["header"]["time"].clone();
                    }
                }
                status
            }
            Self::Memory(m) => {
                let (earliest, _) = self.range();
                let header = |h: u64| {
                    let index = usize::try_from(h - m.first_height).unwrap_or(0);
                    m.headers.get(index).cloned().unwrap_or_default()
                };
                let (latest_hash, latest_time) = header(head);
                let (earliest_hash, earliest_time) = header(earliest);
                serde_json::json!({
                    "node_info": {
                        "protocol_version": {"p2p": "8", "block": "11", "app": "0"},
                        "id": "0000000000000000000000000000000000000000",
                        "listen_addr": "tcp://127.0.0.1:26656",
                        "network": m.chain_id,
                        "version": "simnet",
                        "channels": "40202122233038606100",
                        "moniker": "simnet",
                        "other": {"tx_index": "on", "rpc_address": "tcp://127.0.0.1:26657"}
                    },
                    "sync_info": {
                        "latest_block_hash": latest_hash,
                        "latest_app_hash": "",
                        "latest_block_height": head.to_string(),
                        "latest_block_time": latest_time,
                        "earliest_block_hash": earliest_hash,
                        "earliest_app_hash": "",
                        "earliest_block_height": earliest.to_string(),
                        "earliest_block_time": earliest_time,
                        "catching_up": false
                    },
                    "validator_info": {
                        "address": "",
                        "pub_key": null,
                        "voting_power": "10"
                    }
                })
            }
        }
    }
}
