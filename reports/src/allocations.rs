//! An epoch's line items as CSV (`rewards compute`): every amount the engine allocated,
//! forfeited, carried or returned, with the reason and the quantity it was derived from.
//!
//! The columns are a public interface, like the exports': people compare the output of their
//! own policies with ours, and a later `verify` compares it with what we published. Rows come in
//! the engine's order (pool, bucket, provider), so the same settlement always gives the same
//! bytes. An empty field means "not applicable".

use std::io::Write;

use rewards::ledger::{Basis, Bucket, LineItem};

use crate::merkle::pool_name;

/// The columns of an epoch's line items, in order.
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
pub const ALLOCATION_COLUMNS: [&str; 11] = [
    "epoch", "pool", "class", "contract", "grant", "provider", "weight", "amount", "denom",
    "reason", "vesting",
];

/// Writes `lines` as CSV to `out`: the [`ALLOCATION_COLUMNS`] header, then one row per line
/// item in the order given (the engine's), amounts in base units of `denom`.
///
/// # Errors
/// When writing to `out` fails.
pub fn write_allocations(
    out: impl Write,
    lines: &[LineItem],
    denom: &str,
) -> Result<(), csv::Error> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(ALLOCATION_COLUMNS)?;
    for line in lines {
        let (class, contract, grant) = match &line.bucket {
            Bucket::Class(name) => (name.as_str(), "", ""),
            Bucket::Contract(id) => ("", id.as_str(), ""),
            Bucket::Grant(id) => ("", "", id.as_str()),
            Bucket::Pool => ("", "", ""),
        };
        let weight = match line.basis {
            Basis::Weight(w) | Basis::DeliveredGpuMs(w) => w,
            Basis::Amount(amount) => amount.get(),
        };
        csv.write_record([
            line.epoch.to_string().as_str(),
            pool_name(line.pool),
            class,
            contract,
            grant,
            line.provider.as_deref().unwrap_or_default(),
            &weight.to_string(),
            &line.amount.to_string(),
            denom,
            line.reason.code(),
            line.vesting.as_deref().unwrap_or_default(),
        ])?;
    }
    csv.flush()?;
    Ok(())
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
