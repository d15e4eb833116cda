//! Hand-written prost messages for the part of `akash.provider.v1.Status` the prober reads.
//!
//! Field numbers follow `chain-sdk proto/provider/akash/provider/v1/status.proto` and
//! `proto/provider/akash/inventory/v1/{cluster,node,resources,gpu,resourcepair}.proto`. Only the
//! path to each node's GPUs is declared; prost skips every other field, so new fields in later
//! provider releases cannot break decoding.
//!
//! `GPUInfo` uses the current numbering (`vendor = 1, vendor_id = 2, name = 3, modelid = 4,
//! interface = 5, memory_size = 6`). The first inventory release had no `vendor_id` and numbered
//! `name = 2 … memory_size = 5`; all six fields are strings, so the two cannot be told apart on the
//! wire. A provider still on that release shows up with shifted GPU info, which the sanitiser
//! then flags as invalid (the model is empty or a PCI id) instead of trusting.

use crate::sanitise::{RawAllocated, RawGpuInfo, RawNode};

/// `akash.provider.v1.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    /// `errors = 1`.
    #[prost(string, repeated, tag = "1")]
    pub errors: Vec<String>,
    /// `cluster = 2`.
    #[prost(message, optional, tag = "2")]
    pub cluster: Option<ClusterStatus>,
}

/// `akash.provider.v1.ClusterStatus`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ClusterStatus {
    /// `inventory = 2`.
    #[prost(message, optional, tag = "2")]
    pub inventory: Option<Inventory>,
}

/// `akash.provider.v1.Inventory`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Inventory {
    /// `cluster = 1` (`akash.inventory.v1.Cluster`).
    #[prost(message, optional, tag = "1")]
    pub cluster: Option<Cluster>,
}

/// `akash.inventory.v1.Cluster`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Cluster {
    /// `nodes = 1`.
    #[prost(message, repeated, tag = "1")]
    pub nodes: Vec<Node>,
}

/// `akash.inventory.v1.Node`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Node {
    /// `name = 1`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// `resources = 2`.
    #[prost(message, optional, tag = "2")]
    pub resources: Option<NodeResources>,
}

/// `akash.inventory.v1.NodeResources`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeResources {
    /// `gpu = 3`.
    #[prost(message, optional, tag = "3")]
    pub gpu: Option<Gpu>,
}

/// `akash.inventory.v1.GPU`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Gpu {
    /// `quantity = 1`.
    #[prost(message, optional, tag = "1")]
    pub quantity: Option<ResourcePair>,
    /// `info = 2`.
    #[prost(message, repeated, tag = "2")]
    pub info: Vec<GpuInfo>,
}

/// `akash.inventory.v1.ResourcePair`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourcePair {
    /// `allocatable = 1`.
    #[prost(message, optional, tag = "1")]
    pub allocatable: Option<Quantity>,
    /// `allocated = 2`.
    #[prost(message, optional, tag = "2")]
    pub allocated: Option<Quantity>,
}

/// `k8s.io.apimachinery.pkg.api.resource.Quantity`: `optional string string = 1`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Quantity {
    /// The quantity in k8s notation (`"8"`, `"64Gi"`).
    #[prost(string, optional, tag = "1")]
    pub string: Option<String>,
}

/// `akash.inventory.v1.GPUInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GpuInfo {
    /// `vendor = 1`.
    #[prost(string, tag = "1")]
    pub vendor: String,
    /// `name = 3` (the model, `a100`).
    #[prost(string, tag = "3")]
    pub name: String,
    /// `interface = 5`.
    #[prost(string, tag = "5")]
    pub interface: String,
    /// `memory_size = 6`.
    #[prost(string, tag = "6")]
    pub memory_size: String,
}

impl Status {
    /// Every node's GPU section, as sent (none when the status carries no inventory, which the
    /// provider does while its inventory operator starts).
    pub fn into_raw_nodes(self) -> Vec<RawNode> {
        let nodes = self
            .cluster
            .and_then(|c| c.inventory)
            .and_then(|i| i.cluster)
            .map(|c| c.nodes)
            .unwrap_or_default();
        nodes
            .into_iter()
            .map(|node| {
                let gpu = node.resources.and_then(|r| r.gpu).unwrap_or_default();
                let quantity = gpu.quantity.unwrap_or_default();
                RawNode {
                    name: node.name,
                    allocatable: quantity.allocatable.and_then(|q| q.string),
                    allocated: RawAllocated::Reported(quantity.allocated.and_then(|q| q.string)),
                    info: Some(
                        gpu.info
                            .into_iter()
                            .map(|i| RawGpuInfo {
                                vendor: i.vendor,
                                name: i.name,
                                memory_size: i.memory_size,
                                interface: i.interface,
                            })
                            .collect(),
                    ),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn a_status_decodes_to_nodes_with_gpu_quantities_and_info() {
        let status = Status {
            errors: vec![],
            cluster: Some(ClusterStatus {
                inventory: Some(Inventory {
                    cluster: Some(Cluster {
                        nodes: vec![Node {
                            name: "n1".into(),
                            resources: Some(NodeResources {
                                gpu: Some(Gpu {
                                    quantity: Some(ResourcePair {
                                        allocatable: Some(Quantity {
                                            string: Some("8".into()),
                                        }),
                                        allocated: Some(Quantity {
                                            string: Some("3".into()),
                                        }),
                                    }),
                                    info: vec![GpuInfo {
                                        vendor: "nvidia".into(),
                                        name: "a100".into(),
                                        interface: "SXM4".into(),
                                        memory_size: "80Gi".into(),
                                    }],
                                }),
                            }),
                        }],
                    }),
                }),
            }),
        };
        let decoded = Status::decode(status.encode_to_vec().as_slice()).unwrap();
        let nodes = decoded.into_raw_nodes();
        assert_eq!(nodes[0].allocatable.as_deref(), Some("8"));
        assert_eq!(nodes[0].allocated, RawAllocated::Reported(Some("3".into())));
        assert_eq!(nodes[0].info.as_ref().unwrap()[0].name, "a100");
        assert!(
            Status::default().into_raw_nodes().is_empty(),
            "no inventory, no nodes"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_or_err(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Ok(status) = Status::decode(bytes.as_slice()) {
                let _ = status.into_raw_nodes();
            }
        }
    }
}
