//! Turning what a provider says about its GPUs into counts a rewards engine can use.
//!
//! Provider inventory has been wrong in every way users have reported: u64 underflow
//! (`18446744073709551615`), negative counts, millions of GPUs per node, allocation above
//! capacity (akash-network/support#137, #429, #198). Each node's counts are therefore clamped to
//! `0 ≤ allocated ≤ allocatable ≤ max_gpus_per_node`, and, when the node describes its devices,
//! `allocatable ≤ number of GPUs described`. Every clamp is kept as a [`Clamp`] next to the raw
//! text, and contradictions between the description and the counts are kept as [`InfoFlag`]s, so
//! an auditor can see exactly what was changed and why.
//!
//! A node's GPU class (vendor, model, memory, interface) is taken from its device list only when
//! every device agrees; a node with no, mixed or invalid descriptions gets no class, and so earns
//! nothing class-specific: capacity that cannot be identified is not paid for.

use std::collections::BTreeSet;
use std::fmt;

use domain::gpu::attribute_text;
use domain::{normalise_interface, normalise_vendor, GpuModel};

use crate::quantity::{self, Quantity};
use crate::text::clean;

/// Longest node name kept (the Kubernetes limit for object names).
const MAX_NODE_NAME: usize = 253;
/// Longest vendor, memory size or interface accepted.
const MAX_ATTRIBUTE: usize = 32;

/// One GPU device as the provider describes it (gRPC `akash.inventory.v1.GPUInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawGpuInfo {
    /// Vendor name (`nvidia`).
    pub vendor: String,
    /// Model name (`a100`).
    pub name: String,
    /// Memory size (`80Gi`).
    pub memory_size: String,
    /// Interface (`SXM4`, `PCIe`).
    pub interface: String,
}

/// How a node's allocated count was reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawAllocated {
    /// Sent directly (gRPC `ResourcePair.allocated`).
    Reported(Option<String>),
    /// Derived as allocatable − available (REST `/status` only reports what is available).
    FromAvailable(Option<String>),
}

/// A node's GPU section exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawNode {
    /// The node's name.
    pub name: String,
    /// Allocatable GPUs as sent (a k8s quantity); `None` when absent, which means zero.
    pub allocatable: Option<String>,
    /// Allocated GPUs as sent.
    pub allocated: RawAllocated,
    /// Device descriptions; `None` when the API has no such field (REST).
    pub info: Option<Vec<RawGpuInfo>>,
}

/// Which count a clamp changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountField {
    /// The allocatable count.
    Allocatable,
    /// The allocated count.
    Allocated,
}

/// Why a count was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClampReason {
    /// Not a k8s quantity; taken as 0.
    Unparseable,
    /// Below zero; taken as 0.
    Negative,
    /// Not a whole number; rounded down.
    Fractional,
    /// Above `max_gpus_per_node`; lowered to it.
    AboveMaxPerNode,
    /// Above the number of devices the node describes; lowered to that number.
    AboveGpuInfo,
    /// Allocated above allocatable; lowered to allocatable.
    AboveAllocatable,
}

impl CountField {
    /// The field's name in stored clamp codes and metric labels.
    pub fn code(self) -> &'static str {
        match self {
            Self::Allocatable => "allocatable",
            Self::Allocated => "allocated",
        }
    }
}

impl ClampReason {
    /// The stable code stored in the database and used as a metric label.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unparseable => "unparseable",
            Self::Negative => "negative",
            Self::Fractional => "fractional",
            Self::AboveMaxPerNode => "above_max_per_node",
            Self::AboveGpuInfo => "above_gpu_info",
            Self::AboveAllocatable => "above_allocatable",
        }
    }
}

/// One change made to one count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Clamp {
    /// The count changed.
    pub field: CountField,
    /// Why.
    pub reason: ClampReason,
}

impl fmt::Display for Clamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.field.code(), self.reason.code())
    }
}

/// A contradiction between a node's device descriptions and its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InfoFlag {
    /// The number of devices described differs from the reported allocatable count.
    InfoCountMismatch,
    /// The node reports GPUs but describes none.
    NoGpuInfo,
    /// The devices described are of more than one class.
    MixedModels,
    /// A description is unusable (empty model, overlong or odd text).
    InvalidGpuInfo,
}

impl InfoFlag {
    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::InfoCountMismatch => "info_count_mismatch",
            Self::NoGpuInfo => "no_gpu_info",
            Self::MixedModels => "mixed_models",
            Self::InvalidGpuInfo => "invalid_gpu_info",
        }
    }
}

/// A GPU class as Akash attributes spell it, normalised by [`domain::gpu`] (lower case; `sxm*` →
/// `sxm`, `pcie*` → `pcie`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuClass {
    /// Vendor (`nvidia`), when described.
    pub vendor: Option<String>,
    /// Model (`a100`).
    pub model: String,
    /// Memory size (`80Gi`), when described.
    pub ram: Option<String>,
    /// Interface (`pcie`, `sxm`), when described.
    pub interface: Option<String>,
}

/// A node's GPUs after sanitising.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeGpus {
    /// The node's name, cleaned and unique within the observation.
    pub node: String,
    /// The node's GPU class, when its descriptions agree.
    pub class: Option<GpuClass>,
    /// Sanitised allocatable count.
    pub allocatable: u32,
    /// Sanitised allocated count.
    pub allocated: u32,
    /// Allocatable as received (empty when absent).
    pub raw_allocatable: String,
    /// Allocated as received; `available:<text>` when derived from REST's available count.
    pub raw_allocated: String,
    /// Every change made to the counts.
    pub clamps: Vec<Clamp>,
    /// Contradictions found.
    pub flags: Vec<InfoFlag>,
}

/// A count as read, before the per-node limits: the value to start from and what was wrong.
struct Reading {
    value: u128,
    problem: Option<ClampReason>,
    /// The value as sent, when it was a well-formed non-negative number (for comparisons).
    exact: Option<u128>,
}

impl Reading {
    fn of(raw: Option<&str>) -> Self {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Self::clean(0);
        };
        match quantity::parse(raw) {
            Quantity::NonNegative { whole, fractional } => Self {
                value: whole,
                problem: fractional.then_some(ClampReason::Fractional),
                exact: (!fractional).then_some(whole),
            },
            Quantity::TooLarge => Self {
                value: u128::MAX,
                problem: None,
                exact: Some(u128::MAX),
            },
            Quantity::Negative => Self::problem(ClampReason::Negative),
            Quantity::Unparseable => Self::problem(ClampReason::Unparseable),
        }
    }

    fn clean(value: u128) -> Self {
        Self {
            value,
            problem: None,
            exact: Some(value),
        }
    }

    fn problem(reason: ClampReason) -> Self {
        Self {
            value: 0,
            problem: Some(reason),
            exact: None,
        }
    }
}

/// Sanitises every node; nodes without any GPU content (no count, no description, nothing
/// wrong) are dropped, so CPU-only nodes leave no rows.
pub fn sanitise_nodes(raw: Vec<RawNode>, max_gpus_per_node: u32) -> Vec<NodeGpus> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut nodes = Vec::new();
    for node in raw {
        let Some(mut sanitised) = sanitise_node(&node, max_gpus_per_node) else {
            continue;
        };
        sanitised.node = unique_name(&mut names, &node.name);
        nodes.push(sanitised);
    }
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    nodes
}

fn unique_name(taken: &mut BTreeSet<String>, raw: &str) -> String {
    let base = match clean(raw, MAX_NODE_NAME) {
        name if name.is_empty() => "(unnamed)".to_string(),
        name => name,
    };
    let mut candidate = base.clone();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{base}#{n}");
    }
    taken.insert(candidate.clone());
    candidate
}

fn sanitise_node(node: &RawNode, max_gpus_per_node: u32) -> Option<NodeGpus> {
    let allocatable_reading = Reading::of(node.allocatable.as_deref());
    let allocated_reading = match &node.allocated {
        RawAllocated::Reported(raw) => Reading::of(raw.as_deref()),
        RawAllocated::FromAvailable(raw) => {
            let available = Reading::of(raw.as_deref());
            match (allocatable_reading.problem, available.problem) {
                (Some(ClampReason::Unparseable), _) | (_, Some(ClampReason::Unparseable)) => {
                    Reading::problem(ClampReason::Unparseable)
                }
                _ if available.value > allocatable_reading.value => {
                    Reading::problem(ClampReason::Negative)
                }
                _ => Reading::clean(allocatable_reading.value - available.value),
            }
        }
    };
    let info = node.info.as_deref();
    let described = info.map_or(0, <[RawGpuInfo]>::len);
    let has_content = allocatable_reading.value > 0
        || allocated_reading.value > 0
        || described > 0
        || allocatable_reading.problem.is_some()
        || allocated_reading.problem.is_some();
    if !has_content {
        return None;
    }

    let (allocatable, allocated, clamps) = clamp_readings(
        &allocatable_reading,
        &allocated_reading,
        max_gpus_per_node,
        described,
    );

    let mut flags = BTreeSet::new();
    let class = match info {
        None => None,
        Some(info) => {
            if info.is_empty() && allocatable_reading.value > 0 {
                flags.insert(InfoFlag::NoGpuInfo);
            }
            if !info.is_empty() && allocatable_reading.exact != Some(described as u128) {
                flags.insert(InfoFlag::InfoCountMismatch);
            }
            classify(info, &mut flags)
        }
    };
    Some(NodeGpus {
        node: String::new(),
        class,
        allocatable,
        allocated,
        raw_allocatable: node
            .allocatable
            .as_deref()
            .map(|r| clean(r, 64))
            .unwrap_or_default(),
        raw_allocated: match &node.allocated {
            RawAllocated::Reported(raw) => raw.as_deref().map(|r| clean(r, 64)).unwrap_or_default(),
            RawAllocated::FromAvailable(raw) => {
                format!(
                    "available:{}",
                    raw.as_deref().map(|r| clean(r, 64)).unwrap_or_default()
                )
            }
        },
        clamps,
        flags: flags.into_iter().collect(),
    })
}

/// Codes as the store keeps them (`GpuRecord::clamps`, `GpuRecord::flags`): comma-separated,
/// `None` when there are none.
pub fn stored_codes(codes: impl IntoIterator<Item = String>) -> Option<String> {
    let codes: Vec<String> = codes.into_iter().collect();
    (!codes.is_empty()).then(|| codes.join(","))
}

/// A node's counts as imported from the exchange format (whole numbers already), clamped
/// exactly as a probed node's are: allocatable to `max_gpus_per_node`, allocated to
/// allocatable. Returns the clamped allocatable and allocated counts and every clamp made, so
/// an imported line whose counts exceed the importing side's limit still counts as a vote,
/// with what was changed on record.
pub fn clamp_counts(
    allocatable: u64,
    allocated: u64,
    max_gpus_per_node: u32,
) -> (u32, u32, Vec<Clamp>) {
    clamp_readings(
        &Reading::clean(allocatable.into()),
        &Reading::clean(allocated.into()),
        max_gpus_per_node,
        0,
    )
}

/// The clamped counts of one node and every clamp made; `described` is how many devices the
/// node describes (0 when it describes none).
fn clamp_readings(
    allocatable: &Reading,
    allocated: &Reading,
    max_gpus_per_node: u32,
    described: usize,
) -> (u32, u32, Vec<Clamp>) {
    let mut clamps = Vec::new();
    let allocatable = limit_allocatable(allocatable, max_gpus_per_node, described, &mut clamps);
    let allocated = limit(
        CountField::Allocated,
        allocated,
        allocatable,
        ClampReason::AboveAllocatable,
        &mut clamps,
    );
    (allocatable, allocated, clamps)
}

fn limit_allocatable(
    reading: &Reading,
    max_gpus_per_node: u32,
    described: usize,
    clamps: &mut Vec<Clamp>,
) -> u32 {
    let mut value = limit(
        CountField::Allocatable,
        reading,
        max_gpus_per_node,
        ClampReason::AboveMaxPerNode,
        clamps,
    );
    if described > 0 && (value as usize) > described {
        value = u32::try_from(described).unwrap_or(u32::MAX);
        clamps.push(Clamp {
            field: CountField::Allocatable,
            reason: ClampReason::AboveGpuInfo,
        });
    }
    value
}

/// The reading's value, at most `ceiling`, recording the reading's own problem and the cut.
fn limit(
    field: CountField,
    reading: &Reading,
    ceiling: u32,
    reason: ClampReason,
    clamps: &mut Vec<Clamp>,
) -> u32 {
    if let Some(problem) = reading.problem {
        clamps.push(Clamp {
            field,
            reason: problem,
        });
    }
    if reading.value > u128::from(ceiling) {
        clamps.push(Clamp { field, reason });
        ceiling
    } else {
        // Fits: the value is at most a u32 ceiling.
        u32::try_from(reading.value).unwrap_or(ceiling)
    }
}

/// The one class all descriptions agree on, or `None` with the reason flagged.
fn classify(info: &[RawGpuInfo], flags: &mut BTreeSet<InfoFlag>) -> Option<GpuClass> {
    let mut classes = BTreeSet::new();
    for device in info {
        match normalise(device) {
            Some(class) => {
                classes.insert(class);
            }
            None => {
                flags.insert(InfoFlag::InvalidGpuInfo);
            }
        }
    }
    if classes.len() > 1 {
        flags.insert(InfoFlag::MixedModels);
    }
    if flags.contains(&InfoFlag::InvalidGpuInfo) || classes.len() != 1 {
        return None;
    }
    classes.into_iter().next()
}

/// A device's class in the spelling leases use too ([`domain::gpu`] decides model and interface).
fn normalise(device: &RawGpuInfo) -> Option<GpuClass> {
    let model = GpuModel::normalise(&device.name)?.to_string();
    let vendor = optional_attribute(&device.vendor)?.map(|v| normalise_vendor(&v));
    let ram = optional_attribute(&device.memory_size)?;
    let interface = optional_attribute(&device.interface)?.map(|i| normalise_interface(&i));
    Some(GpuClass {
        vendor,
        model,
        ram,
        interface,
    })
}

/// An optional attribute: empty means absent (`Some(None)`); present but invalid is `None`.
fn optional_attribute(raw: &str) -> Option<Option<String>> {
    if raw.trim().is_empty() {
        Some(None)
    } else {
        attribute_text(raw, MAX_ATTRIBUTE).map(|text| Some(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a100() -> RawGpuInfo {
        RawGpuInfo {
            vendor: "nvidia".into(),
            name: "a100".into(),
            memory_size: "80Gi".into(),
            interface: "SXM4".into(),
        }
    }

    fn grpc_node(name: &str, allocatable: &str, allocated: &str, info: Vec<RawGpuInfo>) -> RawNode {
        RawNode {
            name: name.into(),
            allocatable: Some(allocatable.into()),
            allocated: RawAllocated::Reported(Some(allocated.into())),
            info: Some(info),
        }
    }

    fn reasons(node: &NodeGpus) -> Vec<String> {
        node.clamps.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_healthy_node_passes_unchanged() {
        let nodes = sanitise_nodes(vec![grpc_node("n1", "8", "3", vec![a100(); 8])], 16);
        assert_eq!(nodes.len(), 1);
        let n = &nodes[0];
        assert_eq!((n.allocatable, n.allocated), (8, 3));
        assert!(n.clamps.is_empty() && n.flags.is_empty());
        let class = n.class.as_ref().unwrap();
        assert_eq!(class.model, "a100");
        assert_eq!(class.interface.as_deref(), Some("sxm"));
        assert_eq!(class.ram.as_deref(), Some("80Gi"));
    }

    #[test]
    fn u64_underflow_is_clamped_to_the_devices_described_with_reasons() {
        let nodes = sanitise_nodes(
            vec![grpc_node(
                "n1",
                "18446744073709551615",
                "18446744073709551615",
                vec![a100(); 8],
            )],
            16,
        );
        let n = &nodes[0];
        assert_eq!((n.allocatable, n.allocated), (8, 8));
        assert_eq!(
            reasons(n),
            [
                "allocatable:above_max_per_node",
                "allocatable:above_gpu_info",
                "allocated:above_allocatable"
            ]
        );
        assert_eq!(n.flags, [InfoFlag::InfoCountMismatch]);
        assert_eq!(n.raw_allocatable, "18446744073709551615");
    }

    #[test]
    fn without_descriptions_the_per_node_maximum_applies() {
        let rest = RawNode {
            name: "n1".into(),
            allocatable: Some("18446744073709551615".into()),
            allocated: RawAllocated::FromAvailable(Some("18446744073709551615".into())),
            info: None,
        };
        let n = &sanitise_nodes(vec![rest], 16)[0];
        assert_eq!((n.allocatable, n.allocated), (16, 0));
        assert_eq!(reasons(n), ["allocatable:above_max_per_node"]);
        assert_eq!(n.raw_allocated, "available:18446744073709551615");
        assert!(n.class.is_none());
    }

    #[test]
    fn negative_fractional_and_garbage_counts_become_zero_or_floor() {
        let nodes = sanitise_nodes(
            vec![
                grpc_node("a", "-1", "0", vec![]),
                grpc_node("b", "2500m", "1k", vec![a100(), a100()]),
                grpc_node("c", "eight", "x", vec![]),
            ],
            16,
        );
        assert_eq!((nodes[0].allocatable, nodes[0].allocated), (0, 0));
        assert_eq!(reasons(&nodes[0]), ["allocatable:negative"]);
        assert_eq!((nodes[1].allocatable, nodes[1].allocated), (2, 2));
        assert_eq!(
            reasons(&nodes[1]),
            ["allocatable:fractional", "allocated:above_allocatable"]
        );
        assert_eq!(nodes[1].flags, [InfoFlag::InfoCountMismatch]);
        assert_eq!(
            reasons(&nodes[2]),
            ["allocatable:unparseable", "allocated:unparseable"]
        );
    }

    #[test]
    fn available_above_allocatable_is_a_negative_allocation() {
        let rest = RawNode {
            name: "n".into(),
            allocatable: Some("4".into()),
            allocated: RawAllocated::FromAvailable(Some("6".into())),
            info: None,
        };
        let n = &sanitise_nodes(vec![rest], 16)[0];
        assert_eq!((n.allocatable, n.allocated), (4, 0));
        assert_eq!(reasons(n), ["allocated:negative"]);
    }

    #[test]
    fn contradicting_descriptions_leave_the_class_unknown() {
        let mut h100 = a100();
        h100.name = "h100".into();
        let mut bad = a100();
        bad.name = "a100\u{0}; DROP TABLE".into();
        let nodes = sanitise_nodes(
            vec![
                grpc_node("mixed", "2", "0", vec![a100(), h100]),
                grpc_node("bad", "1", "0", vec![bad]),
                grpc_node("none", "4", "0", vec![]),
            ],
            16,
        );
        let by_name = |name: &str| nodes.iter().find(|n| n.node == name).unwrap();
        assert_eq!(by_name("mixed").flags, [InfoFlag::MixedModels]);
        assert_eq!(by_name("bad").flags, [InfoFlag::InvalidGpuInfo]);
        assert_eq!(by_name("none").flags, [InfoFlag::NoGpuInfo]);
        assert!(nodes.iter().all(|n| n.class.is_none()));
        assert_eq!(by_name("none").allocatable, 4);
    }

    proptest::proptest! {
        /// Whatever the provider sends, the counts end up within the limits, and any count that
        /// differs from what was sent carries a clamp for that field.
        #[test]
        fn counts_always_end_within_limits_and_every_change_is_recorded(
            allocatable in "(-?[0-9]{1,22}(\\.[0-9]{1,3})?(k|Ki|m|e[0-9])?)|\\PC{0,12}",
            allocated in "(-?[0-9]{1,22}(\\.[0-9]{1,3})?(k|Ki|m|e[0-9])?)|\\PC{0,12}",
            devices in 0usize..24,
            max in 1u32..64,
        ) {
            let node = grpc_node("n", &allocatable, &allocated, vec![a100(); devices]);
            for n in sanitise_nodes(vec![node], max) {
                proptest::prop_assert!(n.allocated <= n.allocatable && n.allocatable <= max);
                let clamped = |field| n.clamps.iter().any(|c| c.field == field);
                let exact = |raw: &str| match quantity::parse(raw) {
                    _ if raw.is_empty() => Some(0),
                    Quantity::NonNegative { whole, fractional: false } => Some(whole),
                    _ => None,
                };
                if exact(&allocatable) != Some(u128::from(n.allocatable)) {
                    proptest::prop_assert!(clamped(CountField::Allocatable), "{:?}", n);
                }
                if exact(&allocated) != Some(u128::from(n.allocated)) {
                    proptest::prop_assert!(clamped(CountField::Allocated), "{:?}", n);
                }
            }
        }
    }

    #[test]
    fn cpu_only_nodes_are_dropped_and_names_made_unique() {
        let nodes = sanitise_nodes(
            vec![
                grpc_node("cpu", "0", "0", vec![]),
                RawNode {
                    name: "cpu2".into(),
                    allocatable: None,
                    allocated: RawAllocated::Reported(None),
                    info: Some(vec![]),
                },
                grpc_node("gpu\0", "1", "0", vec![a100()]),
                grpc_node("gpu", "1", "0", vec![a100()]),
                grpc_node("", "1", "0", vec![a100()]),
            ],
            16,
        );
        let names: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
        assert_eq!(names, ["(unnamed)", "gpu", "gpu#2"]);
    }
}
