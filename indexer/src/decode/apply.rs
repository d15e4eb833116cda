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

use domain::Height;
use store::chain::write::{
    self, BidWrite, BlockStamp, BlockWrite, GroupEnding, GroupResourceWrite, GroupWrite,
    LeaseWrite, ProviderEvent, ProviderWrite, RejectionWrite, TransferWrite,
};
use store::chain::{self, GroupResourceRow};
use store::{AnyConnection, StoreError};
use thiserror::Error;
use tracing::debug_span;

use crate::decode::facts::{
    bounded_detail, Attribute, CloseCause, DecodedBlock, DeploymentId, Fact, GroupEnd, GroupId,
    GroupResource, GroupSpec, LeaseId, Price, ProviderRecord, Rejection, RejectionReason,
    ResourceUnit, TxFact,
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
    /// A store read or write failed.
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
    let height = Height::new(block.height).map_err(|_| ApplyError::Height(block.height))?;
    let block_row = BlockWrite {
        height,
        time: &block.time,
        time_ms: block.time_ms,
        hash: &block.hash,
        tx_count: saturating_i32(block.tx_count),
        failed_tx_count: saturating_i32(block.failed_tx_count),
    };
    if !write::insert_block(conn, &block_row)? {
        return Ok(ApplySummary {
            already_applied: true,
            ..ApplySummary::default()
        });
    }
    let mut applier = Applier {
        conn,
        at: BlockStamp {
            height,
            time: &block.time,
            time_ms: block.time_ms,
        },
        rejections: Vec::new(),
    };
    let mut transfer_rows = Vec::new();
    for TxFact { tx_index, fact } in &block.facts {
        if let Fact::Transfer(transfer) = fact {
            transfer_rows.push(TransferWrite {
                height,
                tx_index: *tx_index,
                msg_index: transfer.msg_index,
                leg: transfer.leg,
                tx_hash: &transfer.tx_hash,
                sender: &transfer.sender,
                recipient: &transfer.recipient,
                denom: &transfer.denom,
                amount: transfer.amount,
            });
        } else {
            applier.fact(*tx_index, fact)?;
        }
    }
    write::insert_transfers(applier.conn, &transfer_rows)?;
    let Applier {
        conn,
        rejections: late,
        ..
    } = applier;
    let apply_rejections = late.iter().map(|r| r.reason).collect();
    let rejection_rows: Vec<RejectionWrite<'_>> = block
        .rejections
        .iter()
        .chain(&late)
        .map(|r| RejectionWrite {
            tx_index: r.tx_index,
            tx_hash: r.tx_hash.as_deref(),
            reason: r.reason.as_str(),
            type_url: r.type_url.as_deref(),
            detail: &r.detail,
        })
        .collect();
    let rejections = write::insert_rejections(conn, height, &rejection_rows)?;
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

/// Applies facts of one block.
struct Applier<'a> {
    conn: &'a mut AnyConnection,
    /// The block being applied.
    at: BlockStamp<'a>,
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
            Fact::DeploymentLeasesClosed { id, cause } => Ok(write::close_deployment_leases(
                self.conn,
                id,
                self.at,
                cause.as_str(),
            )?),
            Fact::GroupLeasesClosed { id, cause } => Ok(write::close_group_leases(
                self.conn,
                id,
                self.at,
                cause.as_str(),
            )?),
            // Written in one batch by `apply_block`.
            Fact::Transfer(_) => Ok(()),
        }
    }

    fn provider_created(&mut self, record: &ProviderRecord) -> Result<(), ApplyError> {
        self.provider_written(record, ProviderEvent::Created(self.at))
    }

    fn provider_updated(&mut self, record: &ProviderRecord) -> Result<(), ApplyError> {
        self.provider_written(record, ProviderEvent::Updated(self.at))
    }

    /// A create or update message replaces the provider's row and every attribute.
    fn provider_written(
        &mut self,
        record: &ProviderRecord,
        event: ProviderEvent<'_>,
    ) -> Result<(), ApplyError> {
        write::write_provider(self.conn, &provider_write(record), event)?;
        let wanted: Vec<(&str, &str)> = record
            .attributes
            .iter()
            .map(|a| (a.key.as_str(), a.value.as_str()))
            .collect();
        write::set_provider_attributes(self.conn, &record.owner, self.at.height, &wanted)?;
        Ok(())
    }

    fn provider_deleted(&mut self, owner: &str) -> Result<(), ApplyError> {
        Ok(write::delete_provider(self.conn, owner, self.at)?)
    }

    fn deployment_created(
        &mut self,
        id: &DeploymentId,
        groups: &[GroupSpec],
    ) -> Result<(), ApplyError> {
        let groups: Vec<GroupWrite<'_>> = groups
            .iter()
            .map(|group| GroupWrite {
                gseq: group.gseq,
                name: &group.name,
                resources: group.resources.iter().map(group_resource_write).collect(),
            })
            .collect();
        // The chain refuses a second deployment under one id; the store keeps the first.
        write::create_deployment(self.conn, id, self.at.height, &groups)?;
        Ok(())
    }

    fn deployment_closed(&mut self, id: &DeploymentId) -> Result<(), ApplyError> {
        Ok(write::close_deployment(self.conn, id, self.at.height)?)
    }

    fn group_ended(&mut self, id: &GroupId, end: GroupEnd) -> Result<(), ApplyError> {
        let ending = match end {
            GroupEnd::Closed => GroupEnding::Closed(self.at.height),
            GroupEnd::Paused => GroupEnding::Paused,
        };
        Ok(write::end_group(self.conn, id, ending)?)
    }

    fn group_started(&mut self, id: &GroupId) -> Result<(), ApplyError> {
        Ok(write::start_group(self.conn, id)?)
    }

    fn bid_created(
        &mut self,
        id: &LeaseId,
        price: &Price,
        offer: &[ResourceUnit],
    ) -> Result<(), ApplyError> {
        let offer = serde_json::to_string(offer).unwrap_or_else(|_| "[]".to_string());
        let bid = BidWrite {
            id,
            price_denom: &price.denom,
            price_amount: &price.amount,
            resources_offer: &offer,
            created_height: self.at.height,
        };
        write::provider_acted(self.conn, &id.provider)?;
        Ok(write::insert_bid(self.conn, &bid)?)
    }

    fn lease_created(
        &mut self,
        tx_index: i32,
        id: &LeaseId,
        event_price: Option<&Price>,
        via_authz: bool,
    ) -> Result<(), ApplyError> {
        let bid = chain::bid(self.conn, id)?;
        let (price_denom, price_amount) = match (event_price, &bid) {
            (Some(price), _) => (&price.denom, &price.amount),
            (None, Some(bid)) => (&bid.price_denom, &bid.price_amount),
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
            Some(bid) => serde_json::from_str(&bid.resources_offer).map_err(|source| {
                ApplyError::StoredJson {
                    what: "bids.resources_offer",
                    source,
                }
            })?,
            None => Vec::new(),
        };
        let group = self.group_units(&id.group())?;
        let gpu_units = group.as_ref().map(|units| {
            let total = units
                .iter()
                .fold(0u64, |sum, unit| sum.saturating_add(unit.total_gpus()));
            i64::try_from(total).unwrap_or(i64::MAX)
        });
        let height = self.at.height;
        let conn = &mut *self.conn;
        let gpu = resolve_lease_gpu(&offer, group.as_deref(), || {
            chain::provider_attributes_at(conn, &id.provider, height.stored()).map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(key, value)| Attribute { key, value })
                    .collect()
            })
        })?;
        let (gpu_model, gpu_ram) = match &gpu {
            Some(gpu) => (Some(gpu.model.as_str()), gpu.ram.as_deref()),
            None => (None, None),
        };
        let lease = LeaseWrite {
            id,
            gpu_units,
            gpu_model,
            gpu_ram,
            price_denom,
            price_amount,
            created: self.at,
            via_authz,
        };
        write::provider_acted(self.conn, &id.provider)?;
        Ok(write::insert_lease(self.conn, &lease)?)
    }

    /// The resource units of a group, or `None` when the group was never seen.
    fn group_units(&mut self, id: &GroupId) -> Result<Option<Vec<ResourceUnit>>, ApplyError> {
        let rows = chain::group_resources(self.conn, id)?;
        if rows.is_empty() {
            return Ok(None);
        }
        rows.into_iter()
            .map(resource_unit)
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn lease_closed(
        &mut self,
        id: &LeaseId,
        cause: Option<CloseCause>,
        reason: Option<&str>,
    ) -> Result<(), ApplyError> {
        let cause = cause.map(CloseCause::as_str);
        Ok(write::close_lease(self.conn, id, self.at, cause, reason)?)
    }
}

/// How a group's resource unit is stored: counts as the store's integers, GPU attributes as JSON.
fn group_resource_write(resource: &GroupResource) -> GroupResourceWrite<'_> {
    let unit = &resource.unit;
    GroupResourceWrite {
        resource_id: i64::from(unit.resource_id),
        count: i64::from(unit.count),
        cpu_millis: &unit.cpu_millis,
        memory_bytes: &unit.memory_bytes,
        storage_bytes: &unit.storage_bytes,
        // Bounded by MAX_GPU_UNITS_PER_REPLICA when decoded.
        gpu_units: i64::try_from(unit.gpu_units).unwrap_or(i64::MAX),
        gpu_attributes: serde_json::to_string(&unit.gpu_attributes).unwrap_or_default(),
        price: resource
            .price
            .as_ref()
            .map(|p| (p.denom.as_str(), &p.amount)),
    }
}

/// A stored resource unit read back; out-of-range counts (never written) read as 0.
fn resource_unit(row: GroupResourceRow) -> Result<ResourceUnit, ApplyError> {
    Ok(ResourceUnit {
        resource_id: u32::try_from(row.resource_id).unwrap_or(0),
        count: u32::try_from(row.count).unwrap_or(0),
        cpu_millis: row.cpu_millis,
        memory_bytes: row.memory_bytes,
        storage_bytes: row.storage_bytes,
        gpu_units: u64::try_from(row.gpu_units).unwrap_or(0),
        gpu_attributes: serde_json::from_str(&row.gpu_attributes).map_err(|source| {
            ApplyError::StoredJson {
                what: "group_resources.gpu_attributes",
                source,
            }
        })?,
    })
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
