//! An epoch's line items as CSV (`rewards compute`): every amount the engine allocated,
//! forfeited, carried or returned, with the reason and the quantity it was derived from.
//!
//! The columns are a public interface, like the exports': people compare the output of their
//! own policies with ours, and a later `verify` compares it with what we published. Rows come in
//! the engine's order (pool, bucket, provider), so the same settlement always gives the same
//! bytes. An empty field means "not applicable".

use std::io::Write;

use polars::prelude::DataFrame;
use rewards::ledger::{Basis, Bucket, LineItem};

use crate::merkle::pool_name;
use crate::table::{self, Cell, ColumnSpec, Kind, TableBuilder, TableError, TableSpec};

/// The line-item table (`allocations.csv` / `.parquet`, and `rewards compute`'s output).
///
/// * `pool`: `committed`, `liquidity_mining` or `rnd`;
/// * `class`, `contract`, `grant`: the line's bucket; at most one is set, none on a pool-level
///   line (`PROGRAMME_END`);
/// * `provider`: empty on class- and pool-level lines;
/// * `weight`: the basis the amount was derived from: the pro-rata weight
///   `α·online_gpu_ms + β·leased_gpu_ms` in thousandths of a GPU-ms (on a class-level line, the
///   class's total eligible weight), a committed contract's delivered GPU-ms, or for grants,
///   clawbacks and the programme-end line the amount it refers to;
/// * `amount`: base units of `denom`, the programme's payout denom;
/// * `reason`: the engine's reason code (`PAID`, `CAPPED`, …, see [`rewards::ledger::Reason`]);
/// * `vesting`: the schedule id, where the line has one.
pub static ALLOCATIONS: TableSpec = TableSpec {
    name: "allocations",
    columns: &[
        ColumnSpec::required("epoch", Kind::Int),
        ColumnSpec::required("pool", Kind::Text),
        ColumnSpec::optional("class", Kind::Text),
        ColumnSpec::optional("contract", Kind::Text),
        ColumnSpec::optional("grant", Kind::Text),
        ColumnSpec::optional("provider", Kind::Text),
        ColumnSpec::required("weight", Kind::Text),
        ColumnSpec::required("amount", Kind::Text),
        ColumnSpec::required("denom", Kind::Text),
        ColumnSpec::required("reason", Kind::Text),
        ColumnSpec::optional("vesting", Kind::Text),
    ],
};

/// `lines` as the [`ALLOCATIONS`] table, one row per line item in the order given (the
/// engine's), amounts in base units of `denom`.
pub fn allocations_frame(lines: &[LineItem], denom: &str) -> DataFrame {
    let mut table = TableBuilder::new(&ALLOCATIONS);
    for line in lines {
        let [class, contract, grant] = bucket_cells(&line.bucket);
        let weight = match line.basis {
            Basis::Weight(w) | Basis::DeliveredGpuMs(w) => w,
            Basis::Amount(amount) => amount.get(),
        };
        table.push([
            Cell::Int(Some(i64::from(line.epoch))),
            Cell::text(pool_name(line.pool)),
            class,
            contract,
            grant,
            Cell::opt_text(line.provider.as_deref()),
            Cell::digits(weight),
            Cell::digits(line.amount),
            Cell::text(denom),
            Cell::text(line.reason.code()),
            Cell::opt_text(line.vesting.as_deref()),
        ]);
    }
    table.finish()
}

/// A bucket as the `class`, `contract` and `grant` cells, at most one of them set (none for a
/// pool-level line).
pub fn bucket_cells(bucket: &Bucket) -> [Cell; 3] {
    let (class, contract, grant) = match bucket {
        Bucket::Class(name) => (Some(name.as_str()), None, None),
        Bucket::Contract(id) => (None, Some(id.as_str()), None),
        Bucket::Grant(id) => (None, None, Some(id.as_str())),
        Bucket::Pool => (None, None, None),
    };
    [
        Cell::opt_text(class),
        Cell::opt_text(contract),
        Cell::opt_text(grant),
    ]
}

/// Writes `lines` as the CSV form of the [`ALLOCATIONS`] table to `out`.
///
/// # Errors
/// When writing to `out` fails.
pub fn write_allocations(
    mut out: impl Write,
    lines: &[LineItem],
    denom: &str,
) -> Result<(), TableError> {
    let mut frame = allocations_frame(lines, denom);
    let written = table::write_csv(&ALLOCATIONS, &mut frame)?;
    out.write_all(&written)
        .and_then(|()| out.flush())
        .map_err(|e| TableError::io(&ALLOCATIONS.csv_file(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{BaseUnits, ClassName};
    use rewards::ledger::Reason;
    use rewards::programme::PoolKind;

    fn line(bucket: Bucket, provider: Option<&str>, basis: Basis, reason: Reason) -> LineItem {
        LineItem {
            epoch: 3,
            pool: PoolKind::LiquidityMining,
            bucket,
            provider: provider.map(str::to_owned),
            basis,
            amount: BaseUnits(42),
            reason,
            vesting: provider.map(|_| "immediate".to_owned()),
            price: None,
            clawback_of: None,
        }
    }

    #[test]
    fn one_row_per_line_with_the_bucket_in_its_column() {
        let lines = [
            line(
                Bucket::Class(ClassName::new("h100").unwrap()),
                Some("akash1a"),
                Basis::Weight(7),
                Reason::Paid,
            ),
            line(
                Bucket::Contract("c1".into()),
                None,
                Basis::DeliveredGpuMs(9),
                Reason::SlaBreach,
            ),
            line(
                Bucket::Grant("g1".into()),
                Some("akash1b"),
                Basis::Amount(BaseUnits(5)),
                Reason::Paid,
            ),
            line(
                Bucket::Pool,
                None,
                Basis::Amount(BaseUnits(42)),
                Reason::ProgrammeEnd,
            ),
        ];
        let mut out = Vec::new();
        write_allocations(&mut out, &lines, "uakt").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "epoch,pool,class,contract,grant,provider,weight,amount,denom,reason,vesting\n\
             3,liquidity_mining,h100,,,akash1a,7,42,uakt,PAID,immediate\n\
             3,liquidity_mining,,c1,,,9,42,uakt,SLA_BREACH,\n\
             3,liquidity_mining,,,g1,akash1b,5,42,uakt,PAID,immediate\n\
             3,liquidity_mining,,,,,42,42,uakt,PROGRAMME_END,\n"
        );
    }
}
