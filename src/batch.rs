//! Byte-bounded `_bulk` batches: [`BatchBuilder`] gathers the documents of an object on the
//! parsing thread (action line and source written straight into the body, compressed there
//! when the server takes gzip), and a [`Batch`] gives the sender ([`crate::search::bulk_load`])
//! the bodies of the requests it makes from it: the whole batch as built, or some of its items
//! again (without their `_id` once the server makes the ids).

use bytes::Bytes;

use crate::compress::{gunzip, gzip};
use crate::search::dead_letter::DeadItem;

/// Default upper bound of a `_bulk` body (uncompressed): large enough to amortize the request,
/// well under the 10 MiB request limit of the smallest Amazon OpenSearch Service instances.
pub const DEFAULT_BATCH_BYTES: usize = 5 * 1024 * 1024;

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
                let gzipped = gzipped.clone();
                off_async_threads(move || gunzip(&gzipped)).await
            }
        }
    }

    /// [`Batch::plain`], made once per load of the batch.
    pub(crate) async fn plain_cached(&self, cache: &mut Option<Bytes>) -> Bytes {
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

    /// `log.offset` of item `item`'s line.
    pub(crate) fn line_offset(&self, item: usize) -> u64 {
        self.items[item].line_offset
    }

    /// Size of item `item` (action line and source) in the plain body.
    pub(crate) fn item_bytes(&self, item: usize) -> u32 {
        let span = self.items[item];
        span.end - span.action
    }

    /// The body of a request for `chunk`: the batch's own when `whole_batch` and it is in the
    /// form to send, else made from the items (without their ids when `strip_ids`).
    pub(crate) async fn request_body(
        &self,
        chunk: &[usize],
        whole_batch: bool,
        send_gzip: bool,
        strip_ids: bool,
        plain: &mut Option<Bytes>,
    ) -> Bytes {
        if whole_batch && !(strip_ids && self.has_ids()) {
            match (&self.body, send_gzip) {
                (Body::Gzipped(body), true) | (Body::Plain(body), false) => return body.clone(),
                _ => {}
            }
        }
        let plain = self.plain_cached(plain).await;
        let mut part = Vec::with_capacity(chunk.iter().map(|i| self.item_bytes(*i) as usize).sum());
        for item in chunk {
            self.write_item(&mut part, &plain, *item, strip_ids);
        }
        if send_gzip {
            off_async_threads(move || gzip(&part)).await
        } else {
            Bytes::from(part)
        }
    }

    /// `_index`, `_id` and the document's JSON, for the dead-letter record.
    pub(crate) fn dead_item<'b>(
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

/// Runs CPU work (compressing, decompressing a body) on a blocking thread.
pub(crate) async fn off_async_threads(work: impl FnOnce() -> Bytes + Send + 'static) -> Bytes {
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
        let plain = gunzip(gzipped);
        assert_eq!(plain.len(), big.body_bytes());
        assert_eq!(big.dead_item(&plain, 0, 400, "r").id, "id-1");
        assert!(b.finish().is_some());
        assert!(b.finish().is_none());
    }
}
