//! The sending side of one object: takes the parsing thread's batches as they come and sends a
//! few at a time through the [`BulkLoader`](crate::search::bulk_load::BulkLoader), moving the
//! object's checkpoint over each unbroken run of placed batches.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use super::parse_side::Parsing;
use super::{IngestError, Ingester};
use crate::checkpoint::{Frontier, ObjectCheckpoint};
use crate::object_key::ObjectInfo;
use crate::search::bulk_load::BatchOutcome;

/// What the sending side did with one object's batches.
pub(super) struct Sent {
    /// The batches sent, added up.
    pub(super) outcome: BatchOutcome,
    /// Documents of the batches that came after the object was given up: counted, never sent.
    pub(super) not_sent: u64,
}

impl Ingester {
    /// Sends the batches of `parsing` until its thread hands over no more and every request has
    /// ended. A batch that cannot be placed gives the object up: the parsing thread stops
    /// reading, and the batches it still hands over are only counted.
    pub(super) async fn send(
        &self,
        parsing: &mut Parsing,
        info: &Arc<ObjectInfo>,
        mut checkpoint: Option<&mut ObjectCheckpoint>,
        deadline: Option<Instant>,
    ) -> Result<Sent, IngestError> {
        let give_up = parsing.give_up.clone();
        let mut sent = Sent {
            outcome: BatchOutcome::default(),
            not_sent: 0,
        };
        let mut frontier = Frontier::default();
        let mut loads: JoinSet<(u64, BatchOutcome)> = JoinSet::new();
        let mut receiving = true;
        let in_flight = self.batches_in_flight.max(1);
        let server_ids = self.loader.as_ref().map(|loader| loader.server_ids());
        while receiving || !loads.is_empty() {
            // With server ids, a batch written twice is a duplicate, and a run that dies writes
            // again every batch the checkpoint has not covered. The checkpoint moves only over an
            // unbroken run of placed batches, so while one batch hangs the others would go on
            // placing batches behind it: no batch is sent while `in_flight` are uncovered. Once
            // the object gives up, batches are only counted, never sent: keep receiving them
            // (and with nothing in flight there is nothing to wait for: never block both arms).
            let holding_back = server_ids
                .as_ref()
                .is_some_and(|ids| ids.load(Ordering::Relaxed))
                && !give_up.load(Ordering::Relaxed)
                && !loads.is_empty();
            let uncovered = if holding_back {
                frontier.behind()
            } else {
                loads.len()
            };
            tokio::select! {
                batch = parsing.batches.recv(), if receiving && uncovered < in_flight => match batch {
                    Some(batch) if give_up.load(Ordering::Relaxed) => sent.not_sent += batch.len() as u64,
                    Some(batch) => {
                        let loader = self.loader.clone().expect("batches are made only to be loaded");
                        let info = info.clone();
                        // Taken before the task exists: a batch waiting for a slot is this one
                        // only, whatever the number of objects.
                        let slot = loader.slot().await;
                        let number = frontier.sent(batch.line_offsets().map_or(0, |(_, last)| last));
                        loads.spawn(async move {
                            let _slot = slot;
                            (number, loader.load(&batch, &info, deadline).await)
                        });
                    }
                    None => receiving = false,
                },
                Some(done) = loads.join_next(), if !loads.is_empty() => {
                    let (number, done) = done.map_err(|e| IngestError::Internal {
                        object: info.file_path.clone(),
                        message: format!("a bulk sender stopped: {e}"),
                    })?;
                    if done.unplaced.is_empty() {
                        if let Some(moved) = frontier.placed(number) {
                            self.move_checkpoint(checkpoint.as_deref_mut(), moved).await;
                        }
                    }
                    self.progress.placed.fetch_add(
                        done.indexed + done.already_present + done.dead_lettered,
                        Ordering::Relaxed,
                    );
                    if !done.unplaced.is_empty() {
                        give_up.store(true, Ordering::Relaxed);
                    }
                    merge(&mut sent.outcome, done);
                }
            }
        }
        Ok(sent)
    }
}

fn merge(total: &mut BatchOutcome, done: BatchOutcome) {
    total.indexed += done.indexed;
    total.already_present += done.already_present;
    total.dead_lettered += done.dead_lettered;
    total.retries += done.retries;
    total.bytes_out += done.bytes_out;
    total.unplaced.merge(&done.unplaced);
    if total.dead_letter_location.is_none() {
        total.dead_letter_location = done.dead_letter_location;
    }
}
