//! CloudWatch Embedded Metric Format: one JSON line on stdout that CloudWatch Logs turns into
//! metrics, with no API call and no extra latency in the function.

use std::fmt::Write as _;

use crate::json::write_str;

/// The namespace of the ingest function's metrics.
pub const NAMESPACE: &str = "albingest";
/// The one dimension: the function's name (`AWS_LAMBDA_FUNCTION_NAME`).
pub const DIMENSION: &str = "FunctionName";

/// The metric names the ingest function emits once per object (the deployment's alarms and the
/// README's table name them; `tests/deploy_assets.rs` checks both against this list).
pub mod names {
    pub const OBJECTS: &str = "Objects";
    pub const FAILED_OBJECTS: &str = "FailedObjects";
    pub const LINES: &str = "Lines";
    pub const DOCUMENTS: &str = "Documents";
    pub const FAILURE_DOCUMENTS: &str = "FailureDocuments";
    pub const INDEXED: &str = "Indexed";
    pub const ALREADY_PRESENT: &str = "AlreadyPresent";
    pub const DROPPED: &str = "Dropped";
    pub const DEAD_LETTERED: &str = "DeadLettered";
    pub const UNPLACED: &str = "Unplaced";
    pub const RETRIES: &str = "Retries";
    pub const BYTES_IN: &str = "BytesIn";
    pub const BYTES_OUT: &str = "BytesOut";
    pub const SECONDS: &str = "Seconds";
}

/// Every name in [`names`], in the order a record lists them.
pub const INGEST_METRICS: [&str; 14] = [
    names::OBJECTS,
    names::FAILED_OBJECTS,
    names::LINES,
    names::DOCUMENTS,
    names::FAILURE_DOCUMENTS,
    names::INDEXED,
    names::ALREADY_PRESENT,
    names::DROPPED,
    names::DEAD_LETTERED,
    names::UNPLACED,
    names::RETRIES,
    names::BYTES_IN,
    names::BYTES_OUT,
    names::SECONDS,
];

/// A metric's CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Bytes,
    Seconds,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Bytes => "Bytes",
            Unit::Seconds => "Seconds",
        }
    }
}

/// One EMF record: a namespace, dimension values and metric values.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub namespace: String,
    pub dimensions: Vec<(String, String)>,
    pub metrics: Vec<(&'static str, f64, Unit)>,
}

impl Record {
    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: namespace.to_string(),
            ..Self::default()
        }
    }

    pub fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.push((name.to_string(), value.to_string()));
        self
    }

    pub fn metric(mut self, name: &'static str, value: f64, unit: Unit) -> Self {
        self.metrics.push((name, value, unit));
        self
    }

    /// The EMF JSON line (without the line end), stamped `timestamp_ms` since the epoch.
    pub fn to_line(&self, timestamp_ms: u64) -> String {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"_aws\":{\"Timestamp\":");
        out.extend_from_slice(timestamp_ms.to_string().as_bytes());
        out.extend_from_slice(b",\"CloudWatchMetrics\":[{\"Namespace\":");
        write_str(&mut out, &self.namespace);
        out.extend_from_slice(b",\"Dimensions\":[[");
        for (i, (name, _)) in self.dimensions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(&mut out, name);
        }
        out.extend_from_slice(b"]],\"Metrics\":[");
        for (i, (name, _, unit)) in self.metrics.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"Name\":");
            write_str(&mut out, name);
            out.extend_from_slice(b",\"Unit\":");
            write_str(&mut out, unit.name());
            out.push(b'}');
        }
        out.extend_from_slice(b"]}]}");
        for (name, value) in &self.dimensions {
            out.push(b',');
            write_str(&mut out, name);
            out.push(b':');
            write_str(&mut out, value);
        }
        let mut text = String::from_utf8(out).unwrap_or_default();
        for (name, value, _) in &self.metrics {
            let value = if value.is_finite() { *value } else { 0.0 };
            let _ = write!(text, ",\"{name}\":{value}");
        }
        text.push('}');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_is_the_documented_shape() {
        let line = Record::new("albingest")
            .dimension("FunctionName", "albingest-ingest")
            .metric("Lines", 1500.0, Unit::Count)
            .metric("Seconds", 0.25, Unit::Seconds)
            .to_line(1_795_000_000_000);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_795_000_000_000u64);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "albingest");
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["FunctionName"]])
        );
        assert_eq!(
            directive["Metrics"][1],
            serde_json::json!({"Name": "Seconds", "Unit": "Seconds"})
        );
        assert_eq!(v["FunctionName"], "albingest-ingest");
        assert_eq!(v["Lines"], 1500.0);
        assert_eq!(v["Seconds"], 0.25);
    }
}
