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
use crate::config::{
    glob, load_balancer_matches, Config, InvalidGlob, InvalidStatus, QueryMode, StatusMatch,
};
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

/// A rule of the configuration that does not compile ([`Rules::compile`]): a checked file never
/// gets here, only a configuration built in code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RulesError {
    /// A `load_balancer` or `user_agent` condition is not a glob.
    #[error(transparent)]
    Glob(#[from] InvalidGlob),
    /// A drop rule's `status` is neither a class nor a code.
    #[error(transparent)]
    Status(#[from] InvalidStatus),
    /// A drop rule's `format` names no format (the message lists them).
    #[error("{0}")]
    Format(String),
}

/// What a redacted parameter's value becomes.
pub const REDACTED: &str = "REDACTED";

impl Rules {
    /// Compiles the rules of a checked configuration.
    pub fn compile(config: &Config) -> Result<Self, RulesError> {
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
            .collect::<Result<_, RulesError>>()?;
        let drops = config
            .drop
            .iter()
            .map(|rule| {
                Ok(DropRule {
                    user_agent: rule.user_agent.as_deref().map(glob).transpose()?,
                    status: rule.status.as_deref().map(StatusMatch::parse).transpose()?,
                    path_prefix: rule.path_prefix.clone(),
                    load_balancer: rule.load_balancer.as_deref().map(glob).transpose()?,
                    format: rule
                        .format
                        .as_deref()
                        .map(str::parse)
                        .transpose()
                        .map_err(RulesError::Format)?,
                    sample: rule.sample,
                })
            })
            .collect::<Result<_, RulesError>>()?;
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
                    .find(|(glob, _)| load_balancer_matches(glob, name))
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
            && self.load_balancer.as_ref().is_none_or(|glob| {
                load_balancer(document).is_some_and(|name| load_balancer_matches(glob, name))
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object_key::ObjectInfo;
    use crate::parse::Parser;

    const ALB: &str = r#"https 2026-11-24T10:05:00.000000Z app/prod-web-alb/50dc6c495c0c9188 203.0.113.77:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET https://www.example.com:443/static/app.js?token=abc&page=2 HTTP/1.1" "Mozilla/5.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354""#;

    fn line(lb: &str, client: &str, status: u16, url: &str, agent: &str) -> String {
        ALB.replace("app/prod-web-alb/", &format!("app/{lb}/"))
            .replace("203.0.113.77:2817", client)
            .replace(" 200 200 ", &format!(" {status} {status} "))
            .replace(
                "https://www.example.com:443/static/app.js?token=abc&page=2",
                url,
            )
            .replace("Mozilla/5.0", agent)
    }

    /// The document as JSON after the rules of `toml`, or `None` when they drop it.
    fn run(toml: &str, text: &str, offset: u64) -> Option<serde_json::Value> {
        run_with(&parser_with(toml), text, offset)
    }

    fn parser_with(toml: &str) -> Parser {
        let config = Config::from_toml("test.toml", toml).unwrap();
        Parser::embedded().with_rules(Rules::compile(&config).unwrap())
    }

    fn run_with(parser: &Parser, text: &str, offset: u64) -> Option<serde_json::Value> {
        let object = ObjectInfo::s3("logs", "AWSLogs/x.log");
        let ids = ObjectHash::new(object.bucket.as_deref(), &object.key);
        let mut scratch = parser.scratch();
        let mut rewrites = Rewrites::default();
        let mut parsed = parser.parse(&object, text, offset, &mut scratch);
        match parser
            .rules()
            .apply(&mut parsed, &ids, offset, &mut rewrites)
        {
            Verdict::Keep => Some(serde_json::from_slice(&parsed.document.to_json()).unwrap()),
            Verdict::Drop => None,
        }
    }

    #[test]
    fn no_rules_change_nothing() {
        let config = Config::default();
        assert!(Rules::compile(&config).unwrap().is_empty());
        let doc = run("", ALB, 0).unwrap();
        assert_eq!(doc["source"]["ip"], "203.0.113.77");
        assert!(doc.get("labels").is_none() && doc.get("tags").is_none());
    }

    #[test]
    fn static_labels_tags_and_labels_by_load_balancer() {
        let toml = r#"
            tags = ["albingest", "eu"]
            [labels]
            env = "unknown"
            region = "eu"
            [[load_balancer_labels]]
            load_balancer = "prod-web-*"
            labels = { env = "prod", team = "web" }
            [[load_balancer_labels]]
            load_balancer = "prod-*"
            labels = { env = "prod", team = "other" }
        "#;
        let doc = run(toml, ALB, 0).unwrap();
        assert_eq!(
            doc["labels"],
            serde_json::json!({"env": "prod", "region": "eu", "team": "web"}),
            "the first matching rule's labels over the static ones"
        );
        assert_eq!(doc["tags"], serde_json::json!(["albingest", "eu"]));
        let other = run(toml, &line("test-api", "1.2.3.4:1", 200, "/", "x"), 0).unwrap();
        assert_eq!(
            other["labels"],
            serde_json::json!({"env": "unknown", "region": "eu"})
        );
        // A failure document keeps its failure tag first, then the configured ones.
        let failure = run(toml, "garbage line", 0).unwrap();
        assert_eq!(
            failure["tags"],
            serde_json::json!(["_albingest_parse_failure", "albingest", "eu"])
        );
        assert_eq!(failure["labels"]["region"], "eu");
    }

    #[test]
    fn drop_rules_by_each_field() {
        let health = line("a", "1.2.3.4:1", 200, "/", "ELB-HealthChecker/2.0");
        let toml = "[[drop]]\nuser_agent = \"ELB-HealthChecker/*\"\ndrop = true\n";
        assert!(run(toml, &health, 0).is_none());
        assert!(run(toml, ALB, 0).is_some());

        let toml =
            "[[drop]]\nstatus = \"3xx\"\ndrop = true\n[[drop]]\nstatus = \"404\"\ndrop = true\n";
        assert!(run(toml, &line("a", "1.2.3.4:1", 301, "/", "x"), 0).is_none());
        assert!(run(toml, &line("a", "1.2.3.4:1", 404, "/", "x"), 0).is_none());
        assert!(run(toml, &line("a", "1.2.3.4:1", 403, "/", "x"), 0).is_some());
        assert!(run(toml, ALB, 0).is_some());

        let toml = "[[drop]]\npath_prefix = \"/static/\"\ndrop = true\n";
        assert!(run(toml, ALB, 0).is_none());
        assert!(run(toml, &line("a", "1.2.3.4:1", 200, "/api/x", "x"), 0).is_some());

        let toml = "[[drop]]\nload_balancer = \"prod-web-alb\"\ndrop = true\n";
        assert!(run(toml, ALB, 0).is_none(), "the bare name matches");
        let toml = "[[drop]]\nload_balancer = \"app/prod-web-alb/*\"\ndrop = true\n";
        assert!(run(toml, ALB, 0).is_none(), "the name as logged matches");
        assert!(run(toml, &line("prod-api", "1.2.3.4:1", 200, "/", "x"), 0).is_some());

        let toml = "[[drop]]\nformat = \"nlb\"\ndrop = true\n";
        assert!(run(toml, ALB, 0).is_some());
        let toml = "[[drop]]\nformat = \"alb\"\ndrop = true\n";
        assert!(run(toml, ALB, 0).is_none());

        // Every condition of a rule must hold.
        let toml = "[[drop]]\nformat = \"alb\"\nstatus = \"5xx\"\ndrop = true\n";
        assert!(run(toml, ALB, 0).is_some());
    }

    #[test]
    fn failure_documents_are_never_dropped() {
        let toml = "[[drop]]\nformat = \"alb\"\ndrop = true\n";
        let failure = run(toml, "http garbage", 0).unwrap();
        assert_eq!(failure["event"]["kind"], "pipeline_error");
    }

    #[test]
    fn sampling_keeps_one_in_n_by_the_document_id() {
        let toml = "[[drop]]\nstatus = \"2xx\"\nsample = 10\n";
        let parser = parser_with(toml);
        let kept: Vec<u64> = (0..2000u64)
            .map(|i| i * 500)
            .filter(|offset| run_with(&parser, ALB, *offset).is_some())
            .collect();
        // About 1 in 10 (200 expected; a fair hash stays well within these bounds).
        assert!((140..=260).contains(&kept.len()), "{}", kept.len());
        // The same lines on a re-run.
        let parser = parser_with(toml);
        let again: Vec<u64> = (0..2000u64)
            .map(|i| i * 500)
            .filter(|offset| run_with(&parser, ALB, *offset).is_some())
            .collect();
        assert_eq!(kept, again);
        // The decision is the id's: the same offset in another object may differ.
        let ids = ObjectHash::new(Some("logs"), "AWSLogs/x.log");
        for offset in &kept {
            assert!(keeps_sample(&ids, *offset, 10));
        }
        // Lines the rule does not match are all kept; sample = 1 keeps everything.
        assert!(run(toml, &line("a", "1.2.3.4:1", 500, "/", "x"), 7).is_some());
        let all = "[[drop]]\nstatus = \"2xx\"\nsample = 1\n";
        let parser = parser_with(all);
        assert!((0..50).all(|o| run_with(&parser, ALB, o).is_some()));
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let toml =
            "[[drop]]\nstatus = \"2xx\"\nsample = 1\n[[drop]]\nformat = \"alb\"\ndrop = true\n";
        assert!(run(toml, ALB, 0).is_some(), "the sample rule matched first");
    }

    #[test]
    fn client_addresses_are_truncated() {
        let doc = run("[privacy]", ALB, 0).unwrap();
        assert_eq!(doc["source"]["ip"], "203.0.113.0");
        assert_eq!(doc["source"]["address"], "203.0.113.0");
        assert_eq!(doc["source"]["port"], 2817);
        // The target address is not the client's: left alone.
        assert_eq!(doc["aws"]["elb"]["backend"]["ip"], "10.0.0.1");

        let v6 = line("a", "2001:db8:1234:5678::9:443", 200, "/", "x");
        let doc = run("[privacy]", &v6, 0).unwrap();
        assert_eq!(doc["source"]["ip"], "2001:db8:1234::");
        let doc = run("[privacy]\nipv4_prefix = 16\nipv6_prefix = 32\n", &v6, 0).unwrap();
        assert_eq!(doc["source"]["ip"], "2001:db8::");
        let doc = run("[privacy]\nipv4_prefix = 16\n", ALB, 0).unwrap();
        assert_eq!(doc["source"]["ip"], "203.0.0.0");
        let doc = run("[privacy]\nipv4_prefix = 32\n", ALB, 0).unwrap();
        assert_eq!(doc["source"]["ip"], "203.0.113.77");
        let doc = run("[privacy]\nipv4_prefix = 0\n", ALB, 0).unwrap();
        assert_eq!(doc["source"]["ip"], "0.0.0.0");
    }

    #[test]
    fn query_strings_removed_or_redacted() {
        let doc = run("[privacy]\nipv4_prefix = 32\nquery = \"remove\"\n", ALB, 0).unwrap();
        assert_eq!(
            doc["url"]["original"],
            "https://www.example.com:443/static/app.js"
        );
        assert!(doc["url"].get("query").is_none());
        assert_eq!(doc["url"]["path"], "/static/app.js");

        let redact = "[privacy]\nquery = \"redact\"\nredact_params = [\"token\", \"Sig\"]\n";
        let doc = run(redact, ALB, 0).unwrap();
        assert_eq!(
            doc["url"]["original"],
            "https://www.example.com:443/static/app.js?token=REDACTED&page=2"
        );
        assert_eq!(doc["url"]["query"], "token=REDACTED&page=2");
        let doc = run(
            redact,
            &line("a", "1.2.3.4:1", 200, "/p?a=1&sig=x&sig&b", "x"),
            0,
        )
        .unwrap();
        assert_eq!(doc["url"]["original"], "/p?a=1&sig=REDACTED&sig=REDACTED&b");
        assert_eq!(doc["url"]["query"], "a=1&sig=REDACTED&sig=REDACTED&b");
        // Nothing named: the values stay as they were.
        let doc = run(redact, &line("a", "1.2.3.4:1", 200, "/p?a=1", "x"), 0).unwrap();
        assert_eq!(doc["url"]["original"], "/p?a=1");
        assert_eq!(doc["url"]["query"], "a=1");
    }

    #[test]
    fn the_user_agent_stays_until_it_is_parsed() {
        let toml = "[privacy]\nremove_user_agent_original = true\n";
        let doc = run(toml, ALB, 0).unwrap();
        assert_eq!(doc["user_agent"]["original"], "Mozilla/5.0");
    }

    #[tokio::test]
    async fn a_parsed_user_agent_leaves_only_its_fields() {
        let enrich = crate::enrich::EnrichConfig {
            user_agent: true,
            ..Default::default()
        };
        let enricher = crate::enrich::Enricher::load(&enrich, None).await.unwrap();
        let config = Config::from_toml("t", "[privacy]\nremove_user_agent_original = true\n");
        let parser = Parser::embedded()
            .enrich(enricher)
            .with_rules(Rules::compile(&config.unwrap()).unwrap());
        let agent = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
        let text = line("a", "1.2.3.4:1", 200, "/p", agent);
        let object = ObjectInfo::s3("logs", "AWSLogs/x.log");
        let ids = ObjectHash::new(object.bucket.as_deref(), &object.key);
        let mut scratch = parser.scratch();
        let mut parsed = parser.parse(&object, &text, 0, &mut scratch);
        parser.enricher().enrich(&mut parsed, &mut scratch.enrich);
        let mut rewrites = Rewrites::default();
        let verdict = parser.rules().apply(&mut parsed, &ids, 0, &mut rewrites);
        assert_eq!(verdict, Verdict::Keep);
        let doc: serde_json::Value = serde_json::from_slice(&parsed.document.to_json()).unwrap();
        assert_eq!(doc["user_agent"].get("original"), None, "{doc}");
        assert_eq!(doc["user_agent"]["name"], "Firefox", "{doc}");
    }

    #[test]
    fn rewrites_are_reused_across_documents() {
        // Two documents in a row through one Rewrites: the second's values are its own.
        let config = Config::from_toml("t", "[privacy]\nquery = \"remove\"\n").unwrap();
        let parser = Parser::embedded().with_rules(Rules::compile(&config).unwrap());
        let object = ObjectInfo::local("x.log");
        let ids = ObjectHash::new(None, "x.log");
        let (mut scratch, mut rewrites) = (parser.scratch(), Rewrites::default());
        let mut out = Vec::new();
        for client in ["198.51.100.9:1", "192.0.2.200:2"] {
            let text = line("a", client, 200, "/", "x");
            let mut parsed = parser.parse(&object, &text, 0, &mut scratch);
            parser.rules().apply(&mut parsed, &ids, 0, &mut rewrites);
            let doc: serde_json::Value =
                serde_json::from_slice(&parsed.document.to_json()).unwrap();
            out.push(doc["source"]["ip"].as_str().unwrap().to_string());
        }
        assert_eq!(out, ["198.51.100.0", "192.0.2.0"]);
    }
}
