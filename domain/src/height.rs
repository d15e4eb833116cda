//! Block heights.
//!
//! The chain counts heights as `u64`; the store keeps them in signed 64-bit columns. A [`Height`]
//! is therefore a `u64` that is known to fit `i64`, so the conversion to a column can never wrap.
//! No real chain gets anywhere near the bound; text or wire values beyond it are refused.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A height beyond what the store can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("height {0} exceeds 2^63-1")]
pub struct HeightError(pub u64);

/// A block height, at most `i64::MAX`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::AsExpression, diesel::FromSqlRow),
    diesel(sql_type = diesel::sql_types::BigInt)
)]
#[serde(try_from = "u64", into = "u64")]
pub struct Height(u64);

impl Height {
    /// The largest height the store can hold.
    pub const MAX: Height = Height(i64::MAX as u64);

    /// `height`, refused above [`Height::MAX`].
    pub fn new(height: u64) -> Result<Self, HeightError> {
        if height <= Self::MAX.0 {
            Ok(Self(height))
        } else {
            Err(HeightError(height))
        }
    }

    /// A height read from a store column; negative values (which the store never writes) are
    /// refused rather than wrapped.
    pub fn from_stored(height: i64) -> Result<Self, HeightError> {
        u64::try_from(height)
            .map(Self)
            .map_err(|_| HeightError(height as u64))
    }

    /// The height as the chain counts it.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The height as a store column holds it; exact by construction.
    pub const fn stored(self) -> i64 {
        self.0 as i64
    }

    /// The next height, or `None` at [`Height::MAX`].
    pub fn next(self) -> Option<Self> {
        Self::new(self.0.checked_add(1)?).ok()
    }
}

impl TryFrom<u64> for Height {
    type Error = HeightError;

    fn try_from(height: u64) -> Result<Self, Self::Error> {
        Self::new(height)
    }
}

impl From<Height> for u64 {
    fn from(height: Height) -> Self {
        height.0
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// BIGINT storage on SQLite and PostgreSQL (the store adds the multi-backend connection's impl).
/// A negative column value, which the store never writes, is refused when read.
#[cfg(feature = "diesel")]
mod stored_as_bigint {
    use std::io::Write;

    use diesel::backend::Backend;
    use diesel::deserialize::{self, FromSql};
    use diesel::pg::Pg;
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sql_types::BigInt;
    use diesel::sqlite::Sqlite;

    use super::Height;

    impl<DB: Backend> FromSql<BigInt, DB> for Height
    where
        i64: FromSql<BigInt, DB>,
    {
        fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
            Ok(Height::from_stored(
                <i64 as FromSql<BigInt, DB>>::from_sql(bytes)?,
            )?)
        }
    }

    impl ToSql<BigInt, Sqlite> for Height {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.stored());
            Ok(IsNull::No)
        }
    }

    impl ToSql<BigInt, Pg> for Height {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            // PostgreSQL's binary BIGINT: eight bytes, big-endian.
            out.write_all(&self.stored().to_be_bytes())?;
            Ok(IsNull::No)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_fit_the_store_by_construction() {
        assert_eq!(Height::new(13_760_099).unwrap().stored(), 13_760_099);
        assert_eq!(Height::MAX.stored(), i64::MAX);
        assert!(Height::new(i64::MAX as u64 + 1).is_err());
        assert!(Height::from_stored(-1).is_err());
        assert_eq!(Height::MAX.next(), None);
        assert_eq!(
            Height::new(7).unwrap().next(),
            Some(Height::new(8).unwrap())
        );
    }

    #[test]
    fn serde_refuses_what_new_refuses() {
        assert!(serde_json::from_str::<Height>("9223372036854775808").is_err());
        assert_eq!(
            serde_json::from_str::<Height>("42").unwrap(),
            Height::new(42).unwrap()
        );
    }
}
