//! The first stage of one object: its checkpoint read (while the server may make the document
//! ids), then its bytes opened with the S3 client of its bucket; and the checkpoint moved as its
//! documents are placed.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{IngestError, Ingester};
use crate::bulk::DocumentIds;
use crate::checkpoint::{Checkpoint, ObjectCheckpoint};
use crate::object_key::ObjectInfo;
use crate::source::{self, Source};

/// An object ready to be read.
pub(super) struct OpenObject {
    pub(super) info: Arc<ObjectInfo>,
    pub(super) reader: Box<dyn std::io::Read + Send>,
    /// Its checkpoint, when the server may make the document ids and it is in S3.
    pub(super) checkpoint: Option<ObjectCheckpoint>,
    /// Lines that start before this decompressed offset were placed by an earlier run.
    pub(super) skip_before: u64,
}

impl Ingester {
    /// Reads `source`'s checkpoint, then opens it.
    pub(super) async fn open(&self, source: &Source) -> Result<OpenObject, IngestError> {
        let s3 = self.s3_for(source).await;
        let checkpoint = self.read_checkpoint(source, s3.as_ref()).await?;
        let skip_before = checkpoint.as_ref().map_or(0, |c| c.current().skip_before());
        let opened = source::open(source, s3.as_ref()).await?;
        Ok(OpenObject {
            info: Arc::new(opened.info),
            reader: opened.reader,
            checkpoint,
            skip_before,
        })
    }

    /// The S3 client that reads `source`'s bucket (its role's, or the default one).
    async fn s3_for(&self, source: &Source) -> Option<aws_sdk_s3::Client> {
        match (source, &self.buckets) {
            (Source::S3 { bucket, .. }, Some(buckets)) => Some(buckets.for_bucket(bucket).await),
            _ => self.s3.clone(),
        }
    }

    /// The checkpoint of an S3 object when the server may make the document ids
    /// (`--document-ids auto|server`), read with `s3`, the client of its bucket; `None` for
    /// local files and deterministic ids (not read then: nothing would use it).
    async fn read_checkpoint(
        &self,
        source: &Source,
        s3: Option<&aws_sdk_s3::Client>,
    ) -> Result<Option<ObjectCheckpoint>, IngestError> {
        let (Some(loader), Some(s3), Source::S3 { bucket, key }) = (&self.loader, s3, source)
        else {
            return Ok(None);
        };
        let ids = loader.document_ids();
        if ids == DocumentIds::Deterministic {
            return Ok(None);
        }
        // Boxed: the SDK's futures are deep, and the Lambda's event future holds this one.
        match Box::pin(ObjectCheckpoint::read(s3, bucket, key)).await {
            Ok(checkpoint) => Ok(Some(checkpoint)),
            Err(e) if ids == DocumentIds::Server => Err(IngestError::Checkpoint(e)),
            Err(e) => {
                // Deterministic ids keep re-runs idempotent until the target refuses them.
                tracing::warn!(error = %e, "no object checkpoint: a re-run after the target refused ids may write documents twice");
                Ok(None)
            }
        }
    }

    /// Moves the object's checkpoint while the server makes the ids (a failure to write it is
    /// logged: the documents are placed, only a re-run could write them again).
    pub(super) async fn move_checkpoint(
        &self,
        checkpoint: Option<&mut ObjectCheckpoint>,
        to: Checkpoint,
    ) {
        let server_ids = self
            .loader
            .as_ref()
            .is_some_and(|l| l.server_ids().load(Ordering::Relaxed));
        match checkpoint {
            Some(checkpoint) if server_ids || checkpoint.current() != Checkpoint::None => {
                if let Err(e) = Box::pin(checkpoint.write(to)).await {
                    tracing::warn!(error = %e, "the object checkpoint was not moved: delivered again, the object's documents from the old checkpoint on are written twice");
                }
            }
            None if server_ids && to == Checkpoint::Done => {
                tracing::warn!("the server makes the document ids and a local file has no checkpoint: ingesting it again writes its documents twice");
            }
            _ => {}
        }
    }
}
