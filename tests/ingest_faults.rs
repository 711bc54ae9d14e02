//! The fault matrix: faults the stand-in servers never produce (429 per item and per request,
//! 413, 500/503, reset connections, slow answers, a server that is down) come from the HTTP test
//! double in `support/fault_proxy.rs`, in front of each real server.
//!
//! In every case: lines in = indexed + already present + dead-lettered (or the call fails and
//! says what is unplaced), the server holds each line exactly once, and a second run of the
//! same object adds no document.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use albingest::ingest::{IngestError, ObjectSummary};
use albingest::source::Source;
use support::fault_proxy::{Action, FaultProxy, Request};
use support::{
    alb_lines, count, free_port, gzip, search_client, search_servers, unique, Server, Setup,
    TempDir,
};

const LINES: usize = 120;

/// A gzip object of `LINES` ALB lines over two days, in `dir`.
fn object(dir: &TempDir) -> PathBuf {
    let path = dir.path().join("123456789012_elasticloadbalancing_us-east-1_app.fault-alb.1234_20261102T0000Z_10.0.0.1_x.log.gz");
    std::fs::write(&path, gzip(alb_lines(LINES, LINES / 2).as_bytes())).unwrap();
    path
}

fn assert_all_placed(summary: &ObjectSummary, context: &str) {
    assert_eq!(summary.lines, LINES as u64, "{context}: {summary}");
    assert_eq!(
        summary.indexed + summary.already_present + summary.dead_lettered,
        summary.lines,
        "{context}: lines in = indexed + already present + dead-lettered: {summary}"
    );
    assert_eq!(summary.unplaced, 0, "{context}: {summary}");
}

/// Runs the object through the double with `script`, then again straight to the server.
/// Returns the first run's summary and the double's fault count, per server.
async fn recoverable(
    test: &str,
    script: fn(&Request, usize) -> Action,
    tweak: fn(&mut Setup),
) -> Vec<(Server, ObjectSummary, usize)> {
    let Some(servers) = search_servers(test) else {
        return Vec::new();
    };
    let mut results = Vec::new();
    for server in servers {
        let context = format!("{test} on {}", server.name);
        let dir = TempDir::new(test);
        let path = object(&dir);
        let prefix = unique(test);
        let proxy = FaultProxy::start(&server.url, script).await;
        let mut setup = Setup::new(&proxy.url, &prefix, &dir.path().join("dead-letter"));
        tweak(&mut setup);
        setup.install_templates(&server.url).await;

        let first = setup
            .ingester()
            .await
            .ingest(&Source::File(path.clone()), None)
            .await
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_all_placed(&first, &context);
        let faults = proxy.faults.load(std::sync::atomic::Ordering::SeqCst);
        assert!(faults > 0, "{context}: the double injected no fault");

        let client = search_client(&server.url).await;
        let stored = count(&client, &prefix).await;
        assert_eq!(
            stored,
            first.lines - first.dead_lettered,
            "{context}: every line exactly once"
        );

        // Again, without faults: nothing new.
        let mut direct = Setup::new(&server.url, &prefix, &dir.path().join("dead-letter"));
        tweak(&mut direct);
        let second = direct
            .ingester()
            .await
            .ingest(&Source::File(path), None)
            .await
            .unwrap_or_else(|e| panic!("{context}, second run: {e}"));
        assert_all_placed(&second, &context);
        assert_eq!(
            second.indexed, 0,
            "{context}: the second run indexed again: {second}"
        );
        assert_eq!(
            count(&client, &prefix).await,
            stored,
            "{context}: second run added documents"
        );
        results.push((server, first, faults));
    }
    results
}

fn no_tweak(_: &mut Setup) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_429_and_503_are_retried_item_by_item() {
    // The first two _bulk requests: every third item 429, every seventh 503.
    let results = recoverable(
        "item-429",
        |request, seen| match request.is_bulk() && seen < 2 {
            true => Action::ItemFaults(Box::new(|i| match i {
                i if i % 3 == 0 => Some(429),
                i if i % 7 == 0 => Some(503),
                _ => None,
            })),
            false => Action::Forward,
        },
        no_tweak,
    )
    .await;
    for (server, first, faults) in results {
        assert!(first.retries >= 1, "{}: {first}", server.name);
        // Only the failed items were sent again: each got created then, none was a duplicate.
        assert_eq!(first.indexed, LINES as u64, "{}: {first}", server.name);
        assert_eq!(first.already_present, 0, "{}: {first}", server.name);
        assert!(faults >= 2 * 5, "{}: {faults} faulted items", server.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_request_429_500_503_are_retried_with_backoff() {
    let results = recoverable(
        "request-5xx",
        |request, seen| match (request.is_bulk(), seen) {
            (true, 0 | 3) => Action::rejected_429(),
            (true, 1) => Action::server_error(500),
            (true, 2) => Action::server_error(503),
            _ => Action::Forward,
        },
        no_tweak,
    )
    .await;
    for (server, first, faults) in results {
        assert_eq!(faults, 4, "{}", server.name);
        assert!(first.retries >= 2, "{}: {first}", server.name);
        assert_eq!(first.indexed, LINES as u64, "{}: {first}", server.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_413_splits_the_batch() {
    // Any _bulk request of more than 4 documents is "too large".
    let results = recoverable(
        "413",
        |request, _| {
            let documents = request
                .body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
                / 2;
            if request.is_bulk() && documents > 4 {
                Action::too_large_413()
            } else {
                Action::Forward
            }
        },
        no_tweak,
    )
    .await;
    for (server, first, faults) in results {
        assert!(faults > 0);
        assert_eq!(first.retries, 0, "a split is not a retry: {first}");
        assert_eq!(first.indexed, LINES as u64, "{}: {first}", server.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_after_the_server_wrote_gives_409s_not_duplicates() {
    let results = recoverable(
        "reset",
        |request, seen| match (request.is_bulk(), seen) {
            (true, 0) => Action::Reset,
            (true, 1 | 2) => Action::ForwardThenReset,
            _ => Action::Forward,
        },
        no_tweak,
    )
    .await;
    for (server, first, _) in results {
        assert!(first.retries >= 3, "{}: {first}", server.name);
        assert!(
            first.already_present > 0,
            "{}: the reset batches were written, the retry must find them: {first}",
            server.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_times_out_and_the_retry_finds_the_documents() {
    let results = recoverable(
        "slow",
        |request, seen| match (request.is_bulk(), seen) {
            (true, 0) => Action::ForwardThenDelay(Duration::from_millis(2500)),
            _ => Action::Forward,
        },
        |setup| setup.policy.request_timeout = Duration::from_millis(1000),
    )
    .await;
    for (server, first, _) in results {
        assert!(first.retries >= 1, "{}: {first}", server.name);
        assert!(first.already_present > 0, "{}: {first}", server.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_gzip_bodies_gets_plain_ones() {
    let results = recoverable(
        "no-gzip",
        |request, _| {
            let gzip = request
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case("content-encoding") && v == "gzip");
            if request.is_bulk() && gzip {
                Action::Respond {
                    status: 415,
                    body: r#"{"error":"Content-Encoding gzip is not supported","status":415}"#
                        .into(),
                    content_type: "application/json",
                }
            } else {
                Action::Forward
            }
        },
        no_tweak,
    )
    .await;
    for (server, first, faults) in results {
        // A refusal for each request already on its way (at most the 3 in flight), then every
        // request plain.
        assert!(
            (1..=3).contains(&faults),
            "{}: {faults} refusals",
            server.name
        );
        assert_eq!(first.indexed, LINES as u64, "{}: {first}", server.name);
    }
}

/// Faults that last: the call fails, says what is unplaced, reports nothing as done that is
/// not; a later run (the redelivery) places everything once.
async fn unrecoverable(
    test: &str,
    script: fn(&Request, usize) -> Action,
    max_retry_time: Duration,
    deadline: Option<Duration>,
    expect_reason: &str,
) {
    let Some(servers) = search_servers(test) else {
        return;
    };
    for server in servers {
        let context = format!("{test} on {}", server.name);
        let dir = TempDir::new(test);
        let path = object(&dir);
        let prefix = unique(test);
        let proxy = FaultProxy::start(&server.url, script).await;
        let mut setup = Setup::new(&proxy.url, &prefix, &dir.path().join("dead-letter"));
        setup.policy.max_retry_time = max_retry_time;
        setup.install_templates(&server.url).await;
        let started = Instant::now();
        let error = setup
            .ingester()
            .await
            .ingest(&Source::File(path.clone()), deadline.map(|d| started + d))
            .await
            .expect_err(&context);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{context}: took {:?}",
            started.elapsed()
        );
        let IngestError::Incomplete(incomplete) = &error else {
            panic!("{context}: {error}");
        };
        let summary = &incomplete.summary;
        assert_eq!(
            summary.indexed + summary.already_present + summary.dead_lettered,
            0,
            "{context}: {summary}"
        );
        assert!(summary.unplaced > 0, "{context}: {summary}");
        let message = error.to_string();
        assert!(
            message.contains("unplaced") && message.contains(expect_reason),
            "{context}: {message}"
        );
        assert!(
            message.contains(&path.display().to_string()) || message.contains("fault-alb"),
            "{context}: names the object: {message}"
        );
        let client = search_client(&server.url).await;
        assert_eq!(
            count(&client, &prefix).await,
            0,
            "{context}: nothing got through"
        );

        // The redelivery, with the server healthy: everything once.
        let again = Setup::new(&server.url, &prefix, &dir.path().join("dead-letter"))
            .ingester()
            .await
            .ingest(&Source::File(path), None)
            .await
            .unwrap_or_else(|e| panic!("{context}, redelivery: {e}"));
        assert_all_placed(&again, &context);
        assert_eq!(again.indexed, LINES as u64, "{context}: {again}");
        assert_eq!(count(&client, &prefix).await, LINES as u64, "{context}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_exhausted_fail_the_object_and_list_the_unplaced() {
    unrecoverable(
        "exhausted",
        |request, _| match request.is_bulk() {
            true => Action::server_error(503),
            false => Action::Forward,
        },
        Duration::from_millis(600),
        None,
        "retries exhausted",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_stops_retries_and_reading() {
    unrecoverable(
        "deadline",
        |request, _| match request.is_bulk() {
            true => Action::rejected_429(),
            false => Action::Forward,
        },
        Duration::from_secs(60),
        Some(Duration::from_millis(1500)),
        "deadline reached",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_server_that_is_down_is_a_clear_error_after_the_retry_time() {
    let Some(servers) = search_servers("down") else {
        return;
    };
    // A port nothing listens on: bind, note it, close.
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = TempDir::new("down");
    let path = object(&dir);
    let mut setup = Setup::new(&endpoint, &unique("down"), &dir.path().join("dead-letter"));
    setup.policy.max_retry_time = Duration::from_millis(800);
    let error = setup
        .ingester()
        .await
        .ingest(&Source::File(path), None)
        .await
        .expect_err("no server");
    let message = error.to_string();
    let IngestError::Incomplete(incomplete) = &error else {
        panic!("{message}");
    };
    let summary = &incomplete.summary;
    // Reading may stop early once a batch has failed: what was read is all unplaced.
    assert!(
        summary.documents > 0 && summary.unplaced == summary.documents,
        "{summary}"
    );
    assert!(
        summary.documents == LINES as u64 || incomplete.unread_from.is_some(),
        "{message}"
    );
    assert!(message.contains("documents unplaced"), "{message}");
    assert!(
        message.contains("retries exhausted") && message.contains(&endpoint),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "0 of {} documents read were placed",
            summary.documents
        )),
        "{message}"
    );
    drop(servers);
}
