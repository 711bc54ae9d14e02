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
//! The stages, each in its module: the time [`window`], the [`query`] (field names, aggregations,
//! request bodies), what to leave out when the server refuses an aggregation ([`degrade`]), the
//! [`answer`] read into figures, and the terminal text ([`render`]). This module holds the report's
//! types and the requests in their order.

mod answer;
mod degrade;
mod query;
mod render;
mod window;

use std::time::Duration;

use opensearch::http::Method;
use serde::Serialize;
use serde_json::{json, Value};

use crate::search::{SearchClient, SearchError};

pub use answer::{parse_search, parse_target_health, AnswerError};
pub use query::{count_body, newest_body, search_body, target_health_body, Agg};
pub use window::{suggest_since, ReportOptions, Since, SinceError};

/// The ALB access log index prefix when none is given.
pub const DEFAULT_PREFIX: &str = "alb-logs";
/// The ALB health check log index prefix when none is given.
pub const DEFAULT_HEALTH_CHECK_PREFIX: &str = "alb-health-check-logs";
/// Length of every top list.
pub const TOP: usize = 5;

const TIMEOUT: Duration = Duration::from_secs(60);

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

impl StatusClass {
    /// The 4xx and 5xx responses among `classes`.
    pub fn errors(classes: &[StatusClass]) -> u64 {
        classes
            .iter()
            .filter(|c| c.class == "4xx" || c.class == "5xx")
            .map(|c| c.count)
            .sum()
    }
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

/// The figures of a report, in the order the report lists them (the order of
/// [`Report::unavailable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
    /// A report of `requests` in `options`' window, no figure read yet.
    fn empty(options: &ReportOptions, requests: u64) -> Self {
        Report {
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
        }
    }

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

/// Why a figure with a request of its own (failures, target health, the newest request) could
/// not be had; the report goes on without it.
#[derive(Debug, thiserror::Error)]
enum FigureError {
    /// The request failed (other than 404: no index, which is no documents).
    #[error(transparent)]
    Search(#[from] SearchError),
    /// The answer is not JSON.
    #[error("POST {path}: answer is not JSON ({source}): {answer}")]
    NotJson {
        path: String,
        #[source]
        source: serde_json::Error,
        answer: String,
    },
    /// A `_count` answer without a count.
    #[error("POST {path}: answer has no \"count\": {answer}")]
    NoCount { path: String, answer: Value },
    /// A `_search` answer that does not give the figure.
    #[error("POST {path}: {source}")]
    Answer {
        path: String,
        #[source]
        source: AnswerError,
    },
}

/// Runs the search and the count and builds the report.
pub async fn report(client: &SearchClient, options: &ReportOptions) -> Result<Report, ReportError> {
    let pattern = options.index_pattern();
    let path = format!("/{pattern}/_search");
    let mut degraded = degrade::Degraded::all();
    let answer = loop {
        let body = search_body(options, degraded.enabled());
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
                if !degraded.leave_out_refused(&error_body) {
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
            parse_search(&value, degraded.enabled(), options).map_err(|reason| {
                ReportError::Answer {
                    pattern: pattern.clone(),
                    endpoint: client.endpoint().to_string(),
                    reason: reason.to_string(),
                    excerpt: answer.text(),
                }
            })?
        }
        // No index matches (servers that answer 404 to a wildcard): nothing to count.
        None => parse_search(&json!({"hits": {"total": 0}}), degraded.enabled(), options)
            .expect("an empty answer parses"),
    };
    report.endpoint = client.endpoint().to_string();
    report.unavailable.extend(degraded.into_unavailable());
    report.unavailable.sort_by_key(|u| u.figure);
    match count_failures(client, options).await {
        Ok(count) => report.failures = Some(count),
        Err(reason) => report.unavailable.push(Unavailable {
            figure: Figure::Failures,
            reason: reason.to_string(),
        }),
    }
    match target_health(client, options, &mut report.warnings).await {
        Ok(health) => report.target_health = Some(health),
        Err(reason) => report.unavailable.push(Unavailable {
            figure: Figure::TargetHealth,
            reason: reason.to_string(),
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

/// POSTs `body` to `path` and reads the answer as JSON; `None` when no index matches (404).
async fn post_json(
    client: &SearchClient,
    path: &str,
    body: &Value,
) -> Result<Option<Value>, FigureError> {
    match client.json(Method::Post, path, Some(body), TIMEOUT).await {
        Ok(answer) => serde_json::from_slice(&answer.body)
            .map(Some)
            .map_err(|source| FigureError::NotJson {
                path: path.to_string(),
                source,
                answer: answer.text(),
            }),
        Err(SearchError::Status { status: 404, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn count_failures(
    client: &SearchClient,
    options: &ReportOptions,
) -> Result<u64, FigureError> {
    let path = format!("/{}/_count", options.failure_pattern());
    match post_json(client, &path, &count_body(options)).await? {
        Some(value) => match value["count"].as_u64() {
            Some(count) => Ok(count),
            None => Err(FigureError::NoCount {
                path,
                answer: value,
            }),
        },
        // No failure index at all: no failures.
        None => Ok(0),
    }
}

async fn target_health(
    client: &SearchClient,
    options: &ReportOptions,
    warnings: &mut Vec<String>,
) -> Result<TargetHealth, FigureError> {
    let path = format!("/{}/_search", options.health_check_pattern());
    let answer = post_json(client, &path, &target_health_body(options))
        .await?
        // No health check index at all: no checks (an answer that always reads).
        .unwrap_or_else(|| json!({"hits": {"total": 0}}));
    parse_target_health(&answer, options, warnings)
        .map_err(|source| FigureError::Answer { path, source })
}

/// `@timestamp` of the newest ALB access log document, `None` when there is none.
async fn newest_request(
    client: &SearchClient,
    options: &ReportOptions,
) -> Result<Option<String>, FigureError> {
    let path = format!("/{}/_search", options.index_pattern());
    let answer = post_json(client, &path, &newest_body()).await?;
    Ok(answer.and_then(|value| {
        value["hits"]["hits"][0]["_source"]["@timestamp"]
            .as_str()
            .map(str::to_string)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const NOW: i64 = 1_795_662_000; // 2026-11-26T03:00:00Z

    pub(super) fn options(since: &str) -> ReportOptions {
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

    fn all_aggs() -> Vec<Agg> {
        Agg::ALL.to_vec()
    }

    pub(super) fn bucket(key: &str, n: u64) -> Value {
        json!({"key": key, "doc_count": n})
    }

    /// An answer as OpenSearch gives it: keyed range buckets, keyed percentiles ("50.0").
    pub(super) fn opensearch_answer() -> Value {
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
