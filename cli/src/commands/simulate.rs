//! `simulate --policy OTHER.toml [--epochs A..B]`: what the sealed epochs of the programme named
//! by the global `--config` would have paid under another programme definition, compared with
//! what was sealed. Nothing is written.
//!
//! The sealed programme keeps the global `--config` (as for every other command), so the
//! alternative is `--policy`. Only the policy's programme (and `prober.max_staleness`) is used:
//! its name, database, chain and metrics sections are ignored, because the epochs re-run are
//! the sealed programme's, read from its database. The engine rules are in
//! [`settlement::simulate`].
//!
//! Output, amounts in base units of the payout denom; per pool a summary line, then one line per
//! provider whose net amount (allocated minus clawed back over the range) differs:
//!
//! ```text
//! what-if over epochs 0..=1 of programme cli-pilot under policy other.toml, on the sealed measurements
//! liquidity_mining: 1 of 1 providers differ, largest difference 2000000, sum of differences 2000000; returned to the community pool: sealed 0, simulated 0; closing balance: sealed 1000000, simulated 2000000 (uakt)
//!   akash1…: sealed 2000000, simulated 4000000 (+2000000)
//! the policy changes 1 provider amount(s) in 1 pool(s) over epochs 0..=1
//! ```

use std::io::Write;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use settlement::pool_name;
use settlement::simulate::{simulate, Simulation};

use crate::commands::settle::settlement_config;
use crate::context::Context;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The other programme definition (a configuration file) to re-run the sealed epochs under.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,

    /// The sealed epochs to re-run: `A..=B` (inclusive), `A..B` (B excluded, as in Rust) or one
    /// epoch `K`; default every sealed epoch. A range that starts after 0 starts from the sealed
    /// state before it: "had the policy changed at epoch A".
    #[arg(long, value_name = "A..B", value_parser = parse_epochs)]
    epochs: Option<RangeInclusive<u32>>,
}

/// `K`, `A..B` or `A..=B` as an inclusive range; an empty range is refused rather than
/// simulating nothing.
fn parse_epochs(text: &str) -> Result<RangeInclusive<u32>, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("{s:?} is not an epoch number"))
    };
    let range = if let Some((a, b)) = text.split_once("..=") {
        number(a)?..=number(b)?
    } else if let Some((a, b)) = text.split_once("..") {
        let end = number(b)?
            .checked_sub(1)
            .ok_or_else(|| format!("{text:?} names no epoch"))?;
        number(a)?..=end
    } else {
        let k = number(text)?;
        k..=k
    };
    if range.is_empty() {
        return Err(format!("{text:?} names no epoch"));
    }
    Ok(range)
}

pub fn run(args: SimulateArgs, context: &Context) -> anyhow::Result<()> {
    let config = context.config()?;
    let policy = settings::load(&args.policy, &settings::Environment::from_process())?;
    let mut store = context.store()?;
    let simulation = simulate(
        &mut store,
        &settlement_config(&config)?,
        &settlement_config(&policy)?,
        args.epochs,
    )
    .with_context(|| {
        format!(
            "cannot simulate programme {} under {}",
            config.name,
            args.policy.display()
        )
    })?;
    let stdout = std::io::stdout();
    print_simulation(
        &mut stdout.lock(),
        &config.name,
        &args.policy.display().to_string(),
        &config.programme.denom.name,
        &simulation,
    )
    .context("cannot print the simulation")
}

fn print_simulation(
    out: &mut impl Write,
    programme: &str,
    policy: &str,
    denom: &str,
    simulation: &Simulation,
) -> std::io::Result<()> {
    let epochs = format!(
        "{}..={}",
        simulation.epochs.start(),
        simulation.epochs.end()
    );
    writeln!(
        out,
        "what-if over epochs {epochs} of programme {programme} under policy {policy}, {}",
        if simulation.remeasured {
            "re-measured from the store (the policy's classes, contracts, grants or staleness \
             differ from the sealed programme's)"
        } else {
            "on the sealed measurements"
        }
    )?;
    let mut changed_pools = 0;
    let mut changed_amounts = 0;
    for pool in &simulation.comparison.pools {
        write!(
            out,
            "{}: {} of {} providers differ",
            pool_name(pool.pool),
            pool.differences.len(),
            pool.providers
        )?;
        if let Some(largest) = pool.largest() {
            write!(
                out,
                ", largest difference {} ({}), sum of differences {}",
                largest.abs(),
                largest.provider,
                pool.sum_abs
            )?;
        }
        writeln!(
            out,
            "; returned to the community pool: sealed {}, simulated {}; closing balance: sealed \
             {}, simulated {} ({denom})",
            pool.returned.0, pool.returned.1, pool.closing.0, pool.closing.1
        )?;
        for d in &pool.differences {
            let sign = if d.simulated > d.sealed { '+' } else { '-' };
            writeln!(
                out,
                "  {}: sealed {}, simulated {} ({sign}{})",
                d.provider,
                d.sealed,
                d.simulated,
                d.abs()
            )?;
        }
        changed_pools += usize::from(!pool.changes_nothing());
        changed_amounts += pool.differences.len();
    }
    if simulation.comparison.changes_nothing() {
        writeln!(out, "the policy changes nothing over epochs {epochs}")
    } else {
        writeln!(
            out,
            "the policy changes {changed_amounts} provider amount(s) in {changed_pools} pool(s) \
             over epochs {epochs}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::parse_epochs;

    #[test]
    fn epoch_ranges_are_inclusive_exclusive_or_single() {
        assert_eq!(parse_epochs("2..=4"), Ok(2..=4));
        assert_eq!(parse_epochs("2..4"), Ok(2..=3));
        assert_eq!(parse_epochs("3"), Ok(3..=3));
        assert!(parse_epochs("4..4").is_err());
        assert!(parse_epochs("0..0").is_err());
        assert!(parse_epochs("5..=2").is_err());
        assert!(parse_epochs("a..2").is_err());
        assert!(parse_epochs("-1").is_err());
    }
}
