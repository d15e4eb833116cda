//! A hostile chain: garbage and truncated transactions, an unknown type URL, a GPU count of
//! 18446744073709551615, a malformed event attribute and a block missing from the range. Each
//! is recorded as a reason-coded rejection, the run goes on, and everything else is still
//! exactly the truth.

mod support;

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use diesel::prelude::*;
use indexer::decode::messages::base::{Attribute, Gpu, ResourceValue, Resources};
use indexer::decode::messages::cosmos::{Any, MsgSend};
use indexer::decode::messages::deployment::v1beta3 as deployment;
use prost::Message as _;
use serde_json::{json, Value};
use simnet::chain::Faults;
use support::e2e::*;

const UNKNOWN_TYPE_URL: &str = "/akash.hostile.v1.MsgNobodyKnows";

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec(value).unwrap()).unwrap();
}

/// A transaction carrying `messages` (type URL, encoded message), base64 as in a block.
fn tx(messages: &[(&str, Vec<u8>)]) -> String {
    let messages: Vec<Any> = messages
        .iter()
        .map(|(type_url, value)| Any {
            type_url: type_url.to_string(),
            value: value.clone(),
        })
        .collect();
    BASE64.encode(indexer::testing::encode_tx(&messages))
}

fn result(events: Value) -> Value {
    json!({"code": 0, "data": "", "log": "[]", "info": "", "gas_wanted": "200000",
           "gas_used": "100000", "events": events, "codespace": ""})
}

/// The index of the first transaction of `results` whose `message` event has `action`.
fn tx_with_action(results: &Value, action: &str) -> Option<usize> {
    let wanted = BASE64.encode(action);
    results["txs_results"].as_array()?.iter().position(|tx| {
        tx["events"].as_array().into_iter().flatten().any(|event| {
            event["type"] == "message"
                && event["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|a| a["value"] == wanted.as_str())
        })
    })
}

/// Appends transactions (with their results) to the block at `height`.
fn append_txs(chain: &Path, height: u64, txs: Vec<(String, Value)>) {
    let block_path = chain.join(format!("block/{height}.json"));
    let results_path = chain.join(format!("block_results/{height}.json"));
    let mut block = read_json(&block_path);
    let mut results = read_json(&results_path);
    if block["block"]["data"]["txs"].is_null() {
        block["block"]["data"]["txs"] = json!([]);
    }
    if results["txs_results"].is_null() {
        results["txs_results"] = json!([]);
    }
    for (raw, result) in txs {
        block["block"]["data"]["txs"]
            .as_array_mut()
            .unwrap()
            .push(json!(raw));
        results["txs_results"].as_array_mut().unwrap().push(result);
    }
    write_json(&block_path, &block);
    write_json(&results_path, &results);
}

#[test]
fn hostile_inputs_are_recorded_and_the_run_goes_on() {
    let truth = truth("era-a-small");
    let first = truth["first_height"].as_u64().unwrap();
    let last = truth["last_height"].as_u64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("chain");
    for sub in ["block", "block_results"] {
        std::fs::create_dir_all(chain.join(sub)).unwrap();
        for entry in std::fs::read_dir(fixture("era-a-small").join(sub)).unwrap() {
            let entry = entry.unwrap();
            std::fs::write(
                chain.join(sub).join(entry.file_name()),
                std::fs::read(entry.path()).unwrap(),
            )
            .unwrap();
        }
    }
    std::fs::write(
        chain.join("status.json"),
        std::fs::read(fixture("era-a-small").join("status.json")).unwrap(),
    )
    .unwrap();

    // Blocks with staking traffic (irrelevant to the truth) and empty blocks to work on.
    let mut staking = Vec::new();
    let mut empty = Vec::new();
    for height in first + 10..last - 10 {
        let results = read_json(&chain.join(format!("block_results/{height}.json")));
        if let Some(index) = tx_with_action(&results, "/cosmos.staking.v1beta1.MsgDelegate") {
            staking.push((height, index));
        } else if results["txs_results"].as_array().is_none_or(Vec::is_empty) {
            empty.push(height);
        }
    }
    assert!(staking.len() >= 2 && empty.len() >= 3);

    // 1. Garbage transaction bytes.
    let (garbage_height, garbage_index) = staking[0];
    let path = chain.join(format!("block/{garbage_height}.json"));
    let mut block = read_json(&path);
    block["block"]["data"]["txs"][garbage_index] =
        json!(BASE64.encode(b"\xff\xfe\xfdnot a transaction"));
    write_json(&path, &block);

    // 2. A transaction cut in half.
    let (cut_height, cut_index) = staking[1];
    let path = chain.join(format!("block/{cut_height}.json"));
    let mut block = read_json(&path);
    let bytes = BASE64
        .decode(block["block"]["data"]["txs"][cut_index].as_str().unwrap())
        .unwrap();
    block["block"]["data"]["txs"][cut_index] = json!(BASE64.encode(&bytes[..bytes.len() / 2]));
    write_json(&path, &block);

    // 3 and 4. An unknown type URL and a deployment asking for 18446744073709551615 GPUs.
    let appended = empty[0];
    let absurd = deployment::MsgCreateDeployment {
        id: Some(deployment::DeploymentId {
            owner: "akash1hostiletenant".into(),
            dseq: appended,
        }),
        groups: vec![deployment::GroupSpec {
            name: "greedy".into(),
            requirements: None,
            resources: vec![deployment::ResourceUnit {
                resource: Some(Resources {
                    id: 1,
                    gpu: Some(Gpu {
                        units: Some(ResourceValue {
                            val: b"18446744073709551615".to_vec(),
                        }),
                        attributes: vec![Attribute {
                            key: "vendor/nvidia/model/h100".into(),
                            value: "true".into(),
                        }],
                    }),
                    ..Resources::default()
                }),
                count: 1,
                price: None,
            }],
        }],
        ..deployment::MsgCreateDeployment::default()
    };
    append_txs(
        &chain,
        appended,
        vec![
            (tx(&[(UNKNOWN_TYPE_URL, vec![1, 2, 3])]), result(json!([]))),
            (
                tx(&[(deployment::MSG_CREATE_DEPLOYMENT, absurd.encode_to_vec())]),
                result(json!([])),
            ),
        ],
    );

    // 5. A malformed event attribute (not base64 under CometBFT 0.34).
    let event_height = empty[1];
    let send = MsgSend {
        from_address: "akash1somebody".into(),
        to_address: "akash1somebodyelse".into(),
        amount: vec![],
    };
    append_txs(
        &chain,
        event_height,
        vec![(
            tx(&[(
                indexer::decode::messages::cosmos::MSG_SEND,
                send.encode_to_vec(),
            )]),
            result(json!([{"type": "akash.v1", "attributes": [
                {"key": BASE64.encode("module"), "value": BASE64.encode("market"), "index": true},
                {"key": BASE64.encode("action"), "value": "%%% not base64 %%%", "index": true}
            ]}])),
        )],
    );

    // 6. A block missing from the range.
    let missing = empty[2];
    std::fs::remove_file(chain.join(format!("block/{missing}.json"))).unwrap();
    std::fs::remove_file(chain.join(format!("block_results/{missing}.json"))).unwrap();

    let node = Node::start(&chain, Faults::default());
    let config = write_config(dir.path(), &ChainConfig::for_fixture(&node.url(), &truth));
    let database = dir.path().join("hostile.sqlite").display().to_string();
    let output = index(
        &config,
        &database,
        &["--retry-attempts", "3", "--retry-backoff-ms", "10"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("599 block(s) applied"), "{stdout}");
    assert!(
        stdout.contains("1 block(s) could not be fetched") && stdout.contains(&missing.to_string()),
        "{stdout}"
    );

    use store::schema::indexer_rejections as r;
    let url = store::DatabaseUrl::parse(&database).unwrap();
    let mut store = store::Store::open(&url).unwrap();
    let rejections: Vec<(i64, i32, String, Option<String>)> = r::table
        .select((r::height, r::tx_index, r::reason, r::type_url))
        .order((r::height, r::tx_index, r::seq))
        .load(store.conn())
        .unwrap();
    let has = |height: u64, index: i32, reason: &str| {
        rejections
            .iter()
            .any(|(h, i, why, _)| *h == height as i64 && *i == index && why == reason)
    };
    assert!(
        has(garbage_height, garbage_index as i32, "undecodable_tx"),
        "{rejections:?}"
    );
    assert!(
        has(cut_height, cut_index as i32, "undecodable_tx"),
        "{rejections:?}"
    );
    assert!(has(appended, 0, "unknown_type_url"), "{rejections:?}");
    assert!(
        rejections
            .iter()
            .any(|(_, _, why, url)| why == "unknown_type_url"
                && url.as_deref() == Some(UNKNOWN_TYPE_URL)),
        "{rejections:?}"
    );
    assert!(has(appended, 1, "absurd_value"), "{rejections:?}");
    assert!(has(event_height, 0, "malformed_event"), "{rejections:?}");
    assert!(has(missing, -1, "block_unavailable"), "{rejections:?}");
    drop(store);

    // Nothing else changed: every provider, lease and payout is still the truth.
    assert_matches_truth(&truth, &database);
}
