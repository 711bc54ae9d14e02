//! Valid Lambda events of every shape the ingest function reads, built on the fixtures in
//! `tests/fixtures/events/` (written after AWS's examples), with random buckets and keys, and
//! what decoding each must give.

use std::sync::OnceLock;

use albingest::event::ObjectRef;
use fastrand::Rng;
use serde_json::{json, Value};

use crate::gen_lines::{hex, pick};

/// A generated event and what it decodes to.
pub struct GeneratedEvent {
    pub value: Value,
    pub expected: Expected,
    pub shape: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Objects(ExpectedObjects),
    /// Message id, and the message's objects (`None`: the message cannot be read and fails).
    Sqs(Vec<(String, Option<ExpectedObjects>)>),
}

/// The objects of an event, how many records it skips, and whether it is a test event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpectedObjects {
    pub objects: Vec<ObjectRef>,
    pub skipped: usize,
    pub test_event: bool,
}

impl ExpectedObjects {
    fn add(&mut self, other: ExpectedObjects) {
        self.objects.extend(other.objects);
        self.skipped += other.skipped;
        self.test_event |= other.test_event;
    }
}

/// The fixtures events are built on, parsed once.
struct Templates {
    s3_record: Value,
    sns_record: Value,
    sqs_record: Value,
    /// An SNS notification as an SQS body carries it.
    sns_envelope: Value,
    eventbridge: Value,
    test_event: Value,
}

fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let parse = |text: &str| serde_json::from_str::<Value>(text).expect("fixture is JSON");
        let first_record = |text: &str| parse(text)["Records"][0].clone();
        let sqs_sns = first_record(include_str!("../fixtures/events/sqs-sns-s3.json"));
        Templates {
            s3_record: first_record(include_str!("../fixtures/events/s3-object-created.json")),
            sns_record: first_record(include_str!("../fixtures/events/sns-s3.json")),
            sqs_record: first_record(include_str!("../fixtures/events/sqs-s3-batch.json")),
            sns_envelope: parse(sqs_sns["body"].as_str().expect("SQS body")),
            eventbridge: parse(include_str!(
                "../fixtures/events/eventbridge-object-created.json"
            )),
            test_event: parse(include_str!("../fixtures/events/s3-test-event.json")),
        }
    })
}

pub fn event(rng: &mut Rng) -> GeneratedEvent {
    let (shape, value, expected) = match rng.u8(..8) {
        0 | 1 => {
            let (value, expected) = s3_notification(rng);
            ("S3", value, Expected::Objects(expected))
        }
        2 => {
            let (value, expected) = sns(rng);
            ("SNS", value, Expected::Objects(expected))
        }
        3 => {
            let (value, expected) = eventbridge(rng);
            ("EventBridge", value, Expected::Objects(expected))
        }
        4 => {
            let (value, expected) = test_event(rng);
            ("s3:TestEvent", value, Expected::Objects(expected))
        }
        _ => {
            let (value, expected) = sqs(rng);
            ("SQS", value, Expected::Sqs(expected))
        }
    };
    GeneratedEvent {
        value,
        expected,
        shape,
    }
}

/// An S3 notification of one to three records, some of them not `ObjectCreated`.
fn s3_notification(rng: &mut Rng) -> (Value, ExpectedObjects) {
    let mut expected = ExpectedObjects::default();
    let records: Vec<Value> = (0..rng.usize(1..=3))
        .map(|_| {
            let (record, object) = s3_record(rng);
            match object {
                Some(object) => expected.objects.push(object),
                None => expected.skipped += 1,
            }
            record
        })
        .collect();
    (json!({ "Records": records }), expected)
}

fn s3_record(rng: &mut Rng) -> (Value, Option<ObjectRef>) {
    let mut record = templates().s3_record.clone();
    let created = rng.u8(..5) != 0;
    let name = if created {
        pick(
            rng,
            &[
                "ObjectCreated:Put",
                "ObjectCreated:Post",
                "ObjectCreated:Copy",
                "ObjectCreated:CompleteMultipartUpload",
            ],
        )
    } else {
        pick(
            rng,
            &[
                "ObjectRemoved:Delete",
                "ObjectRestore:Completed",
                "LifecycleExpiration:Delete",
            ],
        )
    };
    let bucket = bucket_name(rng);
    let key = object_key(rng);
    let size = (rng.u8(..4) != 0).then(|| rng.i64(0..1 << 40));
    record["eventName"] = json!(name);
    record["s3"]["bucket"]["name"] = json!(bucket);
    record["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
    record["s3"]["object"]["key"] = json!(s3_encode(rng, &key));
    match size {
        Some(size) => record["s3"]["object"]["size"] = json!(size),
        None => {
            record["s3"]["object"]
                .as_object_mut()
                .expect("object")
                .remove("size");
        }
    }
    let object = created.then_some(ObjectRef { bucket, key, size });
    (record, object)
}

fn eventbridge(rng: &mut Rng) -> (Value, ExpectedObjects) {
    let mut value = templates().eventbridge.clone();
    let bucket = bucket_name(rng);
    // EventBridge keys are not URL-encoded.
    let key = object_key(rng);
    let size = rng.i64(0..1 << 40);
    value["detail"]["bucket"]["name"] = json!(bucket);
    value["detail"]["object"]["key"] = json!(key);
    value["detail"]["object"]["size"] = json!(size);
    value["id"] = json!(uuid(rng));
    if rng.u8(..5) == 0 {
        value["detail-type"] = json!(pick(rng, &["Object Deleted", "Object Restore Completed"]));
        return (
            value,
            ExpectedObjects {
                skipped: 1,
                ..ExpectedObjects::default()
            },
        );
    }
    let expected = ExpectedObjects {
        objects: vec![ObjectRef {
            bucket,
            key,
            size: Some(size),
        }],
        ..ExpectedObjects::default()
    };
    (value, expected)
}

fn test_event(rng: &mut Rng) -> (Value, ExpectedObjects) {
    let mut value = templates().test_event.clone();
    value["Bucket"] = json!(bucket_name(rng));
    let expected = ExpectedObjects {
        test_event: true,
        ..ExpectedObjects::default()
    };
    (value, expected)
}

/// What an SNS message or an SQS body carries: an S3 notification, an EventBridge event or a
/// test event.
fn message(rng: &mut Rng) -> (Value, ExpectedObjects) {
    match rng.u8(..6) {
        0 => eventbridge(rng),
        1 => test_event(rng),
        _ => s3_notification(rng),
    }
}

fn sns(rng: &mut Rng) -> (Value, ExpectedObjects) {
    let mut expected = ExpectedObjects::default();
    let records: Vec<Value> = (0..rng.usize(1..=2))
        .map(|_| {
            let mut record = templates().sns_record.clone();
            let (message, objects) = message(rng);
            record["Sns"]["Message"] = json!(message.to_string());
            record["Sns"]["MessageId"] = json!(uuid(rng));
            expected.add(objects);
            record
        })
        .collect();
    (json!({ "Records": records }), expected)
}

/// An SQS batch: S3 notifications, SNS envelopes (raw delivery off), EventBridge events, test
/// events, and bodies that are no event (those messages fail on their own).
fn sqs(rng: &mut Rng) -> (Value, Vec<(String, Option<ExpectedObjects>)>) {
    let mut expected = Vec::new();
    let records: Vec<Value> = (0..rng.usize(1..=5))
        .map(|_| {
            let mut record = templates().sqs_record.clone();
            let id = uuid(rng);
            let (body, objects) = match rng.u8(..8) {
                0 => (
                    pick(
                        rng,
                        &["this is not an event", "", "{", "[1,2]", "{\"a\":1}"],
                    )
                    .to_string(),
                    None,
                ),
                1 | 2 => {
                    let mut envelope = templates().sns_envelope.clone();
                    let (message, objects) = message(rng);
                    envelope["Message"] = json!(message.to_string());
                    (envelope.to_string(), Some(objects))
                }
                _ => {
                    let (message, objects) = message(rng);
                    (message.to_string(), Some(objects))
                }
            };
            record["messageId"] = json!(id);
            record["body"] = json!(body);
            expected.push((id, objects));
            record
        })
        .collect();
    (json!({ "Records": records }), expected)
}

fn bucket_name(rng: &mut Rng) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789.-";
    let len = rng.usize(3..=63);
    let mut name: String = (0..len)
        .map(|_| CHARS[rng.usize(..CHARS.len())] as char)
        .collect();
    name.replace_range(0..1, "b");
    name
}

/// A log object's key, sometimes with the characters users put in prefixes.
fn object_key(rng: &mut Rng) -> String {
    const ODD: &[&str] = &[
        " ", "+", "%", "=", "é", "日本", "🚀", "&", "?", "#", "~", "(", ")", "*", "'", "!", ",",
        ";", ":", "@", "$", "%20", "%2B", "\\", "\"", "\t",
    ];
    let prefix: String = (0..rng.usize(..4))
        .map(|_| match rng.u8(..3) {
            0 => pick(rng, ODD).to_string(),
            _ => {
                let len = rng.usize(1..6);
                hex(rng, len)
            }
        })
        .collect();
    let slash = if prefix.is_empty() { "" } else { "/" };
    format!(
        "{prefix}{slash}AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/24/\
         123456789012_elasticloadbalancing_us-east-1_app.my-lb.{}_20261124T1005Z_10.0.1.17_{}.log.gz",
        hex(rng, 16),
        hex(rng, 8)
    )
}

/// URL-encodes a key as S3 notifications do (`+` for a space); safe characters are sometimes
/// encoded too, in either case of hex digit.
pub fn s3_encode(rng: &mut Rng, key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        let safe = c.is_ascii_alphanumeric() || "-_./*".contains(c);
        if c == ' ' && rng.u8(..4) != 0 {
            out.push('+');
        } else if safe && rng.u8(..10) != 0 {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                if rng.bool() {
                    out += &format!("%{b:02X}");
                } else {
                    out += &format!("%{b:02x}");
                }
            }
        }
    }
    out
}

fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}
