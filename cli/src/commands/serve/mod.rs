//! `serve`: the daemon. One process follows the chain, probes providers on their schedule,
//! seals each epoch once its data is complete (`settle.auto`), publishes each sealed epoch's
//! audit bundle (`reports.out`), and serves `/metrics`, `/healthz` and `/readyz` on
//! `metrics.listen`.
//!
//! - **Tasks** ([`tasks`]): indexing, settlement (with reports) and probing each run under a
//!   supervisor that logs a failure, counts it in `akash_incentives_serve_task_failures_total`,
//!   and starts the task again after a pause that doubles up to a minute. A failing task never
//!   stops the others.
//! - **Leading** ([`lead`]): of the processes sharing one database, one leads (indexes and
//!   settles) through the database's lock ([`store::leader`]); the others probe only, and take
//!   over when the leader's lock is released.
//! - **Stopping:** SIGINT or SIGTERM asks every task to stop; each commits or rolls back what it
//!   holds, and a restart resumes from the store. Tasks still running after
//!   `serve.shutdown_timeout` make the process exit 1 saying so; what they held is rolled back
//!   by the database.
//! - **Fatal** errors (the configuration, the database at start, the listen address, the
//!   prober's key) stop the process at once with exit status 1 or 2.

mod lead;
mod settle;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;
use indexer::metrics::IndexerMetrics;
use indexer::rpc::RetryTuning;
use settlement::metrics::SettlementMetrics;
use store::{DatabaseUrl, Store};
use telemetry::process::ProcessMetrics;
use tokio::task::JoinSet;
use tracing::{error, info};
use uptime_prober::{Prober, ProberMetrics};

use crate::context::Context;
use crate::runtime::{MetricsServer, Readiness, Shutdown};
use tasks::{supervise, Task};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A CometBFT RPC endpoint; repeat for several. Defaults to the configuration's rpc_urls.
    #[arg(long = "rpc", value_name = "URL")]
    rpc: Vec<String>,

    /// Probe nothing from this process: its observations come from other vantage points
    /// (`probe --follow` elsewhere, or `probe import`).
    #[arg(long)]
    no_probe: bool,

    /// The providers' gRPC port, as for `probe`.
    #[arg(long, value_name = "PORT|rest+1", default_value = "8444")]
    grpc_port: String,

    /// How often the head is polled once caught up, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3_000)]
    poll_interval_ms: u64,
}

/// What every task of the daemon shares.
pub(crate) struct Daemon {
    config: settings::Config,
    url: DatabaseUrl,
    process: ProcessMetrics,
    indexer: IndexerMetrics,
    settlement: SettlementMetrics,
    rpc: Arc<indexer::rpc::RpcClient>,
    poll: Duration,
    programme_toml: String,
}

pub fn run(args: ServeArgs, context: &Context) -> anyhow::Result<()> {
    let config = context.config()?;
    let url = context.database_url()?;
    // Opened once before anything starts: a database that cannot be reached or migrated is
    // fatal, not a task to retry.
    drop(context.store()?);
    super::settle::settlement_config(&config)?;
    let registry = context.metrics_registry();
    let process = ProcessMetrics::register(registry, env!("CARGO_PKG_VERSION"))?;
    let indexer = IndexerMetrics::register(registry)?;
    let grace = config.settle.grace.as_secs();
    let settlement = SettlementMetrics::register(registry, config.metrics.per_provider, grace)?;
    let prober = if args.no_probe {
        None
    } else {
        let grpc_port = super::probe::parse_grpc_port(&args.grpc_port)?;
        let metrics = ProberMetrics::register(registry)?;
        Some(Arc::new(super::probe::prober(
            &config.prober,
            grpc_port,
            Some(metrics),
        )?))
    };
    let urls = if args.rpc.is_empty() {
        config.chain.rpc_urls.clone()
    } else {
        args.rpc
    };
    let rpc =
        super::index::rpc_client(&config.chain, urls, &RetryTuning::DEFAULT, indexer.clone())?;
    let programme_toml = settings::published_programme(&config)
        .context("cannot publish the programme's configuration")?;
    let listen = config.metrics.listen;
    let shutdown_timeout = config.serve.shutdown_timeout;
    let daemon = Arc::new(Daemon {
        config,
        url,
        process,
        indexer,
        settlement,
        rpc: Arc::new(rpc),
        poll: Duration::from_millis(args.poll_interval_ms),
        programme_toml,
    });
    let runtime = context.runtime()?;
    let result = runtime.block_on(async {
        let shutdown = Shutdown::on_signals();
        let server = MetricsServer::start(
            listen,
            registry.clone(),
            Some(readiness(&daemon)),
            &shutdown,
        )
        .await
        .with_context(|| format!("cannot serve on {listen}"))?;
        info!(
            listen = %server.local_addr(),
            programme = daemon.config.name,
            probing = prober.is_some(),
            auto_settle = daemon.config.settle.auto,
            reports = ?daemon.config.reports.out,
            "serving /metrics, /healthz and /readyz"
        );
        let mut tasks = JoinSet::new();
        tasks.spawn(lead::lead(daemon.clone(), shutdown.watch()));
        if let Some(prober) = prober {
            tasks.spawn(probe(daemon.clone(), prober, shutdown.watch()));
        }
        tokio::select! {
            () = shutdown.requested() => {}
            Some(ended) = tasks.join_next() => {
                // The tasks run until asked to stop; one that ends by itself has panicked.
                if let Err(e) = ended {
                    error!(error = %e, "a task of the daemon failed unrecoverably");
                    bail!("a task of the daemon failed unrecoverably: {e}");
                }
            }
        }
        info!("stopping: each task stores what it holds");
        let stopped = tokio::time::timeout(shutdown_timeout, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if stopped.is_err() {
            bail!(
                "the tasks did not stop within serve.shutdown_timeout ({}); what they had not \
                 committed is rolled back and is done again on restart",
                humantime::format_duration(shutdown_timeout)
            );
        }
        info!("stopped; a restart resumes from the store");
        anyhow::Ok(())
    });
    // A blocking step (a settlement) that outlived the timeout is abandoned, not awaited: the
    // database rolls back its transaction when the process exits.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// The prober on its schedule, restarted after failures.
async fn probe(daemon: Arc<Daemon>, prober: Arc<Prober>, stop: tokio::sync::watch::Receiver<bool>) {
    let interval = daemon.config.prober.interval;
    supervise(Task::Probe, &daemon.process, stop.clone(), || {
        let (daemon, prober, stop) = (daemon.clone(), prober.clone(), stop.clone());
        async move {
            let url = daemon.url.clone();
            let mut store = tokio::task::spawn_blocking(move || Store::open(&url)).await??;
            uptime_prober::round::follow(&prober, &mut store, interval, stop).await?;
            anyhow::Ok(())
        }
    })
    .await;
}

/// `/readyz`: the database answers, and a leading process's indexer is within
/// `serve.ready_lag_blocks` of the chain head. A process that only probes is ready once it can
/// store what it measures.
fn readiness(daemon: &Arc<Daemon>) -> Readiness {
    let daemon = daemon.clone();
    Arc::new(move || {
        let unreachable = |e: &dyn std::fmt::Display| format!("the database is unreachable: {e}");
        let mut store = Store::connect(&daemon.url).map_err(|e| unreachable(&e))?;
        let cursor = store::cursor::read_cursor(store.conn(), &daemon.config.chain.chain_id)
            .map_err(|e| unreachable(&e))?;
        if !daemon.process.leads() {
            return Ok(());
        }
        let head = daemon.indexer.chain_head_height.get();
        if head <= 0 {
            return Err("the chain head is not known yet".into());
        }
        let indexed = cursor.map_or(0, |h| i64::try_from(h.get()).unwrap_or(i64::MAX));
        let lag = head.saturating_sub(indexed);
        let allowed = daemon.config.serve.ready_lag_blocks;
        if u64::try_from(lag).unwrap_or(0) > allowed {
            return Err(format!(
                "the indexer is {lag} block(s) behind the head, more than serve.ready_lag_blocks \
                 ({allowed})"
            ));
        }
        Ok(())
    })
}
