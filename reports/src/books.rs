//! An epoch's books as published tables: the pool `ledger` and the `vesting` events (entries
//! created, entries clawed back). Both are built from the engine's [`EpochSettlement`], so a
//! report (built from what was sealed) and `verify` (built from a fresh settlement of the
//! published inputs) produce them with the same function and compare them cell by cell.

use polars::prelude::DataFrame;
use rewards::ledger::PoolLedger;
use rewards::vesting::VestingEntry;
use rewards::EpochSettlement;

use crate::allocations::bucket_cells;
use crate::merkle::pool_name;
use crate::table::{Cell, ColumnSpec, Kind, TableBuilder, TableSpec};

/// The `ledger` table: one row per configured pool, in pool order, every ledger column in base
/// units; `price_usd_per_token`, `price_from` and `price_source` say which price converted a
/// USD figure for the pool this epoch, when one did.
pub static LEDGER: TableSpec = TableSpec {
    name: "ledger",
    columns: &[
        ColumnSpec::required("epoch", Kind::Int),
        ColumnSpec::required("pool", Kind::Text),
        ColumnSpec::required("opening", Kind::Text),
        ColumnSpec::required("funded", Kind::Text),
        ColumnSpec::required("emitted", Kind::Text),
        ColumnSpec::required("allocated", Kind::Text),
        ColumnSpec::required("forfeited", Kind::Text),
        ColumnSpec::required("clawed_back", Kind::Text),
        ColumnSpec::required("returned", Kind::Text),
        ColumnSpec::required("carried", Kind::Text),
        ColumnSpec::required("shortfall", Kind::Text),
        ColumnSpec::required("closing", Kind::Text),
        ColumnSpec::optional("price_usd_per_token", Kind::Text),
        ColumnSpec::optional("price_from", Kind::Text),
        ColumnSpec::optional("price_source", Kind::Text),
    ],
};

/// The `vesting` table: one `created` row per vesting entry the epoch created, then one
/// `clawed_back` row per earlier entry it clawed back, each in entry order.
///
/// * `entry`: the entry's index among all entries of the programme (creation order);
/// * `earned_epoch`, `pool`, `class`/`contract`/`grant`, `provider`, `schedule`: the entry's;
/// * `terms`: the schedule itself as JSON, so the entry can be evaluated alone;
/// * `anchor`: when the schedule starts (the end of the earning epoch);
/// * `entry_amount`: what the entry allocated; `amount`: the same on a `created` row, the
///   unvested part taken back on a `clawed_back` row, whose `at` is the clawback instant.
pub static VESTING: TableSpec = TableSpec {
    name: "vesting",
    columns: &[
        ColumnSpec::required("epoch", Kind::Int),
        ColumnSpec::required("event", Kind::Text),
        ColumnSpec::required("entry", Kind::Int),
        ColumnSpec::required("earned_epoch", Kind::Int),
        ColumnSpec::required("pool", Kind::Text),
        ColumnSpec::optional("class", Kind::Text),
        ColumnSpec::optional("contract", Kind::Text),
        ColumnSpec::optional("grant", Kind::Text),
        ColumnSpec::required("provider", Kind::Text),
        ColumnSpec::required("schedule", Kind::Text),
        ColumnSpec::required("terms", Kind::Text),
        ColumnSpec::required("anchor", Kind::Text),
        ColumnSpec::required("entry_amount", Kind::Text),
        ColumnSpec::required("amount", Kind::Text),
        ColumnSpec::required("at", Kind::Text),
    ],
};

/// The settlement's pool ledgers as the [`LEDGER`] table.
pub fn ledger_frame(ledgers: &[PoolLedger]) -> DataFrame {
    let mut table = TableBuilder::new(&LEDGER);
    for l in ledgers {
        let price = l.price.as_ref();
        table.push([
            Cell::Int(Some(i64::from(l.epoch))),
            Cell::text(pool_name(l.pool)),
            Cell::digits(l.opening),
            Cell::digits(l.funded),
            Cell::digits(l.emitted),
            Cell::digits(l.allocated),
            Cell::digits(l.forfeited),
            Cell::digits(l.clawed_back),
            Cell::digits(l.returned),
            Cell::digits(l.carried),
            Cell::digits(l.shortfall),
            Cell::digits(l.closing),
            Cell::opt_text(price.map(|p| p.usd_per_token.to_string())),
            Cell::opt_text(price.map(|p| p.from_ms.to_string())),
            Cell::opt_text(price.map(|p| p.source.clone())),
        ]);
    }
    table.finish()
}

/// The settlement's vesting events as the [`VESTING`] table: the entries it created, then its
/// clawbacks, each under its entry's number.
pub fn vesting_frame(settlement: &EpochSettlement) -> DataFrame {
    let mut table = TableBuilder::new(&VESTING);
    let mut row = |event: &str, e: &VestingEntry, amount: Cell, at: Cell| {
        let [class, contract, grant] = bucket_cells(&e.bucket);
        table.push([
            Cell::Int(Some(i64::from(settlement.epoch))),
            Cell::text(event),
            Cell::Int(Some(i64::try_from(e.number).unwrap_or(i64::MAX))),
            Cell::Int(Some(i64::from(e.epoch))),
            Cell::text(pool_name(e.pool)),
            class,
            contract,
            grant,
            Cell::text(&e.provider),
            Cell::text(&e.schedule_id),
            // A schedule is plain data and always encodes.
            Cell::text(serde_json::to_string(&e.schedule).unwrap_or_default()),
            Cell::text(e.anchor_ms.to_string()),
            Cell::digits(e.amount),
            amount,
            at,
        ]);
    };
    for entry in &settlement.new_vesting {
        row(
            "created",
            entry,
            Cell::digits(entry.amount),
            Cell::text(entry.anchor_ms.to_string()),
        );
    }
    let mut clawbacks: Vec<_> = settlement.clawbacks.iter().collect();
    clawbacks.sort_by_key(|c| c.entry.number);
    for clawback in clawbacks {
        row(
            "clawed_back",
            &clawback.entry,
            Cell::digits(clawback.record.amount),
            Cell::text(clawback.record.at_ms.to_string()),
        );
    }
    table.finish()
}
