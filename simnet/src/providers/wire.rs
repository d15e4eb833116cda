//! What the fake sends: the `/version` and REST `/status` JSON, and the gRPC `Status` message.
//!
//! The protobuf messages here are written independently of the prober's decoder and carry more
//! of the real message (CPU and memory, leases, bid engine, manifest, GPU `vendor_id` and
//! `modelid`), as a provider does, so the prober is tested against a fuller message than the one
//! it declares.

use serde_json::{json, Value};

use super::spec::{FakeNode, FakeProviderSpec, RestShape};

/// The `/version` body: the camelCase shape for gRPC-era providers, the snake_case one before.
pub(crate) fn version_body(spec: &FakeProviderSpec) -> Vec<u8> {
    let kube =
        json!({"major": "1", "minor": "29", "gitVersion": "v1.29.4", "platform": "linux/amd64"});
    let body = if spec.serves_grpc() {
        json!({"akash": {"version": spec.version, "commit": "fake", "buildTags": "\"osusergo,netgo\"", "go": "go1.22.5 linux/amd64", "cosmosSdkVersion": "v0.45.16"}, "kube": kube})
    } else {
        json!({"akash": {"name": "provider-services", "server_name": "provider-servicesd", "version": spec.version, "commit": "fake", "build_tags": "", "go": "go1.20.5 linux/amd64", "cosmos_sdk_version": "v0.45.9"}, "kube": kube})
    };
    body.to_string().into_bytes()
}

/// The REST `/status` body for `nodes`.
pub(crate) fn rest_status_body(spec: &FakeProviderSpec, nodes: &[FakeNode]) -> Vec<u8> {
    let number = |raw: &str| -> Value {
        let value = raw
            .parse::<u64>()
            .map(Value::from)
            .or_else(|_| raw.parse::<i64>().map(Value::from))
            .unwrap_or_else(|_| Value::from(raw));
        match spec.rest_shape {
            RestShape::Numbers => value,
            RestShape::UnitsVal => json!({"units": {"val": raw}}),
        }
    };
    let nodes: Vec<Value> = nodes
        .iter()
        .map(|node| {
            let available = available(&node.allocatable, &node.allocated);
            json!({
                "name": node.name,
                "allocatable": {"cpu": number("64000"), "gpu": number(&node.allocatable), "memory": number("274877906944"), "storage_ephemeral": number("1099511627776")},
                "available": {"cpu": number("32000"), "gpu": number(&available), "memory": number("137438953472"), "storage_ephemeral": number("549755813888")},
            })
        })
        .collect();
    json!({
        "cluster": {"leases": 3, "inventory": {"active": [], "pending": [], "available": {"nodes": nodes, "storage": []}}},
        "bidengine": {"orders": 1},
        "manifest": {"deployments": 3},
        "cluster_public_hostname": "provider.fake.local",
        "address": spec.owner,
    })
    .to_string()
    .into_bytes()
}

/// `allocatable − allocated` when both are integers (what a provider would compute), else the
/// allocatable text unchanged.
fn available(allocatable: &str, allocated: &str) -> String {
    match (allocatable.parse::<i128>(), allocated.parse::<i128>()) {
        (Ok(a), Ok(b)) => (a - b).to_string(),
        _ => allocatable.to_string(),
    }
}

/// The gRPC `GetStatus` answer for `nodes`, encoded.
pub(crate) fn grpc_status(spec: &FakeProviderSpec, nodes: &[FakeNode]) -> Vec<u8> {
    use prost::Message;
    let quantity = |s: &str| {
        Some(Quantity {
            string: Some(s.to_string()),
        })
    };
    let pair = |allocatable: &str, allocated: &str| ResourcePair {
        allocatable: quantity(allocatable),
        allocated: quantity(allocated),
        capacity: quantity(allocatable),
    };
    let status = Status {
        errors: Vec::new(),
        cluster: Some(ClusterStatus {
            leases: Some(Leases { active: 3 }),
            inventory: Some(Inventory {
                cluster: Some(Cluster {
                    nodes: nodes
                        .iter()
                        .map(|node| Node {
                            name: node.name.clone(),
                            resources: Some(NodeResources {
                                cpu: Some(Cpu {
                                    quantity: Some(pair("64000", "32000")),
                                    info: vec![CpuInfo {
                                        id: "0".into(),
                                        vendor: "GenuineIntel".into(),
                                        model: "Xeon".into(),
                                        vcores: 64,
                                    }],
                                }),
                                memory: Some(Memory {
                                    quantity: Some(pair("256Gi", "128Gi")),
                                }),
                                gpu: Some(Gpu {
                                    quantity: Some(pair(&node.allocatable, &node.allocated)),
                                    info: node
                                        .gpus
                                        .iter()
                                        .map(|g| GpuInfo {
                                            vendor: g.vendor.clone(),
                                            vendor_id: "10de".into(),
                                            name: g.name.clone(),
                                            modelid: "20b5".into(),
                                            interface: g.interface.clone(),
                                            memory_size: g.memory_size.clone(),
                                        })
                                        .collect(),
                                }),
                                ephemeral_storage: Some(pair("1Ti", "512Gi")),
                            }),
                            capabilities: Some(NodeCapabilities {
                                storage_classes: vec!["beta2".into()],
                            }),
                        })
                        .collect(),
                }),
            }),
        }),
        bid_engine: Some(BidEngineStatus { orders: 1 }),
        manifest: Some(ManifestStatus { deployments: 3 }),
        public_hostnames: vec![format!("{}.fake.local", spec.owner)],
    };
    status.encode_to_vec()
}

#[derive(Clone, PartialEq, prost::Message)]
struct Status {
    #[prost(string, repeated, tag = "1")]
    errors: Vec<String>,
    #[prost(message, optional, tag = "2")]
    cluster: Option<ClusterStatus>,
    #[prost(message, optional, tag = "3")]
    bid_engine: Option<BidEngineStatus>,
    #[prost(message, optional, tag = "4")]
    manifest: Option<ManifestStatus>,
    #[prost(string, repeated, tag = "5")]
    public_hostnames: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ClusterStatus {
    #[prost(message, optional, tag = "1")]
    leases: Option<Leases>,
    #[prost(message, optional, tag = "2")]
    inventory: Option<Inventory>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Leases {
    #[prost(uint32, tag = "1")]
    active: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct BidEngineStatus {
    #[prost(uint32, tag = "1")]
    orders: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ManifestStatus {
    #[prost(uint32, tag = "1")]
    deployments: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Inventory {
    #[prost(message, optional, tag = "1")]
    cluster: Option<Cluster>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Cluster {
    #[prost(message, repeated, tag = "1")]
    nodes: Vec<Node>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Node {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    resources: Option<NodeResources>,
    #[prost(message, optional, tag = "3")]
    capabilities: Option<NodeCapabilities>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct NodeCapabilities {
    #[prost(string, repeated, tag = "1")]
    storage_classes: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct NodeResources {
    #[prost(message, optional, tag = "1")]
    cpu: Option<Cpu>,
    #[prost(message, optional, tag = "2")]
    memory: Option<Memory>,
    #[prost(message, optional, tag = "3")]
    gpu: Option<Gpu>,
    #[prost(message, optional, tag = "4")]
    ephemeral_storage: Option<ResourcePair>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Cpu {
    #[prost(message, optional, tag = "1")]
    quantity: Option<ResourcePair>,
    #[prost(message, repeated, tag = "2")]
    info: Vec<CpuInfo>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CpuInfo {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(string, tag = "2")]
    vendor: String,
    #[prost(string, tag = "3")]
    model: String,
    #[prost(uint32, tag = "4")]
    vcores: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Memory {
    #[prost(message, optional, tag = "1")]
    quantity: Option<ResourcePair>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Gpu {
    #[prost(message, optional, tag = "1")]
    quantity: Option<ResourcePair>,
    #[prost(message, repeated, tag = "2")]
    info: Vec<GpuInfo>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GpuInfo {
    #[prost(string, tag = "1")]
    vendor: String,
    #[prost(string, tag = "2")]
    vendor_id: String,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    modelid: String,
    #[prost(string, tag = "5")]
    interface: String,
    #[prost(string, tag = "6")]
    memory_size: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ResourcePair {
    #[prost(message, optional, tag = "1")]
    allocatable: Option<Quantity>,
    #[prost(message, optional, tag = "2")]
    allocated: Option<Quantity>,
    #[prost(message, optional, tag = "4")]
    capacity: Option<Quantity>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Quantity {
    #[prost(string, optional, tag = "1")]
    string: Option<String>,
}
