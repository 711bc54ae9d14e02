//! A server that lacks an aggregation type, or cannot aggregate a field, answers the search with
//! a 400 naming it: the aggregations that use it are left out (with the figure they feed, and
//! why) and the search is sent again with the others.

use serde_json::Value;

use super::{Agg, Figure, Unavailable};

/// The aggregations still asked for, and the figures left out so far with the reason.
pub(super) struct Degraded {
    enabled: Vec<Agg>,
    unavailable: Vec<Unavailable>,
}

impl Degraded {
    /// Every aggregation asked for, none left out.
    pub fn all() -> Self {
        Self {
            enabled: Agg::ALL.to_vec(),
            unavailable: Vec::new(),
        }
    }

    pub fn enabled(&self) -> &[Agg] {
        &self.enabled
    }

    /// Leaves out the aggregations the 400 answer `body` refuses, and every other aggregation
    /// of their figures (a figure's aggregations go together). False when it refuses none of
    /// them: the answer is an error of its own.
    pub fn leave_out_refused(&mut self, body: &str) -> bool {
        let left_out = refused_aggregations(body, &self.enabled);
        if left_out.is_empty() {
            return false;
        }
        for (agg, reason) in left_out {
            self.enabled.retain(|a| *a != agg);
            let figure = agg.figure();
            if !self.unavailable.iter().any(|u| u.figure == figure) {
                self.unavailable.push(Unavailable { figure, reason });
            }
        }
        let gone: Vec<Figure> = self.unavailable.iter().map(|u| u.figure).collect();
        self.enabled.retain(|a| !gone.contains(&a.figure()));
        true
    }

    /// The figures left out, and why.
    pub fn into_unavailable(self) -> Vec<Unavailable> {
        self.unavailable
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
fn refused_aggregations(body: &str, enabled: &[Agg]) -> Vec<(Agg, String)> {
    let reasons = error_reasons(body);
    let first_reason = reasons.first().cloned().unwrap_or_default();
    const UNKNOWN: &str = "Unknown aggregation type [";
    let unknown_type = reasons.iter().find_map(|r| {
        let start = r.find(UNKNOWN)? + UNKNOWN.len();
        let end = r[start..].find(']')? + start;
        Some((r[start..end].to_string(), r.clone()))
    });
    let mut out = Vec::new();
    for agg in Agg::ALL.into_iter().filter(|a| enabled.contains(a)) {
        if let Some((ty, reason)) = &unknown_type {
            if agg.types().contains(&ty.as_str()) {
                out.push((
                    agg,
                    format!("the server has no `{ty}` aggregation ({reason})"),
                ));
            }
            continue;
        }
        if let Some(field) = agg.fields().iter().find(|f| {
            reasons
                .iter()
                .any(|r| r.contains(&format!("[{f}]")) || r.contains(&format!("\"{f}\"")))
        }) {
            out.push((
                agg,
                format!("the server cannot aggregate `{field}` ({first_reason})"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_aggregations_are_found_by_type_or_field() {
        // noida (Elasticsearch API) without percentiles.
        let body = r#"{"error":{"root_cause":[{"type":"parsing_exception","reason":"Unknown aggregation type [percentiles] did you mean [terms]?"}],"type":"parsing_exception","reason":"Unknown aggregation type [percentiles] did you mean [terms]?"},"status":400}"#;
        let refused = refused_aggregations(body, &Agg::ALL);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].0, Agg::Latency);
        assert!(refused[0].1.contains("no `percentiles` aggregation"));

        // A server that cannot aggregate a wildcard field without doc values.
        let body = r#"{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"Can't load fielddata on [url.path] because fielddata is unsupported on fields of type [wildcard]. Use doc values instead."}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400}"#;
        let refused = refused_aggregations(body, &Agg::ALL);
        assert_eq!(
            refused.iter().map(|r| r.0).collect::<Vec<_>>(),
            [Agg::ServerErrors]
        );
        assert!(refused[0].1.contains("url.path"), "{}", refused[0].1);

        // A terms aggregation unknown: every figure built on it goes.
        let body = r#"{"error":{"reason":"Unknown aggregation type [terms]"}}"#;
        let refused: Vec<Agg> = refused_aggregations(body, &Agg::ALL)
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(
            refused,
            [
                Agg::ServerErrors,
                Agg::Clients,
                Agg::UserAgents,
                Agg::ErrorReasons
            ]
        );

        // The status code field: the classes and the 5xx filter both go.
        let body = r#"{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"Field [http.response.status_code] is broken"}]}}"#;
        let refused: Vec<Agg> = refused_aggregations(body, &Agg::ALL)
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(
            refused,
            [Agg::StatusClasses, Agg::NoStatus, Agg::ServerErrors]
        );

        // Nothing to attribute: no aggregation is blamed (the report fails with the error).
        assert!(refused_aggregations(r#"{"error":"bad query"}"#, &Agg::ALL).is_empty());
        assert!(refused_aggregations("not json", &Agg::ALL).is_empty());
    }

    #[test]
    fn a_refused_aggregation_takes_its_figure_out_whole() {
        let mut degraded = Degraded::all();
        assert!(!degraded.leave_out_refused(r#"{"error":"bad query"}"#));
        assert_eq!(degraded.enabled(), Agg::ALL);
        // `no_status` is refused: `status_classes`, the other half of the figure, goes too.
        assert!(degraded
            .leave_out_refused(r#"{"error":{"reason":"Unknown aggregation type [missing]"}}"#));
        assert!(!degraded.enabled().contains(&Agg::StatusClasses));
        assert_eq!(degraded.enabled().len(), Agg::ALL.len() - 2);
        let unavailable = degraded.into_unavailable();
        assert_eq!(unavailable.len(), 1);
        assert_eq!(unavailable[0].figure, Figure::Status);
        assert!(unavailable[0].reason.contains("`missing`"));
    }
}
