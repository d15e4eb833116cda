//! How facts combine in the store: who closed a lease and why, provider history by height, GPU
//! models resolved against that history, and transfers of watched wallets.

use indexer::decode::chain_json::CometVersion;
use indexer::decode::messages::base::{
    Attribute, Coin, Cpu, DecCoin, Gpu, Memory, ResourceValue, Resources,
};
use indexer::decode::messages::cosmos::{self, Any, MsgExec, MsgMultiSend, MsgSend, MultiSendLeg};
use indexer::decode::messages::deployment::{v1beta3 as d3, v1beta4 as d4};
use indexer::decode::messages::market::{v1 as m1, v1beta4 as m4, v1beta5 as m5};
use indexer::decode::messages::{dec_to_wire, provider};
use indexer::decode::{apply_block, decode_block, DecodeOptions, DecodedBlock, RejectionReason};
use indexer::testing::{TestChain, TestTx};
use store::chain::{leases, provider_attributes_at, provider_last_attributes, transfers, LeaseRow};
use store::{Store, StoreError};

const OWNER: &str = "akash1tenant";
const PROVIDER: &str = "akash1provider";
const WALLET: &str = "akash1programme";

fn resources(gpu_keys: &[&str]) -> Resources {
    Resources {
        id: 1,
        cpu: Some(Cpu {
            units: Some(ResourceValue::from_u64(2000)),
            attributes: vec![],
        }),
        memory: Some(Memory {
            quantity: Some(ResourceValue::from_u64(1 << 32)),
            attributes: vec![],
        }),
        storage: vec![],
        gpu: Some(Gpu {
            units: Some(ResourceValue::from_u64(1)),
            attributes: gpu_keys
                .iter()
                .map(|k| Attribute {
                    key: (*k).into(),
                    value: "true".into(),
                })
                .collect(),
        }),
        endpoints: vec![],
    }
}

/// Group specs with one GPU per replica, `count` replicas, accepting `gpu_keys` in each group.
fn groups(gpu_keys: &[&[&str]], count: u32) -> Vec<d3::GroupSpec> {
    gpu_keys
        .iter()
        .map(|keys| d3::GroupSpec {
            name: "dcloud".into(),
            requirements: None,
            resources: vec![d3::ResourceUnit {
                resource: Some(resources(keys)),
                count,
                price: None,
            }],
        })
        .collect()
}

fn price() -> DecCoin {
    DecCoin {
        denom: "uakt".into(),
        amount: dec_to_wire("100").unwrap(),
    }
}

// ----- era A: deployment v1beta3, market v1beta4 -----

fn deployment_a(dseq: u64, gpu_keys: &[&[&str]]) -> Any {
    Any::pack(
        d3::MSG_CREATE_DEPLOYMENT,
        &d3::MsgCreateDeployment {
            id: Some(d3::DeploymentId {
                owner: OWNER.into(),
                dseq,
            }),
            groups: groups(gpu_keys, 2),
            version: vec![],
            deposit: None,
            depositor: String::new(),
        },
    )
}

fn bid_id_a(dseq: u64, gseq: u32) -> m4::BidId {
    m4::BidId {
        owner: OWNER.into(),
        dseq,
        gseq,
        oseq: 1,
        provider: PROVIDER.into(),
    }
}

fn bid_a(dseq: u64, gseq: u32) -> Any {
    Any::pack(
        m4::MSG_CREATE_BID,
        &m4::MsgCreateBid {
            order: Some(m4::OrderId {
                owner: OWNER.into(),
                dseq,
                gseq,
                oseq: 1,
            }),
            provider: PROVIDER.into(),
            price: Some(price()),
            deposit: None,
            resources_offer: vec![],
        },
    )
}

fn lease_a(dseq: u64, gseq: u32) -> Any {
    Any::pack(
        m4::MSG_CREATE_LEASE,
        &m4::MsgBidRef {
            id: Some(bid_id_a(dseq, gseq)),
        },
    )
}

fn close_lease_a(dseq: u64, gseq: u32) -> Any {
    Any::pack(
        m4::MSG_CLOSE_LEASE,
        &m4::MsgBidRef {
            id: Some(bid_id_a(dseq, gseq)),
        },
    )
}

fn close_group_a(dseq: u64, gseq: u32) -> Any {
    Any::pack(
        d3::MSG_CLOSE_GROUP,
        &d3::MsgGroup {
            id: Some(d3::GroupId {
                owner: OWNER.into(),
                dseq,
                gseq,
            }),
        },
    )
}

fn close_deployment_a(dseq: u64) -> Any {
    Any::pack(
        d3::MSG_CLOSE_DEPLOYMENT,
        &d3::MsgCloseDeployment {
            id: Some(d3::DeploymentId {
                owner: OWNER.into(),
                dseq,
            }),
        },
    )
}

fn withdraw_a(dseq: u64, gseq: u32) -> Any {
    Any::pack(
        m4::MSG_WITHDRAW_LEASE,
        &m4::MsgBidRef {
            id: Some(bid_id_a(dseq, gseq)),
        },
    )
}

/// An era A `lease-closed` event.
fn lease_closed_a(tx: TestTx, dseq: u64, gseq: u32) -> TestTx {
    let (dseq, gseq) = (dseq.to_string(), gseq.to_string());
    tx.event(
        "akash.v1",
        &[
            ("module", "market"),
            ("action", "lease-closed"),
            ("owner", OWNER),
            ("dseq", &dseq),
            ("gseq", &gseq),
            ("oseq", "1"),
            ("provider", PROVIDER),
        ],
    )
}

// ----- era B: deployment v1beta4, market v1beta5 -----

fn deployment_b(dseq: u64, gpu_keys: &[&[&str]]) -> Any {
    Any::pack(
        d4::MSG_CREATE_DEPLOYMENT,
        &d4::MsgCreateDeployment {
            id: Some(d4::DeploymentId {
                owner: OWNER.into(),
                dseq,
            }),
            groups: groups(gpu_keys, 1),
            hash: vec![],
            deposit: None,
        },
    )
}

fn bid_id_b(dseq: u64, gseq: u32) -> m1::BidId {
    m1::BidId {
        owner: OWNER.into(),
        dseq,
        gseq,
        oseq: 1,
        provider: PROVIDER.into(),
        bseq: 2,
    }
}

fn bid_b(dseq: u64, gseq: u32) -> Any {
    Any::pack(
        m5::MSG_CREATE_BID,
        &m5::MsgCreateBid {
            id: Some(bid_id_b(dseq, gseq)),
            price: Some(price()),
            deposit: None,
            resources_offer: vec![],
        },
    )
}

fn lease_b(dseq: u64, gseq: u32) -> Any {
    Any::pack(
        m5::MSG_CREATE_LEASE,
        &m5::MsgBidRef {
            id: Some(bid_id_b(dseq, gseq)),
            reason: 0,
        },
    )
}

fn close_deployment_b(dseq: u64) -> Any {
    Any::pack(
        d4::MSG_CLOSE_DEPLOYMENT,
        &d4::MsgCloseDeployment {
            id: Some(d4::DeploymentId {
                owner: OWNER.into(),
                dseq,
            }),
        },
    )
}

/// An era B `EventLeaseClosed` of message 0 with `reason` (proto-JSON).
fn lease_closed_b(tx: TestTx, dseq: u64, gseq: u32, reason: &str) -> TestTx {
    let id = format!(
        r#"{{"owner":"{OWNER}","dseq":"{dseq}","gseq":{gseq},"oseq":1,"provider":"{PROVIDER}","bseq":2}}"#
    );
    let reason = format!("\"{reason}\"");
    tx.event(
        "akash.market.v1.EventLeaseClosed",
        &[("id", &id), ("reason", &reason), ("msg_index", "0")],
    )
}

// ----- running -----

fn decode(chain: &TestChain) -> Vec<DecodedBlock> {
    let options = DecodeOptions::watching([WALLET.to_string()]);
    chain
        .blocks
        .iter()
        .map(|(block, results)| decode_block(block, results, chain.comet(), &options))
        .collect()
}

fn apply(store: &mut Store, chain: &TestChain) -> Vec<DecodedBlock> {
    let blocks = decode(chain);
    store
        .transaction(|conn| {
            for block in &blocks {
                apply_block(conn, block).map_err(|e| StoreError::Migration(e.to_string()))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    blocks
}

/// (dseq, gseq, closed_height, close_cause, close_reason) of one lease.
type Close = (i64, i32, Option<i64>, Option<String>, Option<String>);

/// The close of every lease, by id.
fn closes(store: &mut Store) -> Vec<Close> {
    leases(store.conn())
        .unwrap()
        .into_iter()
        .map(|l: LeaseRow| {
            (
                l.id.dseq,
                l.id.gseq,
                l.closed_height,
                l.close_cause,
                l.close_reason,
            )
        })
        .collect()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}

/// A close message wins: the lease-closed event in its own transaction adds nothing, and a
/// later stray event for the same lease neither closes it again nor changes its cause.
fn a_later_event_never_overwrites_a_close(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V034, 10);
    chain.push(vec![TestTx::ok(&[deployment_a(
        1,
        &[&["vendor/nvidia/model/h100"]],
    )])]);
    chain.push(vec![TestTx::ok(&[bid_a(1, 1)])]);
    chain.push(vec![TestTx::ok(&[lease_a(1, 1)])]);
    let closed_at = chain.push(vec![lease_closed_a(
        TestTx::ok(&[close_lease_a(1, 1)]),
        1,
        1,
    )]);
    chain.push(vec![lease_closed_a(TestTx::ok(&[withdraw_a(1, 1)]), 1, 1)]);
    apply(store, &chain);
    assert_eq!(
        closes(store),
        [(1, 1, Some(closed_at as i64), s("owner"), None)]
    );
    let lease = &leases(store.conn()).unwrap()[0];
    assert_eq!(
        lease.closed_time.as_deref(),
        Some(TestChain::time_of(closed_at).as_str())
    );
    assert_eq!(
        (lease.gpu_units, lease.gpu_model.as_deref()),
        (Some(2), Some("h100"))
    );
    assert_eq!(lease.price_amount.as_str(), "100.000000000000000000");
}

/// Era A: a lease-closed event with no close message is the chain's escrow overdraft.
fn an_unexplained_era_a_close_is_insufficient_funds(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V034, 10);
    chain.push(vec![TestTx::ok(&[deployment_a(
        1,
        &[&["vendor/nvidia/model/h100"]],
    )])]);
    chain.push(vec![
        TestTx::ok(&[bid_a(1, 1)]),
        TestTx::ok(&[lease_a(1, 1)]),
    ]);
    let closed_at = chain.push(vec![lease_closed_a(TestTx::ok(&[withdraw_a(1, 1)]), 1, 1)]);
    apply(store, &chain);
    assert_eq!(
        closes(store),
        [(1, 1, Some(closed_at as i64), s("insufficient_funds"), None)]
    );
}

/// Closing a group closes its leases only; closing the deployment closes the rest. Neither needs
/// events: the messages alone close every open lease they cover.
fn group_and_deployment_closes_cover_their_leases(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V034, 10);
    let keys: &[&str] = &["vendor/nvidia/model/a100"];
    chain.push(vec![TestTx::ok(&[
        deployment_a(1, &[keys, keys]),
        deployment_a(2, &[keys]),
    ])]);
    chain.push(vec![TestTx::ok(&[bid_a(1, 1), bid_a(1, 2), bid_a(2, 1)])]);
    chain.push(vec![TestTx::ok(&[
        lease_a(1, 1),
        lease_a(1, 2),
        lease_a(2, 1),
    ])]);
    let group_closed = chain.push(vec![TestTx::ok(&[close_group_a(1, 1)])]) as i64;
    let deployment_closed = chain.push(vec![TestTx::ok(&[close_deployment_a(1)])]) as i64;
    apply(store, &chain);
    assert_eq!(
        closes(store),
        [
            (1, 1, Some(group_closed), s("deployment_closed"), None),
            (1, 2, Some(deployment_closed), s("deployment_closed"), None),
            (2, 1, None, None, None),
        ]
    );
}

/// Era B: a deployment close names each lease's reason through its event; an overdraft found
/// while settling is the chain's doing (`insufficient_funds`), not the tenant's.
fn era_b_deployment_closes_keep_the_chains_reasons(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V038, 10);
    let keys: &[&str] = &["vendor/nvidia/model/h200"];
    chain.push(vec![TestTx::ok(&[deployment_b(7, &[keys, keys])])]);
    chain.push(vec![TestTx::ok(&[bid_b(7, 1), bid_b(7, 2)])]);
    chain.push(vec![TestTx::ok(&[lease_b(7, 1), lease_b(7, 2)])]);
    let tx = TestTx::ok(&[close_deployment_b(7)]);
    let tx = lease_closed_b(tx, 7, 1, "lease_closed_reason_insufficient_funds");
    let tx = lease_closed_b(tx, 7, 2, "lease_closed_owner");
    let at = chain.push(vec![tx]) as i64;
    apply(store, &chain);
    assert_eq!(
        closes(store),
        [
            (
                7,
                1,
                Some(at),
                s("insufficient_funds"),
                s("lease_closed_reason_insufficient_funds")
            ),
            (
                7,
                2,
                Some(at),
                s("deployment_closed"),
                s("lease_closed_owner")
            ),
        ]
    );
    let lease = &leases(store.conn()).unwrap()[0];
    assert_eq!((lease.id.bseq, lease.gpu_units), (2, Some(1)));
}

/// Era B closes with no message take their cause from the reason's range; a reason the indexer
/// does not know closes the lease with no cause and is recorded.
fn era_b_event_only_closes_follow_the_reason(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V038, 10);
    let keys: &[&str] = &["vendor/nvidia/model/h200"];
    chain.push(vec![TestTx::ok(&[deployment_b(7, &[keys, keys])])]);
    chain.push(vec![TestTx::ok(&[bid_b(7, 1), bid_b(7, 2)])]);
    chain.push(vec![TestTx::ok(&[lease_b(7, 1), lease_b(7, 2)])]);
    let withdraw = |gseq| {
        Any::pack(
            m5::MSG_WITHDRAW_LEASE,
            &m5::MsgBidRef {
                id: Some(bid_id_b(7, gseq)),
                reason: 0,
            },
        )
    };
    let tx = lease_closed_b(
        TestTx::ok(&[withdraw(1)]),
        7,
        1,
        "lease_closed_reason_unspecified",
    );
    let future = lease_closed_b(
        TestTx::ok(&[withdraw(2)]),
        7,
        2,
        "lease_closed_reason_reclaimed",
    );
    let at = chain.push(vec![tx, future]) as i64;
    let blocks = apply(store, &chain);
    assert_eq!(
        closes(store),
        [
            (
                7,
                1,
                Some(at),
                s("provider"),
                s("lease_closed_reason_unspecified")
            ),
            (7, 2, Some(at), None, s("lease_closed_reason_reclaimed")),
        ]
    );
    let last = blocks.last().unwrap();
    assert_eq!(last.rejections.len(), 1);
    assert_eq!(
        last.rejections[0].reason,
        RejectionReason::UnknownCloseReason
    );
}

/// A lease on a bid the index never saw, with no lease-created event to give its price, cannot be
/// recorded truthfully: it is left out and the reason is stored with the block.
fn a_lease_of_unknown_price_is_recorded_as_rejected(store: &mut Store) {
    let mut chain = TestChain::new(CometVersion::V034, 10);
    chain.push(vec![TestTx::ok(&[lease_a(1, 1)])]);
    let blocks = decode(&chain);
    let summary = store
        .transaction(|conn| {
            apply_block(conn, &blocks[0]).map_err(|e| StoreError::Migration(e.to_string()))
        })
        .unwrap();
    assert_eq!(
        summary.apply_rejections,
        [RejectionReason::LeasePriceUnknown]
    );
    assert_eq!(summary.rejections, 1);
    assert!(leases(store.conn()).unwrap().is_empty());
    use diesel::prelude::*;
    use store::schema::indexer_rejections;
    let reasons: Vec<String> = indexer_rejections::table
        .select(indexer_rejections::reason)
        .load(store.conn())
        .unwrap();
    assert_eq!(reasons, ["lease_price_unknown"]);
}

fn provider_msg(type_url: &str, gpu_keys: &[&str], region: &str) -> Any {
    let mut attributes: Vec<Attribute> = gpu_keys
        .iter()
        .map(|k| Attribute {
            key: (*k).into(),
            value: "true".into(),
        })
        .collect();
    attributes.push(Attribute {
        key: "region".into(),
        value: region.into(),
    });
    Any::pack(
        type_url,
        &provider::MsgProvider {
            owner: PROVIDER.into(),
            host_uri: "https://p.example.org:8443".into(),
            attributes,
            info: Some(provider::ProviderInfo {
                email: "ops@example.org".into(),
                website: String::new(),
            }),
        },
    )
}

/// The provider's attributes are kept by height, so "what did it advertise at H" has an answer,
/// and a lease whose group accepts any model gets the model advertised at the lease's height.
fn provider_history_decides_wildcard_leases(store: &mut Store) {
    let h100 = "capabilities/gpu/vendor/nvidia/model/h100/ram/80Gi";
    let a100 = "capabilities/gpu/vendor/nvidia/model/a100/ram/40Gi";
    let mut chain = TestChain::new(CometVersion::V034, 10);
    let created = chain.push(vec![TestTx::ok(&[provider_msg(
        provider::v1beta3::MSG_CREATE_PROVIDER,
        &[h100],
        "eu",
    )])]) as i64;
    let any: &[&str] = &["vendor/nvidia/model/*"];
    chain.push(vec![TestTx::ok(&[
        deployment_a(1, &[any]),
        deployment_a(2, &[any]),
    ])]);
    chain.push(vec![TestTx::ok(&[bid_a(1, 1), lease_a(1, 1)])]);
    let updated = chain.push(vec![TestTx::ok(&[provider_msg(
        provider::v1beta3::MSG_UPDATE_PROVIDER,
        &[a100],
        "us",
    )])]) as i64;
    chain.push(vec![TestTx::ok(&[bid_a(2, 1), lease_a(2, 1)])]);
    let delete = Any::pack(
        provider::v1beta3::MSG_DELETE_PROVIDER,
        &provider::MsgDeleteProvider {
            owner: PROVIDER.into(),
        },
    );
    let deleted = chain.push(vec![TestTx::ok(&[delete])]) as i64;
    apply(store, &chain);

    let at =
        |store: &mut Store, height| provider_attributes_at(store.conn(), PROVIDER, height).unwrap();
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(at(store, created - 1), []);
    assert_eq!(
        at(store, created),
        [pair(h100, "true"), pair("region", "eu")]
    );
    assert_eq!(
        at(store, updated - 1),
        [pair(h100, "true"), pair("region", "eu")]
    );
    assert_eq!(
        at(store, updated),
        [pair(a100, "true"), pair("region", "us")]
    );
    assert_eq!(at(store, deleted), []);
    let last: Vec<(String, String)> = provider_last_attributes(store.conn())
        .unwrap()
        .into_iter()
        .map(|(_, k, v)| (k, v))
        .collect();
    assert_eq!(last, [pair(a100, "true"), pair("region", "us")]);

    let models: Vec<(i64, Option<String>, Option<String>)> = leases(store.conn())
        .unwrap()
        .into_iter()
        .map(|l| (l.id.dseq, l.gpu_model, l.gpu_ram))
        .collect();
    assert_eq!(
        models,
        [(1, s("h100"), s("80Gi")), (2, s("a100"), s("40Gi"))]
    );
}

/// Transfers from and to the watched wallet are recorded leg by leg, also inside `MsgExec` and
/// `MsgMultiSend`; transfers between other accounts are not.
fn only_watched_transfers_are_recorded(store: &mut Store) {
    let coin = |amount: &str| Coin {
        denom: "uakt".into(),
        amount: amount.into(),
    };
    let send = |from: &str, to: &str, amounts: &[&str]| {
        Any::pack(
            cosmos::MSG_SEND,
            &MsgSend {
                from_address: from.into(),
                to_address: to.into(),
                amount: amounts.iter().map(|a| coin(a)).collect(),
            },
        )
    };
    let exec = Any::pack(
        cosmos::MSG_EXEC,
        &MsgExec {
            grantee: "akash1operator".into(),
            msgs: vec![send(WALLET, "akash1p2", &["7"])],
        },
    );
    let multi = Any::pack(
        cosmos::MSG_MULTI_SEND,
        &MsgMultiSend {
            inputs: vec![MultiSendLeg {
                address: WALLET.into(),
                coins: vec![coin("30")],
            }],
            outputs: vec![
                MultiSendLeg {
                    address: "akash1p3".into(),
                    coins: vec![coin("10")],
                },
                MultiSendLeg {
                    address: "akash1p4".into(),
                    coins: vec![coin("20")],
                },
            ],
        },
    );
    let mut chain = TestChain::new(CometVersion::V038, 10);
    let height = chain.push(vec![
        TestTx::ok(&[send(
            WALLET,
            "akash1p1",
            &["340282366920938463463374607431768211455", "5"],
        )]),
        TestTx::ok(&[
            send("akash1x", "akash1y", &["1"]),
            send("akash1funder", WALLET, &["900"]),
        ]),
        TestTx::ok(&[exec, multi]),
        TestTx::ok(&[send(WALLET, "akash1failed", &["1"])]).code(5),
    ]) as i64;
    apply(store, &chain);
    let recorded: Vec<(i64, i32, i32, i32, String, String, String)> = transfers(store.conn())
        .unwrap()
        .into_iter()
        .map(|t| {
            (
                t.height,
                t.tx_index,
                t.msg_index,
                t.leg,
                t.sender,
                t.recipient,
                t.amount.to_string(),
            )
        })
        .collect();
    let row = |tx, msg, leg, from: &str, to: &str, amount: &str| {
        (
            height,
            tx,
            msg,
            leg,
            from.to_string(),
            to.to_string(),
            amount.to_string(),
        )
    };
    assert_eq!(
        recorded,
        [
            row(
                0,
                0,
                0,
                WALLET,
                "akash1p1",
                "340282366920938463463374607431768211455"
            ),
            row(0, 0, 1, WALLET, "akash1p1", "5"),
            row(1, 1, 0, "akash1funder", WALLET, "900"),
            row(2, 1, 0, WALLET, "akash1p2", "7"),
            row(2, 2, 0, WALLET, "akash1p3", "10"),
            row(2, 2, 1, WALLET, "akash1p4", "20"),
        ]
    );
}

store::on_both_backends!(
    a_later_event_never_overwrites_a_close,
    an_unexplained_era_a_close_is_insufficient_funds,
    group_and_deployment_closes_cover_their_leases,
    era_b_deployment_closes_keep_the_chains_reasons,
    era_b_event_only_closes_follow_the_reason,
    provider_history_decides_wildcard_leases,
    only_watched_transfers_are_recorded,
    a_lease_of_unknown_price_is_recorded_as_rejected,
);
