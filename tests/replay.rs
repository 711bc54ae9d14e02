//! `albingest replay` against the stand-in servers (osmem, noida) and moto: documents
//! dead-lettered by a mapping conflict are replayed once the conflict is fixed, each once; a
//! record the target still refuses stays with its new reason; a second replay adds nothing; a
//! replay that died before rewriting its files loses nothing and writes nothing twice.

mod support;

use std::process::{Command, Output};

use albingest::search::dead_letter::DeadLetter;
use albingest::source::{S3Location, Source};
use opensearch::http::Method;
use serde_json::{json, Value};
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A dead-letter location as the tests read and write it: a directory or an S3 prefix.
enum Location {
    Local(std::path::PathBuf),
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
        prefix: String,
    },
}

impl Location {
    fn spec(&self) -> String {
        match self {
            Location::Local(dir) => dir.display().to_string(),
            Location::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    fn dead_letter(&self) -> DeadLetter {
        match self {
            Location::Local(dir) => DeadLetter::Local(dir.clone()),
            Location::S3 { client, .. } => DeadLetter::S3 {
                client: client.clone(),
                location: S3Location::parse(&self.spec()).unwrap(),
            },
        }
    }

    /// Every file: (name, text).
    async fn files(&self) -> Vec<(String, String)> {
        match self {
            Location::Local(dir) => files_under(dir)
                .into_iter()
                .map(|f| {
                    let body = std::fs::read_to_string(&f).unwrap();
                    (f.display().to_string(), body)
                })
                .collect(),
            Location::S3 {
                client,
                bucket,
                prefix,
            } => {
                let listed = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(format!("{prefix}/"))
                    .send()
                    .await
                    .unwrap();
                let mut files = Vec::new();
                for object in listed.contents() {
                    let key = object.key().unwrap().to_string();
                    let body = client
                        .get_object()
                        .bucket(bucket)
                        .key(&key)
                        .send()
                        .await
                        .unwrap()
                        .body
                        .collect()
                        .await
                        .unwrap()
                        .into_bytes();
                    files.push((key, text(&body)));
                }
                files
            }
        }
    }

    async fn write(&self, name: &str, body: &str) {
        match self {
            Location::Local(_) => std::fs::write(name, body).unwrap(),
            Location::S3 { client, bucket, .. } => {
                put(client, bucket, name, body.as_bytes().to_vec()).await
            }
        }
    }

    async fn records(&self) -> Vec<Value> {
        let mut records = Vec::new();
        for (_, body) in self.files().await {
            for line in body.lines().filter(|l| !l.is_empty()) {
                records.push(serde_json::from_str(line).unwrap());
            }
        }
        records
    }
}

const CONFLICT: fn() -> Value =
    || json!({"mappings": {"properties": {"source": {"properties": {"ip": {"type": "long"}}}}}});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_places_what_was_fixed_once_and_keeps_what_is_still_refused() {
    let (Some(servers), Some(s3_url)) = (search_servers("replay"), s3_url("replay")) else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let bucket = unique("replay");
    create_bucket(&s3, &bucket).await;
    let dir = TempDir::new("replay");
    let log = dir.path().join("conflict.log");
    // 12 lines on 2026-11-01 (refused by the conflicting index), 18 on 2026-11-02.
    std::fs::write(&log, alb_lines(30, 12)).unwrap();
    for server in &servers {
        for round in ["local", "s3"] {
            let prefix = unique("replay");
            let location = match round {
                "local" => Location::Local(dir.path().join(format!("dlq-{prefix}"))),
                _ => Location::S3 {
                    client: s3.clone(),
                    bucket: bucket.clone(),
                    prefix: format!("dlq/{prefix}"),
                },
            };
            let what = format!("{}, dead letters {round}", server.name);
            let client = search_client(&server.url).await;
            let day1 = format!("/{prefix}-2026.11.01");
            get_json(&client, Method::Put, &day1, Some(CONFLICT())).await;
            let mut setup = Setup::new(&server.url, &prefix, dir.path());
            setup.batch_bytes = 1024 * 1024; // one batch: 12 refused among 30, dead letters
            setup.dead_letter = location.dead_letter();
            setup.install_templates(&server.url).await;
            let summary = setup
                .ingester()
                .await
                .ingest(&Source::File(log.clone()), None)
                .await
                .unwrap();
            assert_eq!((summary.indexed, summary.dead_lettered), (18, 12), "{what}");

            let mut env = aws_env(&s3_url);
            env.push(("ALBINGEST_ENDPOINT", server.url.clone()));
            let spec = location.spec();
            let replay = |extra: &[&str]| {
                let mut args = vec!["replay", spec.as_str(), "--retry-initial-ms", "10"];
                args.extend_from_slice(extra);
                albingest(&args, &env)
            };

            // Dry run: counts by index and reason, nothing sent or changed.
            let before = location.files().await;
            let dry = replay(&["--dry-run"]);
            assert!(dry.status.success(), "{what}: {}", text(&dry.stderr));
            let table = text(&dry.stdout);
            let expected = format!("12\t{prefix}-2026.11.01\t");
            assert!(
                table.starts_with(&expected) && table.contains("[source.ip]"),
                "{what}: {table}"
            );
            assert_eq!(table.lines().count(), 1, "{what}: {table}");
            assert!(text(&dry.stderr).contains("12 records (dry run"), "{what}");
            assert_eq!(
                location.files().await,
                before,
                "{what}: a dry run changes nothing"
            );

            // Nothing fixed yet: every record refused the same way is the target's problem.
            let unfixed = replay(&[]);
            let stderr = text(&unfixed.stderr);
            assert!(!unfixed.status.success(), "{what}: {stderr}");
            assert!(stderr.contains("target refusal"), "{what}: {stderr}");
            assert!(stderr.contains("12 unplaced"), "{what}: {stderr}");
            assert_eq!(
                location.files().await,
                before,
                "{what}: refused records stay"
            );
            assert_eq!(count(&client, &prefix).await, 18, "{what}");

            // One document the fixed target still refuses (an address that is no IP), then the
            // fix: the conflicting index goes, the template types the new one.
            let (name, body) = before[0].clone();
            let tampered =
                body.replacen("\"ip\":\"78.190.26.165\"", "\"ip\":\"not-an-address\"", 1);
            assert_ne!(tampered, body);
            location.write(&name, &tampered).await;
            get_json(&client, Method::Delete, &day1, None).await;

            let fixed = replay(&[]);
            let stderr = text(&fixed.stderr);
            assert!(fixed.status.success(), "{what}: {stderr}");
            assert!(
                stderr.contains(
                    "12 records: 11 replayed, 0 already present, 1 refused again, 0 unplaced"
                ),
                "{what}: {stderr}"
            );
            assert_eq!(count(&client, &prefix).await, 29, "{what}");
            let left = location.records().await;
            assert_eq!(left.len(), 1, "{what}: only the refused record stays");
            assert_eq!(left[0]["document"]["source"]["ip"], "not-an-address");
            assert_eq!(left[0]["_index"], format!("{prefix}-2026.11.01"));
            assert_eq!(left[0]["status"], 400);
            assert!(
                left[0]["reason"].as_str().unwrap().contains("source.ip"),
                "{what}: the new reason: {}",
                left[0]
            );

            // Again: nothing placed is sent again; the refused record stays.
            let again = replay(&[]);
            let stderr = text(&again.stderr);
            assert!(again.status.success(), "{what}: {stderr}");
            assert!(
                stderr.contains("1 record: 0 replayed, 0 already present, 1 refused again"),
                "{what}: {stderr}"
            );
            assert_eq!(count(&client, &prefix).await, 29, "{what}");
            assert_eq!(location.records().await.len(), 1, "{what}");

            // A replay that died before rewriting the file left it whole: the next one finds
            // the placed records present (409) and writes nothing twice.
            location.write(&name, &tampered).await;
            let after_crash = replay(&[]);
            let stderr = text(&after_crash.stderr);
            assert!(after_crash.status.success(), "{what}: {stderr}");
            assert!(
                stderr.contains("12 records: 0 replayed, 11 already present, 1 refused again"),
                "{what}: {stderr}"
            );
            assert_eq!(count(&client, &prefix).await, 29, "{what}");
            assert_eq!(location.records().await.len(), 1, "{what}");
        }
    }
}

/// A target that makes its own ids (an OpenSearch Serverless time-series collection, in the
/// double in front of the stand-in): with `--document-ids auto` the replay drops the records'
/// ids when the target refuses them, places every record, says that re-sending is now
/// at-least-once, and removes the file; a second replay has nothing to send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_into_a_target_that_makes_its_own_ids_drops_them() {
    let Some(servers) = search_servers("replay-server-ids") else {
        return;
    };
    let server = &servers[0];
    let dir = TempDir::new("replay-server-ids");
    let log = dir.path().join("conflict.log");
    std::fs::write(&log, alb_lines(30, 12)).unwrap();
    let prefix = unique("replay-ids");
    let client = search_client(&server.url).await;
    let day1 = format!("/{prefix}-2026.11.01");
    get_json(&client, Method::Put, &day1, Some(CONFLICT())).await;
    let location = Location::Local(dir.path().join("dlq"));
    let mut setup = Setup::new(&server.url, &prefix, dir.path());
    setup.batch_bytes = 1024 * 1024;
    setup.dead_letter = location.dead_letter();
    let summary = setup
        .ingester()
        .await
        .ingest(&Source::File(log.clone()), None)
        .await
        .unwrap();
    assert_eq!(summary.dead_lettered, 12);
    get_json(&client, Method::Delete, &day1, None).await;

    let serverless = FaultProxy::start(&server.url, |request, _| {
        if request.is_bulk() {
            Action::serverless_time_series()
        } else {
            Action::Forward
        }
    })
    .await;
    let env = [("ALBINGEST_ENDPOINT", serverless.url.clone())];
    let spec = location.spec();
    let replay = || albingest(&["replay", &spec, "--retry-initial-ms", "10"], &env);
    let first = replay();
    let stderr = text(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("12 records: 12 replayed, 0 already present, 0 refused again, 0 unplaced"),
        "{stderr}"
    );
    assert!(stderr.contains("at-least-once"), "{stderr}");
    assert_eq!(count(&client, &prefix).await, 30);
    assert!(
        location.files().await.is_empty(),
        "every record placed: the file is removed"
    );

    let again = replay();
    let stderr = text(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(stderr.contains("0 records: 0 replayed"), "{stderr}");
    assert_eq!(count(&client, &prefix).await, 30);
}

/// A line that is no dead-letter record is named with its file and line, counted, and kept; the
/// dry run says so and fails. No server needed.
#[test]
fn an_unreadable_record_is_named_and_kept() {
    let dir = TempDir::new("replay-unreadable");
    let file = dir.path().join("x.ndjson");
    let record = r#"{"_index":"alb-logs-2026.11.01","_id":"a-0","status":400,"reason":"mapper_parsing_exception: failed to parse field [source.ip]","object":"s3://b/k","log_offset":0,"document":{"a":1}}"#;
    let body = format!("{record}\n{{\"_id\":\"b\"}}\n");
    std::fs::write(&file, &body).unwrap();
    let out = albingest(
        &["replay", &dir.path().display().to_string(), "--dry-run"],
        &[],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: line 2: not a dead-letter record",
            file.display()
        )) && stderr.contains("_index"),
        "{stderr}"
    );
    assert!(stderr.contains("2 records (dry run"), "{stderr}");
    let table = text(&out.stdout);
    assert!(
        table.contains("1\talb-logs-2026.11.01\tmapper_parsing_exception [source.ip]"),
        "{table}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), body);
}
