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
