//! `index`: follow the chain over CometBFT RPC and record providers, leases and transfers.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use indexer::decode::DecodeOptions;
use indexer::follow::{self, FollowOptions, ProgressMode};
use indexer::metrics::IndexerMetrics;
use indexer::rpc::{RetryTuning, RpcClient, RpcError, RpcOptions};

use tracing::{info, warn};

use crate::context::Context;
use crate::exit::UsageError;
use crate::runtime::{MetricsServer, Shutdown};

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// A CometBFT RPC endpoint; repeat for several. Defaults to the configuration's rpc_urls.
    #[arg(long = "rpc", value_name = "URL")]
    rpc: Vec<String>,

    /// First height to index (default: after the cursor, or the configured start height).
    #[arg(long, value_name = "HEIGHT")]
    from: Option<u64>,

    /// Last height to index (default: the chain head when the run starts).
    #[arg(long, value_name = "HEIGHT")]
    to: Option<u64>,

    /// Keep following the head after catching up (stop with Ctrl-C).
    #[arg(long)]
    follow: bool,

    /// How often the head is polled once caught up, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3_000)]
    poll_interval_ms: u64,

    /// Attempts per RPC call before a block is given up on.
    #[arg(long, value_name = "N", default_value_t = RetryTuning::DEFAULT.max_attempts)]
    retry_attempts: u32,

    /// First retry pause in milliseconds; it doubles up to --retry-max-backoff-ms.
    #[arg(long, value_name = "MS", default_value_t = millis(RetryTuning::DEFAULT.initial_backoff))]
    retry_backoff_ms: u64,

    /// Longest retry pause in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = millis(RetryTuning::DEFAULT.max_backoff))]
    retry_max_backoff_ms: u64,

    /// How long a failing endpoint is rotated out, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = millis(RetryTuning::DEFAULT.bench_for))]
    bench_ms: u64,

    /// Log one line per batch even on a terminal, instead of a progress bar.
    #[arg(long)]
    no_progress: bool,
}

pub fn run(args: IndexArgs, context: &Context) -> anyhow::Result<()> {
    let config = context.config()?;
    let chain = &config.chain;
    let urls = if args.rpc.is_empty() {
        chain.rpc_urls.clone()
    } else {
        args.rpc.clone()
    };
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            return Err(UsageError(format!("--from {from} is above --to {to}")).into());
        }
    }
    let store = context.store()?;
    let registry = context.metrics_registry();
    let metrics = IndexerMetrics::register(registry).context("cannot register the metrics")?;
    let tuning = RetryTuning {
        max_attempts: args.retry_attempts,
        initial_backoff: Duration::from_millis(args.retry_backoff_ms),
        max_backoff: Duration::from_millis(args.retry_max_backoff_ms),
        bench_for: Duration::from_millis(args.bench_ms),
    };
    let rpc = rpc_client(chain, urls, &tuning, metrics.clone())?;
    let options = FollowOptions {
        from: args.from,
        to: args.to,
        follow: args.follow,
        progress: if args.no_progress {
            ProgressMode::Log
        } else {
            ProgressMode::Auto
        },
        ..follow_options(chain, Duration::from_millis(args.poll_interval_ms))
    };
    let listen = config.metrics.listen;
    let runtime = context.runtime()?;
    let report = runtime
        .block_on(async {
            let shutdown = Shutdown::on_signals();
            // Indexing never waited for metrics, and must not start failing for want of them
            // (another process of the same configuration may hold the address).
            match MetricsServer::start(listen, registry.clone(), None, &shutdown).await {
                Ok(server) => info!(listen = %server.local_addr(), "metrics at /metrics"),
                Err(error) => {
                    warn!(%listen, %error, "cannot serve metrics; indexing without them");
                }
            }
            follow::run(store, Arc::new(rpc), options, metrics, shutdown.requested()).await
        })
        .context("indexing stopped")?;
    match (report.first_height, report.last_height) {
        (Some(first), Some(last)) => println!(
            "indexed heights {first}..={last}: {} block(s) applied, {} already indexed, {} \
             transaction(s), {} rejection(s) recorded",
            report.blocks_applied,
            report.blocks_already_indexed,
            report.transactions,
            report.rejections
        ),
        _ => println!("nothing to index: the store is already at the requested height"),
    }
    if !report.unavailable_heights.is_empty() {
        println!(
            "{} block(s) could not be fetched and were recorded as `{}`: {:?}; re-fetch one \
             later with `akash-incentives index --from H --to H`",
            report.unavailable_heights.len(),
            follow::BLOCK_UNAVAILABLE,
            report.unavailable_heights
        );
    }
    if report.interrupted {
        println!("stopped on request; the next run resumes after the cursor");
    }
    Ok(())
}

/// The RPC client for `urls` on the configured chain.
pub(super) fn rpc_client(
    chain: &settings::ChainSettings,
    urls: Vec<String>,
    tuning: &RetryTuning,
    metrics: IndexerMetrics,
) -> anyhow::Result<RpcClient> {
    RpcClient::new(
        RpcOptions::new(
            urls,
            chain.chain_id.clone(),
            Some(chain.cometbft_038_height),
            chain.request_timeout,
            chain.fetch_concurrency,
            tuning,
        ),
        metrics,
    )
    .map_err(|e| match e {
        RpcError::InvalidUrl { .. } | RpcError::NoEndpoints => UsageError(e.to_string()).into(),
        other => anyhow::Error::new(other),
    })
}

/// Indexing the configured chain from the cursor on, with the head polled every `poll`.
pub(super) fn follow_options(chain: &settings::ChainSettings, poll: Duration) -> FollowOptions {
    FollowOptions::new(
        chain.chain_id.clone(),
        chain.start_height,
        chain.fetch_concurrency,
        chain.batch_size,
        poll,
        DecodeOptions::watching(chain.watched_wallets.iter().cloned()),
    )
}

/// A flag default in whole milliseconds.
const fn millis(duration: Duration) -> u64 {
    // No default is anywhere near u64::MAX milliseconds.
    duration.as_millis() as u64
}
