//! `db migrate` and `db status`.

use clap::Subcommand;
use tracing::info;

use crate::context::Context;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply every pending migration (other commands also do this on start).
    Migrate,
    /// Show the backend, the migrations, the indexer cursor and table sizes.
    Status,
}

pub fn run(command: DbCommand, context: &Context) -> anyhow::Result<()> {
    match command {
        DbCommand::Migrate => {
            let mut store = context.store_unmigrated()?;
            let applied = store.migrate()?;
            info!(applied = applied.len(), "database is up to date");
            println!(
                "{}: {} migration(s) applied, schema up to date",
                store.url(),
                applied.len()
            );
            Ok(())
        }
        DbCommand::Status => {
            let mut store = context.store_unmigrated()?;
            let status = store.status()?;
            println!("database: {} ({:?})", store.url(), status.backend);
            for migration in &status.migrations {
                let state = if migration.applied {
                    "applied"
                } else {
                    "PENDING"
                };
                println!("migration {}: {state}", migration.version);
            }
            if status.has_pending_migrations() {
                println!("run `akash-incentives db migrate` to apply the pending migrations");
                return Ok(());
            }
            if status.cursors.is_empty() {
                println!("indexer cursor: none yet");
            }
            for (chain_id, height) in &status.cursors {
                println!("indexer cursor: {chain_id} at height {height}");
            }
            for table in &status.tables {
                println!("rows in {}: {}", table.table, table.rows);
            }
            Ok(())
        }
    }
}
