//! The liquidity-mining machinery: epoch emission, class split, provider weights, eligibility
//! and cap. The R&D pool's pro-rata part uses exactly the same code.
//!
//! One epoch:
//! 1. The emission `E_k` follows the pool's policy ([`carry_emission`] or [`return_emission`]).
//! 2. `E_k` is split across the classes by share with [`apportion`] (weights from
//!    [`share_weights`]; a tie goes to the smaller class name).
//! 3. Within a class, each measured provider has weight [`provider_weight`]. Providers with
//!    `uptime ≥ min_uptime` are eligible; the others get a zero `UPTIME_BELOW_THRESHOLD` line
//!    showing their weight.
//! 4. The class slice is apportioned among the eligible providers by weight with
//!    [`apportion_capped`], the cap being [`cap_amount`] `= floor(max_share_per_provider ×
//!    slice)` when configured. Providers limited by the cap get `CAPPED` lines, the others
//!    `PAID` lines.
//! 5. A slice nobody can take gets one class-level line:
//!    - `NO_ELIGIBLE_WEIGHT` (no eligible weight): carried or returned by the pool's
//!      `undistributed` policy;
//!    - `CAP_EXCESS` (everyone with weight capped): always returned to the community pool, as
//!      the specification says ("re-apportioned among the others, or returned when everyone is
//!      capped"). Carrying it would only pile it up in front of the same capped providers.

use crate::apportion::{apportion, apportion_capped, cap_amount, ApportionError};
use crate::ledger::{Basis, Bucket, LineItem, Reason};
use crate::programme::{thousandths, PoolKind, ProRataRules, Problem, Undistributed};
use crate::settle::{add, EpochInputs, SettleError};
use crate::wide::mul_div;
use domain::{BaseUnits, ClassName};
use rust_decimal::Decimal;

/// Carry policy: `E_k = floor(R_k / (N − k))`, where `R_k` is the pool's balance at the start
/// of epoch `k`. Unpaid amounts stay in `R`, so they roll forward, and the last epoch
/// (`N − k = 1`) emits the whole balance. Returns 0 when `k ≥ N`.
pub fn carry_emission(balance: BaseUnits, epoch: u32, epochs: u32) -> BaseUnits {
    match epochs.checked_sub(epoch) {
        Some(left) if left > 0 => BaseUnits(balance.get() / u128::from(left)),
        _ => BaseUnits::ZERO,
    }
}

/// Return policy: `E_k = floor(B·(k+1)/N) − floor(B·k/N)`, so the `N` emissions sum to the
/// budget `B` exactly and each differs from `B/N` by less than one unit. Returns 0 when
/// `k ≥ N` or `N = 0`.
pub fn return_emission(budget: BaseUnits, epoch: u32, epochs: u32) -> BaseUnits {
    if epoch >= epochs {
        return BaseUnits::ZERO;
    }
    let budget = budget.get();
    let upto = |k: u32| mul_div(budget, k.into(), epochs.into()).unwrap_or(budget);
    BaseUnits(upto(epoch + 1).saturating_sub(upto(epoch)))
}

/// A provider's weight in a class: `w = α·online_gpu_ms + β·leased_gpu_ms`, with `α` and `β`
/// in integer thousandths (so `w` is in thousandths of a GPU-millisecond). `None` on overflow.
pub fn provider_weight(
    alpha_thousandths: u128,
    beta_thousandths: u128,
    online_gpu_ms: u128,
    leased_gpu_ms: u128,
) -> Option<u128> {
    alpha_thousandths
        .checked_mul(online_gpu_ms)?
        .checked_add(beta_thousandths.checked_mul(leased_gpu_ms)?)
}

/// Integer weights for class shares: each share times `10^s`, where `s` is the largest number
/// of decimal places among them. Apportionment is scale-invariant, so this splits exactly by
/// the decimal shares. Shares are validated to be in `(0, 1]`, so each weight is at most 10²⁸.
pub fn share_weights(shares: &[(ClassName, Decimal)]) -> Result<Vec<(ClassName, u128)>, Problem> {
    let scale = shares.iter().map(|(_, s)| s.scale()).max().unwrap_or(0);
    shares
        .iter()
        .map(|(class, share)| {
            let weight = u128::try_from(share.mantissa())
                .ok()
                .and_then(|m| m.checked_mul(10u128.pow(scale - share.scale())));
            weight
                .map(|w| (class.clone(), w))
                .ok_or(Problem::OutOfRange(*share, "(0, 1]"))
        })
        .collect()
}

/// [`ProRataRules`] turned into the integers the settlement uses.
#[derive(Debug, Clone)]
pub(crate) struct ProRata {
    class_weights: Vec<(ClassName, u128)>,
    alpha: u128,
    beta: u128,
    min_uptime: Decimal,
    /// `max_share_per_provider` as `(numerator, denominator)`.
    cap: Option<(u128, u128)>,
    pub(crate) policy: Undistributed,
    pub(crate) vesting: String,
}

/// What one epoch's emission became.
pub(crate) struct Distribution {
    pub(crate) lines: Vec<LineItem>,
    pub(crate) allocated: BaseUnits,
    /// `NO_ELIGIBLE_WEIGHT` slices: carried or returned by the pool's policy.
    pub(crate) no_eligible_weight: BaseUnits,
    /// `CAP_EXCESS`: always returned.
    pub(crate) cap_excess: BaseUnits,
}

impl ProRata {
    /// Prepares validated rules; errors only on rules that validation would reject.
    pub(crate) fn new(rules: &ProRataRules) -> Result<Self, Problem> {
        let shares: Vec<(ClassName, Decimal)> = rules
            .classes
            .iter()
            .map(|c| (c.class.clone(), c.share))
            .collect();
        let cap = rules
            .max_share_per_provider
            .map(|d| {
                u128::try_from(d.mantissa())
                    .map(|m| (m, 10u128.pow(d.scale())))
                    .map_err(|_| Problem::OutOfRange(d, "(0, 1]"))
            })
            .transpose()?;
        Ok(ProRata {
            class_weights: share_weights(&shares)?,
            alpha: thousandths(rules.alpha)?,
            beta: thousandths(rules.beta)?,
            min_uptime: rules.min_uptime,
            cap,
            policy: rules.undistributed,
            vesting: rules.vesting.clone(),
        })
    }

    /// The emission `E_k` under the pool's policy (see [`carry_emission`], [`return_emission`]).
    pub(crate) fn emission(
        &self,
        balance: BaseUnits,
        budget: BaseUnits,
        epoch: u32,
        epochs: u32,
    ) -> BaseUnits {
        match self.policy {
            Undistributed::Carry => carry_emission(balance, epoch, epochs),
            Undistributed::Return => return_emission(budget, epoch, epochs),
        }
    }

    /// Distributes `emission` over the classes and providers (steps 2–5 of the module docs).
    pub(crate) fn distribute(
        &self,
        pool: PoolKind,
        epoch: u32,
        emission: BaseUnits,
        inputs: &EpochInputs,
    ) -> Result<Distribution, SettleError> {
        let slices = apportion(emission.get(), self.class_weights.clone())?;
        let mut out = Distribution {
            lines: Vec::new(),
            allocated: BaseUnits::ZERO,
            no_eligible_weight: BaseUnits::ZERO,
            cap_excess: BaseUnits::ZERO,
        };
        for (class, slice) in slices.shares {
            let line = |provider: Option<&String>, basis, amount: u128, reason| LineItem {
                epoch,
                pool,
                bucket: Bucket::Class(class.clone()),
                provider: provider.cloned(),
                basis: Basis::Weight(basis),
                amount: BaseUnits(amount),
                reason,
                vesting: matches!(reason, Reason::Paid | Reason::Capped)
                    .then(|| self.vesting.clone()),
                price: None,
                clawback_of: None,
            };
            // Keys are (provider, weight): providers are unique, so this orders and breaks ties
            // exactly as the provider address alone would, and keeps the weight for the line.
            let mut eligible: Vec<((&String, u128), u128)> = Vec::new();
            for (provider, m) in inputs.measurements.get(&class).into_iter().flatten() {
                let weight =
                    provider_weight(self.alpha, self.beta, m.online_gpu_ms, m.leased_gpu_ms)
                        .ok_or_else(|| SettleError::WeightOverflow {
                            class: class.clone(),
                            provider: provider.clone(),
                        })?;
                if m.uptime.at_least(self.min_uptime) {
                    eligible.push(((provider, weight), weight));
                } else {
                    out.lines.push(line(
                        Some(provider),
                        weight,
                        0,
                        Reason::UptimeBelowThreshold,
                    ));
                }
            }
            let cap = self.cap.map(|(num, den)| cap_amount(slice, num, den));
            let eligible_weight = eligible
                .iter()
                .try_fold(0u128, |acc, (_, w)| acc.checked_add(*w))
                .ok_or(ApportionError::TotalWeightOverflow)?;
            let split = apportion_capped(slice, eligible, cap)?;
            for ((provider, weight), share) in split.shares {
                let reason = if share.capped {
                    Reason::Capped
                } else {
                    Reason::Paid
                };
                out.allocated = add(out.allocated, BaseUnits(share.paid), "pro-rata totals")?;
                out.lines
                    .push(line(Some(provider), weight, share.paid, reason));
            }
            for (amount, reason, total) in [
                (
                    split.no_eligible_weight,
                    Reason::NoEligibleWeight,
                    &mut out.no_eligible_weight,
                ),
                (split.cap_excess, Reason::CapExcess, &mut out.cap_excess),
            ] {
                if amount > 0 {
                    *total = add(*total, BaseUnits(amount), "pro-rata totals")?;
                    out.lines.push(line(None, eligible_weight, amount, reason));
                }
            }
        }
        Ok(out)
    }
}
