//! Importing the "ALB overview", "ALB target health", "NLB overview" and "ALB connection log
//! overview" saved objects (`deploy/dashboards/`, embedded at build time) into
//! OpenSearch Dashboards or Kibana with the saved objects import API:
//! `POST {url}/api/saved_objects/_import?overwrite=true`, a multipart form whose field `file` is
//! the `.ndjson` file, and the product's XSRF header (`osd-xsrf: true` / `kbn-xsrf: true`).
//!
//! The product is detected from `GET {url}/api/status` when not given: both answer with their own
//! name header on every response (`osd-name` / `kbn-name`), and failing that the version number
//! tells (OpenSearch Dashboards 1–3, Kibana 7 and later).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;

use crate::bulk::IndexPrefixes;
use crate::format::LogFormat;
use crate::search::{redact, take_url_credentials};

const OPENSEARCH_DASHBOARDS: &str =
    include_str!("../deploy/dashboards/opensearch-dashboards/alb-overview.ndjson");
const KIBANA: &str = include_str!("../deploy/dashboards/kibana/alb-overview.ndjson");

/// The name of the uploaded file.
pub const FILE_NAME: &str = "alb-overview.ndjson";
/// The formats the shipped index patterns are for, under their default prefixes (`alb-logs-*`,
/// `alb-logs-failed-*`, `alb-health-check-logs-*`, `nlb-logs-*`, `alb-connection-logs-*`).
pub const SHIPPED_FORMATS: [LogFormat; 4] = [
    LogFormat::Alb,
    LogFormat::AlbHealthCheck,
    LogFormat::Nlb,
    LogFormat::AlbConnection,
];

const TIMEOUT: Duration = Duration::from_secs(60);
/// How much of an answer an error message shows.
const EXCERPT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    OpenSearchDashboards,
    Kibana,
}

impl Flavor {
    /// The header without which the server refuses the import.
    pub fn xsrf_header(self) -> &'static str {
        match self {
            Flavor::OpenSearchDashboards => "osd-xsrf",
            Flavor::Kibana => "kbn-xsrf",
        }
    }

    /// The shipped saved objects for this product.
    pub fn saved_objects(self) -> &'static str {
        match self {
            Flavor::OpenSearchDashboards => OPENSEARCH_DASHBOARDS,
            Flavor::Kibana => KIBANA,
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavor::OpenSearchDashboards => "OpenSearch Dashboards",
            Flavor::Kibana => "Kibana",
        })
    }
}

/// A dashboards flavour that is neither product.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dashboards flavour {0:?}: use opensearch or kibana")]
pub struct UnknownFlavor(pub String);

impl FromStr for Flavor {
    type Err = UnknownFlavor;

    fn from_str(s: &str) -> Result<Self, UnknownFlavor> {
        match s {
            "opensearch" | "opensearch-dashboards" => Ok(Flavor::OpenSearchDashboards),
            "kibana" => Ok(Flavor::Kibana),
            _ => Err(UnknownFlavor(s.to_string())),
        }
    }
}

/// Where the dashboards server is and how to import into it.
#[derive(Clone)]
pub struct DashboardsConfig {
    /// `http(s)://host:port[/base-path]` (e.g. `https://domain/_dashboards`, or a Kibana space
    /// `https://kibana/s/SPACE`). User and password in the URL are taken as basic auth.
    pub url: String,
    /// `None`: detected from `GET /api/status`.
    pub flavor: Option<Flavor>,
    /// HTTP basic credentials (the password is never printed).
    pub basic_auth: Option<(String, String)>,
    /// The index prefixes: an index pattern of a [`SHIPPED_FORMATS`] format is rewritten to
    /// `{prefix}-*` (`{prefix}-failed-*`) when its prefix is not the default one.
    pub index_prefixes: IndexPrefixes,
}

impl fmt::Debug for DashboardsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DashboardsConfig")
            .field("url", &redact(&self.url))
            .field("flavor", &self.flavor)
            .field("user", &self.basic_auth.as_ref().map(|(user, _)| user))
            .field("index_prefixes", &self.index_prefixes)
            .finish()
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The dashboards URL, without credentials.
    pub url: String,
    pub flavor: Flavor,
    /// Whether the flavour came from `GET /api/status`.
    pub detected: bool,
    /// Saved objects sent.
    pub objects: usize,
    /// `successCount` of the answer.
    pub success_count: u64,
}

impl fmt::Display for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}{}: imported {} of {} saved objects (overwrite)",
            self.flavor,
            self.url,
            if self.detected { " (detected)" } else { "" },
            self.success_count,
            self.objects
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DashboardsError {
    #[error("dashboards URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("dashboards client: {0}")]
    Client(String),
    #[error("{method} {url}: {reason}")]
    Request {
        method: &'static str,
        url: String,
        reason: String,
    },
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        body: String,
    },
    #[error(
        "{url}: cannot tell whether this is OpenSearch Dashboards or Kibana ({reason}); give \
         --dashboards-flavor opensearch or kibana"
    )]
    Flavor { url: String, reason: String },
    #[error("POST {url}: the import failed: {errors}")]
    Refused { url: String, errors: String },
    #[error("POST {url}: unexpected answer to the import ({reason}): {body}")]
    Answer {
        url: String,
        reason: String,
        body: String,
    },
    #[error("saved objects file: {0}")]
    SavedObjects(String),
}

/// The first `EXCERPT` characters of an answer.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// The saved objects to send: the shipped file, with the index pattern titles moved to the
/// prefixes given where they are not the default ones. Returns the text and the number of
/// objects.
pub fn saved_objects(
    flavor: Flavor,
    prefixes: &IndexPrefixes,
) -> Result<(String, usize), DashboardsError> {
    let shipped = flavor.saved_objects();
    let lines: Vec<&str> = shipped.lines().filter(|l| !l.trim().is_empty()).collect();
    let moved: Vec<(&str, &str)> = SHIPPED_FORMATS
        .iter()
        .map(|f| (f.default_index_prefix(), prefixes.get(*f)))
        .filter(|(shipped, given)| shipped != given)
        .collect();
    if moved.is_empty() {
        return Ok((shipped.to_string(), lines.len()));
    }
    let mut out = String::new();
    for line in &lines {
        let mut object: Value = serde_json::from_str(line)
            .map_err(|e| DashboardsError::SavedObjects(format!("{e}: {line}")))?;
        if object["type"] == "index-pattern" {
            let title = &mut object["attributes"]["title"];
            let renamed = moved.iter().find_map(|(shipped, given)| {
                let rest = title.as_str()?.strip_prefix(shipped)?;
                rest.starts_with('-').then(|| format!("{given}{rest}"))
            });
            if let Some(renamed) = renamed {
                *title = Value::String(renamed);
            }
        }
        out.push_str(&object.to_string());
        out.push('\n');
    }
    Ok((out, lines.len()))
}

/// The import endpoint of a dashboards base URL.
fn base_url(url: &str) -> Result<(reqwest::Url, Option<(String, String)>), DashboardsError> {
    let invalid = |reason: String| DashboardsError::Url {
        url: redact(url),
        reason,
    };
    let mut parsed = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid(
            "use http://HOST:PORT or https://HOST[/PATH]".into(),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(
            "give the base URL, without ?query or #fragment".into(),
        ));
    }
    let credentials = take_url_credentials(&mut parsed);
    Ok((parsed, credentials))
}

fn join(base: &reqwest::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// Detects the product, then imports the saved objects.
pub async fn import(config: &DashboardsConfig) -> Result<Imported, DashboardsError> {
    let (base, url_credentials) = base_url(&config.url)?;
    let shown = base.as_str().trim_end_matches('/').to_string();
    let credentials = config.basic_auth.clone().or(url_credentials);
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .no_proxy()
        .build()
        .map_err(|e| DashboardsError::Client(crate::search::error_chain(&e)))?;
    let authorize = |request: reqwest::RequestBuilder| match &credentials {
        Some((user, password)) => request.basic_auth(user, Some(password)),
        None => request,
    };

    let (flavor, detected) =
        match config.flavor {
            Some(flavor) => (flavor, false),
            None => {
                let url = join(&base, "/api/status");
                let response = authorize(client.get(&url)).send().await.map_err(|e| {
                    DashboardsError::Request {
                        method: "GET",
                        url: url.clone(),
                        reason: crate::search::error_chain(&e),
                    }
                })?;
                (detect(&shown, response).await?, true)
            }
        };

    let (objects, count) = saved_objects(flavor, &config.index_prefixes)?;
    let part = reqwest::multipart::Part::bytes(objects.into_bytes())
        .file_name(FILE_NAME)
        .mime_str("application/ndjson")
        .map_err(|e| DashboardsError::Client(e.to_string()))?;
    let form = reqwest::multipart::Form::new().part("file", part);
    let url = join(&base, "/api/saved_objects/_import?overwrite=true");
    let response = authorize(client.post(&url))
        .header(flavor.xsrf_header(), "true")
        .multipart(form)
        .send()
        .await
        .map_err(|e| DashboardsError::Request {
            method: "POST",
            url: url.clone(),
            reason: crate::search::error_chain(&e),
        })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| DashboardsError::Request {
            method: "POST",
            url: url.clone(),
            reason: format!("reading the answer: {}", crate::search::error_chain(&e)),
        })?;
    if !status.is_success() {
        return Err(DashboardsError::Status {
            method: "POST",
            url,
            status: status.as_u16(),
            body: excerpt(&body),
        });
    }
    let answer: Value = serde_json::from_slice(&body).map_err(|e| DashboardsError::Answer {
        url: url.clone(),
        reason: format!("not JSON: {e}"),
        body: excerpt(&body),
    })?;
    match answer["success"].as_bool() {
        Some(true) => {}
        Some(false) => {
            return Err(DashboardsError::Refused {
                url,
                errors: describe_errors(&answer),
            })
        }
        None => {
            return Err(DashboardsError::Answer {
                url,
                reason: "no \"success\"".into(),
                body: excerpt(&body),
            })
        }
    }
    let success_count = answer["successCount"]
        .as_u64()
        .ok_or_else(|| DashboardsError::Answer {
            url: url.clone(),
            reason: "no \"successCount\"".into(),
            body: excerpt(&body),
        })?;
    Ok(Imported {
        url: shown,
        flavor,
        detected,
        objects: count,
        success_count,
    })
}

/// The product behind a `GET /api/status` answer.
async fn detect(url: &str, response: reqwest::Response) -> Result<Flavor, DashboardsError> {
    let headers = response.headers();
    if headers.contains_key("osd-name") {
        return Ok(Flavor::OpenSearchDashboards);
    }
    if headers.contains_key("kbn-name") {
        return Ok(Flavor::Kibana);
    }
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    let fail = |reason: String| DashboardsError::Flavor {
        url: url.to_string(),
        reason,
    };
    if !status.is_success() {
        return Err(fail(format!(
            "GET /api/status: HTTP {}: {}",
            status.as_u16(),
            excerpt(&body)
        )));
    }
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let major = answer["version"]["number"]
        .as_str()
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(1..=3) => Ok(Flavor::OpenSearchDashboards),
        Some(7..) => Ok(Flavor::Kibana),
        _ => Err(fail(format!(
            "GET /api/status has neither an osd-name nor a kbn-name header, and no known \
             version.number: {}",
            excerpt(&body)
        ))),
    }
}

/// `type/id (title): error type (message)`, one per refused object.
fn describe_errors(answer: &Value) -> String {
    let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) else {
        return format!("no errors listed: {answer}");
    };
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let mut parts: Vec<String> = errors
        .iter()
        .take(10)
        .map(|e| {
            let mut part = format!("{}/{}", text(&e["type"]), text(&e["id"]));
            if let Some(title) = e["title"].as_str().or(e["meta"]["title"].as_str()) {
                part.push_str(&format!(" ({title})"));
            }
            let error = &e["error"];
            part.push_str(&format!(": {}", text(&error["type"])));
            if let Some(message) = error["message"].as_str() {
                part.push_str(&format!(" ({message})"));
            }
            if let Some(references) = error["references"].as_array() {
                let missing: Vec<String> = references
                    .iter()
                    .map(|r| format!("{}/{}", text(&r["type"]), text(&r["id"])))
                    .collect();
                part.push_str(&format!(" [missing {}]", missing.join(", ")));
            }
            part
        })
        .collect();
    if errors.len() > 10 {
        parts.push(format!("and {} more", errors.len() - 10));
    }
    let succeeded = answer["successCount"].as_u64().unwrap_or(0);
    format!(
        "{} saved object(s) refused, {succeeded} imported: {}",
        errors.len(),
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(text: &str) -> Vec<(String, String)> {
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["type"].as_str().unwrap().into(),
                    v["id"].as_str().unwrap().into(),
                )
            })
            .collect()
    }

    #[test]
    fn both_files_are_embedded_with_the_same_objects() {
        let defaults = IndexPrefixes::default();
        let (osd, n) = saved_objects(Flavor::OpenSearchDashboards, &defaults).unwrap();
        assert_eq!(osd, OPENSEARCH_DASHBOARDS, "sent as shipped");
        let (kibana, m) = saved_objects(Flavor::Kibana, &defaults).unwrap();
        assert_eq!(kibana, KIBANA);
        assert_eq!(n, m);
        assert_eq!(ids(&osd), ids(&kibana));
        assert!(ids(&osd).contains(&("dashboard".into(), "albingest-alb-overview".into())));
        assert!(ids(&osd).contains(&("dashboard".into(), "albingest-alb-target-health".into())));
        assert_eq!(Flavor::OpenSearchDashboards.xsrf_header(), "osd-xsrf");
        assert_eq!(Flavor::Kibana.xsrf_header(), "kbn-xsrf");
    }

    #[test]
    fn another_prefix_moves_the_index_patterns_only() {
        let mut prefixes = IndexPrefixes::default();
        prefixes.apply("web").unwrap();
        prefixes.apply("alb-health-check=web-health").unwrap();
        prefixes.apply("nlb=web-nlb").unwrap();
        let (text, n) = saved_objects(Flavor::Kibana, &prefixes).unwrap();
        assert_eq!(n, KIBANA.lines().count());
        assert_eq!(
            ids(&text),
            ids(KIBANA),
            "same objects, same ids, same order"
        );
        let titles: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["type"] == "index-pattern")
            .map(|v| v["attributes"]["title"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            titles,
            [
                "web-*",
                "web-failed-*",
                "web-health-*",
                "web-nlb-*",
                "alb-connection-logs-*"
            ]
        );
        // Everything else is unchanged.
        for (shipped, sent) in KIBANA.lines().zip(text.lines()) {
            let (a, b): (Value, Value) = (
                serde_json::from_str(shipped).unwrap(),
                serde_json::from_str(sent).unwrap(),
            );
            if a["type"] != "index-pattern" {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn flavours_and_urls() {
        assert_eq!("opensearch".parse(), Ok(Flavor::OpenSearchDashboards));
        assert_eq!("kibana".parse(), Ok(Flavor::Kibana));
        assert!("grafana".parse::<Flavor>().is_err());
        let (url, credentials) =
            base_url("https://admin:s%40cret@osd.example.com/_dashboards/").unwrap();
        assert_eq!(
            join(&url, "/api/status"),
            "https://osd.example.com/_dashboards/api/status"
        );
        assert_eq!(credentials, Some(("admin".into(), "s@cret".into())));
        for bad in ["osd:5601", "ftp://x", "http://x/?a=1"] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
        let err = base_url("ftp://admin:s3cret@x").unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
        let config = DashboardsConfig {
            url: "http://admin:s3cret@x".into(),
            flavor: None,
            basic_auth: Some(("admin".into(), "s3cret".into())),
            index_prefixes: IndexPrefixes::default(),
        };
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn refused_objects_are_named() {
        let answer = json!({"success": false, "successCount": 9, "errors": [
            {"id": "albingest-alb-overview", "type": "dashboard", "title": "ALB overview",
             "error": {"type": "missing_references",
                       "references": [{"type": "visualization", "id": "x"}]}},
            {"id": "albingest-alb-logs", "type": "index-pattern",
             "error": {"type": "unknown", "message": "boom"}}]});
        let text = describe_errors(&answer);
        assert_eq!(
            text,
            "2 saved object(s) refused, 9 imported: dashboard/albingest-alb-overview (ALB \
             overview): missing_references [missing visualization/x]; \
             index-pattern/albingest-alb-logs: unknown (boom)"
        );
    }
}
