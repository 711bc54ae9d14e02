//! Lines of a decompressed stream with their byte offsets, in bounded memory.

use std::borrow::Cow;
use std::io::{self, BufRead};

/// Lines longer than this are cut here (the failure document says so); ALB's longest real lines
/// are a few tens of KB (user agents are truncated at 8 KB).
pub const MAX_LINE: usize = 1 << 20;

/// One line, without its `\n` / `\r\n`.
#[derive(Debug)]
pub struct Line<'a> {
    /// Byte offset of the line's first byte in the decompressed stream.
    pub offset: u64,
    /// 1-based line number.
    pub number: u64,
    /// The text; bytes that are not UTF-8 are replaced with U+FFFD.
    pub text: Cow<'a, str>,
    /// The line was longer than [`MAX_LINE`] and was cut.
    pub truncated: bool,
}

pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    offset: u64,
    number: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::with_capacity(4096),
            offset: 0,
            number: 0,
        }
    }

    /// Bytes of decompressed input consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Number of the last line read (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.number
    }

    /// The next non-empty line, or `None` at the end of the stream.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        loop {
            self.buf.clear();
            let start = self.offset;
            let (consumed, truncated) = self.read_raw()?;
            if consumed == 0 {
                return Ok(None);
            }
            self.offset += consumed as u64;
            self.number += 1;
            while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                self.buf.pop();
            }
            if self.buf.is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(&self.buf);
            return Ok(Some(Line {
                offset: start,
                number: self.number,
                text,
                truncated,
            }));
        }
    }

    /// Reads through the next `\n`, keeping at most [`MAX_LINE`] bytes of it.
    fn read_raw(&mut self) -> io::Result<(usize, bool)> {
        let mut consumed = 0;
        let mut truncated = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok((consumed, truncated));
            }
            let (take, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            if take > room {
                truncated = true;
            }
            self.buf.extend_from_slice(&available[..take.min(room)]);
            self.reader.consume(take);
            consumed += take;
            if done {
                return Ok((consumed, truncated));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<(u64, u64, String)> {
        let mut r = LineReader::new(input);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.offset, l.number, l.text.into_owned()));
        }
        out
    }

    #[test]
    fn offsets_numbers_and_line_ends() {
        let got = lines(b"a\r\n\nbb\nccc");
        assert_eq!(
            got,
            vec![
                (0, 1, "a".into()),
                (4, 3, "bb".into()),
                (7, 4, "ccc".into())
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let got = lines(b"ok \xff\xfe end\n");
        assert_eq!(got[0].2, "ok \u{fffd}\u{fffd} end");
    }

    #[test]
    fn overlong_lines_are_cut_and_the_next_line_still_read() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\nnext\n");
        let mut r = LineReader::new(&input[..]);
        let first = r.next_line().unwrap().unwrap();
        assert!(first.truncated);
        assert_eq!(first.text.len(), MAX_LINE);
        let second = r.next_line().unwrap().unwrap();
        assert_eq!(
            (second.offset, &*second.text),
            ((MAX_LINE + 11) as u64, "next")
        );
    }
}
