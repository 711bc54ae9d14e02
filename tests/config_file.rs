//! The configuration file end to end: `albingest config check` on a valid and an invalid file,
//! and a configuration with every rule (labels, tags, routing, drop, sample, privacy) through
//! `albingest ingest` into both stand-in servers (osmem: OpenSearch API; noida: Elasticsearch 8
//! API), where every line is counted (lines = indexed + already present + dropped +
//! dead-lettered + unplaced), and `setup`, `report` and `cleanup` follow the routed prefixes.

mod support;

use std::process::{Command, Output};

use opensearch::http::Method;
use serde_json::{json, Value};
use support::*;

fn albingest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(args)
        .env_remove("ALBINGEST_ENDPOINT")
        .env_remove("ALBINGEST_INDEX_PREFIXES")
        .output()
        .expect("albingest runs")
}

#[test]
fn config_check_prints_a_valid_file_and_names_file_key_and_reason_of_an_invalid_one() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/albingest.toml");
    let out = albingest(&["config", "check", example]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The effective configuration, as TOML that reads back.
    assert!(stdout.contains("[[routing]]"), "{stdout}");
    assert!(stdout.contains("ipv6_prefix = 48"), "{stdout}");
    assert!(stdout.contains("[enrich]"), "{stdout}");
    stdout
        .parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));

    let dir = TempDir::new("configcheck");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "tags = [\"a\"]\n[[drop]]\nuser_agent = \"ELB-HealthChecker/*\"\ndrop = true\n\
         [[drop]]\nstatus = \"2xx\"\nsample = 0\n",
    )
    .unwrap();
    let out = albingest(&["config", "check", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(bad.to_str().unwrap()), "the file: {stderr}");
    assert!(stderr.contains("drop[1].sample"), "the key: {stderr}");
    assert!(stderr.contains("must be 1 or more"), "the reason: {stderr}");

    std::fs::write(&bad, "[privacy]\nipv4_prefx = 24\n").unwrap();
    let out = albingest(&["config", "check", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("privacy.ipv4_prefx"), "{stderr}");
    assert!(stderr.contains("unknown field"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");

    // The same check at the start of every command that takes --config.
    let log = dir.path().join("x.log");
    std::fs::write(&log, "").unwrap();
    let out = albingest(&[
        "parse",
        "--config",
        bad.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("privacy.ipv4_prefx"));
}

const LINE: &str = r#"https 2026-11-01T10:00:00.000000Z app/LB/98e3a879de9d6b42 203.0.113.77:5815 10.20.20.37:80 0.001 0.003 0.000 200 200 153 3860 "GET https://www.example.com:443PATH HTTP/1.1" "AGENT" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/ce5353cc7101de6d "Root=1-6ab37ca3-72b3ccd0353538ac305db394""#;

fn line(i: usize, lb: &str, path: &str, agent: &str) -> String {
    LINE.replace("app/LB/", &format!("app/{lb}/"))
        .replace("5815", &(1024 + i).to_string())
        .replace("10:00:00.000000Z", &format!("10:00:00.{i:06}Z"))
        .replace("PATH", path)
        .replace("AGENT", agent)
}

/// 10 prod lines (2 health checks, 4 static), 6 test-api lines (1 health check) and a line
/// that does not parse.
fn log_lines() -> String {
    let mut lines = Vec::new();
    for i in 0..10 {
        let (path, agent) = match i {
            0 | 1 => ("health", "ELB-HealthChecker/2.0"),
            2..=5 => ("static/app.js", "Mozilla/5.0"),
            _ => ("api/items?token=s3cr3t&page=2", "Mozilla/5.0"),
        };
        lines.push(line(i, "prod-web-alb", &format!("/{path}"), agent));
    }
    for i in 10..16 {
        let agent = if i == 10 {
            "ELB-HealthChecker/2.0"
        } else {
            "curl/8"
        };
        lines.push(line(i, "test-api-alb", "/v1/x", agent));
    }
    lines.push("https 2026-11-01T10:00:01.000000Z app/prod-web-alb/98e3 not a line".into());
    lines.join("\n") + "\n"
}

fn config(run: &str) -> String {
    format!(
        r#"
index_prefixes = ["{run}-alb"]
tags = ["albingest", "it"]
[labels]
owner = "platform"
[[load_balancer_labels]]
load_balancer = "prod-web-*"
labels = {{ env = "prod", team = "web" }}
[[routing]]
load_balancer = "prod-*"
index_prefix = "{run}-prod"
[[drop]]
user_agent = "ELB-HealthChecker/*"
drop = true
[[drop]]
path_prefix = "/static/"
status = "2xx"
sample = 2
[privacy]
query = "redact"
redact_params = ["token"]
"#
    )
}

/// `N indexed, N already present, N dropped, …` of the summary line.
fn summary_counts(stderr: &str) -> (u64, u64, u64, u64, u64, u64) {
    let total = stderr
        .lines()
        .find(|l| l.contains("albingest ingest: 1 object"))
        .unwrap_or_else(|| panic!("no total: {stderr}"));
    let number_before = |what: &str| -> u64 {
        let end = total
            .find(what)
            .unwrap_or_else(|| panic!("{what}: {total}"));
        total[..end]
            .trim_end()
            .rsplit([' ', ','])
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("{what}: {e}: {total}"))
    };
    (
        number_before(" lines"),
        number_before(" indexed"),
        number_before(" already present"),
        number_before(" dropped"),
        number_before(" dead-lettered"),
        number_before(" unplaced"),
    )
}

async fn hits(client: &albingest::search::SearchClient, pattern: &str, query: Value) -> Vec<Value> {
    get_json(client, Method::Post, &format!("/{pattern}/_refresh"), None).await;
    let answer = get_json(
        client,
        Method::Post,
        &format!("/{pattern}/_search"),
        Some(json!({"size": 100, "query": query, "sort": [{"log.offset": "asc"}]})),
    )
    .await;
    answer["hits"]["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("{pattern}: {answer}"))
        .iter()
        .map(|h| h["_source"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_through_ingest_setup_report_and_cleanup_on_both_servers() {
    let Some(servers) = search_servers("configfile") else {
        return;
    };
    for server in servers {
        let dir = TempDir::new("configfile");
        let run = unique("cfg");
        let config_path = dir.path().join("albingest.toml");
        std::fs::write(&config_path, config(&run)).unwrap();
        let log = dir.path().join("prod.log");
        std::fs::write(&log, log_lines()).unwrap();
        let dlq = dir.path().join("dlq");
        let (config_arg, log_arg, dlq_arg) = (
            config_path.to_str().unwrap(),
            log.to_str().unwrap(),
            dlq.to_str().unwrap(),
        );
        let ingest = [
            "ingest",
            log_arg,
            "--endpoint",
            &server.url,
            "--dead-letter",
            dlq_arg,
            "--progress",
            "never",
            "--config",
            config_arg,
        ];
        let out = albingest(&ingest);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{}: {stderr}", server.name);
        let (lines, indexed, present, dropped, dead, unplaced) = summary_counts(&stderr);
        assert_eq!(lines, 17, "{stderr}");
        assert_eq!(
            lines,
            indexed + present + dropped + dead + unplaced,
            "{}: {stderr}",
            server.name
        );
        // 3 health checks dropped, and of the 4 static lines 1 in 2 kept (by id: 0 to 4 go).
        assert!((3..=7).contains(&dropped), "{stderr}");
        assert_eq!(present, 0);

        // setup (run by ingest) installed a template for the routed prefix too.
        let client = search_client(&server.url).await;
        for name in [
            format!("albingest-{run}-prod"),
            format!("albingest-{run}-alb"),
        ] {
            let answer = client
                .json(
                    Method::Get,
                    &format!("/_index_template/{name}"),
                    None,
                    std::time::Duration::from_secs(30),
                )
                .await
                .unwrap();
            assert_eq!(answer.status, 200, "{}: template {name}", server.name);
        }

        // Routing: prod documents under the routed prefix, the others under the base one.
        let prod = hits(&client, &format!("{run}-prod-*"), json!({"match_all": {}})).await;
        let others = hits(&client, &format!("{run}-alb-*"), json!({"match_all": {}})).await;
        assert_eq!(
            prod.len() + others.len(),
            indexed as usize,
            "{}",
            server.name
        );
        // test-api lines less the health check, and the failure document: it has no load
        // balancer name to route by.
        assert_eq!(others.len(), 6, "{}", server.name);
        assert!(prod
            .iter()
            .all(|d| d["aws"]["elb"]["name"] == "app/prod-web-alb/98e3a879de9d6b42"));
        // Drop: no health check document anywhere.
        assert!(prod
            .iter()
            .chain(&others)
            .all(|d| d["user_agent"]["original"] != "ELB-HealthChecker/2.0"));
        // The failure document is never dropped, and carries its tag before the configured ones.
        let failure = others
            .iter()
            .find(|d| d["event"]["kind"] == "pipeline_error")
            .expect("the failure document");
        assert_eq!(
            failure["tags"],
            json!(["_albingest_parse_failure", "albingest", "it"])
        );
        // Labels (searchable as keywords), tags, privacy.
        let labelled = hits(
            &client,
            &format!("{run}-prod-*"),
            json!({"bool": {"filter": [
                {"term": {"labels.env": "prod"}},
                {"term": {"labels.team": "web"}},
                {"term": {"tags": "it"}},
            ]}}),
        )
        .await;
        assert_eq!(labelled.len(), prod.len(), "{}", server.name);
        let api = prod
            .iter()
            .find(|d| d["url"]["path"] == "/api/items")
            .expect("an api document");
        assert_eq!(api["source"]["ip"], "203.0.113.0");
        assert_eq!(api["source"]["address"], "203.0.113.0");
        assert_eq!(api["url"]["query"], "token=REDACTED&page=2");
        assert_eq!(
            api["url"]["original"],
            "https://www.example.com:443/api/items?token=REDACTED&page=2"
        );
        assert_eq!(others[0]["labels"], json!({"owner": "platform"}));
        assert_eq!(failure["labels"], json!({"owner": "platform"}));
        let in_ip_range = hits(
            &client,
            &format!("{run}-*"),
            json!({"term": {"source.ip": "203.0.113.0"}}),
        )
        .await;
        assert_eq!(in_ip_range.len() as u64, indexed - 1, "all but the failure");

        // A second run decides the same for every line: the same lines dropped, the rest there.
        let out = albingest(&ingest);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{stderr}");
        let again = summary_counts(&stderr);
        assert_eq!(
            again,
            (lines, 0, indexed, dropped, 0, 0),
            "{}: {stderr}",
            server.name
        );

        // report reads every ALB prefix of the configuration.
        let out = albingest(&[
            "report",
            "--endpoint",
            &server.url,
            "--since",
            "all",
            "--json",
            "--index-prefix",
            &format!("{run}-alb"),
            "--config",
            config_arg,
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            report["index_pattern"],
            format!("{run}-alb-*,{run}-prod-*"),
            "{report}"
        );
        assert_eq!(report["requests"], indexed - 1, "{report}");

        // cleanup deletes the old daily indices of every prefix of the configuration.
        let out = albingest(&[
            "cleanup",
            "--endpoint",
            &server.url,
            "--retention-days",
            "1",
            "--dry-run",
            "--force",
            "--json",
            "--config",
            config_arg,
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for index in [
            format!("{run}-prod-2026.11.01"),
            format!("{run}-alb-failed-2026.11.01"),
            format!("{run}-alb-2026.11.01"),
        ] {
            assert!(
                stdout.contains(&index),
                "{}: {index}: {stdout}",
                server.name
            );
        }
    }
}
