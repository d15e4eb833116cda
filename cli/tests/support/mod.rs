//! What every test of the binary shares: how the binary is started (with the developer's
//! environment kept out), how it is run to the end, and where the shipped configurations are.
//! [`e2e`] adds a fixture chain node and the comparison of the binary's exports with the truth;
//! [`audit`] the published reports of a fixture chain that the `report` tests start from.
//!
//! Each test file includes this with `mod support;`, so a helper fixed here is fixed for every
//! test, instead of one copy per file drifting from the others.

#![allow(dead_code)] // each test binary uses a different part

pub mod audit;
pub mod e2e;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Variables through which the developer's shell could steer the binary (configuration,
/// database, RPC endpoints, log filter); [`binary`] removes all of them.
pub const STEERING_VARS: [&str; 5] = [
    "AKASH_INCENTIVES_CONFIG",
    "AKASH_INCENTIVES_DATABASE_URL",
    "DATABASE_URL",
    "AKASH_INCENTIVES_RPC_URLS",
    "RUST_LOG",
];

/// The binary, with every [`STEERING_VARS`] variable removed, so the developer's own
/// environment cannot change what a test sees.
pub fn binary() -> Command {
    binary_keeping(&[])
}

/// The binary with the [`STEERING_VARS`] removed except those in `kept`, for a test that has
/// always let one of them through.
pub fn binary_keeping(kept: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_akash-incentives"));
    for var in STEERING_VARS.iter().filter(|var| !kept.contains(var)) {
        command.env_remove(var);
    }
    command
}

/// The program `name` from `PATH`; `None` (with a message saying what is skipped and how to
/// install it) when it is missing, outside CI.
///
/// # Panics
/// Under `CI=true` when it is missing: there a skip would hide exactly what the test is for,
/// and `.ci/run` installs the Debian package `package`.
pub fn tool_on_path(name: &str, package: &str, skipped: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|folder| folder.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true but {name} is not on PATH: .ci/run installs Debian's {package}"
        );
        eprintln!(
            "SKIPPED: {skipped}, no {name} on PATH; install Debian's {package} (apt-get install \
             {package}) to run them"
        );
    }
    found
}

/// A configuration shipped in `config/` (`example.toml`, `devnet.toml`).
pub fn shipped_config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config")
        .join(name)
}

/// Runs `command` to the end with [`Command::output`] (standard input closed, both outputs
/// captured) and returns its exit code, standard output and standard error. Panics when the
/// process was killed by a signal.
pub fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run akash-incentives");
    (
        status.code().expect("exited normally"),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Runs `command` to the end, killing it (and failing) after `limit`. Both outputs are
/// captured, read while it runs (so an output larger than a pipe's buffer cannot stall it);
/// standard input is inherited, as [`Command::spawn`] does by default.
pub fn run_within(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr.join().unwrap_or_default();
            panic!(
                "{command:?} did not finish within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("read standard output"),
        stderr: stderr.join().expect("read standard error"),
    }
}

/// A port on 127.0.0.1 that was free a moment ago (the listener is closed before returning).
pub fn free_local_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
}

/// The body of `GET path` from `addr` over plain HTTP/1.0, or `None` while nothing answers
/// there (or the answer is not a 200).
pub fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let ok = head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200");
    ok.then(|| body.to_string())
}

/// Polls `/metrics` at `addr` until its body satisfies `done`, failing after a minute or when
/// `child` exits first.
pub fn scrape_until(
    addr: SocketAddr,
    child: &mut Child,
    log: &std::path::Path,
    done: impl Fn(&str) -> bool,
) -> String {
    let started = Instant::now();
    let mut last = None;
    loop {
        if let Some(body) = http_get(addr, "/metrics") {
            if done(&body) {
                return body;
            }
            last = Some(body);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the command exited early: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no expected /metrics at {addr} within a minute; last scrape: {last:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM to `child`.
pub fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed");
}

/// Waits for `child` to exit, killing it (and failing) after `limit`.
pub fn wait_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
