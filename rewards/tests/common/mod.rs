//! Builders shared by the integration tests. Each test file uses a different subset.
#![allow(dead_code)]

use domain::{BaseUnits, ClassName, GpuModel, UnixMs};
use rewards::calendar::EpochCalendar;
use rewards::ledger::{LineItem, PoolLedger};
use rewards::money::{Denomination, Money};
use rewards::programme::{
    ClassShare, CommittedContract, CommittedPool, GpuClass, LiquidityMiningPool, PoolKind,
    ProRataRules, Programme, Undistributed,
};
use rewards::settle::{EpochInputs, EpochSettlement, Measurement};
use rewards::uptime::Uptime;
use rewards::vesting::Vesting;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

pub const HOUR: u64 = 3_600_000;
pub const DAY: u64 = 24 * HOUR;
/// 2024-03-01T00:00:00Z
pub const START: i64 = 1_709_251_200_000;

pub fn dec(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

/// A class name the tests know to be valid.
pub fn class(name: &str) -> ClassName {
    ClassName::new(name).expect("test class name")
}

/// A GPU model the tests know to be valid, normalised.
pub fn model(name: &str) -> GpuModel {
    GpuModel::normalise(name).expect("test GPU model")
}

pub fn gpu_class(name: &str, model_name: &str) -> GpuClass {
    GpuClass {
        name: class(name),
        gpu_model: model(model_name),
        gpu_ram: None,
    }
}

/// A programme with no pool yet, an `immediate` schedule and the given classes (name = model).
pub fn programme(epochs: u32, epoch_length_ms: u64, classes: &[&str]) -> Programme {
    Programme {
        calendar: EpochCalendar {
            start_ms: UnixMs(START),
            epoch_length_ms,
            epochs,
        },
        denom: Denomination {
            name: "uakt".into(),
            base_units_per_token: 1_000_000,
        },
        prices: None,
        gpu_classes: classes.iter().map(|c| gpu_class(c, c)).collect(),
        vesting: BTreeMap::from([("immediate".to_string(), Vesting::Immediate)]),
        liquidity_mining: None,
        committed: None,
        rnd: None,
    }
}

/// Pro-rata rules with the given class shares; cap off, `immediate` vesting.
pub fn rules(
    shares: &[(&str, &str)],
    alpha: &str,
    beta: &str,
    min_uptime: &str,
    undistributed: Undistributed,
) -> ProRataRules {
    ProRataRules {
        classes: shares
            .iter()
            .map(|(class, share)| ClassShare {
                class: self::class(class),
                share: dec(share),
            })
            .collect(),
        alpha: dec(alpha),
        beta: dec(beta),
        min_uptime: dec(min_uptime),
        max_share_per_provider: None,
        undistributed,
        vesting: "immediate".into(),
    }
}

pub fn with_liquidity_mining(mut p: Programme, budget: u128, rules: ProRataRules) -> Programme {
    p.liquidity_mining = Some(LiquidityMiningPool {
        budget: Money::BaseUnits(BaseUnits(budget)),
        rules,
    });
    p
}

/// A committed contract in class `h100` starting at the programme start, SLA 0.95, quarterly
/// vesting, at most 2 consecutive breaches: the defaults the committed-pool goldens vary from.
pub fn committed_contract(
    id: &str,
    provider: &str,
    gpus: u64,
    rate: u128,
    term_ms: u64,
) -> CommittedContract {
    CommittedContract {
        id: id.into(),
        provider: provider.into(),
        class: class("h100"),
        gpus,
        rate: Money::BaseUnits(BaseUnits(rate)),
        start_ms: UnixMs(START),
        term_ms,
        sla_uptime: dec("0.95"),
        vesting: "quarterly".into(),
        max_consecutive_breaches: 2,
    }
}

/// An `h100` programme with a committed pool and the `quarterly` schedule (4 pieces, 90 days
/// apart) its contracts vest on.
pub fn committed_programme(
    epochs: u32,
    epoch_length_ms: u64,
    budget: u128,
    verify_capacity: bool,
    contracts: Vec<CommittedContract>,
) -> Programme {
    let mut p = programme(epochs, epoch_length_ms, &["h100"]);
    p.vesting.insert(
        "quarterly".into(),
        Vesting::Periodic {
            period_ms: 90 * DAY,
            count: 4,
        },
    );
    p.committed = Some(CommittedPool {
        budget: Money::BaseUnits(BaseUnits(budget)),
        verify_capacity,
        contracts,
    });
    p
}

/// One epoch's inputs in which only `provider` is measured, in class `h100`.
pub fn one_h100(provider: &str, m: Measurement) -> EpochInputs {
    let mut inputs = EpochInputs::default();
    inputs.insert(&class("h100"), provider, m);
    inputs
}

/// One epoch of inputs per measurement, each measuring only `provider` in class `h100`.
pub fn per_epoch_h100(
    provider: &str,
    measurements: impl IntoIterator<Item = Measurement>,
) -> Vec<EpochInputs> {
    measurements
        .into_iter()
        .map(|m| one_h100(provider, m))
        .collect()
}

/// A measurement with uptime `up_ms / window_ms`.
pub fn measured(
    online_gpu_ms: u128,
    leased_gpu_ms: u128,
    up_ms: u64,
    window_ms: u64,
) -> Measurement {
    Measurement {
        online_gpu_ms,
        leased_gpu_ms,
        uptime: Uptime::new(up_ms, window_ms).expect("test uptime"),
    }
}

/// A measurement with full uptime.
pub fn online(online_gpu_ms: u128, leased_gpu_ms: u128) -> Measurement {
    measured(online_gpu_ms, leased_gpu_ms, 1, 1)
}

pub fn ledger(s: &EpochSettlement, pool: PoolKind) -> &PoolLedger {
    s.ledgers
        .iter()
        .find(|l| l.pool == pool)
        .expect("pool ledger")
}

/// `(opening, emitted, allocated, carried, returned, closing)` of a pool in every epoch.
pub fn flow_rows(
    epochs: &[EpochSettlement],
    pool: PoolKind,
) -> Vec<(u128, u128, u128, u128, u128, u128)> {
    epochs
        .iter()
        .map(|e| {
            let l = ledger(e, pool);
            (
                l.opening.0,
                l.emitted.0,
                l.allocated.0,
                l.carried.0,
                l.returned.0,
                l.closing.0,
            )
        })
        .collect()
}

/// `(bucket name, provider, amount, reason)` of a pool's lines, for compact assertions.
pub fn summary(s: &EpochSettlement, pool: PoolKind) -> Vec<(String, String, u128, String)> {
    s.line_items
        .iter()
        .filter(|l| l.pool == pool)
        .map(|l: &LineItem| {
            let bucket = match &l.bucket {
                rewards::ledger::Bucket::Class(n) => n.to_string(),
                rewards::ledger::Bucket::Contract(n) | rewards::ledger::Bucket::Grant(n) => {
                    n.clone()
                }
                rewards::ledger::Bucket::Pool => String::new(),
            };
            let reason = serde_json::to_value(l.reason).expect("reason");
            (
                bucket,
                l.provider.clone().unwrap_or_default(),
                l.amount.get(),
                reason.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub mod generate;
