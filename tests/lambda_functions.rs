//! The two Lambda handlers called directly (as the runtime calls them) with events shaped like
//! the AWS examples, against moto (S3) and both stand-in search servers.

mod support;

use std::time::{Duration, Instant};

use albingest::lambda::{CleanupConfig, CleanupFunction, IngestConfig, IngestFunction};
use opensearch::http::Method;
use serde_json::{json, Value};
use support::*;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The functions read S3 settings from the process environment, as in Lambda.
fn set_aws_env(s3_url: &str) {
    for (name, value) in aws_env(s3_url) {
        std::env::set_var(name, value);
    }
}

fn env(pairs: &[(&str, String)]) -> std::collections::HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// An S3 notification naming `key` in `bucket`, the key URL-encoded as S3 sends it.
fn s3_event(bucket: &str, key: &str) -> Value {
    let mut event = fixture("s3-object-created.json");
    let records = event["Records"].as_array_mut().unwrap();
    records.truncate(1);
    records[0]["s3"]["bucket"]["name"] = json!(bucket);
    records[0]["s3"]["object"]["key"] = json!(key.replace(' ', "+").replace('=', "%3D"));
    event
}

fn in_five_minutes() -> Instant {
    Instant::now() + Duration::from_secs(300)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_function_takes_every_event_shape_once() {
    let (Some(servers), Some(s3_url)) = (search_servers("lambda-ingest"), s3_url("lambda-ingest"))
    else {
        return;
    };
    set_aws_env(&s3_url);
    let s3 = s3_client(&s3_url);
    let bucket = unique("lambda-ingest");
    create_bucket(&s3, &bucket).await;
    let (key_a, key_b, key_c) = (alb_key("a x=1"), alb_key("b"), alb_key("c"));
    for (key, lines) in [(&key_a, 120), (&key_b, 80), (&key_c, 50)] {
        put(&s3, &bucket, key, gzip(alb_lines(lines, 10).as_bytes())).await;
    }
    put(
        &s3,
        &bucket,
        "AWSLogs/ELBAccessLogTestFile",
        b"Enable AccessLog for ELB: x".to_vec(),
    )
    .await;

    for server in servers {
        let prefix = unique("lambda-ingest");
        let config = IngestConfig::from_env(&env(&[
            ("ALBINGEST_ENDPOINT", server.url.clone()),
            ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
            (
                "ALBINGEST_DEAD_LETTER",
                format!("s3://{bucket}/dead-letters/"),
            ),
            ("ALBINGEST_BATCH_BYTES", "65536".into()),
        ]))
        .unwrap();
        let function = IngestFunction::new(config).await.unwrap();
        let client = search_client(&server.url).await;

        // S3 notification (URL-encoded key).
        let answer = function
            .handle(s3_event(&bucket, &key_a), in_five_minutes())
            .await
            .unwrap();
        assert_eq!(
            answer["objects"][0]["indexed"], 120,
            "{}: {answer}",
            server.name
        );
        assert_eq!(count(&client, &prefix).await, 120, "{}", server.name);

        // SQS batch: a good message, a message that is not an event, the same object again.
        let mut sqs = fixture("sqs-s3-batch.json");
        sqs["Records"][0]["body"] = json!(s3_event(&bucket, &key_b).to_string());
        sqs["Records"][2]["body"] = json!(s3_event(&bucket, &key_a).to_string());
        let answer = function.handle(sqs, in_five_minutes()).await.unwrap();
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]}),
            "{}: only the bad message comes back",
            server.name
        );
        assert_eq!(
            count(&client, &prefix).await,
            200,
            "{}: object a not twice",
            server.name
        );

        // EventBridge (key not encoded), and the test file AWS writes when logging is enabled.
        let mut eb = fixture("eventbridge-object-created.json");
        eb["detail"]["bucket"]["name"] = json!(bucket);
        eb["detail"]["object"]["key"] = json!(key_c);
        function.handle(eb, in_five_minutes()).await.unwrap();
        assert_eq!(count(&client, &prefix).await, 250, "{}", server.name);
        let answer = function
            .handle(
                s3_event(&bucket, "AWSLogs/ELBAccessLogTestFile"),
                in_five_minutes(),
            )
            .await
            .unwrap();
        assert_eq!(
            answer["objects"],
            json!([]),
            "{}: skipped by its name",
            server.name
        );
        let answer = function
            .handle(fixture("s3-test-event.json"), in_five_minutes())
            .await
            .unwrap();
        assert_eq!(answer["test_event"], true);

        // A missing object fails the invocation, naming bucket and key (S3 delivers it again).
        let error = function
            .handle(s3_event(&bucket, &alb_key("missing")), in_five_minutes())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&bucket) && error.contains("missing"),
            "{error}"
        );
        // Garbage is an error that says what arrived, not a panic.
        let error = function
            .handle(json!({"hello": 1}), in_five_minutes())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("hello"), "{error}");
        assert_eq!(count(&client, &prefix).await, 250, "{}", server.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_function_past_its_deadline_fails_the_object_and_a_retry_completes_it() {
    let (Some(servers), Some(s3_url)) =
        (search_servers("lambda-deadline"), s3_url("lambda-deadline"))
    else {
        return;
    };
    set_aws_env(&s3_url);
    let s3 = s3_client(&s3_url);
    let bucket = unique("lambda-deadline");
    create_bucket(&s3, &bucket).await;
    let key = alb_key("deadline");
    put(&s3, &bucket, &key, gzip(alb_lines(3000, 1000).as_bytes())).await;
    let server = &servers[0];
    let prefix = unique("lambda-deadline");
    let config = IngestConfig::from_env(&env(&[
        ("ALBINGEST_ENDPOINT", server.url.clone()),
        ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
        (
            "ALBINGEST_DEAD_LETTER",
            format!("s3://{bucket}/dead-letters/"),
        ),
        ("ALBINGEST_DEADLINE_MARGIN_SECONDS", "1".into()),
    ]))
    .unwrap();
    let function = IngestFunction::new(config).await.unwrap();
    // Already past the deadline less the margin: the object cannot be finished.
    let error = function
        .handle(
            s3_event(&bucket, &key),
            Instant::now() + Duration::from_millis(200),
        )
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("1 of 1 objects failed"),
        "{error}"
    );
    let client = search_client(&server.url).await;
    assert!(count(&client, &prefix).await < 3000);
    // The redelivery completes the object without duplicates.
    function
        .handle(s3_event(&bucket, &key), in_five_minutes())
        .await
        .unwrap();
    assert_eq!(count(&client, &prefix).await, 3000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_function_deletes_exactly_the_old_indices() {
    let Some(servers) = search_servers("lambda-cleanup") else {
        return;
    };
    let today = albingest::retention::today();
    let day = |days_ago: i64| {
        let t = albingest::timestamp::format_epoch_seconds((today - days_ago) * 86_400);
        t[..10].replace('-', ".")
    };
    for server in servers {
        let prefix = unique("lambda-cleanup");
        let other = unique("other");
        let client = search_client(&server.url).await;
        let names = [
            format!("{prefix}-{}", day(0)),
            format!("{prefix}-{}", day(6)),
            format!("{prefix}-{}", day(7)),
            format!("{prefix}-{}", day(8)),
            format!("{prefix}-failed-{}", day(30)),
            format!("{prefix}-foo"),
            format!("{other}-{}", day(400)),
            ".kibana_1".to_string(),
        ];
        for name in &names {
            let _ = client
                .json(
                    Method::Put,
                    &format!("/{name}"),
                    None,
                    Duration::from_secs(30),
                )
                .await;
        }
        let config = |dry_run: &str| {
            CleanupConfig::from_env(&env(&[
                ("ALBINGEST_ENDPOINT", server.url.clone()),
                ("RETENTION_DAYS", "7".into()),
                ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
                ("DRY_RUN", dry_run.into()),
            ]))
            .unwrap()
        };
        let existing = |names: &[String]| {
            let client = &client;
            let names = names.to_vec();
            async move {
                let mut left = Vec::new();
                for name in names {
                    let answer = client
                        .send(Method::Head, &format!("/{name}"), &[], &[], None, None)
                        .await
                        .unwrap();
                    if answer.status.is_success() {
                        left.push(name);
                    }
                }
                left
            }
        };

        let dry = CleanupFunction::new(config("true")).await.unwrap();
        let report = dry
            .handle(fixture("eventbridge-scheduled.json"))
            .await
            .unwrap();
        let would: Vec<&str> = report["deleted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            would,
            [names[3].as_str(), names[4].as_str()],
            "{}: older than 7 days, ours only",
            server.name
        );
        assert_eq!(
            existing(&names).await,
            names.to_vec(),
            "{}: dry run deletes nothing",
            server.name
        );

        let real = CleanupFunction::new(config("false")).await.unwrap();
        let report = real.handle(json!({})).await.unwrap();
        assert_eq!(report["failed"], json!([]), "{}", server.name);
        let mut expected = names.to_vec();
        expected.retain(|n| n != &names[3] && n != &names[4]);
        assert_eq!(existing(&names).await, expected, "{}", server.name);
        let reasons: Vec<String> = report["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["index"] == names[5].as_str() || v["index"] == ".kibana_1")
            .map(|v| v["reason"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            reasons,
            ["system index", "no date in the name"],
            "{}",
            server.name
        );
    }
}
