//! One module per command group; each owns its arguments and its `run`.

mod config;
mod db;
mod export;
mod index;
mod probe;
mod rewards;
mod settle;
mod simnet;
mod simnet_chain;
mod simnet_providers;
mod verify;

use clap::Subcommand;

use crate::context::Context;
use crate::exit::UsageError;

/// Every command of the binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, migrate and inspect the database.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Check a configuration file without running anything.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Follow the chain over CometBFT RPC and record providers, leases and transfers.
    Index(index::IndexArgs),
    /// Write indexed data as CSV for audit.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Probe providers for uptime and GPU inventory, or move observations in and out.
    Probe(probe::ProbeArgs),
    /// Local stand-ins for the chain and for providers: replay fixtures, generate load.
    #[command(subcommand)]
    Simnet(simnet::SimnetCommand),
    /// Run the rewards engine offline: `rewards compute` settles one epoch from an inputs CSV
    /// (and a carried state) and prints its line items, with no database and no network.
    #[command(subcommand)]
    Rewards(rewards::RewardsCommand),
    /// Settle and seal epochs in order (`--epoch K`, `--through K`, `--all`, `--dry-run`), or
    /// print provider positions (`settle positions`).
    Settle(settle::SettleArgs),
    /// Write an epoch's audit report: CSV, Parquet and a JSON manifest (not implemented yet).
    Report,
    /// Check a provider's Merkle proof of vested amounts (`--proof FILE`); re-deriving a whole
    /// published report (`verify DIR`) is not implemented yet.
    Verify(verify::VerifyArgs),
}

/// Runs the chosen command.
pub fn run(command: Command, context: &Context) -> anyhow::Result<()> {
    match command {
        Command::Db(command) => db::run(command, context),
        Command::Config(command) => config::run(command, context),
        Command::Index(args) => index::run(args, context),
        Command::Export(command) => export::run(command, context),
        Command::Probe(args) => probe::run(args, context),
        Command::Simnet(command) => simnet::run(command, context),
        Command::Rewards(command) => rewards::run(command, context),
        Command::Settle(args) => settle::run(args, context),
        Command::Report => Err(not_implemented("report")),
        Command::Verify(args) => verify::run(args),
    }
}

/// The error of a command that exists in the interface but has no implementation yet.
pub fn not_implemented(command: &str) -> anyhow::Error {
    UsageError(format!(
        "`akash-incentives {command}` is not implemented yet"
    ))
    .into()
}
