//! Reads and writes for the uptime prober's tables: `probe_observations` and `probe_gpus`, plus
//! the list of providers to probe.
//!
//! Observations are keyed on `(prober, provider, time_ms)`. Writing is idempotent on that key: a
//! record whose key is already stored is never overwritten, so re-importing a file or replaying a
//! round cannot change what an auditor already saw. A second record under the same key is
//! reported as identical or conflicting instead, and the stored one wins.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;

use crate::probe_signatures::{insert_proofs, Proof};
use crate::schema::{probe_gpus, probe_observations, providers};
use crate::{AnyConnection, Store, StoreError};

/// Rows per INSERT statement: 14 columns × 500 stays far below SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters.
const INSERT_CHUNK: usize = 500;

/// The identity of one observation: who probed whom, when (unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObservationKey {
    /// The prober's id (vantage point).
    pub prober: String,
    /// The provider's owner address.
    pub provider: String,
    /// When the probe started, in unix milliseconds.
    pub time_ms: i64,
}

/// One stored probe of one provider, with the GPU nodes it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationRecord {
    /// Who probed whom, when.
    pub key: ObservationKey,
    /// The same instant as RFC 3339 UTC text (what exports show).
    pub time: String,
    /// Whether the provider answered both the version and the status request correctly.
    pub online: bool,
    /// How long the probe took, in milliseconds (absent in some imported data).
    pub latency_ms: Option<i64>,
    /// Why the probe failed, as a short code (`timeout`, `tls`, …).
    pub error_kind: Option<String>,
    /// The failure's message.
    pub error: Option<String>,
    /// The provider software version it reported.
    pub version: Option<String>,
    /// Hex SHA-256 of the provider's TLS certificate, so a changed certificate is visible.
    pub cert_sha256: Option<String>,
    /// Which status API answered: `grpc` or `rest`.
    pub status_api: Option<String>,
    /// One entry per node with GPUs, ordered by node name.
    pub gpus: Vec<GpuRecord>,
}

/// The GPUs of one node in one observation: sanitised counts next to the raw values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuRecord {
    /// The node's name (unique within the observation).
    pub node: String,
    /// GPU vendor (`nvidia`), when known.
    pub vendor: Option<String>,
    /// GPU model (`a100`); `None` when the node's class could not be determined.
    pub model: Option<String>,
    /// GPU memory size as Akash spells it (`80Gi`).
    pub ram: Option<String>,
    /// GPU interface (`pcie`, `sxm`).
    pub interface: Option<String>,
    /// Sanitised allocatable count.
    pub allocatable: i64,
    /// Sanitised allocated count (never above `allocatable`).
    pub allocated: i64,
    /// Allocatable as the provider sent it.
    pub raw_allocatable: String,
    /// Allocated as the provider sent it.
    pub raw_allocated: String,
    /// Every clamp applied, as comma-separated `field:reason` codes.
    pub clamps: Option<String>,
    /// Contradictions between the node's GPU info and its counts, comma-separated.
    pub flags: Option<String>,
}

/// What a write did with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Newly stored.
    Inserted,
    /// Its key was already stored (or came earlier in the same write) with exactly the same
    /// content: nothing to do.
    Identical,
    /// Its key was already stored with different content; the stored record was kept.
    Conflicting,
}

/// What a write did with each record, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsertSummary {
    /// One outcome per record.
    pub outcomes: Vec<InsertOutcome>,
}

impl InsertSummary {
    /// How many records had `outcome`.
    pub fn count(&self, outcome: InsertOutcome) -> usize {
        self.outcomes.iter().filter(|o| **o == outcome).count()
    }
}

/// A registered, not-deleted provider and where to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ProviderEndpoint {
    /// The provider's owner address.
    pub owner: String,
    /// The host URI it registered on chain (`https://provider.example.com:8443`).
    pub host_uri: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = probe_observations)]
struct ObservationRow {
    prober: String,
    provider: String,
    time: String,
    time_ms: i64,
    online: i32,
    latency_ms: Option<i64>,
    error_kind: Option<String>,
    error: Option<String>,
    version: Option<String>,
    cert_sha256: Option<String>,
    status_api: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = probe_gpus)]
struct GpuRow {
    prober: String,
    provider: String,
    time_ms: i64,
    node: String,
    vendor: Option<String>,
    model: Option<String>,
    ram: Option<String>,
    interface: Option<String>,
    allocatable: i64,
    allocated: i64,
    raw_allocatable: String,
    raw_allocated: String,
    clamps: Option<String>,
    flags: Option<String>,
}

impl ObservationRow {
    fn from_record(record: &ObservationRecord) -> Self {
        Self {
            prober: record.key.prober.clone(),
            provider: record.key.provider.clone(),
            time: record.time.clone(),
            time_ms: record.key.time_ms,
            online: i32::from(record.online),
            latency_ms: record.latency_ms,
            error_kind: record.error_kind.clone(),
            error: record.error.clone(),
            version: record.version.clone(),
            cert_sha256: record.cert_sha256.clone(),
            status_api: record.status_api.clone(),
        }
    }

    fn key(&self) -> ObservationKey {
        ObservationKey {
            prober: self.prober.clone(),
            provider: self.provider.clone(),
            time_ms: self.time_ms,
        }
    }

    fn into_record(self, gpus: Vec<GpuRecord>) -> ObservationRecord {
        ObservationRecord {
            key: self.key(),
            time: self.time,
            online: self.online != 0,
            latency_ms: self.latency_ms,
            error_kind: self.error_kind,
            error: self.error,
            version: self.version,
            cert_sha256: self.cert_sha256,
            status_api: self.status_api,
            gpus,
        }
    }
}

impl GpuRow {
    fn from_record(key: &ObservationKey, gpu: &GpuRecord) -> Self {
        Self {
            prober: key.prober.clone(),
            provider: key.provider.clone(),
            time_ms: key.time_ms,
            node: gpu.node.clone(),
            vendor: gpu.vendor.clone(),
            model: gpu.model.clone(),
            ram: gpu.ram.clone(),
            interface: gpu.interface.clone(),
            allocatable: gpu.allocatable,
            allocated: gpu.allocated,
            raw_allocatable: gpu.raw_allocatable.clone(),
            raw_allocated: gpu.raw_allocated.clone(),
            clamps: gpu.clamps.clone(),
            flags: gpu.flags.clone(),
        }
    }

    fn key(&self) -> ObservationKey {
        ObservationKey {
            prober: self.prober.clone(),
            provider: self.provider.clone(),
            time_ms: self.time_ms,
        }
    }

    fn into_record(self) -> GpuRecord {
        GpuRecord {
            node: self.node,
            vendor: self.vendor,
            model: self.model,
            ram: self.ram,
            interface: self.interface,
            allocatable: self.allocatable,
            allocated: self.allocated,
            raw_allocatable: self.raw_allocatable,
            raw_allocated: self.raw_allocated,
            clamps: self.clamps,
            flags: self.flags,
        }
    }
}

/// Stores `records` in one transaction: all of them or none. Keys already in the database (or
/// repeated within `records`) are not written again; the summary says which were identical and
/// which conflicted.
pub fn insert_observations(
    store: &mut Store,
    records: &[ObservationRecord],
) -> Result<InsertSummary, StoreError> {
    insert_proven_observations(store, records, &[])
}

/// [`insert_observations`], with what vouches for each record: `proofs[i]` belongs to
/// `records[i]` (missing entries are `None`). A proof is stored with a new record, and with an
/// identical one that has none yet; a conflicting record's proof is not.
pub fn insert_proven_observations(
    store: &mut Store,
    records: &[ObservationRecord],
    proofs: &[Option<Proof>],
) -> Result<InsertSummary, StoreError> {
    store.transaction(|conn| {
        let stored = stored_keys(conn, records)?;
        let mut outcomes = Vec::with_capacity(records.len());
        let mut fresh: BTreeMap<&ObservationKey, &ObservationRecord> = BTreeMap::new();
        for record in records {
            let earlier = match fresh.get(&record.key) {
                Some(earlier) => Some((*earlier).clone()),
                None if stored.contains(&record.key) => load_one(conn, &record.key)?,
                None => None,
            };
            outcomes.push(match earlier {
                Some(stored) if stored == *record => InsertOutcome::Identical,
                Some(_) => InsertOutcome::Conflicting,
                None => {
                    fresh.insert(&record.key, record);
                    InsertOutcome::Inserted
                }
            });
        }
        let observations: Vec<ObservationRow> = fresh
            .values()
            .map(|r| ObservationRow::from_record(r))
            .collect();
        let gpus: Vec<GpuRow> = fresh
            .values()
            .flat_map(|r| r.gpus.iter().map(|g| GpuRow::from_record(&r.key, g)))
            .collect();
        insert_rows(conn, &observations, &gpus)?;
        let proven: Vec<(&ObservationKey, &Proof)> = records
            .iter()
            .zip(&outcomes)
            .zip(proofs)
            .filter(|((_, outcome), _)| **outcome != InsertOutcome::Conflicting)
            .filter_map(|((record, _), proof)| proof.as_ref().map(|p| (&record.key, p)))
            .collect();
        insert_proofs(conn, &proven)?;
        Ok(InsertSummary { outcomes })
    })
}

/// The keys already stored among those of `records`: one query over the records' time span
/// (followed by a full comparison only for the keys that are found).
fn stored_keys(
    conn: &mut AnyConnection,
    records: &[ObservationRecord],
) -> Result<BTreeSet<ObservationKey>, StoreError> {
    let times = records.iter().map(|r| r.key.time_ms);
    let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
        return Ok(BTreeSet::new());
    };
    let wanted: BTreeSet<&ObservationKey> = records.iter().map(|r| &r.key).collect();
    let found: Vec<(String, String, i64)> = probe_observations::table
        .filter(probe_observations::time_ms.between(first, last))
        .select((
            probe_observations::prober,
            probe_observations::provider,
            probe_observations::time_ms,
        ))
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|(prober, provider, time_ms)| ObservationKey {
            prober,
            provider,
            time_ms,
        })
        .filter(|key| wanted.contains(key))
        .collect())
}

/// Multi-row INSERTs in chunks. diesel's MultiConnection cannot batch, so the statement is
/// issued on the concrete connection; the same expression serves both engines.
fn insert_rows(
    conn: &mut AnyConnection,
    observations: &[ObservationRow],
    gpus: &[GpuRow],
) -> Result<(), StoreError> {
    for chunk in observations.chunks(INSERT_CHUNK) {
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(
            probe_observations::table
        )
        .values(chunk)
        .execute(c))?;
    }
    for chunk in gpus.chunks(INSERT_CHUNK) {
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(probe_gpus::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

fn load_one(
    conn: &mut AnyConnection,
    key: &ObservationKey,
) -> Result<Option<ObservationRecord>, StoreError> {
    let row: Option<ObservationRow> = probe_observations::table
        .find((&key.prober, &key.provider, key.time_ms))
        .select(ObservationRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let gpus: Vec<GpuRow> = probe_gpus::table
        .filter(probe_gpus::prober.eq(&key.prober))
        .filter(probe_gpus::provider.eq(&key.provider))
        .filter(probe_gpus::time_ms.eq(key.time_ms))
        .order(probe_gpus::node)
        .select(GpuRow::as_select())
        .load(conn)?;
    Ok(Some(row.into_record(
        gpus.into_iter().map(GpuRow::into_record).collect(),
    )))
}

/// Up to `limit` observations with `from_ms ≤ time_ms < to_ms`, ordered by
/// `(time_ms, prober, provider)` and starting strictly after `after` (keyset paging, so an export
/// of any size is read a page at a time).
pub fn load_observations(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
    after: Option<&ObservationKey>,
    limit: usize,
) -> Result<Vec<ObservationRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut query = probe_observations::table
        .filter(probe_observations::time_ms.ge(from_ms))
        .filter(probe_observations::time_ms.lt(to_ms))
        .into_boxed();
    if let Some(after) = after {
        use probe_observations::{prober, provider, time_ms};
        query = query.filter(
            time_ms.gt(after.time_ms).or(time_ms.eq(after.time_ms).and(
                prober.gt(after.prober.clone()).or(prober
                    .eq(after.prober.clone())
                    .and(provider.gt(after.provider.clone()))),
            )),
        );
    }
    let rows: Vec<ObservationRow> = query
        .order((
            probe_observations::time_ms,
            probe_observations::prober,
            probe_observations::provider,
        ))
        .limit(limit)
        .select(ObservationRow::as_select())
        .load(conn)?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    // One query for the GPUs of the whole page: every row in the page's time span, keyed back.
    let mut gpus_by_key: BTreeMap<ObservationKey, Vec<GpuRecord>> = BTreeMap::new();
    let gpu_rows: Vec<GpuRow> = probe_gpus::table
        .filter(probe_gpus::time_ms.ge(first.time_ms))
        .filter(probe_gpus::time_ms.le(last.time_ms))
        .order((
            probe_gpus::time_ms,
            probe_gpus::prober,
            probe_gpus::provider,
            probe_gpus::node,
        ))
        .select(GpuRow::as_select())
        .load(conn)?;
    for row in gpu_rows {
        gpus_by_key
            .entry(row.key())
            .or_default()
            .push(row.into_record());
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let gpus = gpus_by_key.remove(&row.key()).unwrap_or_default();
            row.into_record(gpus)
        })
        .collect())
}

/// Every registered provider that has not been deleted, ordered by owner: the prober's targets.
pub fn active_providers(conn: &mut AnyConnection) -> Result<Vec<ProviderEndpoint>, StoreError> {
    Ok(providers::table
        .filter(providers::deleted_height.is_null())
        .order(providers::owner)
        .select((providers::owner, providers::host_uri))
        .load(conn)?)
}

/// Page size when reading a window's observations.
const WINDOW_PAGE: usize = 5_000;

/// Every stored observation that can matter for a window `[from_ms, to_ms)`: those made from
/// `from_ms − max_staleness_ms` on (an older one can no longer stand inside the window).
pub fn records_for_window(
    conn: &mut AnyConnection,
    from_ms: i64,
    to_ms: i64,
    max_staleness_ms: u64,
) -> Result<Vec<ObservationRecord>, StoreError> {
    let earliest = from_ms.saturating_sub(i64::try_from(max_staleness_ms).unwrap_or(i64::MAX));
    let mut records = Vec::new();
    let mut after: Option<ObservationKey> = None;
    loop {
        let page = load_observations(conn, earliest, to_ms, after.as_ref(), WINDOW_PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(last.key.clone());
        records.extend(page);
    }
    Ok(records)
}
