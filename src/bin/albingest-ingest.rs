//! The ingest Lambda function: S3 / SQS / SNS / EventBridge events in, log objects loaded into
//! the search server. All the work is `albingest::lambda::IngestFunction`'s.

use albingest::lambda::{
    deadline_instant, init_logging, require_runtime_api, IngestConfig, IngestFunction, ProcessEnv,
};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    albingest::memory::limit_allocator_arenas();
    init_logging();
    if let Err(e) = require_runtime_api(&ProcessEnv, "albingest-ingest", "albingest ingest") {
        tracing::error!(error = %e, "not in Lambda");
        std::process::exit(1);
    }
    let config = IngestConfig::from_env(&ProcessEnv)
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let function = IngestFunction::new(config)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cannot start"))?;
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_instant(event.context.deadline);
        function.handle(event.payload, deadline).await
    }))
    .await
}
