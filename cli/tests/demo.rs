//! `demo`, the README's first command, as a newcomer runs it: from a folder of their own (no
//! `../shared`, no configuration), on 127.0.0.1 only. It ends with verified reports and a
//! summary, its output in a file carries no terminal escape codes, and a folder that holds
//! something else is never written into.

mod support;

use std::time::Duration;

use support::{binary, run_within};

#[test]
fn the_demo_runs_the_whole_pipeline_from_any_folder_and_reads_well_in_a_file() {
    let cwd = tempfile::tempdir().unwrap();
    let output = run_within(
        binary()
            .current_dir(cwd.path())
            .args(["demo", "--epoch-seconds", "5"]),
        Duration::from_secs(240),
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for step in 1..=6 {
        assert!(
            stdout.contains(&format!("[{step}/6] ")),
            "step {step}:\n{stdout}"
        );
    }
    for wanted in [
        "10 fake providers",
        "0 rejection(s) recorded",
        "9 of 10 providers online",
        "goes offline",
        "8 of 10 providers online",
        "epoch 2 sealed",
        "verified: programme demo, 3 epoch(s) (0–2)",
        "Merkle root of the vested amounts after epoch 2: ",
        " uakt (",
    ] {
        assert!(stdout.contains(wanted), "{wanted:?} missing:\n{stdout}");
    }
    // Every pool lists who earned most.
    for pool in ["committed", "liquidity_mining", "rnd"] {
        let at = stdout.find(&format!("  {pool}: allocated ")).expect(pool);
        assert!(stdout[at..].contains("    1. akash1"), "{pool}:\n{stdout}");
    }
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "escape codes in a file"
    );
    assert!(
        stderr.is_empty(),
        "the demo's logs are quiet unless -v: {stderr}"
    );
    let folder = cwd.path().join("akash-incentives-demo");
    for file in [
        "demo.toml",
        "demo.sqlite",
        "reports/demo/report.html",
        "reports/demo/epoch-2/manifest.json",
    ] {
        assert!(folder.join(file).is_file(), "{file} missing");
    }
}

#[test]
fn the_demo_never_writes_into_a_folder_that_holds_something_else() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("notes.txt");
    std::fs::write(&theirs, "mine").unwrap();
    let output = run_within(
        binary().arg("demo").arg("--out").arg(dir.path()),
        Duration::from_secs(60),
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds no earlier demo"));
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "mine");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
