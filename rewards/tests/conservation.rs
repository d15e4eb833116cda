//! Conservation over random whole programmes: every pool's budget is accounted for to the
//! base unit, in every epoch and at the end, recomputed here from the published ledgers, line
//! items and vesting entries rather than trusted from the engine's own checks.

mod common;

use common::generate::{generate, Shape};
use domain::UnixMs;
use proptest::prelude::*;
use rewards::ledger::{Bucket, Reason};
use rewards::money::Money;
use rewards::programme::{PoolKind, Programme};
use rewards::settle_programme;
use rewards::vesting::positions;
use std::collections::BTreeMap;

fn configured_budget(p: &Programme, pool: PoolKind) -> u128 {
    let budget = match pool {
        PoolKind::LiquidityMining => p.liquidity_mining.as_ref().map(|x| &x.budget),
        PoolKind::Committed => p.committed.as_ref().map(|x| &x.budget),
        PoolKind::Rnd => p.rnd.as_ref().map(|x| &x.budget),
    };
    match budget {
        Some(Money::BaseUnits(b)) => b.0,
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_budget_is_conserved(
        seed: u64,
        epochs in 1u32..=120,
        length in prop::sample::select(vec![3_600_000u64, 21_600_000, 86_400_000]),
        providers in 0usize..24,
        contracts in 0usize..8,
        grants in 0usize..4,
        rnd_pro_rata: bool,
        unregistered_per_mille in prop::sample::select(vec![0u64, 50, 1000]),
    ) {
        let shape = Shape { epochs, epoch_length_ms: length, providers, total_gpus: 60, contracts, grants, rnd_pro_rata, unregistered_per_mille };
        let (programme, inputs) = generate(shape, seed);
        prop_assert_eq!(programme.validate(), Ok(()));
        let result = settle_programme(&programme, &inputs).unwrap();

        let mut sums: BTreeMap<PoolKind, (u128, u128, u128, u128)> = BTreeMap::new();
        let mut previous: BTreeMap<PoolKind, u128> = BTreeMap::new();
        for (epoch, inputs) in result.epochs.iter().zip(&inputs) {
            // An unregistered provider's contracts and grants are never paid.
            for line in &epoch.line_items {
                let named = matches!(line.bucket, Bucket::Contract(_) | Bucket::Grant(_));
                let unregistered = line.provider.as_ref().is_some_and(|p| !inputs.is_registered(p));
                if named && unregistered {
                    prop_assert!(
                        matches!(line.reason, Reason::ProviderNotRegistered | Reason::CommitmentBroken | Reason::ClawedBack),
                        "{:?} for an unregistered provider", line
                    );
                }
            }
            for l in &epoch.ledgers {
                let lines = |reasons: &[Reason]| -> u128 {
                    epoch.line_items.iter()
                        .filter(|x| x.pool == l.pool && reasons.contains(&x.reason))
                        .map(|x| x.amount.0).sum()
                };
                // The balance released at programme end is returned but was never emitted.
                let released = lines(&[Reason::ProgrammeEnd]);
                prop_assert_eq!(l.closing.0 + l.allocated.0 + l.returned.0, l.opening.0 + l.clawed_back.0);
                prop_assert_eq!(l.emitted.0 + released, l.allocated.0 + l.forfeited.0 + l.carried.0 + l.returned.0);
                prop_assert_eq!(l.opening.0, previous.get(&l.pool).copied().unwrap_or(0) + l.funded.0);
                previous.insert(l.pool, l.closing.0);
                if epoch.epoch + 1 < programme.calendar.epochs {
                    prop_assert_eq!(released, 0, "PROGRAMME_END before the last epoch");
                } else {
                    prop_assert_eq!(l.carried.0, 0, "pool {:?} carries past the end", l.pool);
                }
                prop_assert_eq!(l.allocated.0, lines(&[Reason::Paid, Reason::Capped]));
                prop_assert_eq!(l.clawed_back.0, lines(&[Reason::ClawedBack]));
                prop_assert_eq!(
                    l.forfeited.0,
                    lines(&[Reason::SlaBreach, Reason::CommitmentBroken, Reason::ProviderNotRegistered])
                );
                let s = sums.entry(l.pool).or_default();
                *s = (s.0 + l.allocated.0, s.1 + l.clawed_back.0, s.2 + l.returned.0, s.3 + l.funded.0);
            }
            let entries: u128 = epoch.new_vesting.iter().map(|e| e.amount.0).sum();
            let allocated: u128 = epoch.ledgers.iter().map(|l| l.allocated.0).sum();
            prop_assert_eq!(entries, allocated);
        }
        // After the last epoch every pool is empty, under `carry` and `return` alike: the budget
        // is exactly what was allocated, less what was clawed back, plus what was returned.
        prop_assert_eq!(result.epochs.len(), programme.calendar.epochs as usize);
        for (pool, (allocated, clawed_back, returned, funded)) in &sums {
            let balance = result.state.pools[pool].balance.0;
            prop_assert_eq!(balance, 0, "final balance of pool {:?}", pool);
            prop_assert_eq!(previous[pool], 0, "last closing of pool {:?}", pool);
            prop_assert_eq!(allocated - clawed_back + returned, *funded);
            prop_assert_eq!(*funded, configured_budget(&programme, *pool), "pool {:?}", pool);
        }
        // Every entry's split adds up, and the providers' positions account for every unit.
        let end = UnixMs(i64::MAX);
        let all = positions(&result.entries(), end, &BTreeMap::new()).unwrap();
        let earned: u128 = all.values().map(|p| p.earned.0).sum();
        let clawed: u128 = all.values().map(|p| p.clawed_back.0).sum();
        prop_assert_eq!(earned, sums.values().map(|s| s.0).sum::<u128>());
        prop_assert_eq!(clawed, sums.values().map(|s| s.1).sum::<u128>());
        for p in all.values() {
            prop_assert_eq!(p.vested.0 + p.unvested.0 + p.clawed_back.0, p.earned.0);
        }
    }
}
