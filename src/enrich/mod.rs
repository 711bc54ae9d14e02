//! Enrichment of built documents (issue 16): where a request came from (GeoIP city/country and
//! ASN from MaxMind-format databases) and who sent it (the parsed user agent). It runs on the
//! parse threads, after a document is built and before labels, drop/sample and privacy rules.

use serde::Deserialize;

/// The `[enrich]` section of the configuration file. The key names are fixed by issue 16:
/// scripts use them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// A City (or Country) mmdb: a local path, a Lambda layer path, or `s3://bucket/key`.
    pub geoip_city: Option<String>,
    /// An ASN mmdb: a local path, a Lambda layer path, or `s3://bucket/key`.
    pub geoip_asn: Option<String>,
    /// Parse `user_agent.original` into name, version, OS and device.
    #[serde(default)]
    pub user_agent: bool,
}

impl EnrichConfig {
    /// These settings (from the environment or flags) over the configuration file's: a
    /// database given here replaces the file's, and the user agent is parsed if either asks.
    pub fn over(&self, file: EnrichConfig) -> EnrichConfig {
        EnrichConfig {
            geoip_city: self.geoip_city.clone().or(file.geoip_city),
            geoip_asn: self.geoip_asn.clone().or(file.geoip_asn),
            user_agent: self.user_agent || file.user_agent,
        }
    }
}

pub mod geoip;
pub mod user_agent;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::document::{Document, Endpoint};
use crate::parse::ParsedLine;
use geoip::{GeoIp, GeoIpError};
use user_agent::{UserAgentCache, UserAgentError, UserAgentParser};

/// Where databases named `s3://…` are downloaded, once per process (the Lambda's `/tmp`).
const DOWNLOAD_DIR: &str = "albingest-geoip";

#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error(transparent)]
    GeoIp(#[from] GeoIpError),
    #[error(transparent)]
    UserAgent(#[from] UserAgentError),
    #[error("{uri}: cannot download the GeoIP database: {reason}")]
    Download { uri: String, reason: String },
    #[error("{uri}: an S3 database is s3://BUCKET/KEY")]
    BadUri { uri: String },
}

/// What the parse threads add to each document: built once per process from [`EnrichConfig`],
/// shared by reference (the GeoIP strings in the documents borrow its memory maps).
#[derive(Debug, Default)]
pub struct Enricher {
    geoip: GeoIp,
    user_agent: Option<UserAgentParser>,
}

/// One parse thread's enrichment state (its user-agent cache): no lock on the hot path.
#[derive(Debug, Default)]
pub struct EnrichScratch {
    user_agents: UserAgentCache,
}

impl Enricher {
    /// Opens what `config` asks for. A database given as `s3://BUCKET/KEY` is downloaded first
    /// to the temporary directory (`/tmp` in Lambda), once per process; `s3_endpoint` is the S3
    /// endpoint override, as for log objects.
    pub async fn load(
        config: &EnrichConfig,
        s3_endpoint: Option<&str>,
    ) -> Result<Self, EnrichError> {
        let mut s3 = None;
        let city = local_path(config.geoip_city.as_deref(), &mut s3, s3_endpoint).await?;
        let asn = local_path(config.geoip_asn.as_deref(), &mut s3, s3_endpoint).await?;
        Self::open(city.as_deref(), asn.as_deref(), config.user_agent)
    }

    /// Opens local databases and, with `user_agent`, compiles the user-agent patterns.
    pub fn open(
        city: Option<&Path>,
        asn: Option<&Path>,
        user_agent: bool,
    ) -> Result<Self, EnrichError> {
        Ok(Self {
            geoip: GeoIp::open(city, asn)?,
            user_agent: user_agent.then(UserAgentParser::embedded).transpose()?,
        })
    }

    /// True when nothing is configured: documents pass unchanged.
    pub fn is_empty(&self) -> bool {
        self.geoip.is_empty() && self.user_agent.is_none()
    }

    /// Adds the configured fields to a built document (failure documents are left as they are).
    pub fn enrich<'a>(&'a self, parsed: &mut ParsedLine<'a>, scratch: &mut EnrichScratch) {
        if parsed.failed || self.is_empty() {
            return;
        }
        let document: &mut Document<'a> = &mut parsed.document;
        if !self.geoip.is_empty() {
            for endpoint in [&mut document.source, &mut document.destination]
                .into_iter()
                .flatten()
            {
                self.locate(endpoint);
            }
        }
        if let (Some(parser), Some(agent)) = (&self.user_agent, &mut document.user_agent) {
            if let Some(original) = agent.original {
                agent.parsed = Some(scratch.user_agents.get(parser, original));
            }
        }
    }

    fn locate<'a>(&'a self, endpoint: &mut Endpoint<'a>) {
        let Some(ip) = endpoint.ip.and_then(|ip| ip.parse::<IpAddr>().ok()) else {
            return;
        };
        endpoint.geo = self.geoip.geo(ip);
        endpoint.autonomous_system = self.geoip.autonomous_system(ip);
    }
}

/// The local path of a configured database: itself, or its downloaded copy for `s3://…`
/// (the S3 client is made on first need).
async fn local_path(
    path: Option<&str>,
    s3: &mut Option<aws_sdk_s3::Client>,
    s3_endpoint: Option<&str>,
) -> Result<Option<PathBuf>, EnrichError> {
    match path {
        None => Ok(None),
        Some(uri) if uri.starts_with("s3://") => {
            let client = match s3.take() {
                Some(client) => client,
                None => crate::source::s3_client(s3_endpoint).await,
            };
            let downloaded = download(&client, uri).await;
            *s3 = Some(client);
            downloaded.map(Some)
        }
        Some(path) => Ok(Some(PathBuf::from(path))),
    }
}

/// Downloads `s3://BUCKET/KEY` to the temporary directory (once per process: a file already
/// there from this process's earlier call is reused) and returns its path.
async fn download(s3: &aws_sdk_s3::Client, uri: &str) -> Result<PathBuf, EnrichError> {
    let bad = || EnrichError::BadUri {
        uri: uri.to_owned(),
    };
    let (bucket, key) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
        .ok_or_else(bad)?;
    let failed = |reason: String| EnrichError::Download {
        uri: uri.to_owned(),
        reason,
    };
    let dir = std::env::temp_dir().join(DOWNLOAD_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    // One file per URI and process: a second cold start in the same sandbox downloads again
    // (the object may have been replaced), and two processes never share a half-written file.
    let name = format!(
        "{:016x}-{}-{}",
        xxhash_rust::xxh3::xxh3_64(uri.as_bytes()),
        std::process::id(),
        key.rsplit('/').next().unwrap_or("db.mmdb")
    );
    let path = dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    let body = crate::source::read_whole_object(s3, bucket, key)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let partial = path.with_extension("part");
    std::fs::write(&partial, &body)
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|e| failed(format!("{}: {e}", path.display())))?;
    Ok(path)
}
