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

use super::target::{Product, TargetError, TargetProfile};
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
    /// `index.lifecycle.name`: the ILM policy new daily indices get (`setup --lifecycle ilm`).
    /// `None` keeps the one an installed template names, so the ingest function's cold-start
    /// setup does not detach a policy `setup` attached.
    pub ilm_policy: Option<String>,
}

/// What was installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// What the target is (from `GET /`).
    pub profile: TargetProfile,
    pub component_templates: Vec<String>,
    pub index_templates: Vec<String>,
    /// The server has no `wildcard` field type (older OpenSearch): `keyword` was used instead.
    pub wildcard_as_keyword: bool,
    /// Setup was refused (403) but every template was already there: nothing was changed.
    pub refused_existing: bool,
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
    if let Some(policy) = &options.ilm_policy {
        index["lifecycle"] = json!({ "name": policy });
    }
    settings
}

/// The `index.lifecycle.name` an installed index template carries, if any.
async fn installed_ilm_policy(client: &SearchClient, name: &str) -> Option<String> {
    let answer = client
        .send(
            Method::Get,
            &format!("/_index_template/{name}"),
            &[],
            &[],
            None,
            Some(TIMEOUT),
        )
        .await
        .ok()
        .filter(|a| a.status.is_success())?;
    let v: Value = serde_json::from_slice(&answer.body).ok()?;
    let settings = &v["index_templates"][0]["index_template"]["template"]["settings"];
    settings["index"]["lifecycle"]["name"]
        .as_str()
        .or(settings["index.lifecycle.name"].as_str())
        .map(str::to_owned)
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
    // Routed prefixes (the configuration's `[[routing]]`) get their format's template too.
    for format in LogFormat::ALL {
        for prefix in prefixes.every(format) {
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
    }
    out
}

/// Why `setup` could not leave the templates in place.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(
        "{endpoint}: the index templates are missing ({missing}) and this identity may not install \
         them (HTTP 403: {reason}). Grant the cluster privilege to manage index templates once \
         (OpenSearch security: cluster permissions \"indices:admin/index_template/put\" and \
         \"cluster:admin/component_template/put\", or the action group \
         \"cluster_manage_index_templates\"; Elasticsearch: \"manage_index_templates\"; \
         OpenSearch Serverless: \"aoss:CreateCollectionItems\", \"aoss:UpdateCollectionItems\" \
         and \"aoss:DescribeCollectionItems\" on the collection), or run `albingest setup` with \
         an identity that has it"
    )]
    Forbidden {
        endpoint: String,
        missing: String,
        reason: String,
    },
    #[error(
        "{endpoint}: a new index {index} would get the index template {winner:?} (priority \
         {winner_priority}), not ours ({ours:?}, priority {our_priority}): its documents would be \
         typed by another template. Delete {winner:?}, give it a priority below {our_priority}, or \
         narrow its index_patterns"
    )]
    Overridden {
        endpoint: String,
        index: String,
        winner: String,
        winner_priority: u64,
        ours: String,
        our_priority: u64,
    },
}

/// Installs (or replaces) the mappings component template and one index template per prefix,
/// in the shape the target's profile supports, then checks that a new daily index would get
/// them.
pub async fn install(
    client: &SearchClient,
    prefixes: &IndexPrefixes,
    options: &TemplateOptions,
) -> Result<Installed, SetupError> {
    let profile = client.target().await?.clone();
    let settings = profile.index_settings().then(|| index_settings(options));
    let mut installed = Installed {
        profile: profile.clone(),
        component_templates: Vec::new(),
        index_templates: Vec::new(),
        wildcard_as_keyword: false,
        refused_existing: false,
    };
    let mut templates = index_templates(prefixes, settings.as_ref());
    if options.ilm_policy.is_none() && profile.product == Product::Elasticsearch {
        for (name, template) in &mut templates {
            if let Some(policy) = installed_ilm_policy(client, name).await {
                template["template"]["settings"]["index"]["lifecycle"] = json!({ "name": policy });
            }
        }
    }
    let path = format!("/_component_template/{MAPPINGS_NAME}");
    let mut mappings = mappings_template();
    if profile.wildcard() == Some(false) {
        mappings = wildcard_as_keyword(mappings);
        installed.wildcard_as_keyword = true;
    }
    match put(client, &path, &mappings).await {
        Ok(()) => {}
        Err(SearchError::Status {
            status: 400, body, ..
        }) if body.contains("wildcard") && !installed.wildcard_as_keyword => {
            // A target whose version we could not read, without the `wildcard` type.
            put(client, &path, &wildcard_as_keyword(mappings)).await?;
            installed.wildcard_as_keyword = true;
        }
        Err(SearchError::Status {
            status: 403, body, ..
        }) => {
            refused(client, &templates, &body).await?;
            installed.refused_existing = true;
        }
        Err(e) => return Err(e.into()),
    }
    if !installed.refused_existing {
        installed.component_templates.push(MAPPINGS_NAME.into());
        for (name, template) in &templates {
            match put(client, &format!("/_index_template/{name}"), template).await {
                Ok(()) => installed.index_templates.push(name.clone()),
                Err(SearchError::Status {
                    status: 403, body, ..
                }) => {
                    refused(client, &templates, &body).await?;
                    installed.refused_existing = true;
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    check_effective(client, &templates).await?;
    Ok(installed)
}

/// Setup was refused (403): fine when every template is already there (installed by an
/// administrator), logged once; otherwise an error naming the privilege to grant.
async fn refused(
    client: &SearchClient,
    templates: &[(String, Value)],
    body: &str,
) -> Result<(), SetupError> {
    let mut wanted = vec![format!("/_component_template/{MAPPINGS_NAME}")];
    wanted.extend(
        templates
            .iter()
            .map(|(name, _)| format!("/_index_template/{name}")),
    );
    let mut missing = Vec::new();
    for path in &wanted {
        let answer = client
            .send(Method::Get, path, &[], &[], None, Some(TIMEOUT))
            .await?;
        if !answer.status.is_success() {
            missing.push(path.rsplit('/').next().unwrap_or(path).to_string());
        }
    }
    if missing.is_empty() {
        tracing::warn!(
            endpoint = %client.endpoint(),
            "setup refused (HTTP 403: no privilege to manage index templates); the templates are \
             already installed, so ingestion goes on with them"
        );
        return Ok(());
    }
    Err(SetupError::Forbidden {
        endpoint: client.endpoint().to_string(),
        missing: missing.join(", "),
        reason: error_reason(body),
    })
}

/// `error.reason` of an error answer, else its text.
fn error_reason(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["reason"].as_str().map(String::from))
        .unwrap_or_else(|| body.to_string())
}

/// Asks the server which template a new daily index of each prefix would get
/// (`POST /_index_template/_simulate_index/{name}`, Elasticsearch 7.9+ and OpenSearch 1.0+:
/// elastic.co "Simulate index API", docs.opensearch.org "Simulate Index Templates API"). Its
/// answer lists under `overlapping` the matching templates that lost: ours there means another
/// template wins. A server that cannot answer (403, 404: no such API) is not an error.
async fn check_effective(
    client: &SearchClient,
    templates: &[(String, Value)],
) -> Result<(), SetupError> {
    let today = crate::timestamp::now()[..10].replace('-', ".");
    let mut all_templates: Option<Vec<(String, Vec<String>, u64)>> = None;
    for (ours, template) in templates {
        let pattern = template["index_patterns"][0].as_str().unwrap_or_default();
        let prefix = pattern.trim_end_matches('*').trim_end_matches('-');
        for index in [
            format!("{prefix}-{today}"),
            format!("{prefix}-failed-{today}"),
        ] {
            let path = format!("/_index_template/_simulate_index/{index}");
            let answer = client
                .send(Method::Post, &path, &[], &[], None, Some(TIMEOUT))
                .await?;
            if !answer.status.is_success() {
                tracing::info!(%index, status = answer.status.as_u16(), "could not simulate the template of a new index; not checked");
                return Ok(());
            }
            let simulated: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
            let lost = simulated["overlapping"]
                .as_array()
                .is_some_and(|o| o.iter().any(|t| t["name"] == ours.as_str()));
            if !lost {
                continue;
            }
            if all_templates.is_none() {
                all_templates = Some(list_templates(client).await?);
            }
            let our_priority = template["priority"].as_u64().unwrap_or(0);
            let (winner, winner_priority) = all_templates
                .iter()
                .flatten()
                .filter(|(name, patterns, _)| {
                    name != ours && patterns.iter().any(|p| glob_match(p, &index))
                })
                .max_by_key(|(_, _, priority)| *priority)
                .map(|(name, _, priority)| (name.clone(), *priority))
                .unwrap_or_else(|| ("(unknown)".into(), 0));
            return Err(SetupError::Overridden {
                endpoint: client.endpoint().to_string(),
                index,
                winner,
                winner_priority,
                ours: ours.clone(),
                our_priority,
            });
        }
    }
    Ok(())
}

/// Every composable index template: name, patterns, priority.
async fn list_templates(
    client: &SearchClient,
) -> Result<Vec<(String, Vec<String>, u64)>, SearchError> {
    let answer = client
        .json(Method::Get, "/_index_template", None, TIMEOUT)
        .await?;
    let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    Ok(value["index_templates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let patterns = t["index_template"]["index_patterns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(String::from))
                .collect();
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                patterns,
                t["index_template"]["priority"].as_u64().unwrap_or(0),
            )
        })
        .collect())
}

/// Index pattern matching as templates do it: `*` is any run of characters.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
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
            ("source.geo.location", "geo_point"),
            ("source.geo.country_iso_code", "keyword"),
            ("source.geo.region_iso_code", "keyword"),
            ("source.geo.city_name", "keyword"),
            ("source.as.number", "long"),
            ("source.as.organization.name", "keyword"),
            ("destination.geo.location", "geo_point"),
            ("destination.as.number", "long"),
            ("user_agent.name", "keyword"),
            ("user_agent.version", "keyword"),
            ("user_agent.os.full", "keyword"),
            ("user_agent.device.name", "keyword"),
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
    fn index_patterns_match_as_templates_do() {
        assert!(glob_match("alb-logs-*", "alb-logs-2026.12.01"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("alb-*-2026*", "alb-logs-2026.12.01"));
        assert!(!glob_match("alb-logs-*", "alb-logsx"));
        assert!(!glob_match("nlb-*", "alb-logs-2026.12.01"));
        assert!(glob_match("exact", "exact") && !glob_match("exact", "exactly"));
    }

    #[test]
    fn settings_can_be_overridden_and_wildcard_replaced() {
        let s = index_settings(&TemplateOptions {
            shards: Some(3),
            replicas: Some(0),
            refresh_interval: Some("30s".into()),
            ilm_policy: Some("albingest-retention".into()),
        });
        let index = &s["index"];
        assert_eq!(index["lifecycle"]["name"], "albingest-retention");
        assert_eq!(index["number_of_shards"], 3);
        assert_eq!(index["number_of_replicas"], 0);
        assert_eq!(index["refresh_interval"], "30s");
        let m = wildcard_as_keyword(mappings_template());
        assert_eq!(field(&m, "url.original")["type"], "keyword");
        assert!(!m.to_string().contains("wildcard"));
    }
}
