//! A minimal unsigned 256-bit integer, just wide enough for the products this crate forms.
//!
//! Every amount and weight is a `u128`. The apportionment needs `T·w_i` before dividing by `W`,
//! and the USD conversions need `usd · base_units_per_token · gpu_ms` before dividing by a price,
//! so the products are formed here exactly and then divided back into `u128`. Only the handful of
//! operations those formulas use are implemented; none of them can panic.

use std::cmp::Ordering;

/// An unsigned 256-bit integer held as two 128-bit halves.
///
/// Field order (`hi` first) makes the derived ordering the numeric ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct U256 {
    hi: u128,
    lo: u128,
}

const LOW_64: u128 = u64::MAX as u128;

impl U256 {
    /// The full product of two `u128`s; it always fits in 256 bits.
    pub(crate) fn mul(a: u128, b: u128) -> U256 {
        let (a1, a0) = (a >> 64, a & LOW_64);
        let (b1, b0) = (b >> 64, b & LOW_64);
        let p00 = a0 * b0;
        let p01 = a0 * b1;
        let p10 = a1 * b0;
        let p11 = a1 * b1;
        // Each term is below 2^64, so the sum is below 3·2^64 and cannot overflow.
        let mid = (p00 >> 64) + (p01 & LOW_64) + (p10 & LOW_64);
        U256 {
            lo: (p00 & LOW_64) | (mid << 64),
            hi: p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64),
        }
    }

    /// `self · b`, or `None` when the product needs more than 256 bits.
    pub(crate) fn checked_mul_u128(self, b: u128) -> Option<U256> {
        let low = U256::mul(self.lo, b);
        let high = self.hi.checked_mul(b)?;
        Some(U256 {
            lo: low.lo,
            hi: low.hi.checked_add(high)?,
        })
    }

    /// Quotient and remainder of `self / d`, or `None` when `d == 0`.
    pub(crate) fn div_rem_u128(self, d: u128) -> Option<(U256, u128)> {
        if d == 0 {
            return None;
        }
        let q_hi = self.hi / d;
        let mut rem = self.hi % d;
        let mut q_lo: u128 = 0;
        // Binary long division over the low half. `rem < d`, so after the shift the true value
        // `carry·2^128 + rem` is below `2d` and at most one subtraction is needed.
        for bit in (0..128).rev() {
            let carry = rem >> 127;
            rem = (rem << 1) | ((self.lo >> bit) & 1);
            if carry == 1 || rem >= d {
                rem = rem.wrapping_sub(d);
                q_lo |= 1 << bit;
            }
        }
        Some((U256 { hi: q_hi, lo: q_lo }, rem))
    }

    /// The value as a `u128`, or `None` when it does not fit.
    pub(crate) fn to_u128(self) -> Option<u128> {
        (self.hi == 0).then_some(self.lo)
    }
}

/// `(floor(a·b / d), a·b mod d)` computed exactly; `None` when `d == 0` or the quotient exceeds
/// `u128`.
pub(crate) fn mul_div_rem(a: u128, b: u128, d: u128) -> Option<(u128, u128)> {
    if d == 0 {
        return None;
    }
    if let Some(product) = a.checked_mul(b) {
        return Some((product / d, product % d));
    }
    let (q, r) = U256::mul(a, b).div_rem_u128(d)?;
    Some((q.to_u128()?, r))
}

/// `floor(a·b / d)`; `None` when `d == 0` or the quotient exceeds `u128`.
pub(crate) fn mul_div(a: u128, b: u128, d: u128) -> Option<u128> {
    mul_div_rem(a, b, d).map(|(q, _)| q)
}

/// Compares the fractions `a_num / a_den` and `b_num / b_den` exactly (denominators positive).
pub(crate) fn cmp_fractions(a_num: u128, a_den: u128, b_num: u128, b_den: u128) -> Ordering {
    U256::mul(a_num, b_den).cmp(&U256::mul(b_num, a_den))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference arithmetic on four 64-bit limbs, used to check the 128-bit-halves code.
    fn limbs(x: U256) -> [u64; 4] {
        [
            x.lo as u64,
            (x.lo >> 64) as u64,
            x.hi as u64,
            (x.hi >> 64) as u64,
        ]
    }

    #[test]
    fn largest_product_is_exact() {
        // (2^128 − 1)^2 = 2^256 − 2^129 + 1
        let p = U256::mul(u128::MAX, u128::MAX);
        assert_eq!(p.lo, 1);
        assert_eq!(p.hi, u128::MAX - 1);
    }

    #[test]
    fn division_by_zero_is_refused() {
        assert_eq!(mul_div(5, 5, 0), None);
        assert!(U256::mul(1, 1).div_rem_u128(0).is_none());
    }

    #[test]
    fn quotient_too_large_is_refused() {
        assert_eq!(mul_div(u128::MAX, 2, 1), None);
        assert_eq!(mul_div(u128::MAX, 2, 2), Some(u128::MAX));
    }

    proptest! {
        #[test]
        fn mul_then_divide_round_trips(a: u128, b in 1u128.., extra in 0u128..) {
            // (a·b + r) / b == a remainder r for any r < b.
            let r = extra % b;
            let p = U256::mul(a, b);
            let (lo, carry) = p.lo.overflowing_add(r);
            let p = U256 { lo, hi: p.hi + u128::from(carry) };
            let (q, rem) = p.div_rem_u128(b).unwrap();
            prop_assert_eq!(q.to_u128(), Some(a));
            prop_assert_eq!(rem, r);
        }

        #[test]
        fn product_matches_limb_schoolbook(a: u128, b: u128) {
            let al = [a as u64, (a >> 64) as u64];
            let bl = [b as u64, (b >> 64) as u64];
            let mut out = [0u64; 4];
            for i in 0..2 {
                let mut carry: u128 = 0;
                for j in 0..2 {
                    let cur = u128::from(out[i + j]) + u128::from(al[i]) * u128::from(bl[j]) + carry;
                    out[i + j] = cur as u64;
                    carry = cur >> 64;
                }
                out[i + 2] = carry as u64;
            }
            prop_assert_eq!(limbs(U256::mul(a, b)), out);
        }

        #[test]
        fn fraction_order_matches_cross_multiplication(a in 0u64.., b in 1u64.., c in 0u64.., d in 1u64..) {
            let expected = (u128::from(a) * u128::from(d)).cmp(&(u128::from(c) * u128::from(b)));
            prop_assert_eq!(
                cmp_fractions(a.into(), b.into(), c.into(), d.into()),
                expected
            );
        }
    }
}
