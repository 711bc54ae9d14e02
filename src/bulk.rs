//! Where each document goes: its daily index and its deterministic `_id`, and the `_bulk` action
//! line that carries both.

use xxhash_rust::xxh3::xxh3_128;

use crate::format::{LogFormat, PerFormat};
use crate::parse::ParsedLine;

/// The index suffix of failure documents that have no time but their read time.
pub const UNDATED_FAILURES: &str = "failed-undated";

/// An `--index-prefix` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexPrefixError {
    /// `FORMAT=` names no format (the message lists them).
    #[error("{0}")]
    Format(String),
    #[error(
        "index prefix {0:?}: use lower-case letters, digits, '-', '_' and '.', not starting with '-', '_' or '.'"
    )]
    Invalid(String),
}

/// A value of a list of `[FORMAT=]PREFIX` values ([`IndexPrefixes::apply_all`]) that cannot be
/// used: the value, then why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{spec}: {source}")]
pub struct PrefixSpecError {
    pub spec: String,
    #[source]
    pub source: IndexPrefixError,
}

/// Index name prefixes by format; failure documents go to `{prefix}-failed-YYYY.MM.DD`.
/// Routes (the configuration's `[[routing]]`) choose other prefixes by load balancer or
/// account: the first that matches a document wins, else the prefixes here.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexPrefixes {
    prefixes: PerFormat<String>,
    routes: Vec<Route>,
}

/// Index prefixes for the documents of some load balancers or accounts.
#[derive(Debug, Clone)]
pub struct Route {
    /// Glob of `aws.elb.name`.
    pub load_balancer: Option<globset::GlobMatcher>,
    /// `cloud.account.id`.
    pub account: Option<String>,
    pub prefixes: PerFormat<String>,
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        let glob = |r: &Route| {
            r.load_balancer
                .as_ref()
                .map(|g| g.glob().glob().to_string())
        };
        glob(self) == glob(other)
            && self.account == other.account
            && self.prefixes == other.prefixes
    }
}

impl Route {
    fn matches(&self, parsed: &ParsedLine) -> bool {
        let document = &parsed.document;
        let name = document.aws.elb.as_ref().and_then(|elb| elb.name);
        let account = document
            .cloud
            .as_ref()
            .and_then(|cloud| cloud.account.as_ref())
            .map(|account| account.id);
        self.load_balancer.as_ref().is_none_or(|glob| {
            name.is_some_and(|name| crate::config::load_balancer_matches(glob, name))
        }) && self
            .account
            .as_ref()
            .is_none_or(|wanted| account == Some(wanted.as_str()))
    }
}

impl Default for IndexPrefixes {
    fn default() -> Self {
        Self {
            prefixes: PerFormat::from_fn(|f| f.default_index_prefix().to_string()),
            routes: Vec::new(),
        }
    }
}

impl IndexPrefixes {
    /// Applies every `[FORMAT=]PREFIX` of `specs` in turn.
    pub fn apply_all(&mut self, specs: &[String]) -> Result<(), PrefixSpecError> {
        for spec in specs {
            self.apply(spec).map_err(|source| PrefixSpecError {
                spec: spec.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The prefixes of documents no route matches, by format in [`LogFormat::ALL`] order.
    pub fn base(&self) -> PerFormat<String> {
        self.prefixes.clone()
    }

    pub fn set_routes(&mut self, routes: Vec<Route>) {
        self.routes = routes;
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The prefix of each format for the documents of route `route` (0: no route matched, else
    /// the route's number + 1), as [`Self::route_of`] gives it.
    pub fn prefix_of(&self, route: usize, format: LogFormat) -> &str {
        match route.checked_sub(1).and_then(|i| self.routes.get(i)) {
            Some(r) => &r.prefixes[format],
            None => self.get(format),
        }
    }

    /// 0 when no route matches the document, else the number of the first that does + 1.
    pub fn route_of(&self, parsed: &ParsedLine) -> usize {
        if self.routes.is_empty() {
            return 0;
        }
        self.routes
            .iter()
            .position(|r| r.matches(parsed))
            .map_or(0, |i| i + 1)
    }

    /// Every distinct prefix of `format`: the default one, then each route's.
    pub fn every(&self, format: LogFormat) -> Vec<&str> {
        let mut every = vec![self.get(format)];
        for route in &self.routes {
            let prefix = route.prefixes[format].as_str();
            if !every.contains(&prefix) {
                every.push(prefix);
            }
        }
        every
    }

    pub fn get(&self, format: LogFormat) -> &str {
        &self.prefixes[format]
    }

    pub fn set(&mut self, format: LogFormat, prefix: &str) {
        self.prefixes[format] = prefix.to_string();
    }

    /// Applies `--index-prefix` values: `PREFIX` (ALB access logs) or `FORMAT=PREFIX`.
    pub fn apply(&mut self, spec: &str) -> Result<(), IndexPrefixError> {
        let (format, prefix) = match spec.split_once('=') {
            Some((format, prefix)) => (
                format
                    .parse::<LogFormat>()
                    .map_err(IndexPrefixError::Format)?,
                prefix,
            ),
            None => (LogFormat::Alb, spec),
        };
        if !valid_index_prefix(prefix) {
            return Err(IndexPrefixError::Invalid(prefix.to_string()));
        }
        self.set(format, prefix);
        Ok(())
    }

    /// Every prefix, routes' included, each once: for the cleanup of old indices.
    pub fn all(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for prefix in self
            .prefixes
            .iter()
            .chain(self.routes.iter().flat_map(|r| r.prefixes.iter()))
        {
            if !all.contains(prefix) {
                all.push(prefix.clone());
            }
        }
        all
    }

    /// The prefixes `specs` name (`PREFIX` or `FORMAT=PREFIX`, checked as [`Self::apply`]
    /// does), and no others: what a cleanup given prefixes may touch. No specs: every default.
    pub fn named(specs: &[String]) -> Result<Vec<String>, IndexPrefixError> {
        if specs.is_empty() {
            return Ok(Self::default().all());
        }
        let mut named: Vec<String> = Vec::new();
        for spec in specs {
            Self::default().apply(spec)?;
            let prefix = spec.split_once('=').map_or(spec.as_str(), |(_, p)| p);
            if !named.iter().any(|p| p == prefix) {
                named.push(prefix.to_string());
            }
        }
        Ok(named)
    }

    /// `alb-logs-2026.11.01`, or `alb-logs-failed-2026.11.01` for a failure document, or
    /// `alb-logs-failed-undated` for a failure document without a time of its own in an object
    /// whose name gives none: its only time is when it was read, and an index chosen by the clock
    /// would put a re-run's copy beside the first (same `_id`, another index). The index is a
    /// pure function of the object and the line.
    pub fn index_name(&self, parsed: &ParsedLine) -> String {
        let prefix = self.prefix_of(self.route_of(parsed), parsed.format);
        if !parsed.dated {
            return format!("{prefix}-{UNDATED_FAILURES}");
        }
        let date = parsed.date().replace('-', ".");
        if parsed.failed {
            format!("{prefix}-failed-{date}")
        } else {
            format!("{prefix}-{date}")
        }
    }
}

fn valid_index_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= 200
        && !prefix.starts_with(['-', '_', '.', '+'])
        && prefix.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

/// The object part of every `_id` from one object: 72 bits of a hash of bucket and key, as the
/// 18 hex digits every id of the object starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectHash([u8; 18]);

impl ObjectHash {
    pub fn new(bucket: Option<&str>, key: &str) -> Self {
        let mut material = Vec::with_capacity(key.len() + 64);
        material.extend_from_slice(bucket.unwrap_or("").as_bytes());
        material.push(0);
        material.extend_from_slice(key.as_bytes());
        let bits = xxh3_128(&material) >> 56;
        let mut hex = [0u8; 18];
        for (i, digit) in hex.iter_mut().enumerate() {
            *digit = b"0123456789abcdef"[(bits >> (4 * (17 - i)) & 0xf) as usize];
        }
        Self(hex)
    }

    /// The 18 hex digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits")
    }

    /// `_id` of the line at `offset`: 18 hex digits of the object hash, `-`, the decimal offset
    /// (at most 39 bytes). The same object and line give the same id on every run, so a retry's
    /// `create` answers 409 instead of writing a duplicate.
    pub fn document_id(&self, offset: u64) -> DocumentId {
        let mut id = DocumentId {
            bytes: [0; 39],
            len: 0,
        };
        id.bytes[..18].copy_from_slice(&self.0);
        id.bytes[18] = b'-';
        let mut buffer = itoa::Buffer::new();
        let digits = buffer.format(offset).as_bytes(); // at most 20
        id.bytes[19..19 + digits.len()].copy_from_slice(digits);
        id.len = (19 + digits.len()) as u8;
        id
    }
}

/// A document `_id`, made without allocating (one per line on the hot path).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DocumentId {
    bytes: [u8; 39],
    len: u8,
}

impl DocumentId {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("hex digits, '-', digits")
    }
}

impl std::fmt::Display for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Appends `{"create":{"_index":"…","_id":"…"}}\n`, or `{"create":{"_index":"…"}}\n` without
/// an id (the server makes one).
pub fn write_action(out: &mut Vec<u8>, index: &str, id: Option<&str>) {
    // Index names and ids are made here from safe characters: no JSON escaping needed.
    debug_assert!(!index.contains(['"', '\\']) && !id.unwrap_or("").contains(['"', '\\']));
    out.extend_from_slice(br#"{"create":{"_index":""#);
    out.extend_from_slice(index.as_bytes());
    if let Some(id) = id {
        out.extend_from_slice(br#"","_id":""#);
        out.extend_from_slice(id.as_bytes());
    }
    out.extend_from_slice(b"\"}}\n");
}

/// Where document ids come from (`--document-ids`, `ALBINGEST_DOCUMENT_IDS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DocumentIds {
    /// Deterministic ids until the target refuses them, then ids the server makes.
    #[default]
    Auto,
    /// Always deterministic ids: a target that refuses them fails the object.
    Deterministic,
    /// Never an id: the server makes them; re-runs are kept idempotent by the object checkpoint.
    Server,
}

/// A `--document-ids` / `ALBINGEST_DOCUMENT_IDS` value that is none of the choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("document ids {0:?}: use auto, deterministic or server")]
pub struct UnknownDocumentIds(pub String);

impl std::str::FromStr for DocumentIds {
    type Err = UnknownDocumentIds;

    fn from_str(s: &str) -> Result<Self, UnknownDocumentIds> {
        match s {
            "auto" => Ok(Self::Auto),
            "deterministic" => Ok(Self::Deterministic),
            "server" => Ok(Self::Server),
            other => Err(UnknownDocumentIds(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_short_and_distinct() {
        let h = ObjectHash::new(Some("bucket"), "AWSLogs/x.log.gz");
        assert_eq!(h.document_id(0), h.document_id(0));
        assert_ne!(h.document_id(0), h.document_id(1));
        assert_ne!(h, ObjectHash::new(Some("bucket2"), "AWSLogs/x.log.gz"));
        assert_ne!(
            ObjectHash::new(Some("a"), "b/c"),
            ObjectHash::new(Some("a/b"), "c")
        );
        assert_eq!(
            h.document_id(u64::MAX).as_str(),
            format!("{}-18446744073709551615", &h.document_id(0).as_str()[..18])
        );
        // Pinned: ids must never change between releases, or re-ingesting duplicates documents.
        assert_eq!(
            ObjectHash::new(Some("b"), "k").document_id(42).as_str(),
            format!("{:018x}-42", xxh3_128(b"b\0k") >> 56)
        );
        assert_eq!(
            ObjectHash::new(Some("b"), "k").document_id(42).as_str(),
            "92a51334969b79ccb7-42"
        );
    }

    #[test]
    fn prefixes_by_format() {
        let mut p = IndexPrefixes::default();
        p.apply("web").unwrap();
        p.apply("nlb=edge-nlb").unwrap();
        assert_eq!(p.get(LogFormat::Alb), "web");
        assert_eq!(p.get(LogFormat::Nlb), "edge-nlb");
        assert_eq!(p.get(LogFormat::Elb), "elb-logs");
        assert_eq!(p.get(LogFormat::AlbHealthCheck), "alb-health-check-logs");
        p.apply("alb-health-check=edge-health").unwrap();
        assert_eq!(p.get(LogFormat::AlbHealthCheck), "edge-health");
        assert!(p.apply("Bad").is_err());
        assert!(p.apply("x=y").is_err());
        assert!(p.apply(".hidden").is_err());
    }

    #[test]
    fn the_index_of_a_document_never_depends_on_the_clock() {
        let prefixes = IndexPrefixes::default();
        let index_at = |key: &str, now: &str| {
            let parser = crate::parse::Parser::embedded().fallback_time(now.into());
            let mut object = crate::object_key::ObjectInfo::s3("b", key);
            object.read_at = Some(now.into());
            let failure = parser.failure(&object, "garbage", 0, LogFormat::Alb, "x".into());
            prefixes.index_name(&failure)
        };
        // No time in the line, none in the object's name: the same index on any day.
        for key in ["manual/upload.log.gz", "local.log"] {
            let first = index_at(key, "2026-11-01T10:00:00Z");
            assert_eq!(first, index_at(key, "2027-03-15T23:00:00Z"), "{key}");
            assert_eq!(first, "alb-logs-failed-undated");
        }
        // A name with a window end dates its failures by it.
        let named = "x_app.lb.1_20261124T1005Z_10.0.0.1_a.log.gz";
        assert_eq!(
            index_at(named, "2027-03-15T23:00:00Z"),
            "alb-logs-failed-2026.11.24"
        );
    }
}
