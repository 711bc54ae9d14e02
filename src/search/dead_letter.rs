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
    #[error(transparent)]
    S3Location(#[from] crate::source::S3LocationError),
    #[error("dead-letter location {spec}: no S3 client")]
    NoS3Client { spec: String },
    #[error("dead-letter location: empty")]
    Empty,
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
            let location = S3Location::parse(spec)?;
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

/// `{"_index":…,"_id":…,"status":400,"reason":…,"object":…,"log_offset":…,"document":{…}}`
/// per line. The document is copied as sent (it is JSON already: no parse, no re-encoding).
fn records(object: &ObjectInfo, items: &[DeadItem<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|i| i.document.len() + 300).sum());
    for item in items {
        write_record(&mut out, item, &object.file_path);
    }
    out
}

/// One record line (with its newline); `object` is `s3://bucket/key` or the path.
fn write_record(out: &mut Vec<u8>, item: &DeadItem<'_>, object: &str) {
    out.extend_from_slice(b"{\"_index\":");
    push_str(out, item.index);
    out.extend_from_slice(b",\"_id\":");
    push_str(out, item.id);
    out.extend_from_slice(format!(",\"status\":{},\"reason\":", item.status).as_bytes());
    push_str(out, item.reason);
    out.extend_from_slice(b",\"object\":");
    push_str(out, object);
    out.extend_from_slice(format!(",\"log_offset\":{},\"document\":", item.line_offset).as_bytes());
    out.extend_from_slice(item.document);
    out.extend_from_slice(b"}\n");
}

/// One record of a dead-letter file, read back (by `albingest replay`).
#[derive(Debug, serde::Deserialize)]
pub struct DeadRecord {
    #[serde(rename = "_index")]
    pub index: String,
    /// Empty when the server made the ids.
    #[serde(rename = "_id", default)]
    pub id: String,
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub reason: String,
    /// The log object the document came from (`s3://bucket/key` or the path).
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub log_offset: u64,
    /// The document's JSON, exactly as it was sent.
    pub document: Box<serde_json::value::RawValue>,
}

impl DeadRecord {
    /// A record line; the error names the missing or malformed field.
    pub fn parse(line: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(line)
    }

    /// This record as a line again, with the server's latest status and reason.
    pub fn write_refused(&self, out: &mut Vec<u8>, status: u16, reason: &str) {
        let item = DeadItem {
            index: &self.index,
            id: &self.id,
            line_offset: self.log_offset,
            status,
            reason,
            document: self.document.get().as_bytes(),
        };
        write_record(out, &item, &self.object);
    }
}

/// One dead-letter file: a path, or an S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLetterFile {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

impl std::fmt::Display for DeadLetterFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeadLetterFile::Local(path) => write!(f, "{}", path.display()),
            DeadLetterFile::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// Reading and replacing dead-letter files went wrong.
#[derive(Debug, thiserror::Error)]
#[error("dead-letter file {file}: {operation} failed: {reason}")]
pub struct DeadLetterFileError {
    pub file: String,
    pub operation: &'static str,
    pub reason: String,
}

/// The suffix of every dead-letter file.
const SUFFIX: &str = ".ndjson";
/// A local file being replaced is written under this name beside it, then renamed over it.
const REPLACING: &str = ".replacing";

impl DeadLetter {
    /// Every dead-letter file at this location (`*.ndjson`, recursively; a local path that is a
    /// file is that file), sorted.
    pub async fn list(&self) -> Result<Vec<DeadLetterFile>, DeadLetterFileError> {
        match self {
            DeadLetter::Local(path) => {
                let path = path.clone();
                let listed = tokio::task::spawn_blocking(move || {
                    let mut files = Vec::new();
                    list_local(&path, true, &mut files).map(|()| files)
                })
                .await
                .map_err(|e| DeadLetterFileError {
                    file: String::new(),
                    operation: "listing",
                    reason: e.to_string(),
                })?;
                let mut files = listed?;
                files.sort();
                Ok(files.into_iter().map(DeadLetterFile::Local).collect())
            }
            DeadLetter::S3 { client, location } => {
                let prefix = if location.prefix.is_empty() || location.prefix.ends_with('/') {
                    location.prefix.clone()
                } else {
                    format!("{}/", location.prefix)
                };
                let mut pages = client
                    .list_objects_v2()
                    .bucket(&location.bucket)
                    .prefix(&prefix)
                    .into_paginator()
                    .send();
                let mut files = Vec::new();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| DeadLetterFileError {
                        file: format!("s3://{}/{prefix}", location.bucket),
                        operation: "ListObjectsV2",
                        reason: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                    })?;
                    files.extend(
                        page.contents()
                            .iter()
                            .filter_map(|o| o.key())
                            .filter(|k| k.ends_with(SUFFIX))
                            .map(|key| DeadLetterFile::S3 {
                                bucket: location.bucket.clone(),
                                key: key.to_string(),
                            }),
                    );
                }
                Ok(files)
            }
        }
    }

    /// The whole file (a dead-letter file holds one batch: a few MiB at most).
    pub async fn read(&self, file: &DeadLetterFile) -> Result<Vec<u8>, DeadLetterFileError> {
        let failed = |operation, reason: String| DeadLetterFileError {
            file: file.to_string(),
            operation,
            reason,
        };
        match (self, file) {
            (_, DeadLetterFile::Local(path)) => tokio::fs::read(path)
                .await
                .map_err(|e| failed("reading", e.to_string())),
            (DeadLetter::S3 { client, .. }, DeadLetterFile::S3 { bucket, key }) => {
                crate::source::read_whole_object(client, bucket, key)
                    .await
                    .map(|body| body.to_vec())
                    .map_err(|e| failed("GetObject", e.to_string()))
            }
            (DeadLetter::Local(_), DeadLetterFile::S3 { .. }) => {
                Err(failed("GetObject", "no S3 client".into()))
            }
        }
    }

    /// Replaces the file with `body` in one step (a local file is written beside it and renamed
    /// over it; an S3 `PutObject` replaces the object whole), or deletes it when `body` is empty.
    /// Killed midway, the file is either the old one or the new one.
    pub async fn replace(
        &self,
        file: &DeadLetterFile,
        body: Vec<u8>,
    ) -> Result<(), DeadLetterFileError> {
        let failed = |operation, reason: String| DeadLetterFileError {
            file: file.to_string(),
            operation,
            reason,
        };
        match (self, file) {
            (_, DeadLetterFile::Local(path)) if body.is_empty() => tokio::fs::remove_file(path)
                .await
                .map_err(|e| failed("removing", e.to_string())),
            (_, DeadLetterFile::Local(path)) => {
                let mut beside = path.clone().into_os_string();
                beside.push(REPLACING);
                let beside = PathBuf::from(beside);
                tokio::fs::write(&beside, &body)
                    .await
                    .map_err(|e| failed("writing", e.to_string()))?;
                tokio::fs::rename(&beside, path)
                    .await
                    .map_err(|e| failed("renaming", e.to_string()))
            }
            (DeadLetter::S3 { client, .. }, DeadLetterFile::S3 { bucket, key }) => {
                if body.is_empty() {
                    client
                        .delete_object()
                        .bucket(bucket)
                        .key(key)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| {
                            failed(
                                "DeleteObject",
                                aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                            )
                        })
                } else {
                    client
                        .put_object()
                        .bucket(bucket)
                        .key(key)
                        .content_type("application/x-ndjson")
                        .body(body.into())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| {
                            failed(
                                "PutObject",
                                aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                            )
                        })
                }
            }
            (DeadLetter::Local(_), DeadLetterFile::S3 { .. }) => {
                Err(failed("PutObject", "no S3 client".into()))
            }
        }
    }
}

/// The `*.ndjson` files under `path` (`path` itself when `named` and it is a file).
fn list_local(
    path: &Path,
    named: bool,
    files: &mut Vec<PathBuf>,
) -> Result<(), DeadLetterFileError> {
    let failed = |e: std::io::Error| DeadLetterFileError {
        file: path.display().to_string(),
        operation: "listing",
        reason: e.to_string(),
    };
    let metadata = std::fs::metadata(path).map_err(failed)?;
    if !metadata.is_dir() {
        if named || path.to_string_lossy().ends_with(SUFFIX) {
            files.push(path.to_path_buf());
        }
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(failed)? {
        let entry = entry.map_err(failed)?;
        list_local(&entry.path(), false, files)?;
    }
    Ok(())
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
