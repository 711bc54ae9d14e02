//! Documents into the search server: byte-bounded `_bulk` batches ([`BatchBuilder`], built on the
//! parsing thread) and their sending ([`BulkLoader`]), answer item by item. What each answer
//! means (placed, retry, dead letter, target refusal) is [`super::fate`]'s decision; this module
//! acts on it: it re-sends only the items to retry, after a backoff ([`super::retry`]), splits a
//! batch answered 413, writes dead letters ([`super::dead_letter`]), and reports everything else
//! as unplaced, which makes the caller fail the object.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use flate2::write::GzEncoder;
use opensearch::http::headers::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use opensearch::http::Method;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::dead_letter::{DeadItem, DeadLetter};
use super::fate::{self, ErrorShape, ItemFate, Refusal, RefusalKind, RequestFate};
use super::retry::{Backoff, RetryPolicy};
use super::SearchClient;
use crate::bulk::DocumentIds;
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
    /// The action line names an `_id` (sent without it once the target makes its own).
    has_id: bool,
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
                let (gzipped, size) = (gzipped.clone(), self.plain_bytes);
                off_async_threads(move || gunzip(&gzipped, size)).await
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

    /// Appends item `item` to `out`: as built, or without its `_id` when `strip_id`.
    fn write_item(&self, out: &mut Vec<u8>, plain: &[u8], item: usize, strip_id: bool) {
        let span = self.items[item];
        let action = &plain[span.action as usize..span.source as usize];
        match parse_action(action) {
            Some((index, Some(_))) if strip_id && span.has_id => {
                crate::bulk::write_action(out, index, None);
                out.extend_from_slice(&plain[span.source as usize..span.end as usize]);
            }
            _ => out.extend_from_slice(&plain[span.action as usize..span.end as usize]),
        }
    }

    /// Whether some action line names an `_id`.
    fn has_ids(&self) -> bool {
        self.items.iter().any(|i| i.has_id)
    }

    /// `log.offset` of the first and the last line in the batch.
    pub fn line_offsets(&self) -> Option<(u64, u64)> {
        Some((
            self.items.first()?.line_offset,
            self.items.last()?.line_offset,
        ))
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
        let (index, id) = parse_action(action).unwrap_or(("", None));
        let id = id.unwrap_or("");
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

/// `{"create":{"_index":"I","_id":"D"}}` → `(I, Some(D))`, `{"create":{"_index":"I"}}` →
/// `(I, None)`; the action lines are written by [`crate::bulk::write_action`], whose values need
/// no escaping.
fn parse_action(line: &[u8]) -> Option<(&str, Option<&str>)> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = &line[line.find(r#""_index":""#)? + 10..];
    let (index, rest) = rest.split_once('"')?;
    let id = rest
        .find(r#""_id":""#)
        .and_then(|at| rest[at + 7..].split_once('"'))
        .map(|(id, _)| id);
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
    /// `write` appends the action line (naming an `_id` when `has_id`) and the document (with
    /// its newline) to the buffer it gets and returns where the document starts in it.
    pub fn push(
        &mut self,
        line_offset: u64,
        has_id: bool,
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
            has_id,
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

fn gzip(data: &[u8]) -> Bytes {
    // Level 1: NDJSON of logs compresses ~8× at that level already; higher levels cost CPU that
    // the parser needs more.
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(data.len() / 6),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    Bytes::from(encoder.finish().expect("writing to a Vec cannot fail"))
}

fn gunzip(gzipped: &[u8], size: usize) -> Bytes {
    let mut plain = Vec::with_capacity(size);
    flate2::read::GzDecoder::new(gzipped)
        .read_to_end(&mut plain)
        .expect("a body this process compressed in memory");
    Bytes::from(plain)
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
    /// The target refused (some of) the documents for its own reasons: the first refusal.
    pub refusal: Option<Refusal>,
}

/// Sends batches: shared by every object of a run.
pub struct BulkLoader {
    client: Arc<SearchClient>,
    policy: RetryPolicy,
    /// Batches being sent (with their retries) over all objects: bounds the requests in flight
    /// and, with them, the memory batches hold, however many objects run at once.
    slots: Arc<Semaphore>,
    dead_letter: DeadLetter,
    document_ids: DocumentIds,
    /// The target makes the ids: `--document-ids server`, or `auto` after a refusal of ids.
    server_ids: Arc<AtomicBool>,
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

impl ItemResult {
    fn fate(&self) -> ItemFate {
        let shape = self
            .error
            .as_ref()
            .map_or_else(ErrorShape::default, |e| ErrorShape {
                kind: e.kind.as_deref().unwrap_or(""),
                reason: e.reason.as_deref().unwrap_or(""),
            });
        fate::item(self.status, shape, || {
            self.error
                .as_ref()
                .map(ItemError::describe)
                .unwrap_or_default()
        })
    }

    fn error_type(&self) -> &str {
        self.error
            .as_ref()
            .and_then(|e| e.kind.as_deref())
            .unwrap_or("")
    }
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

/// How a request ended: its items, or the request's own fate.
enum Sent {
    /// A `_bulk` answer with one result per item.
    Items(Vec<ItemResult>),
    /// No answer came (connection refused or reset, timeout): worth another try later.
    NoAnswer(String),
    Request(RequestFate),
}

/// A document to dead-letter: its item number, the server's status, reason and error type.
struct DeadCandidate {
    item: usize,
    status: u16,
    reason: String,
    kind: String,
}

/// What one round of requests (the batch, or its items still to send) left to do.
#[derive(Default)]
struct Round {
    retry: Vec<usize>,
    /// Refused for carrying an `_id`: sent again at once without it.
    resend: Vec<usize>,
    last_reason: String,
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
            document_ids: DocumentIds::Auto,
            server_ids: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Sets where document ids come from (default [`DocumentIds::Auto`]).
    pub fn with_document_ids(mut self, document_ids: DocumentIds) -> Self {
        self.document_ids = document_ids;
        self.server_ids = Arc::new(AtomicBool::new(document_ids == DocumentIds::Server));
        self
    }

    pub fn client(&self) -> &SearchClient {
        &self.client
    }

    pub fn gzip(&self) -> bool {
        self.client.gzip()
    }

    pub fn document_ids(&self) -> DocumentIds {
        self.document_ids
    }

    /// Set once the target makes the ids (the parsing side stops writing them).
    pub fn server_ids(&self) -> Arc<AtomicBool> {
        self.server_ids.clone()
    }

    fn sends_ids(&self) -> bool {
        !self.server_ids.load(Ordering::Relaxed)
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
    /// (indexed, already present, dead-lettered), or refused by the target, or the retries give
    /// up (those are in `unplaced`).
    pub async fn load(
        &self,
        batch: &Batch,
        object: &ObjectInfo,
        deadline: Option<Instant>,
    ) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        let mut backoff = Backoff::new(&self.policy, deadline);
        let mut dead: Vec<DeadCandidate> = Vec::new();
        let mut refused: Vec<(usize, Refusal)> = Vec::new();
        // The uncompressed body, once a part of it is needed.
        let mut plain: Option<Bytes> = None;
        let mut items: Option<Vec<usize>> = None; // None: the whole batch as built
        loop {
            let round = self
                .send_round(
                    batch,
                    items.take(),
                    &mut plain,
                    &backoff,
                    &mut outcome,
                    &mut dead,
                    &mut refused,
                )
                .await;
            if !round.resend.is_empty() {
                items = Some(round.resend.into_iter().chain(round.retry).collect());
                continue;
            }
            if round.retry.is_empty() {
                break;
            }
            match backoff.next_wait() {
                Ok(wait) => {
                    tracing::debug!(
                        object = %object.file_path,
                        items = round.retry.len(),
                        wait_ms = wait.as_millis() as u64,
                        reason = %round.last_reason,
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                    outcome.retries += 1;
                    let mut retry = round.retry;
                    retry.sort_unstable();
                    items = Some(retry);
                }
                Err(give_up) => {
                    let reason = format!(
                        "{} after {} retries; last error: {}",
                        give_up.describe(),
                        backoff.attempts(),
                        round.last_reason
                    );
                    let offsets = round.retry.iter().map(|i| batch.items[*i].line_offset);
                    outcome
                        .unplaced
                        .add(&reason, round.retry.len() as u64, offsets);
                    break;
                }
            }
        }
        // Every document refused the same way: the target's mapping, not the documents.
        if dead.len() == batch.len() {
            let first_reason = dead.first().map(|d| d.reason.clone()).unwrap_or_default();
            if let Some(refusal) = fate::shared_by_every_item(
                batch.len(),
                dead.iter().map(|d| d.kind.as_str()),
                &first_reason,
            ) {
                refused.extend(dead.drain(..).map(|d| (d.item, refusal.clone())));
            }
        }
        self.add_refused(batch, object, refused, &mut outcome);
        if !dead.is_empty() {
            self.write_dead_letters(batch, object, dead, &mut plain, &mut outcome)
                .await;
        }
        outcome
    }

    /// Sends `items` (all of the batch when `None`) once, splitting on 413, and sorts each item
    /// into placed, dead, refused, or to send again.
    #[allow(clippy::too_many_arguments)]
    async fn send_round(
        &self,
        batch: &Batch,
        items: Option<Vec<usize>>,
        plain: &mut Option<Bytes>,
        backoff: &Backoff<'_>,
        outcome: &mut BatchOutcome,
        dead: &mut Vec<DeadCandidate>,
        refused: &mut Vec<(usize, Refusal)>,
    ) -> Round {
        let mut round = Round::default();
        let whole_batch = items.is_none();
        // Chunks of item numbers still to send in this round; a 413 splits a chunk in two.
        let mut work: Vec<Vec<usize>> = vec![items.unwrap_or_else(|| (0..batch.len()).collect())];
        let mut first = whole_batch;
        while let Some(chunk) = work.pop() {
            let send_gzip = self.client.gzip();
            let body = self.body(batch, &chunk, first, send_gzip, plain).await;
            first = false;
            let size = body.len() as u64;
            let sent = self.send(body, send_gzip, backoff.request_timeout()).await;
            if !matches!(sent, Sent::NoAnswer(_)) {
                outcome.bytes_out += size;
            }
            match sent {
                Sent::Items(results) if results.len() == chunk.len() => {
                    for (item, result) in chunk.iter().zip(results) {
                        match result.fate() {
                            ItemFate::Indexed => outcome.indexed += 1,
                            ItemFate::AlreadyPresent => outcome.already_present += 1,
                            ItemFate::Retry(reason) => {
                                round.last_reason = reason;
                                round.retry.push(*item);
                            }
                            ItemFate::DeadLetter { status, reason } => dead.push(DeadCandidate {
                                item: *item,
                                status,
                                kind: result.error_type().to_string(),
                                reason,
                            }),
                            ItemFate::Refused(refusal)
                                if refusal.kind == RefusalKind::IdsNotSupported
                                    && self.document_ids == DocumentIds::Auto =>
                            {
                                self.switch_to_server_ids(&refusal);
                                round.resend.push(*item);
                            }
                            ItemFate::Refused(refusal) => refused.push((*item, refusal)),
                        }
                    }
                }
                Sent::Items(results) => {
                    // Not the answer to this request: its items' fate is unknown. `create`
                    // makes sending them again safe.
                    round.last_reason = format!(
                        "the _bulk answer has {} items for {} documents",
                        results.len(),
                        chunk.len()
                    );
                    round.retry.extend(chunk);
                }
                Sent::NoAnswer(reason) | Sent::Request(RequestFate::Retry(reason)) => {
                    round.last_reason = reason;
                    round.retry.extend(chunk);
                }
                Sent::Request(RequestFate::TooLarge) if chunk.len() > 1 => {
                    let half = chunk.len() / 2;
                    work.push(chunk[half..].to_vec());
                    work.push(chunk[..half].to_vec());
                }
                Sent::Request(RequestFate::TooLarge) => {
                    let item = chunk[0];
                    let size = batch.items[item].end - batch.items[item].action;
                    dead.push(DeadCandidate {
                        item,
                        status: 413,
                        reason: format!("a request with only this document ({size} bytes) is larger than the server accepts (HTTP 413)"),
                        kind: "request_too_large".into(),
                    });
                }
                Sent::Request(RequestFate::GzipRefused) => {
                    self.client.disable_gzip();
                    work.push(chunk);
                }
                Sent::Request(RequestFate::Refused(refusal)) => {
                    refused.extend(chunk.into_iter().map(|item| (item, refusal.clone())));
                }
                Sent::Request(RequestFate::Items) => unreachable!("a 2xx answer is read as items"),
            }
        }
        round
    }

    /// The body for `chunk`: the batch's own when it is sent whole as built, else made from the
    /// items (without their ids once the target makes its own).
    async fn body(
        &self,
        batch: &Batch,
        chunk: &[usize],
        whole_batch: bool,
        send_gzip: bool,
        plain: &mut Option<Bytes>,
    ) -> Bytes {
        let strip_ids = !self.sends_ids();
        if whole_batch && !(strip_ids && batch.has_ids()) {
            match (&batch.body, send_gzip) {
                (Body::Gzipped(body), true) | (Body::Plain(body), false) => return body.clone(),
                _ => {}
            }
        }
        let plain = batch.plain_cached(plain).await;
        let mut part = Vec::with_capacity(
            chunk
                .iter()
                .map(|i| {
                    let span = batch.items[*i];
                    (span.end - span.action) as usize
                })
                .sum(),
        );
        for item in chunk {
            batch.write_item(&mut part, &plain, *item, strip_ids);
        }
        if send_gzip {
            off_async_threads(move || gzip(&part)).await
        } else {
            Bytes::from(part)
        }
    }

    fn switch_to_server_ids(&self, refusal: &Refusal) {
        if !self.server_ids.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                endpoint = %self.client.endpoint(),
                reason = %refusal.detail,
                "the target does not accept document ids: it makes them from now on (--document-ids auto); re-runs stay idempotent through the object checkpoint"
            );
        }
    }

    /// Refused documents are unplaced, counted by refusal, never dead letters.
    fn add_refused(
        &self,
        batch: &Batch,
        object: &ObjectInfo,
        mut refused: Vec<(usize, Refusal)>,
        outcome: &mut BatchOutcome,
    ) {
        refused.sort_by_key(|(item, refusal)| (refusal.kind as u8, *item));
        for group in refused.chunk_by(|a, b| a.1.kind == b.1.kind) {
            let refusal = &group[0].1;
            tracing::error!(object = %object.file_path, documents = group.len(), "{refusal}");
            outcome.unplaced.add(
                &refusal.to_string(),
                group.len() as u64,
                group.iter().map(|(item, _)| batch.items[*item].line_offset),
            );
            outcome.refusal.get_or_insert_with(|| refusal.clone());
        }
    }

    async fn write_dead_letters(
        &self,
        batch: &Batch,
        object: &ObjectInfo,
        mut dead: Vec<DeadCandidate>,
        plain: &mut Option<Bytes>,
        outcome: &mut BatchOutcome,
    ) {
        dead.sort_unstable_by_key(|d| d.item);
        let plain = batch.plain_cached(plain).await;
        let items: Vec<DeadItem> = dead
            .iter()
            .map(|d| batch.dead_item(&plain, d.item, d.status, &d.reason))
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
        let detail = || {
            self.client
                .status_error(Method::Post, BULK_PATH, &answer)
                .to_string()
        };
        match fate::request(answer.status.as_u16(), &answer.body, gzip, detail) {
            RequestFate::Items => match serde_json::from_slice::<BulkAnswer>(&answer.body) {
                Ok(parsed) => Sent::Items(parsed.items.into_iter().map(|i| i.create).collect()),
                Err(e) => Sent::Request(RequestFate::Retry(format!(
                    "unreadable _bulk answer ({e}): {}",
                    answer.text()
                ))),
            },
            fate => Sent::Request(fate),
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
            Body::Gzipped(gzipped) => gunzip(gzipped, 0),
        }
    }

    fn push_doc(b: &mut BatchBuilder, n: u64, size: usize) -> Option<Batch> {
        b.push(n, true, |out| {
            crate::bulk::write_action(out, "idx-2026.11.01", Some(&format!("id-{n}")));
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
        let plain = gunzip(gzipped, 0);
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
