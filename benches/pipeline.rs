//! The ingest pipeline without the network, on one thread: a gzip object in memory → the `_bulk`
//! request bodies [`albingest::ingest::build_bulk_bodies`] would hand to the sender. Each stage is
//! timed on its own by running the pipeline up to it, so the split is the difference between
//! consecutive rows.
//!
//! ```text
//! cargo bench --bench pipeline                    # benches/data/alb-5000.log.gz, 40 times over
//! cargo bench --bench pipeline -- OBJECT.log.gz   # any object, e.g. from gen_alb.py --gzip
//! taskset -c 0 cargo bench --bench pipeline       # pinned to one core
//! ```
//!
//! `ALBINGEST_BENCH_RUNS` (default 3): runs per stage; the best is reported. Times are the
//! thread's own CPU time (`/proc/thread-self/schedstat`), so that other work on a shared machine
//! does not count; wall time where that file is missing.

use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use albingest::batch::DEFAULT_BATCH_BYTES;
use albingest::bulk::IndexPrefixes;
use albingest::decompress::decode;
use albingest::ingest::build_bulk_bodies;
use albingest::lines::LineReader;
use albingest::object_key::ObjectInfo;
use albingest::parse::Parser;
use albingest::pipeline::{for_each_document, ParseStats, ReadError};

const KEY: &str = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/24/123456789012_elasticloadbalancing_us-east-1_app.prod.50dc6c495c0c9188_20261124T1005Z_10.0.0.1_abcd1234.log.gz";

fn main() {
    let path = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let (name, object) = match path {
        Some(path) => {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            (path, bytes)
        }
        None => {
            // Gzip members one after another are one valid object (multi-member gzip).
            let one = std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/benches/data/alb-5000.log.gz"
            ))
            .expect("benches/data/alb-5000.log.gz");
            ("alb-5000.log.gz × 40".to_string(), one.repeat(40))
        }
    };
    let runs: usize = std::env::var("ALBINGEST_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);

    let parser = Parser::embedded();
    let prefixes = IndexPrefixes::default();
    let info = ObjectInfo::s3("bench-bucket", KEY);
    // Shared, not copied: every run reads the same bytes from memory.
    let object: std::sync::Arc<[u8]> = object.into();
    let reader = || -> Box<dyn Read + Send> {
        decode(Cursor::new(std::sync::Arc::clone(&object)))
            .expect("in memory")
            .reader
    };

    let mut decompressed = 0u64;
    let gunzip = best_of(runs, || {
        let mut reader = reader();
        let mut buffer = vec![0u8; 256 * 1024];
        decompressed = 0;
        loop {
            match reader.read(&mut buffer).expect("gunzip") {
                0 => break,
                n => decompressed += n as u64,
            }
        }
    });
    let mut line_count = 0u64;
    let lines = best_of(runs, || {
        let mut lines = LineReader::new(reader());
        line_count = 0;
        while lines.next_line().expect("lines").is_some() {
            line_count += 1;
        }
    });
    let parse = best_of(runs, || {
        for_each_document(
            &parser,
            &info,
            reader(),
            &mut ParseStats::default(),
            |parsed, _| {
                std::hint::black_box(parsed);
                Ok::<(), ReadError>(())
            },
        )
        .expect("parse");
    });
    let body_bytes = AtomicU64::new(0);
    let gzipped_bytes = AtomicU64::new(0);
    let bodies = |gzip: bool| {
        best_of(runs, || {
            body_bytes.store(0, Ordering::Relaxed);
            gzipped_bytes.store(0, Ordering::Relaxed);
            build_bulk_bodies(
                &parser,
                &prefixes,
                &info,
                reader(),
                DEFAULT_BATCH_BYTES,
                gzip,
                &|batch| {
                    body_bytes.fetch_add(batch.body_bytes() as u64, Ordering::Relaxed);
                    let gzipped = batch.gzipped_bytes().unwrap_or(0) as u64;
                    gzipped_bytes.fetch_add(gzipped, Ordering::Relaxed);
                },
            )
            .expect("bodies");
        })
    };
    let serialize = bodies(false);
    let compress = bodies(true);

    let mb = decompressed as f64 / 1e6;
    println!(
        "pipeline: {name}: {:.1} MB gzip, {mb:.1} MB decompressed, {line_count} lines; bodies {:.1} MB, gzipped {:.1} MB; best of {runs}, one thread, CPU seconds",
        object.len() as f64 / 1e6,
        body_bytes.load(Ordering::Relaxed) as f64 / 1e6,
        gzipped_bytes.load(Ordering::Relaxed) as f64 / 1e6,
    );
    println!(
        "{:<44} {:>9} {:>14} {:>10}",
        "up to", "seconds", "MB/s (input)", "stage s"
    );
    let rows = [
        ("gunzip", gunzip),
        ("+ split lines", lines),
        ("+ parse to documents", parse),
        ("+ serialize _bulk bodies (sent plain)", serialize),
        ("+ gzip the bodies (sent compressed)", compress),
    ];
    let mut before = Duration::ZERO;
    for (stage, took) in rows {
        println!(
            "{stage:<44} {:>9.3} {:>14.1} {:>10.3}",
            took.as_secs_f64(),
            mb / took.as_secs_f64(),
            took.saturating_sub(before).as_secs_f64()
        );
        before = took;
    }
}

fn best_of(runs: usize, mut run: impl FnMut()) -> Duration {
    (0..runs.max(1))
        .map(|_| {
            let (wall, cpu) = (Instant::now(), thread_cpu_time());
            run();
            match (cpu, thread_cpu_time()) {
                (Some(before), Some(after)) => after.saturating_sub(before),
                _ => wall.elapsed(),
            }
        })
        .min()
        .expect("at least one run")
}

/// Time this thread has spent on a CPU (Linux: the first field of its schedstat, in ns).
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}
