//! What the search server is: read once at connect from `GET /` (and the SigV4 service), kept
//! as a [`TargetProfile`] that says what `setup` may send.
//!
//! | target | how it is told | what follows |
//! |---|---|---|
//! | OpenSearch 1.x / 2.x / 3.x | `version.distribution: "opensearch"` | composable templates; `wildcard` from 2.15 (docs.opensearch.org "Wildcard field type", "Introduced 2.15") |
//! | Amazon OpenSearch Serverless | SigV4 service `aoss`; it does not serve `GET /` (404, empty body: opensearch-project/OpenSearch-Dashboards#5707, fluent/fluent-plugin-opensearch#126) | composable templates, no index settings (AWS "Supported operations and plugins in Amazon OpenSearch Serverless") |
//! | Elasticsearch 7.8+ / 8.x / 9.x | no `distribution` | composable templates (7.8); `wildcard` from 7.9 (elastic/integrations#1163), not in the `oss` build flavour (Amazon OpenSearch Service's Elasticsearch 7.10) |
//! | Elastic Cloud Serverless | `version.build_flavor: "serverless"` (elastic.co "Get cluster info": "Clients should detect a Serverless environment by checking for build_flavor: serverless"; its `version.number` means nothing) | composable templates, `wildcard`, no index settings |
//! | Elasticsearch before 7.8 (6.8 on Amazon OpenSearch Service) | `version.number` | refused: no composable index templates (`PUT _index_template` came in 7.8) |

use std::fmt;
use std::time::Duration;

use opensearch::http::{Method, StatusCode};
use serde::Deserialize;

use super::{SearchClient, SearchError};

const TIMEOUT: Duration = Duration::from_secs(30);

/// The oldest Elasticsearch with composable index templates.
pub const MIN_ELASTICSEARCH: Version = Version(7, 8, 0);
/// The first OpenSearch with the `wildcard` field type.
pub const OPENSEARCH_WILDCARD: Version = Version(2, 15, 0);
/// The first Elasticsearch with the `wildcard` field type.
pub const ELASTICSEARCH_WILDCARD: Version = Version(7, 9, 0);

/// `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// `8.15.3`, `7.10.2`, `3.0.0-SNAPSHOT` → the three numbers; anything else: `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text
            .split(['-', '+'])
            .next()?
            .split('.')
            .map(|p| p.parse::<u32>());
        let major = parts.next()?.ok()?;
        let minor = parts.next().unwrap_or(Ok(0)).ok()?;
        let patch = parts.next().unwrap_or(Ok(0)).ok()?;
        Some(Self(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The product family behind the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    OpenSearch,
    /// Amazon OpenSearch Serverless (SigV4 service `aoss`).
    OpenSearchServerless,
    Elasticsearch,
    /// Elastic Cloud Serverless (`build_flavor: serverless`).
    ElasticsearchServerless,
    /// `GET /` was refused (403: a role without `cluster:monitor/main` / `monitor`) or said
    /// nothing we know: setup tries the full templates and falls back where the server says no.
    Unknown,
}

/// What albingest learned about the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetProfile {
    pub product: Product,
    /// `None` where it means nothing (both serverless flavours) or was not read.
    pub version: Option<Version>,
    /// `version.build_flavor` as the server wrote it (`default`, `oss`, `serverless`).
    pub build_flavor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(
        "{endpoint} is Elasticsearch {found}; albingest needs Elasticsearch {MIN_ELASTICSEARCH} or \
         later (composable index templates), or OpenSearch. On Amazon OpenSearch Service, upgrade \
         the domain to OpenSearch"
    )]
    TooOld { endpoint: String, found: String },
}

#[derive(Deserialize)]
struct Root {
    version: RootVersion,
}

#[derive(Deserialize)]
struct RootVersion {
    number: Option<String>,
    distribution: Option<String>,
    build_flavor: Option<String>,
}

impl TargetProfile {
    /// Reads `GET /` (not for OpenSearch Serverless, which does not serve it) and refuses a
    /// target albingest cannot set up.
    pub async fn detect(client: &SearchClient) -> Result<Self, TargetError> {
        if client.sigv4_service() == Some("aoss") {
            return Ok(Self::serverless_opensearch());
        }
        let answer = client
            .send(Method::Get, "/", &[], &[], None, Some(TIMEOUT))
            .await?;
        match answer.status {
            s if s.is_success() => {}
            StatusCode::FORBIDDEN => {
                tracing::warn!(endpoint = %client.endpoint(), "GET / refused (403): target unknown, templates sent in full");
                return Ok(Self::unknown());
            }
            // The same host answering 404 with an empty body is OpenSearch Serverless reached
            // with another signature service name.
            StatusCode::NOT_FOUND if answer.body.is_empty() => {
                return Ok(Self::serverless_opensearch())
            }
            _ => return Err(client.status_error(Method::Get, "/", &answer).into()),
        }
        let root: Root =
            serde_json::from_slice(&answer.body).map_err(|e| SearchError::Request {
                method: "GET",
                endpoint: client.endpoint().to_string(),
                path: "/".into(),
                reason: format!("not a search server's answer ({e}): {}", answer.text()),
            })?;
        let profile = Self::from_root(root.version);
        if profile.product == Product::Elasticsearch
            && profile.version.is_some_and(|v| v < MIN_ELASTICSEARCH)
        {
            return Err(TargetError::TooOld {
                endpoint: client.endpoint().to_string(),
                found: profile.version.map(|v| v.to_string()).unwrap_or_default(),
            });
        }
        Ok(profile)
    }

    fn from_root(version: RootVersion) -> Self {
        let number = version.number.as_deref().and_then(Version::parse);
        let flavor = version.build_flavor;
        let product = match (version.distribution.as_deref(), flavor.as_deref()) {
            (Some("opensearch"), _) => Product::OpenSearch,
            (_, Some("serverless")) => Product::ElasticsearchServerless,
            (None, _) if number.is_some() => Product::Elasticsearch,
            _ => Product::Unknown,
        };
        Self {
            product,
            version: number.filter(|_| product != Product::ElasticsearchServerless),
            build_flavor: flavor,
        }
    }

    fn serverless_opensearch() -> Self {
        Self {
            product: Product::OpenSearchServerless,
            version: None,
            build_flavor: None,
        }
    }

    fn unknown() -> Self {
        Self {
            product: Product::Unknown,
            version: None,
            build_flavor: None,
        }
    }

    /// Shards, replicas and refresh may be set (not on either serverless flavour, which
    /// manage them and refuse the settings).
    pub fn index_settings(&self) -> bool {
        !matches!(
            self.product,
            Product::OpenSearchServerless | Product::ElasticsearchServerless
        )
    }

    /// The `wildcard` field type exists; `None`: not known before trying.
    pub fn wildcard(&self) -> Option<bool> {
        match (self.product, self.version) {
            (Product::OpenSearch, Some(v)) => Some(v >= OPENSEARCH_WILDCARD),
            (Product::Elasticsearch, Some(v)) => {
                Some(v >= ELASTICSEARCH_WILDCARD && self.build_flavor.as_deref() != Some("oss"))
            }
            (Product::ElasticsearchServerless, _) => Some(true),
            _ => None,
        }
    }
}

impl fmt::Display for TargetProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.product {
            Product::OpenSearch => "OpenSearch",
            Product::OpenSearchServerless => "OpenSearch Serverless",
            Product::Elasticsearch => "Elasticsearch",
            Product::ElasticsearchServerless => "Elasticsearch Serverless",
            Product::Unknown => "unknown search server (GET / not readable)",
        };
        f.write_str(name)?;
        if let Some(version) = self.version {
            write!(f, " {version}")?;
        }
        if let Some(flavor) = self.build_flavor.as_deref().filter(|f| *f != "serverless") {
            write!(f, " ({flavor} build)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(root: serde_json::Value) -> TargetProfile {
        TargetProfile::from_root(serde_json::from_value::<Root>(root).unwrap().version)
    }

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("8.15.3"), Some(Version(8, 15, 3)));
        assert_eq!(Version::parse("3.0.0-SNAPSHOT"), Some(Version(3, 0, 0)));
        assert_eq!(Version::parse("7"), Some(Version(7, 0, 0)));
        assert_eq!(Version::parse("x.1"), None);
        assert!(Version(7, 10, 2) > MIN_ELASTICSEARCH);
        assert!(Version(6, 8, 23) < MIN_ELASTICSEARCH);
        assert!(Version(2, 11, 0) < OPENSEARCH_WILDCARD);
    }

    #[test]
    fn root_answers_make_profiles() {
        let os = profile(
            serde_json::json!({"version": {"distribution": "opensearch", "number": "2.11.0"}}),
        );
        assert_eq!(os.product, Product::OpenSearch);
        assert_eq!(os.wildcard(), Some(false));
        assert!(os.index_settings());
        let os3 = profile(
            serde_json::json!({"version": {"distribution": "opensearch", "number": "3.1.0"}}),
        );
        assert_eq!(os3.wildcard(), Some(true));
        let es = profile(
            serde_json::json!({"version": {"number": "8.15.3", "build_flavor": "default"}}),
        );
        assert_eq!(es.product, Product::Elasticsearch);
        assert_eq!(es.wildcard(), Some(true));
        assert_eq!(es.to_string(), "Elasticsearch 8.15.3 (default build)");
        let aws_es =
            profile(serde_json::json!({"version": {"number": "7.10.2", "build_flavor": "oss"}}));
        assert_eq!(
            aws_es.wildcard(),
            Some(false),
            "no wildcard in the oss build"
        );
        let serverless = profile(
            serde_json::json!({"version": {"number": "8.11.0", "build_flavor": "serverless"}}),
        );
        assert_eq!(serverless.product, Product::ElasticsearchServerless);
        assert_eq!(serverless.version, None, "its number means nothing");
        assert!(!serverless.index_settings());
        assert_eq!(serverless.to_string(), "Elasticsearch Serverless");
    }
}
