//! Lines through the real entry path: an object of generated lines (valid, then mutated), stored
//! plain or gzip (sometimes in several members), read in whatever chunks the source gives, routed
//! by its name or by sniffing, through `decompress::decode` and `for_each_document`.
//!
//! Checked for every case: no panic; exactly one document per non-empty line, in order, at the
//! line's offset (counted from what was generated, not from the reader); every document is valid
//! JSON with the fields `documents.md` requires of a success or a failure document; a failure
//! names the field or the reason; a line longer than `MAX_LINE` is one failure document (stating its length) and the
//! next line is read as if nothing happened; a valid line that was not mutated parses, with its
//! own time and load balancer. Also: the fast plan and the whole-line regex agree on every line,
//! and the parallel form (`for_each_encoded_block`, `albingest parse`) writes the same documents.

use std::cell::RefCell;
use std::io::{Cursor, Read, Write};
use std::sync::OnceLock;

use albingest::decompress;
use albingest::format::LogFormat;
use albingest::lines::MAX_LINE;
use albingest::object_key::ObjectInfo;
use albingest::parse::{ParsedLine, Parser, FAILURE_TAG};
use albingest::pipeline::{for_each_document, for_each_encoded_block, ParseStats, ReadError};
use albingest::timestamp;
use fastrand::Rng;
use serde_json::Value;

use crate::campaign::{excerpt, Campaign};
use crate::gen_lines::{self, hex, pick, ValidLine};
use crate::mutate::{lengthen, mutate};

/// `@timestamp` of failure documents without a time of their own or in their object's name.
const FALLBACK_TIME: &str = "2000-01-01T00:00:00Z";
/// Lines of the fast configuration (about 20 s in a debug build on an idle core).
const FAST_LINES: u64 = 25_000;
/// Lines up to this length are also matched with the whole-line regex (slow in debug builds).
const REGEX_CHECK_MAX: usize = 4096;

#[test]
fn lines_through_the_entry_path() {
    let campaign = Campaign::from_env("lines_through_the_entry_path", "lines", FAST_LINES);
    let tally = RefCell::new(Tally::default());
    campaign.run(generate, describe, |object| {
        check(object, &mut tally.borrow_mut());
        object.lines.len() as u64
    });
    let tally = tally.into_inner();
    eprintln!("lines_through_the_entry_path: {tally:?}");
    if tally.lines >= FAST_LINES {
        // The campaign reached what it is for (a smaller replay need not).
        assert!(tally.unmutated > tally.lines / 10, "{tally:?}");
        assert!(tally.failures > tally.lines / 10, "{tally:?}");
        assert!(tally.overlong > 0 && tally.gzip_objects > 0, "{tally:?}");
        assert!(tally.sniffed > 0 && tally.empty > 0, "{tally:?}");
    }
}

#[derive(Debug, Default)]
struct Tally {
    lines: u64,
    empty: u64,
    documents: u64,
    failures: u64,
    unmutated: u64,
    overlong: u64,
    gzip_objects: u64,
    sniffed: u64,
}

/// One object: its lines as generated and the bytes the source gives.
struct Object {
    info: ObjectInfo,
    /// The format its name routes to; `None`: each line is sniffed.
    route: Option<LogFormat>,
    lines: Vec<GeneratedLine>,
    /// What the source holds (gzip or not), and its length decompressed.
    stored: Vec<u8>,
    stream_len: u64,
    gzip: bool,
    /// `\n` or `\r\n`, and whether the last line has one.
    line_end: &'static str,
    final_newline: bool,
    /// Largest read the source answers (`None`: all it is asked for).
    read_limit: Option<usize>,
    keep_original: bool,
    also_parallel: bool,
}

struct GeneratedLine {
    /// The line without its line end.
    bytes: Vec<u8>,
    offset: u64,
    /// The line as generated; `valid` only when no mutation touched it.
    generated: ValidLine,
    valid: bool,
    mutations: Vec<&'static str>,
}

impl GeneratedLine {
    /// The line without the `\r`s a line end drops.
    fn content(&self) -> &[u8] {
        let mut b = &self.bytes[..];
        while let [rest @ .., b'\r'] = b {
            b = rest;
        }
        b
    }

    /// The text of the line's document: its first `MAX_LINE` bytes.
    fn expected_text(&self) -> String {
        let content = self.content();
        String::from_utf8_lossy(&content[..content.len().min(MAX_LINE)]).into_owned()
    }

    fn has_document(&self) -> bool {
        !self.content().is_empty()
    }

    fn overlong(&self) -> bool {
        self.content().len() > MAX_LINE
    }

    /// The length the failure document of an over-long line states: the whole line, without
    /// its `\n`.
    fn overlong_length(&self) -> Option<usize> {
        self.overlong().then_some(self.bytes.len())
    }
}

fn generate(rng: &mut Rng) -> Object {
    let route = match rng.u8(..10) {
        0..=3 => Some(LogFormat::Alb),
        4 => Some(LogFormat::AlbConnection),
        5 => Some(LogFormat::Nlb),
        6 => Some(LogFormat::Elb),
        7 => Some(LogFormat::AlbHealthCheck),
        _ => None,
    };
    let info = object_info(rng, route);
    let line_end = if rng.u8(..6) == 0 { "\r\n" } else { "\n" };
    let mut lines = Vec::new();
    for _ in 0..rng.usize(1..=12) {
        if rng.u8(..20) == 0 {
            lines.push(empty_line(rng));
        }
        let format = match route {
            Some(format) if rng.u8(..30) != 0 => format,
            _ => gen_lines::any_format(rng),
        };
        let generated = gen_lines::line(rng, format);
        let mut bytes = generated.text.clone().into_bytes();
        let mut mutations = Vec::new();
        if rng.bool() {
            for _ in 0..rng.usize(1..=3) {
                mutations.push(mutate(rng, &mut bytes));
            }
        }
        if rng.u8(..40) == 0 {
            bytes = b" ".repeat(rng.usize(1..4));
            mutations.push("spaces only");
        }
        lines.push(GeneratedLine {
            valid: mutations.is_empty(),
            bytes,
            offset: 0,
            generated,
            mutations,
        });
    }
    if rng.u16(..400) == 0 {
        // One or two lines of about MAX_LINE bytes or more: the reader cuts what is longer.
        for _ in 0..rng.usize(1..=2) {
            let i = rng.usize(..lines.len());
            let len = match rng.u8(..3) {
                0 => MAX_LINE - 1 + rng.usize(..3),
                _ => MAX_LINE + rng.usize(1..300_000),
            };
            lengthen(rng, &mut lines[i].bytes, len);
            lines[i].mutations.push("lengthened");
            lines[i].valid = false;
        }
    }
    let mut stream = Vec::new();
    let last = lines.len() - 1;
    let final_newline = rng.u8(..6) != 0;
    for (i, line) in lines.iter_mut().enumerate() {
        line.offset = stream.len() as u64;
        stream.extend_from_slice(&line.bytes);
        if i < last || final_newline {
            stream.extend_from_slice(line_end.as_bytes());
        }
    }
    let stream_len = stream.len() as u64;
    // A third gzip: making a gzip member costs more in a debug build than the rest of a case.
    let gzip = rng.u8(..3) == 0;
    let stored = if gzip {
        gzip_members(rng, &stream)
    } else {
        stream
    };
    let huge = lines.iter().any(GeneratedLine::overlong);
    Object {
        info,
        route,
        lines,
        stored,
        stream_len,
        gzip,
        line_end,
        final_newline,
        read_limit: match rng.u8(..8) {
            0 if !huge => Some(1),
            1 => Some(7),
            2 => Some(4096),
            3 => Some(65_536),
            _ => None,
        },
        keep_original: rng.u8(..4) == 0,
        also_parallel: rng.u8(..8) == 0,
    }
}

fn empty_line(rng: &mut Rng) -> GeneratedLine {
    GeneratedLine {
        bytes: b"\r".repeat(rng.usize(..3)),
        offset: 0,
        generated: gen_lines::line(rng, LogFormat::Alb),
        valid: false,
        mutations: vec!["empty"],
    }
}

/// The stream as one gzip member, or cut at random bytes (mid-line too) into several.
fn gzip_members(rng: &mut Rng, stream: &[u8]) -> Vec<u8> {
    let mut cuts: Vec<usize> = (0..rng.usize(..3))
        .map(|_| rng.usize(..=stream.len()))
        .collect();
    cuts.sort_unstable();
    cuts.push(stream.len());
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&stream[start..cut]).expect("gzip");
        out.extend(encoder.finish().expect("gzip"));
        start = cut;
    }
    out
}

/// An S3 object or a local file whose name routes to `route` (or to no format: sniffing).
fn object_info(rng: &mut Rng, route: Option<LogFormat>) -> ObjectInfo {
    let account = "123456789012";
    let region = pick(rng, &["us-east-1", "eu-west-1", "ap-southeast-2"]);
    let end = pick(rng, &["20261124T1005Z", "20140215T2340Z", "20261399T9999Z"]);
    let lb = format!("my-lb.{}", hex(rng, 16));
    let tail = format!("{end}_10.0.1.{}_{}.log.gz", rng.u8(..), hex(rng, 8));
    let file = match route {
        Some(LogFormat::Alb) => format!("{account}_elasticloadbalancing_{region}_app.{lb}_{tail}"),
        Some(LogFormat::AlbConnection) => format!(
            "conn_log{}{account}_elasticloadbalancing_{region}_app.{lb}_{tail}",
            pick(rng, &["_", "."])
        ),
        Some(LogFormat::AlbHealthCheck) => {
            format!("health_check_log_{account}_elasticloadbalancing_{region}_app.{lb}_{tail}")
        }
        Some(LogFormat::Nlb) => format!(
            "{account}_elasticloadbalancing_{region}_net.{lb}_{end}_{}.log.gz",
            hex(rng, 8)
        ),
        Some(LogFormat::Elb) => format!(
            "{account}_elasticloadbalancing_{region}_my-clb_{end}_10.0.0.1_{}.log",
            hex(rng, 8)
        ),
        None => pick(
            rng,
            &[
                "ELBAccessLogTestFile",
                "mixed.log",
                "x_20261124T1005Z_y.log",
            ],
        )
        .into(),
    };
    let key = format!(
        "{}AWSLogs/{account}/elasticloadbalancing/{region}/2026/11/24/{file}",
        pick(rng, &["", "prefix/", "logs prefix/"])
    );
    let info = if rng.u8(..3) == 0 {
        ObjectInfo::local(&key)
    } else {
        ObjectInfo::s3("alb-logs-bucket", &key)
    };
    assert_eq!(info.format, route, "{key} must route to {route:?}");
    info
}

fn describe(object: &Object) -> String {
    let mut text = format!(
        "object {:?} (routes to {:?}), gzip {}, line end {:?} (after the last line: {}), \
         {} stored bytes, read limit {:?}, keep_original {}\n",
        object.info.file_path,
        object.route,
        object.gzip,
        object.line_end,
        object.final_newline,
        object.stored.len(),
        object.read_limit,
        object.keep_original
    );
    for (i, line) in object.lines.iter().enumerate() {
        text += &format!(
            "  line {i} at {} ({:?}, mutations {:?}): {}\n",
            line.offset,
            line.generated.format,
            line.mutations,
            excerpt(&line.bytes, 400)
        );
    }
    text
}

fn parser(keep_original: bool) -> &'static Parser {
    static PLAIN: OnceLock<Parser> = OnceLock::new();
    static KEEP: OnceLock<Parser> = OnceLock::new();
    let cell = if keep_original { &KEEP } else { &PLAIN };
    cell.get_or_init(|| {
        Parser::embedded()
            .keep_original(keep_original)
            .fallback_time(FALLBACK_TIME.into())
    })
}

/// A source that answers at most `limit` bytes a read, as a network stream may.
struct ShortReads {
    inner: Cursor<Vec<u8>>,
    limit: usize,
}

impl Read for ShortReads {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.limit);
        self.inner.read(&mut buf[..n])
    }
}

fn open(object: &Object) -> decompress::Decoded {
    let bytes = Cursor::new(object.stored.clone());
    let decoded = match object.read_limit {
        Some(limit) => decompress::decode(ShortReads {
            inner: bytes,
            limit,
        }),
        None => decompress::decode(bytes),
    }
    .expect("an in-memory source opens");
    assert_eq!(decoded.gzip, object.gzip, "gzip detection");
    decoded
}

fn check(object: &Object, tally: &mut Tally) {
    let parser = parser(object.keep_original);
    let expected: Vec<&GeneratedLine> = object.lines.iter().filter(|l| l.has_document()).collect();
    let (mut documents, mut failures) = (0, 0);
    let mut written = Vec::new();
    let mut stats = ParseStats::default();
    let reader = open(object).reader;
    for_each_document(parser, &object.info, reader, &mut stats, |parsed, line| {
        let Some(want) = expected.get(documents) else {
            panic!(
                "document {documents} has no line (only {} non-empty lines): line {} at {}: {}",
                expected.len(),
                line.number,
                line.offset,
                excerpt(line.text.as_bytes(), 300)
            );
        };
        assert_eq!(
            line.offset, want.offset,
            "document {documents} is not at the offset of non-empty line {documents}"
        );
        let json = parsed.document.to_json();
        check_document(object, want, parsed, &json, &line.text, line.truncated);
        written.extend_from_slice(&json);
        written.push(b'\n');
        documents += 1;
        failures += u64::from(parsed.failed);
        Ok::<_, ReadError>(())
    })
    .expect("an in-memory object reads to its end");
    assert_eq!(documents, expected.len(), "one document per non-empty line");
    assert_eq!(
        (stats.lines, stats.documents, stats.failures, stats.bytes),
        (
            documents as u64,
            documents as u64,
            failures,
            object.stream_len
        ),
        "the object's counts: lines, documents, failures, decompressed bytes"
    );
    if object.also_parallel {
        check_parallel_form(object, parser, &written);
    }

    tally.lines += object.lines.len() as u64;
    tally.empty += (object.lines.len() - expected.len()) as u64;
    tally.documents += documents as u64;
    tally.failures += failures;
    tally.unmutated += expected.iter().filter(|l| l.valid).count() as u64;
    tally.overlong += object.lines.iter().filter(|l| l.overlong()).count() as u64;
    tally.gzip_objects += u64::from(object.gzip);
    tally.sniffed += u64::from(object.route.is_none());
}

/// `albingest parse`'s path: the same documents, in the same order, from worker threads.
fn check_parallel_form(object: &Object, parser: &Parser, sequential: &[u8]) {
    let mut parallel = Vec::new();
    let stats = for_each_encoded_block(
        parser,
        &object.info,
        open(object).reader,
        2,
        |parsed, _line, out| {
            out.extend_from_slice(&parsed.document.to_json());
            out.push(b'\n');
            Ok(())
        },
        |block| {
            parallel.extend_from_slice(block);
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        },
    )
    .unwrap_or_else(|e| panic!("parallel form: {e}"));
    assert!(
        parallel == sequential,
        "the parallel form wrote other documents ({} vs {} bytes)",
        parallel.len(),
        sequential.len()
    );
    assert_eq!(
        stats.documents as usize,
        sequential.iter().filter(|b| **b == b'\n').count()
    );
}

fn check_document(
    object: &Object,
    want: &GeneratedLine,
    parsed: &ParsedLine<'_>,
    json: &[u8],
    text: &str,
    truncated: bool,
) {
    let _checking = Checking(want);
    let line_excerpt = || excerpt(&want.bytes, 400);
    let doc: Value = serde_json::from_slice(json).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}) for line {}: {}",
            line_excerpt(),
            excerpt(json, 2000)
        )
    });
    let field = |path: &str| path.split('.').try_fold(&doc, |v, k| v.get(k));
    let string = |path: &str| field(path).and_then(Value::as_str);
    let expected_text = want.expected_text();
    assert_eq!(text, expected_text, "the line as read");
    assert_eq!(
        truncated,
        want.overlong(),
        "cut at MAX_LINE exactly when longer"
    );

    // What every document carries.
    assert_eq!(
        field("log.offset").and_then(Value::as_u64),
        Some(want.offset)
    );
    assert_eq!(
        string("log.file.path"),
        Some(object.info.file_path.as_str())
    );
    assert!(string("ecs.version").is_some(), "ecs.version");
    assert_eq!(string("cloud.provider"), Some("aws"));
    if let Some(bucket) = &object.info.bucket {
        assert_eq!(string("aws.s3.bucket.name"), Some(bucket.as_str()));
        assert_eq!(string("aws.s3.object.key"), Some(object.info.key.as_str()));
    }
    let format = object
        .route
        .unwrap_or_else(|| LogFormat::sniff(expected_text.as_bytes()));
    assert_eq!(parsed.format, format, "routed by name, else sniffed");
    assert_eq!(string("event.dataset"), Some(format.dataset()));
    let timestamp = string("@timestamp").expect("@timestamp");
    assert!(
        timestamp::parse(timestamp).is_some_and(|t| t.rfc3339.ends_with('Z')),
        "@timestamp {timestamp:?} is not RFC 3339 UTC"
    );

    if parsed.failed {
        assert_eq!(string("event.kind"), Some("pipeline_error"));
        assert_eq!(string("event.original"), Some(expected_text.as_str()));
        assert_eq!(field("tags"), Some(&serde_json::json!([FAILURE_TAG])));
        let message = string("error.message").expect("error.message");
        check_failure_message(parser(false), format, message, want.overlong_length());
        assert_eq!(
            timestamp,
            failure_time(&expected_text, &object.info),
            "a failure's @timestamp: its line's time, else its object's, else the fallback"
        );
        assert!(
            !want.valid || object.route.is_some_and(|r| r != want.generated.format),
            "a valid line failed: {message}\n{}",
            line_excerpt()
        );
    } else {
        assert!(!want.overlong(), "a line cut at MAX_LINE parsed");
        assert_eq!(string("event.kind"), Some("event"));
        assert!(field("event.category").is_some_and(Value::is_array));
        assert!(field("error").is_none() && field("tags").is_none());
        let original = string("event.original");
        if object.keep_original {
            assert_eq!(original, Some(expected_text.as_str()));
        } else {
            assert_eq!(original, None);
        }
    }
    if want.valid && parsed.format == want.generated.format {
        assert_eq!(
            timestamp, want.generated.timestamp,
            "a valid line's own time"
        );
        assert_eq!(string("aws.elb.name"), want.generated.elb.as_deref());
        let trailing = &want.generated.trailing;
        assert_eq!(
            field("aws.elb.unparsed_trailing"),
            (!trailing.is_empty())
                .then(|| serde_json::json!(trailing))
                .as_ref(),
            "unknown trailing fields are kept, in order"
        );
    }
    if !truncated && expected_text.len() <= REGEX_CHECK_MAX {
        check_plan_against_regex(format, &expected_text);
    }
}

/// Names the line being checked when a check of its document panics.
struct Checking<'a>(&'a GeneratedLine);

impl Drop for Checking<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "while checking the document of the line at {} ({:?}, mutations {:?}): {}",
                self.0.offset,
                self.0.generated.format,
                self.0.mutations,
                excerpt(&self.0.bytes, 2000)
            );
        }
    }
}

/// A failure message names a field (`field: …`, the pattern's names), or says what is wrong with
/// the line as a whole, and stays short whatever the line holds.
fn check_failure_message(
    parser: &Parser,
    format: LogFormat,
    message: &str,
    overlong_length: Option<usize>,
) {
    assert!(message.len() <= 600, "message of {} bytes", message.len());
    if let Some(length) = overlong_length {
        assert!(
            message.contains(&format!("line of {length} bytes is longer than {MAX_LINE}")),
            "{message}"
        );
        return;
    }
    let names_field = message.split_once(": ").is_some_and(|(name, _)| {
        parser
            .pattern(format)
            .fields()
            .iter()
            .any(|f| f.name == name)
            || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
    });
    let names_reason = ["line has ", "line ends after ", "line is not "]
        .iter()
        .any(|p| message.starts_with(p));
    assert!(
        names_field || names_reason,
        "message names no field: {message}"
    );
}

/// `documents.md`: a failure's `@timestamp` is its line's own time (first, second or third
/// token), else the object's delivery time, else the time of ingestion (fixed here).
fn failure_time(line: &str, info: &ObjectInfo) -> String {
    line.split(' ')
        .take(3)
        .find_map(|t| timestamp::parse(t).map(|t| t.rfc3339.into_owned()))
        .or_else(|| info.delivery_time.clone())
        .unwrap_or_else(|| FALLBACK_TIME.to_string())
}

fn check_plan_against_regex(format: LogFormat, line: &str) {
    let pattern = parser(false).pattern(format);
    let (mut fast, mut reference) = (pattern.new_captures(), pattern.new_captures());
    let fast_ok = pattern.match_line(line.as_bytes(), &mut fast).is_ok();
    let reference_ok = pattern.match_regex(line.as_bytes(), &mut reference);
    assert_eq!(
        fast_ok, reference_ok,
        "plan and regex disagree on whether the line matches"
    );
    if fast_ok {
        for (slot, field) in pattern.fields().iter().enumerate() {
            assert_eq!(
                fast.span(slot),
                reference.span(slot),
                "plan and regex disagree on {}",
                field.name
            );
        }
    }
}
