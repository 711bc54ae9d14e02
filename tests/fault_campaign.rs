//! The fault campaign (issue 7): one large object through the fault double with a seeded random
//! mix of faults on every `_bulk` request, many seeds. After each seed's run: every line is in
//! the server exactly once or in the dead-letter output, the summary adds up, and a re-run through
//! the same faulty double adds nothing.
//!
//! Per `_bulk` request the double forwards it or answers a whole-request 429 / 413 / 500 / 503,
//! resets before or after forwarding, answers after the client's timeout, or faults single items
//! (429 / 503). Besides, the server refuses a few documents for good (item 400, a mapping error),
//! chosen by `_id`, so every run dead-letters the same ones.
//!
//! The faults depend on the seed and the request's content (its lines and how often that same
//! request came before), not on the order in which concurrent requests arrive, so a seed replays
//! the same faults (unless a request times out on its own on a busy machine, which changes what
//! comes after it for that batch): `ALBINGEST_FAULT_SEED=N cargo test --test fault_campaign` (add
//! `ALBINGEST_LONG=1` for a seed of the long configuration). Fast configuration (CI, default): one
//! fresh seed of 50,000 lines on the Elasticsearch 8 stand-in (noida, the faster one) and one of
//! 10,000 lines on the OpenSearch stand-in (osmem), the two at once. `ALBINGEST_LONG=1`
//! (`scripts/test --long`): 50,000 lines, 10 seeds on osmem and 5 on noida (noida keeps ~1.5 GB
//! per such seed even after its indices are deleted: more would exhaust a 24 GB machine).

// Test output: eprintln! is captured by the harness (clippy.toml disallows it for the binaries).
#![allow(clippy::disallowed_macros)]

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use albingest::bulk::ObjectHash;
use albingest::ingest::ObjectSummary;
use albingest::search::SearchClient;
use albingest::source::Source;
use opensearch::http::Method;
use serde_json::json;
use support::fault_proxy::{Action, FaultProxy, Flavour, Refusals, Request};
use support::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The days the object spans (one daily index each, and a failure index each).
const DAYS: usize = 4;
/// Every this many lines one does not parse (a failure document in `{prefix}-failed-…`).
const GARBAGE_EVERY: usize = 1000;
/// About one document in this many is refused by the server for good.
const REFUSE_ONE_IN: u64 = 500;
/// The client's `_bulk` timeout, above what the stand-ins take on a busy 2-core machine (a shorter
/// one makes slow answers pile up: every timed-out request still runs on the server). A slow
/// answer comes this much later than it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);
const SLOW_BY: Duration = Duration::from_millis(300);
const BATCH_BYTES: usize = 256 * 1024;

fn long() -> bool {
    std::env::var("ALBINGEST_LONG").is_ok_and(|v| v == "1")
}

/// `count` fresh seeds, or the one `ALBINGEST_FAULT_SEED` names.
fn seeds(count: usize) -> Vec<u64> {
    match std::env::var("ALBINGEST_FAULT_SEED") {
        Ok(seed) => vec![seed
            .parse()
            .unwrap_or_else(|_| panic!("ALBINGEST_FAULT_SEED={seed}: not a number"))],
        Err(_) => (0..count).map(|_| fastrand::u64(..1 << 48)).collect(),
    }
}

/// A number drawn from the seed and `parts`: the same inputs always give the same number.
fn draw(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut material = Vec::new();
    for part in parts {
        material.extend_from_slice(part);
        material.push(0xff);
    }
    xxh3_64_with_seed(&material, seed)
}

/// The line part of an `_id` (`{object hash}-{offset}`): the faults depend on it alone, since the
/// object's path, and with it the hash, differs from run to run.
fn line_of(id: &str) -> &str {
    id.rsplit('-').next().unwrap_or(id)
}

fn refused(seed: u64, id: &str) -> bool {
    draw(seed, &[b"refuse", line_of(id).as_bytes()]) % REFUSE_ONE_IN == 0
}

/// What the double does with one `_bulk` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Forward,
    /// Some items 429 / 503, the rest forwarded.
    ItemFaults,
    Rejected429,
    TooLarge413,
    ServerError500,
    Unavailable503,
    ResetBeforeForwarding,
    ForwardThenReset,
    AnswerAfterTheClientTimeout,
}

impl Fault {
    /// Per mille of `_bulk` requests.
    const WEIGHTS: [(Fault, u64); 9] = [
        (Fault::Forward, 700),
        (Fault::ItemFaults, 100),
        (Fault::Rejected429, 50),
        (Fault::TooLarge413, 30),
        (Fault::ServerError500, 25),
        (Fault::Unavailable503, 25),
        (Fault::ResetBeforeForwarding, 30),
        (Fault::ForwardThenReset, 25),
        (Fault::AnswerAfterTheClientTimeout, 15),
    ];

    fn pick(n: u64) -> Fault {
        let mut n = n % 1000;
        for (fault, weight) in Self::WEIGHTS {
            if n < weight {
                return fault;
            }
            n -= weight;
        }
        unreachable!("the weights add up to 1000")
    }

    /// Whether the client must send (part of) the request again.
    fn is_retried(self) -> bool {
        !matches!(self, Fault::Forward | Fault::TooLarge413)
    }
}

/// The seeded script and what it did.
struct Campaign {
    seed: u64,
    /// How often each request (by the hash of its `_id`s) has come.
    seen: Mutex<HashMap<u64, u64>>,
    tally: Mutex<BTreeMap<Fault, u64>>,
}

impl Campaign {
    fn new(seed: u64) -> Arc<Self> {
        Arc::new(Self {
            seed,
            seen: Mutex::default(),
            tally: Mutex::default(),
        })
    }

    fn action(&self, request: &Request) -> Action {
        if !request.is_bulk() {
            return Action::Forward;
        }
        let ids = request.bulk_ids();
        let lines: Vec<&str> = ids.iter().map(|id| line_of(id)).collect();
        let content = xxh3_64_with_seed(lines.join("\n").as_bytes(), 0);
        let attempt = {
            let mut seen = self.seen.lock().unwrap();
            let n = seen.entry(content).or_default();
            *n += 1;
            *n
        };
        let key = [content.to_le_bytes(), attempt.to_le_bytes()].concat();
        let mut fault = Fault::pick(draw(self.seed, &[b"request", &key]));
        // A server answers 413 to a large body, never to a single document that fits.
        if fault == Fault::TooLarge413 && ids.len() < 2 {
            fault = Fault::Forward;
        }
        *self.tally.lock().unwrap().entry(fault).or_default() += 1;
        match fault {
            Fault::Forward => Action::Forward,
            Fault::ItemFaults => {
                let seed = self.seed;
                Action::ItemFaults(Box::new(move |i| {
                    match draw(seed, &[b"item", &key, &i.to_le_bytes()]) % 100 {
                        0..8 => Some(429),
                        8..12 => Some(503),
                        _ => None,
                    }
                }))
            }
            Fault::Rejected429 => Action::rejected_429(),
            Fault::TooLarge413 => Action::too_large_413(),
            Fault::ServerError500 => Action::server_error(500),
            Fault::Unavailable503 => Action::server_error(503),
            Fault::ResetBeforeForwarding => Action::Reset,
            Fault::ForwardThenReset => Action::ForwardThenReset,
            Fault::AnswerAfterTheClientTimeout => {
                Action::ForwardThenDelay(CLIENT_TIMEOUT + SLOW_BY)
            }
        }
    }

    /// The faults so far, and how many of them make the client retry.
    fn tally(&self) -> (BTreeMap<Fault, u64>, u64) {
        let tally = self.tally.lock().unwrap().clone();
        let retried = tally
            .iter()
            .filter(|(fault, _)| fault.is_retried())
            .map(|(_, n)| n)
            .sum();
        (tally, retried)
    }
}

/// The generated object and where each of its lines must end up.
struct Object {
    path: PathBuf,
    lines: u64,
    failures: u64,
    bytes: u64,
    decompressed_bytes: u64,
    /// `(_id, index)` per line.
    lines_to: Vec<(String, String)>,
}

impl Object {
    /// `lines` ALB lines over [`DAYS`] days; every [`GARBAGE_EVERY`]th does not parse.
    fn generate(dir: &Path, lines: usize, prefix: &str) -> Self {
        let time_of = |i: usize| {
            let day = i * DAYS / lines;
            let second = (i * DAYS * 86_400 / lines) % 86_400;
            format!(
                "2026-11-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                1 + day,
                second / 3600,
                second / 60 % 60,
                second % 60,
                i % 1_000_000
            )
        };
        // Local files are known by their canonical path (the ids hash it, documents and dead
        // letters name it).
        let path = std::fs::canonicalize(dir).unwrap().join("123456789012_elasticloadbalancing_us-east-1_app.campaign-alb.50dc6c495c0c9188_20261105T0000Z_10.0.1.15_campaign.log.gz");
        let ids = ObjectHash::new(None, &path.display().to_string());
        let mut text = String::new();
        let mut lines_to = Vec::with_capacity(lines);
        let mut failures = 0;
        for (i, line) in alb_lines_at(lines, time_of).lines().enumerate() {
            let time = time_of(i);
            let date = time[..10].replace('-', ".");
            let id = ids.document_id(text.len() as u64).to_string();
            if i % GARBAGE_EVERY == GARBAGE_EVERY - 1 {
                failures += 1;
                text.push_str(&format!("https {time} this line is broken"));
                lines_to.push((id, format!("{prefix}-failed-{date}")));
            } else {
                text.push_str(line);
                lines_to.push((id, format!("{prefix}-{date}")));
            }
            text.push('\n');
        }
        let compressed = gzip(text.as_bytes());
        std::fs::write(&path, &compressed).unwrap();
        Self {
            path,
            lines: lines as u64,
            failures,
            bytes: compressed.len() as u64,
            decompressed_bytes: text.len() as u64,
            lines_to,
        }
    }

    fn refused_ids(&self, seed: u64) -> BTreeSet<&str> {
        self.lines_to
            .iter()
            .map(|(id, _)| id.as_str())
            .filter(|id| refused(seed, id))
            .collect()
    }

    /// index → documents it must hold.
    fn expected_indices(&self, seed: u64) -> Vec<(String, u64)> {
        let mut counts = BTreeMap::<String, u64>::new();
        for (id, index) in &self.lines_to {
            if !refused(seed, id) {
                *counts.entry(index.clone()).or_default() += 1;
            }
        }
        counts.into_iter().collect()
    }
}

/// The summary adds up for a complete run of `object`.
fn assert_summary(context: &str, object: &Object, refused: u64, s: &ObjectSummary) {
    assert_eq!(
        (s.lines, s.documents, s.failures),
        (object.lines, object.lines, object.failures),
        "{context}: lines, documents, failure documents: {s}"
    );
    assert_eq!(
        s.indexed + s.already_present + s.dead_lettered,
        s.lines,
        "{context}: lines = indexed + already present + dead-lettered: {s}"
    );
    assert_eq!(s.unplaced, 0, "{context}: {s}");
    assert_eq!(s.dead_lettered, refused, "{context}: {s}");
    assert_eq!(
        s.by_format.iter().sum::<u64>(),
        s.documents,
        "{context}: documents by format: {:?}",
        s.by_format
    );
    assert_eq!(
        (s.bytes_in, s.bytes_decompressed),
        (object.bytes, object.decompressed_bytes),
        "{context}: bytes read: {s}"
    );
    assert!(s.bytes_out > 0, "{context}: {s}");
}

/// The dead-letter output holds each refused document once, with the server's reason.
fn assert_dead_letters(
    context: &str,
    dir: &Path,
    object: &Object,
    seed: u64,
    flavour: Flavour,
    summary: &ObjectSummary,
) {
    let records = dead_letter_records(dir);
    let mut ids = BTreeMap::<String, u64>::new();
    for record in &records {
        *ids.entry(record["_id"].as_str().unwrap().to_string())
            .or_default() += 1;
        let reason = record["reason"].as_str().unwrap_or_default();
        let kind = match flavour {
            Flavour::OpenSearch => "mapper_parsing_exception",
            Flavour::Elasticsearch => "document_parsing_exception",
        };
        assert!(
            record["status"] == 400 && reason.starts_with(kind),
            "{context}: {record}"
        );
        let line = object
            .lines_to
            .iter()
            .find(|(id, _)| id == &record["_id"])
            .unwrap_or_else(|| panic!("{context}: a dead letter of no line: {record}"));
        assert_eq!(record["_index"], line.1.as_str(), "{context}: {record}");
        assert_eq!(
            record["object"],
            object.path.display().to_string(),
            "{context}"
        );
        assert!(record["document"]["@timestamp"].is_string(), "{context}");
    }
    let twice: Vec<_> = ids.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{context}: dead-lettered twice: {twice:?}"
    );
    let expected = object.refused_ids(seed);
    let got: BTreeSet<&str> = ids.keys().map(String::as_str).collect();
    assert_eq!(
        got, expected,
        "{context}: the dead letters are the refused documents"
    );
    assert_eq!(
        summary.dead_letter_locations.is_empty(),
        expected.is_empty(),
        "{context}: {:?}",
        summary.dead_letter_locations
    );
    for location in &summary.dead_letter_locations {
        assert!(
            Path::new(location).starts_with(dir),
            "{context}: {location} is not in {}",
            dir.display()
        );
    }
}

/// What the server holds is the object less the refused documents, each once.
async fn assert_stored(
    context: &str,
    client: &SearchClient,
    prefix: &str,
    object: &Object,
    seed: u64,
) {
    assert_eq!(
        indices(client, prefix).await,
        object.expected_indices(seed),
        "{context}: documents per daily index"
    );
    let refused: Vec<&str> = object.refused_ids(seed).into_iter().collect();
    let found = get_json(
        client,
        Method::Post,
        &format!("/{prefix}-*/_count"),
        Some(json!({"query": {"ids": {"values": refused}}})),
    )
    .await;
    assert_eq!(
        found["count"], 0,
        "{context}: refused documents are not stored"
    );
}

/// One seed: the object through the faulty double, then again through it.
async fn run_seed(server: &Server, flavour: Flavour, object_lines: usize, seed: u64, test: &str) {
    let started = Instant::now();
    let long_env = if long() { "ALBINGEST_LONG=1 " } else { "" };
    let context = format!(
        "seed {seed} on {} ({object_lines} lines; replay: {long_env}ALBINGEST_FAULT_SEED={seed} cargo test --test fault_campaign {test})",
        server.name
    );
    eprintln!("fault campaign: {context}");
    // Names of the same length in every run: the documents carry them (index, `log.file.path`),
    // and the batches, so the requests, so the faults, follow the documents' sizes.
    let prefix = format!("campaign-{:016x}", xxh3_64(unique("campaign").as_bytes()));
    let dir = TempDir(std::env::temp_dir().join(&prefix));
    std::fs::create_dir_all(dir.path()).unwrap();
    let object = Object::generate(dir.path(), object_lines, &prefix);
    let refused_count = object.refused_ids(seed).len() as u64;
    let dead_letter_dir = dir.path().join("dead-letter");
    let campaign = Campaign::new(seed);
    let script = campaign.clone();
    let proxy = FaultProxy::start_refusing(
        &server.url,
        Refusals {
            flavour,
            refuses: Box::new(move |id| refused(seed, id)),
        },
        move |request, _| script.action(request),
    )
    .await;
    let mut setup = Setup::new(&proxy.url, &prefix, &dead_letter_dir);
    setup.policy.request_timeout = CLIENT_TIMEOUT;
    // Room for a run of faults on one batch while the machine is busy: a batch that gives up
    // fails the seed.
    setup.policy.max_retry_time = Duration::from_secs(60);
    setup.batch_bytes = BATCH_BYTES;
    setup.install_templates(&server.url).await;
    let client = search_client(&server.url).await;
    let source = Source::File(object.path.clone());

    let first = setup
        .ingester()
        .await
        .ingest(&source, None)
        .await
        .unwrap_or_else(|e| panic!("{context}: {e}"));
    let (tally, retried) = campaign.tally();
    assert_summary(&context, &object, refused_count, &first);
    assert!(
        retried > 0 && first.retries > 0,
        "{context}: faults {tally:?}: {first}"
    );
    assert_stored(&context, &client, &prefix, &object, seed).await;
    assert_dead_letters(&context, &dead_letter_dir, &object, seed, flavour, &first);
    let dead_letter_files = files_under(&dead_letter_dir);

    let again = setup
        .ingester()
        .await
        .ingest(&source, None)
        .await
        .unwrap_or_else(|e| panic!("{context}, re-run: {e}"));
    let rerun = format!("{context}, re-run");
    assert_summary(&rerun, &object, refused_count, &again);
    assert_eq!(
        (again.indexed, again.already_present),
        (0, object.lines - refused_count),
        "{rerun}: adds nothing: {again}"
    );
    assert_stored(&rerun, &client, &prefix, &object, seed).await;
    assert_dead_letters(&rerun, &dead_letter_dir, &object, seed, flavour, &again);
    assert_eq!(
        files_under(&dead_letter_dir),
        dead_letter_files,
        "{rerun}: the dead letters are overwritten in place"
    );
    let (tally, _) = campaign.tally();
    eprintln!(
        "fault campaign: seed {seed} on {} passed in {:.0?}: faults {tally:?}, {} refused items answered; first run: {}; re-run: {}",
        server.name,
        started.elapsed(),
        proxy.refused.load(std::sync::atomic::Ordering::SeqCst),
        first.counts(),
        again.counts()
    );
    // Passed: give the server its memory back (a failed seed's indices stay, to look at).
    for (index, _) in indices(&client, &prefix).await {
        get_json(&client, Method::Delete, &format!("/{index}"), None).await;
    }
}

/// Runs the seeds of one server's configuration: `(lines, seeds)`, fast and `--long`.
async fn campaign(
    test: &str,
    server: usize,
    flavour: Flavour,
    fast: (usize, usize),
    long_run: (usize, usize),
) {
    let Some(servers) = search_servers(test) else {
        return;
    };
    let (lines, seed_count) = if long() { long_run } else { fast };
    for seed in seeds(seed_count) {
        run_seed(&servers[server], flavour, lines, seed, test).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_campaign_on_the_opensearch_api() {
    campaign(
        "fault_campaign_on_the_opensearch_api",
        0,
        Flavour::OpenSearch,
        (10_000, 1),
        (50_000, 10),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_campaign_on_the_elasticsearch_api() {
    campaign(
        "fault_campaign_on_the_elasticsearch_api",
        1,
        Flavour::Elasticsearch,
        (50_000, 1),
        (50_000, 5),
    )
    .await;
}
