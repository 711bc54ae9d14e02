//! The parser alone, no I/O: grok matching, document building, JSON serialization.
//!
//! `cargo bench --bench parse`. Input: 5,000 generated ALB lines (`gen_alb.py --seed 7`), and
//! 5,000 health check lines made here from AWS's documented shapes (group `parse-health-check`);
//! group `parse-enrichment`: the ALB lines with and without GeoIP + user-agent enrichment.

use std::io::Read;

use albingest::enrich::Enricher;
use albingest::format::LogFormat;
use albingest::object_key::ObjectInfo;
use albingest::parse::Parser;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn lines() -> Vec<String> {
    let gz = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/data/alb-5000.log.gz"
    ))
    .expect("bench data");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .expect("gzip");
    text.lines().map(str::to_string).collect()
}

fn bench(c: &mut Criterion) {
    let lines = lines();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let parser = Parser::embedded();
    let object = ObjectInfo::s3(
        "bucket",
        "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/24/123456789012_elasticloadbalancing_us-east-1_app.prod.50dc6c495c0c9188_20261124T1005Z_10.0.0.1_abcd1234.log.gz",
    );
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes as u64));

    let pattern = parser.pattern(LogFormat::Alb);
    let mut caps = pattern.new_captures();
    group.bench_function("grok match (fast plan)", |b| {
        b.iter(|| {
            for l in &lines {
                let _ = std::hint::black_box(pattern.match_line(l.as_bytes(), &mut caps));
            }
        })
    });
    group.bench_function("grok match (whole-line regex)", |b| {
        b.iter(|| {
            for l in &lines {
                std::hint::black_box(pattern.match_regex(l.as_bytes(), &mut caps));
            }
        })
    });
    let mut scratch = parser.scratch();
    group.bench_function("line to document", |b| {
        b.iter(|| {
            for (i, l) in lines.iter().enumerate() {
                std::hint::black_box(parser.parse(&object, l, i as u64, &mut scratch));
            }
        })
    });
    let mut out = Vec::with_capacity(8 << 20);
    group.bench_function("line to JSON", |b| {
        b.iter(|| {
            out.clear();
            for (i, l) in lines.iter().enumerate() {
                let parsed = parser.parse(&object, l, i as u64, &mut scratch);
                albingest::json::write(&mut out, &parsed.document);
                out.push(b'\n');
            }
            std::hint::black_box(out.len())
        })
    });
    let parsed: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| parser.parse(&object, l, i as u64, &mut scratch))
        .collect();
    group.bench_function("document to JSON", |b| {
        b.iter(|| {
            out.clear();
            for p in &parsed {
                albingest::json::write(&mut out, &p.document);
            }
            std::hint::black_box(out.len())
        })
    });
    group.finish();
}

/// Health check lines: AWS's two examples, a Lambda target, IPv6, a timeout, the 10-field form.
fn health_check_lines() -> Vec<String> {
    (0..5000)
        .map(|i| {
            let time = format!("2025-11-21T10:{:02}:{:02}.{:06}Z", i / 60 % 60, i % 60, i);
            match i % 6 {
                0 => format!("http {time} 0.019584011 172.31.20.97:80 HCLogsTestIPs PASS 200 -"),
                1 => format!("http {time} 1.121980746 172.31.31.9:80 HCLogsTestIPs FAIL 502 TargetError"),
                2 => format!("lambda {time} 0.215 arn:aws:lambda:us-east-1:123456789012:function:f tg-lambda PASS 200 -"),
                3 => format!("https {time} 0.003215 2600:1f18:4a2b:c100:9e1d:27f4:5a1b:3c2d:443 tg-v6 PASS 200 -"),
                4 => format!("http {time} 5.000123456 172.31.20.97:8080 HCLogsTestIPs FAIL - TimedOut"),
                _ => format!("h2 {time} 0.004 10.0.1.20:443 tg-h2 FAIL 404 ResponseCodeMismatch app/my-lb/50dc6c495c0c9188 10.0.0.15"),
            }
        })
        .collect()
}

fn bench_health_check(c: &mut Criterion) {
    let lines = health_check_lines();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let parser = Parser::embedded();
    let object = ObjectInfo::s3(
        "bucket",
        "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2025/11/21/health_check_log_123456789012_elasticloadbalancing_us-east-1_app.prod.50dc6c495c0c9188_20251121T1005Z_10.0.0.1_abcd1234.log.gz",
    );
    let mut group = c.benchmark_group("parse-health-check");
    group.throughput(Throughput::Bytes(bytes as u64));
    let pattern = parser.pattern(LogFormat::AlbHealthCheck);
    let mut caps = pattern.new_captures();
    group.bench_function("grok match (fast plan)", |b| {
        b.iter(|| {
            for l in &lines {
                let _ = std::hint::black_box(pattern.match_line(l.as_bytes(), &mut caps));
            }
        })
    });
    let mut scratch = parser.scratch();
    group.bench_function("line to document", |b| {
        b.iter(|| {
            for (i, l) in lines.iter().enumerate() {
                std::hint::black_box(parser.parse(&object, l, i as u64, &mut scratch));
            }
        })
    });
    group.finish();
}

/// The public addresses of MaxMind's test databases (`tests/fixtures/geoip/expected.json`), so
/// that every enriched line's lookup finds a record in one database or both, as nearly every
/// address does in the real GeoLite2 City: misses would flatter the enriched figure.
fn test_db_addresses() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/geoip/expected.json"
    ))
    .expect("expected.json");
    let cases: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut ips: Vec<String> = ["city", "asn"]
        .iter()
        .flat_map(|db| cases[db].as_array().expect("cases").clone())
        .map(|c| c["ip"].as_str().expect("ip").to_owned())
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

/// The same lines with and without enrichment (GeoIP City + ASN, user agent), one thread: the
/// issue 16 target is enriched ≥ 75 % of the throughput without.
fn bench_enrichment(c: &mut Criterion) {
    let addresses = test_db_addresses();
    // Each line's client (4th field) replaced by a test-database address, port kept.
    let lines: Vec<String> = lines()
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut fields: Vec<&str> = l.splitn(5, ' ').collect();
            let port = fields[3].rsplit(':').next().unwrap_or("1");
            let client = format!("{}:{port}", addresses[i % addresses.len()]);
            fields[3] = &client;
            fields.join(" ")
        })
        .collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let db = |name: &str| {
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/geoip"))
            .join(name)
    };
    let object = ObjectInfo::s3(
        "bucket",
        "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/24/123456789012_elasticloadbalancing_us-east-1_app.prod.50dc6c495c0c9188_20261124T1005Z_10.0.0.1_abcd1234.log.gz",
    );
    let plain = Parser::embedded();
    let enriched = Parser::embedded().enrich(
        Enricher::open(
            Some(&db("GeoLite2-City-Test.mmdb")),
            Some(&db("GeoLite2-ASN-Test.mmdb")),
            true,
        )
        .expect("test databases"),
    );
    let mut group = c.benchmark_group("parse-enrichment");
    group.throughput(Throughput::Bytes(bytes as u64));
    let mut out = Vec::with_capacity(8 << 20);
    for (name, parser) in [
        ("line to JSON, no enrichment", &plain),
        ("line to JSON, GeoIP City + ASN + user agent", &enriched),
    ] {
        let mut scratch = parser.scratch();
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                for (i, l) in lines.iter().enumerate() {
                    // What `pipeline`'s parse_line does: parse, then enrich.
                    let mut parsed = parser.parse(&object, l, i as u64, &mut scratch);
                    parser.enricher().enrich(&mut parsed, &mut scratch.enrich);
                    albingest::json::write(&mut out, &parsed.document);
                    out.push(b'\n');
                }
                std::hint::black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench, bench_health_check, bench_enrichment);
criterion_main!(benches);
