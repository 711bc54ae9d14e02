//! Where each document goes: its daily index and its deterministic `_id`, and the `_bulk` action
//! line that carries both.

use std::io::{self, Write};

use xxhash_rust::xxh3::xxh3_128;

use crate::format::LogFormat;
use crate::parse::ParsedLine;

/// Index name prefixes by format; failure documents go to `{prefix}-failed-YYYY.MM.DD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPrefixes {
    prefixes: [String; 4],
}

impl Default for IndexPrefixes {
    fn default() -> Self {
        Self {
            prefixes: LogFormat::ALL.map(|f| f.default_index_prefix().to_string()),
        }
    }
}

impl IndexPrefixes {
    pub fn get(&self, format: LogFormat) -> &str {
        &self.prefixes[format_index(format)]
    }

    pub fn set(&mut self, format: LogFormat, prefix: &str) {
        self.prefixes[format_index(format)] = prefix.to_string();
    }

    /// Applies `--index-prefix` values: `PREFIX` (ALB access logs) or `FORMAT=PREFIX`.
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        let (format, prefix) = match spec.split_once('=') {
            Some((format, prefix)) => (format.parse::<LogFormat>()?, prefix),
            None => (LogFormat::Alb, spec),
        };
        if !valid_index_prefix(prefix) {
            return Err(format!(
                "index prefix {prefix:?}: use lower-case letters, digits, '-', '_' and '.', not starting with '-', '_' or '.'"
            ));
        }
        self.set(format, prefix);
        Ok(())
    }

    /// Every prefix, for the cleanup of old indices.
    pub fn all(&self) -> &[String] {
        &self.prefixes
    }

    /// `alb-logs-2026.11.01`, or `alb-logs-failed-2026.11.01` for a failure document.
    pub fn index_name(&self, parsed: &ParsedLine) -> String {
        let prefix = self.get(parsed.format);
        let date = parsed.date().replace('-', ".");
        if parsed.failed {
            format!("{prefix}-failed-{date}")
        } else {
            format!("{prefix}-{date}")
        }
    }
}

fn format_index(format: LogFormat) -> usize {
    LogFormat::ALL
        .iter()
        .position(|f| *f == format)
        .unwrap_or(0)
}

fn valid_index_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= 200
        && !prefix.starts_with(['-', '_', '.', '+'])
        && prefix.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

/// The object part of every `_id` from one object: 72 bits of a hash of bucket and key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectHash(u128);

impl ObjectHash {
    pub fn new(bucket: Option<&str>, key: &str) -> Self {
        let mut material = Vec::with_capacity(key.len() + 64);
        material.extend_from_slice(bucket.unwrap_or("").as_bytes());
        material.push(0);
        material.extend_from_slice(key.as_bytes());
        Self(xxh3_128(&material))
    }

    /// `_id` of the line at `offset`: 18 hex digits of the object hash, `-`, the decimal offset
    /// (at most 39 bytes). The same object and line give the same id on every run, so a retry's
    /// `create` answers 409 instead of writing a duplicate.
    pub fn document_id(&self, offset: u64) -> String {
        format!("{:018x}-{offset}", self.0 >> 56)
    }
}

/// Writes `{"create":{"_index":"…","_id":"…"}}\n`.
pub fn write_action(out: &mut impl Write, index: &str, id: &str) -> io::Result<()> {
    // Index names and ids are made here from safe characters: no JSON escaping needed.
    debug_assert!(!index.contains(['"', '\\']) && !id.contains(['"', '\\']));
    writeln!(out, r#"{{"create":{{"_index":"{index}","_id":"{id}"}}}}"#)
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
        assert!(h.document_id(u64::MAX).len() <= 40);
        // Pinned: ids must never change between releases, or re-ingesting duplicates documents.
        assert_eq!(
            ObjectHash::new(Some("b"), "k").document_id(42),
            format!("{:018x}-42", xxh3_128(b"b\0k") >> 56)
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
        assert!(p.apply("Bad").is_err());
        assert!(p.apply("x=y").is_err());
        assert!(p.apply(".hidden").is_err());
    }
}
