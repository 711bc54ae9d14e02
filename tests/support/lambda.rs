//! What the tests of the Lambda functions share: event fixtures, the process environment the
//! functions read, and their configuration.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// An event from `tests/fixtures/events/` (written after the AWS documentation's examples).
pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The functions read S3 settings from the process environment, as in Lambda.
pub fn set_aws_env(s3_url: &str) {
    for (name, value) in super::aws_env(s3_url) {
        std::env::set_var(name, value);
    }
}

/// A function's configuration environment (`IngestConfig::from_env` and the like).
pub fn config_env(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// An S3 notification naming `key` in `bucket`, the key URL-encoded as S3 sends it.
pub fn s3_event(bucket: &str, key: &str) -> Value {
    let mut event = fixture("s3-object-created.json");
    let records = event["Records"].as_array_mut().unwrap();
    records.truncate(1);
    records[0]["s3"]["bucket"]["name"] = json!(bucket);
    records[0]["s3"]["object"]["key"] = json!(key.replace(' ', "+").replace('=', "%3D"));
    event
}

/// The deadline of an invocation with time to spare.
pub fn in_five_minutes() -> Instant {
    Instant::now() + Duration::from_secs(300)
}
