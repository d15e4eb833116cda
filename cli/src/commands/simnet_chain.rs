//! `simnet serve` and `simnet generate`: replay a recorded chain as a CometBFT RPC node on
//! 127.0.0.1, or write a deterministic synthetic one.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use simnet::chain::generate::{self, GenerateOptions};
use simnet::chain::{ChainServer, ChainSource, Faults, ServeError, ServeOptions};

use crate::context::Context;
use crate::exit::UsageError;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The chain folder: status.json, block/<height>.json, block_results/<height>.json.
    #[arg(long, value_name = "DIR")]
    fixture: PathBuf,

    /// Listen address (loopback only; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:26657")]
    listen: SocketAddr,

    /// Pretend the chain has only reached this height (it can be served later by a restart).
    #[arg(long, value_name = "HEIGHT")]
    head: Option<u64>,

    /// Seed of the fault injection.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,

    /// Share of requests answered HTTP 500 (0 to 1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    fail_500: f64,

    /// Share of requests answered HTTP 429 (0 to 1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    fail_429: f64,

    /// Share of requests whose connection is reset (0 to 1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    reset: f64,

    /// Share of requests that stall for --stall-secs before being answered (0 to 1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    stall: f64,

    /// How long a stalled request waits, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    stall_secs: f64,

    /// Heights the node pretends not to have (comma-separated).
    #[arg(long, value_name = "HEIGHTS", value_delimiter = ',')]
    missing: Vec<u64>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of blocks.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    blocks: u64,

    /// Number of providers that register.
    #[arg(long, value_name = "N", default_value_t = 500)]
    providers: u32,

    /// Seed: the same seed writes the same chain.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,

    /// Height of the first block.
    #[arg(long, value_name = "HEIGHT", default_value_t = GenerateOptions::default().first_height)]
    first_height: u64,

    /// Chain id written in headers and /status.
    #[arg(long, value_name = "ID", default_value = "akashnet-2")]
    chain_id: String,

    /// The folder to write (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn serve(args: ServeArgs, context: &Context) -> anyhow::Result<()> {
    if !(args.stall_secs.is_finite() && (0.0..=3600.0).contains(&args.stall_secs)) {
        return Err(UsageError("--stall-secs must be between 0 and 3600".into()).into());
    }
    let source = ChainSource::folder(&args.fixture).map_err(|e| UsageError(e.to_string()))?;
    let (earliest, latest) = source.range();
    let options = ServeOptions {
        listen: args.listen,
        faults: Faults {
            seed: args.seed,
            http_500: args.fail_500,
            http_429: args.fail_429,
            reset: args.reset,
            stall: args.stall,
            stall_for: Duration::from_secs_f64(args.stall_secs),
            missing_heights: args.missing.iter().copied().collect(),
        },
    };
    let runtime = context.runtime()?;
    runtime.block_on(async move {
        let server = ChainServer::start(source, options)
            .await
            .map_err(|e| match e {
                ServeError::NotLoopback(_) | ServeError::Faults(_) => {
                    anyhow::Error::new(UsageError(e.to_string()))
                }
                other => anyhow::Error::new(other),
            })?;
        if let Some(head) = args.head {
            server.set_head(head);
        }
        let mut stdout = std::io::stdout();
        writeln!(
            stdout,
            "serving {} (heights {earliest}..={latest}) at {}",
            args.fixture.display(),
            server.url()
        )?;
        stdout.flush()?;
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        server.shutdown().await;
        Ok(())
    })
}

pub fn generate(args: GenerateArgs, _context: &Context) -> anyhow::Result<()> {
    let options = GenerateOptions {
        seed: args.seed,
        blocks: args.blocks,
        providers: args.providers,
        first_height: args.first_height,
        chain_id: args.chain_id,
        ..GenerateOptions::default()
    };
    let summary = generate::write_folder(&options, &args.out).map_err(|e| match e {
        generate::GenerateError::Options(_) => anyhow::Error::new(UsageError(e.to_string())),
        other => anyhow::Error::new(other),
    })?;
    println!(
        "wrote {} blocks ({} transactions, {} failed; {} providers, {} deployments, {} leases \
         created, {} closed) to {}",
        summary.blocks,
        summary.transactions,
        summary.failed_transactions,
        summary.providers,
        summary.deployments,
        summary.leases_created,
        summary.leases_closed,
        args.out.display()
    );
    println!("programme wallet (payouts): {}", summary.program_wallet);
    Ok(())
}
