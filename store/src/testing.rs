//! Databases for tests: a fresh SQLite file, or a private schema on a real PostgreSQL server.
//!
//! PostgreSQL tests read `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! Each test gets its own schema, created on start and dropped at the end, so tests run in parallel
//! without seeing each other's rows. Under `CI=true` an unreachable server fails the test: a
//! skipped Postgres test in CI would hide exactly the bugs these tests exist for. Elsewhere the test
//! prints why it skipped and passes.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::chain::write::{self, BlockStamp, BlockWrite, LeaseWrite, ProviderEvent, ProviderWrite};
use crate::{AnyConnection, DatabaseUrl, Store, StoreError};
use domain::{Height, LeaseId};

/// The server used when `TEST_DATABASE_URL` is not set.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated store that cleans up after itself.
pub struct TestDatabase {
    store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteDir(#[allow(dead_code)] tempfile::TempDir),
    PostgresSchema { server_url: String, schema: String },
}

impl TestDatabase {
    /// A URL that opens this same database again, as a user's `--database-url` would.
    pub fn url(&self) -> DatabaseUrl {
        self.store.url().clone()
    }
}

impl Deref for TestDatabase {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl DerefMut for TestDatabase {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::PostgresSchema { server_url, schema } = &self.cleanup {
            if let Ok(mut conn) = PgConnection::establish(server_url) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
            }
        }
    }
}

/// A migrated SQLite database in a temporary folder (a real file, so WAL mode is exercised).
pub fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("create a temporary folder for the test database");
    let url = DatabaseUrl::SqliteFile(dir.path().join("test.sqlite"));
    let store = Store::open(&url).expect("open and migrate a fresh SQLite database");
    TestDatabase {
        store,
        cleanup: Cleanup::SqliteDir(dir),
    }
}

/// A migrated PostgreSQL database in a private schema, or `None` (after printing why) when no
/// server is reachable outside CI.
///
/// # Panics
/// Under `CI=true` when the server cannot be reached or the schema cannot be set up.
pub fn postgres() -> Option<TestDatabase> {
    let server_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_string());
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut admin = match PgConnection::establish(&server_url) {
        Ok(conn) => conn,
        Err(e) if in_ci => panic!("CI=true but PostgreSQL at {server_url} is unreachable: {e}"),
        Err(e) => {
            eprintln!(
                "SKIPPED: PostgreSQL test, no server at {server_url} ({e}); set TEST_DATABASE_URL \
                 or start PostgreSQL to run it"
            );
            return None;
        }
    };
    let schema = unique_schema_name();
    admin
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .expect("create a private schema for the test");
    let separator = if server_url.contains('?') { '&' } else { '?' };
    let url = DatabaseUrl::Postgres(format!(
        "{server_url}{separator}options=-csearch_path%3D{schema}"
    ));
    let cleanup = Cleanup::PostgresSchema { server_url, schema };
    match Store::open(&url) {
        Ok(store) => Some(TestDatabase { store, cleanup }),
        Err(e) => {
            // Build the guard first so the schema is dropped even though the test fails.
            drop(TestDatabase {
                store: Store::open(&DatabaseUrl::SqliteMemory).expect("in-memory SQLite"),
                cleanup,
            });
            panic!("open and migrate the PostgreSQL test schema: {e}");
        }
    }
}

fn unique_schema_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A block without transactions: what tests of settlement need to mark a time as indexed.
pub fn empty_block(
    conn: &mut AnyConnection,
    at: BlockStamp<'_>,
    hash: &str,
) -> Result<(), StoreError> {
    let block = BlockWrite {
        height: at.height,
        time: at.time,
        time_ms: at.time_ms,
        hash,
        tx_count: 0,
        failed_tx_count: 0,
    };
    write::insert_block(conn, &block)?;
    Ok(())
}

/// The id of the first order's bid in group 1 (`owner/dseq/1/1/provider/0`): tests that need
/// several leases vary only the deployment and the provider.
pub fn lease_id(owner: &str, dseq: i64, provider: &str) -> LeaseId {
    LeaseId {
        owner: owner.to_owned(),
        dseq,
        gseq: 1,
        oseq: 1,
        provider: provider.to_owned(),
        bseq: 0,
    }
}

/// A lease as the indexer would leave it: created as `lease` says and, when `closed` is given,
/// closed there with no cause or reason. Goes through the same writes as the indexer, so tests
/// cannot store a row the indexer never would.
pub fn lease(
    conn: &mut AnyConnection,
    lease: &LeaseWrite<'_>,
    closed: Option<BlockStamp<'_>>,
) -> Result<(), StoreError> {
    write::insert_lease(conn, lease)?;
    if let Some(at) = closed {
        write::close_lease(conn, lease.id, at, None, None)?;
    }
    Ok(())
}

/// A provider created at height 1 with no contact details, deleted at `deleted_height` if given:
/// enough for the prober's target list. Block `h` of this test chain is `h` seconds after the
/// Unix epoch, so the provider is registered from 1970 on.
pub fn register_provider(
    conn: &mut AnyConnection,
    owner: &str,
    host_uri: &str,
    deleted_height: Option<i64>,
) -> Result<(), StoreError> {
    let block = |height: i64| TestBlock {
        height,
        time_ms: height.saturating_mul(1_000),
    };
    register_provider_at(conn, owner, host_uri, block(1), deleted_height.map(block))
}

/// A block of a test chain: its height and its time in unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestBlock {
    /// Block height.
    pub height: i64,
    /// Block time.
    pub time_ms: i64,
}

/// A provider with no contact details, created in block `created` and deleted in `deleted` if
/// given: a registration with the times settlement measures it by.
pub fn register_provider_at(
    conn: &mut AnyConnection,
    owner: &str,
    host_uri: &str,
    created: TestBlock,
    deleted: Option<TestBlock>,
) -> Result<(), StoreError> {
    let provider = ProviderWrite {
        owner,
        host_uri,
        email: None,
        website: None,
    };
    let text = |block: TestBlock| domain::UnixMs(block.time_ms).to_string();
    let created_time = text(created);
    let stamp = BlockStamp {
        height: test_height(created.height)?,
        time: &created_time,
        time_ms: created.time_ms,
    };
    write::write_provider(conn, &provider, ProviderEvent::Created(stamp))?;
    if let Some(block) = deleted {
        let deleted_time = text(block);
        let stamp = BlockStamp {
            height: test_height(block.height)?,
            time: &deleted_time,
            time_ms: block.time_ms,
        };
        write::delete_provider(conn, owner, stamp)?;
    }
    Ok(())
}

/// A height given by a test, refused (not wrapped) when negative.
fn test_height(height: i64) -> Result<Height, StoreError> {
    Height::from_stored(height).map_err(|e| StoreError::Corrupt {
        what: "a test's block height".into(),
        problem: e.to_string(),
    })
}

/// Declares each listed test function once per backend.
///
/// Each function takes `&mut Store`; the macro generates `sqlite::<name>` and `postgres::<name>`
/// test cases, so a store behaviour is always checked on both engines by the same code.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let mut db = $crate::testing::sqlite();
                    super::$name(&mut db);
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(mut db) = $crate::testing::postgres() {
                        super::$name(&mut db);
                    }
                }
            )+
        }
    };
}
