//! A sealed programme on a real store for the payouts tests, on SQLite and PostgreSQL.
//!
//! Three one-hour epochs from T0 = 2024-02-15T00:00:00Z, one liquidity-mining pool of
//! 3 000 000 uakt (α = 1, β = 0, immediate vesting) on class h100. P1 and P2 are online with
//! one h100 each and P3 with two, all the time, so each epoch emits 1 000 000 and pays
//! P1 250 000, P2 250 000 and P3 500 000. Blocks every 10 minutes from T0 to T0 + 2 h; epochs 0
//! and 1 are sealed, so at T0 + 2 h P1 and P2 have vested 500 000 and P3 1 000 000.

#![allow(dead_code)]

use domain::{BaseUnits, UnixMs};
use store::chain::write::{insert_transfers, BlockStamp, TransferWrite};
use store::probes::{insert_observations, GpuRecord, ObservationKey, ObservationRecord};
use store::Store;

pub const T0: i64 = 1_707_955_200_000;
pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;
pub const NAME: &str = "payout-pilot";
pub const WALLET: &str = "akash1wamhwamhwamhwamhwamhwamhwamhwamhph98cf";
pub const RESERVE: &str = "akash1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg";
pub const P1: &str = "akash1qgpqyqszqgpqyqszqgpqyqszqgpqyqszwv2uls";
pub const P2: &str = "akash1qvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcr0uta43";
pub const P3: &str = "akash1qyqszqgpqyqszqgpqyqszqgpqyqszqgplgve5x";
pub const STRANGER: &str = "akash1zqgpqyqszqgpqyqszqgpqyqszqgpqyqsdkmyp5";

pub fn config(max_msgs: usize) -> settings::Config {
    let text = format!(
        r#"
[chain]
chain_id = "akashnet-2"
rpc_urls = ["http://127.0.0.1:26657"]
start_height = 1
watched_wallets = ["{WALLET}", "{RESERVE}"]

[payouts]
max_msgs = {max_msgs}

[prober]
max_staleness = "30m"

[program]
name = "{NAME}"
start = "2024-02-15T00:00:00Z"
epoch_length = "1h"
epochs = 3
denom = "uakt"

[[classes]]
name = "h100"
gpu_model = "h100"

[vesting.immediate]
kind = "immediate"

[pools.liquidity_mining]
budget = {{ base_units = "3000000" }}
alpha = "1"
beta = "0"
min_uptime = "0.9"
vesting = "immediate"
classes = [{{ class = "h100", share = "1" }}]
"#
    );
    settings::parse(
        std::path::Path::new("payout-pilot.toml"),
        &text,
        &settings::Environment::default(),
    )
    .expect("the test programme is valid")
}

/// Height of the block at `T0 + 10 min × (height − 1)`.
pub fn height_at(time_ms: i64) -> i64 {
    (time_ms - T0) / (10 * MIN) + 1
}

/// Blocks, the three providers registered in the first, their observations, and epochs 0 and 1
/// sealed.
pub fn sealed_programme(store: &mut Store, config: &settings::Config) {
    for height in 1..=13_i64 {
        let time_ms = T0 + (height - 1) * 10 * MIN;
        let time = UnixMs(time_ms).to_string();
        let at = BlockStamp {
            height: domain::Height::from_stored(height).unwrap(),
            time: &time,
            time_ms,
        };
        store::testing::empty_block(store.conn(), at, &format!("{height:064}")).unwrap();
    }
    let mut records = Vec::new();
    for (provider, gpus) in [(P1, 1), (P2, 1), (P3, 2)] {
        let genesis = store::testing::TestBlock {
            height: 1,
            time_ms: T0,
        };
        store::testing::register_provider_at(
            store.conn(),
            provider,
            "https://p:8443",
            genesis,
            None,
        )
        .unwrap();
        for quarter in 0..8 {
            records.push(observation(provider, T0 + quarter * 15 * MIN, gpus));
        }
    }
    insert_observations(store, &records).unwrap();
    let settle = settlement::SettlementConfig {
        name: &config.name,
        programme: &config.programme,
        max_staleness_ms: 30 * MIN as u64,
        watched_wallets: &config.chain.watched_wallets,
    };
    for epoch in 0..2 {
        let sealed = settlement::settle_next(store, &settle, T0 + 2 * HOUR).unwrap();
        assert_eq!(sealed.epoch, epoch);
    }
}

fn observation(provider: &str, time_ms: i64, gpus: i64) -> ObservationRecord {
    ObservationRecord {
        key: ObservationKey {
            prober: "eu-1".into(),
            provider: provider.into(),
            time_ms,
        },
        time: UnixMs(time_ms).to_string(),
        online: true,
        latency_ms: Some(50),
        error_kind: None,
        error: None,
        version: Some("0.6.4".into()),
        cert_sha256: None,
        status_api: Some("grpc".into()),
        gpus: vec![GpuRecord {
            node: "node-1".into(),
            vendor: Some("nvidia".into()),
            model: Some("h100".into()),
            ram: Some("80Gi".into()),
            interface: None,
            allocatable: gpus,
            allocated: 0,
            raw_allocatable: gpus.to_string(),
            raw_allocated: "0".into(),
            clamps: None,
            flags: None,
        }],
    }
}

/// One coin movement as the indexer records it: in the block at `time_ms`, transaction `tx`,
/// message `msg` (counting messages inside `MsgExec`), leg `leg` (one per output of a
/// multi-send).
pub struct Sent<'a> {
    pub time_ms: i64,
    pub tx: i32,
    pub msg: i32,
    pub leg: i32,
    pub from: &'a str,
    pub to: &'a str,
    pub denom: &'a str,
    pub amount: u128,
}

pub fn send(store: &mut Store, s: Sent<'_>) {
    let height = height_at(s.time_ms);
    let tx_hash = format!("TX{height}-{}", s.tx);
    let row = TransferWrite {
        height: domain::Height::from_stored(height).unwrap(),
        tx_index: s.tx,
        msg_index: s.msg,
        leg: s.leg,
        tx_hash: &tx_hash,
        sender: s.from,
        recipient: s.to,
        denom: s.denom,
        amount: BaseUnits(s.amount),
    };
    insert_transfers(store.conn(), &[row]).unwrap();
}

/// A plain `MsgSend` of uakt from the programme wallet.
pub fn pay(store: &mut Store, time_ms: i64, tx: i32, to: &str, amount: u128) {
    send(
        store,
        Sent {
            time_ms,
            tx,
            msg: 0,
            leg: 0,
            from: WALLET,
            to,
            denom: "uakt",
            amount,
        },
    );
}

/// One `MsgMultiSend` of uakt from the programme wallet to `outputs`, in transaction 0 of the
/// block at `time_ms` as message 1 (as when wrapped in a `MsgExec`), recorded twice, as a re-run
/// of the indexer over the same block writes it again: it must count once.
pub fn multi_send_recorded_twice(store: &mut Store, time_ms: i64, outputs: &[(&str, u128)]) {
    for _ in 0..2 {
        for (leg, &(to, amount)) in outputs.iter().enumerate() {
            send(
                store,
                Sent {
                    time_ms,
                    tx: 0,
                    msg: 1,
                    leg: i32::try_from(leg).unwrap(),
                    from: WALLET,
                    to,
                    denom: "uakt",
                    amount,
                },
            );
        }
    }
}

pub fn books(store: &mut Store, config: &settings::Config, at: i64) -> payouts::Books {
    payouts::Books::load(
        store.conn(),
        &config.name,
        &config.chain.watched_wallets,
        &config.programme.denom.name,
        UnixMs(at),
    )
    .unwrap()
}
