//! Directory and S3-prefix walks take only load balancer log names (`.log` / `.log.gz`), say how
//! many they skipped and why; an object named explicitly is always read.

mod support;

use std::process::{Command, Output};

use support::*;

fn albingest(args: &[&str], env: &[(&str, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("ALBINGEST_ENDPOINT")
        .output()
        .expect("albingest runs")
}

fn dry_run(input: &str, env: &[(&str, String)]) -> String {
    let out = albingest(&["ingest", "--dry-run", "--progress", "never", input], env);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

/// The file name of [`alb_key`].
fn log_name(name: &str) -> String {
    alb_key(name).rsplit('/').next().unwrap().to_string()
}

#[test]
fn a_directory_walk_skips_what_is_not_a_log_and_says_so() {
    let dir = TempDir::new("walk-dir");
    std::fs::create_dir_all(dir.path().join("2026/11/01")).unwrap();
    let log = dir.path().join("2026/11/01").join(log_name("a"));
    std::fs::write(&log, gzip(alb_lines(3, 3).as_bytes())).unwrap();
    std::fs::write(dir.path().join("README.md"), "# notes\nnot a log\n").unwrap();
    let partial = dir.path().join(format!("{}.part", log_name("b")));
    std::fs::write(&partial, "x\n").unwrap();

    let err = dry_run(dir.path().to_str().unwrap(), &[]);
    assert!(
        err.contains("1 object, 3 lines, 3 documents (0 failure documents)"),
        "{err}"
    );
    let readme = dir.path().join("README.md").display().to_string();
    assert!(
        err.contains(&format!(
            "skipped 2 objects in directories and S3 prefixes: 1 not a load balancer log name \
             (first: {readme}), 1 not .log or .log.gz (first: {})",
            partial.display()
        )),
        "{err}"
    );

    // Named explicitly, it is read: its lines are failure documents.
    let err = dry_run(&readme, &[]);
    assert!(
        err.contains("1 object, 2 lines, 2 documents (2 failure documents)"),
        "{err}"
    );
    assert!(!err.contains("skipped"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_prefix_walk_skips_what_is_not_a_log_and_says_so() {
    let Some(s3_url) = s3_url("walk_s3") else {
        return;
    };
    let s3 = s3_client(&s3_url);
    let bucket = unique("walk");
    create_bucket(&s3, &bucket).await;
    for name in ["a", "b"] {
        let key = format!("logs/{}", alb_key(name));
        put(&s3, &bucket, &key, gzip(alb_lines(4, 4).as_bytes())).await;
    }
    // What S3 writes when access logging is enabled, and a stray note.
    let test_file = "logs/AWSLogs/123456789012/ELBAccessLogTestFile";
    put(
        &s3,
        &bucket,
        test_file,
        b"Enable AccessLog for ELB: x".to_vec(),
    )
    .await;
    put(&s3, &bucket, "logs/notes.txt", b"hello\n".to_vec()).await;

    let env = aws_env(&s3_url);
    let err = tokio::task::spawn_blocking({
        let (url, env) = (format!("s3://{bucket}/logs/"), env.clone());
        move || dry_run(&url, &env)
    })
    .await
    .unwrap();
    assert!(
        err.contains("2 objects, 8 lines, 8 documents (0 failure documents)"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "skipped 2 objects in directories and S3 prefixes: 2 not a load balancer log name \
             (first: s3://{bucket}/{test_file})"
        )),
        "{err}"
    );

    // The whole key given: that object is read.
    let err = tokio::task::spawn_blocking({
        let url = format!("s3://{bucket}/logs/notes.txt");
        move || dry_run(&url, &env)
    })
    .await
    .unwrap();
    assert!(
        err.contains("1 object, 1 line, 1 document (1 failure document)"),
        "{err}"
    );
}
