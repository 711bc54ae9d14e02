//! Batches ([`crate::batch`]) into the search server ([`BulkLoader`]), answer item by item. What each answer
//! means (placed, retry, dead letter, target refusal) is [`super::fate`]'s decision; this module
//! acts on it: it re-sends only the items to retry, after a backoff ([`super::retry`]), splits a
//! batch answered 413, writes dead letters ([`super::dead_letter`]), and reports everything else
//! as unplaced, which makes the caller fail the object.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use opensearch::http::headers::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use opensearch::http::Method;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::dead_letter::{DeadItem, DeadLetter};
use super::fate::{self, ErrorShape, ItemFate, Refusal, RefusalKind, RequestFate};
use super::retry::{Backoff, RetryBoard, RetryPolicy};
use super::SearchClient;
use crate::batch::Batch;
use crate::bulk::DocumentIds;
use crate::object_key::ObjectInfo;

pub use crate::batch::DEFAULT_BATCH_BYTES;

/// Default number of `_bulk` requests in flight at once, over all objects.
pub const DEFAULT_IN_FLIGHT: usize = 4;

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
#[derive(Debug, Clone)]
pub struct DeadCandidate {
    pub item: usize,
    pub status: u16,
    pub reason: String,
    pub kind: String,
}

/// Every item of a batch once sending is over, before any dead letter is written: what
/// [`BulkLoader::settle`] gives a caller that keeps its own records ([`crate::replay`]).
#[derive(Debug, Default)]
pub struct Settled {
    /// The counts; `dead_lettered` is 0 (nothing was written).
    pub outcome: BatchOutcome,
    /// Refused for the document itself: what [`BulkLoader::load`] would dead-letter.
    pub dead: Vec<DeadCandidate>,
    /// Item numbers neither placed nor refused for the document (retries given up, target
    /// refusals): counted in `outcome.unplaced`.
    pub unplaced: Vec<usize>,
}

/// Where the items of one batch stand while it is being loaded.
#[derive(Default)]
struct Sorted {
    outcome: BatchOutcome,
    dead: Vec<DeadCandidate>,
    refused: Vec<(usize, Refusal)>,
    /// Items whose retries gave up.
    given_up: Vec<usize>,
    /// The uncompressed body, once a part of it is needed.
    plain: Option<Bytes>,
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
            retries: Arc::default(),
        }
    }

    /// Sets where document ids come from (default [`DocumentIds::Auto`]).
    pub fn with_document_ids(mut self, document_ids: DocumentIds) -> Self {
        self.document_ids = document_ids;
        self.server_ids = Arc::new(AtomicBool::new(document_ids == DocumentIds::Server));
        self
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
        let (settled, mut plain) = self.settle_items(batch, object, deadline).await;
        let Settled {
            mut outcome, dead, ..
        } = settled;
        if !dead.is_empty() {
            self.write_dead_letters(batch, object, dead, &mut plain, &mut outcome)
                .await;
        }
        outcome
    }

    /// [`BulkLoader::load`] without writing dead letters: the same requests, retries and fate
    /// rules, and the documents refused for themselves handed back to the caller.
    pub async fn settle(
        &self,
        batch: &Batch,
        object: &ObjectInfo,
        deadline: Option<Instant>,
    ) -> Settled {
        self.settle_items(batch, object, deadline).await.0
    }

    /// Sends until every item is placed, refused or given up; also the plain body, when it was
    /// made.
    async fn settle_items(
        &self,
        batch: &Batch,
        object: &ObjectInfo,
        deadline: Option<Instant>,
    ) -> (Settled, Option<Bytes>) {
        let mut sorted = Sorted::default();
        let mut backoff = Backoff::new(&self.policy, deadline);
        let mut items: Option<Vec<usize>> = None; // None: the whole batch as built
        loop {
            let round = self
                .send_round(batch, items.take(), &backoff, &mut sorted)
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
                    let waiting = self.retries.wait(&round.last_reason, backoff.gives_up_at());
                    tokio::time::sleep(wait).await;
                    drop(waiting);
                    sorted.outcome.retries += 1;
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
                    let offsets = round.retry.iter().map(|i| batch.line_offset(*i));
                    sorted
                        .outcome
                        .unplaced
                        .add(&reason, round.retry.len() as u64, offsets);
                    sorted.given_up = round.retry;
                    break;
                }
            }
        }
        let Sorted {
            mut outcome,
            mut dead,
            mut refused,
            given_up,
            plain,
        } = sorted;
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
        let mut unplaced = given_up;
        unplaced.extend(refused.iter().map(|(item, _)| *item));
        unplaced.sort_unstable();
        self.add_refused(batch, object, refused, &mut outcome);
        let settled = Settled {
            outcome,
            dead,
            unplaced,
        };
        (settled, plain)
    }

    /// Sends `items` (all of the batch when `None`) once, splitting on 413, and sorts each item
    /// into placed, dead or refused (`sorted`), or to send again (the round).
    async fn send_round(
        &self,
        batch: &Batch,
        items: Option<Vec<usize>>,
        backoff: &Backoff<'_>,
        sorted: &mut Sorted,
    ) -> Round {
        let Sorted {
            outcome,
            dead,
            refused,
            plain,
            ..
        } = sorted;
        let mut round = Round::default();
        let whole_batch = items.is_none();
        // Chunks of item numbers still to send in this round; a 413 splits a chunk in two.
        let mut work: Vec<Vec<usize>> = vec![items.unwrap_or_else(|| (0..batch.len()).collect())];
        let mut first = whole_batch;
        while let Some(chunk) = work.pop() {
            let send_gzip = self.client.gzip();
            let body = batch
                .request_body(&chunk, first, send_gzip, !self.sends_ids(), plain)
                .await;
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
                    let size = batch.item_bytes(item);
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
                group.iter().map(|(item, _)| batch.line_offset(*item)),
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

#[cfg(test)]
mod tests {
    use super::*;

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
