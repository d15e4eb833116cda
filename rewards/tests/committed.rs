//! Golden committed-pool epochs: SLA breaches, termination, clawback across a quarterly
//! schedule, capacity verification and the budget check.

mod common;

use common::*;
use domain::{BaseUnits, UnixMs};
use rewards::committed::max_total;
use rewards::ledger::{EntryRef, Reason};
use rewards::programme::{PoolKind, Problem, Programme};
use rewards::settle::{Engine, EpochInputs, Measurement, PoolState, PoolTotals, ProgrammeState};
use rewards::settle_programme;
use rewards::vesting::positions;
use std::collections::BTreeMap;

const MONTH: u64 = 30 * DAY;

fn s(x: &str) -> String {
    x.to_string()
}

/// A one-day programme with a 1,000,000 reserve and one contract (c1: 1 GPU at 100 uakt per
/// GPU-hour for ten days) that starts half-way through the epoch.
fn half_day_late_programme() -> Programme {
    let mut late = committed_contract("c1", "akash1pro", 1, 100, 10 * DAY);
    late.start_ms = UnixMs(START + (DAY / 2) as i64);
    committed_programme(1, DAY, 1_000_000, false, vec![late])
}

/// The committed lines of settling `p`'s first epoch with only akash1pro measured, as `m`.
fn first_epoch_committed_lines(
    p: &Programme,
    m: Measurement,
) -> Vec<(String, String, u128, String)> {
    let result = settle_programme(p, &[one_h100("akash1pro", m)]).unwrap();
    summary(&result.epochs[0], PoolKind::Committed)
}

/// Day `d` after the programme start, in ms.
fn day(d: i64) -> i64 {
    START + d * DAY as i64
}

/// Twelve 30-day epochs. One contract: 2 GPUs at 1000 uakt per GPU-hour for 360 days,
/// SLA 0.95, `max_consecutive_breaches = 2`, quarterly × 4 vesting, capacity not verified.
///
/// Pay per full epoch: floor(2 × 1000 × 720 h) = 1,440,000 uakt; each quarterly piece is
/// 1,440,000 / 4 = 360,000 and vests at anchor + 90, 180, 270, 360 days, where the anchor is
/// the end of the epoch the amount was earned in (day 30·(k+1)).
///
/// Epochs 0–4 meet the SLA (5 × 1,440,000 = 7,200,000 allocated). Epochs 5 and 6 have uptime
/// 0.9 < 0.95: SLA_BREACH, pay forfeited. Epoch 7 breaches again: 3 > 2 consecutive breaches,
/// COMMITMENT_BROKEN, clawback at the end of epoch 7 = day 240. What vested strictly before
/// day 240 stays with the provider:
///
/// | entry | anchor | pieces at day | kept | clawed back |
/// |---|---|---|---|---|
/// | e0 | 30 | 120, 210, 300, 390 | 720,000 | 720,000 |
/// | e1 | 60 | 150, **240**, 330, 420 | 360,000 | 1,080,000 |
/// | e2 | 90 | 180, 270, 360, 450 | 360,000 | 1,080,000 |
/// | e3 | 120 | 210, 300, 390, 480 | 360,000 | 1,080,000 |
/// | e4 | 150 | **240**, 330, 420, 510 | 0 | 1,440,000 |
///
/// The pieces vesting exactly at day 240 go to the clawback. Clawed back: 5,400,000; kept:
/// 1,800,000. The epoch-7 ledger opens at 20,000,000 − 7,200,000 = 12,800,000 and closes at
/// 12,800,000 + 5,400,000 = 18,200,000. Later epochs pay nothing.
#[test]
fn breaching_twice_then_terminated_claws_back_the_unvested_quarters() {
    let p = committed_programme(
        12,
        MONTH,
        20_000_000,
        false,
        vec![committed_contract("c1", "akash1pro", 2, 1000, 360 * DAY)],
    );
    let inputs = per_epoch_h100(
        "akash1pro",
        (0..12).map(|k| {
            if (5..=7).contains(&k) {
                measured(0, 0, 9, 10)
            } else {
                online(0, 0)
            }
        }),
    );
    let result = settle_programme(&p, &inputs).unwrap();
    let epochs = &result.epochs;

    for (k, epoch) in epochs.iter().enumerate().take(5) {
        assert_eq!(
            summary(epoch, PoolKind::Committed),
            vec![(s("c1"), s("akash1pro"), 1_440_000, s("PAID"))],
            "epoch {k}"
        );
    }
    for (run, epoch) in (1..).zip(&epochs[5..7]) {
        assert_eq!(
            summary(epoch, PoolKind::Committed),
            vec![(s("c1"), s("akash1pro"), 1_440_000, s("SLA_BREACH"))],
            "epoch {}",
            epoch.epoch
        );
        assert_eq!(epoch.contracts["c1"].consecutive_breaches, run);
    }
    let broken = summary(&epochs[7], PoolKind::Committed);
    assert_eq!(
        broken[0],
        (s("c1"), s("akash1pro"), 1_440_000, s("COMMITMENT_BROKEN"))
    );
    let mut clawed: Vec<u128> = broken[1..]
        .iter()
        .inspect(|line| assert_eq!(line.3, "CLAWED_BACK"))
        .map(|line| line.2)
        .collect();
    clawed.sort_unstable();
    assert_eq!(
        clawed,
        vec![720_000, 1_080_000, 1_080_000, 1_080_000, 1_440_000]
    );

    let l = ledger(&epochs[7], PoolKind::Committed);
    assert_eq!(
        (
            l.opening.0,
            l.allocated.0,
            l.forfeited.0,
            l.clawed_back.0,
            l.closing.0
        ),
        (12_800_000, 0, 1_440_000, 5_400_000, 18_200_000)
    );
    for e in &epochs[8..11] {
        assert!(
            e.line_items.is_empty(),
            "epoch {} paid after termination",
            e.epoch
        );
    }
    // The last epoch pays nothing either; it returns the reserve (forfeits and clawbacks
    // included) to the community pool.
    assert_eq!(
        summary(&epochs[11], PoolKind::Committed),
        vec![(s(""), s(""), 18_200_000, s("PROGRAMME_END"))]
    );
    let termination = result.state.contracts["c1"].terminated.unwrap();
    assert_eq!(
        (termination.epoch, termination.at_ms),
        (7, UnixMs(day(240)))
    );

    // Positions: just before the clawback, at it, and long after.
    let paid = BTreeMap::from([(s("akash1pro"), BaseUnits(1_000_000u128))]);
    let at = |t| positions(&result.entries(), t, &paid).unwrap()["akash1pro"];
    let before = at(UnixMs(day(240) - 1));
    assert_eq!(
        (
            before.earned.0,
            before.vested.0,
            before.unvested.0,
            before.clawed_back.0
        ),
        (7_200_000, 1_800_000, 5_400_000, 0)
    );
    let after = at(UnixMs(day(240)));
    assert_eq!(
        (
            after.earned.0,
            after.vested.0,
            after.unvested.0,
            after.clawed_back.0,
            after.claimable.0,
            after.overpaid.0
        ),
        (7_200_000, 1_800_000, 0, 5_400_000, 800_000, 0)
    );
    assert_eq!(at(UnixMs(day(2000))), after);
    let final_state = result.state.pools[&PoolKind::Committed];
    assert_eq!(final_state.balance, BaseUnits(0));
    assert_eq!(final_state.totals.returned, BaseUnits(18_200_000));
    assert_eq!(
        final_state.totals.allocated.0 - final_state.totals.clawed_back.0,
        1_800_000
    );
}

/// A run of breaches is reset by a good epoch: breach, breach, good, breach, breach never
/// exceeds 2 in a row, so the contract survives.
#[test]
fn a_good_epoch_resets_the_breach_run() {
    let p = committed_programme(
        5,
        DAY,
        10_000_000,
        false,
        vec![committed_contract("c1", "akash1pro", 1, 100, 5 * DAY)],
    );
    let inputs = per_epoch_h100(
        "akash1pro",
        [false, false, true, false, false].map(|good| {
            if good {
                online(0, 0)
            } else {
                measured(0, 0, 1, 2)
            }
        }),
    );
    let result = settle_programme(&p, &inputs).unwrap();
    let runs: Vec<u32> = result
        .epochs
        .iter()
        .map(|e| e.contracts["c1"].consecutive_breaches)
        .collect();
    assert_eq!(runs, vec![1, 2, 0, 1, 2]);
    assert!(result.state.contracts["c1"].terminated.is_none());
}

/// One-day epoch, 100 uakt per GPU-hour, capacity verified. The provider has two contracts in
/// the class (2 GPUs, then 1 GPU) and 2.5 GPU-days online. In contract order: c1 takes
/// min(2 GPU-days, 2.5) = 2 GPU-days → 100 × 48 h = 4,800; c2 takes the remaining 0.5 GPU-day
/// → 100 × 12 h = 1,200. A contract with no measurement at all has uptime 0: SLA_BREACH.
#[test]
fn verified_capacity_is_shared_among_a_providers_contracts() {
    let mut c3 = committed_contract("c3", "akash1absent", 1, 100, DAY);
    c3.max_consecutive_breaches = 5;
    let p = committed_programme(
        1,
        DAY,
        1_000_000,
        true,
        vec![
            committed_contract("c1", "akash1pro", 2, 100, DAY),
            committed_contract("c2", "akash1pro", 1, 100, DAY),
            c3,
        ],
    );
    assert_eq!(
        first_epoch_committed_lines(&p, online(5 * DAY as u128 / 2, 0)),
        vec![
            (s("c1"), s("akash1pro"), 4_800, s("PAID")),
            (s("c2"), s("akash1pro"), 1_200, s("PAID")),
            (s("c3"), s("akash1absent"), 0, s("SLA_BREACH")),
            (s(""), s(""), 994_000, s("PROGRAMME_END")),
        ]
    );
}

/// A forfeited contract uses up none of its provider's capacity. One-day epochs, 100 uakt per
/// GPU-hour, capacity verified; the provider has 1 GPU-day online at uptime 0.9. c1 (2 GPUs,
/// SLA 0.95) breaches: its pay for the capacity it saw, min(2 GPU-days, 1) = 1 GPU-day → 2,400,
/// is forfeited. c2 (1 GPU, SLA 0.5) meets its SLA and delivered the whole GPU-day, so it is
/// paid 100 × 24 h = 2,400; the breaching contract ahead of it in configuration order takes none
/// of it. A contract terminated that epoch (c3, COMMITMENT_BROKEN) takes none either.
#[test]
fn a_forfeited_contract_uses_up_no_capacity() {
    let mut c1 = committed_contract("c1", "akash1pro", 2, 100, 2 * DAY);
    c1.max_consecutive_breaches = 5;
    let mut c3 = committed_contract("c3", "akash1pro", 1, 100, 2 * DAY);
    c3.max_consecutive_breaches = 0;
    let mut c2 = committed_contract("c2", "akash1pro", 1, 100, 2 * DAY);
    c2.sla_uptime = dec("0.5");
    let p = committed_programme(2, DAY, 1_000_000, true, vec![c1, c3, c2]);
    let inputs = one_h100("akash1pro", measured(u128::from(DAY), 0, 9, 10));
    let result = settle_programme(&p, &[inputs.clone(), inputs]).unwrap();
    assert_eq!(
        summary(&result.epochs[0], PoolKind::Committed),
        vec![
            (s("c1"), s("akash1pro"), 2_400, s("SLA_BREACH")),
            (s("c2"), s("akash1pro"), 2_400, s("PAID")),
            (s("c3"), s("akash1pro"), 2_400, s("COMMITMENT_BROKEN")),
        ]
    );
    let l = ledger(&result.epochs[0], PoolKind::Committed);
    assert_eq!((l.allocated.0, l.forfeited.0), (2_400, 4_800));
}

/// A contract starting half-way through an epoch is paid for its overlap only:
/// 1 GPU × 12 h × 100 = 1,200.
#[test]
fn pay_covers_only_the_overlap_with_the_term() {
    let p = half_day_late_programme();
    assert_eq!(
        first_epoch_committed_lines(&p, online(0, 0)),
        vec![
            (s("c1"), s("akash1pro"), 1_200, s("PAID")),
            (s(""), s(""), 998_800, s("PROGRAMME_END")),
        ]
    );
}

/// Maximum totals: c1 = 2 GPUs × 24 h × 100 × 2 epochs = 9,600; c2 = 4,800. A budget of
/// 10,000 holds c1 but not c1 + c2, so validation points at contracts[1].
#[test]
fn contracts_beyond_the_budget_are_rejected() {
    let p = committed_programme(
        2,
        DAY,
        10_000,
        false,
        vec![
            committed_contract("c1", "akash1a", 2, 100, 2 * DAY),
            committed_contract("c2", "akash1b", 1, 100, 2 * DAY),
        ],
    );
    let pool = p.committed.as_ref().unwrap();
    assert_eq!(max_total(&p, &pool.contracts[0]), Ok(BaseUnits(9_600)));
    assert_eq!(max_total(&p, &pool.contracts[1]), Ok(BaseUnits(4_800)));
    let errors = p.validate().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "pools.committed.contracts[1]");
    assert_eq!(
        errors[0].problem,
        Problem::BudgetExceeded {
            running_total: BaseUnits(14_400),
            budget: BaseUnits(10_000)
        }
    );
}

/// A reserve that cannot cover the pay (here a state carried in with only 1,000 left) pays
/// what it has and records the rest as POOL_EXHAUSTED; the balance never goes negative.
#[test]
fn an_exhausted_reserve_records_the_shortfall() {
    let p = committed_programme(
        2,
        DAY,
        10_000,
        false,
        vec![committed_contract("c1", "akash1pro", 1, 100, 2 * DAY)],
    );
    let mut state = ProgrammeState {
        next_epoch: 1,
        ..ProgrammeState::default()
    };
    state.pools.insert(
        PoolKind::Committed,
        PoolState {
            balance: BaseUnits(1_000),
            totals: PoolTotals {
                funded: BaseUnits(10_000),
                allocated: BaseUnits(9_000),
                clawed_back: BaseUnits(0),
                returned: BaseUnits(0),
            },
        },
    );
    let epoch = Engine::new(&p)
        .unwrap()
        .settle_epoch(&mut state, &one_h100("akash1pro", online(0, 0)))
        .unwrap();
    assert_eq!(
        summary(&epoch, PoolKind::Committed),
        vec![
            (s("c1"), s("akash1pro"), 1_000, s("PAID")),
            (s("c1"), s("akash1pro"), 1_400, s("POOL_EXHAUSTED")),
        ]
    );
    let l = ledger(&epoch, PoolKind::Committed);
    assert_eq!(
        (l.allocated.0, l.shortfall.0, l.closing.0),
        (1_000, 1_400, 0)
    );
}

/// A state whose running totals disagree with its balance is refused with an identity error,
/// not settled and not a panic.
#[test]
fn inconsistent_carried_state_is_an_identity_error() {
    let p = committed_programme(
        2,
        DAY,
        10_000,
        false,
        vec![committed_contract("c1", "akash1pro", 1, 100, 2 * DAY)],
    );
    let mut state = ProgrammeState {
        next_epoch: 1,
        ..ProgrammeState::default()
    };
    state.pools.insert(
        PoolKind::Committed,
        PoolState {
            balance: BaseUnits(5_000),
            totals: PoolTotals {
                funded: BaseUnits(10_000),
                ..PoolTotals::default()
            },
        },
    );
    let before = state.clone();
    let result = Engine::new(&p)
        .unwrap()
        .settle_epoch(&mut state, &EpochInputs::default());
    assert!(matches!(result, Err(rewards::SettleError::Identity(_))));
    assert_eq!(state, before);
}

/// A contract paid in base units needs no price, even when the price table only starts later.
#[test]
fn base_unit_contracts_do_not_need_a_price() {
    let mut p = committed_programme(
        1,
        DAY,
        10_000,
        false,
        vec![committed_contract("c1", "akash1pro", 1, 100, DAY)],
    );
    p.prices = Some(rewards::money::PriceTable {
        source: "later".into(),
        points: vec![rewards::money::PricePoint {
            from_ms: UnixMs(START + 10 * DAY as i64),
            usd_per_token: dec("2"),
        }],
    });
    let result = settle_programme(&p, &[one_h100("akash1pro", online(0, 0))]).unwrap();
    assert_eq!(
        summary(&result.epochs[0], PoolKind::Committed),
        vec![
            (s("c1"), s("akash1pro"), 2_400, s("PAID")),
            (s(""), s(""), 7_600, s("PROGRAMME_END")),
        ]
    );
    assert_eq!(ledger(&result.epochs[0], PoolKind::Committed).price, None);
}

/// A transfer to a provider that has earned nothing shows as overpaid, never as a negative
/// claimable amount.
#[test]
fn overpayment_shows_as_overpaid() {
    let paid = BTreeMap::from([(s("akash1stranger"), BaseUnits(5u128))]);
    let all = positions(&[], UnixMs(day(1)), &paid).unwrap();
    assert_eq!(all["akash1stranger"].claimable, BaseUnits(0));
    assert_eq!(all["akash1stranger"].overpaid, BaseUnits(5));
    assert_eq!(all["akash1stranger"].earned, BaseUnits(0));
}

/// Three one-day epochs; the contract's term is epoch 1 only. The provider is measured offline
/// in epochs 0 and 2, which lie outside the term: they are not breaches (no line at all), so
/// even with `max_consecutive_breaches = 0` the contract survives and epoch 1 is paid
/// 1 GPU × 24 h × 100 = 2,400.
#[test]
fn epochs_outside_the_term_are_not_breaches() {
    let mut c1 = committed_contract("c1", "akash1pro", 1, 100, DAY);
    c1.start_ms = UnixMs(day(1));
    c1.max_consecutive_breaches = 0;
    let p = committed_programme(3, DAY, 1_000_000, false, vec![c1]);
    let inputs = per_epoch_h100(
        "akash1pro",
        [false, true, false].map(|up| {
            if up {
                online(0, 0)
            } else {
                measured(0, 0, 0, 1)
            }
        }),
    );
    let result = settle_programme(&p, &inputs).unwrap();
    let lines: Vec<_> = result
        .epochs
        .iter()
        .map(|e| summary(e, PoolKind::Committed))
        .collect();
    assert_eq!(
        lines,
        vec![
            vec![],
            vec![(s("c1"), s("akash1pro"), 2_400, s("PAID"))],
            vec![(s(""), s(""), 997_600, s("PROGRAMME_END"))]
        ]
    );
    assert_eq!(result.state.contracts["c1"].consecutive_breaches, 0);
    assert!(result.state.contracts["c1"].terminated.is_none());
}

/// The SLA is judged on the provider's uptime over the whole epoch, even when the term covers
/// only its second half. Online only during that half: uptime 0.5 < 0.95, so the 1,200 due for
/// the 12 hours of overlap are forfeited.
#[test]
fn the_sla_uses_the_whole_epochs_uptime_for_a_partial_term() {
    let p = half_day_late_programme();
    assert_eq!(
        first_epoch_committed_lines(&p, measured(0, 0, DAY / 2, DAY)),
        vec![
            (s("c1"), s("akash1pro"), 1_200, s("SLA_BREACH")),
            (s(""), s(""), 1_000_000, s("PROGRAMME_END")),
        ]
    );
}

/// Uptime exactly equal to `sla_uptime` meets the SLA (`uptime < sla_uptime` is the breach).
#[test]
fn uptime_exactly_at_the_sla_is_not_a_breach() {
    let p = committed_programme(
        1,
        DAY,
        1_000_000,
        false,
        vec![committed_contract("c1", "akash1pro", 1, 100, DAY)],
    );
    assert_eq!(
        first_epoch_committed_lines(&p, measured(0, 0, 95, 100)),
        vec![
            (s("c1"), s("akash1pro"), 2_400, s("PAID")),
            (s(""), s(""), 997_600, s("PROGRAMME_END")),
        ]
    );
}

/// What a termination claws back pays the same epoch's other contracts before anything is
/// recorded as POOL_EXHAUSTED.
///
/// Two one-GPU contracts at 100 uakt per GPU-hour (2,400 per day), quarterly vesting, budget
/// 9,600. Epoch 0 pays both (4,800). The state is then carried with the remaining 4,800 moved
/// out of the reserve (as if spent elsewhere; the running totals are kept consistent), so
/// epoch 1 opens at 0. In epoch 1, c1 breaches with `max_consecutive_breaches = 0`: it is
/// terminated and its 2,400 from epoch 0, wholly unvested, is clawed back; c2 meets the SLA
/// and is paid its 2,400 out of that clawback, with no shortfall.
#[test]
fn clawbacks_pay_the_same_epochs_contracts() {
    let mut c1 = committed_contract("c1", "akash1bad", 1, 100, 2 * DAY);
    c1.max_consecutive_breaches = 0;
    let c2 = committed_contract("c2", "akash1good", 1, 100, 2 * DAY);
    let p = committed_programme(2, DAY, 9_600, false, vec![c1, c2]);
    let engine = Engine::new(&p).unwrap();
    let mut state = ProgrammeState::default();
    let mut both_up = EpochInputs::default();
    both_up.insert(&class("h100"), "akash1bad", online(0, 0));
    both_up.insert(&class("h100"), "akash1good", online(0, 0));
    let first = engine.settle_epoch(&mut state, &both_up).unwrap();
    assert_eq!(
        ledger(&first, PoolKind::Committed).allocated,
        BaseUnits(4_800)
    );

    let pool = state.pools.get_mut(&PoolKind::Committed).unwrap();
    assert_eq!(pool.balance, BaseUnits(4_800));
    pool.totals.allocated.0 += pool.balance.0;
    pool.balance = BaseUnits(0);

    let mut one_down = EpochInputs::default();
    one_down.insert(&class("h100"), "akash1bad", measured(0, 0, 0, 1));
    one_down.insert(&class("h100"), "akash1good", online(0, 0));
    let second = engine.settle_epoch(&mut state, &one_down).unwrap();
    assert_eq!(
        summary(&second, PoolKind::Committed),
        vec![
            (s("c1"), s("akash1bad"), 2_400, s("COMMITMENT_BROKEN")),
            (s("c1"), s("akash1bad"), 2_400, s("CLAWED_BACK")),
            (s("c2"), s("akash1good"), 2_400, s("PAID")),
        ]
    );
    let l = ledger(&second, PoolKind::Committed);
    assert_eq!(
        (
            l.opening.0,
            l.clawed_back.0,
            l.allocated.0,
            l.shortfall.0,
            l.closing.0
        ),
        (0, 2_400, 2_400, 0, 0)
    );
}

/// The programme-wide identity holds for any budget that fits in a `u128`, however close to
/// the limit: `Σ allocated − Σ clawed_back + Σ returned + balance` never exceeds the budget, so
/// checking it must not form `Σ allocated + balance` first (which here is `u128::MAX + 2,400`
/// and used to be reported as a broken identity). One contract is paid 2,400 in epoch 0 and
/// terminated in epoch 1 with the whole 2,400 clawed back.
#[test]
fn the_identity_check_does_not_overflow_near_the_largest_budget() {
    let mut c1 = committed_contract("c1", "akash1pro", 1, 100, 2 * DAY);
    c1.max_consecutive_breaches = 0;
    let p = committed_programme(2, DAY, u128::MAX, false, vec![c1]);
    let inputs = per_epoch_h100("akash1pro", [online(0, 0), measured(0, 0, 0, 1)]);
    let result = settle_programme(&p, &inputs).unwrap();
    // Epoch 1 is the last: the whole reserve, u128::MAX, is returned at programme end, and the
    // ledger checks must not overflow on that either (forfeited 2,400 + returned u128::MAX).
    let l = ledger(&result.epochs[1], PoolKind::Committed);
    assert_eq!(
        (l.clawed_back.0, l.returned.0, l.closing.0),
        (2_400, u128::MAX, 0)
    );
    let totals = result.state.pools[&PoolKind::Committed].totals;
    assert_eq!(
        (totals.allocated.0, totals.clawed_back.0, totals.returned.0),
        (2_400, 2_400, u128::MAX)
    );
}

/// Every committed line says what it refers to. Three one-day epochs; c1 is paid in epoch 0,
/// breaches in epoch 1 (SLA_BREACH, run 1 of at most 1 allowed) and again in epoch 2, which
/// terminates it (COMMITMENT_BROKEN) and claws back its epoch-0 entry. The forfeiting lines carry
/// the contract's schedule like the PAID line, and the CLAWED_BACK line names the entry it takes
/// back (earned in epoch 0, entry 0), the same entry as the settlement's clawback record.
#[test]
fn committed_lines_name_their_schedule_and_clawed_back_entry() {
    let mut c1 = committed_contract("c1", "akash1pro", 1, 100, 3 * DAY);
    c1.max_consecutive_breaches = 1;
    let p = committed_programme(4, DAY, 1_000_000, false, vec![c1]);
    let inputs = per_epoch_h100(
        "akash1pro",
        [online(0, 0), measured(0, 0, 0, 1), measured(0, 0, 0, 1)],
    );
    let engine = Engine::new(&p).unwrap();
    let mut state = ProgrammeState::default();
    let epochs: Vec<_> = inputs
        .iter()
        .map(|i| engine.settle_epoch(&mut state, i).unwrap())
        .collect();
    let reasons_and_schedules = |e: usize| -> Vec<(Reason, Option<String>)> {
        epochs[e]
            .line_items
            .iter()
            .map(|l| (l.reason, l.vesting.clone()))
            .collect()
    };
    let quarterly = Some(s("quarterly"));
    assert_eq!(
        reasons_and_schedules(0),
        vec![(Reason::Paid, quarterly.clone())]
    );
    assert_eq!(
        reasons_and_schedules(1),
        vec![(Reason::SlaBreach, quarterly.clone())]
    );
    assert_eq!(
        reasons_and_schedules(2),
        vec![
            (Reason::CommitmentBroken, quarterly.clone()),
            (Reason::ClawedBack, quarterly.clone()),
        ]
    );
    let clawed = &epochs[2].line_items[1];
    assert_eq!(clawed.clawback_of, Some(EntryRef { epoch: 0, entry: 0 }));
    assert_eq!(epochs[2].clawbacks.len(), 1);
    assert_eq!(epochs[2].clawbacks[0].entry.number, 0);
    assert_eq!(epochs[2].clawbacks[0].entry.epoch, 0);
    // The clawback froze the entry: it closed and left the state, its vested part (nothing
    // had vested within the quarter) kept in the closed total, and the numbering goes on.
    assert!(state.vesting.is_empty());
    assert_eq!(state.next_entry, 1);
    assert_eq!(
        state.vested_closed["akash1pro"][&PoolKind::Committed],
        BaseUnits::ZERO
    );
    // Only clawback lines refer to an entry.
    for e in &epochs {
        for l in &e.line_items {
            assert_eq!(l.clawback_of.is_some(), l.reason == Reason::ClawedBack);
        }
    }
}
