//! One object end to end: source → decompress → lines → documents → `_bulk` batches → search
//! server, and what became of every line.
//!
//! Parsing is synchronous and streaming: it runs on a blocking thread, reading the object
//! through [`crate::source::open`]'s blocking reader, and hands finished batches through a
//! bounded channel to the async side, which sends them ([`BulkLoader`]). Memory is bounded by a
//! few batches per object, whatever the object's size.
//!
//! The result is a summary when every document was placed (indexed, already present, or
//! dead-lettered), else an error that says what is unplaced, so the caller fails the object and
//! S3/SQS delivers it again (deterministic `_id`s make that safe; with ids the server makes, the
//! S3 object's [`crate::checkpoint`] does).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::batch::{Batch, BatchBuilder};
use crate::bulk::{write_action, DocumentIds, IndexPrefixes, ObjectHash};
use crate::checkpoint::{Checkpoint, CheckpointError, Frontier, ObjectCheckpoint};
use crate::decompress::decode;
use crate::format::{LogFormat, PerFormat};
use crate::json;
use crate::object_key::ObjectInfo;
use crate::parse::{ParsedLine, Parser};
use crate::pipeline::{for_each_line, ParseStats, ReadError};
use crate::rules::Verdict;
use crate::search::bulk_load::{BatchOutcome, BulkLoader, Unplaced};
use crate::search::dead_letter::{DeadLetter, LocationError};
use crate::search::retry::RetryPolicy;
use crate::search::{SearchClient, SearchConfig, SearchError};
use crate::source::{self, Source, SourceError};

/// Counters a progress display reads while objects are ingested.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes read from sources (compressed, as stored).
    pub bytes_in: AtomicU64,
    /// Documents parsed.
    pub documents: AtomicU64,
    /// Documents placed (indexed, already present or dead-lettered).
    pub placed: AtomicU64,
}

/// What an [`Ingester`] is built from: what the CLI's flags and the Lambda's environment say.
pub struct IngestOptions {
    pub parser: Parser,
    pub prefixes: IndexPrefixes,
    /// The search server; `None` for a dry run (parse and count, write nothing).
    pub search: Option<SearchConfig>,
    pub retry: RetryPolicy,
    /// Upper bound of a `_bulk` body, uncompressed.
    pub batch_bytes: usize,
    /// `_bulk` requests in flight at once, over all objects.
    pub in_flight: usize,
    /// A directory or `s3://bucket/prefix`.
    pub dead_letter: String,
    /// Whether to build an S3 client (for S3 sources or dead letters), and for which endpoint.
    pub s3: S3Access,
    /// Buckets read with another role or region (`ALBINGEST_BUCKET_ROLES`); empty: every bucket
    /// with the default credentials.
    pub bucket_roles: source::roles::BucketRoles,
    /// Where document ids come from.
    pub document_ids: DocumentIds,
}

/// Whether and where an [`Ingester`] reaches S3 (for S3 sources or dead letters).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum S3Access {
    /// No S3 client: local files and a local dead-letter directory only.
    #[default]
    None,
    /// AWS's S3 (or the endpoint of `AWS_ENDPOINT_URL_S3`).
    Aws,
    /// An S3-compatible endpoint.
    Endpoint(String),
}

impl S3Access {
    /// A client when `needed`: at `endpoint` if one is given, else AWS's.
    pub fn when(needed: bool, endpoint: Option<String>) -> Self {
        match (needed, endpoint) {
            (false, _) => Self::None,
            (true, None) => Self::Aws,
            (true, Some(url)) => Self::Endpoint(url),
        }
    }
}

#[cfg(test)]
mod s3_access_tests {
    use super::S3Access;

    #[test]
    fn a_client_only_when_needed_at_the_endpoint_given() {
        assert_eq!(
            S3Access::when(false, Some("http://s3:5000".into())),
            S3Access::None
        );
        assert_eq!(S3Access::when(true, None), S3Access::Aws);
        assert_eq!(
            S3Access::when(true, Some("http://s3:5000".into())),
            S3Access::Endpoint("http://s3:5000".into())
        );
    }
}

/// Everything one object's ingestion needs; shared by all objects of a run.
pub struct Ingester {
    pub parser: Arc<Parser>,
    pub prefixes: Arc<IndexPrefixes>,
    /// The default S3 client (dead letters, unmapped buckets).
    pub s3: Option<aws_sdk_s3::Client>,
    /// The client of each bucket (`bucket_roles`), when S3 is used.
    pub buckets: Option<Arc<source::roles::BucketClients>>,
    /// `None`: dry run (parse and count, write nothing).
    pub loader: Option<Arc<BulkLoader>>,
    /// Upper bound of a `_bulk` body, uncompressed.
    pub batch_bytes: usize,
    /// Batches of one object being sent at once (the loader bounds requests over all objects).
    pub batches_in_flight: usize,
    pub progress: Arc<Progress>,
}

/// What became of one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectSummary {
    /// `s3://bucket/key` or the path.
    pub object: String,
    /// Non-empty lines read: `lines = indexed + already_present + dropped + dead_lettered +
    /// unplaced`.
    pub lines: u64,
    /// Documents made (a line dropped by the rules makes none).
    pub documents: u64,
    /// Failure documents (lines that did not parse; indexed like the rest).
    pub failures: u64,
    pub indexed: u64,
    /// `create` answered 409: the document was there already (a retry, or a second run).
    pub already_present: u64,
    /// Lines the drop and sample rules left out (counted, never sent).
    pub dropped: u64,
    pub dead_lettered: u64,
    /// Documents neither indexed, present nor dead-lettered.
    pub unplaced: u64,
    /// Requests sent again after a failure.
    pub retries: u64,
    /// Bytes read from the source (compressed size for gzip).
    pub bytes_in: u64,
    /// Decompressed bytes read.
    pub bytes_decompressed: u64,
    /// Request bytes sent to the search server.
    pub bytes_out: u64,
    pub seconds: f64,
    pub by_format: PerFormat<u64>,
    pub dead_letter_locations: Vec<String>,
}

impl ObjectSummary {
    /// Adds `other` (another object) into this total.
    pub fn add(&mut self, other: &ObjectSummary) {
        self.lines += other.lines;
        self.documents += other.documents;
        self.failures += other.failures;
        self.indexed += other.indexed;
        self.already_present += other.already_present;
        self.dropped += other.dropped;
        self.dead_lettered += other.dead_lettered;
        self.unplaced += other.unplaced;
        self.retries += other.retries;
        self.bytes_in += other.bytes_in;
        self.bytes_decompressed += other.bytes_decompressed;
        self.bytes_out += other.bytes_out;
        self.by_format += &other.by_format;
        self.dead_letter_locations
            .extend(other.dead_letter_locations.iter().cloned());
    }

    /// The counts as one line (no object name, no time).
    pub fn counts(&self) -> String {
        use crate::count::count;
        format!(
            "{}, {} ({}), {} indexed, {} already present, {} dropped, {} dead-lettered, {} unplaced, {}, {} in, {} out",
            count(self.lines, "line", "lines"),
            count(self.documents, "document", "documents"),
            count(self.failures, "failure document", "failure documents"),
            self.indexed,
            self.already_present,
            self.dropped,
            self.dead_lettered,
            self.unplaced,
            count(self.retries, "retry", "retries"),
            count(self.bytes_in, "byte", "bytes"),
            count(self.bytes_out, "byte", "bytes"),
        )
    }
}

impl std::fmt::Display for ObjectSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}, {:.2} s",
            self.object,
            self.counts(),
            self.seconds
        )
    }
}

/// An object that was not completely placed.
#[derive(Debug)]
pub struct Incomplete {
    /// What was done before it stopped (the documents it counts as placed are placed).
    pub summary: ObjectSummary,
    /// The object could not be read to its end (corrupt or truncated gzip, a broken stream).
    pub read_error: Option<ReadError>,
    pub unplaced: Unplaced,
    /// Reading stopped early (deadline, or an earlier failure): lines from this decompressed
    /// byte offset on were not read.
    pub unread_from: Option<u64>,
    pub stop_reason: Option<String>,
}

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(read_error) = &self.read_error {
            parts.push(read_error.to_string());
        } else {
            parts.push(format!("{}: not completely ingested", self.summary.object));
        }
        if !self.unplaced.is_empty() {
            parts.push(self.unplaced.to_string());
        }
        if let Some(offset) = self.unread_from {
            parts.push(format!(
                "lines from decompressed byte {offset} on were not read ({})",
                self.stop_reason.as_deref().unwrap_or("stopped")
            ));
        }
        let placed =
            self.summary.indexed + self.summary.already_present + self.summary.dead_lettered;
        parts.push(format!(
            "{placed} of {} documents read were placed",
            self.summary.documents
        ));
        f.write_str(&parts.join("; "))
    }
}

/// Why an [`Ingester`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    DeadLetter(#[from] LocationError),
}

/// The command line reports errors as text.
impl From<ConnectError> for String {
    fn from(error: ConnectError) -> String {
        error.to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The object could not be opened (missing, access denied, unreadable file).
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0}")]
    Incomplete(Box<Incomplete>),
    /// The server makes the document ids and the object's checkpoint cannot be read: ingesting
    /// it could write its documents twice.
    #[error("{0}; with --document-ids server the checkpoint keeps re-runs from writing documents twice: grant s3:GetObjectTagging and s3:PutObjectTagging on the log prefix")]
    Checkpoint(CheckpointError),
    #[error("{object}: internal error: {message}")]
    Internal { object: String, message: String },
}

impl IngestError {
    /// The summary of what was done, when the object was opened at all.
    pub fn summary(&self) -> Option<&ObjectSummary> {
        match self {
            IngestError::Incomplete(incomplete) => Some(&incomplete.summary),
            _ => None,
        }
    }
}

/// Why the parsing thread stopped before the end of the object.
enum Stop {
    Read(ReadError),
    Deadline {
        offset: u64,
    },
    /// An earlier batch could not be placed, or the receiving side is gone: the object has
    /// failed, reading more would only cost time.
    GivenUp {
        offset: u64,
    },
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Self {
        Stop::Read(e)
    }
}

/// What the parsing thread reports when it ends.
struct ParseEnd {
    stats: ParseStats,
    /// Lines before the object's checkpoint: placed by an earlier run, not sent.
    skipped: u64,
    /// Documents handed to the sending side in batches.
    documents_sent: u64,
    bytes_in: u64,
    stop: Option<Stop>,
}

/// The daily index name of the previous document, reused while route, format, kind and date
/// stay the same (nearly always: one object is five minutes of one load balancer).
#[derive(Default)]
struct IndexNames {
    key: Option<(usize, LogFormat, bool, bool, [u8; 10])>,
    name: String,
}

impl IndexNames {
    fn get(&mut self, prefixes: &IndexPrefixes, parsed: &ParsedLine<'_>) -> &str {
        let mut date = [0u8; 10];
        let text = parsed.date().as_bytes();
        date[..text.len().min(10)].copy_from_slice(&text[..text.len().min(10)]);
        let key = Some((
            prefixes.route_of(parsed),
            parsed.format,
            parsed.failed,
            parsed.dated,
            date,
        ));
        if self.key != key {
            self.key = key;
            self.name = prefixes.index_name(parsed);
        }
        &self.name
    }
}

impl Ingester {
    /// Builds the clients (S3, search server) and the sender. Nothing is sent yet: the first
    /// request to the search server is the caller's (`setup`) or the first batch.
    pub async fn connect(options: IngestOptions) -> Result<Self, ConnectError> {
        let endpoint = match &options.s3 {
            S3Access::None => None,
            S3Access::Aws => Some(None),
            S3Access::Endpoint(url) => Some(Some(url.as_str())),
        };
        let buckets = match endpoint {
            Some(endpoint) => Some(Arc::new(
                source::bucket_clients(endpoint, options.bucket_roles.clone()).await,
            )),
            None => None,
        };
        let s3 = buckets.as_ref().map(|b| b.default_client().clone());
        let in_flight = options.in_flight.max(1);
        let loader = match &options.search {
            None => None,
            Some(config) => {
                let client = SearchClient::connect(config).await?;
                let dead_letter = DeadLetter::parse(&options.dead_letter, s3.as_ref())?;
                Some(Arc::new(
                    BulkLoader::new(Arc::new(client), options.retry, in_flight, dead_letter)
                        .with_document_ids(options.document_ids),
                ))
            }
        };
        Ok(Self {
            parser: Arc::new(options.parser),
            prefixes: Arc::new(options.prefixes),
            s3,
            buckets,
            loader,
            batch_bytes: options.batch_bytes,
            batches_in_flight: in_flight,
            progress: Arc::new(Progress::default()),
        })
    }

    /// The S3 client that reads `source`'s bucket (its role's, or the default one).
    async fn s3_for(&self, source: &Source) -> Option<aws_sdk_s3::Client> {
        match (source, &self.buckets) {
            (Source::S3 { bucket, .. }, Some(buckets)) => Some(buckets.for_bucket(bucket).await),
            _ => self.s3.clone(),
        }
    }

    /// The search server's client (`None` in a dry run), e.g. to install the index templates.
    pub fn search_client(&self) -> Option<&SearchClient> {
        self.loader.as_deref().map(BulkLoader::client)
    }

    /// Ingests one object. `deadline`: no retry starts, and no more lines are read, after it
    /// (the Lambda passes its remaining time less a margin to report).
    pub async fn ingest(
        &self,
        source: &Source,
        deadline: Option<Instant>,
    ) -> Result<ObjectSummary, IngestError> {
        let started = Instant::now();
        let mut checkpoint = self.read_checkpoint(source).await?;
        let skip_before = checkpoint.as_ref().map_or(0, |c| c.current().skip_before());
        let s3 = self.s3_for(source).await;
        let opened = source::open(source, s3.as_ref()).await?;
        let info = Arc::new(opened.info);
        let object_name = info.file_path.clone();

        let (batches_tx, mut batches_rx) = mpsc::channel::<Batch>(1);
        let give_up = Arc::new(AtomicBool::new(false));
        let parse = {
            let parser = self.parser.clone();
            let prefixes = self.prefixes.clone();
            let info = info.clone();
            let give_up = give_up.clone();
            let progress = self.progress.clone();
            let builder = self
                .loader
                .as_ref()
                .map(|loader| BatchBuilder::new(self.batch_bytes, loader.gzip()));
            let server_ids = self
                .loader
                .as_ref()
                .map_or_else(Default::default, |loader| loader.server_ids());
            let reader = opened.reader;
            tokio::task::spawn_blocking(move || {
                let job = ParseJob {
                    parser: &parser,
                    prefixes: &prefixes,
                    info: &info,
                    give_up: &give_up,
                    progress: &progress,
                    server_ids: &server_ids,
                    skip_before,
                    deadline,
                    batches: &|batch| batches_tx.blocking_send(batch).is_ok(),
                };
                job.run(reader, builder)
            })
        };

        // Send the batches as they come, a few at a time.
        let mut outcome = BatchOutcome::default();
        let mut skipped = 0u64;
        let mut frontier = Frontier::default();
        let mut loads: JoinSet<(u64, BatchOutcome)> = JoinSet::new();
        let mut receiving = true;
        let in_flight = self.batches_in_flight.max(1);
        let server_ids = self.loader.as_ref().map(|loader| loader.server_ids());
        while receiving || !loads.is_empty() {
            // With server ids, a batch written twice is a duplicate, and a run that dies writes
            // again every batch the checkpoint has not covered. The checkpoint moves only over an
            // unbroken run of placed batches, so while one batch hangs the others would go on
            // placing batches behind it: no batch is sent while `in_flight` are uncovered. Once
            // the object gives up, batches are only counted, never sent: keep receiving them
            // (and with nothing in flight there is nothing to wait for: never block both arms).
            let holding_back = server_ids
                .as_ref()
                .is_some_and(|ids| ids.load(Ordering::Relaxed))
                && !give_up.load(Ordering::Relaxed)
                && !loads.is_empty();
            let uncovered = if holding_back {
                frontier.behind()
            } else {
                loads.len()
            };
            tokio::select! {
                batch = batches_rx.recv(), if receiving && uncovered < in_flight => match batch {
                    Some(batch) if give_up.load(Ordering::Relaxed) => skipped += batch.len() as u64,
                    Some(batch) => {
                        let loader = self.loader.clone().expect("batches are made only to be loaded");
                        let info = info.clone();
                        // Taken before the task exists: a batch waiting for a slot is this one
                        // only, whatever the number of objects.
                        let slot = loader.slot().await;
                        let number = frontier.sent(batch.line_offsets().map_or(0, |(_, last)| last));
                        loads.spawn(async move {
                            let _slot = slot;
                            (number, loader.load(&batch, &info, deadline).await)
                        });
                    }
                    None => receiving = false,
                },
                Some(done) = loads.join_next(), if !loads.is_empty() => {
                    let (number, done) = done.map_err(|e| IngestError::Internal {
                        object: object_name.clone(),
                        message: format!("a bulk sender stopped: {e}"),
                    })?;
                    if done.unplaced.is_empty() {
                        if let Some(moved) = frontier.placed(number) {
                            self.move_checkpoint(checkpoint.as_mut(), moved).await;
                        }
                    }
                    self.progress.placed.fetch_add(
                        done.indexed + done.already_present + done.dead_lettered,
                        Ordering::Relaxed,
                    );
                    if !done.unplaced.is_empty() {
                        give_up.store(true, Ordering::Relaxed);
                    }
                    merge(&mut outcome, done);
                }
            }
        }
        let end = parse.await.map_err(|e| IngestError::Internal {
            object: object_name.clone(),
            message: format!("the parsing thread stopped: {e}"),
        })?;

        let mut summary = ObjectSummary {
            object: object_name.clone(),
            lines: end.stats.lines,
            documents: end.stats.documents,
            failures: end.stats.failures,
            indexed: outcome.indexed,
            already_present: outcome.already_present + end.skipped,
            dropped: end.stats.dropped,
            dead_lettered: outcome.dead_lettered,
            unplaced: 0,
            retries: outcome.retries,
            bytes_in: end.bytes_in,
            bytes_decompressed: end.stats.bytes,
            bytes_out: outcome.bytes_out,
            seconds: 0.0,
            by_format: end.stats.by_format,
            dead_letter_locations: outcome.dead_letter_location.into_iter().collect(),
        };
        let mut unplaced = outcome.unplaced;
        let (mut read_error, mut unread_from, mut stop_reason) = (None, None, None);
        match end.stop {
            None => {}
            Some(Stop::Read(e)) => read_error = Some(e),
            Some(Stop::Deadline { offset }) => {
                unread_from = Some(offset);
                stop_reason = Some("deadline reached".to_string());
            }
            Some(Stop::GivenUp { offset }) => {
                unread_from = Some(offset);
                stop_reason = Some("given up after documents could not be placed".to_string());
            }
        }
        if self.loader.is_some() {
            unplaced.add(
                "not sent: the object was given up after an earlier failure",
                skipped,
                [],
            );
            // Documents parsed but never handed over (the batch being built when reading stopped).
            let not_handed_over = end
                .stats
                .documents
                .saturating_sub(end.documents_sent + end.skipped);
            let reason = format!(
                "not sent: {}",
                stop_reason.as_deref().unwrap_or("reading stopped")
            );
            unplaced.add(&reason, not_handed_over, []);
        }
        summary.unplaced = unplaced.documents;
        summary.seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            object = %summary.object,
            lines = summary.lines,
            documents = summary.documents,
            failures = summary.failures,
            indexed = summary.indexed,
            already_present = summary.already_present,
            dropped = summary.dropped,
            dead_lettered = summary.dead_lettered,
            unplaced = summary.unplaced,
            retries = summary.retries,
            bytes_in = summary.bytes_in,
            bytes_out = summary.bytes_out,
            seconds = summary.seconds,
            "object done"
        );
        if read_error.is_none() && unplaced.is_empty() && unread_from.is_none() {
            self.move_checkpoint(checkpoint.as_mut(), Checkpoint::Done)
                .await;
            Ok(summary)
        } else {
            Err(IngestError::Incomplete(Box::new(Incomplete {
                summary,
                read_error,
                unplaced,
                unread_from,
                stop_reason,
            })))
        }
    }
}

impl Ingester {
    /// The checkpoint of an S3 object when the server may make the document ids
    /// (`--document-ids auto|server`); `None` for local files and deterministic ids.
    async fn read_checkpoint(
        &self,
        source: &Source,
    ) -> Result<Option<ObjectCheckpoint>, IngestError> {
        let s3 = self.s3_for(source).await;
        let (Some(loader), Some(s3), Source::S3 { bucket, key }) = (&self.loader, &s3, source)
        else {
            return Ok(None);
        };
        match (
            loader.document_ids(),
            // Boxed: the SDK's futures are deep, and the Lambda's event future holds this one.
            Box::pin(ObjectCheckpoint::read(s3, bucket, key)).await,
        ) {
            (DocumentIds::Deterministic, _) => Ok(None),
            (_, Ok(checkpoint)) => Ok(Some(checkpoint)),
            (DocumentIds::Server, Err(e)) => Err(IngestError::Checkpoint(e)),
            (DocumentIds::Auto, Err(e)) => {
                // Deterministic ids keep re-runs idempotent until the target refuses them.
                tracing::warn!(error = %e, "no object checkpoint: a re-run after the target refused ids may write documents twice");
                Ok(None)
            }
        }
    }

    /// Moves the object's checkpoint while the server makes the ids (a failure to write it is
    /// logged: the documents are placed, only a re-run could write them again).
    async fn move_checkpoint(&self, checkpoint: Option<&mut ObjectCheckpoint>, to: Checkpoint) {
        let server_ids = self
            .loader
            .as_ref()
            .is_some_and(|l| l.server_ids().load(Ordering::Relaxed));
        match checkpoint {
            Some(checkpoint) if server_ids || checkpoint.current() != Checkpoint::None => {
                if let Err(e) = Box::pin(checkpoint.write(to)).await {
                    tracing::warn!(error = %e, "the object checkpoint was not moved: delivered again, the object's documents from the old checkpoint on are written twice");
                }
            }
            None if server_ids && to == Checkpoint::Done => {
                tracing::warn!("the server makes the document ids and a local file has no checkpoint: ingesting it again writes its documents twice");
            }
            _ => {}
        }
    }
}

fn merge(total: &mut BatchOutcome, done: BatchOutcome) {
    total.indexed += done.indexed;
    total.already_present += done.already_present;
    total.dead_lettered += done.dead_lettered;
    total.retries += done.retries;
    total.bytes_out += done.bytes_out;
    total.unplaced.merge(&done.unplaced);
    if total.dead_letter_location.is_none() {
        total.dead_letter_location = done.dead_letter_location;
    }
}

/// Everything [`Ingester::ingest`] does to an object's bytes short of sending them, on the
/// calling thread: decompress, split lines, parse, and build the `_bulk` bodies (compressed when
/// `gzip`), each finished batch handed to `on_batch`. `cargo bench --bench pipeline` measures it.
pub fn build_bulk_bodies(
    parser: &Parser,
    prefixes: &IndexPrefixes,
    info: &ObjectInfo,
    reader: Box<dyn std::io::Read + Send>,
    batch_bytes: usize,
    gzip: bool,
    on_batch: &(dyn Fn(Batch) + Sync),
) -> Result<ParseStats, ReadError> {
    let job = ParseJob {
        parser,
        prefixes,
        info,
        give_up: &AtomicBool::new(false),
        progress: &Progress::default(),
        server_ids: &AtomicBool::new(false),
        skip_before: 0,
        deadline: None,
        batches: &|batch| {
            on_batch(batch);
            true
        },
    };
    let end = job.run(reader, Some(BatchBuilder::new(batch_bytes, gzip)));
    match end.stop {
        Some(Stop::Read(e)) => Err(e),
        // Without a deadline and with every batch taken, reading stops only at the end.
        None | Some(Stop::Deadline { .. } | Stop::GivenUp { .. }) => Ok(end.stats),
    }
}

/// Documents between two updates of [`Progress::documents`] by the parsing thread.
const PROGRESS_EVERY: u64 = 1024;

/// The parsing side of one object, on a blocking thread.
struct ParseJob<'a> {
    parser: &'a Parser,
    prefixes: &'a IndexPrefixes,
    info: &'a ObjectInfo,
    give_up: &'a AtomicBool,
    progress: &'a Progress,
    /// Set when the target makes the document ids: action lines without `_id` from then on.
    server_ids: &'a AtomicBool,
    /// Lines that start before this offset were placed by an earlier run (the checkpoint).
    skip_before: u64,
    deadline: Option<Instant>,
    /// Takes a finished batch (waiting while the sending side is busy); `false` when nobody
    /// receives them any more.
    batches: &'a (dyn Fn(Batch) -> bool + Sync),
}

impl ParseJob<'_> {
    fn run(
        self,
        reader: Box<dyn std::io::Read + Send>,
        mut builder: Option<BatchBuilder>,
    ) -> ParseEnd {
        let mut end = ParseEnd {
            stats: ParseStats::default(),
            skipped: 0,
            documents_sent: 0,
            bytes_in: 0,
            stop: None,
        };
        let decoded = match decode(reader) {
            Ok(decoded) => decoded,
            Err(source) => {
                end.stop = Some(Stop::Read(ReadError::Open {
                    object: self.info.file_path.clone(),
                    source,
                }));
                return end;
            }
        };
        let source_bytes = decoded.source_bytes.clone();
        let ids = ObjectHash::new(self.info.bucket.as_deref(), &self.info.key);
        let mut names = IndexNames::default();
        let mut bytes_reported = 0u64;
        let mut report_bytes = |progress: &Progress| {
            let now = source_bytes.load(Ordering::Relaxed);
            progress
                .bytes_in
                .fetch_add(now.saturating_sub(bytes_reported), Ordering::Relaxed);
            bytes_reported = now;
        };
        let result = for_each_line(
            self.parser,
            self.info,
            decoded.reader,
            &mut end.stats,
            |parsed, line, verdict, counted| {
                // A dropped line is counted and never sent; the checkpoint moves past it with the
                // next batch (or the end of the object).
                if verdict == Verdict::Drop {
                    return Ok(());
                }
                if line.offset < self.skip_before {
                    end.skipped += 1;
                    return Ok(());
                }
                if counted.documents % PROGRESS_EVERY == 0 {
                    self.progress
                        .documents
                        .fetch_add(PROGRESS_EVERY, Ordering::Relaxed);
                    report_bytes(self.progress);
                }
                let Some(builder) = builder.as_mut() else {
                    return Ok(()); // dry run
                };
                let index = names.get(self.prefixes, parsed);
                let id = ids.document_id(line.offset);
                let id = (!self.server_ids.load(Ordering::Relaxed)).then_some(id.as_str());
                let finished = builder.push(line.offset, id.is_some(), |out| {
                    write_action(out, index, id);
                    let source_at = out.len();
                    json::write(out, &parsed.document);
                    out.push(b'\n');
                    source_at
                });
                if let Some(batch) = finished {
                    self.hand_over(batch, line.offset, &mut end.documents_sent)?;
                }
                Ok::<(), Stop>(())
            },
        );
        self.progress
            .documents
            .fetch_add(end.stats.documents % PROGRESS_EVERY, Ordering::Relaxed);
        self.progress
            .placed
            .fetch_add(end.skipped, Ordering::Relaxed);
        end.stop = result.err();
        // The lines read before a read error are kept: the last batch goes too.
        if matches!(end.stop, None | Some(Stop::Read(_))) {
            if let Some(batch) = builder.as_mut().and_then(BatchBuilder::finish) {
                let offset = end.stats.bytes;
                if let Err(stop) = self.hand_over(batch, offset, &mut end.documents_sent) {
                    if end.stop.is_none() {
                        end.stop = Some(stop);
                    }
                }
            }
        }
        report_bytes(self.progress);
        end.bytes_in = source_bytes.load(Ordering::Relaxed);
        end
    }

    /// Gives a finished batch to the sending side (waiting while it is busy: the channel is
    /// bounded), unless the object is given up or the deadline has passed.
    fn hand_over(&self, batch: Batch, offset: u64, sent: &mut u64) -> Result<(), Stop> {
        if self.give_up.load(Ordering::Relaxed) {
            return Err(Stop::GivenUp { offset });
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Stop::Deadline { offset });
        }
        let documents = batch.len() as u64;
        if !(self.batches)(batch) {
            return Err(Stop::GivenUp { offset });
        }
        *sent += documents;
        Ok(())
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn counts_use_the_singular_for_one() {
        let one = ObjectSummary {
            lines: 1,
            documents: 1,
            failures: 1,
            indexed: 1,
            retries: 1,
            bytes_in: 1,
            bytes_out: 2,
            ..ObjectSummary::default()
        };
        assert_eq!(
            one.counts(),
            "1 line, 1 document (1 failure document), 1 indexed, 0 already present, \
             0 dropped, 0 dead-lettered, 0 unplaced, 1 retry, 1 byte in, 2 bytes out"
        );
    }
}
