//! JSON Lines export and import: an export imported into an empty database gives the same
//! uptime and online GPU counts for every provider and epoch; every bad line is rejected by line
//! number with a reason code and recorded with its raw text, while every good line is kept; a
//! line about an address that was never a provider is refused; a stricter per-node limit on the
//! importing side clamps counts and loses no vote; imports are idempotent.

use std::collections::BTreeMap;

use domain::UnixMs;
use rewards::calendar::Window;
use rewards::programme::GpuClass;
use rewards::uptime::Timeline;
use settlement::observations::rewards_observations;
use store::probe_signatures::Proof;
use store::probes::records_for_window;
use store::probes::{self, GpuRecord, ObservationKey, ObservationRecord};
use store::{on_both_backends, Backend, Store};
use uptime_prober::jsonl::{self, ObservationLine};
use uptime_prober::signing::{ProberKey, Vantages};

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

/// An import of `test.jsonl` under id `id`, clamping at `max` GPUs per node.
fn options(max: u32, id: &str) -> jsonl::ImportOptions {
    jsonl::ImportOptions {
        max_gpus_per_node: max,
        import_id: id.into(),
        source: "test.jsonl".into(),
        recorded_at_ms: 1_707_955_200_000,
        vantages: Vantages::default(),
        allow_unsigned: true,
    }
}

/// Registers `owners` as providers on the store's chain, so observations about them count.
fn register(store: &mut Store, owners: &[&str]) {
    for owner in owners {
        store::testing::register_provider(store.conn(), owner, "https://provider:8443", None)
            .unwrap();
    }
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
    register(&mut empty, &PROVIDERS);
    let report = jsonl::import(&mut empty, exported.as_slice(), &options(16, "one")).unwrap();
    assert_eq!(
        (report.inserted, report.rejected_total()),
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

/// A file mixing good and hostile lines: each bad line is rejected with its number and reason
/// code and recorded with its raw text, every good line is stored (a count above the limit is
/// clamped, not refused), and nothing already stored is touched.
fn every_line_is_stored_or_recorded_as_rejected(store: &mut Store) {
    let line = |provider: &str, minute: i64, body: &str| {
        format!(
            r#"{{"prober":"eu-1","provider":"{provider}","time":"{}","online":true,"latency_ms":120,"error":null,"gpus":[{body}]}}"#,
            UnixMs(START_MS + minute * 60_000)
        )
    };
    register(
        store,
        &[
            "akash1a",
            "akash1b",
            "akash1c",
            "akash1d",
            "akash1e",
            "akash1stored",
        ],
    );
    let gpu = r#"{"model":"a100","ram":"80Gi","interface":"sxm","allocatable":8,"allocated":3}"#;
    let already = line("akash1stored", 0, gpu);
    jsonl::import(store, already.as_bytes(), &options(16, "first")).unwrap();

    let mut file: Vec<u8> = Vec::new();
    let mut push = |text: &[u8]| {
        file.extend_from_slice(text);
        file.push(b'\n');
    };
    push(line("akash1a", 0, gpu).as_bytes()); // 1: good
    push(line("akash1b", 0, &gpu.replace(":8,", ":18446744073709551616,")).as_bytes()); // 2: beyond u64
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
    push(b"\xff\xfe not utf-8 \x00"); // 6
    push(b""); // 7: blank, skipped
    push(line("akash1a", 30, gpu).as_bytes()); // 8: good
    push(line("akash1stored", 0, &gpu.replace(":3}", ":0}")).as_bytes()); // 9: conflicts with the stored one
    push(line("akash1d", 0, &gpu.replace(":8,", ":17,")).as_bytes()); // 10: above max per node: clamped
    push(format!(r#"{{"online":"{}"}}"#, "y".repeat(100_000)).as_bytes()); // 11: quoted in the parser's message
    push(line("akash1a", 45, "").as_bytes()); // 12: good, no GPUs
    push(line("akash1nobody", 0, gpu).as_bytes()); // 13: on no chain
    file.extend_from_slice(line("akash1e", 0, gpu).as_bytes()); // 14: good, no final newline

    let report = jsonl::import(store, file.as_slice(), &options(16, "second")).unwrap();
    use jsonl::RejectReason::*;
    let mut rejected: Vec<(usize, jsonl::RejectReason)> = report
        .rejections
        .iter()
        .map(|r| (r.line, r.reason))
        .collect();
    rejected.sort();
    assert_eq!(
        rejected,
        [
            (2, Malformed),
            (3, Malformed),
            (4, Invalid),
            (5, TooLong),
            (6, NotUtf8),
            (9, Conflicting),
            (11, Malformed),
            (13, UnknownProvider)
        ],
        "{:#?}",
        report.rejections
    );
    assert!(
        report
            .rejections
            .iter()
            .all(|r| r.detail.chars().count() <= 300),
        "details stay short"
    );
    assert_eq!(report.inserted, 5);
    assert_eq!(report.lines, 13);
    assert_eq!(report.rejected_total(), 8);

    // Every rejection is on record with its raw text, under this import.
    let rows = store::probe_rejections::probe_rejections(store.conn(), Some("second")).unwrap();
    let listed: Vec<(i64, &str)> = rows.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        listed,
        [
            (2, "malformed"),
            (3, "malformed"),
            (4, "invalid"),
            (5, "too_long"),
            (6, "not_utf8"),
            (9, "conflicting"),
            (11, "malformed"),
            (13, "unknown_provider")
        ]
    );
    let raw = |n: i64| rows.iter().find(|r| r.line == n).unwrap().raw.clone();
    assert_eq!(raw(13), line("akash1nobody", 0, gpu));
    assert_eq!(raw(5), "", "an oversized line is not held");
    assert_eq!(raw(6), "\u{FFFD}\u{FFFD} not utf-8 \u{FFFD}");
    assert!(rows.iter().all(|r| r.source == "test.jsonl"));
    assert!(rows
        .iter()
        .find(|r| r.line == 13)
        .unwrap()
        .detail
        .contains("never been a registered provider"));

    let stored = probes::load_observations(store.conn(), 0, i64::MAX, None, 100).unwrap();
    let providers: Vec<&str> = stored.iter().map(|r| r.key.provider.as_str()).collect();
    assert_eq!(
        providers,
        [
            "akash1a",
            "akash1d",
            "akash1e",
            "akash1stored",
            "akash1a",
            "akash1a"
        ]
    );
    let kept = stored
        .iter()
        .find(|r| r.key.provider == "akash1stored")
        .unwrap();
    assert_eq!(
        kept.gpus[0].allocated, 3,
        "the conflicting line did not overwrite"
    );
    let clamped = &stored
        .iter()
        .find(|r| r.key.provider == "akash1d")
        .unwrap()
        .gpus[0];
    assert_eq!(
        (clamped.allocatable, clamped.raw_allocatable.as_str()),
        (16, "17")
    );
    assert_eq!(
        clamped.clamps.as_deref(),
        Some("allocatable:above_max_per_node")
    );

    // Importing the same file again stores nothing new and rejects the same lines, under the
    // new import's id; the first import's records stay as they were.
    let again = jsonl::import(store, file.as_slice(), &options(16, "third")).unwrap();
    assert_eq!(
        (again.inserted, again.identical, again.rejected_total()),
        (0, 5, 8)
    );
    let third = store::probe_rejections::probe_rejections(store.conn(), Some("third")).unwrap();
    assert_eq!(third.len(), 8);
    let all = store::probe_rejections::probe_rejections(store.conn(), None).unwrap();
    assert_eq!(all.len(), 16);
}

/// Two probers with different `max_gpus_per_node` import each other's lines: a count above the
/// importing side's limit is clamped as its own prober would clamp it, so every online and
/// offline vote still counts and the uptime computed from the imported lines is the exporter's.
fn probers_with_other_limits_import_each_others_votes(store: &mut Store) {
    register(store, &PROVIDERS);
    let mut lines = String::new();
    for (i, provider) in PROVIDERS.iter().enumerate() {
        for quarter in 0..8i64 {
            let online = (quarter + i64::try_from(i).unwrap()) % 3 != 0;
            let gpus = if online {
                r#"[{"model":"h100","ram":"80Gi","interface":"sxm","allocatable":24,"allocated":20}]"#
            } else {
                "[]"
            };
            let error = if online { "null" } else { r#""timeout""# };
            lines.push_str(&format!(
                r#"{{"prober":"us-1","provider":"{provider}","time":"{}","online":{online},"latency_ms":5,"error":{error},"gpus":{gpus}}}"#,
                UnixMs(START_MS + quarter * INTERVAL_MS)
            ));
            lines.push('\n');
        }
    }
    let Some(mut generous) = empty_store_like(store) else {
        return;
    };
    register(&mut generous, &PROVIDERS);
    let wide = jsonl::import(&mut generous, lines.as_bytes(), &options(32, "wide")).unwrap();
    let strict = jsonl::import(store, lines.as_bytes(), &options(16, "strict")).unwrap();
    assert_eq!((wide.inserted, wide.rejected_total()), (40, 0));
    assert_eq!((strict.inserted, strict.rejected_total()), (40, 0));
    let window = Window::new(UnixMs(START_MS), UnixMs(START_MS + 8 * INTERVAL_MS)).unwrap();
    let uptimes = |measures: Measures| -> Vec<(u64, u64)> {
        measures
            .values()
            .map(|(online, total, _)| (*online, *total))
            .collect()
    };
    let (here, there) = (measure(store, &[window]), measure(&mut generous, &[window]));
    assert_eq!(uptimes(here.clone()), uptimes(there.clone()));
    assert!(uptimes(here.clone())
        .iter()
        .all(|(online, total)| *online > 0 && online < total));
    // The GPU counts follow each side's limit: 16 here, 24 there, for the same online time.
    let h100 = |measures: &Measures| -> Vec<u128> { measures.values().map(|m| m.2[1]).collect() };
    for (a, b) in h100(&here).iter().zip(h100(&there)) {
        assert_eq!(a * 24, b * 16);
    }
}

/// A line about an address that has never been a provider on the indexed chain is refused,
/// even when it is otherwise perfect, and an address that was deleted still counts: it was
/// registered when it was probed.
fn only_addresses_once_registered_are_imported(store: &mut Store) {
    store::testing::register_provider(store.conn(), "akash1gone", "https://gone:8443", Some(5))
        .unwrap();
    let line = |provider: &str| {
        format!(
            r#"{{"prober":"eu-1","provider":"{provider}","time":"{}","online":true,"latency_ms":5,"error":null,"gpus":[]}}"#,
            UnixMs(START_MS)
        )
    };
    let file = format!("{}\n{}\n", line("akash1gone"), line("akash1stranger"));
    let report = jsonl::import(store, file.as_bytes(), &options(16, "x")).unwrap();
    assert_eq!(report.inserted, 1);
    assert_eq!(
        report.rejected.get(&jsonl::RejectReason::UnknownProvider),
        Some(&1)
    );
    let stored = probes::load_observations(store.conn(), 0, i64::MAX, None, 10).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].key.provider, "akash1gone");
}

/// Only named probers' signed lines are taken. Store A holds eu-1's observations signed with
/// its key and us-9's signed with a key the programme does not name; B names eu-1 only. From
/// A's export B takes eu-1's lines and refuses us-9's (`unknown_prober`); a line signed with
/// another key, a line edited after signing and an unsigned line are `bad_signature`, until an
/// import with `--allow-unsigned` takes the unsigned one and records itself on it. B's export
/// carries the same signatures, which still verify.
fn only_named_probers_signed_lines_are_imported(store: &mut Store) {
    let eu1 = ProberKey::generate().unwrap();
    let us9 = ProberKey::generate().unwrap();
    let records: Vec<ObservationRecord> = observations()
        .into_iter()
        .filter(|r| r.key.prober == "eu-1")
        .take(40)
        .chain(
            observations()
                .into_iter()
                .filter(|r| r.key.prober == "us-1")
                .take(3),
        )
        .map(|mut r| {
            if r.key.prober == "us-1" {
                r.key.prober = "us-9".into();
            }
            r
        })
        .collect();
    let proofs: Vec<Option<Proof>> = records
        .iter()
        .map(|r| {
            let key = if r.key.prober == "eu-1" { &eu1 } else { &us9 };
            Some(Proof::Signed(
                key.sign(&ObservationLine::from_record(r)).unwrap(),
            ))
        })
        .collect();
    probes::insert_proven_observations(store, &records, &proofs).unwrap();
    let mut exported = Vec::new();
    jsonl::export(store, i64::MIN, i64::MAX, &mut exported).unwrap();
    let mut lines: Vec<ObservationLine> = String::from_utf8(exported)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.iter().all(|l| l.signature.is_some()),
        "an export lost a signature"
    );
    let genuine = lines.clone();

    // Three spoiled copies of eu-1 lines, moved a millisecond so they are new observations.
    let eu1_lines: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].prober == "eu-1")
        .collect();
    let later = |line: &ObservationLine| {
        let t = UnixMs::parse_rfc3339(&line.time).unwrap().as_millis() + 1;
        UnixMs(t).to_string()
    };
    let mut forged = lines[eu1_lines[0]].clone();
    forged.time = later(&forged);
    forged.signature = Some(us9.sign(&forged).unwrap());
    let mut flipped = lines[eu1_lines[1]].clone();
    flipped.time = later(&flipped);
    flipped.signature = Some(eu1.sign(&flipped).unwrap());
    flipped.online = !flipped.online;
    flipped.gpus.clear();
    flipped.error = (!flipped.online).then(|| "timeout".to_string());
    let mut unsigned = lines[eu1_lines[2]].clone();
    unsigned.time = later(&unsigned);
    unsigned.signature = None;
    lines.extend([forged, flipped, unsigned.clone()]);
    let text: String = lines
        .iter()
        .map(|l| serde_json::to_string(l).unwrap() + "\n")
        .collect();

    let Some(mut b) = empty_store_like(store) else {
        return;
    };
    register(&mut b, &PROVIDERS);
    let named = Vantages::new([("eu-1", eu1.public_key().as_str())]).unwrap();
    let strict = jsonl::ImportOptions {
        vantages: named.clone(),
        allow_unsigned: false,
        ..options(16, "signed")
    };
    let report = jsonl::import(&mut b, text.as_bytes(), &strict).unwrap();
    assert_eq!(report.inserted, 40);
    assert_eq!(
        report.rejected.get(&jsonl::RejectReason::UnknownProber),
        Some(&3)
    );
    assert_eq!(
        report.rejected.get(&jsonl::RejectReason::BadSignature),
        Some(&3)
    );
    let listed = store::probe_rejections::probe_rejections(b.conn(), Some("signed")).unwrap();
    assert_eq!(listed.len(), 6);
    assert!(listed
        .iter()
        .any(|r| r.reason == "bad_signature" && r.detail.contains("--allow-unsigned")));

    let lenient = jsonl::ImportOptions {
        vantages: named.clone(),
        allow_unsigned: true,
        ..options(16, "lenient")
    };
    let again = jsonl::import(&mut b, text.as_bytes(), &lenient).unwrap();
    assert_eq!((again.inserted, again.identical), (1, 40));
    let proofs = store::probe_signatures::proofs_between(b.conn(), i64::MIN, i64::MAX).unwrap();
    let unsigned_key = ObservationKey {
        prober: unsigned.prober.clone(),
        provider: unsigned.provider.clone(),
        time_ms: UnixMs::parse_rfc3339(&unsigned.time).unwrap().as_millis(),
    };
    assert_eq!(
        proofs.get(&unsigned_key),
        Some(&Proof::UnsignedImport("lenient".into()))
    );
    assert_eq!(proofs.len(), 41);

    let mut re_exported = Vec::new();
    jsonl::export(&mut b, i64::MIN, i64::MAX, &mut re_exported).unwrap();
    let re_exported: Vec<ObservationLine> = String::from_utf8(re_exported)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let signed: Vec<&ObservationLine> = re_exported
        .iter()
        .filter(|l| l.signature.is_some())
        .collect();
    let expected: Vec<&ObservationLine> = genuine.iter().filter(|l| l.prober == "eu-1").collect();
    assert_eq!(signed, expected);
    for line in signed {
        assert_eq!(named.check(line, line.signature.as_deref()), Ok(()));
    }

    // A database that clamps at 1 GPU per node keeps every vote and measures the clamped
    // counts, yet exports the counts eu-1 signed, so the next database verifies them too.
    let Some(mut c) = empty_store_like(store) else {
        return;
    };
    register(&mut c, &PROVIDERS);
    let genuine_eu1: String = expected
        .iter()
        .map(|l| serde_json::to_string(l).unwrap() + "\n")
        .collect();
    let clamping = jsonl::ImportOptions {
        vantages: named.clone(),
        allow_unsigned: false,
        ..options(1, "clamping")
    };
    let report = jsonl::import(&mut c, genuine_eu1.as_bytes(), &clamping).unwrap();
    assert_eq!((report.inserted, report.rejected_total()), (40, 0));
    let stored = probes::load_observations(c.conn(), i64::MIN, i64::MAX, None, 100).unwrap();
    assert!(stored
        .iter()
        .flat_map(|r| &r.gpus)
        .all(|g| g.allocatable <= 1));
    assert!(
        stored
            .iter()
            .flat_map(|r| &r.gpus)
            .any(|g| g.clamps.is_some()),
        "the fixture has nodes above one GPU"
    );
    let mut from_c = Vec::new();
    jsonl::export(&mut c, i64::MIN, i64::MAX, &mut from_c).unwrap();
    let from_c: Vec<ObservationLine> = String::from_utf8(from_c)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(from_c.iter().collect::<Vec<_>>(), expected);
}

on_both_backends!(
    export_then_import_reproduces_uptime,
    every_line_is_stored_or_recorded_as_rejected,
    probers_with_other_limits_import_each_others_votes,
    only_addresses_once_registered_are_imported,
    only_named_probers_signed_lines_are_imported,
);
