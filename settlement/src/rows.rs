//! The rewards engine's outputs as store rows, and the rows back as engine values.
//!
//! Pool and reason codes are the engine's own serde names (`liquidity_mining`, `PAID`), so the
//! database, the JSON state and any report spell them identically.

use domain::{BaseUnits, ClassName, UnixMs};
use rewards::ledger::{Basis, Bucket, EntryRef, LineItem, PoolLedger, Reason};
use rewards::money::PriceUse;
use rewards::programme::PoolKind;
use rewards::vesting::{ClawbackRecord, VestingEntry};
use rewards::EpochSettlement;
use serde::de::DeserializeOwned;
use serde::Serialize;
use store::settlement::{AllocationRow, PoolLedgerRow, VestingEntryRow};

use crate::SettlementError;

/// The serde name of a unit enum variant (`PoolKind::LiquidityMining` → `liquidity_mining`).
pub(crate) fn code<T: Serialize>(value: &T) -> Result<String, SettlementError> {
    match serde_json::to_value(value)? {
        serde_json::Value::String(name) => Ok(name),
        other => Err(SettlementError::corrupt(
            "code",
            format!("{other} is not a name"),
        )),
    }
}

/// A pool's name as stored and reported (`committed`, `liquidity_mining`, `rnd`): the engine's
/// serde name, so every output spells it the same way.
pub fn pool_name(pool: PoolKind) -> String {
    code(&pool).unwrap_or_else(|_| format!("{pool:?}"))
}

/// The unit enum variant whose serde name is `name`.
pub(crate) fn from_code<T: DeserializeOwned>(what: &str, name: &str) -> Result<T, SettlementError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| SettlementError::corrupt(what, e))
}

/// A count or index as the `INTEGER` the tables use.
pub(crate) fn int(value: impl TryInto<i32>, what: &str) -> Result<i32, SettlementError> {
    value
        .try_into()
        .map_err(|_| SettlementError::corrupt(what, "does not fit in a 32-bit INTEGER column"))
}

fn bucket_parts(bucket: &Bucket) -> (&'static str, &str) {
    match bucket {
        Bucket::Class(name) => ("class", name.as_str()),
        Bucket::Contract(id) => ("contract", id),
        Bucket::Grant(id) => ("grant", id),
        // The row's pool column already names the pool; a pool-level line has no other name.
        Bucket::Pool => ("pool", ""),
    }
}

fn bucket_from(kind: &str, name: &str) -> Result<Bucket, SettlementError> {
    let name = name.to_owned();
    match kind {
        "class" => ClassName::new(name)
            .map(Bucket::Class)
            .map_err(|e| SettlementError::corrupt("bucket", e)),
        "contract" => Ok(Bucket::Contract(name)),
        "grant" => Ok(Bucket::Grant(name)),
        "pool" if name.is_empty() => Ok(Bucket::Pool),
        other => Err(SettlementError::corrupt(
            "bucket kind",
            format!("{other:?} (named {name:?}) is not class, contract, grant or pool"),
        )),
    }
}

fn basis_parts(basis: &Basis) -> (&'static str, u128) {
    match *basis {
        Basis::Weight(w) => ("weight", w),
        Basis::DeliveredGpuMs(ms) => ("delivered_gpu_ms", ms),
        Basis::Amount(a) => ("amount", a.get()),
    }
}

fn price_parts(price: Option<&PriceUse>) -> (Option<String>, Option<i64>, Option<String>) {
    match price {
        Some(p) => (
            Some(p.usd_per_token.to_string()),
            Some(p.from_ms.0),
            Some(p.source.clone()),
        ),
        None => (None, None, None),
    }
}

/// Every line item of the settlement, numbered in the engine's order.
pub(crate) fn allocation_rows(
    programme: &str,
    settlement: &EpochSettlement,
) -> Result<Vec<AllocationRow>, SettlementError> {
    let epoch = int(settlement.epoch, "epoch")?;
    settlement
        .line_items
        .iter()
        .enumerate()
        .map(|(line, item)| {
            let (bucket_kind, bucket) = bucket_parts(&item.bucket);
            let (basis_kind, basis) = basis_parts(&item.basis);
            let (price_usd_per_token, price_from_ms, price_source) =
                price_parts(item.price.as_ref());
            let (clawback_of_epoch, clawback_of_entry) = match item.clawback_of {
                Some(of) => (
                    Some(int(of.epoch, "epoch")?),
                    Some(int(of.entry, "vesting entry number")?),
                ),
                None => (None, None),
            };
            Ok(AllocationRow {
                programme: programme.to_owned(),
                epoch,
                line: int(line, "line number")?,
                pool: code(&item.pool)?,
                bucket_kind: bucket_kind.to_owned(),
                bucket: bucket.to_owned(),
                provider: item.provider.clone(),
                basis_kind: basis_kind.to_owned(),
                basis: BaseUnits(basis),
                amount: item.amount,
                reason: item.reason.code().to_owned(),
                vesting: item.vesting.clone(),
                price_usd_per_token,
                price_from_ms,
                price_source,
                clawback_of_epoch,
                clawback_of_entry,
            })
        })
        .collect()
}

/// Every pool ledger of the settlement.
pub(crate) fn ledger_rows(
    programme: &str,
    settlement: &EpochSettlement,
) -> Result<Vec<PoolLedgerRow>, SettlementError> {
    let epoch = int(settlement.epoch, "epoch")?;
    settlement
        .ledgers
        .iter()
        .map(|ledger: &PoolLedger| {
            let (price_usd_per_token, price_from_ms, price_source) =
                price_parts(ledger.price.as_ref());
            Ok(PoolLedgerRow {
                programme: programme.to_owned(),
                epoch,
                pool: code(&ledger.pool)?,
                opening: ledger.opening,
                funded: ledger.funded,
                emitted: ledger.emitted,
                allocated: ledger.allocated,
                forfeited: ledger.forfeited,
                clawed_back: ledger.clawed_back,
                returned: ledger.returned,
                carried: ledger.carried,
                shortfall: ledger.shortfall,
                closing: ledger.closing,
                price_usd_per_token,
                price_from_ms,
                price_source,
            })
        })
        .collect()
}

/// Whether `line` is the allocation that created `entry` (the engine creates one entry per
/// positive `PAID` or `CAPPED` line with a provider and a schedule).
fn created(line: &LineItem, entry: &VestingEntry) -> bool {
    matches!(line.reason, Reason::Paid | Reason::Capped)
        && line.pool == entry.pool
        && line.bucket == entry.bucket
        && line.provider.as_deref() == Some(entry.provider.as_str())
        && line.amount == entry.amount
        && line.vesting.as_deref() == Some(entry.schedule_id.as_str())
}

/// The settlement's new vesting entries as rows under their numbers, each pointing at the line
/// that created it. Lines are paired with entries in order, each line at most once.
pub(crate) fn vesting_rows(
    programme: &str,
    settlement: &EpochSettlement,
) -> Result<Vec<VestingEntryRow>, SettlementError> {
    let mut used = vec![false; settlement.line_items.len()];
    let mut rows = Vec::with_capacity(settlement.new_vesting.len());
    for entry in &settlement.new_vesting {
        let line = settlement
            .line_items
            .iter()
            .zip(&used)
            .position(|(line, used)| !used && created(line, entry))
            .ok_or_else(|| SettlementError::Inconsistent {
                epoch: settlement.epoch,
                problem: format!(
                    "no allocation line for the vesting entry of {} in {:?}",
                    entry.provider, entry.bucket
                ),
            })?;
        if let Some(flag) = used.get_mut(line) {
            *flag = true;
        }
        let (bucket_kind, bucket) = bucket_parts(&entry.bucket);
        rows.push(VestingEntryRow {
            programme: programme.to_owned(),
            entry: int(entry.number, "vesting entry number")?,
            epoch: int(entry.epoch, "epoch")?,
            line: int(line, "line number")?,
            pool: code(&entry.pool)?,
            bucket_kind: bucket_kind.to_owned(),
            bucket: bucket.to_owned(),
            provider: entry.provider.clone(),
            schedule_id: entry.schedule_id.clone(),
            schedule: serde_json::to_string(&entry.schedule)?,
            anchor_ms: entry.anchor_ms.0,
            amount: entry.amount,
            clawback_epoch: None,
            clawback_at_ms: None,
            clawed_back: None,
        });
    }
    Ok(rows)
}

/// A stored vesting entry as the engine's [`VestingEntry`].
pub(crate) fn entry_from_row(row: &VestingEntryRow) -> Result<VestingEntry, SettlementError> {
    let what = format!(
        "vesting entry {} of programme {:?}",
        row.entry, row.programme
    );
    let epoch = |value: i32| u32::try_from(value).map_err(|e| SettlementError::corrupt(&what, e));
    let clawback = match (row.clawback_epoch, row.clawback_at_ms, row.clawed_back) {
        (None, None, None) => None,
        (Some(clawback_epoch), Some(at_ms), Some(amount)) => Some(ClawbackRecord {
            epoch: epoch(clawback_epoch)?,
            at_ms: UnixMs(at_ms),
            amount,
        }),
        _ => {
            return Err(SettlementError::corrupt(
                &what,
                "clawback columns partly set",
            ))
        }
    };
    Ok(VestingEntry {
        number: usize::try_from(row.entry).map_err(|e| SettlementError::corrupt(&what, e))?,
        epoch: epoch(row.epoch)?,
        pool: from_code::<PoolKind>(&what, &row.pool)?,
        bucket: bucket_from(&row.bucket_kind, &row.bucket)?,
        provider: row.provider.clone(),
        schedule_id: row.schedule_id.clone(),
        schedule: serde_json::from_str(&row.schedule)
            .map_err(|e| SettlementError::corrupt(&what, e))?,
        anchor_ms: UnixMs(row.anchor_ms),
        amount: row.amount,
        clawback,
    })
}

fn basis_from(kind: &str, value: BaseUnits) -> Result<Basis, SettlementError> {
    match kind {
        "weight" => Ok(Basis::Weight(value.get())),
        "delivered_gpu_ms" => Ok(Basis::DeliveredGpuMs(value.get())),
        "amount" => Ok(Basis::Amount(value)),
        other => Err(SettlementError::corrupt(
            "basis kind",
            format!("{other:?} is not weight, delivered_gpu_ms or amount"),
        )),
    }
}

/// The price columns of a row (`price_usd_per_token`, `price_from_ms`, `price_source`).
type PriceColumns<'a> = (&'a Option<String>, Option<i64>, &'a Option<String>);

fn price_from(what: &str, columns: PriceColumns) -> Result<Option<PriceUse>, SettlementError> {
    match columns {
        (None, None, None) => Ok(None),
        (Some(usd), Some(from_ms), Some(source)) => Ok(Some(PriceUse {
            usd_per_token: usd
                .parse()
                .map_err(|e| SettlementError::corrupt(what, format!("price {usd:?}: {e}")))?,
            from_ms: UnixMs(from_ms),
            source: source.clone(),
        })),
        _ => Err(SettlementError::corrupt(what, "price columns partly set")),
    }
}

/// A stored allocation line as the engine's [`LineItem`].
pub(crate) fn line_from_row(row: &AllocationRow) -> Result<LineItem, SettlementError> {
    let what = format!("line {} of epoch {}", row.line, row.epoch);
    let price = (
        &row.price_usd_per_token,
        row.price_from_ms,
        &row.price_source,
    );
    let clawback_of = match (row.clawback_of_epoch, row.clawback_of_entry) {
        (None, None) => None,
        (Some(epoch), Some(entry)) => Some(EntryRef {
            epoch: u32::try_from(epoch).map_err(|e| SettlementError::corrupt(&what, e))?,
            entry: usize::try_from(entry).map_err(|e| SettlementError::corrupt(&what, e))?,
        }),
        _ => {
            return Err(SettlementError::corrupt(
                &what,
                "clawback columns partly set",
            ))
        }
    };
    Ok(LineItem {
        epoch: u32::try_from(row.epoch).map_err(|e| SettlementError::corrupt(&what, e))?,
        pool: from_code(&what, &row.pool)?,
        bucket: bucket_from(&row.bucket_kind, &row.bucket)?,
        provider: row.provider.clone(),
        basis: basis_from(&row.basis_kind, row.basis)?,
        amount: row.amount,
        reason: from_code::<Reason>(&what, &row.reason)?,
        vesting: row.vesting.clone(),
        price: price_from(&what, price)?,
        clawback_of,
    })
}

/// A stored pool ledger as the engine's [`PoolLedger`].
pub(crate) fn ledger_from_row(row: &PoolLedgerRow) -> Result<PoolLedger, SettlementError> {
    let what = format!("ledger of epoch {} pool {:?}", row.epoch, row.pool);
    let price = (
        &row.price_usd_per_token,
        row.price_from_ms,
        &row.price_source,
    );
    Ok(PoolLedger {
        epoch: u32::try_from(row.epoch).map_err(|e| SettlementError::corrupt(&what, e))?,
        pool: from_code(&what, &row.pool)?,
        opening: row.opening,
        funded: row.funded,
        emitted: row.emitted,
        allocated: row.allocated,
        forfeited: row.forfeited,
        clawed_back: row.clawed_back,
        returned: row.returned,
        carried: row.carried,
        shortfall: row.shortfall,
        closing: row.closing,
        price: price_from(&what, price)?,
    })
}
