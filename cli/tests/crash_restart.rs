//! `kill -9` at random points of a run, then a restart: the final exports must be byte-identical
//! to an uninterrupted run's, with no gap and no duplicate.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use simnet::chain::Faults;
use support::binary;
use support::e2e::*;

/// The longest a run may take to commit its next batch before it is killed anyway.
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn crash_kill_9_at_twenty_random_points_then_restart_gives_identical_exports() {
    let truth = truth("era-a-small");
    let last = truth["last_height"].as_u64().unwrap();
    // Short stalls stretch the run to a few seconds even on a fast machine, so the kills below
    // land inside it rather than after it.
    let node = Node::start(
        &fixture("era-a-small"),
        Faults {
            seed: 4,
            stall: 0.10,
            stall_for: Duration::from_millis(50),
            ..Faults::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let url = node.url();
    // Small batches and few blocks in flight: many commits, so kills land between, during and
    // right after them.
    let chain = ChainConfig {
        fetch_concurrency: 2,
        batch_size: 5,
        ..ChainConfig::for_fixture(&url, &truth)
    };
    let config = write_config(dir.path(), &chain);

    let clean = dir.path().join("clean.sqlite").display().to_string();
    index(&config, &clean, &[]);
    let clean_leases = export(&clean, "leases");
    let clean_providers = export(&clean, "providers");

    let crashed = dir.path().join("crashed.sqlite").display().to_string();
    let cursor = || -> Option<u64> {
        let url = store::DatabaseUrl::parse(&crashed).ok()?;
        let mut store = store::Store::connect(&url).ok()?;
        store::cursor::read_cursor(store.conn(), "akashnet-2")
            .ok()?
            .map(domain::Height::get)
    };
    let mut rng = fastrand::Rng::with_seed(20);
    let mut kills_mid_run = 0;
    let mut cursors = Vec::new();
    for _ in 0..20 {
        let mut child = binary()
            .arg("--config")
            .arg(&config)
            .args(["--database-url", &crashed, "index", "--no-progress"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill only once this run has committed a batch (or ended), however slow the machine:
        // a fixed delay lands before the first commit when both cores are busy, and a kill
        // there tests nothing. Then a random extra delay spreads kills over commits, inside
        // them and right after them.
        let before = cursor();
        let waiting_since = Instant::now();
        while child.try_wait().unwrap().is_none()
            && cursor() == before
            && waiting_since.elapsed() < PROGRESS_TIMEOUT
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rng.u64(0..40)));
        if child.try_wait().unwrap().is_none() {
            kills_mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        cursors.push(cursor());
    }
    assert!(
        kills_mid_run >= 15,
        "only {kills_mid_run} of 20 kills hit a running indexer; cursors {cursors:?}"
    );
    assert!(
        cursors.iter().flatten().any(|c| *c < last),
        "no kill landed before the end of the range; cursors {cursors:?}"
    );
    index(&config, &crashed, &[]);
    assert_eq!(cursor(), Some(last));
    assert_eq!(
        export(&crashed, "leases"),
        clean_leases,
        "leases differ after crashes"
    );
    assert_eq!(
        export(&crashed, "providers"),
        clean_providers,
        "providers differ after crashes"
    );
    assert_matches_truth(&truth, &crashed);
}
