//! Deployments, their groups and the groups' resource units.

use diesel::prelude::*;

use crate::schema::{deployment_groups, deployments, group_resources};
use crate::{AnyConnection, StoreError};
use domain::{ChainDecimal, DeploymentId, GroupId, Height};

/// The group state a paused group is stored with; only such a group can be started again.
const PAUSED: &str = "paused";

/// A group as a deployment's creation describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupWrite<'a> {
    /// Group sequence.
    pub gseq: i32,
    /// Placement name.
    pub name: &'a str,
    /// Its resource units, in message order (their position becomes `resource_index`).
    pub resources: Vec<GroupResourceWrite<'a>>,
}

/// One resource unit of a group, with the tenant's maximum price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResourceWrite<'a> {
    /// The unit's id inside its group.
    pub resource_id: i64,
    /// Replicas.
    pub count: i64,
    /// Millicpu per replica (decimal digits).
    pub cpu_millis: &'a str,
    /// Memory bytes per replica (decimal digits).
    pub memory_bytes: &'a str,
    /// Storage bytes per replica (decimal digits).
    pub storage_bytes: &'a str,
    /// GPUs per replica.
    pub gpu_units: i64,
    /// The GPU attributes as JSON, in the indexer's encoding (the store keeps it opaque).
    pub gpu_attributes: String,
    /// Maximum price per block `(denom, amount)`, when given.
    pub price: Option<(&'a str, &'a ChainDecimal)>,
}

/// Records a new deployment, active, with its groups open. Returns whether it was new: the chain
/// refuses a second deployment under one id, so an existing one is kept with its groups.
pub fn create_deployment(
    conn: &mut AnyConnection,
    id: &DeploymentId,
    height: Height,
    groups: &[GroupWrite<'_>],
) -> Result<bool, StoreError> {
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(deployments::table)
        .values((
            deployments::owner.eq(&id.owner),
            deployments::dseq.eq(id.dseq),
            deployments::state.eq("active"),
            deployments::created_height.eq(height),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 0 {
        return Ok(false);
    }
    // One statement per row: a fixed shape is prepared once and reused, which beats a batch of
    // varying size that SQLite must parse every time. Groups first, for the resources' key.
    for group in groups {
        crate::on_backend!(conn, |c| diesel::insert_into(deployment_groups::table)
            .values((
                deployment_groups::owner.eq(&id.owner),
                deployment_groups::dseq.eq(id.dseq),
                deployment_groups::gseq.eq(group.gseq),
                deployment_groups::name.eq(group.name),
                deployment_groups::state.eq("open"),
                deployment_groups::created_height.eq(height),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    for group in groups {
        for (index, unit) in (0i32..).zip(&group.resources) {
            insert_group_resource(conn, id, group.gseq, index, unit)?;
        }
    }
    Ok(true)
}

fn insert_group_resource(
    conn: &mut AnyConnection,
    id: &DeploymentId,
    gseq: i32,
    index: i32,
    unit: &GroupResourceWrite<'_>,
) -> Result<(), StoreError> {
    let row = (
        (
            group_resources::owner.eq(&id.owner),
            group_resources::dseq.eq(id.dseq),
            group_resources::gseq.eq(gseq),
            group_resources::resource_index.eq(index),
            group_resources::resource_id.eq(unit.resource_id),
            group_resources::count.eq(unit.count),
            group_resources::cpu_millis.eq(unit.cpu_millis),
            group_resources::memory_bytes.eq(unit.memory_bytes),
            group_resources::storage_bytes.eq(unit.storage_bytes),
            group_resources::gpu_units.eq(unit.gpu_units),
        ),
        (
            group_resources::gpu_attributes.eq(&unit.gpu_attributes),
            group_resources::price_denom.eq(unit.price.map(|(denom, _)| denom)),
            group_resources::price_amount.eq(unit.price.map(|(_, amount)| amount)),
        ),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(group_resources::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Closes a deployment and every group of it at `height`; what closed earlier keeps its height.
pub fn close_deployment(
    conn: &mut AnyConnection,
    id: &DeploymentId,
    height: Height,
) -> Result<(), StoreError> {
    diesel::update(
        deployments::table
            .filter(deployments::owner.eq(&id.owner))
            .filter(deployments::dseq.eq(id.dseq))
            .filter(deployments::closed_height.is_null()),
    )
    .set((
        deployments::state.eq("closed"),
        deployments::closed_height.eq(Some(height)),
    ))
    .execute(conn)?;
    diesel::update(
        deployment_groups::table
            .filter(deployment_groups::owner.eq(&id.owner))
            .filter(deployment_groups::dseq.eq(id.dseq))
            .filter(deployment_groups::closed_height.is_null()),
    )
    .set((
        deployment_groups::state.eq("closed"),
        deployment_groups::closed_height.eq(Some(height)),
    ))
    .execute(conn)?;
    Ok(())
}

/// How a group stops taking leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupEnding {
    /// `MsgCloseGroup` (or its event) at this height.
    Closed(Height),
    /// `MsgPauseGroup`: it may be started again, so it gets no closing height.
    Paused,
}

/// Closes or pauses one group, unless it closed before: a closed group stays closed.
pub fn end_group(
    conn: &mut AnyConnection,
    id: &GroupId,
    ending: GroupEnding,
) -> Result<(), StoreError> {
    let group = deployment_groups::table
        .filter(deployment_groups::owner.eq(&id.owner))
        .filter(deployment_groups::dseq.eq(id.dseq))
        .filter(deployment_groups::gseq.eq(id.gseq))
        .filter(deployment_groups::closed_height.is_null());
    match ending {
        GroupEnding::Closed(height) => diesel::update(group)
            .set((
                deployment_groups::state.eq("closed"),
                deployment_groups::closed_height.eq(Some(height)),
            ))
            .execute(conn)?,
        GroupEnding::Paused => diesel::update(group)
            .set(deployment_groups::state.eq(PAUSED))
            .execute(conn)?,
    };
    Ok(())
}

/// Reopens a paused group; a group in any other state is left alone.
pub fn start_group(conn: &mut AnyConnection, id: &GroupId) -> Result<(), StoreError> {
    diesel::update(
        deployment_groups::table
            .filter(deployment_groups::owner.eq(&id.owner))
            .filter(deployment_groups::dseq.eq(id.dseq))
            .filter(deployment_groups::gseq.eq(id.gseq))
            .filter(deployment_groups::state.eq(PAUSED)),
    )
    .set(deployment_groups::state.eq("open"))
    .execute(conn)?;
    Ok(())
}
