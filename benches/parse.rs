//! The parser alone, no I/O: grok matching, document building, JSON serialization.
//!
//! `cargo bench --bench parse`. Input: 5,000 generated ALB lines (`gen_alb.py --seed 7`).

use std::io::Read;

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

criterion_group!(benches, bench);
criterion_main!(benches);
