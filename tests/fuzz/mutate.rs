//! Breaking a line the way corrupt data, manual edits and format changes break them. A mutation
//! never inserts `\n`: the line stays one line, so the lines of an object stay countable.

use fastrand::Rng;

use crate::gen_lines::{hex, pick, quoted_text};

/// Applies one random mutation to `line` and names it (for the failure report).
pub fn mutate(rng: &mut Rng, line: &mut Vec<u8>) -> &'static str {
    let at = rng.usize(..=line.len());
    match rng.u8(..40) {
        0..=1 => {
            line.truncate(at);
            "truncated"
        }
        2..=3 => {
            line.insert(at, b'"');
            "quote inserted"
        }
        4..=5 => {
            let quotes: Vec<usize> = positions(line, b'"');
            if quotes.is_empty() {
                return "no quote to delete";
            }
            line.remove(quotes[rng.usize(..quotes.len())]);
            "quote deleted"
        }
        6..=7 => {
            let escape = pick(
                rng,
                &["\\", "\\\\", "\\\"", "\\x22", "\\x", "\\x5C\\", "\\\" "],
            );
            line.splice(at..at, escape.bytes());
            "escape inserted"
        }
        8..=9 => {
            line.push(b'\\');
            "backslash at the end"
        }
        10..=11 => {
            const INVALID: &[&[u8]] = &[
                b"\xff",
                b"\xfe\xff",
                b"\xc0\x80",
                b"\x80",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\xc3",
                b"\xe6\x97",
            ];
            let bytes = INVALID[rng.usize(..INVALID.len())];
            line.splice(at..at, bytes.iter().copied());
            "invalid UTF-8 inserted"
        }
        12..=13 => {
            // Cut a multi-byte character in its middle, where there is one.
            match (0..line.len()).find(|i| line[*i] >= 0xc0) {
                Some(i) => {
                    line.truncate(i + 1);
                    "cut inside a character"
                }
                None => {
                    line.truncate(at);
                    "truncated"
                }
            }
        }
        14..=15 => {
            line.insert(at, *pick_byte(rng, b"\0\t\r\x0b\x0c\x1b\x7f"));
            "control byte inserted"
        }
        16 => {
            huge_field(rng, line, at);
            "huge field"
        }
        17..=20 => {
            let extra = match rng.u8(..4) {
                0 => "\"-\"".to_string(),
                1 => format!("\"{}\"", quoted_text(rng, 6)),
                2 => hex(rng, 8),
                _ => garbage(rng).to_string(),
            };
            if rng.bool() {
                line.push(b' ');
                line.extend(extra.bytes());
            } else {
                let start = token_start(rng, line);
                line.splice(start..start, format!("{extra} ").bytes());
            }
            "extra field"
        }
        21..=22 => {
            let tokens = tokens(line);
            let (start, end) = tokens[rng.usize(..tokens.len())];
            let end = (end + 1).min(line.len());
            line.drain(start..end);
            "field deleted"
        }
        23..=24 => {
            let tokens = tokens(line);
            let a = tokens[rng.usize(..tokens.len())];
            let b = tokens[rng.usize(..tokens.len())];
            let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
            if first == second {
                return "no fields to swap";
            }
            let mut swapped = line[..first.0].to_vec();
            swapped.extend_from_slice(&line[second.0..second.1]);
            swapped.extend_from_slice(&line[first.1..second.0]);
            swapped.extend_from_slice(&line[first.0..first.1]);
            swapped.extend_from_slice(&line[second.1..]);
            *line = swapped;
            "fields swapped"
        }
        25..=26 => {
            let tokens = tokens(line);
            let (start, end) = tokens[rng.usize(..tokens.len())];
            let mut copy = line[start..end].to_vec();
            copy.push(b' ');
            line.splice(start..start, copy);
            "field duplicated"
        }
        27..=30 => {
            let tokens = tokens(line);
            let (start, end) = tokens[rng.usize(..tokens.len())];
            let value = garbage(rng);
            line.splice(start..end, value.bytes());
            "field replaced with garbage"
        }
        31..=32 => {
            let spaces = positions(line, b' ');
            match spaces.get(rng.usize(..spaces.len().max(1))) {
                Some(i) => line.insert(*i, b' '),
                None => line.insert(0, b' '),
            }
            "space doubled"
        }
        33..=34 => {
            if rng.bool() {
                line.insert(0, b' ');
            } else {
                line.push(b' ');
            }
            "leading or trailing space"
        }
        35..=36 => {
            if let Some(byte) = line.get_mut(at) {
                *byte = rng.u8(..);
                if *byte == b'\n' {
                    *byte = b'?';
                }
            }
            "byte replaced"
        }
        _ => {
            let count = rng.usize(1..40);
            let bytes: Vec<u8> = (0..count)
                .map(|_| rng.u8(..))
                .filter(|b| *b != b'\n')
                .collect();
            line.splice(at..at, bytes);
            "random bytes inserted"
        }
    }
}

/// Makes `line` longer than `min_len` (a field that grew past any sane size).
pub fn lengthen(rng: &mut Rng, line: &mut Vec<u8>, min_len: usize) {
    let at = rng.usize(..=line.len());
    let missing = min_len.saturating_sub(line.len());
    let filler = *pick_byte(rng, b"A \"\\x9");
    line.splice(at..at, std::iter::repeat_n(filler, missing));
}

fn huge_field(rng: &mut Rng, line: &mut Vec<u8>, at: usize) {
    // Mostly past ALB's 8 KB user agent limit; rarely far past (they cost the most to check).
    let len = match rng.u8(..20) {
        0 => 300_000,
        1..=5 => 64 * 1024,
        6..=9 => 9000,
        _ => 8 * 1024,
    };
    let filler: Vec<u8> = match rng.u8(..4) {
        // A run of one byte: letters, separators, quotes or escapes, for scanners to go through.
        0..=1 => vec![*pick_byte(rng, b"A \"\\-%9"); len],
        2 => b"\\x22".repeat(len / 4),
        _ => b"\"a\" ".repeat(len / 4),
    };
    line.splice(at..at, filler);
}

/// Values that look like a field but are not what its position needs.
fn garbage(rng: &mut Rng) -> &'static str {
    pick(
        rng,
        &[
            "2OO",
            "-",
            "\"\"",
            "\"-\"",
            "1e400",
            "NaN",
            "inf",
            "-0",
            "99999999999999999999999",
            "-9223372036854775808",
            "+5",
            "0x1F",
            ":",
            "::",
            "1.2.3.4:99999",
            "[::1]:80",
            "1.2.3.4:",
            "2026-02-30T00:00:00.000000Z",
            "2026-13-01T00:00:00.000000Z",
            "9999-12-31T23:59:60.999999999Z",
            "0000-01-01T00:00:00.000000Z",
            "0000-01-01T00:00:00",
            "T",
            "1.",
            ".",
            "--1",
            "-1",
            "NotBefore=x;NotAfter=y",
            "NotBefore=2024-01-01T00:00:00Z;",
            "%",
            "%zz",
            "%C3",
            "é",
            "\u{FFFD}",
            "\\x22",
            "999.999.999.999",
        ],
    )
}

/// Start and end of each space-separated token (a quoted token may hold spaces).
fn tokens(line: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        if line.get(i) == Some(&b'"') {
            i += 1;
            while i < line.len() && line[i] != b'"' {
                i += if line[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(line.len());
        }
        while i < line.len() && line[i] != b' ' {
            i += 1;
        }
        spans.push((start, i.min(line.len())));
        if i >= line.len() {
            return spans;
        }
        i += 1;
    }
}

fn token_start(rng: &mut Rng, line: &[u8]) -> usize {
    let tokens = tokens(line);
    tokens[rng.usize(..tokens.len())].0
}

fn positions(line: &[u8], byte: u8) -> Vec<usize> {
    memchr::memchr_iter(byte, line).collect()
}

fn pick_byte<'a>(rng: &mut Rng, bytes: &'a [u8]) -> &'a u8 {
    &bytes[rng.usize(..bytes.len())]
}
