//! `probe --once` and `probe --follow` against the store's provider list.

mod common;

use std::time::Duration;

use store::probes;
use store::Store;
use tokio::sync::watch;
use uptime_prober::{jitter, round};

fn register(store: &mut Store, owner: &str, host_uri: &str, deleted_height: Option<i64>) {
    store::testing::register_provider(store.conn(), owner, host_uri, deleted_height).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_probes_every_registered_provider_and_stores_the_round() {
    let mut db = store::testing::sqlite();
    let up = common::start(common::healthy("akash1up", 8, 2)).await;
    let down = common::start(
        common::healthy("akash1down", 8, 2).behaving(simnet::providers::Behaviour::Down),
    )
    .await;
    let deleted = common::start(common::healthy("akash1deleted", 8, 2)).await;
    register(&mut db, up.owner(), &up.host_uri(), None);
    register(&mut db, down.owner(), &down.host_uri(), None);
    register(&mut db, deleted.owner(), &deleted.host_uri(), Some(100));

    let prober = common::prober(8, None);
    let (round, summary) = round::once(&prober, &mut db).await.unwrap();
    assert_eq!(summary.outcomes.len(), 2);
    let stored = probes::load_observations(db.conn(), 0, i64::MAX, None, 10).unwrap();
    // The store orders a round's observations by their time; which probe started first is up
    // to the scheduler, so compare them by provider.
    let mut seen: Vec<(&str, bool)> = stored
        .iter()
        .map(|r| (r.key.provider.as_str(), r.online))
        .collect();
    seen.sort_unstable();
    let expected = vec![("akash1down", false), ("akash1up", true)];
    assert_eq!(seen, expected, "the deleted provider is not probed");
    let mut recorded = round.records("test-1");
    recorded.sort_by(|a, b| {
        (a.key.time_ms, &a.key.prober, &a.key.provider).cmp(&(
            b.key.time_ms,
            &b.key.prober,
            &b.key.provider,
        ))
    });
    assert_eq!(stored, recorded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_probes_each_provider_once_per_interval_at_its_jitter() {
    let interval = Duration::from_millis(1000);
    let tolerance_ms = 300;
    let mut db = store::testing::sqlite();
    let mut fakes = Vec::new();
    for i in 0..4 {
        let fake = common::start(common::healthy(&format!("akash1p{i}"), 4, 1)).await;
        register(&mut db, fake.owner(), &fake.host_uri(), None);
        fakes.push(fake);
    }
    let prober = common::prober(8, None);
    let (stop, stopping) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(3500)).await;
        stop.send_replace(true);
        tokio::time::Instant::now()
    });
    round::follow(&prober, &mut db, interval, stopping)
        .await
        .unwrap();
    let stopped_at = stopper.await.unwrap();
    assert!(
        stopped_at.elapsed() < common::TIMEOUT * 2,
        "follow returned promptly after the stop"
    );

    let stored = probes::load_observations(db.conn(), 0, i64::MAX, None, 1000).unwrap();
    for fake in &fakes {
        let times: Vec<i64> = stored
            .iter()
            .filter(|r| r.key.provider == fake.owner())
            .map(|r| r.key.time_ms)
            .collect();
        assert!(
            (3..=4).contains(&times.len()),
            "{}: {times:?}",
            fake.owner()
        );
        let offset = i64::try_from(jitter("test-1", fake.owner(), interval).as_millis()).unwrap();
        for t in &times {
            let late = (t - offset).rem_euclid(1000);
            assert!(
                late < tolerance_ms,
                "{}: probed {late} ms after its slot",
                fake.owner()
            );
        }
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                (1000 - tolerance_ms..1000 + tolerance_ms).contains(&gap),
                "{}: gap {gap} ms",
                fake.owner()
            );
        }
    }
    assert!(stored.iter().all(|r| r.online));
}
