//! Exact amounts and their text.
//!
//! Token amounts in base units can exceed 2^64 and chain decimals (`DecCoin`, `sdk.Dec`) carry 18
//! fractional digits, more than `f64` or even `rust_decimal` can always hold. Both are therefore
//! written as text wherever they leave memory (database, CSV, reports) and read back with checked
//! parsing, so a value that goes in comes out unchanged to the last digit.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

/// A string that is not a valid amount, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{text:?} is not {expected}")]
pub struct AmountParseError {
    text: String,
    expected: &'static str,
}

impl AmountParseError {
    fn new(text: &str, expected: &'static str) -> Self {
        // Keep hostile input from blowing up log lines.
        let text: String = text.chars().take(80).collect();
        Self { text, expected }
    }
}

/// A non-negative amount in the smallest unit of a denom (`uakt`, `uact`, …).
///
/// `u128` holds every balance the chain can represent in practice (Cosmos `Int` is 256-bit, but
/// total supplies are far below 2^128); larger text is rejected, never truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::AsExpression, diesel::FromSqlRow),
    diesel(sql_type = diesel::sql_types::Text)
)]
pub struct BaseUnits(pub u128);

impl BaseUnits {
    /// Nothing.
    pub const ZERO: Self = Self(0);

    /// The amount as a plain integer, for arithmetic.
    pub const fn get(self) -> u128 {
        self.0
    }

    /// `self + other`, or `None` past `u128::MAX`.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `self − other`, or `None` below zero.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }
}

impl From<u128> for BaseUnits {
    fn from(units: u128) -> Self {
        Self(units)
    }
}

impl From<BaseUnits> for u128 {
    fn from(units: BaseUnits) -> Self {
        units.0
    }
}

/// The serde form is the integer itself, so records that held a bare `u128` read the same.
impl Serialize for BaseUnits {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u128(self.0)
    }
}

/// Read from an integer; where the format has no 128-bit integers (TOML), also from a string of
/// digits (which may be grouped with `_`), because TOML integers stop at 2^63.
impl<'de> Deserialize<'de> for BaseUnits {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UnitsVisitor;

        impl Visitor<'_> for UnitsVisitor {
            type Value = BaseUnits;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number of base units, e.g. \"2000000000000\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<BaseUnits, E> {
                let digits = text.trim().replace('_', "");
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::custom(format!(
                        "{text:?} is not a whole number of base units"
                    )));
                }
                digits.parse().map(BaseUnits).map_err(|_| {
                    E::custom(format!(
                        "{text:?} is too large (at most 2^128 - 1 base units)"
                    ))
                })
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<BaseUnits, E> {
                u128::try_from(value)
                    .map(BaseUnits)
                    .map_err(|_| E::custom(format!("{value} is negative; amounts cannot be")))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<BaseUnits, E> {
                Ok(BaseUnits(u128::from(value)))
            }

            fn visit_u128<E: de::Error>(self, value: u128) -> Result<BaseUnits, E> {
                Ok(BaseUnits(value))
            }

            fn visit_i128<E: de::Error>(self, value: i128) -> Result<BaseUnits, E> {
                u128::try_from(value)
                    .map(BaseUnits)
                    .map_err(|_| E::custom(format!("{value} is negative; amounts cannot be")))
            }
        }

        // Asked for as a `u128`, not "any": serde_json reads "any" integer beyond u64 as a float,
        // which would lose digits. Formats without 128-bit integers (TOML) forward to "any",
        // where the visitor takes their integers and digit strings alike.
        deserializer.deserialize_u128(UnitsVisitor)
    }
}

impl FromStr for BaseUnits {
    type Err = AmountParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "a whole number of base units below 2^128";
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountParseError::new(text, EXPECTED));
        }
        text.parse::<u128>()
            .map(Self)
            .map_err(|_| AmountParseError::new(text, EXPECTED))
    }
}

impl fmt::Display for BaseUnits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The most fractional digits a Cosmos `sdk.Dec` carries.
pub const CHAIN_DECIMAL_PLACES: usize = 18;

/// A decimal as the chain writes it (`"2037.578017543302848935"`), kept exactly as received.
///
/// The text is validated (an optional `-`, digits, and at most 18 fractional digits) but never
/// re-rendered, so exports reproduce the chain's own spelling. Use [`ChainDecimal::to_decimal`]
/// for arithmetic where the value fits `rust_decimal`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::AsExpression, diesel::FromSqlRow),
    diesel(sql_type = diesel::sql_types::Text)
)]
pub struct ChainDecimal(String);

impl ChainDecimal {
    /// The decimal text, exactly as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a `rust_decimal::Decimal`, or `None` when it has more significant digits than
    /// `Decimal` can hold (it never rounds).
    pub fn to_decimal(&self) -> Option<rust_decimal::Decimal> {
        let value = rust_decimal::Decimal::from_str_exact(&self.0).ok()?;
        // from_str_exact errors on lost precision; double-check by rendering back.
        let fraction_digits = self.0.split_once('.').map_or(0, |(_, f)| f.len());
        (value.scale() as usize == fraction_digits).then_some(value)
    }
}

impl FromStr for ChainDecimal {
    type Err = AmountParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "a decimal number with at most 18 fractional digits";
        // 256-bit sdk.Dec values have at most 78 digits; anything much longer is garbage.
        if text.len() > 100 {
            return Err(AmountParseError::new(text, EXPECTED));
        }
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let fraction_ok = fraction.is_none_or(|f| digits(f) && f.len() <= CHAIN_DECIMAL_PLACES);
        if digits(whole) && fraction_ok {
            Ok(Self(text.to_string()))
        } else {
            Err(AmountParseError::new(text, EXPECTED))
        }
    }
}

impl fmt::Display for ChainDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// TEXT storage on SQLite and PostgreSQL for the types that round-trip through `Display` and
/// `FromStr`. (The store adds the multi-backend connection's impl, which names its own type.)
#[cfg(feature = "diesel")]
mod stored_as_text {
    use diesel::backend::Backend;
    use diesel::deserialize::{self, FromSql};
    use diesel::pg::Pg;
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sql_types::Text;
    use diesel::sqlite::Sqlite;

    use super::{BaseUnits, ChainDecimal};

    macro_rules! stored_as_text {
        ($ty:ty) => {
            impl<DB: Backend> FromSql<Text, DB> for $ty
            where
                String: FromSql<Text, DB>,
            {
                fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                    Ok(<String as FromSql<Text, DB>>::from_sql(bytes)?.parse::<$ty>()?)
                }
            }

            impl ToSql<Text, Sqlite> for $ty {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                    out.set_value(self.to_string());
                    Ok(IsNull::No)
                }
            }

            impl ToSql<Text, Pg> for $ty {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                    use std::io::Write;
                    write!(out, "{self}")?;
                    Ok(IsNull::No)
                }
            }
        };
    }

    stored_as_text!(BaseUnits);
    stored_as_text!(ChainDecimal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_units_accept_only_plain_digits() {
        assert_eq!("0".parse::<BaseUnits>().unwrap(), BaseUnits(0));
        assert_eq!(
            "340282366920938463463374607431768211455"
                .parse::<BaseUnits>()
                .unwrap(),
            BaseUnits(u128::MAX)
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            "1e6",
            " 1",
            "340282366920938463463374607431768211456",
        ] {
            assert!(bad.parse::<BaseUnits>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn base_units_serde_reads_integers_and_grouped_text() {
        assert_eq!(
            serde_json::to_string(&BaseUnits(u128::MAX)).unwrap(),
            "340282366920938463463374607431768211455"
        );
        assert_eq!(
            serde_json::from_str::<BaseUnits>("5000000").unwrap(),
            BaseUnits(5_000_000)
        );
        // Beyond u64 a JSON integer must come back exactly, not through a float.
        assert_eq!(
            serde_json::from_str::<BaseUnits>("340282366920938463463374607431768211455").unwrap(),
            BaseUnits(u128::MAX)
        );
        for bad in [
            "-1",
            "\"1.5\"",
            "\"\"",
            "\"340282366920938463463374607431768211456\"",
        ] {
            assert!(serde_json::from_str::<BaseUnits>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn chain_decimals_keep_their_spelling() {
        let d: ChainDecimal = "2037.578017543302848935".parse().unwrap();
        assert_eq!(d.to_string(), "2037.578017543302848935");
        assert_eq!(
            d.to_decimal().unwrap().to_string(),
            "2037.578017543302848935"
        );
        let negative: ChainDecimal = "-0.5".parse().unwrap();
        assert_eq!(negative.as_str(), "-0.5");
    }

    #[test]
    fn chain_decimals_reject_malformed_text() {
        for bad in [
            "",
            ".5",
            "5.",
            "1.0000000000000000001",
            "1,5",
            "NaN",
            "--1",
            "1e3",
            "0x10",
        ] {
            assert!(bad.parse::<ChainDecimal>().is_err(), "{bad:?} was accepted");
        }
        assert!("9".repeat(101).parse::<ChainDecimal>().is_err());
    }

    #[test]
    fn decimals_too_wide_for_rust_decimal_are_not_rounded() {
        let wide: ChainDecimal = "123456789012345.000000000000000001".parse().unwrap();
        assert_eq!(wide.to_decimal(), None);
        assert_eq!(wide.as_str(), "123456789012345.000000000000000001");
    }
}
