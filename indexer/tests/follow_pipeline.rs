//! The pipeline in process against the fixture node: metrics, a missing block recorded and
//! re-fetched later, a clean stop on request, and a clear error for a pruned start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indexer::decode::DecodeOptions;
use indexer::follow::{self, FollowError, FollowOptions, ProgressMode};
use indexer::metrics::IndexerMetrics;
use indexer::rpc::{RetryPolicy, RpcClient, RpcError, RpcOptions};
use simnet::chain::{ChainServer, ChainSource, Faults, ServeOptions};
use store::Store;

const FIRST: u64 = 13_759_500;
const LAST: u64 = 13_760_099;

async fn serve(faults: Faults) -> ChainServer {
    let folder =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/era-a-small");
    ChainServer::start(
        ChainSource::folder(folder).unwrap(),
        ServeOptions {
            faults,
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap()
}

fn client(server: &ChainServer, metrics: &IndexerMetrics) -> Arc<RpcClient> {
    let client = RpcClient::new(
        RpcOptions {
            urls: vec![server.url()],
            chain_id: "akashnet-2".into(),
            request_timeout: Duration::from_secs(5),
            in_flight_per_endpoint: 16,
            retry: RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(5),
                max_backoff: Duration::from_millis(20),
                max_elapsed: Duration::from_secs(10),
            },
            bench_for: Duration::from_secs(1),
            cometbft_038_height: Some(23_939_793),
        },
        metrics.clone(),
    )
    .unwrap();
    Arc::new(client)
}

fn options(from: Option<u64>, to: Option<u64>) -> FollowOptions {
    FollowOptions {
        chain_id: "akashnet-2".into(),
        start_height: FIRST,
        from,
        to,
        follow: false,
        fetch_concurrency: 8,
        batch_size: 40,
        flush_after: Duration::from_millis(200),
        poll_interval: Duration::from_millis(100),
        progress: ProgressMode::Log,
        decode: DecodeOptions::watching(["akash1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg".into()]),
    }
}

fn metrics() -> IndexerMetrics {
    IndexerMetrics::register(&prometheus::Registry::new()).unwrap()
}

fn reopen(db: &store::testing::TestDatabase) -> Store {
    Store::open(&db.url()).unwrap()
}

/// One follower run into `db` against `server` that is never asked to stop.
async fn follow_to_the_end(
    db: &store::testing::TestDatabase,
    server: &ChainServer,
    metrics: &IndexerMetrics,
    options: FollowOptions,
) -> Result<follow::FollowReport, FollowError> {
    follow::run(
        reopen(db),
        client(server, metrics),
        options,
        metrics.clone(),
        std::future::pending(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_indexes_the_fixture_and_keeps_its_metrics() {
    let db = store::testing::sqlite();
    let server = serve(Faults::default()).await;
    let metrics = metrics();
    let report = follow_to_the_end(&db, &server, &metrics, options(None, None))
        .await
        .unwrap();
    assert_eq!(report.first_height, Some(FIRST));
    assert_eq!(report.last_height, Some(LAST));
    assert_eq!(report.blocks_applied, 600);
    assert_eq!(report.transactions, 486);
    assert!(report.unavailable_heights.is_empty());
    assert_eq!(metrics.indexed_height.get(), LAST as i64);
    assert_eq!(metrics.chain_head_height.get(), LAST as i64);
    assert_eq!(metrics.blocks_processed.get(), 600);
    assert_eq!(metrics.transactions_processed.get(), 486);
    assert!(metrics.batch_apply_seconds.get_sample_count() >= 600 / 40);
    let mut store = reopen(&db);
    assert_eq!(
        store::cursor::read_cursor(store.conn(), "akashnet-2")
            .unwrap()
            .map(domain::Height::get),
        Some(LAST)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_records_a_missing_block_and_a_later_run_fetches_it() {
    let db = store::testing::sqlite();
    let missing = FIRST + 10; // an empty block
    let flaky = serve(Faults {
        missing_heights: [missing].into_iter().collect(),
        ..Faults::default()
    })
    .await;
    let metrics = metrics();
    let report = follow_to_the_end(&db, &flaky, &metrics, options(None, Some(FIRST + 100)))
        .await
        .unwrap();
    assert_eq!(report.unavailable_heights, vec![missing]);
    assert_eq!(report.blocks_applied, 100);
    assert_eq!(metrics.decode_failures(follow::BLOCK_UNAVAILABLE), 1);
    let mut store = reopen(&db);
    assert_eq!(
        store::cursor::unavailable_heights(store.conn())
            .unwrap()
            .into_iter()
            .map(domain::Height::get)
            .collect::<Vec<_>>(),
        vec![missing]
    );
    assert_eq!(
        store::cursor::read_cursor(store.conn(), "akashnet-2")
            .unwrap()
            .map(domain::Height::get),
        Some(FIRST + 100)
    );

    // The node has the block again: `--from H --to H` fills the gap and clears the record,
    // without moving the cursor back.
    let healthy = serve(Faults::default()).await;
    let report = follow_to_the_end(
        &db,
        &healthy,
        &metrics,
        options(Some(missing), Some(missing)),
    )
    .await
    .unwrap();
    assert_eq!(report.blocks_applied, 1);
    let mut store = reopen(&db);
    assert!(store::cursor::unavailable_heights(store.conn())
        .unwrap()
        .is_empty());
    assert_eq!(
        store::cursor::read_cursor(store.conn(), "akashnet-2")
            .unwrap()
            .map(domain::Height::get),
        Some(FIRST + 100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_stops_on_request_at_a_batch_boundary_and_resumes() {
    let db = store::testing::sqlite();
    // Stalls slow the run down so the stop request lands in the middle of it.
    let server = serve(Faults {
        seed: 5,
        stall: 0.05,
        stall_for: Duration::from_millis(100),
        ..Faults::default()
    })
    .await;
    let metrics = metrics();
    // Ask to stop once a few batches are in.
    let progress = metrics.clone();
    let stop = async move {
        while progress.indexed_height.get() < (FIRST + 100) as i64 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let report = follow::run(
        reopen(&db),
        client(&server, &metrics),
        options(None, None),
        metrics.clone(),
        stop,
    )
    .await
    .unwrap();
    assert!(report.interrupted);
    let stopped_at = report.last_height.expect("some batches were committed");
    assert!(stopped_at < LAST, "the run was meant to be interrupted");
    let mut store = reopen(&db);
    assert_eq!(
        store::cursor::read_cursor(store.conn(), "akashnet-2")
            .unwrap()
            .map(domain::Height::get),
        Some(stopped_at)
    );

    let report = follow_to_the_end(&db, &server, &metrics, options(None, None))
        .await
        .unwrap();
    assert_eq!(
        report.first_height,
        Some(stopped_at + 1),
        "it resumes after the cursor"
    );
    assert_eq!(report.last_height, Some(LAST));
    assert_eq!(report.blocks_already_indexed, 0, "nothing is applied twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_refuses_a_start_below_what_the_node_keeps() {
    let db = store::testing::sqlite();
    let server = serve(Faults::default()).await;
    let metrics = metrics();
    let error = follow::run(
        reopen(&db),
        client(&server, &metrics),
        options(Some(FIRST - 100), None),
        metrics,
        std::future::pending(),
    )
    .await
    .unwrap_err();
    let message = error.to_string();
    match error {
        FollowError::Rpc(RpcError::Pruned { height, lowest }) => {
            assert_eq!((height, lowest), (FIRST - 100, FIRST));
        }
        other => panic!("expected a pruned error, got {other}"),
    }
    assert!(
        message.contains("archive node"),
        "the error must say what to do: {message}"
    );
}
