//! `payouts::reconcile` on a sealed programme in a real store (SQLite and PostgreSQL), with
//! transfers scripted as the indexer records them: each of the four findings, and a clean case.

mod common;

use common::*;
use domain::BaseUnits;
use payouts::reconcile::{reconcile, Flag, Reconciliation};
use store::{on_both_backends, Store};

fn reconciled(store: &mut Store, at: i64) -> Reconciliation {
    let config = config(100);
    reconcile(&books(store, &config, at)).unwrap()
}

/// `(provider, flag, [(height, tx hash)])` of one finding.
type Summary = (String, Flag, Vec<(i64, String)>);

/// Every finding, as a [`Summary`].
fn findings(r: &Reconciliation) -> Vec<Summary> {
    r.findings
        .iter()
        .map(|f| {
            let transfers = f
                .payouts
                .iter()
                .map(|p| (p.height, p.tx_hash.clone()))
                .collect();
            (f.provider.clone(), f.flag.clone(), transfers)
        })
        .collect()
}

fn each_of_the_four_cases_is_flagged_with_its_transfers(store: &mut Store) {
    let config = config(100);
    sealed_programme(store, &config);
    // P1 is sent 200 000 of its 500 000 after epoch 0 vested 250 000: underpaid.
    pay(store, T0 + 70 * MIN, 0, P1, 200_000);
    // P2 is sent 600 000 at T0 + 1 h 10, when 250 000 had vested: paid before vesting, and
    // still overpaid once 500 000 has vested.
    pay(store, T0 + 70 * MIN, 1, P2, 600_000);
    // A stranger earned nothing.
    pay(store, T0 + 80 * MIN, 0, STRANGER, 5);
    // P3 is sent its 1 000 000 in the block at T0 + 2 h, when it had all vested: clean.
    pay(store, T0 + 2 * HOUR, 0, P3, 1_000_000);
    let r = reconciled(store, T0 + 2 * HOUR);
    let h = |t| height_at(t);
    assert_eq!(
        findings(&r),
        [
            (
                P1.to_string(),
                Flag::Underpaid(BaseUnits(300_000)),
                vec![(h(T0 + 70 * MIN), format!("TX{}-0", h(T0 + 70 * MIN)))]
            ),
            (
                P2.to_string(),
                Flag::Overpaid(BaseUnits(100_000)),
                vec![(h(T0 + 70 * MIN), format!("TX{}-1", h(T0 + 70 * MIN)))]
            ),
            (
                P2.to_string(),
                Flag::PaidBeforeVesting {
                    paid: BaseUnits(600_000),
                    vested: BaseUnits(250_000)
                },
                vec![(h(T0 + 70 * MIN), format!("TX{}-1", h(T0 + 70 * MIN)))]
            ),
            (
                STRANGER.to_string(),
                Flag::UnknownRecipient,
                vec![(h(T0 + 80 * MIN), format!("TX{}-0", h(T0 + 80 * MIN)))]
            ),
        ]
    );
    assert!(!r.is_clean());
    let p3 = r.lines.iter().find(|l| l.provider == P3).unwrap();
    assert_eq!(
        (p3.vested, p3.paid, p3.transfers),
        (BaseUnits(1_000_000), BaseUnits(1_000_000), 1)
    );
}

fn paying_exactly_what_vested_when_it_vested_is_clean(store: &mut Store) {
    let config = config(100);
    sealed_programme(store, &config);
    // Epoch 0's share right after it ended, epoch 1's in one multi-send at T0 + 2 h, wrapped in
    // a MsgExec (message index 1) and recorded twice by a re-run of the indexer.
    pay(store, T0 + HOUR, 0, P1, 250_000);
    pay(store, T0 + HOUR, 1, P2, 250_000);
    multi_send_recorded_twice(
        store,
        T0 + 2 * HOUR,
        &[(P1, 250_000), (P2, 250_000), (P3, 1_000_000)],
    );
    let r = reconciled(store, T0 + 2 * HOUR);
    assert!(r.is_clean(), "{:?}", r.findings);
    assert_eq!(r.lines.len(), 3);
    assert!(r.lines.iter().all(|l| l.vested == l.paid));
    // Half an hour earlier P3's epoch-0 share had vested and was not yet sent: underpaid, with
    // no transfer to show.
    let earlier = reconciled(store, T0 + 90 * MIN);
    assert_eq!(
        findings(&earlier),
        [(P3.to_string(), Flag::Underpaid(BaseUnits(500_000)), vec![])]
    );
}

/// A legacy multi-input send whose recipient the indexer could not name is an unknown
/// recipient, not silently dropped.
fn an_unnamed_recipient_is_an_unknown_recipient(store: &mut Store) {
    let config = config(100);
    sealed_programme(store, &config);
    pay(store, T0 + 2 * HOUR, 0, P1, 500_000);
    pay(store, T0 + 2 * HOUR, 1, P2, 500_000);
    pay(store, T0 + 2 * HOUR, 2, P3, 1_000_000);
    pay(store, T0 + 2 * HOUR, 3, "", 42);
    let r = reconciled(store, T0 + 2 * HOUR);
    let flagged: Vec<_> = findings(&r).into_iter().map(|(p, f, _)| (p, f)).collect();
    assert_eq!(flagged, [(String::new(), Flag::UnknownRecipient)]);
}

on_both_backends!(
    each_of_the_four_cases_is_flagged_with_its_transfers,
    paying_exactly_what_vested_when_it_vested_is_clean,
    an_unnamed_recipient_is_an_unknown_recipient,
);
