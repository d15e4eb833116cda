//! The serialised form of rewards' records is a published artefact: the settlement hashes the
//! programme's JSON, stores the carried state as JSON and reads it back. These bytes must not
//! change when the types behind them do (for example when amounts became `domain::BaseUnits`,
//! instants `domain::UnixMs` and class names `domain::ClassName`).
//!
//! `golden/serialised.json` was written by the engine as it stood before that change, from the
//! same generated programme; it includes amounts beyond `u64`, which must read back exactly.
//! It was rewritten once since, when the last epoch began returning every pool's balance
//! (`PROGRAMME_END`): the only differences were that epoch's committed ledger, its new
//! pool-level line and the final pool state. And once more when a contract's forfeited pay
//! (`SLA_BREACH`, `COMMITMENT_BROKEN`) began naming its vesting schedule: only those lines'
//! `vesting` changed. A clawback line's `clawback_of` is left out when absent, so lines without
//! one kept their bytes. And once more when a position stopped showing a negative claimable:
//! `claimable` became `max(vested − paid, 0)` and the new `overpaid` holds the rest; positions
//! are computed for display, never stored, and nothing else changed. And once more when the
//! carried state began holding only open vesting entries: every entry gained its `number`, a
//! clawback carries the entry it took from instead of a vector index, and the state gained
//! `next_entry` and `vested_closed` (entries that closed left its `vesting`); the programme,
//! inputs, line items, ledgers and positions kept their bytes.

mod common;

use common::generate::{generate, Shape};
use domain::{BaseUnits, ClassName, UnixMs};
use rewards::leases::Lease;
use rewards::programme::{PoolKind, Programme};
use rewards::settle::{EpochInputs, PoolState, PoolTotals, ProgrammeSettlement, ProgrammeState};
use rewards::uptime::Observation;
use rewards::vesting::{positions, Position};
use std::collections::BTreeMap;

const GOLDEN: &str = include_str!("golden/serialised.json");

type Everything = (
    Programme,
    Vec<EpochInputs>,
    ProgrammeSettlement,
    BTreeMap<String, Position>,
    Observation,
    Lease,
    ProgrammeState,
);

fn everything() -> Everything {
    let shape = Shape {
        epochs: 4,
        epoch_length_ms: 86_400_000,
        providers: 8,
        total_gpus: 30,
        contracts: 3,
        grants: 2,
        rnd_pro_rata: true,
        unregistered_per_mille: 0,
    };
    let (programme, inputs) = generate(shape, 7);
    let result = rewards::settle_programme(&programme, &inputs).unwrap();
    let paid = BTreeMap::from([("akash1stranger".to_string(), BaseUnits(5))]);
    let positions = positions(&result.entries(), UnixMs(i64::MAX), &paid).unwrap();
    let observation = Observation {
        prober: "eu-1".into(),
        provider: "akash1provider".into(),
        time_ms: UnixMs(1_709_251_200_123),
        online: true,
        gpus: Some(BTreeMap::from([(ClassName::new("h100").unwrap(), 3)]).into()),
    };
    let lease = Lease {
        gpu_units: 2,
        model: Some("h100".into()),
        ram: Some("80Gi".into()),
        created_ms: UnixMs(1_709_251_200_000),
        closed_ms: Some(UnixMs(1_709_337_600_000)),
    };
    let huge = ProgrammeState {
        next_epoch: 1,
        pools: BTreeMap::from([(
            PoolKind::Committed,
            PoolState {
                balance: BaseUnits(u128::MAX),
                totals: PoolTotals {
                    funded: BaseUnits(u128::MAX),
                    allocated: BaseUnits(u128::from(u64::MAX) + 1),
                    clawed_back: BaseUnits(0),
                    returned: BaseUnits(1),
                },
            },
        )]),
        contracts: BTreeMap::new(),
        vesting: Vec::new(),
        next_entry: usize::MAX,
        vested_closed: BTreeMap::from([(
            "akash1provider".to_string(),
            BTreeMap::from([(PoolKind::Rnd, BaseUnits(u128::MAX - 1))]),
        )]),
    };
    (
        programme,
        inputs,
        result,
        positions,
        observation,
        lease,
        huge,
    )
}

#[test]
fn records_serialise_to_the_same_bytes_as_before() {
    let json = serde_json::to_string(&everything()).unwrap();
    assert!(json + "\n" == GOLDEN, "the serialised records changed");
}

#[test]
fn records_read_back_exactly_including_amounts_beyond_u64() {
    let read: Everything = serde_json::from_str(GOLDEN).unwrap();
    assert_eq!(read, everything());
    assert_eq!(serde_json::to_string(&read).unwrap() + "\n", GOLDEN);
}
