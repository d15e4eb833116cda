//! The quarterly utilization report's GPU columns on a store small enough to work out by hand,
//! on SQLite and PostgreSQL.
//!
//! The window is `[00:00, 02:00)` of 2024-03-01; the staleness limit 30 minutes; one class,
//! `h100`. Every figure below follows from the rules in `reports::utilization`'s docs:
//!
//! * **P1** is observed every 15 minutes from 00:00 to 01:45, online with 4 h100s each time:
//!   4 GPUs × 2 h = 8 GPU-hours online (the 01:45 observation stands to the window's end), 4
//!   advertised. It holds a lease of 2 GPUs from 00:30 to 01:30: 2 GPU-hours leased. It has a
//!   contract of 3 GPUs that started in February, and one of 5 that starts in April (outside).
//! * **P2** is online with 2 h100s at 00:00, 00:15, 00:30 and 00:45, with 6 at 01:00, and
//!   offline at 01:15, 01:30 and 01:45: 2 × 1 h + 6 × 0.25 h = 3.5 GPU-hours online, 6
//!   advertised.
//!
//! So: advertised 10; online 11.5 GPU-hours, 5.75 GPUs on average; committed 3; leased 2
//! GPU-hours; utilization 2 / 11.5 = 17.391…% → `17.39`; two providers, one lease.

use domain::{ChainDecimal, Height, UnixMs};
use reports::utilization::{utilization, UtilizationRow};
use rewards::calendar::Window;
use store::chain::write::{BlockStamp, LeaseWrite};
use store::probes::{insert_observations, GpuRecord, ObservationKey, ObservationRecord};
use store::{on_both_backends, Store};

/// 2024-03-01T00:00:00Z.
const T0: i64 = 1_709_251_200_000;
const MINUTE: i64 = 60_000;
const P1: &str = "akash1pyysjzgfpyysjzgfpyysjzgfpyysjzgfsqeghr";
const P2: &str = "akash1wamhwamhwamhwamhwamhwamhwamhwamhph98cf";

fn config() -> settings::Config {
    let text = format!(
        r#"[chain]
chain_id = "akashnet-2"
rpc_urls = ["http://127.0.0.1:26657"]
start_height = 1

[prober]
max_staleness = "30m"

[program]
name = "utilization"
start = "2024-02-01T00:00:00Z"
epoch_length = "1d"
epochs = 120
denom = "uakt"

[[classes]]
name = "h100"
gpu_model = "h100"

[vesting.immediate]
kind = "immediate"

[pools.committed]
budget = {{ base_units = "1000000000" }}

[[pools.committed.contracts]]
id = "running"
provider = "{P1}"
class = "h100"
gpus = 3
rate = {{ base_units = "10" }}
start = "2024-02-01T00:00:00Z"
term = "365d"
sla_uptime = "0.9"
vesting = "immediate"
max_consecutive_breaches = 3

[[pools.committed.contracts]]
id = "later"
provider = "{P1}"
class = "h100"
gpus = 5
rate = {{ base_units = "10" }}
start = "2024-04-01T00:00:00Z"
term = "365d"
sla_uptime = "0.9"
vesting = "immediate"
max_consecutive_breaches = 3
"#
    );
    settings::parse(
        std::path::Path::new("utilization.toml"),
        &text,
        &settings::Environment::default(),
    )
    .unwrap()
}

/// An observation of `provider` at `minute` past T0: online with `gpus` h100s, or offline.
fn observation(provider: &str, minute: i64, gpus: Option<i64>) -> ObservationRecord {
    let time_ms = T0 + minute * MINUTE;
    ObservationRecord {
        key: ObservationKey {
            prober: "eu-1".into(),
            provider: provider.into(),
            time_ms,
        },
        time: UnixMs(time_ms).to_string(),
        online: gpus.is_some(),
        latency_ms: gpus.map(|_| 40),
        error_kind: gpus.is_none().then(|| "timeout".into()),
        error: gpus.is_none().then(|| "no answer".into()),
        version: gpus.map(|_| "0.6.4".into()),
        cert_sha256: None,
        status_api: gpus.map(|_| "grpc".into()),
        gpus: gpus
            .map(|count| GpuRecord {
                node: "node-1".into(),
                vendor: Some("nvidia".into()),
                model: Some("h100".into()),
                ram: Some("80Gi".into()),
                interface: Some("sxm5".into()),
                allocatable: count,
                allocated: 0,
                raw_allocatable: count.to_string(),
                raw_allocated: "0".into(),
                clamps: None,
                flags: None,
            })
            .into_iter()
            .collect(),
    }
}

/// A block every 15 minutes across the window; P1's lease created at 00:30, closed at 01:30.
fn chain(store: &mut Store) {
    let times: Vec<(i64, String)> = (0..=8)
        .map(|quarter| {
            let ms = T0 + quarter * 15 * MINUTE;
            (ms, UnixMs(ms).to_string())
        })
        .collect();
    let stamp = |i: usize| BlockStamp {
        height: Height::from_stored(100 + i as i64).unwrap(),
        time: &times[i].1,
        time_ms: times[i].0,
    };
    for i in 0..times.len() {
        store::testing::empty_block(store.conn(), stamp(i), &format!("{i:064}")).unwrap();
    }
    let id = store::testing::lease_id(P2, 7, P1);
    let price: ChainDecimal = "1".parse().unwrap();
    let lease = LeaseWrite {
        id: &id,
        gpu_units: Some(2),
        gpu_model: Some("h100"),
        gpu_ram: Some("80Gi"),
        price_denom: "uakt",
        price_amount: &price,
        created: stamp(2),
        via_authz: false,
    };
    store::testing::lease(store.conn(), &lease, Some(stamp(6))).unwrap();
}

fn gpu_columns_match_a_hand_computation(store: &mut Store) {
    let config = config();
    chain(store);
    let mut records: Vec<ObservationRecord> = (0..8)
        .map(|quarter| observation(P1, quarter * 15, Some(4)))
        .collect();
    records.extend([0, 15, 30, 45].map(|minute| observation(P2, minute, Some(2))));
    records.push(observation(P2, 60, Some(6)));
    records.extend([75, 90, 105].map(|minute| observation(P2, minute, None)));
    insert_observations(store, &records).unwrap();

    let window = Window::new(UnixMs(T0), UnixMs(T0 + 120 * MINUTE)).unwrap();
    let report = utilization(store.conn(), &config.programme, 30 * MINUTE as u64, window).unwrap();
    let rows: Vec<(&Option<String>, &UtilizationRow)> = report
        .rows
        .iter()
        .map(|((_, model), row)| (model, row))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (model, row) = rows[0];
    assert_eq!(model.as_deref(), Some("h100"));
    let hour = 3_600_000_u128;
    assert_eq!(row.gpus_advertised, 10);
    assert_eq!(row.online_gpu_ms, 23 * hour / 2);
    assert_eq!(row.gpus_online(120 * MINUTE as u64), "5.75");
    assert_eq!(row.committed_gpus, 3);
    assert_eq!(row.leased_gpu_ms, 2 * hour);
    assert_eq!(row.utilization_pct().as_deref(), Some("17.39"));
    assert_eq!(
        row.providers.iter().map(String::as_str).collect::<Vec<_>>(),
        [P1, P2]
    );
    assert_eq!((row.leases, row.unsized_leases), (1, 0));
}

on_both_backends!(gpu_columns_match_a_hand_computation);
