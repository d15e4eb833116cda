//! `serve`, the daemon, run as the administrator runs it: on the independent fixture chain
//! `era-a-small` served on 127.0.0.1, with automatic settlement and reports on.
//!
//! - It indexes the whole chain, seals the five epochs the chain covers, publishes their
//!   bundles (which `verify` accepts), answers `/healthz` and `/readyz`, and its `/metrics`
//!   pass `promtool check metrics` with the indexed height equal to the fixture's last height.
//! - Stopped with SIGTERM mid-run (exit 0), restarted, killed with SIGKILL mid-run, restarted:
//!   the store and the published files end exactly as an uninterrupted run's.
//! - Two processes on one database (SQLite, and PostgreSQL where it runs): one leads, the other
//!   waits, and takes over when the leader dies.
//!
//! Every address is on 127.0.0.1 and every wait is bounded.

mod support;

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use simnet::chain::Faults;
use support::audit::files_under;
use support::e2e::*;
use support::*;

const FIXTURE: &str = "era-a-small";
/// The devnet programme's epochs, all inside the fixture's hour.
const EPOCHS: i64 = 5;
/// How long a run may take to reach a state it is waited for.
const PATIENCE: Duration = Duration::from_secs(120);

/// A test configuration for `serve`: the devnet programme on the fixture at `rpc_url`, metrics
/// on `listen`, epochs sealed a minute after they end and published into `out`.
fn serve_config(dir: &Path, chain: &ChainConfig<'_>, listen: SocketAddr, out: &Path) -> PathBuf {
    let config = write_config(dir, chain);
    set_metrics_listen(&config, listen);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text += &format!(
        "\n[serve]\nshutdown_timeout = \"30s\"\n\n[settle]\nauto = true\ndelay = \"1m\"\n\n\
         [reports]\nout = \"{}\"\n",
        out.display()
    );
    std::fs::write(&config, text).unwrap();
    // The devnet configuration names its prober key beside it.
    std::fs::copy(
        shipped_config("devnet-prober.key"),
        dir.join("devnet-prober.key"),
    )
    .unwrap();
    config
}

/// `serve --no-probe` (the fixture's providers are not on loopback), logging into `log`.
fn start_serve(config: &Path, database: &str, log: &Path) -> Child {
    binary()
        .arg("--config")
        .arg(config)
        .args([
            "--database-url",
            database,
            "serve",
            "--no-probe",
            "--poll-interval-ms",
            "200",
        ])
        .stdout(Stdio::null())
        .stderr(File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// One `serve` of its own in `dir/name`: configuration, database, reports folder, metrics
/// address and log.
struct Setup {
    config: PathBuf,
    database: String,
    out: PathBuf,
    listen: SocketAddr,
    log: PathBuf,
}

impl Setup {
    fn new(dir: &Path, name: &str, chain: &ChainConfig<'_>) -> Self {
        let folder = dir.join(name);
        std::fs::create_dir(&folder).unwrap();
        let listen = free_local_addr();
        let out = folder.join("reports");
        Self {
            config: serve_config(&folder, chain, listen, &out),
            database: folder.join("serve.sqlite").display().to_string(),
            out,
            listen,
            log: folder.join("serve.log"),
        }
    }

    fn start(&self) -> Child {
        start_serve(&self.config, &self.database, &self.log)
    }
}

/// The value of the unlabelled series `name` in a scrape.
fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// Whether the scrape shows a process that has indexed the fixture and sealed every epoch.
fn finished(body: &str, last: u64) -> bool {
    metric(body, "akash_incentives_indexer_indexed_height") == Some(last as f64)
        && metric(body, "akash_incentives_settlement_last_sealed_epoch")
            == Some((EPOCHS - 1) as f64)
}

/// Runs `serve` until it has indexed and sealed everything and published every bundle, then
/// stops it with SIGTERM, which must exit 0.
fn serve_to_the_end(setup: &Setup, last: u64) -> String {
    let mut child = setup.start();
    let body = scrape_until(setup.listen, &mut child, &setup.log, |body| {
        finished(body, last)
    });
    wait_for(&mut child, &setup.log, || {
        setup.out.join("devnet/report.html").is_file()
    });
    stop_cleanly(&mut child, &setup.log);
    body
}

/// Waits until `done`, failing when `child` exits first or after [`PATIENCE`].
fn wait_for(child: &mut Child, log: &Path, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "serve exited early: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        assert!(
            started.elapsed() < PATIENCE,
            "not done within {PATIENCE:?}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM, then exit status 0 within the configured shutdown time.
fn stop_cleanly(child: &mut Child, log: &Path) {
    terminate(child);
    let status = wait_within(child, Duration::from_secs(40));
    let said = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        status.success(),
        "serve exits 0 on SIGTERM: {status:?}\n{said}"
    );
    assert!(
        said.contains("stopped; a restart resumes from the store"),
        "{said}"
    );
}

/// The indexer's cursor in `database`, read as `db status` would.
fn cursor(database: &str) -> Option<u64> {
    let url = store::DatabaseUrl::parse(database).ok()?;
    let mut store = store::Store::connect(&url).ok()?;
    store::cursor::read_cursor(store.conn(), "akashnet-2")
        .ok()?
        .map(domain::Height::get)
}

/// What an auditor compares between two runs: the indexed chain and every provider's position.
fn exports(config: &Path, database: &str) -> [String; 3] {
    let positions = support::audit::cli(
        config,
        database,
        &["settle", "positions", "--at", "2024-02-15T01:00:00Z"],
    );
    [
        export(database, "leases"),
        export(database, "providers"),
        positions,
    ]
}

#[test]
fn serve_indexes_seals_publishes_and_answers_health_and_metrics() {
    let truth = truth(FIXTURE);
    let last = truth["last_height"].as_u64().unwrap();
    let chain = ServedChain::start(&fixture(FIXTURE));
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(
        dir.path(),
        "serve",
        &ChainConfig::for_fixture(chain.url(), &truth),
    );
    let (listen, log, out, database) = (setup.listen, &setup.log, &setup.out, &setup.database);
    let mut child = setup.start();

    let body = scrape_until(listen, &mut child, log, |body| finished(body, last));
    for (name, value) in [
        ("akash_incentives_indexer_chain_head_height", last as f64),
        ("akash_incentives_indexer_blocks_processed_total", 600.0),
        ("akash_incentives_serve_leader", 1.0),
        (
            "akash_incentives_settlement_epochs_sealed_total",
            EPOCHS as f64,
        ),
        // Every epoch is sealed: no end to wait for.
        (
            "akash_incentives_settlement_next_epoch_end_timestamp_seconds",
            0.0,
        ),
        ("akash_incentives_settlement_grace_seconds", 7200.0),
    ] {
        assert_eq!(metric(&body, name), Some(value), "{name} in\n{body}");
    }
    // The fixture's last block is at 2024-02-15T00:59:46Z.
    let newest = metric(
        &body,
        "akash_incentives_indexer_indexed_block_timestamp_seconds",
    )
    .unwrap();
    assert!(
        (1_707_958_000.0..1_707_959_000.0).contains(&newest),
        "{newest}"
    );
    assert!(
        body.contains("akash_incentives_build_info{version=\""),
        "{body}"
    );
    for pool in ["committed", "liquidity_mining", "rnd"] {
        assert!(
            body.contains(&format!(
                "akash_incentives_settlement_pool_returned_base_units{{pool=\"{pool}\"}}"
            )),
            "{pool} missing from\n{body}"
        );
    }
    assert!(
        body.contains(
            "akash_incentives_settlement_contract_sla_uptime_ratio{contract=\"devnet-a100\"} 0.9\n"
        ),
        "{body}"
    );
    assert!(
        !body.contains("akash_incentives_settlement_provider_earned_base_units"),
        "per-provider series only when metrics.per_provider asks for them"
    );
    promtool_accepts(&body);

    assert_eq!(http_get(listen, "/healthz").as_deref(), Some("ok\n"));
    assert_eq!(http_get(listen, "/readyz").as_deref(), Some("ready\n"));
    wait_for(&mut child, log, || out.join("devnet/report.html").is_file());
    let (code, stdout, stderr) = run(binary().arg("verify").arg(out.join("devnet")));
    assert_eq!(
        code, 0,
        "verify rejects what serve published:\n{stdout}\n{stderr}"
    );

    stop_cleanly(&mut child, log);
    drop(chain);
    assert_matches_truth(&truth, database);
}

/// `promtool check metrics` on a scrape (skipped outside CI when promtool is missing).
fn promtool_accepts(body: &str) {
    let Some(promtool) = tool_on_path("promtool", "prometheus", "promtool check metrics of serve")
    else {
        return;
    };
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let output = check.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
        "promtool check metrics found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn serve_stopped_by_sigterm_then_killed_then_restarted_ends_as_an_uninterrupted_run() {
    let truth = truth(FIXTURE);
    let last = truth["last_height"].as_u64().unwrap();
    // Short stalls stretch indexing to seconds, so the stops below land inside it.
    let node = Node::start(
        &fixture(FIXTURE),
        Faults {
            seed: 7,
            stall: 0.10,
            stall_for: Duration::from_millis(50),
            ..Faults::default()
        },
    );
    let url = node.url();
    let chain = ChainConfig {
        fetch_concurrency: 2,
        batch_size: 5,
        ..ChainConfig::for_fixture(&url, &truth)
    };
    let dir = tempfile::tempdir().unwrap();

    let clean = Setup::new(dir.path(), "clean", &chain);
    // The uninterrupted run also exports the per-provider series.
    let text = std::fs::read_to_string(&clean.config).unwrap();
    std::fs::write(
        &clean.config,
        text.replace("[metrics]\n", "[metrics]\nper_provider = true\n"),
    )
    .unwrap();
    let body = serve_to_the_end(&clean, last);
    for series in [
        "akash_incentives_settlement_provider_uptime_last_epoch_ratio{provider=\"akash1",
        "akash_incentives_settlement_provider_reported_gpus{provider=\"akash1",
        "akash_incentives_settlement_provider_earned_base_units{provider=\"akash1",
    ] {
        assert!(body.contains(series), "{series} missing:\n{body}");
    }

    let stopped = Setup::new(dir.path(), "stopped", &chain);
    let (database, log) = (&stopped.database, &stopped.log);
    // SIGTERM once a first batch is committed, well before the end.
    let mut child = stopped.start();
    wait_for(&mut child, log, || cursor(database).is_some());
    let at_stop = cursor(database).unwrap();
    assert!(
        at_stop + 100 < last,
        "indexing ended too soon to stop it mid-run: {at_stop}"
    );
    let ready = http_get(stopped.listen, "/readyz");
    assert_eq!(ready, None, "ready while far behind the head");
    stop_cleanly(&mut child, log);
    let after_stop = cursor(database).unwrap();
    assert!(
        after_stop < last,
        "the stop landed after the end: {after_stop}"
    );

    // SIGKILL once the restarted run has moved on.
    let mut child = stopped.start();
    wait_for(&mut child, log, || cursor(database) > Some(after_stop));
    child.kill().unwrap();
    child.wait().unwrap();
    let after_kill = cursor(database).unwrap();
    assert!(
        after_kill < last,
        "the kill landed after the end: {after_kill}"
    );

    serve_to_the_end(&stopped, last);
    assert_eq!(
        exports(&stopped.config, database),
        exports(&clean.config, &clean.database),
        "leases, providers or positions differ from the uninterrupted run"
    );
    let published = files_under(&stopped.out);
    let clean_published = files_under(&clean.out);
    assert!(published.len() > 5 * 10, "{:?}", published.keys());
    let differing: Vec<_> = published
        .keys()
        .chain(clean_published.keys())
        .filter(|file| published.get(*file) != clean_published.get(*file))
        .collect();
    assert!(
        differing.is_empty(),
        "published files differ from the uninterrupted run's: {differing:?}"
    );
    assert_matches_truth(&truth, database);
}

/// Two `serve` processes on `database`: exactly one leads; when it dies the other takes over
/// and finishes the work.
fn one_of_two_leads_and_the_other_takes_over(database: &str) {
    let truth: Value = truth(FIXTURE);
    let last = truth["last_height"].as_u64().unwrap();
    let chain = ServedChain::start(&fixture(FIXTURE));
    let dir = tempfile::tempdir().unwrap();
    let chain_config = ChainConfig::for_fixture(chain.url(), &truth);
    let setup = |name: &str| Setup {
        database: database.to_owned(),
        ..Setup::new(dir.path(), name, &chain_config)
    };
    let leader = |body: &str| metric(body, "akash_incentives_serve_leader");
    // The second starts once the first serves (and so has migrated the database), and stays a
    // follower while the first leads.
    let (first_setup, heir) = (setup("first"), setup("heir"));
    let mut first = first_setup.start();
    scrape_until(first_setup.listen, &mut first, &first_setup.log, |body| {
        leader(body) == Some(1.0)
    });
    let mut second = heir.start();
    scrape_until(heir.listen, &mut second, &heir.log, |body| {
        leader(body) == Some(0.0)
    });
    std::thread::sleep(Duration::from_secs(1));
    let body = http_get(heir.listen, "/metrics").unwrap();
    assert_eq!(leader(&body), Some(0.0), "two processes lead one database");
    let body = http_get(first_setup.listen, "/metrics").unwrap();
    assert_eq!(leader(&body), Some(1.0), "the first still leads");
    first.kill().unwrap();
    first.wait().unwrap();
    let body = scrape_until(heir.listen, &mut second, &heir.log, |body| {
        leader(body) == Some(1.0) && finished(body, last)
    });
    assert!(finished(&body, last), "{body}");
    let said = std::fs::read_to_string(&heir.log).unwrap();
    assert!(
        said.contains("another process leads this database"),
        "{said}"
    );
    stop_cleanly(&mut second, &heir.log);
    assert_matches_truth(&truth, database);
}

#[test]
fn two_serve_processes_on_one_sqlite_file_let_one_lead() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("shared.sqlite").display().to_string();
    one_of_two_leads_and_the_other_takes_over(&database);
}

#[test]
fn two_serve_processes_on_one_postgres_database_let_one_lead() {
    let Some(db) = store::testing::postgres() else {
        return;
    };
    let store::DatabaseUrl::Postgres(url) = db.url() else {
        unreachable!("a PostgreSQL test database");
    };
    one_of_two_leads_and_the_other_takes_over(&url);
}
