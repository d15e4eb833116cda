//! Kubernetes `resource.Quantity` strings read as whole GPU counts, without ever panicking.
//!
//! Providers report GPU counts as k8s quantities (`"8"`), and broken inventory operators have
//! sent `"18446744073709551615"` (a u64 underflow), `"-1"` and values in the millions. The parser
//! accepts the whole quantity grammar (`"1k"`, `"2Ki"`, `"500m"`, `"1e3"`, `"+.5"`), computes the
//! value exactly with checked 128-bit arithmetic and says what is wrong with it instead of
//! guessing: negative, fractional, larger than anything countable, or not a quantity at all.

/// Longest quantity string that is parsed; anything longer is not a count.
const MAX_LEN: usize = 64;

/// What a quantity string says, as far as a count of whole devices is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A non-negative value: its integer part, and whether a fractional part was dropped.
    NonNegative {
        /// `floor(value)`.
        whole: u128,
        /// Whether `value` had a non-zero fractional part.
        fractional: bool,
    },
    /// A value below zero.
    Negative,
    /// A value too large for 128 bits: certainly above any per-node limit.
    TooLarge,
    /// Not a quantity (empty, bad characters, unknown suffix, too long).
    Unparseable,
}

/// Reads `text` as a k8s quantity.
pub fn parse(text: &str) -> Quantity {
    parse_inner(text).unwrap_or(Quantity::Unparseable)
}

fn parse_inner(text: &str) -> Option<Quantity> {
    if text.is_empty() || text.len() > MAX_LEN || !text.is_ascii() {
        return None;
    }
    let (negative, unsigned) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let (int_digits, frac_digits) = number.split_once('.').unwrap_or((number, ""));
    if int_digits.is_empty() && frac_digits.is_empty() || frac_digits.contains('.') {
        return None;
    }
    let scale = parse_suffix(suffix)?;
    let digits: String = [int_digits, frac_digits].concat();
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(Quantity::NonNegative {
            whole: 0,
            fractional: false,
        });
    }
    if negative {
        return Some(Quantity::Negative);
    }
    // value = digits × 10^(decimal_exponent) × 2^(binary_exponent)
    let decimal_exponent = scale.decimal - i32::try_from(frac_digits.len()).ok()?;
    Some(exact_value(digits, decimal_exponent, scale.binary))
}

/// A suffix as powers of ten and of two.
struct Scale {
    decimal: i32,
    binary: u32,
}

fn parse_suffix(suffix: &str) -> Option<Scale> {
    let decimal = |decimal| Some(Scale { decimal, binary: 0 });
    let binary = |binary| Some(Scale { decimal: 0, binary });
    match suffix {
        "" => decimal(0),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let unsigned = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Exponents beyond ±1000 only matter as "huge" or "tiny"; clamp so i32 cannot overflow.
            let magnitude: i32 = unsigned.parse::<u32>().map_or(1000, |v| v.min(1000) as i32);
            decimal(if exponent.starts_with('-') {
                -magnitude
            } else {
                magnitude
            })
        }
    }
}

/// `digits × 10^decimal_exponent × 2^binary_exponent` (digits non-empty, no leading zero).
fn exact_value(digits: &str, decimal_exponent: i32, binary_exponent: u32) -> Quantity {
    let Ok(mantissa) = digits.parse::<u128>() else {
        return long_mantissa(digits, decimal_exponent, binary_exponent);
    };
    let Some(scaled) = 2u128
        .checked_pow(binary_exponent)
        .and_then(|two| mantissa.checked_mul(two))
    else {
        return Quantity::TooLarge;
    };
    let ten_power = 10u128.checked_pow(decimal_exponent.unsigned_abs());
    if decimal_exponent >= 0 {
        return match ten_power.and_then(|ten| scaled.checked_mul(ten)) {
            Some(whole) => Quantity::NonNegative {
                whole,
                fractional: false,
            },
            None => Quantity::TooLarge,
        };
    }
    match ten_power {
        Some(divisor) => Quantity::NonNegative {
            whole: scaled / divisor,
            fractional: scaled % divisor != 0,
        },
        // The divisor exceeds u128, so it exceeds `scaled`: the value lies in (0, 1).
        None => Quantity::NonNegative {
            whole: 0,
            fractional: true,
        },
    }
}

/// A mantissa of more than 38 significant digits: only a negative decimal exponent can bring it
/// back into range, by moving digits behind the decimal point.
fn long_mantissa(digits: &str, decimal_exponent: i32, binary_exponent: u32) -> Quantity {
    if decimal_exponent >= 0 {
        return Quantity::TooLarge;
    }
    if binary_exponent > 0 {
        // A binary suffix on a 39-digit fraction: nobody counts GPUs like that.
        return Quantity::Unparseable;
    }
    let behind_point = usize::try_from(decimal_exponent.unsigned_abs()).unwrap_or(usize::MAX);
    let (int_part, frac_part) = digits.split_at(digits.len().saturating_sub(behind_point));
    let fractional = frac_part.bytes().any(|b| b != b'0');
    if int_part.is_empty() {
        return Quantity::NonNegative {
            whole: 0,
            fractional,
        };
    }
    int_part
        .parse::<u128>()
        .map_or(Quantity::TooLarge, |whole| Quantity::NonNegative {
            whole,
            fractional,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(whole: u128) -> Quantity {
        Quantity::NonNegative {
            whole,
            fractional: false,
        }
    }

    fn fraction(whole: u128) -> Quantity {
        Quantity::NonNegative {
            whole,
            fractional: true,
        }
    }

    #[test]
    fn plain_and_suffixed_counts() {
        assert_eq!(parse("8"), whole(8));
        assert_eq!(parse("0"), whole(0));
        assert_eq!(parse("+3"), whole(3));
        assert_eq!(parse("1k"), whole(1000));
        assert_eq!(parse("2Ki"), whole(2048));
        assert_eq!(parse("1e3"), whole(1000));
        assert_eq!(parse("1E+2"), whole(100));
        assert_eq!(parse("8000m"), whole(8));
        assert_eq!(parse("-0"), whole(0));
        assert_eq!(parse("000"), whole(0));
    }

    #[test]
    fn the_reported_underflow_is_a_number_not_a_crash() {
        assert_eq!(parse("18446744073709551615"), whole(u128::from(u64::MAX)));
    }

    #[test]
    fn fractions_negatives_and_huge_values_are_named() {
        assert_eq!(parse("500m"), fraction(0));
        assert_eq!(parse("1.5"), fraction(1));
        assert_eq!(parse(".5"), fraction(0));
        assert_eq!(parse("1e-2000"), fraction(0));
        assert_eq!(parse("-1"), Quantity::Negative);
        assert_eq!(parse("-1k"), Quantity::Negative);
        assert_eq!(parse("1E"), whole(1_000_000_000_000_000_000));
        assert_eq!(parse("1e39"), Quantity::TooLarge);
        assert_eq!(
            parse("999999999999999999999999999999999999999999"),
            Quantity::TooLarge
        );
        assert_eq!(parse("1Ei1"), Quantity::Unparseable);
        assert_eq!(
            parse("100000000000000000000000000000000000000000e-40"),
            whole(10)
        );
        assert_eq!(
            parse("1000000000000000000000000000000000000000000e-42"),
            whole(1)
        );
        assert_eq!(
            parse("1000000000000000000000000000000000000000001e-42"),
            fraction(1)
        );
    }

    #[test]
    fn garbage_is_unparseable() {
        for text in [
            "", "-", "+", ".", "1..2", "1.2.3", "eight", "8 ", " 8", "8x", "1e", "1e+", "½", "8Ki8",
        ] {
            assert_eq!(parse(text), Quantity::Unparseable, "{text:?}");
        }
        assert_eq!(parse(&"9".repeat(65)), Quantity::Unparseable);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,80}") {
            let _ = parse(&text);
        }

        #[test]
        fn integers_round_trip(n in proptest::num::u64::ANY) {
            proptest::prop_assert_eq!(parse(&n.to_string()), whole(u128::from(n)));
        }
    }
}
