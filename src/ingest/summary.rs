//! What became of an object: its [`ObjectSummary`], or the [`IngestError`] that says what was
//! not placed; and the [`Progress`] counters a display reads meanwhile.

use std::sync::atomic::AtomicU64;

use crate::checkpoint::CheckpointError;
use crate::format::PerFormat;
use crate::pipeline::ReadError;
use crate::search::bulk_load::Unplaced;
use crate::source::SourceError;

/// Counters a progress display reads while objects are ingested.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes read from sources (compressed, as stored).
    pub bytes_in: AtomicU64,
    /// Documents parsed.
    pub documents: AtomicU64,
    /// Documents placed (indexed, already present or dead-lettered).
    pub placed: AtomicU64,
}

/// What became of one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectSummary {
    /// `s3://bucket/key` or the path.
    pub object: String,
    /// Non-empty lines read: `lines = indexed + already_present + dropped + dead_lettered +
    /// unplaced`.
    pub lines: u64,
    /// Documents made (a line dropped by the rules makes none).
    pub documents: u64,
    /// Failure documents (lines that did not parse; indexed like the rest).
    pub failures: u64,
    pub indexed: u64,
    /// `create` answered 409: the document was there already (a retry, or a second run).
    pub already_present: u64,
    /// Lines the drop and sample rules left out (counted, never sent).
    pub dropped: u64,
    pub dead_lettered: u64,
    /// Documents neither indexed, present nor dead-lettered.
    pub unplaced: u64,
    /// Requests sent again after a failure.
    pub retries: u64,
    /// Bytes read from the source (compressed size for gzip).
    pub bytes_in: u64,
    /// Decompressed bytes read.
    pub bytes_decompressed: u64,
    /// Request bytes sent to the search server.
    pub bytes_out: u64,
    pub seconds: f64,
    pub by_format: PerFormat<u64>,
    pub dead_letter_locations: Vec<String>,
}

impl ObjectSummary {
    /// Adds `other` (another object) into this total.
    pub fn add(&mut self, other: &ObjectSummary) {
        self.lines += other.lines;
        self.documents += other.documents;
        self.failures += other.failures;
        self.indexed += other.indexed;
        self.already_present += other.already_present;
        self.dropped += other.dropped;
        self.dead_lettered += other.dead_lettered;
        self.unplaced += other.unplaced;
        self.retries += other.retries;
        self.bytes_in += other.bytes_in;
        self.bytes_decompressed += other.bytes_decompressed;
        self.bytes_out += other.bytes_out;
        self.by_format += &other.by_format;
        self.dead_letter_locations
            .extend(other.dead_letter_locations.iter().cloned());
    }

    /// The counts as one line (no object name, no time).
    pub fn counts(&self) -> String {
        use crate::count::count;
        format!(
            "{}, {} ({}), {} indexed, {} already present, {} dropped, {} dead-lettered, {} unplaced, {}, {} in, {} out",
            count(self.lines, "line", "lines"),
            count(self.documents, "document", "documents"),
            count(self.failures, "failure document", "failure documents"),
            self.indexed,
            self.already_present,
            self.dropped,
            self.dead_lettered,
            self.unplaced,
            count(self.retries, "retry", "retries"),
            count(self.bytes_in, "byte", "bytes"),
            count(self.bytes_out, "byte", "bytes"),
        )
    }
}

impl std::fmt::Display for ObjectSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}, {:.2} s",
            self.object,
            self.counts(),
            self.seconds
        )
    }
}

/// An object that was not completely placed.
#[derive(Debug)]
pub struct Incomplete {
    /// What was done before it stopped (the documents it counts as placed are placed).
    pub summary: ObjectSummary,
    /// The object could not be read to its end (corrupt or truncated gzip, a broken stream).
    pub read_error: Option<ReadError>,
    pub unplaced: Unplaced,
    /// Reading stopped early (deadline, or an earlier failure): lines from this decompressed
    /// byte offset on were not read.
    pub unread_from: Option<u64>,
    pub stop_reason: Option<String>,
}

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(read_error) = &self.read_error {
            parts.push(read_error.to_string());
        } else {
            parts.push(format!("{}: not completely ingested", self.summary.object));
        }
        if !self.unplaced.is_empty() {
            parts.push(self.unplaced.to_string());
        }
        if let Some(offset) = self.unread_from {
            parts.push(format!(
                "lines from decompressed byte {offset} on were not read ({})",
                self.stop_reason.as_deref().unwrap_or("stopped")
            ));
        }
        let placed =
            self.summary.indexed + self.summary.already_present + self.summary.dead_lettered;
        parts.push(format!(
            "{placed} of {} documents read were placed",
            self.summary.documents
        ));
        f.write_str(&parts.join("; "))
    }
}

/// Why an object was not ingested, or not completely.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The object could not be opened (missing, access denied, unreadable file).
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0}")]
    Incomplete(Box<Incomplete>),
    /// The server makes the document ids and the object's checkpoint cannot be read: ingesting
    /// it could write its documents twice.
    #[error("{0}; with --document-ids server the checkpoint keeps re-runs from writing documents twice: grant s3:GetObjectTagging and s3:PutObjectTagging on the log prefix")]
    Checkpoint(CheckpointError),
    #[error("{object}: internal error: {message}")]
    Internal { object: String, message: String },
}

impl IngestError {
    /// The summary of what was done, when the object was opened at all.
    pub fn summary(&self) -> Option<&ObjectSummary> {
        match self {
            IngestError::Incomplete(incomplete) => Some(&incomplete.summary),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_use_the_singular_for_one() {
        let one = ObjectSummary {
            lines: 1,
            documents: 1,
            failures: 1,
            indexed: 1,
            retries: 1,
            bytes_in: 1,
            bytes_out: 2,
            ..ObjectSummary::default()
        };
        assert_eq!(
            one.counts(),
            "1 line, 1 document (1 failure document), 1 indexed, 0 already present, \
             0 dropped, 0 dead-lettered, 0 unplaced, 1 retry, 1 byte in, 2 bytes out"
        );
    }
}
