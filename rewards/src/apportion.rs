//! The one apportionment function, used for every split in the programme.
//!
//! # Bounds
//!
//! Total `T` and each weight `w_i` may be any `u128`; the products `T·w_i` are formed in 256
//! bits, so they never overflow. The only limit is that `W = Σ w_i` must fit in a `u128`;
//! beyond it [`apportion`] returns [`ApportionError::TotalWeightOverflow`]. Weights built from
//! configuration stay far inside that limit (see
//! [`crate::programme::MAX_COEFFICIENT_THOUSANDTHS`]), and [`total_weight`] lets a caller check
//! a set of weights in advance.

use crate::wide::{mul_div, mul_div_rem};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why weights could not be apportioned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApportionError {
    /// A recipient was listed twice; its share would be ambiguous.
    #[error("a recipient is listed more than once")]
    DuplicateKey,
    /// `Σ w_i` exceeds `u128::MAX` (see the module's bounds).
    #[error("the total weight exceeds 2^128 − 1")]
    TotalWeightOverflow,
}

/// Result of [`apportion`]: each recipient's share, sorted by key, and what nobody received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apportionment<K> {
    /// `(key, paid)` for every recipient, including those with zero weight, sorted by key.
    pub shares: Vec<(K, u128)>,
    /// `T` when `W = 0` (reason `NO_ELIGIBLE_WEIGHT`), otherwise 0.
    pub undistributed: u128,
}

/// `W = Σ w_i`, or [`ApportionError::TotalWeightOverflow`] when it does not fit in a `u128`.
pub fn total_weight<'a>(
    weights: impl IntoIterator<Item = &'a u128>,
) -> Result<u128, ApportionError> {
    weights
        .into_iter()
        .try_fold(0u128, |acc, w| acc.checked_add(*w))
        .ok_or(ApportionError::TotalWeightOverflow)
}

/// Splits the integer total `T` in proportion to integer weights `w_i`, by largest remainder.
///
/// - When `W = Σ w_i > 0`: each recipient first gets `b_i = floor(T·w_i / W)`, with remainder
///   `r_i = T·w_i mod W`. The `T − Σ b_i` leftover units (fewer than the number of recipients)
///   go one each to the recipients with the largest `r_i`; ties go to the smaller key — for
///   `String` keys (provider addresses, class names) that is byte order.
/// - When `W = 0`: nothing is paid and `T` is undistributed.
///
/// Consequences an auditor can check: `Σ paid + undistributed = T`; every
/// `|paid_i − T·w_i/W| < 1`; a zero weight is paid zero (its remainder is 0 and some positive
/// remainder always outranks it); scaling all weights by a constant or reordering the input
/// changes nothing. The arithmetic is exact in integers (see the module's bounds).
pub fn apportion<K: Ord>(
    total: u128,
    weights: Vec<(K, u128)>,
) -> Result<Apportionment<K>, ApportionError> {
    let mut weights = weights;
    weights.sort_by(|a, b| a.0.cmp(&b.0));
    if weights
        .windows(2)
        .any(|pair| matches!(pair, [a, b] if a.0 == b.0))
    {
        return Err(ApportionError::DuplicateKey);
    }
    let w_total = total_weight(weights.iter().map(|(_, w)| w))?;
    if w_total == 0 {
        return Ok(Apportionment {
            shares: weights.into_iter().map(|(k, _)| (k, 0)).collect(),
            undistributed: total,
        });
    }
    // b_i ≤ T and r_i < W, so neither can overflow; `mul_div_rem` only fails for W = 0.
    let mut base: Vec<(u128, u128)> = Vec::with_capacity(weights.len());
    for (_, w) in &weights {
        base.push(mul_div_rem(total, *w, w_total).ok_or(ApportionError::TotalWeightOverflow)?);
    }
    let handed_out = base
        .iter()
        .fold(0u128, |acc, (b, _)| acc.saturating_add(*b));
    let leftover = usize::try_from(total.saturating_sub(handed_out)).unwrap_or(usize::MAX);
    // Rank by remainder, largest first; among equal remainders the smaller position, which is
    // the smaller key because `weights` is sorted by key.
    let mut ranking: Vec<(u128, usize)> = base.iter().map(|(_, r)| *r).zip(0..).collect();
    ranking.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in ranking.into_iter().take(leftover) {
        if let Some((b, _)) = base.get_mut(i) {
            *b += 1;
        }
    }
    Ok(Apportionment {
        shares: weights
            .into_iter()
            .zip(base)
            .map(|((k, _), (paid, _))| (k, paid))
            .collect(),
        undistributed: 0,
    })
}

/// How one recipient fared in [`apportion_capped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CappedShare {
    /// Amount received.
    pub paid: u128,
    /// Whether the amount was limited to the cap.
    pub capped: bool,
}

/// Result of [`apportion_capped`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CappedApportionment<K> {
    /// Every recipient's share, sorted by key.
    pub shares: Vec<(K, CappedShare)>,
    /// `T` when `W = 0` (`NO_ELIGIBLE_WEIGHT`).
    pub no_eligible_weight: u128,
    /// What could not be placed because every recipient with weight is capped (`CAP_EXCESS`).
    pub cap_excess: u128,
}

/// `floor(max_share × T)`: the most one recipient may receive out of `T`, where `max_share`
/// is the exact fraction `numerator / denominator` (at most 1).
pub fn cap_amount(total: u128, numerator: u128, denominator: u128) -> u128 {
    mul_div(total, numerator, denominator).unwrap_or(total)
}

/// [`apportion`] with an optional per-recipient cap, by repeated re-apportionment:
///
/// 1. Apportion what remains among the recipients not yet capped.
/// 2. If nobody receives more than `cap`, stop.
/// 3. Otherwise every recipient above the cap receives exactly `cap` and is marked capped; the
///    remainder `T − Σ caps` is apportioned again among the others (step 1).
///
/// When every recipient with positive weight ends up capped, what remains is `cap_excess`. Each
/// round caps at least one recipient, so there are at most as many rounds as recipients.
/// Someone is capped only when its largest-remainder share exceeds the cap, which means its
/// exact quota `T·w_i/W` does. Capped recipients take less than their quotas, so what is left
/// per unit of the others' weight grows: exact quotas only grow from round to round, and nobody
/// capped early would have fallen under the cap later. (Integer shares of the others may still move by one unit between rounds,
/// as largest-remainder shares do when the total changes.)
pub fn apportion_capped<K: Ord + Clone>(
    total: u128,
    weights: Vec<(K, u128)>,
    cap: Option<u128>,
) -> Result<CappedApportionment<K>, ApportionError> {
    let first = apportion(total, weights.clone())?;
    let Some(cap) = cap else {
        return Ok(CappedApportionment {
            shares: first
                .shares
                .into_iter()
                .map(|(k, paid)| {
                    (
                        k,
                        CappedShare {
                            paid,
                            capped: false,
                        },
                    )
                })
                .collect(),
            no_eligible_weight: first.undistributed,
            cap_excess: 0,
        });
    };
    let mut capped = vec![false; weights.len()];
    let mut sorted = weights;
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut result = first;
    loop {
        let over: Vec<usize> = result
            .shares
            .iter()
            .enumerate()
            .filter(|(i, (_, paid))| *paid > cap && !capped.get(*i).copied().unwrap_or(true))
            .map(|(i, _)| i)
            .collect();
        if over.is_empty() {
            break;
        }
        for i in over {
            if let Some(flag) = capped.get_mut(i) {
                *flag = true;
            }
        }
        let capped_total = capped.iter().filter(|c| **c).count() as u128;
        let remaining = total.saturating_sub(cap.saturating_mul(capped_total));
        let open: Vec<(usize, u128)> = sorted
            .iter()
            .enumerate()
            .filter(|(i, _)| !capped.get(*i).copied().unwrap_or(true))
            .map(|(i, (_, w))| (i, *w))
            .collect();
        let again = apportion(remaining, open)?;
        let mut shares: Vec<(K, u128)> = sorted
            .iter()
            .zip(&capped)
            .map(|((k, _), is_capped)| (k.clone(), if *is_capped { cap } else { 0 }))
            .collect();
        for (i, paid) in &again.shares {
            if let Some((_, slot)) = shares.get_mut(*i) {
                *slot = *paid;
            }
        }
        result = Apportionment {
            shares,
            undistributed: again.undistributed,
        };
    }
    let any_capped = capped.iter().any(|c| *c);
    let (no_eligible_weight, cap_excess) = if any_capped {
        (0, result.undistributed)
    } else {
        (result.undistributed, 0)
    };
    Ok(CappedApportionment {
        shares: result
            .shares
            .into_iter()
            .zip(capped)
            .map(|((k, paid), capped)| (k, CappedShare { paid, capped }))
            .collect(),
        no_eligible_weight,
        cap_excess,
    })
}
