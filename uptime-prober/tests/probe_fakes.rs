//! The prober against several fake providers at once: every behaviour recorded as what it is,
//! rounds bounded by the timeout, metrics counted.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{a100, healthy, prober, start, target, TIMEOUT};
use simnet::providers::{Behaviour, FakeNode, FakeProviderSpec, RestShape, ScriptStep};
use uptime_prober::sanitise::{ClampReason, CountField, InfoFlag};
use uptime_prober::{ErrorKind, Probe, ProberMetrics, StatusApi, Target};

/// Slack on top of the timeout for a round on 2 busy cores in a debug build.
const SLACK: Duration = Duration::from_millis(1500);

fn by_provider(probes: Vec<Probe>) -> BTreeMap<String, Probe> {
    probes
        .into_iter()
        .map(|p| (p.provider.clone(), p))
        .collect()
}

fn clamps(probe: &Probe, node: usize) -> Vec<(CountField, ClampReason)> {
    let nodes = &probe.outcome.as_ref().expect("online").nodes;
    nodes[node]
        .clamps
        .iter()
        .map(|c| (c.field, c.reason))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_behaviour_is_recorded_as_what_it_is() {
    let absurd = "18446744073709551615";
    let specs = vec![
        healthy("up", 8, 3),
        healthy("old-rest", 4, 1).with_version("0.4.7"),
        FakeProviderSpec {
            rest_shape: RestShape::UnitsVal,
            ..healthy("old-rest-units", 2, 0).with_version("v0.4.11")
        },
        FakeProviderSpec::up(
            "absurd",
            vec![FakeNode {
                name: "broken-node".into(),
                allocatable: absurd.into(),
                allocated: "0".into(),
                gpus: vec![a100(); 8],
            }],
        ),
        FakeProviderSpec::up(
            "absurd-rest",
            vec![FakeNode {
                name: "broken-node".into(),
                allocatable: absurd.into(),
                allocated: "0".into(),
                gpus: vec![],
            }],
        )
        .with_version("0.4.7"),
        healthy("down", 8, 0).behaving(Behaviour::Down),
        healthy("hang", 8, 0).behaving(Behaviour::Hang),
        healthy("bad-tls", 8, 0).behaving(Behaviour::BadTls),
        healthy("garbage-json", 8, 0).behaving(Behaviour::GarbageJson),
        healthy("garbage-status", 8, 0).behaving(Behaviour::GarbageStatus),
        healthy("garbage-status-rest", 8, 0)
            .with_version("0.4.7")
            .behaving(Behaviour::GarbageStatus),
        healthy("http-500", 8, 0).behaving(Behaviour::Http500),
    ];
    let mut fakes = Vec::new();
    for spec in specs {
        fakes.push(start(spec).await);
    }
    let mut targets: Vec<Target> = fakes.iter().map(target).collect();
    targets.push(Target {
        provider: "plain-http".into(),
        host_uri: "http://127.0.0.1:1".into(),
    });
    let fingerprint = |owner: &str| {
        fakes
            .iter()
            .find(|f| f.owner() == owner)
            .unwrap()
            .cert_sha256()
            .to_string()
    };

    let round = prober(16, None).run_round(targets).await;
    assert!(round.complete);
    assert!(
        round.duration < TIMEOUT + SLACK,
        "round took {:?}",
        round.duration
    );
    let probes = by_provider(round.probes);

    let up = &probes["up"];
    let inventory = up.outcome.as_ref().expect("up is online");
    assert_eq!(inventory.api, StatusApi::Grpc);
    assert_eq!(up.version.as_deref(), Some("0.6.4"));
    assert_eq!(up.cert_sha256.as_deref(), Some(fingerprint("up").as_str()));
    assert_eq!(inventory.nodes.len(), 1, "the CPU-only node leaves no row");
    let node = &inventory.nodes[0];
    assert_eq!(
        (node.node.as_str(), node.allocatable, node.allocated),
        ("gpu-1", 8, 3)
    );
    let class = node.class.as_ref().unwrap();
    assert_eq!(
        (
            class.model.as_str(),
            class.ram.as_deref(),
            class.interface.as_deref()
        ),
        ("a100", Some("80Gi"), Some("sxm"))
    );
    assert!(node.clamps.is_empty() && node.flags.is_empty());

    for (owner, allocatable, allocated) in [("old-rest", 4, 1), ("old-rest-units", 2, 0)] {
        let probe = &probes[owner];
        let inventory = probe
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("{owner}: {e}"));
        assert_eq!(inventory.api, StatusApi::Rest, "{owner}");
        let node = &inventory.nodes[0];
        assert_eq!(
            (node.allocatable, node.allocated),
            (allocatable, allocated),
            "{owner}"
        );
        assert!(node.class.is_none(), "REST carries no GPU model");
    }

    let broken = &probes["absurd"].outcome.as_ref().unwrap().nodes[0];
    assert_eq!((broken.allocatable, broken.allocated), (8, 0));
    assert_eq!(broken.raw_allocatable, absurd);
    assert_eq!(
        clamps(&probes["absurd"], 0),
        [
            (CountField::Allocatable, ClampReason::AboveMaxPerNode),
            (CountField::Allocatable, ClampReason::AboveGpuInfo)
        ]
    );
    assert_eq!(broken.flags, [InfoFlag::InfoCountMismatch]);
    let broken_rest = &probes["absurd-rest"].outcome.as_ref().unwrap().nodes[0];
    assert_eq!((broken_rest.allocatable, broken_rest.allocated), (16, 0));
    assert_eq!(
        clamps(&probes["absurd-rest"], 0),
        [(CountField::Allocatable, ClampReason::AboveMaxPerNode)]
    );

    let offline = |owner: &str, kind: ErrorKind, mentions: &str| {
        let probe = &probes[owner];
        let error = probe.outcome.as_ref().expect_err(owner);
        assert_eq!(error.kind, kind, "{owner}: {error}");
        assert!(error.message.contains(mentions), "{owner}: {error}");
        probe
    };
    offline("down", ErrorKind::Connect, "version: cannot connect");
    let hang = offline("hang", ErrorKind::Timeout, "no TLS handshake within 1s");
    assert!(
        hang.latency >= TIMEOUT,
        "the hang was waited for: {:?}",
        hang.latency
    );
    offline("bad-tls", ErrorKind::Tls, "TLS handshake failed");
    offline("garbage-json", ErrorKind::MalformedBody, "version");
    let garbage = offline(
        "garbage-status",
        ErrorKind::MalformedBody,
        "status: GetStatus failed",
    );
    assert_eq!(
        garbage.version.as_deref(),
        Some("0.6.4"),
        "the version step succeeded"
    );
    assert_eq!(
        garbage.cert_sha256.as_deref(),
        Some(fingerprint("garbage-status").as_str())
    );
    offline(
        "garbage-status-rest",
        ErrorKind::MalformedBody,
        "status: the /status body is not JSON",
    );
    offline("http-500", ErrorKind::HttpStatus, "answered HTTP 500");
    offline("plain-http", ErrorKind::InvalidHostUri, "is not https");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_holed_providers_delay_nobody_beyond_their_timeout() {
    let mut fakes = Vec::new();
    for i in 0..3 {
        fakes.push(start(healthy(&format!("hang-{i}"), 8, 0).behaving(Behaviour::Hang)).await);
    }
    for i in 0..12 {
        fakes.push(start(healthy(&format!("up-{i:02}"), 8, i % 8)).await);
    }
    // Four slots, three of them held by black holes for a full timeout: the twelve healthy
    // providers must all pass through the fourth meanwhile.
    let round = prober(4, None)
        .run_round(fakes.iter().map(target).collect())
        .await;
    assert!(
        round.duration < TIMEOUT + SLACK,
        "round took {:?}",
        round.duration
    );
    assert_eq!(round.online(), 12);
    for probe in round
        .probes
        .iter()
        .filter(|p| p.provider.starts_with("hang"))
    {
        assert_eq!(probe.error_kind(), Some(ErrorKind::Timeout));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_over_time_are_seen_by_later_rounds() {
    let steered = start(healthy("steered", 8, 2)).await;
    let scripted = start(FakeProviderSpec {
        script: vec![
            ScriptStep::new(Duration::ZERO, Behaviour::Hang),
            ScriptStep::new(Duration::from_millis(300), Behaviour::Up),
        ],
        ..healthy("scripted", 4, 0)
    })
    .await;
    let prober = prober(4, None);
    let targets = vec![target(&steered), target(&scripted)];

    let first = by_provider(prober.run_round(targets.clone()).await.probes);
    assert!(first["steered"].online());
    assert_eq!(
        first["scripted"].error_kind(),
        Some(ErrorKind::Timeout),
        "hangs at first"
    );

    steered.set_behaviour(Behaviour::Down).await;
    let second = by_provider(prober.run_round(targets.clone()).await.probes);
    assert_eq!(
        second["steered"].error_kind(),
        Some(ErrorKind::Connect),
        "its port is closed"
    );
    assert!(
        second["scripted"].online(),
        "the script switched it up after 300 ms"
    );

    steered.set_behaviour(Behaviour::Up).await;
    steered.set_nodes(vec![FakeNode::with_gpus("gpu-1", &a100(), 4, 4)]);
    let third = by_provider(prober.run_round(targets).await.probes);
    let node = &third["steered"]
        .outcome
        .as_ref()
        .expect("back up on the same port")
        .nodes[0];
    assert_eq!((node.allocatable, node.allocated), (4, 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_results_kinds_clamps_and_gpus() {
    let fakes = [
        start(healthy("a", 8, 1)).await,
        start(healthy("b", 4, 0)).await,
        start(FakeProviderSpec::up(
            "c",
            vec![FakeNode {
                name: "n".into(),
                allocatable: "-1".into(),
                allocated: "0".into(),
                gpus: vec![],
            }],
        ))
        .await,
        start(healthy("d", 8, 0).behaving(Behaviour::Down)).await,
    ];
    let registry = prometheus::Registry::new();
    let metrics = ProberMetrics::register(&registry).unwrap();
    prober(4, Some(metrics))
        .run_round(fakes.iter().map(target).collect())
        .await;
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap();
    for line in [
        "akash_incentives_prober_probes_total{error_kind=\"none\",result=\"online\"} 3",
        "akash_incentives_prober_probes_total{error_kind=\"connect\",result=\"offline\"} 1",
        "akash_incentives_prober_probes_total{error_kind=\"timeout\",result=\"offline\"} 0",
        "akash_incentives_prober_providers_online 3",
        "akash_incentives_prober_providers_probed 4",
        "akash_incentives_prober_gpus_online{model=\"a100\"} 12",
        "akash_incentives_prober_gpus_online{model=\"unknown\"} 0",
        "akash_incentives_prober_clamps_total{field=\"allocatable\",reason=\"negative\"} 1",
        "akash_incentives_prober_probe_latency_seconds_count{result=\"online\"} 3",
        "akash_incentives_prober_round_duration_seconds_count 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}
