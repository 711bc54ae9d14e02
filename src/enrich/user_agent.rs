//! `user_agent.original` → `user_agent.name`, `.version`, `.os.*`, `.device.name`, as
//! Elasticsearch's user_agent processor writes them.
//!
//! The patterns are uap-core's `regexes.yaml` (npm `uap-core` 0.18.0, Apache-2.0, `LICENSE`
//! beside it), embedded so that a fresh clone and the Lambda need no file. Elasticsearch's
//! processor runs the same file. The crate is `ua-parser` (the ua-parser project's own Rust
//! implementation, Apache-2.0): it runs uap-core's regexes with the `regex` crate behind a
//! literal prefilter (`regex-filtered`), so a string is tried only against the few patterns whose
//! literals it holds, where `uaparser` (uap-rs, MIT) tries every pattern in turn and has had no
//! release since 2023.
//!
//! How Elasticsearch turns a match into fields (`UserAgentProcessor.java`,
//! modules/ingest-user-agent in elastic/elasticsearch; "User agent processor",
//! <https://www.elastic.co/guide/en/elasticsearch/reference/current/user-agent-processor.html>):
//! `name` is the family, `Other` when no pattern matches; `version` joins major, minor, patch and
//! patch_minor with dots, as far as they go, absent without a major; `os` is left out when no
//! pattern matches, `os.version`/`os.full` (`{name} {version}`) only with a major; `device.name`
//! is the device family, `Other` when no pattern matches.
//!
//! ALB logs repeat a few hundred strings millions of times: [`UserAgentCache`] (one per parse
//! thread, no lock) keeps the parsed fields by the string, bounded.

use std::collections::HashMap;
use std::sync::Arc;

use xxhash_rust::xxh3::Xxh3Builder;

use crate::document::{DeviceName, UserAgentDetails, UserAgentOs};

/// uap-core's patterns.
const REGEXES_YAML: &str = include_str!("uap-core/regexes.yaml");

/// Entries one thread's cache holds before it starts again empty: a few thousand strings, some
/// hundred bytes each, is well under a megabyte a thread.
pub const CACHE_ENTRIES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum UserAgentError {
    #[error("the embedded uap-core regexes.yaml does not read: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("the embedded uap-core regexes.yaml does not compile: {0}")]
    Compile(#[from] ua_parser::Error),
}

/// The compiled patterns: built once per process, shared by the parse threads.
pub struct UserAgentParser {
    extractor: ua_parser::Extractor<'static>,
}

impl std::fmt::Debug for UserAgentParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserAgentParser(uap-core)")
    }
}

impl UserAgentParser {
    /// Compiles the embedded `regexes.yaml` (a few hundred milliseconds, once).
    pub fn embedded() -> Result<Self, UserAgentError> {
        let regexes: ua_parser::Regexes<'static> = serde_yaml_ng::from_str(REGEXES_YAML)?;
        Ok(Self {
            extractor: ua_parser::Extractor::try_from(regexes)?,
        })
    }

    /// The fields of one user agent string.
    pub fn parse(&self, original: &str) -> UserAgentDetails {
        let (agent, os, device) = self.extractor.extract(original);
        let (name, version) = match agent {
            Some(agent) => (
                agent.family.into_owned(),
                dotted(&[agent.major, agent.minor, agent.patch, agent.patch_minor]),
            ),
            None => ("Other".to_owned(), None),
        };
        let os = os.map(|os| {
            let version = dotted(&[
                os.major.as_deref(),
                os.minor.as_deref(),
                os.patch.as_deref(),
                os.patch_minor.as_deref(),
            ]);
            let name = os.os.into_owned();
            UserAgentOs {
                full: version.as_ref().map(|v| format!("{name} {v}")),
                name,
                version,
            }
        });
        let device = DeviceName {
            name: device.map_or_else(|| "Other".to_owned(), |d| d.device.into_owned()),
        };
        UserAgentDetails {
            name,
            version,
            os,
            device,
        }
    }
}

/// `1.2.3` from the parts present, stopping at the first missing one; `None` without a first.
fn dotted(parts: &[Option<&str>]) -> Option<String> {
    let mut version = String::new();
    for part in parts {
        match part {
            Some(p) if !p.is_empty() => {
                if !version.is_empty() {
                    version.push('.');
                }
                version.push_str(p);
            }
            _ => break,
        }
    }
    (!version.is_empty()).then_some(version)
}

/// One parse thread's parsed user agents by their string. When full it starts again empty:
/// bounded memory, and the strings that keep coming back are parsed again once.
pub struct UserAgentCache {
    // Seeded per cache: the strings come from the internet, and a fixed seed would let one
    // craft colliding strings.
    entries: HashMap<Box<str>, Arc<UserAgentDetails>, Xxh3Builder>,
}

impl Default for UserAgentCache {
    fn default() -> Self {
        Self {
            entries: HashMap::with_capacity_and_hasher(
                CACHE_ENTRIES,
                Xxh3Builder::new().with_seed(fastrand::u64(..)),
            ),
        }
    }
}

impl std::fmt::Debug for UserAgentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserAgentCache({} entries)", self.entries.len())
    }
}

impl UserAgentCache {
    /// The parsed fields of `original`, from the cache or parsed now.
    pub fn get(&mut self, parser: &UserAgentParser, original: &str) -> Arc<UserAgentDetails> {
        if let Some(found) = self.entries.get(original) {
            return Arc::clone(found);
        }
        if self.entries.len() >= CACHE_ENTRIES {
            self.entries.clear();
        }
        let parsed = Arc::new(parser.parse(original));
        self.entries.insert(original.into(), Arc::clone(&parsed));
        parsed
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_join_the_parts_present() {
        assert_eq!(
            dotted(&[Some("1"), Some("2"), None, Some("4")]).as_deref(),
            Some("1.2")
        );
        assert_eq!(dotted(&[None, Some("2")]), None);
        assert_eq!(dotted(&[Some("10")]).as_deref(), Some("10"));
    }

    #[test]
    fn the_cache_stays_bounded_and_answers_the_same() {
        let parser = UserAgentParser::embedded().unwrap();
        let mut cache = UserAgentCache::default();
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let first = cache.get(&parser, chrome);
        assert_eq!(first.name, "Chrome");
        assert!(Arc::ptr_eq(&first, &cache.get(&parser, chrome)));
        for i in 0..CACHE_ENTRIES + 10 {
            cache.get(&parser, &format!("agent-{i}"));
            assert!(cache.len() <= CACHE_ENTRIES);
        }
        assert_eq!(cache.get(&parser, chrome).name, "Chrome");
    }

    #[test]
    fn unknown_agents_are_other_without_os() {
        let parser = UserAgentParser::embedded().unwrap();
        let parsed = parser.parse("zzzz");
        assert_eq!(parsed.name, "Other");
        assert_eq!(parsed.version, None);
        assert!(parsed.os.is_none());
        assert_eq!(parsed.device.name, "Other");
    }
}
