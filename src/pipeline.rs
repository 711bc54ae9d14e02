//! One object's lines through the parser: decompressed stream → lines → documents, handed to a
//! sink (stdout for `albingest parse`, bulk batches for `albingest ingest`).

use std::borrow::Cow;
use std::io::{self, Read};

use crate::bulk::ObjectHash;
use crate::format::PerFormat;
use crate::lines::{Line, LineReader, MAX_LINE};
use crate::object_key::ObjectInfo;
use crate::parse::{ParsedLine, Parser, Scratch};
use crate::rules::{Rewrites, Verdict};

/// Counts for one object (or many, added up): `lines = documents + dropped`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Non-empty lines read.
    pub lines: u64,
    /// Documents made and handed on (one per line not dropped).
    pub documents: u64,
    /// Of which failure documents.
    pub failures: u64,
    /// Lines whose document the drop and sample rules left out (never a failure document).
    pub dropped: u64,
    /// Documents by format.
    pub by_format: PerFormat<u64>,
    /// Decompressed bytes read.
    pub bytes: u64,
}

impl ParseStats {
    pub fn add(&mut self, other: &ParseStats) {
        self.lines += other.lines;
        self.documents += other.documents;
        self.failures += other.failures;
        self.dropped += other.dropped;
        self.bytes += other.bytes;
        self.by_format += &other.by_format;
    }

    /// `alb=10 nlb=2` (formats with documents only).
    pub fn formats_summary(&self) -> String {
        let parts: Vec<String> = self
            .by_format
            .entries()
            .filter(|(_, n)| **n > 0)
            .map(|(f, n)| format!("{f}={n}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(" ")
        }
    }
}

/// An object could not be opened, or not read to its end (the lines before were handed on).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{object}: cannot open: {source}")]
    Open {
        object: String,
        #[source]
        source: io::Error,
    },
    #[error("{object}: cannot read past byte {offset} of the decompressed data (after line {line}): {source}")]
    Stream {
        object: String,
        offset: u64,
        line: u64,
        #[source]
        source: io::Error,
    },
}

/// Parses every line of `reader` and gives each document the rules keep to `sink`, in input
/// order, adding to the counts in `stats` (which keep the lines read before an error: a summary
/// still counts them). A sink error stops the loop and is returned as it is.
pub fn for_each_document<R, E>(
    parser: &Parser,
    object: &ObjectInfo,
    reader: R,
    stats: &mut ParseStats,
    mut sink: impl FnMut(&ParsedLine<'_>, &Line<'_>) -> Result<(), E>,
) -> Result<(), E>
where
    R: Read,
    E: From<ReadError>,
{
    for_each_line(
        parser,
        object,
        reader,
        stats,
        |parsed, line, verdict, _| match verdict {
            Verdict::Keep => sink(parsed, line),
            Verdict::Drop => Ok(()),
        },
    )
}

/// [`for_each_document`], but `sink` gets every line's document with the rules' verdict,
/// dropped ones too, and the counts so far (this line included).
///
/// The counts are added to `stats`. While reading, its `bytes` count up to the end of the last
/// line's text (where an error leaves them); at the end of the stream, to every decompressed
/// byte read.
pub fn for_each_line<R, E>(
    parser: &Parser,
    object: &ObjectInfo,
    reader: R,
    stats: &mut ParseStats,
    mut sink: impl FnMut(&ParsedLine<'_>, &Line<'_>, Verdict, &ParseStats) -> Result<(), E>,
) -> Result<(), E>
where
    R: Read,
    E: From<ReadError>,
{
    let mut scratch = parser.scratch();
    let mut rewrites = Rewrites::default();
    let ids = ObjectHash::new(object.bucket.as_deref(), &object.key);
    let mut lines = LineReader::new(reader);
    let bytes_before = stats.bytes;
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(source) => return Err(E::from(stream_error(object, &lines, source))),
        };
        let mut parsed = parse_line(parser, object, &line, &mut scratch);
        let verdict = parser
            .rules()
            .apply(&mut parsed, &ids, line.offset, &mut rewrites);
        stats.count(&parsed, verdict);
        stats.bytes = bytes_before + line.offset + line.text.len() as u64;
        sink(&parsed, &line, verdict, stats)?;
    }
    stats.bytes = bytes_before + lines.offset();
    Ok(())
}

fn stream_error<R: Read>(
    object: &ObjectInfo,
    lines: &LineReader<R>,
    source: io::Error,
) -> ReadError {
    ReadError::Stream {
        object: object.file_path.clone(),
        offset: lines.offset(),
        line: lines.line_number(),
        source,
    }
}

/// One line to its document, enriched; a line cut at [`MAX_LINE`] is a failure document that
/// says so.
fn parse_line<'a>(
    parser: &'a Parser,
    object: &'a ObjectInfo,
    line: &'a Line<'_>,
    scratch: &mut Scratch,
) -> ParsedLine<'a> {
    let mut parsed = if line.truncated {
        let format = parser.format_of(object, &line.text);
        let message = format!(
            "line of {} bytes is longer than {MAX_LINE} bytes; its first {MAX_LINE} bytes are kept",
            line.length
        );
        parser.failure(object, &line.text, line.offset, format, message)
    } else {
        parser.parse(object, &line.text, line.offset, scratch)
    };
    parser.enricher().enrich(&mut parsed, &mut scratch.enrich);
    parsed
}

impl ParseStats {
    /// Counts one line: a document, or a dropped line.
    pub fn count(&mut self, parsed: &ParsedLine, verdict: Verdict) {
        self.lines += 1;
        if verdict == Verdict::Drop {
            self.dropped += 1;
            return;
        }
        self.documents += 1;
        self.failures += u64::from(parsed.failed);
        self.by_format[parsed.format] += 1;
    }
}

/// Lines copied out of the stream by the reader thread, for one worker to parse.
struct Block {
    seq: u64,
    text: String,
    lines: Vec<BlockLine>,
}

struct BlockLine {
    offset: u64,
    number: u64,
    end: usize,
    truncated: bool,
    length: u64,
}

const BLOCK_BYTES: usize = 256 * 1024;

/// Why [`for_each_encoded_block`] stopped before the end, with the counts of the blocks `consume`
/// took before it: a summary still counts what was written.
#[derive(Debug)]
pub struct Stopped<E> {
    /// The blocks consumed before the error.
    pub stats: ParseStats,
    pub error: E,
}

impl<E: std::fmt::Display> std::fmt::Display for Stopped<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Stopped<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The parallel form of [`for_each_document`]: a reader thread splits the stream into blocks of
/// lines, `threads` workers parse and `encode` them, and `consume` gets the encoded blocks on the
/// calling thread, in input order. Memory is bounded: a few blocks per thread are in flight.
/// A read error or a `consume` error stops every thread promptly (nothing waits on a consumer
/// that is gone) and comes back with the counts of the blocks consumed before it.
pub fn for_each_encoded_block<R, E>(
    parser: &Parser,
    object: &ObjectInfo,
    reader: R,
    threads: usize,
    encode: impl Fn(&ParsedLine<'_>, &Line<'_>, &mut Vec<u8>) -> io::Result<()> + Sync,
    mut consume: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<ParseStats, Stopped<E>>
where
    R: Read + Send,
    E: From<ReadError> + From<io::Error>,
{
    use std::collections::BTreeMap;
    use std::sync::mpsc::sync_channel;
    use std::sync::{Arc, Mutex};

    let threads = threads.max(1);
    let (work_tx, work_rx) = sync_channel::<Block>(threads * 2);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<io::Result<(u64, Vec<u8>, ParseStats)>>(threads * 2);
    let read_failure: Mutex<Option<ReadError>> = Mutex::new(None);
    let total_bytes = Mutex::new(0u64);
    // Buffers go round instead of being freed: fresh 256 KB+ allocations are fresh pages, and
    // faulting them in cost more than parsing a block's worth of lines.
    let free_text: Mutex<Vec<(String, Vec<BlockLine>)>> = Mutex::new(Vec::new());
    let free_out: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let new_block = |seq| {
        let (text, lines) = free_text
            .lock()
            .expect("lock")
            .pop()
            .unwrap_or_else(|| (String::with_capacity(BLOCK_BYTES + 4096), Vec::new()));
        Block { seq, text, lines }
    };

    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut lines = LineReader::new(reader);
            let mut seq = 0;
            let mut block = new_block(seq);
            loop {
                match lines.next_line() {
                    Ok(Some(line)) => {
                        block.text.push_str(&line.text);
                        block.lines.push(BlockLine {
                            offset: line.offset,
                            number: line.number,
                            end: block.text.len(),
                            truncated: line.truncated,
                            length: line.length,
                        });
                        if block.text.len() < BLOCK_BYTES {
                            continue;
                        }
                    }
                    Ok(None) => break,
                    Err(source) => {
                        *read_failure.lock().expect("lock") =
                            Some(stream_error(object, &lines, source));
                        break;
                    }
                }
                seq += 1;
                let full = std::mem::replace(&mut block, new_block(seq));
                if work_tx.send(full).is_err() {
                    return; // the consumer stopped
                }
            }
            *total_bytes.lock().expect("lock") = lines.offset();
            if !block.lines.is_empty() {
                let _ = work_tx.send(block);
            }
            drop(work_tx);
        });
        for _ in 0..threads {
            let (work_rx, done_tx, encode) = (Arc::clone(&work_rx), done_tx.clone(), &encode);
            let (free_text, free_out) = (&free_text, &free_out);
            scope.spawn(move || {
                let mut scratch = parser.scratch();
                let mut rewrites = Rewrites::default();
                let ids = ObjectHash::new(object.bucket.as_deref(), &object.key);
                loop {
                    let Ok(mut block) = work_rx.lock().expect("lock").recv() else {
                        return;
                    };
                    let mut out = free_out.lock().expect("lock").pop().unwrap_or_default();
                    let stages = Stages {
                        parser,
                        object,
                        ids: &ids,
                    };
                    let result =
                        stages.encode_block(&block, &mut scratch, &mut rewrites, encode, &mut out);
                    block.text.clear();
                    block.lines.clear();
                    free_text
                        .lock()
                        .expect("lock")
                        .push((block.text, block.lines));
                    if done_tx
                        .send(result.map(|stats| (block.seq, out, stats)))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        // Only the workers hold the queue now: when they stop, the reader's next send fails and
        // it stops too, instead of waiting forever on a full queue.
        drop(work_rx);

        let mut stats = ParseStats::default();
        let mut pending = BTreeMap::new();
        let mut next = 0;
        // Moved in, so that leaving this closure drops it: the workers' next sends fail and they
        // stop, instead of waiting forever on a consumer that is gone.
        let done_rx = done_rx;
        for result in done_rx.iter() {
            let (seq, out, block_stats) = match result {
                Ok(done) => done,
                Err(error) => {
                    return Err(Stopped {
                        stats,
                        error: E::from(error),
                    })
                }
            };
            pending.insert(seq, (out, block_stats));
            while let Some((mut out, block_stats)) = pending.remove(&next) {
                if let Err(error) = consume(&out) {
                    return Err(Stopped { stats, error });
                }
                stats.add(&block_stats);
                next += 1;
                out.clear();
                free_out.lock().expect("lock").push(out);
            }
        }
        stats.bytes = *total_bytes.lock().expect("lock");
        if let Some(failure) = read_failure.lock().expect("lock").take() {
            return Err(Stopped {
                stats,
                error: E::from(failure),
            });
        }
        Ok(stats)
    })
}

/// What a worker thread parses one object's blocks with.
struct Stages<'a> {
    parser: &'a Parser,
    object: &'a ObjectInfo,
    ids: &'a ObjectHash,
}

impl Stages<'_> {
    fn encode_block(
        &self,
        block: &Block,
        scratch: &mut Scratch,
        rewrites: &mut Rewrites,
        encode: &(impl Fn(&ParsedLine<'_>, &Line<'_>, &mut Vec<u8>) -> io::Result<()> + Sync),
        out: &mut Vec<u8>,
    ) -> io::Result<ParseStats> {
        let (parser, object) = (self.parser, self.object);
        out.reserve(block.text.len() * 3);
        let mut stats = ParseStats::default();
        let mut start = 0;
        for l in &block.lines {
            let line = Line {
                offset: l.offset,
                number: l.number,
                text: Cow::Borrowed(&block.text[start..l.end]),
                truncated: l.truncated,
                length: l.length,
            };
            start = l.end;
            let mut parsed = parse_line(parser, object, &line, scratch);
            let verdict = parser
                .rules()
                .apply(&mut parsed, self.ids, line.offset, rewrites);
            stats.count(&parsed, verdict);
            if verdict == Verdict::Keep {
                encode(&parsed, &line, out)?;
            }
        }
        Ok(stats)
    }
}
