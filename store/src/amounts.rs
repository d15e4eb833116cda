//! The multi-backend connection's half of storing `domain`'s exact amounts as TEXT and its
//! heights as BIGINT.
//!
//! `domain` (with its `diesel` feature) stores them on SQLite and PostgreSQL; the enum connection
//! generated here has a backend type of its own, which only this crate can name.

use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Text};
use domain::{BaseUnits, ChainDecimal, Height};

use crate::connection::MultiBackend;

macro_rules! stored_as_text_on_any_backend {
    ($($ty:ty),*) => {$(
        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }
    )*};
}

stored_as_text_on_any_backend!(BaseUnits, ChainDecimal);

/// Heights are BIGINT columns; the multi-backend connection hands them on like any other.
impl ToSql<BigInt, MultiBackend> for Height {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((BigInt, self));
        Ok(IsNull::No)
    }
}
