//! `simnet providers`, `probe --once`, `probe export` and `probe import`, run as a user would:
//! fake providers from the CLI, probed by the CLI, moved between two databases as JSON Lines.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use support::{binary, binary_keeping, run, shipped_config};
use uptime_prober::jsonl::ObservationLine;
use uptime_prober::signing::{ProberKey, Vantages};

/// What these tests let through of the developer's environment, as they always have:
/// `AKASH_INCENTIVES_RPC_URLS`, which probing does not read.
const KEPT_VARS: &[&str] = &["AKASH_INCENTIVES_RPC_URLS"];

/// `simnet providers` in the background; killed when dropped.
struct Fakes {
    child: Child,
    targets: Vec<String>,
}

impl Fakes {
    fn start(spec: &Path) -> Self {
        let mut child = binary_keeping(KEPT_VARS)
            .args(["-q", "simnet", "providers", "--seconds", "120", "--spec"])
            .arg(spec)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start simnet providers");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut targets = Vec::new();
        for line in lines.by_ref() {
            let line = line.expect("read simnet output");
            if line.starts_with("probe them with:") {
                break;
            }
            let mut words = line.split(' ');
            let (owner, uri) = (words.next().unwrap(), words.next().unwrap());
            assert!(uri.starts_with("https://127.0.0.1:"), "{line}");
            assert!(line.contains("cert_sha256="), "{line}");
            targets.push(format!("{owner}={uri}"));
        }
        Self { child, targets }
    }
}

impl Drop for Fakes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SPEC: &str = r#"[
  {"owner": "akash1cliup", "nodes": [{"name": "gpu-1", "allocatable": "8", "allocated": "3",
    "gpus": [
      {"vendor": "nvidia", "name": "a100", "memory_size": "80Gi", "interface": "SXM4"},
      {"vendor": "nvidia", "name": "a100", "memory_size": "80Gi", "interface": "SXM4"},
      {"vendor": "nvidia", "name": "a100", "memory_size": "80Gi", "interface": "SXM4"},
      {"vendor": "nvidia", "name": "a100", "memory_size": "80Gi", "interface": "SXM4"},
      {"vendor": "nvidia", "name": "a100", "memory_size": "80Gi", "interface": "SXM4"},
      {"vendor": "nvidia", "name": "a100", "memory_size": "80Gi", "interface": "SXM4"},
      {"vendor": "nvidia", "name": "a100", "memory_size": "80Gi", "interface": "SXM4"},
      {"vendor": "nvidia", "name": "a100", "memory_size": "80Gi", "interface": "SXM4"}]}]},
  {"owner": "akash1cliold", "version": "0.4.7", "rest_shape": "units_val",
   "nodes": [{"name": "rtx", "allocatable": "18446744073709551615", "allocated": "0"}]},
  {"owner": "akash1clidown", "script": [{"after_ms": 0, "behaviour": "down"}]}
]"#;

#[test]
fn probe_once_export_and_import_round_trip_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fakes.json");
    std::fs::write(&spec, SPEC).unwrap();
    let fakes = Fakes::start(&spec);
    assert_eq!(fakes.targets.len(), 3);
    let first_db = dir.path().join("first.sqlite");
    let second_db = dir.path().join("second.sqlite");

    let mut probe = binary_keeping(KEPT_VARS);
    probe
        .arg("--config")
        .arg(shipped_config("devnet.toml"))
        .arg("--database-url")
        .arg(&first_db);
    probe.args(["-q", "probe", "--once", "--grpc-port", "rest+1"]);
    for target in &fakes.targets {
        probe.args(["--target", target]);
    }
    let (code, stdout, stderr) = run(&mut probe);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("akash1cliup online")
            && stdout.contains("via grpc [gpu-1: 8×a100, 3 allocated]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("akash1cliold online")
            && stdout.contains("via rest [rtx: 16×unknown, 0 allocated (clamped)]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("akash1clidown offline")
            && stdout.contains("connect: version: cannot connect"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 provider(s) probed")
            && stdout.contains("2 online, 1 offline; 3 observation(s) stored"),
        "{stdout}"
    );

    let exported = dir.path().join("observations.jsonl");
    let (code, _, stderr) = run(binary_keeping(KEPT_VARS)
        .arg("--database-url")
        .arg(&first_db)
        .args([
            "probe",
            "export",
            "--from",
            "2000-01-01",
            "--to",
            "2199-01-01",
            "--out",
        ])
        .arg(&exported));
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&exported).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with(r#"{"prober":"devnet","provider":"akash1cli"#)),
        "{text}"
    );
    assert!(text.contains(r#""gpus":[{"model":"a100","ram":"80Gi","interface":"sxm","allocatable":8,"allocated":3}]"#), "{text}");
    // devnet.toml names the devnet prober's key: every observation it stored is signed with it.
    let devnet_key = ProberKey::read(&shipped_config("devnet-prober.key")).unwrap();
    let vantages = Vantages::new([("devnet", devnet_key.public_key().as_str())]).unwrap();
    for line in &lines {
        let line: ObservationLine = serde_json::from_str(line).unwrap();
        assert_eq!(
            vantages.check(&line, line.signature.as_deref()),
            Ok(()),
            "{line:?}"
        );
    }

    // The second database knows the providers from its own chain; one more is known there.
    {
        let url = store::DatabaseUrl::SqliteFile(second_db.clone());
        let mut store = store::Store::open(&url).unwrap();
        for owner in [
            "akash1cliup",
            "akash1cliold",
            "akash1clidown",
            "akash1cligood",
        ] {
            store::testing::register_provider(store.conn(), owner, "https://p:8443", None).unwrap();
        }
    }
    // The second database takes the devnet vantage point's signed lines (devnet.toml names it).
    let import = |file: &Path, strict: bool| {
        let mut command = binary_keeping(KEPT_VARS);
        command
            .arg("--config")
            .arg(shipped_config("devnet.toml"))
            .arg("--database-url")
            .arg(&second_db)
            .args(["probe", "import"])
            .arg(file);
        if strict {
            command.arg("--strict");
        }
        run(&mut command)
    };
    let (code, stdout, stderr) = import(&exported, false);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("3 line(s): 3 imported, 0 already present, 0 rejected"),
        "{stdout}"
    );
    let (code, stdout, _) = import(&exported, true);
    assert_eq!(code, 0, "nothing rejected: --strict succeeds");
    assert!(stdout.contains("0 imported, 3 already present"), "{stdout}");

    let broken = dir.path().join("broken.jsonl");
    let up = lines.iter().find(|l| l.contains("akash1cliup")).unwrap();
    let bad = up
        .replace(r#""allocatable":8"#, r#""allocatable":-8"#)
        .replace("akash1cliup", "akash1clinew");
    let mut good: ObservationLine = serde_json::from_str(up).unwrap();
    good.provider = "akash1cligood".into();
    good.signature = Some(devnet_key.sign(&good).unwrap());
    let good = serde_json::to_string(&good).unwrap();
    let stranger = up.replace("akash1cliup", "akash1stranger");
    // Edited after signing: one fewer GPU allocated.
    let edited = up.replace(r#""allocated":3"#, r#""allocated":2"#);
    std::fs::write(
        &broken,
        format!("{good}\n{bad}\nnot json\n{stranger}\n{edited}\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = import(&broken, false);
    assert_eq!(
        code, 0,
        "every line was stored or recorded as rejected: {stderr}"
    );
    assert!(
        stderr.contains("line 2: rejected (malformed): not an observation")
            && stderr.contains("line 3: rejected (malformed)")
            && stderr.contains("line 4: rejected (unknown_provider): akash1stranger has never")
            && stderr.contains("line 5: rejected (bad_signature): the signature does not verify"),
        "{stderr}"
    );
    assert!(
        stdout.contains("5 line(s): 1 imported, 0 already present, 4 rejected (2 malformed, 1 unknown_provider, 1 bad_signature)"),
        "{stdout}"
    );
    let id = stdout
        .split_whitespace()
        .nth(1)
        .and_then(|w| w.strip_suffix(':'))
        .expect("the import's id")
        .to_owned();
    assert!(
        stderr.contains(&format!("probe rejections --import {id}")),
        "{stderr}"
    );

    // --strict fails the same import (a cron job notices), after keeping what it could.
    let (code, _, stderr) = import(&broken, true);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("4 line(s) rejected (--strict)"), "{stderr}");

    // The rejected lines are listed with their raw text, by import.
    let (code, listed, stderr) = run(binary_keeping(KEPT_VARS)
        .arg("--database-url")
        .arg(&second_db)
        .args(["probe", "rejections", "--import", &id]));
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(i64, &str)> = rows
        .iter()
        .map(|r| (r["line"].as_i64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            (2, "malformed"),
            (3, "malformed"),
            (4, "unknown_provider"),
            (5, "bad_signature")
        ]
    );
    assert_eq!(rows[0]["raw"].as_str(), Some(bad.as_str()));
    assert_eq!(rows[2]["raw"].as_str(), Some(stranger.as_str()));
    assert_eq!(rows[1]["import"].as_str(), Some(id.as_str()));
    assert!(rows.iter().all(|r| r["source"].as_str() == broken.to_str()));
    let (_, everything, _) = run(binary_keeping(KEPT_VARS)
        .arg("--database-url")
        .arg(&second_db)
        .args(["probe", "rejections"]));
    assert_eq!(
        everything.lines().count(),
        8,
        "both imports' rejections: {everything}"
    );
}

#[test]
fn probe_usage_errors_exit_2() {
    let config = shipped_config("devnet.toml");
    for args in [
        vec!["probe"],
        vec!["probe", "--once", "--follow"],
        vec!["probe", "--once", "--grpc-port", "port-nine"],
        vec!["probe", "--once", "--target", "no-equals-sign"],
        vec![
            "probe",
            "export",
            "--from",
            "2024-02-16",
            "--to",
            "2024-02-15",
        ],
        vec![
            "probe",
            "export",
            "--from",
            "yesterday",
            "--to",
            "2024-02-15",
        ],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (code, _, stderr) = run(binary_keeping(KEPT_VARS)
            .arg("--config")
            .arg(&config)
            .arg("--database-url")
            .arg(dir.path().join("db.sqlite"))
            .args(&args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
    }
}

/// `probe keygen` needs no configuration: it writes a private key its owner alone can read and
/// the public key beside it, prints the public key as the configuration entry that names it,
/// and never overwrites a key.
#[test]
fn probe_keygen_writes_a_key_once_and_prints_its_vantage_entry() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("eu-1.key");
    let (code, stdout, stderr) = run(binary().args(["probe", "keygen", "--out"]).arg(&key));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("[[prober.vantage]]\n"), "{stdout}");
    let public = stdout
        .lines()
        .find_map(|l| l.strip_prefix("public_key = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("a public_key line");
    let written = uptime_prober::signing::ProberKey::read(&key).unwrap();
    assert_eq!(written.public_key(), public);
    let public_file = dir.path().join("eu-1.key.pub");
    assert_eq!(
        std::fs::read_to_string(&public_file).unwrap(),
        format!("{public}\n")
    );
    let (code, _, stderr) = run(binary().args(["probe", "keygen", "--out"]).arg(&key));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&key.display().to_string()), "{stderr}");
    assert_eq!(
        uptime_prober::signing::ProberKey::read(&key)
            .unwrap()
            .public_key(),
        public
    );
}
