//! Writes to the chain tables, one function per kind of change the indexer makes.
//!
//! The indexer decides what a block means; these functions decide how that lands in the tables,
//! so the conflict handling and the "only while still open" filters live next to the schema they
//! protect. Every insert tolerates a row that already exists (a chain that repeats itself, or an
//! index started mid-chain), so the indexer is never wedged on a constraint error. Statements with
//! `ON CONFLICT` go through [`crate::on_backend!`]: the multi-backend connection cannot express
//! them, both engines can.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::schema::{blocks, indexer_rejections, transfers};
use crate::{AnyConnection, StoreError};
use domain::{BaseUnits, Height};

mod deployments;
mod leases;
mod providers;

pub use deployments::{
    close_deployment, create_deployment, end_group, start_group, GroupEnding, GroupResourceWrite,
    GroupWrite,
};
pub use leases::{
    close_deployment_leases, close_group_leases, close_lease, insert_bid, insert_lease, BidWrite,
    LeaseWrite,
};
pub use providers::{
    delete_provider, provider_acted, set_provider_attributes, write_provider, ProviderEvent,
    ProviderWrite,
};

/// A block's own row: the header facts and its transaction counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockWrite<'a> {
    /// Block height.
    pub height: Height,
    /// Block time exactly as the header spells it.
    pub time: &'a str,
    /// The same time in unix milliseconds.
    pub time_ms: i64,
    /// Block hash.
    pub hash: &'a str,
    /// Transactions in the block.
    pub tx_count: i32,
    /// Transactions that failed.
    pub failed_tx_count: i32,
}

/// Where in the chain a lease was created or closed: the height and that block's time, which
/// lease rows carry so exports and settlement need no join with `blocks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockStamp<'a> {
    /// Block height.
    pub height: Height,
    /// Block time as the header spells it.
    pub time: &'a str,
    /// The same time in unix milliseconds.
    pub time_ms: i64,
}

/// Inserts the block's row unless it is stored already. Returns whether it was new: a block that
/// is already there was applied before, and the caller must write nothing else for it.
pub fn insert_block(conn: &mut AnyConnection, block: &BlockWrite<'_>) -> Result<bool, StoreError> {
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(blocks::table)
        .values((
            blocks::height.eq(block.height),
            blocks::time.eq(block.time),
            blocks::time_ms.eq(block.time_ms),
            blocks::hash.eq(block.hash),
            blocks::tx_count.eq(block.tx_count),
            blocks::failed_tx_count.eq(block.failed_tx_count),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted > 0)
}

/// One coin movement touching a watched wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferWrite<'a> {
    /// Block height.
    pub height: Height,
    /// Transaction index in the block.
    pub tx_index: i32,
    /// Message index in the transaction.
    pub msg_index: i32,
    /// Coin movement inside the message.
    pub leg: i32,
    /// Transaction hash.
    pub tx_hash: &'a str,
    /// Sender (empty: several).
    pub sender: &'a str,
    /// Recipient (empty: several).
    pub recipient: &'a str,
    /// Denom.
    pub denom: &'a str,
    /// Amount in base units.
    pub amount: BaseUnits,
}

/// Inserts a block's transfers in one statement; a transfer already stored is kept as it is.
pub fn insert_transfers(
    conn: &mut AnyConnection,
    rows: &[TransferWrite<'_>],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<_> = rows
        .iter()
        .map(|t| {
            (
                transfers::height.eq(t.height),
                transfers::tx_index.eq(t.tx_index),
                transfers::msg_index.eq(t.msg_index),
                transfers::leg.eq(t.leg),
                transfers::tx_hash.eq(t.tx_hash),
                transfers::sender.eq(t.sender),
                transfers::recipient.eq(t.recipient),
                transfers::denom.eq(t.denom),
                transfers::amount.eq(t.amount),
            )
        })
        .collect();
    crate::on_backend!(conn, |c| diesel::insert_into(transfers::table)
        .values(&values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Something the indexer could not use, as it is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RejectionWrite<'a> {
    /// Transaction index (-1 for the block itself or its events).
    pub tx_index: i32,
    /// Transaction hash, when it is one.
    pub tx_hash: Option<&'a str>,
    /// The stable reason code.
    pub reason: &'a str,
    /// The message type URL concerned.
    pub type_url: Option<&'a str>,
    /// Human-readable detail.
    pub detail: &'a str,
}

/// Inserts a block's rejections, numbering them per transaction in the order given (the `seq`
/// of the table's key). Returns how many were given.
pub fn insert_rejections(
    conn: &mut AnyConnection,
    height: Height,
    rejections: &[RejectionWrite<'_>],
) -> Result<usize, StoreError> {
    if rejections.is_empty() {
        return Ok(0);
    }
    let mut next_seq: HashMap<i32, i32> = HashMap::new();
    let values: Vec<_> = rejections
        .iter()
        .map(|r| {
            let seq = next_seq.entry(r.tx_index).or_default();
            let row = (
                indexer_rejections::height.eq(height),
                indexer_rejections::tx_index.eq(r.tx_index),
                indexer_rejections::seq.eq(*seq),
                indexer_rejections::tx_hash.eq(r.tx_hash),
                indexer_rejections::reason.eq(r.reason),
                indexer_rejections::type_url.eq(r.type_url),
                indexer_rejections::detail.eq(r.detail),
            );
            *seq += 1;
            row
        })
        .collect();
    crate::on_backend!(conn, |c| diesel::insert_into(indexer_rejections::table)
        .values(&values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(values.len())
}
