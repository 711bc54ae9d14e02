//! What the integration tests share: finding the stand-in servers (scripts/servers starts them,
//! scripts/test exports their URLs), test data, S3 and search-server helpers.
#![allow(dead_code)] // each test binary uses its own part of it

pub mod fault_proxy;
pub mod lambda;
pub mod lifecycle_apis;
pub mod target_profiles;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use albingest::bulk::{DocumentIds, IndexPrefixes};
use albingest::ingest::Ingester;
use albingest::parse::Parser;
use albingest::search::bulk_load::BulkLoader;
use albingest::search::dead_letter::DeadLetter;
use albingest::search::retry::RetryPolicy;
use albingest::search::{Auth, SearchClient, SearchConfig};
use opensearch::http::Method;
use serde_json::Value;

/// A search server under test: its flavour and URL.
#[derive(Debug, Clone)]
pub struct Server {
    pub name: &'static str,
    pub url: String,
}

fn required() -> bool {
    std::env::var("ALBINGEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

// Test output: eprintln! is captured by the harness.
#[allow(clippy::disallowed_macros)]
fn env_url(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => panic!("{test}: ALBINGEST_REQUIRE_SERVERS=1 but {var} is not set"),
        _ => {
            eprintln!("{test}: skipped ({var} not set; scripts/test starts the servers)");
            None
        }
    }
}

/// Both search servers (OpenSearch API, Elasticsearch 8 API), or `None` (test skipped).
pub fn search_servers(test: &str) -> Option<Vec<Server>> {
    let opensearch = env_url("ALBINGEST_TEST_OPENSEARCH_URL", test)?;
    let elasticsearch = env_url("ALBINGEST_TEST_ELASTICSEARCH_URL", test)?;
    Some(vec![
        Server {
            name: "osmem (OpenSearch API)",
            url: opensearch,
        },
        Server {
            name: "noida (Elasticsearch 8 API)",
            url: elasticsearch,
        },
    ])
}

/// The S3 server (moto), or `None` (test skipped).
pub fn s3_url(test: &str) -> Option<String> {
    env_url("ALBINGEST_TEST_S3_URL", test)
}

/// A name unique to this test run and test, usable as an index prefix or bucket name.
pub fn unique(test: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 100_000_000;
    format!("it-{test}-{}-{clock}-{n}", std::process::id()).to_ascii_lowercase()
}

/// A scratch directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(unique(test));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const LINE: &str = r#"https 2026-09-23T07:15:47.805298Z app/k8s-tileserver-617dd1df30/98e3a879de9d6b42 78.190.26.165:5815 10.20.20.37:80 0.001 0.003 0.000 200 200 153 3860 "GET https://tile-staging.terrastride.com:443/data/roads.json HTTP/1.1" "Dart/3.11 (dart:io)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:702656214742:targetgroup/k8s-tileserv-tileserv-8b701414d0/ce5353cc7101de6d "Root=1-6ab37ca3-72b3ccd0353538ac305db394" "tile-staging.terrastride.com" "arn:aws:acm:us-east-1:702656214742:certificate/34ecc395-417d-479a-b9e3-2c03c1047f42" 2 2026-09-23T07:15:47.801000Z "forward" "-" "-" "10.20.20.37:80" "200" "-" "-" TID_d7917035eabacb42bea251b01fb60ab4 "-" "-" "-" 100.51.96.60 "-" "-""#;

/// `n` ALB access log lines; the first `on_first_day` on 2026-11-01 (just before midnight), the
/// rest on 2026-11-02, so one object spans two daily indices. Every line differs (client port).
pub fn alb_lines(n: usize, on_first_day: usize) -> String {
    alb_lines_at(n, |i| {
        if i < on_first_day {
            format!("2026-11-01T23:59:{:02}.{:06}Z", 30 + i % 30, i)
        } else {
            format!("2026-11-02T00:00:{:02}.{:06}Z", i % 60, i)
        }
    })
}

/// `n` ALB access log lines, line `i` at `time_of(i)` (RFC 3339 with microseconds, UTC); the
/// client port tells the lines apart (it repeats after 64,000 lines).
pub fn alb_lines_at(n: usize, time_of: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    for i in 0..n {
        let line = LINE
            .replacen("2026-09-23T07:15:47.805298Z", &time_of(i), 1)
            .replacen(
                "78.190.26.165:5815",
                &format!("78.190.26.165:{}", 1024 + i % 64_000),
                1,
            );
        out.push_str(&line);
        out.push('\n');
    }
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The key ALB would give an object (the name routes the format and gives account/region).
pub fn alb_key(name: &str) -> String {
    format!(
        "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/01/123456789012_elasticloadbalancing_us-east-1_app.test-alb.50dc6c495c0c9188_20261102T0000Z_10.0.1.15_{name}.log.gz"
    )
}

/// A client for test queries (refresh, count, search, cat).
pub async fn search_client(url: &str) -> SearchClient {
    SearchClient::connect(&SearchConfig {
        endpoint: url.to_string(),
        auth: Auth::None,
        gzip: false,
        ca_bundle: None,
    })
    .await
    .unwrap()
}

pub async fn get_json(
    client: &SearchClient,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let answer = client
        .json(method, path, body.as_ref(), Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&answer.body).unwrap()
}

/// Refreshes `{prefix}-*` and counts its documents.
pub async fn count(client: &SearchClient, prefix: &str) -> u64 {
    get_json(client, Method::Post, &format!("/{prefix}-*/_refresh"), None).await;
    get_json(client, Method::Get, &format!("/{prefix}-*/_count"), None).await["count"]
        .as_u64()
        .unwrap()
}

/// `index → docs.count` of `{prefix}-*`, from `_cat/indices`.
pub async fn indices(client: &SearchClient, prefix: &str) -> Vec<(String, u64)> {
    get_json(client, Method::Post, &format!("/{prefix}-*/_refresh"), None).await;
    let rows = get_json(
        client,
        Method::Get,
        &format!("/_cat/indices/{prefix}-*?format=json&h=index,docs.count"),
        None,
    )
    .await;
    let mut out: Vec<(String, u64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["index"].as_str().unwrap().to_string(),
                r["docs.count"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Retry settings short enough for tests.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_retry_time: Duration::from_secs(20),
        request_timeout: Duration::from_secs(10),
    }
}

/// What an ingester is built from in the tests.
pub struct Setup {
    pub endpoint: String,
    pub prefix: String,
    pub policy: RetryPolicy,
    pub batch_bytes: usize,
    pub in_flight: usize,
    pub dead_letter: DeadLetter,
    pub s3: Option<aws_sdk_s3::Client>,
    pub gzip: bool,
    pub document_ids: DocumentIds,
}

impl Setup {
    pub fn new(endpoint: &str, prefix: &str, dead_letter_dir: &Path) -> Self {
        Self {
            endpoint: endpoint.to_string(),
            prefix: prefix.to_string(),
            policy: fast_policy(),
            batch_bytes: 32 * 1024,
            in_flight: 3,
            dead_letter: DeadLetter::Local(dead_letter_dir.to_path_buf()),
            s3: None,
            gzip: true,
            document_ids: DocumentIds::Auto,
        }
    }

    pub fn prefixes(&self) -> IndexPrefixes {
        let mut prefixes = IndexPrefixes::default();
        prefixes.apply(&self.prefix).unwrap();
        prefixes
    }

    pub async fn ingester(&self) -> Ingester {
        let client = SearchClient::connect(&SearchConfig {
            endpoint: self.endpoint.clone(),
            auth: Auth::None,
            gzip: self.gzip,
            ca_bundle: None,
        })
        .await
        .unwrap();
        let loader = BulkLoader::new(
            Arc::new(client),
            self.policy.clone(),
            self.in_flight,
            self.dead_letter.clone(),
        )
        .with_document_ids(self.document_ids);
        Ingester::new(Parser::embedded(), self.prefixes(), Some(loader))
            .with_s3(self.s3.clone())
            .with_batches(self.batch_bytes, self.in_flight)
    }

    /// Installs the templates for this prefix on the real server.
    pub async fn install_templates(&self, real_url: &str) {
        let client = search_client(real_url).await;
        albingest::search::templates::install(&client, &self.prefixes(), &Default::default())
            .await
            .unwrap();
    }
}

/// An S3 client for moto (any credentials, path-style).
pub fn s3_client(url: &str) -> aws_sdk_s3::Client {
    let credentials =
        aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(credentials)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket().bucket(bucket).send().await.unwrap();
}

pub async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

/// The environment a CLI run against moto needs.
pub fn aws_env(s3_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL_S3", s3_url.to_string()),
        // No profile files or instance metadata lookups on a developer's machine.
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

/// Every file under `dir` (recursively), sorted; none when `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The records of every dead-letter file under a local dead-letter directory.
pub fn dead_letter_records(dir: &Path) -> Vec<Value> {
    let mut records = Vec::new();
    for file in files_under(dir) {
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            records.push(
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{}: {e}: {line}", file.display())),
            );
        }
    }
    records
}

/// A port on 127.0.0.1 that nothing listens on (bound, noted, closed).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Standard base64 with padding (RFC 4648), to check `Authorization: Basic` headers without a
/// dependency.
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
