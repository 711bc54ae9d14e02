//! Issue 17 item 5: the ingest function reads each bucket with the role that fits it
//! (`ALBINGEST_BUCKET_ROLES`), through moto's S3 and STS: one bucket with the default
//! credentials, one through an assumed role (with an external id), the session reused across
//! objects. A byte-for-byte pass-through in front of moto (below; the fault double rewrites the
//! headers, and moto routes S3 and STS by the signature's service) records every request, so
//! the test counts the AssumeRole calls and checks which credentials signed each GetObject.

mod support;

use std::sync::{Arc, Mutex};

use albingest::lambda::{IngestConfig, IngestFunction};
use opensearch::http::Method;
use serde_json::json;
use support::lambda::*;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const ROLE: &str = "arn:aws:iam::210987654321:role/albingest-log-reader";
const OTHER_ACCOUNT: &str = "210987654321";

/// One request as the pass-through saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    authorization: String,
    body: Vec<u8>,
}

/// Forwards every request to `upstream` unchanged (but `connection: close`), one request per
/// connection, and records it.
async fn recording_proxy(upstream: String, seen: Arc<Mutex<Vec<Seen>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (upstream, seen) = (upstream.clone(), seen.clone());
            tokio::spawn(async move {
                let mut client = BufReader::new(client);
                let mut head = Vec::new();
                let (mut method, mut target, mut authorization) =
                    (String::new(), String::new(), String::new());
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if client.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if method.is_empty() {
                        let mut parts = line.split_whitespace();
                        method = parts.next().unwrap_or("").to_string();
                        target = parts.next().unwrap_or("").to_string();
                    }
                    if line == "\r\n" {
                        head.extend_from_slice(b"connection: close\r\n\r\n");
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if lower.starts_with("connection:") {
                        continue;
                    }
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        authorization = line.trim_end().to_string();
                    }
                    head.extend_from_slice(line.as_bytes());
                }
                let mut body = vec![0u8; length];
                if client.read_exact(&mut body).await.is_err() {
                    return;
                }
                seen.lock().unwrap().push(Seen {
                    method,
                    target,
                    authorization,
                    body: body.clone(),
                });
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let mut answer = Vec::new();
                if server.write_all(&head).await.is_err()
                    || server.write_all(&body).await.is_err()
                    || server.read_to_end(&mut answer).await.is_err()
                {
                    return;
                }
                let mut client = client.into_inner();
                let _ = client.write_all(&answer).await;
                let _ = client.shutdown().await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bucket_is_read_with_its_role_and_the_session_is_reused() {
    let (Some(servers), Some(s3_url)) = (search_servers("bucket-roles"), s3_url("bucket-roles"))
    else {
        return;
    };
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let upstream = s3_url.trim_start_matches("http://").trim_end_matches('/');
    let proxy = recording_proxy(upstream.to_string(), seen.clone()).await;
    set_aws_env(&s3_url);
    // This process's only test: the function reads S3 and STS through the recording proxy.
    std::env::set_var("AWS_ENDPOINT_URL_S3", &proxy);
    std::env::set_var("AWS_ENDPOINT_URL_STS", &proxy);

    let s3 = s3_client(&s3_url);
    let own = unique("roles-own");
    let archive = unique("roles-archive");
    create_bucket(&s3, &own).await;
    create_bucket(&s3, &archive).await;
    let own_key = alb_key("own");
    let archive_keys: Vec<String> = ["x", "y"]
        .iter()
        .map(|n| alb_key(n).replace("123456789012", OTHER_ACCOUNT))
        .collect();
    put(&s3, &own, &own_key, gzip(alb_lines(30, 30).as_bytes())).await;
    for key in &archive_keys {
        put(&s3, &archive, key, gzip(alb_lines(20, 20).as_bytes())).await;
    }

    let server = &servers[0];
    let prefix = unique("roles");
    let roles = json!({ &archive: {"role_arn": ROLE, "external_id": "ext-42"} });
    let config = IngestConfig::from_env(&config_env(&[
        ("ALBINGEST_ENDPOINT", server.url.clone()),
        ("ALBINGEST_INDEX_PREFIXES", prefix.clone()),
        ("ALBINGEST_DEAD_LETTER", format!("s3://{own}/dead-letters/")),
        ("ALBINGEST_BUCKET_ROLES", roles.to_string()),
    ]))
    .unwrap();
    let function = IngestFunction::new(config).await.unwrap();

    let answer = function
        .handle(s3_event(&own, &own_key), in_five_minutes())
        .await
        .unwrap();
    assert_eq!(answer["objects"][0]["indexed"], 30, "{answer}");
    for key in &archive_keys {
        let answer = function
            .handle(s3_event(&archive, key), in_five_minutes())
            .await
            .unwrap();
        assert_eq!(answer["objects"][0]["indexed"], 20, "{answer}");
    }

    let seen = seen.lock().unwrap().clone();
    let assume: Vec<&Seen> = seen
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("Action=AssumeRole"))
        .collect();
    assert_eq!(
        assume.len(),
        1,
        "one AssumeRole for two objects of the role's bucket"
    );
    let form = String::from_utf8_lossy(&assume[0].body).into_owned();
    for field in [
        "RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Falbingest-log-reader",
        "ExternalId=ext-42",
        "RoleSessionName=albingest",
    ] {
        assert!(form.contains(field), "{field} not in {form}");
    }
    let gets = |bucket: &str| -> Vec<String> {
        seen.iter()
            // GetObject (the checkpoint's GetObjectTagging goes with the same client).
            .filter(|r| {
                r.method == "GET"
                    && r.target.starts_with(&format!("/{bucket}/AWSLogs/"))
                    && !r.target.contains("tagging")
            })
            .map(|r| r.authorization.clone())
            .collect()
    };
    let (own_gets, archive_gets) = (gets(&own), gets(&archive));
    assert_eq!(own_gets.len(), 1, "{own_gets:?}");
    assert_eq!(archive_gets.len(), 2, "{archive_gets:?}");
    assert!(
        own_gets[0].contains("Credential=testing/"),
        "the own bucket with the default credentials: {}",
        own_gets[0]
    );
    for auth in &archive_gets {
        assert!(
            auth.contains("Credential=") && !auth.contains("Credential=testing/"),
            "the archive bucket with the assumed role's credentials: {auth}"
        );
    }

    // The account still comes from the object key, whichever role read it.
    let client = search_client(&server.url).await;
    assert_eq!(count(&client, &prefix).await, 70);
    let answer = get_json(
        &client,
        Method::Post,
        &format!("/{prefix}-*/_count"),
        Some(json!({"query": {"term": {"cloud.account.id": OTHER_ACCOUNT}}})),
    )
    .await;
    assert_eq!(answer["count"], 40, "{answer}");
}
