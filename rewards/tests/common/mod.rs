//! Builders shared by the integration tests. Each test file uses a different subset.
#![allow(dead_code)]

use domain::{BaseUnits, ClassName, GpuModel, UnixMs};
use rewards::calendar::EpochCalendar;
use rewards::ledger::{LineItem, PoolLedger};
use rewards::money::{Denomination, Money};
use rewards::programme::{
    ClassShare, GpuClass, LiquidityMiningPool, PoolKind, ProRataRules, Programme, Undistributed,
};
use rewards::settle::{EpochSettlement, Measurement};
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
