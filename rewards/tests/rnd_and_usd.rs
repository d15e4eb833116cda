//! Golden R&D and USD-budget epochs.

mod common;

use common::*;
use domain::{BaseUnits, UnixMs};
use rewards::ledger::{Basis, Reason};
use rewards::money::{Money, PricePoint, PriceTable};
use rewards::programme::{
    CommittedContract, CommittedPool, Grant, PoolKind, Problem, Programme, RndPool, Undistributed,
    NEXT_GENERATION_MODELS,
};
use rewards::settle::EpochInputs;
use rewards::settle_programme;

fn s(x: &str) -> String {
    x.to_string()
}

fn rnd_programme(classes: &[(&str, &str)]) -> Programme {
    let mut p = programme(2, DAY, &["a100", "h200", "mi300x"]);
    p.rnd = Some(RndPool {
        budget: Money::BaseUnits(BaseUnits(1000)),
        eligible_models: NEXT_GENERATION_MODELS
            .iter()
            .map(|m| m.to_string())
            .collect(),
        pro_rata: Some(rules(classes, "1", "0", "0.9", Undistributed::Carry)),
        grants: vec![Grant {
            id: "bench-1".into(),
            provider: "akash1lab".into(),
            amount: Money::BaseUnits(BaseUnits(100)),
            epoch: 0,
            vesting: "immediate".into(),
        }],
    });
    p
}

/// R&D budget 1000 over 2 epochs, carry, one grant of 100 in epoch 0.
///
/// Pro-rata budget 1000 − 100 = 900 funded at epoch 0, plus the grant: funded 1000.
/// The grant is paid first; the pro-rata part then emits `E_0 = floor(900 / 2) = 450`,
/// split h200 : mi300x = 0.6 : 0.4 → 270 and 180.
///
/// - a100 (akash1old, online 10,000): not an R&D class, gets nothing from this pool;
/// - h200: akash1h2a online 1000, akash1h2b online 2000 → 90 and 180;
/// - mi300x: akash1mi online 500 → 180.
///
/// Ledger: emitted 100 + 450 = 550, allocated 550, closing 450.
#[test]
fn only_next_generation_classes_share_the_rnd_pool() {
    let p = rnd_programme(&[("h200", "0.6"), ("mi300x", "0.4")]);
    let mut inputs = EpochInputs::default();
    inputs.insert(&class("a100"), "akash1old", online(10_000, 0));
    inputs.insert(&class("h200"), "akash1h2a", online(1000, 0));
    inputs.insert(&class("h200"), "akash1h2b", online(2000, 0));
    inputs.insert(&class("mi300x"), "akash1mi", online(500, 0));
    let result = settle_programme(&p, &[inputs]).unwrap();
    let epoch = &result.epochs[0];
    assert_eq!(
        summary(epoch, PoolKind::Rnd),
        vec![
            (s("h200"), s("akash1h2a"), 90, s("PAID")),
            (s("h200"), s("akash1h2b"), 180, s("PAID")),
            (s("mi300x"), s("akash1mi"), 180, s("PAID")),
            (s("bench-1"), s("akash1lab"), 100, s("PAID")),
        ]
    );
    assert!(epoch
        .line_items
        .iter()
        .all(|l| l.provider.as_deref() != Some("akash1old")));
    let l = ledger(epoch, PoolKind::Rnd);
    assert_eq!(
        (
            l.opening.0,
            l.funded.0,
            l.emitted.0,
            l.allocated.0,
            l.closing.0
        ),
        (1000, 1000, 550, 550, 450)
    );
}

#[test]
fn a_class_of_an_older_model_cannot_join_the_rnd_pool() {
    let p = rnd_programme(&[("h200", "0.5"), ("mi300x", "0.3"), ("a100", "0.2")]);
    let errors = p.validate().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "pools.rnd.classes[2]");
    assert_eq!(
        errors[0].problem,
        Problem::IneligibleModel {
            class: "a100".into(),
            model: "a100".into()
        }
    );
}

fn price_table() -> PriceTable {
    PriceTable {
        source: "prices.csv sha256:0f3a".into(),
        points: vec![
            PricePoint {
                from_ms: UnixMs(START - DAY as i64),
                usd_per_token: dec("3.14"),
            },
            PricePoint {
                from_ms: UnixMs(START + DAY as i64),
                usd_per_token: dec("2.50"),
            },
        ],
    }
}

/// Liquidity-mining budget $10,000 at $3.14 per AKT (the price in force at the programme
/// start): floor(10,000 × 10⁶ / 3.14) = floor(3,184,713,375.79…) = 3,184,713,375 uakt.
/// Return policy over 5 epochs: `E_0 = floor(B / 5) = 636,942,675`.
///
/// A committed contract at $1.50 per GPU-hour for 1 GPU: epoch 0 at $3.14 pays
/// floor(1.5 × 10⁶ × 24 / 3.14) = floor(11,464,968.15…) = 11,464,968 uakt; epoch 1, with $2.50
/// in force at its start, pays 36,000,000 / 2.5 = 14,400,000 uakt. The prices and their source
/// are recorded in the ledgers and on the lines.
#[test]
fn usd_amounts_convert_at_the_price_in_force_at_the_epoch_start() {
    let mut p = with_liquidity_mining(
        programme(5, DAY, &["a100", "h100"]),
        0,
        rules(&[("a100", "1")], "1", "0", "0", Undistributed::Return),
    );
    p.prices = Some(price_table());
    if let Some(pool) = p.liquidity_mining.as_mut() {
        pool.budget = Money::Usd(dec("10000"));
    }
    p.committed = Some(CommittedPool {
        budget: Money::Usd(dec("1000")),
        verify_capacity: false,
        contracts: vec![CommittedContract {
            id: "c1".into(),
            provider: "akash1pro".into(),
            class: class("h100"),
            gpus: 1,
            rate: Money::Usd(dec("1.50")),
            start_ms: UnixMs(START),
            term_ms: 5 * DAY,
            sla_uptime: dec("0.9"),
            vesting: "immediate".into(),
            max_consecutive_breaches: 0,
        }],
    });
    let inputs: Vec<EpochInputs> = (0..2)
        .map(|_| {
            let mut inputs = EpochInputs::default();
            inputs.insert(&class("a100"), "akash1aaa", online(1, 0));
            inputs.insert(&class("h100"), "akash1pro", online(0, 0));
            inputs
        })
        .collect();
    let result = settle_programme(&p, &inputs).unwrap();

    let lm = ledger(&result.epochs[0], PoolKind::LiquidityMining);
    assert_eq!(lm.funded.0, 3_184_713_375);
    assert_eq!(lm.emitted.0, 636_942_675);
    let price = lm.price.as_ref().unwrap();
    assert_eq!(price.usd_per_token, dec("3.14"));
    assert_eq!(price.source, "prices.csv sha256:0f3a");

    let pay: Vec<(u128, String)> = result
        .epochs
        .iter()
        .flat_map(|e| e.line_items.iter())
        .filter(|l| l.pool == PoolKind::Committed && l.reason == Reason::Paid)
        .map(|l| {
            (
                l.amount.0,
                l.price.as_ref().unwrap().usd_per_token.to_string(),
            )
        })
        .collect();
    assert_eq!(pay, vec![(11_464_968, s("3.14")), (14_400_000, s("2.50"))]);
    // The committed budget, $1000 at $3.14, is funded once at epoch 0.
    let committed = ledger(&result.epochs[0], PoolKind::Committed);
    assert_eq!(committed.funded.0, 318_471_337);
    assert_eq!(
        result.epochs[1].line_items[0].basis,
        Basis::DeliveredGpuMs(u128::from(DAY))
    );
}

#[test]
fn a_usd_budget_without_a_price_at_the_start_is_rejected() {
    let mut p = with_liquidity_mining(
        programme(5, DAY, &["a100"]),
        0,
        rules(&[("a100", "1")], "1", "0", "0", Undistributed::Return),
    );
    let mut table = price_table();
    table.points.remove(0);
    p.prices = Some(table);
    if let Some(pool) = p.liquidity_mining.as_mut() {
        pool.budget = Money::Usd(dec("10000"));
    }
    let errors = p.validate().unwrap_err();
    assert_eq!(errors[0].path, "pools.liquidity_mining.budget");
    assert_eq!(
        errors[0].problem,
        Problem::Money(rewards::money::MoneyError::NoPrice(UnixMs(START)))
    );
}

/// An R&D pool in USD: budget $1,000, one grant of $100 in epoch 1, no pro-rata part.
///
/// The pro-rata remainder $900 is funded at epoch 0 at $3.14 (the price in force at the
/// programme start): floor(900 × 10⁶ / 3.14) = 286,624,203 uakt. The grant is converted at the
/// price in force at the start of *its* epoch, $2.50: 100 × 10⁶ / 2.5 = 40,000,000 uakt, and
/// that price and its source are recorded on the grant's line and the epoch's ledger.
#[test]
fn a_usd_grant_converts_at_the_price_in_force_at_its_epochs_start() {
    let mut p = programme(2, DAY, &["h200"]);
    p.prices = Some(price_table());
    p.rnd = Some(RndPool {
        budget: Money::Usd(dec("1000")),
        eligible_models: vec!["h200".into()],
        pro_rata: None,
        grants: vec![Grant {
            id: "bench-1".into(),
            provider: "akash1lab".into(),
            amount: Money::Usd(dec("100")),
            epoch: 1,
            vesting: "immediate".into(),
        }],
    });
    let result = settle_programme(&p, &[EpochInputs::default(), EpochInputs::default()]).unwrap();
    let l0 = ledger(&result.epochs[0], PoolKind::Rnd);
    assert_eq!((l0.funded.0, l0.allocated.0), (286_624_203, 0));
    assert_eq!(l0.price.as_ref().unwrap().usd_per_token, dec("3.14"));
    // Epoch 1 is the last: the pro-rata remainder nobody can be paid from is returned.
    let l1 = ledger(&result.epochs[1], PoolKind::Rnd);
    assert_eq!(
        (l1.funded.0, l1.allocated.0, l1.returned.0, l1.closing.0),
        (40_000_000, 40_000_000, 286_624_203, 0)
    );
    assert_eq!(l1.price.as_ref().unwrap().usd_per_token, dec("2.50"));
    let grant = &result.epochs[1].line_items[0];
    assert_eq!((grant.amount.0, grant.reason), (40_000_000, Reason::Paid));
    assert_eq!(
        grant.price.as_ref().unwrap().source,
        "prices.csv sha256:0f3a"
    );
}

#[test]
fn grants_beyond_the_rnd_budget_are_rejected() {
    let mut p = rnd_programme(&[("h200", "1")]);
    if let Some(pool) = p.rnd.as_mut() {
        pool.budget = Money::BaseUnits(BaseUnits(99));
    }
    let errors = p.validate().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "pools.rnd.grants");
    assert_eq!(
        errors[0].problem,
        Problem::GrantsExceedBudget {
            grants: "100".into(),
            budget: "99".into()
        }
    );
}

/// Models are compared ignoring ASCII case: a class of model `H200` may join an R&D pool whose
/// `eligible_models` lists `h200`.
#[test]
fn eligible_models_are_compared_ignoring_case() {
    let mut p = rnd_programme(&[("h200", "1")]);
    if let Some(class) = p.gpu_classes.iter_mut().find(|c| c.name.as_str() == "h200") {
        class.gpu_model = model("H200");
    }
    assert_eq!(p.validate(), Ok(()));
}
