//! Lines of a decompressed stream with their byte offsets, in bounded memory.

use std::borrow::Cow;
use std::io::{self, Read};

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
    /// Skipping the rest of a line that was cut at [`MAX_LINE`].
    skipping: bool,
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
            skipping: false,
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
        let (line_start, line_end, truncated) = loop {
            let Some((start, mut end, mut truncated)) = self.next_raw()? else {
                return Ok(None);
            };
            self.number += 1;
            if !truncated {
                while end > start && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                // A line found whole in the buffer is cut like one that was not: the result
                // must not depend on how the stream was read.
                if end - start > MAX_LINE {
                    end = start + MAX_LINE;
                    truncated = true;
                }
            }
            if end > start {
                break (start, end, truncated);
            }
        };
        let raw = &self.buf[line_start..line_end];
        let text = match std::str::from_utf8(raw) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(raw),
        };
        Ok(Some(Line {
            offset: self.base + line_start as u64,
            number: self.number,
            text,
            truncated,
        }))
    }

    /// The span in `buf` of the next line without its `\n`.
    fn next_raw(&mut self) -> io::Result<Option<(usize, usize, bool)>> {
        let mut searched = self.start;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[searched..self.end]) {
                let (line_start, line_end) = (self.start, searched + i);
                self.start = line_end + 1;
                if self.skipping {
                    // The tail of a cut line: not a line of its own.
                    self.skipping = false;
                    searched = self.start;
                    continue;
                }
                return Ok(Some((line_start, line_end, false)));
            }
            searched = self.end;
            if self.eof {
                if self.start == self.end || self.skipping {
                    self.start = self.end;
                    return Ok(None);
                }
                let line_start = self.start;
                self.start = self.end;
                return Ok(Some((line_start, self.end, false)));
            }
            // Only a line surely longer than we keep is cut: `\r`s past MAX_LINE may be the
            // line end. (A full buffer cuts it too; a line of MAX_LINE then that many `\r`s.)
            let past_max = self.buf.get(self.start + MAX_LINE..self.end).unwrap_or(&[]);
            if !past_max.is_empty()
                && (past_max.iter().any(|b| *b != b'\r') || self.end == self.buf.len())
            {
                // A line longer than we keep: hand out its first MAX_LINE bytes, skip the rest.
                let line_start = self.start;
                self.start += MAX_LINE;
                self.skipping = true;
                return Ok(Some((line_start, line_start + MAX_LINE, true)));
            }
            if self.skipping {
                // Drop what was read of the cut line's tail.
                self.base += self.end as u64;
                self.start = 0;
                self.end = 0;
                searched = 0;
            } else if self.start > 0 {
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
            let n = loop {
                match self.reader.read(&mut self.buf[self.end..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                self.eof = true;
            }
            self.end += n;
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
}
