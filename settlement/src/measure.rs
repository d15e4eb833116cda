//! Measuring one epoch from the store: leased GPU time, uptime and online GPU time per provider
//! and class, as the rewards engine's [`EpochInputs`] plus an audit record and its hash.
//!
//! The arithmetic is the rewards crate's ([`leased_gpu_ms`], [`Timeline`]); the stored
//! observations become its input through one conversion
//! ([`crate::observations::rewards_observations`]). This module only decides what is read and
//! who is measured:
//!
//! * **Leases:** every lease whose `[created, closed)` meets the window (an open lease runs to the
//!   window's end). A lease whose GPU count is unknown (its group was never indexed) cannot be
//!   measured; it is counted in [`ProviderMeasurement::unsized_leases`] rather than dropped
//!   silently. Leases of unknown model land in `unattributed_leased_gpu_ms`.
//! * **Observations:** every observation from `start − max_staleness` to the window's end: an
//!   older one can no longer stand inside the window. Of these, a provider's `observations`
//!   count keeps those that do stand inside it for some time (`rewards::uptime`'s rule 1): one
//!   that went stale or was replaced by its prober's next one before the start is still read
//!   (and published), but it says nothing about the epoch.
//! * **Registrations:** the spans in which each address was a provider registered on chain that
//!   meet the window. An address is measured only while registered (`rewards::registration`):
//!   its observations count only there (the uptime module's rule 6) and its leases only for
//!   their registered part. [`ProviderMeasurement::registered_ms`] says how long that was.
//! * **Who is measured:** every provider with a lease or an observation among those, and every
//!   provider of a committed contract or an R&D grant. A contract provider with nothing observed
//!   is offline: uptime 0, no online capacity. An address observed but never registered in the
//!   window stays in the record, with `registered_ms` 0 and nothing measured; a contract or
//!   grant of such a provider is not paid (`PROVIDER_NOT_REGISTERED`).
//! * **Which classes enter the engine's inputs:** for each measured provider, the classes in
//!   which it has online or leased GPU time, plus the classes of its contracts (so the SLA sees
//!   its measured uptime even with zero capacity). A provider without any of these is still in
//!   the audit record, with its uptime.
//!
//! The record ([`EpochMeasurements`]) is serialised canonically (see
//! [`EpochMeasurements::canonical_json`]) and hashed with SHA-256: the hash sealed with an epoch
//! lets anyone check that the published inputs are the ones that were settled, and lets a later
//! run detect data that arrived after sealing.

use std::collections::{BTreeMap, BTreeSet};

use domain::{ClassName, UnixMs};
use rewards::calendar::{DurationMs, Window};
use rewards::leases::{leased_gpu_ms, leased_peak_gpus, Lease};
use rewards::programme::Programme;
use rewards::registration::{RegisteredSpan, Registration};
use rewards::uptime::{Observation, Timeline, Uptime, UptimeError};
use rewards::{EpochInputs, Measurement};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::chain::{leases_overlapping, registrations_overlapping, LeaseRow, RegistrationRow};
use store::probe_signatures::{proofs_between, Proof};
use store::probes::{records_for_window, ObservationKey, ObservationRecord};
use store::Store;

use crate::observations::rewards_observations;

use crate::SettlementError;

/// A provider's GPU time in one class over the epoch, and its self-reported capacity beside
/// what the chain backs of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassMeasurement {
    /// `∫ online GPU count dt`, in GPU-ms.
    pub online_gpu_ms: u128,
    /// `Σ gpu_units × |lease ∩ epoch|`, in GPU-ms.
    pub leased_gpu_ms: u128,
    /// The online GPU count the provider's own status reported for most of the epoch
    /// ([`Timeline::online_gpus_most_of`]). Inventory is self-reported: nothing on chain proves it.
    pub reported_gpus: u64,
    /// The most GPUs under lease at once during the epoch
    /// ([`rewards::leases::leased_peak_gpus`]): the part of the capacity the chain backs.
    pub leased_peak_gpus: u64,
}

/// A provider whose self-reported capacity in a class went beyond what its leases ever backed
/// ([`EpochMeasurements::unverified_capacity`]): for the administrator to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedCapacity {
    /// The provider.
    pub provider: String,
    /// The class.
    pub class: ClassName,
    /// [`ClassMeasurement::reported_gpus`].
    pub reported_gpus: u64,
    /// [`ClassMeasurement::leased_peak_gpus`].
    pub leased_peak_gpus: u64,
}

/// Everything measured for one provider over one epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMeasurement {
    /// Milliseconds of the window during which the address was a registered provider; nothing
    /// outside them is measured.
    pub registered_ms: u64,
    /// Observations of the provider (all probers) that stand inside the window for some time
    /// while it is registered ([`rewards::uptime::Timeline::observations_standing_in`]).
    pub observations: u64,
    /// Leases of the provider overlapping the window, including those of unknown size.
    pub leases: u64,
    /// Online fraction of the epoch, exact.
    pub uptime: Uptime,
    /// Per class entering the engine's inputs (see the module docs).
    pub classes: BTreeMap<ClassName, ClassMeasurement>,
    /// Leased GPU-ms of leases whose model is unknown or matches no class.
    pub unattributed_leased_gpu_ms: u128,
    /// Overlapping leases whose GPU count is unknown, so their GPU time could not be measured.
    pub unsized_leases: u64,
}

/// The audit record of one epoch's measurements: what the engine was given, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochMeasurements {
    /// Epoch index.
    pub epoch: u32,
    /// The epoch's window.
    pub window: Window,
    /// The staleness the uptime was measured with, in milliseconds.
    pub max_staleness_ms: DurationMs,
    /// Per provider address.
    pub providers: BTreeMap<String, ProviderMeasurement>,
}

impl EpochMeasurements {
    /// The engine's inputs: one [`Measurement`] per provider and class listed in the record, and
    /// the providers registered at no time in the window.
    pub fn inputs(&self) -> EpochInputs {
        let mut inputs = EpochInputs::default();
        for (provider, measured) in &self.providers {
            if measured.registered_ms == 0 {
                inputs.unregistered.insert(provider.clone());
            }
            for (class, gpu) in &measured.classes {
                inputs.insert(
                    class,
                    provider,
                    Measurement {
                        online_gpu_ms: gpu.online_gpu_ms,
                        leased_gpu_ms: gpu.leased_gpu_ms,
                        uptime: measured.uptime,
                    },
                );
            }
        }
        inputs
    }

    /// The canonical serialisation that is hashed and stored: compact JSON, struct fields in
    /// declaration order, maps sorted by key (they are `BTreeMap`s), integers as JSON numbers.
    pub fn canonical_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Σ GPU-ms under leases that match no class, over all providers.
    pub fn unattributed_leased_gpu_ms(&self) -> u128 {
        self.providers
            .values()
            .map(|p| p.unattributed_leased_gpu_ms)
            .fold(0, u128::saturating_add)
    }

    /// The (provider, class) pairs whose reported online GPUs exceeded their leased peak by more
    /// than `warn_gpus` for most of the epoch, in (provider, class) order.
    pub fn unverified_capacity(&self, warn_gpus: u64) -> Vec<UnverifiedCapacity> {
        let mut found = Vec::new();
        for (provider, measured) in &self.providers {
            for (class, gpu) in &measured.classes {
                if gpu.reported_gpus > gpu.leased_peak_gpus.saturating_add(warn_gpus) {
                    found.push(UnverifiedCapacity {
                        provider: provider.clone(),
                        class: class.clone(),
                        reported_gpus: gpu.reported_gpus,
                        leased_peak_gpus: gpu.leased_peak_gpus,
                    });
                }
            }
        }
        found
    }

    /// Σ overlapping leases whose GPU count is unknown, over all providers.
    pub fn unsized_leases(&self) -> u64 {
        self.providers
            .values()
            .map(|p| p.unsized_leases)
            .fold(0, u64::saturating_add)
    }
}

/// One measured epoch: the record, the engine's inputs derived from it, and their hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredEpoch {
    /// The audit record.
    pub measurements: EpochMeasurements,
    /// What the rewards engine settles on ([`EpochMeasurements::inputs`]).
    pub inputs: EpochInputs,
    /// [`EpochMeasurements::canonical_json`], exactly the text that is hashed and stored.
    pub canonical_json: String,
    /// Lower-case hex SHA-256 of `canonical_json`.
    pub inputs_hash: String,
}

impl MeasuredEpoch {
    /// Derives the inputs and the hash of a record.
    pub fn from_measurements(measurements: EpochMeasurements) -> Result<Self, SettlementError> {
        let canonical_json = measurements.canonical_json()?;
        Ok(MeasuredEpoch {
            inputs: measurements.inputs(),
            inputs_hash: sha256_hex(&canonical_json),
            canonical_json,
            measurements,
        })
    }
}

/// Lower-case hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A provider's raw material: its registration, its observations and its overlapping leases.
#[derive(Default)]
struct Material<'a> {
    registration: Registration,
    observations: Vec<&'a Observation>,
    leases: Vec<Lease>,
    lease_count: u64,
    unsized_leases: u64,
}

/// What one epoch is measured from: the registrations and leases overlapping its window and
/// every observation that can stand inside it. A published report holds exactly these, so that
/// `verify` can measure the epoch again without the store ([`measure_material`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpochMaterial {
    /// Registrations meeting the window, by owner, then life, as they stood at its end
    /// ([`RegistrationRow::as_of`]).
    pub registrations: Vec<RegistrationRow>,
    /// Leases whose `[created, closed)` meets the window, in key order, as they stood at its
    /// end ([`LeaseRow::as_of`]).
    pub leases: Vec<LeaseRow>,
    /// Observations from `start − max_staleness` to the window's end, every vantage point.
    pub observations: Vec<ObservationRecord>,
    /// What vouches for those observations that have a proof (signature or unsigned import), by
    /// key: published beside them, never measured. Only the material of a report has them
    /// ([`crate::sealed::read_sealed`] reads them with [`read_proofs`]); material read to measure,
    /// or back from a report (whose signatures are checked as it is read), leaves them empty.
    pub proofs: BTreeMap<ObservationKey, Proof>,
}

/// Reads epoch `epoch`'s [`EpochMaterial`] from the store. Reads only.
pub fn read_material(
    store: &mut Store,
    programme: &Programme,
    epoch: u32,
    max_staleness_ms: DurationMs,
) -> Result<EpochMaterial, SettlementError> {
    let window = programme.calendar.window(epoch)?;
    if max_staleness_ms == 0 {
        return Err(SettlementError::ZeroStaleness);
    }
    let (start, end) = (window.start_ms().0, window.end_ms().0);
    // As they stood when the window ended: what a later close or deletion adds would make an
    // epoch's material, and so its bundle, depend on when it was read, and measures nothing.
    let registrations = registrations_overlapping(store.conn(), start, end)?
        .into_iter()
        .map(|row| row.as_of(end))
        .collect();
    let leases = leases_overlapping(store.conn(), start, end)?
        .into_iter()
        .map(|row| row.as_of(end))
        .collect();
    let observations = records_for_window(
        store.conn(),
        window.start_ms().0,
        window.end_ms().0,
        max_staleness_ms,
    )?;
    Ok(EpochMaterial {
        registrations,
        leases,
        observations,
        proofs: BTreeMap::new(),
    })
}

/// What vouches for each of `observations` that has a proof, by key: what a report publishes
/// beside them ([`EpochMaterial::proofs`]). Reads only.
pub fn read_proofs(
    store: &mut Store,
    observations: &[ObservationRecord],
) -> Result<BTreeMap<ObservationKey, Proof>, SettlementError> {
    let times = observations.iter().map(|o| o.key.time_ms);
    let (Some(from), Some(to)) = (times.clone().min(), times.max()) else {
        return Ok(BTreeMap::new());
    };
    let mut proofs = proofs_between(store.conn(), from, to)?;
    let read: BTreeSet<&ObservationKey> = observations.iter().map(|o| &o.key).collect();
    proofs.retain(|key, _| read.contains(key));
    Ok(proofs)
}

/// Measures epoch `epoch` of `programme` from the store (see the module docs for what is read
/// and who is measured). Reads only; the store is not changed.
pub fn measure_epoch(
    store: &mut Store,
    programme: &Programme,
    epoch: u32,
    max_staleness_ms: DurationMs,
) -> Result<MeasuredEpoch, SettlementError> {
    let material = read_material(store, programme, epoch, max_staleness_ms)?;
    measure_material(programme, epoch, max_staleness_ms, &material)
}

/// Measures epoch `epoch` from its material alone: the pure half of [`measure_epoch`], which
/// `verify` runs on a published report's leases and observations.
pub fn measure_material(
    programme: &Programme,
    epoch: u32,
    max_staleness_ms: DurationMs,
    material: &EpochMaterial,
) -> Result<MeasuredEpoch, SettlementError> {
    let observations = rewards_observations(&material.observations, &programme.gpu_classes);
    measure_observed(
        programme,
        epoch,
        max_staleness_ms,
        &material.registrations,
        &material.leases,
        &observations,
    )
}

/// [`measure_material`] with the observations already in the engine's form
/// ([`rewards_observations`]): how `verify` measures a published epoch, whose rows it turns
/// into [`Observation`]s without building each stored record.
pub fn measure_observed(
    programme: &Programme,
    epoch: u32,
    max_staleness_ms: DurationMs,
    registration_rows: &[RegistrationRow],
    leases: &[LeaseRow],
    observations: &[Observation],
) -> Result<MeasuredEpoch, SettlementError> {
    let window = programme.calendar.window(epoch)?;
    if max_staleness_ms == 0 {
        return Err(SettlementError::ZeroStaleness);
    }
    let mut registrations = registrations(registration_rows)?;
    // Grouped in a hash map, whose lookup of an address costs one hash rather than the string
    // comparisons of an ordered map's search (once per observation, this is measuring's hot
    // path); the providers are then measured in address order.
    let mut grouped: foldhash::HashMap<&str, Material> = foldhash::HashMap::default();
    for span in leases {
        let entry = grouped.entry(&span.id.provider).or_default();
        entry.lease_count += 1;
        match lease(span)? {
            Some(lease) => entry.leases.push(lease),
            None => entry.unsized_leases += 1,
        }
    }
    for observation in observations {
        grouped
            .entry(&observation.provider)
            .or_default()
            .observations
            .push(observation);
    }
    let mut contract_classes: BTreeMap<&str, BTreeSet<&ClassName>> = BTreeMap::new();
    for contract in programme.committed.iter().flat_map(|pool| &pool.contracts) {
        grouped.entry(&contract.provider).or_default();
        contract_classes
            .entry(&contract.provider)
            .or_default()
            .insert(&contract.class);
    }
    for grant in programme.rnd.iter().flat_map(|pool| &pool.grants) {
        grouped.entry(&grant.provider).or_default();
    }
    let by_provider: BTreeMap<&str, Material> = grouped.into_iter().collect();
    let mut providers = BTreeMap::new();
    for (provider, mut material) in by_provider {
        material.registration = registrations.remove(provider).unwrap_or_default();
        let no_contract = BTreeSet::new();
        let contracts = contract_classes.get(provider).unwrap_or(&no_contract);
        let measured = measure_provider(
            programme,
            window,
            max_staleness_ms,
            provider,
            &material,
            contracts,
        )?;
        providers.insert(provider.to_owned(), measured);
    }
    MeasuredEpoch::from_measurements(EpochMeasurements {
        epoch,
        window,
        max_staleness_ms,
        providers,
    })
}

/// Each owner's [`Registration`]: the union of its rows.
fn registrations(
    rows: &[RegistrationRow],
) -> Result<BTreeMap<String, Registration>, SettlementError> {
    let mut spans: BTreeMap<&str, Vec<RegisteredSpan>> = BTreeMap::new();
    for row in rows {
        let corrupt = |problem: &str| {
            SettlementError::corrupt(format!("registration of provider {}", row.owner), problem)
        };
        if row.created_height.is_some() != row.created_time_ms.is_some() {
            return Err(corrupt(
                "a creation height without a time, or a time without a height",
            ));
        }
        if row.deleted_height.is_some() != row.deleted_time_ms.is_some() {
            return Err(corrupt(
                "a deletion height without a time, or a time without a height",
            ));
        }
        spans.entry(&row.owner).or_default().push(RegisteredSpan {
            from_ms: row.created_time_ms.map(UnixMs),
            until_ms: row.deleted_time_ms.map(UnixMs),
        });
    }
    spans
        .into_iter()
        .map(|(owner, spans)| {
            let registration = Registration::new(spans).map_err(|e| {
                SettlementError::corrupt(format!("registration of provider {owner}"), e)
            })?;
            Ok((owner.to_owned(), registration))
        })
        .collect()
}

/// The rewards crate's view of a stored lease; `None` when its GPU count is unknown.
fn lease(span: &LeaseRow) -> Result<Option<Lease>, SettlementError> {
    let Some(units) = span.gpu_units else {
        return Ok(None);
    };
    let gpu_units = u64::try_from(units).map_err(|_| {
        SettlementError::corrupt(
            format!("lease {}", span.id),
            format!("negative GPU count {units}"),
        )
    })?;
    Ok(Some(Lease {
        gpu_units,
        model: span.gpu_model.clone(),
        ram: span.gpu_ram.clone(),
        created_ms: UnixMs(span.created_time_ms),
        closed_ms: span.closed_time_ms.map(UnixMs),
    }))
}

fn measure_provider(
    programme: &Programme,
    window: Window,
    max_staleness_ms: DurationMs,
    provider: &str,
    material: &Material<'_>,
    contract_classes: &BTreeSet<&ClassName>,
) -> Result<ProviderMeasurement, SettlementError> {
    let uptime_error = |source: UptimeError| SettlementError::Uptime {
        provider: provider.to_owned(),
        source,
    };
    let lease_error = |source| SettlementError::Lease {
        provider: provider.to_owned(),
        source,
    };
    let registration = &material.registration;
    let observations = material.observations.iter().copied();
    let timeline = Timeline::build(provider, observations, max_staleness_ms)
        .map_err(uptime_error)?
        .within(registration);
    let mut registered_leases = Vec::with_capacity(material.leases.len());
    for lease in &material.leases {
        registered_leases.extend(lease.within(registration).map_err(lease_error)?);
    }
    let leased =
        leased_gpu_ms(&registered_leases, &programme.gpu_classes, window).map_err(lease_error)?;
    let peaks = leased_peak_gpus(&registered_leases, &programme.gpu_classes, window)
        .map_err(lease_error)?;
    let mut classes = BTreeMap::new();
    for class in &programme.gpu_classes {
        let gpu = ClassMeasurement {
            online_gpu_ms: timeline.online_gpu_ms(&class.name, window),
            leased_gpu_ms: leased.by_class.get(&class.name).copied().unwrap_or(0),
            reported_gpus: timeline.online_gpus_most_of(&class.name, window),
            leased_peak_gpus: peaks.get(&class.name).copied().unwrap_or(0),
        };
        let has_time = gpu.online_gpu_ms > 0 || gpu.leased_gpu_ms > 0;
        if has_time || contract_classes.contains(&class.name) {
            classes.insert(class.name.clone(), gpu);
        }
    }
    Ok(ProviderMeasurement {
        registered_ms: registration.registered_ms(window),
        observations: timeline.observations_standing_in(window),
        leases: material.lease_count,
        uptime: timeline.uptime(window),
        classes,
        unattributed_leased_gpu_ms: leased.unattributed,
        unsized_leases: material.unsized_leases,
    })
}
