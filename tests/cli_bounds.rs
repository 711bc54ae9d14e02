//! Numbers out of range are refused when the arguments are read, and `--deadline` bounds the
//! whole run, setup included (issue 12, item 7): never a panic, never an unbounded wait.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{alb_lines, TempDir};

/// Runs `albingest args`; a run that has not ended after `limit` is killed and fails the test.
fn run_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(args)
        .env_remove("ALBINGEST_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("albingest runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("albingest {args:?} still ran after {limit:?}: {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

#[test]
fn seconds_out_of_range_are_refused_with_the_flag_named() {
    let dir = TempDir::new("bounds");
    let log = dir.path().join("x.log");
    std::fs::write(&log, alb_lines(2, 2)).unwrap();
    let log = log.display().to_string();
    for flag in ["--deadline", "--retry-for", "--request-timeout"] {
        for value in ["1e19", "-1", "NaN", "inf", "x"] {
            for dry_run in [true, false] {
                let flag_value = format!("{flag}={value}");
                let mut args = vec!["ingest", &log, &flag_value];
                args.extend(["--endpoint", "http://127.0.0.1:1", "--no-setup"]);
                if dry_run {
                    args.push("--dry-run");
                }
                let out = run_within(&args, Duration::from_secs(60));
                let err = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
                assert!(!err.contains("panicked"), "{args:?}: {err}");
                assert!(
                    err.contains(flag) && err.contains("seconds"),
                    "{args:?}: the message names the flag and the unit: {err}"
                );
            }
        }
    }
    // The largest accepted values run (a dry run: nothing to wait for).
    for flag in ["--deadline", "--retry-for", "--request-timeout"] {
        let out = run_within(
            &["ingest", &log, flag, "31536000", "--dry-run"],
            Duration::from_secs(60),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{flag}: {err}");
    }
}

/// A server that accepts connections and never answers: `--deadline 2` ends the run, the index
/// template setup included, with an error that says the deadline passed.
#[test]
fn the_deadline_bounds_setup_against_a_server_that_never_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream); // accepted, read from never, answered never
        }
    });
    let dir = TempDir::new("silent");
    let log = dir.path().join("x.log");
    std::fs::write(&log, alb_lines(2, 2)).unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dlq = dir.path().join("dlq").display().to_string();
    let log = log.display().to_string();
    for setup in [true, false] {
        let mut args = vec!["ingest", &log, "--endpoint", &endpoint, "--deadline", "2"];
        args.extend(["--dead-letter", &dlq, "--progress", "never"]);
        if !setup {
            args.push("--no-setup");
        }
        // Far below the 30 s the template requests wait on their own.
        let out = run_within(&args, Duration::from_secs(20));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("deadline"), "{args:?}: {err}");
    }
}
