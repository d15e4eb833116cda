//! `rewards compute --inputs FILE --epoch K [--state FILE] [--state-out FILE]`: run the pure
//! rewards engine on given inputs, with no database and no network.
//!
//! This is how anyone tries a policy (the `--config` programme) on numbers of their own, and
//! what an offline `verify` re-runs: the engine is a pure function of the programme, the carried
//! state and the epoch's inputs (`reports::inputs` documents the CSV), so the same three files
//! always give the same line items, which go to standard output as CSV
//! (`reports::allocations`).
//!
//! Without `--state` the programme starts fresh and only epoch 0 can be settled; with it, the
//! epoch the state says is next. `--epoch` must name that epoch: it is the user's statement of
//! which epoch the inputs measure, and settling them as another would publish wrong numbers.
//! `--state-out` writes the state after the epoch, the `--state` of the next run, in the form of
//! a report's `state.json`: run on a published epoch's `inputs.csv` and the previous epoch's
//! `state.json`, it reproduces that epoch's `allocations.csv` and `state.json` byte for byte.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use reports::allocations::write_allocations;
use reports::atomic::{write_atomically, write_to};
use reports::bundle::state_bytes;
use reports::inputs::read_inputs;
use rewards::{Engine, ProgrammeState};

use crate::context::Context;
use crate::exit::UsageError;

#[derive(Debug, Subcommand)]
pub enum RewardsCommand {
    /// Settle one epoch of the configured programme from an inputs CSV and print its line
    /// items as CSV; touches no database and no network.
    Compute(ComputeArgs),
}

#[derive(Debug, Args)]
pub struct ComputeArgs {
    /// The epoch's measured inputs: CSV with the header
    /// class,provider,leased_gpu_ms,online_gpu_ms,uptime_num,uptime_den.
    #[arg(long, value_name = "FILE")]
    inputs: PathBuf,

    /// The epoch the inputs measure: 0 without --state, else the one the state says is next.
    #[arg(long, value_name = "K")]
    epoch: u32,

    /// The engine's state after the previous epoch (JSON, as written by --state-out).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Write the state after this epoch here (JSON), for the next epoch's --state.
    #[arg(long, value_name = "FILE")]
    state_out: Option<PathBuf>,
}

pub fn run(command: RewardsCommand, context: &Context) -> anyhow::Result<()> {
    match command {
        RewardsCommand::Compute(args) => compute(args, context),
    }
}

fn compute(args: ComputeArgs, context: &Context) -> anyhow::Result<()> {
    let config = context.config()?;
    let programme = &config.programme;
    let engine = Engine::new(programme).map_err(|problems| {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        UsageError(format!("invalid programme: {}", problems.join("; ")))
    })?;
    let mut state = match &args.state {
        Some(path) => read_state(path)?,
        None => ProgrammeState::default(),
    };
    if state.next_epoch != args.epoch {
        let whence = match &args.state {
            Some(path) => format!("the state {} is ready for epoch", path.display()),
            None => "without --state the programme starts at epoch".to_owned(),
        };
        return Err(UsageError(format!(
            "--epoch {} cannot be settled: {whence} {}",
            args.epoch, state.next_epoch
        ))
        .into());
    }
    if !args.inputs.exists() {
        return Err(UsageError(format!(
            "there is no inputs file at {}",
            args.inputs.display()
        ))
        .into());
    }
    let inputs = read_inputs(&args.inputs, programme).context("cannot read the inputs")?;
    let settlement = engine
        .settle_epoch(&mut state, &inputs)
        .with_context(|| format!("cannot settle epoch {}", args.epoch))?;
    // The state is written first: if it cannot be, nothing was printed that the next run
    // could not continue from.
    if let Some(path) = &args.state_out {
        write_atomically(path, |out: &mut dyn Write| {
            out.write_all(&state_bytes(&state))
        })
        .with_context(|| format!("cannot write the state to {}", path.display()))?;
    }
    write_to(None, |out: &mut dyn Write| {
        write_allocations(out, &settlement.line_items, &programme.denom.name)
    })
    .context("cannot write the line items")?;
    Ok(())
}

/// Reads the engine state a previous run wrote with `--state-out`.
fn read_state(path: &Path) -> anyhow::Result<ProgrammeState> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(UsageError(format!("there is no state file at {}", path.display())).into())
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the state {}", path.display()))
        }
    };
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an engine state (the JSON `rewards compute --state-out` writes)",
            path.display()
        )
    })
}
