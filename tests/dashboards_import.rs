//! `albingest setup --dashboards-url`: the saved objects import, against a small HTTP test double
//! (there is no OpenSearch Dashboards or Kibana here) that checks each request the way the saved
//! objects API requires it — `POST /api/saved_objects/_import?overwrite=true`, the XSRF header, a
//! multipart form with the `.ndjson` file in the field `file` — and answers as the API documents.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use support::base64;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const OSD_FILE: &str =
    include_str!("../deploy/dashboards/opensearch-dashboards/alb-overview.ndjson");
const KIBANA_FILE: &str = include_str!("../deploy/dashboards/kibana/alb-overview.ndjson");

/// One request as the double received it.
#[derive(Clone)]
struct Request {
    method: String,
    target: String,
    /// Lower-case names.
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = String::from_utf8_lossy(&self.body);
        let shown: String = body.chars().take(300).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("headers", &self.headers)
            .field("body", &format!("{shown}… ({} bytes)", self.body.len()))
            .finish()
    }
}

/// What the double answers: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, &'static str)>, String);

struct Double {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Double {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Double {
    async fn start(answer: fn(&Request) -> Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    let Some(request) = read_request(&mut reader).await else {
                        return;
                    };
                    let (status, headers, body) = answer(&request);
                    seen.lock().unwrap().push(request);
                    let mut head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                        body.len()
                    );
                    for (name, value) in headers {
                        head.push_str(&format!("{name}: {value}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = write.write_all(head.as_bytes()).await;
                    let _ = write.write_all(body.as_bytes()).await;
                    let _ = write.shutdown().await;
                });
            }
        });
        Double {
            url,
            requests,
            task,
        }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads one HTTP/1.1 request: head, then a `content-length` or chunked body.
async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).await.ok()?;
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{line}");
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let mut body = Vec::new();
    if let Some(length) = headers.get("content-length") {
        body.resize(length.parse().unwrap(), 0);
        reader.read_exact(&mut body).await.ok()?;
    } else if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).await.ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// One part of a multipart body: its headers (lower-case names) and content.
#[derive(Debug)]
struct Part {
    headers: BTreeMap<String, String>,
    content: Vec<u8>,
}

/// Splits a `multipart/form-data` body as RFC 7578 / RFC 2046 lay it out:
/// `--B\r\n` headers `\r\n\r\n` content `\r\n--B` … `--B--`.
fn multipart(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("content-type {content_type:?}"))
        .trim_matches('"');
    assert!(!boundary.is_empty() && boundary.len() <= 70, "{boundary}");
    let body = String::from_utf8(body.to_vec()).expect("the form is text");
    let delimiter = format!("--{boundary}");
    assert!(body.starts_with(&format!("{delimiter}\r\n")), "{body}");
    assert!(
        body.ends_with(&format!("\r\n{delimiter}--\r\n")),
        "the body ends with the close delimiter: {body}"
    );
    let inner = &body[delimiter.len() + 2..body.len() - delimiter.len() - 6];
    inner
        .split(&format!("\r\n{delimiter}\r\n"))
        .map(|part| {
            let (head, content) = part.split_once("\r\n\r\n").expect("part headers end");
            let headers = head
                .split("\r\n")
                .map(|h| {
                    let (name, value) = h.split_once(':').unwrap();
                    (name.trim().to_ascii_lowercase(), value.trim().to_string())
                })
                .collect();
            Part {
                headers,
                content: content.as_bytes().to_vec(),
            }
        })
        .collect()
}

fn ids(ndjson: &str) -> Vec<(String, String)> {
    ndjson
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            (
                v["type"].as_str().unwrap().to_string(),
                v["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Checks the import request as the API requires it and returns the uploaded file.
fn check_import(request: &Request, base_path: &str, xsrf: &str) -> String {
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.target,
        format!("{base_path}/api/saved_objects/_import?overwrite=true")
    );
    assert_eq!(
        request.headers.get(xsrf).map(String::as_str),
        Some("true"),
        "{request:?}"
    );
    let other = if xsrf == "osd-xsrf" {
        "kbn-xsrf"
    } else {
        "osd-xsrf"
    };
    assert!(!request.headers.contains_key(other), "{request:?}");
    let parts = multipart(&request.headers["content-type"], &request.body);
    assert_eq!(parts.len(), 1, "one form field: {parts:?}");
    let part = &parts[0];
    assert_eq!(
        part.headers["content-disposition"],
        r#"form-data; name="file"; filename="alb-overview.ndjson""#
    );
    assert_eq!(part.headers["content-type"], "application/ndjson");
    String::from_utf8(part.content.clone()).unwrap()
}

fn albingest(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_albingest"));
    command
        .args(args)
        .env_remove("ALBINGEST_ENDPOINT")
        .env_remove("ALBINGEST_USERNAME")
        .env_remove("ALBINGEST_PASSWORD");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

async fn run(args: Vec<String>, env: Vec<(&'static str, &'static str)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        albingest(&args, &env)
    })
    .await
    .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn success(request: &Request) -> Answer {
    let count = if request.target.contains("_import") {
        ids(OSD_FILE).len()
    } else {
        0
    };
    (
        200,
        vec![],
        json!({"success": true, "successCount": count, "successResults": []}).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_into_opensearch_dashboards_as_the_api_requires() {
    let double = Double::start(success).await;
    let out = run(
        vec![
            "setup".into(),
            "--dashboards-url".into(),
            double.url.clone(),
            "--dashboards-flavor".into(),
            "opensearch".into(),
        ],
        vec![],
    )
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let shipped = ids(OSD_FILE).len();
    assert!(
        err.contains(&format!(
            "OpenSearch Dashboards {}: imported {shipped} of {shipped} saved objects",
            double.url
        )),
        "{err}"
    );
    let requests = double.requests();
    assert_eq!(
        requests.len(),
        1,
        "no status request when the flavour is given: {requests:?}"
    );
    let file = check_import(&requests[0], "", "osd-xsrf");
    assert_eq!(file, OSD_FILE, "the shipped file, byte for byte");
    assert_eq!(ids(&file).len(), shipped);
    assert!(!requests[0].headers.contains_key("authorization"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detects_kibana_in_a_space_and_sends_basic_auth() {
    fn kibana(request: &Request) -> Answer {
        if request.target.ends_with("/api/status") {
            (
                200,
                vec![("kbn-name", "kibana")],
                json!({"name": "kibana", "version": {"number": "8.15.0"}}).to_string(),
            )
        } else {
            success(request)
        }
    }
    let double = Double::start(kibana).await;
    let url = format!("{}/s/ops/", double.url);
    let out = run(
        vec![
            "setup".into(),
            "--dashboards-url".into(),
            url,
            "--username".into(),
            "admin".into(),
        ],
        vec![("ALBINGEST_PASSWORD", "s3cret-pw")],
    )
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("Kibana") && err.contains("(detected)"),
        "{err}"
    );
    assert!(
        !err.contains("s3cret-pw") && !String::from_utf8_lossy(&out.stdout).contains("s3cret-pw")
    );
    let requests = double.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("GET", "/s/ops/api/status")
    );
    let auth = format!("Basic {}", base64(b"admin:s3cret-pw"));
    for request in &requests {
        assert_eq!(
            request.headers.get("authorization"),
            Some(&auth),
            "{request:?}"
        );
    }
    let file = check_import(&requests[1], "/s/ops", "kbn-xsrf");
    assert_eq!(file, KIBANA_FILE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detects_opensearch_dashboards_and_follows_the_index_prefix() {
    fn osd(request: &Request) -> Answer {
        if request.target == "/api/status" {
            (
                200,
                vec![("osd-name", "osd-node")],
                json!({"version": {"number": "2.19.0"}}).to_string(),
            )
        } else {
            success(request)
        }
    }
    let double = Double::start(osd).await;
    let out = run(
        vec![
            "setup".into(),
            "--dashboards-url".into(),
            double.url.clone(),
            "--index-prefix".into(),
            "web".into(),
            "--index-prefix".into(),
            "alb-health-check=web-health".into(),
            "--index-prefix".into(),
            "nlb=edge".into(),
        ],
        vec![],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let requests = double.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let file = check_import(&requests[1], "", "osd-xsrf");
    assert_eq!(ids(&file), ids(OSD_FILE), "every saved object, same ids");
    let titles: Vec<String> = file
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "index-pattern")
        .map(|v| v["attributes"]["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        titles,
        [
            "web-*",
            "web-failed-*",
            "web-health-*",
            "edge-*",
            "alb-connection-logs-*"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_import_is_an_error_naming_the_objects() {
    fn refused(_: &Request) -> Answer {
        (
            200,
            vec![],
            json!({"success": false, "successCount": 10, "errors": [{
                "id": "albingest-alb-overview", "type": "dashboard", "title": "ALB overview",
                "error": {"type": "missing_references",
                          "references": [{"type": "visualization", "id": "albingest-alb-top-paths"}]}}]})
            .to_string(),
        )
    }
    let double = Double::start(refused).await;
    let out = run(
        vec![
            "setup".into(),
            "--dashboards-url".into(),
            double.url.clone(),
            "--dashboards-flavor".into(),
            "kibana".into(),
        ],
        vec![],
    )
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the import failed"), "{err}");
    assert!(
        err.contains("dashboard/albingest-alb-overview (ALB overview): missing_references [missing visualization/albingest-alb-top-paths]"),
        "{err}"
    );
    assert!(
        err.contains("1 saved object(s) refused, 10 imported"),
        "{err}"
    );
    assert_eq!(double.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_and_unknown_servers_are_clear() {
    fn forbidden(request: &Request) -> Answer {
        if request.target == "/api/status" {
            (404, vec![], "Not Found".into())
        } else {
            (
                403,
                vec![],
                json!({"statusCode": 403, "error": "Forbidden", "message": "no permissions for [saved_objects]"}).to_string(),
            )
        }
    }
    let double = Double::start(forbidden).await;
    let out = run(
        vec![
            "setup".into(),
            "--dashboards-url".into(),
            double.url.clone(),
            "--dashboards-flavor".into(),
            "opensearch".into(),
        ],
        vec![],
    )
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "POST {}/api/saved_objects/_import?overwrite=true: HTTP 403",
            double.url
        )),
        "{err}"
    );
    assert!(err.contains("no permissions for [saved_objects]"), "{err}");

    // Not a dashboards server: the flavour cannot be told, and the message says what to do.
    let out = run(
        vec![
            "setup".into(),
            "--dashboards-url".into(),
            double.url.clone(),
        ],
        vec![],
    )
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("HTTP 404") && err.contains("--dashboards-flavor"),
        "{err}"
    );
    assert_eq!(double.requests().len(), 2, "no import without a flavour");

    // Nothing listening.
    let out = run(
        vec![
            "setup".into(),
            "--dashboards-url".into(),
            "http://127.0.0.1:1".into(),
            "--dashboards-flavor".into(),
            "kibana".into(),
        ],
        vec![],
    )
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("POST http://127.0.0.1:1/api/saved_objects/_import"),
        "{err}"
    );
}

#[test]
fn the_helpers_of_this_test_are_right() {
    assert_eq!(base64(b"admin:s3cret"), "YWRtaW46czNjcmV0");
    assert_eq!(base64(b"a"), "YQ==");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fooba"), "Zm9vYmE=");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
    assert_eq!(base64(b"ab"), "YWI=");
    let body =
        "--XyZ\r\ncontent-disposition: form-data; name=\"file\"\r\n\r\nA\r\nB\r\n--XyZ--\r\n";
    let parts = multipart("multipart/form-data; boundary=XyZ", body.as_bytes());
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].content, b"A\r\nB");
}
