//! `albingest parse` as a user runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const LINE: &str = r#"https 2026-09-23T07:15:47.805298Z app/k8s-tileserver-617dd1df30/98e3a879de9d6b42 78.190.26.165:5815 10.20.20.37:80 0.001 0.003 0.000 200 200 153 3860 "GET https://tile-staging.terrastride.com:443/data/roads.json HTTP/1.1" "Dart/3.11 (dart:io)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:702656214742:targetgroup/k8s-tileserv-tileserv-8b701414d0/ce5353cc7101de6d "Root=1-6ab37ca3-72b3ccd0353538ac305db394" "tile-staging.terrastride.com" "arn:aws:acm:us-east-1:702656214742:certificate/34ecc395-417d-479a-b9e3-2c03c1047f42" 2 2026-09-23T07:15:47.801000Z "forward" "-" "-" "10.20.20.37:80" "200" "-" "-" TID_d7917035eabacb42bea251b01fb60ab4 "-" "-" "-" 100.51.96.60 "-" "-""#;

fn albingest(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("albingest runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each stdout line is JSON"))
        .collect()
}

#[test]
fn garbage_gives_one_failure_document_and_exit_0() {
    let out = albingest(&["parse"], b"garbage\n");
    assert!(out.status.success());
    let docs = json_lines(&out);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["event"]["kind"], "pipeline_error");
    assert_eq!(docs[0]["event"]["original"], "garbage");
    assert_eq!(docs[0]["tags"][0], "_albingest_parse_failure");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 input, 1 line, 1 document, 1 failure (alb=1)"),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let out = albingest(&["parse", "missing.log"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.log: cannot open"));
}

#[test]
fn gzip_input_with_two_members_and_bulk_output() {
    use flate2::write::GzEncoder;
    let mut data = Vec::new();
    for chunk in [format!("{LINE}\n"), format!("\n{LINE}\n")] {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(chunk.as_bytes()).unwrap();
        data.extend(e.finish().unwrap());
    }
    let dir = std::env::temp_dir().join(format!("albingest-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(
        "123456789012_elasticloadbalancing_us-east-1_app.x.y_20260923T0720Z_10.0.0.1_abc.log.gz",
    );
    std::fs::write(&path, &data).unwrap();
    let out = albingest(&["parse", "--bulk", path.to_str().unwrap()], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    let (a, b) = (&lines[0]["create"], &lines[2]["create"]);
    assert_eq!(a["_index"], "alb-logs-2026.09.23");
    assert_ne!(a["_id"], b["_id"], "two lines, two ids");
    assert!(a["_id"].as_str().unwrap().len() <= 40);
    assert_eq!(lines[3]["log"]["offset"], LINE.len() as u64 + 2);
    // The same input gives the same ids on every run.
    let again = json_lines(&albingest(
        &["parse", "--bulk", path.to_str().unwrap()],
        b"",
    ));
    assert_eq!(again[0]["create"]["_id"], a["_id"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keep_original_and_index_prefix_flags() {
    let input = format!("{LINE}\n");
    let out = albingest(&["parse", "--keep-original"], input.as_bytes());
    assert_eq!(json_lines(&out)[0]["event"]["original"], LINE);
    let out = albingest(
        &["parse", "--bulk", "--index-prefix", "web"],
        input.as_bytes(),
    );
    assert_eq!(json_lines(&out)[0]["create"]["_index"], "web-2026.09.23");
    let out = albingest(&["parse", "--index-prefix", "Bad"], input.as_bytes());
    assert!(!out.status.success());
}

#[test]
fn user_patterns_override_and_extend_the_built_in_ones() {
    let dir = std::env::temp_dir().join(format!("albingest-patterns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A user follows a new AWS field without a new release: name the 35th token.
    std::fs::write(
        dir.join("mine.grok"),
        "ALB_FROM_CONN_TRACE_ID %{ELB_BARE:conn_trace_id} \"%{ELB_QUOTED:transformed_host}\" \"%{ELB_QUOTED:transformed_uri}\" \"%{ELB_QUOTED:request_transform_status}\" %{ELB_IP:ip_address} \"%{ELB_QUOTED:aws.elb.future_field}\"(?: %{ELB_TRAILING:unparsed_trailing})?\n",
    )
    .unwrap();
    let line = LINE.replacen(
        r#"100.51.96.60 "-" "-""#,
        r#"100.51.96.60 "new-value" "-""#,
        1,
    );
    let out = albingest(
        &["parse", "--patterns", dir.to_str().unwrap()],
        format!("{line}\n").as_bytes(),
    );
    let doc = &json_lines(&out)[0];
    assert_eq!(doc["aws.elb.future_field"], "new-value");
    assert_eq!(
        doc["aws"]["elb"]["unparsed_trailing"],
        serde_json::json!(["-"])
    );

    std::fs::write(dir.join("mine.grok"), "BROKEN %{NOPE}\n").unwrap();
    let out = albingest(&["parse", "--patterns", dir.to_str().unwrap()], b"");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mine.grok:1") && err.contains("NOPE"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn help_explains_every_flag() {
    let out = albingest(&["parse", "--help"], b"");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--bulk",
        "--format",
        "--patterns",
        "--keep-original",
        "--index-prefix",
    ] {
        assert!(help.contains(flag), "{flag} missing from\n{help}");
    }
}

#[test]
fn threads_do_not_change_the_output_or_its_order() {
    // ~2 MB: several blocks, so workers finish out of order and the output must be reordered.
    let mut input = String::new();
    for i in 0..3000 {
        if i % 7 == 0 {
            // A broken line with a time of its own: its failure document's @timestamp does not
            // depend on when the run started.
            input.push_str(&format!("broken 2026-11-01T00:00:00.000000Z line {i}\n"));
        } else {
            input.push_str(&LINE.replacen("5815", &i.to_string(), 1));
            input.push('\n');
        }
    }
    let one = albingest(&["parse", "--bulk", "--threads", "1"], input.as_bytes());
    let four = albingest(&["parse", "--bulk", "--threads", "4"], input.as_bytes());
    assert!(one.status.success() && four.status.success());
    assert_eq!(json_lines(&one).len(), 6000);
    assert!(
        one.stdout == four.stdout,
        "--threads 4 output differs from --threads 1"
    );
    let docs = json_lines(&four);
    assert_eq!(docs[3]["source"]["port"], 1, "second document is line 2");
}

#[test]
fn truncated_gzip_keeps_the_lines_before_and_names_the_offset() {
    use flate2::write::GzEncoder;
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..2000 {
        e.write_all(format!("{LINE}\n").as_bytes()).unwrap();
    }
    let gz = e.finish().unwrap();
    let cut = &gz[..gz.len() * 2 / 3];
    let out = albingest(&["parse", "--threads", "2"], cut);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-: cannot read past byte"), "{err}");
    let docs = json_lines(&out);
    assert!(
        docs.len() > 100 && docs.len() < 2000,
        "{} documents",
        docs.len()
    );
    assert!(docs.iter().all(|d| d["event"]["kind"] == "event"));
}

#[test]
fn a_zero_bomb_without_a_newline_is_one_failure_document_stating_its_length() {
    use flate2::write::GzEncoder;
    let zeros = 40usize << 20;
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
    let block = vec![0u8; 1 << 20];
    for _ in 0..zeros >> 20 {
        e.write_all(&block).unwrap();
    }
    e.write_all(format!("\n{LINE}\n").as_bytes()).unwrap();
    let out = albingest(&["parse"], &e.finish().unwrap());
    assert!(out.status.success());
    let docs = json_lines(&out);
    assert_eq!(docs.len(), 2, "one document per line");
    assert_eq!(docs[0]["event"]["kind"], "pipeline_error");
    let message = docs[0]["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("{zeros} bytes")), "{message}");
    assert_eq!(
        docs[0]["event"]["original"].as_str().unwrap().len(),
        albingest::lines::MAX_LINE
    );
    assert_eq!(docs[1]["log"]["offset"], zeros as u64 + 1);
    assert_eq!(docs[1]["event"]["kind"], "event");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 lines, 2 documents, 1 failure "),
        "{stderr}"
    );
}

/// A gzip stream of `n` lines cut at two thirds.
fn truncated_gzip(n: usize) -> Vec<u8> {
    use flate2::write::GzEncoder;
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..n {
        e.write_all(format!("{LINE}\n").as_bytes()).unwrap();
    }
    let gz = e.finish().unwrap();
    gz[..gz.len() * 2 / 3].to_vec()
}

fn summary_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    stderr
        .lines()
        .find(|l| l.starts_with("albingest parse: "))
        .unwrap_or_else(|| panic!("no summary in {stderr}"))
        .to_string()
}

#[test]
fn summary_counts_an_input_that_failed_part_way_and_every_input() {
    let dir = std::env::temp_dir().join(format!("albingest-cli-sum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cut, good) = (dir.join("cut.log.gz"), dir.join("good.log"));
    std::fs::write(&cut, truncated_gzip(2000)).unwrap();
    std::fs::write(&good, format!("{LINE}\n").repeat(1500)).unwrap();

    for threads in ["1", "2"] {
        let out = albingest(&["parse", "--threads", threads, cut.to_str().unwrap()], b"");
        assert!(!out.status.success());
        let written = json_lines(&out).len();
        assert!(written > 100 && written < 2000, "{written}");
        assert_eq!(
            summary_line(&out),
            format!("albingest parse: 1 input, {written} lines, {written} documents, 0 failures (alb={written}), 1 unreadable")
        );

        let out = albingest(
            &[
                "parse",
                "--threads",
                threads,
                cut.to_str().unwrap(),
                good.to_str().unwrap(),
            ],
            b"",
        );
        let written = json_lines(&out).len();
        assert!(written > 1500, "{written}");
        assert!(
            summary_line(&out).starts_with(&format!(
                "albingest parse: 2 inputs, {written} lines, {written} documents, 0 failures"
            )),
            "{}",
            summary_line(&out)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn summary_counts_a_partly_read_input() {
    use std::io::{BufRead, BufReader};
    // `albingest parse FILE | head -1`: the first document read, then the pipe closed.
    let input = format!("{LINE}\n").repeat(3000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(["parse", "--threads", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()).ok());
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    serde_json::from_str::<serde_json::Value>(&first).unwrap();
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(out.status.success());
    let summary = summary_line(&out);
    let documents: u64 = summary
        .split(", ")
        .find_map(|part| part.strip_suffix(" documents"))
        .unwrap_or_else(|| panic!("{summary}"))
        .parse()
        .unwrap();
    assert!((1..3000).contains(&documents), "{summary}");
    assert!(
        summary.contains(&format!("input, {documents} lines, ")),
        "{summary}"
    );
    assert!(summary.contains("standard output closed"), "{summary}");
}

/// The options `--help` of `subcommand` lists, each with the text that explains it.
fn help_options(subcommand: &str) -> Vec<(String, String)> {
    let out = albingest(&[subcommand, "--help"], b"");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let mut options: Vec<(String, String)> = Vec::new();
    let mut in_options = false;
    for line in help.lines() {
        if line == "Options:" {
            in_options = true;
            continue;
        }
        if !in_options {
            continue;
        }
        if !line.starts_with(' ') && !line.is_empty() {
            break; // the text after the options
        }
        let trimmed = line.trim_start();
        let is_option = trimmed.starts_with("--") || trimmed.starts_with("-h, ");
        if is_option && line.len() - trimmed.len() <= 6 {
            let signature = trimmed.trim_start_matches("-h, ");
            let name = signature.split([' ', '=']).next().unwrap().to_string();
            // The explanation follows the signature on the same line (two spaces) or below it.
            let text = signature
                .split_once("  ")
                .map(|(_, text)| text.trim().to_string())
                .unwrap_or_default();
            options.push((name, text));
        } else if let Some((_, text)) = options.last_mut() {
            text.push(' ');
            text.push_str(trimmed);
        }
    }
    options
}

#[test]
fn each_subcommand_shows_only_the_options_it_uses_each_explained() {
    let search = [
        "--endpoint",
        "--username",
        "--aws-sigv4",
        "--aws-region",
        "--ca-bundle",
    ];
    let parsing = [
        "--format",
        "--patterns",
        "--keep-original",
        "--index-prefix",
        "--geoip-city",
        "--geoip-asn",
        "--user-agent",
        "--config",
    ];
    let templates = ["--shards", "--replicas", "--refresh-interval"];
    let expected: [(&str, Vec<&str>); 6] = [
        ("parse", [&["--bulk", "--threads"][..], &parsing].concat()),
        (
            "ingest",
            [
                &search[..],
                &parsing,
                &templates,
                &[
                    "--no-setup",
                    "--no-gzip",
                    "--dry-run",
                    "--concurrency",
                    "--batch-bytes",
                    "--in-flight",
                    "--dead-letter",
                    "--s3-endpoint",
                    "--retry-for",
                    "--request-timeout",
                    "--deadline",
                    "--wait-for-server",
                    "--document-ids",
                    "--progress",
                    "--since",
                    "--until",
                    "--list",
                    "--reread-done",
                ],
            ]
            .concat(),
        ),
        (
            "replay",
            [
                &search[..],
                &[
                    "--dry-run",
                    "--document-ids",
                    "--batch-bytes",
                    "--in-flight",
                    "--s3-endpoint",
                    "--retry-for",
                    "--request-timeout",
                ],
            ]
            .concat(),
        ),
        (
            "setup",
            [
                &search[..],
                &templates,
                &[
                    "--index-prefix",
                    "--config",
                    "--dashboards-url",
                    "--dashboards-flavor",
                    "--lifecycle",
                    "--retention-days",
                    "--apply-existing",
                ],
            ]
            .concat(),
        ),
        (
            "cleanup",
            [
                &search[..],
                &[
                    "--retention-days",
                    "--prefix",
                    "--config",
                    "--dry-run",
                    "--force",
                    "--json",
                ],
            ]
            .concat(),
        ),
        (
            "report",
            [
                &search[..],
                &[
                    "--since",
                    "--index-prefix",
                    "--health-check-index-prefix",
                    "--config",
                    "--json",
                ],
            ]
            .concat(),
        ),
    ];
    for (subcommand, want) in expected {
        let options = help_options(subcommand);
        let mut got: Vec<&str> = options.iter().map(|(name, _)| name.as_str()).collect();
        got.retain(|name| *name != "--help");
        let (mut got_sorted, mut want_sorted) = (got.clone(), want.clone());
        got_sorted.sort();
        want_sorted.sort();
        assert_eq!(got_sorted, want_sorted, "albingest {subcommand} --help");
        for (name, text) in &options {
            assert!(
                text.len() > 10,
                "albingest {subcommand} --help: {name} is not explained: {text:?}"
            );
        }
    }
    // Every value of --progress is described.
    let (_, progress) = help_options("ingest")
        .into_iter()
        .find(|(name, _)| name == "--progress")
        .unwrap();
    for value in ["- auto:", "- always:", "- never:"] {
        let described = progress
            .split_once(value)
            .is_some_and(|(_, rest)| rest.trim_start().len() > 10);
        assert!(described, "--progress {value} is not described: {progress}");
    }
}

#[test]
fn a_bad_index_prefix_names_the_option_and_the_formats() {
    let out = albingest(&["parse", "--index-prefix", "foo=bar"], b"");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // Every format is valid there but `auto`.
    assert!(
        err.contains(r#"--index-prefix foo=bar: unknown format "foo" (use alb, alb-connection, "#)
            && err.contains(" or ")
            && !err.contains("auto"),
        "{err}"
    );
}
