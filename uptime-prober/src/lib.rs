//! The uptime prober: checks every Akash provider each interval, records whether it is online and
//! what GPUs it reports, and moves those observations in and out as JSON Lines.
//!
//! Rewards are gated on measured uptime and weighted by online GPU capacity, so each probe must be
//! precise about *why* a provider is offline and must not trust the inventory it reports:
//!
//! * [`probe`] — one probe: `GET {host_uri}/version` over TLS (self-signed certificates accepted,
//!   their SHA-256 recorded), then gRPC `akash.provider.v1.ProviderRPC/GetStatus` for providers
//!   at 0.5.0 or later, or REST `/status` for older ones. Every step has a timeout.
//! * [`sanitise`] — GPU counts clamped to `0 ≤ allocated ≤ allocatable ≤ max_gpus_per_node`,
//!   every clamp recorded with its reason next to the raw value; contradicting GPU info flagged.
//! * [`round`] — rounds with bounded concurrency (`--once`) or spread over the interval with a
//!   deterministic per-provider jitter (`--follow`), each round stored in one transaction.
//! * [`jsonl`] — export and idempotent import of observations.
//! * [`metrics`] — Prometheus metrics on a caller-owned registry.

pub mod error;
pub mod jsonl;
pub mod metrics;
pub mod probe;
pub mod proto;
pub mod quantity;
pub mod rest_status;
pub mod round;
pub mod sanitise;
pub mod signing;
mod text;
mod transport;
pub mod version;

pub use error::{ErrorKind, ProbeError, ProberError};
pub use metrics::ProberMetrics;
pub use probe::{GrpcPort, Probe, ProbeOptions, StatusApi, Target, DEFAULT_GRPC_PORT};
pub use round::{follow, jitter, once, Prober, ProberConfig, Round};

/// Most nodes accepted in one provider's status: far above any real cluster, low enough that a
/// hostile answer cannot fill the database.
pub const MAX_NODES: usize = 4096;

/// Sent with every request, so providers can tell the prober from other clients.
const USER_AGENT: &str = concat!("akash-incentives-prober/", env!("CARGO_PKG_VERSION"));
