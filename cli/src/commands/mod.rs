//! One module per command group; each owns its arguments and its `run`.

mod config;
mod db;
mod demo;
mod export;
mod index;
mod payouts;
mod probe;
mod proof;
mod reconcile;
mod report;
mod rewards;
mod serve;
mod settle;
mod simnet;
mod simnet_chain;
mod simnet_providers;
mod simulate;
mod statement;
mod utilization;
mod verify;

use clap::Subcommand;

use crate::context::Context;

/// Every command of the binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole pipeline in about a minute, on 127.0.0.1 only: a synthetic chain and fake
    /// providers, indexing, probe rounds, settlement of a three-epoch programme, reports and
    /// their verification, and a summary, all in ./akash-incentives-demo/ (or --out DIR).
    Demo(demo::DemoArgs),
    /// Create, migrate and inspect the database.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Check a configuration file without running anything.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Follow the chain over CometBFT RPC and record providers, leases and transfers.
    Index(index::IndexArgs),
    /// Run as a daemon: index, probe, seal each epoch once its data is complete
    /// (`settle.auto`), publish reports (`reports.out`), and serve /metrics, /healthz and
    /// /readyz; SIGINT or SIGTERM stops it cleanly.
    Serve(serve::ServeArgs),
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
    /// Re-run sealed epochs under another programme definition (`--policy OTHER.toml`,
    /// `--epochs A..B`) and print how each pool's and provider's amounts would differ; writes
    /// nothing.
    Simulate(simulate::SimulateArgs),
    /// Publish sealed epochs as audit bundles (`--epoch K` or `--all`, `--out DIR`): CSV and
    /// Parquet tables, state, programme and a hash-chained manifest per epoch, then the
    /// programme's page `report.html` (`report page DIR/<programme>` remakes it alone).
    Report(report::ReportArgs),
    /// Re-derive published reports offline (`verify DIR/<programme>[/epoch-<K>]`), or check a
    /// provider's Merkle proof (`--proof FILE`).
    Verify(verify::VerifyArgs),
    /// One provider's statement as CSV: per epoch and bucket, earned and why, vested, unvested,
    /// clawed back, paid (with tx hashes), claimable or overpaid, uptime and GPU-hours.
    Statement(statement::StatementArgs),
    /// Print a provider's Merkle proof of its vested amounts from a published epoch.
    Proof(proof::ProofArgs),
    /// Plan what is due to providers (`payouts plan --at T --out DIR`): a CSV and unsigned
    /// MsgMultiSend transactions for `akash tx sign`.
    #[command(subcommand)]
    Payouts(payouts::PayoutsCommand),
    /// Compare what the programme wallet sent with what had vested; exits 1 when anything is
    /// flagged (overpaid, underpaid, unknown recipient, paid before vesting).
    Reconcile(reconcile::ReconcileArgs),
}

impl Command {
    /// Whether the command's logs are left out unless `-v` asks for them: the demo prints its
    /// results step by step, and the logs of the commands it runs would bury them.
    pub fn quiet_by_default(&self) -> bool {
        matches!(self, Command::Demo(_))
    }
}

/// Runs the chosen command.
pub fn run(command: Command, context: &Context) -> anyhow::Result<()> {
    match command {
        Command::Demo(args) => demo::run(args, context),
        Command::Db(command) => db::run(command, context),
        Command::Config(command) => config::run(command, context),
        Command::Index(args) => index::run(args, context),
        Command::Serve(args) => serve::run(args, context),
        Command::Export(command) => export::run(command, context),
        Command::Probe(args) => probe::run(args, context),
        Command::Simnet(command) => simnet::run(command, context),
        Command::Rewards(command) => rewards::run(command, context),
        Command::Settle(args) => settle::run(args, context),
        Command::Simulate(args) => simulate::run(args, context),
        Command::Report(args) => report::run(args, context),
        Command::Verify(args) => verify::run(args),
        Command::Proof(args) => proof::run(args),
        Command::Statement(args) => statement::run(args, context),
        Command::Payouts(command) => payouts::run(command, context),
        Command::Reconcile(args) => reconcile::run(args, context),
    }
}
