//! Many objects, a few at a time: the loop the command line (a listing) and the Lambda function
//! (an event's objects) both ingest with.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{IngestError, Ingester, ObjectSummary};
use crate::checkpoint::Resume;
use crate::source::{Listed, Source, SourceError};

/// Where [`run_many`] takes its objects from, one at a time as it has room for one more.
pub trait Sources: Send {
    /// The next object (or why the listing could not give it); `None` after the last. The
    /// future is dropped unfinished when an object ends first, so it must lose nothing then
    /// (as [`mpsc::Receiver::recv`]).
    fn next_source(&mut self) -> impl Future<Output = Option<Result<Source, SourceError>>> + Send;
}

/// A listing under way ([`crate::source::enumerate`]).
impl Sources for mpsc::Receiver<Result<Listed, SourceError>> {
    async fn next_source(&mut self) -> Option<Result<Source, SourceError>> {
        self.recv().await.map(|listed| listed.map(|l| l.source))
    }
}

/// Objects known up front (an event's), taken as they are needed.
pub struct Known<I>(pub I);

impl<I: Iterator<Item = Source> + Send> Sources for Known<I> {
    fn next_source(&mut self) -> impl Future<Output = Option<Result<Source, SourceError>>> + Send {
        std::future::ready(self.0.next().map(Ok))
    }
}

/// Ingests every object of `sources`, at most `concurrency` at a time, each until `deadline`.
/// `resume` skips the objects a run of the backfill completed and marks those this run completes
/// (`Resume::new(None)`: neither). `finished` gets each object's result as the object ends (so
/// in input order with a `concurrency` of 1), with its source (`None` for a listing error,
/// which names its object itself); an object skipped by `resume` has none.
pub async fn run_many(
    ingester: &Arc<Ingester>,
    mut sources: impl Sources,
    concurrency: usize,
    deadline: Option<Instant>,
    resume: &Resume,
    mut finished: impl FnMut(Option<&Source>, Result<ObjectSummary, IngestError>),
) {
    let concurrency = concurrency.max(1);
    let mut running = JoinSet::new();
    // The source of each running task, for a task that ends without its result (a panic).
    let mut running_sources = HashMap::new();
    let mut listing = true;
    while listing || !running.is_empty() {
        tokio::select! {
            next = sources.next_source(), if listing && running.len() < concurrency => match next {
                Some(Ok(source)) => {
                    let task = running.spawn(ingest_resuming(
                        ingester.clone(),
                        source.clone(),
                        deadline,
                        resume.clone(),
                    ));
                    running_sources.insert(task.id(), source);
                }
                Some(Err(e)) => finished(None, Err(IngestError::Source(e))),
                None => listing = false,
            },
            Some(joined) = running.join_next_with_id(), if !running.is_empty() => match joined {
                Ok((id, result)) => {
                    let source = running_sources.remove(&id);
                    if let Some(result) = result {
                        finished(source.as_ref(), result);
                    }
                }
                Err(e) => {
                    let source = running_sources.remove(&e.id());
                    let object = source.as_ref().map_or_else(String::new, Source::describe);
                    let message = format!("the object's task stopped: {e}");
                    finished(source.as_ref(), Err(IngestError::Internal { object, message }));
                }
            },
        }
    }
}

/// One object, unless a run of the backfill completed it (`None`); marked done when this run
/// completes it.
async fn ingest_resuming(
    ingester: Arc<Ingester>,
    source: Source,
    deadline: Option<Instant>,
    resume: Resume,
) -> Option<Result<ObjectSummary, IngestError>> {
    let checkpoint = resume.before(&source).await?;
    let result = ingester.ingest(&source, deadline).await;
    if result.is_ok() {
        resume.after(checkpoint).await;
    }
    Some(result)
}
