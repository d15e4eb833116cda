//! The programme's last epoch empties every pool: what nobody could take, what the committed
//! reserve still holds (forfeits and clawbacks included) and the R&D pool's leftover are returned
//! with `PROGRAMME_END`, so no pool carries money into an epoch that does not exist. Amounts still
//! vesting stay owed to their providers.

mod common;

use common::*;
use domain::{BaseUnits, UnixMs};
use rewards::ledger::{Basis, Bucket, Reason};
use rewards::money::Money;
use rewards::programme::{
    CommittedContract, Grant, PoolKind, Programme, RndPool, Undistributed, NEXT_GENERATION_MODELS,
};
use rewards::settle::EpochInputs;
use rewards::settle_programme;
use rewards::vesting::positions;
use std::collections::BTreeMap;

fn s(x: &str) -> String {
    x.to_string()
}

/// `(opening, emitted, allocated, forfeited, clawed_back, returned, carried, closing)`.
fn columns(l: &rewards::ledger::PoolLedger) -> [u128; 8] {
    [
        l.opening.0,
        l.emitted.0,
        l.allocated.0,
        l.forfeited.0,
        l.clawed_back.0,
        l.returned.0,
        l.carried.0,
        l.closing.0,
    ]
}

/// Two one-day epochs under `carry`, budget 1,000. Epoch 0 emits floor(1,000 / 2) = 500 to the
/// only provider; in epoch 1 nobody is measured, so its emission (the whole balance, 500) has
/// no eligible weight. There is no later epoch to carry it into: it is returned, and the pool
/// ends at 0. Nothing is left beyond the emission, so there is no `PROGRAMME_END` line.
#[test]
fn carry_returns_the_last_epochs_unpaid_emission() {
    let p = with_liquidity_mining(
        programme(2, DAY, &["h100"]),
        1_000,
        rules(&[("h100", "1")], "1", "0", "0", Undistributed::Carry),
    );
    let inputs = [
        one_h100("akash1a", online(1_000, 0)),
        EpochInputs::default(),
    ];
    let result = settle_programme(&p, &inputs).unwrap();
    let last = &result.epochs[1];
    assert_eq!(
        columns(ledger(last, PoolKind::LiquidityMining)),
        [500, 500, 0, 0, 0, 500, 0, 0]
    );
    assert_eq!(
        summary(last, PoolKind::LiquidityMining),
        vec![(s("h100"), s(""), 500, s("NO_ELIGIBLE_WEIGHT"))]
    );
    assert_eq!(
        result.state.pools[&PoolKind::LiquidityMining].balance,
        BaseUnits(0)
    );
}

/// c1-style contract for akash1pro: 1 GPU at 100 uakt per GPU-hour, with the given term and
/// breach allowance.
fn contract(id: &str, term_ms: u64, max_breaches: u32) -> CommittedContract {
    let mut c = committed_contract(id, "akash1pro", 1, 100, term_ms);
    c.max_consecutive_breaches = max_breaches;
    c
}

/// A programme of one-day epochs whose committed pool does not verify capacity.
fn committed(epochs: u32, budget: u128, contracts: Vec<CommittedContract>) -> Programme {
    committed_programme(epochs, DAY, budget, false, contracts)
}

/// Budget 10,000; one contract of 1 GPU at 100 per GPU-hour for epoch 0 only (2,400). Epoch 1,
/// the last, has no contract to pay: the reserve's 7,600 is returned with one pool-level
/// `PROGRAMME_END` line, and the pool ends at 0 with Σ allocated + Σ returned = budget.
#[test]
fn the_committed_reserve_is_returned_once_every_contract_has_ended() {
    let p = committed(2, 10_000, vec![contract("c1", DAY, 2)]);
    let inputs = [
        one_h100("akash1pro", online(0, 0)),
        one_h100("akash1pro", online(0, 0)),
    ];
    let result = settle_programme(&p, &inputs).unwrap();
    let last = &result.epochs[1];
    let l = ledger(last, PoolKind::Committed);
    assert_eq!(columns(l), [7_600, 0, 0, 0, 0, 7_600, 0, 0]);
    assert_eq!(last.line_items.len(), 1);
    let line = &last.line_items[0];
    assert_eq!(
        (
            &line.bucket,
            &line.provider,
            line.basis,
            line.amount,
            line.reason
        ),
        (
            &Bucket::Pool,
            &None,
            Basis::Amount(BaseUnits(7_600)),
            BaseUnits(7_600),
            Reason::ProgrammeEnd
        )
    );
    assert_eq!(
        serde_json::to_value(line.reason).unwrap(),
        serde_json::json!("PROGRAMME_END")
    );
    let pool = result.state.pools[&PoolKind::Committed];
    assert_eq!(pool.balance, BaseUnits(0));
    assert_eq!(
        pool.totals.allocated.0 - pool.totals.clawed_back.0 + pool.totals.returned.0,
        pool.totals.funded.0
    );
}

/// The contract is paid 2,400 in epoch 0 and breaches in epoch 1, the last, with
/// `max_consecutive_breaches = 0`: it is terminated, its epoch-1 pay (2,400) forfeited and its
/// wholly unvested epoch-0 pay (2,400) clawed back. The reserve then holds
/// 7,600 + 2,400 = 10,000, which is returned in the same epoch: the clawback goes back with the
/// rest of its pool. The emission is the forfeited pay only; the release is not emitted.
#[test]
fn an_amount_clawed_back_in_the_last_epoch_is_returned_with_its_pool() {
    let p = committed(2, 10_000, vec![contract("c1", 2 * DAY, 0)]);
    let inputs = [
        one_h100("akash1pro", online(0, 0)),
        one_h100("akash1pro", measured(0, 0, 0, 1)),
    ];
    let result = settle_programme(&p, &inputs).unwrap();
    let last = &result.epochs[1];
    assert_eq!(
        columns(ledger(last, PoolKind::Committed)),
        [7_600, 2_400, 0, 2_400, 2_400, 10_000, 0, 0]
    );
    assert_eq!(
        summary(last, PoolKind::Committed),
        vec![
            (s("c1"), s("akash1pro"), 2_400, s("COMMITMENT_BROKEN")),
            (s("c1"), s("akash1pro"), 2_400, s("CLAWED_BACK")),
            (s(""), s(""), 10_000, s("PROGRAMME_END")),
        ]
    );
    assert_eq!(
        result.state.pools[&PoolKind::Committed].balance,
        BaseUnits(0)
    );
}

/// An R&D pool of grants only: budget 1,000, one grant of 300 in epoch 0. The 700 nobody can
/// ever be paid is returned in the last epoch.
#[test]
fn the_rnd_pools_leftover_is_returned_in_the_last_epoch() {
    let mut p = programme(3, DAY, &["h100"]);
    p.rnd = Some(RndPool {
        budget: Money::BaseUnits(BaseUnits(1_000)),
        eligible_models: NEXT_GENERATION_MODELS.iter().map(|m| s(m)).collect(),
        pro_rata: None,
        grants: vec![Grant {
            id: "g1".into(),
            provider: "akash1lab".into(),
            amount: Money::BaseUnits(BaseUnits(300)),
            epoch: 0,
            vesting: "immediate".into(),
        }],
    });
    let result = settle_programme(&p, &vec![EpochInputs::default(); 3]).unwrap();
    assert_eq!(
        columns(ledger(&result.epochs[1], PoolKind::Rnd)),
        [700, 0, 0, 0, 0, 0, 0, 700]
    );
    let last = &result.epochs[2];
    assert_eq!(
        columns(ledger(last, PoolKind::Rnd)),
        [700, 0, 0, 0, 0, 700, 0, 0]
    );
    assert_eq!(
        summary(last, PoolKind::Rnd),
        vec![(s(""), s(""), 700, s("PROGRAMME_END"))]
    );
    assert_eq!(result.state.pools[&PoolKind::Rnd].balance, BaseUnits(0));
}

/// What is still vesting after the last epoch is not returned: it stays owed and vests on
/// schedule. The contract's epoch-1 pay (2,400, quarterly) is allocated in the last epoch; at
/// the end of the programme all of it is unvested, and it is all vested a year later.
#[test]
fn amounts_still_vesting_after_the_last_epoch_stay_owed() {
    let p = committed(2, 10_000, vec![contract("c1", 2 * DAY, 2)]);
    let inputs = [
        one_h100("akash1pro", online(0, 0)),
        one_h100("akash1pro", online(0, 0)),
    ];
    let result = settle_programme(&p, &inputs).unwrap();
    let l = ledger(&result.epochs[1], PoolKind::Committed);
    assert_eq!(columns(l), [7_600, 2_400, 2_400, 0, 0, 5_200, 0, 0]);
    let end = UnixMs(START + 2 * DAY as i64);
    let at = |t| positions(&result.entries(), t, &BTreeMap::new()).unwrap()["akash1pro"];
    let now = at(end);
    assert_eq!(
        (now.earned.0, now.vested.0, now.unvested.0),
        (4_800, 0, 4_800)
    );
    let later = at(UnixMs(end.0 + 400 * DAY as i64));
    assert_eq!((later.vested.0, later.unvested.0), (4_800, 0));
}
