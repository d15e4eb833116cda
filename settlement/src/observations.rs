//! Stored observations (the prober's, or imported ones) as input to the rewards engine's uptime
//! function ([`rewards::uptime::Timeline`]), which is the one definition of uptime and online GPU
//! count. It lives with settlement because only settlement turns observations into money; the
//! prober only records them.
//!
//! Each observation's GPUs are counted per programme class: a node counts toward the class whose
//! model and memory size match its own ([`GpuClass::matches`]), with its sanitised allocatable
//! count. Nodes without a class (no, mixed or invalid GPU info) count toward none. An online
//! observation always reports an inventory (possibly empty); an offline one reports none.

use std::collections::BTreeMap;
use std::sync::Arc;

use rewards::programme::GpuClass;
use rewards::uptime::Observation;
use store::probes::{GpuRecord, ObservationRecord};

/// The rewards engine's view of `records`, with GPU counts per class of `classes`.
pub fn rewards_observations(
    records: &[ObservationRecord],
    classes: &[GpuClass],
) -> Vec<Observation> {
    records
        .iter()
        .map(|record| Observation {
            prober: record.key.prober.as_str().into(),
            provider: record.key.provider.as_str().into(),
            time_ms: domain::UnixMs(record.key.time_ms),
            online: record.online,
            gpus: record
                .online
                .then(|| Arc::new(class_counts(&record.gpus, classes))),
        })
        .collect()
}

/// The GPUs of one online observation's nodes counted per class of `classes`: what
/// [`rewards_observations`] gives each. Public so that a reader of many observations that
/// repeat one inventory (`verify`) counts each distinct inventory once.
pub fn class_counts(gpus: &[GpuRecord], classes: &[GpuClass]) -> BTreeMap<domain::ClassName, u64> {
    let mut counts = BTreeMap::new();
    for gpu in gpus {
        let Some(model) = gpu.model.as_deref() else {
            continue;
        };
        // Classes of a valid programme never overlap; the first match is the only one.
        if let Some(class) = classes
            .iter()
            .find(|c| c.matches(model, gpu.ram.as_deref()))
        {
            let count = u64::try_from(gpu.allocatable).unwrap_or(0);
            *counts.entry(class.name.clone()).or_insert(0) += count;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(model: Option<&str>, ram: Option<&str>, allocatable: i64) -> GpuRecord {
        GpuRecord {
            node: format!("{model:?}{ram:?}{allocatable}"),
            vendor: None,
            model: model.map(Into::into),
            ram: ram.map(Into::into),
            interface: None,
            allocatable,
            allocated: 0,
            raw_allocatable: allocatable.to_string(),
            raw_allocated: "0".into(),
            clamps: None,
            flags: None,
        }
    }

    #[test]
    fn nodes_count_toward_the_matching_class_only() {
        let classes = vec![
            GpuClass {
                name: domain::ClassName::new("a100-80").unwrap(),
                gpu_model: domain::GpuModel::normalise("a100").unwrap(),
                gpu_ram: Some("80Gi".into()),
            },
            GpuClass {
                name: domain::ClassName::new("h100").unwrap(),
                gpu_model: domain::GpuModel::normalise("H100").unwrap(),
                gpu_ram: None,
            },
        ];
        let gpus = vec![
            gpu(Some("a100"), Some("80Gi"), 8),
            gpu(Some("a100"), Some("40Gi"), 4),
            gpu(Some("h100"), None, 2),
            gpu(Some("h100"), Some("80Gi"), 1),
            gpu(None, None, 16),
        ];
        let counts = class_counts(&gpus, &classes);
        assert_eq!(
            counts,
            BTreeMap::from([
                (domain::ClassName::new("a100-80").unwrap(), 8),
                (domain::ClassName::new("h100").unwrap(), 3)
            ])
        );
    }
}
