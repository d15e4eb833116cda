//! Reads and writes for settlement: sealed epochs, their line items (`allocations`), pool ledgers
//! and vesting entries, plus the few chain reads a settlement needs (how far the indexer got,
//! payouts from the programme's wallets).
//!
//! Rows mirror the tables one to one; what the values mean (pools, buckets, reasons, schedules)
//! is the business of the `settlement` crate, which turns the rewards engine's output into these
//! rows and back. Sealed epochs are immutable: the only update this module offers is the
//! clawback of an earlier vesting entry, and it refuses to overwrite an existing clawback.
//! Callers run the writes of one epoch inside a single [`crate::Store::transaction`].

use diesel::prelude::*;

use crate::schema::{allocations, blocks, epochs, pool_ledgers, transfers, vesting_entries};
use crate::{AnyConnection, StoreError};
use domain::BaseUnits;

/// The `state` of a sealed epoch row.
pub const SEALED: &str = "sealed";

/// One row of `epochs`. Every column is set on a sealed row (the table checks it); the `Option`s
/// exist because the table also admits other states.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = epochs)]
pub struct EpochRow {
    /// The programme's configured name.
    pub programme: String,
    /// Epoch index.
    pub epoch: i32,
    /// First millisecond of the epoch.
    pub start_ms: i64,
    /// First millisecond after it.
    pub end_ms: i64,
    /// [`SEALED`] for every row settlement writes.
    pub state: String,
    /// When it was sealed (the settle run's notion of now).
    pub sealed_at_ms: Option<i64>,
    /// Hex SHA-256 of `inputs`.
    pub inputs_hash: Option<String>,
    /// Canonical JSON of the measurements the epoch was settled on.
    pub inputs: Option<String>,
    /// Hex SHA-256 of the programme definition's canonical JSON.
    pub programme_hash: Option<String>,
    /// JSON of the engine state after this epoch, without its vesting entries.
    pub carried_state: Option<String>,
}

/// One row of `allocations`: a line item of a sealed epoch.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = allocations)]
pub struct AllocationRow {
    /// The programme's configured name.
    pub programme: String,
    /// Epoch index.
    pub epoch: i32,
    /// Position of the line in the epoch (0-based, the engine's order).
    pub line: i32,
    /// `committed`, `liquidity_mining` or `rnd`.
    pub pool: String,
    /// `class`, `contract` or `grant`.
    pub bucket_kind: String,
    /// Class name, contract id or grant id.
    pub bucket: String,
    /// Provider address; `None` on class-level lines.
    pub provider: Option<String>,
    /// `weight`, `delivered_gpu_ms` or `amount`.
    pub basis_kind: String,
    /// The basis value.
    pub basis: BaseUnits,
    /// Base units.
    pub amount: BaseUnits,
    /// Reason code (`PAID`, `SLA_BREACH`, …).
    pub reason: String,
    /// Vesting schedule id of allocated, forfeited and clawed-back amounts.
    pub vesting: Option<String>,
    /// USD per whole token, when the amount came from a USD figure.
    pub price_usd_per_token: Option<String>,
    /// When that price came into force.
    pub price_from_ms: Option<i64>,
    /// The price table's source.
    pub price_source: Option<String>,
    /// On a `CLAWED_BACK` line: the epoch in which the clawed-back entry was earned.
    pub clawback_of_epoch: Option<i32>,
    /// On a `CLAWED_BACK` line: the clawed-back entry (`vesting_entries.entry`).
    pub clawback_of_entry: Option<i32>,
}

/// One row of `pool_ledgers`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = pool_ledgers)]
pub struct PoolLedgerRow {
    /// The programme's configured name.
    pub programme: String,
    /// Epoch index.
    pub epoch: i32,
    /// `committed`, `liquidity_mining` or `rnd`.
    pub pool: String,
    /// Balance at the start of the epoch, funding included.
    pub opening: BaseUnits,
    /// Money that entered the pool this epoch.
    pub funded: BaseUnits,
    /// Put up for allocation.
    pub emitted: BaseUnits,
    /// Allocated to providers.
    pub allocated: BaseUnits,
    /// Withheld for cause; stays in the pool.
    pub forfeited: BaseUnits,
    /// Unvested amounts taken back.
    pub clawed_back: BaseUnits,
    /// Sent back to the community pool.
    pub returned: BaseUnits,
    /// Undistributed, staying in the pool.
    pub carried: BaseUnits,
    /// Committed pay the pool could not cover.
    pub shortfall: BaseUnits,
    /// Balance at the end of the epoch.
    pub closing: BaseUnits,
    /// USD per whole token, when a USD figure was converted for this pool this epoch.
    pub price_usd_per_token: Option<String>,
    /// When that price came into force.
    pub price_from_ms: Option<i64>,
    /// The price table's source.
    pub price_source: Option<String>,
}

/// One row of `vesting_entries`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = vesting_entries)]
pub struct VestingEntryRow {
    /// The programme's configured name.
    pub programme: String,
    /// Creation index across the programme (0-based, stable).
    pub entry: i32,
    /// Epoch in which the amount was earned.
    pub epoch: i32,
    /// The allocation line that created the entry.
    pub line: i32,
    /// Pool that paid it.
    pub pool: String,
    /// `class`, `contract` or `grant`.
    pub bucket_kind: String,
    /// Class name, contract id or grant id.
    pub bucket: String,
    /// Provider address.
    pub provider: String,
    /// Name of the schedule in the configuration.
    pub schedule_id: String,
    /// The schedule itself, as JSON.
    pub schedule: String,
    /// End of the epoch in which the amount was earned.
    pub anchor_ms: i64,
    /// Amount allocated.
    pub amount: BaseUnits,
    /// The epoch whose settlement clawed the entry back.
    pub clawback_epoch: Option<i32>,
    /// The clawback instant.
    pub clawback_at_ms: Option<i64>,
    /// The part that went back to the pool.
    pub clawed_back: Option<BaseUnits>,
}

/// The sealed epoch numbers of `programme`, ascending.
pub fn sealed_epoch_numbers(
    conn: &mut AnyConnection,
    programme: &str,
) -> Result<Vec<i32>, StoreError> {
    Ok(epochs::table
        .filter(epochs::programme.eq(programme))
        .filter(epochs::state.eq(SEALED))
        .order(epochs::epoch)
        .select(epochs::epoch)
        .load(conn)?)
}

/// The sealed row of `epoch`, if that epoch is sealed.
pub fn sealed_epoch(
    conn: &mut AnyConnection,
    programme: &str,
    epoch: i32,
) -> Result<Option<EpochRow>, StoreError> {
    Ok(epochs::table
        .find((programme, epoch))
        .filter(epochs::state.eq(SEALED))
        .select(EpochRow::as_select())
        .first(conn)
        .optional()?)
}

/// What a programme's statements are read with besides its sealed epochs
/// ([`record_programme`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeBooks {
    /// The programme's name.
    pub name: String,
    /// The payout denom.
    pub denom: String,
    /// The wallets whose transfers to providers are payouts.
    pub watched_wallets: Vec<String>,
}

/// Records (or updates) `books` for its programme: written with each seal, so that a
/// statement can be read with only the database.
pub fn record_programme(
    conn: &mut AnyConnection,
    books: &ProgrammeBooks,
) -> Result<(), StoreError> {
    use crate::schema::programmes as p;
    let wallets = books.watched_wallets.join(",");
    crate::on_backend!(conn, |c| diesel::insert_into(p::table)
        .values((
            p::name.eq(&books.name),
            p::denom.eq(&books.denom),
            p::watched_wallets.eq(&wallets),
        ))
        .on_conflict(p::name)
        .do_update()
        .set((p::denom.eq(&books.denom), p::watched_wallets.eq(&wallets)))
        .execute(c))?;
    Ok(())
}

/// Every programme the database has sealed an epoch of (since its books were recorded), by
/// name.
pub fn programme_books(conn: &mut AnyConnection) -> Result<Vec<ProgrammeBooks>, StoreError> {
    use crate::schema::programmes as p;
    let rows: Vec<(String, String, String)> = p::table
        .order(p::name)
        .select((p::name, p::denom, p::watched_wallets))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(name, denom, wallets)| ProgrammeBooks {
            name,
            denom,
            watched_wallets: wallets
                .split(',')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
        })
        .collect())
}

/// Writes an epoch row. An epoch that another run sealed meanwhile fails with an error whose
/// [`StoreError::is_unique_violation`] is true.
pub fn insert_epoch(conn: &mut AnyConnection, row: &EpochRow) -> Result<(), StoreError> {
    diesel::insert_into(epochs::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Writes line items. One statement per row: diesel's MultiConnection has no multi-row INSERT,
/// and inside the sealing transaction single-row inserts are cheap on both backends.
pub fn insert_allocations(
    conn: &mut AnyConnection,
    rows: &[AllocationRow],
) -> Result<(), StoreError> {
    for row in rows {
        diesel::insert_into(allocations::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Writes pool ledgers.
pub fn insert_pool_ledgers(
    conn: &mut AnyConnection,
    rows: &[PoolLedgerRow],
) -> Result<(), StoreError> {
    for row in rows {
        diesel::insert_into(pool_ledgers::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Writes new vesting entries.
pub fn insert_vesting_entries(
    conn: &mut AnyConnection,
    rows: &[VestingEntryRow],
) -> Result<(), StoreError> {
    for row in rows {
        diesel::insert_into(vesting_entries::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Records the clawback of entry `entry` by epoch `clawback_epoch` at `at_ms`, unless the entry
/// already has one. Returns how many rows changed: 1, or 0 when the entry does not exist or was
/// already clawed back (which the caller must treat as an inconsistency).
pub fn record_clawback(
    conn: &mut AnyConnection,
    programme: &str,
    entry: i32,
    clawback_epoch: i32,
    at_ms: i64,
    amount: BaseUnits,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        vesting_entries::table
            .find((programme, entry))
            .filter(vesting_entries::clawback_epoch.is_null()),
    )
    .set((
        vesting_entries::clawback_epoch.eq(clawback_epoch),
        vesting_entries::clawback_at_ms.eq(at_ms),
        vesting_entries::clawed_back.eq(amount),
    ))
    .execute(conn)?)
}

/// The line items of one epoch, in line order.
pub fn allocations(
    conn: &mut AnyConnection,
    programme: &str,
    epoch: i32,
) -> Result<Vec<AllocationRow>, StoreError> {
    Ok(allocations::table
        .filter(allocations::programme.eq(programme))
        .filter(allocations::epoch.eq(epoch))
        .order(allocations::line)
        .select(AllocationRow::as_select())
        .load(conn)?)
}

/// The pool ledgers of one epoch, ordered by pool name.
pub fn pool_ledgers(
    conn: &mut AnyConnection,
    programme: &str,
    epoch: i32,
) -> Result<Vec<PoolLedgerRow>, StoreError> {
    Ok(pool_ledgers::table
        .filter(pool_ledgers::programme.eq(programme))
        .filter(pool_ledgers::epoch.eq(epoch))
        .order(pool_ledgers::pool)
        .select(PoolLedgerRow::as_select())
        .load(conn)?)
}

/// Every vesting entry of `programme`, in creation order.
pub fn vesting_entries(
    conn: &mut AnyConnection,
    programme: &str,
) -> Result<Vec<VestingEntryRow>, StoreError> {
    Ok(vesting_entries::table
        .filter(vesting_entries::programme.eq(programme))
        .order(vesting_entries::entry)
        .select(VestingEntryRow::as_select())
        .load(conn)?)
}

/// The block times of the oldest and newest indexed blocks, or `None` before the first block.
/// A settlement may only use the chain up to the newest block time.
pub fn indexed_time_span(conn: &mut AnyConnection) -> Result<Option<(i64, i64)>, StoreError> {
    let (oldest, newest): (Option<i64>, Option<i64>) = blocks::table
        .select((
            diesel::dsl::min(blocks::time_ms),
            diesel::dsl::max(blocks::time_ms),
        ))
        .first(conn)?;
    Ok(oldest.zip(newest))
}

/// The lowest and highest indexed heights whose block time is in `[start_ms, end_ms)`, or
/// `None` when no indexed block falls in it: the block range a report says its window covers.
pub fn heights_between(
    conn: &mut AnyConnection,
    start_ms: i64,
    end_ms: i64,
) -> Result<Option<(i64, i64)>, StoreError> {
    let (lowest, highest): (Option<i64>, Option<i64>) = blocks::table
        .filter(blocks::time_ms.ge(start_ms))
        .filter(blocks::time_ms.lt(end_ms))
        .select((
            diesel::dsl::min(blocks::height),
            diesel::dsl::max(blocks::height),
        ))
        .first(conn)?;
    Ok(lowest.zip(highest))
}

/// One transfer out of the programme's wallets, where the chain recorded it and when.
///
/// The indexer stores each coin movement once, keyed by `(height, tx_index, msg_index, leg)`,
/// with messages unwrapped from an authz `MsgExec` numbered among the transaction's own; so a
/// payout seen inside a `MsgExec` or as one output of a `MsgMultiSend` is one row here, never
/// two.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Payout {
    /// Block height.
    pub height: i64,
    /// That block's time, unix milliseconds.
    pub time_ms: i64,
    /// Transaction hash.
    pub tx_hash: String,
    /// Message index in the transaction (counting messages inside `MsgExec`).
    pub msg_index: i32,
    /// Coin movement inside the message.
    pub leg: i32,
    /// Recipient; empty when the indexer could not name it (a legacy multi-input
    /// `MsgMultiSend`, whose pairing of inputs and outputs is unknown).
    pub recipient: String,
    /// Amount in base units.
    pub amount: BaseUnits,
}

/// Every transfer of `denom` sent by one of `senders` in a block whose time is at most
/// `until_ms`, in chain order. Transfers between two of the `senders` are left out: moving
/// money between the programme's own wallets pays nobody.
pub fn payouts(
    conn: &mut AnyConnection,
    senders: &[String],
    denom: &str,
    until_ms: i64,
) -> Result<Vec<Payout>, StoreError> {
    Ok(transfers::table
        .inner_join(blocks::table.on(blocks::height.eq(transfers::height)))
        .filter(transfers::sender.eq_any(senders))
        .filter(transfers::recipient.ne_all(senders))
        .filter(transfers::denom.eq(denom))
        .filter(blocks::time_ms.le(until_ms))
        .order((
            transfers::height,
            transfers::tx_index,
            transfers::msg_index,
            transfers::leg,
        ))
        .select((
            transfers::height,
            blocks::time_ms,
            transfers::tx_hash,
            transfers::msg_index,
            transfers::leg,
            transfers::recipient,
            transfers::amount,
        ))
        .load(conn)?)
}
