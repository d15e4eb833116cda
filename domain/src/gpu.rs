//! GPU models and interfaces, normalised once for every part of the system.
//!
//! A lease's GPU model comes from attribute keys on chain (`…/model/H100/…`), an observation's
//! from a provider's status endpoint (`"name": "H100"`), a class's from the configuration. They
//! must agree on one spelling or a provider's leased and online hours land in different classes.
//! The rule, applied by [`GpuModel::normalise`] wherever a model enters the system:
//!
//! * surrounding white space is removed;
//! * the name must be 1 to [`MAX_MODEL_CHARS`] characters of ASCII letters, digits, `-`, `_`,
//!   `.` or `+` (what Akash attribute keys allow); anything else is not a model;
//! * ASCII letters are lower-cased (`H100` → `h100`), as Akash's own attribute keys are written.
//!
//! GPU attribute keys have one grammar, read by [`GpuSpec`]: tenants name acceptable GPUs in a
//! group's resources as `vendor/<v>/model/<m>[/ram/<N>][/interface/<i>]` (`<m>` may be `*` for any
//! model); providers advertise theirs as the same path under `capabilities/gpu/`. Both count only
//! when the attribute's value is true ([`is_true`]).
//!
//! Vendors are lower-cased ([`normalise_vendor`]). Interfaces are lower-cased and folded to the two families the network prices differently:
//! every `sxm…` variant (`SXM4`, `sxm5`) is `sxm`, every `pcie…` variant is `pcie`
//! ([`normalise_interface`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest GPU model name accepted.
pub const MAX_MODEL_CHARS: usize = 64;

/// The prefix of provider GPU capability attributes.
const PROVIDER_GPU_PREFIX: &str = "capabilities/gpu/";

/// One GPU named by an attribute key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuSpec<'a> {
    /// Vendor, e.g. `nvidia`.
    pub vendor: &'a str,
    /// Model, e.g. `h100`; `None` for the wildcard `*`.
    pub model: Option<&'a str>,
    /// Memory, e.g. `80Gi`, when named.
    pub ram: Option<&'a str>,
    /// Interface, e.g. `pcie` or `sxm`, when named.
    pub interface: Option<&'a str>,
}

impl<'a> GpuSpec<'a> {
    /// Parses a tenant GPU key `vendor/<v>/model/<m>[/ram/<N>][/interface/<i>]`.
    ///
    /// `ram` and `interface` may come in either order, each at most once; any other shape is not
    /// a GPU key and yields `None`.
    pub fn parse(key: &'a str) -> Option<Self> {
        let mut parts = key.split('/');
        let (Some("vendor"), Some(vendor), Some("model"), Some(model)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if vendor.is_empty() || model.is_empty() {
            return None;
        }
        let mut spec = Self {
            vendor,
            model: (model != "*").then_some(model),
            ram: None,
            interface: None,
        };
        while let Some(name) = parts.next() {
            let value = parts.next().filter(|v| !v.is_empty())?;
            let slot = match name {
                "ram" => &mut spec.ram,
                "interface" => &mut spec.interface,
                _ => return None,
            };
            if slot.replace(value).is_some() {
                return None;
            }
        }
        Some(spec)
    }

    /// Parses a provider capability key `capabilities/gpu/vendor/<v>/model/<m>[…]`.
    pub fn parse_provider(key: &'a str) -> Option<Self> {
        Self::parse(key.strip_prefix(PROVIDER_GPU_PREFIX)?)
    }

    /// Whether a GPU the provider advertises (`self`) satisfies what a tenant accepts.
    pub fn satisfies(&self, accepted: &GpuSpec<'_>) -> bool {
        let compatible = |a: Option<&str>, b: Option<&str>| a.is_none() || b.is_none() || a == b;
        self.vendor == accepted.vendor
            && compatible(self.model, accepted.model)
            && compatible(self.ram, accepted.ram)
            && compatible(self.interface, accepted.interface)
    }
}

/// Whether an attribute value means true, as Go's `strconv.ParseBool` reads it.
pub fn is_true(value: &str) -> bool {
    matches!(value, "true" | "True" | "TRUE" | "t" | "T" | "1")
}

/// The GPU model names a provider advertises, normalised ([`domain::gpu`]), sorted and without
/// duplicates.
///
/// `attributes` are `(key, value)` pairs as the provider set them on chain.
pub fn provider_gpu_models<'a>(
    attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let mut models: Vec<String> = attributes
        .into_iter()
        .filter(|(_, value)| is_true(value))
        .filter_map(|(key, _)| GpuModel::normalise(GpuSpec::parse_provider(key)?.model?))
        .map(|model| model.to_string())
        .collect();
    models.sort();
    models.dedup();
    models
}

/// A GPU model's normalised name (`a100`, `h100`, `rtx4090`, `mi300x`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GpuModel(String);

impl GpuModel {
    /// The normalised model named by `raw`, or `None` when `raw` cannot name one (see the module
    /// docs).
    pub fn normalise(raw: &str) -> Option<Self> {
        attribute_text(raw, MAX_MODEL_CHARS).map(|name| Self(name.to_ascii_lowercase()))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for GpuModel {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::normalise(&raw).ok_or_else(|| format!("{raw:?} is not a GPU model name"))
    }
}

impl From<GpuModel> for String {
    fn from(model: GpuModel) -> Self {
        model.0
    }
}

impl AsRef<str> for GpuModel {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GpuModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `raw` without surrounding white space, when it is 1 to `max` characters of what Akash
/// attribute keys allow (ASCII letters, digits, `-`, `_`, `.`, `+`): the shape every GPU
/// attribute (model, vendor, memory size, interface) must have to be believed.
pub fn attribute_text(raw: &str, max: usize) -> Option<&str> {
    let trimmed = raw.trim();
    let ok = !trimmed.is_empty()
        && trimmed.chars().count() <= max
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    ok.then_some(trimmed)
}

/// A GPU vendor lower-cased (`NVIDIA` → `nvidia`), as Akash attribute keys name vendors.
pub fn normalise_vendor(raw: &str) -> String {
    raw.to_ascii_lowercase()
}

/// A GPU interface lower-cased, with every `sxm…` variant folded to `sxm` and every `pcie…`
/// variant to `pcie`; other interfaces keep their (lower-cased) name.
pub fn normalise_interface(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("sxm") {
        "sxm".to_string()
    } else if lower.starts_with("pcie") {
        "pcie".to_string()
    } else {
        lower
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_with_optional_ram_and_interface() {
        let full = GpuSpec::parse("vendor/nvidia/model/h100/ram/80Gi/interface/pcie").unwrap();
        assert_eq!(
            full,
            GpuSpec {
                vendor: "nvidia",
                model: Some("h100"),
                ram: Some("80Gi"),
                interface: Some("pcie"),
            }
        );
        let swapped = GpuSpec::parse("vendor/nvidia/model/h100/interface/sxm/ram/80Gi").unwrap();
        assert_eq!(
            (swapped.ram, swapped.interface),
            (Some("80Gi"), Some("sxm"))
        );
        assert_eq!(GpuSpec::parse("vendor/nvidia/model/*").unwrap().model, None);
        let provider =
            GpuSpec::parse_provider("capabilities/gpu/vendor/nvidia/model/a100/ram/40Gi");
        assert_eq!(provider.unwrap().ram, Some("40Gi"));
        for bad in [
            "vendor/nvidia",
            "vendor//model/h100",
            "vendor/nvidia/model/",
            "vendor/nvidia/model/h100/ram",
            "vendor/nvidia/model/h100/ram/80Gi/ram/40Gi",
            "vendor/nvidia/model/h100/colour/green",
            "capabilities/gpu/vendor/nvidia/model/h100",
            "region",
        ] {
            assert_eq!(GpuSpec::parse(bad), None, "{bad} is not a tenant GPU key");
        }
        assert_eq!(
            GpuSpec::parse_provider("capabilities/storage/1/class"),
            None
        );
    }

    #[test]
    fn provider_models_are_sorted_unique_and_only_true_ones() {
        let attributes = [
            ("capabilities/gpu/vendor/nvidia/model/h100/ram/80Gi", "true"),
            ("capabilities/gpu/vendor/nvidia/model/a100/ram/40Gi", "true"),
            ("capabilities/gpu/vendor/nvidia/model/A100/ram/80Gi", "true"),
            ("host", "true"),
            ("capabilities/gpu/vendor/nvidia/model/t4", "false"),
        ];
        assert_eq!(provider_gpu_models(attributes), ["a100", "h100"]);
    }

    #[test]
    fn chain_and_probe_spellings_agree() {
        let from_chain = GpuModel::normalise("h100").unwrap();
        let from_probe = GpuModel::normalise(" H100 ").unwrap();
        assert_eq!(from_chain, from_probe);
        assert_eq!(from_probe.as_str(), "h100");
        assert_eq!(GpuModel::normalise("RTX4090").unwrap().as_str(), "rtx4090");
    }

    #[test]
    fn what_cannot_be_a_model_is_refused() {
        for bad in ["", "   ", "a100/80", "h 100", "ü", &"x".repeat(65)] {
            assert_eq!(GpuModel::normalise(bad), None, "{bad:?}");
        }
        assert!(GpuModel::normalise(&"x".repeat(64)).is_some());
    }

    #[test]
    fn interfaces_fold_to_their_family() {
        assert_eq!(normalise_interface("SXM4"), "sxm");
        assert_eq!(normalise_interface("sxm5"), "sxm");
        assert_eq!(normalise_interface("PCIe"), "pcie");
        assert_eq!(normalise_interface("pcie-gen5"), "pcie");
        assert_eq!(normalise_interface("NVLink"), "nvlink");
        assert_eq!(normalise_vendor("NVIDIA"), "nvidia");
    }
}
