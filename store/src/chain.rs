//! The chain tables: leases, providers and what they advertised, transfers and block totals.
//! The indexer decides what a block means (`indexer::decode::apply_block`) and writes through
//! the functions here where they exist; exports, settlement and audits read through them, so
//! every reader agrees on what a row means (for example which attributes a provider advertised
//! at a height).

use diesel::prelude::*;

use crate::schema::{blocks, leases, provider_attributes, providers, transfers};
use crate::{AnyConnection, StoreError};
use domain::{BaseUnits, ChainDecimal, LeaseId};

/// One lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct LeaseRow {
    /// The tenant.
    pub owner: String,
    /// Deployment sequence.
    pub dseq: i64,
    /// Group sequence.
    pub gseq: i32,
    /// Order sequence.
    pub oseq: i32,
    /// The provider.
    pub provider: String,
    /// Bid sequence (0 before market v1beta5).
    pub bseq: i32,
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

impl LeaseRow {
    /// The lease's id, whose text is the one Akash tools print.
    pub fn id(&self) -> LeaseId {
        LeaseId {
            owner: self.owner.clone(),
            dseq: self.dseq,
            gseq: self.gseq,
            oseq: self.oseq,
            provider: self.provider.clone(),
            bseq: self.bseq,
        }
    }
}

/// Every lease whose `[created, closed)` meets `[from_ms, to_ms)` (an open lease runs on), ordered
/// by provider and id: what settlement measures an epoch's leased GPU time from.
pub fn leases_overlapping(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
) -> QueryResult<Vec<LeaseRow>> {
    leases::table
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
        .load(conn)
}

/// Every lease, ordered by id.
pub fn leases(conn: &mut AnyConnection) -> QueryResult<Vec<LeaseRow>> {
    leases::table
        .order((
            leases::owner,
            leases::dseq,
            leases::gseq,
            leases::oseq,
            leases::provider,
            leases::bseq,
        ))
        .load(conn)
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

/// The columns a provider's create or update message sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderWrite<'a> {
    /// The provider's account.
    pub owner: &'a str,
    /// Gateway URI.
    pub host_uri: &'a str,
    /// Contact e-mail, when given.
    pub email: Option<&'a str>,
    /// Web site, when given.
    pub website: Option<&'a str>,
}

/// Which message wrote a provider, at which height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderEvent {
    /// `MsgCreateProvider`: the provider (re)starts life here; a re-created provider is no
    /// longer updated or deleted.
    Created(i64),
    /// `MsgUpdateProvider`; a provider first seen through an update has no creation height.
    Updated(i64),
}

/// Records a provider's create or update message. Tolerates a row that exists already (a chain
/// that repeats itself, or an index started mid-chain), so the indexer is never wedged on it.
pub fn write_provider(
    conn: &mut AnyConnection,
    provider: &ProviderWrite<'_>,
    event: ProviderEvent,
) -> Result<(), StoreError> {
    let (created, updated) = match event {
        ProviderEvent::Created(height) => (Some(height), None),
        ProviderEvent::Updated(height) => (None, Some(height)),
    };
    crate::on_backend!(conn, |c| diesel::insert_into(providers::table)
        .values((
            providers::owner.eq(provider.owner),
            providers::host_uri.eq(provider.host_uri),
            providers::email.eq(provider.email),
            providers::website.eq(provider.website),
            providers::created_height.eq(created),
            providers::updated_height.eq(updated),
        ))
        .on_conflict(providers::owner)
        .do_update()
        .set((
            providers::host_uri.eq(provider.host_uri),
            providers::email.eq(provider.email),
            providers::website.eq(provider.website),
        ))
        .execute(c))?;
    let row = providers::table.filter(providers::owner.eq(provider.owner));
    match event {
        ProviderEvent::Created(height) => diesel::update(row)
            .set((
                providers::created_height.eq(Some(height)),
                providers::updated_height.eq(None::<i64>),
                providers::deleted_height.eq(None::<i64>),
            ))
            .execute(conn)?,
        ProviderEvent::Updated(height) => diesel::update(row)
            .set(providers::updated_height.eq(Some(height)))
            .execute(conn)?,
    };
    Ok(())
}

/// Marks the provider deleted at `height` and withdraws everything it advertised there. The
/// withdrawn rows keep `unset_height = deleted_height`, so the provider's last advertised
/// attributes stay readable ([`provider_last_attributes`]).
pub fn delete_provider(
    conn: &mut AnyConnection,
    owner: &str,
    height: i64,
) -> Result<(), StoreError> {
    diesel::update(providers::table.filter(providers::owner.eq(owner)))
        .set(providers::deleted_height.eq(Some(height)))
        .execute(conn)?;
    diesel::update(
        provider_attributes::table
            .filter(provider_attributes::owner.eq(owner))
            .filter(provider_attributes::unset_height.is_null()),
    )
    .set(provider_attributes::unset_height.eq(Some(height)))
    .execute(conn)?;
    Ok(())
}

/// Every provider, ordered by owner.
pub fn providers(conn: &mut AnyConnection) -> QueryResult<Vec<ProviderRow>> {
    providers::table.order(providers::owner).load(conn)
}

/// What `owner` advertised at the end of block `height`: `(key, value)` ordered by key.
pub fn provider_attributes_at(
    conn: &mut AnyConnection,
    owner: &str,
    height: i64,
) -> QueryResult<Vec<(String, String)>> {
    provider_attributes::table
        .filter(provider_attributes::owner.eq(owner))
        .filter(provider_attributes::set_height.le(height))
        .filter(
            provider_attributes::unset_height
                .is_null()
                .or(provider_attributes::unset_height.gt(height)),
        )
        .order(provider_attributes::key)
        .select((provider_attributes::key, provider_attributes::value))
        .load(conn)
}

/// What every provider advertises now: `(owner, key, value)` ordered by owner and key.
pub fn current_provider_attributes(
    conn: &mut AnyConnection,
) -> QueryResult<Vec<(String, String, String)>> {
    provider_attributes::table
        .filter(provider_attributes::unset_height.is_null())
        .order((provider_attributes::owner, provider_attributes::key))
        .select((
            provider_attributes::owner,
            provider_attributes::key,
            provider_attributes::value,
        ))
        .load(conn)
}

/// The attributes each provider's last create or update message left it with: `(owner, key,
/// value)` ordered by owner and key. For a live provider that is what it advertises now; for a
/// deleted one, what it advertised until it was deleted (the rows withdrawn at its
/// `deleted_height`, the newest value per key).
pub fn provider_last_attributes(
    conn: &mut AnyConnection,
) -> QueryResult<Vec<(String, String, String)>> {
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
pub fn transfers(conn: &mut AnyConnection) -> QueryResult<Vec<TransferRow>> {
    transfers::table
        .order((
            transfers::height,
            transfers::tx_index,
            transfers::msg_index,
            transfers::leg,
        ))
        .load(conn)
}

/// Failed transactions (non-zero result code) in the blocks indexed so far.
pub fn failed_tx_total(conn: &mut AnyConnection) -> QueryResult<i64> {
    let total: Option<i64> = blocks::table
        .select(diesel::dsl::sum(blocks::failed_tx_count))
        .first(conn)?;
    Ok(total.unwrap_or(0))
}
