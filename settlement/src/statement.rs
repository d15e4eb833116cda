//! One provider's statement: for every sealed epoch and every pool bucket it earned in, what
//! was earned and why (the reason codes of its line items), what has vested, what is still
//! unvested, what was clawed back, what the programme's wallets paid against it (with the
//! transactions) and what it can still claim; with its measured uptime and GPU time per epoch.
//! It answers the question the administrator hears most: "why was my payment what it was?".
//!
//! The amounts are those of [`crate::positions`], split by the entry that earned them, so a
//! statement's totals always equal the provider's position at the same instant.
//!
//! **How payments are matched to rows.** A transfer pays no particular epoch on chain, so the
//! statement applies payments in chain order to the vested amounts in row order (oldest epoch
//! first, then pool and bucket): first in, first out. A row's `paid` is what was applied to it
//! and `tx_hashes` names the transfers that contributed. What a provider was paid beyond
//! everything vested is never shown as a negative claimable: it is the statement's `overpaid`.

use std::collections::BTreeMap;

use domain::{BaseUnits, UnixMs};
use rewards::vesting::PositionError;
use store::settlement::{
    allocations, payouts, sealed_epoch, sealed_epoch_numbers, vesting_entries, Payout,
    ProgrammeBooks,
};
use store::AnyConnection;

use crate::measure::EpochMeasurements;
use crate::rows::entry_from_row;
use crate::SettlementError;

/// What a statement row is about: a pool bucket (`class`, `contract` or `grant` and its name),
/// or, when `pool` is `None`, an epoch in which the provider was measured but has no line item
/// (so its uptime still shows why nothing was earned).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowKey {
    /// Epoch index.
    pub epoch: u32,
    /// Pool name (`committed`, `liquidity_mining`, `rnd`), as stored.
    pub pool: Option<String>,
    /// Bucket kind (`class`, `contract`, `grant`, `pool`), as stored.
    pub bucket_kind: Option<String>,
    /// Class name, contract id or grant id; empty for a pool-level line.
    pub bucket: Option<String>,
}

/// What the provider was measured at in one epoch, from the epoch's sealed measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpochActivity {
    /// Uptime in parts per million of the epoch, `None` when the provider was not measured.
    pub uptime_ppm: Option<u32>,
    /// Online GPU time over every class, in GPU-ms.
    pub online_gpu_ms: u128,
    /// Leased GPU time over every class and of leases matching no class, in GPU-ms.
    pub leased_gpu_ms: u128,
}

/// One row of a statement. `earned = vested + unvested + clawed_back` and
/// `claimable = vested − paid ≥ 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRow {
    /// The epoch and bucket.
    pub key: RowKey,
    /// The distinct reason codes of the provider's line items for this bucket and epoch, in
    /// line order (a clawback appears in the epoch that made it).
    pub reasons: Vec<String>,
    /// The provider's measurements in the row's epoch.
    pub activity: EpochActivity,
    /// Allocated in this epoch and bucket.
    pub earned: BaseUnits,
    /// Of it, vested at the statement's instant.
    pub vested: BaseUnits,
    /// Not yet vested and not clawed back.
    pub unvested: BaseUnits,
    /// Taken back by clawbacks at or before the statement's instant.
    pub clawed_back: BaseUnits,
    /// Payments applied to this row (first in, first out; see the module docs).
    pub paid: BaseUnits,
    /// `vested − paid`.
    pub claimable: BaseUnits,
    /// The transactions whose money was applied to this row, in chain order.
    pub tx_hashes: Vec<String>,
}

/// A provider's statement at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The provider.
    pub provider: String,
    /// The instant it describes.
    pub at_ms: i64,
    /// One row per (epoch, bucket), ordered by [`RowKey`].
    pub rows: Vec<StatementRow>,
    /// Every payout to the provider up to the instant, in chain order.
    pub payments: Vec<Payout>,
    /// Σ payments − Σ vested when positive: paid beyond what has vested.
    pub overpaid: BaseUnits,
}

impl Statement {
    /// The sum of one amount column over the rows.
    pub fn total(&self, column: impl Fn(&StatementRow) -> BaseUnits) -> BaseUnits {
        BaseUnits(self.rows.iter().map(|r| column(r).0).sum())
    }
}

/// The statement of `provider` in programme `books.name` at `at_ms`: every sealed epoch that
/// ended by then, payments from the books' watched wallets in their denom up to then (see the
/// module docs). The books come from the configuration, or from the database, which records
/// them with every seal ([`store::settlement::programme_books`]). Reads only.
pub fn statement(
    conn: &mut AnyConnection,
    books: &ProgrammeBooks,
    provider: &str,
    at_ms: i64,
) -> Result<Statement, SettlementError> {
    let name = books.name.as_str();
    let overflow = || PositionError::Overflow {
        provider: provider.to_owned(),
    };
    let mut rows: BTreeMap<RowKey, StatementRow> = BTreeMap::new();
    let mut activity: BTreeMap<u32, EpochActivity> = BTreeMap::new();
    for number in sealed_epoch_numbers(conn, name)? {
        let Some(epoch_row) = sealed_epoch(conn, name, number)? else {
            continue;
        };
        if epoch_row.end_ms > at_ms {
            break;
        }
        let epoch = u32::try_from(number)
            .map_err(|e| SettlementError::corrupt(format!("epoch {number}"), e))?;
        let lines: Vec<_> = allocations(conn, name, number)?
            .into_iter()
            .filter(|l| l.provider.as_deref() == Some(provider))
            .collect();
        if let Some(measured) = epoch_activity(&epoch_row.inputs, epoch, provider)? {
            activity.insert(epoch, measured);
            if lines.is_empty() {
                rows.insert(
                    RowKey {
                        epoch,
                        pool: None,
                        bucket_kind: None,
                        bucket: None,
                    },
                    empty_row(epoch, None, None, None),
                );
            }
        }
        for line in lines {
            let row = rows
                .entry(RowKey {
                    epoch,
                    pool: Some(line.pool.clone()),
                    bucket_kind: Some(line.bucket_kind.clone()),
                    bucket: Some(line.bucket.clone()),
                })
                .or_insert_with(|| {
                    empty_row(
                        epoch,
                        Some(line.pool),
                        Some(line.bucket_kind),
                        Some(line.bucket),
                    )
                });
            if !row.reasons.contains(&line.reason) {
                row.reasons.push(line.reason);
            }
        }
    }
    let t = UnixMs(at_ms);
    for stored in vesting_entries(conn, name)?
        .iter()
        .filter(|e| e.provider == provider && e.anchor_ms <= at_ms)
    {
        let entry = entry_from_row(stored)?;
        let key = RowKey {
            epoch: entry.epoch,
            pool: Some(stored.pool.clone()),
            bucket_kind: Some(stored.bucket_kind.clone()),
            bucket: Some(stored.bucket.clone()),
        };
        let row = rows
            .entry(key.clone())
            .or_insert_with(|| empty_row(key.epoch, key.pool, key.bucket_kind, key.bucket));
        let totals = [
            &mut row.earned,
            &mut row.vested,
            &mut row.unvested,
            &mut row.clawed_back,
        ];
        entry.add_standing_to(t, totals).ok_or_else(overflow)?;
    }
    let mut rows: Vec<StatementRow> = rows.into_values().collect();
    for row in &mut rows {
        row.activity = activity.get(&row.key.epoch).copied().unwrap_or_default();
        row.claimable = row.vested;
    }
    let payments: Vec<Payout> = payouts(conn, &books.watched_wallets, &books.denom, at_ms)?
        .into_iter()
        .filter(|p| p.recipient == provider)
        .collect();
    let overpaid = apply_payments(&mut rows, &payments).ok_or_else(overflow)?;
    Ok(Statement {
        provider: provider.to_owned(),
        at_ms,
        rows,
        payments,
        overpaid,
    })
}

fn empty_row(
    epoch: u32,
    pool: Option<String>,
    bucket_kind: Option<String>,
    bucket: Option<String>,
) -> StatementRow {
    StatementRow {
        key: RowKey {
            epoch,
            pool,
            bucket_kind,
            bucket,
        },
        reasons: Vec::new(),
        activity: EpochActivity::default(),
        earned: BaseUnits::ZERO,
        vested: BaseUnits::ZERO,
        unvested: BaseUnits::ZERO,
        clawed_back: BaseUnits::ZERO,
        paid: BaseUnits::ZERO,
        claimable: BaseUnits::ZERO,
        tx_hashes: Vec::new(),
    }
}

/// The provider's [`EpochActivity`] in the sealed measurements `inputs` of `epoch`, or `None`
/// when it was not measured in that epoch.
fn epoch_activity(
    inputs: &Option<String>,
    epoch: u32,
    provider: &str,
) -> Result<Option<EpochActivity>, SettlementError> {
    let what = || format!("the sealed inputs of epoch {epoch}");
    let inputs = inputs
        .as_deref()
        .ok_or_else(|| SettlementError::corrupt(what(), "missing"))?;
    let measurements: EpochMeasurements =
        serde_json::from_str(inputs).map_err(|e| SettlementError::corrupt(what(), e))?;
    Ok(measurements.providers.get(provider).map(|m| EpochActivity {
        uptime_ppm: Some(m.uptime.ppm()),
        online_gpu_ms: m.classes.values().map(|c| c.online_gpu_ms).sum(),
        leased_gpu_ms: m
            .classes
            .values()
            .map(|c| c.leased_gpu_ms)
            .sum::<u128>()
            .saturating_add(m.unattributed_leased_gpu_ms),
    }))
}

/// Applies `payments` first in, first out to the rows' vested amounts (their `claimable`
/// on entry), and returns what is left over: the amount overpaid. `None` on overflow.
fn apply_payments(rows: &mut [StatementRow], payments: &[Payout]) -> Option<BaseUnits> {
    let mut overpaid = BaseUnits::ZERO;
    let mut next = 0;
    for payment in payments {
        let mut left = payment.amount;
        while left > BaseUnits::ZERO {
            let Some(row) = rows.get_mut(next) else {
                overpaid = overpaid.checked_add(left)?;
                break;
            };
            let applied = left.min(row.claimable);
            if applied > BaseUnits::ZERO {
                row.paid = row.paid.checked_add(applied)?;
                row.claimable = row.claimable.checked_sub(applied)?;
                left = left.checked_sub(applied)?;
                if !row.tx_hashes.contains(&payment.tx_hash) {
                    row.tx_hashes.push(payment.tx_hash.clone());
                }
            }
            if row.claimable == BaseUnits::ZERO {
                next += 1;
            }
        }
    }
    Some(overpaid)
}
