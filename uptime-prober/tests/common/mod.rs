//! Shared helpers for the prober's integration tests: fake providers and a prober aimed at them.
#![allow(dead_code)] // each test binary uses a different subset

use std::time::Duration;

use simnet::providers::{FakeGpu, FakeNode, FakeProvider, FakeProviderSpec};
use uptime_prober::{GrpcPort, ProbeOptions, Prober, ProberConfig, ProberMetrics, Target};

/// The step timeout used by the tests: short, so hanging fakes cost little.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// A prober for fakes on 127.0.0.1 (gRPC on REST port + 1).
pub fn prober(concurrency: usize, metrics: Option<ProberMetrics>) -> Prober {
    Prober::new(
        ProberConfig {
            prober_id: "test-1".into(),
            concurrency,
            probe: ProbeOptions {
                timeout: TIMEOUT,
                max_gpus_per_node: 16,
                grpc_port: GrpcPort::RestPortPlusOne,
                ..ProbeOptions::default()
            },
        },
        metrics,
    )
    .expect("a valid prober configuration")
}

/// An NVIDIA A100 80Gi SXM4, as providers describe it.
pub fn a100() -> FakeGpu {
    FakeGpu::nvidia("a100", "80Gi", "SXM4")
}

/// A healthy gRPC-era provider with one node of `gpus` A100s, `allocated` in use, and a
/// CPU-only node.
pub fn healthy(owner: &str, gpus: u32, allocated: u32) -> FakeProviderSpec {
    FakeProviderSpec::up(
        owner,
        vec![
            FakeNode::with_gpus("gpu-1", &a100(), gpus, allocated),
            FakeNode::with_gpus("cpu-1", &a100(), 0, 0),
        ],
    )
}

/// Starts a fake provider.
pub async fn start(spec: FakeProviderSpec) -> FakeProvider {
    FakeProvider::start(spec)
        .await
        .expect("start a fake provider")
}

/// The target that probes `fake`.
pub fn target(fake: &FakeProvider) -> Target {
    Target {
        provider: fake.owner().to_string(),
        host_uri: fake.host_uri(),
    }
}
