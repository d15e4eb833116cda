//! Writing a [`DecodedBlock`] to the store, inside the caller's transaction.
//!
//! The pipeline wraps a batch of blocks and the cursor in one transaction; this module never
//! opens or commits one. Applying is idempotent per block: the block row is inserted first, and
//! when it is already there the block was applied before and nothing else is written.
//!
//! Facts are applied in chain order, each against the state the earlier ones left, so a lease
//! sees the bid, group and provider attributes exactly as they stood when it was created. A
//! close only touches a lease that is still open: a lease closed by a message is not closed again
//! (nor its cause overwritten) by a later event or a deployment-wide close.
//!
//! Every write tolerates rows that already exist, so a chain that repeats itself (or an index
//! started mid-chain that meets an update for a provider it never saw created) cannot wedge the
//! indexer on a constraint error.

use std::collections::HashMap;

use diesel::prelude::*;
use domain::ChainDecimal;
use store::chain::{self, ProviderEvent, ProviderWrite};
use store::schema::{
    bids, blocks, deployment_groups, deployments, group_resources, indexer_rejections, leases,
    provider_attributes, transfers,
};
use store::{on_backend, AnyConnection, StoreError};
use thiserror::Error;
use tracing::debug_span;

use crate::decode::facts::{
    bounded_detail, Attribute, CloseCause, DecodedBlock, DeploymentId, Fact, GroupEnd, GroupId,
    GroupSpec, LeaseId, Price, ProviderRecord, Rejection, RejectionReason, ResourceUnit, TxFact,
};
use crate::decode::gpu::resolve_lease_gpu;

/// What applying a block did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplySummary {
    /// The block was already in the store; nothing was written.
    pub already_applied: bool,
    /// Facts applied.
    pub facts: usize,
    /// Rejections recorded (the decoder's plus [`ApplySummary::apply_rejections`]).
    pub rejections: usize,
    /// Rejections found while applying (a lease whose price cannot be known), by reason.
    pub apply_rejections: Vec<RejectionReason>,
}

/// Why a block could not be applied. Any of these aborts the caller's transaction.
#[derive(Debug, Error)]
pub enum ApplyError {
    /// The database refused a statement or the connection failed.
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// A store write failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The height does not fit the store's BIGINT column.
    #[error("block height {0} exceeds 2^63-1")]
    Height(u64),
    /// A JSON column written by the indexer could not be read back.
    #[error("stored JSON of {what} is unreadable: {source}")]
    StoredJson {
        /// Which column.
        what: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// Writes one decoded block (its row, facts and rejections) using the caller's connection,
/// inside the caller's transaction. Applying a block that is already stored writes nothing.
pub fn apply_block(
    conn: &mut AnyConnection,
    block: &DecodedBlock,
) -> Result<ApplySummary, ApplyError> {
    let _span = debug_span!("apply_block", height = block.height).entered();
    let height = i64::try_from(block.height).map_err(|_| ApplyError::Height(block.height))?;
    let inserted = on_backend!(conn, |c| diesel::insert_into(blocks::table)
        .values((
            blocks::height.eq(height),
            blocks::time.eq(&block.time),
            blocks::time_ms.eq(block.time_ms),
            blocks::hash.eq(&block.hash),
            blocks::tx_count.eq(saturating_i32(block.tx_count)),
            blocks::failed_tx_count.eq(saturating_i32(block.failed_tx_count)),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 0 {
        return Ok(ApplySummary {
            already_applied: true,
            ..ApplySummary::default()
        });
    }
    let mut applier = Applier {
        conn,
        height,
        time: &block.time,
        time_ms: block.time_ms,
        rejections: Vec::new(),
    };
    let mut transfer_rows = Vec::new();
    for TxFact { tx_index, fact } in &block.facts {
        if let Fact::Transfer(transfer) = fact {
            transfer_rows.push((
                transfers::height.eq(height),
                transfers::tx_index.eq(*tx_index),
                transfers::msg_index.eq(transfer.msg_index),
                transfers::leg.eq(transfer.leg),
                transfers::tx_hash.eq(&transfer.tx_hash),
                transfers::sender.eq(&transfer.sender),
                transfers::recipient.eq(&transfer.recipient),
                transfers::denom.eq(&transfer.denom),
                transfers::amount.eq(&transfer.amount),
            ));
        } else {
            applier.fact(*tx_index, fact)?;
        }
    }
    if !transfer_rows.is_empty() {
        on_backend!(&mut *applier.conn, |c| diesel::insert_into(
            transfers::table
        )
        .values(&transfer_rows)
        .on_conflict_do_nothing()
        .execute(c))?;
    }
    let Applier {
        conn,
        rejections: late,
        ..
    } = applier;
    let apply_rejections = late.iter().map(|r| r.reason).collect();
    let rejections = write_rejections(conn, height, block.rejections.iter().chain(&late))?;
    Ok(ApplySummary {
        already_applied: false,
        facts: block.facts.len(),
        rejections,
        apply_rejections,
    })
}

fn saturating_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Inserts the rejections, numbering them per transaction in order.
fn write_rejections<'r>(
    conn: &mut AnyConnection,
    height: i64,
    rejections: impl Iterator<Item = &'r Rejection>,
) -> Result<usize, ApplyError> {
    let mut next_seq: HashMap<i32, i32> = HashMap::new();
    let rows: Vec<_> = rejections
        .map(|r| {
            let seq = next_seq.entry(r.tx_index).or_default();
            let row = (
                indexer_rejections::height.eq(height),
                indexer_rejections::tx_index.eq(r.tx_index),
                indexer_rejections::seq.eq(*seq),
                indexer_rejections::tx_hash.eq(r.tx_hash.as_deref()),
                indexer_rejections::reason.eq(r.reason.as_str()),
                indexer_rejections::type_url.eq(r.type_url.as_deref()),
                indexer_rejections::detail.eq(&r.detail),
            );
            *seq += 1;
            row
        })
        .collect();
    if !rows.is_empty() {
        on_backend!(conn, |c| diesel::insert_into(indexer_rejections::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(rows.len())
}

/// Applies facts of one block.
struct Applier<'a> {
    conn: &'a mut AnyConnection,
    height: i64,
    time: &'a str,
    time_ms: i64,
    /// Rejections found while applying.
    rejections: Vec<Rejection>,
}

impl Applier<'_> {
    fn fact(&mut self, tx_index: i32, fact: &Fact) -> Result<(), ApplyError> {
        match fact {
            Fact::ProviderCreated(record) => self.provider_created(record),
            Fact::ProviderUpdated(record) => self.provider_updated(record),
            Fact::ProviderDeleted { owner } => self.provider_deleted(owner),
            Fact::DeploymentCreated { id, groups } => self.deployment_created(id, groups),
            Fact::DeploymentClosed { id } => self.deployment_closed(id),
            Fact::GroupEnded { id, end } => self.group_ended(id, *end),
            Fact::GroupStarted { id } => self.group_started(id),
            Fact::BidCreated { id, price, offer } => self.bid_created(id, price, offer),
            Fact::LeaseCreated {
                id,
                price,
                via_authz,
            } => self.lease_created(tx_index, id, price.as_ref(), *via_authz),
            Fact::LeaseClosed { id, cause, reason } => {
                self.lease_closed(id, *cause, reason.as_deref())
            }
            Fact::DeploymentLeasesClosed { id, cause } => {
                self.leases_closed(*cause, &id.owner, id.dseq, None)
            }
            Fact::GroupLeasesClosed { id, cause } => {
                self.leases_closed(*cause, &id.owner, id.dseq, Some(id.gseq))
            }
            // Written in one batch by `apply_block`.
            Fact::Transfer(_) => Ok(()),
        }
    }

    fn provider_created(&mut self, record: &ProviderRecord) -> Result<(), ApplyError> {
        chain::write_provider(
            self.conn,
            &provider_write(record),
            ProviderEvent::Created(self.height),
        )?;
        self.set_attributes(&record.owner, &record.attributes)
    }

    fn provider_updated(&mut self, record: &ProviderRecord) -> Result<(), ApplyError> {
        chain::write_provider(
            self.conn,
            &provider_write(record),
            ProviderEvent::Updated(self.height),
        )?;
        self.set_attributes(&record.owner, &record.attributes)
    }

    fn provider_deleted(&mut self, owner: &str) -> Result<(), ApplyError> {
        Ok(chain::delete_provider(self.conn, owner, self.height)?)
    }

    /// Makes `wanted` the provider's advertised attributes from this height on, keeping the
    /// history: changed or withdrawn values get `unset_height`, new ones a new row. A value set
    /// and replaced within the same block leaves no history row (nobody could see it at any
    /// height's end).
    fn set_attributes(&mut self, owner: &str, wanted: &[Attribute]) -> Result<(), ApplyError> {
        let height = self.height;
        let current: Vec<(String, String, i64)> = provider_attributes::table
            .filter(provider_attributes::owner.eq(owner))
            .filter(provider_attributes::unset_height.is_null())
            .select((
                provider_attributes::key,
                provider_attributes::value,
                provider_attributes::set_height,
            ))
            .load(self.conn)?;
        let mut kept = std::collections::HashSet::new();
        for (key, value, set_height) in &current {
            if wanted.iter().any(|a| &a.key == key && &a.value == value) {
                kept.insert(key.as_str());
                continue;
            }
            let row = provider_attributes::table
                .filter(provider_attributes::owner.eq(owner))
                .filter(provider_attributes::key.eq(key))
                .filter(provider_attributes::set_height.eq(set_height));
            if *set_height == height {
                diesel::delete(row).execute(self.conn)?;
            } else {
                diesel::update(row)
                    .set(provider_attributes::unset_height.eq(Some(height)))
                    .execute(self.conn)?;
            }
        }
        let new_rows: Vec<_> = wanted
            .iter()
            .filter(|a| !kept.contains(a.key.as_str()))
            .map(|a| {
                (
                    provider_attributes::owner.eq(owner),
                    provider_attributes::key.eq(&a.key),
                    provider_attributes::value.eq(&a.value),
                    provider_attributes::set_height.eq(height),
                )
            })
            .collect();
        if !new_rows.is_empty() {
            // A row under the same key and height exists only if this block set, withdrew and
            // sets the value again (create, delete, create): the last value wins.
            on_backend!(&mut *self.conn, |c| diesel::insert_into(
                provider_attributes::table
            )
            .values(&new_rows)
            .on_conflict((
                provider_attributes::owner,
                provider_attributes::key,
                provider_attributes::set_height,
            ))
            .do_update()
            .set((
                provider_attributes::value.eq(diesel::upsert::excluded(provider_attributes::value)),
                provider_attributes::unset_height.eq(None::<i64>),
            ))
            .execute(c))?;
        }
        Ok(())
    }

    fn deployment_created(
        &mut self,
        id: &DeploymentId,
        groups: &[GroupSpec],
    ) -> Result<(), ApplyError> {
        let height = self.height;
        let inserted = on_backend!(&mut *self.conn, |c| diesel::insert_into(deployments::table)
            .values((
                deployments::owner.eq(&id.owner),
                deployments::dseq.eq(id.dseq),
                deployments::state.eq("active"),
                deployments::created_height.eq(height),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 0 {
            // The chain refuses a second deployment under one id; keep the first.
            return Ok(());
        }
        let group_rows: Vec<_> = groups
            .iter()
            .map(|group| {
                (
                    deployment_groups::owner.eq(&id.owner),
                    deployment_groups::dseq.eq(id.dseq),
                    deployment_groups::gseq.eq(group.gseq),
                    deployment_groups::name.eq(&group.name),
                    deployment_groups::state.eq("open"),
                    deployment_groups::created_height.eq(height),
                )
            })
            .collect();
        let mut resource_rows = Vec::new();
        for group in groups {
            for (index, resource) in (0i32..).zip(&group.resources) {
                let unit = &resource.unit;
                resource_rows.push((
                    (
                        group_resources::owner.eq(&id.owner),
                        group_resources::dseq.eq(id.dseq),
                        group_resources::gseq.eq(group.gseq),
                        group_resources::resource_index.eq(index),
                        group_resources::resource_id.eq(i64::from(unit.resource_id)),
                        group_resources::count.eq(i64::from(unit.count)),
                        group_resources::cpu_millis.eq(&unit.cpu_millis),
                        group_resources::memory_bytes.eq(&unit.memory_bytes),
                        group_resources::storage_bytes.eq(&unit.storage_bytes),
                        // Bounded by MAX_GPU_UNITS_PER_REPLICA when decoded.
                        group_resources::gpu_units
                            .eq(i64::try_from(unit.gpu_units).unwrap_or(i64::MAX)),
                    ),
                    (
                        group_resources::gpu_attributes
                            .eq(serde_json::to_string(&unit.gpu_attributes).unwrap_or_default()),
                        group_resources::price_denom.eq(resource.price.as_ref().map(|p| &p.denom)),
                        group_resources::price_amount
                            .eq(resource.price.as_ref().map(|p| &p.amount)),
                    ),
                ));
            }
        }
        // One statement per row: a fixed shape is prepared once and reused, which beats a
        // batch of varying size that SQLite must parse every time.
        for row in group_rows {
            on_backend!(&mut *self.conn, |c| diesel::insert_into(
                deployment_groups::table
            )
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))?;
        }
        for row in resource_rows {
            on_backend!(&mut *self.conn, |c| diesel::insert_into(
                group_resources::table
            )
            .values(row.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        }
        Ok(())
    }

    fn deployment_closed(&mut self, id: &DeploymentId) -> Result<(), ApplyError> {
        let height = Some(self.height);
        diesel::update(
            deployments::table
                .filter(deployments::owner.eq(&id.owner))
                .filter(deployments::dseq.eq(id.dseq))
                .filter(deployments::closed_height.is_null()),
        )
        .set((
            deployments::state.eq("closed"),
            deployments::closed_height.eq(height),
        ))
        .execute(self.conn)?;
        diesel::update(
            deployment_groups::table
                .filter(deployment_groups::owner.eq(&id.owner))
                .filter(deployment_groups::dseq.eq(id.dseq))
                .filter(deployment_groups::closed_height.is_null()),
        )
        .set((
            deployment_groups::state.eq("closed"),
            deployment_groups::closed_height.eq(height),
        ))
        .execute(self.conn)?;
        Ok(())
    }

    fn group_ended(&mut self, id: &GroupId, end: GroupEnd) -> Result<(), ApplyError> {
        let group = deployment_groups::table
            .filter(deployment_groups::owner.eq(&id.owner))
            .filter(deployment_groups::dseq.eq(id.dseq))
            .filter(deployment_groups::gseq.eq(id.gseq))
            .filter(deployment_groups::closed_height.is_null());
        match end {
            GroupEnd::Closed => diesel::update(group)
                .set((
                    deployment_groups::state.eq(end.as_str()),
                    deployment_groups::closed_height.eq(Some(self.height)),
                ))
                .execute(self.conn)?,
            GroupEnd::Paused => diesel::update(group)
                .set(deployment_groups::state.eq(end.as_str()))
                .execute(self.conn)?,
        };
        Ok(())
    }

    fn group_started(&mut self, id: &GroupId) -> Result<(), ApplyError> {
        diesel::update(
            deployment_groups::table
                .filter(deployment_groups::owner.eq(&id.owner))
                .filter(deployment_groups::dseq.eq(id.dseq))
                .filter(deployment_groups::gseq.eq(id.gseq))
                .filter(deployment_groups::state.eq(GroupEnd::Paused.as_str())),
        )
        .set(deployment_groups::state.eq("open"))
        .execute(self.conn)?;
        Ok(())
    }

    fn bid_created(
        &mut self,
        id: &LeaseId,
        price: &Price,
        offer: &[ResourceUnit],
    ) -> Result<(), ApplyError> {
        let height = self.height;
        let offer = serde_json::to_string(offer).unwrap_or_else(|_| "[]".to_string());
        // The chain refuses a second bid under one id (closed bids stay in its store), so an
        // existing row is the same bid.
        on_backend!(&mut *self.conn, |c| diesel::insert_into(bids::table)
            .values((
                bids::owner.eq(&id.owner),
                bids::dseq.eq(id.dseq),
                bids::gseq.eq(id.gseq),
                bids::oseq.eq(id.oseq),
                bids::provider.eq(&id.provider),
                bids::bseq.eq(id.bseq),
                bids::price_denom.eq(&price.denom),
                bids::price_amount.eq(&price.amount),
                bids::resources_offer.eq(&offer),
                bids::created_height.eq(height),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(())
    }

    fn lease_created(
        &mut self,
        tx_index: i32,
        id: &LeaseId,
        event_price: Option<&Price>,
        via_authz: bool,
    ) -> Result<(), ApplyError> {
        let bid: Option<(String, ChainDecimal, String)> = bids::table
            .filter(bids::owner.eq(&id.owner))
            .filter(bids::dseq.eq(id.dseq))
            .filter(bids::gseq.eq(id.gseq))
            .filter(bids::oseq.eq(id.oseq))
            .filter(bids::provider.eq(&id.provider))
            .filter(bids::bseq.eq(id.bseq))
            .select((bids::price_denom, bids::price_amount, bids::resources_offer))
            .first(self.conn)
            .optional()?;
        let (price_denom, price_amount) = match (event_price, &bid) {
            (Some(price), _) => (price.denom.clone(), price.amount.clone()),
            (None, Some((denom, amount, _))) => (denom.clone(), amount.clone()),
            (None, None) => {
                self.rejections.push(Rejection {
                    tx_index,
                    tx_hash: None,
                    reason: RejectionReason::LeasePriceUnknown,
                    type_url: None,
                    detail: bounded_detail(format_args!(
                        "lease {id} not recorded: its price is unknown (no lease-created event \
                         price and no bid seen)"
                    )),
                });
                return Ok(());
            }
        };
        let offer: Vec<ResourceUnit> = match &bid {
            Some((_, _, offer)) => {
                serde_json::from_str(offer).map_err(|source| ApplyError::StoredJson {
                    what: "bids.resources_offer",
                    source,
                })?
            }
            None => Vec::new(),
        };
        let group = self.group_units(&id.group())?;
        let gpu_units = group.as_ref().map(|units| {
            let total = units
                .iter()
                .fold(0u64, |sum, unit| sum.saturating_add(unit.total_gpus()));
            i64::try_from(total).unwrap_or(i64::MAX)
        });
        let height = self.height;
        let conn = &mut *self.conn;
        let gpu = resolve_lease_gpu(&offer, group.as_deref(), || {
            store::chain::provider_attributes_at(conn, &id.provider, height).map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(key, value)| Attribute { key, value })
                    .collect()
            })
        })?;
        let (gpu_model, gpu_ram) = match gpu {
            Some(gpu) => (Some(gpu.model), gpu.ram),
            None => (None, None),
        };
        on_backend!(&mut *self.conn, |c| diesel::insert_into(leases::table)
            .values((
                (
                    leases::owner.eq(&id.owner),
                    leases::dseq.eq(id.dseq),
                    leases::gseq.eq(id.gseq),
                    leases::oseq.eq(id.oseq),
                    leases::provider.eq(&id.provider),
                    leases::bseq.eq(id.bseq),
                    leases::gpu_units.eq(gpu_units),
                    leases::gpu_model.eq(&gpu_model),
                    leases::gpu_ram.eq(&gpu_ram),
                ),
                (
                    leases::price_denom.eq(&price_denom),
                    leases::price_amount.eq(&price_amount),
                    leases::created_height.eq(height),
                    leases::created_time.eq(self.time),
                    leases::created_time_ms.eq(self.time_ms),
                    leases::via_authz.eq(i32::from(via_authz)),
                ),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(())
    }

    /// The resource units of a group, or `None` when the group was never seen.
    fn group_units(&mut self, id: &GroupId) -> Result<Option<Vec<ResourceUnit>>, ApplyError> {
        type Row = (i64, i64, String, String, String, i64, String);
        let rows: Vec<Row> = group_resources::table
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
            .load(self.conn)?;
        if rows.is_empty() {
            return Ok(None);
        }
        rows.into_iter()
            .map(
                |(resource_id, count, cpu, memory, storage, gpus, attributes)| {
                    Ok(ResourceUnit {
                        resource_id: u32::try_from(resource_id).unwrap_or(0),
                        count: u32::try_from(count).unwrap_or(0),
                        cpu_millis: cpu,
                        memory_bytes: memory,
                        storage_bytes: storage,
                        gpu_units: u64::try_from(gpus).unwrap_or(0),
                        gpu_attributes: serde_json::from_str(&attributes).map_err(|source| {
                            ApplyError::StoredJson {
                                what: "group_resources.gpu_attributes",
                                source,
                            }
                        })?,
                    })
                },
            )
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn lease_closed(
        &mut self,
        id: &LeaseId,
        cause: Option<CloseCause>,
        reason: Option<&str>,
    ) -> Result<(), ApplyError> {
        let height = Some(self.height);
        diesel::update(
            leases::table
                .filter(leases::owner.eq(&id.owner))
                .filter(leases::dseq.eq(id.dseq))
                .filter(leases::gseq.eq(id.gseq))
                .filter(leases::oseq.eq(id.oseq))
                .filter(leases::provider.eq(&id.provider))
                .filter(leases::bseq.eq(id.bseq))
                .filter(leases::closed_height.is_null()),
        )
        .set((
            leases::closed_height.eq(height),
            leases::closed_time.eq(Some(self.time)),
            leases::closed_time_ms.eq(Some(self.time_ms)),
            leases::close_cause.eq(cause.map(CloseCause::as_str)),
            leases::close_reason.eq(reason),
        ))
        .execute(self.conn)?;
        Ok(())
    }

    /// Closes every still-open lease of a deployment, or of one group of it.
    fn leases_closed(
        &mut self,
        cause: CloseCause,
        owner: &str,
        dseq: i64,
        gseq: Option<i32>,
    ) -> Result<(), ApplyError> {
        let changes = (
            leases::closed_height.eq(Some(self.height)),
            leases::closed_time.eq(Some(self.time)),
            leases::closed_time_ms.eq(Some(self.time_ms)),
            leases::close_cause.eq(Some(cause.as_str())),
            leases::close_reason.eq(None::<&str>),
        );
        let open = leases::table
            .filter(leases::owner.eq(owner))
            .filter(leases::dseq.eq(dseq))
            .filter(leases::closed_height.is_null());
        match gseq {
            Some(gseq) => diesel::update(open.filter(leases::gseq.eq(gseq)))
                .set(changes)
                .execute(self.conn)?,
            None => diesel::update(open).set(changes).execute(self.conn)?,
        };
        Ok(())
    }
}

/// What a create or update message says about the provider's row.
fn provider_write(record: &ProviderRecord) -> ProviderWrite<'_> {
    ProviderWrite {
        owner: &record.owner,
        host_uri: &record.host_uri,
        email: non_empty(&record.email),
        website: non_empty(&record.website),
    }
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}
