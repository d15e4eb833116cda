//! The carried state holds only open vesting entries. Over random whole programmes, checked
//! after every epoch against the full history of entries kept here by the test itself:
//! - the state's entries are exactly the history's entries that are still open (some part
//!   unvested at the epoch's end and never clawed back), with the history's clawbacks;
//! - per provider and pool, the closed total plus the open entries' vested amounts is the
//!   cumulative vested amount over the whole history;
//! - a state rebuilt from the history (as the store rebuilds it) is the engine's state, and
//!   settling on from either gives the same epoch.

mod common;

use common::generate::{generate, Shape};
use domain::{BaseUnits, UnixMs};
use proptest::prelude::*;
use rewards::programme::PoolKind;
use rewards::settle::{Engine, ProgrammeState};
use rewards::vesting::VestingEntry;
use std::collections::BTreeMap;

/// Cumulative vested amount per (provider, pool) of `entries` at `t`, skipping zeros.
fn vested_by_provider<'a>(
    entries: impl IntoIterator<Item = &'a VestingEntry>,
    t: UnixMs,
) -> BTreeMap<(String, PoolKind), u128> {
    let mut out = BTreeMap::new();
    for e in entries {
        *out.entry((e.provider.clone(), e.pool)).or_insert(0) += e.vested_at(t).0;
    }
    out.retain(|_, v| *v != 0);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_state_keeps_exactly_the_open_entries_and_loses_no_vested_unit(
        seed: u64,
        epochs in 1u32..=40,
        length in prop::sample::select(vec![3_600_000u64, 86_400_000]),
        providers in 1usize..16,
        contracts in 0usize..8,
        grants in 0usize..3,
    ) {
        let shape = Shape { epochs, epoch_length_ms: length, providers, total_gpus: 40, contracts, grants, rnd_pro_rata: true, unregistered_per_mille: 50 };
        let (programme, inputs) = generate(shape, seed);
        let engine = Engine::new(&programme).unwrap();
        let mut state = ProgrammeState::default();
        let mut history: Vec<VestingEntry> = Vec::new();
        for epoch_inputs in &inputs {
            let settled = engine.settle_epoch(&mut state, epoch_inputs).unwrap();
            for clawback in &settled.clawbacks {
                let entry = &mut history[clawback.entry.number];
                prop_assert_eq!(&clawback.entry, &*entry, "a clawback carries the entry as it was");
                entry.clawback = Some(clawback.record.clone());
            }
            for entry in &settled.new_vesting {
                prop_assert_eq!(entry.number, history.len(), "entries are numbered in creation order");
                history.push(entry.clone());
            }
            let end = settled.window.end_ms();
            let open: Vec<&VestingEntry> = history
                .iter()
                .filter(|e| e.clawback.is_none() && e.schedule.vested(e.amount, e.anchor_ms, end) < e.amount)
                .collect();
            prop_assert_eq!(state.vesting.iter().collect::<Vec<_>>(), open);
            prop_assert_eq!(state.next_entry, history.len());
            let mut from_state = vested_by_provider(&state.vesting, end);
            for (provider, pools) in &state.vested_closed {
                for (pool, amount) in pools {
                    *from_state.entry((provider.clone(), *pool)).or_insert(0) += amount.0;
                }
            }
            from_state.retain(|_, v| *v != 0);
            prop_assert_eq!(from_state, vested_by_provider(&history, end));

            // The store's way back: the carried parts plus every entry so far.
            let mut rebuilt = ProgrammeState {
                vesting: Vec::new(),
                next_entry: 0,
                vested_closed: BTreeMap::new(),
                ..state.clone()
            };
            rebuilt.set_vesting(history.clone(), end).unwrap();
            prop_assert_eq!(&rebuilt, &state);
            if let Some(next) = inputs.get(state.next_epoch as usize) {
                let mut a = state.clone();
                prop_assert_eq!(
                    engine.settle_epoch(&mut a, next).unwrap(),
                    engine.settle_epoch(&mut rebuilt, next).unwrap()
                );
                prop_assert_eq!(a, rebuilt);
            }
        }
        // Nothing vests beyond what was allocated and not clawed back.
        let allocated: u128 = history.iter().map(|e| e.amount.0).sum();
        let clawed: u128 = history.iter().filter_map(|e| e.clawback.as_ref()).map(|c| c.amount.0).sum();
        let vested_forever: u128 = vested_by_provider(&history, UnixMs(i64::MAX)).values().sum();
        prop_assert_eq!(vested_forever, allocated - clawed);
    }
}

#[test]
fn a_state_refuses_entries_out_of_number_order_and_stays_as_it_was() {
    let entry = |number| VestingEntry {
        number,
        epoch: 0,
        pool: PoolKind::Committed,
        bucket: rewards::ledger::Bucket::Contract("c".into()),
        provider: "akash1pro".into(),
        schedule_id: "later".into(),
        schedule: rewards::vesting::Vesting::Delayed { after_ms: 10 },
        anchor_ms: UnixMs(0),
        amount: BaseUnits(5),
        clawback: None,
    };
    let mut state = ProgrammeState::default();
    state
        .set_vesting(vec![entry(0), entry(1)], UnixMs(5))
        .unwrap();
    assert_eq!(state.next_entry, 2);
    let before = state.clone();
    assert!(state
        .set_vesting(vec![entry(3), entry(2)], UnixMs(5))
        .is_err());
    assert!(state
        .set_vesting(vec![entry(1), entry(1)], UnixMs(5))
        .is_err());
    assert_eq!(state, before);
    // At 10 both entries have vested: they close into the provider's committed total.
    state
        .set_vesting(before.vesting.clone(), UnixMs(10))
        .unwrap();
    assert!(state.vesting.is_empty());
    assert_eq!(
        state.vested_closed["akash1pro"][&PoolKind::Committed],
        BaseUnits(10)
    );
    assert_eq!(state.next_entry, 2);
}
