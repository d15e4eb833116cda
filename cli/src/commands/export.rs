//! `export leases` and `export providers`: the indexed chain as CSV for audit.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
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
    let rows = match &args.out {
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            export(store.conn(), &mut out).with_context(|| format!("cannot export {what}"))?
        }
        Some(path) => write_atomically(path, |out| export(store.conn(), out))
            .with_context(|| format!("cannot export {what} to {}", path.display()))?,
    };
    tracing::info!(rows, what, "export written");
    Ok(())
}

/// Writes into `<path>.partial` and renames it over `path` once complete, so a reader never sees
/// half an export.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<u64, reports::exports::ExportError>,
) -> anyhow::Result<u64> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file =
        File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut out = BufWriter::new(file);
    let rows = write(&mut out)?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move {} to {}", partial.display(), path.display()))?;
    Ok(rows)
}
