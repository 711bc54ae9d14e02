//! `albingest report` against both stand-in servers (osmem: OpenSearch API; noida: Elasticsearch 8
//! API): the bundled ALB sample objects and a small object of edge cases go in, the report comes
//! out of the CLI as JSON, and every figure is compared with what this test computes from the
//! sample lines themselves — read with plain splitting here, not with albingest's parser.

// Test output: eprintln! is captured by the harness (clippy.toml disallows it for the binaries).
#![allow(clippy::disallowed_macros)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use albingest::format::LogFormat;
use albingest::source::Source;
use opensearch::http::Method;
use serde_json::Value;
use support::*;

const TOP: usize = 5;
const SAMPLES: &str = "samples/s3/alb-logs-bucket/AWSLogs";
/// The time of every line of the edge-case object (the sample day).
const EXTRA_DAY: &str = "2026-11-24";

/// The tokens of a log line: separated by spaces; a token that starts with `"` runs to the next
/// `"` that is not escaped by a backslash, and is kept without its quotes.
fn tokens(line: &str) -> Vec<String> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push(line[i + 1..j.min(bytes.len())].to_string());
            i = j + 1;
        } else {
            let j = line[i..].find(' ').map_or(bytes.len(), |k| i + k);
            out.push(line[i..j].to_string());
            i = j;
        }
    }
    out
}

/// What the report counts of one ALB access log line.
#[derive(Debug, Clone)]
struct Request {
    time: String,
    client: IpAddr,
    status: Option<u32>,
    path: Option<String>,
    backend_seconds: Option<f64>,
    user_agent: Option<String>,
    error_reason: Option<String>,
}

#[derive(Debug, Clone)]
enum Line {
    Request(Request),
    /// A line albingest cannot parse (it becomes a failure document), with its time.
    Broken(String),
}

/// `-` and `""` mean no value.
fn value(token: &str) -> Option<String> {
    (!token.is_empty() && token != "-").then(|| token.to_string())
}

fn parse_line(line: &str) -> Line {
    let t = tokens(line);
    assert!(t.len() >= 18, "not an ALB line: {line}");
    let status = match t[8].as_str() {
        "-" => None,
        s if s.bytes().all(|b| b.is_ascii_digit()) => Some(s.parse().unwrap()),
        _ => return Line::Broken(t[1].clone()),
    };
    // client:port, split at the last colon (IPv6 clients are written without brackets).
    let (client, _port) = t[3].rsplit_once(':').unwrap();
    // "METHOD URL PROTOCOL": the URL is between the first and the last space.
    let request = &t[12];
    let url = &request[request.find(' ').unwrap() + 1..request.rfind(' ').unwrap()];
    let after_scheme = &url[url.find("://").unwrap() + 3..];
    let path = after_scheme
        .find('/')
        .map(|slash| after_scheme[slash..].split('?').next().unwrap().to_string());
    let backend_seconds = match t[6].as_str() {
        "-1" => None,
        s => Some(s.parse::<f64>().unwrap()),
    };
    Line::Request(Request {
        time: t[1].clone(),
        client: client.parse().unwrap_or_else(|e| panic!("{client}: {e}")),
        status,
        path,
        backend_seconds,
        user_agent: value(&t[13]),
        error_reason: t.get(24).and_then(|r| value(r)),
    })
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The bundled ALB access log objects (not the connection or health check logs).
fn sample_objects() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                let name = path.file_name().unwrap().to_str().unwrap();
                if name.ends_with(".log.gz")
                    && LogFormat::from_object_name(name) == Some(LogFormat::Alb)
                {
                    out.push(path);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLES),
        &mut out,
    );
    out.sort();
    assert_eq!(out.len(), 3, "the three ALB access log samples: {out:?}");
    out
}

/// Edge cases the samples lack: a repeated IPv6 client, a 5xx path and error reason that top
/// their lists, lines without a status code, a status outside 100–599, and lines that do not
/// parse.
fn extra_lines() -> String {
    #[allow(clippy::too_many_arguments)]
    fn line(
        second: u32,
        client: &str,
        backend: &str,
        status: &str,
        path: &str,
        user_agent: &str,
        reason: &str,
    ) -> String {
        let time = format!("{EXTRA_DAY}T10:06:{second:02}.000000Z");
        format!(
            "h2 {time} app/extra-alb/0123456789abcdef {client} 10.0.0.5:80 0.001 {backend} 0.000 \
             {status} {status} 100 200 \"GET https://extra.example.com:443{path}?q=1 HTTP/2.0\" \
             \"{user_agent}\" TLS_AES_128_GCM_SHA256 TLSv1.3 \
             arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/extra/0123456789abcdef \
             \"Root=1-6b056020-0123456789abcdef01234567\" \"extra.example.com\" \"-\" 0 {time} \
             \"forward\" \"-\" \"{reason}\" \"10.0.0.5:80\" \"{status}\" \"-\" \"-\" \
             TID_0123456789abcdef0123456789abcdef\n"
        )
    }
    let agent = "albingest-report-test/1.0";
    let mut out = String::new();
    for i in 0..4 {
        out += &line(
            i,
            "2001:db8::7:52000",
            "-1",
            "503",
            "/extra/boom",
            agent,
            "TargetConnectionError",
        );
    }
    for i in 4..7 {
        out += &line(
            i,
            "10.9.8.7:40000",
            "0.250",
            "502",
            "/extra/boom",
            agent,
            "TargetConnectionError",
        );
    }
    for i in 7..9 {
        out += &line(i, "10.9.8.6:40001", "-1", "-", "/extra/none", "-", "-");
    }
    out += &line(9, "10.9.8.6:40002", "0.010", "000", "/extra/zero", "-", "-");
    for i in 10..12 {
        out += &line(
            i,
            "10.9.8.5:40003",
            "0.010",
            "2OO",
            "/extra/broken",
            agent,
            "-",
        );
    }
    out
}

const EXTRA_NAME: &str = "123456789012_elasticloadbalancing_us-east-1_app.extra-alb.0123456789abcdef_20261124T1010Z_10.0.9.9_extra01.log.gz";

/// The figures, computed from the lines.
#[derive(Debug)]
struct Expected {
    requests: u64,
    classes: BTreeMap<&'static str, u64>,
    top_5xx_paths: Vec<(String, u64)>,
    /// Sorted.
    backend_seconds: Vec<f64>,
    top_clients: Vec<(IpAddr, u64)>,
    top_user_agents: Vec<(String, u64)>,
    top_error_reasons: Vec<(String, u64)>,
    failures: u64,
}

/// The `TOP` most frequent keys: count descending, then key ascending (as the report asks the
/// server to order them).
fn top<K: Ord + Clone + std::hash::Hash>(keys: impl Iterator<Item = K>) -> Vec<(K, u64)> {
    let mut counts: HashMap<K, u64> = HashMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    let mut all: Vec<(K, u64)> = counts.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(TOP);
    all
}

/// An IP address in the order of the `ip` field type: IPv4 as IPv4-mapped IPv6, by bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct IpKey([u8; 16], IpAddr);

fn ip_key(ip: IpAddr) -> IpKey {
    let bytes = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    };
    IpKey(bytes, ip)
}

impl Expected {
    /// From the lines whose time is not before `from` (RFC 3339, compared as text: every time
    /// here has the same layout).
    fn from_lines(lines: &[Line], from: Option<&str>) -> Self {
        let in_window = |time: &str| from.is_none_or(|from| time >= from);
        let requests: Vec<&Request> = lines
            .iter()
            .filter_map(|l| match l {
                Line::Request(r) if in_window(&r.time) => Some(r),
                _ => None,
            })
            .collect();
        let failures = lines
            .iter()
            .filter(|l| matches!(l, Line::Broken(time) if in_window(time)))
            .count() as u64;
        let mut classes: BTreeMap<&'static str, u64> = BTreeMap::new();
        for r in &requests {
            let class = match r.status {
                None => "none",
                Some(100..=199) => "1xx",
                Some(200..=299) => "2xx",
                Some(300..=399) => "3xx",
                Some(400..=499) => "4xx",
                Some(500..=599) => "5xx",
                Some(_) => "other",
            };
            *classes.entry(class).or_default() += 1;
        }
        let mut backend_seconds: Vec<f64> =
            requests.iter().filter_map(|r| r.backend_seconds).collect();
        backend_seconds.sort_by(f64::total_cmp);
        Expected {
            requests: requests.len() as u64,
            classes,
            top_5xx_paths: top(requests
                .iter()
                .filter(|r| matches!(r.status, Some(500..=599)))
                .filter_map(|r| r.path.clone())),
            backend_seconds,
            top_clients: top(requests.iter().map(|r| ip_key(r.client)))
                .into_iter()
                .map(|(k, n)| (k.1, n))
                .collect(),
            top_user_agents: top(requests.iter().filter_map(|r| r.user_agent.clone())),
            top_error_reasons: top(requests.iter().filter_map(|r| r.error_reason.clone())),
            failures,
        }
    }
}

/// The exact percentile by linear interpolation between the closest ranks.
fn exact_percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

/// A percentile estimate is right when it lies between the values at p ± 0.5 percentage points,
/// widened to the next distinct value on either side (the servers estimate percentiles, e.g. with
/// t-digest, interpolating between neighbouring values; the log's times have three decimals).
fn assert_percentile(server: &str, sorted: &[f64], p: f64, got: &Value) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{server}: p{p} is {got}"));
    let exact = exact_percentile(sorted, p);
    let last = sorted.len() - 1;
    let at = |q: f64| ((q / 100.0 * last as f64).round() as usize).min(last);
    let (lo, hi) = (
        sorted[at((p - 0.5).max(0.0))],
        sorted[at((p + 0.5).min(100.0))],
    );
    let below = sorted
        .iter()
        .rev()
        .find(|v| **v < lo)
        .copied()
        .unwrap_or(lo);
    let above = sorted.iter().find(|v| **v > hi).copied().unwrap_or(hi);
    assert!(
        (below..=above).contains(&got),
        "{server}: p{p} = {got}, exact {exact}, accepted {below}..={above}"
    );
    eprintln!("{server}: p{p} = {got} (exact {exact}, accepted {below}..={above})");
}

fn terms(report: &Value, key: &str) -> Vec<(String, u64)> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key}: {report}"))
        .iter()
        .map(|t| {
            (
                t["value"].as_str().unwrap().to_string(),
                t["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The figures a stand-in server is known not to give, and a word its reason must contain:
/// noida has no `percentiles` aggregation and aggregates the words of a `wildcard` field.
fn may_be_unavailable(server: &Server) -> &'static [(&'static str, &'static str)] {
    if server.name.starts_with("noida") {
        &[("latency", "percentiles"), ("top_5xx_paths", "url.path")]
    } else {
        &[]
    }
}

fn check(server: &Server, report: &Value, expected: &Expected) {
    let name = server.name;
    let allowed = may_be_unavailable(server);
    let unavailable: Vec<(String, String)> = report["unavailable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["figure"].as_str().unwrap().to_string(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (figure, reason) in &unavailable {
        let word = allowed
            .iter()
            .find(|(f, _)| f == figure)
            .unwrap_or_else(|| panic!("{name}: {figure} unavailable: {reason}"))
            .1;
        assert!(reason.contains(word), "{name}: {figure}: {reason}");
        assert!(
            report[figure.as_str()].is_null(),
            "{name}: {figure} unavailable but given"
        );
    }
    let available = |figure: &str| !unavailable.iter().any(|(f, _)| f == figure);
    assert!(
        report["warnings"].as_array().unwrap().is_empty(),
        "{name}: {report}"
    );

    assert_eq!(report["requests"], expected.requests, "{name}: requests");
    let classes: BTreeMap<String, u64> = report["status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["class"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    for class in ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "none"] {
        let want = expected.classes.get(class).copied().unwrap_or(0);
        assert_eq!(classes[class], want, "{name}: status class {class}");
        let share = report["status"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["class"] == class)
            .unwrap()["share"]
            .as_f64()
            .unwrap();
        assert!(
            (share - want as f64 / expected.requests as f64).abs() < 1e-9,
            "{name}: share of {class}"
        );
    }
    let errors =
        expected.classes.get("4xx").unwrap_or(&0) + expected.classes.get("5xx").unwrap_or(&0);
    assert!(
        (report["error_rate"].as_f64().unwrap() - errors as f64 / expected.requests as f64).abs()
            < 1e-9,
        "{name}: error rate"
    );

    if available("top_5xx_paths") {
        let want: Vec<(String, u64)> = expected.top_5xx_paths.clone();
        assert_eq!(
            terms(report, "top_5xx_paths"),
            want,
            "{name}: top 5xx paths"
        );
    }
    if available("latency") {
        let latency = &report["latency"];
        assert_eq!(
            latency["measured"],
            expected.backend_seconds.len() as u64,
            "{name}: requests with a target processing time"
        );
        for (p, key) in [(50.0, "p50"), (95.0, "p95"), (99.0, "p99")] {
            assert_percentile(name, &expected.backend_seconds, p, &latency[key]);
        }
    }
    let clients: Vec<(IpAddr, u64)> = terms(report, "top_clients")
        .into_iter()
        .map(|(ip, n)| {
            (
                ip.parse().unwrap_or_else(|e| panic!("{name}: {ip}: {e}")),
                n,
            )
        })
        .collect();
    assert_eq!(clients, expected.top_clients, "{name}: top clients");
    assert_eq!(
        terms(report, "top_user_agents"),
        expected.top_user_agents,
        "{name}: top user agents"
    );
    assert_eq!(
        terms(report, "top_error_reasons"),
        expected.top_error_reasons,
        "{name}: top error reasons"
    );
    assert_eq!(
        report["failures"], expected.failures,
        "{name}: failure documents"
    );
}

fn report(url: &str, prefix: &str, since: &str, json: bool) -> String {
    let mut args = vec![
        "report",
        "--endpoint",
        url,
        "--index-prefix",
        prefix,
        "--since",
        since,
    ];
    if json {
        args.push("--json");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(&args)
        .env_remove("ALBINGEST_ENDPOINT")
        .env_remove("ALBINGEST_USERNAME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "report {args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Deletes the test's indices by name (Elasticsearch 8 refuses wildcard deletes) and its index
/// template.
async fn delete_indices(url: &str, prefix: &str) {
    let client = search_client(url).await;
    for (index, _) in indices(&client, prefix).await {
        let _ = client
            .json(
                Method::Delete,
                &format!("/{index}"),
                None,
                std::time::Duration::from_secs(30),
            )
            .await;
    }
    let _ = client
        .json(
            Method::Delete,
            &format!("/_index_template/albingest-{prefix}"),
            None,
            std::time::Duration::from_secs(30),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_figures_match_the_sample_lines_on_both_servers() {
    let Some(servers) = search_servers("report") else {
        return;
    };
    let dir = TempDir::new("report");
    let extra = dir.path().join(EXTRA_NAME);
    std::fs::write(&extra, gzip(extra_lines().as_bytes())).unwrap();
    let mut objects = sample_objects();
    objects.push(extra);
    let lines: Vec<Line> = objects
        .iter()
        .flat_map(|path| {
            gunzip(path)
                .lines()
                .filter(|l| !l.is_empty())
                .map(parse_line)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(lines.len(), 3800 + 12, "sample lines and edge cases");

    // A window that starts in mid-2022: the 2026 lines are in it, the 2020 object is not.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    const JUNE_2022: u64 = 1_654_041_600; // 2022-06-01T00:00:00Z
    let days = (now - JUNE_2022) / 86_400 + 1;
    let window = format!("{days}d");
    let all = Expected::from_lines(&lines, None);
    let recent = Expected::from_lines(&lines, Some("2022"));
    assert!(recent.requests < all.requests && recent.requests > 0);
    assert_eq!(all.failures, 2);
    assert_eq!(all.classes["none"], 2);
    assert_eq!(all.classes["other"], 1);
    assert!(
        all.backend_seconds.len() < all.requests as usize,
        "some lines log -1 as the target processing time"
    );
    assert!(
        all.top_clients[0].0.is_ipv6() && all.top_clients[0].1 == 4,
        "{:?}",
        all.top_clients
    );

    for server in &servers {
        let prefix = unique("report");
        let setup = Setup::new(&server.url, &prefix, &dir.path().join("dlq"));
        setup.install_templates(&server.url).await;
        let ingester = setup.ingester().await;
        for object in &objects {
            let summary = ingester
                .ingest(&Source::File(object.clone()), None)
                .await
                .unwrap_or_else(|e| panic!("{}: {}: {e}", server.name, object.display()));
            assert_eq!(summary.unplaced + summary.dead_lettered, 0, "{summary}");
        }
        let client = search_client(&server.url).await;
        assert_eq!(
            count(&client, &prefix).await,
            lines.len() as u64,
            "{}: every line a document",
            server.name
        );

        let json: Value = serde_json::from_str(&report(&server.url, &prefix, "all", true)).unwrap();
        assert_eq!(json["since"], "all");
        assert!(json["from"].is_null());
        check(server, &json, &all);

        let json: Value =
            serde_json::from_str(&report(&server.url, &prefix, &window, true)).unwrap();
        assert_eq!(json["since"], window.as_str());
        assert!(
            json["from"].as_str().unwrap().starts_with("2022-0"),
            "{json}"
        );
        check(server, &json, &recent);

        // The terminal table: the same figures, aligned.
        let table = report(&server.url, &prefix, "all", false);
        eprintln!("{}:\n{table}", server.name);
        assert!(
            table.contains(&format!(
                "  requests           {}\n",
                thousands(all.requests)
            )),
            "{table}"
        );
        assert!(table.contains("  failure documents  2 (in "), "{table}");
        assert!(table.contains("         4  2001:db8::7\n"), "{table}");

        // An empty window, and a prefix with no index at all: zeros, not errors.
        let json: Value =
            serde_json::from_str(&report(&server.url, &unique("report-none"), "15m", true))
                .unwrap();
        assert_eq!(json["requests"], 0);
        assert_eq!(json["failures"], 0);
        assert_eq!(json["top_clients"], serde_json::json!([]));

        delete_indices(&server.url, &prefix).await;
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn the_line_splitting_of_this_test_is_right() {
    let t = tokens(r#"a "b c" "" "d \"e\" f" g"#);
    assert_eq!(t, ["a", "b c", "", r#"d \"e\" f"#, "g"]);
    let Line::Request(r) = parse_line(extra_lines().lines().next().unwrap()) else {
        panic!("the first edge case parses");
    };
    assert_eq!(r.client, "2001:db8::7".parse::<IpAddr>().unwrap());
    assert_eq!(r.status, Some(503));
    assert_eq!(r.path.as_deref(), Some("/extra/boom"));
    assert_eq!(r.backend_seconds, None);
    assert_eq!(r.error_reason.as_deref(), Some("TargetConnectionError"));
    assert!(matches!(
        parse_line(extra_lines().lines().last().unwrap()),
        Line::Broken(_)
    ));
    let mut keys = [
        ip_key("2001:db8::1".parse().unwrap()),
        ip_key("10.0.0.2".parse().unwrap()),
        ip_key("9.0.0.1".parse().unwrap()),
    ];
    keys.sort();
    let order: Vec<String> = keys.iter().map(|k| k.1.to_string()).collect();
    assert_eq!(order, ["9.0.0.1", "10.0.0.2", "2001:db8::1"]);
    assert_eq!(exact_percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.5);
}

#[test]
fn bad_windows_and_unreachable_servers_are_clear_errors() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_albingest"))
            .arg("report")
            .args(args)
            .env_remove("ALBINGEST_ENDPOINT")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--endpoint", "http://127.0.0.1:1", "--since", "5y"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--since \"5y\": unknown unit"), "{err}");
    let (code, err) = run(&["--endpoint", "http://127.0.0.1:1", "--index-prefix", "Bad"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("index prefix \"Bad\""), "{err}");
    let (code, err) = run(&["--since", "1h"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--endpoint"), "{err}");
    let (code, err) = run(&["--endpoint", "http://127.0.0.1:1", "--since", "all"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("report on alb-logs-*: POST http://127.0.0.1:1/alb-logs-*/_search"),
        "{err}"
    );
}
