//! A flaky node: 10% HTTP 500s, 5% HTTP 429s, connection resets and 2-second stalls. The
//! indexer retries through all of it and records exactly what a clean run records.

mod support;

use std::time::Duration;

use simnet::chain::Faults;
use support::e2e::*;

#[test]
fn fault_500s_429s_resets_and_stalls_do_not_change_the_result() {
    let truth = truth("era-a-small");
    let node = Node::start(
        &fixture("era-a-small"),
        Faults {
            seed: 11,
            http_500: 0.10,
            http_429: 0.05,
            reset: 0.02,
            stall: 0.01,
            stall_for: Duration::from_secs(2),
            ..Faults::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let url = node.url();
    // A stalled request times out after 1 s and is retried: the timeout path is exercised
    // too, and the test stays short.
    let chain = ChainConfig {
        fetch_concurrency: 16,
        request_timeout: "1s",
        ..ChainConfig::for_fixture(&url, &truth)
    };
    let config = write_config(dir.path(), &chain);
    let database = dir.path().join("faulty.sqlite").display().to_string();
    let output = index(
        &config,
        &database,
        &[
            "--retry-attempts",
            "15",
            "--retry-backoff-ms",
            "10",
            "--retry-max-backoff-ms",
            "200",
            "--bench-ms",
            "50",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("600 block(s) applied"), "{stdout}");
    assert!(!stdout.contains("could not be fetched"), "{stdout}");
    let injected = node.server.injected();
    assert!(
        injected.http_500 > 50
            && injected.http_429 > 20
            && injected.resets > 0
            && injected.stalls > 0,
        "the node did not misbehave as asked: {injected:?}"
    );
    assert_matches_truth(&truth, &database);
}
