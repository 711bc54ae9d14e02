//! `albingest replay`: dead-letter files (a directory or `s3://bucket/prefix`) back into the
//! search server once what refused them is fixed. The work is [`crate::replay`]'s; this module
//! wires flags to it and prints the summary.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::ingest::{parse_size, positive_seconds, seconds, wait_for_server};
use super::{print_stdout, runtime, CliError, SearchOptions};
use crate::bulk::DocumentIds;
use crate::count::count;
use crate::replay::{self, ReplayOptions};
use crate::search::bulk_load::{BulkLoader, DEFAULT_IN_FLIGHT};
use crate::search::dead_letter::DeadLetter;
use crate::search::retry::RetryPolicy;
use crate::search::SearchClient;

#[derive(Debug, Args)]
#[command(
    after_help = "Each record is sent with its original _index and _id (bulk action `create`), \
through the same fate rules as ingest: indexed (replayed), 409 (already present), retried, \
refused again for the document (kept in its file with the server's new reason), or refused for \
the target (401, 403, missing index, the same error on every record of a batch: nothing was \
fixed yet): the replay stops. Each dead-letter file is then rewritten without its placed records \
(removed when none is left), so a second replay sends only what is still refused; a replay killed \
midway loses nothing (placed records not yet removed answer 409 next time). Exit status: 0 when \
every record was placed or refused again, 1 otherwise. Environment: ALBINGEST_ENDPOINT, \
ALBINGEST_USERNAME, ALBINGEST_PASSWORD, ALBINGEST_DOCUMENT_IDS, AWS_ENDPOINT_URL_S3, the usual \
AWS credential variables."
)]
pub struct ReplayArgs {
    /// Dead-letter locations: directories (or single files) and s3://BUCKET/PREFIX, as given to
    /// `ingest --dead-letter`.
    #[arg(value_name = "DIR|s3://BUCKET/PREFIX", required = true)]
    pub dead_letters: Vec<String>,

    #[command(flatten)]
    pub search: SearchOptions,

    /// Count the records by index and reason; send nothing, change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where document ids come from: `auto` sends the records' ids and lets the server make
    /// them when the target refuses ids; `deterministic` always sends them; `server` never does
    /// (then a replay killed before it rewrote a file stores that file's placed records again
    /// on the next replay: at-least-once).
    #[arg(
        long,
        env = "ALBINGEST_DOCUMENT_IDS",
        default_value = "auto",
        value_name = "auto|deterministic|server"
    )]
    pub document_ids: DocumentIds,

    /// Upper bound of one `_bulk` request body before compression.
    #[arg(long, default_value = "5MiB", value_parser = parse_size, value_name = "SIZE")]
    pub batch_bytes: usize,

    /// `_bulk` requests in flight at once (and dead-letter files replayed at once).
    #[arg(long, default_value_t = DEFAULT_IN_FLIGHT, value_name = "N")]
    pub in_flight: usize,

    /// S3 endpoint URL for S3-compatible servers (overrides AWS_ENDPOINT_URL_S3).
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,

    /// Seconds a batch may spend retrying before its records count as unplaced (they stay).
    #[arg(long, default_value = "300", value_parser = seconds, value_name = "SECONDS")]
    pub retry_for: Duration,

    /// Seconds one `_bulk` request may take.
    #[arg(long, default_value = "60", value_parser = positive_seconds, value_name = "SECONDS")]
    pub request_timeout: Duration,

    /// First retry wait in milliseconds (tests shorten it).
    #[arg(long, default_value_t = 200, hide = true)]
    pub retry_initial_ms: u64,
}

pub fn run(args: ReplayArgs) -> Result<ExitCode, CliError> {
    runtime()?.block_on(run_async(args))
}

async fn run_async(args: ReplayArgs) -> Result<ExitCode, CliError> {
    let started = Instant::now();
    let s3 = match args.dead_letters.iter().any(|d| d.starts_with("s3://")) {
        true => Some(crate::source::s3_client(args.s3_endpoint.as_deref()).await),
        false => None,
    };
    let locations = args
        .dead_letters
        .iter()
        .map(|spec| DeadLetter::parse(spec, s3.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;

    if args.dry_run {
        let dry = replay::dry_run(&locations).await?;
        let mut table = String::new();
        for ((index, reason), n) in &dry.by_index_and_reason {
            table.push_str(&format!("{n}\t{index}\t{reason}\n"));
        }
        print_stdout(&table)?;
        for problem in &dry.problems {
            to_stderr!("albingest replay: {problem}");
        }
        to_stderr!(
            "albingest replay: {}, {} (dry run: nothing sent)",
            count(dry.files, "dead-letter file", "dead-letter files"),
            count(dry.records, "record", "records"),
        );
        return Ok(if dry.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }

    let client = SearchClient::connect(&args.search.config()?).await?;
    wait_for_server(&client, None).await?;
    let policy = RetryPolicy {
        initial_backoff: Duration::from_millis(args.retry_initial_ms),
        max_retry_time: args.retry_for,
        request_timeout: args.request_timeout,
        ..RetryPolicy::default()
    };
    // Refused-again records are kept by the replay in their own files, never written by the
    // loader: the location it is given here is not used.
    let loader = BulkLoader::new(
        Arc::new(client),
        policy,
        args.in_flight,
        locations[0].clone(),
    )
    .with_document_ids(args.document_ids);
    let server_ids = loader.server_ids();
    let summary = replay::replay(
        Arc::new(loader),
        locations,
        ReplayOptions {
            batch_bytes: args.batch_bytes,
            files_at_once: args.in_flight,
            deadline: None,
        },
    )
    .await?;

    for problem in &summary.problems {
        to_stderr!("albingest replay: {problem}");
    }
    if let Some(refusal) = &summary.refusal {
        to_stderr!("albingest replay: stopped: {refusal}");
    }
    let refused_again = summary.refused_again_total();
    to_stderr!(
        "albingest replay: {}, {}: {} replayed, {} already present, {} refused again, {} unplaced; \
         {} rewritten, {} removed, {}, {:.2} s",
        count(summary.files, "dead-letter file", "dead-letter files"),
        count(summary.records, "record", "records"),
        summary.replayed,
        summary.already_present,
        refused_again,
        summary.unplaced.documents,
        count(summary.files_rewritten, "file", "files"),
        summary.files_removed,
        count(summary.retries, "retry", "retries"),
        started.elapsed().as_secs_f64(),
    );
    for (reason, n) in &summary.refused_again {
        to_stderr!("albingest replay: refused again: {n} {reason} (kept with the new reason)");
    }
    if !summary.unplaced.is_empty() {
        to_stderr!("albingest replay: {} (kept)", summary.unplaced);
    }
    if server_ids.load(std::sync::atomic::Ordering::Relaxed) {
        to_stderr!(
            "albingest replay: the server made the document ids: a replay killed before it \
             rewrote a file stores that file's placed records again (at-least-once)"
        );
    }
    Ok(if summary.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
