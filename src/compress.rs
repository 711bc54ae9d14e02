//! Gzip for `_bulk` request bodies: [`gzip`] compresses a finished body in one call, [`gunzip`]
//! gives it back when items must be re-sent or dead-lettered. The batch code calls only these two.
//!
//! libdeflate (level 1) rather than zlib's fast level: on `_bulk` NDJSON of ALB logs it costs the
//! same CPU (~0.09 s for 37.6 MB on one core here) and writes 7.2× smaller bodies instead of
//! 5.2× (BENCHMARKS.md). A body is complete in memory before it is compressed, which is the
//! one-shot interface libdeflate offers.

use std::cell::RefCell;

use bytes::Bytes;
use libdeflater::{CompressionLvl, Compressor, Decompressor};

/// libdeflate's level 1, its fastest that compresses (its `fastest()` is level 0: stored).
const LEVEL: i32 = 1;

thread_local! {
    /// Per thread: the compressor state and an output buffer, reused from body to body.
    static GZIP: RefCell<(Compressor, Vec<u8>)> =
        RefCell::new((Compressor::new(level()), Vec::new()));
}

fn level() -> CompressionLvl {
    CompressionLvl::new(LEVEL).unwrap_or_default()
}

/// A finished body, gzip-compressed (one gzip member, as `Content-Encoding: gzip` expects).
pub fn gzip(plain: &[u8]) -> Bytes {
    GZIP.with_borrow_mut(|(compressor, out)| {
        // NDJSON compresses ~7×: a quarter of the input is room enough nearly always, and keeps
        // the buffer (zeroed, so resident) small; the worst-case bound only when it is not.
        let room = plain.len() / 4 + 64 * 1024;
        if out.len() < room {
            out.resize(room, 0);
        }
        let n = match compressor.gzip_compress(plain, out) {
            Ok(n) => n,
            Err(_) => {
                out.resize(compressor.gzip_compress_bound(plain.len()), 0);
                compressor
                    .gzip_compress(plain, out)
                    .expect("the output buffer is the bound libdeflate gives")
            }
        };
        // Copied out at its own size: the bodies in flight keep only their compressed bytes.
        Bytes::copy_from_slice(&out[..n])
    })
}

/// The plain form of a body [`gzip`] made.
pub fn gunzip(gzipped: &[u8]) -> Bytes {
    let mut plain = vec![0; plain_size(gzipped)];
    let n = Decompressor::new()
        .gzip_decompress(gzipped, &mut plain)
        .expect("a body this process compressed in memory");
    plain.truncate(n);
    Bytes::from(plain)
}

/// The uncompressed size a gzip member records in its last four bytes (ISIZE, RFC 1952 2.3.1:
/// the size modulo 2^32; bodies are far smaller).
fn plain_size(gzipped: &[u8]) -> usize {
    match gzipped.len().checked_sub(4).map(|at| &gzipped[at..]) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::{write_action, IndexPrefixes, ObjectHash};
    use crate::decompress::decode;
    use crate::object_key::ObjectInfo;
    use crate::parse::Parser;
    use crate::pipeline::{for_each_document, ReadError};
    use std::io::Read;

    /// `_bulk` NDJSON of the bench sample's first `lines` lines, as `albingest ingest` writes it.
    fn bulk_body(lines: usize) -> Vec<u8> {
        let object = include_bytes!("../benches/data/alb-5000.log.gz");
        let info = ObjectInfo::s3(
            "bucket",
            "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/24/123456789012_elasticloadbalancing_us-east-1_app.prod.50dc6c495c0c9188_20261124T1005Z_10.0.0.1_abcd1234.log.gz",
        );
        let parser = Parser::embedded();
        let prefixes = IndexPrefixes::default();
        let ids = ObjectHash::new(info.bucket.as_deref(), &info.key);
        let reader = decode(std::io::Cursor::new(&object[..])).unwrap().reader;
        let mut body = Vec::new();
        let mut left = lines;
        for_each_document(&parser, &info, reader, |parsed, line| {
            if left == 0 {
                return Ok(());
            }
            left -= 1;
            let index = prefixes.index_name(parsed);
            write_action(&mut body, &index, ids.document_id(line.offset).as_str());
            crate::json::write(&mut body, &parsed.document);
            body.push(b'\n');
            Ok::<(), ReadError>(())
        })
        .unwrap();
        body
    }

    #[test]
    fn bodies_round_trip_through_a_standard_gzip_decoder() {
        let body = bulk_body(500);
        let gzipped = gzip(&body);
        // What a search server does with `Content-Encoding: gzip`: any RFC 1952 decoder.
        let mut decoded = Vec::new();
        flate2::read::MultiGzDecoder::new(&gzipped[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, body);
        assert_eq!(&gunzip(&gzipped)[..], &body[..]);
        assert_eq!(&gunzip(&gzip(b""))[..], b"");
        // Bytes that do not compress take the worst-case output buffer.
        let mut rng = fastrand::Rng::with_seed(7);
        let noise: Vec<u8> = (0..1 << 20).map(|_| rng.u8(..)).collect();
        assert_eq!(&gunzip(&gzip(&noise))[..], &noise[..]);
    }

    #[test]
    fn bodies_compress_at_least_seven_times_at_the_fast_level() {
        // The documents are 3.5× the log lines: what goes over the network (and waits in memory
        // while in flight) is this ratio's business.
        let body = bulk_body(5000);
        let ratio = body.len() as f64 / gzip(&body).len() as f64;
        assert!(ratio >= 7.0, "compression ratio {ratio:.2}");
    }
}
