use std::fmt;
use std::path::PathBuf;

use crate::StoreError;

/// Where the store lives, parsed from a database URL.
///
/// Accepted forms:
/// * `postgres://…` or `postgresql://…`: PostgreSQL, passed to libpq unchanged;
/// * `sqlite://PATH`, `sqlite:PATH` or a plain file path: a SQLite file;
/// * `sqlite::memory:` or `:memory:`: a private in-memory SQLite database (tests, dry runs).
///
/// Anything else with a `scheme://` prefix is rejected rather than being mistaken for a file name.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file (created on first use).
    SqliteFile(PathBuf),
    /// A SQLite database that lives only as long as its connection.
    SqliteMemory,
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a URL as given on the command line, in the config or in the environment.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let trimmed = raw.trim();
        let invalid = |why: &str| StoreError::InvalidUrl {
            url: redact(trimmed),
            why: why.to_string(),
        };
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            return Ok(Self::Postgres(trimmed.to_string()));
        }
        let path = trimmed
            .strip_prefix("sqlite://")
            .or_else(|| trimmed.strip_prefix("sqlite:"))
            .unwrap_or(trimmed);
        if path == ":memory:" {
            return Ok(Self::SqliteMemory);
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(invalid(&format!(
                "the scheme {scheme:?} is not supported; use postgres://… or a SQLite file path"
            )));
        }
        if path.is_empty() {
            return Err(invalid("it names no SQLite file"));
        }
        Ok(Self::SqliteFile(PathBuf::from(path)))
    }

    /// The backend this URL selects.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "PostgreSQL",
            Self::SqliteFile(_) | Self::SqliteMemory => "SQLite",
        }
    }
}

/// Shows the URL with any password replaced, so it can be logged and printed safely.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SqliteFile(path) => write!(f, "sqlite://{}", path.display()),
            Self::SqliteMemory => f.write_str("sqlite::memory:"),
            Self::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Replaces the password of a `scheme://user:password@host` URL with `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_select_postgres() {
        let url = DatabaseUrl::parse("postgres://postgres@127.0.0.1:5432/test").unwrap();
        assert_eq!(url.backend_name(), "PostgreSQL");
    }

    #[test]
    fn plain_paths_and_sqlite_urls_select_a_file() {
        for raw in [
            "data/akash.sqlite",
            "sqlite://data/akash.sqlite",
            "sqlite:data/akash.sqlite",
        ] {
            assert_eq!(
                DatabaseUrl::parse(raw).unwrap(),
                DatabaseUrl::SqliteFile(PathBuf::from("data/akash.sqlite")),
                "{raw}"
            );
        }
        assert_eq!(
            DatabaseUrl::parse(":memory:").unwrap(),
            DatabaseUrl::SqliteMemory
        );
    }

    #[test]
    fn unknown_schemes_are_rejected_not_taken_as_files() {
        let err = DatabaseUrl::parse("mysql://root@localhost/db").unwrap_err();
        assert!(
            err.to_string().contains("\"mysql\" is not supported"),
            "{err}"
        );
        assert!(DatabaseUrl::parse("  ").is_err());
    }

    #[test]
    fn passwords_never_reach_the_display_form() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/prod").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/prod");
        let err = DatabaseUrl::parse("redis://app:s3cret@db").unwrap_err();
        assert!(!err.to_string().contains("s3cret"));
    }
}
