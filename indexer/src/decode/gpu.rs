//! The rules that tell which GPU model a lease got. (The attribute keys the rules read are
//! parsed by [`domain::gpu::GpuSpec`].)
//!
//! The model of a lease is taken from the first of these rules that names exactly one model
//! (`shared/fixtures/README.md`, "How the GPU model of a lease is known"):
//! 1. the GPU attributes of the winning bid's `resources_offer` (market v1beta4 and later);
//! 2. the GPU attributes of the group the lease fills;
//! 3. the models the group accepts intersected with those the provider advertised at the lease's
//!    height.
//!
//! Rules compare models exactly as the chain's own matching does; the model a rule decides is then
//! normalised with [`domain::GpuModel`], the normalisation probes go through, so a lease and a
//! probe of the same GPU agree on its name. When no rule names exactly one model (or the one it
//! names cannot be a model name) the model is unknown, never guessed. The ram is the one
//! the deciding rule names for that model, when all of its mentions of the model agree on one.

use domain::gpu::{is_true, GpuSpec};
use domain::GpuModel;

use crate::decode::facts::{Attribute, ResourceUnit};

/// The GPU model (and ram, when known) of a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseGpu {
    /// e.g. `h100`, normalised as probes' models are ([`domain::gpu`]).
    pub model: String,
    /// e.g. `80Gi`, when the deciding rule names one.
    pub ram: Option<String>,
}

/// Applies the three rules in order (see the module documentation).
///
/// * `offer`: the winning bid's resources offer (empty before market v1beta4 or when unknown);
/// * `group`: the resource units of the group the lease fills, when known;
/// * `provider_attributes`: what the provider advertised at the lease's height (empty when
///   unknown). It is only called when the first two rules do not decide, so a caller reading
///   the store pays for the query only then.
pub fn resolve_lease_gpu<E>(
    offer: &[ResourceUnit],
    group: Option<&[ResourceUnit]>,
    provider_attributes: impl FnOnce() -> Result<Vec<Attribute>, E>,
) -> Result<Option<LeaseGpu>, E> {
    if let Some(found) = single_model(&gpu_specs(offer)) {
        return Ok(Some(found));
    }
    let Some(group) = group else { return Ok(None) };
    let accepted = gpu_specs(group);
    if let Some(found) = single_model(&accepted) {
        return Ok(Some(found));
    }
    if group.iter().all(|unit| unit.gpu_units == 0) {
        return Ok(None);
    }
    let provider_attributes = provider_attributes()?;
    let advertised: Vec<GpuSpec<'_>> = provider_attributes
        .iter()
        .filter(|a| is_true(&a.value))
        .filter_map(|a| GpuSpec::parse_provider(&a.key))
        .filter(|spec| spec.model.is_some())
        .collect();
    // GPUs asked for without any GPU attribute: every advertised model is acceptable. (Keys
    // that name something unparseable are not "any": they match nothing.)
    let any_model = group
        .iter()
        .filter(|unit| unit.gpu_units > 0)
        .all(|unit| !unit.gpu_attributes.iter().any(|a| is_true(&a.value)));
    let matched: Vec<GpuSpec<'_>> = advertised
        .iter()
        .filter_map(|offered| {
            if any_model {
                return Some(*offered);
            }
            let wanted = accepted.iter().find(|wanted| offered.satisfies(wanted))?;
            Some(GpuSpec {
                ram: offered.ram.or(wanted.ram),
                interface: offered.interface.or(wanted.interface),
                ..*offered
            })
        })
        .collect();
    Ok(single_model(&matched))
}

/// The GPU specs named by the units that hold GPUs (true-valued, parseable keys only).
fn gpu_specs(units: &[ResourceUnit]) -> Vec<GpuSpec<'_>> {
    units
        .iter()
        .filter(|unit| unit.gpu_units > 0)
        .flat_map(|unit| &unit.gpu_attributes)
        .filter(|a| is_true(&a.value))
        .filter_map(|a| GpuSpec::parse(&a.key))
        .collect()
}

/// The one model the specs name, with the ram when every mention of it names the same one.
fn single_model(specs: &[GpuSpec<'_>]) -> Option<LeaseGpu> {
    let mut named = specs.iter().filter(|s| s.model.is_some());
    let first = named.next()?;
    let mut ram = first.ram;
    for spec in named {
        if (spec.vendor, spec.model) != (first.vendor, first.model) {
            return None;
        }
        if spec.ram != ram {
            ram = None;
        }
    }
    Some(LeaseGpu {
        model: GpuModel::normalise(first.model?)?.to_string(),
        ram: ram.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(key: &str) -> Attribute {
        Attribute {
            key: key.to_string(),
            value: "true".to_string(),
        }
    }

    fn unit(gpus: u64, keys: &[&str]) -> ResourceUnit {
        ResourceUnit {
            resource_id: 1,
            count: 1,
            cpu_millis: "1000".into(),
            memory_bytes: "1".into(),
            storage_bytes: "1".into(),
            gpu_units: gpus,
            gpu_attributes: keys.iter().map(|k| attr(k)).collect(),
        }
    }

    use std::convert::Infallible;

    /// The rules with the provider's attributes known up front.
    fn resolve(
        offer: &[ResourceUnit],
        group: Option<&[ResourceUnit]>,
        provider: Option<&[Attribute]>,
    ) -> Option<LeaseGpu> {
        resolve_lease_gpu(offer, group, || {
            Ok::<_, Infallible>(provider.map(<[Attribute]>::to_vec).unwrap_or_default())
        })
        .unwrap()
    }

    #[test]
    fn the_bid_offer_decides_first() {
        let offer = [unit(1, &["vendor/nvidia/model/a100/ram/40Gi"])];
        let group = [unit(
            1,
            &["vendor/nvidia/model/a100", "vendor/nvidia/model/h100"],
        )];
        let gpu = resolve(&offer, Some(&group), None).unwrap();
        assert_eq!(
            (gpu.model.as_str(), gpu.ram.as_deref()),
            ("a100", Some("40Gi"))
        );
    }

    #[test]
    fn the_group_decides_when_the_offer_names_no_single_model() {
        let offer = [unit(1, &["vendor/nvidia/model/*"])];
        let group = [unit(2, &["vendor/nvidia/model/h100"])];
        let gpu = resolve(&offer, Some(&group), None).unwrap();
        assert_eq!((gpu.model.as_str(), gpu.ram), ("h100", None));
        // Two rams for the one model: the model is known, the ram is not.
        let group = [unit(
            1,
            &[
                "vendor/nvidia/model/a100/ram/40Gi",
                "vendor/nvidia/model/a100/ram/80Gi",
            ],
        )];
        let gpu = resolve(&[], Some(&group), None).unwrap();
        assert_eq!((gpu.model.as_str(), gpu.ram), ("a100", None));
    }

    #[test]
    fn the_provider_narrows_a_choice_of_models() {
        let group = [unit(
            1,
            &["vendor/nvidia/model/h200", "vendor/nvidia/model/h100"],
        )];
        let provider = [
            attr("capabilities/gpu/vendor/nvidia/model/a100/ram/80Gi"),
            attr("capabilities/gpu/vendor/nvidia/model/h100/ram/80Gi"),
        ];
        let gpu = resolve(&[], Some(&group), Some(&provider)).unwrap();
        assert_eq!(
            (gpu.model.as_str(), gpu.ram.as_deref()),
            ("h100", Some("80Gi"))
        );
        // A wildcard group with a single-model provider.
        let any = [unit(4, &["vendor/nvidia/model/*"])];
        let single = [attr(
            "capabilities/gpu/vendor/nvidia/model/rtx4090/ram/24Gi",
        )];
        let gpu = resolve(&[], Some(&any), Some(&single)).unwrap();
        assert_eq!(
            (gpu.model.as_str(), gpu.ram.as_deref()),
            ("rtx4090", Some("24Gi"))
        );
        // A ram the provider does not have excludes that model.
        let wants_80 = [unit(
            1,
            &[
                "vendor/nvidia/model/a100/ram/80Gi",
                "vendor/nvidia/model/h200",
            ],
        )];
        let has_40 = [
            attr("capabilities/gpu/vendor/nvidia/model/a100/ram/40Gi"),
            attr("capabilities/gpu/vendor/nvidia/model/h200/ram/141Gi"),
        ];
        let gpu = resolve(&[], Some(&wants_80), Some(&has_40)).unwrap();
        assert_eq!(
            (gpu.model.as_str(), gpu.ram.as_deref()),
            ("h200", Some("141Gi"))
        );
    }

    #[test]
    fn an_ambiguous_or_unknown_model_stays_unknown() {
        let any = [unit(1, &["vendor/nvidia/model/*"])];
        let two = [
            attr("capabilities/gpu/vendor/nvidia/model/a100"),
            attr("capabilities/gpu/vendor/nvidia/model/h100"),
        ];
        assert_eq!(resolve(&[], Some(&any), Some(&two)), None);
        assert_eq!(resolve(&[], Some(&any), None), None, "provider unknown");
        assert_eq!(resolve(&[], None, Some(&two)), None, "group unknown");
        let no_gpu = [unit(0, &[])];
        assert_eq!(resolve(&[], Some(&no_gpu), Some(&two)), None);
        let asked = resolve_lease_gpu(&[], Some(&any), || Err("provider queried"));
        assert_eq!(asked, Err("provider queried"), "rule 3 needs the provider");
        let decided = [unit(1, &["vendor/nvidia/model/t4"])];
        let not_asked = resolve_lease_gpu(&[], Some(&decided), || Err("provider queried"));
        assert!(
            not_asked.unwrap().is_some(),
            "rule 2 decides without the provider"
        );
    }
}
