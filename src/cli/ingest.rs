//! `albingest ingest`: objects (files, directories, `s3://bucket/prefix`) into the search server,
//! a few objects at a time, with a progress bar on a terminal and one summary line per object
//! otherwise. All the work is the library's ([`crate::ingest`]); this module wires flags to it.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use super::{runtime, CliError, ParseOptions, SearchOptions, SearchOptionsError, TemplateArgs};
use crate::bulk::{DocumentIds, IndexPrefixes};
use crate::checkpoint::Resume;
use crate::ingest::{
    run_many, ConnectError, IngestError, IngestOptions, Ingester, ObjectSummary, S3Access,
};
use crate::search::bulk_load::DEFAULT_IN_FLIGHT;
use crate::search::retry::{RetryPolicy, Waiting};
use crate::search::{SearchClient, SearchConfig, SearchError};
use crate::source::{self, Input, S3LocationError};
use crate::window::{TimeWindow, WindowError};
use opensearch::http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// A progress bar when standard error is a terminal, summary lines otherwise.
    Auto,
    /// Always the progress bar (on standard error), e.g. under `script` or a CI log viewer.
    Always,
    /// Never a bar: one summary line per object and the retry notices, for logs.
    Never,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Every line becomes one document with a deterministic _id (object + \
byte offset), written with the bulk action `create`: running the same objects again adds nothing \
(the server answers 409, counted as already present). Documents the server refuses for good \
(mapping conflicts) go to the dead-letter location as NDJSON with the server's reason; a refusal \
about the target or the credentials (401, 403, missing index, ids not supported, the same error on \
every document) is never a dead letter: the object fails with what to change. \
Exit status: 0 when every document of every object was placed (indexed, already present or \
dead-lettered), 1 otherwise; the summary says what was not placed. Environment: \
ALBINGEST_ENDPOINT, ALBINGEST_USERNAME, ALBINGEST_PASSWORD, ALBINGEST_DEAD_LETTER, \
ALBINGEST_DOCUMENT_IDS, \
AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (S3-compatible servers), the usual AWS credential \
variables, ALBINGEST_LOG (log filter, default warn)."
)]
pub struct IngestArgs {
    /// Log objects: files (plain or gzip), directories (walked recursively) and
    /// s3://BUCKET/PREFIX (every object under the prefix).
    #[arg(value_name = "FILE|DIR|s3://BUCKET/PREFIX", required = true)]
    pub inputs: Vec<String>,

    #[command(flatten)]
    pub search: SearchOptions,

    #[command(flatten)]
    pub options: ParseOptions,

    #[command(flatten)]
    pub templates: TemplateArgs,

    /// Do not install the index templates first.
    #[arg(long)]
    pub no_setup: bool,

    /// Send `_bulk` bodies uncompressed (by default they are gzip-compressed, and sent plain if
    /// the server refuses that).
    #[arg(long)]
    pub no_gzip: bool,

    /// Parse and count only; nothing is written (no search server needed).
    #[arg(long)]
    pub dry_run: bool,

    /// Objects ingested at a time.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub concurrency: usize,

    /// Upper bound of one `_bulk` request body before compression: a number of bytes, or with
    /// KiB / MiB.
    #[arg(long, default_value = "5MiB", value_parser = parse_size, value_name = "SIZE")]
    pub batch_bytes: usize,

    /// `_bulk` requests in flight at once, over all objects.
    #[arg(long, default_value_t = DEFAULT_IN_FLIGHT, value_name = "N")]
    pub in_flight: usize,

    /// Where refused documents go: a directory, or s3://BUCKET/PREFIX.
    #[arg(
        long,
        env = "ALBINGEST_DEAD_LETTER",
        hide_env_values = true,
        default_value = "albingest-dead-letter",
        value_name = "DIR|s3://BUCKET/PREFIX"
    )]
    pub dead_letter: String,

    /// S3 endpoint URL for S3-compatible servers (overrides AWS_ENDPOINT_URL_S3 and
    /// AWS_ENDPOINT_URL); path-style addressing is used with any custom endpoint.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,

    /// Seconds a batch may spend retrying (429, 5xx, timeouts, connection errors) before its
    /// documents count as unplaced.
    #[arg(long, default_value = "300", value_parser = seconds, value_name = "SECONDS")]
    pub retry_for: Duration,

    /// Seconds one `_bulk` request may take.
    #[arg(long, default_value = "60", value_parser = positive_seconds, value_name = "SECONDS")]
    pub request_timeout: Duration,

    /// Stop after this many seconds: no retry starts and no more lines are read after it; what
    /// is left is reported as unplaced.
    #[arg(long, value_parser = seconds, value_name = "SECONDS")]
    pub deadline: Option<Duration>,

    /// Where document ids come from: `auto` sends ours (object + byte offset: re-runs add
    /// nothing) and switches to ids the server makes when the target refuses ids (OpenSearch
    /// Serverless time-series and vector collections); `deterministic` always sends ours;
    /// `server` never does. With server ids an S3 object's tag `albingest-checkpoint` keeps
    /// re-runs from writing its documents twice (local files have none).
    #[arg(
        long,
        env = "ALBINGEST_DOCUMENT_IDS",
        default_value = "auto",
        value_name = "auto|deterministic|server"
    )]
    pub document_ids: DocumentIds,

    /// Wait up to DURATION (e.g. 30s, 5m) for a search server that does not answer yet (one that
    /// is starting). Without it, a server that refuses connections at the start fails the run at
    /// once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_for_server: Option<Duration>,

    /// Progress display; while batches wait to retry it says why and when they give up.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto, value_name = "WHEN")]
    pub progress: ProgressMode,

    /// Read only the objects whose name ends after this UTC date or time (2026-11-01,
    /// 2026-11-01T06:00Z): a backfill by time window. Under an AWSLogs/…/elasticloadbalancing/
    /// tree only the day folders the window needs are listed.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Read only the objects whose name ends at or before this UTC date or time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Print what would be read (each object with its size, then the total) and read nothing.
    #[arg(long)]
    pub list: bool,

    /// With --since/--until, also read S3 objects a backfill already tagged
    /// albingest-checkpoint=done (by default they are skipped unread), e.g. into another target.
    #[arg(long)]
    pub reread_done: bool,

    /// Keys per S3 listing page (tests use a small one to exercise pagination).
    #[arg(long, default_value_t = 1000, hide = true)]
    pub list_page_size: i32,

    /// First retry wait in milliseconds (tests shorten it).
    #[arg(long, default_value_t = 200, hide = true)]
    pub retry_initial_ms: u64,
}

/// A flag value that is not what the flag takes (clap prints it after the flag and value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagValueError {
    /// A size that does not start with a number of bytes.
    #[error("{0:?}: use a number of bytes, or e.g. 512KiB, 5MiB")]
    NotASize(String),
    /// A size in a unit other than bytes, KiB and MiB.
    #[error("{0:?}: unknown size unit (use KiB or MiB)")]
    SizeUnit(String),
    /// A batch size out of its range.
    #[error("{0}: a batch is between 1KiB and 1024MiB")]
    BatchSize(String),
    /// Not a number of seconds from 0 to [`MAX_SECONDS`].
    #[error(
        "give a number of seconds from 0 to {} (365 days), e.g. 30 or 2.5",
        MAX_SECONDS
    )]
    Seconds,
    /// Zero where a time must pass.
    #[error(
        "give a number of seconds above 0 and up to {} (365 days)",
        MAX_SECONDS
    )]
    PositiveSeconds,
    /// A duration in a unit other than s, m and h.
    #[error("{0:?}: use e.g. 30s, 5m or 1h")]
    DurationUnit(String),
    /// A duration that is not a number, or longer than 365 days.
    #[error("{0:?}: use e.g. 30s, 5m or 1h (up to 365 days)")]
    Duration(String),
}

pub(super) fn parse_size(text: &str) -> Result<usize, FlagValueError> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let n: usize = number
        .parse()
        .map_err(|_| FlagValueError::NotASize(text.to_string()))?;
    let unit = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        other => return Err(FlagValueError::SizeUnit(other.to_string())),
    };
    let bytes = n.saturating_mul(unit);
    if !(1024..=1024 * 1024 * 1024).contains(&bytes) {
        return Err(FlagValueError::BatchSize(text.to_string()));
    }
    Ok(bytes)
}

/// The longest time a flag takes: far beyond any real run, and far from the overflow of
/// `Instant + Duration` (a panic at `1e19`).
const MAX_SECONDS: f64 = 365.0 * 86_400.0;

/// A number of seconds from 0 to [`MAX_SECONDS`] (fractions allowed).
pub(super) fn seconds(text: &str) -> Result<Duration, FlagValueError> {
    let value: f64 = text.trim().parse().map_err(|_| FlagValueError::Seconds)?;
    if !(0.0..=MAX_SECONDS).contains(&value) {
        return Err(FlagValueError::Seconds);
    }
    Duration::try_from_secs_f64(value).map_err(|_| FlagValueError::Seconds)
}

/// As [`seconds`], but more than 0.
pub(super) fn positive_seconds(text: &str) -> Result<Duration, FlagValueError> {
    let duration = seconds(text)?;
    if duration.is_zero() {
        return Err(FlagValueError::PositiveSeconds);
    }
    Ok(duration)
}

/// `30s`, `5m`, `1h`, or a number of seconds.
fn parse_duration(text: &str) -> Result<Duration, FlagValueError> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(FlagValueError::DurationUnit(text.to_string())),
    };
    number
        .parse::<f64>()
        .ok()
        .filter(|n| (0.0..=MAX_SECONDS).contains(&(n * scale)))
        .and_then(|n| Duration::try_from_secs_f64(n * scale).ok())
        .ok_or_else(|| FlagValueError::Duration(text.to_string()))
}

/// Why `albingest ingest` could not run (objects that fail are counted and reported: the exit
/// status says so, not an error).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A flag, its environment variable or the configuration file; the index templates not
    /// installed; standard output not written (`--list`). Boxed: it is the largest.
    #[error(transparent)]
    Cli(Box<CliError>),
    /// An input is neither a path nor an `s3://bucket/prefix`.
    #[error(transparent)]
    Input(#[from] S3LocationError),
    /// The search server flags do not make a configuration.
    #[error(transparent)]
    Search(#[from] SearchOptionsError),
    #[error(transparent)]
    Window(#[from] WindowError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Server(#[from] ServerUnavailable),
    #[error("setup: {endpoint}: no answer before the deadline (--deadline {seconds} s); nothing was ingested")]
    SetupDeadline { endpoint: String, seconds: f64 },
}

impl From<CliError> for RunError {
    fn from(error: CliError) -> Self {
        RunError::Cli(Box::new(error))
    }
}

/// `albingest ingest`.
pub fn run(args: IngestArgs) -> Result<ExitCode, RunError> {
    runtime()?.block_on(run_async(args))
}

async fn run_async(args: IngestArgs) -> Result<ExitCode, RunError> {
    let started = Instant::now();
    let deadline = args.deadline.map(|d| started + d);
    let inputs = args
        .inputs
        .iter()
        .map(|arg| Input::parse(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let window = TimeWindow::new(args.since.as_deref(), args.until.as_deref())?;
    if args.list {
        return list(&args, inputs, window).await;
    }
    let needs_s3 = inputs.iter().any(|i| matches!(i, Input::S3Prefix(_)))
        || (!args.dry_run && args.dead_letter.starts_with("s3://"));
    let ingester = Arc::new(Ingester::connect(ingest_options(&args, needs_s3).await?).await?);
    if let Some(client) = ingester.search_client() {
        prepare(client, ingester.prefixes(), &args, deadline).await?;
    }

    // Listing → a few objects at a time → one line per object as it ends.
    // A time window is listed whole first (it is bounded): the bar then knows the total bytes.
    let skipped = Arc::new(source::Skipped::default());
    let s3 = ingester.s3().cloned();
    let resume = Resume::new(
        (window.is_some() && !args.reread_done && !args.dry_run)
            .then(|| s3.clone())
            .flatten(),
    );
    let (sources, total_bytes) =
        listing(inputs, s3, args.list_page_size, window, skipped.clone()).await;
    let display = Display::new(args.progress, &ingester, started, total_bytes);
    let mut tally = Tally::new();
    run_many(
        &ingester,
        sources,
        args.concurrency,
        deadline,
        &resume,
        |_, result| tally.add(result, &display),
    )
    .await;
    display.finish();
    tally.report(&args, started, &skipped, &resume);
    Ok(tally.exit_code())
}

/// What the flags ask the ingester for.
async fn ingest_options(args: &IngestArgs, needs_s3: bool) -> Result<IngestOptions, RunError> {
    Ok(IngestOptions {
        parser: args
            .options
            .parser()?
            .enrich(args.options.enricher(args.s3_endpoint.as_deref()).await?),
        prefixes: args.options.index_prefixes()?,
        search: (!args.dry_run)
            .then(|| args.search.config())
            .transpose()?
            .map(|config| SearchConfig {
                gzip: !args.no_gzip,
                ..config
            }),
        retry: RetryPolicy {
            initial_backoff: Duration::from_millis(args.retry_initial_ms),
            max_retry_time: args.retry_for,
            request_timeout: args.request_timeout,
            ..RetryPolicy::default()
        },
        batch_bytes: args.batch_bytes,
        in_flight: args.in_flight,
        dead_letter: args.dead_letter.clone(),
        s3: S3Access::when(needs_s3, args.s3_endpoint.clone()),
        // The command line reads with the caller's credentials (an AWS profile may assume a
        // role); the bucket → role map is the function's.
        bucket_roles: Default::default(),
        document_ids: args.document_ids,
    })
}

/// Waits for the server (`--wait-for-server`) and installs the index templates (unless
/// `--no-setup`), within the deadline: a server that accepts and never answers must not hold
/// the run past it.
async fn prepare(
    client: &SearchClient,
    prefixes: &IndexPrefixes,
    args: &IngestArgs,
    deadline: Option<Instant>,
) -> Result<(), RunError> {
    let prepare = async {
        wait_for_server(client, args.wait_for_server).await?;
        if !args.no_setup {
            super::setup::install(client, prefixes, &args.templates.options()).await?;
        }
        Ok(())
    };
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.into(), prepare)
            .await
            .map_err(|_| RunError::SetupDeadline {
                endpoint: client.endpoint().to_string(),
                seconds: args.deadline.unwrap_or_default().as_secs_f64(),
            })?,
        None => prepare.await,
    }
}

/// The run's counts so far.
struct Tally {
    total: ObjectSummary,
    objects: u64,
    failed: u64,
}

impl Tally {
    fn new() -> Self {
        Self {
            total: ObjectSummary {
                object: "total".into(),
                ..ObjectSummary::default()
            },
            objects: 0,
            failed: 0,
        }
    }

    /// Counts one object's result and shows its line.
    fn add(&mut self, result: Result<ObjectSummary, IngestError>, display: &Display) {
        self.objects += 1;
        match result {
            Ok(summary) => {
                self.total.add(&summary);
                display.line(&format!("albingest ingest: {summary}"), false);
            }
            Err(error) => {
                self.failed += 1;
                if let Some(summary) = error.summary() {
                    self.total.add(summary);
                }
                // The error names the object itself.
                display.line(&format!("albingest ingest: FAILED: {error}"), true);
            }
        }
        display.objects_done(self.objects, self.failed);
    }

    /// 0 when every document of every object was placed.
    fn exit_code(&self) -> ExitCode {
        if self.failed > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }

    /// The run's summary lines, on stderr.
    fn report(
        &self,
        args: &IngestArgs,
        started: Instant,
        skipped: &source::Skipped,
        resume: &Resume,
    ) {
        let (total, objects, failed) = (&self.total, self.objects, self.failed);
        let elapsed = started.elapsed().as_secs_f64();
        let placed = total.indexed + total.already_present + total.dead_lettered;
        to_stderr!(
            "albingest ingest: {objects} {}{}, {}, {elapsed:.2} s, {:.0} documents/s{}",
            plural(objects),
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            },
            total.counts(),
            if args.dry_run {
                total.documents
            } else {
                placed
            } as f64
                / elapsed.max(1e-9),
            if args.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        );
        if skipped.total() > 0 {
            to_stderr!(
                "albingest ingest: skipped {} in directories and S3 prefixes: {} (name a file to \
                 read it anyway)",
                crate::count::count(skipped.total(), "object", "objects"),
                skipped.describe()
            );
        }
        let done = resume.skipped();
        if done > 0 {
            to_stderr!(
                "albingest ingest: skipped {} a run of this backfill completed (S3 tag {}=done; \
                 --reread-done reads them)",
                crate::count::count(done, "object", "objects"),
                crate::checkpoint::TAG_KEY
            );
        }
        if !total.dead_letter_locations.is_empty() {
            to_stderr!(
                "albingest ingest: {} dead-lettered documents, first written to {}",
                total.dead_lettered,
                total.dead_letter_locations[0]
            );
        }
    }
}

/// The listing's objects through a bounded channel; with a time window the listing is read
/// whole first and the total bytes come back too.
async fn listing(
    inputs: Vec<Input>,
    s3: Option<aws_sdk_s3::Client>,
    page_size: i32,
    window: Option<TimeWindow>,
    skipped: Arc<source::Skipped>,
) -> (mpsc::Receiver<Listing>, Option<u64>) {
    let (tx, mut rx) = mpsc::channel(64);
    tokio::spawn(source::enumerate(
        inputs, s3, page_size, window, tx, skipped,
    ));
    if window.is_none() {
        return (rx, None);
    }
    let mut all = Vec::new();
    while let Some(listed) = rx.recv().await {
        all.push(listed);
    }
    let total = all
        .iter()
        .filter_map(|l| l.as_ref().ok().and_then(|l| l.size))
        .sum();
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        for listed in all {
            if tx.send(listed).await.is_err() {
                break;
            }
        }
    });
    (rx, Some(total))
}

type Listing = Result<source::Listed, source::SourceError>;

/// `--list`: each object the run would read, with its size, on stdout; the total on stderr.
async fn list(
    args: &IngestArgs,
    inputs: Vec<Input>,
    window: Option<TimeWindow>,
) -> Result<ExitCode, RunError> {
    let needs_s3 = inputs.iter().any(|i| matches!(i, Input::S3Prefix(_)));
    let s3 = match needs_s3 {
        true => Some(source::s3_client(args.s3_endpoint.as_deref()).await),
        false => None,
    };
    let skipped = Arc::new(source::Skipped::default());
    let (tx, mut rx) = mpsc::channel(64);
    tokio::spawn(source::enumerate(
        inputs,
        s3,
        args.list_page_size,
        window,
        tx,
        skipped.clone(),
    ));
    let (mut objects, mut bytes, mut errors) = (0u64, 0u64, 0u64);
    while let Some(listed) = rx.recv().await {
        match listed {
            Ok(listed) => {
                objects += 1;
                bytes += listed.size.unwrap_or(0);
                let size = listed.size.map_or("-".to_string(), |n| n.to_string());
                super::print_stdout(&format!("{size}\t{}\n", listed.source.describe()))?;
            }
            Err(e) => {
                errors += 1;
                to_stderr!("albingest ingest: {e}");
            }
        }
    }
    to_stderr!(
        "albingest ingest: {}, {} ({}) would be read (--list: nothing read)",
        crate::count::count(objects, "object", "objects"),
        crate::count::count(bytes, "byte", "bytes"),
        indicatif::HumanBytes(bytes)
    );
    if skipped.total() > 0 {
        to_stderr!(
            "albingest ingest: skipped {}: {}",
            crate::count::count(skipped.total(), "object", "objects"),
            skipped.describe()
        );
    }
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Time between two "waiting" lines, without a progress bar.
const NOTICE_EVERY: Duration = Duration::from_secs(5);

/// The search server did not answer.
#[derive(Debug, thiserror::Error)]
pub enum ServerUnavailable {
    #[error("the search server does not answer: {error}. Is it running, and is the URL right? (--wait-for-server DURATION waits for a server that is starting)")]
    NotAnswering { error: SearchError },
    #[error("the search server did not answer within --wait-for-server {waited}: {error}")]
    NotWithin { waited: String, error: SearchError },
}

/// Asks the server once whether it answers at all (any HTTP answer will do): a server that is
/// down fails the run at once with a clear message, instead of every batch retrying in silence.
/// With `--wait-for-server`, waits for it that long, saying so every few seconds.
pub(super) async fn wait_for_server(
    client: &SearchClient,
    wait: Option<Duration>,
) -> Result<(), ServerUnavailable> {
    let started = Instant::now();
    let mut said = None::<Instant>;
    loop {
        let error = match client
            .send(Method::Get, "/", &[], &[], None, Some(PROBE_TIMEOUT))
            .await
        {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        let left = wait.map_or(Duration::ZERO, |w| w.saturating_sub(started.elapsed()));
        if left.is_zero() {
            return Err(match wait {
                None => ServerUnavailable::NotAnswering { error },
                Some(wait) => ServerUnavailable::NotWithin {
                    waited: human_duration(wait),
                    error,
                },
            });
        }
        if said.is_none_or(|at| at.elapsed() >= NOTICE_EVERY) {
            to_stderr!(
                "albingest ingest: waiting for the search server ({error}); {} left",
                human_duration(left)
            );
            said = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(1).min(left)).await;
    }
}

/// One request's timeout when asking whether the server answers.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// `4m 05s`, `12s`.
fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64().ceil() as u64;
    if secs >= 60 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// `retrying 2 batches (HTTP 503 …); giving up in 4m 05s`: the reason cut to a readable length.
fn retry_notice(waiting: &Waiting) -> String {
    const SHOWN: usize = 160;
    let reason = &waiting.latest.reason;
    let reason = match reason.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &reason[..cut]),
        None => reason.clone(),
    };
    let left = waiting
        .latest
        .gives_up_at
        .saturating_duration_since(Instant::now());
    format!(
        "retrying {} ({reason}); giving up in {}",
        crate::count::count(waiting.batches as u64, "batch", "batches"),
        human_duration(left)
    )
}

fn plural(objects: u64) -> &'static str {
    if objects == 1 {
        "object"
    } else {
        "objects"
    }
}

/// The progress bar on a terminal; plain lines otherwise.
struct Display {
    bar: Option<ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Display {
    fn new(
        mode: ProgressMode,
        ingester: &Ingester,
        started: Instant,
        total_bytes: Option<u64>,
    ) -> Self {
        let show_bar = match mode {
            ProgressMode::Always => true,
            ProgressMode::Never => false,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
        };
        let retries = ingester.retry_board();
        if !show_bar {
            // One line per retry round at most every NOTICE_EVERY, while batches wait.
            let ticker = retries.map(|retries| {
                tokio::spawn(async move {
                    let (mut said_round, mut said_at) = (0, None::<Instant>);
                    loop {
                        if let Some(waiting) = retries.waiting() {
                            let due = said_at.is_none_or(|at| at.elapsed() >= NOTICE_EVERY);
                            if due && waiting.rounds > said_round {
                                to_stderr!("albingest ingest: {}", retry_notice(&waiting));
                                (said_round, said_at) = (waiting.rounds, Some(Instant::now()));
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                })
            });
            return Self { bar: None, ticker };
        }
        // With the total known (a time window is listed first): a bar of bytes with an ETA.
        let (bar, template) = match total_bytes {
            Some(total) => (
                ProgressBar::new(total),
                "{spinner} [{elapsed_precise}] {prefix} [{bar:20}] {bytes}/{total_bytes}, ETA {eta} {msg}",
            ),
            None => (
                ProgressBar::new_spinner(),
                "{spinner} [{elapsed_precise}] {prefix} {msg}",
            ),
        };
        bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
        bar.set_prefix("0 objects");
        bar.enable_steady_tick(Duration::from_millis(120));
        let ticking = bar.clone();
        let progress = ingester.progress().clone();
        let ticker = tokio::spawn(async move {
            loop {
                let documents = progress.documents.load(Ordering::Relaxed);
                let placed = progress.placed.load(Ordering::Relaxed);
                let bytes = progress.bytes_in.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                // A dry run places nothing: its rate is the parsing rate.
                let rate = if placed > 0 { placed } else { documents } as f64 / secs;
                let waiting = retries.as_ref().and_then(|r| r.waiting());
                if total_bytes.is_some() {
                    ticking.set_position(bytes);
                }
                ticking.set_message(match waiting {
                    Some(waiting) => format!(
                        "{} read, {documents} documents parsed, {placed} placed; {}",
                        indicatif::HumanBytes(bytes),
                        retry_notice(&waiting)
                    ),
                    None => format!(
                        "{} read, {documents} documents parsed, {placed} placed ({rate:.0} docs/s)",
                        indicatif::HumanBytes(bytes),
                    ),
                });
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        Self {
            bar: Some(bar),
            ticker: Some(ticker),
        }
    }

    /// A summary line: above the bar on a terminal (errors only), on stderr otherwise.
    fn line(&self, text: &str, is_error: bool) {
        match &self.bar {
            Some(bar) if is_error => bar.println(text),
            Some(_) => {}
            None => to_stderr!("{text}"),
        }
    }

    fn objects_done(&self, objects: u64, failed: u64) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(if failed > 0 {
                format!("{objects} {} ({failed} failed)", plural(objects))
            } else {
                format!("{objects} {}", plural(objects))
            });
        }
    }

    fn finish(self) {
        if let Some(ticker) = self.ticker {
            ticker.abort();
        }
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_in_range() {
        assert_eq!(seconds("2.5").unwrap(), Duration::from_millis(2500));
        assert_eq!(seconds("0").unwrap(), Duration::ZERO);
        assert_eq!(
            seconds("31536000").unwrap(),
            Duration::from_secs(31_536_000)
        );
        for bad in ["1e19", "31536001", "-1", "NaN", "inf", "", "5s"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert!(positive_seconds("0").is_err());
        assert!(positive_seconds("0.001").is_ok());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("5MiB").unwrap(), 5 * 1024 * 1024);
        assert_eq!(parse_size("512KiB").unwrap(), 512 * 1024);
        assert_eq!(parse_size("65536").unwrap(), 65536);
        assert!(parse_size("5GB").is_err());
        assert!(parse_size("12").is_err());
        assert!(parse_size("MiB").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(human_duration(Duration::from_secs(245)), "4m 05s");
        assert_eq!(human_duration(Duration::from_millis(11_200)), "12s");
    }
}
