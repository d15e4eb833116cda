//! `akash-incentives settle` run as the administrator runs it: a configuration file naming a
//! SQLite database that the test filled with indexed blocks and probe observations.
//!
//! The programme: three one-hour epochs from T0 = 2024-02-15T00:00:00Z, one liquidity-mining
//! pool of 3 000 000 uakt (carry, α = 1, β = 0) on class h100. One provider is online with one
//! h100 the whole time, so each epoch emits floor(balance / epochs left) = 1 000 000 and the
//! provider takes all of it. Blocks are indexed up to T0 + 2 h, so epoch 2 is never covered.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use diesel::prelude::*;
use domain::BaseUnits;
use store::chain::write::{insert_transfers, BlockStamp, TransferWrite};
use store::probes::{insert_observations, GpuRecord, ObservationKey, ObservationRecord};
use store::schema::epochs;
use store::{DatabaseUrl, Store};
use support::{binary, run};

const T0: i64 = 1_707_955_200_000;
/// A valid bech32 address: a payout plan puts it into a transaction.
const PROVIDER: &str = "akash1pyysjzgfpyysjzgfpyysjzgfpyysjzgfsqeghr";
const WALLET: &str = "akash1wamhwamhwamhwamhwamhwamhwamhwamhph98cf";

/// A temporary folder with `programme.toml` and the database it names, filled with blocks
/// every 10 minutes up to T0 + 2 h, observations every 15 minutes and one payout.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("settle.sqlite");
        std::fs::write(dir.path().join("programme.toml"), programme(&db)).unwrap();
        let mut store = Store::open(&DatabaseUrl::SqliteFile(db)).unwrap();
        for n in 0..=12_i64 {
            block(store.conn(), n).unwrap();
        }
        let first_block = store::testing::TestBlock {
            height: 1,
            time_ms: T0,
        };
        store::testing::register_provider_at(
            store.conn(),
            PROVIDER,
            "https://p:8443",
            first_block,
            None,
        )
        .unwrap();
        let observations: Vec<ObservationRecord> = (0..12)
            .map(|quarter| ObservationRecord {
                key: ObservationKey {
                    prober: "eu-1".into(),
                    provider: PROVIDER.into(),
                    time_ms: T0 + quarter * 900_000,
                },
                time: format!("quarter {quarter}"),
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
                    interface: Some("sxm".into()),
                    allocatable: 1,
                    allocated: 0,
                    raw_allocatable: "1".into(),
                    raw_allocated: "0".into(),
                    clamps: None,
                    flags: None,
                }],
            })
            .collect();
        insert_observations(&mut store, &observations).unwrap();
        payout(store.conn(), 10, "AB", 400_000).unwrap();
        Setup { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("programme.toml")
    }

    fn settle(&self, args: &[&str]) -> (i32, String, String) {
        run(binary()
            .arg("settle")
            .arg("--config")
            .arg(self.config())
            .args(args))
    }

    fn sealed_epochs(&self) -> i64 {
        let mut store = Store::open(&DatabaseUrl::SqliteFile(
            self.dir.path().join("settle.sqlite"),
        ))
        .unwrap();
        epochs::table.count().get_result(store.conn()).unwrap()
    }
}

/// The `n`-th block the indexer stored: height `n + 1`, every 10 minutes from T0.
fn block(conn: &mut store::AnyConnection, n: i64) -> Result<(), store::StoreError> {
    let time = format!("block {n}");
    let at = BlockStamp {
        height: domain::Height::from_stored(n + 1).unwrap(),
        time: &time,
        time_ms: T0 + n * 600_000,
    };
    store::testing::empty_block(conn, at, &format!("{n:064}"))
}

/// A `MsgSend` of `amount` uakt from the watched wallet to the provider at `height`.
fn payout(
    conn: &mut store::AnyConnection,
    height: i64,
    tx_hash: &str,
    amount: u128,
) -> Result<(), store::StoreError> {
    let payout = TransferWrite {
        height: domain::Height::from_stored(height).unwrap(),
        tx_index: 0,
        msg_index: 0,
        leg: 0,
        tx_hash,
        sender: WALLET,
        recipient: PROVIDER,
        denom: "uakt",
        amount: BaseUnits(amount),
    };
    insert_transfers(conn, &[payout])
}

fn programme(db: &Path) -> String {
    format!(
        r#"
[chain]
chain_id = "akashnet-2"
rpc_urls = ["http://127.0.0.1:26657"]
start_height = 1
watched_wallets = ["{WALLET}"]

[database]
url = "{}"

[prober]
unverified_gpus_warn = 0

[program]
name = "cli-pilot"
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
"#,
        db.display()
    )
}

#[test]
fn settle_dry_run_then_seal_then_rerun_then_positions() {
    let setup = Setup::new();

    // Nothing has ended half an hour in: a failure that says why.
    let (code, _, stderr) = setup.settle(&["--now", "2024-02-15T00:30:00Z"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("epoch 0 has not ended: it ends at 2024-02-15T01:00:00Z"),
        "{stderr}"
    );

    // A dry run over both ended epochs prints what sealing would do and writes nothing.
    let (code, stdout, stderr) =
        setup.settle(&["--all", "--dry-run", "--now", "2024-02-15T02:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("epoch 0 settled (dry run, nothing written) [2024-02-15T00:00:00Z, 2024-02-15T01:00:00Z) uakt: 1 line items"), "{stdout}");
    assert!(stdout.contains("epoch 1 liquidity_mining: opening 2,000,000 uakt (2 AKT), allocated 1,000,000 uakt (1 AKT), returned 0 uakt (0 AKT), clawed back 0 uakt (0 AKT), closing 1,000,000 uakt (1 AKT)"), "{stdout}");
    assert_eq!(setup.sealed_epochs(), 0);

    // Sealing for real prints the same ledgers.
    let (code, sealed, stderr) = setup.settle(&["--all", "--now", "2024-02-15T02:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");
    let pool_lines: Vec<&str> = sealed
        .lines()
        .filter(|l| l.contains("liquidity_mining:"))
        .collect();
    assert_eq!(
        pool_lines,
        [
            "epoch 0 liquidity_mining: opening 3,000,000 uakt (3 AKT), allocated 1,000,000 uakt (1 AKT), returned 0 uakt (0 AKT), clawed back 0 uakt (0 AKT), closing 2,000,000 uakt (2 AKT)",
            "epoch 1 liquidity_mining: opening 2,000,000 uakt (2 AKT), allocated 1,000,000 uakt (1 AKT), returned 0 uakt (0 AKT), clawed back 0 uakt (0 AKT), closing 1,000,000 uakt (1 AKT)",
        ]
    );
    assert!(
        sealed.contains("epoch 1 sealed [2024-02-15T01:00:00Z, 2024-02-15T02:00:00Z) uakt"),
        "{sealed}"
    );
    // The provider reports an h100 all the time that no lease ever held: named for an audit.
    let unverified = format!(
        "epoch 0 unverified capacity: {PROVIDER} reported 1 h100 GPU(s) online for most of the \
         epoch, but its leases peaked at 0 (warning above 0 more)"
    );
    assert!(sealed.contains(&unverified), "{sealed}");
    assert_eq!(setup.sealed_epochs(), 2);

    // Running again re-checks the sealed epochs, finds no late data and writes nothing.
    let (code, again, stderr) = setup.settle(&["--through", "1", "--now", "2024-02-15T05:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(again.contains("epoch 0 already sealed"), "{again}");
    assert!(again.contains("at 2024-02-15T02:00:00Z"), "{again}");
    assert!(!again.contains("LATE DATA"), "{again}");
    assert_eq!(setup.sealed_epochs(), 2);

    // Epoch 2 has ended by 05:00, but the indexer stopped at 02:00.
    let (code, _, stderr) = setup.settle(&["--now", "2024-02-15T05:00:00Z"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the indexer has only indexed blocks up to 2024-02-15T02:00:00Z"),
        "{stderr}"
    );

    // Positions: 2 000 000 earned and vested, 400 000 already paid from the watched wallet.
    let (code, csv, stderr) = run(binary()
        .args([
            "settle",
            "positions",
            "--at",
            "2024-02-15T02:00:00Z",
            "--config",
        ])
        .arg(setup.config()));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        csv,
        format!("provider,earned,vested,unvested,clawed_back,paid,claimable,overpaid\n{PROVIDER},2000000,2000000,0,0,400000,1600000,0\n")
    );

    // The payout plan at 02:00 pays the 1 600 000 still due, in one unsigned MsgMultiSend.
    let out = setup.dir.path().join("plan");
    let (code, printed, stderr) = run(binary()
        .args(["payouts", "plan", "--at", "2024-02-15T02:00:00Z", "--out"])
        .arg(&out)
        .arg("--config")
        .arg(setup.config()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        printed.contains("1 providers, total 1,600,000 uakt (1.6 AKT)"),
        "{printed}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("payouts.csv")).unwrap(),
        format!("provider,pools,vested,paid,amount\n{PROVIDER},liquidity_mining:1600000,2000000,400000,1600000\n")
    );
    let tx = payouts::tx::UnsignedTx::from_json(&std::fs::read(out.join("tx-001.json")).unwrap())
        .unwrap();
    let messages = tx.messages().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].inputs[0].address.to_string(), WALLET);
    assert_eq!(messages[0].outputs[0].address.to_string(), PROVIDER);
    assert_eq!(messages[0].outputs[0].coins[0].amount, 1_600_000);
    assert!(
        tx.body
            .memo
            .starts_with("cli-pilot payout, epochs 0-1, merkle "),
        "{}",
        tx.body.memo
    );
    // A second plan into the same folder is refused: its old transactions could be signed again.
    let (code, _, stderr) = run(binary()
        .args(["payouts", "plan", "--at", "2024-02-15T02:00:00Z", "--out"])
        .arg(&out)
        .arg("--config")
        .arg(setup.config()));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not empty"), "{stderr}");

    // Reconciling before the plan is broadcast: underpaid, exit 1, the payout's height shown.
    let (code, table, stderr) = run(binary()
        .args(["reconcile", "--at", "2024-02-15T02:00:00Z", "--config"])
        .arg(setup.config()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        table.contains(&format!("underpaid {PROVIDER} by 1,600,000 uakt (1.6 AKT)")),
        "{table}"
    );
    assert!(table.contains("height 10 "), "{table}");
    assert!(table.contains("1 finding"), "{table}");
}

#[test]
fn settle_usage_errors_exit_2() {
    let setup = Setup::new();
    let (code, _, stderr) = setup.settle(&["--now", "yesterday"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not an RFC 3339 time"), "{stderr}");
    let (code, _, stderr) = setup.settle(&["--epoch", "1", "--all"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = setup.settle(&["--through", "3"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("epoch 3 is outside programme cli-pilot, whose epochs are 0 to 2"),
        "{stderr}"
    );
    let (code, _, stderr) = run(binary().arg("settle"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no configuration given"), "{stderr}");
    assert_eq!(setup.sealed_epochs(), 0);
}

/// `simulate` on the two sealed epochs: the sealed programme itself changes nothing; a policy
/// with twice the budget pays the provider 2 000 000 more (each epoch emits floor(6 000 000 / 3)
/// instead of 1 000 000) and leaves twice the balance; the store is not written.
#[test]
fn simulate_compares_a_policy_with_the_sealed_epochs() {
    let setup = Setup::new();
    let (code, _, stderr) = setup.settle(&["--all", "--now", "2024-02-15T02:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");
    let simulate = |policy: &Path, extra: &[&str]| {
        run(binary()
            .arg("simulate")
            .arg("--config")
            .arg(setup.config())
            .arg("--policy")
            .arg(policy)
            .args(extra))
    };
    let (code, same, stderr) = simulate(&setup.config(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(same.contains("on the sealed measurements"), "{same}");
    assert!(
        same.contains("liquidity_mining: 0 of 1 providers differ; returned to the community pool: sealed 0, simulated 0; closing balance: sealed 1000000, simulated 1000000 (uakt)"),
        "{same}"
    );
    assert!(
        same.ends_with("the policy changes nothing over epochs 0..=1\n"),
        "{same}"
    );

    let db = setup.dir.path().join("settle.sqlite");
    let richer = setup.dir.path().join("richer.toml");
    std::fs::write(
        &richer,
        programme(&db).replace(r#""3000000""#, r#""6000000""#),
    )
    .unwrap();
    let (code, changed, stderr) = simulate(&richer, &["--epochs", "0..2"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        changed.lines().skip(1).collect::<Vec<_>>(),
        [
            format!("liquidity_mining: 1 of 1 providers differ, largest difference 2000000 ({PROVIDER}), sum of differences 2000000; returned to the community pool: sealed 0, simulated 0; closing balance: sealed 1000000, simulated 2000000 (uakt)").as_str(),
            format!("  {PROVIDER}: sealed 2000000, simulated 4000000 (+2000000)").as_str(),
            "the policy changes 1 provider amount(s) in 1 pool(s) over epochs 0..=1",
        ]
    );
    assert_eq!(setup.sealed_epochs(), 2);

    // Epoch 2 is not sealed; `--policy` is required; an empty range is a usage error.
    let (code, _, stderr) = simulate(&richer, &["--epochs", "1..=2"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("epoch 2 of programme \"cli-pilot\" is not sealed"),
        "{stderr}"
    );
    let (code, _, stderr) = run(binary().arg("simulate").arg("--config").arg(setup.config()));
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = simulate(&richer, &["--epochs", "1..1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("names no epoch"), "{stderr}");
}

/// `payouts plan`, `reconcile` and `statement` only read: run again and again while another
/// connection commits blocks and programme-wallet transfers in write transactions, as `index`
/// does, each run succeeds with the same answer it gave on a quiet database (the writes are all
/// after the instant asked about), and the writer is never locked out.
#[test]
fn payouts_reconcile_and_statement_read_while_the_index_writes() {
    let setup = Setup::new();
    let (code, _, stderr) = setup.settle(&["--all", "--now", "2024-02-15T02:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");
    let at = "2024-02-15T02:00:00Z";
    let read_only_runs = |round: usize| -> Vec<(i32, String)> {
        let plan = setup.dir.path().join(format!("plan-{round}"));
        let runs = [
            run(binary()
                .args(["payouts", "plan", "--at", at, "--out"])
                .arg(&plan)
                .arg("--config")
                .arg(setup.config())),
            run(binary()
                .args(["reconcile", "--at", at, "--config"])
                .arg(setup.config())),
            run(binary()
                .args(["statement", "--provider", PROVIDER, "--at", at, "--config"])
                .arg(setup.config())),
        ];
        let mut answers: Vec<(i32, String)> = runs
            .into_iter()
            .map(|(code, stdout, stderr)| {
                assert!(!stderr.contains("locked"), "{stderr}");
                // The plan names its own folder; the rest of its output must not change.
                (code, stdout.replace(&plan.display().to_string(), "PLAN"))
            })
            .collect();
        answers.push((
            0,
            std::fs::read_to_string(plan.join("payouts.csv")).unwrap(),
        ));
        answers
    };
    let quiet = read_only_runs(0);
    assert_eq!(
        quiet.iter().map(|(code, _)| *code).collect::<Vec<_>>(),
        [0, 1, 0, 0],
        "{quiet:?}"
    );
    // The statement a provider sees: both epochs' 1 000 000 vested, the 400 000 paid at height
    // 10 (tx AB) applied to epoch 0 first, the total row naming every payment.
    let statement = &quiet[2].1;
    let amounts: Vec<Vec<&str>> = statement
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            [1, 2, 3, 11, 12, 13, 14, 15, 16, 19]
                .iter()
                .map(|&i| cells[i])
                .collect()
        })
        .collect();
    assert!(
        statement
            .lines()
            .next()
            .unwrap()
            .starts_with("provider,row,epoch,pool,"),
        "{statement}"
    );
    assert_eq!(
        amounts,
        [
            vec![
                "epoch",
                "0",
                "liquidity_mining",
                "1000000",
                "1000000",
                "0",
                "0",
                "400000",
                "600000",
                "AB"
            ],
            vec![
                "epoch",
                "1",
                "liquidity_mining",
                "1000000",
                "1000000",
                "0",
                "0",
                "0",
                "1000000",
                ""
            ],
            vec!["total", "", "", "2000000", "2000000", "0", "0", "400000", "1600000", "AB"],
        ],
        "{statement}"
    );
    // With only the database, the statement is the same: sealing recorded the denom and the
    // watched wallets it needs.
    let db = setup.dir.path().join("settle.sqlite");
    let (code, alone, stderr) = run(binary()
        .args([
            "statement",
            "--provider",
            PROVIDER,
            "--at",
            at,
            "--database-url",
        ])
        .arg(&db));
    assert_eq!((code, &alone), (0, statement), "{stderr}");
    let (code, _, stderr) = run(binary()
        .args([
            "statement",
            "--provider",
            PROVIDER,
            "--programme",
            "other",
            "--database-url",
        ])
        .arg(&db));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no epoch of programme \"other\""),
        "{stderr}"
    );

    let stop = AtomicBool::new(false);
    let committed = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let db = setup.dir.path().join("settle.sqlite");
            let mut store = Store::open(&DatabaseUrl::SqliteFile(db)).unwrap();
            // Bounded: a few thousand blocks at most, however slow the readers are.
            for n in 13..5_000_i64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                store
                    .transaction(|conn| {
                        block(conn, n)?;
                        payout(conn, n + 1, &format!("LATER{n}"), 1)
                    })
                    .unwrap();
                committed.fetch_add(1, Ordering::Relaxed);
            }
        });
        while committed.load(Ordering::Relaxed) == 0 && !writer.is_finished() {
            std::thread::yield_now();
        }
        let before = committed.load(Ordering::Relaxed);
        for round in 1..=3 {
            assert_eq!(read_only_runs(round), quiet, "round {round}");
        }
        let during = committed.load(Ordering::Relaxed) - before;
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        assert!(
            during > 0,
            "the writer committed nothing while the readers ran"
        );
    });
}
