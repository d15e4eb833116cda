//! One probe round over 2,000 fake providers on loopback, 10 % of them black-holed (they accept
//! and never answer), with a 2 s timeout and concurrency 256. Target: the round ends within
//! 3 × timeout. Prints wall time per round, the ratio to the target, and peak memory.
//!
//! Every fake is its own address:port pair (REST port and gRPC port = REST + 1) with its own
//! self-signed certificate, served from this same process, so the figures include the fakes'
//! TLS work on the same two cores.
//!
//! Run: `cargo bench -p uptime-prober --bench probe_round`

use std::time::{Duration, Instant};

use simnet::providers::{Behaviour, FakeGpu, FakeNode, FakeProvider, FakeProviderSpec};
use uptime_prober::{ErrorKind, GrpcPort, ProbeOptions, Prober, ProberConfig, Target};

const PROVIDERS: usize = 2_000;
const BLACK_HOLED_EVERY: usize = 10;
const TIMEOUT: Duration = Duration::from_secs(2);
const CONCURRENCY: usize = 256;
const ROUNDS: usize = 3;

fn main() {
    let limit = raise_open_file_limit(16_384);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(bench(limit));
}

async fn bench(open_file_limit: u64) {
    let started = Instant::now();
    let fakes = start_fakes().await;
    println!(
        "started {} fake providers ({} black-holed) in {:.2} s; open-file limit {open_file_limit}; RSS {} MiB",
        fakes.len(),
        PROVIDERS / BLACK_HOLED_EVERY,
        started.elapsed().as_secs_f64(),
        memory_kib("VmRSS") / 1024
    );
    let targets: Vec<Target> = fakes
        .iter()
        .map(|f| Target {
            provider: f.owner().to_string(),
            host_uri: f.host_uri(),
        })
        .collect();
    let prober = Prober::new(
        ProberConfig {
            prober_id: "bench".into(),
            concurrency: CONCURRENCY,
            probe: ProbeOptions {
                timeout: TIMEOUT,
                grpc_port: GrpcPort::RestPortPlusOne,
                ..ProbeOptions::default()
            },
        },
        None,
    )
    .expect("prober");
    let target = TIMEOUT * 3;
    let mut worst = Duration::ZERO;
    for round_number in 1..=ROUNDS {
        let round = prober.run_round(targets.clone()).await;
        let timeouts = round
            .probes
            .iter()
            .filter(|p| p.error_kind() == Some(ErrorKind::Timeout))
            .count();
        let other_failures = round.probes.len() - round.online() - timeouts;
        worst = worst.max(round.duration);
        println!(
            "round {round_number}: {} providers in {:.3} s = {:.2} × timeout ({:.0} % of the 3 × timeout target); {} online, {timeouts} timed out, {other_failures} other failures",
            round.probes.len(),
            round.duration.as_secs_f64(),
            round.duration.as_secs_f64() / TIMEOUT.as_secs_f64(),
            100.0 * round.duration.as_secs_f64() / target.as_secs_f64(),
            round.online(),
        );
    }
    println!(
        "worst round {:.3} s vs target {:.0} s: {}; peak memory (VmHWM) {} MiB for prober and fakes together",
        worst.as_secs_f64(),
        target.as_secs_f64(),
        if worst < target { "PASS" } else { "MISS" },
        memory_kib("VmHWM") / 1024
    );
}

async fn start_fakes() -> Vec<FakeProvider> {
    let a100 = FakeGpu::nvidia("a100", "80Gi", "SXM4");
    let h100 = FakeGpu::nvidia("h100", "80Gi", "PCIe");
    let mut fakes = Vec::with_capacity(PROVIDERS);
    for i in 0..PROVIDERS {
        let gpu = if i % 3 == 0 { &h100 } else { &a100 };
        let nodes = vec![
            FakeNode::with_gpus("gpu-1", gpu, 8, u32::try_from(i % 9).unwrap_or(0)),
            FakeNode::with_gpus("gpu-2", gpu, 4, 0),
            FakeNode::with_gpus("cpu-1", gpu, 0, 0),
        ];
        let mut spec = FakeProviderSpec::up(&format!("akash1bench{i:05}"), nodes);
        if i % BLACK_HOLED_EVERY == 0 {
            spec = spec.behaving(Behaviour::Hang);
        } else if i % 20 == 1 {
            spec = spec.with_version("0.4.7");
        }
        fakes.push(
            FakeProvider::start(spec)
                .await
                .expect("start a fake provider"),
        );
    }
    fakes
}

/// A line of /proc/self/status, in KiB (0 where there is no /proc).
fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
        })
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Raises the soft open-file limit towards `wanted` (within the hard limit): 2,000 fakes hold
/// about 3,900 listening sockets, and each in-flight probe two connection ends.
fn raise_open_file_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < wanted {
            let raised = libc::rlimit {
                rlim_cur: wanted.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}
