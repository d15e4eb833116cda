//! Per-provider positions: what each provider earned, what has vested, what was clawed back,
//! what the programme's wallets already paid it, and what it can still claim. They are
//! published as CSV by `reports::positions`, where every published format lives.

use std::collections::BTreeMap;

use domain::{BaseUnits, UnixMs};
use rewards::programme::Programme;
use rewards::vesting::{positions as vesting_positions, Position, PositionError, VestingEntry};
use store::settlement::{payouts, vesting_entries as entry_rows};
use store::AnyConnection;

use crate::rows::entry_from_row;
use crate::SettlementError;

/// Every sealed vesting entry of programme `name`, in creation order: what payouts, positions
/// and reconciliation measure "vested" from, read through the one row conversion settlement
/// itself uses.
pub fn vesting_entries(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Vec<VestingEntry>, SettlementError> {
    entry_rows(conn, name)?
        .iter()
        .map(entry_from_row)
        .collect::<Result<Vec<VestingEntry>, _>>()
}

/// Every provider's [`Position`] at `at_ms`, from the sealed vesting entries of programme
/// `name` ([`rewards::vesting::positions`]), with `paid` the sum of the transfers in the
/// payout denom from any of `watched_wallets` to the provider, in blocks up to `at_ms`.
///
/// Transfers between two watched wallets are not payouts. A recipient that earned nothing still
/// appears, with its payments as `overpaid`, so an unexpected payout is visible; so do transfers
/// whose recipient the indexer could not name (a multi-recipient send), under the empty address.
pub fn positions(
    conn: &mut AnyConnection,
    name: &str,
    programme: &Programme,
    watched_wallets: &[String],
    at_ms: i64,
) -> Result<BTreeMap<String, Position>, SettlementError> {
    let entries = vesting_entries(conn, name)?;
    let mut paid: BTreeMap<String, BaseUnits> = BTreeMap::new();
    for payout in payouts(conn, watched_wallets, &programme.denom.name, at_ms)? {
        let sum = paid.entry(payout.recipient.clone()).or_default();
        *sum = sum
            .checked_add(payout.amount)
            .ok_or(PositionError::Overflow {
                provider: payout.recipient,
            })?;
    }
    Ok(vesting_positions(&entries, UnixMs(at_ms), &paid)?)
}
