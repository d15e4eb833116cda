//! `config check`: load and validate a configuration, then summarise what it describes.

use clap::Subcommand;
use rewards::money::Money;
use rewards::programme::Programme;

use crate::context::Context;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration given with --config and print a summary of the programme.
    Check,
}

pub fn run(command: ConfigCommand, context: &Context) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Check => {
            let config = context.config()?;
            print!("{}", summary(&config));
            Ok(())
        }
    }
}

/// A short human summary: enough to see at a glance that the file says what was meant.
fn summary(config: &settings::Config) -> String {
    let programme = &config.programme;
    let calendar = &programme.calendar;
    let mut out = format!(
        "{}: valid\nprogramme {:?}: {} epochs of {} from {} in {}\n",
        config.source.display(),
        config.name,
        calendar.epochs,
        humantime::format_duration(std::time::Duration::from_millis(calendar.epoch_length_ms)),
        calendar.start_ms,
        programme.denom.name,
    );
    out += &format!(
        "chain {} from height {} via {}\ndatabase {}\n",
        config.chain.chain_id,
        config.chain.start_height,
        config.chain.rpc_urls.join(", "),
        config.database_url,
    );
    out += &pools(programme);
    out
}

fn pools(programme: &Programme) -> String {
    let money = |m: &Money| match m {
        Money::BaseUnits(units) => format!("{units} {}", programme.denom.name),
        Money::Usd(usd) => format!("${usd}"),
    };
    let mut out = String::new();
    if let Some(pool) = &programme.committed {
        out += &format!(
            "pool committed: budget {}, {} contract(s)\n",
            money(&pool.budget),
            pool.contracts.len()
        );
    }
    if let Some(pool) = &programme.liquidity_mining {
        out += &format!(
            "pool liquidity_mining: budget {}, {} class(es), undistributed {:?}\n",
            money(&pool.budget),
            pool.rules.classes.len(),
            pool.rules.undistributed
        );
    }
    if let Some(pool) = &programme.rnd {
        out += &format!(
            "pool rnd: budget {}, {} class(es), {} grant(s), eligible {}\n",
            money(&pool.budget),
            pool.pro_rata.as_ref().map_or(0, |r| r.classes.len()),
            pool.grants.len(),
            pool.eligible_models.join(",")
        );
    }
    out
}
