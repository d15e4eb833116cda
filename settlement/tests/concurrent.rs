//! Settle runs racing on one database, and readers running beside a writer, on SQLite and
//! PostgreSQL, over the fixture of `fixture/mod.rs`.
//!
//! Each racer is a separate connection, as separate `settle --all` processes would be. The
//! racers start together at a barrier; whichever order the database lets them in, every epoch
//! must end up sealed exactly once, with the same rows one run alone would have written, and
//! the runs that lost an epoch must report it as already sealed instead of failing.

mod fixture;

use std::sync::{mpsc, Arc, Barrier};
use std::thread;

use domain::BaseUnits;
use fixture::*;
use settlement::{positions, settle_through, EpochOutcome, Mode};
use store::chain::write::{insert_transfers, TransferWrite};
use store::{on_both_backends, DatabaseUrl, Store};

const RACERS: usize = 3;

/// What one racer saw: per epoch, whether it sealed it (`true`) or found it sealed.
fn race_once(url: &DatabaseUrl, start: &Barrier) -> Result<Vec<(u32, bool)>, String> {
    let config = config();
    let mut store = Store::open(url).map_err(|e| format!("open: {e}"))?;
    start.wait();
    let mut seen = Vec::new();
    settle_through(
        &mut store,
        &settlement_config(&config),
        2,
        T0 + 3 * HOUR,
        Mode::Seal,
        |outcome| seen.push((outcome.epoch(), matches!(outcome, EpochOutcome::Sealed(_)))),
    )
    // The whole cause chain, so that a `database is locked` deep inside would show.
    .map_err(|e| cause_chain(&e))?;
    Ok(seen)
}

/// An error and its sources, one sentence after another.
fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Three settle runs through epoch 2, started together: no run fails, each epoch is sealed by
/// exactly one of them and reported as already sealed by the others, and the store holds
/// exactly what a single run writes.
fn racing_settle_runs_seal_each_epoch_exactly_once(store: &mut Store) {
    fixture(store);
    let url = store.url().clone();
    let start = Arc::new(Barrier::new(RACERS));
    let racers: Vec<_> = (0..RACERS)
        .map(|_| {
            let (url, start) = (url.clone(), Arc::clone(&start));
            thread::spawn(move || race_once(&url, &start))
        })
        .collect();
    let reports: Vec<Vec<(u32, bool)>> = racers
        .into_iter()
        .map(|racer| racer.join().expect("a racer panicked"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("a settle run failed while racing: {e}"));
    for epoch in 0..3 {
        let sealers = reports
            .iter()
            .filter(|seen| seen.contains(&(epoch, true)))
            .count();
        let found_sealed = reports
            .iter()
            .filter(|seen| seen.contains(&(epoch, false)))
            .count();
        assert_eq!(
            (sealers, found_sealed),
            (1, RACERS - 1),
            "epoch {epoch}: {reports:?}"
        );
    }
    let raced = dump(store);
    // The same store settled by one run alone.
    let mut alone = match store.backend() {
        store::Backend::Sqlite => store::testing::sqlite(),
        store::Backend::Postgres => store::testing::postgres().expect("the server just answered"),
    };
    fixture(&mut alone);
    seal_three_epochs(&mut alone, &config());
    assert_eq!(raced, dump(&mut alone));
}

/// `settle positions` reads while another connection holds a write transaction open: it is
/// neither blocked nor shown the uncommitted rows, and sees them once they commit.
fn readers_run_while_a_writer_holds_a_transaction(store: &mut Store) {
    fixture(store);
    let config = config();
    seal_three_epochs(store, &config);
    let paid_to_p2 = |store: &mut Store| {
        positions(
            store.conn(),
            NAME,
            &config.programme,
            &config.chain.watched_wallets,
            T0 + 3 * HOUR,
        )
        .expect("positions while a writer is busy")[P2]
            .paid
    };
    assert_eq!(paid_to_p2(store), BaseUnits(1_000_000));
    let url = store.url().clone();
    let (holding, held) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let writer = thread::spawn(move || {
        let mut writer = Store::open(&url).unwrap();
        writer
            .transaction(|conn| {
                let payout = TransferWrite {
                    height: domain::Height::new(18).unwrap(),
                    tx_index: 0,
                    msg_index: 0,
                    leg: 0,
                    tx_hash: "TX18-0",
                    sender: WALLET,
                    recipient: P2,
                    denom: "uakt",
                    amount: BaseUnits(7),
                };
                insert_transfers(conn, &[payout])?;
                holding.send(()).unwrap();
                released.recv().unwrap();
                Ok::<_, store::StoreError>(())
            })
            .unwrap();
    });
    held.recv().expect("the writer holds its transaction");
    let while_writing = paid_to_p2(store);
    release.send(()).unwrap();
    writer.join().unwrap();
    assert_eq!(while_writing, BaseUnits(1_000_000));
    assert_eq!(paid_to_p2(store), BaseUnits(1_000_007));
}

on_both_backends!(
    racing_settle_runs_seal_each_epoch_exactly_once,
    readers_run_while_a_writer_holds_a_transaction,
);
