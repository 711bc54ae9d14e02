//! The ISO-8601 times the load balancer logs write, checked and turned into RFC 3339 UTC.
//!
//! ALB writes `2026-09-23T07:15:47.805298Z` (already RFC 3339: kept as written, with its own
//! precision); NLB writes `2018-12-20T02:59:40` (UTC without the `Z`: we add it).

use std::borrow::Cow;

/// A checked timestamp: its RFC 3339 text and microseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp<'a> {
    pub rfc3339: Cow<'a, str>,
    pub epoch_micros: i64,
}

impl<'a> Timestamp<'a> {
    /// `YYYY-MM-DD`, the UTC day (the text starts with it).
    pub fn date(&self) -> &str {
        &self.rfc3339[..10]
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z]`; `None` when it is not a valid time of that form.
pub fn parse(text: &str) -> Option<Timestamp<'_>> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0i64;
    if let [b'.', fraction @ ..] = rest {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        for (i, c) in fraction[..n].iter().enumerate().take(6) {
            micros += i64::from(c - b'0') * 10i64.pow(5 - i as u32);
        }
        rest = &fraction[n..];
    }
    let has_zone = match rest {
        [] => false,
        [b'Z'] => true,
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    let rfc3339 = if has_zone {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("{text}Z"))
    };
    Some(Timestamp {
        rfc3339,
        epoch_micros: seconds * 1_000_000 + micros,
    })
}

/// The current time as RFC 3339 text, to the second.
pub fn now() -> String {
    format_epoch_seconds(now_epoch_seconds())
}

/// The current time in seconds since the epoch (0 on a clock set before 1970).
pub fn now_epoch_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// RFC 3339 text of a time given as seconds since the epoch (for times we make, not parse).
pub fn format_epoch_seconds(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alb_time_is_kept_as_written() {
        let t = parse("2026-09-23T07:15:47.805298Z").unwrap();
        assert!(matches!(t.rfc3339, Cow::Borrowed(_)));
        assert_eq!(t.epoch_micros, 1_790_147_747_805_298);
        assert_eq!(t.date(), "2026-09-23");
    }

    #[test]
    fn nlb_time_gets_its_zone() {
        let t = parse("2018-12-20T02:59:40").unwrap();
        assert_eq!(t.rfc3339, "2018-12-20T02:59:40Z");
        assert_eq!(t.epoch_micros, 1_545_274_780_000_000);
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            "-",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+01:00",
            "２026-01-01T00:00:00Z",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(parse("2024-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn formats_epoch_seconds_round_trip() {
        for s in [0, 951_782_400, 1_790_147_747, -86_400] {
            let text = format_epoch_seconds(s);
            assert_eq!(parse(&text).unwrap().epoch_micros, s * 1_000_000, "{text}");
        }
    }
}
