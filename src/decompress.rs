//! Plain or gzip, told apart by the first two bytes (objects are gzip; Classic ELB's are not;
//! a user's local files may be either). Gzip may hold several members: all are read.

use std::io::{self, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BUFFER: usize = 256 * 1024;

/// Counts the bytes read from the underlying (compressed) source.
pub struct CountingReader<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// A decompressed stream and what it was.
pub struct Decoded {
    pub reader: Box<dyn Read + Send>,
    pub gzip: bool,
    /// Bytes read from the source so far (compressed bytes for gzip).
    pub source_bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Wraps `source` in a gunzip stream when it starts with the gzip magic bytes.
pub fn decode<R: Read + Send + 'static>(source: R) -> io::Result<Decoded> {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut counted = CountingReader {
        inner: source,
        count: count.clone(),
    };
    // Read the magic bytes one by one if need be: a stream may answer its first read with one.
    let mut head = [0u8; 2];
    let mut read = 0;
    while read < head.len() {
        match counted.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let gzip = head == GZIP_MAGIC;
    let head = io::Cursor::new(head).take(read as u64);
    let buffered = BufReader::with_capacity(BUFFER, head.chain(counted));
    // No buffer after the decoder: the line reader reads in large blocks itself.
    let reader: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    Ok(Decoded {
        reader,
        gzip,
        source_bytes: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_plain_gzip_and_multi_member_gzip() {
        let mut out = String::new();
        decode(io::Cursor::new(b"plain\n".to_vec()))
            .unwrap()
            .reader
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "plain\n");
        let mut two = gz(b"one\n");
        two.extend(gz(b"two\n"));
        let mut d = decode(io::Cursor::new(two)).unwrap();
        assert!(d.gzip);
        out.clear();
        d.reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "one\ntwo\n");
    }

    /// A source that answers one byte a read, as a network stream may.
    struct OneByteReads(io::Cursor<Vec<u8>>);

    impl Read for OneByteReads {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn gzip_is_recognised_when_the_source_answers_one_byte_a_read() {
        let mut d = decode(OneByteReads(io::Cursor::new(gz(b"one\n")))).unwrap();
        assert!(d.gzip);
        let mut out = String::new();
        d.reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "one\n");
        let mut d = decode(OneByteReads(io::Cursor::new(b"x".to_vec()))).unwrap();
        assert!(!d.gzip);
        out.clear();
        d.reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "x");
    }

    #[test]
    fn empty_input_is_plain_and_empty() {
        let mut d = decode(io::Cursor::new(Vec::new())).unwrap();
        assert!(!d.gzip);
        let mut out = Vec::new();
        d.reader.read_to_end(&mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn truncated_gzip_is_an_error_after_the_data_read() {
        let data = gz(&b"line of text\n".repeat(1000));
        let cut = data[..data.len() / 2].to_vec();
        let mut d = decode(io::Cursor::new(cut)).unwrap();
        let mut out = Vec::new();
        assert!(d.reader.read_to_end(&mut out).is_err());
    }
}
