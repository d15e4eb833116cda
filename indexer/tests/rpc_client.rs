//! The RPC client against the fixture node on 127.0.0.1: both request forms, the node's typed
//! errors, retries through injected faults, rotation away from a dead endpoint, and bounded
//! give-up on stalls and missing blocks.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indexer::decode::chain_json::CometVersion;
use indexer::metrics::IndexerMetrics;
use indexer::rpc::{FailureKind, RetryPolicy, RpcClient, RpcError, RpcOptions};
use simnet::chain::{ChainServer, ChainSource, Faults, ServeOptions};

const FIRST: u64 = 13_759_500;
const LAST: u64 = 13_760_099;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/era-a-small")
}

async fn serve(faults: Faults) -> ChainServer {
    let source = ChainSource::folder(fixture()).expect("the era-a-small fixture");
    ChainServer::start(
        source,
        ServeOptions {
            faults,
            ..ServeOptions::default()
        },
    )
    .await
    .expect("start the fixture node")
}

fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        max_elapsed: Duration::from_secs(20),
    }
}

fn make_client(
    urls: Vec<String>,
    retry: RetryPolicy,
    timeout: Duration,
) -> (RpcClient, IndexerMetrics) {
    let metrics = IndexerMetrics::register(&prometheus::Registry::new()).unwrap();
    let client = RpcClient::new(
        RpcOptions {
            urls,
            chain_id: "akashnet-2".into(),
            request_timeout: timeout,
            in_flight_per_endpoint: 4,
            retry,
            bench_for: Duration::from_secs(30),
            cometbft_038_height: Some(23_939_793),
        },
        metrics.clone(),
    )
    .unwrap();
    (client, metrics)
}

fn file_json(kind: &str, height: u64) -> serde_json::Value {
    let path = fixture().join(kind).join(format!("{height}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Sends `request` and reads the answer as JSON, whatever its HTTP status.
async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_server_speaks_cometbft_uri_and_json_rpc() {
    let server = serve(Faults::default()).await;
    let http = reqwest::Client::new();

    let uri: serde_json::Value =
        json_of(http.get(format!("{}/block?height={}", server.url(), FIRST + 20))).await;
    assert_eq!(uri["jsonrpc"], "2.0");
    assert_eq!(uri["id"], -1);
    assert_eq!(uri["result"], file_json("block", FIRST + 20));

    let post: serde_json::Value = json_of(http.post(server.url()).body(
        r#"{"jsonrpc":"2.0","id":"abc","method":"block_results","params":{"height":"13759520"}}"#,
    ))
    .await;
    assert_eq!(post["id"], "abc");
    assert_eq!(post["result"], file_json("block_results", FIRST + 20));

    let above = http
        .get(format!("{}/block?height={}", server.url(), LAST + 5))
        .send()
        .await
        .unwrap();
    assert_eq!(
        above.status(),
        500,
        "URI errors come with HTTP 500, as CometBFT sends them"
    );
    let above: serde_json::Value = above.json().await.unwrap();
    assert_eq!(above["error"]["code"], -32603);
    assert_eq!(above["error"]["message"], "Internal error");
    assert_eq!(
        above["error"]["data"],
        format!(
            "height {} must be less than or equal to the current blockchain height {LAST}",
            LAST + 5
        )
    );

    let below: serde_json::Value = json_of(
        http.post(server.url())
            .body(r#"{"jsonrpc":"2.0","id":7,"method":"block","params":{"height":"5"}}"#),
    )
    .await;
    assert_eq!(below["id"], 7);
    assert_eq!(
        below["error"]["data"],
        format!("height 5 is not available, lowest height is {FIRST}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_fetches_fixture_blocks_through_tendermint_rpc() {
    let server = serve(Faults::default()).await;
    let (client, _) = make_client(vec![server.url()], quick_retries(3), Duration::from_secs(5));
    let status = client.status().await.unwrap();
    assert_eq!(
        (status.earliest_height, status.latest_height),
        (FIRST, LAST)
    );
    let fetched = client.fetch_block(FIRST + 20).await.unwrap();
    assert_eq!(fetched.version, CometVersion::V034);
    let expected = file_json("block", FIRST + 20);
    assert_eq!(
        fetched.block.hash(),
        expected["block_id"]["hash"].as_str().unwrap()
    );
    assert_eq!(
        fetched.block.txs().len(),
        expected["block"]["data"]["txs"].as_array().unwrap().len()
    );
    assert_eq!(fetched.results.height.0, FIRST + 20);
    assert_eq!(client.version_at(23_939_793), CometVersion::V038);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_pruned_and_lagging_heights_fail_at_once_with_typed_errors() {
    let server = serve(Faults::default()).await;
    // A patient policy: one retry of these errors would pause at least 5 seconds.
    let patient = RetryPolicy {
        max_attempts: 10,
        initial_backoff: Duration::from_secs(10),
        max_backoff: Duration::from_secs(10),
        max_elapsed: Duration::from_secs(120),
    };
    let (client, metrics) = make_client(vec![server.url()], patient, Duration::from_secs(5));
    let started = Instant::now();
    match client.block(FIRST - 1).await {
        Err(RpcError::Pruned { height, lowest }) => {
            assert_eq!((height, lowest), (FIRST - 1, FIRST))
        }
        other => panic!("expected a pruned error, got {other:?}"),
    }
    match client.block_results(LAST + 1).await {
        Err(RpcError::AboveHead { height, head }) => assert_eq!((height, head), (LAST + 1, LAST)),
        other => panic!("expected an above-head error, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "typed errors must not be retried"
    );
    assert_eq!(metrics.rpc_errors(&server.url(), "pruned"), 1);
    assert_eq!(metrics.rpc_errors(&server.url(), "lagging"), 1);
    // The endpoint now knows its pruning height and is not asked again below it.
    assert!(matches!(
        client.block(FIRST - 10).await,
        Err(RpcError::Pruned { .. })
    ));
    assert_eq!(metrics.rpc_errors(&server.url(), "pruned"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_retries_through_500s_429s_and_resets() {
    let server = serve(Faults {
        seed: 3,
        http_500: 0.25,
        http_429: 0.10,
        reset: 0.10,
        ..Faults::default()
    })
    .await;
    let (client, metrics) = make_client(
        vec![server.url()],
        quick_retries(12),
        Duration::from_secs(5),
    );
    for height in FIRST..FIRST + 60 {
        let fetched = client.fetch_block(height).await.unwrap();
        assert_eq!(fetched.block.height(), height);
    }
    let mut errors = 0;
    for kind in ["http_5xx", "http_429", "transport"] {
        let seen = metrics.rpc_errors(&server.url(), kind);
        assert!(
            seen > 0,
            "no {kind} fault was seen; the fault injection or the classification is broken"
        );
        errors += seen;
    }
    // Each block is two calls (block and results); every failed attempt was retried, and
    // every call ended in one attempt that succeeded.
    let (requests, retries) = metrics.rpc_attempts(&server.url());
    assert_eq!(retries, errors, "every failure is followed by one retry");
    assert_eq!(
        requests,
        2 * 60 + retries,
        "one first attempt per call, plus the retries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_rotates_a_dead_endpoint_out() {
    let server = serve(Faults::default()).await;
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let (client, metrics) = make_client(
        vec![dead.clone(), server.url()],
        quick_retries(6),
        Duration::from_secs(2),
    );
    let status = client.status().await.unwrap();
    assert_eq!(
        status.latest_height, LAST,
        "one live endpoint is enough for the status"
    );
    for height in FIRST..FIRST + 40 {
        client.fetch_block(height).await.unwrap();
    }
    let dead_errors = metrics.rpc_errors(&dead, "transport");
    assert!(
        dead_errors <= 8,
        "the dead endpoint was tried {dead_errors} times; it should have been rotated out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_gives_up_within_bounds_on_stalls_and_missing_blocks() {
    let server = serve(Faults {
        stall: 1.0,
        stall_for: Duration::from_secs(2),
        ..Faults::default()
    })
    .await;
    let (client, metrics) = make_client(
        vec![server.url()],
        quick_retries(3),
        Duration::from_millis(200),
    );
    let started = Instant::now();
    let error = client.block(FIRST).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "3 attempts of 200 ms must stop early"
    );
    assert!(
        !error.is_unservable_height(),
        "a node that never answers is not a missing block"
    );
    match error {
        RpcError::GaveUp { attempts, last, .. } => {
            assert_eq!(attempts, 3);
            assert_eq!(last.kind, FailureKind::Timeout);
        }
        other => panic!("expected a give-up, got {other:?}"),
    }
    assert_eq!(metrics.rpc_errors(&server.url(), "timeout"), 3);

    let missing = serve(Faults {
        missing_heights: [FIRST + 3].into_iter().collect(),
        ..Faults::default()
    })
    .await;
    let (client, _) = make_client(
        vec![missing.url()],
        quick_retries(3),
        Duration::from_secs(2),
    );
    let error = client.fetch_block(FIRST + 3).await.unwrap_err();
    assert!(error.is_unservable_height(), "{error}");
    client.fetch_block(FIRST + 4).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_refuses_a_node_of_another_chain() {
    let server = serve(Faults::default()).await;
    let metrics = IndexerMetrics::register(&prometheus::Registry::new()).unwrap();
    let client = RpcClient::new(
        RpcOptions {
            urls: vec![server.url()],
            chain_id: "sandbox-01".into(),
            request_timeout: Duration::from_secs(2),
            in_flight_per_endpoint: 2,
            retry: quick_retries(2),
            bench_for: Duration::from_secs(1),
            cometbft_038_height: None,
        },
        metrics,
    )
    .unwrap();
    match client.status().await {
        Err(RpcError::WrongChain {
            found, expected, ..
        }) => {
            assert_eq!(
                (found.as_str(), expected.as_str()),
                ("akashnet-2", "sandbox-01")
            );
        }
        other => panic!("expected a wrong-chain error, got {other:?}"),
    }
}
