//! `rewards compute` as someone trying a policy on numbers of their own would run it: a small
//! programme, an inputs CSV, epoch 0 from the initial state, epoch 1 from epoch 0's state, and
//! the liquidity-mining amounts checked against arithmetic done by hand here.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use support::{binary, run};

/// The shape of `config/devnet.toml`, two ten-minute epochs and a liquidity-mining pool only,
/// so every unit of the epoch can be accounted for by hand. α = 1 and β = 2, so a provider's
/// weight is `1000·online_gpu_ms + 2000·leased_gpu_ms` thousandths of a GPU-ms.
const PROGRAMME: &str = r#"
[chain]
chain_id = "akashnet-2"
rpc_urls = ["http://127.0.0.1:26657"]
start_height = 1
watched_wallets = ["akash1v5xnfg3fmv3cclperp8vjptgzc8lhwk93k8amg"]

[database]
url = "data/never-opened.sqlite"

[prober]
id = "compute-test"
interval = "5m"
timeout = "2s"
concurrency = 4

[metrics]
listen = "127.0.0.1:9464"

[program]
name = "compute-test"
start = "2024-02-15T00:00:00Z"
epoch_length = "10m"
epochs = 2
denom = "uakt"

[[classes]]
name = "a100-80gi"
gpu_model = "a100"
gpu_ram = "80Gi"

[[classes]]
name = "a100-40gi"
gpu_model = "a100"
gpu_ram = "40Gi"

[[classes]]
name = "h100"
gpu_model = "h100"

[vesting.immediate]
kind = "immediate"

[pools.liquidity_mining]
budget = { base_units = "400000000" }
undistributed = "carry"
alpha = "1"
beta = "2"
min_uptime = "0.5"
vesting = "immediate"
classes = [
  { class = "a100-80gi", share = "0.4" },
  { class = "a100-40gi", share = "0.2" },
  { class = "h100", share = "0.4" },
]
"#;

const HEADER: &str = "class,provider,leased_gpu_ms,online_gpu_ms,uptime_num,uptime_den\n";

/// One GPU-hour in milliseconds.
const HOUR: u128 = 3_600_000;

/// Epoch 0's inputs. In h100, alice was online one GPU-hour and leased half of it, bob online
/// one GPU-hour unleased, carol below the uptime threshold; in a100-80gi dave alone, at exactly
/// the threshold; nobody in a100-40gi.
fn epoch0_inputs() -> String {
    format!(
        "{HEADER}\
         h100,akash1alice,{half},{HOUR},600000,600000\n\
         h100,akash1bob,0,{HOUR},600000,600000\n\
         h100,akash1carol,10,10,150000,600000\n\
         a100-80gi,akash1dave,1000,1000,300000,600000\n",
        half = HOUR / 2
    )
}

struct Files {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let root = dir.path().to_path_buf();
        std::fs::write(root.join("programme.toml"), PROGRAMME).unwrap();
        Files { _dir: dir, root }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Runs `rewards compute` with the test programme, in `files`' folder (so a relative path in
/// the configuration could never reach the checkout).
fn compute(files: &Files, args: &[&str]) -> (i32, String, String) {
    let config = files.path("programme.toml");
    let mut command = binary();
    command
        .current_dir(&files.root)
        .arg("--config")
        .arg(&config)
        .args(["rewards", "compute"])
        .args(args);
    run(&mut command)
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// One output row, by column name.
type Row = BTreeMap<String, String>;

fn rows(csv: &str) -> Vec<Row> {
    let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
    assert_eq!(
        header,
        [
            "epoch", "pool", "class", "contract", "grant", "provider", "weight", "amount", "denom",
            "reason", "vesting"
        ]
    );
    support::e2e::csv_rows(csv)
}

/// The row of `provider` in `class` (an empty provider for the class-level line).
fn row<'a>(rows: &'a [Row], class: &str, provider: &str) -> &'a Row {
    rows.iter()
        .find(|r| r["class"] == class && r["provider"] == provider)
        .unwrap_or_else(|| panic!("no line for {provider:?} in {class}: {rows:?}"))
}

#[test]
fn computes_epoch_0_by_hand_then_epoch_1_from_its_state() {
    let files = Files::new();
    let inputs = files.write("inputs.csv", &epoch0_inputs());
    let state0 = files.path("state-0.json");
    let (code, stdout, stderr) = compute(
        &files,
        &[
            "--inputs",
            arg(&inputs),
            "--epoch",
            "0",
            "--state-out",
            arg(&state0),
        ],
    );
    assert_eq!(code, 0, "stderr:\n{stderr}");
    let lines = rows(&stdout);
    assert!(lines.iter().all(|r| r["epoch"] == "0"
        && r["pool"] == "liquidity_mining"
        && r["denom"] == "uakt"
        && r["contract"].is_empty()
        && r["grant"].is_empty()));

    // Carry with N = 2 epochs: E_0 = floor(400_000_000 / 2) = 200_000_000, split 0.4 / 0.2 /
    // 0.4 into class slices of 80_000_000, 40_000_000 and 80_000_000.
    let emission: u128 = 400_000_000 / 2;
    let (slice_80gi, slice_40gi, slice_h100) =
        (emission * 4 / 10, emission * 2 / 10, emission * 4 / 10);
    assert_eq!(slice_80gi + slice_40gi + slice_h100, emission);

    // w = α·online + β·leased, in thousandths: α = 1000, β = 2000.
    let weight = |online: u128, leased: u128| 1000 * online + 2000 * leased;
    let (w_alice, w_bob) = (weight(HOUR, HOUR / 2), weight(HOUR, 0));
    assert_eq!((w_alice, w_bob), (7_200_000_000, 3_600_000_000));
    // Pro rata: alice 2/3 and bob 1/3 of 80_000_000 are 53_333_333.33… and 26_666_666.66…;
    // the floors leave 1 unit, which goes to the larger remainder, bob's.
    let total = w_alice + w_bob;
    let (floor_alice, floor_bob) = (slice_h100 * w_alice / total, slice_h100 * w_bob / total);
    assert_eq!((floor_alice, floor_bob), (53_333_333, 26_666_666));
    let (alice, bob) = (
        floor_alice,
        floor_bob + (slice_h100 - floor_alice - floor_bob),
    );

    let check = |class: &str, provider: &str, w: u128, amount: u128, reason: &str| {
        let r = row(&lines, class, provider);
        assert_eq!(r["weight"], w.to_string(), "{r:?}");
        assert_eq!(r["amount"], amount.to_string(), "{r:?}");
        assert_eq!(r["reason"], reason, "{r:?}");
    };
    check("h100", "akash1alice", w_alice, alice, "PAID");
    check("h100", "akash1bob", w_bob, bob, "PAID");
    // Uptime 1/4 < 0.5: the weight is reported, the amount is 0.
    check(
        "h100",
        "akash1carol",
        weight(10, 10),
        0,
        "UPTIME_BELOW_THRESHOLD",
    );
    // Uptime exactly 1/2 is eligible; alone in the class, dave takes the whole slice.
    check(
        "a100-80gi",
        "akash1dave",
        weight(1000, 1000),
        slice_80gi,
        "PAID",
    );
    assert_eq!(row(&lines, "h100", "akash1alice")["vesting"], "immediate");
    // Nobody in a100-40gi: its slice is one class-level line, carried.
    let empty = row(&lines, "a100-40gi", "");
    assert_eq!(
        (empty["amount"].as_str(), empty["reason"].as_str()),
        (slice_40gi.to_string().as_str(), "NO_ELIGIBLE_WEIGHT")
    );
    let paid: u128 = lines
        .iter()
        .map(|r| r["amount"].parse::<u128>().unwrap())
        .sum();
    assert_eq!(paid, emission, "every unit of the emission is on a line");

    // The state says epoch 1 is next: epoch 0 again, or epoch 1 without the state, is refused.
    let state_text = std::fs::read_to_string(&state0).unwrap();
    assert!(state_text.contains("\"next_epoch\": 1"), "{state_text}");
    let (code, _, stderr) = compute(
        &files,
        &[
            "--inputs",
            arg(&inputs),
            "--epoch",
            "0",
            "--state",
            arg(&state0),
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ready for epoch 1"), "{stderr}");
    let (code, _, stderr) = compute(&files, &["--inputs", arg(&inputs), "--epoch", "1"]);
    assert_eq!(code, 2, "{stderr}");

    // Epoch 1, the last, from epoch 0's state.
    let state1 = files.path("state-1.json");
    let (code, stdout, stderr) = compute(
        &files,
        &[
            "--inputs",
            arg(&inputs),
            "--epoch",
            "1",
            "--state",
            arg(&state0),
            "--state-out",
            arg(&state1),
        ],
    );
    assert_eq!(code, 0, "stderr:\n{stderr}");
    let lines = rows(&stdout);
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|r| r["epoch"] == "1"), "{stdout}");
    assert!(std::fs::read_to_string(&state1)
        .unwrap()
        .contains("\"next_epoch\": 2"));
    // The last epoch empties the pool: it emits all that epoch 0 did not allocate (the carried
    // a100-40gi slice included), so the budget is accounted for once over the two epochs.
    let allocated0 = alice + bob + slice_80gi;
    let second: u128 = lines
        .iter()
        .map(|r| r["amount"].parse::<u128>().unwrap())
        .sum();
    assert_eq!(allocated0 + second, 400_000_000, "{stdout}");
}

#[test]
fn a_bad_inputs_csv_fails_naming_the_file_line_and_field() {
    let files = Files::new();
    let bad = files.write(
        "bad.csv",
        &format!("{HEADER}h100,akash1alice,0,10,1,1\nh100,akash1bob,0,-5,1,1\n"),
    );
    let state = files.path("state.json");
    let (code, stdout, stderr) = compute(
        &files,
        &[
            "--inputs",
            arg(&bad),
            "--epoch",
            "0",
            "--state-out",
            arg(&state),
        ],
    );
    assert_eq!(code, 1, "stderr:\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("bad.csv:3 (field online_gpu_ms)"),
        "{stderr}"
    );
    assert!(!state.exists(), "no state is written for a refused epoch");

    let unknown = files.write(
        "unknown.csv",
        &format!("{HEADER}h200,akash1alice,0,10,1,1\n"),
    );
    let (code, _, stderr) = compute(&files, &["--inputs", arg(&unknown), "--epoch", "0"]);
    assert_eq!(code, 1, "stderr:\n{stderr}");
    assert!(stderr.contains("unknown.csv:2 (field class)"), "{stderr}");

    let (code, _, stderr) = compute(
        &files,
        &["--inputs", arg(&files.path("missing.csv")), "--epoch", "0"],
    );
    assert_eq!(code, 2, "stderr:\n{stderr}");
}
