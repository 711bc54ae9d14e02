//! Waiting is visible: a search server that is down fails the run at once with a clear message
//! (unless `--wait-for-server` asks to wait, which says so as it waits), and batches that retry
//! say why and when they give up — one line per retry round at most every few seconds without a
//! progress bar.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::fault_proxy::{Action, FaultProxy};
use support::*;

async fn albingest(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_albingest"))
            .args(&args)
            .env_remove("ALBINGEST_ENDPOINT")
            .output()
            .expect("albingest runs")
    })
    .await
    .unwrap()
}

fn ingest_args(file: &str, endpoint: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "ingest",
        file,
        "--endpoint",
        endpoint,
        "--progress",
        "never",
    ];
    args.extend(extra);
    args.into_iter().map(String::from).collect()
}

fn small_log(dir: &TempDir) -> String {
    let path = dir.path().join("x.log");
    std::fs::write(&path, alb_lines(20, 20)).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_connections_fails_the_run_at_once() {
    let dir = TempDir::new("down");
    let file = small_log(&dir);
    let down = format!("http://127.0.0.1:{}", free_port());
    for extra in [&["--no-setup"][..], &[]] {
        let out = albingest(ingest_args(&file, &down, extra)).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("the search server does not answer")
                && err.contains("Connection refused")
                && err.contains("--wait-for-server"),
            "{err}"
        );
        assert!(!err.contains("waiting"), "it did not wait: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_server_waits_and_says_so() {
    let dir = TempDir::new("wait");
    let file = small_log(&dir);
    let down = format!("http://127.0.0.1:{}", free_port());
    let out = albingest(ingest_args(&file, &down, &["--wait-for-server", "2s"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let waiting: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("albingest ingest: waiting for the search server ("))
        .collect();
    assert!(!waiting.is_empty(), "{err}");
    assert!(waiting[0].contains("Connection refused") && waiting[0].ends_with("2s left"));
    assert!(
        err.contains("the search server did not answer within --wait-for-server 2s"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_say_why_and_when_they_give_up() {
    let Some(servers) = search_servers("retries_say_why") else {
        return;
    };
    let server = &servers[0];
    let dir = TempDir::new("retry-notice");
    let file = small_log(&dir);
    let prefix = unique("retry-notice");
    // Every `_bulk` answers 503 for the first seconds, as a cluster whose primaries are not
    // active yet does; then the requests go through.
    let until = Instant::now() + Duration::from_secs(6);
    let proxy = FaultProxy::start(&server.url, move |request, _| {
        if request.is_bulk() && Instant::now() < until {
            Action::server_error(503)
        } else {
            Action::Forward
        }
    })
    .await;
    let out = albingest(ingest_args(
        &file,
        &proxy.url,
        &["--index-prefix", &prefix, "--retry-initial-ms", "50"],
    ))
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let notices: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("albingest ingest: retrying 1 batch ("))
        .collect();
    assert!(!notices.is_empty(), "no retry notice in {err}");
    for notice in &notices {
        assert!(
            // --retry-for's default: 300 s from the first failure.
            notice.contains("HTTP 503")
                && (notice.ends_with("); giving up in 5m 00s")
                    || notice.contains("); giving up in 4m ")),
            "{notice}"
        );
    }
    // Not one line per retry: at most one every few seconds.
    let retries: u64 = err
        .lines()
        .find(|l| l.starts_with("albingest ingest: 1 object, "))
        .and_then(|l| l.split(", ").find_map(|p| p.strip_suffix(" retries")))
        .unwrap_or_else(|| panic!("no total in {err}"))
        .parse()
        .unwrap();
    assert!(
        (notices.len() as u64) < retries,
        "{} notices for {retries} retries: {err}",
        notices.len()
    );
    assert!(err.contains(", 20 indexed, "), "{err}");
}
