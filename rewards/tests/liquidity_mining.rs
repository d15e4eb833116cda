//! Golden liquidity-mining epochs, computed by hand in the comments.

mod common;

use common::*;
use domain::{BaseUnits, UnixMs};
use rewards::programme::{PoolKind, Undistributed};
use rewards::settle::{Engine, EpochInputs, ProgrammeState};
use rewards::settle_programme;

fn s(x: &str) -> String {
    x.to_string()
}

/// Budget 303 over 3 epochs, carry: `E_0 = floor(303 / 3) = 101`.
///
/// Class split, shares a100 = h100 = 0.5 → integer weights 5 and 5 (scale 1):
/// `b = floor(101·5/10) = 50` each, remainders `505 mod 10 = 5` each, one leftover unit:
/// a tie, won by the smaller class name, so a100 = 51 and h100 = 50.
///
/// α = 1.5, β = 0.5 → 1500 and 500 thousandths. `min_uptime` = 0.9.
///
/// h100 (T = 50):
/// - akash1aaa: online 1000 → w = 1500·1000 = 1,500,000
/// - akash1bbb: leased 3000 → w = 500·3000 = 1,500,000
/// - akash1ccc: online 1000 but uptime 0.5 < 0.9 → reported, not paid
/// - akash1ddd: online 2000 → w = 3,000,000
///
/// W = 6,000,000. Bases: floor(50·1.5/6) = 12, 12, floor(50·3/6) = 25 → Σ 49, one leftover.
/// Remainders: 50·1.5M mod 6M = 3,000,000 for aaa and bbb, 0 for ddd: a tie, won by the
/// smaller address, so aaa = 13, bbb = 12, ddd = 25.
///
/// a100 (T = 51): akash1eee has w = 1,500,000 and takes all 51; akash1fff has weight 0 and
/// is paid 0.
#[test]
fn remainder_ties_go_to_the_smaller_key() {
    let p = with_liquidity_mining(
        programme(3, DAY, &["a100", "h100"]),
        303,
        rules(
            &[("a100", "0.5"), ("h100", "0.5")],
            "1.5",
            "0.5",
            "0.9",
            Undistributed::Carry,
        ),
    );
    let mut inputs = EpochInputs::default();
    inputs.insert(&class("h100"), "akash1aaa", online(1000, 0));
    inputs.insert(&class("h100"), "akash1bbb", online(0, 3000));
    inputs.insert(&class("h100"), "akash1ccc", measured(1000, 0, 1, 2));
    inputs.insert(&class("h100"), "akash1ddd", online(2000, 0));
    inputs.insert(&class("a100"), "akash1eee", online(1000, 0));
    inputs.insert(&class("a100"), "akash1fff", online(0, 0));

    let engine = Engine::new(&p).unwrap();
    let mut state = ProgrammeState::default();
    let epoch = engine.settle_epoch(&mut state, &inputs).unwrap();

    assert_eq!(
        summary(&epoch, PoolKind::LiquidityMining),
        vec![
            (s("a100"), s("akash1eee"), 51, s("PAID")),
            (s("a100"), s("akash1fff"), 0, s("PAID")),
            (s("h100"), s("akash1aaa"), 13, s("PAID")),
            (s("h100"), s("akash1bbb"), 12, s("PAID")),
            (s("h100"), s("akash1ccc"), 0, s("UPTIME_BELOW_THRESHOLD")),
            (s("h100"), s("akash1ddd"), 25, s("PAID")),
        ]
    );
    let ccc = epoch
        .line_items
        .iter()
        .find(|l| l.provider.as_deref() == Some("akash1ccc"))
        .unwrap();
    assert_eq!(ccc.basis, rewards::ledger::Basis::Weight(1_500_000));

    let l = ledger(&epoch, PoolKind::LiquidityMining);
    assert_eq!(
        (
            l.opening.0,
            l.funded.0,
            l.emitted.0,
            l.allocated.0,
            l.carried.0,
            l.closing.0
        ),
        (303, 303, 101, 101, 0, 202)
    );
    // One vesting entry per positive payment, anchored at the end of epoch 0.
    assert_eq!(epoch.new_vesting.len(), 4);
    assert!(epoch
        .new_vesting
        .iter()
        .all(|e| e.anchor_ms == UnixMs(START + DAY as i64)));
    assert_eq!(
        state.pools[&PoolKind::LiquidityMining].balance,
        BaseUnits(202)
    );
}

/// Inputs for four epochs in which the only provider is ineligible in epoch 0 (uptime 0.5 <
/// 0.9) and eligible afterwards.
fn ineligible_first(epochs: usize) -> Vec<EpochInputs> {
    (0..epochs)
        .map(|k| {
            let mut inputs = EpochInputs::default();
            let m = if k == 0 {
                measured(10, 0, 1, 2)
            } else {
                online(10, 0)
            };
            inputs.insert(&class("a100"), "akash1aaa", m);
            inputs
        })
        .collect()
}

fn no_eligible_programme(policy: Undistributed) -> rewards::programme::Programme {
    with_liquidity_mining(
        programme(4, DAY, &["a100"]),
        1001,
        rules(&[("a100", "1")], "1", "0", "0.9", policy),
    )
}

/// Carry, budget 1001 over 4 epochs, nobody eligible in epoch 0:
/// - E_0 = floor(1001/4) = 250, NO_ELIGIBLE_WEIGHT, carried: balance stays 1001;
/// - E_1 = floor(1001/3) = 333 → balance 668;
/// - E_2 = floor(668/2) = 334 → balance 334;
/// - E_3 = floor(334/1) = 334 → balance 0: the last epoch empties the pool.
#[test]
fn no_eligible_weight_under_carry_rolls_forward() {
    let p = no_eligible_programme(Undistributed::Carry);
    let result = settle_programme(&p, &ineligible_first(4)).unwrap();
    let first = &result.epochs[0];
    assert_eq!(
        summary(first, PoolKind::LiquidityMining),
        vec![
            (s("a100"), s(""), 250, s("NO_ELIGIBLE_WEIGHT")),
            (s("a100"), s("akash1aaa"), 0, s("UPTIME_BELOW_THRESHOLD")),
        ]
    );
    let rows = flow_rows(&result.epochs, PoolKind::LiquidityMining);
    assert_eq!(
        rows,
        vec![
            (1001, 250, 0, 250, 0, 1001),
            (1001, 333, 333, 0, 0, 668),
            (668, 334, 334, 0, 0, 334),
            (334, 334, 334, 0, 0, 0),
        ]
    );
}

/// Return, budget 1001 over 4 epochs: E_k = floor(1001(k+1)/4) − floor(1001k/4)
/// = 250, 500 − 250 = 250, 750 − 500 = 250, 1001 − 750 = 251. Epoch 0's 250 goes back to the
/// community pool.
#[test]
fn no_eligible_weight_under_return_is_returned() {
    let p = no_eligible_programme(Undistributed::Return);
    let result = settle_programme(&p, &ineligible_first(4)).unwrap();
    let rows = flow_rows(&result.epochs, PoolKind::LiquidityMining);
    assert_eq!(
        rows,
        vec![
            (1001, 250, 0, 0, 250, 751),
            (751, 250, 250, 0, 0, 501),
            (501, 250, 250, 0, 0, 251),
            (251, 251, 251, 0, 0, 0),
        ]
    );
    let totals = result.state.pools[&PoolKind::LiquidityMining].totals;
    assert_eq!(
        (totals.allocated.0, totals.returned.0, totals.funded.0),
        (751, 250, 1001)
    );
}

/// Cap 0.5 of a slice of 100 (cap = 50). Weights 8, 1, 1:
/// round 1: 80, 10, 10 → akash1aaa is over the cap and gets 50;
/// round 2: the other 50 split 1:1 → 25 and 25.
///
/// With only one provider (weight 5) the cap leaves 50 nobody may take: CAP_EXCESS. The
/// specification says that excess is *returned* when everyone is capped, so it goes back to the
/// community pool even under `carry` (closing 0, not 50), and the same under `return`.
#[test]
fn cap_re_apportions_the_excess_and_returns_it_when_everyone_is_capped() {
    for policy in [Undistributed::Carry, Undistributed::Return] {
        let mut rules = rules(&[("a100", "1")], "1", "0", "0", policy);
        rules.max_share_per_provider = Some(dec("0.5"));
        let p = with_liquidity_mining(programme(1, DAY, &["a100"]), 100, rules);

        let mut inputs = EpochInputs::default();
        inputs.insert(&class("a100"), "akash1aaa", online(8, 0));
        inputs.insert(&class("a100"), "akash1bbb", online(1, 0));
        inputs.insert(&class("a100"), "akash1ccc", online(1, 0));
        let result = settle_programme(&p, &[inputs]).unwrap();
        assert_eq!(
            summary(&result.epochs[0], PoolKind::LiquidityMining),
            vec![
                (s("a100"), s("akash1aaa"), 50, s("CAPPED")),
                (s("a100"), s("akash1bbb"), 25, s("PAID")),
                (s("a100"), s("akash1ccc"), 25, s("PAID")),
            ]
        );

        let mut alone = EpochInputs::default();
        alone.insert(&class("a100"), "akash1aaa", online(5, 0));
        let result = settle_programme(&p, &[alone]).unwrap();
        assert_eq!(
            summary(&result.epochs[0], PoolKind::LiquidityMining),
            vec![
                (s("a100"), s(""), 50, s("CAP_EXCESS")),
                (s("a100"), s("akash1aaa"), 50, s("CAPPED")),
            ]
        );
        let l = ledger(&result.epochs[0], PoolKind::LiquidityMining);
        assert_eq!(
            (l.allocated.0, l.carried.0, l.returned.0, l.closing.0),
            (50, 0, 50, 0),
            "{policy:?}"
        );
    }
}

/// Under `carry`, a class with no eligible weight and a class whose only provider is capped
/// in the same epoch: the first slice is carried (returned in the last epoch), the cap excess
/// returned.
///
/// Budget 200, 2 epochs, carry: E_0 = 100, split a100 : h100 = 0.5 : 0.5 → 50 and 50.
/// - a100: nobody measured → NO_ELIGIBLE_WEIGHT 50, carried;
/// - h100: one provider, cap 0.4 × 50 = 20 → CAPPED 20, CAP_EXCESS 30, returned.
///
/// Closing = 200 − 20 − 30 = 150; E_1 = floor(150 / 1) = 150.
#[test]
fn under_carry_no_eligible_weight_is_carried_but_cap_excess_returned() {
    let mut rules = rules(
        &[("a100", "0.5"), ("h100", "0.5")],
        "1",
        "0",
        "0",
        Undistributed::Carry,
    );
    rules.max_share_per_provider = Some(dec("0.4"));
    let p = with_liquidity_mining(programme(2, DAY, &["a100", "h100"]), 200, rules);
    let mut inputs = EpochInputs::default();
    inputs.insert(&class("h100"), "akash1aaa", online(7, 0));
    let result = settle_programme(&p, &[inputs.clone(), inputs]).unwrap();
    assert_eq!(
        summary(&result.epochs[0], PoolKind::LiquidityMining),
        vec![
            (s("a100"), s(""), 50, s("NO_ELIGIBLE_WEIGHT")),
            (s("h100"), s(""), 30, s("CAP_EXCESS")),
            (s("h100"), s("akash1aaa"), 20, s("CAPPED")),
        ]
    );
    let rows = flow_rows(&result.epochs, PoolKind::LiquidityMining);
    // Epoch 1: E_1 = 150 → 75 and 75; h100 cap floor(0.4 × 75) = 30, excess 45. Epoch 1 is the
    // programme's last, so a100's 75 has no later epoch to be carried into: it is returned with
    // the excess (75 + 45 = 120) and the pool closes at 0.
    assert_eq!(
        rows,
        vec![(200, 100, 20, 50, 30, 150), (150, 150, 30, 0, 120, 0)]
    );
}

#[test]
fn inputs_naming_an_unknown_class_are_refused() {
    let p = no_eligible_programme(Undistributed::Carry);
    let mut inputs = EpochInputs::default();
    inputs.insert(&class("v100"), "akash1aaa", online(1, 0));
    let engine = Engine::new(&p).unwrap();
    let mut state = ProgrammeState::default();
    assert_eq!(
        engine.settle_epoch(&mut state, &inputs),
        Err(rewards::SettleError::UnknownClass(class("v100")))
    );
    // A refused epoch leaves the state untouched.
    assert_eq!(state, ProgrammeState::default());
}

#[test]
fn settling_past_the_last_epoch_is_an_error() {
    let p = no_eligible_programme(Undistributed::Carry);
    let result = settle_programme(&p, &ineligible_first(5));
    assert!(matches!(result, Err(rewards::SettleError::Calendar(_))));
}
