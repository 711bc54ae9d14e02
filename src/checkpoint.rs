//! The object checkpoint: how far an S3 log object is known to be placed, kept as a tag on the
//! object itself (`albingest-checkpoint` = a decompressed byte offset, or `done`).
//!
//! With server-generated document ids (`--document-ids server`, or `auto` once the target
//! refused ids) a document sent twice is stored twice, so idempotency comes from here: an object
//! delivered again after it was `done` adds nothing; one retried after a failure resends only the
//! lines from its checkpoint on. What can still be written twice: the documents of the batches in
//! flight when a run died (placed, but the checkpoint had not moved past them), and a batch whose
//! answer was lost (a reset or timeout after the server had written it) and that was sent again,
//! and two deliveries of the same object ingested at the same moment (a tag is no lock).
//!
//! A tag needs nothing but the object (`s3:GetObjectTagging` and `s3:PutObjectTagging` on the
//! log prefix) and dies with it: an object written again under the same key is a new version with
//! no tags, so it is ingested again. The other tags of the object are kept (S3 allows ten). The
//! checkpoint is the object's, not a target's: a second target fed the same objects with server
//! ids would skip those already `done`.
//! Local files have no checkpoint (see README).

use aws_sdk_s3::types::{Tag, Tagging};

use crate::source::Source;

/// The tag's key.
pub const TAG_KEY: &str = "albingest-checkpoint";
const DONE: &str = "done";

/// How far an object is known to be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checkpoint {
    /// Nothing is known: send every line.
    #[default]
    None,
    /// Every line that starts before this decompressed byte offset is placed.
    Before(u64),
    /// Every line is placed.
    Done,
}

impl Checkpoint {
    /// Lines that start before this offset are placed already.
    pub fn skip_before(self) -> u64 {
        match self {
            Checkpoint::None => 0,
            Checkpoint::Before(offset) => offset,
            Checkpoint::Done => u64::MAX,
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            DONE => Some(Checkpoint::Done),
            offset => offset.parse().ok().map(Checkpoint::Before),
        }
    }

    fn value(self) -> Option<String> {
        match self {
            Checkpoint::None => None,
            Checkpoint::Before(offset) => Some(offset.to_string()),
            Checkpoint::Done => Some(DONE.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("object checkpoint (tag {TAG_KEY}) of s3://{bucket}/{key}: {operation}: {reason}")]
pub struct CheckpointError {
    pub bucket: String,
    pub key: String,
    pub operation: &'static str,
    pub reason: String,
}

/// The checkpoint tag of one S3 object, and the object's other tags (written back with it).
#[derive(Debug)]
pub struct ObjectCheckpoint {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    other_tags: Vec<Tag>,
    /// The last value written or read.
    current: Checkpoint,
}

impl ObjectCheckpoint {
    /// Reads the object's tags.
    pub async fn read(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
    ) -> Result<Self, CheckpointError> {
        let output = client
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| CheckpointError {
                bucket: bucket.to_string(),
                key: key.to_string(),
                operation: "GetObjectTagging",
                reason: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
            })?;
        let (ours, other_tags): (Vec<Tag>, Vec<Tag>) = output
            .tag_set
            .into_iter()
            .partition(|tag| tag.key == TAG_KEY);
        let current = ours
            .first()
            .and_then(|tag| Checkpoint::parse(&tag.value))
            .unwrap_or_default();
        Ok(Self {
            client: client.clone(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            other_tags,
            current,
        })
    }

    pub fn current(&self) -> Checkpoint {
        self.current
    }

    /// Moves the checkpoint to `checkpoint` (never backwards).
    pub async fn write(&mut self, checkpoint: Checkpoint) -> Result<(), CheckpointError> {
        if checkpoint.skip_before() <= self.current.skip_before() {
            return Ok(());
        }
        let Some(value) = checkpoint.value() else {
            return Ok(());
        };
        let failed = |reason: String| CheckpointError {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            operation: "PutObjectTagging",
            reason,
        };
        let ours = Tag::builder()
            .key(TAG_KEY)
            .value(value)
            .build()
            .map_err(|e| failed(e.to_string()))?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(
                self.other_tags.iter().cloned().chain([ours]).collect(),
            ))
            .build()
            .map_err(|e| failed(e.to_string()))?;
        self.client
            .put_object_tagging()
            .bucket(&self.bucket)
            .key(&self.key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| failed(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
        self.current = checkpoint;
        Ok(())
    }
}

/// The batches of one object in the order they were handed to the sender, and the frontier
/// before which every line is placed: batches finish out of order, the checkpoint moves only
/// over an unbroken run of placed batches.
#[derive(Debug, Default)]
pub struct Frontier {
    /// `(last line offset, placed)` per batch still behind the frontier, oldest first.
    batches: std::collections::VecDeque<(u64, bool)>,
    /// Sequence number of the first entry of `batches`.
    first: u64,
}

impl Frontier {
    /// Notes a batch handed to the sender; returns its number for [`Frontier::placed`].
    pub fn sent(&mut self, last_line_offset: u64) -> u64 {
        self.batches.push_back((last_line_offset, false));
        self.first + self.batches.len() as u64 - 1
    }

    /// Batches handed to the sender that the checkpoint does not cover yet: the ones in flight
    /// and the placed ones behind an unplaced one. With server ids, these are the documents a
    /// run that dies now writes again on the next delivery.
    pub fn behind(&self) -> usize {
        self.batches.len()
    }

    /// Batch `number` is placed completely; returns the new checkpoint when it moved.
    pub fn placed(&mut self, number: u64) -> Option<Checkpoint> {
        let at = number.checked_sub(self.first)? as usize;
        self.batches.get_mut(at)?.1 = true;
        let mut moved = None;
        while let Some(&(last, true)) = self.batches.front() {
            self.batches.pop_front();
            self.first += 1;
            // A line that starts after the last placed one: the next line's offset or more.
            moved = Some(last + 1);
        }
        moved.map(Checkpoint::Before)
    }
}

/// A re-run of a backfill (`ingest --since/--until`) skips what an earlier run completed: an S3
/// object tagged `done` is not read at all (one `GetObjectTagging` instead of reading it and
/// sending every document again to be answered 409), and one ingested completely is tagged
/// `done`. The tag rather than "is the object's last document present": that document's id
/// holds the byte offset of the last line, known only after reading the object whole.
#[derive(Clone)]
pub struct Resume {
    /// `None`: nothing is skipped or marked (no window, `--reread-done`, a dry run).
    s3: Option<aws_sdk_s3::Client>,
    skipped: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Resume {
    pub fn new(s3: Option<aws_sdk_s3::Client>) -> Self {
        Self {
            s3,
            skipped: Default::default(),
        }
    }

    /// Objects skipped as done so far.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `None` when the object is done (skip it); else its checkpoint, to mark after the ingest
    /// (`Some(None)`: nothing to mark: a local file, no resuming, or an unreadable tag).
    pub async fn before(&self, source: &Source) -> Option<Option<ObjectCheckpoint>> {
        let (Some(s3), Source::S3 { bucket, key }) = (&self.s3, source) else {
            return Some(None);
        };
        match ObjectCheckpoint::read(s3, bucket, key).await {
            Ok(checkpoint) if checkpoint.current() == Checkpoint::Done => {
                self.skipped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(object = %source.describe(), "skipped: done by an earlier run");
                None
            }
            Ok(checkpoint) => Some(Some(checkpoint)),
            Err(e) => {
                tracing::warn!(error = %e, "the object is read: its checkpoint could not be read");
                Some(None)
            }
        }
    }

    /// Marks a completely ingested object `done`.
    pub async fn after(&self, checkpoint: Option<ObjectCheckpoint>) {
        if let Some(mut checkpoint) = checkpoint {
            if let Err(e) = checkpoint.write(Checkpoint::Done).await {
                tracing::warn!(error = %e, "not marked done: a re-run of the backfill reads it again (and adds nothing)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        for checkpoint in [
            Checkpoint::Before(0),
            Checkpoint::Before(1234),
            Checkpoint::Done,
        ] {
            assert_eq!(
                Checkpoint::parse(&checkpoint.value().unwrap()),
                Some(checkpoint)
            );
        }
        assert_eq!(Checkpoint::parse("x"), None);
        assert_eq!(Checkpoint::Done.skip_before(), u64::MAX);
        assert_eq!(Checkpoint::None.skip_before(), 0);
    }

    #[test]
    fn the_frontier_moves_only_over_placed_batches_in_order() {
        let mut f = Frontier::default();
        let a = f.sent(99);
        let b = f.sent(199);
        let c = f.sent(299);
        assert_eq!(f.placed(b), None, "a is still in flight");
        assert_eq!(f.behind(), 3, "b is placed but not covered");
        assert_eq!(f.placed(a), Some(Checkpoint::Before(200)));
        assert_eq!(f.behind(), 1);
        let d = f.sent(399);
        assert_eq!(f.placed(d), None);
        assert_eq!(f.placed(c), Some(Checkpoint::Before(400)));
        assert_eq!(f.placed(c), None, "a number seen twice changes nothing");
    }
}
