//! Cost of the indexer's own work per block, stage by stage, without any network: JSON parsing
//! of the RPC results, `decode_block`, and `apply_block` into a fresh SQLite file in batches.
//!
//! Run with `cargo bench -p indexer --bench decode_apply`. It measures a synthetic chain
//! (`BENCH_BLOCKS`, default 20,000 blocks with 500 providers, from simnet's generator) and the
//! two independent fixture chains (denser in market traffic), and prints microseconds per block
//! and blocks per second for each stage. `index_throughput` measures the whole pipeline against
//! a local RPC; this bench says where the time inside it goes.

use std::time::{Duration, Instant};

use indexer::decode::chain_json::{BlockResponse, BlockResultsResponse, CometVersion};
use indexer::decode::{apply_block, decode_block, DecodeOptions, DecodedBlock};
use indexer::testing::Fixture;
use simnet::chain::generate::{generate_in_memory, GenerateOptions};
use store::StoreError;

const BATCH: usize = 500;

fn main() {
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"decode_apply".contains(a.as_str()))
    {
        return;
    }
    let blocks: u64 = std::env::var("BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let options = GenerateOptions {
        blocks,
        providers: 500,
        ..GenerateOptions::default()
    };
    let (chain, _) = generate_in_memory(&options).expect("generate the chain");
    let started = Instant::now();
    let parsed: Vec<(BlockResponse, BlockResultsResponse)> = chain
        .blocks
        .iter()
        .zip(&chain.block_results)
        .map(|(block, results)| {
            (
                serde_json::from_slice(block).expect("block JSON"),
                serde_json::from_slice(results).expect("results JSON"),
            )
        })
        .collect();
    let parse = started.elapsed();
    measure(
        &format!("synthetic chain ({blocks} blocks)"),
        &parsed,
        parse,
        CometVersion::V034,
        &DecodeOptions::default(),
    );

    for name in ["era-a-small", "era-b-small"] {
        let fixture = Fixture::load(name).expect("fixture");
        let started = Instant::now();
        let parsed: Vec<_> = (fixture.truth.first_height..=fixture.truth.last_height)
            .map(|height| fixture.block(height).expect("fixture block"))
            .collect();
        let parse = started.elapsed();
        measure(
            &format!("fixture {name} ({} blocks)", parsed.len()),
            &parsed,
            parse,
            fixture.comet_version(),
            &fixture.decode_options(),
        );
    }
}

fn measure(
    label: &str,
    parsed: &[(BlockResponse, BlockResultsResponse)],
    parse: Duration,
    comet: CometVersion,
    options: &DecodeOptions,
) {
    let started = Instant::now();
    let decoded: Vec<DecodedBlock> = parsed
        .iter()
        .map(|(block, results)| decode_block(block, results, comet, options))
        .collect();
    let decode = started.elapsed();

    let mut store = store::testing::sqlite();
    let started = Instant::now();
    for batch in decoded.chunks(BATCH) {
        store
            .transaction(|conn| {
                for block in batch {
                    apply_block(conn, block).map_err(|e| StoreError::Migration(e.to_string()))?;
                }
                Ok::<_, StoreError>(())
            })
            .expect("apply");
    }
    let apply = started.elapsed();

    if std::env::var_os("BENCH_BARE").is_some() {
        let bare: Vec<DecodedBlock> = decoded
            .iter()
            .map(|b| DecodedBlock {
                facts: Vec::new(),
                ..b.clone()
            })
            .collect();
        let mut store = store::testing::sqlite();
        let started = Instant::now();
        for batch in bare.chunks(BATCH) {
            store
                .transaction(|conn| {
                    for block in batch {
                        apply_block(conn, block)
                            .map_err(|e| StoreError::Migration(e.to_string()))?;
                    }
                    Ok::<_, StoreError>(())
                })
                .expect("apply");
        }
        println!(
            "  bare block rows {:>8.1} µs/block",
            started.elapsed().as_secs_f64() * 1e6 / decoded.len() as f64
        );
        let mut kinds = std::collections::BTreeMap::new();
        for fact in decoded.iter().flat_map(|b| &b.facts) {
            let name = format!("{:?}", fact.fact);
            let name = name
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("")
                .to_string();
            *kinds.entry(name).or_insert(0) += 1;
        }
        println!("  facts by kind: {kinds:?}");
    }

    let count = parsed.len().max(1) as f64;
    let per_block = |d: Duration| d.as_secs_f64() * 1e6 / count;
    let rate = |d: Duration| count / d.as_secs_f64().max(1e-9);
    let facts: usize = decoded.iter().map(|b| b.facts.len()).sum();
    println!("{label}: {facts} facts");
    println!("  parse JSON      {:>8.1} µs/block", per_block(parse));
    println!(
        "  decode_block    {:>8.1} µs/block  {:>9.0} blocks/s",
        per_block(decode),
        rate(decode)
    );
    println!(
        "  apply (SQLite)  {:>8.1} µs/block  {:>9.0} blocks/s",
        per_block(apply),
        rate(apply)
    );
    println!(
        "  decode + apply  {:>8.1} µs/block  {:>9.0} blocks/s",
        per_block(decode + apply),
        rate(decode + apply)
    );
}
