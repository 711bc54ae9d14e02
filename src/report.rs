//! `albingest report`: a summary of the ALB access logs in `{prefix}-*` over a time window, from
//! one `_search` with `size: 0` and aggregations, and one `_count` of the failure documents in
//! `{prefix}-failed-*`.
//!
//! What it reports (see [`Report`]): requests, status classes (from `http.response.status_code`,
//! documents without one counted apart), the top URL paths of 5xx responses, the target
//! processing time percentiles (`aws.elb.backend_processing_time.sec`; `-1` in the log means the
//! field is absent, so those requests are not in the percentiles), the top client IPs, user agents
//! and error reasons, and the failure documents.
//!
//! Beside them, the target health of the ALB health check logs in `{health check prefix}-*`
//! (one more `_search`, `size: 0`): checks, failed checks, and the targets and reason codes of the
//! failures.
//!
//! A server that lacks an aggregation type (or cannot aggregate a field) answers the search with
//! a 400 naming it: the aggregations that use it are left out, the search is sent again, and the
//! report says which figure is missing and why. An answer that cannot be right (a terms
//! aggregation over a single-valued field whose buckets hold more documents than matched: the
//! server split the values into words) is refused the same way, figure by figure.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use opensearch::http::Method;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::search::{SearchClient, SearchError};

/// The ALB access log index prefix when none is given.
pub const DEFAULT_PREFIX: &str = "alb-logs";
/// The ALB health check log index prefix when none is given.
pub const DEFAULT_HEALTH_CHECK_PREFIX: &str = "alb-health-check-logs";
const ALB_DATASET: &str = "aws.elb_logs";
const HEALTH_CHECK_DATASET: &str = "aws.elb_health_check_logs";
const HEALTH_STATUS: &str = "aws.elb.health_check.status";
const HEALTH_TARGET: &str = "destination.address";
const HEALTH_REASON: &str = "aws.elb.health_check.reason_code";
/// Length of every top list.
pub const TOP: usize = 5;

const TIMEOUT: Duration = Duration::from_secs(60);
const STATUS: &str = "http.response.status_code";
const PATH: &str = "url.path";
const BACKEND_TIME: &str = "aws.elb.backend_processing_time.sec";
const CLIENT: &str = "source.ip";
const USER_AGENT: &str = "user_agent.original";
const ERROR_REASON: &str = "aws.elb.error.reason";
const PERCENTS: [f64; 3] = [50.0, 95.0, 99.0];
/// Terms each shard sends: far more than the default (1.5 × size + 10), so that the top 5 over
/// many daily indices are exact unless a field has more than this many values per shard (the
/// server's `doc_count_error_upper_bound` then says how far off a count may be: a warning).
const SHARD_SIZE: usize = 1000;

/// The time window: everything, or the last so many seconds before now (on `@timestamp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    All,
    Last {
        seconds: u64,
        /// As the user wrote it (`24h`), for the report.
        text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--since {text:?}: {reason}; use a duration such as 15m, 1h, 24h or 7d (units s, m, h, d, w), or \"all\""
)]
pub struct SinceError {
    text: String,
    reason: &'static str,
}

impl FromStr for Since {
    type Err = SinceError;

    fn from_str(text: &str) -> Result<Self, SinceError> {
        let fail = |reason| SinceError {
            text: text.to_string(),
            reason,
        };
        let t = text.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(Since::All);
        }
        let split = t
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| fail("no unit"))?;
        let (number, unit) = t.split_at(split);
        if number.is_empty() {
            return Err(fail("no number"));
        }
        let number: u64 = number.parse().map_err(|_| fail("number too large"))?;
        if number == 0 {
            return Err(fail("the window must be longer than 0"));
        }
        let unit_seconds: u64 = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return Err(fail("unknown unit")),
        };
        let seconds = number
            .checked_mul(unit_seconds)
            .filter(|s| *s <= i64::MAX as u64 / 2)
            .ok_or_else(|| fail("window too long"))?;
        Ok(Since::Last {
            seconds,
            text: t.to_string(),
        })
    }
}

impl fmt::Display for Since {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Since::All => f.write_str("all"),
            Since::Last { text, .. } => f.write_str(text),
        }
    }
}

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// ALB access log index prefix: documents in `{prefix}-*`, failures in `{prefix}-failed-*`.
    pub prefix: String,
    /// ALB health check log index prefix: the target health figures come from `{prefix}-*`.
    pub health_check_prefix: String,
    /// More prefixes of each (the configuration's routes), read together with the first.
    pub routed_prefixes: Vec<String>,
    pub routed_health_check_prefixes: Vec<String>,
    pub since: Since,
    /// Now, in seconds since the epoch (the window ends here; its start is `now - since`).
    pub now: i64,
}

impl ReportOptions {
    /// Options for a report ending now.
    pub fn new(prefix: impl Into<String>, since: Since) -> Self {
        let now = crate::timestamp::now_epoch_seconds();
        Self {
            prefix: prefix.into(),
            health_check_prefix: DEFAULT_HEALTH_CHECK_PREFIX.into(),
            routed_prefixes: Vec::new(),
            routed_health_check_prefixes: Vec::new(),
            since,
            now,
        }
    }

    /// Also reads the documents under these prefixes (ALB access logs, health check logs).
    pub fn routed(mut self, alb: Vec<String>, health_check: Vec<String>) -> Self {
        self.routed_prefixes = alb;
        self.routed_health_check_prefixes = health_check;
        self
    }

    /// The health check log index prefix, when it is not the default one.
    pub fn health_check_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.health_check_prefix = prefix.into();
        self
    }

    pub fn health_check_pattern(&self) -> String {
        patterns(
            &self.health_check_prefix,
            &self.routed_health_check_prefixes,
            "-*",
        )
    }

    pub fn index_pattern(&self) -> String {
        patterns(&self.prefix, &self.routed_prefixes, "-*")
    }

    pub fn failure_pattern(&self) -> String {
        patterns(&self.prefix, &self.routed_prefixes, "-failed-*")
    }

    /// The window's start as RFC 3339 text, `None` for `all`.
    pub fn from(&self) -> Option<String> {
        match &self.since {
            Since::All => None,
            Since::Last { seconds, .. } => Some(crate::timestamp::format_epoch_seconds(
                self.now.saturating_sub(*seconds as i64),
            )),
        }
    }

    fn time_filter(&self) -> Option<Value> {
        self.from()
            .map(|from| json!({"range": {"@timestamp": {"gte": from}}}))
    }
}

/// `a-*` or `a-*,b-*`: one index pattern per prefix (the multi-target syntax of both servers).
fn patterns(first: &str, more: &[String], suffix: &str) -> String {
    std::iter::once(first)
        .chain(more.iter().map(String::as_str))
        .map(|prefix| format!("{prefix}{suffix}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The figures of a report; a figure the server could not give is `None` (JSON `null`) and named
/// in [`Report::unavailable`] with the reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The search server, without credentials.
    pub endpoint: String,
    /// `{prefix}-*`: the ALB access log documents (`event.dataset: aws.elb_logs`, failure
    /// documents left out).
    pub index_pattern: String,
    /// `{prefix}-failed-*`.
    pub failure_index_pattern: String,
    /// `all` or the window as given (`1h`).
    pub since: String,
    /// Start of the window (RFC 3339, UTC) on `@timestamp`; `null` for `all`.
    pub from: Option<String>,
    /// Documents (requests) in the window.
    pub requests: u64,
    /// 1xx, 2xx, 3xx, 4xx, 5xx, `other` (a code outside 100–599), `none` (no status code).
    pub status: Option<Vec<StatusClass>>,
    /// Share of 4xx and 5xx responses among all requests.
    pub error_rate: Option<f64>,
    pub top_5xx_paths: Option<Vec<TermCount>>,
    pub latency: Option<Latency>,
    pub top_clients: Option<Vec<TermCount>>,
    pub top_user_agents: Option<Vec<TermCount>>,
    pub top_error_reasons: Option<Vec<TermCount>>,
    /// Failure documents (lines that did not parse) in the window.
    pub failures: Option<u64>,
    /// The health check logs in the window.
    pub target_health: Option<TargetHealth>,
    pub unavailable: Vec<Unavailable>,
    /// Figures that are there but may be incomplete (shards that failed, a timeout).
    pub warnings: Vec<String>,
    /// Set when a window (not `all`) holds no request: where the documents are.
    pub empty_window: Option<EmptyWindow>,
}

/// A window without requests: the newest ALB access log document, and the `--since` that would
/// show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmptyWindow {
    /// `@timestamp` of the newest ALB access log document in the indices; `null` when there is
    /// none at all.
    pub newest: Option<String>,
    /// The shortest whole `--since` (minutes, hours or days) that includes it.
    pub suggested_since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusClass {
    /// `1xx` … `5xx`, `other`, `none`.
    pub class: String,
    pub count: u64,
    /// `count / requests` (0 when there are no requests).
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermCount {
    pub value: String,
    pub count: u64,
}

/// What the health check logs say about the targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetHealth {
    /// `{health check prefix}-*`.
    pub index_pattern: String,
    /// Health checks in the window.
    pub checks: u64,
    /// Of them, checks with status `FAIL`.
    pub failed: u64,
    /// Targets (`destination.address`) with the most failed checks.
    pub top_failing_targets: Vec<TermCount>,
    /// Reason codes of the failed checks.
    pub top_reason_codes: Vec<TermCount>,
}

/// Target processing time, seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// Requests with a measured target processing time (the others logged `-1`).
    pub measured: u64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

/// A figure left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unavailable {
    pub figure: Figure,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Status,
    #[serde(rename = "top_5xx_paths")]
    Top5xxPaths,
    Latency,
    TopClients,
    TopUserAgents,
    TopErrorReasons,
    Failures,
    TargetHealth,
}

impl Figure {
    pub fn label(self) -> &'static str {
        match self {
            Figure::Status => "status classes",
            Figure::Top5xxPaths => "top URL paths of 5xx responses",
            Figure::Latency => "target processing time percentiles",
            Figure::TopClients => "top client IPs",
            Figure::TopUserAgents => "top user agents",
            Figure::TopErrorReasons => "top error reasons",
            Figure::Failures => "failure documents",
            Figure::TargetHealth => "target health",
        }
    }
}

impl Report {
    /// Why `figure` is missing, if it is.
    pub fn unavailable_reason(&self, figure: Figure) -> Option<&str> {
        self.unavailable
            .iter()
            .find(|u| u.figure == figure)
            .map(|u| u.reason.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report on {pattern}: {source}")]
    Search {
        pattern: String,
        #[source]
        source: SearchError,
    },
    #[error("report on {pattern}: unexpected answer from {endpoint} ({reason}): {excerpt}")]
    Answer {
        pattern: String,
        endpoint: String,
        reason: String,
        excerpt: String,
    },
}

/// One aggregation of the search: what it feeds, which aggregation types and fields it uses (to
/// leave it out when the server refuses one of them).
struct AggSpec {
    name: &'static str,
    figure: Figure,
    types: &'static [&'static str],
    fields: &'static [&'static str],
}

const AGGS: [AggSpec; 7] = [
    AggSpec {
        name: "status_classes",
        figure: Figure::Status,
        types: &["range"],
        fields: &[STATUS],
    },
    AggSpec {
        name: "no_status",
        figure: Figure::Status,
        types: &["missing"],
        fields: &[STATUS],
    },
    AggSpec {
        name: "server_errors",
        figure: Figure::Top5xxPaths,
        types: &["filter", "terms"],
        fields: &[STATUS, PATH],
    },
    AggSpec {
        name: "latency",
        figure: Figure::Latency,
        types: &["filter", "percentiles"],
        fields: &[BACKEND_TIME],
    },
    AggSpec {
        name: "clients",
        figure: Figure::TopClients,
        types: &["terms"],
        fields: &[CLIENT],
    },
    AggSpec {
        name: "user_agents",
        figure: Figure::TopUserAgents,
        types: &["terms"],
        fields: &[USER_AGENT],
    },
    AggSpec {
        name: "error_reasons",
        figure: Figure::TopErrorReasons,
        types: &["terms"],
        fields: &[ERROR_REASON],
    },
];

/// Status class buckets of the `range` aggregation (`to` is exclusive).
const STATUS_RANGES: [(&str, Option<u32>, Option<u32>); 7] = [
    ("below-100", None, Some(100)),
    ("1xx", Some(100), Some(200)),
    ("2xx", Some(200), Some(300)),
    ("3xx", Some(300), Some(400)),
    ("4xx", Some(400), Some(500)),
    ("5xx", Some(500), Some(600)),
    ("600-and-above", Some(600), None),
];

fn terms(field: &str) -> Value {
    json!({"terms": {
        "field": field,
        "size": TOP,
        "shard_size": SHARD_SIZE,
        "order": [{"_count": "desc"}, {"_key": "asc"}],
    }})
}

fn agg_body(name: &str) -> Value {
    match name {
        "status_classes" => {
            let ranges: Vec<Value> = STATUS_RANGES
                .iter()
                .map(|(key, from, to)| {
                    let mut range = json!({"key": key});
                    if let Some(from) = from {
                        range["from"] = json!(from);
                    }
                    if let Some(to) = to {
                        range["to"] = json!(to);
                    }
                    range
                })
                .collect();
            json!({"range": {"field": STATUS, "ranges": ranges}})
        }
        "no_status" => json!({"missing": {"field": STATUS}}),
        "server_errors" => json!({
            "filter": {"range": {STATUS: {"gte": 500, "lt": 600}}},
            "aggs": {"paths": terms(PATH)},
        }),
        "latency" => json!({
            "filter": {"exists": {"field": BACKEND_TIME}},
            "aggs": {"percentiles": {"percentiles": {"field": BACKEND_TIME, "percents": PERCENTS}}},
        }),
        "clients" => terms(CLIENT),
        "user_agents" => terms(USER_AGENT),
        "error_reasons" => terms(ERROR_REASON),
        _ => Value::Null,
    }
}

/// The body of the report's `_search`, with the aggregations whose names are in `enabled`.
pub fn search_body(options: &ReportOptions, enabled: &[&str]) -> Value {
    let aggs: Map<String, Value> = enabled
        .iter()
        .map(|name| (name.to_string(), agg_body(name)))
        .collect();
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": dataset_query(ALB_DATASET, options.time_filter()),
        "aggs": aggs,
    })
}

/// The query of the report's searches: the documents of `dataset` (failure documents left out),
/// in `window` when one is given.
fn dataset_query(dataset: &str, window: Option<Value>) -> Value {
    let mut filter = vec![json!({"term": {"event.dataset": dataset}})];
    filter.extend(window);
    json!({"bool": {
        "filter": filter,
        "must_not": [{"term": {"event.kind": "pipeline_error"}}],
    }})
}

/// POSTs `body` to `path` and reads the answer as JSON; `None` when no index matches (404).
async fn post_json(
    client: &SearchClient,
    path: &str,
    body: &Value,
) -> Result<Option<Value>, String> {
    match client.json(Method::Post, path, Some(body), TIMEOUT).await {
        Ok(answer) => serde_json::from_slice(&answer.body)
            .map(Some)
            .map_err(|e| format!("POST {path}: answer is not JSON ({e}): {}", answer.text())),
        Err(SearchError::Status { status: 404, .. }) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The body of the failure documents' `_count`.
pub fn count_body(options: &ReportOptions) -> Value {
    match options.time_filter() {
        Some(range) => json!({"query": range}),
        None => json!({"query": {"match_all": {}}}),
    }
}

/// Runs the search and the count and builds the report.
pub async fn report(client: &SearchClient, options: &ReportOptions) -> Result<Report, ReportError> {
    let pattern = options.index_pattern();
    let path = format!("/{pattern}/_search");
    let mut enabled: Vec<&'static str> = AGGS.iter().map(|a| a.name).collect();
    let mut unavailable: Vec<Unavailable> = Vec::new();
    let answer = loop {
        let body = search_body(options, &enabled);
        match client.json(Method::Post, &path, Some(&body), TIMEOUT).await {
            Ok(answer) => break Some(answer),
            Err(SearchError::Status { status: 404, .. }) => break None,
            Err(SearchError::Status {
                status: 400,
                body: error_body,
                method,
                endpoint,
                path: error_path,
            }) => {
                let left_out = refused_aggregations(&error_body, &enabled);
                if left_out.is_empty() {
                    return Err(ReportError::Search {
                        pattern,
                        source: SearchError::Status {
                            method,
                            endpoint,
                            path: error_path,
                            status: 400,
                            body: error_body,
                        },
                    });
                }
                for (name, reason) in left_out {
                    enabled.retain(|n| *n != name);
                    let figure = figure_of(name);
                    if !unavailable.iter().any(|u| u.figure == figure) {
                        unavailable.push(Unavailable { figure, reason });
                    }
                }
                // Both aggregations of a figure go together.
                let gone: Vec<Figure> = unavailable.iter().map(|u| u.figure).collect();
                enabled.retain(|n| !gone.contains(&figure_of(n)));
            }
            Err(source) => return Err(ReportError::Search { pattern, source }),
        }
    };
    let mut report = match answer {
        Some(answer) => {
            let value: Value =
                serde_json::from_slice(&answer.body).map_err(|e| ReportError::Answer {
                    pattern: pattern.clone(),
                    endpoint: client.endpoint().to_string(),
                    reason: format!("not JSON: {e}"),
                    excerpt: answer.text(),
                })?;
            parse_search(&value, &enabled, options).map_err(|reason| ReportError::Answer {
                pattern: pattern.clone(),
                endpoint: client.endpoint().to_string(),
                reason,
                excerpt: answer.text(),
            })?
        }
        // No index matches (servers that answer 404 to a wildcard): nothing to count.
        None => parse_search(&json!({"hits": {"total": 0}}), &enabled, options)
            .expect("an empty answer parses"),
    };
    report.endpoint = client.endpoint().to_string();
    report.unavailable.extend(unavailable);
    report.unavailable.sort_by_key(|u| figure_order(u.figure));
    match count_failures(client, options).await {
        Ok(count) => report.failures = Some(count),
        Err(reason) => report.unavailable.push(Unavailable {
            figure: Figure::Failures,
            reason,
        }),
    }
    match target_health(client, options, &mut report.warnings).await {
        Ok(health) => report.target_health = Some(health),
        Err(reason) => report.unavailable.push(Unavailable {
            figure: Figure::TargetHealth,
            reason,
        }),
    }
    if report.requests == 0 && options.since != Since::All {
        match newest_request(client, options).await {
            Ok(newest) => {
                let suggested_since = newest
                    .as_deref()
                    .and_then(crate::timestamp::parse)
                    .map(|t| suggest_since(options.now, t.epoch_micros.div_euclid(1_000_000)));
                report.empty_window = Some(EmptyWindow {
                    newest,
                    suggested_since,
                });
            }
            Err(reason) => report
                .warnings
                .push(format!("the newest document could not be found: {reason}")),
        }
    }
    Ok(report)
}

/// The body of the target health `_search`: health check documents in the window, the failed
/// ones, their targets and reason codes.
pub fn target_health_body(options: &ReportOptions) -> Value {
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": dataset_query(HEALTH_CHECK_DATASET, options.time_filter()),
        "aggs": {"failed": {
            "filter": {"term": {HEALTH_STATUS: "FAIL"}},
            "aggs": {"targets": terms(HEALTH_TARGET), "reasons": terms(HEALTH_REASON)},
        }},
    })
}

/// The target health figures from a `_search` answer (warnings about approximate counts go to
/// `warnings`).
pub fn parse_target_health(
    answer: &Value,
    options: &ReportOptions,
    warnings: &mut Vec<String>,
) -> Result<TargetHealth, String> {
    let total = &answer["hits"]["total"];
    let checks = total
        .as_u64()
        .or_else(|| total["value"].as_u64())
        .ok_or("no hits.total in the answer")?;
    let failed_agg = &answer["aggregations"]["failed"];
    let failed = if checks == 0 && failed_agg.is_null() {
        0
    } else {
        doc_count(failed_agg)?
    };
    Ok(TargetHealth {
        index_pattern: options.health_check_pattern(),
        checks,
        failed,
        top_failing_targets: top_terms(&failed_agg["targets"], failed, HEALTH_TARGET, warnings)?,
        top_reason_codes: top_terms(&failed_agg["reasons"], failed, HEALTH_REASON, warnings)?,
    })
}

async fn target_health(
    client: &SearchClient,
    options: &ReportOptions,
    warnings: &mut Vec<String>,
) -> Result<TargetHealth, String> {
    let path = format!("/{}/_search", options.health_check_pattern());
    match post_json(client, &path, &target_health_body(options)).await? {
        Some(value) => {
            parse_target_health(&value, options, warnings).map_err(|e| format!("POST {path}: {e}"))
        }
        // No health check index at all: no checks.
        None => parse_target_health(&json!({"hits": {"total": 0}}), options, warnings),
    }
}

/// The body of the search for the newest ALB access log document (the report's query without
/// its window).
pub fn newest_body() -> Value {
    json!({
        "size": 1,
        "sort": [{"@timestamp": {"order": "desc"}}],
        "_source": ["@timestamp"],
        "query": dataset_query(ALB_DATASET, None),
    })
}

/// `@timestamp` of the newest ALB access log document, `None` when there is none.
async fn newest_request(
    client: &SearchClient,
    options: &ReportOptions,
) -> Result<Option<String>, String> {
    let path = format!("/{}/_search", options.index_pattern());
    let answer = post_json(client, &path, &newest_body()).await?;
    Ok(answer.and_then(|value| {
        value["hits"]["hits"][0]["_source"]["@timestamp"]
            .as_str()
            .map(str::to_string)
    }))
}

/// The shortest whole `--since` that reaches back to `newest` from `now` (both epoch seconds):
/// minutes up to 90, hours up to 48, days beyond.
pub fn suggest_since(now: i64, newest: i64) -> String {
    let age = (now - newest).max(0) as u64 + 1;
    let up = |unit: u64| age.div_ceil(unit);
    if up(60) <= 90 {
        format!("{}m", up(60))
    } else if up(3_600) <= 48 {
        format!("{}h", up(3_600))
    } else {
        format!("{}d", up(86_400))
    }
}

fn figure_of(name: &str) -> Figure {
    AGGS.iter()
        .find(|a| a.name == name)
        .map(|a| a.figure)
        .unwrap_or(Figure::Status)
}

fn figure_order(figure: Figure) -> usize {
    [
        Figure::Status,
        Figure::Top5xxPaths,
        Figure::Latency,
        Figure::TopClients,
        Figure::TopUserAgents,
        Figure::TopErrorReasons,
        Figure::Failures,
        Figure::TargetHealth,
    ]
    .iter()
    .position(|f| *f == figure)
    .unwrap_or(usize::MAX)
}

async fn count_failures(client: &SearchClient, options: &ReportOptions) -> Result<u64, String> {
    let path = format!("/{}/_count", options.failure_pattern());
    match post_json(client, &path, &count_body(options)).await? {
        Some(value) => value["count"]
            .as_u64()
            .ok_or_else(|| format!("POST {path}: answer has no \"count\": {value}")),
        // No failure index at all: no failures.
        None => Ok(0),
    }
}

/// Every `reason` text of an error answer, root causes first.
fn error_reasons(body: &str) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(reason) = map.get("reason").and_then(Value::as_str) {
                    out.push(reason.to_string());
                }
                for (key, v) in map {
                    if key != "reason" {
                        walk(v, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    match serde_json::from_str::<Value>(body) {
        Ok(value) => walk(&value, &mut out),
        Err(_) => out.push(body.to_string()),
    }
    out.dedup();
    out
}

/// The aggregations (of those `enabled`) a 400 answer refuses, with the reason to report: an
/// unknown aggregation type, else a field the server names.
fn refused_aggregations(body: &str, enabled: &[&'static str]) -> Vec<(&'static str, String)> {
    let reasons = error_reasons(body);
    let first_reason = reasons.first().cloned().unwrap_or_default();
    const UNKNOWN: &str = "Unknown aggregation type [";
    let unknown_type = reasons.iter().find_map(|r| {
        let start = r.find(UNKNOWN)? + UNKNOWN.len();
        let end = r[start..].find(']')? + start;
        Some((r[start..end].to_string(), r.clone()))
    });
    let mut out = Vec::new();
    for spec in AGGS.iter().filter(|a| enabled.contains(&a.name)) {
        if let Some((ty, reason)) = &unknown_type {
            if spec.types.contains(&ty.as_str()) {
                out.push((
                    spec.name,
                    format!("the server has no `{ty}` aggregation ({reason})"),
                ));
            }
            continue;
        }
        if let Some(field) = spec.fields.iter().find(|f| {
            reasons
                .iter()
                .any(|r| r.contains(&format!("[{f}]")) || r.contains(&format!("\"{f}\"")))
        }) {
            out.push((
                spec.name,
                format!("the server cannot aggregate `{field}` ({first_reason})"),
            ));
        }
    }
    out
}

/// Builds the report (without endpoint and failures) from a `_search` answer.
pub fn parse_search(
    answer: &Value,
    enabled: &[&str],
    options: &ReportOptions,
) -> Result<Report, String> {
    let total = &answer["hits"]["total"];
    let (requests, relation) = match total {
        Value::Number(n) => (n.as_u64(), None),
        Value::Object(map) => (
            map.get("value").and_then(Value::as_u64),
            map.get("relation").and_then(Value::as_str),
        ),
        _ => (None, None),
    };
    let requests = requests.ok_or("no hits.total in the answer")?;
    let mut report = Report {
        endpoint: String::new(),
        index_pattern: options.index_pattern(),
        failure_index_pattern: options.failure_pattern(),
        since: options.since.to_string(),
        from: options.from(),
        requests,
        status: None,
        error_rate: None,
        top_5xx_paths: None,
        latency: None,
        top_clients: None,
        top_user_agents: None,
        top_error_reasons: None,
        failures: None,
        target_health: None,
        unavailable: Vec::new(),
        warnings: Vec::new(),
        empty_window: None,
    };
    if relation.is_some_and(|r| r != "eq") {
        report.warnings.push(format!(
            "the server counted at least {requests} requests, not exactly (relation {:?})",
            relation.unwrap_or_default()
        ));
    }
    if answer["timed_out"] == json!(true) {
        report
            .warnings
            .push("the search timed out: figures may be incomplete".into());
    }
    if let Some(failed) = answer["_shards"]["failed"].as_u64().filter(|f| *f > 0) {
        let reason = answer["_shards"]["failures"][0]["reason"]["reason"]
            .as_str()
            .unwrap_or("no reason given");
        report.warnings.push(format!(
            "{failed} of {} shards failed, figures may be incomplete: {reason}",
            answer["_shards"]["total"]
        ));
    }
    // A server may leave `aggregations` out when no index matched (then `get` gives empty
    // figures), or when it has nothing to say (then `get` says what is missing).
    let empty = Map::new();
    let aggs = answer
        .get("aggregations")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let get = |name: &str| -> Result<Option<&Value>, String> {
        if !enabled.contains(&name) {
            return Ok(None);
        }
        match aggs.get(name) {
            Some(v) => Ok(Some(v)),
            None if requests == 0 => Ok(Some(&Value::Null)),
            None => Err(format!("the answer has no `{name}` aggregation")),
        }
    };
    let mut missing: Vec<(Figure, String)> = Vec::new();

    // Status classes.
    match (get("status_classes"), get("no_status")) {
        (Ok(Some(classes)), Ok(Some(none))) => match status_classes(classes, none, requests) {
            Ok((status, warning)) => {
                let errors: u64 = status
                    .iter()
                    .filter(|c| c.class == "4xx" || c.class == "5xx")
                    .map(|c| c.count)
                    .sum();
                report.error_rate = Some(share(errors, requests));
                report.status = Some(status);
                report.warnings.extend(warning);
            }
            Err(reason) => missing.push((Figure::Status, reason)),
        },
        (Err(reason), _) | (_, Err(reason)) => missing.push((Figure::Status, reason)),
        _ => {}
    }

    // Top paths of 5xx responses.
    match get("server_errors") {
        Ok(Some(server_errors)) => {
            let parent = server_errors["doc_count"].as_u64().unwrap_or(0);
            // 5xx responses matched but their paths are not in the answer: that is not "none"
            // (one stand-in server drops nested aggregations from larger requests).
            let paths = &server_errors["paths"];
            let result = if parent > 0 && paths.is_null() {
                Err(format!(
                    "the server counted {parent} 5xx responses but left out the `{PATH}` terms under them"
                ))
            } else {
                top_terms(paths, parent, PATH, &mut report.warnings)
            };
            match result {
                Ok(top) => report.top_5xx_paths = Some(top),
                Err(reason) => missing.push((Figure::Top5xxPaths, reason)),
            }
        }
        Ok(None) => {}
        Err(reason) => missing.push((Figure::Top5xxPaths, reason)),
    }

    // Latency.
    match get("latency") {
        Ok(Some(latency)) => match parse_latency(latency) {
            Ok(l) => report.latency = Some(l),
            Err(reason) => missing.push((Figure::Latency, reason)),
        },
        Ok(None) => {}
        Err(reason) => missing.push((Figure::Latency, reason)),
    }

    for (name, figure, field) in [
        ("clients", Figure::TopClients, CLIENT),
        ("user_agents", Figure::TopUserAgents, USER_AGENT),
        ("error_reasons", Figure::TopErrorReasons, ERROR_REASON),
    ] {
        let result = get(name).and_then(|agg| match agg {
            Some(agg) => top_terms(agg, requests, field, &mut report.warnings).map(Some),
            None => Ok(None),
        });
        match result {
            Ok(Some(top)) => match figure {
                Figure::TopClients => report.top_clients = Some(top),
                Figure::TopUserAgents => report.top_user_agents = Some(top),
                _ => report.top_error_reasons = Some(top),
            },
            Ok(None) => {}
            Err(reason) => missing.push((figure, reason)),
        }
    }
    for (figure, reason) in missing {
        if report.unavailable.iter().all(|u| u.figure != figure) {
            report.unavailable.push(Unavailable { figure, reason });
        }
    }
    Ok(report)
}

fn share(count: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        count as f64 / of as f64
    }
}

fn doc_count(bucket: &Value) -> Result<u64, String> {
    bucket["doc_count"]
        .as_u64()
        .ok_or_else(|| format!("a bucket without doc_count: {bucket}"))
}

/// The buckets of a (range or terms) aggregation, keyed or not: `(key, bucket)`.
fn buckets(agg: &Value) -> Result<Vec<(String, &Value)>, String> {
    let key_text = |key: &Value| match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match &agg["buckets"] {
        Value::Array(items) => Ok(items.iter().map(|b| (key_text(&b["key"]), b)).collect()),
        Value::Object(map) => Ok(map.iter().map(|(k, b)| (k.clone(), b)).collect()),
        Value::Null if agg.is_null() => Ok(Vec::new()),
        _ => Err(format!("no buckets in {agg}")),
    }
}

fn status_classes(
    classes: &Value,
    none: &Value,
    requests: u64,
) -> Result<(Vec<StatusClass>, Option<String>), String> {
    let mut counts: Vec<(String, u64)> = ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "none"]
        .iter()
        .map(|c| (c.to_string(), 0))
        .collect();
    let mut add = |class: &str, n: u64| {
        if let Some(entry) = counts.iter_mut().find(|(c, _)| c == class) {
            entry.1 += n;
        }
    };
    for (key, bucket) in buckets(classes)? {
        let class = match key.as_str() {
            "1xx" | "2xx" | "3xx" | "4xx" | "5xx" => key.as_str(),
            "below-100" | "600-and-above" => "other",
            _ => return Err(format!("unexpected status range bucket {key:?}")),
        };
        add(class, doc_count(bucket)?);
    }
    let none_count = if none.is_null() { 0 } else { doc_count(none)? };
    add("none", none_count);
    let sum: u64 = counts.iter().map(|(_, n)| n).sum();
    let warning = (sum != requests)
        .then(|| format!("the status classes add up to {sum}, not to the {requests} requests"));
    Ok((
        counts
            .into_iter()
            .map(|(class, count)| StatusClass {
                class,
                count,
                share: share(count, requests),
            })
            .collect(),
        warning,
    ))
}

/// The buckets of a terms aggregation over a single-valued field: refused when they hold more
/// documents than the `parent` count (the server aggregated words, not values).
fn top_terms(
    agg: &Value,
    parent: u64,
    field: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<TermCount>, String> {
    if agg.is_null() {
        return Ok(Vec::new());
    }
    let mut top = Vec::new();
    for (key, bucket) in buckets(agg)? {
        top.push(TermCount {
            value: key,
            count: doc_count(bucket)?,
        });
    }
    let in_buckets: u64 =
        top.iter().map(|t| t.count).sum::<u64>() + agg["sum_other_doc_count"].as_u64().unwrap_or(0);
    if in_buckets > parent {
        return Err(format!(
            "the server's terms aggregation on `{field}` counted {in_buckets} values in {parent} \
             documents: it split the values into words, so its top values are not the field's"
        ));
    }
    if let Some(bound) = agg["doc_count_error_upper_bound"]
        .as_u64()
        .filter(|b| *b > 0)
    {
        warnings.push(format!(
            "the top values of `{field}` are approximate: a count may be off by up to {bound}"
        ));
    }
    top.truncate(TOP);
    Ok(top)
}

fn parse_latency(latency: &Value) -> Result<Latency, String> {
    if latency.is_null() {
        return Ok(Latency {
            measured: 0,
            p50: None,
            p95: None,
            p99: None,
        });
    }
    let measured = doc_count(latency)?;
    let values = &latency["percentiles"]["values"];
    let value_of = |v: &Value| -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    };
    let mut found: Vec<(f64, Option<f64>)> = Vec::new();
    match values {
        // keyed (the default): {"50.0": 0.1, …} (or "50")
        Value::Object(map) => {
            for (key, value) in map {
                if let Ok(p) = key.parse::<f64>() {
                    found.push((p, value_of(value)));
                }
            }
        }
        // keyed: false: [{"key": 50.0, "value": 0.1}, …]
        Value::Array(items) => {
            for item in items {
                if let Some(p) = value_of(&item["key"]) {
                    found.push((p, value_of(&item["value"])));
                }
            }
        }
        _ if measured == 0 => {}
        _ => return Err(format!("unrecognised percentiles answer: {latency}")),
    }
    let at = |p: f64| {
        found
            .iter()
            .find(|(k, _)| (k - p).abs() < 1e-9)
            .and_then(|(_, v)| *v)
    };
    if measured > 0 && PERCENTS.iter().all(|p| at(*p).is_none()) {
        return Err(format!(
            "the percentiles answer holds none of 50, 95, 99: {latency}"
        ));
    }
    Ok(Latency {
        measured,
        p50: at(50.0),
        p95: at(95.0),
        p99: at(99.0),
    })
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn seconds(value: Option<f64>) -> String {
    match value {
        Some(v) if v.abs() < 0.001 && v != 0.0 => format!("{v:.6} s"),
        Some(v) => format!("{v:.3} s"),
        None => "-".into(),
    }
}

/// Rows of aligned columns (`right`: which columns are right-aligned), indented by two spaces;
/// the last column is not padded.
fn table(f: &mut fmt::Formatter<'_>, rows: &[Vec<String>], right: &[bool]) -> fmt::Result {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c].saturating_sub(cell.chars().count());
            let last = c + 1 == row.len();
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if !last {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}

impl Report {
    fn write_unavailable(&self, f: &mut fmt::Formatter<'_>, figure: Figure) -> fmt::Result {
        match self.unavailable_reason(figure) {
            Some(reason) => writeln!(f, "  unavailable: {reason}"),
            None => writeln!(f, "  unavailable"),
        }
    }

    fn write_top(
        &self,
        f: &mut fmt::Formatter<'_>,
        title: &str,
        column: &str,
        figure: Figure,
        top: &Option<Vec<TermCount>>,
    ) -> fmt::Result {
        writeln!(f)?;
        writeln!(f, "{title}")?;
        match top {
            None => self.write_unavailable(f, figure),
            Some(top) if top.is_empty() => writeln!(f, "  (none)"),
            Some(top) => {
                let mut rows = vec![vec!["requests".to_string(), column.to_string()]];
                rows.extend(
                    top.iter()
                        .map(|t| vec![thousands(t.count), t.value.clone()]),
                );
                table(f, &rows, &[true, false])
            }
        }
    }
}

/// The terminal report: aligned columns, no colours.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.from {
            Some(from) => writeln!(
                f,
                "ALB access logs in {} at {}, since {from} (last {})",
                self.index_pattern, self.endpoint, self.since
            )?,
            None => writeln!(
                f,
                "ALB access logs in {} at {}, all time",
                self.index_pattern, self.endpoint
            )?,
        }
        if let Some(empty) = &self.empty_window {
            match (&empty.newest, &empty.suggested_since) {
                (Some(newest), Some(since)) => writeln!(
                    f,
                    "  No requests in this window. The newest ALB access log document is from \
                     {newest}: --since {since} shows it."
                )?,
                (Some(newest), None) => writeln!(
                    f,
                    "  No requests in this window. The newest ALB access log document is from \
                     {newest}."
                )?,
                (None, _) => writeln!(
                    f,
                    "  No requests in this window, and no ALB access log documents in {} at all.",
                    self.index_pattern
                )?,
            }
        }
        writeln!(f)?;
        let failures = match self.failures {
            Some(n) => thousands(n),
            None => "unavailable".into(),
        };
        table(
            f,
            &[
                vec!["requests".into(), thousands(self.requests)],
                vec![
                    "failure documents".into(),
                    format!("{failures} (in {})", self.failure_index_pattern),
                ],
            ],
            &[false, false],
        )?;
        if let Some(reason) = self.unavailable_reason(Figure::Failures) {
            writeln!(f, "  failure documents unavailable: {reason}")?;
        }

        writeln!(f)?;
        writeln!(f, "Status classes (http.response.status_code)")?;
        match &self.status {
            None => self.write_unavailable(f, Figure::Status)?,
            Some(classes) => {
                let mut rows = vec![vec![
                    "class".to_string(),
                    "requests".to_string(),
                    "share".to_string(),
                ]];
                rows.extend(classes.iter().map(|c| {
                    let class = match c.class.as_str() {
                        "none" => "no status".to_string(),
                        other => other.to_string(),
                    };
                    vec![class, thousands(c.count), percent(c.share)]
                }));
                if let Some(rate) = self.error_rate {
                    let errors: u64 = classes
                        .iter()
                        .filter(|c| c.class == "4xx" || c.class == "5xx")
                        .map(|c| c.count)
                        .sum();
                    rows.push(vec![
                        "4xx+5xx".to_string(),
                        thousands(errors),
                        percent(rate),
                    ]);
                }
                table(f, &rows, &[false, true, true])?;
            }
        }

        writeln!(f)?;
        writeln!(
            f,
            "Target processing time (aws.elb.backend_processing_time.sec)"
        )?;
        match &self.latency {
            None => self.write_unavailable(f, Figure::Latency)?,
            Some(latency) => {
                table(
                    f,
                    &[
                        vec!["measured".into(), thousands(latency.measured)],
                        vec!["p50".into(), seconds(latency.p50)],
                        vec!["p95".into(), seconds(latency.p95)],
                        vec!["p99".into(), seconds(latency.p99)],
                    ],
                    &[false, true],
                )?;
            }
        }

        self.write_top(
            f,
            "Top URL paths of 5xx responses",
            "url.path",
            Figure::Top5xxPaths,
            &self.top_5xx_paths,
        )?;
        self.write_top(
            f,
            "Top client IPs",
            "source.ip",
            Figure::TopClients,
            &self.top_clients,
        )?;
        self.write_top(
            f,
            "Top user agents",
            "user_agent.original",
            Figure::TopUserAgents,
            &self.top_user_agents,
        )?;
        self.write_top(
            f,
            "Top error reasons",
            "aws.elb.error.reason",
            Figure::TopErrorReasons,
            &self.top_error_reasons,
        )?;
        writeln!(f)?;
        match &self.target_health {
            None => {
                writeln!(f, "Target health")?;
                self.write_unavailable(f, Figure::TargetHealth)?;
            }
            Some(health) => {
                writeln!(
                    f,
                    "Target health (health check logs in {})",
                    health.index_pattern
                )?;
                let share = if health.checks == 0 {
                    0.0
                } else {
                    health.failed as f64 / health.checks as f64
                };
                table(
                    f,
                    &[
                        vec!["health checks".into(), thousands(health.checks)],
                        vec![
                            "failed".into(),
                            format!("{} ({})", thousands(health.failed), percent(share)),
                        ],
                    ],
                    &[false, false],
                )?;
                for (title, column, top) in [
                    (
                        "failing targets",
                        HEALTH_TARGET,
                        &health.top_failing_targets,
                    ),
                    ("reason codes", HEALTH_REASON, &health.top_reason_codes),
                ] {
                    if top.is_empty() {
                        continue;
                    }
                    writeln!(f, "  {title}")?;
                    let mut rows = vec![vec!["failed checks".to_string(), column.to_string()]];
                    rows.extend(
                        top.iter()
                            .map(|t| vec![thousands(t.count), t.value.clone()]),
                    );
                    table(f, &rows, &[true, false])?;
                }
            }
        }
        if !self.warnings.is_empty() {
            writeln!(f)?;
            writeln!(f, "Warnings")?;
            for warning in &self.warnings {
                writeln!(f, "  {warning}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggested_windows_reach_the_newest_document() {
        let now = 1_000_000;
        assert_eq!(suggest_since(now, now - 30), "1m");
        assert_eq!(suggest_since(now, now - 3_600), "61m");
        assert_eq!(suggest_since(now, now - 2 * 3_600), "3h");
        assert_eq!(suggest_since(now, now - 7 * 86_400 - 5), "8d");
        // A newest document in the future (clock skew) still gets a window.
        assert_eq!(suggest_since(now, now + 100), "1m");
    }

    use super::*;

    const NOW: i64 = 1_795_662_000; // 2026-11-26T03:00:00Z

    fn options(since: &str) -> ReportOptions {
        ReportOptions {
            prefix: "alb-logs".into(),
            health_check_prefix: DEFAULT_HEALTH_CHECK_PREFIX.into(),
            routed_prefixes: Vec::new(),
            routed_health_check_prefixes: Vec::new(),
            since: since.parse().unwrap(),
            now: NOW,
        }
    }

    #[test]
    fn target_health_from_the_health_check_logs() {
        let options = options("1h").health_check_prefix("web-health");
        let body = target_health_body(&options);
        assert_eq!(
            body["query"]["bool"]["filter"][0],
            json!({"term": {"event.dataset": "aws.elb_health_check_logs"}})
        );
        assert_eq!(
            body["query"]["bool"]["filter"][1]["range"]["@timestamp"]["gte"],
            "2026-11-26T02:00:00Z"
        );
        assert_eq!(
            body["aggs"]["failed"]["filter"],
            json!({"term": {"aws.elb.health_check.status": "FAIL"}})
        );
        let bucket = |key: &str, n: u64| json!({"key": key, "doc_count": n});
        let answer = json!({"hits": {"total": {"value": 120, "relation": "eq"}},
            "aggregations": {"failed": {"doc_count": 9,
                "targets": {"buckets": [bucket("10.0.5.31", 7), bucket("10.0.6.40", 2)],
                            "sum_other_doc_count": 0, "doc_count_error_upper_bound": 0},
                "reasons": {"buckets": [bucket("TimedOut", 5), bucket("ResponseCodeMismatch", 4)],
                            "sum_other_doc_count": 0, "doc_count_error_upper_bound": 3}}}});
        let mut warnings = Vec::new();
        let health = parse_target_health(&answer, &options, &mut warnings).unwrap();
        assert_eq!(health.index_pattern, "web-health-*");
        assert_eq!((health.checks, health.failed), (120, 9));
        assert_eq!(health.top_failing_targets[0].value, "10.0.5.31");
        assert_eq!(health.top_reason_codes[1].count, 4);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        // More failures than checks cannot be right.
        let mut bad = answer.clone();
        bad["aggregations"]["failed"]["targets"]["buckets"][0]["doc_count"] = json!(70);
        assert!(parse_target_health(&bad, &options, &mut warnings).is_err());
        // No health check index: nothing to report, no error.
        let none =
            parse_target_health(&json!({"hits": {"total": 0}}), &options, &mut warnings).unwrap();
        assert_eq!((none.checks, none.failed), (0, 0));

        let mut report = parse_search(&json!({"hits": {"total": 0}}), &[], &options).unwrap();
        report.target_health = Some(health);
        let text = report.to_string();
        assert!(
            text.contains("Target health (health check logs in web-health-*)\n"),
            "{text}"
        );
        assert!(text.contains("  failed         9 (7.5%)\n"), "{text}");
        assert!(text.contains("              7  10.0.5.31\n"), "{text}");
    }

    fn all_aggs() -> Vec<&'static str> {
        AGGS.iter().map(|a| a.name).collect()
    }

    #[test]
    fn since_takes_durations_and_all() {
        for (text, seconds) in [
            ("15m", 900),
            ("1h", 3_600),
            ("24h", 86_400),
            ("7d", 604_800),
            ("30s", 30),
            ("2w", 1_209_600),
        ] {
            assert_eq!(
                text.parse::<Since>().unwrap(),
                Since::Last {
                    seconds,
                    text: text.into()
                },
                "{text}"
            );
            assert_eq!(text.parse::<Since>().unwrap().to_string(), text);
        }
        assert_eq!("all".parse::<Since>().unwrap(), Since::All);
        assert_eq!("ALL".parse::<Since>().unwrap(), Since::All);
        for bad in [
            "",
            "h",
            "0h",
            "5",
            "5y",
            "-1h",
            "1.5h",
            "99999999999999999999d",
        ] {
            let err = bad.parse::<Since>().unwrap_err().to_string();
            assert!(
                err.contains("--since") && err.contains("15m"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_window_starts_since_before_now_on_timestamp() {
        let o = options("1h");
        assert_eq!(o.from().as_deref(), Some("2026-11-26T02:00:00Z"));
        let body = search_body(&o, &all_aggs());
        let filter = &body["query"]["bool"]["filter"];
        assert_eq!(
            filter[1],
            json!({"range": {"@timestamp": {"gte": "2026-11-26T02:00:00Z"}}})
        );
        assert_eq!(
            filter[0],
            json!({"term": {"event.dataset": "aws.elb_logs"}})
        );
        assert_eq!(
            body["query"]["bool"]["must_not"],
            json!([{"term": {"event.kind": "pipeline_error"}}])
        );
        assert_eq!(body["size"], 0);
        assert_eq!(body["track_total_hits"], true);
        assert_eq!(
            body["aggs"].as_object().unwrap().len(),
            AGGS.len(),
            "{body}"
        );
        assert_eq!(
            count_body(&o),
            json!({"query": {"range": {"@timestamp": {"gte": "2026-11-26T02:00:00Z"}}}})
        );

        let all = options("all");
        assert_eq!(all.from(), None);
        let body = search_body(&all, &["clients"]);
        assert_eq!(body["query"]["bool"]["filter"].as_array().unwrap().len(), 1);
        assert_eq!(
            body["aggs"],
            json!({"clients": {"terms": {"field": "source.ip", "size": 5, "shard_size": SHARD_SIZE,
                "order": [{"_count": "desc"}, {"_key": "asc"}]}}})
        );
        assert_eq!(count_body(&all), json!({"query": {"match_all": {}}}));
        assert_eq!(all.index_pattern(), "alb-logs-*");
        assert_eq!(all.failure_pattern(), "alb-logs-failed-*");
    }

    fn bucket(key: &str, n: u64) -> Value {
        json!({"key": key, "doc_count": n})
    }

    /// An answer as OpenSearch gives it: keyed range buckets, keyed percentiles ("50.0").
    fn opensearch_answer() -> Value {
        json!({
            "hits": {"total": {"value": 100, "relation": "eq"}, "hits": []},
            "_shards": {"total": 2, "successful": 2, "failed": 0},
            "aggregations": {
                "status_classes": {"buckets": {
                    "below-100": {"doc_count": 1}, "1xx": {"doc_count": 2},
                    "2xx": {"doc_count": 60}, "3xx": {"doc_count": 10},
                    "4xx": {"doc_count": 15}, "5xx": {"doc_count": 8},
                    "600-and-above": {"doc_count": 0}}},
                "no_status": {"doc_count": 4},
                "server_errors": {"doc_count": 8, "paths": {
                    "buckets": [bucket("/a", 5), bucket("/b", 3)],
                    "sum_other_doc_count": 0, "doc_count_error_upper_bound": 0}},
                "latency": {"doc_count": 90, "percentiles": {"values":
                    {"50.0": 0.05, "95.0": 1.5, "99.0": 12.25}}},
                "clients": {"buckets": [bucket("2001:db8::7", 3), bucket("10.0.0.1", 2)],
                    "sum_other_doc_count": 95},
                "user_agents": {"buckets": [bucket("curl/8.5.0", 40)], "sum_other_doc_count": 60},
                "error_reasons": {"buckets": [], "sum_other_doc_count": 0},
            }
        })
    }

    #[test]
    fn an_opensearch_answer_becomes_every_figure() {
        let r = parse_search(&opensearch_answer(), &all_aggs(), &options("all")).unwrap();
        assert_eq!(r.requests, 100);
        let status: Vec<(&str, u64)> = r
            .status
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| (c.class.as_str(), c.count))
            .collect();
        assert_eq!(
            status,
            [
                ("1xx", 2),
                ("2xx", 60),
                ("3xx", 10),
                ("4xx", 15),
                ("5xx", 8),
                ("other", 1),
                ("none", 4)
            ]
        );
        assert!((r.status.as_ref().unwrap()[1].share - 0.6).abs() < 1e-12);
        assert!((r.error_rate.unwrap() - 0.23).abs() < 1e-12);
        assert_eq!(
            r.top_5xx_paths.as_ref().unwrap(),
            &[
                TermCount {
                    value: "/a".into(),
                    count: 5
                },
                TermCount {
                    value: "/b".into(),
                    count: 3
                }
            ]
        );
        assert_eq!(
            r.latency,
            Some(Latency {
                measured: 90,
                p50: Some(0.05),
                p95: Some(1.5),
                p99: Some(12.25)
            })
        );
        assert_eq!(r.top_clients.as_ref().unwrap()[0].value, "2001:db8::7");
        assert_eq!(r.top_user_agents.as_ref().unwrap()[0].count, 40);
        assert_eq!(r.top_error_reasons, Some(vec![]));
        assert!(r.unavailable.is_empty(), "{:?}", r.unavailable);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn both_keyed_forms_of_percentiles_and_plain_totals_are_read() {
        let mut answer = opensearch_answer();
        answer["hits"]["total"] = json!(100);
        answer["aggregations"]["latency"]["percentiles"]["values"] =
            json!({"50": 0.5, "95": 2.0, "99": null});
        // Range buckets as an array (keyed: false), with our keys.
        answer["aggregations"]["status_classes"]["buckets"] = json!([
            bucket("below-100", 0),
            bucket("1xx", 3),
            bucket("2xx", 60),
            bucket("3xx", 10),
            bucket("4xx", 15),
            bucket("5xx", 8),
            bucket("600-and-above", 0)
        ]);
        let r = parse_search(&answer, &all_aggs(), &options("all")).unwrap();
        assert_eq!(r.requests, 100);
        let latency = r.latency.unwrap();
        assert_eq!(
            (latency.p50, latency.p95, latency.p99),
            (Some(0.5), Some(2.0), None)
        );
        assert_eq!(r.status.unwrap()[0].count, 3);

        answer["aggregations"]["latency"]["percentiles"]["values"] = json!([
            {"key": 50.0, "value": 0.1}, {"key": 95.0, "value": 0.2}, {"key": 99.0, "value": 0.3}]);
        let latency = parse_search(&answer, &all_aggs(), &options("all"))
            .unwrap()
            .latency
            .unwrap();
        assert_eq!(
            (latency.p50, latency.p95, latency.p99),
            (Some(0.1), Some(0.2), Some(0.3))
        );

        answer["aggregations"]["latency"]["percentiles"] = json!({"oops": 1});
        let r = parse_search(&answer, &all_aggs(), &options("all")).unwrap();
        assert_eq!(r.latency, None);
        assert!(r
            .unavailable_reason(Figure::Latency)
            .unwrap()
            .contains("unrecognised percentiles"));
    }

    #[test]
    fn terms_buckets_that_hold_more_documents_than_matched_are_refused() {
        let mut answer = opensearch_answer();
        // 8 5xx responses, but 21 "paths": the server counted the words of each path.
        answer["aggregations"]["server_errors"]["paths"] = json!({
            "buckets": [bucket("v2", 6), bucket("items", 5)], "sum_other_doc_count": 10});
        let r = parse_search(&answer, &all_aggs(), &options("all")).unwrap();
        assert_eq!(r.top_5xx_paths, None);
        let reason = r.unavailable_reason(Figure::Top5xxPaths).unwrap();
        assert!(
            reason.contains("url.path") && reason.contains("21 values in 8"),
            "{reason}"
        );
        // The other figures stay.
        assert!(r.top_clients.is_some() && r.latency.is_some());
        assert_eq!(r.unavailable.len(), 1);
    }

    #[test]
    fn approximate_counts_and_failed_shards_are_warnings() {
        let mut answer = opensearch_answer();
        answer["aggregations"]["clients"]["doc_count_error_upper_bound"] = json!(4);
        answer["_shards"] = json!({"total": 3, "successful": 2, "failed": 1,
            "failures": [{"reason": {"reason": "node left"}}]});
        let r = parse_search(&answer, &all_aggs(), &options("all")).unwrap();
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r
            .warnings
            .iter()
            .any(|w| w.contains("source.ip") && w.contains('4')));
        assert!(r.warnings.iter().any(|w| w.contains("node left")));
        assert!(r.top_clients.is_some());
    }

    #[test]
    fn no_index_no_aggregations_means_zero_not_unavailable() {
        let answer = json!({"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}});
        let r = parse_search(&answer, &all_aggs(), &options("1h")).unwrap();
        assert_eq!(r.requests, 0);
        assert!(r.unavailable.is_empty(), "{:?}", r.unavailable);
        assert!(r
            .status
            .unwrap()
            .iter()
            .all(|c| c.count == 0 && c.share == 0.0));
        assert_eq!(r.top_clients, Some(vec![]));
        assert_eq!(r.latency.unwrap().measured, 0);

        // Documents but no aggregations: every figure is missing, and says so.
        let answer = json!({"hits": {"total": 5}});
        let r = parse_search(&answer, &all_aggs(), &options("1h")).unwrap();
        assert_eq!(r.unavailable.len(), 6, "{:?}", r.unavailable);
        assert!(r
            .unavailable_reason(Figure::Status)
            .unwrap()
            .contains("status_classes"));

        assert!(parse_search(&json!({"hits": {}}), &all_aggs(), &options("1h")).is_err());
    }

    #[test]
    fn refused_aggregations_are_found_by_type_or_field() {
        // noida (Elasticsearch API) without percentiles.
        let body = r#"{"error":{"root_cause":[{"type":"parsing_exception","reason":"Unknown aggregation type [percentiles] did you mean [terms]?"}],"type":"parsing_exception","reason":"Unknown aggregation type [percentiles] did you mean [terms]?"},"status":400}"#;
        let refused = refused_aggregations(body, &all_aggs());
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].0, "latency");
        assert!(refused[0].1.contains("no `percentiles` aggregation"));

        // A server that cannot aggregate a wildcard field without doc values.
        let body = r#"{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"Can't load fielddata on [url.path] because fielddata is unsupported on fields of type [wildcard]. Use doc values instead."}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400}"#;
        let refused = refused_aggregations(body, &all_aggs());
        assert_eq!(
            refused.iter().map(|r| r.0).collect::<Vec<_>>(),
            ["server_errors"]
        );
        assert!(refused[0].1.contains("url.path"), "{}", refused[0].1);

        // A terms aggregation unknown: every figure built on it goes.
        let body = r#"{"error":{"reason":"Unknown aggregation type [terms]"}}"#;
        let refused: Vec<&str> = refused_aggregations(body, &all_aggs())
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(
            refused,
            ["server_errors", "clients", "user_agents", "error_reasons"]
        );

        // The status code field: the classes and the 5xx filter both go.
        let body = r#"{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"Field [http.response.status_code] is broken"}]}}"#;
        let refused: Vec<&str> = refused_aggregations(body, &all_aggs())
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(refused, ["status_classes", "no_status", "server_errors"]);

        // Nothing to attribute: no aggregation is blamed (the report fails with the error).
        assert!(refused_aggregations(r#"{"error":"bad query"}"#, &all_aggs()).is_empty());
        assert!(refused_aggregations("not json", &all_aggs()).is_empty());
    }

    #[test]
    fn the_table_is_aligned_and_says_what_is_missing() {
        let mut r = parse_search(&opensearch_answer(), &all_aggs(), &options("1h")).unwrap();
        r.endpoint = "http://search:9200".into();
        r.failures = Some(1234);
        r.latency = None;
        r.unavailable.push(Unavailable {
            figure: Figure::Latency,
            reason: "the server has no `percentiles` aggregation".into(),
        });
        let text = r.to_string();
        assert!(
            text.starts_with(
                "ALB access logs in alb-logs-* at http://search:9200, since 2026-11-26T02:00:00Z (last 1h)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  failure documents  1,234 (in alb-logs-failed-*)\n"),
            "{text}"
        );
        assert!(text.contains("  class      requests  share\n"), "{text}");
        assert!(text.contains("  2xx              60  60.0%\n"), "{text}");
        assert!(text.contains("  4xx+5xx          23  23.0%\n"), "{text}");
        assert!(
            text.contains("Target processing time (aws.elb.backend_processing_time.sec)\n  unavailable: the server has no `percentiles` aggregation\n"),
            "{text}"
        );
        assert!(
            text.contains("  requests  source.ip\n         3  2001:db8::7\n"),
            "{text}"
        );
        assert!(text.contains("Top error reasons\n  (none)\n"), "{text}");
        assert!(!text.lines().any(|l| l.ends_with(' ')), "{text}");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn the_json_names_every_figure() {
        let r = parse_search(&opensearch_answer(), &all_aggs(), &options("all")).unwrap();
        let value = serde_json::to_value(&r).unwrap();
        for key in [
            "requests",
            "status",
            "error_rate",
            "top_5xx_paths",
            "latency",
            "top_clients",
            "top_user_agents",
            "top_error_reasons",
            "failures",
            "unavailable",
            "since",
            "from",
        ] {
            assert!(value.get(key).is_some(), "{key} in {value}");
        }
        assert_eq!(value["since"], "all");
        assert_eq!(value["latency"]["p99"], 12.25);
        assert_eq!(
            value["top_clients"][0],
            json!({"value": "2001:db8::7", "count": 3})
        );
        let u = serde_json::to_value(Unavailable {
            figure: Figure::Top5xxPaths,
            reason: "x".into(),
        })
        .unwrap();
        assert_eq!(u, json!({"figure": "top_5xx_paths", "reason": "x"}));
    }
}
