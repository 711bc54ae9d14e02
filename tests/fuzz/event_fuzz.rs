//! Lambda events through the decoder the ingest function uses (`albingest::event::decode`):
//! generated S3, SNS, SQS (with S3, SNS and EventBridge bodies), EventBridge and test events,
//! then broken: keys dropped, values of the wrong type, huge strings, nested junk, odd or invalid
//! percent-encoding and `+` in keys, bytes that are not UTF-8 once decoded, empty record lists,
//! the payload's text cut or overwritten with random bytes.
//!
//! Checked: no panic; a decoded object always has a bucket and a key; an error says what
//! arrived, briefly; an event that was not broken decodes to exactly the objects (bucket, key,
//! size), skipped records, test-event flag and SQS message outcomes it was generated with.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt::Write as _;

use albingest::event::{decode, url_decode_key, Delivery, EventError, Objects};
use fastrand::Rng;
use serde_json::{json, Value};

use crate::campaign::{excerpt, Campaign};
use crate::gen_events::{self, s3_encode, Expected, ExpectedObjects, GeneratedEvent};
use crate::gen_lines::{hex, pick};

/// Events of the fast configuration (about 10 s in a debug build on an idle core).
const FAST_EVENTS: u64 = 30_000;
/// Longest error message accepted: it goes to the log and the Lambda error response.
const MAX_ERROR: usize = 1024;

#[test]
fn events_through_the_decoder() {
    let campaign = Campaign::from_env("events_through_the_decoder", "events", FAST_EVENTS);
    let tally = RefCell::new(Tally::default());
    campaign.run(generate, describe, |case| {
        check(case, &mut tally.borrow_mut());
        1
    });
    let tally = tally.into_inner();
    eprintln!("events_through_the_decoder: {tally:?}");
    if tally.events >= FAST_EVENTS {
        assert!(tally.unmutated > tally.events / 5, "{tally:?}");
        assert!(tally.errors > tally.events / 20, "{tally:?}");
        assert!(tally.mutated_decoded > 0 && tally.not_json > 0, "{tally:?}");
    }
}

#[derive(Debug, Default)]
struct Tally {
    events: u64,
    unmutated: u64,
    /// Broken events that still decoded (to objects or SQS items).
    mutated_decoded: u64,
    errors: u64,
    /// Payloads the Lambda runtime would refuse before the handler: not JSON.
    not_json: u64,
}

struct Case {
    event: GeneratedEvent,
    payload: Payload,
    mutations: Vec<String>,
    /// A key, and its S3 encoding that decoding must turn back into it.
    key_probe: (String, String),
}

enum Payload {
    Json(Value),
    /// The event's text, broken: it may no longer be JSON.
    Bytes(Vec<u8>),
}

fn generate(rng: &mut Rng) -> Case {
    let event = gen_events::event(rng);
    let mut mutations = Vec::new();
    let payload = match rng.u8(..10) {
        0..=2 => Payload::Json(event.value.clone()),
        3..=7 => {
            let mut value = event.value.clone();
            for _ in 0..rng.usize(1..=3) {
                mutations.push(mutate_value(rng, &mut value, 0));
            }
            Payload::Json(value)
        }
        _ => {
            let mut bytes = serde_json::to_vec(&event.value).expect("JSON");
            mutations.push(mutate_bytes(rng, &mut bytes));
            Payload::Bytes(bytes)
        }
    };
    const KEY_PIECES: &[&str] = &["a", " ", "+", "%", "%41", "é", "🚀", "/", "\u{0}", "\\"];
    let mut key: String = (0..rng.usize(..12))
        .map(|_| pick(rng, KEY_PIECES))
        .collect();
    let mut encoded = s3_encode(rng, &key);
    if rng.bool() {
        // Bytes that are not UTF-8 once decoded: each bad sequence becomes U+FFFD.
        let (bad, decoded) = [
            ("%FF", "\u{FFFD}"),
            ("%C3", "\u{FFFD}"),
            ("%C3%28", "\u{FFFD}("),
            ("%E2%9C", "\u{FFFD}"),
            ("%ED%A0%80", "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ][rng.usize(..5)];
        encoded.push_str(bad);
        key.push_str(decoded);
    }
    Case {
        event,
        payload,
        mutations,
        key_probe: (key, encoded),
    }
}

fn describe(case: &Case) -> String {
    let payload = match &case.payload {
        Payload::Json(value) => serde_json::to_vec(value).expect("JSON"),
        Payload::Bytes(bytes) => bytes.clone(),
    };
    format!(
        "{} event, mutations {:?}\npayload: {}\nexpected: {:?}\nkey probe: {:?}",
        case.event.shape,
        case.mutations,
        excerpt(&payload, 3000),
        case.event.expected,
        case.key_probe
    )
}

fn check(case: &Case, tally: &mut Tally) {
    tally.events += 1;
    let (key, encoded) = &case.key_probe;
    assert_eq!(
        &url_decode_key(encoded),
        key,
        "a key S3 encoded decodes back"
    );

    let value = match &case.payload {
        Payload::Json(value) => Cow::Borrowed(value),
        Payload::Bytes(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => Cow::Owned(value),
            Err(_) => {
                tally.not_json += 1;
                return;
            }
        },
    };
    let result = decode(&value);
    match &result {
        Ok(Delivery::Objects(objects)) => check_objects(objects),
        Ok(Delivery::Sqs(items)) => {
            for item in items {
                match &item.content {
                    Ok(objects) => check_objects(objects),
                    Err(error) => check_error(error),
                }
            }
        }
        Err(error) => check_error(error),
    }
    tally.errors += u64::from(result.is_err());
    if !case.mutations.is_empty() {
        tally.mutated_decoded += u64::from(result.is_ok());
        return;
    }
    tally.unmutated += 1;
    let delivery = result.unwrap_or_else(|e| panic!("a valid event did not decode: {e}"));
    assert_eq!(
        outcome(&delivery),
        case.event.expected,
        "decoded objects, skipped records, test flag and SQS messages"
    );
}

/// What a decoded event says, in the form generated events are described in.
fn outcome(delivery: &Delivery) -> Expected {
    let summary = |o: &Objects| ExpectedObjects {
        objects: o.objects.clone(),
        skipped: o.skipped.len(),
        test_event: o.test_event,
    };
    match delivery {
        Delivery::Objects(objects) => Expected::Objects(summary(objects)),
        Delivery::Sqs(items) => Expected::Sqs(
            items
                .iter()
                .map(|i| (i.message_id.clone(), i.content.as_ref().ok().map(summary)))
                .collect(),
        ),
    }
}

fn check_objects(objects: &Objects) {
    for object in &objects.objects {
        assert!(
            !object.bucket.is_empty() && !object.key.is_empty(),
            "an object without bucket or key: {object:?}"
        );
    }
    for skipped in &objects.skipped {
        assert!(!skipped.is_empty(), "a skipped record says why");
        assert!(
            skipped.len() <= MAX_ERROR,
            "skip reason of {} bytes",
            skipped.len()
        );
    }
}

/// An error says what arrived (the event kind, the record source, the keys or the body) and stays
/// short whatever arrived.
fn check_error(error: &EventError) {
    let text = error.to_string();
    assert!(
        text.len() <= MAX_ERROR,
        "error message of {} bytes: {}",
        text.len(),
        excerpt(text.as_bytes(), 300)
    );
    match error {
        EventError::Malformed { kind, message } => {
            assert!(["S3", "SNS", "SQS", "EventBridge"].contains(kind), "{text}");
            assert!(!message.is_empty(), "{text}");
        }
        EventError::Unsupported(message) => {
            let says_what = ["records from", "keys", "not JSON", "expected an S3"]
                .iter()
                .any(|s| message.contains(s));
            assert!(says_what, "{text}");
        }
    }
}

/// One step down a JSON value.
#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every node of `value` (the root is the empty path).
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(Step::Key(k.clone()));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(Step::Index(i));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

fn show(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(k) => write!(text, "/{k}"),
            Step::Index(i) => write!(text, "/{i}"),
        }
        .expect("write to a String");
    }
    if text.is_empty() {
        text.push('/');
    }
    text
}

/// Breaks one node of `value`; strings that hold JSON (SQS bodies, SNS messages) are broken
/// inside. Returns what it did, for the failure report.
fn mutate_value(rng: &mut Rng, value: &mut Value, depth: usize) -> String {
    let mut all = Vec::new();
    paths(value, &mut Vec::new(), &mut all);
    let path = all[rng.usize(..all.len())].clone();
    let at = show(&path);
    let target = node(value, &path);
    match rng.u8(..10) {
        0 | 1 if !path.is_empty() => {
            let (last, parent_path) = path.split_last().expect("not the root");
            match (node(value, parent_path), last) {
                (Value::Object(map), Step::Key(k)) => {
                    map.remove(k);
                }
                (Value::Array(items), Step::Index(i)) => {
                    items.remove(*i);
                }
                _ => unreachable!("a path steps into objects and arrays"),
            }
            format!("removed {at}")
        }
        2 | 3 => {
            *target = junk(rng, 0);
            format!("wrong type at {at}")
        }
        4..=7 if target.is_string() => {
            let text = target.as_str().expect("string").to_string();
            let inner = serde_json::from_str::<Value>(&text)
                .ok()
                .filter(|_| depth < 2);
            match inner {
                Some(mut inner) if rng.bool() => {
                    let what = mutate_value(rng, &mut inner, depth + 1);
                    *target = json!(inner.to_string());
                    format!("inside the JSON string at {at}: {what}")
                }
                _ => {
                    let what = mutate_string(rng, &text);
                    *target = json!(what.1);
                    format!("{} at {at}", what.0)
                }
            }
        }
        8 => match target {
            Value::Array(items) if rng.bool() => {
                items.clear();
                format!("emptied {at}")
            }
            Value::Array(items) if !items.is_empty() => {
                let first = items[0].clone();
                items.push(first);
                format!("duplicated the first item of {at}")
            }
            _ => {
                *target = json!({ "Records": [] });
                format!("no records at {at}")
            }
        },
        _ => {
            *target = json!("x".repeat(rng.usize(2_000..70_000)));
            format!("huge string at {at}")
        }
    }
}

/// A broken string: odd percent-encoding or `+`, bytes that are not UTF-8 once decoded, empty,
/// huge, control characters.
fn mutate_string(rng: &mut Rng, text: &str) -> (&'static str, String) {
    let mut at = rng.usize(..=text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let (before, after) = text.split_at(at);
    match rng.u8(..6) {
        0 | 1 => {
            let odd = pick(
                rng,
                &[
                    "%",
                    "%4",
                    "%zz",
                    "%FF",
                    "%ff%FE",
                    "%C3",
                    "%C3%28",
                    "%00",
                    "+",
                    "%2B",
                    "%25",
                    "%%",
                    "%E2%9C",
                    "%ED%A0%80",
                    "%F4%90%80%80",
                ],
            );
            ("odd percent-encoding", format!("{before}{odd}{after}"))
        }
        2 => ("emptied", String::new()),
        3 => ("cut", before.to_string()),
        4 => (
            "control characters",
            format!("{before}\u{0}\r\n\t\u{1b}\u{7f}\u{fffd}{after}"),
        ),
        _ => {
            let huge = "%41+".repeat(rng.usize(500..15_000));
            ("huge", format!("{before}{huge}{after}"))
        }
    }
}

/// A value of any type, sometimes nested.
fn junk(rng: &mut Rng, depth: usize) -> Value {
    match rng.u8(..10) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(pick(rng, &["-1", "0", "1e308", "18446744073709551615"])
            .parse::<f64>()
            .expect("number")),
        3 => json!(rng.i64(..)),
        4 => json!(hex(rng, 8)),
        5 => json!(""),
        6 if depth < 40 => json!([junk(rng, depth + 1)]),
        7 if depth < 40 => json!({ "Records": junk(rng, depth + 1) }),
        8 => {
            json!({ "eventSource": pick(rng, &["aws:s3", "aws:sqs", "aws:sns", "aws:kinesis", ""]) })
        }
        _ => json!([]),
    }
}

/// Breaks the payload's text: cut, overwritten, random bytes, bytes that are not UTF-8.
fn mutate_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) -> String {
    let at = rng.usize(..=bytes.len());
    match rng.u8(..5) {
        0 => {
            bytes.truncate(at);
            format!("cut at byte {at}")
        }
        1 => {
            let n = rng.usize(1..20);
            let junk: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
            bytes.splice(at..at, junk);
            format!("{n} random bytes at {at}")
        }
        2 => {
            for _ in 0..rng.usize(1..8) {
                let i = rng.usize(..bytes.len());
                bytes[i] = rng.u8(..);
            }
            "bytes overwritten".into()
        }
        3 => {
            *bytes = (0..rng.usize(..200)).map(|_| rng.u8(..)).collect();
            "random bytes".into()
        }
        _ => {
            let odd = pick(rng, &["\\ud800", "\\u0000", "\u{0}", "\\x22", "\\"]);
            bytes.splice(at..at, odd.bytes());
            format!("{odd:?} at {at}")
        }
    }
}
