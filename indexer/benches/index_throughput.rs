//! Indexing throughput: a synthetic chain served on 127.0.0.1, indexed into SQLite and into
//! PostgreSQL.
//!
//! Run with `cargo bench -p indexer --bench index_throughput` (release build). It
//!
//! 1. generates `BENCH_BLOCKS` (default 100,000) synthetic blocks with 500 providers in memory;
//! 2. serves them with the simnet CometBFT node on 127.0.0.1;
//! 3. **fetch-only pass**: the same RPC client fetches every block and its results with the same
//!    concurrency, and throws them away;
//! 4. **indexing passes**: the real pipeline (`indexer::follow::run`) fetches, decodes, applies
//!    and commits every block into a fresh SQLite file, and into a fresh schema of the
//!    PostgreSQL server at `TEST_DATABASE_URL` (skipped with a message when none answers; a
//!    failure under `CI=true`);
//!
//! and prints blocks per second for each and each backend's decode-and-store overhead: how much
//! longer its indexing pass took than the fetch-only pass, as a share of the fetch time.
//! Targets: at least 2,000 blocks/s, overhead at most 15%.
//!
//! The passes alternate for `BENCH_ROUNDS` rounds (default 3) and the medians are compared, so
//! load from other processes on a shared machine distorts the ratios less. `BENCH_ONLY=fetch`,
//! `BENCH_ONLY=sqlite` or `BENCH_ONLY=postgres` runs a single pass (for a profiler);
//! `BENCH_ONLY=index` runs both indexing passes.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexer::decode::DecodeOptions;
use indexer::follow::{self, FollowOptions, ProgressMode};
use indexer::metrics::IndexerMetrics;
use indexer::rpc::{RetryPolicy, RpcClient, RpcOptions};
use simnet::chain::generate::{generate_in_memory, GenerateOptions};
use simnet::chain::{ChainServer, ChainSource, ServeOptions};
use store::Store;

const FETCH_CONCURRENCY: usize = 32;
const BATCH_SIZE: usize = 500;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that does not name us means skip.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"index_throughput".contains(a.as_str()))
    {
        return;
    }
    let blocks: u64 = std::env::var("BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench(blocks));
}

async fn bench(blocks: u64) {
    let options = GenerateOptions {
        seed: 42,
        blocks,
        providers: 500,
        ..GenerateOptions::default()
    };
    let started = Instant::now();
    let (chain, summary) = generate_in_memory(&options).expect("generate the chain");
    let bytes: usize = chain
        .blocks
        .iter()
        .chain(&chain.block_results)
        .map(|b| b.len())
        .sum();
    println!(
        "generated {} blocks ({} txs, {} leases, {:.0} MB of JSON) in {:.1?}",
        summary.blocks,
        summary.transactions,
        summary.leases_created,
        bytes as f64 / 1e6,
        started.elapsed()
    );
    let first = chain.first_height;
    let last = first + blocks - 1;
    let source = ChainSource::memory(chain).expect("a consistent chain");
    let server = ChainServer::start(source, ServeOptions::default())
        .await
        .expect("start the node");
    let bench = Bench {
        url: server.url(),
        chain_id: options.chain_id.clone(),
        wallet: summary.program_wallet.clone(),
        first,
        last,
    };
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    // `BENCH_ONLY=fetch` or `BENCH_ONLY=index` runs one pass, for profiling it alone.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    // Alternate the passes, so drifting load on a shared machine hits both alike.
    let runs = |pass: &str| only.is_empty() || only == pass || (only == "index" && pass != "fetch");
    let postgres_reachable = runs("postgres") && store::testing::postgres().is_some();
    let mut fetches = Vec::new();
    let mut sqlite = Vec::new();
    let mut postgres = Vec::new();
    for round in 1..=rounds {
        let mut line = format!("round {round}:");
        if runs("fetch") {
            let pass = bench.fetch_only().await;
            line += &pass.describe("fetch only");
            fetches.push(pass);
        }
        if runs("sqlite") {
            let pass = bench.index(Backend::Sqlite).await;
            line += &pass.describe("index into SQLite");
            sqlite.push(pass);
        }
        if postgres_reachable {
            let pass = bench.index(Backend::Postgres).await;
            line += &pass.describe("index into PostgreSQL");
            postgres.push(pass);
        }
        println!("{line}");
    }
    let rate = |pass: Pass| blocks as f64 / pass.wall.as_secs_f64();
    println!("median of {rounds} round(s):");
    let fetch = median(&mut fetches);
    if let Some(fetch) = fetch {
        println!(
            "fetch only           : {:>8.2} s  {:>8.0} blocks/s  CPU {:.2} s",
            fetch.wall.as_secs_f64(),
            rate(fetch),
            fetch.cpu
        );
    }
    for (name, passes) in [("SQLite", &mut sqlite), ("PostgreSQL", &mut postgres)] {
        let Some(index) = median(passes) else {
            continue;
        };
        println!(
            "index into {name:<10}: {:>8.2} s  {:>8.0} blocks/s  CPU {:.2} s; target 2000 blocks/s {}",
            index.wall.as_secs_f64(),
            rate(index),
            index.cpu,
            if rate(index) >= 2_000.0 { "met" } else { "NOT met" }
        );
        if let Some(fetch) = fetch {
            let overhead = (index.wall.as_secs_f64() - fetch.wall.as_secs_f64())
                / fetch.wall.as_secs_f64()
                * 100.0;
            println!("  {name} decode+store overhead over fetch: {overhead:+.1}% (target <= 15%)");
        }
    }
    server.shutdown().await;
}

/// The database an indexing pass writes into.
#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// What the passes share.
struct Bench {
    url: String,
    chain_id: String,
    wallet: String,
    first: u64,
    last: u64,
}

/// One timed pass.
#[derive(Clone, Copy, Default)]
struct Pass {
    wall: Duration,
    cpu: f64,
}

impl Pass {
    fn describe(&self, what: &str) -> String {
        format!(
            " {what} {:.2} s (CPU {:.2} s);",
            self.wall.as_secs_f64(),
            self.cpu
        )
    }
}

impl Bench {
    fn client(&self) -> (Arc<RpcClient>, IndexerMetrics) {
        let metrics = IndexerMetrics::register(&prometheus::Registry::new()).expect("metrics");
        let client = RpcClient::new(
            RpcOptions {
                urls: vec![self.url.clone()],
                chain_id: self.chain_id.clone(),
                request_timeout: Duration::from_secs(30),
                in_flight_per_endpoint: FETCH_CONCURRENCY * 2,
                retry: RetryPolicy::default(),
                bench_for: Duration::from_secs(5),
                cometbft_038_height: Some(23_939_793),
            },
            metrics.clone(),
        )
        .expect("an RPC client");
        (Arc::new(client), metrics)
    }

    /// The same client and concurrency as the pipeline; nothing decoded or stored.
    async fn fetch_only(&self) -> Pass {
        let (client, _) = self.client();
        let started = Instant::now();
        let cpu_started = cpu_seconds();
        let mut window = VecDeque::new();
        let mut next = self.first;
        while next <= self.last || !window.is_empty() {
            while window.len() < FETCH_CONCURRENCY && next <= self.last {
                let client = client.clone();
                let height = next;
                window.push_back(tokio::spawn(
                    async move { client.fetch_block(height).await },
                ));
                next += 1;
            }
            if let Some(oldest) = window.pop_front() {
                oldest.await.expect("fetch task").expect("fetch a block");
            }
        }
        Pass {
            wall: started.elapsed(),
            cpu: cpu_seconds() - cpu_started,
        }
    }

    /// The real pipeline into a fresh SQLite file or a fresh PostgreSQL schema (dropped after
    /// the pass).
    async fn index(&self, backend: Backend) -> Pass {
        let database = match backend {
            Backend::Sqlite => store::testing::sqlite(),
            Backend::Postgres => store::testing::postgres().expect("PostgreSQL answered before"),
        };
        let store = Store::open(&database.url()).expect("open the database");
        let (client, metrics) = self.client();
        let started = Instant::now();
        let cpu_started = cpu_seconds();
        let report = follow::run(
            store,
            client,
            FollowOptions {
                chain_id: self.chain_id.clone(),
                start_height: self.first,
                from: None,
                to: Some(self.last),
                follow: false,
                fetch_concurrency: FETCH_CONCURRENCY,
                batch_size: BATCH_SIZE,
                flush_after: Duration::from_millis(500),
                poll_interval: Duration::from_secs(1),
                progress: ProgressMode::Log,
                decode: DecodeOptions::watching([self.wallet.clone()]),
            },
            metrics,
            std::future::pending(),
        )
        .await
        .expect("index the chain");
        let pass = Pass {
            wall: started.elapsed(),
            cpu: cpu_seconds() - cpu_started,
        };
        assert_eq!(
            report.blocks_applied,
            self.last - self.first + 1,
            "every block must be applied"
        );
        assert_eq!(report.rejections, 0, "the synthetic chain is clean");
        pass
    }
}

fn median(passes: &mut [Pass]) -> Option<Pass> {
    passes.sort_by_key(|p| p.wall);
    passes.get(passes.len() / 2).copied()
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat` (Linux; 0
/// elsewhere). Client and server share the process, so this is the whole cost of a pass.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Clock ticks are 100 per second on Linux.
    (ticks(11) + ticks(12)) / 100.0
}
