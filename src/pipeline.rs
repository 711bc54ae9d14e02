//! One object's lines through the parser: decompressed stream → lines → documents, handed to a
//! sink (stdout for `albingest parse`, bulk batches for `albingest ingest`).

use std::io::{self, Read};

use crate::format::LogFormat;
use crate::lines::{Line, LineReader, MAX_LINE};
use crate::object_key::ObjectInfo;
use crate::parse::{ParsedLine, Parser};

/// Counts for one object (or many, added up).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Non-empty lines read.
    pub lines: u64,
    /// Documents made (one per line).
    pub documents: u64,
    /// Of which failure documents.
    pub failures: u64,
    /// Documents by format, in [`LogFormat::ALL`] order.
    pub by_format: [u64; 4],
    /// Decompressed bytes read.
    pub bytes: u64,
}

impl ParseStats {
    pub fn add(&mut self, other: &ParseStats) {
        self.lines += other.lines;
        self.documents += other.documents;
        self.failures += other.failures;
        self.bytes += other.bytes;
        for (a, b) in self.by_format.iter_mut().zip(other.by_format) {
            *a += b;
        }
    }

    /// `alb=10 nlb=2` (formats with documents only).
    pub fn formats_summary(&self) -> String {
        let parts: Vec<String> = LogFormat::ALL
            .iter()
            .zip(self.by_format)
            .filter(|(_, n)| *n > 0)
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

/// Parses every line of `reader` and gives each document to `sink`, in input order.
/// A sink error stops the loop and is returned as it is.
pub fn for_each_document<R, E>(
    parser: &Parser,
    object: &ObjectInfo,
    reader: R,
    mut sink: impl FnMut(&ParsedLine<'_>, &Line<'_>) -> Result<(), E>,
) -> Result<ParseStats, E>
where
    R: Read,
    E: From<ReadError>,
{
    let mut stats = ParseStats::default();
    let mut scratch = parser.scratch();
    let mut lines = LineReader::new(reader);
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(source) => {
                return Err(E::from(ReadError::Stream {
                    object: object.file_path.clone(),
                    offset: lines.offset(),
                    line: lines.line_number(),
                    source,
                }))
            }
        };
        let parsed = if line.truncated {
            let format = parser.format_of(object, &line.text);
            let message = format!(
                "line is longer than {MAX_LINE} bytes; its first {MAX_LINE} bytes are kept"
            );
            parser.failure(object, &line.text, line.offset, format, message)
        } else {
            parser.parse(object, &line.text, line.offset, &mut scratch)
        };
        stats.lines += 1;
        stats.documents += 1;
        stats.failures += u64::from(parsed.failed);
        stats.by_format[LogFormat::ALL
            .iter()
            .position(|f| *f == parsed.format)
            .unwrap_or(0)] += 1;
        sink(&parsed, &line)?;
    }
    stats.bytes = lines.offset();
    Ok(stats)
}
