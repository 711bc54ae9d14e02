//! The parsing side of one object, on a blocking thread: decompress, split lines, parse, and
//! build the `_bulk` bodies, each finished batch handed over to the sending side through a
//! bounded channel (so memory stays a few batches per object, whatever the object's size).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{IngestError, Ingester, Progress};
use crate::batch::{Batch, BatchBuilder};
use crate::bulk::{write_action, IndexPrefixes, ObjectHash};
use crate::decompress::decode;
use crate::format::LogFormat;
use crate::json;
use crate::object_key::ObjectInfo;
use crate::parse::{ParsedLine, Parser};
use crate::pipeline::{for_each_line, ParseStats, ReadError};
use crate::rules::Verdict;

/// One object's parsing thread, started: the batches it hands over and the flag that tells it
/// the object was given up.
pub(super) struct Parsing {
    thread: JoinHandle<ParseEnd>,
    pub(super) batches: mpsc::Receiver<Batch>,
    /// Set by the sending side when a batch could not be placed: reading more would only cost
    /// time.
    pub(super) give_up: Arc<AtomicBool>,
}

impl Ingester {
    /// Starts parsing `reader` on a blocking thread. `skip_before`: lines before this
    /// decompressed offset were placed by an earlier run (the object's checkpoint).
    pub(super) fn start_parsing(
        &self,
        info: &Arc<ObjectInfo>,
        reader: Box<dyn std::io::Read + Send>,
        skip_before: u64,
        deadline: Option<Instant>,
    ) -> Parsing {
        let (batches_tx, batches) = mpsc::channel::<Batch>(1);
        let give_up = Arc::new(AtomicBool::new(false));
        let parser = self.parser.clone();
        let prefixes = self.prefixes.clone();
        let info = info.clone();
        let progress = self.progress.clone();
        let builder = self
            .loader
            .as_ref()
            .map(|loader| BatchBuilder::new(self.batch_bytes, loader.gzip()));
        let server_ids = self
            .loader
            .as_ref()
            .map_or_else(Default::default, |loader| loader.server_ids());
        let thread = {
            let give_up = give_up.clone();
            tokio::task::spawn_blocking(move || {
                let job = ParseJob {
                    parser: &parser,
                    prefixes: &prefixes,
                    info: &info,
                    give_up: &give_up,
                    progress: &progress,
                    server_ids: &server_ids,
                    skip_before,
                    deadline,
                    batches: &|batch| batches_tx.blocking_send(batch).is_ok(),
                };
                job.run(reader, builder)
            })
        };
        Parsing {
            thread,
            batches,
            give_up,
        }
    }
}

impl Parsing {
    /// Waits for the parsing thread's end (after the sending side has taken every batch).
    pub(super) async fn end(self, object: &str) -> Result<ParseEnd, IngestError> {
        self.thread.await.map_err(|e| IngestError::Internal {
            object: object.to_string(),
            message: format!("the parsing thread stopped: {e}"),
        })
    }
}

/// Why the parsing thread stopped before the end of the object.
pub(super) enum Stop {
    Read(ReadError),
    Deadline {
        offset: u64,
    },
    /// An earlier batch could not be placed, or the receiving side is gone: the object has
    /// failed, reading more would only cost time.
    GivenUp {
        offset: u64,
    },
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Self {
        Stop::Read(e)
    }
}

/// What the parsing thread reports when it ends.
pub(super) struct ParseEnd {
    pub(super) stats: ParseStats,
    /// Lines before the object's checkpoint: placed by an earlier run, not sent.
    pub(super) skipped: u64,
    /// Documents handed to the sending side in batches.
    pub(super) documents_sent: u64,
    pub(super) bytes_in: u64,
    pub(super) stop: Option<Stop>,
}

/// The daily index name of the previous document, reused while route, format, kind and date
/// stay the same (nearly always: one object is five minutes of one load balancer).
#[derive(Default)]
struct IndexNames {
    key: Option<(usize, LogFormat, bool, bool, [u8; 10])>,
    name: String,
}

impl IndexNames {
    fn get(&mut self, prefixes: &IndexPrefixes, parsed: &ParsedLine<'_>) -> &str {
        let mut date = [0u8; 10];
        let text = parsed.date().as_bytes();
        date[..text.len().min(10)].copy_from_slice(&text[..text.len().min(10)]);
        let key = Some((
            prefixes.route_of(parsed),
            parsed.format,
            parsed.failed,
            parsed.dated,
            date,
        ));
        if self.key != key {
            self.key = key;
            self.name = prefixes.index_name(parsed);
        }
        &self.name
    }
}

/// Everything [`Ingester::ingest`] does to an object's bytes short of sending them, on the
/// calling thread: decompress, split lines, parse, and build the `_bulk` bodies (compressed when
/// `gzip`), each finished batch handed to `on_batch`. `cargo bench --bench pipeline` measures it.
pub fn build_bulk_bodies(
    parser: &Parser,
    prefixes: &IndexPrefixes,
    info: &ObjectInfo,
    reader: Box<dyn std::io::Read + Send>,
    batch_bytes: usize,
    gzip: bool,
    on_batch: &(dyn Fn(Batch) + Sync),
) -> Result<ParseStats, ReadError> {
    let job = ParseJob {
        parser,
        prefixes,
        info,
        give_up: &AtomicBool::new(false),
        progress: &Progress::default(),
        server_ids: &AtomicBool::new(false),
        skip_before: 0,
        deadline: None,
        batches: &|batch| {
            on_batch(batch);
            true
        },
    };
    let end = job.run(reader, Some(BatchBuilder::new(batch_bytes, gzip)));
    match end.stop {
        Some(Stop::Read(e)) => Err(e),
        // Without a deadline and with every batch taken, reading stops only at the end.
        None | Some(Stop::Deadline { .. } | Stop::GivenUp { .. }) => Ok(end.stats),
    }
}

/// Documents between two updates of [`Progress::documents`] by the parsing thread.
const PROGRESS_EVERY: u64 = 1024;

/// The parsing side of one object, on a blocking thread.
struct ParseJob<'a> {
    parser: &'a Parser,
    prefixes: &'a IndexPrefixes,
    info: &'a ObjectInfo,
    give_up: &'a AtomicBool,
    progress: &'a Progress,
    /// Set when the target makes the document ids: action lines without `_id` from then on.
    server_ids: &'a AtomicBool,
    /// Lines that start before this offset were placed by an earlier run (the checkpoint).
    skip_before: u64,
    deadline: Option<Instant>,
    /// Takes a finished batch (waiting while the sending side is busy); `false` when nobody
    /// receives them any more.
    batches: &'a (dyn Fn(Batch) -> bool + Sync),
}

impl ParseJob<'_> {
    fn run(
        self,
        reader: Box<dyn std::io::Read + Send>,
        mut builder: Option<BatchBuilder>,
    ) -> ParseEnd {
        let mut end = ParseEnd {
            stats: ParseStats::default(),
            skipped: 0,
            documents_sent: 0,
            bytes_in: 0,
            stop: None,
        };
        let decoded = match decode(reader) {
            Ok(decoded) => decoded,
            Err(source) => {
                end.stop = Some(Stop::Read(ReadError::Open {
                    object: self.info.file_path.clone(),
                    source,
                }));
                return end;
            }
        };
        let source_bytes = decoded.source_bytes.clone();
        let ids = ObjectHash::new(self.info.bucket.as_deref(), &self.info.key);
        let mut names = IndexNames::default();
        let mut bytes_reported = 0u64;
        let mut report_bytes = |progress: &Progress| {
            let now = source_bytes.load(Ordering::Relaxed);
            progress
                .bytes_in
                .fetch_add(now.saturating_sub(bytes_reported), Ordering::Relaxed);
            bytes_reported = now;
        };
        let result = for_each_line(
            self.parser,
            self.info,
            decoded.reader,
            &mut end.stats,
            |parsed, line, verdict, counted| {
                // A dropped line is counted and never sent; the checkpoint moves past it with the
                // next batch (or the end of the object).
                if verdict == Verdict::Drop {
                    return Ok(());
                }
                if line.offset < self.skip_before {
                    end.skipped += 1;
                    return Ok(());
                }
                if counted.documents % PROGRESS_EVERY == 0 {
                    self.progress
                        .documents
                        .fetch_add(PROGRESS_EVERY, Ordering::Relaxed);
                    report_bytes(self.progress);
                }
                let Some(builder) = builder.as_mut() else {
                    return Ok(()); // dry run
                };
                let index = names.get(self.prefixes, parsed);
                let id = ids.document_id(line.offset);
                let id = (!self.server_ids.load(Ordering::Relaxed)).then_some(id.as_str());
                let finished = builder.push(line.offset, id.is_some(), |out| {
                    write_action(out, index, id);
                    let source_at = out.len();
                    json::write(out, &parsed.document);
                    out.push(b'\n');
                    source_at
                });
                if let Some(batch) = finished {
                    self.hand_over(batch, line.offset, &mut end.documents_sent)?;
                }
                Ok::<(), Stop>(())
            },
        );
        self.progress
            .documents
            .fetch_add(end.stats.documents % PROGRESS_EVERY, Ordering::Relaxed);
        self.progress
            .placed
            .fetch_add(end.skipped, Ordering::Relaxed);
        end.stop = result.err();
        // The lines read before a read error are kept: the last batch goes too.
        if matches!(end.stop, None | Some(Stop::Read(_))) {
            if let Some(batch) = builder.as_mut().and_then(BatchBuilder::finish) {
                let offset = end.stats.bytes;
                if let Err(stop) = self.hand_over(batch, offset, &mut end.documents_sent) {
                    if end.stop.is_none() {
                        end.stop = Some(stop);
                    }
                }
            }
        }
        report_bytes(self.progress);
        end.bytes_in = source_bytes.load(Ordering::Relaxed);
        end
    }

    /// Gives a finished batch to the sending side (waiting while it is busy: the channel is
    /// bounded), unless the object is given up or the deadline has passed.
    fn hand_over(&self, batch: Batch, offset: u64, sent: &mut u64) -> Result<(), Stop> {
        if self.give_up.load(Ordering::Relaxed) {
            return Err(Stop::GivenUp { offset });
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Stop::Deadline { offset });
        }
        let documents = batch.len() as u64;
        if !(self.batches)(batch) {
            return Err(Stop::GivenUp { offset });
        }
        *sent += documents;
        Ok(())
    }
}
