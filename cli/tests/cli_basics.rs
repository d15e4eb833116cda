//! The binary's foundation commands, run as a user would run them.

mod support;

use support::{binary, run, shipped_config};

#[test]
fn config_check_accepts_the_shipped_configurations() {
    for name in ["example.toml", "devnet.toml"] {
        let (code, stdout, stderr) = run(binary()
            .args(["config", "check", "--config"])
            .arg(shipped_config(name)));
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stdout.contains("valid"), "{stdout}");
    }
    let (_, stdout, _) = run(binary()
        .args(["config", "check", "--config"])
        .arg(shipped_config("example.toml")));
    assert!(stdout.contains("120 epochs of 1day"), "{stdout}");
    assert!(
        stdout.contains("pool committed: budget $2000000, 2 contract(s)"),
        "{stdout}"
    );
}

#[test]
fn a_broken_configuration_exits_2_and_names_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(shipped_config("example.toml"))
        .unwrap()
        .replacen("epochs = 120", "epochs = 0", 1);
    let line = text
        .lines()
        .position(|l| l.starts_with("epochs = 0"))
        .unwrap()
        + 1;
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, text).unwrap();
    let (code, _, stderr) = run(binary().args(["config", "check", "--config"]).arg(&path));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "broken.toml:{line}: program.epochs: the programme has no epochs"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, stderr) = run(binary().args(["config", "check"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("no configuration given"), "{stderr}");
    let (code, _, _) = run(binary().args(["no-such-command"]));
    assert_eq!(code, 2);
    let (code, _, stderr) = run(binary().args(["db", "status", "--database-url", "mysql://x"]));
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn report_and_verify_without_what_to_do_are_usage_errors() {
    let (code, _, stderr) = run(binary().arg("report"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--out"), "{stderr}");
    let (code, _, stderr) = run(binary().arg("verify"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nothing to verify"), "{stderr}");
}

#[test]
fn db_migrate_then_status_on_a_new_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sub/akash.sqlite");
    let (code, _, stderr) = run(binary().args(["db", "status", "--database-url"]).arg(&db));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(binary().args(["db", "migrate", "--database-url"]).arg(&db));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("schema up to date"), "{stdout}");
    let (code, stdout, stderr) = run(binary().args(["db", "status", "--database-url"]).arg(&db));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("PENDING"), "{stdout}");
    assert!(stdout.contains("rows in leases: 0"), "{stdout}");
}

/// Logs go to stderr without terminal colour codes when stderr is a pipe (as in a file, a cron
/// mail or CI), and results to stdout without log lines mixed in.
#[test]
fn logs_in_a_pipe_carry_no_colour_codes_and_stay_off_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("akash.sqlite");
    let (code, stdout, stderr) = run(binary()
        .env_remove("NO_COLOR")
        .args(["db", "migrate", "--database-url"])
        .arg(&db));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("database is up to date"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(!stdout.contains("INFO"), "{stdout}");
    assert!(stdout.contains("schema up to date"), "{stdout}");
}

#[test]
fn the_database_url_comes_from_the_environment_when_not_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-env.sqlite");
    let (code, _, stderr) = run(binary()
        .args(["db", "migrate"])
        .env("AKASH_INCENTIVES_DATABASE_URL", &db));
    assert_eq!(code, 0, "{stderr}");
    assert!(db.exists());
}

#[test]
fn an_unreachable_database_is_a_failure_with_its_cause() {
    let (code, _, stderr) = run(binary().args([
        "db",
        "status",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot connect to the PostgreSQL database"),
        "{stderr}"
    );
    assert!(stderr.contains("caused by"), "{stderr}");
}
