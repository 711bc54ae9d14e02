//! The two Lambda functions as plain async handlers over the library: the binaries in `src/bin/`
//! only start the runtime with them, and tests call them directly.
//!
//! Clients (S3, search) are built once per cold start ([`IngestFunction::new`]); a bad
//! configuration fails the start with an error naming the variable.

pub mod config;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::checkpoint::Resume;
use crate::cleanup::{cleanup, CleanupError, CleanupOptions, CleanupReport};
use crate::config::Config;
use crate::enrich::Enricher;
use crate::event::{decode, Delivery, EventError, Objects};
use crate::format::{FormatChoice, LogFormat};
use crate::grok::PatternLibrary;
use crate::ingest::{
    run_many, ConnectError, IngestError, IngestOptions, Ingester, Known, ObjectSummary, S3Access,
};
use crate::metrics::{self, Record, Unit};
use crate::parse::Parser;
use crate::rules::Rules;
use crate::search::bulk_load::DEFAULT_IN_FLIGHT;
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
    #[error("enrichment: {0}")]
    Enrich(#[from] crate::enrich::EnrichError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// `ALBINGEST_CONFIG` parsed but does not make index prefixes.
    #[error("ALBINGEST_CONFIG: {0}")]
    ConfigPrefixes(#[source] crate::config::PrefixesError),
    /// `ALBINGEST_CONFIG` parsed but its rules do not compile.
    #[error("ALBINGEST_CONFIG: {0}")]
    ConfigRules(#[source] crate::rules::RulesError),
    /// The cleanup's retention does not apply to `ALBINGEST_CONFIG`'s prefixes.
    #[error("ALBINGEST_CONFIG: {0}")]
    ConfigRetention(#[source] crate::retention::RetentionError),
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
    ingester: Arc<Ingester>,
    margin: Duration,
    name: String,
}

impl IngestFunction {
    pub async fn new(config: IngestConfig) -> Result<Self, InitError> {
        let library =
            PatternLibrary::with_overrides(config.patterns_dir.as_deref().map(Path::new))?;
        // The configuration file (ALBINGEST_CONFIG), with the environment over its keys.
        let (rules, prefixes, keep_original, enrich) = match &config.config {
            None => (
                Rules::default(),
                config.prefixes,
                config.keep_original.unwrap_or(false),
                config.enrich,
            ),
            Some(value) => {
                let s3 = value
                    .trim_start()
                    .starts_with("s3://")
                    .then_some(crate::source::s3_client(None).await);
                let mut file = Config::from_lambda_value(value, s3.as_ref()).await?;
                file.override_index_prefixes(&config.index_prefix_specs);
                file.override_keep_original(config.keep_original);
                let prefixes = file.prefixes().map_err(InitError::ConfigPrefixes)?;
                let rules = Rules::compile(&file).map_err(InitError::ConfigRules)?;
                let enrich = config.enrich.over(file.enrich.clone());
                (rules, prefixes, file.keep_original.unwrap_or(false), enrich)
            }
        };
        // Once per cold start: the databases are mapped (or downloaded to /tmp) and the
        // user-agent patterns compiled here, not per object.
        let enricher = Enricher::load(&enrich, None).await?;
        // Failure documents without a time take the object's read time (`ObjectInfo::read_at`),
        // not the cold start's, as `@timestamp`; their index is `{prefix}-failed-undated`.
        let parser = Parser::new(&library, FormatChoice::Auto)?
            .keep_original(keep_original)
            .enrich(enricher)
            .with_rules(rules);
        let ingester = Ingester::connect(IngestOptions {
            parser,
            prefixes,
            search: Some(config.search),
            retry: RetryPolicy::default(),
            batch_bytes: config.batch_bytes,
            in_flight: DEFAULT_IN_FLIGHT,
            dead_letter: config.dead_letter,
            s3: S3Access::Aws,
            bucket_roles: config.bucket_roles,
            document_ids: config.document_ids,
        })
        .await?;
        if let Some(client) = ingester.search_client().filter(|_| config.setup) {
            templates::install(client, ingester.prefixes(), &TemplateOptions::default()).await?;
        }
        Ok(Self {
            ingester: Arc::new(ingester),
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
                let failed: Vec<&IngestError> =
                    results.iter().filter_map(|r| r.as_ref().err()).collect();
                if let Some(first) = failed.first() {
                    return Err(HandlerError::Objects {
                        failed: failed.len(),
                        total: results.len(),
                        first: error_message(first),
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
    /// its error. Objects that are not load balancer logs by name are skipped.
    async fn ingest_all(
        &self,
        objects: &Objects,
        until: Instant,
    ) -> Vec<Result<Value, IngestError>> {
        if objects.test_event {
            tracing::info!("s3:TestEvent acknowledged");
        }
        for skipped in &objects.skipped {
            tracing::info!(%skipped, "record skipped");
        }
        let logs = objects.objects.iter().filter_map(|object| {
            if LogFormat::from_object_name(&object.key).is_none() {
                tracing::info!(bucket = %object.bucket, key = %object.key, "skipped: not a load balancer log object by its name");
                return None;
            }
            Some(Source::S3 {
                bucket: object.bucket.clone(),
                key: object.key.clone(),
            })
        });
        let mut results = Vec::new();
        // One object at a time, as the function has always ingested an event's objects (the
        // command line's --concurrency has no counterpart here).
        run_many(
            &self.ingester,
            Known(logs),
            1,
            Some(until),
            &Resume::new(None),
            |source, result| results.push(self.reported(source, result)),
        )
        .await;
        results
    }

    /// One object's result logged and its metrics emitted; a summary becomes its JSON.
    fn reported(
        &self,
        source: Option<&Source>,
        result: Result<ObjectSummary, IngestError>,
    ) -> Result<Value, IngestError> {
        match result {
            Ok(summary) => {
                tracing::info!(object = %summary.object, summary = %summary, "object ingested");
                self.emit_metrics(&summary, true);
                Ok(summary_json(&summary))
            }
            Err(error) => {
                if let Some(summary) = error.summary() {
                    self.emit_metrics(summary, false);
                }
                let (bucket, key) = match source {
                    Some(Source::S3 { bucket, key }) => (bucket.as_str(), key.as_str()),
                    _ => ("", ""),
                };
                tracing::error!(bucket = %bucket, key = %key, error = %error_message(&error), "object failed; it will be delivered again");
                Err(error)
            }
        }
    }

    fn emit_metrics(&self, s: &ObjectSummary, complete: bool) {
        let record = metrics_record(&self.name, s, complete);
        println!("{}", record.to_line(now_millis()));
    }
}

/// One object's EMF record: the names of [`metrics::INGEST_METRICS`], the function's name as
/// the dimension.
fn metrics_record(function: &str, s: &ObjectSummary, complete: bool) -> Record {
    use metrics::names::*;
    Record::new(metrics::NAMESPACE)
        .dimension(metrics::DIMENSION, function)
        .metric(OBJECTS, 1.0, Unit::Count)
        .metric(FAILED_OBJECTS, f64::from(u8::from(!complete)), Unit::Count)
        .metric(LINES, s.lines as f64, Unit::Count)
        .metric(DOCUMENTS, s.documents as f64, Unit::Count)
        .metric(FAILURE_DOCUMENTS, s.failures as f64, Unit::Count)
        .metric(INDEXED, s.indexed as f64, Unit::Count)
        .metric(ALREADY_PRESENT, s.already_present as f64, Unit::Count)
        .metric(DROPPED, s.dropped as f64, Unit::Count)
        .metric(DEAD_LETTERED, s.dead_lettered as f64, Unit::Count)
        .metric(UNPLACED, s.unplaced as f64, Unit::Count)
        .metric(RETRIES, s.retries as f64, Unit::Count)
        .metric(BYTES_IN, s.bytes_in as f64, Unit::Bytes)
        .metric(BYTES_OUT, s.bytes_out as f64, Unit::Bytes)
        .metric(SECONDS, s.seconds, Unit::Seconds)
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
                .prefixes()
                .map_err(InitError::ConfigPrefixes)?
                .all();
            config.retention =
                crate::retention::Retention::new(i64::from(config.retention.days()), &prefixes)
                    .map_err(InitError::ConfigRetention)?;
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

/// A function binary started outside Lambda (by hand, in a container without the runtime
/// interface emulator): `lambda_runtime` would panic on the missing variable instead.
#[derive(Debug, thiserror::Error)]
#[error(
    "{function} is an AWS Lambda function: it runs where Lambda (or a runtime API emulator such as \
     `cargo lambda watch`) sets AWS_LAMBDA_RUNTIME_API, which is not set here; from a shell, run \
     `{local}` instead"
)]
pub struct NotInLambda {
    pub function: &'static str,
    pub local: &'static str,
}

/// Checks that the Lambda Runtime API is there before the function starts its loop.
pub fn require_runtime_api(
    env: &impl Env,
    function: &'static str,
    local: &'static str,
) -> Result<(), NotInLambda> {
    match env.get("AWS_LAMBDA_RUNTIME_API") {
        Some(api) if !api.is_empty() => Ok(()),
        _ => Err(NotInLambda { function, local }),
    }
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

    #[test]
    fn the_record_has_every_documented_metric_and_the_unplaced_count() {
        let summary = ObjectSummary {
            lines: 10,
            indexed: 6,
            dead_lettered: 1,
            unplaced: 3,
            ..ObjectSummary::default()
        };
        let record = metrics_record("albingest-ingest", &summary, false);
        let names: Vec<&str> = record.metrics.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names, metrics::INGEST_METRICS);
        let value = |name| record.metrics.iter().find(|m| m.0 == name).unwrap().1;
        assert_eq!(value(metrics::names::UNPLACED), 3.0);
        assert_eq!(value(metrics::names::DEAD_LETTERED), 1.0);
        assert_eq!(value(metrics::names::FAILED_OBJECTS), 1.0);
        assert_eq!(
            record.dimensions,
            [("FunctionName".to_string(), "albingest-ingest".to_string())]
        );
    }
}
