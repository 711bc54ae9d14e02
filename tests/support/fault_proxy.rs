//! A small HTTP test double in front of a real server: it answers with the faults the stand-in
//! servers never produce, in the shapes OpenSearch and Amazon OpenSearch Service document, and
//! forwards everything else to the real server.
//!
//! | fault | what it does |
//! |---|---|
//! | [`Action::Respond`] | whole-request answer: 429 `es_rejected_execution_exception`, 413, 500, 503 … |
//! | [`Action::ItemFaults`] | forwards the `_bulk` items it does not fault; the faulted ones get an item `status` (429, 503 …) in an otherwise normal 200 answer |
//! | [`Action::ForwardThenReset`] | the server does the work, then the connection is reset before the answer (the client must retry and get 409s) |
//! | [`Action::Reset`] | reset without forwarding |
//! | [`Action::ForwardThenDelay`] | the answer comes after a delay (longer than the client's timeout) |
//! | [`Action::Hold`] | never forwarded, never answered: the connection stays open until the client gives up (a hung node) |
//! | [`Action::ItemErrors`] | as `ItemFaults`, with the item's whole error chosen by the script (the service profiles below) |
//!
//! Service profiles (the documented answers of managed targets, each cited where it is made):
//!
//! | profile | answer |
//! |---|---|
//! | [`Action::serverless_time_series`] | OpenSearch Serverless time-series collection: every item naming an `_id` gets 400 `illegal_argument_exception` "Document ID is not supported in create/index operation request"; items without one are indexed |
//! | [`Action::write_block`] `(Flavour::OpenSearch)` | every item 403 `cluster_block_exception` `blocked by: [FORBIDDEN/8/index write (api)];` |
//! | [`Action::write_block`] `(Flavour::Elasticsearch)` | every item 429 `cluster_block_exception` `[TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block]` |
//! | [`Action::fine_grained_denied`] | the whole `_bulk` 403 `security_exception` "no permissions for [indices:data/write/bulk]" (a role without write on the index pattern) |
//!
//! A test gives a script: a function from the request (and how many `_bulk` requests came
//! before it) to an action. Only requests the script faults are changed.
//!
//! [`FaultProxy::start_refusing`] adds [`Refusals`]: documents the server refuses for good, as a
//! mapping conflict does, chosen by `_id`. They never reach the server, whatever the action, and
//! every `_bulk` answer that covers them has their item 400 in the server flavour's shape.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One request as the double saw it (gzip bodies decompressed).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn is_bulk(&self) -> bool {
        self.method == "POST"
            && self
                .target
                .split('?')
                .next()
                .unwrap_or("")
                .ends_with("/_bulk")
    }

    /// The `_id` of each item of a `_bulk` request, in order.
    pub fn bulk_ids(&self) -> Vec<String> {
        bulk_items(&self.body)
            .iter()
            .map(|(action, _)| item_id(action))
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub enum Action {
    Forward,
    Respond {
        status: u16,
        body: String,
        content_type: &'static str,
    },
    /// `fault(i)` for item `i` of this `_bulk` request: `Some(status)` to fault it.
    ItemFaults(Box<dyn Fn(usize) -> Option<u16> + Send + Sync>),
    /// `error(i, action)` for item `i` of this `_bulk` request (its action line as JSON):
    /// `Some((status, error))` to answer it with that item error instead of forwarding it.
    ItemErrors(Box<ItemErrorFn>),
    ForwardThenReset,
    Reset,
    ForwardThenDelay(Duration),
    Hold,
}

pub type ItemErrorFn = dyn Fn(usize, &Value) -> Option<(u16, Value)> + Send + Sync;

impl Action {
    /// The documented whole-request rejection of a busy cluster.
    pub fn rejected_429() -> Self {
        Action::Respond {
            status: 429,
            body: json!({"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1048576, max_coordinating_and_primary_bytes=53687091]"}],"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"},"status":429}).to_string(),
            content_type: "application/json",
        }
    }

    /// Amazon OpenSearch Service's answer to a request over the instance's payload limit.
    pub fn too_large_413() -> Self {
        Action::Respond {
            status: 413,
            body: json!({"Message":"Request size exceeded 10485760 bytes"}).to_string(),
            content_type: "application/json",
        }
    }

    /// An OpenSearch Serverless time-series (or vector search) collection: items that name an
    /// `_id` are refused one by one, the others are indexed. AWS, "Supported operations and
    /// plugins in Amazon OpenSearch Serverless"
    /// (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/serverless-genref.html):
    /// time-series collections take no custom document ids; the item shape (status 400,
    /// `illegal_argument_exception`, "Document ID is not supported in create/index operation
    /// request") as reported in opensearch-project/opensearch-py#792 and
    /// langchain-ai/langchainjs#4346.
    pub fn serverless_time_series() -> Self {
        Action::ItemErrors(Box::new(|_, action| {
            let (_, target) = action.as_object()?.iter().next()?;
            target.get("_id")?;
            Some((
                400,
                json!({"type": "illegal_argument_exception", "reason": "Document ID is not supported in create/index operation request"}),
            ))
        }))
    }

    /// A write block on every index, item by item, as each flavour writes it.
    /// OpenSearch (and Amazon OpenSearch Service, which sets `index.blocks.write` itself under
    /// JVM memory pressure or low disk): item status 403, `cluster_block_exception`,
    /// "blocked by: [FORBIDDEN/8/index write (api)];" — stackoverflow.com/questions/44383601
    /// ("AWS Elastic Search FORBIDDEN/8/index write (api)"), netdata.cloud "Elasticsearch
    /// cluster_block_exception: blocked by, the read-only blocks explained".
    /// Elasticsearch's flood-stage disk watermark: status 429 (TOO_MANY_REQUESTS since 7.x),
    /// "disk usage exceeded flood-stage watermark, index has read-only-allow-delete block" —
    /// Elasticsearch reference, "Fix watermark errors"
    /// (https://www.elastic.co/guide/en/elasticsearch/reference/current/fix-watermark-errors.html),
    /// which also says the block is removed by itself once disk usage falls below the high
    /// watermark.
    pub fn write_block(flavour: Flavour) -> Self {
        Action::ItemErrors(Box::new(move |_, action| {
            let index = action
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(|t| t["_index"].as_str())
                .unwrap_or("")
                .to_string();
            Some(match flavour {
                Flavour::OpenSearch => (
                    403,
                    json!({"type": "cluster_block_exception", "reason": "blocked by: [FORBIDDEN/8/index write (api)];"}),
                ),
                Flavour::Elasticsearch => (
                    429,
                    json!({"type": "cluster_block_exception", "reason": format!("index [{index}] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];")}),
                ),
            })
        }))
    }

    /// Fine-grained access control with a role that may not write to the index: the whole
    /// request is refused, 403 `security_exception`. OpenSearch blog, "Error Log:
    /// AuthorizationException: User lacks permissions – The access denied error"
    /// (https://opensearch.org/blog/error-logs/error-log-authorizationexception-user-lacks-permissions-the-access-denied-error);
    /// Elasticsearch writes the same type ("action [indices:data/write/bulk] is unauthorized for
    /// user"), pulse.support "Elasticsearch HTTP 403 Forbidden".
    pub fn fine_grained_denied() -> Self {
        let reason = "no permissions for [indices:data/write/bulk] and User [name=albingest, backend_roles=[], requestedTenant=null]";
        Action::Respond {
            status: 403,
            body: json!({"error":{"root_cause":[{"type":"security_exception","reason":reason}],"type":"security_exception","reason":reason},"status":403}).to_string(),
            content_type: "application/json",
        }
    }

    pub fn server_error(status: u16) -> Self {
        let (kind, reason) = match status {
            503 => (
                "unavailable_shards_exception",
                "[alb-logs][0] primary shard is not active Timeout: [1m]",
            ),
            _ => ("exception", "Internal server error"),
        };
        Action::Respond {
            status,
            body: json!({"error":{"root_cause":[{"type":kind,"reason":reason}],"type":kind,"reason":reason},"status":status}).to_string(),
            content_type: "application/json",
        }
    }
}

/// Whose item error shapes the double writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// OpenSearch 1.x–3.x and Amazon OpenSearch Service: `mapper_parsing_exception`.
    OpenSearch,
    /// Elasticsearch 8.x: `document_parsing_exception`.
    Elasticsearch,
}

/// Documents refused for good (item 400), by `_id`: the same ones on every request and every run,
/// as a mapping conflict would refuse them.
pub struct Refusals {
    pub flavour: Flavour,
    pub refuses: Box<dyn Fn(&str) -> bool + Send + Sync>,
}

impl Refusals {
    /// The item error a refused document gets, as the flavour writes it.
    fn error(&self, id: &str) -> Value {
        let field = "failed to parse field [source.ip] of type [ip]";
        let preview =
            format!("in document with id '{id}'. Preview of field's value: '78.190.26.x'");
        let caused_by = json!({"type": "illegal_argument_exception", "reason": "'78.190.26.x' is not an IP string literal."});
        match self.flavour {
            Flavour::OpenSearch => json!({
                "type": "mapper_parsing_exception",
                "reason": format!("{field} {preview}"),
                "caused_by": caused_by,
            }),
            Flavour::Elasticsearch => json!({
                "type": "document_parsing_exception",
                "reason": format!("[1:412] {field} {preview}"),
                "caused_by": caused_by,
            }),
        }
    }
}

type Script = dyn Fn(&Request, usize) -> Action + Send + Sync;

/// The running double. Dropping it stops accepting connections.
pub struct FaultProxy {
    pub url: String,
    /// `_bulk` requests seen.
    pub bulk_requests: Arc<AtomicUsize>,
    /// Requests (or items) that got a fault.
    pub faults: Arc<AtomicUsize>,
    /// Items refused by the [`Refusals`] (each time one was sent).
    pub refused: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub async fn start(
        upstream: &str,
        script: impl Fn(&Request, usize) -> Action + Send + Sync + 'static,
    ) -> Self {
        Self::launch(upstream, None, Arc::new(script)).await
    }

    /// As [`FaultProxy::start`], and the server refuses the documents `refusals` names.
    pub async fn start_refusing(
        upstream: &str,
        refusals: Refusals,
        script: impl Fn(&Request, usize) -> Action + Send + Sync + 'static,
    ) -> Self {
        Self::launch(upstream, Some(refusals), Arc::new(script)).await
    }

    async fn launch(upstream: &str, refusals: Option<Refusals>, script: Arc<Script>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            upstream: upstream
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string(),
            script,
            refusals,
            bulk_requests: Arc::new(AtomicUsize::new(0)),
            faults: Arc::new(AtomicUsize::new(0)),
            refused: Arc::new(AtomicUsize::new(0)),
        });
        let (bulk_requests, faults, refused) = (
            shared.bulk_requests.clone(),
            shared.faults.clone(),
            shared.refused.clone(),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &shared).await;
                });
            }
        });
        Self {
            url,
            bulk_requests,
            faults,
            refused,
            task,
        }
    }
}

/// What every connection's task reads.
struct Shared {
    upstream: String,
    script: Arc<Script>,
    refusals: Option<Refusals>,
    bulk_requests: Arc<AtomicUsize>,
    faults: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl Shared {
    /// Sends a `_bulk` request on, leaving out the items `fault` (or the refusals) fault; the
    /// answer has one item per document, in order. Other requests go as they are.
    async fn forward_bulk(
        &self,
        request: &Request,
        fault: &ItemErrorFn,
    ) -> std::io::Result<(u16, String, Vec<u8>)> {
        let (answer, faulted, refused) =
            bulk_with_item_faults(&self.upstream, request, self.refusals.as_ref(), fault).await?;
        self.faults.fetch_add(faulted, Ordering::SeqCst);
        self.refused.fetch_add(refused, Ordering::SeqCst);
        Ok(answer)
    }

    /// The request forwarded as the real server would take it (refused documents left out).
    async fn forward(&self, request: &Request) -> std::io::Result<(u16, String, Vec<u8>)> {
        if request.is_bulk() && self.refusals.is_some() {
            self.forward_bulk(request, &|_, _| None).await
        } else {
            forward(&self.upstream, request).await
        }
    }
}

async fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut stream).await? else {
            return Ok(());
        };
        let seen = if request.is_bulk() {
            shared.bulk_requests.fetch_add(1, Ordering::SeqCst)
        } else {
            usize::MAX
        };
        let action = (shared.script)(&request, seen);
        let faults = &shared.faults;
        let (status, content_type, body) = match action {
            Action::Forward => shared.forward(&request).await?,
            Action::Respond {
                status,
                body,
                content_type,
            } => {
                faults.fetch_add(1, Ordering::SeqCst);
                (status, content_type.to_string(), body.into_bytes())
            }
            Action::ItemFaults(fault) => {
                let fault = move |i: usize, _: &Value| fault(i).map(|s| (s, item_fault_error(s)));
                shared.forward_bulk(&request, &fault).await?
            }
            Action::ItemErrors(error) => shared.forward_bulk(&request, &*error).await?,
            Action::ForwardThenReset => {
                shared.forward(&request).await?;
                faults.fetch_add(1, Ordering::SeqCst);
                return reset(stream);
            }
            Action::Reset => {
                faults.fetch_add(1, Ordering::SeqCst);
                return reset(stream);
            }
            Action::ForwardThenDelay(delay) => {
                let answer = shared.forward(&request).await?;
                faults.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                answer
            }
            Action::Hold => {
                faults.fetch_add(1, Ordering::SeqCst);
                // Until the client closes (its timeout): no HTTP/1.1 client sends more before
                // it has an answer.
                let mut scratch = [0u8; 1024];
                while stream.read(&mut scratch).await.unwrap_or(0) > 0 {}
                return Ok(());
            }
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nx-elastic-product: Elasticsearch\r\n\r\n",
            reason(status),
            body.len()
        );
        let inner = stream.get_mut();
        inner.write_all(head.as_bytes()).await?;
        inner.write_all(&body).await?;
        inner.flush().await?;
    }
}

/// Closes with a TCP reset (linger 0), as a crashed node or a load balancer would.
fn reset(stream: BufReader<TcpStream>) -> std::io::Result<()> {
    let stream = stream.into_inner();
    stream.set_zero_linger()?;
    drop(stream);
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if stream.read_line(&mut header).await? == 0 {
            return Ok(None);
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).await?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            request.body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let length: usize = request
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        request.body = vec![0; length];
        stream.read_exact(&mut request.body).await?;
    }
    if request
        .header("content-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"))
    {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(&request.body[..]),
            &mut plain,
        )?;
        request.body = plain;
    }
    Ok(Some(request))
}

/// Sends `request` (plain body) to the real server with `connection: close`: the answer ends
/// when the server closes (noida keeps HTTP/1.0 connections open, so HTTP/1.1 it is).
async fn forward(upstream: &str, request: &Request) -> std::io::Result<(u16, String, Vec<u8>)> {
    forward_body(upstream, request, &request.body).await
}

async fn forward_body(
    upstream: &str,
    request: &Request,
    body: &[u8],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut server = TcpStream::connect(upstream).await?;
    let content_type = request
        .header("content-type")
        .unwrap_or("application/json")
        .to_string();
    let head = format!(
        "{} {} HTTP/1.1\r\nhost: {upstream}\r\nconnection: close\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        request.method,
        request.target,
        body.len()
    );
    server.write_all(head.as_bytes()).await?;
    server.write_all(body).await?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head in the upstream answer"))?;
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let mut body = answer[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let mut answer_type = "application/json".to_string();
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked")
            {
                body = dechunk(&body);
            }
            if name.eq_ignore_ascii_case("content-length") {
                if let Ok(n) = value.trim().parse::<usize>() {
                    body.truncate(n);
                }
            }
            if name.eq_ignore_ascii_case("content-type") {
                answer_type = value.trim().to_string();
            }
        }
    }
    Ok((status, answer_type, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        data = &data[end + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

/// The (action, source) line pairs of a `_bulk` body.
fn bulk_items(body: &[u8]) -> Vec<(&[u8], &[u8])> {
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines.chunks(2).map(|c| (c[0], c[1])).collect()
}

fn item_id(action: &[u8]) -> String {
    let action: Value = serde_json::from_slice(action).unwrap();
    let (_, target) = action.as_object().unwrap().iter().next().unwrap();
    target["_id"].as_str().unwrap_or_default().to_string()
}

/// Forwards the items neither `refusals` nor `fault` fault and answers the others with their
/// status, in one `_bulk` answer in the original order. Returns the answer and how many items
/// were faulted and refused.
async fn bulk_with_item_faults(
    upstream: &str,
    request: &Request,
    refusals: Option<&Refusals>,
    fault: &ItemErrorFn,
) -> std::io::Result<((u16, String, Vec<u8>), usize, usize)> {
    let items = bulk_items(&request.body);
    let mut forwarded = Vec::new();
    let mut plan = Vec::new(); // None: forwarded; Some((status, error)): answered here
    let (mut faulted, mut refused) = (0, 0);
    for (i, (action, source)) in items.iter().enumerate() {
        let id = item_id(action);
        let answer = match refusals.filter(|r| (r.refuses)(&id)) {
            Some(refusals) => {
                refused += 1;
                Some((400, refusals.error(&id)))
            }
            None => {
                let action: Value = serde_json::from_slice(action).unwrap();
                fault(i, &action).inspect(|_| faulted += 1)
            }
        };
        if answer.is_none() {
            forwarded.extend_from_slice(action);
            forwarded.push(b'\n');
            forwarded.extend_from_slice(source);
            forwarded.push(b'\n');
        }
        plan.push(answer);
    }
    let mut real_items: Vec<Value> = Vec::new();
    if !forwarded.is_empty() {
        let (status, _, body) = forward_body(upstream, request, &forwarded).await?;
        assert_eq!(
            status,
            200,
            "upstream _bulk: {}",
            String::from_utf8_lossy(&body)
        );
        let answer: Value = serde_json::from_slice(&body).unwrap();
        real_items = answer["items"].as_array().cloned().unwrap_or_default();
    }
    let mut real = real_items.into_iter();
    let mut merged = Vec::new();
    for (i, answer) in plan.into_iter().enumerate() {
        match answer {
            None => merged.push(real.next().expect("one answer per forwarded item")),
            Some((status, error)) => {
                let action: Value = serde_json::from_slice(items[i].0).unwrap();
                let (op, target) = action.as_object().unwrap().iter().next().unwrap();
                merged.push(json!({ op.clone(): {
                    "_index": target["_index"],
                    "_id": target["_id"],
                    "status": status,
                    "error": error
                }}));
            }
        }
    }
    let errors = merged.iter().any(|item| {
        item.as_object()
            .and_then(|o| o.values().next())
            .and_then(|r| r["status"].as_u64())
            .is_some_and(|status| status >= 300)
    });
    let answer = json!({"took": 1, "errors": errors, "items": merged});
    Ok((
        (
            200,
            "application/json".into(),
            answer.to_string().into_bytes(),
        ),
        faulted,
        refused,
    ))
}

/// The item error of a retryable item fault, as OpenSearch and Elasticsearch write it.
fn item_fault_error(status: u16) -> Value {
    let (kind, reason) = if status == 429 {
        ("es_rejected_execution_exception", "rejected execution of primary operation [coordinating_and_primary_bytes=52428800, replica_bytes=0, all_bytes=52428800, primary_operation_bytes=2048, max_coordinating_and_primary_bytes=53687091]")
    } else {
        (
            "unavailable_shards_exception",
            "primary shard is not active",
        )
    };
    json!({"type": kind, "reason": reason})
}
