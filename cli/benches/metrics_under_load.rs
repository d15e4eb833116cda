//! `/metrics` under load: while the binary indexes a synthetic chain from a local RPC node,
//! 32 clients on 127.0.0.1 scrape its `/metrics` 2,000 times. Every answer must be complete
//! (status 200, the whole body its `Content-Length` announces, the indexer's series in it), and
//! indexing should lose less than 10 % of its throughput against a run nobody scrapes.
//!
//! Each round indexes the same chain twice into fresh SQLite files, once quiet and once
//! scraped, so slow drift of the machine falls on both; the drop is the median of the rounds'
//! drops, each scraped run against the quiet run of its own round. `BENCH_BLOCKS` (default 20,000) sets the chain's length, `BENCH_ROUNDS` (default 3)
//! the rounds.
//!
//! Run with `cargo bench -p cli --bench metrics_under_load`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use simnet::chain::generate::{generate_in_memory, GenerateOptions};
use simnet::chain::{ChainServer, ChainSource, ServeOptions};

const SCRAPES: usize = 2_000;
const CLIENTS: usize = 32;
/// The longest one scrape or one indexing run may take before the bench gives up on it.
const PATIENCE: Duration = Duration::from_secs(600);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let blocks = env_or("BENCH_BLOCKS", 20_000);
    let rounds = env_or("BENCH_ROUNDS", 3);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the chain node");
    let options = GenerateOptions {
        seed: 42,
        blocks,
        providers: 500,
        ..GenerateOptions::default()
    };
    let (chain, summary) = generate_in_memory(&options).expect("generate the chain");
    let server = runtime
        .block_on(ChainServer::start(
            ChainSource::memory(chain).expect("a served chain"),
            ServeOptions::default(),
        ))
        .expect("serve the chain on 127.0.0.1");
    let last = options.first_height + blocks - 1;
    println!(
        "metrics under load: {blocks} synthetic blocks ({} transactions) indexed from {}, \
         {SCRAPES} scrapes from {CLIENTS} clients",
        summary.transactions,
        server.url()
    );
    let mut quiet_rates = Vec::new();
    let mut loaded_rates = Vec::new();
    let mut drops = Vec::new();
    for round in 1..=rounds {
        let quiet = index_once(&server.url(), options.first_height, last, None);
        let loaded = index_once(&server.url(), options.first_height, last, Some(SCRAPES));
        let scraped = loaded.scrapes.as_ref().expect("the loaded run scraped");
        let rate = |run: &Run| blocks as f64 / run.seconds;
        println!(
            "round {round}: quiet {:.0} blocks/s, scraped {:.0} blocks/s ({:+.1} %); {} of \
             {SCRAPES} scrapes complete, {} while indexing, latency p50 {:.1} ms p99 {:.1} ms, \
             {} bytes each",
            rate(&quiet),
            rate(&loaded),
            (rate(&loaded) / rate(&quiet) - 1.0) * 100.0,
            scraped.complete,
            scraped.while_indexing,
            scraped.p50_ms,
            scraped.p99_ms,
            scraped.bytes
        );
        assert_eq!(
            scraped.complete, SCRAPES,
            "every scrape must be answered completely"
        );
        quiet_rates.push(rate(&quiet));
        loaded_rates.push(rate(&loaded));
        drops.push((1.0 - rate(&loaded) / rate(&quiet)) * 100.0);
    }
    let (quiet, loaded) = (median(&mut quiet_rates), median(&mut loaded_rates));
    let (lowest, highest) = (
        drops.iter().copied().fold(f64::INFINITY, f64::min),
        drops.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let drop = median(&mut drops);
    println!(
        "median: quiet {quiet:.0} blocks/s, scraped {loaded:.0} blocks/s; throughput drop \
         {drop:.1} % (rounds {lowest:.1} % to {highest:.1} %; target < 10 %): {}",
        if drop < 10.0 { "met" } else { "MISSED" }
    );
}

/// One indexing run's wall time, and what its scrapers saw.
struct Run {
    seconds: f64,
    scrapes: Option<Scrapes>,
}

struct Scrapes {
    complete: usize,
    while_indexing: usize,
    p50_ms: f64,
    p99_ms: f64,
    bytes: usize,
}

/// Indexes `first..=last` from `rpc` into a fresh database, scraped `scrapes` times if given.
fn index_once(rpc: &str, first: u64, last: u64, scrapes: Option<usize>) -> Run {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let listen = free_port();
    let config = write_config(dir.path(), rpc, first, listen);
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_akash-incentives"))
        .arg("--config")
        .arg(&config)
        .args(["-q", "index", "--no-progress", "--to", &last.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the binary");
    let scraped = scrapes.map(|total| {
        let done = AtomicUsize::new(0);
        let latencies = Mutex::new(Vec::with_capacity(total));
        let sizes = Mutex::new(Vec::with_capacity(total));
        std::thread::scope(|scope| {
            for _ in 0..CLIENTS {
                scope.spawn(|| loop {
                    if done.fetch_add(1, Ordering::Relaxed) >= total {
                        return;
                    }
                    let (latency, size) = scrape_until_answered(listen);
                    latencies.lock().unwrap().push(latency);
                    sizes.lock().unwrap().push(size);
                });
            }
        });
        let running = child.try_wait().expect("poll the indexer").is_none();
        let mut latencies = latencies.into_inner().unwrap();
        latencies.sort_by(f64::total_cmp);
        let sizes = sizes.into_inner().unwrap();
        Scrapes {
            complete: latencies.len(),
            while_indexing: if running { latencies.len() } else { 0 },
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            bytes: sizes.iter().max().copied().unwrap_or(0),
        }
    });
    let status = child.wait().expect("wait for the indexer");
    assert!(status.success(), "index failed: {status:?}");
    let seconds = started.elapsed().as_secs_f64();
    Run {
        seconds,
        scrapes: scraped,
    }
}

/// One complete scrape of `/metrics` at `listen`, waiting for the server to be up: its latency
/// in milliseconds and its size. Panics on an incomplete or wrong answer.
fn scrape_until_answered(listen: SocketAddr) -> (f64, usize) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let started = Instant::now();
        match TcpStream::connect_timeout(&listen, Duration::from_secs(5)) {
            Ok(mut stream) => {
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                write!(stream, "GET /metrics HTTP/1.0\r\nHost: {listen}\r\n\r\n").unwrap();
                let mut response = Vec::new();
                stream.read_to_end(&mut response).expect("read the answer");
                let size = check_complete(&response);
                return (started.elapsed().as_secs_f64() * 1000.0, size);
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("/metrics at {listen} never answered: {e}"),
        }
    }
}

/// The body's size, after checking the answer is a whole 200 with the indexer's series.
fn check_complete(response: &[u8]) -> usize {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n").expect("headers and a body");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .expect("a Content-Length")
        .parse()
        .expect("a number");
    assert_eq!(body.len(), length, "a body cut short");
    assert!(body.ends_with('\n'), "the exposition ends with a newline");
    assert!(body.contains("# TYPE akash_incentives_indexer_indexed_height gauge"));
    length
}

/// A configuration: `config/devnet.toml` pointed at `rpc` from `first`, a database in `dir`
/// and metrics on `listen`.
fn write_config(dir: &Path, rpc: &str, first: u64, listen: SocketAddr) -> std::path::PathBuf {
    let devnet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/devnet.toml");
    let text = std::fs::read_to_string(devnet).expect("read config/devnet.toml");
    let database = dir.join("bench.sqlite");
    let text = text
        .replace("http://127.0.0.1:26657", rpc)
        .replace(
            "start_height = 13_759_500",
            &format!("start_height = {first}"),
        )
        .replace(
            "url = \"data/devnet.sqlite\"",
            &format!("url = \"{}\"", database.display()),
        )
        .replace(
            "listen = \"127.0.0.1:9464\"",
            &format!("listen = \"{listen}\""),
        );
    let config = dir.join("bench.toml");
    std::fs::write(&config, text).expect("write the configuration");
    config
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}
