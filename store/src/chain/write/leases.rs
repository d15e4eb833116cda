//! Bids and the leases made from them: creation, and the closes that only touch open leases.

use diesel::prelude::*;

use super::BlockStamp;
use crate::schema::{bids, leases};
use crate::{AnyConnection, StoreError};
use domain::{ChainDecimal, DeploymentId, GroupId, Height, LeaseId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidWrite<'a> {
    /// The bid's id (the lease's, should it win).
    pub id: &'a LeaseId,
    /// Price denom.
    pub price_denom: &'a str,
    /// Price per block.
    pub price_amount: &'a ChainDecimal,
    /// The resources offer as JSON, in the indexer's encoding.
    pub resources_offer: &'a str,
    /// Height of the `MsgCreateBid`.
    pub created_height: Height,
}

/// Records a bid. The chain refuses a second bid under one id (closed bids stay in its store), so
/// an existing row is the same bid and is kept.
pub fn insert_bid(conn: &mut AnyConnection, bid: &BidWrite<'_>) -> Result<(), StoreError> {
    let id = bid.id;
    crate::on_backend!(conn, |c| diesel::insert_into(bids::table)
        .values((
            bids::owner.eq(&id.owner),
            bids::dseq.eq(id.dseq),
            bids::gseq.eq(id.gseq),
            bids::oseq.eq(id.oseq),
            bids::provider.eq(&id.provider),
            bids::bseq.eq(id.bseq),
            bids::price_denom.eq(bid.price_denom),
            bids::price_amount.eq(bid.price_amount),
            bids::resources_offer.eq(bid.resources_offer),
            bids::created_height.eq(bid.created_height),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// A new lease as it is recorded: what the indexer decided about its GPUs and price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseWrite<'a> {
    /// The lease.
    pub id: &'a LeaseId,
    /// GPUs held; `None` when the group is unknown.
    pub gpu_units: Option<i64>,
    /// GPU model, when the rules name exactly one.
    pub gpu_model: Option<&'a str>,
    /// GPU memory, when the deciding rule names one.
    pub gpu_ram: Option<&'a str>,
    /// Price denom.
    pub price_denom: &'a str,
    /// Price per block.
    pub price_amount: &'a ChainDecimal,
    /// The block of the `MsgCreateLease`.
    pub created: BlockStamp<'a>,
    /// Whether it was created through `MsgExec`.
    pub via_authz: bool,
}

/// Records a new, open lease; a lease already stored is kept as it is.
pub fn insert_lease(conn: &mut AnyConnection, lease: &LeaseWrite<'_>) -> Result<(), StoreError> {
    let id = lease.id;
    crate::on_backend!(conn, |c| diesel::insert_into(leases::table)
        .values((
            (
                leases::owner.eq(&id.owner),
                leases::dseq.eq(id.dseq),
                leases::gseq.eq(id.gseq),
                leases::oseq.eq(id.oseq),
                leases::provider.eq(&id.provider),
                leases::bseq.eq(id.bseq),
                leases::gpu_units.eq(lease.gpu_units),
                leases::gpu_model.eq(lease.gpu_model),
                leases::gpu_ram.eq(lease.gpu_ram),
            ),
            (
                leases::price_denom.eq(lease.price_denom),
                leases::price_amount.eq(lease.price_amount),
                leases::created_height.eq(lease.created.height),
                leases::created_time.eq(lease.created.time),
                leases::created_time_ms.eq(lease.created.time_ms),
                leases::via_authz.eq(i32::from(lease.via_authz)),
            ),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Closes one lease at `at` with its cause and the chain's reason, if it is still open: a lease
/// closed earlier keeps its close (and cause).
pub fn close_lease(
    conn: &mut AnyConnection,
    id: &LeaseId,
    at: BlockStamp<'_>,
    cause: Option<&str>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let key = (&id.owner, id.dseq, id.gseq, id.oseq, &id.provider, id.bseq);
    diesel::update(
        leases::table
            .find(key)
            .filter(leases::closed_height.is_null()),
    )
    .set((
        leases::closed_height.eq(Some(at.height)),
        leases::closed_time.eq(Some(at.time)),
        leases::closed_time_ms.eq(Some(at.time_ms)),
        leases::close_cause.eq(cause),
        leases::close_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(())
}

/// Closes every still-open lease of a deployment at `at`, with `cause` and no chain reason.
pub fn close_deployment_leases(
    conn: &mut AnyConnection,
    id: &DeploymentId,
    at: BlockStamp<'_>,
    cause: &str,
) -> Result<(), StoreError> {
    close_open_leases(conn, &id.owner, id.dseq, None, at, cause)
}

/// Closes every still-open lease of one group at `at`, with `cause` and no chain reason.
pub fn close_group_leases(
    conn: &mut AnyConnection,
    id: &GroupId,
    at: BlockStamp<'_>,
    cause: &str,
) -> Result<(), StoreError> {
    close_open_leases(conn, &id.owner, id.dseq, Some(id.gseq), at, cause)
}

fn close_open_leases(
    conn: &mut AnyConnection,
    owner: &str,
    dseq: i64,
    gseq: Option<i32>,
    at: BlockStamp<'_>,
    cause: &str,
) -> Result<(), StoreError> {
    let changes = (
        leases::closed_height.eq(Some(at.height)),
        leases::closed_time.eq(Some(at.time)),
        leases::closed_time_ms.eq(Some(at.time_ms)),
        leases::close_cause.eq(Some(cause)),
        leases::close_reason.eq(None::<&str>),
    );
    let open = leases::table
        .filter(leases::owner.eq(owner))
        .filter(leases::dseq.eq(dseq))
        .filter(leases::closed_height.is_null());
    match gseq {
        Some(gseq) => diesel::update(open.filter(leases::gseq.eq(gseq)))
            .set(changes)
            .execute(conn)?,
        None => diesel::update(open).set(changes).execute(conn)?,
    };
    Ok(())
}
