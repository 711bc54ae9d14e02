//! S3 delivers event notifications at least once: the same object can arrive twice at the same
//! time. Two concurrent ingestions of one object (in moto) leave one copy of each document: each
//! `_id` is created by one of them and found (409) by the other, and both summaries add up.

// Test output: eprintln! is captured by the harness (clippy.toml disallows it for the binaries).
#![allow(clippy::disallowed_macros)]

mod support;

use albingest::ingest::ObjectSummary;
use albingest::lambda::{IngestConfig, IngestFunction};
use albingest::source::Source;
use serde_json::Value;
use support::lambda::*;
use support::*;

const LINES: u64 = 2000;
const ON_FIRST_DAY: usize = 700;

/// `(indexed, already present)` of one copy, after checking that its counts add up.
fn placed(
    context: &str,
    lines: u64,
    indexed: u64,
    already_present: u64,
    dead_lettered: u64,
) -> (u64, u64) {
    assert_eq!(lines, LINES, "{context}");
    assert_eq!(dead_lettered, 0, "{context}");
    assert_eq!(
        indexed + already_present,
        lines,
        "{context}: lines = indexed + already present"
    );
    (indexed, already_present)
}

fn from_summary(context: &str, s: &ObjectSummary) -> (u64, u64) {
    assert_eq!((s.documents, s.unplaced), (LINES, 0), "{context}: {s}");
    placed(
        context,
        s.lines,
        s.indexed,
        s.already_present,
        s.dead_lettered,
    )
}

fn from_answer(context: &str, answer: &Value) -> (u64, u64) {
    let object = &answer["objects"][0];
    let n = |field: &str| {
        object[field]
            .as_u64()
            .unwrap_or_else(|| panic!("{context}: no {field}: {answer}"))
    };
    placed(
        &format!("{context}: {answer}"),
        n("lines"),
        n("indexed"),
        n("already_present"),
        n("dead_lettered"),
    )
}

/// Each document once, in its daily index; the two copies created each document once between
/// them and found it once.
async fn assert_one_copy(context: &str, url: &str, prefix: &str, a: (u64, u64), b: (u64, u64)) {
    eprintln!(
        "{context}: indexed {} + {}, already present {} + {}",
        a.0, b.0, a.1, b.1
    );
    assert_eq!(
        (a.0 + b.0, a.1 + b.1),
        (LINES, LINES),
        "{context}: indexed and already present over both copies"
    );
    let client = search_client(url).await;
    assert_eq!(
        indices(&client, prefix).await,
        [
            (format!("{prefix}-2026.11.01"), ON_FIRST_DAY as u64),
            (format!("{prefix}-2026.11.02"), LINES - ON_FIRST_DAY as u64),
        ],
        "{context}: one copy of each document"
    );
}

/// The object in a fresh bucket of moto: `(bucket, key)`.
async fn object_in_s3(s3: &aws_sdk_s3::Client, test: &str) -> (String, String) {
    let bucket = unique(test);
    create_bucket(s3, &bucket).await;
    let key = alb_key("twice");
    let body = gzip(alb_lines(LINES as usize, ON_FIRST_DAY).as_bytes());
    put(s3, &bucket, &key, body).await;
    (bucket, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_object_ingested_twice_at_once_is_stored_once() {
    let test = "twice-ingester";
    let (Some(servers), Some(s3_url)) = (search_servers(test), s3_url(test)) else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let (bucket, key) = object_in_s3(&s3, test).await;
    let source = Source::S3 { bucket, key };
    for server in servers {
        let context = format!("{test} on {}", server.name);
        let prefix = unique(test);
        let dir = TempDir::new(test);
        let mut setup = Setup::new(&server.url, &prefix, &dir.path().join("dead-letter"));
        setup.s3 = Some(s3.clone());
        setup.install_templates(&server.url).await;
        // One ingester, as the command line uses for all its objects (one sending pool).
        let ingester = setup.ingester().await;
        let (a, b) = tokio::join!(
            ingester.ingest(&source, None),
            ingester.ingest(&source, None)
        );
        let a = a.unwrap_or_else(|e| panic!("{context}: {e}"));
        let b = b.unwrap_or_else(|e| panic!("{context}: {e}"));
        let (a, b) = (from_summary(&context, &a), from_summary(&context, &b));
        assert_one_copy(&context, &server.url, &prefix, a, b).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_notification_at_two_function_instances_at_once_stores_the_object_once() {
    let test = "twice-lambda";
    let (Some(servers), Some(s3_url)) = (search_servers(test), s3_url(test)) else {
        return;
    };
    set_aws_env(&s3_url);
    let s3 = s3_client(&s3_url);
    let (bucket, key) = object_in_s3(&s3, test).await;
    for server in servers {
        let context = format!("{test} on {}", server.name);
        let prefix = unique(test);
        let config = || {
            IngestConfig::from_env(&config_env(&[
                ("ALBINGEST_ENDPOINT", server.url.clone()),
                ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
                (
                    "ALBINGEST_DEAD_LETTER",
                    format!("s3://{bucket}/dead-letters/"),
                ),
                ("ALBINGEST_BATCH_BYTES", "65536".into()),
            ]))
            .unwrap()
        };
        // Two execution environments, each with its own clients, as Lambda runs them.
        let (one, other) =
            tokio::join!(IngestFunction::new(config()), IngestFunction::new(config()));
        let (one, other) = (one.unwrap(), other.unwrap());
        let event = s3_event(&bucket, &key);
        let (a, b) = tokio::join!(
            one.handle(event.clone(), in_five_minutes()),
            other.handle(event, in_five_minutes())
        );
        let a = a.unwrap_or_else(|e| panic!("{context}: {e}"));
        let b = b.unwrap_or_else(|e| panic!("{context}: {e}"));
        let (a, b) = (from_answer(&context, &a), from_answer(&context, &b));
        assert_one_copy(&context, &server.url, &prefix, a, b).await;
    }
}
