//! One probe of one provider: `/version`, then gRPC `GetStatus` (0.5.0 and later) or REST
//! `/status` (older), each step bounded by the timeout, and the inventory sanitised.
//!
//! A provider is **online** when both steps succeed. Anything else is offline with an
//! [`ErrorKind`] and a message, as the Akash Console also does: a provider whose status cannot
//! be read cannot be shown to have capacity.

use std::time::Duration;

use chrono::{DateTime, Utc};
use store::probes::{GpuRecord, ObservationKey, ObservationRecord};
use tokio::time::Instant;
use tracing::{debug, info_span, Instrument};

use crate::error::{ErrorKind, ProbeError};
use crate::rest_status;
use crate::sanitise::{sanitise_nodes, stored_codes, NodeGpus, RawNode};
use crate::transport::{self, HostUri, Protocol, Step, TlsClients};
use crate::version::ProviderVersion;
use domain::UnixMs;

/// The gRPC port of an Akash provider (`provider-services` default).
pub const DEFAULT_GRPC_PORT: u16 = 8444;
/// Largest `/version` body accepted.
const MAX_VERSION_BODY: usize = 64 * 1024;

/// Where a provider's gRPC endpoint is, given its REST host URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcPort {
    /// The same host on this port. Mainnet: 8444. The Akash Console rewrites `:8443` to
    /// `:8444`; for the rare gateway on another port it would dial the gateway itself, which
    /// does not speak gRPC, so the fixed port is used for every provider.
    Fixed(u16),
    /// **Test only:** the REST port plus one, so that many fake providers can share 127.0.0.1.
    RestPortPlusOne,
}

impl GrpcPort {
    fn for_rest_port(self, rest_port: u16) -> Option<u16> {
        match self {
            Self::Fixed(port) => Some(port),
            Self::RestPortPlusOne => rest_port.checked_add(1),
        }
    }
}

/// How each probe is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// Timeout of each step (version; status). A probe takes at most twice this.
    pub timeout: Duration,
    /// Largest GPU count a node may report before it is clamped.
    pub max_gpus_per_node: u32,
    /// Where the gRPC endpoint is.
    pub grpc_port: GrpcPort,
    /// Largest `/status` body or gRPC message accepted.
    pub max_status_bytes: usize,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_gpus_per_node: 16,
            grpc_port: GrpcPort::Fixed(DEFAULT_GRPC_PORT),
            max_status_bytes: 4 * 1024 * 1024,
        }
    }
}

/// A provider to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The provider's owner address.
    pub provider: String,
    /// Its registered host URI.
    pub host_uri: String,
}

/// Which status API answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusApi {
    /// gRPC `GetStatus` (with GPU models).
    Grpc,
    /// REST `/status` (counts only).
    Rest,
}

impl StatusApi {
    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::Rest => "rest",
        }
    }
}

/// What an online provider reported, after sanitising.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Which API answered.
    pub api: StatusApi,
    /// Nodes with GPUs, by name.
    pub nodes: Vec<NodeGpus>,
}

/// The result of probing one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The provider probed.
    pub provider: String,
    /// When the probe started (millisecond precision: the observation's key).
    pub started_at: DateTime<Utc>,
    /// How long the probe took, until success or failure.
    pub latency: Duration,
    /// The version the provider reported, if it got that far.
    pub version: Option<String>,
    /// Fingerprint of the certificate seen on the version step.
    pub cert_sha256: Option<String>,
    /// The inventory, or why the provider counts as offline.
    pub outcome: Result<Inventory, ProbeError>,
}

impl Probe {
    /// Whether the provider answered both steps.
    pub fn online(&self) -> bool {
        self.outcome.is_ok()
    }

    /// The failure kind, when offline.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.outcome.as_ref().err().map(|e| e.kind)
    }

    /// The observation as stored, under `prober`'s id.
    pub fn to_record(&self, prober: &str) -> ObservationRecord {
        let time_ms = self.started_at.timestamp_millis();
        let (error_kind, error, status_api, gpus) = match &self.outcome {
            Ok(inventory) => (
                None,
                None,
                Some(inventory.api.code().to_string()),
                inventory.nodes.iter().map(gpu_record).collect(),
            ),
            Err(e) => (
                Some(e.kind.code().to_string()),
                Some(e.message.clone()),
                None,
                Vec::new(),
            ),
        };
        ObservationRecord {
            key: ObservationKey {
                prober: prober.to_string(),
                provider: self.provider.clone(),
                time_ms,
            },
            time: UnixMs(time_ms).to_string(),
            online: self.online(),
            latency_ms: Some(i64::try_from(self.latency.as_millis()).unwrap_or(i64::MAX)),
            error_kind,
            error,
            version: self.version.clone(),
            cert_sha256: self.cert_sha256.clone(),
            status_api,
            gpus,
        }
    }
}

fn gpu_record(node: &NodeGpus) -> GpuRecord {
    let class = node.class.as_ref();
    GpuRecord {
        node: node.node.clone(),
        vendor: class.and_then(|c| c.vendor.clone()),
        model: class.map(|c| c.model.clone()),
        ram: class.and_then(|c| c.ram.clone()),
        interface: class.and_then(|c| c.interface.clone()),
        allocatable: i64::from(node.allocatable),
        allocated: i64::from(node.allocated),
        raw_allocatable: node.raw_allocatable.clone(),
        raw_allocated: node.raw_allocated.clone(),
        clamps: stored_codes(node.clamps.iter().map(ToString::to_string)),
        flags: stored_codes(node.flags.iter().map(|f| f.code().to_string())),
    }
}

/// The current time, cut to whole milliseconds (the precision observations are keyed on).
fn now_ms() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// Probes one provider. Never fails: every problem becomes an offline outcome.
pub(crate) async fn probe(tls: &TlsClients, options: &ProbeOptions, target: &Target) -> Probe {
    let started_at = now_ms();
    let clock = Instant::now();
    let span = info_span!("probe", provider = %target.provider, host_uri = %target.host_uri);
    let mut probe = Probe {
        provider: target.provider.clone(),
        started_at,
        latency: Duration::ZERO,
        version: None,
        cert_sha256: None,
        outcome: Err(ProbeError::new(ErrorKind::Connect, "not probed")),
    };
    probe.outcome = run_steps(tls, options, target, &mut probe)
        .instrument(span.clone())
        .await;
    probe.latency = clock.elapsed();
    span.in_scope(|| match &probe.outcome {
        Ok(inventory) => debug!(
            latency_ms = probe.latency.as_millis(),
            nodes = inventory.nodes.len(),
            "online"
        ),
        Err(e) => debug!(latency_ms = probe.latency.as_millis(), error = %e, "offline"),
    });
    probe
}

async fn run_steps(
    tls: &TlsClients,
    options: &ProbeOptions,
    target: &Target,
    probe: &mut Probe,
) -> Result<Inventory, ProbeError> {
    let uri = HostUri::parse(&target.host_uri)?;
    let step = |name| Step {
        name,
        deadline: Instant::now() + options.timeout,
        timeout: options.timeout,
    };

    let version_step = step("version");
    let connection =
        transport::connect(tls, Protocol::Http1, &uri.host, uri.port, version_step).await?;
    probe.cert_sha256.clone_from(&connection.cert_sha256);
    let body = transport::http_get(
        connection,
        &uri.authority(uri.port),
        &format!("{}/version", uri.base_path),
        MAX_VERSION_BODY,
        version_step,
    )
    .await?;
    let version = ProviderVersion::from_body(&body)
        .map_err(|e| ProbeError::new(ErrorKind::MalformedBody, format!("version: {e}")))?;
    probe.version = Some(version.text.clone());

    let status_step = step("status");
    let (api, raw_nodes) = if version.speaks_grpc() {
        let port = options.grpc_port.for_rest_port(uri.port).ok_or_else(|| {
            ProbeError::new(
                ErrorKind::InvalidHostUri,
                "status: no gRPC port above 65535",
            )
        })?;
        let connection =
            transport::connect(tls, Protocol::H2, &uri.host, port, status_step).await?;
        let status = transport::grpc_get_status(
            connection,
            &uri.authority(port),
            options.max_status_bytes,
            status_step,
        )
        .await?;
        (StatusApi::Grpc, status.into_raw_nodes())
    } else {
        let connection =
            transport::connect(tls, Protocol::Http1, &uri.host, uri.port, status_step).await?;
        let body = transport::http_get(
            connection,
            &uri.authority(uri.port),
            &format!("{}/status", uri.base_path),
            options.max_status_bytes,
            status_step,
        )
        .await?;
        let nodes = rest_status::parse(&body)
            .map_err(|e| ProbeError::new(ErrorKind::MalformedBody, format!("status: {e}")))?;
        (StatusApi::Rest, nodes)
    };
    check_node_count(&raw_nodes)?;
    Ok(Inventory {
        api,
        nodes: sanitise_nodes(raw_nodes, options.max_gpus_per_node),
    })
}

fn check_node_count(nodes: &[RawNode]) -> Result<(), ProbeError> {
    if nodes.len() > crate::MAX_NODES {
        return Err(ProbeError::new(
            ErrorKind::MalformedBody,
            format!(
                "status: {} nodes reported, more than the {} accepted",
                nodes.len(),
                crate::MAX_NODES
            ),
        ));
    }
    Ok(())
}
