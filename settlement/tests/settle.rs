//! Settlement against a real store, on SQLite and PostgreSQL, checked against amounts computed
//! by hand from the fixture (`fixture/mod.rs`, whose documentation says what each provider does).

mod fixture;

use diesel::prelude::*;
use domain::BaseUnits;
use fixture::*;
use rewards::programme::PoolKind;
use rewards::uptime::Uptime;
use settlement::measure::{ClassMeasurement, EpochMeasurements, ProviderMeasurement};
use settlement::sealed::read_sealed;
use settlement::{
    measure_epoch, measure_material, positions, settle_epoch, settle_next, settle_through,
    EpochOutcome, Mode, SettlementConfig, SettlementError,
};
use std::collections::BTreeMap;
use store::probes::insert_observations;
use store::schema::{allocations, epochs, pool_ledgers, vesting_entries};
use store::settlement::VestingEntryRow;
use store::{on_both_backends, Store};

/// `(line, pool, bucket, provider, basis kind, basis, amount, reason, vesting)` as expected.
type Line = (
    i32,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    u128,
    u128,
    &'static str,
    Option<&'static str>,
);

/// One stored line item, in the terms of [`Line`].
#[derive(Debug, PartialEq)]
struct StoredLine {
    line: i32,
    pool: String,
    bucket: String,
    provider: Option<String>,
    basis: String,
    amount: u128,
    reason: String,
    vesting: Option<String>,
}

fn lines(dump: &Dump, epoch: i32) -> Vec<StoredLine> {
    dump.allocations
        .iter()
        .filter(|a| a.epoch == epoch)
        .map(|a| StoredLine {
            line: a.line,
            pool: a.pool.clone(),
            bucket: format!("{}:{}", a.bucket_kind, a.bucket),
            provider: a.provider.clone(),
            basis: format!("{}={}", a.basis_kind, a.basis),
            amount: a.amount.0,
            reason: a.reason.clone(),
            vesting: a.vesting.clone(),
        })
        .collect()
}

fn expected(lines: &[Line]) -> Vec<StoredLine> {
    lines
        .iter()
        .map(
            |&(line, pool, bucket, provider, basis_kind, basis, amount, reason, vesting)| {
                StoredLine {
                    line,
                    pool: pool.into(),
                    bucket: bucket.into(),
                    provider: provider.map(Into::into),
                    basis: format!("{basis_kind}={basis}"),
                    amount,
                    reason: reason.into(),
                    vesting: vesting.map(Into::into),
                }
            },
        )
        .collect()
}

/// `(pool, opening, funded, emitted, allocated, forfeited, clawed_back, returned, carried, closing)`.
fn ledgers(dump: &Dump, epoch: i32) -> Vec<(String, [u128; 9])> {
    dump.ledgers
        .iter()
        .filter(|l| l.epoch == epoch)
        .map(|l| {
            (
                l.pool.clone(),
                [
                    l.opening.0,
                    l.funded.0,
                    l.emitted.0,
                    l.allocated.0,
                    l.forfeited.0,
                    l.clawed_back.0,
                    l.returned.0,
                    l.carried.0,
                    l.closing.0,
                ],
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tests.

// The hand-computed expectations. α and β are used in thousandths, so weights are 1000 × GPU-ms.

/// Epoch 0. Committed: c1 delivers min(2 GPUs × 1 h, 7.2e6 online GPU-ms) = 2 GPU-hours at
/// 1 000 000. LM emits floor(4 000 000 / 4); weights P1 = 7.2e6 online + 1.8e6 leased and
/// P2 = 7.2e6 online: 1e6 × 9/16.2 = 555 555.6 and 444 444.4, the leftover unit goes to the
/// larger remainder (P1). P2's uptime is exactly the threshold 0.5. R&D emits
/// floor(1 500 000 / 4).
#[rustfmt::skip]
const EPOCH_0: &[Line] = &[
    (0, "committed", "contract:c1", Some(P1), "delivered_gpu_ms", 7_200_000, 2_000_000, "PAID", Some("two-hours")),
    (1, "liquidity_mining", "class:a100-80gi", Some(P1), "weight", 9_000_000_000, 555_556, "PAID", Some("immediate")),
    (2, "liquidity_mining", "class:a100-80gi", Some(P2), "weight", 7_200_000_000, 444_444, "PAID", Some("immediate")),
    (3, "rnd", "class:h200", Some(P3), "weight", 3_600_000_000, 375_000, "PAID", Some("immediate")),
];

/// Epoch 1. P1 is offline: SLA breach (nothing delivered, so nothing forfeited; the line names
/// the contract's schedule like a PAID line) and below the
/// LM threshold with its leased weight; P2 takes the whole emission floor(3 000 000 / 3). R&D
/// pays the grant and floor(1 125 000 / 3).
#[rustfmt::skip]
const EPOCH_1: &[Line] = &[
    (0, "committed", "contract:c1", Some(P1), "delivered_gpu_ms", 0, 0, "SLA_BREACH", Some("two-hours")),
    (1, "liquidity_mining", "class:a100-80gi", Some(P1), "weight", 3_600_000_000, 0, "UPTIME_BELOW_THRESHOLD", None),
    (2, "liquidity_mining", "class:a100-80gi", Some(P2), "weight", 14_400_000_000, 1_000_000, "PAID", Some("immediate")),
    (3, "rnd", "class:h200", Some(P3), "weight", 3_600_000_000, 375_000, "PAID", Some("immediate")),
    (4, "rnd", "grant:g1", Some(P3), "amount", 500_000, 500_000, "PAID", Some("immediate")),
];

/// Epoch 2. The second breach in a row terminates c1 and claws back the piece of its epoch-0
/// pay that vests exactly at the clawback instant (T0 + 3 h). P3 was online a quarter of the
/// epoch: below threshold, so the R&D emission floor(750 000 / 2) is carried.
#[rustfmt::skip]
const EPOCH_2: &[Line] = &[
    (0, "committed", "contract:c1", Some(P1), "delivered_gpu_ms", 0, 0, "COMMITMENT_BROKEN", Some("two-hours")),
    (1, "committed", "contract:c1", Some(P1), "amount", 2_000_000, 1_000_000, "CLAWED_BACK", Some("two-hours")),
    (2, "liquidity_mining", "class:a100-80gi", Some(P1), "weight", 3_600_000_000, 0, "UPTIME_BELOW_THRESHOLD", None),
    (3, "liquidity_mining", "class:a100-80gi", Some(P2), "weight", 14_400_000_000, 1_000_000, "PAID", Some("immediate")),
    (4, "rnd", "class:h200", None, "weight", 0, 375_000, "NO_ELIGIBLE_WEIGHT", None),
    (5, "rnd", "class:h200", Some(P3), "weight", 900_000_000, 0, "UPTIME_BELOW_THRESHOLD", None),
];

/// Per epoch, per pool: opening, funded, emitted, allocated, forfeited, clawed back, returned,
/// carried, closing.
#[rustfmt::skip]
const LEDGERS: [[(&str, [u128; 9]); 3]; 3] = [
    [
        ("committed",        [100_000_000, 100_000_000, 2_000_000, 2_000_000, 0, 0,         0, 0,       98_000_000]),
        ("liquidity_mining", [4_000_000,   4_000_000,   1_000_000, 1_000_000, 0, 0,         0, 0,       3_000_000]),
        ("rnd",              [1_500_000,   1_500_000,   375_000,   375_000,   0, 0,         0, 0,       1_125_000]),
    ],
    [
        ("committed",        [98_000_000,  0,           0,         0,         0, 0,         0, 0,       98_000_000]),
        ("liquidity_mining", [3_000_000,   0,           1_000_000, 1_000_000, 0, 0,         0, 0,       2_000_000]),
        ("rnd",              [1_625_000,   500_000,     875_000,   875_000,   0, 0,         0, 0,       750_000]),
    ],
    [
        ("committed",        [98_000_000,  0,           0,         0,         0, 1_000_000, 0, 0,       99_000_000]),
        ("liquidity_mining", [2_000_000,   0,           1_000_000, 1_000_000, 0, 0,         0, 0,       1_000_000]),
        ("rnd",              [750_000,     0,           375_000,   0,         0, 0,         0, 375_000, 750_000]),
    ],
];

/// Vesting entries in creation order: (entry, epoch, line that created it, bucket, provider,
/// anchor, amount).
#[rustfmt::skip]
const ENTRIES: [(i32, i32, i32, &str, &str, i64, u128); 8] = [
    (0, 0, 0, "c1",        P1, T0 + HOUR,     2_000_000),
    (1, 0, 1, "a100-80gi", P1, T0 + HOUR,     555_556),
    (2, 0, 2, "a100-80gi", P2, T0 + HOUR,     444_444),
    (3, 0, 3, "h200",      P3, T0 + HOUR,     375_000),
    (4, 1, 2, "a100-80gi", P2, T0 + 2 * HOUR, 1_000_000),
    (5, 1, 4, "g1",        P3, T0 + 2 * HOUR, 500_000),
    (6, 1, 3, "h200",      P3, T0 + 2 * HOUR, 375_000),
    (7, 2, 3, "a100-80gi", P2, T0 + 3 * HOUR, 1_000_000),
];

/// Three epochs settled one run at a time (each run continues from the stored state) give the
/// hand-computed line items, ledgers and vesting entries.
fn settles_three_epochs_to_hand_computed_amounts(store: &mut Store) {
    fixture(store);
    let config = config();
    seal_three_epochs(store, &config);
    let d = dump(store);
    for (epoch, expected_lines) in [EPOCH_0, EPOCH_1, EPOCH_2].into_iter().enumerate() {
        let epoch = i32::try_from(epoch).unwrap();
        assert_eq!(lines(&d, epoch), expected(expected_lines), "epoch {epoch}");
    }
    for (epoch, expected_ledgers) in LEDGERS.iter().enumerate() {
        let expected_ledgers: Vec<(String, [u128; 9])> = expected_ledgers
            .iter()
            .map(|(pool, v)| (pool.to_string(), *v))
            .collect();
        assert_eq!(
            ledgers(&d, i32::try_from(epoch).unwrap()),
            expected_ledgers,
            "epoch {epoch}"
        );
    }
    let entries: Vec<(i32, i32, i32, &str, &str, i64, u128)> = d
        .entries
        .iter()
        .map(|e| {
            (
                e.entry,
                e.epoch,
                e.line,
                e.bucket.as_str(),
                e.provider.as_str(),
                e.anchor_ms,
                e.amount.0,
            )
        })
        .collect();
    assert_eq!(entries, ENTRIES);
    assert_eq!(
        d.entries[0].schedule,
        r#"{"kind":"periodic","period_ms":3600000,"count":2}"#
    );
    // Every epoch row is sealed at the run's now, over its own window.
    for (k, e) in d.epochs.iter().enumerate() {
        let k = i64::try_from(k).unwrap();
        assert_eq!(
            (e.state.as_str(), e.start_ms, e.end_ms),
            ("sealed", T0 + k * HOUR, T0 + (k + 1) * HOUR)
        );
        assert_eq!(e.sealed_at_ms, Some(T0 + 3 * HOUR));
    }
}

/// The clawback decided in epoch 2 is written onto the entry sealed in epoch 0, and only then.
fn clawback_updates_the_entry_sealed_in_an_earlier_epoch(store: &mut Store) {
    fixture(store);
    let config = config();
    let cfg = settlement_config(&config);
    settle_next(store, &cfg, T0 + 3 * HOUR).unwrap();
    settle_next(store, &cfg, T0 + 3 * HOUR).unwrap();
    let before = dump(store).entries[0].clone();
    assert_eq!(
        (
            before.clawback_epoch,
            before.clawback_at_ms,
            before.clawed_back
        ),
        (None, None, None)
    );
    let sealed = settle_next(store, &cfg, T0 + 3 * HOUR).unwrap();
    assert_eq!(sealed.settlement.clawbacks.len(), 1);
    let after = dump(store).entries[0].clone();
    assert_eq!(
        (
            after.clawback_epoch,
            after.clawback_at_ms,
            after.clawed_back
        ),
        (Some(2), Some(T0 + 3 * HOUR), Some(BaseUnits(1_000_000)))
    );
    // The sealed CLAWED_BACK line names the entry it took back: earned in epoch 0, entry 0.
    let clawed: Vec<_> = dump(store)
        .allocations
        .into_iter()
        .filter(|a| a.reason == "CLAWED_BACK")
        .map(|a| (a.epoch, a.clawback_of_epoch, a.clawback_of_entry))
        .collect();
    assert_eq!(clawed, vec![(2, Some(0), Some(0))]);
    assert!(dump(store)
        .allocations
        .iter()
        .filter(|a| a.reason != "CLAWED_BACK")
        .all(|a| a.clawback_of_epoch.is_none() && a.clawback_of_entry.is_none()));
    // Nothing else about the sealed entry changed.
    assert_eq!(
        VestingEntryRow {
            clawback_epoch: None,
            clawback_at_ms: None,
            clawed_back: None,
            ..after
        },
        before
    );
}

/// Every ledger identity holds when recomputed from the stored rows alone: per epoch and pool,
/// against the line items and vesting entries, and across the programme.
fn stored_rows_satisfy_every_conservation_identity(store: &mut Store) {
    fixture(store);
    let config = config();
    seal_three_epochs(store, &config);
    let d = dump(store);
    let sum = |epoch: i32, pool: &str, reasons: &[&str]| -> u128 {
        d.allocations
            .iter()
            .filter(|a| a.epoch == epoch && a.pool == pool && reasons.contains(&a.reason.as_str()))
            .map(|a| a.amount.0)
            .sum()
    };
    let mut previous_closing: BTreeMap<String, u128> = BTreeMap::new();
    let mut totals: BTreeMap<String, [u128; 4]> = BTreeMap::new(); // funded, allocated, clawed, returned
    for l in &d.ledgers {
        let (e, pool) = (l.epoch, l.pool.as_str());
        assert_eq!(
            l.closing.0 + l.allocated.0 + l.returned.0,
            l.opening.0 + l.clawed_back.0,
            "{pool} {e}"
        );
        assert_eq!(
            l.emitted.0,
            l.allocated.0 + l.forfeited.0 + l.carried.0 + l.returned.0,
            "{pool} {e}"
        );
        assert_eq!(
            l.opening.0,
            previous_closing.get(pool).copied().unwrap_or(0) + l.funded.0,
            "{pool} {e}"
        );
        assert_eq!(
            l.allocated.0,
            sum(e, pool, &["PAID", "CAPPED"]),
            "{pool} {e}"
        );
        assert_eq!(
            l.forfeited.0,
            sum(e, pool, &["SLA_BREACH", "COMMITMENT_BROKEN"]),
            "{pool} {e}"
        );
        assert_eq!(
            l.clawed_back.0,
            sum(e, pool, &["CLAWED_BACK"]),
            "{pool} {e}"
        );
        assert_eq!(
            l.carried.0 + l.returned.0,
            sum(e, pool, &["NO_ELIGIBLE_WEIGHT", "CAP_EXCESS"]),
            "{pool} {e}"
        );
        assert_eq!(
            l.shortfall.0,
            sum(e, pool, &["POOL_EXHAUSTED"]),
            "{pool} {e}"
        );
        let vested_in: u128 = d
            .entries
            .iter()
            .filter(|v| v.epoch == e && v.pool == pool)
            .map(|v| v.amount.0)
            .sum();
        assert_eq!(vested_in, l.allocated.0, "entries created by {pool} in {e}");
        let clawed: u128 = d
            .entries
            .iter()
            .filter(|v| v.clawback_epoch == Some(e) && v.pool == pool)
            .filter_map(|v| v.clawed_back.map(|c| c.0))
            .sum();
        assert_eq!(clawed, l.clawed_back.0, "clawbacks by {pool} in {e}");
        previous_closing.insert(pool.to_string(), l.closing.0);
        let t = totals.entry(pool.to_string()).or_default();
        t[0] += l.funded.0;
        t[1] += l.allocated.0;
        t[2] += l.clawed_back.0;
        t[3] += l.returned.0;
    }
    assert_eq!(totals.len(), 3);
    for (pool, [funded, allocated, clawed, returned]) in &totals {
        let balance = previous_closing[pool];
        assert_eq!(
            allocated - clawed + returned + balance,
            *funded,
            "{pool} across the programme"
        );
    }
    assert_eq!(totals["committed"][0], 100_000_000);
    assert_eq!(totals["liquidity_mining"][0], 4_000_000);
    assert_eq!(totals["rnd"][0], 2_000_000);
}

/// Settling sealed epochs again writes nothing and reports them as already sealed, with
/// unchanged inputs.
fn settling_again_changes_nothing(store: &mut Store) {
    fixture(store);
    let config = config();
    let cfg = settlement_config(&config);
    seal_three_epochs(store, &config);
    let before = dump(store);
    let mut outcomes = Vec::new();
    settle_through(store, &cfg, 2, T0 + 10 * HOUR, Mode::Seal, |o| {
        outcomes.push(o)
    })
    .unwrap();
    assert_eq!(outcomes.len(), 3);
    for (k, outcome) in outcomes.iter().enumerate() {
        let EpochOutcome::AlreadySealed(checked) = outcome else {
            panic!("epoch {k} settled again")
        };
        assert!(!checked.late_data(), "epoch {k}");
        assert_eq!(checked.sealed_at_ms, T0 + 3 * HOUR);
        assert_eq!(
            Some(&checked.sealed_inputs_hash),
            before.epochs[k].inputs_hash.as_ref()
        );
    }
    let EpochOutcome::AlreadySealed(again) =
        settle_epoch(store, &cfg, 1, T0 + 10 * HOUR, Mode::Seal).unwrap()
    else {
        panic!("epoch 1 settled again")
    };
    let pools: Vec<(PoolKind, u128)> = again.pools.iter().map(|p| (p.pool, p.closing)).collect();
    assert_eq!(
        pools,
        vec![
            (PoolKind::Committed, 98_000_000),
            (PoolKind::LiquidityMining, 2_000_000),
            (PoolKind::Rnd, 750_000)
        ]
    );
    assert_eq!(dump(store), before);
}

/// An epoch that has not ended, one the indexer has not covered, and one out of order are
/// refused with errors that say why, and nothing is written.
fn unfinished_unindexed_and_out_of_order_epochs_are_refused(store: &mut Store) {
    fixture(store);
    let config = config();
    let cfg = settlement_config(&config);
    let early = settle_next(store, &cfg, T0 + HOUR - 1).unwrap_err();
    assert!(
        matches!(early, SettlementError::NotEnded { epoch: 0, .. }),
        "{early}"
    );
    assert_eq!(
        early.to_string(),
        "epoch 0 has not ended: it ends at 2024-02-15T01:00:00Z, and it is now 2024-02-15T00:59:59.999Z"
    );
    let ahead = settle_epoch(store, &cfg, 2, T0 + 10 * HOUR, Mode::Seal).unwrap_err();
    assert!(
        matches!(
            ahead,
            SettlementError::OutOfOrder {
                requested: 2,
                next: 0
            }
        ),
        "{ahead}"
    );
    assert!(dump(store).epochs.is_empty());
    seal_three_epochs(store, &config);
    let before = dump(store);
    let still_running = settle_next(store, &cfg, T0 + 3 * HOUR + 30 * MIN).unwrap_err();
    assert!(
        matches!(still_running, SettlementError::NotEnded { epoch: 3, .. }),
        "{still_running}"
    );
    let unindexed = settle_next(store, &cfg, T0 + 5 * HOUR).unwrap_err();
    assert!(
        matches!(unindexed, SettlementError::NotIndexed { epoch: 3, newest_block_ms: Some(t), .. } if t == T0 + 3 * HOUR),
        "{unindexed}"
    );
    assert!(
        unindexed
            .to_string()
            .contains("only indexed blocks up to 2024-02-15T03:00:00Z"),
        "{unindexed}"
    );
    // --through stops at the first epoch it cannot settle, after reporting the earlier ones.
    let mut reported = Vec::new();
    let stopped = settle_through(store, &cfg, 3, T0 + 5 * HOUR, Mode::Seal, |o| {
        reported.push(o.epoch())
    })
    .unwrap_err();
    assert!(matches!(
        stopped,
        SettlementError::NotIndexed { epoch: 3, .. }
    ));
    assert_eq!(reported, vec![0, 1, 2]);
    assert_eq!(dump(store), before);
    // Once the indexer passes the end, epoch 3 settles and it is the last one.
    block(store, 21, T0 + 4 * HOUR);
    assert_eq!(settle_next(store, &cfg, T0 + 5 * HOUR).unwrap().epoch, 3);
    // The last epoch returns every pool's balance: each closes at 0, and what a pool still
    // held is sealed as one pool-level PROGRAMME_END line.
    let last = dump(store);
    for l in last.ledgers.iter().filter(|l| l.epoch == 3) {
        assert_eq!(l.closing.0, 0, "{} closes the programme empty", l.pool);
        let released: u128 = last
            .allocations
            .iter()
            .filter(|a| a.epoch == 3 && a.pool == l.pool && a.reason == "PROGRAMME_END")
            .inspect(|a| assert_eq!((a.bucket_kind.as_str(), a.bucket.as_str()), ("pool", "")))
            .map(|a| a.amount.0)
            .sum();
        assert!(released <= l.returned.0);
    }
    assert!(last
        .allocations
        .iter()
        .any(|a| a.epoch == 3 && a.pool == "committed" && a.reason == "PROGRAMME_END"));
    let done = settle_next(store, &cfg, T0 + 5 * HOUR).unwrap_err();
    assert!(
        matches!(done, SettlementError::Complete { epochs: 4, .. }),
        "{done}"
    );
}

/// An observation imported after sealing changes epoch 1's re-measured inputs: reported as late
/// data, and the sealed rows stay exactly as they were.
fn late_data_is_reported_and_changes_nothing(store: &mut Store) {
    fixture(store);
    let config = config();
    let cfg = settlement_config(&config);
    seal_three_epochs(store, &config);
    let before = dump(store);
    insert_observations(store, &[observation("us-1", P2, T0 + 70 * MIN, None)]).unwrap();
    let mut late = Vec::new();
    settle_through(store, &cfg, 2, T0 + 10 * HOUR, Mode::Seal, |o| {
        if let EpochOutcome::AlreadySealed(checked) = o {
            late.push(checked.late_data());
        }
    })
    .unwrap();
    assert_eq!(late, vec![false, true, false]);
    let EpochOutcome::AlreadySealed(checked) =
        settle_epoch(store, &cfg, 1, T0 + 10 * HOUR, Mode::Seal).unwrap()
    else {
        panic!("epoch 1 settled again")
    };
    assert_ne!(checked.remeasured.inputs_hash, checked.sealed_inputs_hash);
    // The four of eu-1 standing inside epoch 1 (those at 1:00, 1:15, 1:30, 1:45; the ones at
    // 0:30 and 0:45 stopped standing by its start) and the late one of us-1.
    assert_eq!(
        checked.remeasured.measurements.providers[P2].observations,
        5
    );
    assert_eq!(dump(store), before);
}

/// A dry run over all three epochs carries the state in memory, previews exactly what sealing
/// then writes, and writes nothing itself.
fn dry_run_writes_nothing_and_previews_the_same_settlement(store: &mut Store) {
    fixture(store);
    let config = config();
    let cfg = settlement_config(&config);
    let mut preview = Vec::new();
    settle_through(store, &cfg, 2, T0 + 3 * HOUR, Mode::DryRun, |o| match o {
        EpochOutcome::Sealed(s) => preview.push((s.written, s.settlement, s.measured.inputs_hash)),
        EpochOutcome::AlreadySealed(a) => panic!("epoch {} is not sealed", a.epoch),
    })
    .unwrap();
    assert_eq!(preview.len(), 3);
    assert!(preview.iter().all(|(written, _, _)| !written));
    assert_eq!(
        dump(store),
        Dump {
            epochs: vec![],
            allocations: vec![],
            ledgers: vec![],
            entries: vec![]
        }
    );
    let mut sealed = Vec::new();
    settle_through(store, &cfg, 2, T0 + 3 * HOUR, Mode::Seal, |o| match o {
        EpochOutcome::Sealed(s) => sealed.push((s.written, s.settlement, s.measured.inputs_hash)),
        EpochOutcome::AlreadySealed(a) => panic!("epoch {} was sealed by the dry run", a.epoch),
    })
    .unwrap();
    for ((_, dry, dry_hash), (written, real, hash)) in preview.iter().zip(&sealed) {
        assert!(written);
        assert_eq!(dry, real);
        assert_eq!(dry_hash, hash);
    }
}

/// The stored inputs are the canonical JSON of the measurements, hash to the sealed hash, and
/// say what was measured: P3's standing observation, P2's unsized and unattributed leases, and
/// P1 measured in its contract's class although offline.
fn measurements_are_recorded_with_their_hash(store: &mut Store) {
    fixture(store);
    let config = config();
    let cfg = settlement_config(&config);
    seal_three_epochs(store, &config);
    let d = dump(store);
    for e in &d.epochs {
        let inputs = e.inputs.as_deref().unwrap();
        assert_eq!(
            e.inputs_hash.as_deref(),
            Some(settlement::measure::sha256_hex(inputs).as_str())
        );
    }
    let stored: EpochMeasurements =
        serde_json::from_str(d.epochs[1].inputs.as_deref().unwrap()).unwrap();
    let provider = |observations,
                    leases,
                    online: u64,
                    classes: &[(&str, u128, u128, u64, u64)],
                    unattributed,
                    unsized_leases| ProviderMeasurement {
        registered_ms: 3_600_000,
        observations,
        leases,
        uptime: Uptime::new(online, 3_600_000).unwrap(),
        classes: classes
            .iter()
            .map(
                |&(c, online_gpu_ms, leased_gpu_ms, reported_gpus, leased_peak_gpus)| {
                    (
                        domain::ClassName::new(c).unwrap(),
                        ClassMeasurement {
                            online_gpu_ms,
                            leased_gpu_ms,
                            reported_gpus,
                            leased_peak_gpus,
                        },
                    )
                },
            )
            .collect(),
        unattributed_leased_gpu_ms: unattributed,
        unsized_leases,
    };
    // Epoch 1 is [1:00, 2:00): each provider's observations at 1:00, 1:15, 1:30 and 1:45 stand
    // inside it; those at 0:30 and 0:45 are read (they are within the staleness of its start)
    // but had stopped standing by 1:00, so they are not counted.
    let expected = EpochMeasurements {
        epoch: 1,
        window: rewards::calendar::Window::new(
            domain::UnixMs(T0 + HOUR),
            domain::UnixMs(T0 + 2 * HOUR),
        )
        .unwrap(),
        max_staleness_ms: 1_800_000,
        providers: BTreeMap::from([
            (
                P1.to_string(),
                provider(4, 1, 0, &[("a100-80gi", 0, 3_600_000, 0, 1)], 0, 0),
            ),
            (
                P2.to_string(),
                provider(
                    4,
                    2,
                    3_600_000,
                    &[("a100-80gi", 14_400_000, 0, 4, 0)],
                    3_600_000,
                    1,
                ),
            ),
            (
                P3.to_string(),
                provider(4, 0, 3_600_000, &[("h200", 3_600_000, 0, 1, 0)], 0, 0),
            ),
        ]),
    };
    assert_eq!(stored, expected);
    // P2 reports 4 a100 all epoch and never had one leased; P1 had 1 leased and reported none.
    let unverified: Vec<_> = expected
        .unverified_capacity(2)
        .into_iter()
        .map(|u| {
            (
                u.provider,
                u.class.to_string(),
                u.reported_gpus,
                u.leased_peak_gpus,
            )
        })
        .collect();
    assert_eq!(
        unverified,
        vec![(P2.to_string(), "a100-80gi".to_string(), 4, 0)]
    );
    assert!(expected.unverified_capacity(4).is_empty());
    assert_eq!(
        expected.canonical_json().unwrap(),
        d.epochs[1].inputs.clone().unwrap()
    );
    // P3's last observation, at 1:45, stands until 2:15: the one observation that says
    // anything about epoch 2 (the one at 1:30 was replaced at 1:45).
    let epoch2 = measure_epoch(store, cfg.programme, 2, cfg.max_staleness_ms).unwrap();
    assert_eq!(
        epoch2.measurements.providers[P3],
        provider(1, 0, 900_000, &[("h200", 900_000, 0, 0, 0)], 0, 0)
    );
    assert_eq!(epoch2.measurements.unsized_leases(), 1);
    assert_eq!(epoch2.inputs_hash, d.epochs[2].inputs_hash.clone().unwrap());
}

/// Positions combine the stored vesting entries (with the clawback) and the payouts from the
/// watched wallet in the payout denom, as of the given time.
fn positions_combine_vesting_entries_and_payouts(store: &mut Store) {
    fixture(store);
    let config = config();
    seal_three_epochs(store, &config);
    let mut at = |t| {
        positions(
            store.conn(),
            NAME,
            &config.programme,
            &config.chain.watched_wallets,
            t,
        )
        .unwrap()
        .into_iter()
        .map(|(p, x)| {
            (
                p,
                (
                    x.earned.0,
                    x.vested.0,
                    x.unvested.0,
                    x.clawed_back.0,
                    x.paid.0,
                    x.claimable.0,
                    x.overpaid.0,
                ),
            )
        })
        .collect::<BTreeMap<_, _>>()
    };
    let end = at(T0 + 3 * HOUR);
    assert_eq!(
        end[P1],
        (2_555_556, 1_555_556, 0, 1_000_000, 1, 1_555_555, 0)
    );
    assert_eq!(
        end[P2],
        (2_444_444, 2_444_444, 0, 0, 1_000_000, 1_444_444, 0)
    );
    assert_eq!(end[P3], (1_250_000, 1_250_000, 0, 0, 0, 1_250_000, 0));
    // Paid without having earned: overpaid, and claimable is 0, never negative.
    assert_eq!(end[STRANGER], (0, 0, 0, 0, 5, 0, 5));
    assert_eq!(end.len(), 4);
    // Half an hour earlier the clawback has not happened: half of c1's pay is still unvested,
    // epoch 2's allocation is not yet earned and the last payout not yet made.
    let before = at(T0 + 150 * MIN);
    assert_eq!(
        before[P1],
        (2_555_556, 1_555_556, 1_000_000, 0, 0, 1_555_556, 0)
    );
    assert_eq!(
        before[P2],
        (1_444_444, 1_444_444, 0, 0, 1_000_000, 444_444, 0)
    );
    // Without watched wallets nothing counts as paid.
    let unwatched = positions(store.conn(), NAME, &config.programme, &[], T0 + 3 * HOUR).unwrap();
    assert_eq!(unwatched.len(), 3);
    assert!(unwatched.values().all(|p| p.paid == BaseUnits(0)));
    // Their CSV form is tested in reports/tests/positions_csv.rs.
}

/// Corrupted stored rows (an unreadable carried state, a negative GPU count) are reported as
/// errors naming the row, never a panic, and nothing is written.
fn corrupted_rows_are_errors_not_panics(store: &mut Store) {
    fixture(store);
    let config = config();
    let cfg = settlement_config(&config);
    settle_next(store, &cfg, T0 + 3 * HOUR).unwrap();
    diesel::update(epochs::table)
        .set(epochs::carried_state.eq("{not json"))
        .execute(store.conn())
        .unwrap();
    let unreadable = settle_next(store, &cfg, T0 + 3 * HOUR).unwrap_err();
    assert!(
        matches!(&unreadable, SettlementError::Corrupt { what, .. } if what.contains("epoch 0")),
        "{unreadable}"
    );
    diesel::delete(vesting_entries::table)
        .execute(store.conn())
        .unwrap();
    diesel::delete(allocations::table)
        .execute(store.conn())
        .unwrap();
    diesel::delete(pool_ledgers::table)
        .execute(store.conn())
        .unwrap();
    diesel::delete(epochs::table).execute(store.conn()).unwrap();
    lease(
        store,
        LeaseSpec {
            provider: P2,
            dseq: 9,
            gpu_units: Some(-3),
            model: Some("a100"),
            ram: Some("80Gi"),
            created_ms: T0,
            closed_ms: None,
        },
    );
    let negative = settle_next(store, &cfg, T0 + 3 * HOUR).unwrap_err();
    assert_eq!(
        negative.to_string(),
        format!("stored lease akash1tenant/9/1/1/{P2}/0 is unreadable: negative GPU count -3")
    );
    assert!(dump(store).epochs.is_empty());
}

/// Each sealed epoch reads back exactly as the engine settled it: its line items, ledgers, new
/// entries, clawbacks and the state after it (an earlier epoch's state without the clawbacks
/// made later), with the material it was measured from; what could not be re-derived from a
/// report is refused.
fn sealed_epochs_read_back_as_settled(store: &mut Store) {
    fixture(store);
    let config = config();
    let cfg = settlement_config(&config);
    let mut settled = Vec::new();
    settle_through(store, &cfg, 2, T0 + 3 * HOUR, Mode::Seal, |o| {
        if let EpochOutcome::Sealed(sealed) = o {
            settled.push(sealed);
        }
    })
    .unwrap();
    let engine = rewards::Engine::new(&config.programme).unwrap();
    let mut state = rewards::ProgrammeState::default();
    for sealed in &settled {
        engine
            .settle_epoch(&mut state, &sealed.measured.inputs)
            .unwrap();
        let record = read_sealed(store, &cfg, sealed.epoch).unwrap();
        assert_eq!(
            record.settlement, sealed.settlement,
            "epoch {}",
            sealed.epoch
        );
        assert_eq!(record.state, state, "epoch {}", sealed.epoch);
        assert_eq!(record.measured, sealed.measured, "epoch {}", sealed.epoch);
        let again = measure_material(
            &config.programme,
            sealed.epoch,
            cfg.max_staleness_ms,
            &record.material,
        )
        .unwrap();
        assert_eq!(again.inputs_hash, sealed.measured.inputs_hash);
        let (first, last) = record.heights.unwrap();
        assert!(first <= last);
    }
    // Entry 0 is clawed back in epoch 2: the state after epoch 1 holds it open, unaware; the
    // clawback of epoch 2 carries it as it stood, and the frozen entry leaves the state.
    let after_1 = read_sealed(store, &cfg, 1).unwrap().state;
    assert_eq!(after_1.vesting[0].number, 0);
    assert!(after_1.vesting[0].clawback.is_none());
    let epoch_2 = read_sealed(store, &cfg, 2).unwrap();
    assert_eq!(epoch_2.settlement.clawbacks[0].entry, after_1.vesting[0]);
    assert!(epoch_2.state.vesting.iter().all(|e| e.number != 0));
    let unsealed = read_sealed(store, &cfg, 3).unwrap_err();
    assert!(
        matches!(
            unsealed,
            SettlementError::NotSealed {
                epoch: 3,
                sealed: 3,
                ..
            }
        ),
        "{unsealed}"
    );
    let mut other = config.programme.clone();
    other.calendar.epochs += 1;
    let changed = SettlementConfig {
        programme: &other,
        ..cfg
    };
    let refused = read_sealed(store, &changed, 0).unwrap_err();
    assert!(
        matches!(refused, SettlementError::ProgrammeChanged { epoch: 0, .. }),
        "{refused}"
    );
    insert_observations(store, &[observation("us-1", P2, T0 + 70 * MIN, None)]).unwrap();
    let late = read_sealed(store, &cfg, 1).unwrap_err();
    assert!(
        matches!(late, SettlementError::LateData { epoch: 1, .. }),
        "{late}"
    );
    read_sealed(store, &cfg, 0).unwrap();
}

/// `(epoch, pool, bucket, reasons, uptime ppm, online GPU-ms, leased GPU-ms, earned, vested,
/// unvested, clawed back, paid, claimable, tx hashes)` of one statement row.
type StatementLine = (
    u32,
    Option<String>,
    Option<String>,
    String,
    Option<u32>,
    u128,
    u128,
    [u128; 6],
    String,
);

fn statement_lines(s: &settlement::statement::Statement) -> Vec<StatementLine> {
    s.rows
        .iter()
        .map(|r| {
            (
                r.key.epoch,
                r.key.pool.clone(),
                r.key.bucket.clone(),
                r.reasons.join(";"),
                r.activity.uptime_ppm,
                r.activity.online_gpu_ms,
                r.activity.leased_gpu_ms,
                [
                    r.earned.0,
                    r.vested.0,
                    r.unvested.0,
                    r.clawed_back.0,
                    r.paid.0,
                    r.claimable.0,
                ],
                r.tx_hashes.join(";"),
            )
        })
        .collect()
}

/// A statement splits a provider's position by epoch and bucket with the hand-computed amounts
/// of `EPOCH_0`…`EPOCH_2` and `ENTRIES`: P1's epoch-0 contract pay of 2 000 000 vests half at
/// T0 + 2 h and loses the other half to epoch 2's clawback; its one-unit payout (TX20-0) is
/// applied to its oldest vested row; its uptime and GPU time come from the sealed inputs
/// (2 GPUs online for 1 h, 1 GPU leased from T0 + 30 min). P2's 1 000 000 payout at T0 + 2 h 20
/// covers epoch 0 entirely and 555 556 of epoch 1. A stranger's 5 units are `overpaid`.
fn statement_matches_hand_computed_amounts(store: &mut Store) {
    fixture(store);
    let config = config();
    seal_three_epochs(store, &config);
    // Sealing recorded what a statement needs, so it is read from the database alone.
    let books = store::settlement::programme_books(store.conn()).unwrap();
    assert_eq!(
        books,
        [store::settlement::ProgrammeBooks {
            name: NAME.into(),
            denom: config.programme.denom.name.clone(),
            watched_wallets: config.chain.watched_wallets.clone(),
        }]
    );
    let at = |store: &mut Store, provider: &str, t: i64| {
        settlement::statement::statement(store.conn(), &books[0], provider, t).unwrap()
    };
    let text = |s: &str| Some(s.to_string());
    let p1 = at(store, P1, T0 + 3 * HOUR);
    #[rustfmt::skip]
    let expected: Vec<StatementLine> = vec![
        (0, text("committed"), text("c1"), "PAID".into(), Some(1_000_000), 7_200_000, 1_800_000,
            [2_000_000, 1_000_000, 0, 1_000_000, 1, 999_999], "TX20-0".into()),
        (0, text("liquidity_mining"), text("a100-80gi"), "PAID".into(), Some(1_000_000), 7_200_000, 1_800_000,
            [555_556, 555_556, 0, 0, 0, 555_556], String::new()),
        (1, text("committed"), text("c1"), "SLA_BREACH".into(), Some(0), 0, 3_600_000,
            [0; 6], String::new()),
        (1, text("liquidity_mining"), text("a100-80gi"), "UPTIME_BELOW_THRESHOLD".into(), Some(0), 0, 3_600_000,
            [0; 6], String::new()),
        (2, text("committed"), text("c1"), "COMMITMENT_BROKEN;CLAWED_BACK".into(), Some(0), 0, 3_600_000,
            [0; 6], String::new()),
        (2, text("liquidity_mining"), text("a100-80gi"), "UPTIME_BELOW_THRESHOLD".into(), Some(0), 0, 3_600_000,
            [0; 6], String::new()),
    ];
    assert_eq!(statement_lines(&p1), expected);
    assert_eq!(p1.overpaid, BaseUnits(0));
    assert_eq!(p1.payments.len(), 1);
    assert_eq!(p1.payments[0].tx_hash, "TX20-0");
    // The totals are the provider's position at the same instant.
    let position = positions(
        store.conn(),
        NAME,
        &config.programme,
        &config.chain.watched_wallets,
        T0 + 3 * HOUR,
    )
    .unwrap()[P1];
    assert_eq!(
        [
            p1.total(|r| r.earned),
            p1.total(|r| r.vested),
            p1.total(|r| r.unvested),
            p1.total(|r| r.clawed_back),
            p1.total(|r| r.paid),
        ],
        [
            position.earned,
            position.vested,
            position.unvested,
            position.clawed_back,
            position.paid
        ]
    );
    assert_eq!(
        [p1.total(|r| r.claimable), p1.overpaid],
        [position.claimable, position.overpaid]
    );
    // Half an hour earlier epoch 2 has not ended, the clawback has not happened and the payout
    // is not yet made: half of c1's pay is unvested.
    let earlier = at(store, P1, T0 + 150 * MIN);
    assert_eq!(
        statement_lines(&earlier)[0].7,
        [2_000_000, 1_000_000, 1_000_000, 0, 0, 1_000_000]
    );
    assert_eq!(earlier.rows.len(), 4);
    let p2 = at(store, P2, T0 + 150 * MIN);
    let p2_amounts: Vec<_> = statement_lines(&p2)
        .into_iter()
        .map(|l| (l.0, l.3, l.7, l.8))
        .collect();
    assert_eq!(
        p2_amounts,
        vec![
            (
                0,
                "PAID".to_string(),
                [444_444, 444_444, 0, 0, 444_444, 0],
                "TX16-0".to_string()
            ),
            (
                1,
                "PAID".to_string(),
                [1_000_000, 1_000_000, 0, 0, 555_556, 444_444],
                "TX16-0".to_string()
            ),
        ]
    );
    let stranger = at(store, STRANGER, T0 + 3 * HOUR);
    assert!(stranger.rows.is_empty());
    assert_eq!(stranger.overpaid, BaseUnits(5));
}

/// Only registered providers are measured and paid. P2 is registered from the first block and
/// deleted in block 11 (T0 + 1 h 30, mid-epoch 1); P1 (contract c1) and P3 (grant g1) never
/// register; STRANGER, on no chain, is observed online with 4 a100 every 15 minutes of epoch 0.
fn only_registered_providers_are_measured_and_paid(store: &mut Store) {
    fixture_registering(
        store,
        &[Registered {
            provider: P2,
            created: 1,
            deleted: Some(11),
        }],
    );
    let stranger: Vec<_> = (0..4)
        .map(|q| {
            observation(
                "eu-1",
                STRANGER,
                T0 + q * 15 * MIN,
                Some(("a100", "80Gi", 4)),
            )
        })
        .collect();
    insert_observations(store, &stranger).unwrap();
    let config = config();
    let cfg = settlement_config(&config);
    let measured = |store: &mut Store, epoch| {
        measure_epoch(store, cfg.programme, epoch, cfg.max_staleness_ms)
            .unwrap()
            .measurements
            .providers
    };
    // Observed online all epoch, but never registered: nothing is measured.
    let epoch0 = measured(store, 0);
    let nothing = &epoch0[STRANGER];
    assert_eq!(
        (
            nothing.registered_ms,
            nothing.observations,
            nothing.uptime.online_ms()
        ),
        (0, 0, 0)
    );
    assert!(nothing.classes.is_empty());
    assert_eq!(epoch0[P1].registered_ms, 0);
    assert_eq!(epoch0[P1].uptime.online_ms(), 0);
    // Deleted at 1:30: online and measured for the first half of epoch 1 only. Its observations
    // at 1:00 and 1:15 stand while it is registered; those at 1:30 and 1:45 do not.
    let p2 = &measured(store, 1)[P2];
    assert_eq!(p2.registered_ms, 30 * MIN as u64);
    assert_eq!(
        p2.uptime,
        Uptime::new(30 * MIN as u64, HOUR as u64).unwrap()
    );
    assert_eq!(p2.observations, 2);
    let a100 = domain::ClassName::new("a100-80gi").unwrap();
    assert_eq!(p2.classes[&a100].online_gpu_ms, 4 * 30 * MIN as u128);
    assert_eq!(measured(store, 2)[P2].registered_ms, 0);

    seal_three_epochs(store, &config);
    let d = dump(store);
    for provider in [STRANGER, P1, P3] {
        let paid: Vec<_> = d
            .allocations
            .iter()
            .filter(|a| a.provider.as_deref() == Some(provider) && a.reason == "PAID")
            .collect();
        assert!(paid.is_empty(), "{provider} was paid: {paid:?}");
    }
    let reason = |epoch: i32, bucket: &str| {
        d.allocations
            .iter()
            .find(|a| a.epoch == epoch && a.bucket == bucket)
            .map(|a| (a.reason.clone(), a.amount.0))
    };
    assert_eq!(
        reason(0, "c1"),
        Some(("PROVIDER_NOT_REGISTERED".to_string(), 0))
    );
    // The second epoch without its provider is one breach too many.
    assert_eq!(reason(1, "c1"), Some(("COMMITMENT_BROKEN".to_string(), 0)));
    assert_eq!(
        reason(1, "g1"),
        Some(("PROVIDER_NOT_REGISTERED".to_string(), 500_000))
    );
    // The grant's amount stays in the R&D pool: funded, forfeited, and in the closing balance.
    let rnd = ledgers(&d, 1)
        .into_iter()
        .find(|(pool, _)| pool == "rnd")
        .unwrap()
        .1;
    let [opening, _, _, allocated, forfeited, clawed_back, returned, _, closing] = rnd;
    assert_eq!(forfeited, 500_000);
    assert_eq!(allocated, 0);
    assert_eq!(closing, opening - allocated - returned + clawed_back);
    assert!(closing >= 500_000);
}

on_both_backends!(
    settles_three_epochs_to_hand_computed_amounts,
    clawback_updates_the_entry_sealed_in_an_earlier_epoch,
    stored_rows_satisfy_every_conservation_identity,
    settling_again_changes_nothing,
    unfinished_unindexed_and_out_of_order_epochs_are_refused,
    late_data_is_reported_and_changes_nothing,
    dry_run_writes_nothing_and_previews_the_same_settlement,
    measurements_are_recorded_with_their_hash,
    positions_combine_vesting_entries_and_payouts,
    corrupted_rows_are_errors_not_panics,
    sealed_epochs_read_back_as_settled,
    statement_matches_hand_computed_amounts,
    only_registered_providers_are_measured_and_paid,
);
