//! What the report asks the server: the field names it reads, its aggregations as typed specs,
//! and the bodies of its searches and count.

use serde_json::{json, Map, Value};

use super::{Figure, ReportOptions, TOP};

pub(super) const ALB_DATASET: &str = "aws.elb_logs";
pub(super) const HEALTH_CHECK_DATASET: &str = "aws.elb_health_check_logs";

// The document fields the report reads (`docs/documents.md`).
pub(super) const STATUS: &str = "http.response.status_code";
pub(super) const PATH: &str = "url.path";
pub(super) const BACKEND_TIME: &str = "aws.elb.backend_processing_time.sec";
pub(super) const CLIENT: &str = "source.ip";
pub(super) const USER_AGENT: &str = "user_agent.original";
pub(super) const ERROR_REASON: &str = "aws.elb.error.reason";
pub(super) const HEALTH_STATUS: &str = "aws.elb.health_check.status";
pub(super) const HEALTH_TARGET: &str = "destination.address";
pub(super) const HEALTH_REASON: &str = "aws.elb.health_check.reason_code";

// Names of the aggregations nested in others, as the answer carries them back.
pub(super) const PATHS: &str = "paths";
pub(super) const PERCENTILES: &str = "percentiles";
pub(super) const FAILED: &str = "failed";
pub(super) const TARGETS: &str = "targets";
pub(super) const REASONS: &str = "reasons";

pub(super) const PERCENTS: [f64; 3] = [50.0, 95.0, 99.0];
/// Terms each shard sends: far more than the default (1.5 × size + 10), so that the top 5 over
/// many daily indices are exact unless a field has more than this many values per shard (the
/// server's `doc_count_error_upper_bound` then says how far off a count may be: a warning).
pub(super) const SHARD_SIZE: usize = 1000;

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

/// One aggregation of the report's search: its name in the request and answer, the figure it
/// feeds, and the aggregation types and fields it uses (to leave it out when the server refuses
/// one of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    StatusClasses,
    NoStatus,
    ServerErrors,
    Latency,
    Clients,
    UserAgents,
    ErrorReasons,
}

impl Agg {
    /// Every aggregation, in the order of the request.
    pub const ALL: [Agg; 7] = [
        Agg::StatusClasses,
        Agg::NoStatus,
        Agg::ServerErrors,
        Agg::Latency,
        Agg::Clients,
        Agg::UserAgents,
        Agg::ErrorReasons,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Agg::StatusClasses => "status_classes",
            Agg::NoStatus => "no_status",
            Agg::ServerErrors => "server_errors",
            Agg::Latency => "latency",
            Agg::Clients => "clients",
            Agg::UserAgents => "user_agents",
            Agg::ErrorReasons => "error_reasons",
        }
    }

    pub fn figure(self) -> Figure {
        match self {
            Agg::StatusClasses | Agg::NoStatus => Figure::Status,
            Agg::ServerErrors => Figure::Top5xxPaths,
            Agg::Latency => Figure::Latency,
            Agg::Clients => Figure::TopClients,
            Agg::UserAgents => Figure::TopUserAgents,
            Agg::ErrorReasons => Figure::TopErrorReasons,
        }
    }

    /// The aggregation types it uses.
    pub fn types(self) -> &'static [&'static str] {
        match self {
            Agg::StatusClasses => &["range"],
            Agg::NoStatus => &["missing"],
            Agg::ServerErrors => &["filter", "terms"],
            Agg::Latency => &["filter", "percentiles"],
            Agg::Clients | Agg::UserAgents | Agg::ErrorReasons => &["terms"],
        }
    }

    /// The document fields it uses.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Agg::StatusClasses | Agg::NoStatus => &[STATUS],
            Agg::ServerErrors => &[STATUS, PATH],
            Agg::Latency => &[BACKEND_TIME],
            Agg::Clients => &[CLIENT],
            Agg::UserAgents => &[USER_AGENT],
            Agg::ErrorReasons => &[ERROR_REASON],
        }
    }

    /// Its body in the request.
    fn body(self) -> Value {
        match self {
            Agg::StatusClasses => {
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
            Agg::NoStatus => json!({"missing": {"field": STATUS}}),
            Agg::ServerErrors => json!({
                "filter": {"range": {STATUS: {"gte": 500, "lt": 600}}},
                "aggs": {PATHS: terms(PATH)},
            }),
            Agg::Latency => json!({
                "filter": {"exists": {"field": BACKEND_TIME}},
                "aggs": {PERCENTILES: {"percentiles": {"field": BACKEND_TIME, "percents": PERCENTS}}},
            }),
            Agg::Clients => terms(CLIENT),
            Agg::UserAgents => terms(USER_AGENT),
            Agg::ErrorReasons => terms(ERROR_REASON),
        }
    }
}

/// The top values of `field`: most documents first, ties by value.
fn terms(field: &str) -> Value {
    json!({"terms": {
        "field": field,
        "size": TOP,
        "shard_size": SHARD_SIZE,
        "order": [{"_count": "desc"}, {"_key": "asc"}],
    }})
}

/// The body of the report's `_search`, with the aggregations in `enabled`.
pub fn search_body(options: &ReportOptions, enabled: &[Agg]) -> Value {
    let aggs: Map<String, Value> = enabled
        .iter()
        .map(|agg| (agg.name().to_string(), agg.body()))
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

/// The body of the failure documents' `_count`.
pub fn count_body(options: &ReportOptions) -> Value {
    match options.time_filter() {
        Some(range) => json!({"query": range}),
        None => json!({"query": {"match_all": {}}}),
    }
}

/// The body of the target health `_search`: health check documents in the window, the failed
/// ones, their targets and reason codes.
pub fn target_health_body(options: &ReportOptions) -> Value {
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": dataset_query(HEALTH_CHECK_DATASET, options.time_filter()),
        "aggs": {FAILED: {
            "filter": {"term": {HEALTH_STATUS: "FAIL"}},
            "aggs": {TARGETS: terms(HEALTH_TARGET), REASONS: terms(HEALTH_REASON)},
        }},
    })
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

#[cfg(test)]
mod tests {
    use super::super::tests::options;
    use super::*;

    #[test]
    fn the_window_starts_since_before_now_on_timestamp() {
        let o = options("1h");
        assert_eq!(o.from().as_deref(), Some("2026-11-26T02:00:00Z"));
        let body = search_body(&o, &Agg::ALL);
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
            Agg::ALL.len(),
            "{body}"
        );
        assert_eq!(
            count_body(&o),
            json!({"query": {"range": {"@timestamp": {"gte": "2026-11-26T02:00:00Z"}}}})
        );

        let all = options("all");
        assert_eq!(all.from(), None);
        let body = search_body(&all, &[Agg::Clients]);
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

    #[test]
    fn every_aggregation_has_a_distinct_name_and_a_body_of_its_types() {
        for (i, agg) in Agg::ALL.iter().enumerate() {
            assert!(
                Agg::ALL[..i].iter().all(|a| a.name() != agg.name()),
                "{agg:?}"
            );
            let body = agg.body();
            assert!(body.get(agg.types()[0]).is_some(), "{agg:?}: {body}");
            for field in agg.fields() {
                assert!(body.to_string().contains(field), "{agg:?}: {body}");
            }
        }
    }
}
