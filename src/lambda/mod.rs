//! The two Lambda functions as plain async handlers over the library: the binaries in `src/bin/`
//! only start the runtime with them, and tests call them directly.
//!
//! Clients (S3, search) are built once per cold start ([`IngestFunction::new`]); a bad
//! configuration fails the start with an error naming the variable.

pub mod config;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cleanup::{cleanup, CleanupError, CleanupOptions, CleanupReport};
use crate::config::Config;
use crate::event::{decode, Delivery, EventError, ObjectRef, Objects};
use crate::format::{FormatChoice, LogFormat};
use crate::grok::PatternLibrary;
use crate::ingest::{IngestError, IngestOptions, Ingester, ObjectSummary};
use crate::metrics::{Record, Unit};
use crate::parse::Parser;
use crate::rules::Rules;
use crate::search::retry::RetryPolicy;
use crate::search::templates::{self, TemplateOptions};
use crate::search::SearchClient;
use crate::source::Source;

pub use config::{CleanupConfig, ConfigError, Env, IngestConfig, ProcessEnv};

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `ALBINGEST_CONFIG` is invalid or cannot be read.
    #[error(transparent)]
    File(#[from] crate::config::ConfigError),
    #[error("patterns: {0}")]
    Patterns(#[from] crate::grok::GrokError),
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    #[error("setup: {0}")]
    Setup(#[from] templates::SetupError),
    #[error("{0}")]
    Other(String),
}

/// Why an invocation failed (Lambda, S3 or SQS then delivers the event again).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("{failed} of {total} objects failed: {first}")]
    Objects {
        failed: usize,
        total: usize,
        first: String,
    },
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    #[error(transparent)]
    Cleanup(#[from] CleanupError),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        let error_type = match &error {
            HandlerError::Event(EventError::Unsupported(_)) => "UnsupportedEvent",
            HandlerError::Event(EventError::Malformed { .. }) => "MalformedEvent",
            HandlerError::Objects { .. } => "ObjectsFailed",
            HandlerError::Search(_) => "SearchServerError",
            HandlerError::Cleanup(_) => "CleanupRefused",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// The ingest function: built once per cold start, called once per event.
pub struct IngestFunction {
    ingester: Ingester,
    margin: Duration,
    name: String,
}

impl IngestFunction {
    pub async fn new(config: IngestConfig) -> Result<Self, InitError> {
        let library =
            PatternLibrary::with_overrides(config.patterns_dir.as_deref().map(Path::new))?;
        // Failure documents without a time take the object's read time (`ObjectInfo::read_at`),
        // not the cold start's, as `@timestamp`; their index is `{prefix}-failed-undated`.
        // The configuration file (ALBINGEST_CONFIG), with the environment over its keys.
        let (rules, prefixes, keep_original) = match &config.config {
            None => (
                Rules::default(),
                config.prefixes,
                config.keep_original.unwrap_or(false),
            ),
            Some(value) => {
                let s3 = value
                    .trim_start()
                    .starts_with("s3://")
                    .then_some(crate::source::s3_client(None).await);
                let mut file = Config::from_lambda_value(value, s3.as_ref()).await?;
                file.override_index_prefixes(&config.index_prefix_specs);
                file.override_keep_original(config.keep_original);
                let prefixes = file
                    .index_prefixes()
                    .map_err(|e| InitError::Other(format!("ALBINGEST_CONFIG: {e}")))?;
                let rules = Rules::new(&file)
                    .map_err(|e| InitError::Other(format!("ALBINGEST_CONFIG: {e}")))?;
                (rules, prefixes, file.keep_original.unwrap_or(false))
            }
        };
        let parser = Parser::new(&library, FormatChoice::Auto)?
            .keep_original(keep_original)
            .with_rules(rules);
        let ingester = Ingester::connect(IngestOptions {
            parser,
            prefixes,
            search: Some(config.search),
            retry: RetryPolicy::default(),
            batch_bytes: config.batch_bytes,
            in_flight: 4,
            dead_letter: config.dead_letter,
            s3: Some(None),
            document_ids: config.document_ids,
        })
        .await
        .map_err(InitError::Other)?;
        if let Some(client) = ingester.search_client().filter(|_| config.setup) {
            templates::install(client, &ingester.prefixes, &TemplateOptions::default()).await?;
        }
        Ok(Self {
            ingester,
            margin: config.deadline_margin,
            name: std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|_| "albingest-ingest".into()),
        })
    }

    /// Handles one event. `deadline`: when Lambda stops the invocation. The response is the
    /// summary of every object, or for SQS `{"batchItemFailures": [...]}` naming the messages
    /// to deliver again.
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Value, HandlerError> {
        let work_until = deadline
            .checked_sub(self.margin)
            .unwrap_or_else(Instant::now);
        match decode(&event)? {
            Delivery::Objects(objects) => {
                let results = self.ingest_all(&objects, work_until).await;
                let failed: Vec<&String> =
                    results.iter().filter_map(|r| r.as_ref().err()).collect();
                if let Some(first) = failed.first() {
                    return Err(HandlerError::Objects {
                        failed: failed.len(),
                        total: results.len(),
                        first: (*first).clone(),
                    });
                }
                Ok(json!({
                    "objects": results.iter().filter_map(|r| r.as_ref().ok()).cloned().collect::<Vec<_>>(),
                    "skipped": objects.skipped,
                    "test_event": objects.test_event,
                }))
            }
            Delivery::Sqs(items) => {
                let mut failures = Vec::new();
                for item in items {
                    let ok = match &item.content {
                        Err(e) => {
                            tracing::error!(message_id = %item.message_id, error = %e, "SQS message is not an event this function reads");
                            false
                        }
                        Ok(objects) => self
                            .ingest_all(objects, work_until)
                            .await
                            .iter()
                            .all(Result::is_ok),
                    };
                    if !ok {
                        failures.push(json!({"itemIdentifier": item.message_id}));
                    }
                }
                Ok(json!({ "batchItemFailures": failures }))
            }
        }
    }

    /// Ingests the objects one after the other; each result is the object's summary (as JSON) or
    /// its error message. Objects that are not load balancer logs by name are skipped.
    async fn ingest_all(&self, objects: &Objects, until: Instant) -> Vec<Result<Value, String>> {
        if objects.test_event {
            tracing::info!("s3:TestEvent acknowledged");
        }
        for skipped in &objects.skipped {
            tracing::info!(%skipped, "record skipped");
        }
        let mut results = Vec::new();
        for object in &objects.objects {
            if LogFormat::from_object_name(&object.key).is_none() {
                tracing::info!(bucket = %object.bucket, key = %object.key, "skipped: not a load balancer log object by its name");
                continue;
            }
            results.push(self.ingest_one(object, until).await);
        }
        results
    }

    async fn ingest_one(&self, object: &ObjectRef, until: Instant) -> Result<Value, String> {
        let source = Source::S3 {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
        };
        match self.ingester.ingest(&source, Some(until)).await {
            Ok(summary) => {
                tracing::info!(object = %summary.object, summary = %summary, "object ingested");
                self.emit_metrics(&summary, true);
                Ok(summary_json(&summary))
            }
            Err(error) => {
                if let Some(summary) = error.summary() {
                    self.emit_metrics(summary, false);
                }
                let message = error_message(&error);
                tracing::error!(bucket = %object.bucket, key = %object.key, error = %message, "object failed; it will be delivered again");
                Err(message)
            }
        }
    }

    fn emit_metrics(&self, s: &ObjectSummary, complete: bool) {
        let record = Record::new("albingest")
            .dimension("FunctionName", &self.name)
            .metric("Objects", 1.0, Unit::Count)
            .metric("FailedObjects", f64::from(u8::from(!complete)), Unit::Count)
            .metric("Lines", s.lines as f64, Unit::Count)
            .metric("Documents", s.documents as f64, Unit::Count)
            .metric("FailureDocuments", s.failures as f64, Unit::Count)
            .metric("Indexed", s.indexed as f64, Unit::Count)
            .metric("AlreadyPresent", s.already_present as f64, Unit::Count)
            .metric("Dropped", s.dropped as f64, Unit::Count)
            .metric("DeadLettered", s.dead_lettered as f64, Unit::Count)
            .metric("Retries", s.retries as f64, Unit::Count)
            .metric("BytesIn", s.bytes_in as f64, Unit::Bytes)
            .metric("BytesOut", s.bytes_out as f64, Unit::Bytes)
            .metric("Seconds", s.seconds, Unit::Seconds);
        println!("{}", record.to_line(now_millis()));
    }
}

fn error_message(error: &IngestError) -> String {
    crate::search::error_chain(error)
}

fn summary_json(s: &ObjectSummary) -> Value {
    json!({
        "object": s.object,
        "lines": s.lines,
        "documents": s.documents,
        "failures": s.failures,
        "indexed": s.indexed,
        "already_present": s.already_present,
        "dropped": s.dropped,
        "unplaced": s.unplaced,
        "dead_lettered": s.dead_lettered,
        "retries": s.retries,
        "bytes_in": s.bytes_in,
        "bytes_out": s.bytes_out,
        "seconds": s.seconds,
    })
}

/// The cleanup function.
pub struct CleanupFunction {
    client: SearchClient,
    config: CleanupConfig,
}

impl CleanupFunction {
    pub async fn new(mut config: CleanupConfig) -> Result<Self, InitError> {
        if let Some(value) = &config.config {
            // Every prefix the ingest function may write with this configuration file.
            let s3 = value
                .trim_start()
                .starts_with("s3://")
                .then_some(crate::source::s3_client(None).await);
            let prefixes = Config::from_lambda_value(value, s3.as_ref())
                .await?
                .index_prefixes()
                .map_err(|e| InitError::Other(format!("ALBINGEST_CONFIG: {e}")))?
                .all();
            config.retention =
                crate::retention::Retention::new(i64::from(config.retention.days()), &prefixes)
                    .map_err(|e| InitError::Other(format!("ALBINGEST_CONFIG: {e}")))?;
        }
        let client = SearchClient::connect(&config.search).await?;
        Ok(Self { client, config })
    }

    /// Runs one cleanup; the (scheduled) event's content does not matter.
    pub async fn handle(&self, _event: Value) -> Result<Value, HandlerError> {
        let report = cleanup(
            &self.client,
            &self.config.retention,
            crate::retention::today(),
            CleanupOptions {
                dry_run: self.config.dry_run,
                force: false,
            },
        )
        .await?;
        Ok(report_json(&report))
    }
}

/// The cleanup report as the function returns it (and `albingest cleanup --json` prints it).
pub fn report_json(report: &CleanupReport) -> Value {
    json!({
        "dry_run": report.dry_run,
        "deleted": report.deleted,
        "failed": report.failed.iter().map(|(i, e)| json!({"index": i, "error": e})).collect::<Vec<_>>(),
        "kept": report.kept(),
        "verdicts": report.verdicts.iter().map(|v| json!({"index": v.index, "delete": v.delete, "reason": v.reason})).collect::<Vec<_>>(),
    })
}

/// JSON logs for CloudWatch, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .init();
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The `Instant` of a Lambda deadline given in milliseconds since the epoch. cargo-lambda's
/// emulator sends the timeout itself (`600000`) instead of an epoch time; a value that cannot
/// be a time after 2001 is taken as that many milliseconds from now.
pub fn deadline_instant(deadline_ms: u64) -> Instant {
    const YEAR_2001_MS: u64 = 978_307_200_000;
    let remaining = if deadline_ms < YEAR_2001_MS {
        deadline_ms
    } else {
        deadline_ms.saturating_sub(now_millis())
    };
    Instant::now() + Duration::from_millis(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_as_epoch_or_as_emulator_timeout() {
        let in_a_minute = deadline_instant(now_millis() + 60_000);
        let left = in_a_minute.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(58) && left <= Duration::from_secs(60),
            "{left:?}"
        );
        let emulator = deadline_instant(600_000);
        assert!(emulator > Instant::now() + Duration::from_secs(590));
        let past = deadline_instant(now_millis() - 5_000);
        assert!(past <= Instant::now());
    }
}
