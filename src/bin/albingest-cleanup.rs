//! The cleanup Lambda function: on a schedule, deletes the daily indices older than the
//! retention. All the work is `albingest::lambda::CleanupFunction`'s.

use albingest::lambda::{
    init_logging, require_runtime_api, CleanupConfig, CleanupFunction, ProcessEnv,
};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    if let Err(e) = require_runtime_api(&ProcessEnv, "albingest-cleanup", "albingest cleanup") {
        tracing::error!(error = %e, "not in Lambda");
        std::process::exit(1);
    }
    let config = CleanupConfig::from_env(&ProcessEnv)
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let function = CleanupFunction::new(config)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cannot start"))?;
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        function.handle(event.payload).await
    }))
    .await
}
