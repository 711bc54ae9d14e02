//! Gzip for `_bulk` request bodies: [`gzip`] compresses a finished body in one call, [`gunzip`]
//! gives it back when items must be re-sent or dead-lettered. The batch code calls only these two.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::write::GzEncoder;

/// A finished body, gzip-compressed (one gzip member, as `Content-Encoding: gzip` expects).
pub fn gzip(plain: &[u8]) -> Bytes {
    // Level 1: NDJSON of logs compresses ~8× at that level already; higher levels cost CPU that
    // the parser needs more.
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(plain.len() / 6),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(plain)
        .expect("writing to a Vec cannot fail");
    Bytes::from(encoder.finish().expect("writing to a Vec cannot fail"))
}

/// The plain form of a body [`gzip`] made.
pub fn gunzip(gzipped: &[u8]) -> Bytes {
    let mut plain = Vec::with_capacity(plain_size(gzipped));
    flate2::read::GzDecoder::new(gzipped)
        .read_to_end(&mut plain)
        .expect("a body this process compressed in memory");
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
    use crate::pipeline::{for_each_document, ParseStats, ReadError};

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
        for_each_document(
            &parser,
            &info,
            reader,
            &mut ParseStats::default(),
            |parsed, line| {
                if left == 0 {
                    return Ok(());
                }
                left -= 1;
                let index = prefixes.index_name(parsed);
                write_action(
                    &mut body,
                    &index,
                    Some(ids.document_id(line.offset).as_str()),
                );
                crate::json::write(&mut body, &parsed.document);
                body.push(b'\n');
                Ok::<(), ReadError>(())
            },
        )
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
    }
}
