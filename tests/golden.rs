//! Golden tests of the parser: log lines in, documents out, checked against the document contract
//! (`docs/documents.md`).
//!
//! Each case group is a fixture `tests/fixtures/golden/NAME.log` with `NAME.expected.ndjson`
//! beside it: one expected document per non-empty input line, in the same order. The expected
//! documents were written from `documents.md` and `alb-format.md`, field by field, not copied
//! from the program's output. A line that shows a parser bug keeps the document the contract asks
//! for, in a fixture of its own (`bug-*.log`).
//!
//! Failure documents of lines without a time of their own get the parser's fallback time, set
//! here to a fixed value so that every field of every document can be compared.
//!
//! On a mismatch the test names the fixture, the input line number and every differing field.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Cursor;
use std::path::PathBuf;

use albingest::object_key::ObjectInfo;
use albingest::parse::Parser;
use albingest::pipeline::{for_each_document, ParseStats, ReadError};
use serde_json::Value;

/// `@timestamp` of a failure document whose line and object name carry no time.
const FALLBACK_TIME: &str = "2000-01-01T00:00:00Z";

/// Fixture directory, relative to the crate root (also the `log.file.path` of its documents).
const DIR: &str = "tests/fixtures/golden";

fn parser() -> Parser {
    Parser::embedded().fallback_time(FALLBACK_TIME.into())
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(DIR)
        .join(name)
}

/// One parsed input line: its 1-based number in the input and its document as JSON.
struct Parsed {
    line: u64,
    failed: bool,
    document: Value,
}

/// Runs `bytes` through the library as the local file `path` and returns every document.
fn parse_bytes(parser: &Parser, path: &str, bytes: &[u8]) -> Vec<Parsed> {
    let object = ObjectInfo::local(path);
    parse_object(parser, &object, bytes)
}

fn parse_object(parser: &Parser, object: &ObjectInfo, bytes: &[u8]) -> Vec<Parsed> {
    let mut out = Vec::new();
    let mut stats = ParseStats::default();
    for_each_document(
        parser,
        object,
        Cursor::new(bytes),
        &mut stats,
        |parsed, line| {
            // Through the text, as `albingest parse` writes it: numbers then compare exactly with the
            // expected file's (both go through the same float parser).
            let text = String::from_utf8(parsed.document.to_json()).expect("document is UTF-8");
            out.push(Parsed {
                line: line.number,
                failed: parsed.failed,
                document: serde_json::from_str(&text).expect("document is JSON"),
            });
            Ok::<(), ReadError>(())
        },
    )
    .expect("reading from memory cannot fail");
    out
}

/// Parses one line (of a local file named `path`) and returns its document.
fn parse_line(path: &str, line: &str) -> Parsed {
    let mut docs = parse_bytes(&parser(), path, line.as_bytes());
    assert_eq!(docs.len(), 1, "one line gives one document");
    docs.remove(0)
}

/// `a.b.c` → value, for every leaf of a document (arrays are leaves).
fn flatten(value: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, v) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, v, out);
                }
            }
            _ => {
                out.insert(prefix.to_string(), value.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", value, &mut out);
    out
}

fn show(value: &Value) -> String {
    const MAX: usize = 200;
    let text = value.to_string();
    if text.len() <= MAX {
        return text;
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// The fields that differ, one per line; empty when the documents are equal.
fn diff(expected: &Value, actual: &Value) -> String {
    let (e, a) = (flatten(expected), flatten(actual));
    let mut out = String::new();
    for key in e.keys().chain(a.keys().filter(|k| !e.contains_key(*k))) {
        match (e.get(key), a.get(key)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => {
                let _ = writeln!(out, "    {key}: expected {}, got {}", show(x), show(y));
            }
            (Some(x), None) => {
                let _ = writeln!(out, "    {key}: expected {}, missing", show(x));
            }
            (None, Some(y)) => {
                let _ = writeln!(out, "    {key}: not expected, got {}", show(y));
            }
            (None, None) => unreachable!(),
        }
    }
    out
}

/// Parses fixture `NAME.log` and compares every document with `NAME.expected.ndjson`.
fn check_golden(name: &str) {
    let input = fs::read(fixture_path(&format!("{name}.log")))
        .unwrap_or_else(|e| panic!("{name}.log: {e}"));
    let expected_text = fs::read_to_string(fixture_path(&format!("{name}.expected.ndjson")))
        .unwrap_or_else(|e| panic!("{name}.expected.ndjson: {e}"));
    let expected: Vec<Value> = expected_text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{name}.expected.ndjson line {}: {e}", i + 1))
        })
        .collect();
    let actual = parse_bytes(&parser(), &format!("{DIR}/{name}.log"), &input);

    let mut report = String::new();
    for (i, (exp, act)) in expected.iter().zip(&actual).enumerate() {
        let d = diff(exp, &act.document);
        if !d.is_empty() {
            let _ = writeln!(
                report,
                "{name}.log line {} (document {} of {name}.expected.ndjson):\n{d}",
                act.line,
                i + 1
            );
        }
    }
    if expected.len() != actual.len() {
        let _ = writeln!(
            report,
            "{name}.log gave {} documents, {name}.expected.ndjson has {}",
            actual.len(),
            expected.len()
        );
    }
    assert!(report.is_empty(), "golden mismatch:\n{report}");
}

// ---------------------------------------------------------------------------------------------
// Golden case groups
// ---------------------------------------------------------------------------------------------

/// Every ALB access log layout: 18, 20 (unquoted domain/cert), 23, 24, 25, 29 (unquoted and
/// quoted target lists), 30, 33, the 2026 36-token line, and a line with unknown trailing fields.
/// Also an empty line (no document).
#[test]
fn golden_alb_layouts() {
    check_golden("alb-layouts");
}

/// `-` and `-1`: 460s, rule priority -1 / `-` / 0, Lambda targets, redirect, WAF, auth errors,
/// fixed response, status 000, empty `""` actions, IPv6 client and target.
#[test]
fn golden_alb_dash_rules() {
    check_golden("alb-dash-rules");
}

/// Request lines: malformed forms, trailing space, space in the URL, h2 without port or path,
/// arbitrary methods, gRPC.
#[test]
fn golden_alb_requests() {
    check_golden("alb-requests");
}

/// `\xNN` escapes kept verbatim, `\"` inside a quoted field, an 8 KB user agent, raw bytes that
/// are not UTF-8 (U+FFFD), escapes in the URL and the redirect URL.
#[test]
fn golden_alb_escapes() {
    check_golden("alb-escapes");
}

/// Failure documents: too few fields, bad numbers, unterminated quote, bad or missing time,
/// bad addresses, bad lists, bad certificate validity, invalid UTF-8; ALB, connection and Classic.
#[test]
fn golden_failures() {
    check_golden("failures");
}

/// ALB connection log: 15, 11 and 12 fields, non-TLS, mTLS (a `Failed:{code}` verify status
/// split in two), IPv6, a trailing placeholder.
#[test]
fn golden_alb_connection() {
    check_golden("alb-connection");
}

/// NLB: version 1.0 and 2.0, ALPN lists, failed handshake, URL-encoded domain, trailing fields,
/// `tls_keyexchange` (formerly `tls_named_group`) with a post-quantum group on `tlsv13`.
#[test]
fn golden_nlb() {
    check_golden("nlb");
}

/// ALB health check log: AWS's two example lines, a Lambda target, an IPv6 target, a timeout with
/// `-` status code, the 10-field form (elb, node IP), an unknown trailing field, an older reason
/// code, and a broken status code (failure document). Routed by sniffing: the file name is not
/// AWS's.
#[test]
fn golden_alb_health_check() {
    check_golden("alb-health-check");
}

/// Classic ELB: HTTP, HTTPS, TCP and SSL (`"- - - "`), a pre-2014 line, `-1` times with backend
/// status 0, a CRLF line end, unknown trailing fields.
#[test]
fn golden_elb_classic() {
    check_golden("elb-classic");
}

// ---------------------------------------------------------------------------------------------
// Cases that were once bugs (found by these tests): the expected documents are what documents.md
// asks for.
// ---------------------------------------------------------------------------------------------

/// `matched_rule_priority` `1O` (letter O): the line fails naming the field, rather than the rest
/// of the line sliding into `aws.elb.unparsed_trailing`.
#[test]
fn malformed_rule_priority_is_a_failure() {
    check_golden("bug-matched-rule-priority");
}

/// The node IP (ALB field 34, connection field 15) written as `-`: absent, and the tokens after
/// it are the unparsed trailing fields (the `-` is not shifted into `unparsed_trailing`).
#[test]
fn node_ip_dash_is_absent() {
    check_golden("bug-node-ip-dash");
}

/// A failure document of an NLB line gets the line's own time (its third token).
#[test]
fn nlb_failure_keeps_line_time() {
    check_golden("bug-nlb-failure-time");
}

/// A lone `-` after the last known field (ALB, connection log) is kept in
/// `aws.elb.unparsed_trailing` like a `"-"` is: it was dropped as "no value".
#[test]
fn lone_trailing_dash_is_kept() {
    check_golden("bug-trailing-dash");
}

/// A request creation time centuries away from the line's time (corrupt data): `event.duration`
/// in nanoseconds does not fit a long, so it is absent (it overflowed and panicked before).
#[test]
fn duration_out_of_range_is_absent() {
    check_golden("bug-duration-overflow");
}

// ---------------------------------------------------------------------------------------------
// Focused checks of single fields
// ---------------------------------------------------------------------------------------------

const ALB_29: &str = concat!(
    "https 2024-03-01T10:00:12.000000Z app/my-loadbalancer/50dc6c495c0c9188 ",
    "2001:db8:85a3::8a2e:370:7334:51544 2600:1f18:abc:de00::10:8080 0.001 0.002 0.001 200 200 300 ",
    "400 \"GET https://www.example.com:443/ HTTP/1.1\" \"curl/8.4.0\" ECDHE-RSA-AES128-GCM-SHA256 ",
    "TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/v6/0011223344556677 ",
    "\"Root=1-65e1a6ac-0123456789abcdef01234572\" \"www.example.com\" \"-\" 4 ",
    "2024-03-01T10:00:11.996000Z \"forward\" \"-\" \"-\" \"2600:1f18:abc:de00::10:8080\" \"200\" ",
    "\"-\" \"-\""
);

#[test]
fn ipv6_client_and_target_split_at_the_last_colon() {
    let d = parse_line("inline.log", ALB_29).document;
    assert_eq!(d["source"]["ip"], "2001:db8:85a3::8a2e:370:7334");
    assert_eq!(d["source"]["address"], "2001:db8:85a3::8a2e:370:7334");
    assert_eq!(d["source"]["port"], 51544);
    assert_eq!(d["aws"]["elb"]["backend"]["ip"], "2600:1f18:abc:de00::10");
    assert_eq!(d["aws"]["elb"]["backend"]["port"], 8080);
    assert_eq!(
        d["aws"]["elb"]["target_port"],
        serde_json::json!(["2600:1f18:abc:de00::10:8080"])
    );
}

#[test]
fn unknown_trailing_fields_are_kept_in_order() {
    let line = format!(
        "{ALB_29} TID_99887766554433221100ffeeddccbbaa \"-\" \"-\" \"-\" 10.0.0.12 \"-\" \"-\" \
         \"new value\" 17 \"\""
    );
    let parsed = parse_line("inline.log", &line);
    assert!(!parsed.failed);
    let elb = &parsed.document["aws"]["elb"];
    assert_eq!(elb["node_ip"], "10.0.0.12");
    assert_eq!(
        elb["unparsed_trailing"],
        serde_json::json!(["-", "-", "new value", "17", ""])
    );
}

#[test]
fn the_2026_line_keeps_its_two_placeholders() {
    let line = fs::read_to_string(fixture_path("alb-layouts.log")).unwrap();
    let line = line
        .lines()
        .find(|l| l.contains("2026-09-23T07:15:47.805298Z"))
        .unwrap();
    let d = parse_line("inline.log", line).document;
    assert_eq!(d["aws"]["elb"]["node_ip"], "100.51.96.60");
    assert_eq!(
        d["aws"]["elb"]["connection_trace_id"],
        "TID_d7917035eabacb42bea251b01fb60ab4"
    );
    assert_eq!(
        d["aws"]["elb"]["unparsed_trailing"],
        serde_json::json!(["-", "-"])
    );
    assert!(d["aws"]["elb"].get("transformed_host").is_none());
}

#[test]
fn short_line_message_counts_fields() {
    let line = "http 2018-07-02T22:23:00.186641Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 \
                10.0.0.1:80 0.000 0.001";
    let parsed = parse_line("inline.log", line);
    assert!(parsed.failed);
    let d = parsed.document;
    assert_eq!(
        d["error"]["message"],
        "line has 7 fields, an ALB access log line has at least 18"
    );
    assert_eq!(d["event"]["kind"], "pipeline_error");
    assert_eq!(d["event"]["original"], line);
    assert_eq!(d["tags"], serde_json::json!(["_albingest_parse_failure"]));
    assert_eq!(d["@timestamp"], "2018-07-02T22:23:00.186641Z");
}

#[test]
fn bad_status_code_message_names_field_and_value() {
    let line = ALB_29.replace(" 200 200 300 ", " 2OO 200 300 ");
    let parsed = parse_line("inline.log", &line);
    assert!(parsed.failed);
    let message = parsed.document["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("elb_status_code"), "{message}");
    assert!(message.contains("\"2OO\""), "{message}");
    assert_eq!(parsed.document["event"]["original"], line.as_str());
}

#[test]
fn escaped_quote_does_not_end_the_user_agent() {
    let line = ALB_29.replace("\"curl/8.4.0\"", r#""python-requests \"q\" x""#);
    let d = parse_line("inline.log", &line).document;
    assert_eq!(d["user_agent"]["original"], r#"python-requests \"q\" x"#);
    assert_eq!(d["tls"]["cipher"], "ECDHE-RSA-AES128-GCM-SHA256");
    assert_eq!(d["aws"]["elb"]["matched_rule_priority"], 4);
}

#[test]
fn hex_escapes_stay_as_written() {
    let line = ALB_29.replace("\"curl/8.4.0\"", r#""ua \x22q\x22 \xEC\x97\x90""#);
    let d = parse_line("inline.log", &line).document;
    assert_eq!(d["user_agent"]["original"], r"ua \x22q\x22 \xEC\x97\x90");
}

#[test]
fn user_agent_of_8_kb_is_kept_whole() {
    let ua = format!("Mozilla/5.0 ({})", "A".repeat(8192 - 14));
    assert_eq!(ua.len(), 8192);
    let line = ALB_29.replace("curl/8.4.0", &ua);
    let d = parse_line("inline.log", &line).document;
    assert_eq!(d["user_agent"]["original"].as_str().unwrap().len(), 8192);
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    let mut bytes = ALB_29.replace("curl/8.4.0", "curl/\u{1}").into_bytes();
    let at = bytes.iter().position(|b| *b == 1).unwrap();
    bytes.splice(at..=at, [0xff, 0xfe]);
    let docs = parse_bytes(&parser(), "inline.log", &bytes);
    assert_eq!(docs.len(), 1);
    assert!(!docs[0].failed);
    assert_eq!(
        docs[0].document["user_agent"]["original"],
        "curl/\u{fffd}\u{fffd}"
    );

    let docs = parse_bytes(&parser(), "inline.log", b"garbage \xc3\x28\n");
    assert!(docs[0].failed);
    assert_eq!(docs[0].document["event"]["original"], "garbage \u{fffd}(");
}

#[test]
fn dashes_and_minus_one_are_absent() {
    let line = concat!(
        "http 2024-03-01T10:00:03.000000Z app/my-loadbalancer/50dc6c495c0c9188 198.51.100.9:50001 ",
        "- -1 -1 -1 460 - 0 272 \"- http://www.example.com:80- -\" \"-\" - - - \"-\" \"-\" \"-\" -1 ",
        "2024-03-01T10:00:03.000000Z \"\" \"-\" \"-\" \"-\" \"-\" \"-\" \"-\""
    );
    let d = parse_line("inline.log", line).document;
    let elb = d["aws"]["elb"].as_object().unwrap();
    for absent in [
        "backend",
        "request_processing_time",
        "backend_processing_time",
        "response_processing_time",
        "matched_rule_priority",
        "action_executed",
        "target_group",
        "trace_id",
        "target_port",
        "target_status_code",
        "ssl_cipher",
        "redirect_url",
        "error",
    ] {
        assert!(
            !elb.contains_key(absent),
            "aws.elb.{absent}: {:?}",
            elb.get(absent)
        );
    }
    for absent in ["user_agent", "tls", "trace", "destination"] {
        assert!(d.get(absent).is_none(), "{absent}: {:?}", d.get(absent));
    }
    assert!(d["http"]["request"].get("method").is_none());
    assert!(d["http"].get("version").is_none());
    assert_eq!(d["url"]["original"], "http://www.example.com:80-");
    assert_eq!(d["http"]["response"]["status_code"], 460);
    assert_eq!(d["event"]["outcome"], "failure");
}

#[test]
fn failure_time_comes_from_the_object_key_then_the_fallback() {
    let key = "prefix/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/\
               123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_\
               20140215T2340Z_172.160.001.192_20sg8hgm.log.gz";
    let object = ObjectInfo::s3("my-bucket", key);
    let docs = parse_object(&parser(), &object, b"garbage\n");
    let d = &docs[0].document;
    assert!(docs[0].failed);
    assert_eq!(d["@timestamp"], "2014-02-15T23:40:00Z");
    assert_eq!(d["aws"]["s3"]["bucket"]["name"], "my-bucket");
    assert_eq!(d["aws"]["s3"]["object"]["key"], key);
    assert_eq!(d["log"]["file"]["path"], format!("s3://my-bucket/{key}"));
    assert_eq!(d["cloud"]["region"], "us-east-2");
    assert_eq!(d["cloud"]["account"]["id"], "123456789012");

    let d = parse_line("inline.log", "garbage").document;
    assert_eq!(d["@timestamp"], FALLBACK_TIME);
}

#[test]
fn provenance_from_an_s3_key_on_every_document() {
    let key = "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/03/01/\
               123456789012_elasticloadbalancing_eu-west-1_app.my-loadbalancer.50dc6c495c0c9188_\
               20240301T1005Z_10.0.0.5_abcdefgh.log.gz";
    let object = ObjectInfo::s3("logs-bucket", key);
    let input = format!("{ALB_29}\n\n{ALB_29}\n");
    let docs = parse_object(&parser(), &object, input.as_bytes());
    assert_eq!(docs.len(), 2, "the empty line gives no document");
    for (doc, offset) in docs.iter().zip([0, ALB_29.len() + 2]) {
        let d = &doc.document;
        assert_eq!(d["log"]["offset"], offset);
        assert_eq!(d["cloud"]["provider"], "aws");
        assert_eq!(d["cloud"]["region"], "eu-west-1");
        assert_eq!(d["cloud"]["account"]["id"], "123456789012");
        assert_eq!(d["aws"]["s3"]["bucket"]["name"], "logs-bucket");
        assert_eq!(d["@timestamp"], "2024-03-01T10:00:12.000000Z");
        assert!(d["event"].get("original").is_none());
    }
    assert_eq!(docs[1].line, 3);
}

#[test]
fn keep_original_adds_the_raw_line() {
    let parser = parser().keep_original(true);
    let docs = parse_bytes(&parser, "inline.log", ALB_29.as_bytes());
    assert!(!docs[0].failed);
    assert_eq!(docs[0].document["event"]["original"], ALB_29);
}

#[test]
fn connection_log_validity_and_verify_status() {
    let line = concat!(
        "2024-05-16T20:09:39.250000Z 203.0.113.14 52708 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 - ",
        "\"CN=device-42,O=Example Corp\" NotBefore=2024-01-01T00:00:00Z;NotAfter=2025-01-01T00:00:00Z ",
        "4A3F00C1D2E3F405 Failed:ClientCertUntrusted TID_11223344556677889900aabbccddeeff secp256r1 ",
        "app/my-loadbalancer/50dc6c495c0c9188 10.0.1.15"
    );
    let d = parse_line("inline.log", line).document;
    assert_eq!(d["event"]["dataset"], "aws.elb_connection_logs");
    let elb = &d["aws"]["elb"];
    assert_eq!(elb["leaf_client_cert_not_before"], "2024-01-01T00:00:00Z");
    assert_eq!(elb["leaf_client_cert_not_after"], "2025-01-01T00:00:00Z");
    assert_eq!(elb["tls_verify_status"], "Failed");
    assert_eq!(elb["tls_error_code"], "ClientCertUntrusted");
    assert_eq!(
        elb["leaf_client_cert_subject"],
        "CN=device-42,O=Example Corp"
    );
    assert_eq!(elb["listener"], "443");
    assert_eq!(d["destination"]["port"], 443);
    assert!(elb.get("tls_handshake_latency").is_none());
}

#[test]
fn nlb_alpn_list_and_decoded_domain() {
    let line = concat!(
        "tls 2.0 2020-04-01T08:51:42 net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd ",
        "72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - - - ECDHE-RSA-AES128-SHA tlsv12 - ",
        "caf%C3%A9.example.com h2 h2 \"h2\",\"http/1.1\" 2020-04-01T08:51:20"
    );
    let d = parse_line("inline.log", line).document;
    assert_eq!(d["@timestamp"], "2020-04-01T08:51:42Z");
    assert_eq!(d["destination"]["domain"], "café.example.com");
    assert_eq!(
        d["aws"]["elb"]["alpn_client_preference_list"],
        serde_json::json!(["h2", "http/1.1"])
    );
    assert_eq!(
        d["aws"]["elb"]["tls_connection_creation_time"],
        "2020-04-01T08:51:20Z"
    );
    assert_eq!(d["tls"]["version"], "1.2");
}

#[test]
fn classic_tcp_listener_has_no_request() {
    let line = concat!(
        "2015-05-13T23:39:45.945958Z my-loadbalancer 192.168.131.39:2819 10.0.0.1:80 0.001069 ",
        "0.000028 0.000041 - - 82 305 \"- - - \" \"-\" - -"
    );
    let d = parse_line("inline.log", line).document;
    assert_eq!(d["aws"]["elb"]["protocol"], "tcp");
    assert_eq!(d["event"]["start"], "2015-05-13T23:39:45.945958Z");
    assert!(d.get("url").is_none());
    assert!(d["http"]
        .get("response")
        .unwrap()
        .get("status_code")
        .is_none());
    assert!(d["event"].get("outcome").is_none());
}

#[test]
fn over_long_line_becomes_a_failure_document() {
    let max = albingest::lines::MAX_LINE;
    let mut input = format!("http 2024-01-01T00:00:00.000000Z {}", "x".repeat(max)).into_bytes();
    input.extend_from_slice(b"\n");
    input.extend_from_slice(ALB_29.as_bytes());
    let docs = parse_bytes(&parser(), "inline.log", &input);
    assert_eq!(docs.len(), 2);
    assert!(docs[0].failed);
    let message = docs[0].document["error"]["message"].as_str().unwrap();
    assert!(message.contains("longer than"), "{message}");
    assert_eq!(
        docs[0].document["@timestamp"],
        "2024-01-01T00:00:00.000000Z"
    );
    assert!(!docs[1].failed, "the next line is read from its own start");
    assert_eq!(
        docs[1].document["log"]["offset"],
        input.len() - ALB_29.len()
    );
}

/// Every fixture line gives exactly one document, in order, with `log.offset` at the line's start.
#[test]
fn one_document_per_non_empty_line_at_its_offset() {
    let mut names: Vec<String> = fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".log"))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        let input = fs::read(fixture_path(&name)).unwrap();
        let docs = parse_bytes(&parser(), &name, &input);
        let mut offset = 0usize;
        let mut starts = Vec::new();
        for line in input.split_inclusive(|b| *b == b'\n') {
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if !text.is_empty() {
                starts.push(offset);
            }
            offset += line.len();
        }
        let got: Vec<u64> = docs
            .iter()
            .map(|d| d.document["log"]["offset"].as_u64().unwrap())
            .collect();
        let want: Vec<u64> = starts.iter().map(|s| *s as u64).collect();
        assert_eq!(got, want, "{name}");
    }
}
