//! One object end to end: open → parse side → send side → verdict, each stage in its own module
//! and [`Ingester::ingest`] calling them in that order; [`run_many`] ingests many objects a few
//! at a time.
//!
//! - [`open`]: the object's checkpoint read, its bytes opened.
//! - [`parse_side`]: on a blocking thread, source → decompress → lines → documents → `_bulk`
//!   batches, handed through a bounded channel (memory is a few batches per object, whatever
//!   the object's size).
//! - [`send_side`]: the batches sent a few at a time through the [`BulkLoader`], the object's
//!   checkpoint moved as they are placed.
//! - [`verdict`]: a summary when every document was placed (indexed, already present, or
//!   dead-lettered), else an error that says what is unplaced, so the caller fails the object
//!   and S3/SQS delivers it again (deterministic `_id`s make that safe; with ids the server
//!   makes, the S3 object's [`crate::checkpoint`] does).
//! - [`summary`]: what became of an object, and the progress counters.
//! - [`run_many`](mod@run_many): many objects, a few at a time (the command line and the Lambda
//!   function).

mod open;
mod parse_side;
mod run_many;
mod send_side;
mod summary;
mod verdict;

use std::sync::Arc;
use std::time::Instant;

use crate::batch::DEFAULT_BATCH_BYTES;
use crate::bulk::{DocumentIds, IndexPrefixes};
use crate::parse::Parser;
use crate::search::bulk_load::{BulkLoader, DEFAULT_IN_FLIGHT};
use crate::search::dead_letter::{DeadLetter, LocationError};
use crate::search::retry::{RetryBoard, RetryPolicy};
use crate::search::{SearchClient, SearchConfig, SearchError};
use crate::source::{self, Source};

pub use parse_side::build_bulk_bodies;
pub use run_many::{run_many, Known, Sources};
pub use summary::{Incomplete, IngestError, ObjectSummary, Progress};

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
    parser: Arc<Parser>,
    prefixes: Arc<IndexPrefixes>,
    /// The default S3 client (dead letters, unmapped buckets).
    s3: Option<aws_sdk_s3::Client>,
    /// The client of each bucket (`bucket_roles`), when S3 is used.
    buckets: Option<Arc<source::roles::BucketClients>>,
    /// `None`: dry run (parse and count, write nothing).
    loader: Option<Arc<BulkLoader>>,
    /// Upper bound of a `_bulk` body, uncompressed.
    batch_bytes: usize,
    /// Batches of one object being sent at once (the loader bounds requests over all objects).
    batches_in_flight: usize,
    progress: Arc<Progress>,
}

/// Why an [`Ingester`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    DeadLetter(#[from] LocationError),
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
                Some(
                    BulkLoader::new(Arc::new(client), options.retry, in_flight, dead_letter)
                        .with_document_ids(options.document_ids),
                )
            }
        };
        Ok(Self {
            buckets,
            ..Self::new(options.parser, options.prefixes, loader)
                .with_s3(s3)
                .with_batches(options.batch_bytes, in_flight)
        })
    }

    /// An ingester from a loader already built (`None`: a dry run), e.g. a test's; without S3,
    /// with the default batch size and [`DEFAULT_IN_FLIGHT`] batches of an object at once.
    /// [`Ingester::connect`] builds everything from [`IngestOptions`].
    pub fn new(parser: Parser, prefixes: IndexPrefixes, loader: Option<BulkLoader>) -> Self {
        Self {
            parser: Arc::new(parser),
            prefixes: Arc::new(prefixes),
            s3: None,
            buckets: None,
            loader: loader.map(Arc::new),
            batch_bytes: DEFAULT_BATCH_BYTES,
            batches_in_flight: DEFAULT_IN_FLIGHT,
            progress: Arc::new(Progress::default()),
        }
    }

    /// The S3 client of S3 sources and dead letters (every bucket with the same one).
    pub fn with_s3(mut self, s3: Option<aws_sdk_s3::Client>) -> Self {
        self.s3 = s3;
        self
    }

    /// The upper bound of a `_bulk` body (uncompressed), and the batches of one object sent at
    /// once.
    pub fn with_batches(mut self, batch_bytes: usize, batches_in_flight: usize) -> Self {
        self.batch_bytes = batch_bytes;
        self.batches_in_flight = batches_in_flight;
        self
    }

    /// The search server's client (`None` in a dry run), e.g. to install the index templates.
    pub fn search_client(&self) -> Option<&SearchClient> {
        self.loader.as_deref().map(BulkLoader::client)
    }

    /// The index name prefixes the documents go to.
    pub fn prefixes(&self) -> &IndexPrefixes {
        &self.prefixes
    }

    /// The default S3 client, when S3 is used.
    pub fn s3(&self) -> Option<&aws_sdk_s3::Client> {
        self.s3.as_ref()
    }

    /// The counters of every object's progress so far.
    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// The batches waiting to retry, for a display (`None` in a dry run).
    pub fn retry_board(&self) -> Option<Arc<RetryBoard>> {
        self.loader.as_ref().map(|loader| loader.retry_board())
    }

    /// Ingests one object. `deadline`: no retry starts, and no more lines are read, after it
    /// (the Lambda passes its remaining time less a margin to report).
    pub async fn ingest(
        &self,
        source: &Source,
        deadline: Option<Instant>,
    ) -> Result<ObjectSummary, IngestError> {
        let started = Instant::now();
        let mut object = self.open(source).await?;
        let name = object.info.file_path.clone();
        let mut parsing =
            self.start_parsing(&object.info, object.reader, object.skip_before, deadline);
        let sent = self
            .send(
                &mut parsing,
                &object.info,
                object.checkpoint.as_mut(),
                deadline,
            )
            .await?;
        let parsed = parsing.end(&name).await?;
        self.verdict(name, parsed, sent, object.checkpoint.as_mut(), started)
            .await
    }
}
