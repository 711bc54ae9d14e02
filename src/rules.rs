//! The configured processing of a built document, on the parse threads, in this order (after
//! enrichment): labels and tags → drop and sample → privacy. Pure: no I/O, no clock; a re-run
//! decides the same for every line (sampling hashes the document id).
//!
//! With no rules (no configuration file) [`Rules::apply`] returns at once; with rules it
//! allocates nothing per document: labels and tags are borrowed from the rules, and rewritten
//! values (a truncated address, a redacted query) are written into a per-thread [`Rewrites`].

use std::fmt::Write as _;
use std::net::IpAddr;

use globset::GlobMatcher;
use xxhash_rust::xxh3::xxh3_64;

use crate::bulk::ObjectHash;
use crate::config::{glob, Config, QueryMode, StatusMatch};
use crate::document::{Document, Labels};
use crate::format::LogFormat;
use crate::parse::ParsedLine;

/// What becomes of a document after the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    /// Dropped or sampled out: counted, never sent.
    Drop,
}

/// The compiled rules of a configuration.
#[derive(Debug, Default)]
pub struct Rules {
    tags: Vec<String>,
    /// The static labels (sorted by name, as the file's table is).
    labels: Vec<(String, String)>,
    /// Labels by load balancer: each rule's labels merged over the static ones.
    by_load_balancer: Vec<(GlobMatcher, Vec<(String, String)>)>,
    drops: Vec<DropRule>,
    privacy: Option<Privacy>,
}

#[derive(Debug)]
struct DropRule {
    user_agent: Option<GlobMatcher>,
    status: Option<StatusMatch>,
    path_prefix: Option<String>,
    load_balancer: Option<GlobMatcher>,
    format: Option<LogFormat>,
    /// Keep 1 in N; `None`: drop every match.
    sample: Option<u64>,
}

#[derive(Debug)]
struct Privacy {
    ipv4_prefix: u8,
    ipv6_prefix: u8,
    query: QueryMode,
    redact_params: Vec<String>,
    remove_user_agent_original: bool,
}

/// Per-thread storage for the values the privacy rules rewrite; a document borrows them until
/// the next line, so the buffers are reused instead of allocated per document.
#[derive(Debug, Default)]
pub struct Rewrites {
    source_ip: String,
    source_address: String,
    url_original: String,
    url_query: String,
}

/// What a redacted parameter's value becomes.
pub const REDACTED: &str = "REDACTED";

impl Rules {
    /// Compiles the rules of a checked configuration.
    pub fn new(config: &Config) -> Result<Self, String> {
        let labels: Vec<(String, String)> = config
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let by_load_balancer = config
            .load_balancer_labels
            .iter()
            .map(|rule| {
                let mut merged = config.labels.clone();
                merged.extend(rule.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
                Ok((glob(&rule.load_balancer)?, merged.into_iter().collect()))
            })
            .collect::<Result<_, String>>()?;
        let drops = config
            .drop
            .iter()
            .map(|rule| {
                Ok(DropRule {
                    user_agent: rule.user_agent.as_deref().map(glob).transpose()?,
                    status: rule.status.as_deref().map(StatusMatch::parse).transpose()?,
                    path_prefix: rule.path_prefix.clone(),
                    load_balancer: rule.load_balancer.as_deref().map(glob).transpose()?,
                    format: rule.format.as_deref().map(str::parse).transpose()?,
                    sample: rule.sample,
                })
            })
            .collect::<Result<_, String>>()?;
        let privacy = config.privacy.as_ref().map(|p| Privacy {
            ipv4_prefix: p.ipv4_prefix,
            ipv6_prefix: p.ipv6_prefix,
            query: p.query,
            redact_params: p.redact_params.clone(),
            remove_user_agent_original: p.remove_user_agent_original,
        });
        Ok(Self {
            tags: config.tags.clone(),
            labels,
            by_load_balancer,
            drops,
            privacy,
        })
    }

    /// True when the rules change nothing (no configuration).
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
            && self.labels.is_empty()
            && self.by_load_balancer.is_empty()
            && self.drops.is_empty()
            && self.privacy.is_none()
    }

    /// Applies labels and tags, then drop/sample, then privacy to the document of the line at
    /// `offset` of the object whose ids start with `ids`. A failure document is never dropped.
    pub fn apply<'a>(
        &'a self,
        parsed: &mut ParsedLine<'a>,
        ids: &ObjectHash,
        offset: u64,
        rewrites: &'a mut Rewrites,
    ) -> Verdict {
        if self.is_empty() {
            return Verdict::Keep;
        }
        self.label(&mut parsed.document);
        if !parsed.failed && self.drops(parsed, ids, offset) {
            return Verdict::Drop;
        }
        if let Some(privacy) = &self.privacy {
            privacy.apply(&mut parsed.document, rewrites);
        }
        Verdict::Keep
    }

    fn label<'a>(&'a self, document: &mut Document<'a>) {
        document.configured_tags = &self.tags;
        let name = load_balancer(document);
        let labels = name
            .and_then(|name| {
                self.by_load_balancer
                    .iter()
                    .find(|(glob, _)| glob.is_match(name))
            })
            .map_or(&self.labels, |(_, labels)| labels);
        if !labels.is_empty() {
            document.labels = Some(Labels(labels));
        }
    }

    /// The first drop rule that matches decides: drop, or keep 1 in N by the document id.
    fn drops(&self, parsed: &ParsedLine, ids: &ObjectHash, offset: u64) -> bool {
        let Some(rule) = self.drops.iter().find(|r| r.matches(parsed)) else {
            return false;
        };
        match rule.sample {
            None => true,
            Some(n) => !keeps_sample(ids, offset, n),
        }
    }
}

/// Keep 1 in `n`: the document id's hash decides, so a re-run keeps the same lines.
pub fn keeps_sample(ids: &ObjectHash, offset: u64, n: u64) -> bool {
    n <= 1 || xxh3_64(ids.document_id(offset).as_str().as_bytes()) % n == 0
}

fn load_balancer<'a>(document: &Document<'a>) -> Option<&'a str> {
    document.aws.elb.as_ref().and_then(|elb| elb.name)
}

impl DropRule {
    /// Every condition given holds (a condition on a field the document lacks does not).
    fn matches(&self, parsed: &ParsedLine) -> bool {
        let document = &parsed.document;
        self.format.is_none_or(|f| f == parsed.format)
            && self.status.is_none_or(|status| {
                document
                    .http
                    .as_ref()
                    .and_then(|http| http.response.as_ref())
                    .and_then(|response| response.status_code)
                    .is_some_and(|code| status.matches(code))
            })
            && self.path_prefix.as_deref().is_none_or(|prefix| {
                document
                    .url
                    .as_ref()
                    .and_then(|url| url.path)
                    .is_some_and(|path| path.starts_with(prefix))
            })
            && self
                .load_balancer
                .as_ref()
                .is_none_or(|glob| load_balancer(document).is_some_and(|name| glob.is_match(name)))
            && self.user_agent.as_ref().is_none_or(|glob| {
                document
                    .user_agent
                    .as_ref()
                    .and_then(|ua| ua.original)
                    .is_some_and(|ua| glob.is_match(ua))
            })
    }
}

impl Privacy {
    fn apply<'a>(&self, document: &mut Document<'a>, rewrites: &'a mut Rewrites) {
        let Rewrites {
            source_ip,
            source_address,
            url_original,
            url_query,
        } = rewrites;
        if let Some(source) = document.source.as_mut() {
            if let Some(ip) = source.ip {
                if self.truncate(ip, source_ip) {
                    source.ip = Some(source_ip.as_str());
                }
            }
            if let Some(address) = source.address {
                if self.truncate(address, source_address) {
                    source.address = Some(source_address.as_str());
                }
            }
        }
        if let Some(url) = document.url.as_mut() {
            match self.query {
                QueryMode::Keep => {}
                QueryMode::Remove => {
                    url.query = None;
                    if let Some((before, _)) = url.original.split_once('?') {
                        url.original = before;
                    }
                }
                QueryMode::Redact => {
                    if let Some(query) = url.query {
                        if redact(query, &self.redact_params, url_query) {
                            url.query = Some(url_query.as_str());
                        }
                    }
                    if let Some((before, query)) = url.original.split_once('?') {
                        url_original.clear();
                        url_original.push_str(before);
                        url_original.push('?');
                        if redact_into(query, &self.redact_params, url_original) {
                            url.original = url_original.as_str();
                        }
                    }
                }
            }
        }
        if self.remove_user_agent_original {
            if let Some(ua) = document.user_agent.as_mut().filter(|ua| ua.is_parsed()) {
                ua.original = None;
            }
        }
    }

    /// Writes the address with its host bits zeroed into `out`; false when `text` is no IP
    /// address (it is left as it is) or nothing changes.
    fn truncate(&self, text: &str, out: &mut String) -> bool {
        let Ok(ip) = text.parse::<IpAddr>() else {
            return false;
        };
        let masked = match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.ipv4_prefix))
                    .unwrap_or(0);
                IpAddr::V4((bits & mask).into())
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.ipv6_prefix))
                    .unwrap_or(0);
                IpAddr::V6((bits & mask).into())
            }
        };
        if masked == ip {
            return false;
        }
        out.clear();
        let _ = write!(out, "{masked}");
        true
    }
}

/// Writes `query` with the values of `names` replaced by [`REDACTED`] into `out`; false (and
/// `out` meaningless) when no parameter is named.
fn redact(query: &str, names: &[String], out: &mut String) -> bool {
    out.clear();
    redact_into(query, names, out)
}

/// Appends the redacted `query` to `out`.
fn redact_into(query: &str, names: &[String], out: &mut String) -> bool {
    let mut changed = false;
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            out.push_str(name);
            out.push('=');
            out.push_str(REDACTED);
            changed = true;
        } else {
            out.push_str(pair);
        }
    }
    changed
}
