//! `albingest replay`: the dead letters ([`crate::search::dead_letter`]) sent again once what
//! refused them is fixed (a template, a mapping), each document with its original `_index` and
//! `_id`, through the same [`BulkLoader`] and fate rules as ingest ([`crate::search::fate`]):
//! placed (indexed, or 409: already present), retried, refused again for the document (kept,
//! with the server's new reason), or a target refusal (the replay stops: no new file is started,
//! and the run fails). One rule applies as in ingest: when every record of a batch is refused
//! the same way, the target is the problem (nothing was fixed yet), not the documents.
//!
//! **What was placed is removed.** Each dead-letter file is rewritten once the server has
//! answered for all of its records: placed records leave it, records refused again stay with the
//! new status and reason, records not placed (retries given up, a target refusal, an unreadable
//! line) stay as they were; a file left empty is deleted. The dead-letter location then holds
//! only what is still to do, so a second replay reads and sends only that (a `replayed/` copy
//! would double the storage for no use: keep S3 versioning for history).
//!
//! **Crash safety.** A file is replaced in one step (a local file is written beside it and
//! renamed over it; an S3 `PutObject` replaces the object whole) and only after all its records
//! were answered. A replay killed midway leaves each file either as it was or rewritten: no
//! record is lost. The records of a file not yet rewritten are sent again by the next replay:
//! with our ids the placed ones answer 409 (already present); with ids the server makes
//! (`--document-ids server`, OpenSearch Serverless) they are stored again: at-least-once.
//!
//! **Server-made ids.** A record whose `_id` is empty (written by an ingest whose target made
//! the ids) is sent without one; with `--document-ids server` every record is, and with `auto`
//! the loader drops the ids when the target refuses them, as in ingest.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use crate::batch::{Batch, BatchBuilder};
use crate::bulk::write_action;
use crate::object_key::ObjectInfo;
use crate::search::bulk_load::{BulkLoader, Unplaced};
use crate::search::dead_letter::{DeadLetter, DeadLetterFile, DeadLetterFileError, DeadRecord};

/// How a replay runs.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Upper bound of one `_bulk` body, uncompressed.
    pub batch_bytes: usize,
    /// Dead-letter files replayed at once (the loader bounds the requests in flight).
    pub files_at_once: usize,
    /// No retry starts after it.
    pub deadline: Option<Instant>,
}

/// What a replay did; `records` = `replayed` + `already_present` + refused again + unplaced.
#[derive(Debug, Default)]
pub struct ReplaySummary {
    pub files: u64,
    /// Records read (unreadable lines included).
    pub records: u64,
    /// Indexed by this replay.
    pub replayed: u64,
    /// Answered 409: placed before (an earlier replay killed before it rewrote the file, or a
    /// re-run of the ingest).
    pub already_present: u64,
    /// Refused again for the document, by reason (see [`reason_kind`]); kept in their files.
    pub refused_again: BTreeMap<String, u64>,
    /// Neither placed nor refused again (retries given up, a target refusal, an unreadable
    /// record); kept in their files unchanged.
    pub unplaced: Unplaced,
    /// Files rewritten without their placed records, and files removed (all placed).
    pub files_rewritten: u64,
    pub files_removed: u64,
    pub retries: u64,
    pub bytes_out: u64,
    /// What went wrong with files or lines, one message each (the file, the line, the field).
    pub problems: Vec<String>,
    /// The target refused: the replay stopped.
    pub refusal: Option<String>,
}

impl ReplaySummary {
    pub fn refused_again_total(&self) -> u64 {
        self.refused_again.values().sum()
    }

    /// Every record is placed or refused again, and every file was read and rewritten.
    pub fn complete(&self) -> bool {
        self.unplaced.is_empty() && self.problems.is_empty() && self.refusal.is_none()
    }

    fn add(&mut self, file: FileOutcome) {
        self.files += 1;
        self.records += file.records;
        self.replayed += file.replayed;
        self.already_present += file.already_present;
        for (reason, n) in file.refused_again {
            *self.refused_again.entry(reason).or_default() += n;
        }
        self.unplaced.merge(&file.unplaced);
        self.files_rewritten += u64::from(file.rewritten);
        self.files_removed += u64::from(file.removed);
        self.retries += file.retries;
        self.bytes_out += file.bytes_out;
        self.problems.extend(file.problems);
        if self.refusal.is_none() {
            self.refusal = file.refusal;
        }
    }
}

/// What `--dry-run` finds: records by index and reason, nothing sent.
#[derive(Debug, Default)]
pub struct DryRun {
    pub files: u64,
    pub records: u64,
    /// (index, reason kind) → records.
    pub by_index_and_reason: BTreeMap<(String, String), u64>,
    pub problems: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    List(#[from] DeadLetterFileError),
    #[error("replay: internal error: {0}")]
    Internal(String),
}

/// `mapper_parsing_exception [source.ip]` from a server's reason: the error type and the field
/// it names, without the values and document ids that make every reason different.
pub fn reason_kind(reason: &str) -> String {
    let kind = reason.split(':').next().unwrap_or(reason).trim();
    let field = reason
        .split_once("field [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(field, _)| field);
    match field {
        Some(field) => format!("{kind} [{field}]"),
        None => kind.to_string(),
    }
}

/// The records of one file's text: (line number from 1, the line, the record or why not).
fn parse_lines(body: &[u8]) -> Vec<(usize, &[u8], Result<DeadRecord, serde_json::Error>)> {
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(n, line)| (n + 1, line, DeadRecord::parse(line)))
        .collect()
}

/// Counts the records of every file at `locations` by index and reason; sends nothing.
pub async fn dry_run(locations: &[DeadLetter]) -> Result<DryRun, ReplayError> {
    let mut dry = DryRun::default();
    for location in locations {
        for file in location.list().await? {
            dry.files += 1;
            let body = match location.read(&file).await {
                Ok(body) => body,
                Err(e) => {
                    dry.problems.push(e.to_string());
                    continue;
                }
            };
            for (n, _, record) in parse_lines(&body) {
                dry.records += 1;
                let key = match record {
                    Ok(record) => (record.index, reason_kind(&record.reason)),
                    Err(e) => {
                        dry.problems.push(unreadable(&file, n, &e));
                        ("(unreadable)".into(), "unreadable record".into())
                    }
                };
                *dry.by_index_and_reason.entry(key).or_default() += 1;
            }
        }
    }
    Ok(dry)
}

fn unreadable(file: &DeadLetterFile, line: usize, e: &serde_json::Error) -> String {
    format!("{file}: line {line}: not a dead-letter record ({e}); kept as it is")
}

/// Replays every dead-letter file at `locations`: see the module's documentation.
pub async fn replay(
    loader: Arc<BulkLoader>,
    locations: Vec<DeadLetter>,
    options: ReplayOptions,
) -> Result<ReplaySummary, ReplayError> {
    let mut summary = ReplaySummary::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut running: JoinSet<FileOutcome> = JoinSet::new();
    let at_once = options.files_at_once.max(1);
    for location in locations {
        let location = Arc::new(location);
        for file in location.list().await? {
            while running.len() >= at_once {
                summary.add(joined(running.join_next().await)?);
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let job = FileJob {
                loader: loader.clone(),
                location: location.clone(),
                file,
                options: options.clone(),
                stop: stop.clone(),
            };
            running.spawn(job.run());
        }
    }
    while let Some(done) = running.join_next().await {
        summary.add(joined(Some(done))?);
    }
    Ok(summary)
}

fn joined(
    done: Option<Result<FileOutcome, tokio::task::JoinError>>,
) -> Result<FileOutcome, ReplayError> {
    match done {
        Some(Ok(outcome)) => Ok(outcome),
        Some(Err(e)) => Err(ReplayError::Internal(format!(
            "a file's replay stopped: {e}"
        ))),
        None => Err(ReplayError::Internal("no replay running".into())),
    }
}

/// What became of one file's records.
#[derive(Debug, Default)]
struct FileOutcome {
    records: u64,
    replayed: u64,
    already_present: u64,
    refused_again: BTreeMap<String, u64>,
    unplaced: Unplaced,
    rewritten: bool,
    removed: bool,
    retries: u64,
    bytes_out: u64,
    problems: Vec<String>,
    refusal: Option<String>,
}

/// What is to become of one line of a file once the server has answered.
enum LineFate {
    /// Placed: leaves the file.
    Placed,
    /// Refused again: stays, with the server's new status and reason.
    Refused { status: u16, reason: String },
    /// Not placed, or unreadable: stays as it was.
    Kept,
}

struct FileJob {
    loader: Arc<BulkLoader>,
    location: Arc<DeadLetter>,
    file: DeadLetterFile,
    options: ReplayOptions,
    /// Set after a target refusal: no new file starts.
    stop: Arc<AtomicBool>,
}

impl FileJob {
    async fn run(self) -> FileOutcome {
        let mut outcome = FileOutcome::default();
        let body = match self.location.read(&self.file).await {
            Ok(body) => body,
            Err(e) => {
                outcome.problems.push(e.to_string());
                return outcome;
            }
        };
        let lines = parse_lines(&body);
        outcome.records = lines.len() as u64;
        let mut fates: Vec<LineFate> = Vec::with_capacity(lines.len());
        // The readable records, by line number in `lines`, in batches.
        let mut builder = BatchBuilder::new(self.options.batch_bytes, self.loader.gzip());
        let mut batches: Vec<(Batch, Vec<usize>)> = Vec::new();
        let mut pending: Vec<usize> = Vec::new();
        for (at, (n, _, record)) in lines.iter().enumerate() {
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    let problem = unreadable(&self.file, *n, e);
                    tracing::error!("{problem}");
                    outcome.problems.push(problem);
                    outcome.unplaced.add("unreadable dead-letter record", 1, []);
                    fates.push(LineFate::Kept);
                    continue;
                }
            };
            fates.push(LineFate::Placed);
            let id = (!record.id.is_empty()).then_some(record.id.as_str());
            let finished = builder.push(record.log_offset, id.is_some(), |out| {
                write_action(out, &record.index, id);
                let source_at = out.len();
                out.extend_from_slice(record.document.get().as_bytes());
                out.push(b'\n');
                source_at
            });
            if let Some(batch) = finished {
                // The finished batch holds the records pushed before this one.
                batches.push((batch, std::mem::take(&mut pending)));
            }
            pending.push(at);
        }
        if let Some(batch) = builder.finish() {
            batches.push((batch, std::mem::take(&mut pending)));
        }

        let info = ObjectInfo {
            key: self.file.to_string(),
            file_path: self.file.to_string(),
            ..ObjectInfo::default()
        };
        for (batch, records) in batches {
            if outcome.refusal.is_some() {
                let offsets = records.iter().filter_map(|r| lines[*r].2.as_ref().ok());
                outcome.unplaced.add(
                    "not sent: the replay stopped after a target refusal",
                    records.len() as u64,
                    offsets.map(|r| r.log_offset),
                );
                for r in records {
                    fates[r] = LineFate::Kept;
                }
                continue;
            }
            let settled = {
                let _slot = self.loader.slot().await;
                self.loader
                    .settle(&batch, &info, self.options.deadline)
                    .await
            };
            let done = settled.outcome;
            outcome.replayed += done.indexed;
            outcome.already_present += done.already_present;
            outcome.retries += done.retries;
            outcome.bytes_out += done.bytes_out;
            outcome.unplaced.merge(&done.unplaced);
            if let Some(refusal) = done.refusal {
                self.stop.store(true, Ordering::Relaxed);
                outcome.refusal = Some(refusal.to_string());
            }
            for item in settled.unplaced {
                fates[records[item]] = LineFate::Kept;
            }
            for dead in settled.dead {
                *outcome
                    .refused_again
                    .entry(reason_kind(&dead.reason))
                    .or_default() += 1;
                fates[records[dead.item]] = LineFate::Refused {
                    status: dead.status,
                    reason: dead.reason,
                };
            }
        }
        self.rewrite(&lines, &fates, &mut outcome).await;
        outcome
    }

    /// The file without its placed records (removed when none is left; untouched when nothing
    /// changed).
    async fn rewrite(
        &self,
        lines: &[(usize, &[u8], Result<DeadRecord, serde_json::Error>)],
        fates: &[LineFate],
        outcome: &mut FileOutcome,
    ) {
        if fates.iter().all(|f| matches!(f, LineFate::Kept)) {
            return;
        }
        let mut body = Vec::new();
        for ((_, line, record), fate) in lines.iter().zip(fates) {
            match (fate, record) {
                (LineFate::Placed, _) => {}
                (LineFate::Refused { status, reason }, Ok(record)) => {
                    record.write_refused(&mut body, *status, reason);
                }
                (LineFate::Refused { .. } | LineFate::Kept, _) => {
                    body.extend_from_slice(line);
                    body.push(b'\n');
                }
            }
        }
        let removed = body.is_empty();
        match self.location.replace(&self.file, body).await {
            Ok(()) if removed => outcome.removed = true,
            Ok(()) => outcome.rewritten = true,
            Err(e) => outcome.problems.push(format!(
                "{e}: its records placed now are sent again by the next replay (answered 409 with our ids)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_counted_by_type_and_field() {
        assert_eq!(
            reason_kind("mapper_parsing_exception: failed to parse field [source.ip] of type [long] in document with id 'x'. Preview of field's value: '78.190.26.165'"),
            "mapper_parsing_exception [source.ip]"
        );
        assert_eq!(
            reason_kind("document_parsing_exception: [1:40] failed to parse field [url.port] of type [long] (caused by: illegal_argument_exception: For input string)"),
            "document_parsing_exception [url.port]"
        );
        assert_eq!(reason_kind("HTTP 400"), "HTTP 400");
    }

    #[test]
    fn lines_keep_their_numbers_and_say_what_is_wrong() {
        let body = b"{\"_index\":\"i\",\"_id\":\"a\",\"status\":400,\"reason\":\"r\",\"document\":{\"x\":1}}\n\n{\"_id\":\"b\",\"document\":{}}\nnot json\n";
        let lines = parse_lines(body);
        assert_eq!(lines.len(), 3);
        let first = lines[0].2.as_ref().unwrap();
        assert_eq!((first.index.as_str(), first.id.as_str()), ("i", "a"));
        assert_eq!(first.document.get(), "{\"x\":1}");
        assert_eq!(lines[1].0, 3);
        let missing = lines[1].2.as_ref().unwrap_err().to_string();
        assert!(missing.contains("_index"), "{missing}");
        assert!(lines[2].2.is_err());
    }
}
