//! The real `akash-incentives index` against the independent fixture chains served on
//! 127.0.0.1: what it records must be exactly `truth.json`, on SQLite and on PostgreSQL, in one
//! run or in follow mode; and the exports keep their documented shape.

mod support;

use std::time::{Duration, Instant};

use simnet::chain::Faults;
use support::e2e::*;
use support::{binary, run_within};

fn index_fixture_into(name: &str, database: &str) {
    let truth = truth(name);
    let node = Node::start(&fixture(name), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ChainConfig::for_fixture(&node.url(), &truth));
    let output = index(&config, database, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("600 block(s) applied"), "{stdout}");
    assert_matches_truth(&truth, database);
}

#[test]
fn e2e_era_a_small_matches_truth_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("a.sqlite").display().to_string();
    index_fixture_into("era-a-small", &database);
}

#[test]
fn e2e_era_b_small_matches_truth_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("b.sqlite").display().to_string();
    index_fixture_into("era-b-small", &database);
}

#[test]
fn e2e_both_eras_match_truth_on_postgres() {
    for name in ["era-a-small", "era-b-small"] {
        let Some(db) = store::testing::postgres() else {
            return;
        };
        let store::DatabaseUrl::Postgres(url) = db.url() else {
            panic!("a PostgreSQL test database has a postgres:// URL");
        };
        index_fixture_into(name, &url);
    }
}

#[test]
fn e2e_a_second_run_resumes_after_the_cursor_and_changes_nothing() {
    let truth = truth("era-a-small");
    let node = Node::start(&fixture("era-a-small"), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("a.sqlite").display().to_string();
    let config = write_config(dir.path(), &ChainConfig::for_fixture(&node.url(), &truth));
    index(&config, &database, &["--to", "13759800"]);
    let half = export(&database, "leases");
    index(&config, &database, &[]);
    let again = index(&config, &database, &[]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("nothing to index")
            || String::from_utf8_lossy(&again.stdout).contains("0 block(s) applied"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    // Re-fetching an already indexed range must not apply anything twice.
    let rerun = index(
        &config,
        &database,
        &["--from", "13759600", "--to", "13759700"],
    );
    assert!(
        String::from_utf8_lossy(&rerun.stdout).contains("101 already indexed"),
        "{}",
        String::from_utf8_lossy(&rerun.stdout)
    );
    assert_ne!(
        half,
        export(&database, "leases"),
        "the second run must have added leases"
    );
    assert_matches_truth(&truth, &database);
}

#[test]
fn e2e_follow_mode_keeps_up_with_a_growing_head() {
    let truth = truth("era-b-small");
    let first = truth["first_height"].as_u64().unwrap();
    let last = truth["last_height"].as_u64().unwrap();
    let node = Node::start(&fixture("era-b-small"), Faults::default());
    node.server.set_head(first + 150);
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("b.sqlite").display().to_string();
    let config = write_config(dir.path(), &ChainConfig::for_fixture(&node.url(), &truth));
    // Create and migrate the database first, so the test's polling below never races the
    // indexer's own creation of it.
    drop(store::Store::open(&store::DatabaseUrl::parse(&database).unwrap()).unwrap());
    let log = dir.path().join("follower.log");
    let mut child = binary()
        .arg("--config")
        .arg(&config)
        .args([
            "--database-url",
            &database,
            "index",
            "--follow",
            "--no-progress",
        ])
        .args(["--poll-interval-ms", "100"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // `connect`, not `open`: the test must not race the indexer's own migrations.
    let cursor = || -> Option<u64> {
        let url = store::DatabaseUrl::parse(&database).ok()?;
        let mut store = store::Store::connect(&url).ok()?;
        store::cursor::read_cursor(store.conn(), "akashnet-2")
            .ok()?
            .map(domain::Height::get)
    };
    let mut wait_for = |height: u64| {
        let started = Instant::now();
        while cursor() != Some(height) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the follower exited before reaching {height}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the follower did not reach {height} (cursor {:?})",
                cursor()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for(first + 150);
    node.server.set_head(first + 400);
    wait_for(first + 400);
    node.server.set_head(last);
    wait_for(last);
    // SIGTERM: the follower stops cleanly.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no clean stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        exit.success(),
        "the follower exits 0 when asked to stop: {exit:?}"
    );
    assert_matches_truth(&truth, &database);
}

#[test]
fn export_writes_the_documented_headers_to_stdout_and_files_alike() {
    let truth = truth("era-b-small");
    let node = Node::start(&fixture("era-b-small"), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("b.sqlite").display().to_string();
    let config = write_config(dir.path(), &ChainConfig::for_fixture(&node.url(), &truth));
    index(&config, &database, &["--to", "23940300"]);
    for (what, header) in [
        (
            "leases",
            "owner,dseq,gseq,oseq,bseq,provider,gpu_units,gpu_model,gpu_ram,price_denom,\
             price_amount,created_height,created_time,closed_height,closed_time,close_cause,\
             close_reason",
        ),
        (
            "providers",
            "owner,host_uri,gpu_models,created_height,updated_height,deleted_height",
        ),
    ] {
        let stdout = export(&database, what);
        assert_eq!(stdout.lines().next(), Some(header));
        let file = dir.path().join(format!("{what}.csv"));
        let output = run_within(
            binary()
                .args(["--database-url", &database, "export", what, "--out"])
                .arg(&file),
            Duration::from_secs(30),
        );
        assert!(output.status.success());
        assert!(output.stdout.is_empty(), "--out writes nothing to stdout");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout);
        assert_eq!(stdout, export(&database, what), "exports are stable");
    }
    // Open leases have empty closing fields rather than placeholders.
    let leases = export(&database, "leases");
    let open = csv_rows(&leases)
        .into_iter()
        .find(|row| row["closed_height"].is_empty())
        .expect("an open lease at height 23940300");
    assert!(open["closed_time"].is_empty() && open["close_cause"].is_empty());
}

#[test]
fn e2e_simnet_cli_generates_and_serves_a_chain_the_indexer_reads() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("synthetic");
    let generated = run_within(
        binary()
            .args([
                "simnet",
                "generate",
                "--blocks",
                "300",
                "--providers",
                "12",
                "--seed",
                "7",
            ])
            .arg("--out")
            .arg(&chain),
        Duration::from_secs(60),
    );
    assert!(generated.status.success());
    let summary = String::from_utf8_lossy(&generated.stdout).into_owned();
    let wallet = summary
        .lines()
        .find_map(|l| l.strip_prefix("programme wallet (payouts): "))
        .expect("the generator names the programme wallet")
        .to_string();

    let mut server = binary()
        .args(["simnet", "serve", "--listen", "127.0.0.1:0", "--fixture"])
        .arg(&chain)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();

    let config = write_config(
        dir.path(),
        &ChainConfig {
            rpc_url: &url,
            start_height: 14_000_000,
            watched_wallet: &wallet,
            fetch_concurrency: 8,
            batch_size: 100,
            request_timeout: "5s",
        },
    );
    let database = dir.path().join("synthetic.sqlite").display().to_string();
    let output = index(&config, &database, &[]);
    server.kill().unwrap();
    server.wait().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("300 block(s) applied") && stdout.contains("0 rejection(s)"),
        "{stdout}"
    );
    let leases = csv_rows(&export(&database, "leases"));
    let providers = csv_rows(&export(&database, "providers"));
    assert_eq!(providers.len(), 12);
    assert!(!leases.is_empty(), "the synthetic chain creates leases");
    assert!(
        leases.iter().all(|l| !l["gpu_model"].is_empty()),
        "every synthetic bid names its GPU model"
    );
}
