//! `export leases` and `export providers`: the indexed chain as CSV for audit, to standard
//! output or published atomically to a file (`reports::atomic`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use reports::atomic::write_to;
use store::AnyConnection;

use crate::context::Context;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Leases as CSV: ids, GPUs, price, created and closed heights and times, close cause.
    Leases(ExportArgs),
    /// Providers as CSV: host URI, advertised GPU models, created/updated/deleted heights.
    Providers(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file instead of standard output (replaced only once complete).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

type Exporter =
    fn(&mut AnyConnection, &mut dyn Write) -> Result<u64, reports::exports::ExportError>;

pub fn run(command: ExportCommand, context: &Context) -> anyhow::Result<()> {
    let (args, what, export): (ExportArgs, &str, Exporter) = match command {
        ExportCommand::Leases(args) => (args, "leases", |conn, out| {
            reports::exports::write_leases(conn, out)
        }),
        ExportCommand::Providers(args) => (args, "providers", |conn, out| {
            reports::exports::write_providers(conn, out)
        }),
    };
    let mut store = context.store()?;
    let rows = write_to(args.out.as_deref(), |out| export(store.conn(), out)).with_context(
        || match &args.out {
            None => format!("cannot export {what}"),
            Some(path) => format!("cannot export {what} to {}", path.display()),
        },
    )?;
    tracing::info!(rows, what, "export written");
    Ok(())
}
