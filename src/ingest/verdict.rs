//! The verdict on one object: the parsing side's counts and why it stopped, with what the
//! sending side placed, become the object's summary when every document was placed, else an
//! [`IngestError::Incomplete`] that says what was not (so the caller fails the object and it is
//! delivered again).

use std::time::Instant;

use super::parse_side::{ParseEnd, Stop};
use super::send_side::Sent;
use super::{Incomplete, IngestError, Ingester, ObjectSummary};
use crate::checkpoint::{Checkpoint, ObjectCheckpoint};
use crate::pipeline::ReadError;

/// Why reading stopped before the end of the object, as [`Incomplete`] reports it.
#[derive(Default)]
struct Stopped {
    read_error: Option<ReadError>,
    /// Lines from this decompressed byte offset on were not read.
    unread_from: Option<u64>,
    reason: Option<String>,
}

impl From<Option<Stop>> for Stopped {
    fn from(stop: Option<Stop>) -> Self {
        match stop {
            None => Self::default(),
            Some(Stop::Read(e)) => Self {
                read_error: Some(e),
                ..Self::default()
            },
            Some(Stop::Deadline { offset }) => Self {
                unread_from: Some(offset),
                reason: Some("deadline reached".to_string()),
                ..Self::default()
            },
            Some(Stop::GivenUp { offset }) => Self {
                unread_from: Some(offset),
                reason: Some("given up after documents could not be placed".to_string()),
                ..Self::default()
            },
        }
    }
}

impl Ingester {
    /// The object's summary when every document was placed (its checkpoint then moves to
    /// `done`), else what was left unplaced or unread.
    pub(super) async fn verdict(
        &self,
        object: String,
        parsed: ParseEnd,
        sent: Sent,
        checkpoint: Option<&mut ObjectCheckpoint>,
        started: Instant,
    ) -> Result<ObjectSummary, IngestError> {
        let outcome = sent.outcome;
        let mut summary = ObjectSummary {
            object,
            lines: parsed.stats.lines,
            documents: parsed.stats.documents,
            failures: parsed.stats.failures,
            indexed: outcome.indexed,
            already_present: outcome.already_present + parsed.skipped,
            dropped: parsed.stats.dropped,
            dead_lettered: outcome.dead_lettered,
            unplaced: 0,
            retries: outcome.retries,
            bytes_in: parsed.bytes_in,
            bytes_decompressed: parsed.stats.bytes,
            bytes_out: outcome.bytes_out,
            seconds: 0.0,
            by_format: parsed.stats.by_format,
            dead_letter_locations: outcome.dead_letter_location.into_iter().collect(),
        };
        let mut unplaced = outcome.unplaced;
        let stopped = Stopped::from(parsed.stop);
        if self.loader.is_some() {
            unplaced.add(
                "not sent: the object was given up after an earlier failure",
                sent.not_sent,
                [],
            );
            // Documents parsed but never handed over (the batch being built when reading stopped).
            let not_handed_over = parsed
                .stats
                .documents
                .saturating_sub(parsed.documents_sent + parsed.skipped);
            let reason = format!(
                "not sent: {}",
                stopped.reason.as_deref().unwrap_or("reading stopped")
            );
            unplaced.add(&reason, not_handed_over, []);
        }
        summary.unplaced = unplaced.documents;
        summary.seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            object = %summary.object,
            lines = summary.lines,
            documents = summary.documents,
            failures = summary.failures,
            indexed = summary.indexed,
            already_present = summary.already_present,
            dropped = summary.dropped,
            dead_lettered = summary.dead_lettered,
            unplaced = summary.unplaced,
            retries = summary.retries,
            bytes_in = summary.bytes_in,
            bytes_out = summary.bytes_out,
            seconds = summary.seconds,
            "object done"
        );
        if stopped.read_error.is_none() && unplaced.is_empty() && stopped.unread_from.is_none() {
            self.move_checkpoint(checkpoint, Checkpoint::Done).await;
            Ok(summary)
        } else {
            Err(IngestError::Incomplete(Box::new(Incomplete {
                summary,
                read_error: stopped.read_error,
                unplaced,
                unread_from: stopped.unread_from,
                stop_reason: stopped.reason,
            })))
        }
    }
}
