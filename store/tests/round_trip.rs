//! The same store behaviour, checked on SQLite and on PostgreSQL by the same code.

use diesel::prelude::*;
use domain::{BaseUnits, ChainDecimal};
use store::chain::write::{BlockStamp, LeaseWrite};
use store::schema::{allocations, blocks, epochs, leases};
use store::testing::TestDatabase;
use store::{on_both_backends, Store, StoreError};

fn epoch_row(store: &mut Store, programme: &str, epoch: i32) {
    diesel::insert_into(epochs::table)
        .values((
            epochs::programme.eq(programme),
            epochs::epoch.eq(epoch),
            epochs::start_ms.eq(0_i64),
            epochs::end_ms.eq(86_400_000_i64),
            epochs::state.eq("open"),
        ))
        .execute(store.conn())
        .unwrap();
}

/// Amounts beyond 2^64 base units come back to the last digit.
fn base_units_above_u64_round_trip(store: &mut Store) {
    epoch_row(store, "pilot", 0);
    let amounts = [
        BaseUnits(0),
        BaseUnits(u128::from(u64::MAX) + 1),
        BaseUnits(u128::MAX),
        BaseUnits(5_000_000_000_000_000_000_000_001),
    ];
    for (i, amount) in amounts.iter().enumerate() {
        diesel::insert_into(allocations::table)
            .values((
                allocations::programme.eq("pilot"),
                allocations::epoch.eq(0),
                allocations::line.eq(i32::try_from(i).unwrap()),
                allocations::pool.eq("liquidity_mining"),
                allocations::bucket_kind.eq("class"),
                allocations::bucket.eq("a100"),
                allocations::provider.eq(format!("akash1provider{i}")),
                allocations::basis_kind.eq("weight"),
                allocations::basis.eq(*amount),
                allocations::amount.eq(*amount),
                allocations::reason.eq("PAID"),
                allocations::vesting.eq("immediate"),
            ))
            .execute(store.conn())
            .unwrap();
    }
    let back: Vec<BaseUnits> = allocations::table
        .select(allocations::amount)
        .order(allocations::provider)
        .load(store.conn())
        .unwrap();
    assert_eq!(back, amounts);
}

/// DecCoin prices with 18 fractional digits are stored exactly as the chain spelled them.
fn chain_decimals_with_18_places_round_trip(store: &mut Store) {
    let prices = [
        "2037.578017543302848935",
        "0.000000000000000001",
        "123456789012345678901234567890.123456789012345678",
    ];
    for (i, price) in prices.iter().enumerate() {
        let price: ChainDecimal = price.parse().unwrap();
        let id = store::testing::lease_id("akash1owner", i as i64, "akash1provider");
        let row = LeaseWrite {
            id: &id,
            gpu_units: Some(8),
            gpu_model: None,
            gpu_ram: None,
            price_denom: "uakt",
            price_amount: &price,
            created: BlockStamp {
                height: domain::Height::new(13_759_520).unwrap(),
                time: "2024-02-15T00:02:04.846443707Z",
                time_ms: 1_707_955_324_846,
            },
            via_authz: false,
        };
        store::testing::lease(store.conn(), &row, None).unwrap();
    }
    let back: Vec<ChainDecimal> = leases::table
        .select(leases::price_amount)
        .order(leases::dseq)
        .load(store.conn())
        .unwrap();
    let back: Vec<&str> = back.iter().map(ChainDecimal::as_str).collect();
    assert_eq!(back, prices);
}

/// A failing batch leaves no trace: the block written before the error is rolled back too.
fn a_failed_transaction_writes_nothing(store: &mut Store) {
    let result: Result<(), StoreError> = store.transaction(|conn| {
        diesel::insert_into(blocks::table)
            .values((
                blocks::height.eq(1_i64),
                blocks::time.eq("2024-02-15T00:00:06.548996185Z"),
                blocks::time_ms.eq(1_707_955_206_548_i64),
                blocks::hash.eq("AA"),
                blocks::tx_count.eq(0),
            ))
            .execute(conn)?;
        // Same primary key again: the database refuses, and the whole batch must go.
        diesel::insert_into(blocks::table)
            .values((
                blocks::height.eq(1_i64),
                blocks::time.eq("x"),
                blocks::time_ms.eq(0_i64),
                blocks::hash.eq("BB"),
                blocks::tx_count.eq(0),
            ))
            .execute(conn)?;
        Ok(())
    });
    assert!(result.is_err());
    let count: i64 = blocks::table.count().get_result(store.conn()).unwrap();
    assert_eq!(count, 0);
}

/// Writes one PAID liquidity-mining allocation line straight into the table, past the store's
/// own checks, so a test can see what the database itself accepts.
fn insert_allocation_row(
    store: &mut Store,
    programme: &str,
    epoch: i32,
    amount: &str,
) -> QueryResult<usize> {
    diesel::insert_into(allocations::table)
        .values((
            allocations::programme.eq(programme),
            allocations::epoch.eq(epoch),
            allocations::line.eq(0),
            allocations::pool.eq("liquidity_mining"),
            allocations::bucket_kind.eq("class"),
            allocations::bucket.eq("a100"),
            allocations::provider.eq("akash1x"),
            allocations::basis_kind.eq("weight"),
            allocations::basis.eq("1"),
            allocations::amount.eq(amount),
            allocations::reason.eq("PAID"),
            allocations::vesting.eq("immediate"),
        ))
        .execute(store.conn())
}

/// Foreign keys are enforced on both engines (SQLite needs them switched on per connection).
fn foreign_keys_are_enforced(store: &mut Store) {
    let orphan = insert_allocation_row(store, "no-such-programme", 7, "1");
    assert!(
        orphan.is_err(),
        "an allocation without its epoch was accepted"
    );
}

/// A migrated database reports every migration applied and empty tables.
fn status_reports_a_fresh_database(store: &mut Store) {
    assert!(
        store.migrate().unwrap().is_empty(),
        "migrating twice applied something again"
    );
    let status = store.status().unwrap();
    assert!(!status.migrations.is_empty());
    assert!(!status.has_pending_migrations());
    assert!(status.cursors.is_empty());
    assert!(status
        .tables
        .iter()
        .any(|t| t.table == "leases" && t.rows == 0));
}

/// A text column holding something that is not an amount is an error on read, never a zero.
fn corrupt_amount_text_is_an_error(store: &mut Store) {
    epoch_row(store, "pilot", 0);
    insert_allocation_row(store, "pilot", 0, "12.5").unwrap();
    let read: QueryResult<Vec<BaseUnits>> = allocations::table
        .select(allocations::amount)
        .load(store.conn());
    assert!(read.is_err());
}

fn block_count(store: &mut Store) -> i64 {
    blocks::table.count().get_result(store.conn()).unwrap()
}

/// An empty block at `height`, one second per height.
fn write_block(conn: &mut store::AnyConnection, height: i64) -> Result<(), StoreError> {
    let at = BlockStamp {
        height: domain::Height::from_stored(height).unwrap(),
        time: "t",
        time_ms: height * 1_000,
    };
    store::testing::empty_block(conn, at, &format!("{height:064}"))
}

/// A snapshot sees the database as it was at its first read, whatever another connection
/// commits meanwhile, and holds no lock that would keep that writer waiting; once it ends, the
/// next read sees the new rows. On PostgreSQL it also refuses to write.
fn a_snapshot_reads_one_instant_while_another_connection_writes(db: &mut TestDatabase) {
    write_block(db.conn(), 1).unwrap();
    let mut writer = Store::open(&db.url()).unwrap();
    let seen = db
        .snapshot(|store| -> Result<_, StoreError> {
            let first = block_count(store);
            // Had the snapshot taken a lock, SQLite's writer would give up after its busy
            // timeout with `database is locked`.
            writer.transaction(|conn| write_block(conn, 2)).unwrap();
            Ok((first, block_count(store)))
        })
        .unwrap();
    assert_eq!(seen, (1, 1));
    assert_eq!(block_count(db), 2);
    if db.backend() == store::Backend::Postgres {
        let refused = db.snapshot(|store| write_block(store.conn(), 3));
        assert!(refused.is_err(), "a read-only snapshot wrote a block");
        assert_eq!(block_count(db), 2);
    }
}

/// Every life of a provider is kept with its block times: a deletion ends the open one, a
/// creation after it starts another, a provider first seen through an update was registered
/// before the index began, and the window query returns only the lives that meet it.
fn provider_lives_are_kept_across_deletion_and_recreation(store: &mut Store) {
    use store::chain::write::{delete_provider, write_provider, ProviderEvent, ProviderWrite};
    let stamp = |height: i64, time: &'static str| BlockStamp {
        height: domain::Height::from_stored(height).unwrap(),
        time,
        time_ms: height * 1_000,
    };
    let provider = |owner| ProviderWrite {
        owner,
        host_uri: "https://p:8443",
        email: None,
        website: None,
    };
    let conn = store.conn();
    write_provider(
        conn,
        &provider("akash1a"),
        ProviderEvent::Created(stamp(1, "t1")),
    )
    .unwrap();
    write_provider(
        conn,
        &provider("akash1a"),
        ProviderEvent::Updated(stamp(2, "t2")),
    )
    .unwrap();
    delete_provider(conn, "akash1a", stamp(3, "t3")).unwrap();
    write_provider(
        conn,
        &provider("akash1a"),
        ProviderEvent::Created(stamp(5, "t5")),
    )
    .unwrap();
    write_provider(
        conn,
        &provider("akash1b"),
        ProviderEvent::Updated(stamp(4, "t4")),
    )
    .unwrap();
    write_provider(
        conn,
        &provider("akash1b"),
        ProviderEvent::Updated(stamp(6, "t6")),
    )
    .unwrap();
    let lives = |store: &mut Store, from_ms, to_ms| -> Vec<_> {
        store::chain::registrations_overlapping(store.conn(), from_ms, to_ms)
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.owner,
                    r.created_time_ms,
                    r.created_time,
                    r.deleted_time_ms,
                )
            })
            .collect()
    };
    let first = (
        "akash1a".to_string(),
        Some(1_000),
        Some("t1".into()),
        Some(3_000),
    );
    let second = ("akash1a".to_string(), Some(5_000), Some("t5".into()), None);
    let seen_updated = ("akash1b".to_string(), None, None, None);
    assert_eq!(
        lives(store, 0, 10_000),
        vec![first.clone(), second.clone(), seen_updated.clone()]
    );
    // [3 s, 5 s): the first life ended at 3 s and the second starts at 5 s.
    assert_eq!(lives(store, 3_000, 5_000), vec![seen_updated.clone()]);
    assert_eq!(
        lives(store, 2_000, 3_000),
        vec![first.clone(), seen_updated.clone()]
    );
    // Bidding or being leased from proves registration: an owner seen only so was registered
    // before the index began; one with lives of its own keeps them.
    store::chain::write::provider_acted(store.conn(), "akash1c").unwrap();
    store::chain::write::provider_acted(store.conn(), "akash1a").unwrap();
    store::chain::write::provider_acted(store.conn(), "akash1c").unwrap();
    let only_bid = ("akash1c".to_string(), None, None, None);
    assert_eq!(
        lives(store, 0, 10_000),
        vec![first, second, seen_updated, only_bid]
    );
    let known = store::chain::ever_registered_providers(store.conn()).unwrap();
    assert!(known.contains("akash1c") && known.contains("akash1b"));
}

on_both_backends!(
    base_units_above_u64_round_trip,
    chain_decimals_with_18_places_round_trip,
    a_failed_transaction_writes_nothing,
    foreign_keys_are_enforced,
    status_reports_a_fresh_database,
    corrupt_amount_text_is_an_error,
    a_snapshot_reads_one_instant_while_another_connection_writes,
    provider_lives_are_kept_across_deletion_and_recreation,
);

#[test]
fn a_new_sqlite_file_is_created_in_wal_mode_with_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folder/akash.sqlite");
    let url = store::DatabaseUrl::parse(&path.display().to_string()).unwrap();
    let mut store = Store::open(&url).unwrap();
    assert!(path.exists());
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(store.conn())
        .unwrap();
    assert_eq!(mode.journal_mode, "wal");
}

#[test]
fn status_before_migrating_lists_pending_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::DatabaseUrl::SqliteFile(dir.path().join("fresh.sqlite"));
    let mut store = Store::connect(&url).unwrap();
    let status = store.status().unwrap();
    assert!(status.has_pending_migrations());
    assert!(status.tables.is_empty());
}
