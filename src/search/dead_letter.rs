//! Documents the search server refused for good (mapping conflicts and other item 4xx) are kept,
//! not dropped: one NDJSON record per document with its `_index`, `_id`, the server's status and
//! reason, and the document itself, in a local directory or under an S3 prefix.
//!
//! File names are deterministic and injective in (location, object, batch): a readable form of
//! the object's name, a hash of its exact bucket and key, and the `log.offset` of the batch's
//! first refused line. A redelivered object overwrites its own earlier dead letters instead of
//! adding copies, and never another object's.

use std::path::{Path, PathBuf};

use crate::bulk::ObjectHash;
use crate::object_key::ObjectInfo;
use crate::source::S3Location;

/// Where dead letters go.
#[derive(Debug, Clone)]
pub enum DeadLetter {
    /// A local directory (created when the first dead letter is written).
    Local(PathBuf),
    /// `s3://bucket/prefix`.
    S3 {
        client: aws_sdk_s3::Client,
        location: S3Location,
    },
}

/// One refused document.
#[derive(Debug)]
pub struct DeadItem<'b> {
    pub index: &'b str,
    pub id: &'b str,
    pub line_offset: u64,
    pub status: u16,
    pub reason: &'b str,
    /// The document's JSON, as sent.
    pub document: &'b [u8],
}

/// A dead-letter location that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// Not `s3://BUCKET[/PREFIX]` (the message names the location).
    #[error("{0}")]
    S3Location(String),
    #[error("dead-letter location {spec}: no S3 client")]
    NoS3Client { spec: String },
    #[error("dead-letter location: empty")]
    Empty,
}

/// The command line reports errors as text.
impl From<LocationError> for String {
    fn from(error: LocationError) -> String {
        error.to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("could not be written to the dead-letter file {path}: {source}")]
    Local {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not be written to the dead-letter object s3://{bucket}/{key}: {reason}")]
    S3 {
        bucket: String,
        key: String,
        reason: String,
    },
}

impl DeadLetter {
    /// `DIR` or `s3://bucket/prefix`.
    pub fn parse(spec: &str, s3: Option<&aws_sdk_s3::Client>) -> Result<Self, LocationError> {
        if spec.starts_with("s3://") {
            let location = S3Location::parse(spec).map_err(LocationError::S3Location)?;
            let client = s3
                .ok_or_else(|| LocationError::NoS3Client {
                    spec: spec.to_string(),
                })?
                .clone();
            Ok(DeadLetter::S3 { client, location })
        } else if spec.is_empty() {
            Err(LocationError::Empty)
        } else {
            Ok(DeadLetter::Local(PathBuf::from(spec)))
        }
    }

    /// Writes the records of one batch; returns where they went.
    pub async fn write(
        &self,
        object: &ObjectInfo,
        items: &[DeadItem<'_>],
    ) -> Result<String, DeadLetterError> {
        let body = records(object, items);
        let name = file_name(object, items.first().map_or(0, |i| i.line_offset));
        match self {
            DeadLetter::Local(dir) => {
                let path = dir.join(&name);
                let write = async {
                    if let Some(parent) = path.parent() {
                        tokio::fs::create_dir_all(parent).await?;
                    }
                    tokio::fs::write(&path, &body).await
                };
                write.await.map_err(|source| DeadLetterError::Local {
                    path: path.display().to_string(),
                    source,
                })?;
                Ok(path.display().to_string())
            }
            DeadLetter::S3 { client, location } => {
                let key = location.join(&name);
                client
                    .put_object()
                    .bucket(&location.bucket)
                    .key(&key)
                    .content_type("application/x-ndjson")
                    .body(body.into())
                    .send()
                    .await
                    .map_err(|e| DeadLetterError::S3 {
                        bucket: location.bucket.clone(),
                        key: key.clone(),
                        reason: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                    })?;
                Ok(format!("s3://{}/{key}", location.bucket))
            }
        }
    }
}

/// `{"_index":…,"_id":…,"status":400,"reason":…,"log.file.path":…,"log.offset":…,"document":{…}}`
/// per line. The document is copied as sent (it is JSON already: no parse, no re-encoding).
fn records(object: &ObjectInfo, items: &[DeadItem<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|i| i.document.len() + 300).sum());
    for item in items {
        out.extend_from_slice(b"{\"_index\":");
        push_str(&mut out, item.index);
        out.extend_from_slice(b",\"_id\":");
        push_str(&mut out, item.id);
        out.extend_from_slice(format!(",\"status\":{},\"reason\":", item.status).as_bytes());
        push_str(&mut out, item.reason);
        out.extend_from_slice(b",\"object\":");
        push_str(&mut out, &object.file_path);
        out.extend_from_slice(
            format!(",\"log_offset\":{},\"document\":", item.line_offset).as_bytes(),
        );
        out.extend_from_slice(item.document);
        out.extend_from_slice(b"}\n");
    }
    out
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    crate::json::write_str(out, s);
}

/// `bucket/key.{hash}.{offset}.ndjson` for S3 objects, `local/path.{hash}.{offset}.ndjson` for
/// files: every path segment kept readable, none able to climb out of the dead-letter directory.
/// The readable form is lossy (`a b` and `a+b` both become `a_b`); `hash` — the 18 hex digits
/// every `_id` of the object starts with, a hash of the exact bucket and key — keeps two objects
/// from ever sharing a name, and the offset keeps the batches of one object apart. The name is
/// the same on every run, so a redelivered object rewrites its own letters.
fn file_name(object: &ObjectInfo, first_offset: u64) -> String {
    let origin = match &object.bucket {
        Some(bucket) => format!("{bucket}/{}", object.key),
        None => format!("local/{}", object.key),
    };
    let segments: Vec<String> = Path::new(&origin)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(sanitize(&s.to_string_lossy())),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .collect();
    let hash = ObjectHash::new(object.bucket.as_deref(), &object.key);
    format!(
        "{}.{}.{first_offset}.ndjson",
        segments.join("/"),
        hash.as_str()
    )
}

fn sanitize(segment: &str) -> String {
    segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_deterministic_and_stay_inside() {
        let name = |object: &ObjectInfo, offset| {
            let hash = ObjectHash::new(object.bucket.as_deref(), &object.key);
            (file_name(object, offset), hash.as_str().to_string())
        };
        let (got, hash) = name(&ObjectInfo::s3("logs", "AWSLogs/1/a b+c.log.gz"), 42);
        assert_eq!(got, format!("logs/AWSLogs/1/a_b_c.log.gz.{hash}.42.ndjson"));
        let (got, hash) = name(&ObjectInfo::local("../../etc/x.log"), 0);
        assert_eq!(got, format!("local/etc/x.log.{hash}.0.ndjson"));
        let (got, hash) = name(&ObjectInfo::local("/tmp/../x.log"), 7);
        assert_eq!(got, format!("local/tmp/x.log.{hash}.7.ndjson"));
    }

    #[test]
    fn names_that_read_alike_stay_apart() {
        let objects = [
            ObjectInfo::s3("b", "AWSLogs/a b.log.gz"),
            ObjectInfo::s3("b", "AWSLogs/a+b.log.gz"),
            ObjectInfo::s3("b", "team a/x.log.gz"),
            ObjectInfo::s3("b", "team+a/x.log.gz"),
            ObjectInfo::s3("b/team a", "x.log.gz"),
            ObjectInfo::local("team a/x.log.gz"),
            ObjectInfo::local("team+a/x.log.gz"),
        ];
        let names: std::collections::BTreeSet<String> =
            objects.iter().map(|o| file_name(o, 0)).collect();
        assert_eq!(names.len(), objects.len(), "{names:?}");
        assert_eq!(file_name(&objects[0], 0), file_name(&objects[0], 0));
        assert_ne!(file_name(&objects[0], 0), file_name(&objects[0], 1));
    }

    #[tokio::test]
    async fn records_carry_index_id_reason_and_the_document() {
        let dir = std::env::temp_dir().join(format!("albingest-dlq-unit-{}", std::process::id()));
        let dead_letter = DeadLetter::Local(dir.clone());
        let object = ObjectInfo::s3("b", "k.log.gz");
        let items = [DeadItem {
            index: "alb-logs-2026.11.01",
            id: "abc-0",
            line_offset: 0,
            status: 400,
            reason: "mapper_parsing_exception: failed to parse field [source.ip] \"x\"",
            document: br#"{"source":{"ip":"x"}}"#,
        }];
        let location = dead_letter.write(&object, &items).await.unwrap();
        let text = std::fs::read_to_string(&location).unwrap();
        let record: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(record["_index"], "alb-logs-2026.11.01");
        assert_eq!(record["_id"], "abc-0");
        assert_eq!(record["status"], 400);
        assert_eq!(record["object"], "s3://b/k.log.gz");
        assert_eq!(record["document"]["source"]["ip"], "x");
        assert!(record["reason"]
            .as_str()
            .unwrap()
            .contains("[source.ip] \"x\""));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
