//! Indexing throughput: a synthetic chain served on 127.0.0.1, indexed into SQLite.
//!
//! Run with `cargo bench -p indexer --bench index_throughput` (release build). It
//!
//! 1. generates `BENCH_BLOCKS` (default 100,000) synthetic blocks with 500 providers in memory;
//! 2. serves them with the simnet CometBFT node on 127.0.0.1;
//! 3. **fetch-only pass**: the same RPC client fetches every block and its results with the same
//!    concurrency, and throws them away;
//! 4. **indexing pass**: the real pipeline (`indexer::follow::run`) fetches, decodes, applies
//!    and commits every block into a fresh SQLite file;
//!
//! and prints blocks per second for both and the decode-and-store overhead: how much longer
//! the indexing pass took than the fetch-only pass, as a share of the fetch time. Targets:
//! at least 2,000 blocks/s, overhead at most 15%.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexer::decode::DecodeOptions;
use indexer::follow::{self, FollowOptions, ProgressMode};
use indexer::metrics::IndexerMetrics;
use indexer::rpc::{RetryPolicy, RpcClient, RpcOptions};
use simnet::chain::generate::{generate_in_memory, GenerateOptions};
use simnet::chain::{ChainServer, ChainSource, ServeOptions};
use store::{DatabaseUrl, Store};

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
    let rpc = || {
        let metrics = IndexerMetrics::register(&prometheus::Registry::new()).expect("metrics");
        let client = RpcClient::new(
            RpcOptions {
                urls: vec![server.url()],
                chain_id: options.chain_id.clone(),
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
    };

    // Fetch only: the same client, the same concurrency, nothing decoded or stored.
    let (client, _) = rpc();
    let started = Instant::now();
    let mut window = VecDeque::new();
    let mut next = first;
    while next <= last || !window.is_empty() {
        while window.len() < FETCH_CONCURRENCY && next <= last {
            let client = client.clone();
            let height = next;
            window.push_back(tokio::spawn(async move { client.fetch_block(height).await }));
            next += 1;
        }
        if let Some(oldest) = window.pop_front() {
            oldest.await.expect("fetch task").expect("fetch a block");
        }
    }
    let fetch = started.elapsed();

    // The real pipeline into a fresh SQLite file.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = Store::open(&DatabaseUrl::SqliteFile(dir.path().join("bench.sqlite")))
        .expect("open SQLite");
    let (client, metrics) = rpc();
    let started = Instant::now();
    let report = follow::run(
        store,
        client,
        FollowOptions {
            chain_id: options.chain_id.clone(),
            start_height: first,
            from: None,
            to: Some(last),
            follow: false,
            fetch_concurrency: FETCH_CONCURRENCY,
            batch_size: BATCH_SIZE,
            flush_after: Duration::from_millis(500),
            poll_interval: Duration::from_secs(1),
            progress: ProgressMode::Log,
            decode: DecodeOptions::watching([summary.program_wallet.clone()]),
        },
        metrics,
        std::future::pending(),
    )
    .await
    .expect("index the chain");
    let index = started.elapsed();
    assert_eq!(report.blocks_applied, blocks, "every block must be applied");

    let rate = |d: Duration| blocks as f64 / d.as_secs_f64();
    let overhead = (index.as_secs_f64() - fetch.as_secs_f64()) / fetch.as_secs_f64() * 100.0;
    println!(
        "fetch only : {:>8.2} s  {:>8.0} blocks/s",
        fetch.as_secs_f64(),
        rate(fetch)
    );
    println!(
        "index      : {:>8.2} s  {:>8.0} blocks/s  ({} txs, {} rejections)",
        index.as_secs_f64(),
        rate(index),
        report.transactions,
        report.rejections
    );
    println!("decode+store overhead over fetch: {overhead:+.1}% (target <= 15%)");
    println!(
        "throughput target 2000 blocks/s: {}",
        if rate(index) >= 2_000.0 { "met" } else { "NOT met" }
    );
    server.shutdown().await;
}
