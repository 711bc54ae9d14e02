//! Ingestion against the real stand-in servers: osmem-server (OpenSearch API) and noida-db
//! (Elasticsearch 8 API), each test on both, and moto (S3). Objects go in; `_count`, `_search`
//! and `_cat/indices` must show every line exactly once in its own day's index.

mod support;

use std::process::{Command, Output};
use std::time::Duration;

use albingest::bulk::ObjectHash;
use albingest::event::url_decode_key;
use albingest::ingest::IngestError;
use albingest::search::dead_letter::DeadLetter;
use albingest::source::{S3Location, Source, SourceError};
use opensearch::http::Method;
use serde_json::json;
use support::fault_proxy::{Action, FaultProxy};
use support::*;

fn albingest(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_albingest"));
    command.args(args).env_remove("ALBINGEST_ENDPOINT");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("albingest runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_is_idempotent_and_types_the_fields() {
    let Some(servers) = search_servers("setup") else {
        return;
    };
    for server in servers {
        let prefix = unique("setup");
        for run in 0..2 {
            let out = albingest(
                &[
                    "setup",
                    "--endpoint",
                    &server.url,
                    "--index-prefix",
                    &prefix,
                    "--replicas",
                    "0",
                ],
                &[],
            );
            assert!(
                out.status.success(),
                "{} run {run}: {}",
                server.name,
                stderr(&out)
            );
            assert!(
                stderr(&out).contains(&format!("albingest-{prefix}")),
                "{}",
                stderr(&out)
            );
        }
        let client = search_client(&server.url).await;
        let template = get_json(
            &client,
            Method::Get,
            &format!("/_index_template/albingest-{prefix}"),
            None,
        )
        .await;
        let template = &template["index_templates"][0]["index_template"];
        assert_eq!(
            template["index_patterns"],
            json!([format!("{prefix}-*")]),
            "{}",
            server.name
        );

        // The first document creates the daily index with the template's types.
        let dir = TempDir::new("setup");
        let path = dir.path().join("x.log");
        std::fs::write(&path, alb_lines(3, 3)).unwrap();
        let setup = Setup::new(&server.url, &prefix, &dir.path().join("dlq"));
        let summary = setup
            .ingester()
            .await
            .ingest(&Source::File(path), None)
            .await
            .unwrap();
        assert_eq!(summary.indexed, 3);
        let index = format!("{prefix}-2026.11.01");
        let mapping = get_json(&client, Method::Get, &format!("/{index}/_mapping"), None).await;
        let properties = &mapping[&index]["mappings"]["properties"];
        for (path, ty) in [
            ("@timestamp", "date"),
            ("source.ip", "ip"),
            ("source.port", "long"),
            ("url.original", "wildcard"),
            ("http.response.status_code", "long"),
            ("aws.elb.request_processing_time.sec", "float"),
            ("aws.elb.name", "keyword"),
        ] {
            let mut field = properties;
            let parts: Vec<&str> = path.split('.').collect();
            for (i, part) in parts.iter().enumerate() {
                field = &field[*part];
                if i + 1 < parts.len() {
                    field = &field["properties"];
                }
            }
            assert_eq!(field["type"], ty, "{}: {path} in {mapping}", server.name);
        }
        let settings = get_json(&client, Method::Get, &format!("/{index}/_settings"), None).await;
        assert_eq!(
            settings[&index]["settings"]["index"]["number_of_replicas"], "0",
            "{}",
            server.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_object_end_to_end_exactly_once_in_daily_indices() {
    let (Some(servers), Some(s3_url)) = (search_servers("s3-e2e"), s3_url("s3-e2e")) else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let bucket = unique("s3-e2e");
    create_bucket(&s3, &bucket).await;
    // A key as an S3 event carries it: URL-encoded, `+` for a space.
    let key = alb_key("a b=c");
    let event_key = key.replace(' ', "+").replace('=', "%3D");
    let (lines, first_day) = (300, 100);
    put(
        &s3,
        &bucket,
        &key,
        gzip(alb_lines(lines, first_day).as_bytes()),
    )
    .await;

    for server in servers {
        let prefix = unique("s3-e2e");
        let dir = TempDir::new("s3-e2e");
        let mut setup = Setup::new(&server.url, &prefix, dir.path());
        setup.s3 = Some(s3.clone());
        setup.install_templates(&server.url).await;
        let source = Source::S3 {
            bucket: bucket.clone(),
            key: url_decode_key(&event_key),
        };
        let first = setup.ingester().await.ingest(&source, None).await.unwrap();
        assert_eq!(
            (first.lines, first.indexed, first.already_present),
            (lines as u64, lines as u64, 0),
            "{first}"
        );
        assert!(
            first.bytes_in > 0 && first.bytes_in < first.bytes_decompressed,
            "{first}"
        );

        let client = search_client(&server.url).await;
        assert_eq!(
            count(&client, &prefix).await,
            lines as u64,
            "{}",
            server.name
        );
        assert_eq!(
            indices(&client, &prefix).await,
            vec![
                (format!("{prefix}-2026.11.01"), first_day as u64),
                (format!("{prefix}-2026.11.02"), (lines - first_day) as u64),
            ],
            "{}: each line in its own day's index",
            server.name
        );
        // One document, looked up by its offset: provenance, id and index are right.
        let hits = get_json(
            &client,
            Method::Post,
            &format!("/{prefix}-*/_search"),
            Some(json!({"query": {"term": {"log.offset": 0}}})),
        )
        .await;
        let hits = hits["hits"]["hits"].as_array().unwrap();
        assert_eq!(hits.len(), 1, "{}", server.name);
        let hit = &hits[0];
        assert_eq!(hit["_index"], format!("{prefix}-2026.11.01"));
        assert_eq!(
            hit["_id"],
            ObjectHash::new(Some(&bucket), &key).document_id(0).as_str()
        );
        assert_eq!(
            hit["_source"]["aws"]["s3"]["bucket"]["name"],
            bucket.as_str()
        );
        assert_eq!(hit["_source"]["aws"]["s3"]["object"]["key"], key.as_str());
        assert_eq!(hit["_source"]["cloud"]["account"]["id"], "123456789012");
        assert_eq!(hit["_source"]["source"]["port"], 1024);

        let second = setup.ingester().await.ingest(&source, None).await.unwrap();
        assert_eq!(
            (second.indexed, second.already_present),
            (0, lines as u64),
            "{second}"
        );
        assert_eq!(
            count(&client, &prefix).await,
            lines as u64,
            "{}: second run added nothing",
            server.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_prefix_backfill_through_the_cli_with_pagination() {
    let (Some(servers), Some(s3_url)) = (search_servers("backfill"), s3_url("backfill")) else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let bucket = unique("backfill");
    create_bucket(&s3, &bucket).await;
    for i in 0..5 {
        let key = format!("logs/{}", alb_key(&format!("obj{i}")));
        put(&s3, &bucket, &key, gzip(alb_lines(20, 5).as_bytes())).await;
    }
    put(
        &s3,
        &bucket,
        "elsewhere/x.log.gz",
        gzip(alb_lines(7, 0).as_bytes()),
    )
    .await;
    let url = format!("s3://{bucket}/logs/");
    for server in servers {
        let prefix = unique("backfill");
        let args = [
            "ingest",
            &url,
            "--endpoint",
            &server.url,
            "--index-prefix",
            &prefix,
            "--list-page-size",
            "2",
            "--concurrency",
            "2",
            "--progress",
            "never",
        ];
        let out = albingest(&args, &aws_env(&s3_url));
        let err = stderr(&out);
        assert!(out.status.success(), "{}: {err}", server.name);
        assert!(
            err.contains("5 objects, 100 lines, 100 documents (0 failure documents), 100 indexed"),
            "{err}"
        );
        let client = search_client(&server.url).await;
        assert_eq!(count(&client, &prefix).await, 100, "{}", server.name);

        let out = albingest(&args, &aws_env(&s3_url));
        let err = stderr(&out);
        assert!(out.status.success(), "{}: {err}", server.name);
        assert!(err.contains("0 indexed, 100 already present"), "{err}");
        assert_eq!(count(&client, &prefix).await, 100, "{}", server.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_objects_are_clear_errors_and_keep_what_was_read() {
    let (Some(servers), Some(s3_url)) = (search_servers("bad-objects"), s3_url("bad-objects"))
    else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let bucket = unique("bad-objects");
    create_bucket(&s3, &bucket).await;
    let plain = alb_lines(10, 10);
    put(&s3, &bucket, "plain.log", plain.into_bytes()).await;
    put(&s3, &bucket, "empty.log.gz", Vec::new()).await;
    let mut corrupt = gzip(alb_lines(10, 10).as_bytes());
    for b in corrupt.iter_mut().skip(20).take(40) {
        *b ^= 0x5a;
    }
    put(&s3, &bucket, "corrupt.log.gz", corrupt).await;
    let whole = gzip(alb_lines(2000, 2000).as_bytes());
    put(
        &s3,
        &bucket,
        "truncated.log.gz",
        whole[..whole.len() / 2].to_vec(),
    )
    .await;

    for server in servers {
        let prefix = unique("bad-objects");
        let dir = TempDir::new("bad-objects");
        let mut setup = Setup::new(&server.url, &prefix, dir.path());
        setup.s3 = Some(s3.clone());
        let ingester = setup.ingester().await;
        let client = search_client(&server.url).await;
        let object = |key: &str| Source::S3 {
            bucket: bucket.clone(),
            key: key.into(),
        };

        let summary = ingester.ingest(&object("plain.log"), None).await.unwrap();
        assert_eq!(summary.indexed, 10, "not gzip, plain text: works");

        let summary = ingester
            .ingest(&object("empty.log.gz"), None)
            .await
            .unwrap();
        assert_eq!(
            (summary.lines, summary.documents),
            (0, 0),
            "0-byte object: {summary}"
        );

        let error = ingester
            .ingest(&object("corrupt.log.gz"), None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("s3://{bucket}/corrupt.log.gz")),
            "{error}"
        );
        assert!(error.contains("byte"), "{error}");

        let error = ingester
            .ingest(&object("truncated.log.gz"), None)
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(&format!(
                "s3://{bucket}/truncated.log.gz: cannot read past byte"
            )),
            "{message}"
        );
        let kept = error.summary().expect("a summary of what was read");
        assert!(kept.lines > 100 && kept.lines < 2000, "{kept}");
        assert_eq!(
            kept.indexed, kept.lines,
            "the lines read before the cut are kept: {kept}"
        );
        assert_eq!(
            count(&client, &prefix).await,
            10 + kept.lines,
            "{}",
            server.name
        );

        let error = ingester
            .ingest(&object("missing.log.gz"), None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, IngestError::Source(SourceError::NotFound { .. })),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&bucket) && message.contains("missing.log.gz"),
            "{message}"
        );

        let wrong_bucket = Source::S3 {
            bucket: format!("{bucket}-nope"),
            key: "x.log.gz".into(),
        };
        let message = ingester
            .ingest(&wrong_bucket, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&format!("{bucket}-nope")) && message.contains("x.log.gz"),
            "{message}"
        );
    }

    // Access denied: moto checks no permissions, so the double answers GetObject as S3 does.
    let proxy = FaultProxy::start(&s3_url, |request, _| {
        if request.method == "GET" && request.target.contains("secret.log.gz") {
            Action::Respond {
                status: 403,
                body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>TEST</RequestId><HostId>TEST</HostId></Error>".into(),
                content_type: "application/xml",
            }
        } else {
            Action::Forward
        }
    })
    .await;
    let through_proxy = s3_client(&proxy.url);
    let error = albingest::source::open(
        &Source::S3 {
            bucket: bucket.clone(),
            key: "secret.log.gz".into(),
        },
        Some(&through_proxy),
    )
    .await
    .err()
    .expect("access denied");
    assert!(matches!(error, SourceError::AccessDenied { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("access denied")
            && message.contains(&bucket)
            && message.contains("secret.log.gz"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_conflicts_go_to_the_dead_letter_location() {
    let (Some(servers), Some(s3_url)) = (search_servers("dead-letter"), s3_url("dead-letter"))
    else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let bucket = unique("dead-letter");
    create_bucket(&s3, &bucket).await;
    for server in servers {
        let prefix = unique("dead-letter");
        let client = search_client(&server.url).await;
        // The first day's index exists with a conflicting type: its documents are refused.
        get_json(
            &client,
            Method::Put,
            &format!("/{prefix}-2026.11.01"),
            Some(json!({"mappings": {"properties": {"source": {"properties": {"ip": {"type": "long"}}}}}})),
        )
        .await;
        let dir = TempDir::new("dead-letter");
        let path = dir.path().join("conflict.log");
        std::fs::write(&path, alb_lines(30, 12)).unwrap();

        // Local directory.
        let local = dir.path().join("dlq");
        let setup = Setup::new(&server.url, &prefix, &local);
        let summary = setup
            .ingester()
            .await
            .ingest(&Source::File(path.clone()), None)
            .await
            .unwrap();
        assert_eq!(
            (summary.dead_lettered, summary.indexed),
            (12, 18),
            "{}: {summary}",
            server.name
        );
        let files = files_under(&local);
        assert!(!files.is_empty());
        let records = dead_letter_records(&local);
        assert_eq!(records.len(), 12);
        for record in &records {
            assert_eq!(record["_index"], format!("{prefix}-2026.11.01"));
            assert!(record["_id"].as_str().unwrap().len() <= 40);
            assert_eq!(record["status"], 400);
            assert!(
                record["reason"].as_str().unwrap().contains("source.ip"),
                "{record}"
            );
            assert_eq!(record["document"]["source"]["ip"], "78.190.26.165");
        }
        assert_eq!(count(&client, &prefix).await, 18);

        // Again: the same dead letters, overwritten in place, nothing new indexed.
        let again = setup
            .ingester()
            .await
            .ingest(&Source::File(path.clone()), None)
            .await
            .unwrap();
        assert_eq!(
            (again.dead_lettered, again.indexed, again.already_present),
            (12, 0, 18),
            "{again}"
        );
        assert_eq!(
            files_under(&local).len(),
            files.len(),
            "redelivery overwrites its dead letters"
        );

        // An S3 prefix.
        let mut setup = Setup::new(&server.url, &prefix, &local);
        let location = S3Location::parse(&format!("s3://{bucket}/dlq/{prefix}")).unwrap();
        setup.dead_letter = DeadLetter::S3 {
            client: s3.clone(),
            location,
        };
        let summary = setup
            .ingester()
            .await
            .ingest(&Source::File(path), None)
            .await
            .unwrap();
        assert_eq!(summary.dead_lettered, 12);
        let listed = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix(format!("dlq/{prefix}/"))
            .send()
            .await
            .unwrap();
        let keys: Vec<String> = listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        assert!(
            !keys.is_empty() && keys.iter().all(|k| k.ends_with(".ndjson")),
            "{keys:?}"
        );
        let body = s3
            .get_object()
            .bucket(&bucket)
            .key(&keys[0])
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        let first: serde_json::Value =
            serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(first["status"], 400);
        assert_eq!(
            summary.dead_letter_locations[0],
            format!("s3://{bucket}/{}", keys[0])
        );
    }
}

/// Where `albingest parse --bulk` (the same parser, no server) puts each line of the samples:
/// index → documents.
fn expected_indices(files: &[std::path::PathBuf], prefixes: &[&str]) -> Vec<(String, u64)> {
    let mut args = vec!["parse".to_string(), "--bulk".to_string()];
    for prefix in prefixes {
        args.extend(["--index-prefix".to_string(), prefix.to_string()]);
    }
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = albingest(&args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        if let Some(index) =
            serde_json::from_str::<serde_json::Value>(line).unwrap()["create"]["_index"].as_str()
        {
            *counts.entry(index.to_string()).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/s3");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_loads_the_bundled_samples_and_a_second_run_adds_nothing() {
    let Some(servers) = search_servers("sample") else {
        return;
    };
    let files = files_under(std::path::Path::new(SAMPLES));
    assert!(files.len() >= 2, "{files:?}");
    for server in servers {
        let prefix = unique("sample");
        let (alb, connection, health_check) = (
            format!("{prefix}-alb"),
            format!("alb-connection={prefix}-conn"),
            format!("alb-health-check={prefix}-health"),
        );
        let expected = expected_indices(&files, &[&alb, &connection, &health_check]);
        let total: u64 = expected.iter().map(|(_, n)| n).sum();
        assert!(expected.len() >= 3 && total > 1000, "{expected:?}");

        let dir = TempDir::new("sample");
        let dlq = dir.path().display().to_string();
        let args = [
            "ingest",
            SAMPLES,
            "--endpoint",
            &server.url,
            "--index-prefix",
            &alb,
            "--index-prefix",
            &connection,
            "--index-prefix",
            &health_check,
            "--dead-letter",
            &dlq,
            "--progress",
            "never",
        ];
        let out = albingest(&args, &[]);
        let err = stderr(&out);
        assert!(out.status.success(), "{}: {err}", server.name);
        let counts = format!("{total} lines, {total} documents (0 failure documents), {total} indexed, 0 already present, 0 dropped, 0 dead-lettered, 0 unplaced");
        assert!(
            err.contains(&format!("{} objects, {counts}", files.len())),
            "{err}"
        );
        let client = search_client(&server.url).await;
        assert_eq!(count(&client, &prefix).await, total, "{}", server.name);
        assert_eq!(
            indices(&client, &prefix).await,
            expected,
            "{}: each line in its own day's index",
            server.name
        );

        let out = albingest(&args, &[]);
        let err = stderr(&out);
        assert!(out.status.success(), "{}: {err}", server.name);
        assert!(
            err.contains(&format!("0 indexed, {total} already present")),
            "{err}"
        );
        assert_eq!(
            count(&client, &prefix).await,
            total,
            "{}: the second run added nothing",
            server.name
        );
    }
}

#[test]
fn cli_dry_run_needs_no_server_and_a_down_server_fails_clearly() {
    let sample = SAMPLES;
    let files = files_under(std::path::Path::new(SAMPLES));
    let total: u64 = expected_indices(&files, &[]).iter().map(|(_, n)| n).sum();
    let out = albingest(&["ingest", sample, "--dry-run", "--progress", "never"], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let counts = format!("{total} lines, {total} documents (0 failure documents), 0 indexed");
    assert!(err.contains(&counts) && err.contains("dry run"), "{err}");

    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let out = albingest(
        &[
            "ingest",
            sample,
            "--endpoint",
            &endpoint,
            "--no-setup",
            "--retry-for",
            "0.5",
            "--progress",
            "never",
        ],
        &[],
    );
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    // Down from the start: the run fails at once, before any object (tests/ingest_waiting.rs).
    assert!(
        err.contains("the search server does not answer") && err.contains(&endpoint),
        "{err}"
    );

    let out = albingest(&["setup", "--endpoint", &endpoint], &[]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("setup") && err.contains(&endpoint), "{err}");

    let out = albingest(&["ingest", sample], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--endpoint"), "{}", stderr(&out));
}

/// Every request that reached the double: request line, headers, body.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>, Vec<u8>)>>>;

async fn recording_proxy(upstream: &str) -> (FaultProxy, Seen) {
    let seen: Seen = Default::default();
    let record = seen.clone();
    let proxy = FaultProxy::start(upstream, move |request, _| {
        let line = format!("{} {}", request.method, request.target);
        record
            .lock()
            .unwrap()
            .push((line, request.headers.clone(), request.body.clone()));
        Action::Forward
    })
    .await;
    (proxy, seen)
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_basic_auth_or_a_sigv4_signature_and_no_secret_is_printed() {
    let Some(servers) = search_servers("auth") else {
        return;
    };
    let server = &servers[0];
    let dir = TempDir::new("auth");
    let path = dir.path().join("x.log");
    std::fs::write(&path, alb_lines(5, 5)).unwrap();
    let file = path.display().to_string();

    // Basic: the password only from the environment; it reaches the server, never the output.
    let (proxy, seen) = recording_proxy(&server.url).await;
    let prefix = unique("auth");
    let secret = "s3cr3t-Pa55";
    let out = albingest(
        &[
            "ingest",
            &file,
            "--endpoint",
            &proxy.url,
            "--username",
            "ingester",
            "--index-prefix",
            &prefix,
            "--progress",
            "never",
        ],
        &[
            ("ALBINGEST_PASSWORD", secret.to_string()),
            ("ALBINGEST_LOG", "debug".to_string()),
        ],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains(secret), "the password was printed: {err}");
    let expected = format!("Basic {}", base64(format!("ingester:{secret}").as_bytes()));
    let requests = seen.lock().unwrap().clone();
    assert!(requests
        .iter()
        .any(|(line, _, _)| line.starts_with("POST /_bulk")));
    for (line, headers, _) in &requests {
        assert_eq!(
            header(headers, "authorization"),
            Some(expected.as_str()),
            "{line}"
        );
    }

    // SigV4 for OpenSearch Serverless: credentials from the AWS chain (here the environment),
    // every request signed for service `aoss`, the payload hash sent; no settings template
    // (Serverless refuses index settings).
    let (proxy, seen) = recording_proxy(&server.url).await;
    let prefix = unique("auth");
    let aws = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".to_string()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string(),
        ),
        ("AWS_REGION", "eu-west-1".to_string()),
        ("AWS_CONFIG_FILE", "/nonexistent".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("ALBINGEST_LOG", "debug".to_string()),
    ];
    let out = albingest(
        &[
            "ingest",
            &file,
            "--endpoint",
            &proxy.url,
            "--aws-sigv4",
            "aoss",
            "--index-prefix",
            &prefix,
            "--progress",
            "never",
        ],
        &aws,
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("wJalrXUtnFEMI"),
        "the secret key was printed: {err}"
    );
    let requests = seen.lock().unwrap().clone();
    let templates: Vec<&Vec<u8>> = requests
        .iter()
        .filter(|(line, _, _)| line.starts_with("PUT /_index_template/"))
        .map(|(_, _, body)| body)
        .collect();
    assert!(!templates.is_empty());
    for body in templates {
        let text = String::from_utf8_lossy(body);
        assert!(
            !text.contains("number_of_shards"),
            "settings sent to Serverless: {text}"
        );
    }
    assert!(requests
        .iter()
        .any(|(line, _, _)| line.starts_with("POST /_bulk")));
    for (line, headers, _) in &requests {
        let authorization = header(headers, "authorization").unwrap_or_default();
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                && authorization.contains("/eu-west-1/aoss/aws4_request")
                && authorization.contains("Signature="),
            "{line}: {authorization}"
        );
        let hash = header(headers, "x-amz-content-sha256").unwrap_or_default();
        assert_eq!(hash.len(), 64, "{line}: payload hash {hash:?}");
        assert!(header(headers, "x-amz-date").is_some(), "{line}");
    }
}

/// Keys and paths that sanitise to the same readable dead-letter name (`a b`, `a+b` → `a_b`):
/// every refused document of every one of them is in the dead letters, written to a directory
/// and to an S3 prefix (issue 12, item 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_of_colliding_names_never_replace_each_other() {
    let (Some(servers), Some(s3_url)) = (
        search_servers("dead-letter-names"),
        s3_url("dead-letter-names"),
    ) else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let bucket = unique("dl-names");
    create_bucket(&s3, &bucket).await;
    let names = [
        "AWSLogs/a b.log",
        "AWSLogs/a+b.log",
        "team a/x.log",
        "team+a/x.log",
    ];
    let lines_each = 5;
    let dir = TempDir::new("dead-letter-names");
    let mut sources = Vec::new();
    for (i, name) in names.iter().enumerate() {
        // Each object's lines differ from the others' (client port), all refused ones on
        // 2026-11-01; one more line on 2026-11-02 (an index without the conflicting mapping) is
        // indexed, so that not every document of the batch is refused the same way — that would
        // be a target refusal, not dead letters (issue 11).
        let body = alb_lines_at(lines_each + 1, |n| {
            let day = if n == lines_each { 2 } else { 1 };
            format!("2026-11-0{day}T10:00:{:02}.{:06}Z", i * 10 + n, n)
        });
        put(&s3, &bucket, &format!("{name}.gz"), gzip(body.as_bytes())).await;
        sources.push(Source::S3 {
            bucket: bucket.clone(),
            key: format!("{name}.gz"),
        });
        let path = dir.path().join("logs").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
        sources.push(Source::File(path));
    }
    let refused = (names.len() * 2 * lines_each) as u64;
    for server in servers {
        let prefix = unique("dl-names");
        let client = search_client(&server.url).await;
        get_json(
            &client,
            Method::Put,
            &format!("/{prefix}-2026.11.01"),
            Some(json!({"mappings": {"properties": {"source": {"properties": {"ip": {"type": "long"}}}}}})),
        )
        .await;
        let local = dir.path().join(format!("dlq-{prefix}"));
        let mut setup = Setup::new(&server.url, &prefix, &local);
        setup.s3 = Some(s3.clone());
        let s3_location = S3Location::parse(&format!("s3://{bucket}/dlq/{prefix}")).unwrap();
        let destinations = [
            DeadLetter::Local(local.clone()),
            DeadLetter::S3 {
                client: s3.clone(),
                location: s3_location,
            },
        ];
        for (round, destination) in destinations.into_iter().enumerate() {
            setup.dead_letter = destination;
            let ingester = setup.ingester().await;
            let mut dead_lettered = 0;
            for source in &sources {
                let summary = ingester.ingest(source, None).await.unwrap();
                assert_eq!(summary.dead_lettered, lines_each as u64, "{summary}");
                dead_lettered += summary.dead_lettered;
            }
            assert_eq!(dead_lettered, refused);
            let records: Vec<serde_json::Value> = if round == 0 {
                dead_letter_records(&local)
            } else {
                let listed = s3
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(format!("dlq/{prefix}/"))
                    .send()
                    .await
                    .unwrap();
                let mut records = Vec::new();
                for object in listed.contents() {
                    let body = s3
                        .get_object()
                        .bucket(&bucket)
                        .key(object.key().unwrap())
                        .send()
                        .await
                        .unwrap()
                        .body
                        .collect()
                        .await
                        .unwrap()
                        .into_bytes();
                    for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                        records.push(serde_json::from_slice(line).unwrap());
                    }
                }
                records
            };
            let ids: std::collections::BTreeSet<&str> =
                records.iter().map(|r| r["_id"].as_str().unwrap()).collect();
            assert_eq!(
                (records.len() as u64, ids.len() as u64),
                (refused, refused),
                "{}, dead letters {}: every refused document once",
                server.name,
                ["local", "S3"][round]
            );
        }
    }
}

/// One local file under four spellings (relative, `./`, absolute, `//`) is one object: its
/// lines are indexed once (issue 12, item 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_file_under_any_spelling_is_indexed_once() {
    let Some(servers) = search_servers("spellings") else {
        return;
    };
    let server = &servers[0];
    let dir = TempDir::new("spellings");
    let lines = 20u64;
    std::fs::write(dir.path().join("small.log"), alb_lines(lines as usize, 5)).unwrap();
    let absolute = dir.path().join("small.log").display().to_string();
    let doubled = format!("{}//small.log", dir.path().display());
    let prefix = unique("spellings");
    let dlq = dir.path().join("dlq").display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .current_dir(dir.path())
        .env_remove("ALBINGEST_ENDPOINT")
        .args(["ingest", "small.log", "./small.log", &absolute, &doubled])
        .args(["--endpoint", &server.url, "--index-prefix", &prefix])
        .args([
            "--dead-letter",
            &dlq,
            "--progress",
            "never",
            "--concurrency",
            "1",
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "4 objects, {} lines, {0} documents (0 failure documents), {lines} indexed, {} already present",
            4 * lines,
            3 * lines
        )),
        "{err}"
    );
    let client = search_client(&server.url).await;
    assert_eq!(count(&client, &prefix).await, lines, "{}", server.name);
}

/// A failure document with no time anywhere (a local file's line without one) goes to the
/// undated failure index, not to today's (issue 12, item 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_without_any_time_goes_to_the_undated_index() {
    let Some(servers) = search_servers("undated") else {
        return;
    };
    let server = &servers[0];
    let dir = TempDir::new("undated");
    let path = dir.path().join("upload.log");
    std::fs::write(&path, format!("garbage\n{}", alb_lines(2, 2))).unwrap();
    let prefix = unique("undated");
    let setup = Setup::new(&server.url, &prefix, &dir.path().join("dlq"));
    let summary = setup
        .ingester()
        .await
        .ingest(&Source::File(path), None)
        .await
        .unwrap();
    assert_eq!((summary.indexed, summary.failures), (3, 1), "{summary}");
    let client = search_client(&server.url).await;
    assert_eq!(
        indices(&client, &prefix).await,
        [
            (format!("{prefix}-2026.11.01"), 2),
            (format!("{prefix}-failed-undated"), 1)
        ]
    );
}
