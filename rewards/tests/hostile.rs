//! No input makes the engine panic: extreme configurations, measurements and carried states
//! give a typed error or a settlement whose identities hold, never a panic or a wrapped sum.

mod common;

use common::*;
use domain::{BaseUnits, UnixMs};
use proptest::prelude::*;
use rewards::ledger::Bucket;
use rewards::money::Money;
use rewards::programme::{
    CommittedContract, CommittedPool, Grant, PoolKind, Programme, RndPool, Undistributed,
};
use rewards::settle::{Engine, EpochInputs, Measurement, ProgrammeState};
use rewards::uptime::Uptime;
use rewards::vesting::{Vesting, VestingEntry};
use rewards::{settle_programme, SettleError};
use rust_decimal::Decimal;

/// Integers concentrated on the edges: 0, 1, small, `u64` range, near `u128::MAX`.
fn edgy() -> impl Strategy<Value = u128> {
    prop_oneof![
        Just(0u128),
        Just(1u128),
        0u128..1_000,
        any::<u64>().prop_map(u128::from),
        any::<u128>(),
        (0u128..4).prop_map(|d| u128::MAX - d),
    ]
}

/// Mostly realistic values, often enough extreme ones.
fn mostly(realistic: u128) -> impl Strategy<Value = u128> {
    prop_oneof![3 => 0..realistic, 1 => edgy()]
}

fn fraction() -> impl Strategy<Value = Decimal> {
    (0i64..=1000).prop_map(|t| Decimal::new(t, 3))
}

fn measurement() -> impl Strategy<Value = Measurement> {
    (mostly(1 << 50), mostly(1 << 50), any::<u64>(), 1u64..).prop_map(
        |(online_gpu_ms, leased_gpu_ms, a, b)| Measurement {
            online_gpu_ms,
            leased_gpu_ms,
            uptime: Uptime::new(a % (b + 1), b).unwrap_or(Uptime::new(0, 1).unwrap()),
        },
    )
}

#[derive(Debug, Clone)]
struct Knobs {
    epochs: u32,
    lm_budget: u128,
    alpha: i64,
    beta: i64,
    cap: Option<Decimal>,
    policy: Undistributed,
    min_uptime: Decimal,
    committed_budget: u128,
    rate: u128,
    gpus: u64,
    verify: bool,
    breaches: u32,
    rnd_budget: u128,
    grant: u128,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        (1u32..6, edgy(), 0i64..=1_000_000_000, 0i64..=1_000_000_000),
        (
            prop::option::of((1i64..=1000).prop_map(|t| Decimal::new(t, 3))),
            any::<bool>(),
            fraction(),
        ),
        (
            prop_oneof![Just(u128::MAX), edgy()],
            mostly(1_000_000),
            prop_oneof![3 => 1u64..100, 1 => any::<u64>()],
            any::<bool>(),
            0u32..3,
        ),
        (edgy(), edgy()),
    )
        .prop_map(
            |(
                (epochs, lm_budget, alpha, beta),
                (cap, carry, min_uptime),
                (committed_budget, rate, gpus, verify, breaches),
                (rnd_budget, grant),
            )| Knobs {
                epochs,
                lm_budget,
                alpha,
                beta,
                cap,
                policy: if carry {
                    Undistributed::Carry
                } else {
                    Undistributed::Return
                },
                min_uptime,
                committed_budget,
                rate,
                gpus,
                verify,
                breaches,
                rnd_budget: rnd_budget.saturating_add(grant),
                grant,
            },
        )
}

fn build(k: &Knobs) -> Programme {
    let mut lm = rules(&[("a100", "0.3"), ("h100", "0.7")], "0", "0", "0", k.policy);
    lm.alpha = Decimal::new(k.alpha, 3);
    lm.beta = Decimal::new(k.beta, 3);
    lm.max_share_per_provider = k.cap;
    lm.min_uptime = k.min_uptime;
    let mut p = with_liquidity_mining(
        programme(k.epochs, DAY, &["a100", "h100", "h200"]),
        k.lm_budget,
        lm.clone(),
    );
    p.vesting.insert(
        "linear".into(),
        Vesting::Linear {
            cliff_ms: DAY,
            duration_ms: 3 * DAY,
        },
    );
    p.committed = Some(CommittedPool {
        budget: Money::BaseUnits(BaseUnits(k.committed_budget)),
        verify_capacity: k.verify,
        contracts: vec![CommittedContract {
            id: "c1".into(),
            provider: "akash1aaa".into(),
            class: class("h100"),
            gpus: k.gpus,
            rate: Money::BaseUnits(BaseUnits(k.rate)),
            start_ms: UnixMs(START),
            term_ms: u64::MAX / 4,
            sla_uptime: k.min_uptime,
            vesting: "linear".into(),
            max_consecutive_breaches: k.breaches,
        }],
    });
    let mut rnd_rules = lm;
    rnd_rules.classes = vec![rewards::programme::ClassShare {
        class: class("h200"),
        share: Decimal::ONE,
    }];
    p.rnd = Some(RndPool {
        budget: Money::BaseUnits(BaseUnits(k.rnd_budget)),
        eligible_models: vec!["h200".into()],
        pro_rata: Some(rnd_rules),
        grants: vec![Grant {
            id: "g".into(),
            provider: "akash1bbb".into(),
            amount: Money::BaseUnits(BaseUnits(k.grant)),
            epoch: 0,
            vesting: "linear".into(),
        }],
    });
    p
}

fn inputs(epochs: usize) -> impl Strategy<Value = Vec<EpochInputs>> {
    let providers = ["akash1aaa", "akash1bbb", "akash1ccc"];
    let classes = ["a100", "h100", "h200"];
    prop::collection::vec(
        prop::collection::vec((0..classes.len(), 0..providers.len(), measurement()), 0..8)
            .prop_map(move |entries| {
                let mut inputs = EpochInputs::default();
                for (c, p, m) in entries {
                    inputs.insert(&class(classes[c]), providers[p], m);
                }
                inputs
            }),
        epochs,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Extreme but typed inputs: either a clean error or a settlement whose pools conserve.
    #[test]
    fn extreme_programmes_and_measurements_never_panic(
        (k, all) in knobs().prop_flat_map(|k| {
            let n = k.epochs as usize;
            (Just(k), inputs(n))
        })
    ) {
        let p = build(&k);
        match settle_programme(&p, &all) {
            // A valid programme fails only on measurements whose weights leave the u128 range;
            // an identity or overflow error on a fresh state would be a bug.
            Err(SettleError::InvalidProgramme(_))
            | Err(SettleError::WeightOverflow { .. })
            | Err(SettleError::Apportion(_)) => {}
            Err(other) => prop_assert!(false, "valid programme failed: {other}"),
            Ok(result) => {
                for pool in result.state.pools.values() {
                    let t = pool.totals;
                    prop_assert_eq!(
                        t.allocated.0 - t.clawed_back.0 + t.returned.0 + pool.balance.0,
                        t.funded.0
                    );
                }
            }
        }
    }

    /// A carried state is caller data: corrupt balances, totals, breach runs and vesting
    /// entries are refused or settled, never a panic, and a refused epoch changes nothing.
    #[test]
    fn corrupted_carried_state_never_panics(
        k in knobs(),
        next_epoch in 0u32..8,
        balances in prop::collection::vec(edgy(), 3),
        totals in prop::collection::vec(edgy(), 4),
        run in any::<u32>(),
        entries in prop::collection::vec((edgy(), any::<i64>(), prop::option::of(edgy())), 0..4),
        epoch_inputs in inputs(1),
    ) {
        let p = build(&k);
        let Ok(engine) = Engine::new(&p) else { return Ok(()) };
        let mut state = ProgrammeState { next_epoch, ..ProgrammeState::default() };
        for (pool, balance) in [PoolKind::Committed, PoolKind::LiquidityMining, PoolKind::Rnd]
            .into_iter()
            .zip(&balances)
        {
            let entry = state.pools.entry(pool).or_default();
            entry.balance = BaseUnits(*balance);
            entry.totals.funded = BaseUnits(totals[0]);
            entry.totals.allocated = BaseUnits(totals[1]);
            entry.totals.clawed_back = BaseUnits(totals[2]);
            entry.totals.returned = BaseUnits(totals[3]);
        }
        state.contracts.entry("c1".into()).or_default().consecutive_breaches = run;
        for (number, (amount, anchor_ms, clawed)) in entries.into_iter().enumerate() {
            state.vesting.push(VestingEntry {
                number,
                epoch: 0,
                pool: PoolKind::Committed,
                bucket: Bucket::Contract("c1".into()),
                provider: "akash1aaa".into(),
                schedule_id: "linear".into(),
                schedule: Vesting::Periodic { period_ms: 1, count: u32::MAX },
                anchor_ms: UnixMs(anchor_ms),
                amount: BaseUnits(amount),
                clawback: clawed.map(|amount| rewards::vesting::ClawbackRecord {
                    epoch: 0,
                    at_ms: UnixMs(anchor_ms),
                    amount: BaseUnits(amount),
                }),
            });
        }
        let before = state.clone();
        let epoch_inputs = epoch_inputs.into_iter().next().unwrap_or_default();
        if engine.settle_epoch(&mut state, &epoch_inputs).is_err() {
            prop_assert_eq!(state, before);
        }
    }
}
