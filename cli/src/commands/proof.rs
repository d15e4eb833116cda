//! `proof --report DIR/<programme>/epoch-<K> --provider ADDR`: print a provider's Merkle proof
//! of its cumulative vested amounts (`reports::merkle`), taken from a published epoch whose
//! files match its manifest and whose root its `state.json` reproduces.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use domain::ProviderAddr;

use crate::exit::UsageError;

#[derive(Debug, Args)]
pub struct ProofArgs {
    /// A published epoch folder: DIR/<programme>/epoch-<K>.
    #[arg(long, value_name = "DIR")]
    report: PathBuf,

    /// The provider's account address (akash1…).
    #[arg(long, value_name = "ADDR")]
    provider: String,
}

pub fn run(args: ProofArgs) -> anyhow::Result<()> {
    let provider = ProviderAddr::parse(&args.provider)
        .map_err(|e| UsageError(format!("--provider {}: {e}", args.provider)))?;
    if !args.report.is_dir() {
        return Err(UsageError(format!(
            "there is no report folder at {}",
            args.report.display()
        ))
        .into());
    }
    let proof = reports::verify::proof(&args.report, &provider)
        .with_context(|| format!("cannot prove from {}", args.report.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, &proof).context("cannot print the proof")?;
    use std::io::Write as _;
    writeln!(out).context("cannot print the proof")?;
    Ok(())
}
