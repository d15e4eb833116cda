//! `demo`: the whole pipeline in about a minute, on the embedded SQLite default, with nothing
//! beyond 127.0.0.1 and nothing outside the binary: a synthetic chain and fake providers
//! ([`world`]), then the same commands an administrator runs (`index`, probe rounds, `settle`,
//! `report`, `verify`), then a summary ([`summary`]). Everything is written into one folder,
//! `./akash-incentives-demo/` unless `--out` says otherwise, with the configuration it used
//! (`demo.toml`), so each step can be run again by hand.
//!
//! The programme's three epochs start as soon as the chain is indexed and last
//! `--epoch-seconds` each: the probe rounds measure them as they happen, one provider goes
//! offline halfway and one never answers, and the epochs are settled once they have ended.

mod programme;
mod summary;
mod world;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Args, Parser};
use uptime_prober::signing::ProberKey;

use crate::context::Context;
use crate::exit::UsageError;
use programme::{DemoSetup, EPOCHS, NAME, PROBE_SECONDS};
use world::World;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The folder everything goes into; it must be empty or a previous demo's, which is
    /// replaced.
    #[arg(long, value_name = "DIR", default_value = "akash-incentives-demo")]
    out: PathBuf,

    /// Length of each of the three epochs, in seconds (5 to 600).
    #[arg(long, value_name = "SECONDS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(5..=600))]
    epoch_seconds: u64,
}

/// The file that marks a folder as a demo's, so that a rerun may replace it.
const CONFIG_FILE: &str = "demo.toml";
/// Chain history before the programme starts: providers register and tenants lease first.
const HISTORY_SECONDS: i64 = 300;
/// The longest indexing may take: the chain's blocks reach this far past the history, and the
/// programme starts once indexing is done.
const LEAD_SECONDS: i64 = 60;
/// Chain blocks after the programme's end, so the indexer has passed it.
const AFTER_SECONDS: i64 = 30;

pub fn run(args: DemoArgs, _context: &Context) -> anyhow::Result<()> {
    let started = Instant::now();
    let out = prepare_folder(&args.out)?;
    let epoch_seconds = i64::try_from(args.epoch_seconds)?;
    let programme_seconds = epoch_seconds * i64::from(EPOCHS);
    let chain_start = chrono::Utc::now().timestamp() - HISTORY_SECONDS;
    let blocks = HISTORY_SECONDS + LEAD_SECONDS + programme_seconds + AFTER_SECONDS;

    heading(1, "a synthetic chain and its providers on 127.0.0.1");
    let world = World::start(chain_start, u64::try_from(blocks)?)?;
    println!(
        "chain at {} (heights {}..={}, one block a second), {} fake providers",
        world.chain.url(),
        world.first_height,
        world.last_height,
        world.fakes.len()
    );
    let key = ProberKey::write_new(&out.join("demo-prober.key"))?;
    let (committed_provider, committed_class) = first_class(&world)?;
    let config = out.join(CONFIG_FILE);
    let database = out.join("demo.sqlite");
    let rpc_url = world.chain.url();
    let database_text = database.display().to_string();
    let public_key = key.public_key();
    // Written again once indexing is done, with the programme starting then.
    let write_config = |start_unix: i64| {
        let text = programme::config_text(&DemoSetup {
            rpc_url: &rpc_url,
            start_height: world.first_height,
            watched_wallet: &world.summary.program_wallet,
            database: &database_text,
            public_key: &public_key,
            start_unix,
            epoch_seconds: args.epoch_seconds,
            committed_provider,
            committed_class,
        });
        std::fs::write(&config, text).with_context(|| format!("cannot write {}", config.display()))
    };
    write_config(chain_start + HISTORY_SECONDS)?;
    let context = Context::new(Some(config.clone()), None);
    println!("configuration {}", config.display());

    heading(2, "index the chain");
    step(&context, &["index", "--to", &world.last_height.to_string()])?;
    // The programme starts now, so the probe rounds measure its epochs as they happen; the
    // chain runs on past its end, so the indexer has passed it.
    let start_unix = chrono::Utc::now().timestamp() + 1;
    let end_unix = start_unix + programme_seconds;
    if end_unix + AFTER_SECONDS / 2 > world.last_block_unix {
        bail!(
            "indexing took over {LEAD_SECONDS} s, so the chain ends too soon after the \
             programme would: is the machine very busy?"
        );
    }
    write_config(start_unix)?;

    heading(3, "probe every provider, one round every five seconds");
    // One prober, one store and one runtime for every round.
    let prober = super::probe::prober(
        &context.config()?.prober,
        uptime_prober::GrpcPort::RestPortPlusOne,
        None,
    )?;
    let mut probe_store = context.store()?;
    let runtime = context.runtime()?;
    let mut round = 0;
    let mut offline = None;
    while chrono::Utc::now().timestamp() <= end_unix {
        let now = chrono::Utc::now().timestamp();
        if offline.is_none() && now >= start_unix + programme_seconds / 2 {
            let owner = world.take_offline();
            println!("{owner} goes offline");
            offline = Some(owner);
        }
        round += 1;
        let line = probe_round(&runtime, &prober, &mut probe_store)?;
        println!(
            "round {round:>2} ({}): {line}",
            epoch_at(now, start_unix, epoch_seconds)
        );
        sleep_to_next_round();
    }
    drop((probe_store, runtime));

    heading(4, "settle the programme's three epochs");
    step(&context, &["settle", "--all"])?;

    heading(5, "publish the audit reports and verify them offline");
    let reports = out.join("reports");
    step(
        &context,
        &["report", "--all", "--out", &path_arg(&reports)?],
    )?;
    let folder = reports.join(NAME);
    step(&context, &["verify", &path_arg(&folder)?])?;

    heading(6, "summary");
    let config = context.config()?;
    let mut store = context.store()?;
    let stdout = std::io::stdout();
    summary::write_summary(
        &mut stdout.lock(),
        &mut store,
        NAME,
        EPOCHS,
        &config.programme.denom,
        &folder,
    )?;
    println!("Reports:  {}", folder.display());
    println!("Page:     {}", folder.join("report.html").display());
    println!("Database: {}", database.display());
    println!(
        "Done in {} s. Run any step again with --config {}.",
        started.elapsed().as_secs(),
        out.join(CONFIG_FILE).display()
    );
    stdout.lock().flush()?;
    Ok(())
}

/// Sleeps to the next whole multiple of [`PROBE_SECONDS`] on the wall clock.
fn sleep_to_next_round() {
    let period_ms = PROBE_SECONDS * 1000;
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    std::thread::sleep(Duration::from_millis(period_ms - now_ms % period_ms));
}

/// The folder as given, created and made absolute; refused when it holds anything but a
/// previous demo.
fn prepare_folder(out: &Path) -> anyhow::Result<PathBuf> {
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                if !out.join(CONFIG_FILE).is_file() {
                    return Err(UsageError(format!(
                        "{} is not empty and holds no earlier demo: pass --out with a new folder",
                        out.display()
                    ))
                    .into());
                }
                std::fs::remove_dir_all(out).with_context(|| {
                    format!("cannot clear the earlier demo in {}", out.display())
                })?;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", out.display())),
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // Absolute, so the configuration names the database wherever its steps are run from.
    std::path::absolute(out).with_context(|| format!("cannot resolve {}", out.display()))
}

/// A step's heading.
fn heading(number: u32, what: &str) {
    println!("\n[{number}/6] {what}");
}

/// Runs one of the binary's own commands, as typed after `akash-incentives --config demo.toml`.
fn step(context: &Context, args: &[&str]) -> anyhow::Result<()> {
    #[derive(Parser)]
    #[command(no_binary_name = true)]
    struct Step {
        #[command(subcommand)]
        command: super::Command,
    }
    let parsed = Step::try_parse_from(args)
        .with_context(|| format!("the demo's step {args:?} is not a command"))?;
    super::run(parsed.command, context).with_context(|| format!("step `{}` failed", args.join(" ")))
}

/// One probe round of every registered provider, stored; its outcome in a few words.
fn probe_round(
    runtime: &tokio::runtime::Runtime,
    prober: &uptime_prober::Prober,
    store: &mut store::Store,
) -> anyhow::Result<String> {
    let (round, summary) = runtime.block_on(uptime_prober::round::once(prober, store))?;
    let gpus: u32 = round
        .probes
        .iter()
        .filter_map(|p| p.outcome.as_ref().ok())
        .flat_map(|inventory| inventory.nodes.iter())
        .map(|node| node.allocatable)
        .sum();
    Ok(format!(
        "{} of {} providers online, {gpus} GPUs allocatable; {} observations signed and stored",
        round.online(),
        round.probes.len(),
        summary.count(store::probes::InsertOutcome::Inserted)
    ))
}

/// Which epoch `now` is in, in words.
fn epoch_at(now: i64, start_unix: i64, epoch_seconds: i64) -> String {
    match (now - start_unix).div_euclid(epoch_seconds) {
        k if k < 0 => format!("epoch 0 starts in {} s", start_unix - now),
        k if k < i64::from(EPOCHS) => format!("in epoch {k}"),
        _ => "after the last epoch".to_string(),
    }
}

/// The class of the first GPU the chain registers for its first provider, who holds the
/// demo's committed contract.
fn first_class(world: &World) -> anyhow::Result<(&str, &'static str)> {
    let Some((provider, (model, ram))) = world
        .providers
        .first()
        .and_then(|p| Some((p.address.as_str(), *p.gpus.first()?)))
    else {
        bail!("the demo's first provider registers no GPU");
    };
    let class = programme::class_of(model, ram)
        .with_context(|| format!("no demo class takes {model} {ram}"))?;
    Ok((provider, class))
}

/// A path as a command-line argument.
fn path_arg(path: &Path) -> anyhow::Result<String> {
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("{} is not valid UTF-8", path.display()))
}
