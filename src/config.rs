//! The configuration file (TOML): labels and tags, index routing, drop and sample rules, privacy,
//! and the `[enrich]` section. Read once at start; an invalid file fails the start with the file,
//! the key and the reason. README "Configuration file" documents every key;
//! `examples/albingest.toml` has them all.
//!
//! Environment variables and command-line flags still override single keys (`index_prefixes`,
//! `keep_original`): [`Config::override_index_prefixes`], [`Config::override_keep_original`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bulk::{IndexPrefixes, PrefixSpecError};
use crate::enrich::EnrichConfig;
use crate::format::LogFormat;

/// An invalid or unreadable configuration: where it came from, which key, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{origin}: cannot read: {source}")]
    Read {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: cannot fetch: {reason}")]
    Fetch { origin: String, reason: String },
    #[error("{origin}: {key}: {reason}")]
    Invalid {
        origin: String,
        /// The key's path, e.g. `drop[1].status`; `(file)` when the text is not TOML at all.
        key: String,
        reason: String,
    },
}

/// Index prefixes or a route that do not make [`IndexPrefixes`] ([`Config::prefixes`]): the
/// file is checked, so only an override (`--index-prefix`, `ALBINGEST_INDEX_PREFIXES`) or a
/// configuration built in code gets here.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PrefixesError {
    /// A `[FORMAT=]PREFIX` value (of `index_prefixes` or of a route) is not a prefix.
    #[error(transparent)]
    Prefix(#[from] PrefixSpecError),
    /// A route's `load_balancer` is not a glob.
    #[error(transparent)]
    Glob(#[from] InvalidGlob),
}

/// A pattern that is not a glob ([`glob`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{pattern:?} is not a valid glob: {}", .source.kind())]
pub struct InvalidGlob {
    pub pattern: String,
    #[source]
    pub source: globset::Error,
}

/// A status condition that is neither a class nor a code ([`StatusMatch::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is neither a status class (1xx to 5xx) nor a status code (100 to 599)")]
pub struct InvalidStatus(pub String);

/// The whole file. Every section is optional: an empty file is the built-in behaviour.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[FORMAT=]PREFIX` values as `--index-prefix` takes them: the prefixes of documents no
    /// `[[routing]]` rule matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub index_prefixes: Vec<String>,
    /// Keep the raw line in `event.original` (as `--keep-original`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_original: Option<bool>,
    /// Tags added to every document's `tags` (after the parse failure tag).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Static `labels.*` of every document.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Labels by load balancer name; the first rule that matches adds its labels (over the
    /// static ones of the same name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_labels: Vec<LabelRule>,
    /// Index prefixes by load balancer or account; the first rule that matches chooses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing: Vec<RouteRule>,
    /// Drop and sample rules; the first rule that matches a document decides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop: Vec<DropRule>,
    /// Privacy rules; none without the section (its prefixes default to /24 and /48).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<Privacy>,
    #[serde(default, skip_serializing)]
    pub enrich: EnrichConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRule {
    /// Glob (`*`, `?`, `[…]`) or exact name of `aws.elb.name`.
    pub load_balancer: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Glob or exact name of `aws.elb.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<String>,
    /// `cloud.account.id` (from the object key), exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// `"PREFIX"` (ALB access logs) or a table by format (`{ alb = "…", nlb = "…" }`); formats
    /// not named keep the default prefix.
    pub index_prefix: RoutePrefix,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RoutePrefix {
    Alb(String),
    ByFormat(BTreeMap<String, String>),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DropRule {
    /// Glob of `user_agent.original`, e.g. `ELB-HealthChecker/*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `http.response.status_code`: a class (`2xx`) or a code (`404`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `url.path` starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Glob or exact name of `aws.elb.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<String>,
    /// The log format: alb, alb-connection, nlb, elb, alb-health-check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Drop every matching document.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop: bool,
    /// Keep 1 matching document in N (decided by the document id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    /// Bits of an IPv4 `source.ip` kept (the rest zeroed); 32 keeps the address.
    #[serde(default = "default_ipv4_prefix")]
    pub ipv4_prefix: u8,
    /// Bits of an IPv6 `source.ip` kept; 128 keeps the address.
    #[serde(default = "default_ipv6_prefix")]
    pub ipv6_prefix: u8,
    /// `keep`, `remove` (the whole query string) or `redact` (the values of `redact_params`).
    #[serde(default)]
    pub query: QueryMode,
    /// Query parameter names whose values become `REDACTED` (with `query = "redact"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact_params: Vec<String>,
    /// Remove `user_agent.original` once the user agent is parsed into its fields.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove_user_agent_original: bool,
}

fn default_ipv4_prefix() -> u8 {
    24
}

fn default_ipv6_prefix() -> u8 {
    48
}

impl Default for Privacy {
    fn default() -> Self {
        Self {
            ipv4_prefix: default_ipv4_prefix(),
            ipv6_prefix: default_ipv6_prefix(),
            query: QueryMode::Keep,
            redact_params: Vec::new(),
            remove_user_agent_original: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryMode {
    #[default]
    Keep,
    Remove,
    Redact,
}

impl Config {
    /// Reads and checks `path`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            origin: origin.clone(),
            source,
        })?;
        Self::from_toml(&origin, &text)
    }

    /// The Lambda's `ALBINGEST_CONFIG`: the TOML itself, or `s3://bucket/key` of a file (read
    /// once, at cold start, with the function's S3 client).
    pub async fn from_lambda_value(
        value: &str,
        s3: Option<&aws_sdk_s3::Client>,
    ) -> Result<Self, ConfigError> {
        let Some(location) = value.trim().strip_prefix("s3://") else {
            return Self::from_toml("ALBINGEST_CONFIG", value);
        };
        let origin = format!("ALBINGEST_CONFIG s3://{location}");
        let fetch = |reason: String| ConfigError::Fetch {
            origin: origin.clone(),
            reason,
        };
        let (bucket, key) = location
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| fetch("give s3://bucket/key".into()))?;
        let s3 = s3.ok_or_else(|| fetch("no S3 client".into()))?;
        let bytes = crate::source::read_whole_object(s3, bucket, key)
            .await
            .map_err(|e| fetch(e.to_string()))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| fetch(format!("not UTF-8: {e}")))?;
        Self::from_toml(&origin, text)
    }

    /// Parses and checks TOML text; `origin` names it in errors (a file, `ALBINGEST_CONFIG`, an
    /// `s3://` URI).
    pub fn from_toml(origin: &str, text: &str) -> Result<Self, ConfigError> {
        let invalid = |key: String, reason: String| ConfigError::Invalid {
            origin: origin.to_string(),
            key,
            reason,
        };
        let deserializer = toml::Deserializer::parse(text)
            .map_err(|e| invalid("(file)".into(), describe(text, &e)))?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            let key = if key == "." {
                "(top level)".into()
            } else {
                key
            };
            invalid(key, describe(text, e.inner()))
        })?;
        config
            .check()
            .map_err(|(key, reason)| invalid(key, reason))?;
        Ok(config)
    }

    /// The semantic checks serde cannot make: globs compile, prefixes are index names, a drop
    /// rule has one action and at least one condition.
    fn check(&self) -> Result<(), (String, String)> {
        IndexPrefixes::default()
            .apply_all(&self.index_prefixes)
            .map_err(|why| ("index_prefixes".to_string(), why.to_string()))?;
        for (i, tag) in self.tags.iter().enumerate() {
            if tag.is_empty() {
                return Err((format!("tags[{i}]"), "a tag cannot be empty".into()));
            }
        }
        check_labels("labels", &self.labels)?;
        for (i, rule) in self.load_balancer_labels.iter().enumerate() {
            let key = format!("load_balancer_labels[{i}]");
            check_glob(&format!("{key}.load_balancer"), &rule.load_balancer)?;
            check_labels(&format!("{key}.labels"), &rule.labels)?;
        }
        for (i, rule) in self.routing.iter().enumerate() {
            let key = format!("routing[{i}]");
            if rule.load_balancer.is_none() && rule.account.is_none() {
                return Err((
                    key,
                    "a routing rule needs load_balancer or account (or both)".into(),
                ));
            }
            if let Some(glob) = &rule.load_balancer {
                check_glob(&format!("{key}.load_balancer"), glob)?;
            }
            rule.prefixes()
                .map_err(|why| (format!("{key}.index_prefix"), why.to_string()))?;
        }
        for (i, rule) in self.drop.iter().enumerate() {
            let key = format!("drop[{i}]");
            match (rule.drop, rule.sample) {
                (true, Some(_)) => {
                    return Err((key, "drop = true and sample exclude each other".into()))
                }
                (false, None) => {
                    return Err((key, "give drop = true or sample = N".into()));
                }
                (_, Some(0)) => {
                    return Err((
                        format!("{key}.sample"),
                        "must be 1 or more (keep 1 in N)".into(),
                    ))
                }
                _ => {}
            }
            if rule.user_agent.is_none()
                && rule.status.is_none()
                && rule.path_prefix.is_none()
                && rule.load_balancer.is_none()
                && rule.format.is_none()
            {
                return Err((
                    key,
                    "a rule without a condition would drop every document: give user_agent, \
                     status, path_prefix, load_balancer or format"
                        .into(),
                ));
            }
            if let Some(glob) = &rule.user_agent {
                check_glob(&format!("{key}.user_agent"), glob)?;
            }
            if let Some(glob) = &rule.load_balancer {
                check_glob(&format!("{key}.load_balancer"), glob)?;
            }
            if let Some(status) = &rule.status {
                StatusMatch::parse(status)
                    .map_err(|why| (format!("{key}.status"), why.to_string()))?;
            }
            if let Some(format) = &rule.format {
                format
                    .parse::<LogFormat>()
                    .map_err(|why| (format!("{key}.format"), why))?;
            }
        }
        let Some(privacy) = &self.privacy else {
            return Ok(());
        };
        if privacy.ipv4_prefix > 32 {
            return Err((
                "privacy.ipv4_prefix".into(),
                format!("{} is more than 32 bits", privacy.ipv4_prefix),
            ));
        }
        if privacy.ipv6_prefix > 128 {
            return Err((
                "privacy.ipv6_prefix".into(),
                format!("{} is more than 128 bits", privacy.ipv6_prefix),
            ));
        }
        match (privacy.query, privacy.redact_params.is_empty()) {
            (QueryMode::Redact, true) => {
                return Err((
                    "privacy.redact_params".into(),
                    "query = \"redact\" needs the names of the parameters to redact".into(),
                ))
            }
            (QueryMode::Keep | QueryMode::Remove, false) => {
                return Err((
                    "privacy.redact_params".into(),
                    "is used only with query = \"redact\"".into(),
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// `--index-prefix` / `ALBINGEST_INDEX_PREFIXES` values replace the file's `index_prefixes`
    /// when there are any.
    pub fn override_index_prefixes(&mut self, specs: &[String]) {
        if !specs.is_empty() {
            self.index_prefixes = specs.to_vec();
        }
    }

    /// `--keep-original` / `ALBINGEST_KEEP_ORIGINAL` set: it wins over the file.
    pub fn override_keep_original(&mut self, keep: Option<bool>) {
        if keep.is_some() {
            self.keep_original = keep;
        }
    }

    /// The index prefixes: the defaults, the file's `index_prefixes`, then the routes.
    pub fn prefixes(&self) -> Result<IndexPrefixes, PrefixesError> {
        let mut prefixes = IndexPrefixes::default();
        prefixes.apply_all(&self.index_prefixes)?;
        let routes = self
            .routing
            .iter()
            .map(|rule| {
                Ok(crate::bulk::Route {
                    load_balancer: rule.load_balancer.as_deref().map(glob).transpose()?,
                    account: rule.account.clone(),
                    prefixes: {
                        let mut routed = prefixes.clone();
                        routed.apply_all(&rule.prefixes()?)?;
                        routed.base()
                    },
                })
            })
            .collect::<Result<Vec<_>, PrefixesError>>()?;
        prefixes.set_routes(routes);
        Ok(prefixes)
    }

    /// The effective configuration as TOML, for `albingest config check` (it holds no secret:
    /// endpoints and credentials are never part of the file).
    pub fn to_toml(&self) -> String {
        let mut text = toml::to_string(self).unwrap_or_else(|e| format!("# not shown: {e}\n"));
        let e = &self.enrich;
        text.push_str("\n[enrich]\n");
        if let Some(path) = &e.geoip_city {
            text.push_str(&format!("geoip_city = {}\n", toml_string(path)));
        }
        if let Some(path) = &e.geoip_asn {
            text.push_str(&format!("geoip_asn = {}\n", toml_string(path)));
        }
        text.push_str(&format!("user_agent = {}\n", e.user_agent));
        text
    }
}

impl RouteRule {
    /// The rule's prefixes as `--index-prefix` values.
    fn prefixes(&self) -> Result<Vec<String>, PrefixSpecError> {
        let specs: Vec<String> = match &self.index_prefix {
            RoutePrefix::Alb(prefix) => vec![prefix.clone()],
            RoutePrefix::ByFormat(by_format) => by_format
                .iter()
                .map(|(format, prefix)| format!("{format}={prefix}"))
                .collect(),
        };
        IndexPrefixes::default().apply_all(&specs)?;
        Ok(specs)
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A glob as the rules match it: `*` and `?` match any character, `/` included.
pub fn glob(pattern: &str) -> Result<globset::GlobMatcher, InvalidGlob> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|source| InvalidGlob {
            pattern: pattern.to_string(),
            source,
        })
}

/// A load balancer glob matches the name as logged (`app/prod-web-alb/50dc6c495c0c9188`) or
/// the bare name in it (`prod-web-alb`), so `prod-web-*` means what it says for every format.
pub fn load_balancer_matches(glob: &globset::GlobMatcher, logged: &str) -> bool {
    if glob.is_match(logged) {
        return true;
    }
    let mut parts = logged.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(name), Some(_)) => glob.is_match(name),
        _ => false,
    }
}

fn check_glob(key: &str, pattern: &str) -> Result<(), (String, String)> {
    glob(pattern)
        .map(drop)
        .map_err(|why| (key.to_string(), why.to_string()))
}

/// ECS `labels`: keyword values under names without dots (a dot would make an object).
fn check_labels(key: &str, labels: &BTreeMap<String, String>) -> Result<(), (String, String)> {
    for name in labels.keys() {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err((
                format!("{key}.{name}"),
                "a label name is letters, digits, '_' and '-' (no dots, no spaces)".into(),
            ));
        }
    }
    Ok(())
}

/// A status condition: a class (`2xx`) or one code (`404`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    Class(i64),
    Code(i64),
}

impl StatusMatch {
    pub fn parse(text: &str) -> Result<Self, InvalidStatus> {
        let lower = text.to_ascii_lowercase();
        let bytes = lower.as_bytes();
        match bytes {
            [d @ b'1'..=b'5', b'x', b'x'] => Ok(Self::Class(i64::from(d - b'0'))),
            _ => match text.parse::<i64>() {
                Ok(code) if (100..=599).contains(&code) => Ok(Self::Code(code)),
                _ => Err(InvalidStatus(text.to_string())),
            },
        }
    }

    pub fn matches(self, code: i64) -> bool {
        match self {
            Self::Class(class) => code / 100 == class,
            Self::Code(exact) => code == exact,
        }
    }
}

/// A TOML error's message with its line, without the snippet (one line per error).
fn describe(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end().to_string();
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("{message} (line {line})")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(text: &str) -> (String, String) {
        match Config::from_toml("test.toml", text) {
            Err(ConfigError::Invalid { key, reason, .. }) => (key, reason),
            other => panic!("expected an invalid configuration, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_file_is_the_built_in_behaviour() {
        let config = Config::from_toml("empty.toml", "").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.privacy, None);
        let privacy = Config::from_toml("p.toml", "[privacy]")
            .unwrap()
            .privacy
            .unwrap();
        assert_eq!((privacy.ipv4_prefix, privacy.ipv6_prefix), (24, 48));
        assert_eq!(privacy.query, QueryMode::Keep);
        assert_eq!(config.prefixes().unwrap(), IndexPrefixes::default());
    }

    #[test]
    fn every_section_parses() {
        let config = Config::from_toml(
            "full.toml",
            r#"
            index_prefixes = ["web", "nlb=edge"]
            keep_original = true
            tags = ["albingest"]
            [labels]
            region = "eu"
            [[load_balancer_labels]]
            load_balancer = "prod-web-*"
            labels = { env = "prod", team = "web" }
            [[routing]]
            load_balancer = "prod-*"
            index_prefix = { alb = "prod-alb-logs", nlb = "prod-nlb-logs" }
            [[routing]]
            account = "123456789012"
            index_prefix = "acct-alb-logs"
            [[drop]]
            user_agent = "ELB-HealthChecker/*"
            drop = true
            [[drop]]
            status = "2xx"
            path_prefix = "/static/"
            sample = 10
            [privacy]
            ipv4_prefix = 16
            query = "redact"
            redact_params = ["token"]
            [enrich]
            user_agent = true
            "#,
        )
        .unwrap();
        assert_eq!(config.drop.len(), 2);
        assert_eq!(config.privacy.as_ref().unwrap().query, QueryMode::Redact);
        assert!(config.enrich.user_agent);
        let prefixes = config.prefixes().unwrap();
        assert_eq!(prefixes.get(LogFormat::Alb), "web");
        // The effective configuration reads back as the same configuration.
        let again = Config::from_toml("again", &config.to_toml()).unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn errors_name_the_key_and_the_reason() {
        let (key, reason) = invalid("[privacy]\nipv4_prefix = 33\n");
        assert_eq!(key, "privacy.ipv4_prefix");
        assert!(reason.contains("32"), "{reason}");

        let (key, reason) = invalid(
            "[[drop]]\nstatus = \"2xx\"\ndrop = true\n[[drop]]\nstatus = \"7xx\"\ndrop = true\n",
        );
        assert_eq!(key, "drop[1].status");
        assert!(reason.contains("7xx"), "{reason}");

        let (key, reason) = invalid("[[drop]]\nuser_agent = \"x\"\nsampel = 3\n");
        assert_eq!(key, "drop[0].sampel");
        assert!(reason.contains("unknown field `sampel`"), "{reason}");
        assert!(reason.contains("line 3"), "{reason}");

        let (key, _) = invalid("[[drop]]\nuser_agent = \"x\"\n");
        assert_eq!(key, "drop[0]");
        let (key, _) = invalid("[[drop]]\ndrop = true\n");
        assert_eq!(key, "drop[0]");
        let (key, _) = invalid("[[drop]]\nformat = \"x\"\nsample = 0\n");
        assert_eq!(key, "drop[0].sample");
        let (key, _) = invalid("[[routing]]\nload_balancer = \"a\"\nindex_prefix = \"Bad\"\n");
        assert_eq!(key, "routing[0].index_prefix");
        let (key, _) = invalid("[[routing]]\nindex_prefix = \"ok\"\n");
        assert_eq!(key, "routing[0]");
        let (key, _) = invalid("[labels]\n\"a.b\" = \"x\"\n");
        assert_eq!(key, "labels.a.b");
        let (key, _) = invalid("[privacy]\nquery = \"redact\"\n");
        assert_eq!(key, "privacy.redact_params");
        let (key, reason) = invalid("[privacy]\nquery = \"hide\"\n");
        assert_eq!(key, "privacy.query");
        assert!(reason.contains("hide"), "{reason}");
        let (key, _) = invalid("[enrich]\ngeoip = \"x\"\n");
        assert_eq!(key, "enrich.geoip");
        let (key, _) = invalid("tags = [\n");
        assert_eq!(key, "(file)");
        let (key, _) = invalid("[[load_balancer_labels]]\nload_balancer = \"[\"\nlabels = {}\n");
        assert_eq!(key, "load_balancer_labels[0].load_balancer");
    }

    #[test]
    fn status_classes_and_codes() {
        assert!(StatusMatch::parse("2xx").unwrap().matches(204));
        assert!(!StatusMatch::parse("2XX").unwrap().matches(304));
        assert!(StatusMatch::parse("404").unwrap().matches(404));
        assert!(!StatusMatch::parse("404").unwrap().matches(403));
        assert!(StatusMatch::parse("6xx").is_err());
        assert!(StatusMatch::parse("42").is_err());
    }
}
