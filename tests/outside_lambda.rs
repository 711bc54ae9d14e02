//! The two Lambda binaries started by hand, outside Lambda: a clear error and exit 1, not the
//! runtime's panic about a missing `AWS_LAMBDA_RUNTIME_API`.

use std::process::Command;

fn run_outside_lambda(binary: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(binary)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .envs(env.iter().copied())
        .output()
        .expect("the binary starts");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code(), format!("{stdout}{stderr}"))
}

fn assert_refuses_clearly(binary: &str, name: &str, local: &str, env: &[(&str, &str)]) {
    let (code, output) = run_outside_lambda(binary, env);
    assert_eq!(code, Some(1), "{name}: {output}");
    assert!(!output.contains("panicked"), "{name} panicked: {output}");
    assert!(
        output.contains("AWS_LAMBDA_RUNTIME_API") && output.contains(local),
        "{name}: the error says it runs in Lambda and what to run instead: {output}"
    );
}

#[test]
fn the_cleanup_function_outside_lambda_says_so() {
    assert_refuses_clearly(
        env!("CARGO_BIN_EXE_albingest-cleanup"),
        "albingest-cleanup",
        "albingest cleanup",
        // A complete configuration: the function would otherwise start its loop.
        &[
            ("ALBINGEST_ENDPOINT", "http://127.0.0.1:9"),
            ("RETENTION_DAYS", "3"),
        ],
    );
}

#[test]
fn the_ingest_function_outside_lambda_says_so() {
    assert_refuses_clearly(
        env!("CARGO_BIN_EXE_albingest-ingest"),
        "albingest-ingest",
        "albingest ingest",
        &[
            ("ALBINGEST_ENDPOINT", "http://127.0.0.1:9"),
            ("ALBINGEST_DEAD_LETTER", "s3://bucket/dead-letter"),
        ],
    );
}
