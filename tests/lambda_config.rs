//! The ingest function's configuration file, `ALBINGEST_CONFIG`: the TOML inline, or an
//! `s3://bucket/key` read at cold start (moto), with the rules acting on what the function
//! writes into both stand-in search servers, and an invalid file failing the cold start with
//! its origin, key and reason.

mod support;

use albingest::lambda::{CleanupConfig, CleanupFunction, IngestConfig, IngestFunction};
use opensearch::http::Method;
use serde_json::json;
use support::lambda::*;
use support::*;

fn config_toml(prefix: &str) -> String {
    format!(
        r#"
[labels]
env = "lambda"
[[routing]]
account = "123456789012"
index_prefix = "{prefix}-acct"
[[drop]]
path_prefix = "/data/"
status = "2xx"
sample = 3
[privacy]
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ingest_function_reads_its_configuration_inline_and_from_s3() {
    let (Some(servers), Some(s3_url)) = (search_servers("lambda-config"), s3_url("lambda-config"))
    else {
        return;
    };
    set_aws_env(&s3_url);
    let s3 = s3_client(&s3_url);
    let bucket = unique("lambda-config");
    create_bucket(&s3, &bucket).await;
    let key = alb_key("config");
    put(&s3, &bucket, &key, gzip(alb_lines(60, 60).as_bytes())).await;

    for server in servers {
        for from_s3 in [false, true] {
            let prefix = unique("lambda-config");
            let value = if from_s3 {
                let config_key = format!("config/{prefix}.toml");
                put(&s3, &bucket, &config_key, config_toml(&prefix).into_bytes()).await;
                format!("s3://{bucket}/{config_key}")
            } else {
                config_toml(&prefix)
            };
            let config = IngestConfig::from_env(&config_env(&[
                ("ALBINGEST_ENDPOINT", server.url.clone()),
                ("ALBINGEST_INDEX_PREFIXES", format!("{prefix}-base")),
                ("ALBINGEST_DEAD_LETTER", format!("s3://{bucket}/dlq/")),
                ("ALBINGEST_CONFIG", value),
            ]))
            .unwrap();
            let function = IngestFunction::new(config).await.unwrap();
            let answer = function
                .handle(s3_event(&bucket, &key), in_five_minutes())
                .await
                .unwrap();
            let object = &answer["objects"][0];
            let n = |field: &str| object[field].as_u64().unwrap_or_else(|| panic!("{answer}"));
            assert_eq!(n("lines"), 60, "{answer}");
            assert_eq!(
                n("indexed") + n("already_present") + n("dropped") + n("dead_lettered"),
                60,
                "{}: {answer}",
                server.name
            );
            // 1 in 3 kept (about 20 of 60): far from none and far from all (the id hash
            // decides, and the ids hold the bucket's random name). The bound is on the lines
            // kept, as the comment meant: on the dropped ones it sat at their mean (40).
            let kept = 60 - n("dropped");
            assert!((8..=40).contains(&kept), "{answer}");

            let client = search_client(&server.url).await;
            assert_eq!(
                count(&client, &format!("{prefix}-acct")).await,
                n("indexed"),
                "{}: routed by account",
                server.name
            );
            let found = get_json(
                &client,
                Method::Post,
                &format!("/{prefix}-acct-*/_search"),
                Some(json!({"size": 1, "query": {"term": {"labels.env": "lambda"}}})),
            )
            .await;
            let doc = &found["hits"]["hits"][0]["_source"];
            assert_eq!(doc["source"]["ip"], "78.190.26.0", "{found}");

            // The cleanup function given the same file judges the routed prefix's indices
            // (a long retention: judged and kept, whatever today is).
            let value = if from_s3 {
                format!("s3://{bucket}/config/{prefix}.toml")
            } else {
                config_toml(&prefix)
            };
            let cleanup = CleanupFunction::new(
                CleanupConfig::from_env(&config_env(&[
                    ("ALBINGEST_ENDPOINT", server.url.clone()),
                    ("RETENTION_DAYS", "3650".into()),
                    ("DRY_RUN", "true".into()),
                    ("ALBINGEST_CONFIG", value),
                ]))
                .unwrap(),
            )
            .await
            .unwrap();
            let report = cleanup.handle(json!({})).await.unwrap();
            let judged: Vec<&str> = report["verdicts"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v["index"].as_str())
                .collect();
            assert!(
                judged.contains(&format!("{prefix}-acct-2026.11.01").as_str()),
                "{}: {report}",
                server.name
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_configuration_fails_the_cold_start_naming_key_and_reason() {
    let config = IngestConfig::from_env(&config_env(&[
        ("ALBINGEST_ENDPOINT", "http://127.0.0.1:9".into()),
        ("ALBINGEST_DEAD_LETTER", "s3://b/dlq/".into()),
        ("ALBINGEST_SETUP", "false".into()),
        ("ALBINGEST_CONFIG", "[privacy]\nipv6_prefix = 129\n".into()),
    ]))
    .unwrap();
    let Err(error) = IngestFunction::new(config).await else {
        panic!("an invalid configuration started");
    };
    let message = error.to_string();
    assert!(message.contains("ALBINGEST_CONFIG"), "{message}");
    assert!(message.contains("privacy.ipv6_prefix"), "{message}");
    assert!(message.contains("128"), "{message}");
}
