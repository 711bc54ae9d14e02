//! Every subcommand with its standard output closed early (`albingest … | head -c 10`, `| true`):
//! no panic, no hang, the conventional status. The choice, as ripgrep's: a closed stdout means the
//! reader has what it wanted, so the run stops quietly with status 0 (or the status it had
//! already earned, e.g. 1 for an unreadable input); `parse` still prints its summary on stderr.

mod support;

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// How long a run may take before the test calls it a hang: far beyond what any of these needs
/// on a loaded machine (this bounds the wait, it does not time the run).
const HANG: Duration = Duration::from_secs(120);

/// Runs albingest, reads `keep` bytes of its stdout (0: none), closes the pipe, and waits (bounded)
/// for the exit. Returns the status and stderr.
fn with_stdout_closed(args: &[&str], env: &[(&str, String)], keep: usize) -> (ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("albingest runs");
    let mut stdout = child.stdout.take().unwrap();
    if keep > 0 {
        let mut first = vec![0; keep];
        stdout.read_exact(&mut first).unwrap();
    }
    drop(stdout);
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).ok();
        text
    });
    let status = wait_bounded(&mut child, args);
    (status, reader.join().unwrap())
}

fn wait_bounded(child: &mut Child, args: &[&str]) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > HANG {
            child.kill().ok();
            child.wait().ok();
            panic!("albingest {args:?} did not exit after its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn check(args: &[&str], env: &[(&str, String)], keep: usize, want: i32) {
    let (status, stderr) = with_stdout_closed(args, env, keep);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "albingest {args:?}: {stderr}"
    );
    assert_eq!(status.code(), Some(want), "albingest {args:?}: {stderr}");
}

/// A file big enough for several blocks of output (3,000 lines, ~2.5 MB of documents).
fn big_log(dir: &TempDir) -> String {
    let path = dir
        .path()
        .join(alb_key("closed").rsplit('/').next().unwrap());
    std::fs::write(&path, gzip(alb_lines(3000, 10).as_bytes())).unwrap();
    path.display().to_string()
}

#[test]
fn parse_stops_when_stdout_closes() {
    let dir = TempDir::new("closed-parse");
    let file = big_log(&dir);
    for threads in ["1", "2"] {
        for keep in [0, 10] {
            check(&["parse", "--threads", threads, &file], &[], keep, 0);
            check(
                &["parse", "--bulk", "--threads", threads, &file, &file],
                &[],
                keep,
                0,
            );
        }
    }
    // An unreadable input keeps its status 1.
    check(&["parse", "missing.log", &file], &[], 10, 1);
}

#[test]
fn help_and_version_with_stdout_closed() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["parse", "--help"],
        &["ingest", "--help"],
        &["setup", "--help"],
        &["cleanup", "--help"],
        &["report", "--help"],
    ] {
        check(args, &[], 0, 0);
    }
}

#[test]
fn ingest_dry_run_with_stdout_closed() {
    let dir = TempDir::new("closed-ingest");
    let file = big_log(&dir);
    check(
        &["ingest", "--dry-run", "--progress", "never", &file],
        &[],
        0,
        0,
    );
}

#[test]
fn server_commands_with_stdout_closed() {
    let Some(servers) = search_servers("server_commands_with_stdout_closed") else {
        return;
    };
    for server in servers {
        let url = server.url.as_str();
        let prefix = unique("closed");
        let alb = format!("alb={prefix}");
        let runs: Vec<Vec<&str>> = vec![
            vec!["setup", "--index-prefix", &alb],
            vec!["report", "--since", "all", "--index-prefix", &prefix],
            vec![
                "report",
                "--json",
                "--since",
                "all",
                "--index-prefix",
                &prefix,
            ],
            vec![
                "cleanup",
                "--dry-run",
                "--retention-days",
                "7",
                "--prefix",
                &alb,
            ],
            vec![
                "cleanup",
                "--dry-run",
                "--json",
                "--retention-days",
                "7",
                "--prefix",
                &alb,
            ],
        ];
        for mut args in runs {
            args.extend(["--endpoint", url]);
            check(&args, &[], 0, 0);
        }
    }
}

/// Runs albingest with stdout to /dev/null and stderr a pipe whose reader is already gone: every
/// message albingest writes there fails with EPIPE (SIGPIPE is ignored in Rust programs).
fn with_stderr_closed(args: &[&str]) -> ExitStatus {
    let mut child = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("albingest runs");
    drop(child.stderr.take());
    wait_bounded(&mut child, args)
}

/// A closed stderr loses the messages, not the status: no panic (101), the status the run earned.
#[test]
fn a_closed_stderr_keeps_the_status() {
    let dir = TempDir::new("closed-stderr");
    let file = big_log(&dir);
    let missing = dir.path().join("missing.log").display().to_string();
    for (args, want) in [
        (vec!["parse", file.as_str()], 0),
        (vec!["parse", missing.as_str()], 1),
        (
            vec!["ingest", "--dry-run", "--progress", "never", file.as_str()],
            0,
        ),
        (
            vec![
                "ingest",
                "--dry-run",
                "--progress",
                "never",
                missing.as_str(),
            ],
            1,
        ),
    ] {
        let status = with_stderr_closed(&args);
        assert_eq!(status.code(), Some(want), "albingest {args:?}");
    }
}
