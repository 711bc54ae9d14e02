//! OpenSearch Serverless time-series collections refuse document ids (the fault double answers
//! as documented, in front of each real stand-in). With `--document-ids auto` albingest switches
//! to ids the server makes and keeps re-runs idempotent with the S3 object's checkpoint tag
//! (moto stores object tags): every line lands once, a second run adds nothing, and a run that
//! dies mid-object writes again at most the batches that were in flight.

// Test output: eprintln! is captured by the harness (clippy.toml disallows it for the binaries).
#![allow(clippy::disallowed_macros)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use albingest::bulk::DocumentIds;
use albingest::checkpoint::TAG_KEY;
use albingest::ingest::ObjectSummary;
use albingest::source::Source;
use support::fault_proxy::{Action, FaultProxy};
use support::{
    alb_key, alb_lines, count, create_bucket, dead_letter_records, gzip, put, s3_client, s3_url,
    search_client, search_servers, unique, Setup, TempDir,
};

const LINES: usize = 120;

fn assert_adds_up(summary: &ObjectSummary, context: &str) {
    assert_eq!(
        summary.indexed + summary.already_present + summary.dead_lettered + summary.unplaced,
        summary.lines,
        "{context}: lines = indexed + already present + dead-lettered + unplaced: {summary}"
    );
}

async fn checkpoint_tag(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<String> {
    let tags = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    tags.tag_set()
        .iter()
        .find(|t| t.key() == TAG_KEY)
        .map(|t| t.value().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_object_into_a_target_that_refuses_ids_lands_once_and_a_second_run_adds_nothing() {
    let (Some(servers), Some(s3_url)) = (search_servers("server-ids"), s3_url("server-ids")) else {
        return;
    };
    let s3 = s3_client(&s3_url);
    for server in servers {
        let context = format!("serverless id refusal on {}", server.name);
        let dir = TempDir::new("server-ids");
        let prefix = unique("server-ids");
        let bucket = unique("server-ids");
        create_bucket(&s3, &bucket).await;
        let key = alb_key("ids");
        put(
            &s3,
            &bucket,
            &key,
            gzip(alb_lines(LINES, LINES / 2).as_bytes()),
        )
        .await;
        // A tag of someone else's that the checkpoint must keep.
        s3.put_object_tagging()
            .bucket(&bucket)
            .key(&key)
            .tagging(
                aws_sdk_s3::types::Tagging::builder()
                    .tag_set(
                        aws_sdk_s3::types::Tag::builder()
                            .key("team")
                            .value("edge")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();

        let items_with_ids = Arc::new(AtomicUsize::new(0));
        let seen = items_with_ids.clone();
        let proxy = FaultProxy::start(&server.url, move |request, _| {
            if request.is_bulk() {
                let ids = request.bulk_ids();
                seen.fetch_add(
                    ids.iter().filter(|id| !id.is_empty()).count(),
                    Ordering::SeqCst,
                );
                Action::serverless_time_series()
            } else {
                Action::Forward
            }
        })
        .await;
        let dead_letters = dir.path().join("dead-letter");
        let mut setup = Setup::new(&proxy.url, &prefix, &dead_letters);
        setup.s3 = Some(s3.clone());
        setup.install_templates(&server.url).await;
        let source = Source::S3 {
            bucket: bucket.clone(),
            key: key.clone(),
        };

        let first = setup
            .ingester()
            .await
            .ingest(&source, None)
            .await
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_adds_up(&first, &context);
        assert_eq!(first.lines, LINES as u64, "{context}: {first}");
        assert_eq!(first.indexed, LINES as u64, "{context}: {first}");
        assert_eq!(first.dead_lettered, 0, "{context}: {first}");
        assert!(dead_letter_records(&dead_letters).is_empty(), "{context}");
        // Only the first batches carried ids (they were refused and sent again without).
        let with_ids = items_with_ids.load(Ordering::SeqCst);
        assert!(
            with_ids > 0 && with_ids < LINES,
            "{context}: {with_ids} items with ids"
        );
        let client = search_client(&server.url).await;
        assert_eq!(
            count(&client, &prefix).await,
            LINES as u64,
            "{context}: every line once"
        );
        assert_eq!(
            checkpoint_tag(&s3, &bucket, &key).await.as_deref(),
            Some("done"),
            "{context}"
        );
        let tags = s3
            .get_object_tagging()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        assert!(
            tags.tag_set().iter().any(|t| t.key() == "team"),
            "{context}: other tags kept"
        );

        // Delivered again: the checkpoint says done, nothing is written.
        let requests_before = proxy.bulk_requests.load(Ordering::SeqCst);
        let second = setup
            .ingester()
            .await
            .ingest(&source, None)
            .await
            .unwrap_or_else(|e| panic!("{context}, second run: {e}"));
        assert_adds_up(&second, &context);
        assert_eq!(second.indexed, 0, "{context}: {second}");
        assert_eq!(second.already_present, LINES as u64, "{context}: {second}");
        assert_eq!(
            proxy.bulk_requests.load(Ordering::SeqCst),
            requests_before,
            "{context}"
        );
        assert_eq!(
            count(&client, &prefix).await,
            LINES as u64,
            "{context}: second run added documents"
        );
    }
}

/// A run that dies mid-object with server ids writes again, on the next delivery, only the lines
/// the checkpoint had not covered: at most `--in-flight` batches, because no batch is sent while
/// that many are behind the checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_dies_mid_object_writes_again_at_most_the_batches_in_flight() {
    // From the 6th _bulk request on, the server writes the documents but its answer never comes
    // before the deadline: the run "dies" with those batches in flight.
    killed_run_writes_again_at_most_in_flight_batches("ids-killed", |seen| seen >= 5).await;
}

/// One batch hangs and the ones after it are answered: without a bound, the other slots would go
/// on placing batches behind the hung one until the deadline, none of them covered by the
/// checkpoint (it moves only over an unbroken run of placed batches), and all written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hung_batch_holds_back_the_batches_after_it() {
    killed_run_writes_again_at_most_in_flight_batches("ids-hung-one", |seen| seen == 4).await;
}

async fn killed_run_writes_again_at_most_in_flight_batches(
    name: &str,
    hangs: impl Fn(usize) -> bool + Send + Sync + 'static,
) {
    const IN_FLIGHT: u64 = 2;
    let (Some(servers), Some(s3_url)) = (search_servers(name), s3_url(name)) else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let hangs = Arc::new(hangs);
    for server in servers {
        let context = format!("server ids, run killed ({name}), on {}", server.name);
        let dir = TempDir::new(name);
        let prefix = unique(name);
        let bucket = unique(name);
        create_bucket(&s3, &bucket).await;
        let key = alb_key("killed");
        put(
            &s3,
            &bucket,
            &key,
            gzip(alb_lines(LINES, LINES / 2).as_bytes()),
        )
        .await;

        let largest_batch = Arc::new(AtomicUsize::new(0));
        let seen_batches = largest_batch.clone();
        let hangs = hangs.clone();
        let proxy = FaultProxy::start(&server.url, move |request, seen| {
            if !request.is_bulk() {
                return Action::Forward;
            }
            seen_batches.fetch_max(request.bulk_ids().len(), Ordering::SeqCst);
            if hangs(seen) {
                Action::ForwardThenDelay(Duration::from_secs(30))
            } else {
                Action::Forward
            }
        })
        .await;
        let dead_letters = dir.path().join("dead-letter");
        let mut setup = Setup::new(&proxy.url, &prefix, &dead_letters);
        setup.s3 = Some(s3.clone());
        setup.document_ids = DocumentIds::Server;
        setup.batch_bytes = 16 * 1024;
        setup.in_flight = IN_FLIGHT as usize;
        setup.install_templates(&server.url).await;
        let source = Source::S3 {
            bucket: bucket.clone(),
            key: key.clone(),
        };
        let killed = setup
            .ingester()
            .await
            .ingest(&source, Some(Instant::now() + Duration::from_secs(3)))
            .await;
        let err = killed.expect_err("the deadline stops the run");
        assert_adds_up(err.summary().unwrap(), &context);
        let checkpoint: u64 = checkpoint_tag(&s3, &bucket, &key)
            .await
            .unwrap_or_else(|| panic!("{context}: no checkpoint written"))
            .parse()
            .unwrap_or_else(|e| panic!("{context}: checkpoint is an offset: {e}"));
        assert!(checkpoint > 0, "{context}");

        // Delivered again, straight to the server: only the lines after the checkpoint.
        let mut again = Setup::new(&server.url, &prefix, &dead_letters);
        again.s3 = Some(s3.clone());
        again.document_ids = DocumentIds::Server;
        again.batch_bytes = 16 * 1024;
        let second = again
            .ingester()
            .await
            .ingest(&source, None)
            .await
            .unwrap_or_else(|e| panic!("{context}, second run: {e}"));
        assert_adds_up(&second, &context);
        assert_eq!(second.lines, LINES as u64, "{context}: {second}");
        assert!(
            second.already_present > 0,
            "{context}: the checkpoint skipped nothing: {second}"
        );
        let client = search_client(&server.url).await;
        let stored = count(&client, &prefix).await;
        let duplicates = stored.saturating_sub(LINES as u64);
        let bound = IN_FLIGHT * largest_batch.load(Ordering::SeqCst) as u64;
        eprintln!(
            "{context}: {duplicates} duplicates; {IN_FLIGHT} batches in flight hold at most {bound}"
        );
        assert!(stored >= LINES as u64, "{context}: lines lost: {stored}");
        assert!(
            duplicates <= bound,
            "{context}: {duplicates} duplicates > {bound}, the documents of {IN_FLIGHT} batches"
        );
        assert_eq!(
            checkpoint_tag(&s3, &bucket, &key).await.as_deref(),
            Some("done"),
            "{context}"
        );
    }
}
