//! Settle, report and verify a programme of the proposal's size: 120 daily epochs, 1,000
//! providers with 10,000 GPUs in three classes (a100-80gi, h100, h200), hourly observations from
//! three vantage points (about 8.5 million), 3,000 leases, 50 committed contracts and two R&D
//! grants.
//!
//! Run with `cargo bench -p reports --bench report_verify` (release). It
//!
//! 1. **generates** the programme into a fresh SQLite store in a temporary folder: one block per
//!    hour, the leases (some closing, some of unknown size or model), and the observations, a
//!    deterministic share of them missing or offline so that uptime varies from provider to
//!    provider and epoch to epoch (some providers fall below the pools' minimum uptime and some
//!    contracts breach their SLA); the programme's configuration is written as a TOML file and
//!    loaded with `settings::load`;
//! 2. **settles** every epoch (`settlement::settle_through`);
//! 3. **reports** every epoch (`read_sealed`, `epoch_files`, `publish`, each manifest chained to
//!    the previous one's bytes, as `report --all` does);
//! 4. **verifies** the programme folder (`reports::verify::verify_programme`),
//!    `BENCH_VERIFY_RUNS` times (default 2);
//!
//! and prints the wall time of each phase, the ratio verify / settle, rows per second, and the
//! bundle's size on disk per epoch with its largest files. Target: verify under 10 s.
//!
//! `BENCH_KEEP=DIR` works in `DIR` and keeps it (store, configuration and reports).
//! `BENCH_SCALE` (default 1) scales the providers, and with them the GPUs, leases and contracts
//! (`BENCH_SCALE=0.1` is a quick run); `BENCH_EPOCHS` (default 120) sets the epochs. Without
//! `--bench` (as `cargo test --all-targets` runs it) it does a smoke run of 10 providers over 3
//! epochs instead, so the whole path is exercised without the full-scale cost.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::Path;
use std::time::{Duration, Instant};

use domain::{ChainDecimal, Height, ProviderAddr, UnixMs};
use reports::bundle::{epoch_files, epoch_folder, publish, EpochContext, MANIFEST_FILE};
use reports::verify::verify_programme;
use settlement::sealed::read_sealed;
use settlement::{settle_through, EpochOutcome, Mode, SettlementConfig};
use store::chain::write::{BlockStamp, LeaseWrite};
use store::probes::{insert_observations, GpuRecord, ObservationKey, ObservationRecord};
use store::{DatabaseUrl, Store, StoreError};

/// 2024-03-01T00:00:00Z, the programme's start.
const T0: i64 = 1_709_251_200_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const HOURS_PER_EPOCH: i64 = 24;
/// Blocks (and lease creations) start this many hours before the programme.
const LEAD_HOURS: i64 = 240;
const PROBERS: [&str; 3] = ["eu-1", "us-1", "ap-1"];
/// Days of observations stored per transaction.
const DAYS_PER_BATCH: i64 = 5;
const TENANTS: u64 = 200;

/// A GPU configuration the generated providers run.
struct Kind {
    class: &'static str,
    model: &'static str,
    ram: &'static str,
    interface: &'static str,
}

const A100: Kind = Kind {
    class: "a100-80gi",
    model: "a100",
    ram: "80Gi",
    interface: "sxm4",
};
const H100: Kind = Kind {
    class: "h100",
    model: "h100",
    ram: "80Gi",
    interface: "sxm5",
};
const H200: Kind = Kind {
    class: "h200",
    model: "h200",
    ram: "141Gi",
    interface: "sxm5",
};

/// The size of a run.
#[derive(Debug, Clone, Copy)]
struct Shape {
    epochs: u32,
    providers: usize,
    leases_per_provider: usize,
    contracts: usize,
}

/// One generated provider: its address, its GPUs (10, on one or two nodes) and how often it is
/// down (per mille of its hours).
struct Provider {
    address: String,
    kind: &'static Kind,
    nodes: Vec<(String, i64)>,
    down_per_mille: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; a filter argument that does not name us means skip.
    if args
        .iter()
        .any(|a| !a.starts_with('-') && !"report_verify".contains(a.as_str()))
    {
        return;
    }
    let shape = if args.iter().any(|a| a == "--bench") {
        let scale: f64 = env_or("BENCH_SCALE", 1.0);
        let scaled = |n: f64| ((n * scale).round() as usize).max(1);
        Shape {
            epochs: env_or("BENCH_EPOCHS", 120),
            providers: scaled(1_000.0).max(2),
            leases_per_provider: 3,
            contracts: scaled(50.0),
        }
    } else {
        println!("report_verify: smoke run (pass --bench, as `cargo bench` does, for figures)");
        Shape {
            epochs: 3,
            providers: 10,
            leases_per_provider: 2,
            contracts: 1,
        }
    };
    run(shape);
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The value of `result`, or the error printed and the process ended.
fn check<T, E: Display>(what: &str, result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| {
        eprintln!("report_verify: {what}: {e}");
        std::process::exit(1)
    })
}

fn run(shape: Shape) {
    let dir = check("create a temporary folder", tempfile::tempdir());
    // `BENCH_KEEP=DIR` works in DIR and leaves it behind, so `verify` can be run again on the
    // same bundle (`akash-incentives verify DIR/reports/<programme>`) without regenerating it.
    let kept = std::env::var_os("BENCH_KEEP").map(std::path::PathBuf::from);
    if let Some(kept) = &kept {
        check("create BENCH_KEEP", std::fs::create_dir_all(kept));
        if check("read BENCH_KEEP", std::fs::read_dir(kept))
            .next()
            .is_some()
        {
            check("use BENCH_KEEP", Err("the folder must be new or empty"))
        }
    }
    let work = kept.as_deref().unwrap_or(dir.path());
    let providers = providers(shape.providers);
    let gpus: i64 = providers
        .iter()
        .flat_map(|p| &p.nodes)
        .map(|(_, n)| n)
        .sum();
    println!(
        "report_verify: {} epochs, {} providers, {gpus} GPUs, {} probers, {} leases, {} contracts",
        shape.epochs,
        shape.providers,
        PROBERS.len(),
        shape.providers * shape.leases_per_provider,
        shape.contracts
    );

    // 1. Generate.
    let started = Instant::now();
    let config_path = work.join("programme.toml");
    check(
        "write the configuration",
        std::fs::write(&config_path, programme_toml(shape, &providers)),
    );
    let config = check(
        "load the configuration",
        settings::load(&config_path, &settings::Environment::default()),
    );
    let database = work.join("store.sqlite");
    let mut store = check(
        "open the store",
        Store::open(&DatabaseUrl::SqliteFile(database.clone())),
    );
    check(
        "store the blocks and leases",
        store.transaction(|conn| chain(conn, shape, &providers)),
    );
    let stored = store_observations(&mut store, shape, &providers);
    let generated = started.elapsed();
    println!(
        "generate: {:.1} s ({stored} observations stored, {:.0} per second; store {:.2} GB)",
        generated.as_secs_f64(),
        per_second(stored, generated),
        gigabytes(store_bytes(&database))
    );

    // 2. Settle.
    let max_staleness_ms = u64::try_from(config.prober.max_staleness.as_millis()).unwrap_or(0);
    let settle = SettlementConfig {
        name: &config.name,
        programme: &config.programme,
        max_staleness_ms,
        watched_wallets: &config.chain.watched_wallets,
    };
    let now_ms = T0 + i64::from(shape.epochs) * HOURS_PER_EPOCH * HOUR + HOUR;
    let mut measured = 0u64;
    let mut lines = 0usize;
    let started = Instant::now();
    check(
        "settle",
        settle_through(
            &mut store,
            &settle,
            shape.epochs - 1,
            now_ms,
            Mode::Seal,
            |outcome| {
                if let EpochOutcome::Sealed(sealed) = outcome {
                    measured += sealed
                        .measured
                        .measurements
                        .providers
                        .values()
                        .map(|p| p.observations)
                        .sum::<u64>();
                    lines += sealed.settlement.line_items.len();
                }
            },
        ),
    );
    let settled = started.elapsed();
    println!(
        "settle: {:.2} s for {} epochs ({:.0} ms per epoch; {measured} observations measured, {:.0} \
         per second; {lines} line items)",
        settled.as_secs_f64(),
        shape.epochs,
        settled.as_secs_f64() * 1e3 / f64::from(shape.epochs),
        per_second(measured as usize, settled)
    );

    // 3. Report.
    let programme_toml = check(
        "publish the programme",
        settings::published_programme(&config),
    );
    let folder = work.join("reports").join(&config.name);
    let mut previous: Option<Vec<u8>> = None;
    let (mut reading, mut making, mut publishing) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut published = 0usize;
    let started = Instant::now();
    for epoch in 0..shape.epochs {
        let step = Instant::now();
        let record = check(
            "read a sealed epoch",
            read_sealed(&mut store, &settle, epoch),
        );
        reading += step.elapsed();
        published += record.material.observations.len();
        let step = Instant::now();
        let context = EpochContext {
            programme: &config.name,
            chain_id: &config.chain.chain_id,
            denom: &config.programme.denom.name,
            programme_toml: &programme_toml,
            previous_manifest: previous.as_deref(),
        };
        let files = check("make an epoch's files", epoch_files(&context, &record));
        making += step.elapsed();
        let step = Instant::now();
        check(
            "publish an epoch",
            publish(&epoch_folder(&folder, epoch), &files),
        );
        publishing += step.elapsed();
        previous = files.get(MANIFEST_FILE).cloned();
    }
    let reported = started.elapsed();
    println!(
        "report: {:.2} s ({:.0} observations published per second): read_sealed {:.2} s, \
         epoch_files {:.2} s, publish {:.2} s",
        reported.as_secs_f64(),
        per_second(published, reported),
        reading.as_secs_f64(),
        making.as_secs_f64(),
        publishing.as_secs_f64()
    );
    drop(store);

    // 4. Verify.
    let runs: usize = env_or("BENCH_VERIFY_RUNS", 2).max(1);
    let mut times = Vec::with_capacity(runs);
    for run in 1..=runs {
        let started = Instant::now();
        let verdict = check("verify", verify_programme(&folder));
        let took = started.elapsed();
        println!(
            "verify run {run}: {:.2} s ({} epochs, {} line items re-derived, {:.0} observations \
             per second; root {})",
            took.as_secs_f64(),
            verdict.epochs.len(),
            verdict.line_items,
            per_second(published, took),
            verdict.root
        );
        times.push(took);
    }
    times.sort();
    let verified = times[0];

    // Figures.
    let sizes = bundle_sizes(&folder, shape.epochs);
    let total: u64 = sizes.values().sum();
    let epochs = u64::from(shape.epochs);
    println!(
        "bundle: {:.2} MB per epoch on average, {:.2} GB for the programme; largest files (mean \
         per epoch):",
        megabytes(total / epochs),
        gigabytes(total)
    );
    let mut largest: Vec<(&String, &u64)> = sizes.iter().collect();
    largest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (file, bytes) in largest.iter().take(6) {
        println!(
            "  {file:<22} {:>9.3} MB  {:>5.1}%",
            megabytes(**bytes / epochs),
            100.0 * **bytes as f64 / total as f64
        );
    }
    let ratio = verified.as_secs_f64() / settled.as_secs_f64();
    println!(
        "verify {:.2} s (best of {runs}) vs settle {:.2} s: ratio {ratio:.2}; report {:.2} s; \
         generate {:.1} s",
        verified.as_secs_f64(),
        settled.as_secs_f64(),
        reported.as_secs_f64(),
        generated.as_secs_f64()
    );
    println!(
        "target verify < 10 s: {}; peak memory (VmHWM) {} MiB",
        if verified < Duration::from_secs(10) {
            "met"
        } else {
            "MISSED"
        },
        memory_kib("VmHWM") / 1024
    );
}

/// A deterministic 64-bit hash of `parts` (splitmix64 steps): the bench's only randomness.
fn mix(parts: &[u64]) -> u64 {
    let mut z = 0x9E37_79B9_7F4A_7C15u64;
    for part in parts {
        z = (z ^ part).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// A valid account address for `(space, index)`.
fn address(space: u64, index: u64) -> String {
    let mut payload = [0u8; 20];
    payload[..8].copy_from_slice(&mix(&[space, index]).to_be_bytes());
    payload[8..16].copy_from_slice(&index.to_be_bytes());
    payload[16..].copy_from_slice(&(space as u32).to_be_bytes());
    ProviderAddr::from_account_bytes(payload)
        .as_str()
        .to_owned()
}

/// Half the providers run a100s, 30 % h100s, 20 % h200s; a third have two nodes of 5 GPUs, the
/// others one of 10. 70 % are down 0.2 % of their hours, 20 % 3 %, 10 % 15 %.
fn providers(count: usize) -> Vec<Provider> {
    (0..count as u64)
        .map(|i| {
            let kind = match i % 10 {
                0..=4 => &A100,
                5..=7 => &H100,
                _ => &H200,
            };
            let nodes = if i % 3 == 0 {
                vec![("node-a".to_owned(), 5), ("node-b".to_owned(), 5)]
            } else {
                vec![("node-a".to_owned(), 10)]
            };
            let down_per_mille = match mix(&[i, 1]) % 100 {
                0..=69 => 2,
                70..=89 => 30,
                _ => 150,
            };
            Provider {
                address: address(1, i),
                kind,
                nodes,
                down_per_mille,
            }
        })
        .collect()
}

/// The programme's configuration: the proposal's three pools over the three classes, in USD.
fn programme_toml(shape: Shape, providers: &[Provider]) -> String {
    let mut text = format!(
        r#"[chain]
chain_id = "akashnet-2"
rpc_urls = ["http://127.0.0.1:26657"]
start_height = 1

[prober]
max_staleness = "90m"

[program]
name = "bench-pilot"
start = "2024-03-01T00:00:00Z"
epoch_length = "1d"
epochs = {epochs}
denom = "uakt"

[prices]
source = "benchmark prices"
points = [
  {{ from = "2024-03-01", usd = "4.35" }},
  {{ from = "2024-04-01", usd = "5.10" }},
  {{ from = "2024-05-01", usd = "4.70" }},
  {{ from = "2024-06-01", usd = "4.40" }},
]

[[classes]]
name = "a100-80gi"
gpu_model = "a100"
gpu_ram = "80Gi"

[[classes]]
name = "h100"
gpu_model = "h100"

[[classes]]
name = "h200"
gpu_model = "h200"

[vesting.immediate]
kind = "immediate"

[vesting.after-30-days]
kind = "delayed"
after = "30d"

[vesting.quarterly]
kind = "periodic"
period = "91d"
count = 4

[vesting.linear-90-days]
kind = "linear"
cliff = "30d"
duration = "90d"

[pools.liquidity_mining]
budget = {{ usd = "2000000" }}
undistributed = "carry"
alpha = "1"
beta = "0.5"
min_uptime = "0.90"
max_share_per_provider = "0.25"
vesting = "immediate"
classes = [
  {{ class = "a100-80gi", share = "0.6" }},
  {{ class = "h100", share = "0.4" }},
]

[pools.rnd]
budget = {{ usd = "1000000" }}
undistributed = "carry"
alpha = "1"
beta = "1"
min_uptime = "0.80"
vesting = "after-30-days"
classes = [{{ class = "h200", share = "1" }}]

[pools.committed]
budget = {{ usd = "2000000" }}
verify_capacity = true
"#,
        epochs = shape.epochs
    );
    // Contracts go to a100 and h100 providers spread over the list; every fourth starts on
    // day 10.
    let eligible: Vec<&Provider> = providers
        .iter()
        .filter(|p| p.kind.class != H200.class)
        .collect();
    let stride = (eligible.len() / shape.contracts).max(1);
    for (c, provider) in eligible
        .iter()
        .step_by(stride)
        .take(shape.contracts)
        .enumerate()
    {
        let rate = if provider.kind.class == A100.class {
            "1.10"
        } else {
            "1.60"
        };
        let start = if c % 4 == 3 {
            "2024-03-11T00:00:00Z"
        } else {
            "2024-03-01T00:00:00Z"
        };
        text.push_str(&format!(
            r#"
[[pools.committed.contracts]]
id = "c-{c:03}"
provider = "{provider}"
class = "{class}"
gpus = 8
rate = {{ usd = "{rate}" }}
start = "{start}"
term = "365d"
sla_uptime = "0.95"
vesting = "quarterly"
max_consecutive_breaches = 3
"#,
            provider = provider.address,
            class = provider.kind.class,
        ));
    }
    // Two grants to h200 providers, early and mid-programme.
    let h200: Vec<&Provider> = providers
        .iter()
        .filter(|p| p.kind.class == H200.class)
        .collect();
    for (g, epoch) in [shape.epochs / 8, shape.epochs / 2].into_iter().enumerate() {
        let Some(provider) = h200.get(g % h200.len().max(1)) else {
            break;
        };
        text.push_str(&format!(
            r#"
[[pools.rnd.grants]]
id = "g-{g:03}"
provider = "{address}"
amount = {{ usd = "25000" }}
epoch = {epoch}
vesting = "linear-90-days"
"#,
            address = provider.address
        ));
    }
    text
}

/// The block of hour `hour` (0 = the programme's start): its height and time.
fn block_at(hour: i64) -> (Height, String, i64) {
    let time_ms = T0 + hour * HOUR;
    let height = check(
        "a block height",
        Height::from_stored(5_000_000 + LEAD_HOURS + hour),
    );
    (height, UnixMs(time_ms).to_string(), time_ms)
}

/// One block per hour from `LEAD_HOURS` before the start to an hour past the end, every
/// provider registered in the first of them, and each provider's leases: created at a block, 6 hours to 40 days long, closed at a block unless they
/// run past the programme; 1 % of unknown size, 3 % of unknown model.
fn chain(
    conn: &mut store::AnyConnection,
    shape: Shape,
    providers: &[Provider],
) -> Result<(), StoreError> {
    let end_hour = i64::from(shape.epochs) * HOURS_PER_EPOCH;
    for hour in -LEAD_HOURS..=end_hour + 1 {
        let (height, time, time_ms) = block_at(hour);
        let at = BlockStamp {
            height,
            time: &time,
            time_ms,
        };
        store::testing::empty_block(conn, at, &format!("{:064X}", height.get()))?;
    }
    let price: ChainDecimal = "12.5".parse().map_err(|e| StoreError::Corrupt {
        what: "the bench's lease price".into(),
        problem: format!("{e}"),
    })?;
    let (first_height, _, first_ms) = block_at(-LEAD_HOURS);
    let first_block = store::testing::TestBlock {
        height: check("a block height", i64::try_from(first_height.get())),
        time_ms: first_ms,
    };
    let mut dseq = 10_000;
    for (i, provider) in providers.iter().enumerate() {
        let host = format!("https://provider-{i}.example:8443");
        store::testing::register_provider_at(conn, &provider.address, &host, first_block, None)?;
        for j in 0..shape.leases_per_provider {
            let seed = [i as u64, j as u64, 2];
            let span = (end_hour + LEAD_HOURS) as u64;
            let created_hour = (mix(&seed) % span) as i64 - LEAD_HOURS;
            let closed_hour = created_hour + 6 + (mix(&[seed[0], seed[1], 3]) % (40 * 24)) as i64;
            let shape_roll = mix(&[seed[0], seed[1], 4]) % 100;
            let units = 1 + (mix(&[seed[0], seed[1], 5]) % 8) as i64;
            let tenant = address(2, mix(&[seed[0], seed[1], 6]) % TENANTS);
            dseq += 1;
            let id = store::testing::lease_id(&tenant, dseq, &provider.address);
            let (created_height, created_time, created_ms) = block_at(created_hour);
            let lease = LeaseWrite {
                id: &id,
                gpu_units: (shape_roll != 0).then_some(units),
                gpu_model: (shape_roll > 3).then_some(provider.kind.model),
                gpu_ram: (shape_roll > 3).then_some(provider.kind.ram),
                price_denom: "uakt",
                price_amount: &price,
                created: BlockStamp {
                    height: created_height,
                    time: &created_time,
                    time_ms: created_ms,
                },
                via_authz: false,
            };
            let (closed_height, closed_time, closed_ms) = block_at(closed_hour);
            let closed = (closed_hour <= end_hour).then_some(BlockStamp {
                height: closed_height,
                time: &closed_time,
                time_ms: closed_ms,
            });
            store::testing::lease(conn, &lease, closed)?;
        }
    }
    Ok(())
}

/// Every prober observes every provider once an hour (the probers 20 minutes apart, each
/// provider a few seconds later than the one before), from two hours before the start to the
/// end. 2 % of observations are missing; a provider that is down that hour is offline to every
/// prober; 1 % more are offline to one prober only; 0.5 % of online ones report fewer GPUs.
/// Returns how many were stored.
fn store_observations(store: &mut Store, shape: Shape, providers: &[Provider]) -> usize {
    let end_hour = i64::from(shape.epochs) * HOURS_PER_EPOCH;
    let mut stored = 0;
    let mut first = -2;
    while first < end_hour {
        let last = (first + DAYS_PER_BATCH * HOURS_PER_EPOCH).min(end_hour);
        let mut batch = Vec::new();
        for hour in first..last {
            for (p, prober) in PROBERS.iter().enumerate() {
                for (i, provider) in providers.iter().enumerate() {
                    if let Some(record) = observation(hour, p, prober, i, provider) {
                        batch.push(record);
                    }
                }
            }
        }
        let summary = check("store observations", insert_observations(store, &batch));
        stored += summary.count(store::probes::InsertOutcome::Inserted);
        first = last;
    }
    stored
}

fn observation(
    hour: i64,
    p: usize,
    prober: &str,
    i: usize,
    provider: &Provider,
) -> Option<ObservationRecord> {
    let (i64_i, h) = (i as u64, hour as u64);
    let roll = mix(&[i64_i, h, p as u64, 7]) % 1000;
    if roll < 20 {
        return None;
    }
    let down = mix(&[i64_i, h, 8]) % 1000 < provider.down_per_mille;
    let online = !down && roll >= 30;
    let time_ms = T0 + hour * HOUR + p as i64 * 20 * MINUTE + (i as i64 % 600) * 1_000;
    let short = online && roll < 35;
    let gpus = if online {
        provider
            .nodes
            .iter()
            .enumerate()
            .filter(|(n, _)| !(short && *n == 1))
            .map(|(n, (node, count))| {
                let count = if short && provider.nodes.len() == 1 {
                    count - 2
                } else {
                    *count
                };
                // What is allocated changes every six hours.
                let allocated = (mix(&[i64_i, h / 6, n as u64, 9]) % (count as u64 + 1)) as i64;
                GpuRecord {
                    node: node.clone(),
                    vendor: Some("nvidia".into()),
                    model: Some(provider.kind.model.into()),
                    ram: Some(provider.kind.ram.into()),
                    interface: Some(provider.kind.interface.into()),
                    allocatable: count,
                    allocated,
                    raw_allocatable: count.to_string(),
                    raw_allocated: allocated.to_string(),
                    clamps: None,
                    flags: None,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(ObservationRecord {
        key: ObservationKey {
            prober: prober.to_owned(),
            provider: provider.address.clone(),
            time_ms,
        },
        time: UnixMs(time_ms).to_string(),
        online,
        latency_ms: Some(40 + (roll % 400) as i64),
        error_kind: (!online).then(|| "timeout".to_owned()),
        error: (!online).then(|| "no answer within 10s".to_owned()),
        version: online.then(|| "0.6.4".to_owned()),
        cert_sha256: None,
        status_api: online.then(|| "grpc".to_owned()),
        gpus,
    })
}

/// Bytes per file name, summed over the epochs' folders.
fn bundle_sizes(folder: &Path, epochs: u32) -> BTreeMap<String, u64> {
    let mut sizes = BTreeMap::new();
    for epoch in 0..epochs {
        let entries = check(
            "list an epoch folder",
            std::fs::read_dir(epoch_folder(folder, epoch)),
        );
        for entry in entries {
            let entry = check("list an epoch folder", entry);
            let bytes = check("size a file", entry.metadata()).len();
            *sizes
                .entry(entry.file_name().to_string_lossy().into_owned())
                .or_insert(0) += bytes;
        }
    }
    sizes
}

/// The SQLite file with its write-ahead log.
fn store_bytes(database: &Path) -> u64 {
    let wal = database.with_extension("sqlite-wal");
    [database, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

fn per_second(rows: usize, took: Duration) -> f64 {
    rows as f64 / took.as_secs_f64().max(1e-9)
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn gigabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e9
}

/// A `/proc/self/status` figure in KiB (0 where there is none).
fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)?
                    .trim_start_matches(':')
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}
