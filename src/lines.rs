//! Lines of a decompressed stream with their byte offsets, in bounded memory.

use std::borrow::Cow;
use std::io::{self, Read};

/// Lines longer than this are cut here: their first MAX_LINE bytes make one line (the failure
/// document states the whole length), the rest is read past up to the next `\n` in bounded
/// memory, whatever its length. ALB's longest real lines are a few tens of KB (user agents are
/// truncated at 8 KB).
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
    /// The line's length in bytes without its line end (`\n`, `\r\n`), also when it was cut.
    pub length: u64,
}

/// Reads large blocks and hands out the lines inside them without copying each line: a line is
/// moved only when it straddles the end of a block.
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    /// Unread lines are `buf[start..end]`; `base` is the stream offset of `buf[0]`.
    start: usize,
    end: usize,
    base: u64,
    number: u64,
    eof: bool,
}

const BLOCK: usize = 256 * 1024;

impl<R: Read> LineReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buf: vec![0; BLOCK],
            start: 0,
            end: 0,
            base: 0,
            number: 0,
            eof: false,
        }
    }

    /// Bytes of decompressed input consumed so far.
    pub fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Number of the last line read (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.number
    }

    /// The next non-empty line, or `None` at the end of the stream.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let raw = loop {
            let Some(mut raw) = self.next_raw()? else {
                return Ok(None);
            };
            self.number += 1;
            if !raw.truncated {
                while raw.end > raw.start && self.buf[raw.end - 1] == b'\r' {
                    raw.end -= 1;
                }
                raw.length = (raw.end - raw.start) as u64;
            }
            if raw.end > raw.start {
                break raw;
            }
        };
        let bytes = &self.buf[raw.start..raw.end];
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        Ok(Some(Line {
            offset: raw.offset,
            number: self.number,
            text,
            truncated: raw.truncated,
            length: raw.length,
        }))
    }

    /// The next line (without its `\n`), in `buf[start..end]`.
    fn next_raw(&mut self) -> io::Result<Option<RawLine>> {
        let mut searched = self.start;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[searched..self.end]) {
                let (start, end) = (self.start, searched + i);
                self.start = end + 1;
                return Ok(Some(self.whole(start, end)));
            }
            searched = self.end;
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let start = self.start;
                self.start = self.end;
                return Ok(Some(self.whole(start, self.end)));
            }
            if self.end - self.start > MAX_LINE {
                return self.cut_long_line().map(Some);
            }
            if self.start > 0 {
                // Move the partial line to the front of the buffer.
                self.buf.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                searched -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                let grown = (self.buf.len() * 2).min(MAX_LINE + BLOCK);
                self.buf.resize(grown, 0);
            }
            self.fill()?;
        }
    }

    /// A line found whole in the buffer; it is cut as one that was not, so the result does not
    /// depend on how the stream was read.
    fn whole(&self, start: usize, end: usize) -> RawLine {
        let mut content = end;
        while content > start && self.buf[content - 1] == b'\r' {
            content -= 1;
        }
        RawLine {
            offset: self.base + start as u64,
            start,
            end: end.min(start + MAX_LINE),
            truncated: content - start > MAX_LINE,
            length: (content - start) as u64,
        }
    }

    /// The line at `start` holds more than [`MAX_LINE`] bytes and no `\n` yet: keeps its first
    /// MAX_LINE bytes at the front of the buffer and reads on through the rest of it (in the
    /// space behind them, whatever its length) to the next `\n` or the end of the stream.
    fn cut_long_line(&mut self) -> io::Result<RawLine> {
        let offset = self.base + self.start as u64;
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.buf.len() < MAX_LINE + BLOCK {
            self.buf.resize(MAX_LINE + BLOCK, 0);
        }
        // Bytes of the line past MAX_LINE, read and dropped; whether they were all `\r`s (then
        // the line is MAX_LINE long with its `\r`s, not cut); the `\r`s at its end so far.
        let mut dropped = 0u64;
        let mut only_cr = true;
        let mut trailing_cr = 0u64;
        loop {
            let tail = &self.buf[MAX_LINE..self.end];
            let found = memchr::memchr(b'\n', tail);
            let rest = &tail[..found.unwrap_or(tail.len())];
            let crs = rest.iter().rev().take_while(|b| **b == b'\r').count();
            if crs == rest.len() {
                trailing_cr += crs as u64;
            } else {
                (only_cr, trailing_cr) = (false, crs as u64);
            }
            let (consumed, at_end) = match found {
                Some(i) => (i + 1, true),
                None => (tail.len(), self.eof),
            };
            if at_end {
                let with_crs = MAX_LINE as u64 + dropped + rest.len() as u64;
                self.start = MAX_LINE + consumed;
                // `buf[start..]` holds the stream from `offset + with_crs + consumed - rest` on.
                self.base = offset + with_crs + (consumed - rest.len()) as u64 - self.start as u64;
                return Ok(RawLine {
                    offset,
                    start: 0,
                    end: MAX_LINE,
                    truncated: !only_cr,
                    length: with_crs - trailing_cr,
                });
            }
            dropped += tail.len() as u64;
            self.end = MAX_LINE;
            self.fill()?;
        }
    }

    /// Reads more of the stream into `buf[end..]`.
    fn fill(&mut self) -> io::Result<()> {
        let n = loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.eof = n == 0;
        self.end += n;
        Ok(())
    }
}

/// Where the next line is, before its `\r`s are stripped.
struct RawLine {
    /// Stream offset of its first byte.
    offset: u64,
    /// Its bytes in the buffer (at most [`MAX_LINE`]).
    start: usize,
    end: usize,
    truncated: bool,
    /// Its whole length without its line end (`\n` and the `\r`s before it).
    length: u64,
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

    /// Answers at most `chunk` bytes a read.
    struct Chunked<'a>(&'a [u8], usize);

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_are_cut_when_longer_than_max_line_however_the_stream_is_read() {
        let lines = [
            (MAX_LINE - 1, "\r\n"),
            (MAX_LINE, "\r\n"),
            (MAX_LINE, "\n"),
            (MAX_LINE + 1, "\n"),
            (MAX_LINE + 100_000, "\n"),
            (MAX_LINE + 1, ""),
        ];
        let mut input = Vec::new();
        let mut want = Vec::new();
        for (len, end) in lines {
            input.extend(std::iter::repeat_n(b'x', len));
            input.extend_from_slice(end.as_bytes());
            want.push((len.min(MAX_LINE), len > MAX_LINE));
            if !end.is_empty() {
                input.extend_from_slice(b"next\n");
                want.push((4, false));
            }
        }
        for chunk in [usize::MAX, 300_001, 65_536] {
            let mut r = LineReader::new(Chunked(&input, chunk));
            let mut got = Vec::new();
            while let Some(l) = r.next_line().unwrap() {
                got.push((l.text.len(), l.truncated));
            }
            assert_eq!(got, want, "reads of {chunk} bytes");
        }
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

    /// `len` bytes of `byte`, without holding them: a stream of any length in constant memory.
    struct Repeat {
        byte: u8,
        left: u64,
        then: &'static [u8],
    }

    impl Read for Repeat {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                let n = buf.len().min(self.then.len());
                buf[..n].copy_from_slice(&self.then[..n]);
                self.then = &self.then[n..];
                return Ok(n);
            }
            let n = buf
                .len()
                .min(usize::try_from(self.left).unwrap_or(usize::MAX));
            buf[..n].fill(self.byte);
            self.left -= n as u64;
            Ok(n)
        }
    }

    fn all_lines(reader: impl Read) -> Vec<(u64, u64, usize, bool, u64, String)> {
        let mut r = LineReader::new(reader);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            let head: String = l.text.chars().take(8).collect();
            out.push((
                l.offset,
                l.number,
                l.text.len(),
                l.truncated,
                l.length,
                head,
            ));
        }
        out
    }

    #[test]
    fn a_line_of_any_length_is_one_line_with_its_length_and_the_next_line_follows() {
        for len in [3 << 20, 50 << 20] {
            let got = all_lines(Repeat {
                byte: b'y',
                left: len,
                then: b"\nnext\n",
            });
            assert_eq!(
                got,
                vec![
                    (0, 1, MAX_LINE, true, len, "yyyyyyyy".into()),
                    (len + 1, 2, 4, false, 4, "next".into()),
                ],
                "a line of {len} bytes"
            );
        }
    }

    #[test]
    fn a_stream_of_zeros_without_a_newline_is_one_line() {
        let len = 40 << 20;
        let got = all_lines(Repeat {
            byte: 0,
            left: len,
            then: b"",
        });
        assert_eq!(got.len(), 1, "{:?}", &got[..got.len().min(3)]);
        assert_eq!((got[0].0, got[0].1, got[0].2), (0, 1, MAX_LINE));
        assert_eq!((got[0].3, got[0].4), (true, len));
    }

    #[test]
    fn carriage_returns_past_max_line_end_a_line_of_max_line() {
        let mut input = vec![b'x'; MAX_LINE];
        input.extend(std::iter::repeat_n(b'\r', 2 * BLOCK));
        input.extend_from_slice(b"\nnext\n");
        let got = all_lines(&input[..]);
        assert_eq!((got[0].2, got[0].3), (MAX_LINE, false));
        assert_eq!(got[1].5, "next");
    }
}
