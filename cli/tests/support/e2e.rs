//! The end-to-end part of the support module: a fixture node on 127.0.0.1, a configuration
//! pointing at it, the real binary run with a time limit, and a comparison of its exports with
//! `truth.json`.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use simnet::chain::{ChainServer, ChainSource, Faults, ServeOptions};

use super::{binary, run_within};

/// A fixture folder under `shared/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(name)
}

/// The fixture's `truth.json`.
pub fn truth(name: &str) -> Value {
    let path = fixture(name).join("truth.json");
    serde_json::from_slice(&std::fs::read(&path).expect("read truth.json"))
        .expect("parse truth.json")
}

/// A chain folder served on 127.0.0.1 from a runtime of its own, for as long as this lives.
pub struct Node {
    pub server: ChainServer,
    runtime: tokio::runtime::Runtime,
}

impl Node {
    pub fn start(folder: &Path, faults: Faults) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the node");
        let source = ChainSource::folder(folder).expect("a chain folder");
        let server = runtime
            .block_on(ChainServer::start(
                source,
                ServeOptions {
                    faults,
                    ..ServeOptions::default()
                },
            ))
            .expect("start the node");
        Self { server, runtime }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }
}

/// Chain settings of a test configuration.
pub struct ChainConfig<'a> {
    pub rpc_url: &'a str,
    pub start_height: u64,
    pub watched_wallet: &'a str,
    pub fetch_concurrency: usize,
    pub batch_size: usize,
    pub request_timeout: &'a str,
}

impl<'a> ChainConfig<'a> {
    /// Settings for indexing the fixture whose truth is `truth` from `rpc_url`.
    pub fn for_fixture(rpc_url: &'a str, truth: &'a Value) -> Self {
        Self {
            rpc_url,
            start_height: truth["first_height"].as_u64().expect("first_height"),
            watched_wallet: truth["program_wallet"].as_str().expect("program_wallet"),
            fetch_concurrency: 8,
            batch_size: 50,
            request_timeout: "5s",
        }
    }
}

/// Writes `config/devnet.toml` with its `[chain]` table replaced, into `dir`.
pub fn write_config(dir: &Path, chain: &ChainConfig<'_>) -> PathBuf {
    let devnet = std::fs::read_to_string(super::shipped_config("devnet.toml"))
        .expect("read config/devnet.toml");
    let start = devnet.find("[chain]").expect("a [chain] table");
    let end = devnet.find("[database]").expect("a [database] table");
    let table = format!(
        "[chain]\nchain_id = \"akashnet-2\"\nrpc_urls = [\"{}\"]\nstart_height = {}\n\
         watched_wallets = [\"{}\"]\nfetch_concurrency = {}\nbatch_size = {}\n\
         request_timeout = \"{}\"\n\n",
        chain.rpc_url,
        chain.start_height,
        chain.watched_wallet,
        chain.fetch_concurrency,
        chain.batch_size,
        chain.request_timeout
    );
    let text = format!("{}{}{}", &devnet[..start], table, &devnet[end..]);
    let path = dir.join("test.toml");
    std::fs::write(&path, text).expect("write the test configuration");
    path
}

/// Points the `[metrics]` table of the configuration at `config` to `listen`.
pub fn set_metrics_listen(config: &Path, listen: SocketAddr) {
    let text = std::fs::read_to_string(config).expect("read the test configuration");
    let start = text.find("[metrics]").expect("a [metrics] table");
    let end = start
        + text[start..]
            .find("\n\n")
            .expect("an empty line after [metrics]");
    let text = format!(
        "{}[metrics]\nlisten = \"{listen}\"{}",
        &text[..start],
        &text[end..]
    );
    std::fs::write(config, text).expect("write the test configuration");
}

/// `akash-incentives simnet serve` of a chain folder on a free port of 127.0.0.1, killed when
/// dropped.
pub struct ServedChain {
    child: Child,
    url: String,
}

impl ServedChain {
    pub fn start(folder: &Path) -> Self {
        let mut child = binary()
            .args(["simnet", "serve", "--listen", "127.0.0.1:0", "--fixture"])
            .arg(folder)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start simnet serve");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("read what simnet serve prints");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        Self { child, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ServedChain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `index` with `extra` arguments; panics with the output unless it succeeds.
pub fn index(config: &Path, database: &str, extra: &[&str]) -> Output {
    let output = run_within(
        binary()
            .arg("--config")
            .arg(config)
            .args(["--database-url", database, "index", "--no-progress"])
            .args(extra),
        Duration::from_secs(120),
    );
    assert!(
        output.status.success(),
        "index failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `export <what>` to standard output.
pub fn export(database: &str, what: &str) -> String {
    let output = run_within(
        binary().args(["--database-url", database, "export", what]),
        Duration::from_secs(60),
    );
    assert!(
        output.status.success(),
        "export {what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 CSV")
}

/// Rows of a CSV export keyed by column name (the exports never need quoting for these
/// fixtures; a quote would mean a field this reader cannot split).
pub fn csv_rows(csv: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    assert!(!csv.contains('"'), "unexpected quoted field in {csv}");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "row {line}");
            header
                .iter()
                .zip(fields)
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}

/// The lease export columns that identify a lease; `differences` matches rows on them.
const LEASE_KEY_COLUMNS: [&str; 5] = ["owner", "dseq", "gseq", "oseq", "provider"];

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every difference between the exports and the truth (empty when they agree).
pub fn differences(truth: &Value, leases_csv: &str, providers_csv: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let leases = csv_rows(leases_csv);
    let truth_leases = truth["leases"].as_object().expect("leases");
    if leases.len() != truth_leases.len() {
        problems.push(format!(
            "{} leases exported, {} in truth",
            leases.len(),
            truth_leases.len()
        ));
    }
    for row in &leases {
        let key = format!(
            "{}/{}/{}/{}/{}",
            row["owner"], row["dseq"], row["gseq"], row["oseq"], row["provider"]
        );
        let Some(expected) = truth_leases.get(&key) else {
            problems.push(format!("lease {key} is not in truth (from a failed tx?)"));
            continue;
        };
        // Every exported column but the key's is compared, in the export's own column order.
        let compared = reports::material::LEASES
            .columns
            .iter()
            .map(|column| column.name)
            .filter(|column| !LEASE_KEY_COLUMNS.contains(column));
        for field in compared {
            if row[field] != text(&expected[field]) {
                problems.push(format!(
                    "lease {key} {field}: exported {:?}, truth {:?}",
                    row[field],
                    text(&expected[field])
                ));
            }
        }
    }
    let providers = csv_rows(providers_csv);
    let truth_providers = truth["providers"].as_object().expect("providers");
    if providers.len() != truth_providers.len() {
        problems.push(format!(
            "{} providers exported, {} in truth",
            providers.len(),
            truth_providers.len()
        ));
    }
    for row in &providers {
        let Some(expected) = truth_providers.get(&row["owner"]) else {
            problems.push(format!("provider {} is not in truth", row["owner"]));
            continue;
        };
        for field in [
            "host_uri",
            "created_height",
            "updated_height",
            "deleted_height",
        ] {
            if row[field] != text(&expected[field]) {
                problems.push(format!(
                    "provider {} {field}: exported {:?}, truth {:?}",
                    row["owner"],
                    row[field],
                    text(&expected[field])
                ));
            }
        }
        let models: Vec<String> = expected["gpu_models"]
            .as_array()
            .expect("gpu_models")
            .iter()
            .map(text)
            .collect();
        if row["gpu_models"] != models.join(";") {
            problems.push(format!(
                "provider {} gpu_models: exported {:?}, truth {:?}",
                row["owner"], row["gpu_models"], models
            ));
        }
    }
    problems
}

/// Asserts that an indexed database reproduces the fixture's truth: the store as a whole
/// (providers, leases, failed transactions, payouts; `indexer::testing`'s comparison), and the
/// CSV exports row by row.
pub fn assert_matches_truth(truth: &Value, database: &str) {
    let url = store::DatabaseUrl::parse(database).expect("a database URL");
    let mut store = store::Store::open(&url).expect("open the store");
    let typed: indexer::testing::Truth =
        serde_json::from_value(truth.clone()).expect("a truth file");
    let store_problems =
        indexer::testing::compare_store_to_truth(store.conn(), &typed).expect("read the store");
    drop(store);
    assert!(
        store_problems.is_empty(),
        "{} difference(s) in the store:\n{}",
        store_problems.len(),
        store_problems.join("\n")
    );
    let problems = differences(
        truth,
        &export(database, "leases"),
        &export(database, "providers"),
    );
    assert!(
        problems.is_empty(),
        "{} difference(s) in the exports:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
