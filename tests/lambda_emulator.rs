//! The built function binaries under the real Lambda Runtime API emulator (cargo-lambda's
//! `watch --only-lambda-apis`), invoked over HTTP as Lambda would, against moto and a search
//! server. Needs `ALBINGEST_TEST_CARGO_LAMBDA` (the cargo-lambda binary; scripts/test sets it).

// Test output: eprintln! is captured by the harness (clippy.toml disallows it for the binaries).
#![allow(clippy::disallowed_macros)]

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opensearch::http::Method;
use serde_json::{json, Value};
use support::lambda::fixture;
use support::*;

/// Kills the process (and so its port) when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cargo_lambda() -> Option<String> {
    match std::env::var("ALBINGEST_TEST_CARGO_LAMBDA") {
        Ok(path) if !path.is_empty() => Some(path),
        _ if std::env::var("ALBINGEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1") => {
            panic!("ALBINGEST_REQUIRE_SERVERS=1 but ALBINGEST_TEST_CARGO_LAMBDA is not set")
        }
        _ => {
            eprintln!("lambda emulator test skipped (ALBINGEST_TEST_CARGO_LAMBDA not set)");
            None
        }
    }
}

/// `cargo lambda watch --only-lambda-apis`: the Runtime API, without building anything.
fn start_emulator(cargo_lambda: &str, port: u16) -> Running {
    let child = Command::new(cargo_lambda)
        .args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
        ])
        .args(["--invoke-port", &port.to_string()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo-lambda starts");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "emulator did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Running(child)
}

/// A function binary polling the emulator's Runtime API, as the Lambda service runs it.
fn start_function(binary: &str, port: u16, env: &[(&str, String)]) -> Running {
    let child = Command::new(binary)
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("function starts");
    Running(child)
}

/// Invokes the function; `(HTTP status, body)`.
async fn invoke(port: u16, event: &Value) -> (u16, Value) {
    let url = format!("http://127.0.0.1:{port}/2015-03-31/functions/_/invocations");
    let answer = tokio::task::spawn_blocking({
        let body = event.to_string();
        move || {
            let output = Command::new("curl")
                .args([
                    "-s",
                    "-m",
                    "120",
                    "-w",
                    "\n%{http_code}",
                    "-X",
                    "POST",
                    &url,
                    "-d",
                    &body,
                ])
                .output()
                .expect("curl runs");
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
    })
    .await
    .unwrap();
    let (body, status) = answer.rsplit_once('\n').unwrap_or(("", "0"));
    (
        status.parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(json!(body)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_functions_under_the_runtime_api_emulator() {
    let (Some(cargo_lambda), Some(servers), Some(s3_url)) = (
        cargo_lambda(),
        search_servers("emulator"),
        s3_url("emulator"),
    ) else {
        return;
    };
    let server = &servers[1];
    let s3 = s3_client(&s3_url);
    let bucket = unique("emulator");
    create_bucket(&s3, &bucket).await;
    let (key_a, key_b) = (alb_key("emu a"), alb_key("emu-b"));
    put(&s3, &bucket, &key_a, gzip(alb_lines(200, 50).as_bytes())).await;
    put(&s3, &bucket, &key_b, gzip(alb_lines(100, 100).as_bytes())).await;
    let prefix = unique("emulator");
    let mut env = aws_env(&s3_url);
    env.extend([
        ("ALBINGEST_ENDPOINT", server.url.clone()),
        ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
        (
            "ALBINGEST_DEAD_LETTER",
            format!("s3://{bucket}/dead-letters/"),
        ),
    ]);

    let port = free_port();
    let _emulator = start_emulator(&cargo_lambda, port);
    let ingest = start_function(env!("CARGO_BIN_EXE_albingest-ingest"), port, &env);

    // S3 notification: the key arrives URL-encoded.
    let mut s3_event = fixture("s3-object-created.json");
    s3_event["Records"].as_array_mut().unwrap().truncate(1);
    s3_event["Records"][0]["s3"]["bucket"]["name"] = json!(bucket);
    s3_event["Records"][0]["s3"]["object"]["key"] = json!(key_a.replace(' ', "+"));
    let (status, body) = invoke(port, &s3_event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["objects"][0]["indexed"], 200, "{body}");

    // SQS with one bad message: only it is reported back.
    let mut sqs = fixture("sqs-s3-batch.json");
    let mut inner = s3_event.clone();
    inner["Records"][0]["s3"]["object"]["key"] = json!(key_b);
    sqs["Records"][0]["body"] = json!(inner.to_string());
    let (status, body) = invoke(port, &sqs).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]})
    );

    // EventBridge, the same object again: nothing added.
    let mut eb = fixture("eventbridge-object-created.json");
    eb["detail"]["bucket"]["name"] = json!(bucket);
    eb["detail"]["object"]["key"] = json!(key_a);
    let (status, body) = invoke(port, &eb).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["objects"][0]["already_present"], 200, "{body}");

    // An event of the wrong kind is a function error the runtime reports, not a crash.
    let (status, body) = invoke(port, &json!({"hello": "world"})).await;
    assert_ne!(status, 200, "{body}");
    assert!(body.to_string().contains("UnsupportedEvent"), "{body}");

    let client = search_client(&server.url).await;
    assert_eq!(count(&client, &prefix).await, 300);
    let indices: Vec<String> = indices(&client, &prefix)
        .await
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        indices,
        [
            format!("{prefix}-2026.11.01"),
            format!("{prefix}-2026.11.02")
        ]
    );
    drop(ingest);

    // Cleanup: with a retention of 7 days every 2026-11 index here is old.
    let undatable = format!("{prefix}-foo");
    client
        .json(
            Method::Put,
            &format!("/{undatable}"),
            None,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let mut cleanup_env = vec![
        ("ALBINGEST_ENDPOINT", server.url.clone()),
        ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
        ("RETENTION_DAYS", "7".into()),
    ];
    cleanup_env.push(("DRY_RUN", "true".into()));
    let cleanup = start_function(env!("CARGO_BIN_EXE_albingest-cleanup"), port, &cleanup_env);
    let (status, body) = invoke(port, &fixture("eventbridge-scheduled.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["deleted"],
        json!(indices),
        "dry run lists the old ones"
    );
    assert_eq!(
        count(&client, &prefix).await,
        300,
        "dry run deletes nothing"
    );
    drop(cleanup);

    cleanup_env.pop();
    let _cleanup = start_function(env!("CARGO_BIN_EXE_albingest-cleanup"), port, &cleanup_env);
    let (status, body) = invoke(port, &fixture("eventbridge-scheduled.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deleted"], json!(indices));
    let left: Vec<String> = support::indices(&client, &prefix)
        .await
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(left, [undatable], "only the undatable index is left");
}
