//! Hostile input: each kind of bad data becomes a reason-coded rejection, stored with the block,
//! and everything else in the block is still decoded and applied.

use diesel::prelude::*;
use indexer::decode::chain_json::CometVersion;
use indexer::decode::messages::base::{Attribute, Cpu, Gpu, Memory, ResourceValue, Resources};
use indexer::decode::messages::cosmos::{Any, MsgExec};
use indexer::decode::messages::deployment::v1beta3 as deployment;
use indexer::decode::messages::market::v1beta4 as market;
use indexer::decode::messages::provider::{self, MsgProvider};
use indexer::decode::messages::{base::DecCoin, dec_to_wire};
use indexer::decode::{
    apply_block, decode_block, tx_hash, DecodeOptions, DecodedBlock, Fact, RejectionReason,
    MAX_EXEC_DEPTH,
};
use indexer::testing::{encode_tx, TestChain, TestTx};
use store::schema::{blocks, indexer_rejections, leases, providers};
use store::{Store, StoreError};

const OWNER: &str = "akash1tenant";
const PROVIDER: &str = "akash1provider";

fn create_provider(owner: &str) -> Any {
    Any::pack(
        provider::v1beta3::MSG_CREATE_PROVIDER,
        &MsgProvider {
            owner: owner.into(),
            host_uri: "https://provider.example.org:8443".into(),
            attributes: vec![Attribute {
                key: "capabilities/gpu/vendor/nvidia/model/h100/ram/80Gi".into(),
                value: "true".into(),
            }],
            info: None,
        },
    )
}

fn create_deployment(dseq: u64, gpu_units: &str) -> Any {
    let resources = Resources {
        id: 1,
        cpu: Some(Cpu {
            units: Some(ResourceValue::from_u64(1000)),
            attributes: vec![],
        }),
        memory: Some(Memory {
            quantity: Some(ResourceValue::from_u64(1 << 30)),
            attributes: vec![],
        }),
        storage: vec![],
        gpu: Some(Gpu {
            units: Some(ResourceValue {
                val: gpu_units.as_bytes().to_vec(),
            }),
            attributes: vec![Attribute {
                key: "vendor/nvidia/model/h100".into(),
                value: "true".into(),
            }],
        }),
        endpoints: vec![],
    };
    Any::pack(
        deployment::MSG_CREATE_DEPLOYMENT,
        &deployment::MsgCreateDeployment {
            id: Some(deployment::DeploymentId {
                owner: OWNER.into(),
                dseq,
            }),
            groups: vec![deployment::GroupSpec {
                name: "dcloud".into(),
                requirements: None,
                resources: vec![deployment::ResourceUnit {
                    resource: Some(resources),
                    count: 2,
                    price: None,
                }],
            }],
            version: vec![],
            deposit: None,
            depositor: OWNER.into(),
        },
    )
}

fn bid_id(dseq: u64) -> market::BidId {
    market::BidId {
        owner: OWNER.into(),
        dseq,
        gseq: 1,
        oseq: 1,
        provider: PROVIDER.into(),
    }
}

fn create_bid(dseq: u64) -> Any {
    Any::pack(
        market::MSG_CREATE_BID,
        &market::MsgCreateBid {
            order: Some(market::OrderId {
                owner: OWNER.into(),
                dseq,
                gseq: 1,
                oseq: 1,
            }),
            provider: PROVIDER.into(),
            price: Some(DecCoin {
                denom: "uakt".into(),
                amount: dec_to_wire("12.5").unwrap(),
            }),
            deposit: None,
            resources_offer: vec![],
        },
    )
}

fn create_lease(dseq: u64) -> Any {
    Any::pack(
        market::MSG_CREATE_LEASE,
        &market::MsgCreateLease {
            id: Some(bid_id(dseq)),
        },
    )
}

fn decode(chain: &TestChain) -> Vec<DecodedBlock> {
    let options = DecodeOptions::default();
    chain
        .blocks
        .iter()
        .map(|(block, results)| decode_block(block, results, chain.comet(), &options))
        .collect()
}

fn apply(store: &mut Store, blocks: &[DecodedBlock]) {
    store
        .transaction(|conn| {
            for block in blocks {
                apply_block(conn, block).map_err(|e| StoreError::Migration(e.to_string()))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

fn reasons(block: &DecodedBlock) -> Vec<(i32, RejectionReason)> {
    block
        .rejections
        .iter()
        .map(|r| (r.tx_index, r.reason))
        .collect()
}

fn stored_rejections(store: &mut Store) -> Vec<(i64, i32, Option<String>, String)> {
    indexer_rejections::table
        .order((
            indexer_rejections::height,
            indexer_rejections::tx_index,
            indexer_rejections::seq,
        ))
        .select((
            indexer_rejections::height,
            indexer_rejections::tx_index,
            indexer_rejections::tx_hash,
            indexer_rejections::reason,
        ))
        .load(store.conn())
        .unwrap()
}

fn provider_exists(store: &mut Store, owner: &str) -> bool {
    providers::table
        .filter(providers::owner.eq(owner))
        .count()
        .get_result::<i64>(store.conn())
        .unwrap()
        == 1
}

/// Garbage bytes, a truncated transaction and text that is not base64 are each recorded with the
/// height, index and (where there are bytes) hash; the good transaction after them is applied.
fn undecodable_transactions_are_recorded(store: &mut Store) {
    let good = encode_tx(&[create_provider("akash1good")]);
    let garbage = b"\xff\xfe this is not a protobuf transaction".to_vec();
    let truncated = good[..good.len() / 2].to_vec();
    let mut chain = TestChain::new(CometVersion::V034, 100);
    let not_base64 = TestTx {
        text: "%%% not base64 %%%".into(),
        ..TestTx::bytes(&[])
    };
    let height = chain.push(vec![
        TestTx::bytes(&garbage),
        TestTx::bytes(&truncated),
        not_base64,
        TestTx::bytes(&good),
    ]);
    let blocks = decode(&chain);
    assert_eq!(
        reasons(&blocks[0]),
        [
            (0, RejectionReason::UndecodableTx),
            (1, RejectionReason::UndecodableTx),
            (2, RejectionReason::UndecodableTx),
        ]
    );
    apply(store, &blocks);
    assert!(
        provider_exists(store, "akash1good"),
        "the good transaction is applied"
    );
    let stored = stored_rejections(store);
    let expected_hashes = [Some(tx_hash(&garbage)), Some(tx_hash(&truncated)), None];
    assert_eq!(stored.len(), 3);
    for ((h, tx_index, hash, reason), (index, expected)) in
        stored.iter().zip((0..).zip(expected_hashes))
    {
        assert_eq!(
            (*h, *tx_index, hash, reason.as_str()),
            (height as i64, index, &expected, "undecodable_tx")
        );
    }
}

/// A transaction of empty bytes (which protobuf would read as a `TxRaw` without messages) is
/// recorded as `empty_tx` with its hash, even when its result reports events; the transaction
/// after it still applies.
fn empty_transactions_are_recorded_not_skipped(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V034, 100);
    let empty = TestTx::bytes(&[]).raw_event(serde_json::json!({
        "type": "message",
        "attributes": [{"key": "YWN0aW9u", "value": "c2VuZA==", "index": true}]
    }));
    let height = chain.push(vec![
        empty,
        TestTx::ok(&[create_provider("akash1afterempty")]),
    ]);
    let blocks = decode(&chain);
    assert_eq!(reasons(&blocks[0]), [(0, RejectionReason::EmptyTx)]);
    apply(store, &blocks);
    assert!(provider_exists(store, "akash1afterempty"));
    let stored = stored_rejections(store);
    assert_eq!(stored.len(), 1);
    let (h, tx_index, hash, reason) = &stored[0];
    assert_eq!(
        (*h, *tx_index, hash, reason.as_str()),
        (height as i64, 0, &Some(tx_hash(&[])), "empty_tx")
    );
}

/// An unknown type URL is counted per URL and recorded; the known message beside it applies.
/// Out-of-scope modules (staking) are only counted as ignored.
fn unknown_type_urls_are_counted_and_recorded(store: &mut Store) {
    let unknown = Any {
        type_url: "/akash.market.v9.MsgFutureThing".into(),
        value: vec![1, 2, 3],
    };
    let staking = Any {
        type_url: "/cosmos.staking.v1beta1.MsgDelegate".into(),
        value: vec![],
    };
    let mut chain = TestChain::new(CometVersion::V038, 100);
    chain.push(vec![TestTx::ok(&[
        unknown.clone(),
        staking,
        create_provider("akash1p"),
        unknown,
    ])]);
    let blocks = decode(&chain);
    let block = &blocks[0];
    assert_eq!(
        block
            .unknown_messages
            .get("/akash.market.v9.MsgFutureThing"),
        Some(&2)
    );
    assert_eq!(
        block
            .ignored_messages
            .get("/cosmos.staking.v1beta1.MsgDelegate"),
        Some(&1)
    );
    assert_eq!(
        reasons(block),
        [
            (0, RejectionReason::UnknownTypeUrl),
            (0, RejectionReason::UnknownTypeUrl)
        ]
    );
    assert_eq!(
        block.rejections[0].type_url.as_deref(),
        Some("/akash.market.v9.MsgFutureThing")
    );
    apply(store, &blocks);
    assert!(provider_exists(store, "akash1p"));
    assert_eq!(stored_rejections(store).len(), 2);
}

/// A GPU count of 18446744073709551615 rejects that deployment as absurd; the other deployment in
/// the block is recorded, and a lease on the rejected one gets unknown GPUs, not a huge number.
fn absurd_gpu_counts_are_rejected(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V034, 100);
    chain.push(vec![
        TestTx::ok(&[create_deployment(1, "18446744073709551615")]),
        TestTx::ok(&[create_deployment(2, "4")]),
    ]);
    chain.push(vec![TestTx::ok(&[create_bid(1), create_bid(2)])]);
    chain.push(vec![TestTx::ok(&[create_lease(1), create_lease(2)])]);
    let blocks = decode(&chain);
    assert_eq!(reasons(&blocks[0]), [(0, RejectionReason::AbsurdValue)]);
    assert_eq!(
        blocks[0].rejections[0].type_url.as_deref(),
        Some(deployment::MSG_CREATE_DEPLOYMENT)
    );
    apply(store, &blocks);
    let gpus: Vec<(i64, Option<i64>, Option<String>)> = leases::table
        .order(leases::dseq)
        .select((leases::dseq, leases::gpu_units, leases::gpu_model))
        .load(store.conn())
        .unwrap();
    assert_eq!(gpus, [(1, None, None), (2, Some(8), Some("h100".into()))]);
}

/// A malformed attribute in an Akash event (bad base64 under 0.34, bad JSON under 0.38) records
/// the event as malformed; the transaction's messages still apply.
fn malformed_event_attributes_are_recorded(store: &mut Store) {
    for comet in [CometVersion::V034, CometVersion::V038] {
        let mut chain = TestChain::new(comet, 100 + 10 * comet as u64);
        let event = match comet {
            CometVersion::V034 => serde_json::json!({"type": "akash.v1", "attributes": [
                {"key": "bW9kdWxl", "value": "bWFya2V0"},
                {"key": "YWN0aW9u", "value": "@@@ not base64 @@@"},
            ]}),
            CometVersion::V038 => {
                serde_json::json!({"type": "akash.market.v1.EventLeaseClosed", "attributes": [
                    {"key": "id", "value": "{\"owner\": \"akash1"},
                    {"key": "msg_index", "value": "0"},
                ]})
            }
        };
        let owner = format!("akash1p{}", comet as u8);
        chain.push(vec![TestTx::ok(&[create_provider(&owner)]).raw_event(event)]);
        let blocks = decode(&chain);
        assert_eq!(
            reasons(&blocks[0]),
            [(0, RejectionReason::MalformedEvent)],
            "{comet:?}"
        );
        apply(store, &blocks);
        assert!(provider_exists(store, &owner), "{comet:?}");
    }
    assert_eq!(stored_rejections(store).len(), 2);
}

/// When a block has more or fewer results than transactions, no transaction can be paired with
/// its result: none is applied, each is recorded, and the block itself is still stored.
fn result_count_mismatches_apply_no_transaction(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V034, 100);
    let txs = vec![
        TestTx::ok(&[create_provider("akash1a")]),
        TestTx::ok(&[create_provider("akash1b")]),
    ];
    let one_result = vec![chain.result_json(&txs[0])];
    chain.push_with_results(&txs, one_result);
    let blocks = decode(&chain);
    assert!(blocks[0].facts.is_empty());
    assert_eq!(
        reasons(&blocks[0]),
        [
            (0, RejectionReason::TxResultCountMismatch),
            (1, RejectionReason::TxResultCountMismatch),
        ]
    );
    apply(store, &blocks);
    assert!(!provider_exists(store, "akash1a"));
    let stored_blocks: i64 = blocks::table.count().get_result(store.conn()).unwrap();
    assert_eq!(stored_blocks, 1);
    assert_eq!(stored_rejections(store).len(), 2);
}

/// Failed transactions change nothing but are counted; `MsgExec` nested past the bound is
/// rejected while shallower wrapping is unwrapped.
fn failed_and_deeply_wrapped_transactions(store: &mut Store) {
    let mut wrapped = create_provider("akash1wrapped");
    for _ in 0..MAX_EXEC_DEPTH {
        wrapped = Any::pack(
            "/cosmos.authz.v1beta1.MsgExec",
            &MsgExec {
                grantee: "akash1grantee".into(),
                msgs: vec![wrapped],
            },
        );
    }
    let too_deep = Any::pack(
        "/cosmos.authz.v1beta1.MsgExec",
        &MsgExec {
            grantee: "akash1grantee".into(),
            msgs: vec![wrapped.clone()],
        },
    );
    let mut chain = TestChain::new(CometVersion::V038, 100);
    chain.push(vec![
        TestTx::ok(&[create_provider("akash1failed")]).code(11),
        TestTx::ok(&[wrapped]),
        TestTx::ok(&[too_deep]),
    ]);
    let blocks = decode(&chain);
    assert_eq!(blocks[0].failed_tx_count, 1);
    assert_eq!(reasons(&blocks[0]), [(2, RejectionReason::ExecTooDeep)]);
    assert!(matches!(
        &blocks[0].facts[..],
        [f] if matches!(&f.fact, Fact::ProviderCreated(p) if p.owner == "akash1wrapped")
    ));
    apply(store, &blocks);
    assert!(!provider_exists(store, "akash1failed"));
    assert!(provider_exists(store, "akash1wrapped"));
}

store::on_both_backends!(
    undecodable_transactions_are_recorded,
    empty_transactions_are_recorded_not_skipped,
    unknown_type_urls_are_counted_and_recorded,
    absurd_gpu_counts_are_rejected,
    malformed_event_attributes_are_recorded,
    result_count_mismatches_apply_no_transaction,
    failed_and_deeply_wrapped_transactions,
);
