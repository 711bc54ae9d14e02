//! The functions' configuration, from environment variables, checked at cold start: a bad value
//! is an error that names the variable (never its value when it is a secret).

use std::time::Duration;

use crate::bulk::IndexPrefixes;
use crate::search::{Auth, SearchConfig};

/// A variable that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {variable}: {why}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub why: String,
}

/// Reads variables; tests give a map instead of the process environment.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::HashMap::get(self, name).cloned()
    }
}

fn err(variable: &'static str, why: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        why: why.into(),
    }
}

/// A set, non-empty value.
fn value(env: &dyn Env, name: &'static str) -> Option<String> {
    env.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn required(env: &dyn Env, name: &'static str) -> Result<String, ConfigError> {
    value(env, name).ok_or_else(|| err(name, "is required"))
}

fn flag(env: &dyn Env, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match value(env, name)
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(err(name, format!("{other:?} is not true or false"))),
    }
}

fn number<T: std::str::FromStr>(
    env: &dyn Env,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match value(env, name) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| err(name, format!("{text:?} is not a valid number"))),
    }
}

/// Endpoint and authentication, shared by both functions.
pub fn search(env: &dyn Env) -> Result<SearchConfig, ConfigError> {
    let endpoint = required(env, "ALBINGEST_ENDPOINT")?;
    let url = endpoint
        .parse::<opensearch::http::Url>()
        .map_err(|e| err("ALBINGEST_ENDPOINT", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err(
            "ALBINGEST_ENDPOINT",
            "must be an http:// or https:// URL",
        ));
    }
    let mode = value(env, "ALBINGEST_AUTH").unwrap_or_else(|| "none".into());
    let auth = match mode.as_str() {
        "none" => Auth::None,
        "basic" => Auth::Basic {
            username: required(env, "ALBINGEST_USERNAME")?,
            password: required(env, "ALBINGEST_PASSWORD")?,
        },
        "apikey" => Auth::ApiKey(required(env, "ALBINGEST_API_KEY")?),
        "sigv4" => {
            let service = value(env, "ALBINGEST_SIGV4_SERVICE").unwrap_or_else(|| "es".into());
            if !matches!(service.as_str(), "es" | "aoss") {
                return Err(err(
                    "ALBINGEST_SIGV4_SERVICE",
                    format!("{service:?} is not es or aoss"),
                ));
            }
            Auth::SigV4 {
                service,
                region: None,
            }
        }
        other => {
            return Err(err(
                "ALBINGEST_AUTH",
                format!("{other:?} is not none, basic, apikey or sigv4"),
            ))
        }
    };
    Ok(SearchConfig {
        endpoint,
        auth,
        gzip: true,
        // A PEM file in the function's package or a layer (`/opt/...`): a self-managed
        // cluster's private CA, as `--ca-bundle` for the CLI. Read once, at the cold start.
        ca_bundle: value(env, "ALBINGEST_CA_BUNDLE").map(std::path::PathBuf::from),
    })
}

/// `ALBINGEST_INDEX_PREFIXES`: comma-separated `[FORMAT=]PREFIX`; empty means the defaults.
pub fn index_prefixes(env: &dyn Env) -> Result<IndexPrefixes, ConfigError> {
    let mut prefixes = IndexPrefixes::default();
    for spec in value(env, "ALBINGEST_INDEX_PREFIXES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        prefixes
            .apply(spec)
            .map_err(|why| err("ALBINGEST_INDEX_PREFIXES", why.to_string()))?;
    }
    Ok(prefixes)
}

/// `ALBINGEST_INDEX_PREFIXES` split at commas.
fn specs(env: &dyn Env) -> Vec<String> {
    value(env, "ALBINGEST_INDEX_PREFIXES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The ingest function's settings.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub search: SearchConfig,
    pub prefixes: IndexPrefixes,
    /// `ALBINGEST_INDEX_PREFIXES` as given: they override the configuration file's.
    pub index_prefix_specs: Vec<String>,
    pub batch_bytes: usize,
    /// `s3://bucket/prefix` for documents the server refuses for good.
    pub dead_letter: String,
    /// `ALBINGEST_KEEP_ORIGINAL` when set (it overrides the configuration file's).
    pub keep_original: Option<bool>,
    /// `ALBINGEST_CONFIG`: the configuration file's TOML, or its `s3://bucket/key`.
    pub config: Option<String>,
    /// Install the index templates at cold start.
    pub setup: bool,
    /// Time kept back from the invocation's deadline to report before Lambda stops the function.
    pub deadline_margin: Duration,
    pub patterns_dir: Option<String>,
    /// `ALBINGEST_DOCUMENT_IDS`: auto (default), deterministic or server.
    pub document_ids: crate::bulk::DocumentIds,
    /// `ALBINGEST_GEOIP_CITY`, `ALBINGEST_GEOIP_ASN` (a path, e.g. in a layer under `/opt`, or
    /// `s3://BUCKET/KEY`), `ALBINGEST_USER_AGENT` (true/false).
    pub enrich: crate::enrich::EnrichConfig,
    /// `ALBINGEST_BUCKET_ROLES`: the bucket → role ARN (+ external id, region) map, JSON.
    pub bucket_roles: crate::source::roles::BucketRoles,
}

impl IngestConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let batch_bytes: usize = number(
            env,
            "ALBINGEST_BATCH_BYTES",
            crate::batch::DEFAULT_BATCH_BYTES,
        )?;
        if !(1024..=100 * 1024 * 1024).contains(&batch_bytes) {
            return Err(err(
                "ALBINGEST_BATCH_BYTES",
                "must be between 1024 and 104857600",
            ));
        }
        let dead_letter = value(env, "ALBINGEST_DEAD_LETTER").ok_or_else(|| {
            err(
                "ALBINGEST_DEAD_LETTER",
                "is required: s3://bucket/prefix for documents the server refuses",
            )
        })?;
        if !dead_letter.starts_with("s3://") {
            return Err(err(
                "ALBINGEST_DEAD_LETTER",
                "must be s3://bucket/prefix (a Lambda function has no lasting local disk)",
            ));
        }
        let margin: f64 = number(env, "ALBINGEST_DEADLINE_MARGIN_SECONDS", 10.0)?;
        let deadline_margin = Duration::try_from_secs_f64(margin).map_err(|_| {
            err(
                "ALBINGEST_DEADLINE_MARGIN_SECONDS",
                "must be 0 or more seconds",
            )
        })?;
        Ok(Self {
            search: search(env)?,
            prefixes: index_prefixes(env)?,
            index_prefix_specs: specs(env),
            batch_bytes,
            dead_letter,
            keep_original: value(env, "ALBINGEST_KEEP_ORIGINAL")
                .map(|_| flag(env, "ALBINGEST_KEEP_ORIGINAL", false))
                .transpose()?,
            config: env.get("ALBINGEST_CONFIG").filter(|v| !v.trim().is_empty()),
            setup: flag(env, "ALBINGEST_SETUP", true)?,
            deadline_margin,
            patterns_dir: value(env, "ALBINGEST_PATTERNS_DIR"),
            document_ids: value(env, "ALBINGEST_DOCUMENT_IDS")
                .map(|v| v.parse::<crate::bulk::DocumentIds>())
                .transpose()
                .map_err(|why| err("ALBINGEST_DOCUMENT_IDS", why.to_string()))?
                .unwrap_or_default(),
            enrich: crate::enrich::EnrichConfig {
                geoip_city: value(env, "ALBINGEST_GEOIP_CITY"),
                geoip_asn: value(env, "ALBINGEST_GEOIP_ASN"),
                user_agent: flag(env, "ALBINGEST_USER_AGENT", false)?,
            },
            bucket_roles: crate::source::roles::BucketRoles::parse(
                "ALBINGEST_BUCKET_ROLES",
                &value(env, "ALBINGEST_BUCKET_ROLES").unwrap_or_default(),
            )
            .map_err(|e| err("ALBINGEST_BUCKET_ROLES", e.to_string()))?,
        })
    }
}

/// The cleanup function's settings.
#[derive(Debug, Clone)]
pub struct CleanupConfig {
    pub search: SearchConfig,
    pub retention: crate::retention::Retention,
    pub dry_run: bool,
    /// `ALBINGEST_CONFIG` when `ALBINGEST_INDEX_PREFIXES` is not set: the prefixes cleaned up
    /// are then every prefix of the configuration file (its routes' included).
    pub config: Option<String>,
}

impl CleanupConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let days: i64 = match value(env, "RETENTION_DAYS") {
            None => {
                return Err(err(
                    "RETENTION_DAYS",
                    "is required (days to keep, at least 1)",
                ))
            }
            Some(text) => text.parse().map_err(|_| {
                err(
                    "RETENTION_DAYS",
                    format!("{text:?} is not a whole number of days"),
                )
            })?,
        };
        // Exactly the prefixes named (a role limited to their patterns suffices), not also the
        // built-in prefixes of the other formats.
        let specs: Vec<String> = value(env, "ALBINGEST_INDEX_PREFIXES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let prefixes = IndexPrefixes::named(&specs)
            .map_err(|why| err("ALBINGEST_INDEX_PREFIXES", why.to_string()))?;
        let retention = crate::retention::Retention::new(days, &prefixes)
            .map_err(|e| err("RETENTION_DAYS", e.to_string()))?;
        Ok(Self {
            search: search(env)?,
            retention,
            dry_run: flag(env, "DRY_RUN", false)?,
            config: env
                .get("ALBINGEST_CONFIG")
                .filter(|v| !v.trim().is_empty() && specs.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ingest_defaults_and_contract_values() {
        let c = IngestConfig::from_env(&env(&[
            ("ALBINGEST_ENDPOINT", "https://search.example.com"),
            ("ALBINGEST_AUTH", "sigv4"),
            ("ALBINGEST_SIGV4_SERVICE", "aoss"),
            ("ALBINGEST_INDEX_PREFIXES", ""),
            ("ALBINGEST_DEAD_LETTER", "s3://dlq-bucket/albingest/"),
        ]))
        .unwrap();
        assert!(matches!(c.search.auth, Auth::SigV4 { ref service, .. } if service == "aoss"));
        assert_eq!(c.batch_bytes, 5 * 1024 * 1024);
        assert!(c.setup && c.keep_original.is_none() && c.config.is_none());
        assert_eq!(c.deadline_margin, Duration::from_secs(10));
        assert_eq!(c.prefixes, IndexPrefixes::default());
        assert_eq!(c.document_ids, crate::bulk::DocumentIds::Auto);
    }

    #[test]
    fn document_ids_from_the_environment() {
        let with = |value: &str| {
            IngestConfig::from_env(&env(&[
                ("ALBINGEST_ENDPOINT", "http://x"),
                ("ALBINGEST_DEAD_LETTER", "s3://b/p"),
                ("ALBINGEST_DOCUMENT_IDS", value),
            ]))
        };
        assert_eq!(
            with("server").unwrap().document_ids,
            crate::bulk::DocumentIds::Server
        );
        let err = with("random").unwrap_err().to_string();
        assert!(err.contains("ALBINGEST_DOCUMENT_IDS"), "{err}");
    }

    #[test]
    fn errors_name_the_variable_and_never_the_password() {
        let bad = [
            (
                vec![("ALBINGEST_DEAD_LETTER", "s3://b/p")],
                "ALBINGEST_ENDPOINT",
            ),
            (
                vec![("ALBINGEST_ENDPOINT", "http://x")],
                "ALBINGEST_DEAD_LETTER",
            ),
            (
                vec![("ALBINGEST_ENDPOINT", "ftp://x")],
                "ALBINGEST_ENDPOINT",
            ),
            (
                vec![
                    ("ALBINGEST_ENDPOINT", "http://x"),
                    ("ALBINGEST_AUTH", "oauth"),
                ],
                "ALBINGEST_AUTH",
            ),
            (
                vec![
                    ("ALBINGEST_ENDPOINT", "http://x"),
                    ("ALBINGEST_AUTH", "basic"),
                    ("ALBINGEST_USERNAME", "u"),
                ],
                "ALBINGEST_PASSWORD",
            ),
            (
                vec![
                    ("ALBINGEST_ENDPOINT", "http://x"),
                    ("ALBINGEST_BATCH_BYTES", "5MB"),
                ],
                "ALBINGEST_BATCH_BYTES",
            ),
            (
                vec![
                    ("ALBINGEST_ENDPOINT", "http://x"),
                    ("ALBINGEST_DEAD_LETTER", "/tmp/dlq"),
                ],
                "ALBINGEST_DEAD_LETTER",
            ),
            (
                vec![
                    ("ALBINGEST_ENDPOINT", "http://x"),
                    ("ALBINGEST_SETUP", "maybe"),
                ],
                "ALBINGEST_SETUP",
            ),
            (
                vec![
                    ("ALBINGEST_ENDPOINT", "http://x"),
                    ("ALBINGEST_INDEX_PREFIXES", "Bad"),
                ],
                "ALBINGEST_INDEX_PREFIXES",
            ),
        ];
        for (mut pairs, variable) in bad {
            if variable != "ALBINGEST_DEAD_LETTER" {
                pairs.push(("ALBINGEST_DEAD_LETTER", "s3://b/p"));
            }
            let e = IngestConfig::from_env(&env(&pairs)).unwrap_err();
            assert_eq!(e.variable, variable, "{e}");
        }
        let c = IngestConfig::from_env(&env(&[
            ("ALBINGEST_ENDPOINT", "http://x"),
            ("ALBINGEST_AUTH", "basic"),
            ("ALBINGEST_USERNAME", "u"),
            ("ALBINGEST_PASSWORD", "s3cret-value"),
            ("ALBINGEST_DEAD_LETTER", "s3://b/p"),
        ]))
        .unwrap();
        assert!(!format!("{c:?}").contains("s3cret-value"));
    }

    #[test]
    fn api_key_auth_needs_the_key_and_never_shows_it() {
        let base = [
            ("ALBINGEST_ENDPOINT", "https://es.example.com"),
            ("ALBINGEST_AUTH", "apikey"),
        ];
        let e = search(&env(&base)).unwrap_err();
        assert_eq!(e.variable, "ALBINGEST_API_KEY");
        let c = search(&env(&[
            base[0],
            base[1],
            ("ALBINGEST_API_KEY", "c2VjcmV0OmtleQ=="),
        ]))
        .unwrap();
        assert!(matches!(&c.auth, Auth::ApiKey(k) if k == "c2VjcmV0OmtleQ=="));
        assert!(!format!("{c:?}").contains("c2VjcmV0OmtleQ=="));
    }

    #[test]
    fn a_ca_bundle_is_a_path_in_the_package_or_a_layer() {
        let base = [("ALBINGEST_ENDPOINT", "https://es.example.com")];
        assert_eq!(search(&env(&base)).unwrap().ca_bundle, None);
        let c = search(&env(&[
            base[0],
            ("ALBINGEST_CA_BUNDLE", "/opt/ca/http_ca.crt"),
        ]))
        .unwrap();
        assert_eq!(
            c.ca_bundle.as_deref(),
            Some(std::path::Path::new("/opt/ca/http_ca.crt"))
        );
    }

    #[test]
    fn cleanup_needs_a_retention_of_a_day_or_more() {
        let base = [("ALBINGEST_ENDPOINT", "http://x")];
        let e = CleanupConfig::from_env(&env(&base)).unwrap_err();
        assert_eq!(e.variable, "RETENTION_DAYS");
        let e = CleanupConfig::from_env(&env(&[base[0], ("RETENTION_DAYS", "0")])).unwrap_err();
        assert!(e.why.contains("at least 1 day"), "{e}");
        let c = CleanupConfig::from_env(&env(&[
            base[0],
            ("RETENTION_DAYS", "14"),
            ("DRY_RUN", "true"),
            ("ALBINGEST_INDEX_PREFIXES", "web,nlb=edge"),
        ]))
        .unwrap();
        assert!(c.dry_run);
        assert_eq!(c.retention.days(), 14);
        // Exactly the prefixes named: not also the built-in prefixes of the other formats.
        assert_eq!(c.retention.prefixes(), ["web", "edge"]);
        let c = CleanupConfig::from_env(&env(&[base[0], ("RETENTION_DAYS", "14")])).unwrap();
        assert_eq!(
            c.retention.prefixes(),
            [
                "alb-logs",
                "alb-connection-logs",
                "nlb-logs",
                "elb-logs",
                "alb-health-check-logs"
            ],
            "no prefixes given: the defaults"
        );
    }
}
