//! `leased_gpu_ms`: GPU time under lease, per class, from indexed leases.

use crate::calendar::Window;
use crate::programme::GpuClass;
use crate::registration::Registration;
use domain::{ClassName, UnixMs};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// A lease as the indexer records it (only the fields the rewards need).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Whole GPUs in the lease (`Resources.gpu.units × count`).
    pub gpu_units: u64,
    /// GPU model from the deployment's attributes, normalised by the indexer; `None` when
    /// unknown (for example `*`).
    pub model: Option<String>,
    /// GPU memory size (`80Gi`) when the attributes name one.
    pub ram: Option<String>,
    /// Block time of the lease's creation, truncated to milliseconds.
    pub created_ms: UnixMs,
    /// Block time of its closing; `None` while it is open.
    pub closed_ms: Option<UnixMs>,
}

impl Lease {
    /// The parts of the lease during which its provider was registered
    /// ([`crate::registration`]): a lease outlasting a deletion is cut there, and one that stays
    /// open while the registration does stays open.
    pub fn within(&self, registration: &Registration) -> Result<Vec<Lease>, LeaseError> {
        let end = self.end_or(UnixMs(i64::MAX))?;
        Ok(registration
            .clip(self.created_ms, end)
            .map(|(from, until)| Lease {
                created_ms: from,
                closed_ms: (until < UnixMs(i64::MAX)).then_some(until),
                ..self.clone()
            })
            .collect())
    }

    /// When the lease ends: its closing, or `open_end` while it is open. Refused when it closes
    /// before it was created.
    fn end_or(&self, open_end: UnixMs) -> Result<UnixMs, LeaseError> {
        match self.closed_ms {
            Some(closed_ms) if closed_ms < self.created_ms => Err(LeaseError {
                created_ms: self.created_ms,
                closed_ms,
            }),
            Some(closed_ms) => Ok(closed_ms),
            None => Ok(open_end),
        }
    }
}

/// Leased GPU-milliseconds in one window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeasedGpuMs {
    /// Per class name; classes without leases are absent.
    pub by_class: BTreeMap<ClassName, u128>,
    /// GPU-ms of leases whose model is unknown or matches no class, reported so nothing is
    /// silently dropped.
    pub unattributed: u128,
}

/// A lease whose dates make no sense.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "lease closed at {} before it was created at {}",
    .closed_ms.as_millis(),
    .created_ms.as_millis()
)]
pub struct LeaseError {
    /// Creation time.
    pub created_ms: UnixMs,
    /// Closing time.
    pub closed_ms: UnixMs,
}

/// `leased_gpu_ms` of each class over `window`: the sum over the leases whose model (and
/// memory size, where the class names one; see [`GpuClass::matches`]) match the class, of
/// `gpu_units × |[created, closed) ∩ window|` in milliseconds. An open lease runs to the
/// window's end. Leases of unknown model match no class and are counted in `unattributed`.
///
/// Pass one provider's leases to get that provider's measurement. Classes are assumed disjoint
/// (programme validation rejects overlapping classes); a lease counts in the first class it
/// matches.
pub fn leased_gpu_ms(
    leases: &[Lease],
    classes: &[GpuClass],
    window: Window,
) -> Result<LeasedGpuMs, LeaseError> {
    let mut out = LeasedGpuMs::default();
    for lease in leases {
        let end = lease.end_or(window.end_ms())?;
        let gpu_ms =
            u128::from(lease.gpu_units) * u128::from(window.overlap_ms(lease.created_ms, end));
        if gpu_ms == 0 {
            continue;
        }
        let class = lease.model.as_deref().and_then(|model| {
            classes
                .iter()
                .find(|c| c.matches(model, lease.ram.as_deref()))
        });
        let slot = match class {
            Some(class) => out.by_class.entry(class.name.clone()).or_default(),
            None => &mut out.unattributed,
        };
        *slot = slot.saturating_add(gpu_ms);
    }
    Ok(out)
}

/// The largest number of GPUs of each class under lease at any instant of `window`: what the
/// chain backs of a provider's self-reported capacity. Leases are half-open, so one ending as
/// another starts never counts twice. Pass one provider's leases; classes without leases in the
/// window are absent.
pub fn leased_peak_gpus(
    leases: &[Lease],
    classes: &[GpuClass],
    window: Window,
) -> Result<BTreeMap<ClassName, u64>, LeaseError> {
    let mut changes: BTreeMap<&ClassName, Vec<(UnixMs, i128)>> = BTreeMap::new();
    for lease in leases {
        let end = lease.end_or(window.end_ms())?.min(window.end_ms());
        let start = lease.created_ms.max(window.start_ms());
        let Some(class) = lease.model.as_deref().and_then(|model| {
            classes
                .iter()
                .find(|c| c.matches(model, lease.ram.as_deref()))
        }) else {
            continue;
        };
        if start >= end || lease.gpu_units == 0 {
            continue;
        }
        let units = i128::from(lease.gpu_units);
        let class_changes = changes.entry(&class.name).or_default();
        class_changes.push((start, units));
        class_changes.push((end, -units));
    }
    let mut peaks = BTreeMap::new();
    for (class, mut class_changes) in changes {
        // At one instant the ends come first: a lease is gone at its closing time.
        class_changes.sort_unstable();
        let (mut now, mut peak) = (0i128, 0i128);
        for (_, change) in class_changes {
            now += change;
            peak = peak.max(now);
        }
        peaks.insert(class.clone(), u64::try_from(peak).unwrap_or(u64::MAX));
    }
    Ok(peaks)
}
