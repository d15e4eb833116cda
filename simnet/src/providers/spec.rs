//! What a fake provider is and how it behaves over time (also the JSON of `--spec` files).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the fake answers, at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Answers everything correctly.
    #[default]
    Up,
    /// Both ports closed: connections are refused.
    Down,
    /// Accepts connections and never says a word (a black hole).
    Hang,
    /// Answers the TLS handshake with bytes that are not TLS.
    BadTls,
    /// `/version` (and every other answer) is 200 with a body that is not JSON or protobuf.
    GarbageJson,
    /// `/version` is fine; `/status` and `GetStatus` answer garbage.
    GarbageStatus,
    /// Every request answers HTTP 500.
    #[serde(rename = "http_500")]
    Http500,
}

impl Behaviour {
    /// Every behaviour, in declaration order (for CLI help and tests).
    pub const ALL: [Behaviour; 7] = [
        Self::Up,
        Self::Down,
        Self::Hang,
        Self::BadTls,
        Self::GarbageJson,
        Self::GarbageStatus,
        Self::Http500,
    ];

    /// The snake_case name used in specs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Hang => "hang",
            Self::BadTls => "bad_tls",
            Self::GarbageJson => "garbage_json",
            Self::GarbageStatus => "garbage_status",
            Self::Http500 => "http_500",
        }
    }

    /// The behaviour with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// From `after` (since the fake started) on, behave as `behaviour`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptStep {
    /// Offset from the start, in milliseconds.
    pub after_ms: u64,
    /// The behaviour from then on.
    pub behaviour: Behaviour,
}

impl ScriptStep {
    /// A step at `after`.
    pub fn new(after: Duration, behaviour: Behaviour) -> Self {
        Self {
            after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            behaviour,
        }
    }
}

/// One GPU device as the fake describes it (`akash.inventory.v1.GPUInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeGpu {
    /// Vendor (`nvidia`).
    pub vendor: String,
    /// Model (`a100`).
    pub name: String,
    /// Memory (`80Gi`).
    pub memory_size: String,
    /// Interface (`SXM4`, `PCIe`).
    pub interface: String,
}

impl FakeGpu {
    /// An NVIDIA GPU of `model` with `memory` on `interface`.
    pub fn nvidia(model: &str, memory: &str, interface: &str) -> Self {
        Self {
            vendor: "nvidia".into(),
            name: model.into(),
            memory_size: memory.into(),
            interface: interface.into(),
        }
    }
}

/// One node of the fake cluster. Counts are k8s quantity strings so that absurd values
/// (`"18446744073709551615"`, `"-1"`, `"1k"`) can be served exactly as broken providers do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeNode {
    /// Node name.
    pub name: String,
    /// Allocatable GPUs, as a quantity.
    pub allocatable: String,
    /// Allocated GPUs, as a quantity.
    pub allocated: String,
    /// Device descriptions (gRPC only; REST has none).
    #[serde(default)]
    pub gpus: Vec<FakeGpu>,
}

impl FakeNode {
    /// A consistent node: `count` GPUs like `gpu`, `allocated` of them in use.
    pub fn with_gpus(name: &str, gpu: &FakeGpu, count: u32, allocated: u32) -> Self {
        Self {
            name: name.into(),
            allocatable: count.to_string(),
            allocated: allocated.to_string(),
            gpus: vec![gpu.clone(); count as usize],
        }
    }
}

/// How the REST `/status` spells numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RestShape {
    /// Plain JSON numbers (current providers).
    #[default]
    Numbers,
    /// `{units:{val:"8"}}` wrappers (old providers).
    UnitsVal,
}

/// Everything about one fake provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeProviderSpec {
    /// The provider's owner address (only reported back; the fake does not sign anything).
    pub owner: String,
    /// The version `/version` reports; from 0.5.0 on the fake also serves gRPC `GetStatus`.
    #[serde(default = "default_version")]
    pub version: String,
    /// The cluster's nodes.
    #[serde(default)]
    pub nodes: Vec<FakeNode>,
    /// Behaviour over time; empty means always [`Behaviour::Up`].
    #[serde(default)]
    pub script: Vec<ScriptStep>,
    /// Number spelling of the REST `/status`.
    #[serde(default)]
    pub rest_shape: RestShape,
}

fn default_version() -> String {
    "0.6.4".into()
}

impl FakeProviderSpec {
    /// A healthy current provider with `nodes`.
    pub fn up(owner: &str, nodes: Vec<FakeNode>) -> Self {
        Self {
            owner: owner.into(),
            version: default_version(),
            nodes,
            script: Vec::new(),
            rest_shape: RestShape::Numbers,
        }
    }

    /// The same provider, behaving as `behaviour` from the start.
    pub fn behaving(mut self, behaviour: Behaviour) -> Self {
        self.script = vec![ScriptStep::new(Duration::ZERO, behaviour)];
        self
    }

    /// The same provider, reporting `version`.
    pub fn with_version(mut self, version: &str) -> Self {
        self.version = version.into();
        self
    }

    /// Whether this version serves gRPC (0.5.0 and later, as real provider-services does).
    pub fn serves_grpc(&self) -> bool {
        let bare = self.version.trim_start_matches(['v', 'V']);
        let mut parts = bare
            .split(['-', '+'])
            .next()
            .unwrap_or_default()
            .split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (major, minor) >= (0, 5)
    }

    /// The behaviour at `elapsed` since start, by the script.
    pub fn behaviour_at(&self, elapsed: Duration) -> Behaviour {
        let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        self.script
            .iter()
            .filter(|s| s.after_ms <= elapsed_ms)
            .max_by_key(|s| s.after_ms)
            .map_or(Behaviour::Up, |s| s.behaviour)
    }
}
