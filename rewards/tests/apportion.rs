//! The apportionment's guarantees, as properties over wide ranges.

use proptest::prelude::*;
use rewards::apportion::{apportion, apportion_capped, ApportionError};

/// `a·b` as `(high, low)` 128-bit halves, by 64-bit limbs (independent of the crate's code).
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let mask = u128::from(u64::MAX);
    let (a1, a0, b1, b0) = (a >> 64, a & mask, b >> 64, b & mask);
    let (ll, lh, hl, hh) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let cross = (ll >> 64) + (lh & mask) + (hl & mask);
    (
        hh + (lh >> 64) + (hl >> 64) + (cross >> 64),
        (ll & mask) | (cross << 64),
    )
}

fn add_wide((hi, lo): (u128, u128), x: u128) -> (u128, u128) {
    let (lo, carry) = lo.overflowing_add(x);
    (hi + u128::from(carry), lo)
}

/// `|paid − T·w/W| < 1`, i.e. `paid·W < T·w + W` and `T·w < paid·W + W`, compared exactly.
fn within_one(paid: u128, total: u128, w: u128, w_total: u128) -> bool {
    let paid_w = mul_wide(paid, w_total);
    let t_w = mul_wide(total, w);
    paid_w < add_wide(t_w, w_total) && t_w < add_wide(paid_w, w_total)
}

fn keyed(weights: &[u128]) -> Vec<(String, u128)> {
    weights
        .iter()
        .enumerate()
        .map(|(i, w)| (format!("akash1{i:03}"), *w))
        .collect()
}

/// Weights from zero to 2^119 (so 256 of them still sum below 2^128), with many zeros and
/// many small values to provoke ties.
fn weight() -> impl Strategy<Value = u128> {
    prop_oneof![
        Just(0u128),
        0u128..4,
        any::<u64>().prop_map(u128::from),
        any::<u128>().prop_map(|w| w >> 9),
    ]
}

#[test]
fn zero_total_weight_leaves_everything_undistributed() {
    let a = apportion(77, keyed(&[0, 0])).unwrap();
    assert_eq!(a.undistributed, 77);
    assert!(a.shares.iter().all(|(_, p)| *p == 0));
    let a = apportion(77, Vec::<(String, u128)>::new()).unwrap();
    assert_eq!(a.undistributed, 77);
}

#[test]
fn duplicate_keys_and_overflowing_weights_are_errors() {
    assert_eq!(
        apportion(1, vec![("a", 1), ("a", 2)]),
        Err(ApportionError::DuplicateKey)
    );
    assert_eq!(
        apportion(1, vec![("a", u128::MAX), ("b", 1)]),
        Err(ApportionError::TotalWeightOverflow)
    );
}

#[test]
fn largest_totals_and_weights_are_exact() {
    // T·w needs 256 bits here: T = 2^128 − 1, weights 2^126 and 2^126 − 1 … shares within one.
    let w = [1u128 << 126, (1u128 << 126) - 1, 3];
    let a = apportion(u128::MAX, keyed(&w)).unwrap();
    let w_total: u128 = w.iter().sum();
    let paid: Vec<u128> = a.shares.iter().map(|(_, p)| *p).collect();
    assert_eq!(paid.iter().sum::<u128>(), u128::MAX);
    for (p, wi) in paid.iter().zip(w) {
        assert!(within_one(*p, u128::MAX, wi, w_total));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn paid_plus_undistributed_is_the_total(total: u128, w in prop::collection::vec(weight(), 0..=256)) {
        let a = apportion(total, keyed(&w)).unwrap();
        let paid = a.shares.iter().fold(0u128, |s, (_, p)| s + p);
        prop_assert_eq!(paid + a.undistributed, total);
        let positive = w.iter().any(|x| *x > 0);
        prop_assert_eq!(a.undistributed, if positive { 0 } else { total });
    }

    #[test]
    fn every_share_is_within_one_unit_of_the_exact_share(total: u128, w in prop::collection::vec(weight(), 1..=256)) {
        let w_total: u128 = w.iter().sum();
        prop_assume!(w_total > 0);
        let a = apportion(total, keyed(&w)).unwrap();
        for ((_, paid), wi) in a.shares.iter().zip(&w) {
            prop_assert!(within_one(*paid, total, *wi, w_total), "paid {paid} for weight {wi}");
        }
    }

    #[test]
    fn zero_weights_are_paid_zero(total: u128, w in prop::collection::vec(weight(), 1..=256)) {
        let a = apportion(total, keyed(&w)).unwrap();
        for ((_, paid), wi) in a.shares.iter().zip(&w) {
            if *wi == 0 {
                prop_assert_eq!(*paid, 0);
            }
        }
    }

    #[test]
    fn scaling_all_weights_changes_nothing(total: u128, w in prop::collection::vec(weight(), 1..=256), factor in 1u128..1_000_000) {
        let scaled: Vec<u128> = w.iter().map(|x| (x >> 20) * factor).collect();
        let plain: Vec<u128> = w.iter().map(|x| x >> 20).collect();
        prop_assert_eq!(
            apportion(total, keyed(&plain)).unwrap(),
            apportion(total, keyed(&scaled)).unwrap()
        );
    }

    #[test]
    fn permuting_the_input_changes_nothing(total: u128, (w, order) in prop::collection::vec(weight(), 1..=256).prop_flat_map(|w| {
        let n = w.len();
        (Just(w), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
    })) {
        let input = keyed(&w);
        let shuffled: Vec<(String, u128)> = order.iter().map(|i| input[*i].clone()).collect();
        prop_assert_eq!(apportion(total, input).unwrap(), apportion(total, shuffled).unwrap());
    }

    #[test]
    fn capped_shares_respect_the_cap_and_conserve(total in 0u128..1_000_000_000, w in prop::collection::vec(weight(), 0..=64), cap in 0u128..1_000_000_000) {
        let w: Vec<u128> = w.iter().map(|x| x >> 64).collect();
        let a = apportion_capped(total, keyed(&w), Some(cap)).unwrap();
        let paid = a.shares.iter().fold(0u128, |s, (_, share)| s + share.paid);
        prop_assert_eq!(paid + a.no_eligible_weight + a.cap_excess, total);
        prop_assert!(a.shares.iter().all(|(_, share)| share.paid <= cap));
        if a.cap_excess > 0 {
            // Only when everyone with weight is capped may money be left over.
            for ((_, share), wi) in a.shares.iter().zip(&w) {
                prop_assert!(*wi == 0 || share.capped);
            }
        }
    }
}
