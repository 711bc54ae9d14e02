//! The events that start an ingest: which S3 objects to read, decoded with `aws_lambda_events`.
//!
//! Accepted: an S3 notification (`ObjectCreated:*`, several records), the same delivered through
//! SQS (reported per message, so only failed messages come back), through SNS, through
//! SQS-wrapped SNS, an EventBridge "Object Created" event (also inside SQS), and `s3:TestEvent`
//! (acknowledged). Keys in S3 notifications are URL-encoded (`+` for a space, `%xx`); EventBridge
//! keys are not.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::Value;

/// An S3 object an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// The key as S3 knows it (decoded).
    pub key: String,
    pub size: Option<i64>,
}

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// S3, SNS or EventBridge: the invocation fails if any object fails.
    Objects(Objects),
    /// An SQS batch: each message succeeds or fails on its own.
    Sqs(Vec<SqsItem>),
}

/// The objects of an event, and the records it skipped (with why, for the log).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Objects {
    pub objects: Vec<ObjectRef>,
    pub skipped: Vec<String>,
    /// The event was (or held only) `s3:TestEvent`.
    pub test_event: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SqsItem {
    pub message_id: String,
    /// The message's objects, or why its body could not be read (that message fails).
    pub content: Result<Objects, EventError>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("unsupported event: {0}")]
    Unsupported(String),
    #[error("malformed {kind} event: {message}")]
    Malformed { kind: &'static str, message: String },
}

/// Decodes an invocation's payload.
pub fn decode(event: &Value) -> Result<Delivery, EventError> {
    if let Some(source) = first_record_source(event) {
        return match source.as_str() {
            "aws:sqs" => decode_sqs(event),
            "aws:sns" => decode_sns(event).map(Delivery::Objects),
            "aws:s3" => decode_s3(event).map(Delivery::Objects),
            other => Err(unsupported(format!(
                "records from {other:?} (expected aws:s3, aws:sqs or aws:sns)"
            ))),
        };
    }
    decode_message(event).map(Delivery::Objects)
}

/// A message body: an S3 notification, an SNS envelope, an EventBridge event or a test event.
fn decode_message(value: &Value) -> Result<Objects, EventError> {
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Objects {
            test_event: true,
            ..Objects::default()
        });
    }
    if value.get("detail-type").is_some() {
        return decode_eventbridge(value);
    }
    // An SNS notification as SQS receives it (raw message delivery off).
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        let message = value
            .get("Message")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("SNS", "notification without a Message"))?;
        return decode_body(message);
    }
    if let Some(source) = first_record_source(value) {
        return match source.as_str() {
            "aws:s3" => decode_s3(value),
            "aws:sns" => decode_sns(value),
            other => Err(unsupported(format!("records from {other:?}"))),
        };
    }
    Err(unsupported(describe(value)))
}

fn decode_body(body: &str) -> Result<Objects, EventError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| unsupported(format!("message body is not JSON ({e}): {}", excerpt(body))))?;
    decode_message(&value)
}

fn decode_s3(value: &Value) -> Result<Objects, EventError> {
    let event: S3Event =
        serde_json::from_value(value.clone()).map_err(|e| malformed("S3", &e.to_string()))?;
    let mut objects = Objects::default();
    for record in event.records {
        let name = record.event_name.unwrap_or_default();
        let bucket = record.s3.bucket.name.unwrap_or_default();
        let key = record.s3.object.key.unwrap_or_default();
        if !name.starts_with("ObjectCreated:") {
            objects.skipped.push(shorten(format!(
                "{name} s3://{bucket}/{key}: not an ObjectCreated event"
            )));
            continue;
        }
        if bucket.is_empty() || key.is_empty() {
            return Err(malformed("S3", "record without bucket name or object key"));
        }
        objects.objects.push(ObjectRef {
            bucket,
            key: url_decode_key(&key),
            size: record.s3.object.size,
        });
    }
    Ok(objects)
}

fn decode_sns(value: &Value) -> Result<Objects, EventError> {
    let event: SnsEvent =
        serde_json::from_value(value.clone()).map_err(|e| malformed("SNS", &e.to_string()))?;
    let mut all = Objects::default();
    for record in event.records {
        let inner = decode_body(&record.sns.message)?;
        all.objects.extend(inner.objects);
        all.skipped.extend(inner.skipped);
        all.test_event |= inner.test_event;
    }
    Ok(all)
}

fn decode_sqs(value: &Value) -> Result<Delivery, EventError> {
    let records = value
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("SQS", "no list of Records"))?;
    // Message by message: a malformed one fails alone (it comes back in `batchItemFailures`),
    // the others are still read. Only a message without an id, which cannot be reported alone,
    // fails the batch.
    let items = records
        .iter()
        .map(
            |record| match serde_json::from_value::<SqsMessage>(record.clone()) {
                Ok(message) => Ok(SqsItem {
                    message_id: message.message_id.unwrap_or_default(),
                    content: match &message.body {
                        Some(body) => decode_body(body),
                        None => Err(malformed("SQS", "message without a body")),
                    },
                }),
                Err(e) => match record.get("messageId").and_then(Value::as_str) {
                    Some(id) => Ok(SqsItem {
                        message_id: id.to_string(),
                        content: Err(malformed("SQS", &e.to_string())),
                    }),
                    None => Err(malformed("SQS", &e.to_string())),
                },
            },
        )
        .collect::<Result<_, _>>()?;
    Ok(Delivery::Sqs(items))
}

fn decode_eventbridge(value: &Value) -> Result<Objects, EventError> {
    let event: EventBridgeEvent<Value> = serde_json::from_value(value.clone())
        .map_err(|e| malformed("EventBridge", &e.to_string()))?;
    if event.source != "aws.s3" || event.detail_type != "Object Created" {
        return Ok(Objects {
            skipped: vec![shorten(format!(
                "EventBridge {:?} from {:?}: not an S3 Object Created event",
                event.detail_type, event.source
            ))],
            ..Objects::default()
        });
    }
    let field = |path: &[&str]| {
        path.iter()
            .try_fold(&event.detail, |v, k| v.get(*k))
            .cloned()
    };
    // Empty names are no names, as in S3 notifications.
    let name = |path: &[&str]| {
        field(path)
            .and_then(|v| v.as_str().map(str::to_string))
            .filter(|s| !s.is_empty())
    };
    let (bucket, key) = (name(&["bucket", "name"]), name(&["object", "key"]));
    let (Some(bucket), Some(key)) = (bucket, key) else {
        return Err(malformed(
            "EventBridge",
            "detail without bucket.name or object.key",
        ));
    };
    Ok(Objects {
        objects: vec![ObjectRef {
            bucket,
            key,
            size: field(&["object", "size"]).and_then(|v| v.as_i64()),
        }],
        ..Objects::default()
    })
}

fn first_record_source(value: &Value) -> Option<String> {
    let record = value.get("Records")?.as_array()?.first()?;
    record
        .get("eventSource")
        .or_else(|| record.get("EventSource"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn malformed(kind: &'static str, message: &str) -> EventError {
    EventError::Malformed {
        kind,
        message: shorten(message.to_string()),
    }
}

fn unsupported(message: String) -> EventError {
    EventError::Unsupported(shorten(message))
}

/// A message about what arrived, cut to a size fit for a log line and the Lambda error response
/// (serde quotes a wrong value whole, and a value can be megabytes).
fn shorten(message: String) -> String {
    const MAX: usize = 500;
    if message.len() <= MAX {
        return message;
    }
    format!("{}… ({} bytes)", prefix(&message, MAX), message.len())
}

/// What arrived, for an error message: the top-level keys, or the value's start.
fn describe(value: &Value) -> String {
    match value.as_object() {
        Some(map) if !map.is_empty() => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(10).collect();
            format!("an object with keys {keys:?} (expected an S3, SQS, SNS or EventBridge event)")
        }
        _ => format!(
            "{} (expected an S3, SQS, SNS or EventBridge event)",
            excerpt(&value.to_string())
        ),
    }
}

fn excerpt(text: &str) -> String {
    format!("{:?}", prefix(text, 200))
}

/// At most the first `max` bytes of `text`, cut at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Decodes an S3 notification key: `+` is a space, `%xx` a byte; a bad escape is kept as written.
pub fn url_decode_key(key: &str) -> String {
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(url_decode_key("a+b%3D%2Fc.log.gz"), "a b=/c.log.gz");
        assert_eq!(url_decode_key("100%25+sure"), "100% sure");
        assert_eq!(url_decode_key("bad%zzescape%"), "bad%zzescape%");
        assert_eq!(url_decode_key("%E2%9C%93"), "✓");
    }

    #[test]
    fn errors_and_skip_reasons_stay_short_whatever_arrived() {
        let huge = "x".repeat(100_000);
        let record = |name: &str, key: &str| {
            serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventTime": "2026-11-24T10:05:12.345Z",
                "eventName": name, "userIdentity": {}, "requestParameters": {},
                "s3": {"bucket": {"name": "b"}, "object": {"key": key}}}]})
        };
        let wrong_type = serde_json::json!({"Records": [{"eventSource": "aws:s3", "s3": huge}]});
        for error in [
            decode(&wrong_type).unwrap_err(),
            decode(&serde_json::json!({"Records": [{"eventSource": huge}]})).unwrap_err(),
        ] {
            let text = error.to_string();
            assert!(text.len() < 1000 && text.contains("100"), "{text}");
        }
        let Ok(Delivery::Objects(o)) = decode(&record("ObjectRemoved:Delete", &huge)) else {
            panic!("a removal decodes")
        };
        assert!(o.skipped[0].len() < 1000, "{}", o.skipped[0]);
    }

    #[test]
    fn eventbridge_without_a_bucket_name_or_key_is_malformed() {
        for (bucket, key) in [("", "k.log.gz"), ("b", "")] {
            let event = serde_json::json!({"version": "0", "id": "1", "detail-type": "Object Created",
                "source": "aws.s3", "account": "1", "time": "2026-11-24T10:05:12Z", "region": "us-east-1",
                "resources": [], "detail": {"bucket": {"name": bucket}, "object": {"key": key}}});
            let err = decode(&event).unwrap_err();
            assert!(
                matches!(
                    err,
                    EventError::Malformed {
                        kind: "EventBridge",
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn a_malformed_sqs_message_fails_alone() {
        let body = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventTime": "2026-11-24T10:05:12.345Z",
            "eventName": "ObjectCreated:Put", "userIdentity": {}, "requestParameters": {},
            "s3": {"bucket": {"name": "b"}, "object": {"key": "k.log.gz"}}}]})
        .to_string();
        let event = serde_json::json!({"Records": [
            {"messageId": "good", "eventSource": "aws:sqs", "body": body},
            {"messageId": "bad", "eventSource": "aws:sqs", "body": 42},
        ]});
        let Ok(Delivery::Sqs(items)) = decode(&event) else {
            panic!("an SQS batch decodes")
        };
        assert_eq!(items.len(), 2);
        let good = items[0].content.as_ref().expect("the good message decodes");
        assert_eq!(
            (items[0].message_id.as_str(), good.objects.len()),
            ("good", 1)
        );
        assert_eq!(items[1].message_id, "bad");
        assert!(matches!(
            items[1].content,
            Err(EventError::Malformed { kind: "SQS", .. })
        ));
        let no_id = serde_json::json!({"Records": [{"eventSource": "aws:sqs", "body": 42}]});
        assert!(decode(&no_id).is_err());
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err = decode(&serde_json::json!({"hello": "world"})).unwrap_err();
        assert!(err.to_string().contains("hello"), "{err}");
        let err = decode(&serde_json::json!([1, 2])).unwrap_err();
        assert!(err.to_string().contains("unsupported event"), "{err}");
        let err =
            decode(&serde_json::json!({"Records": [{"eventSource": "aws:kinesis"}]})).unwrap_err();
        assert!(err.to_string().contains("aws:kinesis"), "{err}");
    }
}
