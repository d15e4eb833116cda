//! Which of several processes sharing one database leads: indexes and settles.
//!
//! Two indexers writing the same cursor, or two settlement runs racing to seal an epoch, would
//! waste work at best; so of all the `serve` processes pointed at one database exactly one
//! leads, and the others only probe from their own vantage points. The lock is the database's
//! own where it has one, so it needs no clock and no heartbeat, and it is released the moment
//! its holder dies, however it dies:
//!
//! - **PostgreSQL:** a session-level advisory lock (`pg_try_advisory_lock`) on a connection
//!   kept open for as long as the process leads. The server drops it with the connection.
//! - **SQLite:** an exclusive `flock` on `<database file>.<scope>.lead` beside the database. One
//!   SQLite file lives on one host, and the kernel drops the lock with the process.
//!
//! An in-memory SQLite database belongs to one connection of one process, so its process always
//! leads.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use diesel::sql_types::{BigInt, Bool};
use diesel::{QueryableByName, RunQueryDsl};

use crate::{AnyConnection, DatabaseUrl, Store, StoreError};

/// The lease of leadership, held until dropped.
pub struct Leadership {
    held: Held,
}

enum Held {
    /// The connection whose session holds the advisory lock.
    Advisory(Box<Store>),
    /// The locked file: the lock lasts while it is open.
    File(#[allow(dead_code, reason = "held open for its lock, never read")] File),
    /// Nothing to share: an in-memory database.
    Alone,
}

/// Why leadership could not be asked for (not that another process has it: that is `Ok(None)`).
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// The database could not be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The lock file could not be opened or locked.
    #[error("cannot use the lock file {path}")]
    LockFile {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

impl Leadership {
    /// Takes leadership of `scope` (what the leader alone may do, such as indexing one chain)
    /// in the database at `url` if no other process holds it; `Ok(None)` when one does. Never
    /// waits.
    ///
    /// # Errors
    /// When the database or the lock file cannot be used.
    pub fn try_take(url: &DatabaseUrl, scope: &str) -> Result<Option<Self>, LeaderError> {
        let held = match url {
            DatabaseUrl::Postgres(_) => {
                let mut store = Store::connect(url)?;
                let AnyConnection::Postgresql(conn) = store.conn() else {
                    unreachable!("a postgres:// URL opens a PostgreSQL connection");
                };
                let Locked { locked } =
                    diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
                        .bind::<BigInt, _>(advisory_key(scope))
                        .get_result(conn)
                        .map_err(StoreError::Query)?;
                if !locked {
                    return Ok(None);
                }
                Held::Advisory(Box::new(store))
            }
            DatabaseUrl::SqliteFile(path) => {
                let path = lock_file(path, scope);
                let failed = |source| LeaderError::LockFile {
                    path: path.display().to_string(),
                    source,
                };
                let file = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(failed)?;
                // Called by path, not as a method: the standard library's `File::try_lock` is
                // newer than this workspace's minimum Rust.
                match fs4::FileExt::try_lock(&file) {
                    Ok(()) => Held::File(file),
                    Err(fs4::TryLockError::WouldBlock) => return Ok(None),
                    Err(fs4::TryLockError::Error(e)) => return Err(failed(e)),
                }
            }
            DatabaseUrl::SqliteMemory => Held::Alone,
        };
        Ok(Some(Self { held }))
    }

    /// Whether the lock is still held: false once the connection holding an advisory lock has
    /// been lost (the server then released the lock, and another process may lead already).
    pub fn still_held(&mut self) -> bool {
        match &mut self.held {
            Held::Advisory(store) => diesel::sql_query("SELECT 1 AS one")
                .execute(store.conn())
                .is_ok(),
            Held::File(_) | Held::Alone => true,
        }
    }
}

/// The advisory lock's key for `scope`: a stable 64-bit hash (FNV-1a), the same in every
/// process and every build, of the tool's name and the scope.
fn advisory_key(scope: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in "akash-incentives lead ".bytes().chain(scope.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// `<database>.<scope>.lead`, beside the database file, with any character of the scope that
/// is not a letter, digit, `-` or `_` written `_`.
fn lock_file(database: &std::path::Path, scope: &str) -> PathBuf {
    let scope: String = scope
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut name = database.as_os_str().to_owned();
    name.push(format!(".{scope}.lead"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_beside_the_database_and_names_the_scope_safely() {
        assert_eq!(
            lock_file(std::path::Path::new("data/a.sqlite"), "akashnet-2"),
            PathBuf::from("data/a.sqlite.akashnet-2.lead")
        );
        assert_eq!(
            lock_file(std::path::Path::new("a.sqlite"), "../x y"),
            PathBuf::from("a.sqlite.___x_y.lead")
        );
    }

    #[test]
    fn the_advisory_key_is_stable_and_differs_per_scope() {
        assert_eq!(advisory_key("p"), advisory_key("p"));
        assert_ne!(advisory_key("p"), advisory_key("q"));
    }
}
