use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use tracing::info;

use crate::{DatabaseUrl, StoreError};

/// The migrations, embedded at build time so the binary needs no files beside it. One source
/// serves both backends: the SQL keeps to what SQLite and PostgreSQL both accept, so the two
/// schemas cannot drift apart, and each backend records the same version names as applied.
pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// A connection to either backend, so that every query is written once and runs on both.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// A PostgreSQL connection (production).
    Postgresql(PgConnection),
    /// A SQLite connection (the embedded default).
    Sqlite(SqliteConnection),
}

/// Runs the same diesel statement on whichever backend the connection is: `ON CONFLICT` clauses
/// are not available through the multi-backend connection, but both engines support them.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::AnyConnection::Postgresql($c) => $body,
            $crate::AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// Which database engine a [`Store`] is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, bundled.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// An open store: one connection plus the URL it came from.
///
/// The store is deliberately a single connection: writers (the indexer, the prober, settlement)
/// commit whole batches in one transaction, and SQLite allows one writer at a time anyway.
pub struct Store {
    url: DatabaseUrl,
    conn: AnyConnection,
}

impl Store {
    /// Connects and applies every pending migration: what every command except `db status` wants.
    pub fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let mut store = Self::connect(url)?;
        store.migrate()?;
        Ok(store)
    }

    /// Connects without touching the schema, so the state of an existing database can be shown.
    pub fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let conn = match url {
            DatabaseUrl::Postgres(raw) => {
                AnyConnection::Postgresql(PgConnection::establish(raw).map_err(|source| {
                    StoreError::Connect {
                        backend: "PostgreSQL",
                        url: url.to_string(),
                        source,
                    }
                })?)
            }
            DatabaseUrl::SqliteFile(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                open_sqlite(&path.to_string_lossy(), url)?
            }
            DatabaseUrl::SqliteMemory => open_sqlite(":memory:", url)?,
        };
        Ok(Self {
            url: url.clone(),
            conn,
        })
    }

    /// Applies the pending migrations and returns the versions it applied.
    pub fn migrate(&mut self) -> Result<Vec<String>, StoreError> {
        let applied: Vec<String> = match &mut self.conn {
            AnyConnection::Postgresql(conn) => conn
                .run_pending_migrations(MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect()),
            AnyConnection::Sqlite(conn) => conn
                .run_pending_migrations(MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect()),
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        if !applied.is_empty() {
            info!(backend = self.url.backend_name(), migrations = ?applied, "applied migrations");
        }
        Ok(applied)
    }

    /// The URL this store was opened with (its display form hides passwords).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        match self.conn {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The connection, for queries written with diesel's DSL.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// Runs `work` in one database transaction: everything commits together or nothing does.
    ///
    /// Every caller writes, so on SQLite the transaction starts with `BEGIN IMMEDIATE`: it takes
    /// the write lock before `work` reads anything, waiting (up to the busy timeout) while another
    /// process holds it. A plain `BEGIN` would read first and fail with `database is locked` when
    /// it later tries to write after another writer committed, because its snapshot is stale —
    /// SQLite cannot wait that case out. With the lock taken up front, `work` reads the latest
    /// committed rows, so a check such as "is this epoch sealed yet?" cannot be overtaken before
    /// the write. PostgreSQL's default transaction needs no such care: a conflicting insert waits
    /// for the other transaction and then fails with a unique violation the caller can name.
    pub fn transaction<T, E>(
        &mut self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        self.run_between(
            Begin {
                sqlite: "BEGIN IMMEDIATE",
                postgresql: "BEGIN",
            },
            |store| work(&mut store.conn),
        )
    }

    /// Runs `work`, which only reads (through this store, which it is given back), on one
    /// consistent snapshot of the database, so that an answer made of several queries (vesting
    /// entries, then transfers, then activity) describes one instant even while `index`, `probe`
    /// or `settle` commit in another process.
    ///
    /// It takes no write lock and blocks no writer: on SQLite a deferred `BEGIN` whose first read
    /// fixes the snapshot (readers and the writer coexist in WAL mode); on PostgreSQL a
    /// `REPEATABLE READ, READ ONLY` transaction, whose snapshot is taken at its first query and
    /// which refuses any write `work` might attempt.
    pub fn snapshot<T, E>(&mut self, work: impl FnOnce(&mut Store) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        self.run_between(
            Begin {
                sqlite: "BEGIN DEFERRED",
                postgresql: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            },
            work,
        )
    }

    /// `work` between the backend's `begin` statement and a commit, or a rollback when it fails.
    fn run_between<T, E>(
        &mut self,
        begin: Begin,
        work: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        type Manager = <AnyConnection as Connection>::TransactionManager;
        match &mut self.conn {
            AnyConnection::Sqlite(conn) => {
                AnsiTransactionManager::begin_transaction_sql(conn, begin.sqlite)?;
            }
            AnyConnection::Postgresql(conn) => {
                AnsiTransactionManager::begin_transaction_sql(conn, begin.postgresql)?;
            }
        }
        // The rest is diesel's own `TransactionManager::transaction`; both backends' managers
        // track the depth the begin above recorded.
        match work(self) {
            Ok(value) => {
                Manager::commit_transaction(&mut self.conn)?;
                Ok(value)
            }
            Err(error) => match Manager::rollback_transaction(&mut self.conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                Err(rollback) => Err(rollback.into()),
            },
        }
    }
}

/// How each backend begins one kind of transaction.
struct Begin {
    sqlite: &'static str,
    postgresql: &'static str,
}

fn open_sqlite(path: &str, url: &DatabaseUrl) -> Result<AnyConnection, StoreError> {
    let connect_error = |source| StoreError::Connect {
        backend: "SQLite",
        url: url.to_string(),
        source,
    };
    let mut conn = SqliteConnection::establish(path).map_err(connect_error)?;
    // WAL lets readers (exports, `db status`) run while the indexer writes; foreign keys are off by
    // default in SQLite and must be switched on per connection; the busy timeout turns a brief
    // lock held by another process into a wait instead of an error, so it is set first: switching
    // a brand-new file to WAL takes a lock that another process may be holding at that moment.
    conn.batch_execute(
        "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .map_err(|e| connect_error(diesel::ConnectionError::CouldntSetupConfiguration(e)))?;
    Ok(AnyConnection::Sqlite(conn))
}

#[cfg(test)]
mod tests {
    use diesel::migration::MigrationSource;

    use super::MIGRATIONS;

    fn versions<DB: diesel::backend::Backend>() -> Vec<String> {
        MigrationSource::<DB>::migrations(&MIGRATIONS)
            .unwrap()
            .iter()
            .map(|m| m.name().version().to_string())
            .collect()
    }

    /// Databases record applied migrations by version: a renamed migration folder would be
    /// applied again on every existing database.
    #[test]
    fn both_backends_embed_the_same_migrations_under_their_recorded_versions() {
        let sqlite = versions::<diesel::sqlite::Sqlite>();
        assert_eq!(
            sqlite,
            [
                "20261121000001",
                "20261201000001",
                "20261201000002",
                "20261201000003",
                "20261201000004",
                "20261201000005",
                "20261201000006",
                "20261202000001"
            ]
        );
        assert_eq!(versions::<diesel::pg::Pg>(), sqlite);
    }
}
