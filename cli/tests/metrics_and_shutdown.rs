//! The process-wide services of the long-running commands: `/metrics` served on the configured
//! address with the running part's series, and a clean exit (status 0, work stored) on
//! SIGTERM. Everything listens on 127.0.0.1 only, and every wait is bounded.

mod support;

use std::fs::File;
use std::process::Stdio;
use std::time::Duration;

use support::e2e::*;
use support::*;

#[test]
fn index_follow_serves_its_metrics_and_stops_cleanly_on_sigterm() {
    let truth = truth("era-a-small");
    let last = truth["last_height"].as_u64().unwrap();
    let chain = ServedChain::start(&fixture("era-a-small"));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ChainConfig::for_fixture(chain.url(), &truth));
    let metrics = free_local_addr();
    set_metrics_listen(&config, metrics);
    let database = dir.path().join("a.sqlite").display().to_string();
    let log = dir.path().join("index.log");
    let stdout = dir.path().join("index.out");
    let mut child = binary()
        .arg("--config")
        .arg(&config)
        .args(["--database-url", &database, "index", "--follow"])
        .args(["--no-progress", "--poll-interval-ms", "100"])
        .stdout(File::create(&stdout).unwrap())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let indexed = format!("akash_incentives_indexer_indexed_height {last}\n");
    let body = scrape_until(metrics, &mut child, &log, |body| body.contains(&indexed));
    assert!(
        body.contains(&format!(
            "akash_incentives_indexer_chain_head_height {last}\n"
        )),
        "{body}"
    );
    assert!(
        body.contains("akash_incentives_indexer_blocks_processed_total 600\n"),
        "{body}"
    );
    assert!(
        !body.contains("akash_incentives_prober_"),
        "only the running part's metrics are registered: {body}"
    );

    terminate(&child);
    let status = wait_within(&mut child, Duration::from_secs(20));
    assert!(
        status.success(),
        "index --follow exits 0 on SIGTERM: {status:?}"
    );
    let printed = std::fs::read_to_string(&stdout).unwrap();
    assert!(
        printed.contains("stopped on request; the next run resumes after the cursor"),
        "{printed}"
    );
    assert!(
        http_get(metrics, "/metrics").is_none(),
        "the metrics server is gone with the process"
    );
    assert_matches_truth(&truth, &database);
}

#[test]
fn probe_follow_serves_its_metrics_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("devnet.toml");
    std::fs::copy(shipped_config("devnet.toml"), &config).unwrap();
    // The copy names its key file beside it.
    let key = dir.path().join("devnet-prober.key");
    std::fs::copy(shipped_config("devnet-prober.key"), key).unwrap();
    let metrics = free_local_addr();
    set_metrics_listen(&config, metrics);
    let database = dir.path().join("probes.sqlite");
    let log = dir.path().join("probe.log");
    // An empty store: no provider to probe, so the rounds are empty and quick.
    let mut child = binary()
        .arg("--config")
        .arg(&config)
        .arg("--database-url")
        .arg(&database)
        .args(["probe", "--follow"])
        .stdout(Stdio::null())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let body = scrape_until(metrics, &mut child, &log, |body| {
        body.contains("akash_incentives_prober_providers_probed 0\n")
    });
    assert!(
        body.contains(
            "akash_incentives_prober_probes_total{error_kind=\"none\",result=\"online\"} 0\n"
        ),
        "{body}"
    );
    assert!(
        !body.contains("akash_incentives_indexer_"),
        "only the running part's metrics are registered: {body}"
    );

    terminate(&child);
    let status = wait_within(&mut child, Duration::from_secs(20));
    assert!(
        status.success(),
        "probe --follow exits 0 on SIGTERM: {status:?}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("interrupted: finishing the running probes and storing them"),
        "{logged}"
    );
}
