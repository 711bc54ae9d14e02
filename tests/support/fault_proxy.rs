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
//!
//! A test gives a script: a function from the request (and how many `_bulk` requests came
//! before it) to an action. Only requests the script faults are changed.

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
    ForwardThenReset,
    Reset,
    ForwardThenDelay(Duration),
}

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

type Script = dyn Fn(&Request, usize) -> Action + Send + Sync;

/// The running double. Dropping it stops accepting connections.
pub struct FaultProxy {
    pub url: String,
    /// `_bulk` requests seen.
    pub bulk_requests: Arc<AtomicUsize>,
    /// Requests (or items) that got a fault.
    pub faults: Arc<AtomicUsize>,
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
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let script: Arc<Script> = Arc::new(script);
        let bulk_requests = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(AtomicUsize::new(0));
        let (b, f) = (bulk_requests.clone(), faults.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let (script, upstream, b, f) =
                    (script.clone(), upstream.clone(), b.clone(), f.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, &upstream, &*script, &b, &f).await;
                });
            }
        });
        Self {
            url,
            bulk_requests,
            faults,
            task,
        }
    }
}

async fn serve(
    stream: TcpStream,
    upstream: &str,
    script: &Script,
    bulk_requests: &AtomicUsize,
    faults: &AtomicUsize,
) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut stream).await? else {
            return Ok(());
        };
        let seen = if request.is_bulk() {
            bulk_requests.fetch_add(1, Ordering::SeqCst)
        } else {
            usize::MAX
        };
        let action = script(&request, seen);
        let (status, content_type, body) = match action {
            Action::Forward => forward(upstream, &request).await?,
            Action::Respond {
                status,
                body,
                content_type,
            } => {
                faults.fetch_add(1, Ordering::SeqCst);
                (status, content_type.to_string(), body.into_bytes())
            }
            Action::ItemFaults(fault) => {
                let (answer, faulted) = bulk_with_item_faults(upstream, &request, &*fault).await?;
                faults.fetch_add(faulted, Ordering::SeqCst);
                answer
            }
            Action::ForwardThenReset => {
                forward(upstream, &request).await?;
                faults.fetch_add(1, Ordering::SeqCst);
                return reset(stream);
            }
            Action::Reset => {
                faults.fetch_add(1, Ordering::SeqCst);
                return reset(stream);
            }
            Action::ForwardThenDelay(delay) => {
                let answer = forward(upstream, &request).await?;
                faults.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                answer
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

/// Forwards the items `fault` leaves alone and answers the others with their fault status, in
/// one `_bulk` answer in the original order.
async fn bulk_with_item_faults(
    upstream: &str,
    request: &Request,
    fault: &(dyn Fn(usize) -> Option<u16> + Send + Sync),
) -> std::io::Result<((u16, String, Vec<u8>), usize)> {
    let lines: Vec<&[u8]> = request
        .body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let items: Vec<(&[u8], &[u8])> = lines.chunks(2).map(|c| (c[0], c[1])).collect();
    let mut forwarded = Vec::new();
    let mut plan = Vec::new(); // None: forwarded; Some(status): faulted
    for (i, (action, source)) in items.iter().enumerate() {
        let f = fault(i);
        if f.is_none() {
            forwarded.extend_from_slice(action);
            forwarded.push(b'\n');
            forwarded.extend_from_slice(source);
            forwarded.push(b'\n');
        }
        plan.push(f);
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
    let mut faulted = 0;
    for (i, f) in plan.iter().enumerate() {
        match f {
            None => merged.push(real.next().expect("one answer per forwarded item")),
            Some(status) => {
                faulted += 1;
                let action: Value = serde_json::from_slice(items[i].0).unwrap();
                let (kind, reason) = if *status == 429 {
                    ("es_rejected_execution_exception", "rejected execution of primary operation [coordinating_and_primary_bytes=52428800, replica_bytes=0, all_bytes=52428800, primary_operation_bytes=2048, max_coordinating_and_primary_bytes=53687091]")
                } else {
                    (
                        "unavailable_shards_exception",
                        "primary shard is not active",
                    )
                };
                merged.push(json!({"create": {
                    "_index": action["create"]["_index"],
                    "_id": action["create"]["_id"],
                    "status": status,
                    "error": {"type": kind, "reason": reason}
                }}));
            }
        }
    }
    let answer = json!({"took": 1, "errors": true, "items": merged});
    Ok((
        (
            200,
            "application/json".into(),
            answer.to_string().into_bytes(),
        ),
        faulted,
    ))
}
