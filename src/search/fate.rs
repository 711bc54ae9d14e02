//! The fate of every answer from the search server, decided in one place: each `_bulk` item and
//! each whole-request answer is **placed**, sent again later (**retry**), written to the
//! **dead letter** location, or a **target refusal** — the target or our credentials are the
//! problem, and no document of the object is dead-lettered for it: the object stops with an error
//! that says what to change, so S3/SQS deliver it again once it is fixed.
//!
//! The rule behind the table: a dead letter is a document that the target would refuse whatever
//! its configuration. Everything else is the target telling us something.
//!
//! | answer (documented shape) | fate | source |
//! |---|---|---|
//! | item 200 / 201 | placed (indexed) | Elasticsearch "Bulk API", response body: <https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html#bulk-api-response-body> |
//! | item 409 `version_conflict_engine_exception` on `create` | placed (already present: a retry or a re-run) | same page: `create` "fails if a document with the same ID already exists" |
//! | item or request 408, 429 `es_rejected_execution_exception`, 5xx; no answer (timeout, reset) | retry after a backoff | elastic/elasticsearch-java#478 ("the items worth retrying are … those with a 429 status"); OpenSearch "Bulk" API |
//! | item or request `cluster_block_exception`, whatever its status: 403 `blocked by: [FORBIDDEN/8/index write (api)]` (an `index.blocks.write`, or Amazon OpenSearch Service's JVM-pressure / disk protection), 429 `[TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block]` | retry: the block is lifted by an operator or by itself ("Elasticsearch will automatically remove the write block when the affected node's disk usage goes below the high disk watermark") | Elasticsearch "Fix watermark errors" <https://www.elastic.co/guide/en/elasticsearch/reference/current/fix-watermark-errors.html>; stackoverflow.com/questions/44383601 (AWS `FORBIDDEN/8/index write (api)`, item status 403); elastic/elasticsearch-py#1004 (403 `cluster_block_exception` during maintenance, "we want to retry") |
//! | item 400 `illegal_argument_exception` "Document ID is not supported in create/index operation request" | target refusal: ids not supported (OpenSearch Serverless time-series and vector collections); with `--document-ids auto` the loader switches to server-generated ids and sends the items again | AWS "Supported operations and plugins in Amazon OpenSearch Serverless" <https://docs.aws.amazon.com/opensearch-service/latest/developerguide/serverless-genref.html>; the item shape from opensearch-project/opensearch-py#792 and langchain-ai/langchainjs#4346 |
//! | 401 (item or request) | target refusal: authentication failed | RFC 9110 §15.5.2 "401 Unauthorized" (the request lacks valid credentials); both security plugins answer it with type `security_exception` |
//! | 403 `security_exception` (item or request) "no permissions for [indices:data/write/bulk…]" / "action [indices:data/write/bulk] is unauthorized for user" | target refusal: the role lacks a privilege | opensearch.org blog "Error Log: AuthorizationException: User lacks permissions"; pulse.support "Elasticsearch HTTP 403 Forbidden" |
//! | 404 `index_not_found_exception` (auto-create off, `action.auto_create_index`) | target refusal: run `albingest setup` or allow auto-create for the prefix | elastic/elasticsearch#24028 and PR #24048 (with `action.auto_create_index` restricted, `_bulk` fails "only the portions of the request that can't work because the index doesn't exist", item by item) |
//! | item 400 `mapper_parsing_exception`, `document_parsing_exception`, `strict_dynamic_mapping_exception`, `illegal_argument_exception` naming a field, any other item 4xx | dead letter, with the server's reason | Elasticsearch "Bulk API" (per-item `error`); OpenSearch "Bulk" API |
//! | request 413 | the batch is split in two and each half sent | Amazon OpenSearch Service quotas, "Network limits" (maximum size of HTTP request payloads per instance type; the double answers `{"Message":"Request size exceeded 10485760 bytes"}`) — unchanged behaviour |
//! | request 400 / 415 to a gzip body | sent again uncompressed | a server without request decompression cannot read the body — unchanged behaviour |
//! | the same error on **every** item of a batch of two or more that would otherwise be dead letters (e.g. a foreign template with a higher priority maps a field of ours another way: every document fails the same way) | target refusal: the target's configuration, not the documents | albingest issue 11 and issue 12 item 6 ("a refusal that hits every document of an object is a target problem, not a dead letter") |
//! | other request 4xx | target refusal with the server's answer | |

use std::fmt;

/// What the loader does with one `_bulk` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemFate {
    Indexed,
    AlreadyPresent,
    /// Worth sending again after a backoff; the reason for the log.
    Retry(String),
    /// Refused for the document itself.
    DeadLetter {
        status: u16,
        reason: String,
    },
    /// Refused for the target's or our configuration.
    Refused(Refusal),
}

/// What the loader does after a whole `_bulk` request's answer (or its absence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestFate {
    /// 2xx: read the items.
    Items,
    Retry(String),
    TooLarge,
    /// The server does not take gzip bodies: send it plain.
    GzipRefused,
    Refused(Refusal),
}

/// Why the target refused, and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// The server's status and reason, as it wrote them.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The target does not take document ids (OpenSearch Serverless time series / vector search).
    IdsNotSupported,
    /// 401: the credentials were not accepted.
    Authentication,
    /// 403 `security_exception`: the role lacks a privilege.
    Privileges,
    /// `index_not_found_exception`: the index does not exist and may not be auto-created.
    IndexMissing,
    /// Every document of a batch refused the same way: the target's mapping or template.
    EveryDocument,
    /// Any other refusal of the whole request.
    Request,
}

impl Refusal {
    fn new(kind: RefusalKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// What the user should change, in a few words.
    pub fn advice(&self) -> &'static str {
        match self.kind {
            RefusalKind::IdsNotSupported => {
                "the target does not accept document ids (an OpenSearch Serverless time-series or vector collection): use --document-ids auto or server (ALBINGEST_DOCUMENT_IDS)"
            }
            RefusalKind::Authentication => {
                "authentication failed: check the credentials (ALBINGEST_USERNAME/ALBINGEST_PASSWORD, the AWS role for SigV4)"
            }
            RefusalKind::Privileges => {
                "the role lacks a privilege: grant it the write privileges on the index patterns (see deploy/README.md)"
            }
            RefusalKind::IndexMissing => {
                "the index does not exist and may not be created automatically: run `albingest setup` or allow auto-creation for the prefix"
            }
            RefusalKind::EveryDocument => {
                "every document of a batch was refused the same way, which is the target's mapping, not the documents: check which index template applies (GET _index_template, POST _index_template/_simulate_index/NAME) and run `albingest setup`"
            }
            RefusalKind::Request => "the search server refused the request",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "target refusal: {} ({})", self.advice(), self.detail)
    }
}

/// The reason OpenSearch Serverless gives for a `_bulk` item that names an `_id` in a collection
/// that makes its own.
pub const ID_REFUSAL_REASON: &str =
    "Document ID is not supported in create/index operation request";

/// An item's or a request's error, as the server wrote it: `type` and `reason`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorShape<'a> {
    pub kind: &'a str,
    pub reason: &'a str,
}

/// The fate of one `_bulk` item from its status and error; `describe` is the error as one line
/// (type, reason, causes), for messages.
pub fn item(status: u16, error: ErrorShape<'_>, describe: impl Fn() -> String) -> ItemFate {
    let detail = || format!("item HTTP {status}: {}", describe());
    match (status, error.kind) {
        (200 | 201, _) => ItemFate::Indexed,
        (409, _) => ItemFate::AlreadyPresent,
        (_, "cluster_block_exception") => ItemFate::Retry(detail()),
        (_, "es_rejected_execution_exception") => ItemFate::Retry(detail()),
        (408 | 429 | 500..=599, _) => ItemFate::Retry(detail()),
        (_, _) if error.reason.contains(ID_REFUSAL_REASON) => {
            ItemFate::Refused(Refusal::new(RefusalKind::IdsNotSupported, detail()))
        }
        (401, _) => ItemFate::Refused(Refusal::new(RefusalKind::Authentication, detail())),
        (403, _) | (_, "security_exception") => {
            ItemFate::Refused(Refusal::new(RefusalKind::Privileges, detail()))
        }
        (_, "index_not_found_exception") => {
            ItemFate::Refused(Refusal::new(RefusalKind::IndexMissing, detail()))
        }
        (status, _) => ItemFate::DeadLetter {
            status,
            reason: if error.kind.is_empty() && error.reason.is_empty() {
                format!("HTTP {status}")
            } else {
                describe()
            },
        },
    }
}

/// The fate of a whole `_bulk` request from its status and body; `gzip`: the body was
/// compressed; `detail` is the error as the client reports it (method, endpoint, status, body).
pub fn request(
    status: u16,
    body: &[u8],
    gzip: bool,
    detail: impl FnOnce() -> String,
) -> RequestFate {
    if (200..=299).contains(&status) {
        return RequestFate::Items;
    }
    let kind = error_type(body);
    match (status, kind.as_deref()) {
        (413, _) => RequestFate::TooLarge,
        (_, Some("cluster_block_exception" | "es_rejected_execution_exception")) => {
            RequestFate::Retry(detail())
        }
        (408 | 429 | 500..=599, _) => RequestFate::Retry(detail()),
        (401, _) => RequestFate::Refused(Refusal::new(RefusalKind::Authentication, detail())),
        (_, Some("security_exception")) | (403, _) => {
            RequestFate::Refused(Refusal::new(RefusalKind::Privileges, detail()))
        }
        (_, Some("index_not_found_exception")) => {
            RequestFate::Refused(Refusal::new(RefusalKind::IndexMissing, detail()))
        }
        // A server that does not decompress request bodies answers 415, or 400 because the gzip
        // bytes are not JSON. Sending the same items plain is harmless either way.
        (400 | 415, _) if gzip => RequestFate::GzipRefused,
        _ => RequestFate::Refused(Refusal::new(RefusalKind::Request, detail())),
    }
}

/// `error.type` of an error answer (`{"error":{"type":…}}`), when it has one.
fn error_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        error: Option<serde_json::Value>,
    }
    let answer: Answer = serde_json::from_slice(body).ok()?;
    answer.error?.get("type")?.as_str().map(str::to_string)
}

/// The whole-batch rule: when every item of a batch of two or more would be a dead letter, and
/// all for the same error type, the documents are not the problem — the target's mapping is (a
/// foreign template, a field mapped another way). `dead` holds each such item's error type.
pub fn shared_by_every_item<'a>(
    batch_len: usize,
    mut dead: impl Iterator<Item = &'a str>,
    first_reason: &str,
) -> Option<Refusal> {
    if batch_len < 2 {
        return None;
    }
    let first = dead.next()?;
    let mut count = 1;
    for kind in dead {
        if kind != first {
            return None;
        }
        count += 1;
    }
    (count == batch_len).then(|| {
        Refusal::new(
            RefusalKind::EveryDocument,
            format!("all {batch_len} documents: {first_reason}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fate(status: u16, kind: &str, reason: &str) -> ItemFate {
        item(status, ErrorShape { kind, reason }, || {
            format!("{kind}: {reason}")
        })
    }

    #[test]
    fn items_placed_retried_dead_lettered_or_refused() {
        assert_eq!(fate(201, "", ""), ItemFate::Indexed);
        assert_eq!(fate(200, "", ""), ItemFate::Indexed);
        assert_eq!(
            fate(409, "version_conflict_engine_exception", "exists"),
            ItemFate::AlreadyPresent
        );
        for (status, kind) in [
            (429, "es_rejected_execution_exception"),
            (503, "unavailable_shards_exception"),
            (403, "cluster_block_exception"),
            (429, "cluster_block_exception"),
            (408, ""),
        ] {
            assert!(
                matches!(fate(status, kind, "r"), ItemFate::Retry(_)),
                "{status} {kind}"
            );
        }
        let ids = fate(400, "illegal_argument_exception", ID_REFUSAL_REASON);
        assert!(
            matches!(&ids, ItemFate::Refused(r) if r.kind == RefusalKind::IdsNotSupported),
            "{ids:?}"
        );
        let denied = fate(
            403,
            "security_exception",
            "no permissions for [indices:data/write/bulk[s]]",
        );
        assert!(matches!(denied, ItemFate::Refused(r) if r.kind == RefusalKind::Privileges));
        assert!(matches!(
            fate(404, "index_not_found_exception", "no such index [alb-logs-2026.11.01]"),
            ItemFate::Refused(r) if r.kind == RefusalKind::IndexMissing
        ));
        assert!(matches!(
            fate(401, "security_exception", "unable to authenticate"),
            ItemFate::Refused(r) if r.kind == RefusalKind::Authentication
        ));
        for kind in [
            "mapper_parsing_exception",
            "document_parsing_exception",
            "strict_dynamic_mapping_exception",
            "illegal_argument_exception",
        ] {
            assert!(
                matches!(
                    fate(400, kind, "failed to parse field [source.ip]"),
                    ItemFate::DeadLetter { status: 400, .. }
                ),
                "{kind}"
            );
        }
    }

    #[test]
    fn whole_requests() {
        let detail = || "d".to_string();
        assert_eq!(request(200, b"{}", true, detail), RequestFate::Items);
        assert_eq!(request(413, b"", true, detail), RequestFate::TooLarge);
        assert_eq!(request(415, b"", true, detail), RequestFate::GzipRefused);
        assert!(matches!(
            request(400, b"", false, detail),
            RequestFate::Refused(_)
        ));
        assert!(matches!(
            request(503, b"", false, detail),
            RequestFate::Retry(_)
        ));
        let block = br#"{"error":{"type":"cluster_block_exception","reason":"blocked by: [FORBIDDEN/8/index write (api)];"},"status":403}"#;
        assert!(matches!(
            request(403, block, true, detail),
            RequestFate::Retry(_)
        ));
        let denied =
            br#"{"error":{"type":"security_exception","reason":"no permissions"},"status":403}"#;
        assert!(matches!(
            request(403, denied, true, detail),
            RequestFate::Refused(r) if r.kind == RefusalKind::Privileges
        ));
        assert!(matches!(
            request(401, b"Unauthorized", true, detail),
            RequestFate::Refused(r) if r.kind == RefusalKind::Authentication
        ));
    }

    #[test]
    fn an_error_on_every_item_of_a_batch_is_the_targets() {
        let kinds = ["mapper_parsing_exception"; 3];
        let refusal = shared_by_every_item(3, kinds.iter().copied(), "r").unwrap();
        assert_eq!(refusal.kind, RefusalKind::EveryDocument);
        assert!(refusal.to_string().contains("_simulate_index"), "{refusal}");
        // Some documents only, a single document, or different errors: the documents'.
        assert!(shared_by_every_item(4, kinds.iter().copied(), "r").is_none());
        assert!(shared_by_every_item(1, kinds[..1].iter().copied(), "r").is_none());
        let mixed = ["mapper_parsing_exception", "illegal_argument_exception"];
        assert!(shared_by_every_item(2, mixed.iter().copied(), "r").is_none());
    }
}
