//! The index templates (`deploy/index-templates/`, embedded at build time): a component template
//! with the field mappings of `documents.md`, and one composable index template per index prefix
//! that uses it and carries the index settings, so every daily index (`{prefix}-YYYY.MM.DD`,
//! `{prefix}-failed-…`) gets typed fields (`ip`, `date`, `long`, `float`, `keyword`, `wildcard`)
//! from its first document. The settings live in each prefix's own template, so `setup` for one
//! prefix never changes another prefix's shards or replicas.
//!
//! `PUT` replaces a template with the same name: installing again is harmless (idempotent).

use std::time::Duration;

use opensearch::http::Method;
use serde_json::{json, Value};

use super::{SearchClient, SearchError};
use crate::bulk::IndexPrefixes;
use crate::format::LogFormat;

const MAPPINGS: &str =
    include_str!("../../deploy/index-templates/albingest-mappings.component.json");
const SETTINGS: &str = include_str!("../../deploy/index-templates/index-settings.json");
const ALB: &str = include_str!("../../deploy/index-templates/alb.index-template.json");
const ALB_CONNECTION: &str =
    include_str!("../../deploy/index-templates/alb-connection.index-template.json");
const NLB: &str = include_str!("../../deploy/index-templates/nlb.index-template.json");
const ELB: &str = include_str!("../../deploy/index-templates/elb.index-template.json");
const ALB_HEALTH_CHECK: &str =
    include_str!("../../deploy/index-templates/alb-health-check.index-template.json");

pub const MAPPINGS_NAME: &str = "albingest-mappings";

const TIMEOUT: Duration = Duration::from_secs(30);

/// Overrides of the shipped index settings.
#[derive(Debug, Clone, Default)]
pub struct TemplateOptions {
    pub shards: Option<u32>,
    pub replicas: Option<u32>,
    /// `5s`, `30s`, `-1` …
    pub refresh_interval: Option<String>,
}

/// What was installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub component_templates: Vec<String>,
    pub index_templates: Vec<String>,
    /// The server has no `wildcard` field type (older OpenSearch): `keyword` was used instead.
    pub wildcard_as_keyword: bool,
}

fn shipped(text: &str) -> Value {
    serde_json::from_str(text).expect("the shipped templates are valid JSON (a test checks)")
}

/// The index template shipped for `format`.
fn format_template(format: LogFormat) -> Value {
    shipped(match format {
        LogFormat::Alb => ALB,
        LogFormat::AlbConnection => ALB_CONNECTION,
        LogFormat::Nlb => NLB,
        LogFormat::Elb => ELB,
        LogFormat::AlbHealthCheck => ALB_HEALTH_CHECK,
    })
}

/// The index settings with the user's overrides.
pub fn index_settings(options: &TemplateOptions) -> Value {
    let mut settings = shipped(SETTINGS)["settings"].take();
    let index = &mut settings["index"];
    if let Some(shards) = options.shards {
        index["number_of_shards"] = json!(shards);
    }
    if let Some(replicas) = options.replicas {
        index["number_of_replicas"] = json!(replicas);
    }
    if let Some(refresh) = &options.refresh_interval {
        index["refresh_interval"] = json!(refresh);
    }
    settings
}

pub fn mappings_template() -> Value {
    shipped(MAPPINGS)
}

/// One index template per distinct prefix: `albingest-{prefix}` for `{prefix}-*`.
///
/// Priority grows with the prefix length, so when one prefix starts another (`alb` and
/// `alb-connection`), the longer, more specific pattern wins; Elasticsearch also refuses two
/// overlapping templates of the same priority.
pub fn index_templates(prefixes: &IndexPrefixes, settings: Option<&Value>) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for format in LogFormat::ALL {
        let prefix = prefixes.get(format);
        let name = format!("albingest-{prefix}");
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let mut template = format_template(format);
        template["index_patterns"] = json!([format!("{prefix}-*")]);
        template["priority"] = json!(100 + prefix.len());
        if let Some(settings) = settings {
            template["template"] = json!({ "settings": settings });
        }
        out.push((name, template));
    }
    out
}

/// Installs (or replaces) the mappings component template and one index template per prefix.
pub async fn install(
    client: &SearchClient,
    prefixes: &IndexPrefixes,
    options: &TemplateOptions,
) -> Result<Installed, SearchError> {
    // OpenSearch Serverless manages shards, replicas and refresh itself and refuses those
    // settings: only the mappings go there.
    let settings = (client.sigv4_service() != Some("aoss")).then(|| index_settings(options));
    let mut installed = Installed {
        component_templates: Vec::new(),
        index_templates: Vec::new(),
        wildcard_as_keyword: false,
    };
    let path = format!("/_component_template/{MAPPINGS_NAME}");
    let mappings = mappings_template();
    match put(client, &path, &mappings).await {
        Ok(()) => {}
        Err(SearchError::Status {
            status: 400, body, ..
        }) if body.contains("wildcard") => {
            // OpenSearch before 2.15 (and some managed versions) has no `wildcard` type.
            put(client, &path, &wildcard_as_keyword(mappings)).await?;
            installed.wildcard_as_keyword = true;
        }
        Err(e) => return Err(e),
    }
    installed.component_templates.push(MAPPINGS_NAME.into());
    for (name, template) in index_templates(prefixes, settings.as_ref()) {
        put(client, &format!("/_index_template/{name}"), &template).await?;
        installed.index_templates.push(name);
    }
    Ok(installed)
}

async fn put(client: &SearchClient, path: &str, body: &Value) -> Result<(), SearchError> {
    client.json(Method::Put, path, Some(body), TIMEOUT).await?;
    Ok(())
}

/// Every `"type": "wildcard"` becomes `keyword` (with a generous `ignore_above`).
fn wildcard_as_keyword(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if map.get("type").and_then(Value::as_str) == Some("wildcard") {
                    map.insert("type".into(), json!("keyword"));
                    map.insert("ignore_above".into(), json!(8191));
                    map.remove("doc_values");
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'v>(mappings: &'v Value, dotted: &str) -> &'v Value {
        let mut node = &mappings["template"]["mappings"];
        for part in dotted.split('.') {
            node = &node["properties"][part];
        }
        node
    }

    #[test]
    fn mappings_follow_the_document_contract() {
        let m = mappings_template();
        for (path, ty) in [
            ("@timestamp", "date"),
            ("source.ip", "ip"),
            ("source.port", "long"),
            ("aws.elb.backend.ip", "ip"),
            ("aws.elb.node_ip", "ip"),
            ("aws.elb.request_processing_time.sec", "float"),
            ("aws.elb.target_status_code", "long"),
            ("aws.elb.tls_handshake_latency", "float"),
            ("aws.elb.connection_time.ms", "long"),
            ("http.response.status_code", "long"),
            ("http.request.body.bytes", "long"),
            ("event.start", "date"),
            ("event.duration", "long"),
            ("url.original", "wildcard"),
            ("user_agent.original", "keyword"),
            ("aws.elb.trace_id", "keyword"),
            ("log.offset", "long"),
            ("error.message", "text"),
        ] {
            assert_eq!(field(&m, path)["type"], ty, "{path}");
        }
        assert_eq!(
            field(&m, "user_agent.original")["fields"]["text"]["type"],
            "text"
        );
    }

    #[test]
    fn one_template_per_prefix_with_specific_patterns_winning() {
        let mut prefixes = IndexPrefixes::default();
        let settings = index_settings(&TemplateOptions::default());
        let templates = index_templates(&prefixes, Some(&settings));
        let names: Vec<&str> = templates.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "albingest-alb-logs",
                "albingest-alb-connection-logs",
                "albingest-nlb-logs",
                "albingest-elb-logs",
                "albingest-alb-health-check-logs"
            ]
        );
        assert_eq!(templates[0].1["index_patterns"], json!(["alb-logs-*"]));
        assert_eq!(templates[0].1["composed_of"], json!([MAPPINGS_NAME]));
        assert_eq!(
            templates[0].1["template"]["settings"]["index"]["number_of_shards"],
            1
        );
        prefixes.apply("web").unwrap();
        prefixes.apply("alb-connection=web-connection").unwrap();
        prefixes.apply("nlb=web").unwrap();
        let templates = index_templates(&prefixes, None);
        assert_eq!(templates.len(), 4, "nlb shares the alb prefix");
        let priority = |name: &str| {
            templates.iter().find(|(n, _)| n == name).unwrap().1["priority"]
                .as_u64()
                .unwrap()
        };
        assert!(priority("albingest-web-connection") > priority("albingest-web"));
        assert!(
            templates[0].1.get("template").is_none(),
            "no settings for Serverless"
        );
    }

    #[test]
    fn settings_can_be_overridden_and_wildcard_replaced() {
        let s = index_settings(&TemplateOptions {
            shards: Some(3),
            replicas: Some(0),
            refresh_interval: Some("30s".into()),
        });
        let index = &s["index"];
        assert_eq!(index["number_of_shards"], 3);
        assert_eq!(index["number_of_replicas"], 0);
        assert_eq!(index["refresh_interval"], "30s");
        let m = wildcard_as_keyword(mappings_template());
        assert_eq!(field(&m, "url.original")["type"], "keyword");
        assert!(!m.to_string().contains("wildcard"));
    }
}
