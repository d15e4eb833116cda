//! `statement --provider ADDR [--at T] [--out FILE.csv]`: one provider's statement as CSV
//! (`reports::statement`), per epoch and bucket: earned and why, vested, unvested, clawed back,
//! paid (with the transactions), claimable, and the provider's uptime and GPU-hours. Read-only.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use reports::atomic::write_to;
use reports::statement::{statement_frame, STATEMENT};
use reports::table::write_csv;

use super::settle::{parse_instant, wall_clock_ms};
use crate::context::Context;

#[derive(Debug, Args)]
pub struct StatementArgs {
    /// The provider's account address.
    #[arg(long, value_name = "ADDR", value_parser = parse_provider)]
    provider: String,

    /// The instant to report at (RFC 3339 or a date; default: now).
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    at: Option<i64>,

    /// Write the CSV to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// A bech32-checked account address, so a typo is an error rather than an empty statement.
fn parse_provider(text: &str) -> Result<String, String> {
    domain::ProviderAddr::parse(text)
        .map(|addr| addr.as_str().to_owned())
        .map_err(|e| e.to_string())
}

pub fn run(args: StatementArgs, context: &Context) -> anyhow::Result<()> {
    let config = context.config()?;
    let at = args.at.unwrap_or_else(wall_clock_ms);
    // One snapshot: the statement's epochs, entries and payments describe one instant of the
    // database even while `index` or `settle` commit.
    let statement = context.store()?.snapshot(|store| {
        settlement::statement::statement(
            store.conn(),
            &config.name,
            &config.programme,
            &config.chain.watched_wallets,
            &args.provider,
            at,
        )
        .with_context(|| format!("cannot make the statement of {}", args.provider))
    })?;
    let csv = write_csv(
        &STATEMENT,
        &mut statement_frame(&statement, &config.programme.denom.name),
    )?;
    write_to(args.out.as_deref(), |out| out.write_all(&csv))
        .context("cannot write the statement")?;
    Ok(())
}
