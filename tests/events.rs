//! Every event shape the ingest function accepts, from fixtures written after the AWS
//! documentation's examples (`tests/fixtures/events/`).

use albingest::event::{decode, Delivery, EventError, ObjectRef};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON")
}

fn objects(delivery: Delivery) -> albingest::event::Objects {
    match delivery {
        Delivery::Objects(o) => o,
        Delivery::Sqs(_) => panic!("expected a direct delivery"),
    }
}

const KEY1: &str = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/24/123456789012_elasticloadbalancing_us-east-1_app.my-lb.50dc6c495c0c9188_20261124T1005Z_10.0.1.17_2kq8d0zn.log.gz";

#[test]
fn s3_notification_with_two_records_and_encoded_keys() {
    let o = objects(decode(&fixture("s3-object-created.json")).unwrap());
    assert_eq!(o.objects.len(), 2);
    assert_eq!(
        o.objects[0],
        ObjectRef {
            bucket: "alb-logs-bucket".into(),
            key: KEY1.into(),
            size: Some(11739)
        }
    );
    assert!(
        o.objects[1].key.starts_with("logs prefix/AWSLogs/"),
        "{}",
        o.objects[1].key
    );
    assert!(
        o.objects[1].key.ends_with("_7hw2mc1b=x.log.gz"),
        "{}",
        o.objects[1].key
    );
    assert!(!o.test_event);
}

#[test]
fn removals_are_skipped_with_a_reason() {
    let o = objects(decode(&fixture("s3-object-removed.json")).unwrap());
    assert!(o.objects.is_empty());
    assert!(
        o.skipped[0].contains("ObjectRemoved:Delete"),
        "{:?}",
        o.skipped
    );
}

#[test]
fn test_event_is_acknowledged() {
    let o = objects(decode(&fixture("s3-test-event.json")).unwrap());
    assert!(o.test_event && o.objects.is_empty());
}

#[test]
fn sqs_batch_reports_each_message() {
    let Delivery::Sqs(items) = decode(&fixture("sqs-s3-batch.json")).unwrap() else {
        panic!("expected SQS");
    };
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].message_id, "059f36b4-87a3-44ab-83d2-661975830a7d");
    assert_eq!(items[0].content.as_ref().unwrap().objects[0].key, KEY1);
    let err = items[1].content.as_ref().unwrap_err();
    assert!(
        matches!(err, EventError::Unsupported(m) if m.contains("not JSON")),
        "{err}"
    );
    assert!(items[2].content.as_ref().unwrap().test_event);
}

#[test]
fn sns_and_sqs_wrapped_sns() {
    let o = objects(decode(&fixture("sns-s3.json")).unwrap());
    assert_eq!(o.objects[0].key, KEY1);
    let Delivery::Sqs(items) = decode(&fixture("sqs-sns-s3.json")).unwrap() else {
        panic!("expected SQS");
    };
    let inner = items[0].content.as_ref().unwrap();
    assert!(inner.objects[0].key.starts_with("logs prefix/"));
}

#[test]
fn eventbridge_keys_are_not_decoded() {
    let o = objects(decode(&fixture("eventbridge-object-created.json")).unwrap());
    assert_eq!(
        o.objects[0].key,
        "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/24/a b=c.log.gz"
    );
    assert_eq!(o.objects[0].size, Some(11739));
    let Delivery::Sqs(items) = decode(&fixture("sqs-eventbridge.json")).unwrap() else {
        panic!("expected SQS");
    };
    assert_eq!(
        items[0].content.as_ref().unwrap().objects[0].bucket,
        "alb-logs-bucket"
    );
}

#[test]
fn other_eventbridge_events_are_skipped() {
    let o = objects(decode(&fixture("eventbridge-scheduled.json")).unwrap());
    assert!(o.objects.is_empty());
    assert!(o.skipped[0].contains("Scheduled Event"), "{:?}", o.skipped);
}

#[test]
fn a_truncated_s3_record_is_malformed_not_a_panic() {
    let err =
        decode(&serde_json::json!({"Records": [{"eventSource": "aws:s3", "s3": {}}]})).unwrap_err();
    assert!(
        matches!(err, EventError::Malformed { kind: "S3", .. }),
        "{err}"
    );
}
