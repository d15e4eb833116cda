//! `statement --provider ADDR [--at T] [--out FILE.csv]`: one provider's statement as CSV
//! (`reports::statement`), per epoch and bucket: earned and why, vested, unvested, clawed back,
//! paid (with the transactions), claimable, and the provider's uptime and GPU-hours. Read-only.
//!
//! It needs no configuration: with only `--database-url` it reads the programme's denom and
//! watched wallets from the database, which records them with every seal (`--programme NAME`
//! picks one when the database holds several).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use reports::atomic::write_to;
use reports::statement::{statement_frame, STATEMENT};
use reports::table::write_csv;

use store::settlement::{programme_books, ProgrammeBooks};
use store::Store;

use super::settle::{parse_instant, wall_clock_ms};
use crate::context::Context;
use crate::exit::UsageError;

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

    /// The programme, when no configuration names it and the database holds several.
    #[arg(long, value_name = "NAME")]
    programme: Option<String>,
}

/// A bech32-checked account address, so a typo is an error rather than an empty statement.
fn parse_provider(text: &str) -> Result<String, String> {
    domain::ProviderAddr::parse(text)
        .map(|addr| addr.as_str().to_owned())
        .map_err(|e| e.to_string())
}

pub fn run(args: StatementArgs, context: &Context) -> anyhow::Result<()> {
    let configured = context
        .has_config()
        .then(|| context.config())
        .transpose()?
        .map(|config| ProgrammeBooks {
            name: config.name,
            denom: config.programme.denom.name,
            watched_wallets: config.chain.watched_wallets,
        });
    let at = args.at.unwrap_or_else(wall_clock_ms);
    // One snapshot: the statement's epochs, entries and payments describe one instant of the
    // database even while `index` or `settle` commit.
    let (books, statement) = context.store()?.snapshot(|store| {
        let books = match configured {
            Some(books) => books,
            None => recorded_books(store, args.programme.as_deref())?,
        };
        let statement = settlement::statement::statement(store.conn(), &books, &args.provider, at)
            .with_context(|| format!("cannot make the statement of {}", args.provider))?;
        anyhow::Ok((books, statement))
    })?;
    let csv = write_csv(&STATEMENT, &mut statement_frame(&statement, &books.denom))?;
    write_to(args.out.as_deref(), |out| out.write_all(&csv))
        .context("cannot write the statement")?;
    Ok(())
}

/// The books the database recorded for `wanted`, or for its only programme.
fn recorded_books(store: &mut Store, wanted: Option<&str>) -> anyhow::Result<ProgrammeBooks> {
    let mut all = programme_books(store.conn()).context("cannot read the recorded programmes")?;
    let names: Vec<String> = all.iter().map(|b| b.name.clone()).collect();
    let chosen =
        match wanted {
            Some(name) => all.iter().position(|b| b.name == name).ok_or_else(|| {
                UsageError(format!(
                    "the database has sealed no epoch of programme {name:?}; it holds {names:?}"
                ))
            })?,
            None if all.len() == 1 => 0,
            None if all.is_empty() => return Err(UsageError(
                "the database has no sealed programme to make a statement of (or it was sealed \
                 by a version that did not record it): pass --config"
                    .into(),
            )
            .into()),
            None => {
                return Err(UsageError(format!(
                    "the database holds several programmes, {names:?}: pass --programme NAME"
                ))
                .into())
            }
        };
    Ok(all.swap_remove(chosen))
}
