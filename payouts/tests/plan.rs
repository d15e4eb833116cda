//! `payouts::plan` on a sealed programme in a real store (SQLite and PostgreSQL): the plan pays
//! exactly the positive claimable amounts, never a provider twice nor beyond what vested,
//! splits by `max_msgs`, and its transaction JSON decodes with cosmrs into the same messages.

mod common;

use std::str::FromStr;

use common::*;
use cosmrs::bank::{MsgMultiSend, MultiSendIo};
use cosmrs::proto::cosmos::tx::v1beta1::TxBody;
use cosmrs::proto::prost::Message as _;
use cosmrs::tx::Msg as _;
use cosmrs::{AccountId, Coin, Denom};
use domain::BaseUnits;
use payouts::plan::{plan, write_plan_csv, Plan, PlanScope};
use payouts::tx::{Fee, UnsignedTx};
use rewards::programme::PoolKind;
use store::{on_both_backends, Store};

const ROOT: &str = "abababababababababababababababababababababababababababababababab";

fn scope(config: &settings::Config) -> PlanScope<'_> {
    PlanScope {
        programme: &config.name,
        last_epoch: 1,
        merkle_root: ROOT,
        denom: "uakt",
        wallet: WALLET,
        max_msgs: config.payouts.max_msgs,
        fee: Fee {
            amount: 75_000,
            denom: "uakt".into(),
            gas_limit: 3_000_000,
        },
    }
}

/// P1 partly paid, P2 overpaid, P3 unpaid, a stranger paid, plus transfers that are no payout.
fn payments(store: &mut Store) {
    pay(store, T0 + 70 * MIN, 0, P1, 200_000);
    pay(store, T0 + 70 * MIN, 1, P2, 600_000);
    pay(store, T0 + 80 * MIN, 0, STRANGER, 5);
    // Between the programme's own wallets, in another denom, and after T: none counts.
    send(
        store,
        Sent {
            time_ms: T0 + 80 * MIN,
            tx: 1,
            msg: 0,
            leg: 0,
            from: WALLET,
            to: RESERVE,
            denom: "uakt",
            amount: 9_999,
        },
    );
    send(
        store,
        Sent {
            time_ms: T0 + 80 * MIN,
            tx: 2,
            msg: 0,
            leg: 0,
            from: WALLET,
            to: P3,
            denom: "uact",
            amount: 7,
        },
    );
}

fn plan_at(store: &mut Store, config: &settings::Config, at: i64) -> Plan {
    plan(&books(store, config, at), &scope(config)).unwrap()
}

fn output(to: &str, amount: u128) -> MultiSendIo {
    MultiSendIo {
        address: AccountId::from_str(to).unwrap(),
        coins: vec![Coin {
            denom: Denom::from_str("uakt").unwrap(),
            amount,
        }],
    }
}

/// The message an independent reading of the numbers expects.
fn expected(outputs: &[(&str, u128)]) -> MsgMultiSend {
    MsgMultiSend {
        inputs: vec![output(WALLET, outputs.iter().map(|(_, a)| a).sum())],
        outputs: outputs.iter().map(|(to, a)| output(to, *a)).collect(),
    }
}

/// What a signer's tool sees: the file parsed, the body encoded as protobuf by cosmrs (prost
/// 0.13), decoded again and each `Any` unpacked by type URL.
fn decoded(tx: &UnsignedTx) -> Vec<MsgMultiSend> {
    let file = tx.to_json();
    let back = UnsignedTx::from_json(&file).unwrap();
    assert_eq!(&back, tx);
    let bytes = back.body().unwrap().into_bytes().unwrap();
    let body = cosmrs::tx::Body::try_from(TxBody::decode(bytes.as_slice()).unwrap()).unwrap();
    assert_eq!(body.memo, tx.body.memo);
    body.messages
        .iter()
        .map(|any| {
            assert_eq!(any.type_url, "/cosmos.bank.v1beta1.MsgMultiSend");
            MsgMultiSend::from_any(any).unwrap()
        })
        .collect()
}

fn plan_pays_exactly_the_positive_claimables(store: &mut Store) {
    let config = config(100);
    sealed_programme(store, &config);
    payments(store);
    let plan = plan_at(store, &config, T0 + 2 * HOUR);
    // Vested at T0 + 2 h: P1 500 000 (paid 200 000), P2 500 000 (paid 600 000: overpaid, not
    // planned), P3 1 000 000 (paid nothing; the uact transfer is no payout), the stranger
    // nothing.
    let lines: Vec<_> = plan
        .lines
        .iter()
        .map(|l| (l.provider.as_str(), l.vested.0, l.paid.0, l.amount.0))
        .collect();
    assert_eq!(
        lines,
        [
            (P1, 500_000, 200_000, 300_000),
            (P3, 1_000_000, 0, 1_000_000)
        ]
    );
    assert_eq!(plan.total, BaseUnits(1_300_000));
    assert_eq!(
        plan.lines[0].pools,
        [(PoolKind::LiquidityMining, BaseUnits(300_000))]
    );
    let mut csv = Vec::new();
    write_plan_csv(&mut csv, &plan).unwrap();
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        format!(
            "provider,pools,vested,paid,amount\n\
             {P1},liquidity_mining:300000,500000,200000,300000\n\
             {P3},liquidity_mining:1000000,1000000,0,1000000\n"
        )
    );
    assert_eq!(plan.transactions.len(), 1);
    let tx = &plan.transactions[0];
    assert_eq!(
        tx.body.memo,
        format!("{NAME} payout, epochs 0-1, merkle {ROOT}, part 1/1")
    );
    assert_eq!(decoded(tx), [expected(&[(P1, 300_000), (P3, 1_000_000)])]);
    let json: serde_json::Value = serde_json::from_slice(&tx.to_json()).unwrap();
    assert_eq!(
        json["body"]["messages"][0]["@type"],
        "/cosmos.bank.v1beta1.MsgMultiSend"
    );
    assert_eq!(
        json["body"]["messages"][0]["outputs"][1]["coins"][0]["amount"],
        "1000000"
    );
    assert_eq!(json["auth_info"]["fee"]["gas_limit"], "3000000");
    assert_eq!(json["signatures"], serde_json::json!([]));

    // Half way through epoch 1 only epoch 0 has vested: P1 250 000 − 200 000, P3 500 000.
    let early = plan_at(store, &config, T0 + 90 * MIN);
    assert_eq!(early.total, BaseUnits(550_000));
}

fn large_plans_split_by_max_msgs_and_never_repeat_a_provider(store: &mut Store) {
    let config = config(1);
    sealed_programme(store, &config);
    payments(store);
    let plan = plan_at(store, &config, T0 + 2 * HOUR);
    assert_eq!(plan.transactions.len(), 2);
    let messages: Vec<MsgMultiSend> = plan.transactions.iter().flat_map(decoded).collect();
    assert_eq!(
        messages,
        [expected(&[(P1, 300_000)]), expected(&[(P3, 1_000_000)])]
    );
    assert!(plan.transactions[1].body.memo.ends_with("part 2/2"));
    let mut seen: Vec<String> = messages
        .iter()
        .flat_map(|m| m.outputs.iter().map(|o| o.address.to_string()))
        .collect();
    let all = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), all, "a provider is paid twice");
    let total: u128 = messages
        .iter()
        .flat_map(|m| &m.outputs)
        .map(|o| o.coins[0].amount)
        .sum();
    assert_eq!(BaseUnits(total), plan.total);
}

/// Once everything planned is paid, the next plan is empty; a payout inside a multi-send is
/// counted once, even if the indexer writes it again.
fn paying_the_plan_leaves_nothing_due(store: &mut Store) {
    let config = config(100);
    sealed_programme(store, &config);
    payments(store);
    multi_send_recorded_twice(store, T0 + 2 * HOUR, &[(P1, 300_000), (P3, 1_000_000)]);
    let plan = plan_at(store, &config, T0 + 2 * HOUR);
    assert!(plan.lines.is_empty(), "{:?}", plan.lines);
    assert!(plan.transactions.is_empty());
    assert_eq!(plan.total, BaseUnits(0));
}

on_both_backends!(
    plan_pays_exactly_the_positive_claimables,
    large_plans_split_by_max_msgs_and_never_repeat_a_provider,
    paying_the_plan_leaves_nothing_due,
);
