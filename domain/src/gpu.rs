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
//! Interfaces are lower-cased and folded to the two families the network prices differently:
//! every `sxm…` variant (`SXM4`, `sxm5`) is `sxm`, every `pcie…` variant is `pcie`
//! ([`normalise_interface`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest GPU model name accepted.
pub const MAX_MODEL_CHARS: usize = 64;

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
    }
}
