use thiserror::Error;

/// Why the store could not do what was asked.
///
/// Each variant carries enough context for a one-sentence message at the CLI edge; the underlying
/// diesel or migration error is kept as the source so the cause chain is printed too.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL is not one this store understands.
    #[error("unsupported database URL {url:?}: {why}")]
    InvalidUrl {
        /// The URL as given, with any password removed.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The database could not be opened or reached.
    #[error("cannot connect to the {backend} database at {url}")]
    Connect {
        /// Which backend was tried.
        backend: &'static str,
        /// The URL, with any password removed.
        url: String,
        /// The driver's error.
        #[source]
        source: diesel::ConnectionError,
    },
    /// The folder for a new SQLite file could not be created.
    #[error("cannot create the folder {path} for the SQLite database")]
    CreateDir {
        /// The folder.
        path: String,
        /// The file-system error.
        #[source]
        source: std::io::Error,
    },
    /// Applying or listing migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    /// A stored value that this program never writes: the database was edited or damaged.
    #[error("the store holds {what} that cannot be right: {problem}")]
    Corrupt {
        /// What was read.
        what: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl StoreError {
    /// Whether a write failed because a row with the same key exists: the one failure a writer
    /// racing another process for the same key (two settle runs sealing one epoch) can explain,
    /// so callers tell it apart without matching on diesel's error types.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))
        )
    }
}
