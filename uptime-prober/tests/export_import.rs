//! JSON Lines export and import: an export imported into an empty database gives the same
//! uptime and online GPU counts for every provider and epoch; malformed lines are rejected by
//! line number while every good line is kept; imports are idempotent.

use std::collections::BTreeMap;

use domain::UnixMs;
use rewards::calendar::Window;
use rewards::programme::GpuClass;
use rewards::uptime::Timeline;
use settlement::observations::rewards_observations;
use store::probes::records_for_window;
use store::probes::{self, GpuRecord, ObservationKey, ObservationRecord};
use store::{on_both_backends, Backend, Store};
use uptime_prober::jsonl;

const DAY_MS: i64 = 86_400_000;
const INTERVAL_MS: i64 = 900_000;
const MAX_STALENESS_MS: u64 = 1_800_000;
/// 2024-02-15T00:00:00Z.
const START_MS: i64 = 1_707_955_200_000;
const PROVIDERS: [&str; 5] = [
    "akash1alpha",
    "akash1bravo",
    "akash1charlie",
    "akash1delta",
    "akash1echo",
];
const PROBERS: [&str; 3] = ["eu-1", "us-1", "ap-1"];

/// A small deterministic generator (xorshift64*), so the data set is the same on every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn classes() -> Vec<GpuClass> {
    vec![
        GpuClass {
            name: domain::ClassName::new("a100-80").unwrap(),
            gpu_model: domain::GpuModel::normalise("a100").unwrap(),
            gpu_ram: Some("80Gi".into()),
        },
        GpuClass {
            name: domain::ClassName::new("h100").unwrap(),
            gpu_model: domain::GpuModel::normalise("h100").unwrap(),
            gpu_ram: None,
        },
    ]
}

/// Three days of observations by three probers of five providers, with outages, disagreeing
/// probers, gaps longer than the staleness limit, several nodes, unclassified and clamped nodes.
fn observations() -> Vec<ObservationRecord> {
    let mut dice = Dice(0x0005_eed0_fa11);
    let mut records = Vec::new();
    for (p, provider) in PROVIDERS.iter().enumerate() {
        for prober in PROBERS {
            let mut t = START_MS - INTERVAL_MS + i64::try_from(dice.below(60_000)).unwrap();
            while t < START_MS + 3 * DAY_MS {
                // Sometimes a prober misses probes (its own outage): staleness expires.
                let skip = dice.below(20) == 0;
                if !skip {
                    let online = dice.below(10) > u64::try_from(p).unwrap();
                    records.push(record(&mut dice, prober, provider, t, online));
                }
                t += INTERVAL_MS + i64::try_from(dice.below(2_000)).unwrap() - 1_000;
                if dice.below(40) == 0 {
                    t += 3 * INTERVAL_MS;
                }
            }
        }
    }
    records
}

fn record(
    dice: &mut Dice,
    prober: &str,
    provider: &str,
    time_ms: i64,
    online: bool,
) -> ObservationRecord {
    let gpus = if online {
        let models = [
            (Some("a100"), Some("80Gi")),
            (Some("a100"), Some("40Gi")),
            (Some("h100"), Some("80Gi")),
            (None, None),
        ];
        (0..dice.below(4))
            .map(|n| {
                let (model, ram) = models[usize::try_from(dice.below(4)).unwrap()];
                let allocatable = i64::try_from(dice.below(9)).unwrap();
                let allocated =
                    i64::try_from(dice.below(u64::try_from(allocatable).unwrap() + 1)).unwrap();
                let clamped = dice.below(10) == 0;
                GpuRecord {
                    node: format!("node-{n}"),
                    vendor: model.map(|_| "nvidia".to_string()),
                    model: model.map(Into::into),
                    ram: ram.map(Into::into),
                    interface: model.map(|_| "sxm".to_string()),
                    allocatable,
                    allocated,
                    raw_allocatable: if clamped {
                        "18446744073709551615".into()
                    } else {
                        allocatable.to_string()
                    },
                    raw_allocated: allocated.to_string(),
                    clamps: clamped.then(|| "allocatable:above_max_per_node".into()),
                    flags: None,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    ObservationRecord {
        key: ObservationKey {
            prober: prober.into(),
            provider: provider.into(),
            time_ms,
        },
        time: UnixMs(time_ms).to_string(),
        online,
        latency_ms: Some(i64::try_from(dice.below(20_000)).unwrap()),
        error_kind: (!online).then(|| "timeout".into()),
        error: (!online).then(|| "version: no TLS handshake within 10s".into()),
        version: Some("0.6.4".into()),
        cert_sha256: Some("cd".repeat(32)),
        status_api: online.then(|| "grpc".into()),
        gpus,
    }
}

/// Uptime (exact fraction) and online GPU-milliseconds per class, per provider and window.
type Measures = BTreeMap<(String, i64, i64), (u64, u64, Vec<u128>)>;

fn measure(store: &mut Store, windows: &[Window]) -> Measures {
    let classes = classes();
    let mut measures = Measures::new();
    for window in windows {
        let records = records_for_window(
            store.conn(),
            window.start_ms().0,
            window.end_ms().0,
            MAX_STALENESS_MS,
        )
        .unwrap();
        let observations = rewards_observations(&records, &classes);
        for provider in PROVIDERS {
            let timeline = Timeline::build(provider, &observations, MAX_STALENESS_MS).unwrap();
            let uptime = timeline.uptime(*window);
            let gpu_ms = classes
                .iter()
                .map(|c| timeline.online_gpu_ms(&c.name, *window))
                .collect();
            measures.insert(
                (provider.to_string(), window.start_ms().0, window.end_ms().0),
                (uptime.online_ms(), uptime.window_ms(), gpu_ms),
            );
        }
    }
    measures
}

fn empty_store_like(store: &Store) -> Option<store::testing::TestDatabase> {
    match store.backend() {
        Backend::Sqlite => Some(store::testing::sqlite()),
        Backend::Postgres => store::testing::postgres(),
    }
}

/// Export then import into an empty database: the same uptime and online GPU-ms for every
/// provider over every daily epoch and every 6-hour window, and the same lines on re-export.
fn export_then_import_reproduces_uptime(store: &mut Store) {
    let records = observations();
    probes::insert_observations(store, &records).unwrap();
    let mut exported = Vec::new();
    let written = jsonl::export(
        store,
        START_MS - DAY_MS,
        START_MS + 4 * DAY_MS,
        &mut exported,
    )
    .unwrap();
    assert_eq!(written, records.len());

    let Some(mut empty) = empty_store_like(store) else {
        return;
    };
    let report = jsonl::import(&mut empty, exported.as_slice(), 16).unwrap();
    assert_eq!(
        (report.inserted, report.rejected_total),
        (records.len(), 0),
        "{:?}",
        report.rejections.first()
    );

    let mut windows = Vec::new();
    for day in 0..3 {
        windows.push(
            Window::new(
                domain::UnixMs(START_MS + day * DAY_MS),
                domain::UnixMs(START_MS + (day + 1) * DAY_MS),
            )
            .unwrap(),
        );
        for quarter in 0..4 {
            let start = START_MS + day * DAY_MS + quarter * DAY_MS / 4;
            windows.push(
                Window::new(domain::UnixMs(start), domain::UnixMs(start + DAY_MS / 4)).unwrap(),
            );
        }
    }
    let original = measure(store, &windows);
    let imported = measure(&mut empty, &windows);
    assert_eq!(original, imported);
    // The data set is not trivial: some uptimes are strictly between 0 and 1, and GPUs count.
    assert!(original
        .values()
        .any(|(online, window, _)| *online > 0 && online < window));
    assert!(original
        .values()
        .any(|(_, _, gpu_ms)| gpu_ms.iter().all(|g| *g > 0)));

    let mut again = Vec::new();
    jsonl::export(
        &mut empty,
        START_MS - DAY_MS,
        START_MS + 4 * DAY_MS,
        &mut again,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(again).unwrap(),
        String::from_utf8(exported).unwrap()
    );
}

/// A file mixing good and hostile lines: each bad line is rejected with its number and reason,
/// every good line is stored, and nothing already stored is touched.
fn malformed_lines_are_rejected_by_number_and_the_rest_kept(store: &mut Store) {
    let line = |provider: &str, minute: i64, body: &str| {
        format!(
            r#"{{"prober":"eu-1","provider":"{provider}","time":"{}","online":true,"latency_ms":120,"error":null,"gpus":[{body}]}}"#,
            UnixMs(START_MS + minute * 60_000)
        )
    };
    let gpu = r#"{"model":"a100","ram":"80Gi","interface":"sxm","allocatable":8,"allocated":3}"#;
    let already = line("akash1stored", 0, gpu);
    jsonl::import(store, already.as_bytes(), 16).unwrap();

    let mut file: Vec<u8> = Vec::new();
    let mut push = |text: &[u8]| {
        file.extend_from_slice(text);
        file.push(b'\n');
    };
    push(line("akash1a", 0, gpu).as_bytes()); // 1: good
    push(line("akash1b", 0, &gpu.replace(":8,", ":18446744073709551615,")).as_bytes()); // 2: huge
    push(line("akash1c", 0, &gpu.replace(":3}", ":-3}")).as_bytes()); // 3: negative
    push(
        line("akash1a", 15, gpu)
            .replace("T00:15:00Z", "T25:15:00Z")
            .as_bytes(),
    ); // 4: bad time
    push(
        format!(
            r#"{{"prober":"eu-1","provider":"{}""#,
            "x".repeat(2 * 1024 * 1024)
        )
        .as_bytes(),
    ); // 5: absurd length
    push(b"\xff\xfe not utf-8"); // 6
    push(b""); // 7: blank, skipped
    push(line("akash1a", 30, gpu).as_bytes()); // 8: good
    push(line("akash1stored", 0, &gpu.replace(":3}", ":0}")).as_bytes()); // 9: conflicts with the stored one
    push(line("akash1d", 0, &gpu.replace(":8,", ":17,")).as_bytes()); // 10: above max per node
    push(format!(r#"{{"online":"{}"}}"#, "y".repeat(100_000)).as_bytes()); // 11: quoted in the parser's message
    push(line("akash1a", 45, "").as_bytes()); // 12: good, no GPUs
    file.extend_from_slice(line("akash1e", 0, gpu).as_bytes()); // 13: good, no final newline

    let report = jsonl::import(store, file.as_slice(), 16).unwrap();
    let rejected: Vec<usize> = report.rejections.iter().map(|r| r.line).collect();
    assert_eq!(
        rejected,
        [2, 3, 4, 5, 6, 10, 11],
        "{:#?}",
        report.rejections
    );
    assert!(report.rejections[3]
        .reason
        .contains("above the 1048576-byte limit"));
    assert!(
        report
            .rejections
            .iter()
            .all(|r| r.reason.chars().count() <= 300),
        "reasons stay short"
    );
    assert_eq!(report.inserted, 4);
    assert_eq!(
        report
            .conflicting
            .iter()
            .map(|(l, _)| *l)
            .collect::<Vec<_>>(),
        [9]
    );
    assert_eq!(report.lines, 12);

    let stored = probes::load_observations(store.conn(), 0, i64::MAX, None, 100).unwrap();
    let providers: Vec<&str> = stored.iter().map(|r| r.key.provider.as_str()).collect();
    assert_eq!(
        providers,
        ["akash1a", "akash1e", "akash1stored", "akash1a", "akash1a"]
    );
    let kept = stored
        .iter()
        .find(|r| r.key.provider == "akash1stored")
        .unwrap();
    assert_eq!(
        kept.gpus[0].allocated, 3,
        "the conflicting line did not overwrite"
    );

    // Importing the same file again stores nothing new and rejects the same lines.
    let again = jsonl::import(store, file.as_slice(), 16).unwrap();
    assert_eq!(
        (again.inserted, again.identical, again.rejected_total),
        (0, 4, 7)
    );
}

on_both_backends!(
    export_then_import_reproduces_uptime,
    malformed_lines_are_rejected_by_number_and_the_rest_kept,
);
