//! Documents into the search server: byte-bounded `_bulk` batches ([`BatchBuilder`], built on the
//! parsing thread) and their sending ([`BulkLoader`]), answer item by item:
//!
//! | answer | what happens |
//! |---|---|
//! | item 200/201 | indexed |
//! | item 409 (`create` of an existing `_id`) | already present: a retry or a re-run, success |
//! | item 429 / 5xx, request 429 / 5xx, timeout, connection error | only those items again, after a backoff ([`super::retry`]) |
//! | request 413 | the batch is split in two and each half sent |
//! | item other 4xx (mapping conflict …) | dead letter ([`super::dead_letter`]) with the server's reason |
//! | deadline / retries exhausted / request refused (401, 403 …) | unplaced: the caller fails the object |

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use opensearch::http::headers::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use opensearch::http::Method;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::dead_letter::{DeadItem, DeadLetter};
use super::retry::{Backoff, RetryBoard, RetryPolicy};
use super::SearchClient;
use crate::compress::{gunzip, gzip};
use crate::object_key::ObjectInfo;

/// Default upper bound of a `_bulk` body (uncompressed): large enough to amortize the request,
/// well under the 10 MiB request limit of the smallest Amazon OpenSearch Service instances.
pub const DEFAULT_BATCH_BYTES: usize = 5 * 1024 * 1024;

/// Default number of `_bulk` requests in flight at once, over all objects.
pub const DEFAULT_IN_FLIGHT: usize = 4;

/// Where one document sits in a batch body: its action line starts at `action`, its source at
/// `source`, and it ends (after its newline) at `end`.
#[derive(Debug, Clone, Copy)]
struct ItemSpan {
    action: u32,
    source: u32,
    end: u32,
    /// `log.offset` of the line, for messages about unplaced documents.
    line_offset: u64,
}

/// A finished `_bulk` body and the items in it.
#[derive(Debug)]
pub struct Batch {
    body: Body,
    items: Vec<ItemSpan>,
    plain_bytes: usize,
}

/// A batch body in the one form it is kept in while it waits for and goes to the server. A
/// compressed body is made on the parsing thread (CPU work off the async side); its plain form is
/// made again only when some items must be re-sent or dead-lettered, so that the batches in
/// flight cost a sixth of the memory.
#[derive(Debug)]
enum Body {
    Plain(Bytes),
    Gzipped(Bytes),
}

impl Batch {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Uncompressed body size.
    pub fn body_bytes(&self) -> usize {
        self.plain_bytes
    }

    /// Compressed body size, when the batch is sent gzip-compressed.
    pub fn gzipped_bytes(&self) -> Option<usize> {
        match &self.body {
            Body::Gzipped(gzipped) => Some(gzipped.len()),
            Body::Plain(_) => None,
        }
    }

    /// The uncompressed body, decompressed again (off the async threads) if it is kept
    /// compressed.
    async fn plain(&self) -> Bytes {
        match &self.body {
            Body::Plain(plain) => plain.clone(),
            Body::Gzipped(gzipped) => {
                let gzipped = gzipped.clone();
                off_async_threads(move || gunzip(&gzipped)).await
            }
        }
    }

    /// [`Batch::plain`], made once per [`BulkLoader::load`].
    async fn plain_cached(&self, cache: &mut Option<Bytes>) -> Bytes {
        if cache.is_none() {
            *cache = Some(self.plain().await);
        }
        cache.clone().unwrap_or_default()
    }

    fn item_bytes<'b>(&self, plain: &'b [u8], item: usize) -> &'b [u8] {
        let span = self.items[item];
        &plain[span.action as usize..span.end as usize]
    }

    /// `_index`, `_id` and the document's JSON, for the dead-letter record.
    fn dead_item<'b>(
        &self,
        plain: &'b [u8],
        item: usize,
        status: u16,
        reason: &'b str,
    ) -> DeadItem<'b> {
        let span = self.items[item];
        let action = &plain[span.action as usize..span.source as usize];
        let (index, id) = parse_action(action).unwrap_or(("", ""));
        DeadItem {
            index,
            id,
            line_offset: span.line_offset,
            status,
            reason,
            document: trim_newline(&plain[span.source as usize..span.end as usize]),
        }
    }
}

fn trim_newline(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\n").unwrap_or(bytes)
}

/// `{"create":{"_index":"I","_id":"D"}}` → `(I, D)`; the action lines are written by
/// [`crate::bulk::write_action`], whose values need no escaping.
fn parse_action(line: &[u8]) -> Option<(&str, &str)> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = &line[line.find(r#""_index":""#)? + 10..];
    let (index, rest) = rest.split_once('"')?;
    let rest = &rest[rest.find(r#""_id":""#)? + 7..];
    let (id, _) = rest.split_once('"')?;
    Some((index, id))
}

/// Gathers documents into batches of at most `max_bytes` (a single larger document goes alone).
pub struct BatchBuilder {
    max_bytes: usize,
    gzip: bool,
    scratch: Vec<u8>,
    body: Vec<u8>,
    items: Vec<ItemSpan>,
}

impl BatchBuilder {
    pub fn new(max_bytes: usize, gzip: bool) -> Self {
        // A body must stay addressable by the u32 spans.
        let max_bytes = max_bytes.clamp(1024, u32::MAX as usize / 2);
        Self {
            max_bytes,
            gzip,
            scratch: Vec::with_capacity(16 * 1024),
            body: Vec::with_capacity(max_bytes.min(DEFAULT_BATCH_BYTES) + 64 * 1024),
            items: Vec::new(),
        }
    }

    /// Adds a document; returns the previous batch when this one would not fit in it.
    /// `write` appends the action line and the document (with its newline) to the buffer it gets
    /// and returns where the document starts in it.
    pub fn push(
        &mut self,
        line_offset: u64,
        write: impl FnOnce(&mut Vec<u8>) -> usize,
    ) -> Option<Batch> {
        // Written straight into the body; a document that makes it too large moves to the next.
        let mut action = self.body.len();
        let source_in_item = write(&mut self.body) - action;
        let mut finished = None;
        if !self.items.is_empty() && self.body.len() > self.max_bytes {
            self.scratch.clear();
            self.scratch.extend_from_slice(&self.body[action..]);
            self.body.truncate(action);
            finished = self.take();
            self.body.extend_from_slice(&self.scratch);
            action = 0;
        }
        if self.body.len() > u32::MAX as usize {
            // Only a document of gigabytes gets here: the line reader caps lines at 1 MiB.
            self.body.truncate(action);
            return finished;
        }
        self.items.push(ItemSpan {
            action: action as u32,
            source: (action + source_in_item) as u32,
            end: self.body.len() as u32,
            line_offset,
        });
        finished
    }

    /// The batch being built, if it has documents.
    pub fn finish(&mut self) -> Option<Batch> {
        self.take()
    }

    fn take(&mut self) -> Option<Batch> {
        if self.items.is_empty() {
            return None;
        }
        let capacity = self.body.capacity();
        let body = std::mem::replace(&mut self.body, Vec::with_capacity(capacity));
        let items = std::mem::take(&mut self.items);
        let plain_bytes = body.len();
        let body = if self.gzip {
            Body::Gzipped(gzip(&body))
        } else {
            Body::Plain(Bytes::from(body))
        };
        Some(Batch {
            body,
            items,
            plain_bytes,
        })
    }
}

/// Documents that could not be placed (neither indexed nor dead-lettered), by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unplaced {
    pub documents: u64,
    pub by_reason: BTreeMap<String, u64>,
    /// `log.offset` of the first few, to find them in the object.
    pub first_offsets: Vec<u64>,
}

impl Unplaced {
    const OFFSETS_KEPT: usize = 10;

    pub fn is_empty(&self) -> bool {
        self.documents == 0
    }

    pub fn add(&mut self, reason: &str, count: u64, offsets: impl IntoIterator<Item = u64>) {
        if count == 0 {
            return;
        }
        self.documents += count;
        *self.by_reason.entry(reason.to_string()).or_default() += count;
        for offset in offsets {
            if self.first_offsets.len() >= Self::OFFSETS_KEPT {
                break;
            }
            self.first_offsets.push(offset);
        }
    }

    pub fn merge(&mut self, other: &Unplaced) {
        self.documents += other.documents;
        for (reason, n) in &other.by_reason {
            *self.by_reason.entry(reason.clone()).or_default() += n;
        }
        for offset in &other.first_offsets {
            if self.first_offsets.len() >= Self::OFFSETS_KEPT {
                break;
            }
            self.first_offsets.push(*offset);
        }
        self.first_offsets.sort_unstable();
    }
}

impl std::fmt::Display for Unplaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} documents unplaced", self.documents)?;
        for (reason, n) in &self.by_reason {
            write!(f, "; {n}: {reason}")?;
        }
        if !self.first_offsets.is_empty() {
            let offsets: Vec<String> = self.first_offsets.iter().map(u64::to_string).collect();
            write!(f, " (first at log.offset {})", offsets.join(", "))?;
        }
        Ok(())
    }
}

/// What became of one batch.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub indexed: u64,
    pub already_present: u64,
    pub dead_lettered: u64,
    /// Requests sent again (after a backoff) for failed items or failed requests.
    pub retries: u64,
    /// Request bytes sent, as sent (compressed when gzip).
    pub bytes_out: u64,
    pub unplaced: Unplaced,
    /// Where the dead letters went.
    pub dead_letter_location: Option<String>,
}

/// Sends batches: shared by every object of a run.
pub struct BulkLoader {
    client: Arc<SearchClient>,
    policy: RetryPolicy,
    /// Batches being sent (with their retries) over all objects: bounds the requests in flight
    /// and, with them, the memory batches hold, however many objects run at once.
    slots: Arc<Semaphore>,
    dead_letter: DeadLetter,
    /// What the batches waiting to retry say, for a display.
    retries: Arc<RetryBoard>,
}

/// The answer to a `_bulk` request, reduced by `filter_path` to what is read here.
#[derive(Deserialize)]
struct BulkAnswer {
    #[serde(default)]
    items: Vec<BulkItem>,
}

#[derive(Deserialize)]
struct BulkItem {
    #[serde(alias = "index", alias = "update", alias = "delete")]
    create: ItemResult,
}

#[derive(Deserialize)]
struct ItemResult {
    status: u16,
    #[serde(default)]
    error: Option<ItemError>,
}

#[derive(Deserialize)]
struct ItemError {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    caused_by: Option<Box<ItemError>>,
}

impl ItemError {
    /// `mapper_parsing_exception: failed to parse field [source.ip] … (caused by: …)`.
    fn describe(&self) -> String {
        let mut text = match (&self.kind, &self.reason) {
            (Some(kind), Some(reason)) => format!("{kind}: {reason}"),
            (Some(kind), None) => kind.clone(),
            (None, Some(reason)) => reason.clone(),
            (None, None) => "no reason given".into(),
        };
        if let Some(cause) = &self.caused_by {
            text.push_str(&format!(" (caused by: {})", cause.describe()));
        }
        text
    }
}

const BULK_PATH: &str = "/_bulk";
/// Only the item statuses and errors are read: the rest of the answer would only cost bytes.
const BULK_QUERY: &[(&str, &str)] = &[("filter_path", "items.*.status,items.*.error")];

/// How a request ended, for the retry decision.
enum Sent {
    /// A `_bulk` answer with one result per item.
    Items(Vec<ItemResult>),
    /// Worth another try later (429, 5xx): the reason.
    Retry(String),
    /// No answer came (connection refused or reset, timeout): worth another try later.
    NoAnswer(String),
    /// The body was too large (413).
    TooLarge,
    /// The server refused the gzip body: send it plain.
    GzipRefused,
    /// Refused for good (401, 403, 404, other 4xx on the whole request).
    Refused(String),
}

impl BulkLoader {
    pub fn new(
        client: Arc<SearchClient>,
        policy: RetryPolicy,
        in_flight: usize,
        dead_letter: DeadLetter,
    ) -> Self {
        Self {
            client,
            policy,
            slots: Arc::new(Semaphore::new(in_flight.max(1))),
            dead_letter,
            retries: Arc::default(),
        }
    }

    /// What the batches waiting to retry say now (read by a progress display).
    pub fn retry_board(&self) -> Arc<RetryBoard> {
        self.retries.clone()
    }

    pub fn client(&self) -> &SearchClient {
        &self.client
    }

    pub fn gzip(&self) -> bool {
        self.client.gzip()
    }

    /// Waits for a free sending slot; hold it while [`BulkLoader::load`] runs.
    pub async fn slot(&self) -> OwnedSemaphorePermit {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("never closed")
    }

    /// Sends `batch` (the caller holds a [`BulkLoader::slot`]) until every item is placed
    /// (indexed, already present, dead-lettered) or
    /// the retries give up (the rest is in `unplaced`).
    pub async fn load(
        &self,
        batch: &Batch,
        object: &ObjectInfo,
        deadline: Option<Instant>,
    ) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        let mut backoff = Backoff::new(&self.policy, deadline);
        // Chunks of item numbers still to send in this round; a 413 splits a chunk in two.
        let mut work: Vec<Vec<usize>> = vec![(0..batch.len()).collect()];
        let mut whole_batch = true;
        let mut dead: Vec<(usize, u16, String)> = Vec::new();
        // The uncompressed body, once a part of it is needed.
        let mut plain: Option<Bytes> = None;
        loop {
            let mut to_retry: Vec<usize> = Vec::new();
            let mut last_reason = String::new();
            while let Some(chunk) = work.pop() {
                let send_gzip = self.client.gzip();
                let body = match (&batch.body, whole_batch, send_gzip) {
                    (Body::Gzipped(body), true, true) | (Body::Plain(body), true, false) => {
                        body.clone()
                    }
                    _ => {
                        let plain = batch.plain_cached(&mut plain).await;
                        let items = || chunk.iter().map(|i| batch.item_bytes(&plain, *i));
                        let mut part = Vec::with_capacity(items().map(<[u8]>::len).sum());
                        items().for_each(|item| part.extend_from_slice(item));
                        if send_gzip {
                            off_async_threads(move || gzip(&part)).await
                        } else {
                            Bytes::from(part)
                        }
                    }
                };
                whole_batch = false;
                let size = body.len() as u64;
                let sent = self.send(body, send_gzip, backoff.request_timeout()).await;
                if !matches!(sent, Sent::NoAnswer(_)) {
                    outcome.bytes_out += size;
                }
                match sent {
                    Sent::Items(results) if results.len() == chunk.len() => {
                        for (item, result) in chunk.iter().zip(results) {
                            match result.status {
                                200 | 201 => outcome.indexed += 1,
                                409 => outcome.already_present += 1,
                                408 | 429 | 500..=599 => {
                                    last_reason = format!(
                                        "item HTTP {}: {}",
                                        result.status,
                                        result.error.map(|e| e.describe()).unwrap_or_default()
                                    );
                                    to_retry.push(*item);
                                }
                                status => {
                                    let reason = result
                                        .error
                                        .map(|e| e.describe())
                                        .unwrap_or_else(|| format!("HTTP {status}"));
                                    dead.push((*item, status, reason));
                                }
                            }
                        }
                    }
                    Sent::Items(results) => {
                        // Not the answer to this request: its items' fate is unknown. `create`
                        // makes sending them again safe.
                        last_reason = format!(
                            "the _bulk answer has {} items for {} documents",
                            results.len(),
                            chunk.len()
                        );
                        to_retry.extend(chunk);
                    }
                    Sent::Retry(reason) | Sent::NoAnswer(reason) => {
                        last_reason = reason;
                        to_retry.extend(chunk);
                    }
                    Sent::TooLarge if chunk.len() > 1 => {
                        let half = chunk.len() / 2;
                        work.push(chunk[half..].to_vec());
                        work.push(chunk[..half].to_vec());
                    }
                    Sent::TooLarge => {
                        let item = chunk[0];
                        let size = batch.items[item].end - batch.items[item].action;
                        dead.push((
                            item,
                            413,
                            format!("a request with only this document ({size} bytes) is larger than the server accepts (HTTP 413)"),
                        ));
                    }
                    Sent::GzipRefused => {
                        self.client.disable_gzip();
                        work.push(chunk);
                    }
                    Sent::Refused(reason) => {
                        let offsets: Vec<u64> =
                            chunk.iter().map(|i| batch.items[*i].line_offset).collect();
                        outcome.unplaced.add(&reason, chunk.len() as u64, offsets);
                    }
                }
            }
            if to_retry.is_empty() {
                break;
            }
            match backoff.next_wait() {
                Ok(wait) => {
                    tracing::debug!(
                        object = %object.file_path,
                        items = to_retry.len(),
                        wait_ms = wait.as_millis() as u64,
                        reason = %last_reason,
                        "retrying"
                    );
                    let waiting = self.retries.wait(&last_reason, backoff.gives_up_at());
                    tokio::time::sleep(wait).await;
                    drop(waiting);
                    outcome.retries += 1;
                    to_retry.sort_unstable();
                    work.push(to_retry);
                }
                Err(give_up) => {
                    let reason = format!(
                        "{} after {} retries; last error: {last_reason}",
                        give_up.describe(),
                        backoff.attempts()
                    );
                    let offsets: Vec<u64> = to_retry
                        .iter()
                        .map(|i| batch.items[*i].line_offset)
                        .collect();
                    outcome
                        .unplaced
                        .add(&reason, to_retry.len() as u64, offsets);
                    break;
                }
            }
        }
        if !dead.is_empty() {
            dead.sort_unstable_by_key(|(item, _, _)| *item);
            let plain = batch.plain_cached(&mut plain).await;
            let items: Vec<DeadItem> = dead
                .iter()
                .map(|(item, status, reason)| batch.dead_item(&plain, *item, *status, reason))
                .collect();
            match self.dead_letter.write(object, &items).await {
                Ok(location) => {
                    outcome.dead_lettered += items.len() as u64;
                    tracing::warn!(
                        object = %object.file_path,
                        documents = items.len(),
                        %location,
                        first_reason = %items[0].reason,
                        "documents refused by the search server went to the dead-letter location"
                    );
                    outcome.dead_letter_location = Some(location);
                }
                Err(e) => {
                    let reason = format!("refused by the search server and {e}");
                    outcome.unplaced.add(
                        &reason,
                        items.len() as u64,
                        items.iter().map(|d| d.line_offset),
                    );
                }
            }
        }
        outcome
    }

    /// One `_bulk` request.
    async fn send(&self, body: Bytes, gzip: bool, timeout: std::time::Duration) -> Sent {
        let mut headers = vec![(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )];
        if gzip {
            headers.push((CONTENT_ENCODING, HeaderValue::from_static("gzip")));
        }
        let answer = match self
            .client
            .send(
                Method::Post,
                BULK_PATH,
                BULK_QUERY,
                &headers,
                Some(body),
                Some(timeout),
            )
            .await
        {
            Ok(answer) => answer,
            Err(e) => return Sent::NoAnswer(e.to_string()),
        };
        let status = answer.status.as_u16();
        match status {
            200..=299 => match serde_json::from_slice::<BulkAnswer>(&answer.body) {
                Ok(parsed) => Sent::Items(parsed.items.into_iter().map(|i| i.create).collect()),
                Err(e) => Sent::Retry(format!("unreadable _bulk answer ({e}): {}", answer.text())),
            },
            413 => Sent::TooLarge,
            // A server that does not decompress request bodies answers 415, or 400 because the
            // gzip bytes are not JSON. Sending the same items plain is harmless either way.
            400 | 415 if gzip => Sent::GzipRefused,
            408 | 429 | 500..=599 => Sent::Retry(
                self.client
                    .status_error(Method::Post, BULK_PATH, &answer)
                    .to_string(),
            ),
            _ => Sent::Refused(
                self.client
                    .status_error(Method::Post, BULK_PATH, &answer)
                    .to_string(),
            ),
        }
    }
}

/// Runs CPU work (compressing, decompressing a body) on a blocking thread.
async fn off_async_threads(work: impl FnOnce() -> Bytes + Send + 'static) -> Bytes {
    match tokio::task::spawn_blocking(work).await {
        Ok(bytes) => bytes,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gunzip_or_plain(batch: &Batch) -> Bytes {
        match &batch.body {
            Body::Plain(plain) => plain.clone(),
            Body::Gzipped(gzipped) => gunzip(gzipped),
        }
    }

    fn push_doc(b: &mut BatchBuilder, n: u64, size: usize) -> Option<Batch> {
        b.push(n, |out| {
            crate::bulk::write_action(out, "idx-2026.11.01", &format!("id-{n}"));
            let source = out.len();
            out.extend_from_slice(
                format!("{{\"n\":{n},\"pad\":\"{}\"}}\n", "x".repeat(size)).as_bytes(),
            );
            source
        })
    }

    #[test]
    fn batches_stay_under_the_byte_bound_and_keep_every_document() {
        let mut b = BatchBuilder::new(4096, false);
        let mut batches = Vec::new();
        for n in 0..100 {
            batches.extend(push_doc(&mut b, n, 200));
        }
        batches.extend(b.finish());
        assert!(batches.len() > 5);
        let mut seen = 0;
        for batch in &batches {
            assert!(batch.body_bytes() <= 4096, "{}", batch.body_bytes());
            let plain = gunzip_or_plain(batch);
            for i in 0..batch.len() {
                let item = batch.dead_item(&plain, i, 400, "r");
                assert_eq!(item.index, "idx-2026.11.01");
                assert_eq!(item.id, format!("id-{seen}"));
                assert_eq!(item.line_offset, seen);
                let doc: serde_json::Value = serde_json::from_slice(item.document).unwrap();
                assert_eq!(doc["n"], seen);
                seen += 1;
            }
        }
        assert_eq!(seen, 100);
    }

    #[test]
    fn a_document_larger_than_the_bound_goes_alone_and_gzip_round_trips() {
        let mut b = BatchBuilder::new(1024, true);
        assert!(push_doc(&mut b, 0, 10).is_none());
        let first = push_doc(&mut b, 1, 5000).expect("the small one is sent first");
        assert_eq!(first.len(), 1);
        let big = push_doc(&mut b, 2, 10).expect("the big one alone");
        assert_eq!(big.len(), 1);
        assert!(big.body_bytes() > 5000);
        let Body::Gzipped(gzipped) = &big.body else {
            panic!("a gzip builder makes gzip bodies")
        };
        let plain = gunzip(gzipped);
        assert_eq!(plain.len(), big.body_bytes());
        assert_eq!(big.dead_item(&plain, 0, 400, "r").id, "id-1");
        assert!(b.finish().is_some());
        assert!(b.finish().is_none());
    }

    #[test]
    fn item_errors_are_read_from_both_servers_shapes() {
        let answer = br#"{"items":[{"create":{"status":201}},{"index":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},{"create":{"error":{"type":"document_parsing_exception","reason":"[1:6] failed to parse field [a] of type [ip]","caused_by":{"type":"illegal_argument_exception","reason":"'x' is not an IP string literal."}},"status":400}}]}"#;
        let parsed: BulkAnswer = serde_json::from_slice(answer).unwrap();
        let statuses: Vec<u16> = parsed.items.iter().map(|i| i.create.status).collect();
        assert_eq!(statuses, [201, 409, 400]);
        let reason = parsed.items[2].create.error.as_ref().unwrap().describe();
        assert_eq!(reason, "document_parsing_exception: [1:6] failed to parse field [a] of type [ip] (caused by: illegal_argument_exception: 'x' is not an IP string literal.)");
    }

    #[test]
    fn unplaced_counts_by_reason_and_keeps_a_few_offsets() {
        let mut u = Unplaced::default();
        u.add("deadline reached", 3, [30, 10, 20]);
        let mut v = Unplaced::default();
        v.add("retries exhausted", 20, 100..120);
        u.merge(&v);
        assert_eq!(u.documents, 23);
        assert_eq!(u.first_offsets.len(), Unplaced::OFFSETS_KEPT);
        assert_eq!(u.first_offsets[..3], [10, 20, 30]);
        let text = u.to_string();
        assert!(
            text.starts_with("23 documents unplaced; 3: deadline reached; 20: retries exhausted"),
            "{text}"
        );
    }
}
