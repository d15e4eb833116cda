//! Programme validation: every problem is reported at once, at a path the loader can map to a
//! line of the configuration.

mod common;

use common::*;
use domain::{BaseUnits, UnixMs};
use rewards::calendar::CalendarError;
use rewards::money::{Money, PricePoint, PriceTable};
use rewards::programme::{
    thousandths, CommittedContract, CommittedPool, Grant, Problem, RndPool, Undistributed,
};
use rewards::vesting::{Vesting, VestingProblem};
use rewards::{settle_programme, SettleError};

#[test]
fn every_problem_is_reported_with_its_path() {
    let mut p = with_liquidity_mining(
        programme(3, 0, &["a100", "h100"]),
        1000,
        rules(
            &[("a100", "0.5"), ("h100", "0.4")],
            "1.2345",
            "0",
            "1.5",
            Undistributed::Carry,
        ),
    );
    p.gpu_classes.push(gpu_class("a100", "a100"));
    p.gpu_classes.push(rewards::programme::GpuClass {
        name: class("h100-80"),
        gpu_model: model("H100"),
        gpu_ram: Some("80Gi".into()),
    });
    if let Some(pool) = p.liquidity_mining.as_mut() {
        pool.rules.vesting = "monthly".into();
    }
    p.vesting.insert(
        "bad".into(),
        Vesting::Linear {
            cliff_ms: 10,
            duration_ms: 5,
        },
    );
    p.prices = Some(PriceTable {
        source: "t".into(),
        points: vec![
            PricePoint {
                from_ms: UnixMs(5),
                usd_per_token: dec("1"),
            },
            PricePoint {
                from_ms: UnixMs(5),
                usd_per_token: dec("-2"),
            },
        ],
    });
    p.committed = Some(CommittedPool {
        budget: Money::BaseUnits(BaseUnits(1)),
        verify_capacity: false,
        contracts: vec![CommittedContract {
            id: "c".into(),
            provider: "akash1a".into(),
            class: class("v100"),
            gpus: 0,
            rate: Money::BaseUnits(BaseUnits(1)),
            start_ms: UnixMs(START),
            term_ms: 0,
            sla_uptime: dec("0.9"),
            vesting: "immediate".into(),
            max_consecutive_breaches: 1,
        }],
    });
    p.rnd = Some(RndPool {
        budget: Money::BaseUnits(BaseUnits(10)),
        eligible_models: vec!["h200".into()],
        pro_rata: None,
        grants: vec![Grant {
            id: "g".into(),
            provider: "akash1b".into(),
            amount: Money::Usd(dec("5")),
            epoch: 3,
            vesting: "immediate".into(),
        }],
    });
    let errors = p.validate().unwrap_err();
    let mut paths: Vec<(String, Problem)> =
        errors.into_iter().map(|e| (e.path, e.problem)).collect();
    paths.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = vec![
        ("classes[2]", Problem::Duplicate("a100".into())),
        ("classes[3]", Problem::OverlappingClasses("h100".into())),
        (
            "pools.committed.contracts[0].class",
            Problem::UnknownClass("v100".into()),
        ),
        ("pools.committed.contracts[0].gpus", Problem::NotPositive),
        ("pools.committed.contracts[0].term", Problem::NotPositive),
        (
            "pools.liquidity_mining.alpha",
            Problem::MoreThanThreeDecimals(dec("1.2345")),
        ),
        (
            "pools.liquidity_mining.classes",
            Problem::SharesDoNotSumToOne(dec("0.9")),
        ),
        (
            "pools.liquidity_mining.min_uptime",
            Problem::OutOfRange(dec("1.5"), "[0, 1]"),
        ),
        (
            "pools.liquidity_mining.vesting",
            Problem::UnknownVesting("monthly".into()),
        ),
        ("pools.rnd.grants[0].amount", Problem::UnitMismatch),
        ("pools.rnd.grants[0].epoch", Problem::EpochOutOfRange(3, 3)),
        (
            "prices[1]",
            Problem::Money(rewards::money::MoneyError::NonPositivePrice(dec("-2"))),
        ),
        ("prices[1]", Problem::PricesNotIncreasing),
        (
            "program.epoch_length",
            Problem::Calendar(CalendarError::ZeroEpochLength),
        ),
        (
            "vesting.bad",
            Problem::Vesting(VestingProblem::CliffAfterDuration),
        ),
    ];
    let expected: Vec<(String, Problem)> = expected
        .into_iter()
        .map(|(p, e)| (p.to_string(), e))
        .collect();
    assert_eq!(paths, expected);
    // The engine refuses to settle it, with the same problems.
    assert!(matches!(
        settle_programme(&p, &[]),
        Err(SettleError::InvalidProgramme(e)) if e.len() == expected.len()
    ));
}

#[test]
fn coefficients_are_exact_thousandths() {
    assert_eq!(thousandths(dec("1.5")), Ok(1500));
    assert_eq!(thousandths(dec("0.001")), Ok(1));
    assert_eq!(thousandths(dec("2.5000")), Ok(2500));
    assert_eq!(thousandths(dec("1000000")), Ok(1_000_000_000));
    assert_eq!(
        thousandths(dec("1000000.001")),
        Err(Problem::CoefficientOutOfRange(dec("1000000.001")))
    );
    assert_eq!(
        thousandths(dec("-1")),
        Err(Problem::CoefficientOutOfRange(dec("-1")))
    );
    assert_eq!(
        thousandths(dec("0.0001")),
        Err(Problem::MoreThanThreeDecimals(dec("0.0001")))
    );
}

#[test]
fn a_programme_without_pools_or_epochs_is_rejected() {
    let p = programme(0, DAY, &[]);
    let problems: Vec<Problem> = p
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.problem)
        .collect();
    assert_eq!(problems, vec![Problem::NoEpochs, Problem::NoPools]);
}

/// Validation walks every epoch of every contract, so the epoch count is bounded.
#[test]
fn more_than_the_supported_epochs_is_rejected() {
    use rewards::programme::MAX_EPOCHS;
    let ok = with_liquidity_mining(
        programme(MAX_EPOCHS, 600_000, &["a100"]),
        1,
        rules(&[("a100", "1")], "1", "0", "0", Undistributed::Carry),
    );
    assert_eq!(ok.validate(), Ok(()));
    let mut too_many = ok;
    too_many.calendar.epochs = MAX_EPOCHS + 1;
    let errors = too_many.validate().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "program.epochs");
    assert_eq!(errors[0].problem, Problem::TooManyEpochs(MAX_EPOCHS + 1));
}
