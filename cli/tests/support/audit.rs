//! The audit publication that the `report` tests share: the independent fixture chain
//! `era-a-small` served on 127.0.0.1, indexed, the devnet probe observations imported, every
//! epoch settled and published by the real binary (`report --all`).
//!
//! **The test programme** (`audit`, written into the test's configuration) is chosen so the
//! test can compute every allocation itself from `truth.json`, without the engine: five
//! ten-minute epochs from 2024-02-15T00:00:00Z, one liquidity-mining pool of 1 000 000 007 uakt
//! with `α = 0`, `β = 1`, `min_uptime = 0` (uptime gates nobody, so the observations change the
//! published inputs but no amount) and `undistributed = "return"`, over five classes named after
//! the one GPU model each takes (any memory size). From the specification in the `rewards`
//! crate docs, epoch `k` then pays:
//!
//! 1. the emission `E_k = floor(B·(k+1)/N) − floor(B·k/N)`;
//! 2. split across the classes by share, by largest remainder (ties to the smaller class name);
//! 3. within a class, by largest remainder over each provider's leased GPU-ms in the epoch
//!    window, `Σ gpu_units × |[created, closed) ∩ [start, end)|` over its leases of the class's
//!    model (an open lease runs to the window's end, times truncated to milliseconds), the
//!    published weight being that in thousandths (`β = 1` is 1000 thousandths);
//! 4. a class without leased time returns its whole slice in one `NO_ELIGIBLE_WEIGHT` line.
//!
//! The `mi300x` class never has a lease, so every epoch returns a slice.
//!
//! The same store also settles `devnet` (the programme of `config/devnet.toml`), whose folders
//! serve as "another programme's" epochs. One good publication is made per test binary
//! ([`good`]) and shared; a test that changes files works on a copy ([`copy_folder`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use super::e2e::{
    fixture, index, set_metrics_listen, truth, write_config, ChainConfig, ServedChain,
};
use super::{binary, run, shipped_config};

pub const FIXTURE: &str = "era-a-small";
/// The test's own programme.
pub const PROGRAMME: &str = "audit";
/// The programme of `config/devnet.toml`, settled on the same store.
pub const OTHER_PROGRAMME: &str = "devnet";
pub const EPOCHS: u32 = 5;
pub const START: &str = "2024-02-15T00:00:00Z";
pub const EPOCH_MS: i64 = 600_000;
pub const BUDGET: u128 = 1_000_000_007;
/// Each class, named after the GPU model it takes, and its share in hundredths.
pub const CLASSES: [(&str, u128); 5] = [
    ("a100", 35),
    ("h100", 25),
    ("h200", 20),
    ("mi300x", 5),
    ("t4", 15),
];
/// When settlement runs, as in `scripts/run-devnet`: after the last epoch's end (00:50).
pub const SETTLED_AT: &str = "2024-02-15T01:00:00Z";
/// The last epoch: the one no later manifest vouches for.
pub const LAST: u32 = EPOCHS - 1;

/// The `[program]` table and everything after it in the test configuration.
pub fn audit_programme() -> String {
    let mut toml = format!(
        "[program]\nname = \"{PROGRAMME}\"\nstart = \"{START}\"\nepoch_length = \"10m\"\n\
         epochs = {EPOCHS}\ndenom = \"uakt\"\n\n"
    );
    for (class, _) in CLASSES {
        toml += &format!("[[classes]]\nname = \"{class}\"\ngpu_model = \"{class}\"\n\n");
    }
    let shares: Vec<String> = CLASSES
        .iter()
        .map(|(class, share)| format!("{{ class = \"{class}\", share = \"0.{share:02}\" }}"))
        .collect();
    toml += &format!(
        "[vesting.immediate]\nkind = \"immediate\"\n\n[pools.liquidity_mining]\n\
         budget = {{ base_units = \"{BUDGET}\" }}\nalpha = \"0\"\nbeta = \"1\"\n\
         min_uptime = \"0\"\nundistributed = \"return\"\nvesting = \"immediate\"\n\
         classes = [{}]\n",
        shares.join(", ")
    );
    toml
}

// ---------------------------------------------------------------------------------------------
// Running the flow.

/// The configurations of both programmes, pointing at `rpc_url`.
pub struct Configs {
    pub devnet: PathBuf,
    pub audit: PathBuf,
}

pub fn write_configs(dir: &Path, rpc_url: &str, truth: &Value) -> Configs {
    let devnet = write_config(dir, &ChainConfig::for_fixture(rpc_url, truth));
    set_metrics_listen(&devnet, "127.0.0.1:0".parse().expect("an address"));
    let text = std::fs::read_to_string(&devnet).expect("read the devnet configuration");
    let programme = text.find("[program]").expect("a [program] table");
    let audit = dir.join("audit.toml");
    std::fs::write(
        &audit,
        format!("{}{}", &text[..programme], audit_programme()),
    )
    .expect("write the audit configuration");
    Configs { devnet, audit }
}

/// Runs the binary with `config` and `database`; panics with its output unless it succeeds.
pub fn cli(config: &Path, database: &str, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(binary()
        .arg("--config")
        .arg(config)
        .args(["--database-url", database])
        .args(args));
    assert_eq!(code, 0, "{args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

/// Serves the fixture, indexes it into `database`, imports the devnet observations, settles
/// both programmes and reports them into `work/reports`, which is returned.
pub fn publish_fixture(work: &Path, database: &str) -> PathBuf {
    let truth = truth(FIXTURE);
    let chain = ServedChain::start(&fixture(FIXTURE));
    let configs = write_configs(work, chain.url(), &truth);
    let last = truth["last_height"]
        .as_u64()
        .expect("last_height")
        .to_string();
    index(&configs.devnet, database, &["--to", &last]);
    drop(chain);
    let observations = shipped_config("devnet-observations.jsonl");
    let observations = observations.to_str().expect("a UTF-8 path");
    cli(
        &configs.devnet,
        database,
        &["probe", "import", observations],
    );
    let out = work.join("reports");
    let out_arg = out.to_str().expect("a UTF-8 path");
    for config in [&configs.audit, &configs.devnet] {
        cli(config, database, &["settle", "--all", "--now", SETTLED_AT]);
        cli(config, database, &["report", "--all", "--out", out_arg]);
    }
    out
}

/// The publication every test starts from, made once per run.
pub struct Good {
    pub database: String,
    pub audit_config: PathBuf,
    pub out: PathBuf,
}

impl Good {
    pub fn programme(&self) -> PathBuf {
        self.out.join(PROGRAMME)
    }
}

pub fn good() -> &'static Good {
    static GOOD: OnceLock<Good> = OnceLock::new();
    GOOD.get_or_init(|| {
        // Cargo leaves this folder to the tests; it is emptied at the start of every run, and
        // named after the test binary so that two binaries never share one.
        let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(env!("CARGO_CRATE_NAME"));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).expect("create the work folder");
        let database = work.join("good.sqlite").display().to_string();
        let out = publish_fixture(&work, &database);
        Good {
            database,
            audit_config: work.join("audit.toml"),
            out,
        }
    })
}

pub fn epoch_folder(programme: &Path, epoch: u32) -> PathBuf {
    programme.join(format!("epoch-{epoch}"))
}

pub fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a folder");
    for entry in std::fs::read_dir(from).expect("read a folder") {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Every file under `root`, by path relative to it.
pub fn files_under(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, folder: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(folder).expect("read a folder") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let relative = path.strip_prefix(root).expect("under the root").to_owned();
                files.insert(relative, std::fs::read(&path).expect("read a file"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
}
