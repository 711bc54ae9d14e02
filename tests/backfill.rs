//! Backfills by time window (`ingest s3://… --since … --until …`) against moto, through a double
//! that records every S3 request: exactly the objects whose name ends inside the window are read
//! (the bounds included as documented: since < end ≤ until), only the day folders the window needs
//! are listed, `--list` reads nothing, and a second run skips the objects the first completed.

mod support;

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use albingest::event::url_decode_key;
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

const ACCOUNT: &str = "123456789012";

/// An object key as ALB delivers it: day folder, and the window end in the name.
fn key(region: &str, folder: &str, kind: &str, end: &str, rand: &str) -> String {
    let file = match kind {
        "conn" => format!(
            "conn_log_{ACCOUNT}_elasticloadbalancing_{region}_app.bf.50dc6c495c0c9188_{end}_10.0.1.15_{rand}.log.gz"
        ),
        "notime" => format!(
            "{ACCOUNT}_elasticloadbalancing_{region}_app.bf.50dc6c495c0c9188_10.0.1.15_{rand}.log.gz"
        ),
        _ => format!(
            "{ACCOUNT}_elasticloadbalancing_{region}_app.bf.50dc6c495c0c9188_{end}_10.0.1.15_{rand}.log.gz"
        ),
    };
    format!("AWSLogs/{ACCOUNT}/elasticloadbalancing/{region}/{folder}/{file}")
}

/// What the double saw: `(prefix, delimiter?)` of each ListObjectsV2, and the GetObject keys.
#[derive(Default)]
struct S3Requests {
    listings: Vec<(String, bool)>,
    gets: Vec<String>,
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .map(url_decode_key)
}

async fn recording_s3(upstream: &str) -> (FaultProxy, Arc<Mutex<S3Requests>>) {
    let seen: Arc<Mutex<S3Requests>> = Arc::default();
    let record = seen.clone();
    let proxy = FaultProxy::start(upstream, move |request, _| {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let mut seen = record.lock().unwrap();
        if request.method == "GET" && query.contains("list-type=2") {
            let prefix = query_param(query, "prefix").unwrap_or_default();
            seen.listings
                .push((prefix, query_param(query, "delimiter").is_some()));
        } else if request.method == "GET" && !query.contains("tagging") {
            seen.gets.push(url_decode_key(path));
        }
        Action::Forward
    })
    .await;
    (proxy, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_window_reads_exactly_its_objects_lists_only_its_days_and_resumes() {
    let (Some(servers), Some(s3_url)) = (search_servers("backfill"), s3_url("backfill")) else {
        return;
    };
    let server = &servers[0];
    let s3 = s3_client(&s3_url);
    let bucket = unique("backfill");
    create_bucket(&s3, &bucket).await;
    let us = "us-east-1";
    let eu = "eu-west-1";
    // (key, in the window 2026-11-01 .. 2026-11-03T12:00Z?)
    let objects = [
        (key(us, "2026/10/30", "alb", "20261030T1200Z", "a"), false),
        // Ends on --since: its lines are before the window.
        (key(us, "2026/11/01", "alb", "20261101T0000Z", "b"), false),
        (key(us, "2026/11/01", "alb", "20261101T0005Z", "c"), true),
        (key(us, "2026/11/02", "alb", "20261102T1000Z", "d"), true),
        (key(us, "2026/11/02", "conn", "20261102T1000Z", "e"), true),
        // Ends on --until: inside.
        (key(us, "2026/11/03", "alb", "20261103T1200Z", "f"), true),
        (key(us, "2026/11/03", "alb", "20261103T1205Z", "g"), false),
        // Delivered after midnight, ending inside the window.
        (key(us, "2026/11/04", "alb", "20261103T1155Z", "h"), true),
        (key(us, "2026/11/05", "alb", "20261105T1000Z", "i"), false),
        (key(eu, "2026/11/02", "alb", "20261102T0800Z", "j"), true),
        // A log name without an end time: excluded (and counted) under a window.
        (key(us, "2026/11/02", "notime", "", "k"), false),
        (
            format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/02/trail.json.gz"),
            false,
        ),
    ];
    for (n, (key, _)) in objects.iter().enumerate() {
        let body = alb_lines_at(2, |i| format!("2026-11-02T10:{n:02}:{i:02}.000000Z"));
        put(&s3, &bucket, key, gzip(body.as_bytes())).await;
    }
    let expected: Vec<&String> = objects.iter().filter(|(_, i)| *i).map(|(k, _)| k).collect();

    let (proxy, seen) = recording_s3(&s3_url).await;
    let prefix = unique("backfill");
    let dir = TempDir::new("backfill");
    let dead_letter = dir.path().join("dlq").display().to_string();
    let input = format!("s3://{bucket}/AWSLogs/");
    let env = aws_env(&s3_url);
    let conn_prefix = format!("alb-connection={prefix}-conn");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "ingest",
            input.as_str(),
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-03T12:00Z",
            "--progress",
            "never",
        ];
        args.extend_from_slice(extra);
        albingest(&args, &env)
    };

    // --list, through the recording double: what would be read, with sizes and the total;
    // nothing read. (The double forwards no credentials: listing works on moto without them,
    // reading objects does not, so the ingest runs below go to moto directly.)
    let listed = run(&["--list", "--s3-endpoint", proxy.url.as_str()]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let stdout = text(&listed.stdout);
    let keys: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_once('\t').unwrap().1)
        .collect();
    let mut want: Vec<String> = expected
        .iter()
        .map(|k| format!("s3://{bucket}/{k}"))
        .collect();
    want.sort();
    let mut got: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    got.sort();
    assert_eq!(got, want);
    let total: u64 = stdout
        .lines()
        .map(|l| l.split_once('\t').unwrap().0.parse::<u64>().unwrap())
        .sum();
    let stderr = text(&listed.stderr);
    assert!(
        stderr.contains(&format!("6 objects, {total} bytes")),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 ending outside --since/--until"),
        "{stderr}"
    );
    assert!(stderr.contains("1 no end time in the name"), "{stderr}");
    {
        let mut seen = seen.lock().unwrap();
        assert!(
            seen.gets.is_empty(),
            "--list reads nothing: {:?}",
            seen.gets
        );
        let mut listings = std::mem::take(&mut seen.listings);
        listings.sort();
        let tree = format!("AWSLogs/{ACCOUNT}/elasticloadbalancing");
        let mut want: Vec<(String, bool)> = vec![
            ("AWSLogs/".into(), true),
            (format!("AWSLogs/{ACCOUNT}/"), true),
            (format!("{tree}/"), true),
        ];
        for region in [us, eu] {
            for day in ["10/31", "11/01", "11/02", "11/03", "11/04"] {
                want.push((format!("{tree}/{region}/2026/{day}/"), false));
            }
        }
        want.sort();
        assert_eq!(
            listings, want,
            "only the day folders of the window are listed"
        );
    }

    // The backfill: exactly those objects; each tagged done.
    let ingest_args = [
        "--endpoint",
        server.url.as_str(),
        "--index-prefix",
        prefix.as_str(),
        "--index-prefix",
        conn_prefix.as_str(),
        "--dead-letter",
        dead_letter.as_str(),
    ];
    let first = run(&ingest_args);
    let stderr = text(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("albingest ingest: 6 objects, 12 lines"),
        "{stderr}"
    );
    let client = search_client(&server.url).await;
    assert_eq!(count(&client, &prefix).await, 12);
    // Exactly the window's objects were read: they, and only they, are tagged done.
    for (key, inside) in &objects {
        let tags = s3
            .get_object_tagging()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        let done = tags
            .tag_set()
            .iter()
            .any(|t| t.key() == "albingest-checkpoint" && t.value() == "done");
        assert_eq!(done, *inside, "{key}");
    }

    // Again: every object was completed, none is read.
    let second = run(&ingest_args);
    let stderr = text(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped 6 objects a run of this backfill completed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("albingest ingest: 0 objects, 0 lines"),
        "{stderr}"
    );
    assert_eq!(count(&client, &prefix).await, 12);

    // An interrupted run had not completed one object: only that one is read, and it adds
    // nothing it had placed already.
    s3.delete_object_tagging()
        .bucket(&bucket)
        .key(expected[1].as_str())
        .send()
        .await
        .unwrap();
    let third = run(&ingest_args);
    let stderr = text(&third.stderr);
    assert!(third.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped 5 objects a run of this backfill completed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("albingest ingest: 1 object, 2 lines")
            && stderr.contains("2 already present"),
        "{stderr}"
    );
    assert_eq!(count(&client, &prefix).await, 12);
}
