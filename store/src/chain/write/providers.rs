//! Providers and the attributes they advertise, with the attributes' history by height.

use std::collections::HashSet;

use diesel::prelude::*;

use super::BlockStamp;
use crate::schema::{provider_attributes, provider_registrations, providers};
use crate::{AnyConnection, StoreError};
use domain::Height;

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

/// Which message wrote a provider, in which block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderEvent<'a> {
    /// `MsgCreateProvider`: the provider (re)starts life here; a re-created provider is no
    /// longer updated or deleted.
    Created(BlockStamp<'a>),
    /// `MsgUpdateProvider`; a provider first seen through an update has no creation height.
    Updated(BlockStamp<'a>),
}

/// Records a provider's create or update message. Tolerates a row that exists already (a chain
/// that repeats itself, or an index started mid-chain), so the indexer is never wedged on it.
pub fn write_provider(
    conn: &mut AnyConnection,
    provider: &ProviderWrite<'_>,
    event: ProviderEvent<'_>,
) -> Result<(), StoreError> {
    let (created, updated) = match event {
        ProviderEvent::Created(at) => (Some(at.height), None),
        ProviderEvent::Updated(at) => (None, Some(at.height)),
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
        ProviderEvent::Created(at) => diesel::update(row)
            .set((
                providers::created_height.eq(Some(at.height)),
                providers::updated_height.eq(None::<i64>),
                providers::deleted_height.eq(None::<i64>),
            ))
            .execute(conn)?,
        ProviderEvent::Updated(at) => diesel::update(row)
            .set(providers::updated_height.eq(Some(at.height)))
            .execute(conn)?,
    };
    record_registration(conn, provider.owner, event)
}

/// Keeps `provider_registrations` in step with a create or update: a creation starts a new life
/// unless one is still open (the chain refuses to create an existing provider, so an open life
/// means the message was seen before); an update of an owner never seen opens a life that began
/// before the first indexed block.
fn record_registration(
    conn: &mut AnyConnection,
    owner: &str,
    event: ProviderEvent<'_>,
) -> Result<(), StoreError> {
    let deletions: Vec<Option<i64>> = provider_registrations::table
        .filter(provider_registrations::owner.eq(owner))
        .select(provider_registrations::deleted_height)
        .load(conn)?;
    let open = deletions.iter().any(Option::is_none);
    let created = match event {
        ProviderEvent::Created(at) if !open => Some(at),
        ProviderEvent::Updated(_) if deletions.is_empty() => None,
        ProviderEvent::Created(_) | ProviderEvent::Updated(_) => return Ok(()),
    };
    let count = deletions.len();
    let life = i32::try_from(count).map_err(|_| StoreError::Corrupt {
        what: format!("registrations of provider {owner}"),
        problem: format!("{count} lives"),
    })?;
    diesel::insert_into(provider_registrations::table)
        .values((
            provider_registrations::owner.eq(owner),
            provider_registrations::life.eq(life),
            provider_registrations::created_height.eq(created.map(|at| at.height)),
            provider_registrations::created_time.eq(created.map(|at| at.time)),
            provider_registrations::created_time_ms.eq(created.map(|at| at.time_ms)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that `owner` acted as a provider (its bid, or a lease from it): the chain takes those
/// only from a registered provider, so an owner with no registration indexed was registered
/// before the first indexed block (an index started mid-chain). An owner with any registration
/// is left as it is.
pub fn provider_acted(conn: &mut AnyConnection, owner: &str) -> Result<(), StoreError> {
    // Every owner with a registration has a life 0, so one that conflicts is known already.
    crate::on_backend!(conn, |c| diesel::insert_into(provider_registrations::table)
        .values((
            provider_registrations::owner.eq(owner),
            provider_registrations::life.eq(0),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Marks the provider deleted at `at`, ends its open registration there and withdraws everything
/// it advertised. The withdrawn rows keep `unset_height = deleted_height`, so the provider's last
/// advertised attributes stay readable ([`crate::chain::provider_last_attributes`]).
pub fn delete_provider(
    conn: &mut AnyConnection,
    owner: &str,
    at: BlockStamp<'_>,
) -> Result<(), StoreError> {
    let height = at.height;
    diesel::update(
        provider_registrations::table
            .filter(provider_registrations::owner.eq(owner))
            .filter(provider_registrations::deleted_height.is_null()),
    )
    .set((
        provider_registrations::deleted_height.eq(Some(height)),
        provider_registrations::deleted_time.eq(Some(at.time)),
        provider_registrations::deleted_time_ms.eq(Some(at.time_ms)),
    ))
    .execute(conn)?;
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

/// Makes `wanted` (`(key, value)` pairs, one per key) what `owner` advertises from the end of
/// block `height` on, keeping the history that [`crate::chain::provider_attributes_at`] reads: a changed
/// or withdrawn value gets `unset_height`, a new one a new row. A value set and replaced within
/// the same block leaves no history row, since no height's end ever showed it.
pub fn set_provider_attributes(
    conn: &mut AnyConnection,
    owner: &str,
    height: Height,
    wanted: &[(&str, &str)],
) -> Result<(), StoreError> {
    let current: Vec<(String, String, Height)> = provider_attributes::table
        .filter(provider_attributes::owner.eq(owner))
        .filter(provider_attributes::unset_height.is_null())
        .select((
            provider_attributes::key,
            provider_attributes::value,
            provider_attributes::set_height,
        ))
        .load(conn)?;
    let mut kept = HashSet::new();
    for (key, value, set_height) in &current {
        if wanted.iter().any(|(k, v)| k == key && v == value) {
            kept.insert(key.as_str());
            continue;
        }
        let row = provider_attributes::table
            .filter(provider_attributes::owner.eq(owner))
            .filter(provider_attributes::key.eq(key))
            .filter(provider_attributes::set_height.eq(set_height));
        if *set_height == height {
            diesel::delete(row).execute(conn)?;
        } else {
            diesel::update(row)
                .set(provider_attributes::unset_height.eq(Some(height)))
                .execute(conn)?;
        }
    }
    let new_rows: Vec<_> = wanted
        .iter()
        .filter(|(key, _)| !kept.contains(key))
        .map(|(key, value)| {
            (
                provider_attributes::owner.eq(owner),
                provider_attributes::key.eq(*key),
                provider_attributes::value.eq(*value),
                provider_attributes::set_height.eq(height),
            )
        })
        .collect();
    if new_rows.is_empty() {
        return Ok(());
    }
    // A row under the same key and height exists only if this block set, withdrew and sets the
    // value again (create, delete, create): the last value wins.
    crate::on_backend!(conn, |c| diesel::insert_into(provider_attributes::table)
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
    Ok(())
}
