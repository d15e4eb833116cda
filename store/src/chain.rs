//! The chain tables: leases, bids, deployments' groups, providers and what they advertised,
//! transfers and block totals. The indexer decides what a block means
//! (`indexer::decode::apply_block`) and writes through [`write`](mod@write); the indexer itself, exports,
//! settlement and audits read through the functions here, so every reader agrees on what a row
//! means (for example which attributes a provider advertised at a height).

use diesel::prelude::*;

use crate::schema::{
    bids, blocks, group_resources, leases, provider_attributes, provider_registrations, providers,
    transfers,
};
use crate::{AnyConnection, StoreError};
use domain::{BaseUnits, ChainDecimal, GroupId, LeaseId};

pub mod write;

/// One lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct LeaseRow {
    /// The lease's id (its six key columns), whose text is the one Akash tools print.
    pub id: LeaseId,
    /// GPUs held: the group's GPU units per replica times replicas; `None` when the group is
    /// unknown.
    pub gpu_units: Option<i64>,
    /// GPU model, when the rules name exactly one.
    pub gpu_model: Option<String>,
    /// GPU memory (`80Gi`), when the deciding rule names one.
    pub gpu_ram: Option<String>,
    /// Price denom.
    pub price_denom: String,
    /// Price per block, exactly as the chain renders it.
    pub price_amount: ChainDecimal,
    /// Height of the `MsgCreateLease`.
    pub created_height: i64,
    /// Block time of that height, RFC 3339 as in the header.
    pub created_time: String,
    /// The same time in unix milliseconds.
    pub created_time_ms: i64,
    /// Height the lease closed at; `None` while open.
    pub closed_height: Option<i64>,
    /// Block time of that height.
    pub closed_time: Option<String>,
    /// The same time in unix milliseconds.
    pub closed_time_ms: Option<i64>,
    /// `owner`, `provider`, `deployment_closed` or `insufficient_funds`.
    pub close_cause: Option<String>,
    /// The chain's `LeaseClosedReason` name (market v1 and later).
    pub close_reason: Option<String>,
    /// 1 when created through `MsgExec`.
    pub via_authz: i32,
}

/// A lease's key columns in [`LeaseId`]'s field order: what it loads from, and the order of
/// [`leases`].
#[diesel::dsl::auto_type]
fn lease_key() -> _ {
    (
        leases::owner,
        leases::dseq,
        leases::gseq,
        leases::oseq,
        leases::provider,
        leases::bseq,
    )
}

/// The columns of a [`LeaseRow`], the key nested so that it loads as one [`LeaseId`].
#[diesel::dsl::auto_type]
fn lease_columns() -> _ {
    (
        lease_key(),
        leases::gpu_units,
        leases::gpu_model,
        leases::gpu_ram,
        leases::price_denom,
        leases::price_amount,
        leases::created_height,
        leases::created_time,
        leases::created_time_ms,
        leases::closed_height,
        leases::closed_time,
        leases::closed_time_ms,
        leases::close_cause,
        leases::close_reason,
        leases::via_authz,
    )
}

impl LeaseRow {
    /// The lease as it stood at `end_ms`: a close at or after it had not happened yet.
    #[must_use]
    pub fn as_of(mut self, end_ms: i64) -> Self {
        if self.closed_time_ms.is_some_and(|t| t >= end_ms) {
            self.closed_height = None;
            self.closed_time = None;
            self.closed_time_ms = None;
            self.close_cause = None;
            self.close_reason = None;
        }
        self
    }
}

/// Every lease whose `[created, closed)` meets `[from_ms, to_ms)` (an open lease runs on), ordered
/// by provider and id: what settlement measures an epoch's leased GPU time from.
pub fn leases_overlapping(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<LeaseRow>, StoreError> {
    Ok(leases::table
        .filter(leases::created_time_ms.lt(to_ms))
        .filter(
            leases::closed_time_ms
                .is_null()
                .or(leases::closed_time_ms.gt(from_ms)),
        )
        .order((
            leases::provider,
            leases::owner,
            leases::dseq,
            leases::gseq,
            leases::oseq,
            leases::bseq,
        ))
        .select(lease_columns())
        .load(conn)?)
}

/// Every lease, ordered by id.
pub fn leases(conn: &mut AnyConnection) -> Result<Vec<LeaseRow>, StoreError> {
    Ok(leases::table
        .order(lease_key())
        .select(lease_columns())
        .load(conn)?)
}

/// One provider as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ProviderRow {
    /// The provider's account.
    pub owner: String,
    /// Gateway URI.
    pub host_uri: String,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Height of the `MsgCreateProvider`; `None` when first seen through an update.
    pub created_height: Option<i64>,
    /// Height of the last `MsgUpdateProvider`.
    pub updated_height: Option<i64>,
    /// Height of the `MsgDeleteProvider`; `None` while it exists.
    pub deleted_height: Option<i64>,
}

/// Every provider, ordered by owner.
pub fn providers(conn: &mut AnyConnection) -> Result<Vec<ProviderRow>, StoreError> {
    Ok(providers::table.order(providers::owner).load(conn)?)
}

/// One span during which an address was a registered provider: from the block of its
/// `MsgCreateProvider` to that of its `MsgDeleteProvider`. Times are the block header's, as text
/// and in unix milliseconds, so settlement and reports need no join with `blocks`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct RegistrationRow {
    /// The provider's account.
    pub owner: String,
    /// Height of the creation; `None` when the provider was first seen through an update, so it
    /// was registered before the first indexed block.
    pub created_height: Option<i64>,
    /// That block's time as the header spells it.
    pub created_time: Option<String>,
    /// The same time in unix milliseconds.
    pub created_time_ms: Option<i64>,
    /// Height of the deletion; `None` while it is registered.
    pub deleted_height: Option<i64>,
    /// That block's time as the header spells it.
    pub deleted_time: Option<String>,
    /// The same time in unix milliseconds.
    pub deleted_time_ms: Option<i64>,
}

impl RegistrationRow {
    /// The span as it stood at `end_ms`: a deletion at or after it had not happened yet.
    #[must_use]
    pub fn as_of(mut self, end_ms: i64) -> Self {
        if self.deleted_time_ms.is_some_and(|t| t >= end_ms) {
            self.deleted_height = None;
            self.deleted_time = None;
            self.deleted_time_ms = None;
        }
        self
    }
}

/// The registrations that meet `[from_ms, to_ms)`: created before `to_ms` (or before the index
/// began) and not deleted by `from_ms`. Ordered by owner, then life.
pub fn registrations_overlapping(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<RegistrationRow>, StoreError> {
    use provider_registrations as r;
    Ok(r::table
        .filter(
            r::created_time_ms
                .is_null()
                .or(r::created_time_ms.lt(to_ms)),
        )
        .filter(
            r::deleted_time_ms
                .is_null()
                .or(r::deleted_time_ms.gt(from_ms)),
        )
        .order((r::owner, r::life))
        .select((
            r::owner,
            r::created_height,
            r::created_time,
            r::created_time_ms,
            r::deleted_height,
            r::deleted_time,
            r::deleted_time_ms,
        ))
        .load(conn)?)
}

/// Every address that has ever been a registered provider, deleted ones included (and those
/// known only by their bids and leases, registered before the indexed history): what
/// `probe import` accepts observations about. An address on no chain cannot be probed, so a
/// line about one was not produced by a prober.
pub fn ever_registered_providers(
    conn: &mut AnyConnection,
) -> Result<std::collections::BTreeSet<String>, StoreError> {
    // Every provider row has a registration (its creation, or its first update), so the
    // registrations name every owner ever seen.
    let owners: Vec<String> = provider_registrations::table
        .select(provider_registrations::owner)
        .distinct()
        .load(conn)?;
    Ok(owners.into_iter().collect())
}

/// What `owner` advertised at the end of block `height`: `(key, value)` ordered by key.
pub fn provider_attributes_at(
    conn: &mut AnyConnection,
    owner: &str,
    height: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(provider_attributes::table
        .filter(provider_attributes::owner.eq(owner))
        .filter(provider_attributes::set_height.le(height))
        .filter(
            provider_attributes::unset_height
                .is_null()
                .or(provider_attributes::unset_height.gt(height)),
        )
        .order(provider_attributes::key)
        .select((provider_attributes::key, provider_attributes::value))
        .load(conn)?)
}

/// What every provider advertises now: `(owner, key, value)` ordered by owner and key.
pub fn current_provider_attributes(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, String, String)>, StoreError> {
    Ok(provider_attributes::table
        .filter(provider_attributes::unset_height.is_null())
        .order((provider_attributes::owner, provider_attributes::key))
        .select((
            provider_attributes::owner,
            provider_attributes::key,
            provider_attributes::value,
        ))
        .load(conn)?)
}

/// The attributes each provider's last create or update message left it with: `(owner, key,
/// value)` ordered by owner and key. For a live provider that is what it advertises now; for a
/// deleted one, what it advertised until it was deleted (the rows withdrawn at its
/// `deleted_height`, the newest value per key).
pub fn provider_last_attributes(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, String, String)>, StoreError> {
    /// owner, key, value, unset_height, the provider's deleted_height.
    type Row = (String, String, String, Option<i64>, Option<i64>);
    let rows: Vec<Row> = provider_attributes::table
        .inner_join(providers::table)
        .filter(
            provider_attributes::unset_height
                .is_null()
                .or(provider_attributes::unset_height.eq(providers::deleted_height)),
        )
        .order((
            provider_attributes::owner,
            provider_attributes::key,
            provider_attributes::set_height.desc(),
        ))
        .select((
            provider_attributes::owner,
            provider_attributes::key,
            provider_attributes::value,
            provider_attributes::unset_height,
            providers::deleted_height,
        ))
        .load(conn)?;
    let mut last: Vec<(String, String, String)> = Vec::with_capacity(rows.len());
    for (owner, key, value, unset, deleted) in rows {
        // A live provider's withdrawn rows never match; a deleted one's were matched above.
        if deleted.is_none() && unset.is_some() {
            continue;
        }
        let seen = last
            .last()
            .is_some_and(|(o, k, _)| *o == owner && *k == key);
        if !seen {
            last.push((owner, key, value));
        }
    }
    Ok(last)
}

/// One recorded bank transfer touching a watched wallet.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct TransferRow {
    /// Block height.
    pub height: i64,
    /// Transaction index in the block.
    pub tx_index: i32,
    /// Message index in the transaction (counting messages inside `MsgExec`).
    pub msg_index: i32,
    /// Coin movement inside the message.
    pub leg: i32,
    /// Transaction hash.
    pub tx_hash: String,
    /// Sender (empty: several, legacy multi-input `MsgMultiSend`).
    pub sender: String,
    /// Recipient (empty: several, legacy multi-input `MsgMultiSend`).
    pub recipient: String,
    /// Denom.
    pub denom: String,
    /// Amount in base units.
    pub amount: BaseUnits,
}

/// Every recorded transfer in chain order.
pub fn transfers(conn: &mut AnyConnection) -> Result<Vec<TransferRow>, StoreError> {
    Ok(transfers::table
        .order((
            transfers::height,
            transfers::tx_index,
            transfers::msg_index,
            transfers::leg,
        ))
        .load(conn)?)
}

/// Failed transactions (non-zero result code) in the blocks indexed so far.
pub fn failed_tx_total(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    let total: Option<i64> = blocks::table
        .select(diesel::dsl::sum(blocks::failed_tx_count))
        .first(conn)?;
    Ok(total.unwrap_or(0))
}

/// What a lease takes over from the bid it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct BidRow {
    /// Price denom.
    pub price_denom: String,
    /// Price per block.
    pub price_amount: ChainDecimal,
    /// The resources offer as JSON, as the indexer wrote it.
    pub resources_offer: String,
}

/// The bid under `id`, if one was recorded: a lease's price and offered GPUs come from it.
pub fn bid(conn: &mut AnyConnection, id: &LeaseId) -> Result<Option<BidRow>, StoreError> {
    let key = (&id.owner, id.dseq, id.gseq, id.oseq, &id.provider, id.bseq);
    Ok(bids::table
        .find(key)
        .select((bids::price_denom, bids::price_amount, bids::resources_offer))
        .first(conn)
        .optional()?)
}

/// One resource unit of a group as stored (the tenant's price left out).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct GroupResourceRow {
    /// The unit's id inside its group.
    pub resource_id: i64,
    /// Replicas.
    pub count: i64,
    /// Millicpu per replica.
    pub cpu_millis: String,
    /// Memory bytes per replica.
    pub memory_bytes: String,
    /// Storage bytes per replica.
    pub storage_bytes: String,
    /// GPUs per replica.
    pub gpu_units: i64,
    /// The GPU attributes as JSON, as the indexer wrote them.
    pub gpu_attributes: String,
}

/// The resource units of a group in message order; empty when the group was never seen. A
/// lease's GPU count and, failing its bid, its GPU model are decided from them.
pub fn group_resources(
    conn: &mut AnyConnection,
    id: &GroupId,
) -> Result<Vec<GroupResourceRow>, StoreError> {
    Ok(group_resources::table
        .filter(group_resources::owner.eq(&id.owner))
        .filter(group_resources::dseq.eq(id.dseq))
        .filter(group_resources::gseq.eq(id.gseq))
        .order(group_resources::resource_index)
        .select((
            group_resources::resource_id,
            group_resources::count,
            group_resources::cpu_millis,
            group_resources::memory_bytes,
            group_resources::storage_bytes,
            group_resources::gpu_units,
            group_resources::gpu_attributes,
        ))
        .load(conn)?)
}
