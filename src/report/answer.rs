//! The server's answers read into figures: the report's `_search` into a [`Report`], the health
//! check `_search` into [`TargetHealth`]. An answer that cannot be right (a terms aggregation over
//! a single-valued field whose buckets hold more documents than matched: the server split the
//! values into words) is refused figure by figure.

use serde_json::{json, Map, Value};

use super::query::{
    CLIENT, ERROR_REASON, FAILED, HEALTH_REASON, HEALTH_TARGET, PATH, PATHS, PERCENTILES, PERCENTS,
    REASONS, TARGETS, USER_AGENT,
};
use super::{
    Agg, Figure, Latency, Report, ReportOptions, StatusClass, TargetHealth, TermCount, Unavailable,
    TOP,
};

/// An answer that does not give a figure: something missing, or counts that cannot be right.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    /// Neither `hits.total` nor `hits.total.value` is a count.
    #[error("no hits.total in the answer")]
    NoHitsTotal,
    /// An aggregation asked for is not in an answer that matched documents.
    #[error("the answer has no `{0}` aggregation")]
    NoAggregation(&'static str),
    /// 5xx responses matched, but the answer has no paths under them.
    #[error(
        "the server counted {parent} 5xx responses but left out the `{PATH}` terms under them"
    )]
    PathsLeftOut { parent: u64 },
    /// A bucket (or a single-bucket aggregation) has no `doc_count`.
    #[error("a bucket without doc_count: {0}")]
    NoDocCount(Value),
    /// An aggregation has no `buckets` (array or keyed).
    #[error("no buckets in {0}")]
    NoBuckets(Value),
    /// A status range bucket that the query does not ask for.
    #[error("unexpected status range bucket {0:?}")]
    UnexpectedStatusBucket(String),
    /// A terms aggregation over a single-valued field counted more values than documents.
    #[error(
        "the server's terms aggregation on `{field}` counted {in_buckets} values in {parent} \
         documents: it split the values into words, so its top values are not the field's"
    )]
    SplitValues {
        field: String,
        in_buckets: u64,
        parent: u64,
    },
    /// The percentiles are neither keyed nor an array, though requests were measured.
    #[error("unrecognised percentiles answer: {0}")]
    UnrecognisedPercentiles(Value),
    /// Requests were measured, but none of the percentiles asked for has a value.
    #[error("the percentiles answer holds none of 50, 95, 99: {0}")]
    NoPercentiles(Value),
}

/// Builds the report (without endpoint and failures) from a `_search` answer.
pub fn parse_search(
    answer: &Value,
    enabled: &[Agg],
    options: &ReportOptions,
) -> Result<Report, AnswerError> {
    let (requests, relation) = hits_total(answer);
    let requests = requests.ok_or(AnswerError::NoHitsTotal)?;
    let mut report = Report::empty(options, requests);
    report.warnings = search_warnings(answer, requests, relation);
    let aggs = Aggregations::of(answer, enabled, requests);
    let mut missing = Missing::default();

    if let Some((status, warning)) = missing.take(Figure::Status, status_figure(&aggs)) {
        report.error_rate = Some(share(StatusClass::errors(&status), requests));
        report.status = Some(status);
        report.warnings.extend(warning);
    }
    report.top_5xx_paths = missing.take(
        Figure::Top5xxPaths,
        server_error_paths(&aggs, &mut report.warnings),
    );
    report.latency = missing.take(
        Figure::Latency,
        aggs.get(Agg::Latency)
            .and_then(|latency| latency.map(parse_latency).transpose()),
    );
    report.top_clients = missing.take(
        Figure::TopClients,
        aggs.top(Agg::Clients, CLIENT, &mut report.warnings),
    );
    report.top_user_agents = missing.take(
        Figure::TopUserAgents,
        aggs.top(Agg::UserAgents, USER_AGENT, &mut report.warnings),
    );
    report.top_error_reasons = missing.take(
        Figure::TopErrorReasons,
        aggs.top(Agg::ErrorReasons, ERROR_REASON, &mut report.warnings),
    );
    report.unavailable = missing.figures;
    Ok(report)
}

/// `hits.total`, a number or `{value, relation}`.
fn hits_total(answer: &Value) -> (Option<u64>, Option<&str>) {
    match &answer["hits"]["total"] {
        Value::Number(n) => (n.as_u64(), None),
        Value::Object(map) => (
            map.get("value").and_then(Value::as_u64),
            map.get("relation").and_then(Value::as_str),
        ),
        _ => (None, None),
    }
}

/// What makes the whole answer approximate: a count that is a lower bound, a timeout, failed
/// shards.
fn search_warnings(answer: &Value, requests: u64, relation: Option<&str>) -> Vec<String> {
    let mut warnings = Vec::new();
    if relation.is_some_and(|r| r != "eq") {
        warnings.push(format!(
            "the server counted at least {requests} requests, not exactly (relation {:?})",
            relation.unwrap_or_default()
        ));
    }
    if answer["timed_out"] == json!(true) {
        warnings.push("the search timed out: figures may be incomplete".into());
    }
    if let Some(failed) = answer["_shards"]["failed"].as_u64().filter(|f| *f > 0) {
        let reason = answer["_shards"]["failures"][0]["reason"]["reason"]
            .as_str()
            .unwrap_or("no reason given");
        warnings.push(format!(
            "{failed} of {} shards failed, figures may be incomplete: {reason}",
            answer["_shards"]["total"]
        ));
    }
    warnings
}

/// The figures a reading could not give, and why (each figure once).
#[derive(Default)]
struct Missing {
    figures: Vec<Unavailable>,
}

impl Missing {
    /// The figure `result` gives, if any; its reason is kept when it gives an error.
    fn take<T>(&mut self, figure: Figure, result: Result<Option<T>, AnswerError>) -> Option<T> {
        match result {
            Ok(value) => value,
            Err(reason) => {
                if self.figures.iter().all(|u| u.figure != figure) {
                    self.figures.push(Unavailable {
                        figure,
                        reason: reason.to_string(),
                    });
                }
                None
            }
        }
    }
}

/// The `aggregations` of an answer, as asked for.
struct Aggregations<'a> {
    /// A server may leave `aggregations` out when no index matched (then every figure is empty),
    /// or when it has nothing to say (then [`Self::get`] says what is missing).
    map: Option<&'a Map<String, Value>>,
    enabled: &'a [Agg],
    requests: u64,
}

static NO_AGGREGATION: Value = Value::Null;

impl<'a> Aggregations<'a> {
    fn of(answer: &'a Value, enabled: &'a [Agg], requests: u64) -> Self {
        Self {
            map: answer.get("aggregations").and_then(Value::as_object),
            enabled,
            requests,
        }
    }

    /// `agg`'s answer; `None` when it was not asked for, `null` when nothing matched.
    fn get(&self, agg: Agg) -> Result<Option<&'a Value>, AnswerError> {
        if !self.enabled.contains(&agg) {
            return Ok(None);
        }
        match self.map.and_then(|map| map.get(agg.name())) {
            Some(v) => Ok(Some(v)),
            None if self.requests == 0 => Ok(Some(&NO_AGGREGATION)),
            None => Err(AnswerError::NoAggregation(agg.name())),
        }
    }

    /// The top values of a terms aggregation over `field` of every request.
    fn top(
        &self,
        agg: Agg,
        field: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Vec<TermCount>>, AnswerError> {
        self.get(agg)?
            .map(|terms| top_terms(terms, self.requests, field, warnings))
            .transpose()
    }
}

type StatusFigure = (Vec<StatusClass>, Option<String>);

/// The status classes (both aggregations of the figure, or none), and a warning when they do not
/// add up to the requests.
fn status_figure(aggs: &Aggregations) -> Result<Option<StatusFigure>, AnswerError> {
    let classes = aggs.get(Agg::StatusClasses)?;
    let none = aggs.get(Agg::NoStatus)?;
    match (classes, none) {
        (Some(classes), Some(none)) => status_classes(classes, none, aggs.requests).map(Some),
        _ => Ok(None),
    }
}

/// The top URL paths of 5xx responses.
fn server_error_paths(
    aggs: &Aggregations,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<TermCount>>, AnswerError> {
    let Some(server_errors) = aggs.get(Agg::ServerErrors)? else {
        return Ok(None);
    };
    let parent = server_errors["doc_count"].as_u64().unwrap_or(0);
    // 5xx responses matched but their paths are not in the answer: that is not "none" (one
    // stand-in server drops nested aggregations from larger requests).
    let paths = &server_errors[PATHS];
    if parent > 0 && paths.is_null() {
        return Err(AnswerError::PathsLeftOut { parent });
    }
    top_terms(paths, parent, PATH, warnings).map(Some)
}

/// The target health figures from a `_search` answer (warnings about approximate counts go to
/// `warnings`).
pub fn parse_target_health(
    answer: &Value,
    options: &ReportOptions,
    warnings: &mut Vec<String>,
) -> Result<TargetHealth, AnswerError> {
    let total = &answer["hits"]["total"];
    let checks = total
        .as_u64()
        .or_else(|| total["value"].as_u64())
        .ok_or(AnswerError::NoHitsTotal)?;
    let failed_agg = &answer["aggregations"][FAILED];
    let failed = if checks == 0 && failed_agg.is_null() {
        0
    } else {
        doc_count(failed_agg)?
    };
    Ok(TargetHealth {
        index_pattern: options.health_check_pattern(),
        checks,
        failed,
        top_failing_targets: top_terms(&failed_agg[TARGETS], failed, HEALTH_TARGET, warnings)?,
        top_reason_codes: top_terms(&failed_agg[REASONS], failed, HEALTH_REASON, warnings)?,
    })
}

pub(super) fn share(count: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        count as f64 / of as f64
    }
}

fn doc_count(bucket: &Value) -> Result<u64, AnswerError> {
    bucket["doc_count"]
        .as_u64()
        .ok_or_else(|| AnswerError::NoDocCount(bucket.clone()))
}

/// The buckets of a (range or terms) aggregation, keyed or not: `(key, bucket)`.
fn buckets(agg: &Value) -> Result<Vec<(String, &Value)>, AnswerError> {
    let key_text = |key: &Value| match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match &agg["buckets"] {
        Value::Array(items) => Ok(items.iter().map(|b| (key_text(&b["key"]), b)).collect()),
        Value::Object(map) => Ok(map.iter().map(|(k, b)| (k.clone(), b)).collect()),
        Value::Null if agg.is_null() => Ok(Vec::new()),
        _ => Err(AnswerError::NoBuckets(agg.clone())),
    }
}

fn status_classes(
    classes: &Value,
    none: &Value,
    requests: u64,
) -> Result<StatusFigure, AnswerError> {
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
            _ => return Err(AnswerError::UnexpectedStatusBucket(key)),
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
) -> Result<Vec<TermCount>, AnswerError> {
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
        return Err(AnswerError::SplitValues {
            field: field.to_string(),
            in_buckets,
            parent,
        });
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

fn parse_latency(latency: &Value) -> Result<Latency, AnswerError> {
    if latency.is_null() {
        return Ok(Latency {
            measured: 0,
            p50: None,
            p95: None,
            p99: None,
        });
    }
    let measured = doc_count(latency)?;
    let values = &latency[PERCENTILES]["values"];
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
        _ => return Err(AnswerError::UnrecognisedPercentiles(latency.clone())),
    }
    let at = |p: f64| {
        found
            .iter()
            .find(|(k, _)| (k - p).abs() < 1e-9)
            .and_then(|(_, v)| *v)
    };
    if measured > 0 && PERCENTS.iter().all(|p| at(*p).is_none()) {
        return Err(AnswerError::NoPercentiles(latency.clone()));
    }
    Ok(Latency {
        measured,
        p50: at(50.0),
        p95: at(95.0),
        p99: at(99.0),
    })
}
