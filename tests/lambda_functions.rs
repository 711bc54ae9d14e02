//! The two Lambda handlers called directly (as the runtime calls them) with events shaped like
//! the AWS examples, against moto (S3) and both stand-in search servers.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use albingest::lambda::{CleanupConfig, CleanupFunction, IngestConfig, IngestFunction};
use opensearch::http::Method;
use serde_json::json;
use support::fault_proxy::{Action, FaultProxy};
use support::lambda::*;
use support::*;

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
        let config = IngestConfig::from_env(&config_env(&[
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

/// The deadline falls in the middle of the object: the search server (the fault double) answers
/// the first `_bulk` requests, then hangs without writing anything, so what the first invocation
/// placed is exactly what it was told of. That invocation fails the object (S3 notification: the
/// invocation's error; SQS: the message in `batchItemFailures`), and the redelivery places exactly
/// the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_function_with_its_deadline_mid_object_fails_it_and_the_retry_places_the_rest() {
    const LINES: u64 = 1500;
    /// `_bulk` requests answered before the server hangs: ~30 documents each (64 KiB batches).
    const ANSWERED: usize = 10;
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
    put(
        &s3,
        &bucket,
        &key,
        gzip(alb_lines(LINES as usize, 500).as_bytes()),
    )
    .await;
    for (server, sqs) in [
        (&servers[0], false),
        (&servers[1], false),
        (&servers[1], true),
    ] {
        let context = format!(
            "{} ({})",
            server.name,
            if sqs { "SQS" } else { "S3 notification" }
        );
        let prefix = unique("lambda-deadline");
        let hanging = Arc::new(AtomicBool::new(true));
        let hangs = hanging.clone();
        let proxy = FaultProxy::start(&server.url, move |request, seen| {
            if request.is_bulk() && seen >= ANSWERED && hangs.load(Ordering::SeqCst) {
                Action::Hold
            } else {
                Action::Forward
            }
        })
        .await;
        let config = IngestConfig::from_env(&config_env(&[
            ("ALBINGEST_ENDPOINT", proxy.url.clone()),
            ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
            (
                "ALBINGEST_DEAD_LETTER",
                format!("s3://{bucket}/dead-letters/"),
            ),
            ("ALBINGEST_DEADLINE_MARGIN_SECONDS", "1".into()),
            ("ALBINGEST_BATCH_BYTES", "65536".into()),
        ]))
        .unwrap();
        let function = IngestFunction::new(config).await.unwrap();
        let event = if sqs {
            let mut batch = fixture("sqs-s3-batch.json");
            batch["Records"].as_array_mut().unwrap().truncate(1);
            batch["Records"][0]["body"] = json!(s3_event(&bucket, &key).to_string());
            batch
        } else {
            s3_event(&bucket, &key)
        };
        // 1 s of margin: 5 s of work, far more than the answered requests need.
        let first = function
            .handle(event.clone(), Instant::now() + Duration::from_secs(6))
            .await;
        let client = search_client(&server.url).await;
        let placed = count(&client, &prefix).await;
        assert!(
            0 < placed && placed < LINES,
            "{context}: the deadline must fall mid-object: {placed} of {LINES} placed"
        );
        if sqs {
            assert_eq!(
                first.unwrap(),
                json!({"batchItemFailures": [{"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975830a7d"}]}),
                "{context}: the message comes back"
            );
        } else {
            let error = first.unwrap_err().to_string();
            assert!(
                error.contains("1 of 1 objects failed") && error.contains("deadline reached"),
                "{context}: {error}"
            );
            // What it says it placed is what the server holds.
            let reported = error
                .split("; ")
                .find_map(|part| part.strip_suffix(" documents read were placed"))
                .and_then(|part| part.split(' ').next()?.parse::<u64>().ok());
            assert_eq!(reported, Some(placed), "{context}: {error}");
        }

        // The redelivery, the server answering again: exactly the rest.
        hanging.store(false, Ordering::SeqCst);
        let answer = function.handle(event, in_five_minutes()).await.unwrap();
        if sqs {
            assert_eq!(answer, json!({"batchItemFailures": []}), "{context}");
            assert_eq!(count(&client, &prefix).await, LINES, "{context}");
        } else {
            let retry = &answer["objects"][0];
            assert_eq!(
                (&retry["indexed"], &retry["already_present"]),
                (&json!(LINES - placed), &json!(placed)),
                "{context}: {answer}"
            );
            assert_eq!(count(&client, &prefix).await, LINES, "{context}");
        }
    }
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
            CleanupConfig::from_env(&config_env(&[
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
        assert_eq!(reasons, ["no date in the name"], "{}", server.name);
        // Only our own patterns are listed: neither a system index nor another prefix's.
        let listed: Vec<&str> = report["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["index"].as_str().unwrap())
            .collect();
        assert!(
            listed.iter().all(|i| i.starts_with(prefix.as_str())),
            "{}: {listed:?}",
            server.name
        );
    }
}

/// A target refusal (here OpenSearch Serverless's refusal of ids, with deterministic ids
/// required) fails the SQS message so that it comes back once the configuration is fixed, and
/// writes no dead letter; with `ALBINGEST_DOCUMENT_IDS=auto` the same message lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_refusal_fails_the_sqs_message_and_dead_letters_nothing() {
    let (Some(servers), Some(s3_url)) =
        (search_servers("lambda-refusal"), s3_url("lambda-refusal"))
    else {
        return;
    };
    set_aws_env(&s3_url);
    let s3 = s3_client(&s3_url);
    let bucket = unique("lambda-refusal");
    create_bucket(&s3, &bucket).await;
    for server in servers {
        // An object per server: its checkpoint tag says "done" once one target has it all.
        let key = alb_key(&unique("refused"));
        put(&s3, &bucket, &key, gzip(alb_lines(60, 10).as_bytes())).await;
        let mut sqs = fixture("sqs-s3-batch.json");
        sqs["Records"].as_array_mut().unwrap().truncate(1);
        sqs["Records"][0]["body"] = json!(s3_event(&bucket, &key).to_string());
        let message_id = sqs["Records"][0]["messageId"].clone();
        let prefix = unique("lambda-refusal");
        let proxy = FaultProxy::start(&server.url, |request, _| {
            if request.is_bulk() {
                Action::serverless_time_series()
            } else {
                Action::Forward
            }
        })
        .await;
        let function = |ids: &str| {
            IngestConfig::from_env(&config_env(&[
                ("ALBINGEST_ENDPOINT", proxy.url.clone()),
                ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
                (
                    "ALBINGEST_DEAD_LETTER",
                    format!("s3://{bucket}/dead-letters/"),
                ),
                ("ALBINGEST_DOCUMENT_IDS", ids.into()),
            ]))
            .unwrap()
        };
        let refused = IngestFunction::new(function("deterministic"))
            .await
            .unwrap();
        let answer = refused
            .handle(sqs.clone(), in_five_minutes())
            .await
            .unwrap();
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": message_id}]}),
            "{}: the refused object's message comes back",
            server.name
        );
        let dead = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix("dead-letters/")
            .send()
            .await
            .unwrap();
        assert_eq!(
            dead.key_count(),
            Some(0),
            "{}: a target refusal was dead-lettered",
            server.name
        );

        let adapted = IngestFunction::new(function("auto")).await.unwrap();
        let answer = adapted
            .handle(sqs.clone(), in_five_minutes())
            .await
            .unwrap();
        assert_eq!(answer, json!({"batchItemFailures": []}), "{}", server.name);
        let client = search_client(&server.url).await;
        assert_eq!(count(&client, &prefix).await, 60, "{}", server.name);
    }
}
