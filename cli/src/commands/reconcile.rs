//! `reconcile [--at T]`: what the programme wallet actually sent each provider, against what
//! had vested (`payouts::reconcile`). `T` defaults to the newest indexed block's time: the
//! reconciliation is of what the indexer has seen.
//!
//! Standard output is the result, a table and then one line per finding:
//!
//! ```text
//! provider                                          vested         paid  transfers  status
//! akash1…                                          1000000      1000000          1  ok
//! akash1…                                                0            5          1  unknown recipient
//! unknown recipient akash1…: 5 sent, nothing earned; height 17 tx TX17-1 amount 5
//! reconcile at 2024-02-15T03:00:00Z: 2 addresses, 1 finding
//! ```
//!
//! The exit status is 1 when anything is flagged and 0 when clean, so a cron job can alert on
//! it; the reason for a failure is on standard error.

use std::io::Write;

use anyhow::Context as _;
use clap::Args;
use domain::UnixMs;
use payouts::reconcile::{reconcile, Finding, Flag, Reconciliation};
use payouts::Books;
use rewards::money::Denomination;
use store::settlement::{indexed_time_span, Payout};

use crate::context::Context;
use crate::exit::UsageError;

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The instant to reconcile at (RFC 3339; default: the newest indexed block's time).
    #[arg(long, value_name = "T", value_parser = super::settle::parse_instant)]
    at: Option<i64>,
}

pub fn run(args: ReconcileArgs, context: &Context) -> anyhow::Result<()> {
    let config = context.config()?;
    // The newest block and the transfers up to it are read on one snapshot, so a block indexed
    // meanwhile is either wholly in the reconciliation or not at all.
    let books = context.store()?.snapshot(|store| -> anyhow::Result<_> {
        let at = match args.at {
            Some(at) => at,
            None => indexed_time_span(store.conn())
                .context("cannot read the indexed blocks")?
                .map(|(_, newest)| newest)
                .ok_or_else(|| {
                    UsageError("no block is indexed yet: run `akash-incentives index` first".into())
                })?,
        };
        Books::load(
            store.conn(),
            &config.name,
            &config.chain.watched_wallets,
            &config.programme.denom.name,
            UnixMs(at),
        )
        .context("cannot read vesting entries and payouts")
    })?;
    let result = reconcile(&books).context("cannot reconcile")?;
    let denom = &config.programme.denom;
    print(&mut std::io::stdout().lock(), &result, denom)
        .context("cannot print the reconciliation")?;
    match result.findings.len() {
        0 => Ok(()),
        n => Err(anyhow::anyhow!(
            "{n} finding(s): what was sent does not match what vested (see the table)"
        )),
    }
}

/// The table in base units (to compare with the CSVs), then each finding as a sentence with its
/// amounts also in whole tokens.
fn print(
    out: &mut impl Write,
    result: &Reconciliation,
    denom: &Denomination,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<46} {:>14} {:>14} {:>10}  status",
        "provider", "vested", "paid", "transfers"
    )?;
    for line in &result.lines {
        let flags: Vec<&str> = result
            .findings
            .iter()
            .filter(|f| f.provider == line.provider)
            .map(|f| f.flag.name())
            .collect();
        let status = if flags.is_empty() {
            "ok".to_string()
        } else {
            flags.join(", ")
        };
        writeln!(
            out,
            "{:<46} {:>14} {:>14} {:>10}  {status}",
            shown(&line.provider),
            line.vested,
            line.paid,
            line.transfers
        )?;
    }
    for finding in &result.findings {
        writeln!(out, "{}", describe(finding, denom))?;
    }
    let n = result.findings.len();
    writeln!(
        out,
        "reconcile at {}: {} addresses, {n} finding{}",
        result.at,
        result.lines.len(),
        if n == 1 { "" } else { "s" }
    )
}

/// One finding as a sentence, with the transfers behind it.
fn describe(finding: &Finding, denom: &Denomination) -> String {
    let who = shown(&finding.provider);
    let human = |amount: &domain::BaseUnits| denom.human(amount.0);
    let what = match &finding.flag {
        Flag::Overpaid(by) => format!("overpaid {who} by {}", human(by)),
        Flag::Underpaid(by) => format!("underpaid {who} by {} (vested, not sent)", human(by)),
        Flag::UnknownRecipient => format!("unknown recipient {who}: earned nothing"),
        Flag::PaidBeforeVesting { paid, vested } => format!(
            "paid before vesting {who}: {} sent by then, {} vested at that block time",
            human(paid),
            human(vested)
        ),
    };
    let transfers: Vec<String> = finding.payouts.iter().map(|p| transfer(p, denom)).collect();
    if transfers.is_empty() {
        format!("{what}; no transfers")
    } else {
        format!("{what}; {}", transfers.join(", "))
    }
}

fn transfer(p: &Payout, denom: &Denomination) -> String {
    format!(
        "height {} ({}) tx {} amount {}",
        p.height,
        UnixMs(p.time_ms),
        p.tx_hash,
        denom.human(p.amount.0)
    )
}

/// The address, or what stands for one the indexer could not name.
fn shown(provider: &str) -> &str {
    if provider.is_empty() {
        "(unnamed: multi-input send)"
    } else {
        provider
    }
}
