//! Where objects come from: a local file, a directory (recursively), an S3 object, or every
//! object under an S3 prefix (paginated listing, for backfills). Opening one gives a blocking
//! reader over its bytes: S3 bodies are streamed, never buffered whole.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use tokio::sync::mpsc;

use crate::format::{walk_takes, NotALog};

pub mod roles;
use crate::object_key::ObjectInfo;
use crate::window::{self, TimeWindow};

/// One object to ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

impl Source {
    pub fn object_info(&self) -> ObjectInfo {
        match self {
            Source::File(path) => ObjectInfo::local(&path.display().to_string()),
            Source::S3 { bucket, key } => ObjectInfo::s3(bucket, key),
        }
    }

    /// `s3://bucket/key` or the path.
    pub fn describe(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
        }
    }
}

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// May be empty (the whole bucket).
    pub prefix: String,
}

/// A text that is not an `s3://BUCKET[/PREFIX]` location ([`S3Location::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3LocationError {
    /// It does not start with `s3://`.
    #[error("{0:?}: an S3 location is s3://BUCKET[/PREFIX]")]
    NotS3(String),
    /// Nothing between `s3://` and the first `/`.
    #[error("{0:?}: no bucket name")]
    NoBucket(String),
}

impl S3Location {
    pub fn parse(url: &str) -> Result<Self, S3LocationError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| S3LocationError::NotS3(url.to_string()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(S3LocationError::NoBucket(url.to_string()));
        }
        Ok(Self {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The key for `name` under the prefix (a `/` between them unless the prefix ends in one).
    pub fn join(&self, name: &str) -> String {
        if self.prefix.is_empty() || self.prefix.ends_with('/') {
            format!("{}{name}", self.prefix)
        } else {
            format!("{}/{name}", self.prefix)
        }
    }
}

/// A command-line input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file, or a directory to walk.
    Path(PathBuf),
    /// Every object whose key starts with the prefix.
    S3Prefix(S3Location),
}

impl Input {
    pub fn parse(arg: &str) -> Result<Self, S3LocationError> {
        if arg.starts_with("s3://") {
            S3Location::parse(arg).map(Input::S3Prefix)
        } else {
            Ok(Input::Path(PathBuf::from(arg)))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: cannot open: {source}")]
    Local {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("s3://{bucket}/{key}: no such object (bucket {bucket:?}, key {key:?})")]
    NotFound { bucket: String, key: String },
    #[error("s3://{bucket}/{key}: no such bucket {bucket:?}")]
    NoSuchBucket { bucket: String, key: String },
    #[error("s3://{bucket}/{key}: access denied (bucket {bucket:?}, key {key:?}): {reason}")]
    AccessDenied {
        bucket: String,
        key: String,
        reason: String,
    },
    #[error("s3://{bucket}/{key}: {operation} failed: {reason}")]
    S3 {
        operation: &'static str,
        bucket: String,
        key: String,
        reason: String,
    },
    #[error("{0}: an S3 location needs an S3 client")]
    NoS3Client(String),
}

/// Why a whole S3 object could not be read ([`read_whole_object`]): the SDK's error with its
/// context (code, message), or the body's.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReadObjectError(String);

/// A whole (small) S3 object in memory: a configuration file, a GeoIP database, a dead-letter
/// file. Log objects are streamed instead ([`open`]).
pub async fn read_whole_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<bytes::Bytes, ReadObjectError> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| ReadObjectError(DisplayErrorContext(&e).to_string()))?;
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| ReadObjectError(e.to_string()))?;
    Ok(body.into_bytes())
}

/// The S3 client: the default AWS configuration chain, plus an endpoint for S3-compatible
/// servers. The SDK itself reads `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`; `endpoint` (the
/// `--s3-endpoint` flag) overrides both. With any custom endpoint, addressing is path-style
/// (`http://host/bucket/key`): S3-compatible servers rarely serve virtual-host buckets.
pub async fn s3_client(endpoint: Option<&str>) -> aws_sdk_s3::Client {
    bucket_clients(endpoint, roles::BucketRoles::default())
        .await
        .default_client()
        .clone()
}

/// The S3 clients of a run: [`s3_client`]'s for every bucket `roles` does not name, and one per
/// role (and region) it names, assumed on first use ([`roles`]).
pub async fn bucket_clients(
    endpoint: Option<&str>,
    roles: roles::BucketRoles,
) -> roles::BucketClients {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let sdk = loader.load().await;
    let custom_endpoint = endpoint.is_some()
        || ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|url| !url.is_empty()));
    roles::BucketClients::new(sdk, custom_endpoint, roles)
}

/// An object a listing found, and its size when the listing says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub source: Source,
    pub size: Option<u64>,
}

/// What directory and prefix walks left out ([`walk_takes`]), by reason, with the first name of
/// each: the run's summary reports it.
#[derive(Debug, Default)]
pub struct Skipped(Mutex<BTreeMap<NotALog, (u64, String)>>);

impl Skipped {
    fn add(&self, reason: NotALog, name: String) {
        tracing::info!(object = %name, %reason, "skipped");
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        counts.entry(reason).or_insert((0, name)).0 += 1;
    }

    pub fn total(&self) -> u64 {
        let counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        counts.values().map(|(n, _)| n).sum()
    }

    /// `2 not a load balancer log name (first: samples/README.md), 1 not .log or .log.gz (…)`.
    pub fn describe(&self) -> String {
        let counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let parts: Vec<String> = counts
            .iter()
            .map(|(reason, (n, first))| format!("{n} {reason} (first: {first})"))
            .collect();
        parts.join(", ")
    }
}

/// Lists every object of `inputs` into `out`, in order: files as given, directories walked
/// (sorted, recursively, symlinked directories not followed), S3 prefixes page by page. What a
/// walk finds is taken only if [`walk_takes`] its name and, with a `window`, if the end time in
/// its name is inside it (the rest is counted in `skipped`); a file named explicitly is always
/// taken. With a window, an S3 prefix in or above an `AWSLogs/…` tree is listed only in the day
/// folders the window needs ([`window_prefixes`]). The channel is bounded, so a listing of
/// millions of keys never sits in memory.
pub async fn enumerate(
    inputs: Vec<Input>,
    s3: Option<aws_sdk_s3::Client>,
    page_size: i32,
    window: Option<TimeWindow>,
    out: mpsc::Sender<Result<Listed, SourceError>>,
    skipped: std::sync::Arc<Skipped>,
) {
    for input in inputs {
        match input {
            Input::Path(path) => {
                let (out, skipped) = (out.clone(), skipped.clone());
                let walk = move || walk(&path, true, window.as_ref(), &out, &skipped);
                if tokio::task::spawn_blocking(walk).await.is_err() {
                    return;
                }
            }
            Input::S3Prefix(location) => {
                let Some(client) = &s3 else {
                    let url = format!("s3://{}/{}", location.bucket, location.prefix);
                    let _ = out.send(Err(SourceError::NoS3Client(url))).await;
                    continue;
                };
                let prefixes = match &window {
                    Some(window) => {
                        let now = crate::timestamp::now_epoch_seconds();
                        match window_prefixes(client, &location, window, now).await {
                            Ok(prefixes) => prefixes,
                            Err(e) => {
                                if out.send(Err(e)).await.is_err() {
                                    return;
                                }
                                continue;
                            }
                        }
                    }
                    None => vec![location.prefix.clone()],
                };
                for prefix in prefixes {
                    let location = S3Location {
                        bucket: location.bucket.clone(),
                        prefix,
                    };
                    let listing = Listing {
                        client,
                        location: &location,
                        page_size,
                        window: window.as_ref(),
                    };
                    if !listing.send(&out, &skipped).await {
                        return;
                    }
                }
            }
        }
    }
}

/// The prefixes a windowed listing of `location` reads: the day folders of each region
/// ([`TimeWindow::day_prefixes`]) when the prefix is a region folder of an `AWSLogs/` tree or a
/// folder above one (found with delimiter listings, one per level: accounts, regions), else the
/// prefix itself (listed whole, objects chosen by name).
pub async fn window_prefixes(
    client: &aws_sdk_s3::Client,
    location: &S3Location,
    window: &TimeWindow,
    now: i64,
) -> Result<Vec<String>, SourceError> {
    let mut out = Vec::new();
    let mut todo = vec![location.prefix.clone()];
    while let Some(prefix) = todo.pop() {
        if let Some(days) = window.day_prefixes(&prefix, now) {
            out.extend(days);
            continue;
        }
        if !window::descend(&prefix) {
            out.push(prefix);
            continue;
        }
        let children: Vec<String> = child_folders(client, &location.bucket, &prefix)
            .await?
            .into_iter()
            .filter(|child| window::leads_to_days(&prefix, child))
            .collect();
        let in_tree = prefix.split('/').any(|s| s == "AWSLogs");
        if children.is_empty() && !in_tree {
            out.push(prefix); // no AWSLogs tree below: the whole prefix, by name
        }
        // Reversed: the stack pops them in listing order.
        todo.extend(children.into_iter().rev());
    }
    Ok(out)
}

/// The folders right under `prefix` (ListObjectsV2 with the delimiter `/`).
async fn child_folders(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, SourceError> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    let mut folders = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_error("ListObjectsV2", bucket, prefix, e))?;
        folders.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
    }
    Ok(folders)
}

/// Sends the files under `path` (`path` itself when `named`: given by the user, so taken whatever
/// its name); false when the receiver is gone.
fn walk(
    path: &Path,
    named: bool,
    window: Option<&TimeWindow>,
    out: &mpsc::Sender<Result<Listed, SourceError>>,
    skipped: &Skipped,
) -> bool {
    let unreadable = |source: std::io::Error| SourceError::Local {
        path: path.display().to_string(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return out.blocking_send(Err(unreadable(e))).is_ok(),
    };
    if !metadata.is_dir() {
        if !named {
            if let Err(reason) = takes(&path.to_string_lossy(), window) {
                skipped.add(reason, path.display().to_string());
                return true;
            }
        }
        let listed = Listed {
            source: Source::File(path.to_path_buf()),
            size: Some(metadata.len()),
        };
        return out.blocking_send(Ok(listed)).is_ok();
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(dir) => dir.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => return out.blocking_send(Err(unreadable(e))).is_ok(),
    };
    entries.sort();
    for entry in entries {
        let is_symlinked_dir = std::fs::symlink_metadata(&entry)
            .map(|m| m.file_type().is_symlink() && entry.is_dir())
            .unwrap_or(false);
        if is_symlinked_dir {
            tracing::warn!(path = %entry.display(), "not following a symlinked directory");
            continue;
        }
        if !walk(&entry, false, window, out, skipped) {
            return false;
        }
    }
    true
}

/// Whether a walk takes `key`: a load balancer log name ([`walk_takes`]) ending inside the
/// window, if there is one.
fn takes(key: &str, window: Option<&TimeWindow>) -> Result<(), NotALog> {
    walk_takes(key)?;
    match window.map(|w| w.takes(key)) {
        None | Some(Some(true)) => Ok(()),
        Some(Some(false)) => Err(NotALog::OutsideWindow),
        Some(None) => Err(NotALog::NoTime),
    }
}

/// One prefix listed page by page.
struct Listing<'a> {
    client: &'a aws_sdk_s3::Client,
    location: &'a S3Location,
    page_size: i32,
    window: Option<&'a TimeWindow>,
}

impl Listing<'_> {
    /// Sends every object under the prefix; false when the receiver is gone.
    async fn send(
        &self,
        out: &mpsc::Sender<Result<Listed, SourceError>>,
        skipped: &Skipped,
    ) -> bool {
        let location = self.location;
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&location.bucket)
            .prefix(&location.prefix)
            .max_keys(self.page_size)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    let error = s3_error("ListObjectsV2", &location.bucket, &location.prefix, e);
                    return out.send(Err(error)).await.is_ok();
                }
            };
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                if key.ends_with('/') {
                    continue; // a "folder" marker, no log in it
                }
                // The whole key given as the prefix names the object explicitly.
                if key != location.prefix {
                    if let Err(reason) = takes(key, self.window) {
                        skipped.add(reason, format!("s3://{}/{key}", location.bucket));
                        continue;
                    }
                }
                let listed = Listed {
                    source: Source::S3 {
                        bucket: location.bucket.clone(),
                        key: key.to_string(),
                    },
                    size: object.size().and_then(|n| u64::try_from(n).ok()),
                };
                if out.send(Ok(listed)).await.is_err() {
                    return false;
                }
            }
        }
        true
    }
}

/// An opened object: a blocking reader over its (still compressed) bytes.
pub struct Opened {
    pub info: ObjectInfo,
    pub reader: Box<dyn Read + Send>,
    /// Size in bytes when known.
    pub size: Option<u64>,
}

/// Opens `source`. An S3 body is streamed: `GetObject`'s body becomes a blocking reader through
/// a bridge, to be read on a blocking thread (never on the async runtime).
pub async fn open(source: &Source, s3: Option<&aws_sdk_s3::Client>) -> Result<Opened, SourceError> {
    let mut info = source.object_info();
    info.read_at = Some(crate::timestamp::now());
    match source {
        Source::File(path) => {
            let unreadable = |source: std::io::Error| SourceError::Local {
                path: path.display().to_string(),
                source,
            };
            info = ObjectInfo {
                read_at: info.read_at,
                ..local_object(path).map_err(unreadable)?
            };
            let (reader, size) = open_local(path).map_err(unreadable)?;
            Ok(Opened {
                info,
                reader,
                size: Some(size),
            })
        }
        Source::S3 { bucket, key } => {
            let client = s3.ok_or_else(|| SourceError::NoS3Client(source.describe()))?;
            let output = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| s3_error("GetObject", bucket, key, e))?;
            let size = output.content_length().and_then(|n| u64::try_from(n).ok());
            let body = output.body.into_async_read();
            let reader = tokio_util::io::SyncIoBridge::new(body);
            Ok(Opened {
                info,
                reader: Box::new(reader),
                size,
            })
        }
    }
}

/// Opens a local file for reading to the size it has now (see [`SizedFile`]); also that size.
pub fn open_local(path: &Path) -> std::io::Result<(Box<dyn Read + Send>, u64)> {
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let reader = SizedFile {
        file,
        path: path.display().to_string(),
        size: metadata.len(),
        read: 0,
    };
    Ok((Box::new(reader), metadata.len()))
}

/// A local file, read to the size it had when opened: ending before it means the file shrank
/// while it was read (truncated or rewritten in place), and its lines past that point are lost,
/// so that is an error, not a short object.
struct SizedFile {
    file: std::fs::File,
    path: String,
    size: u64,
    read: u64,
}

impl Read for SizedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        if n == 0 && !buf.is_empty() && self.read < self.size {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: the file shrank while it was read: {} bytes when opened, {} bytes read",
                    self.path, self.size, self.read
                ),
            ));
        }
        Ok(n)
    }
}

/// A local file is known by its canonical path (absolute, `.`, `..`, `//` and symlinks resolved):
/// `small.log`, `./small.log` and `/data//small.log` are one object with one set of `_id`s. A
/// copy or a rename is another path, hence another object (its lines are indexed again).
pub fn local_object(path: &Path) -> std::io::Result<ObjectInfo> {
    let canonical = std::fs::canonicalize(path)?;
    Ok(ObjectInfo::local(&canonical.display().to_string()))
}

/// An S3 error, named by bucket and key, told apart by what the caller can do about it.
fn s3_error<E>(
    operation: &'static str,
    bucket: &str,
    key: &str,
    error: SdkError<E, HttpResponse>,
) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (bucket, key) = (bucket.to_string(), key.to_string());
    let code = error
        .as_service_error()
        .and_then(|e| e.code())
        .map(str::to_string);
    let status = match &error {
        SdkError::ServiceError(_) => error.raw_response().map(|r| r.status().as_u16()),
        _ => None,
    };
    match (code.as_deref(), status) {
        (Some("NoSuchKey"), _) | (None, Some(404)) if operation == "GetObject" => {
            SourceError::NotFound { bucket, key }
        }
        (Some("NoSuchBucket"), _) => SourceError::NoSuchBucket { bucket, key },
        (
            Some(
                "AccessDenied"
                | "AllAccessDisabled"
                | "InvalidAccessKeyId"
                | "SignatureDoesNotMatch",
            ),
            _,
        )
        | (None, Some(403)) => SourceError::AccessDenied {
            bucket,
            key,
            reason: DisplayErrorContext(&error).to_string(),
        },
        _ => SourceError::S3 {
            operation,
            bucket,
            key,
            reason: DisplayErrorContext(&error).to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_locations_and_inputs() {
        let l = S3Location::parse("s3://bucket/AWSLogs/1/").unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str()),
            ("bucket", "AWSLogs/1/")
        );
        assert_eq!(l.join("x"), "AWSLogs/1/x");
        let l = S3Location::parse("s3://bucket").unwrap();
        assert_eq!(l.prefix, "");
        assert_eq!(l.join("x"), "x");
        assert_eq!(S3Location::parse("s3://b/dlq").unwrap().join("x"), "dlq/x");
        assert!(S3Location::parse("s3:///x").is_err());
        assert!(S3Location::parse("/tmp").is_err());
        assert_eq!(
            Input::parse("logs/").unwrap(),
            Input::Path(PathBuf::from("logs/"))
        );
        assert!(matches!(
            Input::parse("s3://b/p").unwrap(),
            Input::S3Prefix(_)
        ));
    }

    #[tokio::test]
    async fn directories_are_walked_recursively_in_order() {
        let dir = std::env::temp_dir().join(format!("albingest-walk-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b/c")).unwrap();
        let name = |n: &str| format!("1_elasticloadbalancing_r_app.lb.1_20260101T0000Z_{n}");
        let (a, d, e) = (name("a.log"), name("d.log.gz"), name("e.log"));
        for f in [
            a.clone(),
            format!("b/c/{d}"),
            format!("b/{e}"),
            "b/notes.md".into(),
        ] {
            std::fs::write(dir.join(f), "x\n").unwrap();
        }
        let (tx, mut rx) = mpsc::channel(2);
        let inputs = vec![
            Input::Path(dir.clone()),
            Input::Path(dir.join("missing")),
            Input::Path(dir.join("b/notes.md")),
        ];
        let skipped = std::sync::Arc::new(Skipped::default());
        tokio::spawn(enumerate(inputs, None, 1000, None, tx, skipped.clone()));
        let mut got = Vec::new();
        while let Some(item) = rx.recv().await {
            got.push(match item {
                Ok(Listed {
                    source: Source::File(p),
                    ..
                }) => p.strip_prefix(&dir).unwrap().display().to_string(),
                Ok(other) => panic!("{other:?}"),
                Err(e) => format!("error: {e}"),
            });
        }
        assert_eq!(got[..3], [a, format!("b/{e}"), format!("b/c/{d}")]);
        assert!(
            got[3].starts_with("error: ") && got[3].contains("missing"),
            "{got:?}"
        );
        // Named explicitly: read whatever its name; found by the walk: skipped and counted.
        assert_eq!(got[4], "b/notes.md");
        assert_eq!(got.len(), 5);
        assert_eq!(skipped.total(), 1);
        assert!(skipped
            .describe()
            .starts_with("1 not a load balancer log name (first: "));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_file_that_shrinks_while_read_is_an_error_naming_both_sizes() {
        let dir = std::env::temp_dir().join(format!("albingest-shrink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("plain.log");
        std::fs::write(&path, vec![b'x'; 300_000]).unwrap();
        let mut opened = open(&Source::File(path.clone()), None).await.unwrap();
        let mut head = vec![0; 1000];
        opened.reader.read_exact(&mut head).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(100_000)
            .unwrap();
        let mut rest = Vec::new();
        let err = opened
            .reader
            .read_to_end(&mut rest)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("plain.log") && err.contains("300000") && err.contains("100000"),
            "{err}"
        );
        // A file read whole is fine.
        let mut opened = open(&Source::File(path.clone()), None).await.unwrap();
        let mut all = Vec::new();
        opened.reader.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 100_000);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
