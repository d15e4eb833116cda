//! Money: base units, USD amounts, the price table and the exact conversions between them.
//!
//! Every amount that is paid is an integer number of base units of the payout denom (`uakt`),
//! a [`domain::BaseUnits`]. That is the workspace's one amount type, not a local alias of `u128`,
//! so an amount cannot be passed where a weight, a GPU-millisecond count or a denomination
//! factor is expected, and the store, the reports and this crate agree on it. Arithmetic happens
//! on the inner integer (`.0`/`.get()`), checked. Its serialised form is the bare integer, as
//! before, and it reads back exactly beyond `u64` too (domain asks serde for a `u128`).
//! USD figures (budgets, contract rates, grants) stay `rust_decimal::Decimal` until the moment
//! they are converted, and are converted with one exact rational computation followed by one
//! floor — no intermediate decimal rounding.
//!
//! **Bounds.** A USD amount or a price is turned into an integer of 10⁻¹⁸ dollars
//! ([`USD_DECIMALS`]); it must have at most 18 decimal places and that integer must fit in a
//! `u128` (about 3.4·10²⁰ dollars). `base_units_per_token` is at most 10¹⁸. Under these bounds
//! the product of a budget or grant conversion always fits in 256 bits. A rate's product also
//! multiplies by GPU-milliseconds, which are measured rather than configured; the rare product
//! beyond 256 bits, like any result that does not fit back into `u128`, is reported as an error
//! (validation computes every contract's maximum total, so a configuration that could hit it is
//! rejected up front).

use crate::wide::{mul_div, U256};
use domain::{BaseUnits, UnixMs};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Decimal places kept when a USD figure is made an integer (10⁻¹⁸ dollars).
pub const USD_DECIMALS: u32 = 18;

/// The largest accepted `base_units_per_token` (10¹⁸, the most decimals any Cosmos denom uses).
pub const MAX_BASE_UNITS_PER_TOKEN: u128 = 1_000_000_000_000_000_000;

/// Milliseconds in an hour: rates are per GPU-hour, measurements are in GPU-milliseconds.
pub const MS_PER_HOUR: u128 = 3_600_000;

/// Why an amount could not be converted or represented.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    /// Money is never negative in this programme.
    #[error("amount {0} is negative")]
    Negative(Decimal),
    /// More than [`USD_DECIMALS`] decimal places cannot be represented exactly.
    #[error("{0} has more than {USD_DECIMALS} decimal places")]
    TooManyDecimals(Decimal),
    /// The value is beyond the documented bounds of the exact arithmetic.
    #[error("{0} is too large for exact arithmetic")]
    TooLarge(String),
    /// A price must be strictly positive to divide by it.
    #[error("price {0} is not positive")]
    NonPositivePrice(Decimal),
    /// No price point is in force at the time a conversion is needed.
    #[error("no price in force at {} ms", .0.as_millis())]
    NoPrice(UnixMs),
    /// A USD amount needs a price table, and the programme has none.
    #[error("a USD amount needs a price table")]
    NoPriceTable,
    /// `base_units_per_token` is zero or above [`MAX_BASE_UNITS_PER_TOKEN`].
    #[error("base_units_per_token {0} must be in 1..=10^18")]
    BadDenomination(u128),
}

/// A budget, rate or grant as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Money {
    /// Integer base units of the payout denom; used as is.
    BaseUnits(BaseUnits),
    /// US dollars; converted to base units at the price in force when the amount is needed.
    Usd(Decimal),
}

impl Money {
    /// Checks that the amount is representable under the crate's bounds (see module docs).
    pub fn check(&self) -> Result<(), MoneyError> {
        match self {
            Money::BaseUnits(_) => Ok(()),
            Money::Usd(usd) => usd_to_fixed(*usd).map(|_| ()),
        }
    }

    /// Whether both amounts are written in the same unit, so they can be compared without a price.
    pub fn same_unit(&self, other: &Money) -> bool {
        matches!(
            (self, other),
            (Money::BaseUnits(_), Money::BaseUnits(_)) | (Money::Usd(_), Money::Usd(_))
        )
    }
}

/// The payout denom: its name and how many base units make one whole token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denomination {
    /// Base-unit denom as it appears on chain, for example `uakt`.
    pub name: String,
    /// Base units per whole token (10⁶ for AKT); prices are quoted per whole token.
    pub base_units_per_token: u128,
}

impl Denomination {
    /// `amount` base units as a person reads them: the base units grouped by thousands and the
    /// denom, then the whole tokens, exact and without trailing zeros: `80,000,000 uakt (80
    /// AKT)`, `1,500 uakt (0.0015 AKT)`. The token's symbol is the denom without its metric
    /// prefix, upper-cased (`uakt` → `AKT`, `aevmos` → `EVMOS`) when the prefix matches
    /// `base_units_per_token`; otherwise, and when a token is not a power of ten of base units,
    /// only the base units are shown.
    pub fn human(&self, amount: u128) -> String {
        let base = format!("{} {}", group_thousands(&amount.to_string()), self.name);
        let per = self.base_units_per_token;
        let Some(symbol) = self.token_symbol() else {
            return base;
        };
        let decimals = per.ilog10() as usize;
        let whole = group_thousands(&(amount / per).to_string());
        let fraction = format!("{:0decimals$}", amount % per);
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            format!("{base} ({whole} {symbol})")
        } else {
            format!("{base} ({whole}.{fraction} {symbol})")
        }
    }

    /// The whole token's symbol, when the denom's metric prefix says how many base units make
    /// one (and `base_units_per_token` agrees).
    fn token_symbol(&self) -> Option<String> {
        let per = self.base_units_per_token;
        let exponent = match self.name.chars().next()? {
            'm' => 3,
            'u' => 6,
            'n' => 9,
            'p' => 12,
            'a' => 18,
            _ => return None,
        };
        let rest = &self.name[1..];
        (per > 1 && 10u128.checked_pow(exponent) == Some(per) && !rest.is_empty())
            .then(|| rest.to_uppercase())
    }

    /// Checks `1 ≤ base_units_per_token ≤ 10¹⁸`.
    pub fn check(&self) -> Result<(), MoneyError> {
        if (1..=MAX_BASE_UNITS_PER_TOKEN).contains(&self.base_units_per_token) {
            Ok(())
        } else {
            Err(MoneyError::BadDenomination(self.base_units_per_token))
        }
    }
}

/// One row of the price table: from `from_ms` on, one whole token is worth `usd_per_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricePoint {
    /// When this price comes into force (a CSV date becomes 00:00 UTC of that day).
    pub from_ms: UnixMs,
    /// USD per whole token; strictly positive.
    pub usd_per_token: Decimal,
}

impl PricePoint {
    /// Checks that the price is positive and representable (see the module's bounds).
    pub fn check(&self) -> Result<(), MoneyError> {
        price_to_fixed(self.usd_per_token).map(|_| ())
    }
}

/// The token's USD price over time, with where it came from.
///
/// A point stays in force until the next point. The price "in force at" `t` is the last point
/// with `from_ms ≤ t`; before the first point there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceTable {
    /// Where the prices come from (a CSV path and hash, an API name…), copied into every output
    /// that used a price so an auditor can fetch the same numbers.
    pub source: String,
    /// Points in strictly increasing `from_ms` order.
    pub points: Vec<PricePoint>,
}

impl PriceTable {
    /// The price in force at `t`: the last point with `from_ms ≤ t`.
    pub fn in_force_at(&self, t: UnixMs) -> Option<&PricePoint> {
        let after = self.points.partition_point(|p| p.from_ms <= t);
        after.checked_sub(1).and_then(|i| self.points.get(i))
    }

    /// The price in force at `t`, recorded with the table's source for the outputs.
    pub fn price_use_at(&self, t: UnixMs) -> Result<PriceUse, MoneyError> {
        let point = self.in_force_at(t).ok_or(MoneyError::NoPrice(t))?;
        Ok(PriceUse {
            usd_per_token: point.usd_per_token,
            from_ms: point.from_ms,
            source: self.source.clone(),
        })
    }
}

/// A price that was used in a conversion, recorded in the outputs so it can be re-derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceUse {
    /// USD per whole token.
    pub usd_per_token: Decimal,
    /// When that price point came into force.
    pub from_ms: UnixMs,
    /// The price table's source.
    pub source: String,
}

/// A USD decimal as an integer number of 10⁻¹⁸ dollars; exact or an error.
pub(crate) fn usd_to_fixed(usd: Decimal) -> Result<u128, MoneyError> {
    if usd.is_sign_negative() && !usd.is_zero() {
        return Err(MoneyError::Negative(usd));
    }
    let normal = usd.normalize();
    let scale = normal.scale();
    if scale > USD_DECIMALS {
        return Err(MoneyError::TooManyDecimals(usd));
    }
    let mantissa = u128::try_from(normal.mantissa()).map_err(|_| MoneyError::Negative(usd))?;
    10u128
        .checked_pow(USD_DECIMALS - scale)
        .and_then(|factor| mantissa.checked_mul(factor))
        .ok_or_else(|| MoneyError::TooLarge(usd.to_string()))
}

/// A price as an integer of 10⁻¹⁸ dollars, refused unless strictly positive.
fn price_to_fixed(price: Decimal) -> Result<u128, MoneyError> {
    match usd_to_fixed(price) {
        Ok(0) | Err(MoneyError::Negative(_)) => Err(MoneyError::NonPositivePrice(price)),
        other => other,
    }
}

/// Converts a USD amount to base units at a price:
/// `floor(usd × base_units_per_token / usd_per_token)`, computed exactly.
///
/// This is the one place a USD amount becomes base units; the floor loses less than one base
/// unit, and the price used is recorded next to the result by the caller.
pub fn usd_to_base_units(
    usd: Decimal,
    usd_per_token: Decimal,
    base_units_per_token: u128,
) -> Result<BaseUnits, MoneyError> {
    let usd = usd_to_fixed(usd)?;
    let price = price_to_fixed(usd_per_token)?;
    // Both sides are in 10⁻¹⁸ dollars, so the scale cancels in the ratio.
    mul_div(usd, base_units_per_token, price)
        .map(BaseUnits)
        .ok_or_else(|| MoneyError::TooLarge(format!("{usd} × {base_units_per_token}")))
}

/// A per-GPU-hour rate ready to be applied to a number of GPU-milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HourlyRate {
    /// Base units per GPU-hour.
    BaseUnits(u128),
    /// `usd_fixed / price_fixed × base_units_per_token` base units per GPU-hour, kept as a ratio.
    Usd {
        usd_fixed: u128,
        price_fixed: u128,
        base_units_per_token: u128,
    },
}

impl HourlyRate {
    /// Resolves a configured rate; a USD rate needs the price it is converted at.
    pub(crate) fn resolve(
        rate: &Money,
        price: Option<&PriceUse>,
        base_units_per_token: u128,
    ) -> Result<Self, MoneyError> {
        match (rate, price) {
            (Money::BaseUnits(r), _) => Ok(HourlyRate::BaseUnits(r.get())),
            (Money::Usd(usd), Some(price)) => Ok(HourlyRate::Usd {
                usd_fixed: usd_to_fixed(*usd)?,
                price_fixed: price_to_fixed(price.usd_per_token)?,
                base_units_per_token,
            }),
            (Money::Usd(_), None) => Err(MoneyError::NoPriceTable),
        }
    }

    /// `floor(rate × gpu_ms / 3_600_000)` in base units, computed as one exact fraction.
    ///
    /// For a USD rate this is `floor(usd × base_units_per_token × gpu_ms / (price × 3_600_000))`:
    /// the rate is never rounded to base units on its own, so the error stays below one base
    /// unit however many GPU-hours it multiplies.
    pub(crate) fn amount_for(&self, gpu_ms: u128) -> Result<BaseUnits, MoneyError> {
        let too_large = || MoneyError::TooLarge(format!("rate × {gpu_ms} GPU-ms"));
        match self {
            HourlyRate::BaseUnits(r) => mul_div(*r, gpu_ms, MS_PER_HOUR)
                .map(BaseUnits)
                .ok_or_else(too_large),
            HourlyRate::Usd {
                usd_fixed,
                price_fixed,
                base_units_per_token,
            } => {
                // floor(floor(x / a) / b) == floor(x / (a·b)) for positive integers.
                let numerator = U256::mul(*usd_fixed, *base_units_per_token)
                    .checked_mul_u128(gpu_ms)
                    .ok_or_else(too_large)?;
                let (per_price, _) = numerator.div_rem_u128(*price_fixed).ok_or_else(too_large)?;
                let (amount, _) = per_price.div_rem_u128(MS_PER_HOUR).ok_or_else(too_large)?;
                amount.to_u128().map(BaseUnits).ok_or_else(too_large)
            }
        }
    }
}

/// `digits` (ASCII digits) with a comma between each group of three from the right.
fn group_thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn denom(name: &str, per: u128) -> Denomination {
        Denomination {
            name: name.into(),
            base_units_per_token: per,
        }
    }

    #[test]
    fn amounts_read_in_base_units_and_whole_tokens() {
        let uakt = denom("uakt", 1_000_000);
        assert_eq!(uakt.human(80_000_000), "80,000,000 uakt (80 AKT)");
        assert_eq!(uakt.human(1_500), "1,500 uakt (0.0015 AKT)");
        assert_eq!(uakt.human(0), "0 uakt (0 AKT)");
        assert_eq!(uakt.human(999), "999 uakt (0.000999 AKT)");
        assert_eq!(
            uakt.human(1_234_567_891),
            "1,234,567,891 uakt (1,234.567891 AKT)"
        );
        assert_eq!(
            uakt.human(u128::MAX),
            "340,282,366,920,938,463,463,374,607,431,768,211,455 uakt \
             (340,282,366,920,938,463,463,374,607,431,768.211455 AKT)"
        );
        assert_eq!(
            denom("aevmos", 10u128.pow(18)).human(5 * 10u128.pow(17)),
            "500,000,000,000,000,000 aevmos (0.5 EVMOS)"
        );
        // No prefix that says what a token is, or one that disagrees: base units only.
        assert_eq!(denom("credits", 100).human(12_345), "12,345 credits");
        assert_eq!(denom("uakt", 1_000).human(12_345), "12,345 uakt");
        assert_eq!(denom("u", 1_000_000).human(7), "7 u");
    }

    #[test]
    fn usd_converts_with_a_single_floor() {
        // $1000 at $3.14 per AKT: 1000 / 3.14 = 318.4713375… AKT = 318_471_337.57… uakt.
        assert_eq!(
            usd_to_base_units(dec("1000"), dec("3.14"), 1_000_000),
            Ok(BaseUnits(318_471_337))
        );
    }

    #[test]
    fn hostile_decimals_are_errors() {
        assert_eq!(
            usd_to_base_units(dec("-1"), dec("3"), 1_000_000),
            Err(MoneyError::Negative(dec("-1")))
        );
        assert_eq!(
            usd_to_base_units(dec("1"), dec("0"), 1_000_000),
            Err(MoneyError::NonPositivePrice(dec("0")))
        );
        assert!(matches!(
            usd_to_fixed(dec("0.0000000000000000001")),
            Err(MoneyError::TooManyDecimals(_))
        ));
        assert!(matches!(
            usd_to_fixed(Decimal::MAX),
            Err(MoneyError::TooLarge(_))
        ));
        // Trailing zeros beyond 18 places are not real precision.
        assert_eq!(
            usd_to_fixed(dec("1.5000000000000000000000")),
            Ok(15 * 10u128.pow(17))
        );
    }

    #[test]
    fn price_in_force_is_the_last_point_not_after_t() {
        let table = PriceTable {
            source: "test".into(),
            points: vec![
                PricePoint {
                    from_ms: UnixMs(100),
                    usd_per_token: dec("2"),
                },
                PricePoint {
                    from_ms: UnixMs(200),
                    usd_per_token: dec("3"),
                },
            ],
        };
        let at = |t| table.in_force_at(UnixMs(t));
        assert!(at(99).is_none());
        assert_eq!(at(100).unwrap().usd_per_token, dec("2"));
        assert_eq!(at(199).unwrap().usd_per_token, dec("2"));
        assert_eq!(at(200).unwrap().usd_per_token, dec("3"));
        assert_eq!(at(i64::MAX).unwrap().usd_per_token, dec("3"));
    }

    #[test]
    fn usd_rate_is_not_rounded_before_multiplying() {
        // $0.001 per GPU-hour at $3 per AKT is 333.33… uakt per GPU-hour. Over 3 GPU-hours the
        // exact amount is 1000 uakt; rounding the rate first would give 999.
        let price = PriceUse {
            usd_per_token: dec("3"),
            from_ms: UnixMs(0),
            source: "t".into(),
        };
        let rate = HourlyRate::resolve(&Money::Usd(dec("0.001")), Some(&price), 1_000_000).unwrap();
        assert_eq!(rate.amount_for(3 * MS_PER_HOUR), Ok(BaseUnits(1000)));
        assert_eq!(rate.amount_for(MS_PER_HOUR), Ok(BaseUnits(333)));
    }
}
