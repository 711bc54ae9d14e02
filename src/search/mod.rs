//! The search server (OpenSearch or Elasticsearch): the client and its authentication here;
//! [`bulk_load`] sends documents, [`retry`] says when to try again, [`dead_letter`] keeps what the
//! server refused, [`target`] tells what the server is, [`templates`] installs the index
//! templates, [`sigv4`] caches the AWS credentials.

pub mod bulk_load;
pub mod dead_letter;
pub mod fate;
pub mod lifecycle;
pub mod retry;
pub mod sigv4;
pub mod target;
pub mod templates;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opensearch::auth::Credentials;
use opensearch::cert::{Certificate, CertificateValidation};
use opensearch::http::headers::{HeaderMap, HeaderName, HeaderValue};
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::http::{Method, StatusCode, Url};
use opensearch::OpenSearch;

/// How requests prove who sends them.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    /// HTTP basic; the password comes from the environment and is never printed.
    Basic { username: String, password: String },
    /// An Elasticsearch API key, encoded as Elastic shows it (base64 of `id:key`), sent as
    /// `Authorization: ApiKey …` (elastic.co "Elasticsearch API authentication"); never printed.
    ApiKey(String),
    /// AWS Signature V4 with credentials from the default AWS chain: service `es` for Amazon
    /// OpenSearch Service, `aoss` for OpenSearch Serverless.
    SigV4 {
        service: String,
        region: Option<String>,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("none"),
            Auth::Basic { username, .. } => write!(f, "basic (user {username:?})"),
            Auth::ApiKey(_) => f.write_str("api key"),
            Auth::SigV4 { service, region } => {
                write!(f, "sigv4 (service {service}, region {region:?})")
            }
        }
    }
}

/// Where the search server is and how to talk to it.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// `http(s)://host:port[/path]`; user and password in the URL are taken as basic auth.
    pub endpoint: String,
    pub auth: Auth,
    /// Send `_bulk` bodies gzip-compressed (turned off by itself if the server refuses them).
    pub gzip: bool,
    /// PEM file of the CA certificates to trust besides the system's (a self-managed
    /// Elasticsearch 8 signs its HTTPS certificate with its own CA).
    pub ca_bundle: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search endpoint {endpoint:?}: {reason}")]
    Endpoint { endpoint: String, reason: String },
    #[error("search client for {endpoint}: {reason}")]
    Client { endpoint: String, reason: String },
    #[error("{method} {endpoint}{path}: {reason}")]
    Request {
        method: &'static str,
        endpoint: String,
        path: String,
        reason: String,
    },
    /// 401: the credentials were refused (the answer's body is left out: it is about them).
    #[error(
        "{method} {endpoint}{path}: authentication failed (HTTP 401) with {auth}: check the \
         credentials (ALBINGEST_API_KEY, ALBINGEST_USERNAME/ALBINGEST_PASSWORD or the AWS role)"
    )]
    Authentication {
        method: &'static str,
        endpoint: String,
        path: String,
        auth: String,
    },
    #[error("{method} {endpoint}{path}: HTTP {status}: {body}")]
    Status {
        method: &'static str,
        endpoint: String,
        path: String,
        status: u16,
        body: String,
    },
}

/// A connected client: the `opensearch` crate's, plus what albingest learned about the server.
pub struct SearchClient {
    client: OpenSearch,
    /// The endpoint without credentials, for messages.
    endpoint: String,
    gzip: AtomicBool,
    sigv4_service: Option<String>,
    /// How requests authenticate, for messages ("api key", "basic (user …)"): no secret.
    auth_kind: String,
    target: tokio::sync::OnceCell<target::TargetProfile>,
}

impl fmt::Debug for SearchClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// An answer: status and body bytes.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: bytes::Bytes,
}

impl Answer {
    pub fn text(&self) -> String {
        const SHOWN: usize = 2000;
        let text = String::from_utf8_lossy(&self.body);
        match text.char_indices().nth(SHOWN) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.into_owned(),
        }
    }
}

impl SearchClient {
    /// Builds the client. SigV4 loads credentials and region from the default AWS chain here.
    pub async fn connect(config: &SearchConfig) -> Result<Self, SearchError> {
        let invalid = |reason: String| SearchError::Endpoint {
            endpoint: redact(&config.endpoint),
            reason,
        };
        let mut url = Url::parse(&config.endpoint).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid("use http://HOST:PORT or https://HOST".into()));
        }
        let mut auth = config.auth.clone();
        if let Some((username, password)) = take_url_credentials(&mut url) {
            if matches!(auth, Auth::None) {
                auth = Auth::Basic { username, password };
            }
        }
        let endpoint = url.as_str().trim_end_matches('/').to_string();
        let auth_kind = format!("{auth:?}");
        let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(url))
            // Loopback and VPC endpoints must not go through a system proxy by surprise.
            .disable_proxy();
        if let Some(path) = &config.ca_bundle {
            builder = builder.cert_validation(CertificateValidation::Full(read_ca_bundle(
                path, &endpoint,
            )?));
        }
        let mut sigv4_service = None;
        match auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                builder = builder.auth(Credentials::Basic(username, password));
            }
            Auth::ApiKey(encoded) => {
                let mut value = HeaderValue::from_str(&format!("ApiKey {}", encoded.trim()))
                    .map_err(|_| SearchError::Client {
                        endpoint: endpoint.clone(),
                        reason: "ALBINGEST_API_KEY is not a valid header value (give the \
                                     encoded key as Elastic shows it)"
                            .into(),
                    })?;
                value.set_sensitive(true);
                builder = builder.header(opensearch::http::headers::AUTHORIZATION, value);
            }
            Auth::SigV4 { service, region } => {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(region) = region {
                    loader = loader.region(aws_config::Region::new(region));
                }
                let sdk = loader.load().await;
                let credentials =
                    sigv4::cached_credentials(&sdk).ok_or_else(|| SearchError::Client {
                        endpoint: endpoint.clone(),
                        reason: "AWS SigV4 needs credentials and a region (from the default \
                                 AWS chain, or --aws-region)"
                            .into(),
                    })?;
                builder = builder.auth(credentials).service_name(&service);
                sigv4_service = Some(service);
            }
        }
        let transport = builder.build().map_err(|e| SearchError::Client {
            endpoint: endpoint.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            client: OpenSearch::new(transport),
            endpoint,
            gzip: AtomicBool::new(config.gzip),
            sigv4_service,
            auth_kind,
            target: tokio::sync::OnceCell::new(),
        })
    }

    /// What the server is, read from `GET /` on first use and kept.
    pub async fn target(&self) -> Result<&target::TargetProfile, target::TargetError> {
        self.target
            .get_or_try_init(|| target::TargetProfile::detect(self))
            .await
    }

    /// The endpoint, without credentials.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `Some("aoss")` for OpenSearch Serverless, which refuses some index settings.
    pub fn sigv4_service(&self) -> Option<&str> {
        self.sigv4_service.as_deref()
    }

    pub fn gzip(&self) -> bool {
        self.gzip.load(Ordering::Relaxed)
    }

    /// The server refused a gzip body: send plain bodies from now on.
    pub fn disable_gzip(&self) {
        if self.gzip.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                endpoint = %self.endpoint,
                "the search server refused a gzip-compressed request body; sending plain bodies"
            );
        }
    }

    /// Sends one request and reads the whole answer. `Err` only when no answer came (connection
    /// refused or reset, timeout, TLS): the caller decides whether that is worth a retry.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(HeaderName, HeaderValue)],
        body: Option<bytes::Bytes>,
        timeout: Option<Duration>,
    ) -> Result<Answer, SearchError> {
        let failed = |reason: String| SearchError::Request {
            method: method_name(method),
            endpoint: self.endpoint.clone(),
            path: path.to_string(),
            reason,
        };
        let mut header_map = HeaderMap::new();
        for (name, value) in headers {
            header_map.insert(name.clone(), value.clone());
        }
        let query = (!query.is_empty()).then_some(query);
        let response = self
            .client
            .send(method, path, header_map, query, body, timeout)
            .await
            .map_err(|e| failed(error_chain(&e)))?;
        let status = response.status_code();
        let body = response
            .bytes()
            .await
            .map_err(|e| failed(format!("reading the answer: {}", error_chain(&e))))?;
        Ok(Answer { status, body })
    }

    /// Sends a JSON request and requires a 2xx answer.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> Result<Answer, SearchError> {
        let body = body.map(|b| bytes::Bytes::from(b.to_string()));
        let answer = self
            .send(method, path, &[], &[], body, Some(timeout))
            .await?;
        if !answer.status.is_success() {
            return Err(self.status_error(method, path, &answer));
        }
        Ok(answer)
    }

    pub fn status_error(&self, method: Method, path: &str, answer: &Answer) -> SearchError {
        if answer.status == StatusCode::UNAUTHORIZED {
            return SearchError::Authentication {
                method: method_name(method),
                endpoint: self.endpoint.clone(),
                path: path.to_string(),
                auth: self.auth_kind.clone(),
            };
        }
        SearchError::Status {
            method: method_name(method),
            endpoint: self.endpoint.clone(),
            path: path.to_string(),
            status: answer.status.as_u16(),
            body: answer.text(),
        }
    }
}

/// The CA certificates of a PEM file, or an error naming the file.
fn read_ca_bundle(path: &std::path::Path, endpoint: &str) -> Result<Certificate, SearchError> {
    let failed = |reason: String| SearchError::Client {
        endpoint: endpoint.to_string(),
        reason: format!("CA bundle {}: {reason}", path.display()),
    };
    let pem = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
    Certificate::from_pem(&pem).map_err(|e| failed(format!("not PEM certificates: {e}")))
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Put => "PUT",
        Method::Post => "POST",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
    }
}

/// Takes the user and password out of `url`, percent-decoded (`None` when it names no user):
/// credentials travel in the Authorization header, never in the URL, which errors and logs print.
/// A password without a user is taken out too.
pub fn take_url_credentials(url: &mut Url) -> Option<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let credentials = (!url.username().is_empty())
        .then(|| (decode(url.username()), decode(url.password().unwrap_or(""))));
    let _ = url.set_username("");
    let _ = url.set_password(None);
    credentials
}

/// `https://user:secret@host/` → `https://host/`, for messages about an endpoint that did not
/// even parse as far as the client. What does not parse as a URL with a host (`user:pw@host:9200`
/// parses as scheme `user`, path `pw@host:9200`) loses everything up to its last `@`.
pub fn redact(endpoint: &str) -> String {
    match Url::parse(endpoint) {
        Ok(mut url) if url.has_host() => {
            take_url_credentials(&mut url);
            url.as_str().trim_end_matches('/').to_string()
        }
        _ => match endpoint.rsplit_once('@') {
            Some((_, host)) => format!("…@{host}"),
            None => endpoint.to_string(),
        },
    }
}

/// An error and its causes on one line ("error sending request: connection refused").
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(
            redact("https://admin:s3cret@search.example.com:9200/"),
            "https://search.example.com:9200"
        );
        assert!(!redact("not a url admin:s3cret@host").contains("s3cret"));
        assert_eq!(redact("admin:s3cret@127.0.0.1:9200"), "…@127.0.0.1:9200");
        assert_eq!(redact("admin:s3cret@"), "…@");
        let auth = Auth::Basic {
            username: "admin".into(),
            password: "s3cret".into(),
        };
        assert!(!format!("{auth:?}").contains("s3cret"));
        let key =
            Auth::ApiKey("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==".into());
        assert_eq!(format!("{key:?}"), "api key");
    }

    #[tokio::test]
    async fn user_info_in_the_endpoint_becomes_basic_auth_and_leaves_the_url() {
        let client = SearchClient::connect(&SearchConfig {
            endpoint: "http://admin:s3cret@127.0.0.1:1/".into(),
            auth: Auth::None,
            gzip: true,
            ca_bundle: None,
        })
        .await
        .unwrap();
        assert_eq!(client.endpoint(), "http://127.0.0.1:1");
        assert!(!format!("{client:?}").contains("s3cret"));
        // Nothing listens on port 1: the error names the endpoint, not the password.
        let err = client
            .send(
                Method::Get,
                "/",
                &[],
                &[],
                None,
                Some(Duration::from_secs(2)),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("http://127.0.0.1:1/"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[tokio::test]
    async fn a_password_without_a_user_leaves_the_url_too() {
        let client = SearchClient::connect(&SearchConfig {
            endpoint: "http://:s3cret@127.0.0.1:1/".into(),
            auth: Auth::None,
            gzip: true,
            ca_bundle: None,
        })
        .await
        .unwrap();
        assert_eq!(client.endpoint(), "http://127.0.0.1:1");
    }

    #[tokio::test]
    async fn a_missing_or_empty_ca_bundle_is_an_error_naming_the_file() {
        let empty = std::env::temp_dir().join(format!("connect-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, "no certificate here\n").unwrap();
        for path in [empty.clone(), "/nonexistent/ca.pem".into()] {
            let err = SearchClient::connect(&SearchConfig {
                endpoint: "https://127.0.0.1:1".into(),
                auth: Auth::None,
                gzip: false,
                ca_bundle: Some(path.clone()),
            })
            .await
            .unwrap_err()
            .to_string();
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
        let _ = std::fs::remove_file(empty);
    }

    #[test]
    fn an_authentication_failure_never_shows_the_answer() {
        let err = SearchError::Authentication {
            method: "GET",
            endpoint: "https://es.example.com".into(),
            path: "/".into(),
            auth: format!("{:?}", Auth::ApiKey("c2VjcmV0LWtleQ==".into())),
        }
        .to_string();
        assert!(err.contains("authentication failed"), "{err}");
        assert!(!err.contains("c2VjcmV0LWtleQ=="), "{err}");
    }

    #[tokio::test]
    async fn bad_endpoints_are_refused_up_front() {
        for endpoint in ["localhost:9200", "ftp://host", "http://"] {
            let err = SearchClient::connect(&SearchConfig {
                endpoint: endpoint.into(),
                auth: Auth::None,
                gzip: false,
                ca_bundle: None,
            })
            .await
            .unwrap_err();
            assert!(
                matches!(err, SearchError::Endpoint { .. }),
                "{endpoint}: {err}"
            );
        }
    }
}
