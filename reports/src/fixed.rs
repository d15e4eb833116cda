//! Exact ratios as fixed-decimal text: GPU-hours from GPU-ms, utilization percentages, and
//! chain decimals (18 places) multiplied by whole block counts. Published numbers are computed
//! from integers only, so the same store gives the same text on every machine, and no `f64`
//! ever touches an amount.

use domain::ChainDecimal;

/// Milliseconds in an hour: GPU-ms divided by it are GPU-hours.
pub const MS_PER_HOUR: u128 = 3_600_000;

/// `numerator / denominator` with exactly `places` fractional digits, rounded half up; `None`
/// when `denominator` is 0 (a ratio of nothing, which a table shows as empty).
pub fn ratio(numerator: u128, denominator: u128, places: u32) -> Option<String> {
    if denominator == 0 {
        return None;
    }
    let scale = 10u128.checked_pow(places)?;
    let whole = numerator / denominator;
    let rest = numerator % denominator;
    // Long division digit by digit: `remainder < denominator`, so `remainder × 10` only
    // saturates for denominators above u128::MAX / 10, far beyond any GPU-ms or window.
    let mut fraction: u128 = 0;
    let mut remainder = rest;
    for _ in 0..places {
        remainder = remainder.saturating_mul(10);
        fraction = fraction * 10 + remainder / denominator;
        remainder %= denominator;
    }
    let round_up = remainder.checked_mul(2).is_none_or(|r| r >= denominator);
    let (mut whole, mut fraction) = (whole, fraction);
    if round_up {
        fraction += 1;
        if fraction == scale {
            fraction = 0;
            whole = whole.checked_add(1)?;
        }
    }
    Some(if places == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{fraction:0width$}", width = places as usize)
    })
}

/// GPU-ms as GPU-hours with three decimals.
pub fn gpu_hours(gpu_ms: u128) -> String {
    ratio(gpu_ms, MS_PER_HOUR, 3).unwrap_or_default()
}

/// The fractional digits of a [`ChainDecimal`] (the chain's `sdk.Dec` has 18).
pub const CHAIN_PLACES: u32 = 18;

/// A non-negative chain decimal as an integer count of 10⁻¹⁸ units (`"1.5"` → 1.5 × 10¹⁸), or
/// `None` when it is negative or does not fit 128 bits. Exact: a chain decimal has at most 18
/// fractional digits.
pub fn atto_units(value: &ChainDecimal) -> Option<u128> {
    let text = value.as_str();
    if text.starts_with('-') {
        return None;
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let padding = usize::try_from(CHAIN_PLACES)
        .ok()?
        .checked_sub(fraction.len())?;
    let digits = format!("{whole}{fraction}{}", "0".repeat(padding));
    digits.parse().ok()
}

/// An integer count of 10⁻¹⁸ units as decimal text with all 18 places, the way the chain writes
/// a `sdk.Dec` (`1500000000000000000` → `"1.500000000000000000"`).
pub fn atto_text(atto: u128) -> String {
    let scale = 10u128.pow(CHAIN_PLACES);
    format!("{}.{:018}", atto / scale, atto % scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_round_half_up_with_fixed_places() {
        assert_eq!(ratio(1, 3, 3).as_deref(), Some("0.333"));
        assert_eq!(ratio(2, 3, 3).as_deref(), Some("0.667"));
        assert_eq!(ratio(1, 8, 2).as_deref(), Some("0.13"));
        assert_eq!(ratio(999_999, 1_000_000, 2).as_deref(), Some("1.00"));
        assert_eq!(ratio(7, 2, 0).as_deref(), Some("4"));
        assert_eq!(ratio(5, 0, 2), None);
        assert_eq!(gpu_hours(5_400_000), "1.500");
        assert_eq!(ratio(u128::MAX, u128::MAX - 1, 2).as_deref(), Some("1.00"));
    }

    #[test]
    fn chain_decimals_convert_exactly() {
        let price: ChainDecimal = "2037.578017543302848935".parse().unwrap();
        assert_eq!(atto_units(&price), Some(2_037_578_017_543_302_848_935));
        assert_eq!(atto_units(&"3".parse().unwrap()), Some(3 * 10u128.pow(18)));
        assert_eq!(atto_units(&"-1".parse().unwrap()), None);
        assert_eq!(
            atto_text(2_037_578_017_543_302_848_935 * 70),
            "142630.461228031199425450"
        );
    }
}
