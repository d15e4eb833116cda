//! Upgrading a database sealed under an earlier schema keeps every row it holds.
//!
//! A programme runs for months, so the database an administrator upgrades already holds sealed
//! epochs, line items and vesting entries. Some migrations rebuild a table (SQLite cannot change a
//! CHECK in place), and a rebuild that dropped or altered a row would silently change what was
//! paid. Each test takes a fresh database back to the foundation schema with the migrations' own
//! `down.sql`, stores sealed rows the way that schema held them, migrates forward again and reads
//! every row back.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use domain::BaseUnits;
use store::settlement::{allocations, sealed_epoch_numbers, vesting_entries};
use store::Store;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// The first migration; everything after it is undone before the old rows are written.
const FOUNDATION: &str = "20261121000001";

/// An amount beyond `u64`, so a rebuild that went through a number would show.
const WIDE: &str = "340282366920938463463374607431768211455";

/// Rows as the foundation schema held them: a sealed epoch, a class line and a contract line, and
/// a vesting entry of the contract line that a later epoch clawed back.
const FOUNDATION_ROWS: &str = "
INSERT INTO epochs (programme, epoch, start_ms, end_ms, state, sealed_at_ms, inputs_hash, inputs,
                    programme_hash, carried_state)
VALUES ('pilot', 0, 1707955200000, 1707958800000, 'sealed', 1707958900000, 'ab', '{}', 'cd', '{}');
INSERT INTO allocations (programme, epoch, line, pool, bucket_kind, bucket, provider, basis_kind,
                         basis, amount, reason, vesting, price_usd_per_token, price_from_ms,
                         price_source)
VALUES ('pilot', 0, 0, 'liquidity_mining', 'class', 'h100', 'akash1provider', 'weight',
        '1000', '340282366920938463463374607431768211455', 'PAID', 'quarterly', NULL, NULL, NULL),
       ('pilot', 0, 1, 'committed', 'contract', 'c-1', 'akash1provider', 'delivered_gpu_ms',
        '3600000', '1333333', 'PAID', 'quarterly', '2.5', 1707955200000, 'prices.csv');
INSERT INTO vesting_entries (programme, entry, epoch, line, pool, bucket_kind, bucket, provider,
                             schedule_id, schedule, anchor_ms, amount, clawback_epoch,
                             clawback_at_ms, clawed_back)
VALUES ('pilot', 0, 0, 1, 'committed', 'contract', 'c-1', 'akash1provider', 'quarterly', '{}',
        1707955200000, '1333333', 0, 1707958800000, '666667');
INSERT INTO blocks (height, time, time_ms, hash, tx_count)
VALUES (7, '2024-02-15T00:00:00Z', 1707955200000, 'AA', 1),
       (9, '2024-02-15T00:00:12.5Z', 1707955212500, 'BB', 1);
INSERT INTO providers (owner, host_uri, created_height, updated_height, deleted_height)
VALUES ('akash1provider', 'https://p:8443', 7, NULL, 9),
       ('akash1seen', 'https://s:8443', NULL, 9, NULL);
";

fn sealed_rows_survive_the_upgrade(store: &mut Store) {
    while store
        .conn()
        .applied_migrations()
        .unwrap()
        .iter()
        .any(|version| version.to_string() != FOUNDATION)
    {
        store.conn().revert_last_migration(MIGRATIONS).unwrap();
    }
    store.conn().batch_execute(FOUNDATION_ROWS).unwrap();

    let applied = store.migrate().unwrap();
    assert!(!applied.is_empty(), "the later migrations ran again");

    assert_eq!(
        sealed_epoch_numbers(store.conn(), "pilot").unwrap(),
        vec![0]
    );
    let lines = allocations(store.conn(), "pilot", 0).unwrap();
    let kept: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l.line,
                l.pool.as_str(),
                l.bucket_kind.as_str(),
                l.bucket.as_str(),
                l.amount,
                l.vesting.as_deref(),
                l.price_usd_per_token.as_deref(),
                l.price_from_ms,
            )
        })
        .collect();
    assert_eq!(
        kept,
        vec![
            (
                0,
                "liquidity_mining",
                "class",
                "h100",
                WIDE.parse::<BaseUnits>().unwrap(),
                Some("quarterly"),
                None,
                None,
            ),
            (
                1,
                "committed",
                "contract",
                "c-1",
                BaseUnits(1_333_333),
                Some("quarterly"),
                Some("2.5"),
                Some(1_707_955_200_000),
            ),
        ]
    );
    assert!(
        lines
            .iter()
            .all(|l| l.clawback_of_epoch.is_none() && l.clawback_of_entry.is_none()),
        "lines sealed before references existed carry none"
    );
    let entries = vesting_entries(store.conn(), "pilot").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].amount, BaseUnits(1_333_333));
    assert_eq!(entries[0].clawed_back, Some(BaseUnits(666_667)));
    assert_eq!(entries[0].clawback_epoch, Some(0));
    // The providers indexed before registrations were kept keep their one life, with its times.
    let lives = store::chain::registrations_overlapping(store.conn(), i64::MIN, i64::MAX).unwrap();
    let lives: Vec<_> = lives
        .iter()
        .map(|r| {
            (
                r.owner.as_str(),
                r.created_height,
                r.created_time_ms,
                r.deleted_height,
                r.deleted_time.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lives,
        vec![
            (
                "akash1provider",
                Some(7),
                Some(1_707_955_200_000),
                Some(9),
                Some("2024-02-15T00:00:12.5Z")
            ),
            ("akash1seen", None, None, None, None),
        ]
    );
}

store::on_both_backends!(sealed_rows_survive_the_upgrade);
