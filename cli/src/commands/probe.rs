//! `probe --once | --follow`, `probe export`, `probe import`, `probe rejections`: measure
//! providers, move the observations in and out as JSON Lines (an export to a file is published
//! atomically, by `reports::atomic`), and list the imported lines that were not stored.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::{ArgGroup, Args, Subcommand};
use reports::atomic::{write_to, AtomicWriteError};
use store::probes::InsertOutcome;
use tracing::{info, warn};
use uptime_prober::signing::{ProberKey, Vantages};
use uptime_prober::{
    jsonl, round, GrpcPort, Probe, ProbeOptions, Prober, ProberConfig, ProberMetrics, Target,
};

use crate::context::Context;
use crate::exit::UsageError;
use crate::runtime::{MetricsServer, Shutdown};

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    group(ArgGroup::new("mode").args(["once", "follow"]).required(true))
)]
pub struct ProbeArgs {
    #[command(subcommand)]
    command: Option<ProbeCommand>,

    /// Probe every registered provider once, store the round and exit.
    #[arg(long)]
    once: bool,

    /// Probe every provider once per interval (spread by a per-provider jitter) until
    /// interrupted; serves Prometheus metrics on the configured address.
    #[arg(long)]
    follow: bool,

    /// Probe these providers instead of the store's list (with --once; repeatable).
    #[arg(long = "target", value_name = "OWNER=HOST_URI", requires = "once")]
    targets: Vec<String>,

    /// The providers' gRPC port: a number (mainnet: 8444), or `rest+1` (test only: for fake
    /// providers from `simnet providers`, whose gRPC port is their REST port plus one).
    #[arg(long, value_name = "PORT|rest+1", default_value = "8444")]
    grpc_port: String,
}

#[derive(Debug, Subcommand)]
enum ProbeCommand {
    /// Write observations with FROM ≤ time < TO as JSON Lines, one observation per line.
    Export {
        /// Start (RFC 3339 time, or a date meaning its UTC midnight).
        #[arg(long, value_name = "T")]
        from: String,
        /// End, exclusive.
        #[arg(long, value_name = "T")]
        to: String,
        /// Output file (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Read observations from a JSON Lines file (`-` for standard input). Idempotent. Every
    /// line is stored or recorded as rejected (see `probe rejections`); exits 0 then, and 1 only
    /// when the input cannot be read or the database fails.
    Import {
        /// The file to import.
        file: PathBuf,
        /// Counts above this per node are clamped, as the prober clamps them (default: the
        /// configuration's, else 16).
        #[arg(long, value_name = "N")]
        max_gpus_per_node: Option<u32>,
        /// Exit 1 when any line was rejected (for cron jobs that must notice).
        #[arg(long)]
        strict: bool,
        /// Also store lines without a signature, recording this import on each as what let it
        /// in (signed lines must still verify against `[[prober.vantage]]`).
        #[arg(long)]
        allow_unsigned: bool,
    },
    /// Write a new Ed25519 key pair for this prober: the private key to FILE (readable by its
    /// owner only), the public key to FILE.pub and to standard output as the
    /// `[[prober.vantage]]` entry that names it; an existing file is never overwritten. Point
    /// `prober.key_file` at FILE.
    Keygen {
        /// Where the private key goes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// List the lines imports rejected, as JSON Lines: import, source, line, reason, detail and
    /// the raw line.
    Rejections {
        /// Only the lines of this import (its id is printed by `probe import`).
        #[arg(long = "import", value_name = "ID")]
        import_id: Option<String>,
    },
}

pub fn run(args: ProbeArgs, context: &Context) -> anyhow::Result<()> {
    match args.command {
        Some(ProbeCommand::Export { from, to, out }) => export(context, &from, &to, out),
        Some(ProbeCommand::Import {
            file,
            max_gpus_per_node,
            strict,
            allow_unsigned,
        }) => import(context, &file, max_gpus_per_node, strict, allow_unsigned),
        Some(ProbeCommand::Rejections { import_id }) => rejections(context, import_id.as_deref()),
        Some(ProbeCommand::Keygen { out }) => keygen(&out),
        None => measure(&args, context),
    }
}

/// `probe keygen`: a new key pair, the private key in `out` and the public one in `out.pub`,
/// and the public key on stdout in configuration form.
fn keygen(out: &Path) -> anyhow::Result<()> {
    let mut public_file = out.as_os_str().to_owned();
    public_file.push(".pub");
    let public_file = PathBuf::from(public_file);
    if public_file.exists() {
        bail!(
            "{} exists already; a key is never overwritten",
            public_file.display()
        );
    }
    let key = ProberKey::write_new(out)?;
    let public_key = key.public_key();
    std::fs::write(&public_file, format!("{public_key}\n"))
        .with_context(|| format!("cannot write {}", public_file.display()))?;
    println!("[[prober.vantage]]\nid = \"<this prober's id>\"\npublic_key = \"{public_key}\"");
    info!(
        key_file = %out.display(),
        public_key_file = %public_file.display(),
        "wrote a new prober key pair; set prober.key_file to the private one"
    );
    Ok(())
}

/// The configured prober, signing with `prober.key_file` when it is set (and warning when not).
pub(super) fn prober(
    settings: &settings::ProberSettings,
    grpc_port: GrpcPort,
    metrics: Option<ProberMetrics>,
) -> anyhow::Result<Prober> {
    let prober_config = ProberConfig {
        prober_id: settings.prober_id.clone(),
        concurrency: settings.concurrency,
        probe: ProbeOptions {
            timeout: settings.timeout,
            max_gpus_per_node: settings.max_gpus_per_node,
            grpc_port,
            ..ProbeOptions::default()
        },
    };
    let key = settings
        .key_file
        .as_deref()
        .map(ProberKey::read)
        .transpose()?;
    if key.is_none() {
        warn!("prober.key_file is not set: observations are recorded unsigned");
    }
    Ok(Prober::with_key(prober_config, key, metrics)?)
}

fn measure(args: &ProbeArgs, context: &Context) -> anyhow::Result<()> {
    let config = context.config()?;
    let settings = &config.prober;
    let grpc_port = parse_grpc_port(&args.grpc_port)?;
    let targets = args
        .targets
        .iter()
        .map(|t| parse_target(t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = context.store()?;
    let runtime = context.runtime()?;
    if args.follow {
        let metrics = ProberMetrics::register(context.metrics_registry())?;
        let prober = prober(settings, grpc_port, Some(metrics))?;
        let listen = config.metrics.listen;
        return runtime.block_on(async {
            let shutdown = Shutdown::on_signals();
            MetricsServer::start(listen, context.metrics_registry().clone(), None, &shutdown)
                .await
                .with_context(|| format!("cannot serve metrics on {listen}"))?;
            info!(%listen, interval = ?settings.interval, "probing providers; metrics at /metrics");
            let stopping = shutdown.requested();
            let announce = tokio::spawn(async move {
                stopping.await;
                info!("interrupted: finishing the running probes and storing them");
            });
            let followed =
                round::follow(&prober, &mut store, settings.interval, shutdown.watch()).await;
            // The announcement runs on its own task: let it finish before the runtime is torn
            // down when a stop was requested, so the log always says why the prober ended.
            if *shutdown.watch().borrow() {
                let _ = announce.await;
            } else {
                announce.abort();
            }
            followed?;
            anyhow::Ok(())
        });
    }
    let prober = prober(settings, grpc_port, None)?;
    let (round, summary) = runtime.block_on(async {
        if targets.is_empty() {
            round::once(&prober, &mut store).await
        } else {
            let round = prober.run_round(targets).await;
            let summary = round::write_round(&mut store, &prober, &round)?;
            Ok((round, summary))
        }
    })?;
    for probe in &round.probes {
        println!("{}", describe(probe));
    }
    println!(
        "{} provider(s) probed in {} ms: {} online, {} offline; {} observation(s) stored",
        round.probes.len(),
        round.duration.as_millis(),
        round.online(),
        round.probes.len() - round.online(),
        summary.count(InsertOutcome::Inserted),
    );
    Ok(())
}

/// One line per provider: what an operator wants to see after `probe --once`.
fn describe(probe: &Probe) -> String {
    let latency = probe.latency.as_millis();
    match &probe.outcome {
        Ok(inventory) => {
            let gpus: Vec<String> = inventory
                .nodes
                .iter()
                .map(|n| {
                    let model = n.class.as_ref().map_or("unknown", |c| c.model.as_str());
                    let clamped = if n.clamps.is_empty() {
                        ""
                    } else {
                        " (clamped)"
                    };
                    format!(
                        "{}: {}×{model}, {} allocated{clamped}",
                        n.node, n.allocatable, n.allocated
                    )
                })
                .collect();
            format!(
                "{} online {latency} ms via {} [{}]",
                probe.provider,
                inventory.api.code(),
                gpus.join("; ")
            )
        }
        Err(e) => format!("{} offline {latency} ms {e}", probe.provider),
    }
}

pub(super) fn parse_grpc_port(text: &str) -> anyhow::Result<GrpcPort> {
    if text == "rest+1" {
        return Ok(GrpcPort::RestPortPlusOne);
    }
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .map(GrpcPort::Fixed)
        .ok_or_else(|| {
            UsageError(format!(
                "--grpc-port {text:?} is neither a port number nor rest+1"
            ))
            .into()
        })
}

fn parse_target(text: &str) -> anyhow::Result<Target> {
    match text.split_once('=') {
        Some((provider, host_uri)) if !provider.is_empty() && !host_uri.is_empty() => Ok(Target {
            provider: provider.to_string(),
            host_uri: host_uri.to_string(),
        }),
        _ => Err(UsageError(format!("--target {text:?} is not OWNER=HOST_URI")).into()),
    }
}

fn export(context: &Context, from: &str, to: &str, out: Option<PathBuf>) -> anyhow::Result<()> {
    let bound = |flag: &str, text: &str| {
        domain::UnixMs::parse(text)
            .map(domain::UnixMs::as_millis)
            .map_err(|e| anyhow::Error::from(UsageError(format!("--{flag}: {e}"))))
    };
    let (from_ms, to_ms) = (bound("from", from)?, bound("to", to)?);
    if from_ms >= to_ms {
        bail!(UsageError("--from must be before --to".into()));
    }
    let mut store = context.store()?;
    let written = write_to(out.as_deref(), |mut writer| {
        jsonl::export(&mut store, from_ms, to_ms, &mut writer)
    })
    .map_err(|e| match (e, &out) {
        // Named as before files were published atomically: the target, not its `.partial`.
        (AtomicWriteError::Create { source, .. }, Some(path)) => {
            anyhow::Error::new(source).context(format!("cannot create {}", path.display()))
        }
        (other, _) => other.into(),
    })?;
    eprintln!("exported {written} observation(s)");
    Ok(())
}

fn import(
    context: &Context,
    file: &PathBuf,
    max_gpus_per_node: Option<u32>,
    strict: bool,
    allow_unsigned: bool,
) -> anyhow::Result<()> {
    // Without a configuration no vantage point is named: only `--allow-unsigned` lets lines in.
    let config = match context.config() {
        Ok(config) => Some(config),
        Err(e) if e.downcast_ref::<UsageError>().is_some() => None,
        Err(e) => return Err(e),
    };
    let prober = config.as_ref().map(|c| &c.prober);
    let max_gpus_per_node = max_gpus_per_node
        .or(prober.map(|p| p.max_gpus_per_node))
        .unwrap_or(ProbeOptions::default().max_gpus_per_node);
    let named = prober.into_iter().flat_map(|p| &p.vantages);
    let vantages = Vantages::new(named.map(|v| (v.id.as_str(), v.public_key.as_str())))?;
    let mut store = context.store()?;
    let options = jsonl::ImportOptions {
        max_gpus_per_node,
        import_id: import_id(),
        source: file.display().to_string(),
        recorded_at_ms: chrono::Utc::now().timestamp_millis(),
        vantages,
        allow_unsigned,
    };
    let report = if file.as_os_str() == "-" {
        jsonl::import(&mut store, std::io::stdin().lock(), &options)?
    } else {
        let input = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        jsonl::import(&mut store, BufReader::new(input), &options)?
    };
    let mut stderr = std::io::stderr().lock();
    for rejection in &report.rejections {
        writeln!(
            stderr,
            "line {}: rejected ({}): {}",
            rejection.line,
            rejection.reason.code(),
            rejection.detail
        )?;
    }
    let rejected = report.rejected_total();
    if rejected > report.rejections.len() {
        writeln!(
            stderr,
            "… and {} more rejected line(s)",
            rejected - report.rejections.len()
        )?;
    }
    let by_reason: Vec<String> = report
        .rejected
        .iter()
        .map(|(reason, n)| format!("{n} {}", reason.code()))
        .collect();
    let by_reason = if by_reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", by_reason.join(", "))
    };
    println!(
        "import {}: {} line(s): {} imported, {} already present, {} rejected{by_reason}",
        options.import_id, report.lines, report.inserted, report.identical, rejected
    );
    if rejected > 0 {
        writeln!(
            stderr,
            "the rejected lines are recorded: akash-incentives probe rejections --import {}",
            options.import_id
        )?;
        if strict {
            bail!("{rejected} line(s) rejected (--strict)");
        }
    }
    Ok(())
}

/// A new import's id: its start time to the nanosecond and the process id, unique in practice
/// and sortable by time.
fn import_id() -> String {
    let now = chrono::Utc::now();
    format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%S%.9fZ"),
        std::process::id()
    )
}

/// One line of `probe rejections`, its fields in this order.
#[derive(serde::Serialize)]
struct ListedRejection<'a> {
    import: &'a str,
    source: &'a str,
    line: i64,
    reason: &'a str,
    detail: &'a str,
    raw: &'a str,
}

fn rejections(context: &Context, import_id: Option<&str>) -> anyhow::Result<()> {
    let mut store = context.store()?;
    let rows = store::probe_rejections::probe_rejections(store.conn(), import_id)?;
    let mut stdout = std::io::stdout().lock();
    for row in &rows {
        let listed = ListedRejection {
            import: &row.import_id,
            source: &row.source,
            line: row.line,
            reason: &row.reason,
            detail: &row.detail,
            raw: &row.raw,
        };
        serde_json::to_writer(&mut stdout, &listed)?;
        writeln!(stdout)?;
    }
    eprintln!("{} rejected line(s)", rows.len());
    Ok(())
}
