//! `akash-incentives`: one binary for indexing the chain, probing providers, settling epochs and
//! auditing the results.
//!
//! Exit codes: 0 on success, 1 when the work failed, 2 for usage or configuration errors. Errors
//! print one sentence followed by their cause chain.

mod commands;
mod context;
mod exit;
mod runtime;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser};

use crate::context::Context;

/// Accounting engine for GPU-provider incentive programmes on the Akash Network.
#[derive(Debug, Parser)]
#[command(name = "akash-incentives", version, about, long_about = None)]
struct Cli {
    /// The programme's configuration file (TOML).
    #[arg(
        long,
        global = true,
        env = "AKASH_INCENTIVES_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,

    /// Database URL: a SQLite file path or postgres://… (overrides the config and environment).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,

    /// More log output (-v debug, -vv trace).
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,

    /// Less log output (-q warnings only, -qq errors only).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    quiet: u8,

    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with success, and usage errors to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let quiet = if cli.command.quiet_by_default() && cli.verbose == 0 {
        cli.quiet.max(1)
    } else {
        cli.quiet
    };
    init_tracing(cli.verbose, quiet);
    let context = Context::new(cli.config, cli.database_url);
    match commands::run(cli.command, &context) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => exit::report(&error),
    }
}

fn init_tracing(verbose: u8, quiet: u8) {
    let level = match (verbose, quiet) {
        (0, 0) => "info",
        (1, _) => "debug",
        (v, _) if v >= 2 => "trace",
        (_, 1) => "warn",
        _ => "error",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_logs())
        .init();
}

/// Log lines are coloured only on a terminal, never in a file or a pipe, and never when
/// `NO_COLOR` is set to anything but the empty string (<https://no-color.org>).
fn colour_logs() -> bool {
    use std::io::IsTerminal as _;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    std::io::stderr().is_terminal() && !no_color
}
