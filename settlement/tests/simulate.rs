//! What-if runs over the fixture's sealed epochs (`fixture/mod.rs` says which provider sits at
//! which uptime), on SQLite and PostgreSQL: the store is never written, an identical policy
//! changes nothing, and a changed policy moves exactly the amounts computed by hand.

mod fixture;

use fixture::*;
use rewards::programme::PoolKind;
use settlement::simulate::{simulate, ProviderDifference, Simulation};
use settlement::SettlementError;
use store::{on_both_backends, Store};

/// The fixture's programme with `from` replaced by `to` once (the first occurrence).
fn policy(from: &str, to: &str) -> settings::Config {
    assert!(PROGRAMME.contains(from), "the fixture has {from:?}");
    settings::parse(
        std::path::Path::new("policy.toml"),
        &PROGRAMME.replacen(from, to, 1),
        &settings::Environment::default(),
    )
    .expect("the policy is valid")
}

/// Seals epochs 0 to 2 and re-runs `epochs` of them under `policy`, checking that nothing was
/// written.
fn what_if(
    store: &mut Store,
    policy: &settings::Config,
    epochs: Option<std::ops::RangeInclusive<u32>>,
) -> Result<Simulation, SettlementError> {
    let sealed = config();
    let before = dump(store);
    let result = simulate(
        store,
        &settlement_config(&sealed),
        &settlement_config(policy),
        epochs,
    );
    assert_eq!(dump(store), before, "a what-if wrote to the store");
    result
}

/// The sealed programme itself: every epoch settles to exactly what was sealed.
fn the_sealed_programme_changes_nothing(store: &mut Store) {
    fixture(store);
    seal_three_epochs(store, &config());
    let simulation = what_if(store, &config(), None).unwrap();
    assert_eq!(simulation.epochs, 0..=2);
    assert!(!simulation.remeasured);
    assert!(simulation.comparison.changes_nothing());
    let pools: Vec<_> = simulation
        .comparison
        .pools
        .iter()
        .map(|p| (p.pool, p.providers, p.returned, p.closing))
        .collect();
    assert_eq!(
        pools,
        [
            (PoolKind::Committed, 1, (0, 0), (99_000_000, 99_000_000)),
            (PoolKind::LiquidityMining, 2, (0, 0), (1_000_000, 1_000_000)),
            (PoolKind::Rnd, 1, (0, 0), (750_000, 750_000)),
        ]
    );
}

/// `min_uptime` 0.6 in the liquidity-mining pool: P2, at exactly 0.5 in epoch 0, loses its
/// epoch-0 share to P1 (whose weight is then alone: the whole 1 000 000 instead of 555 556);
/// epochs 1 and 2, where P2 is online throughout and P1 offline, pay as sealed, and no other
/// pool changes.
fn a_higher_min_uptime_moves_p2s_epoch_0_share_to_p1(store: &mut Store) {
    fixture(store);
    seal_three_epochs(store, &config());
    let stricter = policy(r#"min_uptime = "0.5""#, r#"min_uptime = "0.6""#);
    let simulation = what_if(store, &stricter, None).unwrap();
    assert!(!simulation.remeasured);
    assert!(!simulation.comparison.changes_nothing());
    let [committed, lm, rnd] = &simulation.comparison.pools[..] else {
        panic!("three pools: {:?}", simulation.comparison.pools);
    };
    assert_eq!(lm.pool, PoolKind::LiquidityMining);
    assert_eq!(
        lm.differences,
        [
            ProviderDifference {
                provider: P1.into(),
                sealed: 555_556,
                simulated: 1_000_000
            },
            ProviderDifference {
                provider: P2.into(),
                sealed: 2_444_444,
                simulated: 2_000_000
            },
        ]
    );
    assert_eq!(lm.largest().map(|d| d.abs()), Some(444_444));
    assert_eq!(lm.sum_abs, 888_888);
    assert_eq!((lm.returned, lm.closing), ((0, 0), (1_000_000, 1_000_000)));
    assert!(committed.changes_nothing() && rnd.changes_nothing());
    // Had the policy changed at epoch 1, nothing would differ.
    let from_epoch_1 = what_if(store, &stricter, Some(1..=2)).unwrap();
    assert!(from_epoch_1.comparison.changes_nothing());
}

/// A policy with another class list measures the epochs again from the store; a class no pool
/// pays (rtx4090, which P2 leased in epoch 1) changes nothing. Once data arrives after sealing,
/// re-measuring is refused, while a policy that keeps the classes still runs on the sealed
/// measurements.
fn changed_classes_remeasure_and_refuse_late_data(store: &mut Store) {
    fixture(store);
    seal_three_epochs(store, &config());
    let more_classes = policy(
        "[[classes]]\nname = \"h200\"",
        "[[classes]]\nname = \"rtx4090\"\ngpu_model = \"rtx4090\"\n\n[[classes]]\nname = \"h200\"",
    );
    let simulation = what_if(store, &more_classes, None).unwrap();
    assert!(simulation.remeasured);
    assert!(simulation.comparison.changes_nothing());
    let late = observation("eu-1", P1, T0 + 40 * MIN, None);
    store::probes::insert_observations(store, &[late]).unwrap();
    assert!(matches!(
        what_if(store, &more_classes, None),
        Err(SettlementError::LateData { epoch: 0, .. })
    ));
    assert!(what_if(store, &config(), None)
        .unwrap()
        .comparison
        .changes_nothing());
}

/// Epochs that are not sealed, and a policy that moves the windows, are refused.
fn unsealed_epochs_and_another_calendar_are_refused(store: &mut Store) {
    fixture(store);
    assert!(matches!(
        what_if(store, &config(), None),
        Err(SettlementError::NotSealed { sealed: 0, .. })
    ));
    seal_three_epochs(store, &config());
    assert!(matches!(
        what_if(store, &config(), Some(2..=3)),
        Err(SettlementError::NotSealed {
            epoch: 3,
            sealed: 3,
            ..
        })
    ));
    let longer = policy(r#"epoch_length = "1h""#, r#"epoch_length = "2h""#);
    assert!(matches!(
        what_if(store, &longer, None),
        Err(SettlementError::PolicyCalendar { epoch: 0 })
    ));
}

on_both_backends!(
    the_sealed_programme_changes_nothing,
    a_higher_min_uptime_moves_p2s_epoch_0_share_to_p1,
    changed_classes_remeasure_and_refuse_late_data,
    unsealed_epochs_and_another_calendar_are_refused,
);
