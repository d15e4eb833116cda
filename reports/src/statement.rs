//! A provider's statement (`akash-incentives statement`) as a published table: one `epoch` row
//! per epoch and bucket of [`settlement::statement::Statement`], then one `total` row.
//!
//! Amounts are base units of the payout denom. `claimable` is never negative: on the `total`
//! row, what was paid beyond everything vested is `overpaid` (empty on every other row, since
//! payments are applied to rows first in, first out and never exceed a row's vested amount).
//! `online_gpu_hours` and `leased_gpu_hours` are the provider's GPU time over the whole epoch
//! (every class), rounded half up to three decimals; `uptime_ppm` is its uptime in millionths.

use polars::prelude::DataFrame;
use settlement::statement::{Statement, StatementRow};

use crate::fixed::gpu_hours;
use crate::table::{Cell, ColumnSpec, Kind, TableBuilder, TableSpec};

/// The statement table.
pub static STATEMENT: TableSpec = TableSpec {
    name: "statement",
    columns: &[
        ColumnSpec::required("provider", Kind::Text),
        ColumnSpec::required("row", Kind::Text),
        ColumnSpec::optional("epoch", Kind::Int),
        ColumnSpec::optional("pool", Kind::Text),
        ColumnSpec::optional("class", Kind::Text),
        ColumnSpec::optional("contract", Kind::Text),
        ColumnSpec::optional("grant", Kind::Text),
        ColumnSpec::optional("reasons", Kind::Text),
        ColumnSpec::optional("uptime_ppm", Kind::Int),
        ColumnSpec::optional("online_gpu_hours", Kind::Text),
        ColumnSpec::optional("leased_gpu_hours", Kind::Text),
        ColumnSpec::required("earned", Kind::Text),
        ColumnSpec::required("vested", Kind::Text),
        ColumnSpec::required("unvested", Kind::Text),
        ColumnSpec::required("clawed_back", Kind::Text),
        ColumnSpec::required("paid", Kind::Text),
        ColumnSpec::required("claimable", Kind::Text),
        ColumnSpec::optional("overpaid", Kind::Text),
        ColumnSpec::required("denom", Kind::Text),
        ColumnSpec::optional("tx_hashes", Kind::Text),
    ],
};

/// `statement` as the [`STATEMENT`] table, amounts in `denom`.
pub fn statement_frame(statement: &Statement, denom: &str) -> DataFrame {
    let mut table = TableBuilder::new(&STATEMENT);
    let joined = |items: &[String]| Cell::opt_text(Some(items.join(";")));
    for row in &statement.rows {
        let key = &row.key;
        let bucket = |kind: &str| {
            Cell::opt_text(
                key.bucket
                    .clone()
                    .filter(|_| key.bucket_kind.as_deref() == Some(kind)),
            )
        };
        let measured = row.activity.uptime_ppm.is_some();
        table.push([
            Cell::text(&statement.provider),
            Cell::text("epoch"),
            Cell::Int(Some(i64::from(key.epoch))),
            Cell::opt_text(key.pool.clone()),
            bucket("class"),
            bucket("contract"),
            bucket("grant"),
            joined(&row.reasons),
            Cell::Int(row.activity.uptime_ppm.map(i64::from)),
            Cell::opt_text(measured.then(|| gpu_hours(row.activity.online_gpu_ms))),
            Cell::opt_text(measured.then(|| gpu_hours(row.activity.leased_gpu_ms))),
            Cell::digits(row.earned),
            Cell::digits(row.vested),
            Cell::digits(row.unvested),
            Cell::digits(row.clawed_back),
            Cell::digits(row.paid),
            Cell::digits(row.claimable),
            Cell::Text(None),
            Cell::text(denom),
            joined(&row.tx_hashes),
        ]);
    }
    let total =
        |column: fn(&StatementRow) -> domain::BaseUnits| Cell::digits(statement.total(column));
    let paid_in_total: u128 = statement.payments.iter().map(|p| p.amount.0).sum();
    let hashes: Vec<String> = statement
        .payments
        .iter()
        .map(|p| p.tx_hash.clone())
        .collect();
    table.push([
        Cell::text(&statement.provider),
        Cell::text("total"),
        Cell::Int(None),
        Cell::Text(None),
        Cell::Text(None),
        Cell::Text(None),
        Cell::Text(None),
        Cell::Text(None),
        Cell::Int(None),
        Cell::Text(None),
        Cell::Text(None),
        total(|r| r.earned),
        total(|r| r.vested),
        total(|r| r.unvested),
        total(|r| r.clawed_back),
        Cell::digits(paid_in_total),
        total(|r| r.claimable),
        Cell::digits(statement.overpaid),
        Cell::text(denom),
        joined(&hashes),
    ]);
    table.finish()
}
