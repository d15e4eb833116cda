//! The prober's tables on SQLite and PostgreSQL: what goes in comes back, writes are idempotent,
//! a stored observation is never overwritten, paging sees everything once.

mod common;

use store::probes::{self, GpuRecord, InsertOutcome, ObservationKey, ObservationRecord};
use store::{on_both_backends, Store};

fn key(prober: &str, provider: &str, time_ms: i64) -> ObservationKey {
    ObservationKey {
        prober: prober.into(),
        provider: provider.into(),
        time_ms,
    }
}

fn online(prober: &str, provider: &str, time_ms: i64, gpus: Vec<GpuRecord>) -> ObservationRecord {
    ObservationRecord {
        key: key(prober, provider, time_ms),
        time: domain::UnixMs(time_ms).to_string(),
        online: true,
        latency_ms: Some(120),
        error_kind: None,
        error: None,
        version: Some("v0.6.4".into()),
        cert_sha256: Some("ab".repeat(32)),
        status_api: Some("grpc".into()),
        gpus,
    }
}

fn gpu(node: &str, allocatable: i64, allocated: i64) -> GpuRecord {
    GpuRecord {
        node: node.into(),
        vendor: Some("nvidia".into()),
        model: Some("a100".into()),
        ram: Some("80Gi".into()),
        interface: Some("sxm".into()),
        allocatable,
        allocated,
        raw_allocatable: allocatable.to_string(),
        raw_allocated: allocated.to_string(),
        clamps: None,
        flags: None,
    }
}

/// Sorts records the way the store returns them: by (time, prober, provider).
fn sort_in_store_order(records: &mut [ObservationRecord]) {
    records.sort_by(|a, b| {
        (a.key.time_ms, &a.key.prober, &a.key.provider).cmp(&(
            b.key.time_ms,
            &b.key.prober,
            &b.key.provider,
        ))
    });
}

/// Every field, including awkward text and the sanitiser's notes, comes back unchanged.
fn observations_round_trip_exactly(store: &mut Store) {
    let mut clamped = gpu("nœud-é/1 \"quoted\" 'x'", 16, 0);
    clamped.model = None;
    clamped.raw_allocatable = "18446744073709551615".into();
    clamped.raw_allocated = "available:-1".into();
    clamped.clamps = Some("allocatable:above_max_per_node,allocated:negative".into());
    clamped.flags = Some("info_count_mismatch".into());
    let offline = ObservationRecord {
        online: false,
        latency_ms: Some(10_000),
        error_kind: Some("timeout".into()),
        error: Some(format!(
            "version: no TLS handshake within 10s — {}",
            "🙂".repeat(100)
        )),
        status_api: None,
        ..online("eu-1", "akash1b", 1_707_956_100_120, vec![])
    };
    let records = vec![
        online(
            "eu-1",
            "akash1a",
            1_707_956_100_000,
            vec![gpu("a-node", 8, 3), clamped],
        ),
        offline,
        ObservationRecord {
            latency_ms: None,
            version: None,
            cert_sha256: None,
            status_api: None,
            ..online(
                "us-1",
                "akash1a",
                1_707_956_100_000,
                vec![gpu("gpus[0000]", 1, 1)],
            )
        },
    ];
    let summary = probes::insert_observations(store, &records).unwrap();
    assert_eq!(summary.count(InsertOutcome::Inserted), 3);
    let back = probes::load_observations(store.conn(), 0, i64::MAX, None, 100).unwrap();
    let mut expected = records;
    sort_in_store_order(&mut expected);
    // GPUs come back ordered by node name.
    expected[0].gpus.sort_by(|a, b| a.node.cmp(&b.node));
    assert_eq!(back, expected);
}

/// Writing the same record twice changes nothing; a different record under a stored key is
/// reported as a conflict and the stored one stays.
fn writes_are_idempotent_and_never_overwrite(store: &mut Store) {
    let first = online("eu-1", "akash1a", 1_000_000_000_000, vec![gpu("n", 8, 3)]);
    probes::insert_observations(store, std::slice::from_ref(&first)).unwrap();
    let mut changed = first.clone();
    changed.gpus[0].allocated = 0;
    let fresh = online("eu-1", "akash1a", 1_000_000_900_000, vec![]);
    let summary =
        probes::insert_observations(store, &[first.clone(), changed, fresh.clone(), fresh])
            .unwrap();
    assert_eq!(
        summary.outcomes,
        [
            InsertOutcome::Identical,
            InsertOutcome::Conflicting,
            InsertOutcome::Inserted,
            InsertOutcome::Identical
        ]
    );
    let back = probes::load_observations(store.conn(), 0, i64::MAX, None, 100).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[0], first, "the stored record was kept");
}

/// Keyset paging returns every observation exactly once, in (time, prober, provider) order,
/// also when many share one millisecond.
fn paging_sees_every_observation_once(store: &mut Store) {
    let mut records = Vec::new();
    for i in 0..23_i64 {
        records.push(online(
            &format!("p{}", i % 3),
            &format!("akash1{}", i % 5),
            1_000_000_000_000 + (i / 7) * 1000,
            vec![gpu("n", i % 9, 0)],
        ));
    }
    records.dedup_by(|a, b| a.key == b.key);
    probes::insert_observations(store, &records).unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = probes::load_observations(store.conn(), 0, i64::MAX, after.as_ref(), 4).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.key.clone());
        seen.extend(page);
    }
    let mut expected = records;
    sort_in_store_order(&mut expected);
    assert_eq!(seen, expected);
    let window = probes::load_observations(
        store.conn(),
        1_000_000_001_000,
        1_000_000_002_000,
        None,
        100,
    )
    .unwrap();
    assert!(window.iter().all(|r| r.key.time_ms == 1_000_000_001_000) && !window.is_empty());
}

/// The prober's targets are the registered providers that have not been deleted.
fn targets_are_the_providers_not_deleted(store: &mut Store) {
    for (owner, host_uri, deleted) in [
        ("akash1b", "https://b:8443", None),
        ("akash1a", "https://a:8443", None),
        ("akash1gone", "https://g:8443", Some(5_i64)),
    ] {
        store::testing::register_provider(store.conn(), owner, host_uri, deleted).unwrap();
    }
    let targets = uptime_prober::round::store_targets(store).unwrap();
    let owners: Vec<&str> = targets.iter().map(|t| t.provider.as_str()).collect();
    assert_eq!(owners, ["akash1a", "akash1b"]);
    assert_eq!(targets[0].host_uri, "https://a:8443");
}

/// A real round against fakes (healthy, clamped, offline) is stored and read back unchanged.
fn a_probed_round_is_stored_unchanged(store: &mut Store) {
    use simnet::providers::{Behaviour, FakeNode, FakeProviderSpec};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (round, prober_id) = runtime.block_on(async {
        let fakes = [
            common::start(common::healthy("akash1up", 8, 3)).await,
            common::start(FakeProviderSpec::up(
                "akash1absurd",
                vec![FakeNode {
                    name: "n\u{0}ul".into(),
                    allocatable: "18446744073709551615".into(),
                    allocated: "-1".into(),
                    gpus: vec![],
                }],
            ))
            .await,
            common::start(common::healthy("akash1down", 8, 0).behaving(Behaviour::Down)).await,
        ];
        let prober = common::prober(4, None);
        let round = prober
            .run_round(fakes.iter().map(common::target).collect())
            .await;
        (round, prober.id().to_string())
    });
    let records = round.records(&prober_id);
    probes::insert_observations(store, &records).unwrap();
    let mut back = probes::load_observations(store.conn(), 0, i64::MAX, None, 100).unwrap();
    back.sort_by(|a, b| a.key.provider.cmp(&b.key.provider));
    let mut expected = records;
    expected.sort_by(|a, b| a.key.provider.cmp(&b.key.provider));
    assert_eq!(back, expected);
    let absurd = &back[0].gpus[0];
    assert_eq!(
        absurd.node, "nul",
        "the NUL byte PostgreSQL refuses was dropped"
    );
    assert_eq!(
        absurd.clamps.as_deref(),
        Some("allocatable:above_max_per_node,allocated:negative")
    );
    assert_eq!(back[1].error_kind.as_deref(), Some("connect"));
}

on_both_backends!(
    observations_round_trip_exactly,
    writes_are_idempotent_and_never_overwrite,
    paging_sees_every_observation_once,
    targets_are_the_providers_not_deleted,
    a_probed_round_is_stored_unchanged,
);
