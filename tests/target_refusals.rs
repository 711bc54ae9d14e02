//! Real targets refuse what the permissive stand-ins accept. The fault double
//! (`support/fault_proxy.rs`) answers in front of each real stand-in (osmem, noida) with the
//! documented shapes of managed services — write blocks, fine-grained access control, OpenSearch
//! Serverless's refusal of document ids — and a target refusal must never become a dead letter:
//! it is retried where transient, adapted to where possible, else the object fails and says what
//! to change. Every case checks lines = indexed + already present + dead-lettered + unplaced.

mod support;

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use albingest::bulk::DocumentIds;
use albingest::ingest::{IngestError, ObjectSummary};
use albingest::source::Source;
use support::fault_proxy::{Action, FaultProxy, Flavour, Refusals};
use support::{
    alb_lines, count, dead_letter_records, gzip, search_client, search_servers, unique, Server,
    Setup, TempDir,
};

const LINES: usize = 120;

fn object(dir: &TempDir) -> PathBuf {
    let path = dir.path().join("123456789012_elasticloadbalancing_us-east-1_app.refusal-alb.1234_20261102T0000Z_10.0.0.1_x.log.gz");
    std::fs::write(&path, gzip(alb_lines(LINES, LINES / 2).as_bytes())).unwrap();
    path
}

fn flavour(server: &Server) -> Flavour {
    if server.name.starts_with("osmem") {
        Flavour::OpenSearch
    } else {
        Flavour::Elasticsearch
    }
}

/// A failed object stops reading early: its counts cover the lines read.
fn assert_adds_up(summary: &ObjectSummary, context: &str) {
    assert!(
        summary.lines > 0 && summary.lines <= LINES as u64,
        "{context}: {summary}"
    );
    assert_eq!(
        summary.indexed + summary.already_present + summary.dead_lettered + summary.unplaced,
        summary.lines,
        "{context}: lines = indexed + already present + dead-lettered + unplaced: {summary}"
    );
}

/// The object failed for a target refusal: nothing dead-lettered, everything unplaced, and the
/// error says `advice`.
fn assert_refused(
    result: Result<ObjectSummary, IngestError>,
    dead_letters: &std::path::Path,
    advice: &str,
    context: &str,
) {
    let err = match result {
        Ok(summary) => panic!("{context}: a target refusal was accepted: {summary}"),
        Err(e) => e,
    };
    let summary = err
        .summary()
        .unwrap_or_else(|| panic!("{context}: {err}"))
        .clone();
    assert_adds_up(&summary, context);
    assert_eq!(
        summary.dead_lettered, 0,
        "{context}: a target refusal was dead-lettered: {summary}"
    );
    assert!(
        dead_letter_records(dead_letters).is_empty(),
        "{context}: dead-letter files written"
    );
    assert_eq!(
        summary.unplaced,
        summary.lines - summary.indexed - summary.already_present,
        "{context}"
    );
    let text = err.to_string();
    assert!(
        text.contains("target refusal") && text.contains(advice),
        "{context}: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_write_block_is_retried_and_every_line_lands_once() {
    let Some(servers) = search_servers("write-block") else {
        return;
    };
    for server in servers {
        let context = format!("write block on {}", server.name);
        let dir = TempDir::new("write-block");
        let prefix = unique("write-block");
        let flavour = flavour(&server);
        // Blocked for the first three _bulk requests (403 FORBIDDEN/8 on OpenSearch, 429
        // flood stage on Elasticsearch), then lifted.
        let proxy = FaultProxy::start(&server.url, move |request, seen| {
            if request.is_bulk() && seen < 3 {
                Action::write_block(flavour)
            } else {
                Action::Forward
            }
        })
        .await;
        let setup = Setup::new(&proxy.url, &prefix, &dir.path().join("dead-letter"));
        setup.install_templates(&server.url).await;
        let summary = setup
            .ingester()
            .await
            .ingest(&Source::File(object(&dir)), None)
            .await
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_adds_up(&summary, &context);
        assert!(
            proxy.faults.load(Ordering::SeqCst) > 0,
            "{context}: no block was answered"
        );
        assert_eq!(summary.dead_lettered, 0, "{context}: {summary}");
        assert!(summary.retries >= 1, "{context}: {summary}");
        assert_eq!(summary.indexed, LINES as u64, "{context}: {summary}");
        let client = search_client(&server.url).await;
        assert_eq!(
            count(&client, &prefix).await,
            LINES as u64,
            "{context}: every line exactly once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_write_privileges_fails_the_object_without_dead_letters() {
    let Some(servers) = search_servers("fgac-denied") else {
        return;
    };
    for server in servers {
        let context = format!("403 security_exception on {}", server.name);
        let dir = TempDir::new("fgac-denied");
        let prefix = unique("fgac-denied");
        let proxy = FaultProxy::start(&server.url, |request, _| {
            if request.is_bulk() {
                Action::fine_grained_denied()
            } else {
                Action::Forward
            }
        })
        .await;
        let dead_letters = dir.path().join("dead-letter");
        let setup = Setup::new(&proxy.url, &prefix, &dead_letters);
        setup.install_templates(&server.url).await;
        let result = setup
            .ingester()
            .await
            .ingest(&Source::File(object(&dir)), None)
            .await;
        assert_refused(
            result,
            &dead_letters,
            "the role lacks a privilege",
            &context,
        );
        let client = search_client(&server.url).await;
        assert_eq!(count(&client, &prefix).await, 0, "{context}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_document_refused_the_same_way_fails_the_object() {
    // A foreign template that maps one of our fields another way makes every document fail
    // alike: a mapping error on each item, which for one document would be a dead letter.
    let Some(servers) = search_servers("all-refused") else {
        return;
    };
    for server in servers {
        let context = format!("every document refused on {}", server.name);
        let dir = TempDir::new("all-refused");
        let prefix = unique("all-refused");
        let refusals = Refusals {
            flavour: flavour(&server),
            refuses: Box::new(|_| true),
        };
        let proxy = FaultProxy::start_refusing(&server.url, refusals, |_, _| Action::Forward).await;
        let dead_letters = dir.path().join("dead-letter");
        let setup = Setup::new(&proxy.url, &prefix, &dead_letters);
        setup.install_templates(&server.url).await;
        let result = setup
            .ingester()
            .await
            .ingest(&Source::File(object(&dir)), None)
            .await;
        assert_refused(result, &dead_letters, "_simulate_index", &context);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_refused_with_deterministic_ids_fail_the_object_and_say_what_to_change() {
    let Some(servers) = search_servers("ids-refused") else {
        return;
    };
    for server in servers {
        let context = format!("serverless id refusal on {}", server.name);
        let dir = TempDir::new("ids-refused");
        let prefix = unique("ids-refused");
        let proxy = FaultProxy::start(&server.url, |request, _| {
            if request.is_bulk() {
                Action::serverless_time_series()
            } else {
                Action::Forward
            }
        })
        .await;
        let dead_letters = dir.path().join("dead-letter");
        let mut setup = Setup::new(&proxy.url, &prefix, &dead_letters);
        setup.document_ids = DocumentIds::Deterministic;
        setup.install_templates(&server.url).await;
        let result = setup
            .ingester()
            .await
            .ingest(&Source::File(object(&dir)), None)
            .await;
        assert_refused(
            result,
            &dead_letters,
            "--document-ids auto or server",
            &context,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_that_outlasts_the_deadline_leaves_the_object_unplaced_and_exits_non_zero() {
    let Some(servers) = search_servers("block-outlasts") else {
        return;
    };
    for server in servers {
        let context = format!("lasting write block on {}", server.name);
        let dir = TempDir::new("block-outlasts");
        let prefix = unique("block-outlasts");
        let flavour = flavour(&server);
        let proxy = FaultProxy::start(&server.url, move |request, _| {
            if request.is_bulk() {
                Action::write_block(flavour)
            } else {
                Action::Forward
            }
        })
        .await;
        let dead_letters = dir.path().join("dead-letter");
        Setup::new(&server.url, &prefix, &dead_letters)
            .install_templates(&server.url)
            .await;
        let path = object(&dir);
        let args: Vec<String> = [
            "ingest",
            path.to_str().unwrap(),
            "--endpoint",
            &proxy.url,
            "--index-prefix",
            &prefix,
            "--dead-letter",
            dead_letters.to_str().unwrap(),
            "--no-setup",
            "--deadline",
            "4",
            "--retry-initial-ms",
            "20",
            "--progress",
            "never",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_albingest"))
                .args(&args)
                .env("ALBINGEST_LOG", "error")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{context}: {stderr}");
        assert!(
            stderr.contains("deadline reached") && stderr.contains("cluster_block_exception"),
            "{context}: the error names the deadline and the block: {stderr}"
        );
        assert!(stderr.contains("0 dead-lettered"), "{context}: {stderr}");
        assert!(
            dead_letter_records(&dead_letters).is_empty(),
            "{context}: a block was dead-lettered"
        );
        assert!(
            proxy.bulk_requests.load(Ordering::SeqCst) > 1,
            "{context}: not retried"
        );
    }
}
