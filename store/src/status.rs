use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_migrations::MigrationHarness;

use crate::connection::{AnyConnection, MIGRATIONS};
use domain::Height;

use crate::{Backend, Store, StoreError};

/// One embedded migration and whether this database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// The migration's version (its folder name up to the first underscore).
    pub version: String,
    /// Whether it has been applied to this database.
    pub applied: bool,
}

/// How many rows a table holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    /// The table's name.
    pub table: &'static str,
    /// Its row count.
    pub rows: i64,
}

/// What `akash-incentives db status` shows: enough to tell at a glance whether a database is
/// migrated, how far the indexer got and how much each part has recorded.
#[derive(Debug, Clone)]
pub struct StoreStatus {
    /// Which engine holds the data.
    pub backend: Backend,
    /// Every embedded migration, oldest first.
    pub migrations: Vec<MigrationState>,
    /// The indexer cursor per chain id: the last height applied. Empty before the first run.
    pub cursors: Vec<(String, Height)>,
    /// Row counts of the main tables, once migrated; empty while migrations are pending.
    pub tables: Vec<TableCount>,
}

impl StoreStatus {
    /// Whether any embedded migration is still to be applied.
    pub fn has_pending_migrations(&self) -> bool {
        self.migrations.iter().any(|m| !m.applied)
    }
}

/// The tables whose size says most about a database's progress, in pipeline order.
const COUNTED_TABLES: [&str; 8] = [
    "blocks",
    "providers",
    "leases",
    "transfers",
    "indexer_rejections",
    "probe_observations",
    "epochs",
    "allocations",
];

#[derive(QueryableByName)]
struct RowCount {
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

impl Store {
    /// Reads the migration state, cursors and table sizes without changing anything else.
    pub fn status(&mut self) -> Result<StoreStatus, StoreError> {
        let backend = self.backend();
        let migrations = migration_states(self.conn())?;
        let migrated = migrations.iter().all(|m| m.applied);
        let (cursors, tables) = if migrated {
            let cursors = crate::cursor::cursors(self.conn())?;
            let mut tables = Vec::with_capacity(COUNTED_TABLES.len());
            for table in COUNTED_TABLES {
                let count: RowCount =
                    diesel::sql_query(format!("SELECT COUNT(*) AS rows FROM {table}"))
                        .get_result(self.conn())?;
                tables.push(TableCount {
                    table,
                    rows: count.rows,
                });
            }
            (cursors, tables)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(StoreStatus {
            backend,
            migrations,
            cursors,
            tables,
        })
    }
}

fn migration_states(conn: &mut AnyConnection) -> Result<Vec<MigrationState>, StoreError> {
    let to_error =
        |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    // One source serves both backends, so the embedded names do not depend on the connection.
    let embedded: Vec<String> = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&MIGRATIONS)
        .map_err(to_error)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let applied: Vec<String> = crate::on_backend!(conn, |c| c.applied_migrations())
        .map_err(to_error)?
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut states: Vec<MigrationState> = embedded
        .into_iter()
        .map(|version| MigrationState {
            applied: applied.contains(&version),
            version,
        })
        .collect();
    states.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(states)
}
