//! The report's time window: `--since` as given, the options it ends in, and the `--since` to
//! suggest when a window holds nothing.

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Value};

use super::DEFAULT_HEALTH_CHECK_PREFIX;

/// The time window: everything, or the last so many seconds before now (on `@timestamp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    All,
    Last {
        seconds: u64,
        /// As the user wrote it (`24h`), for the report.
        text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--since {text:?}: {reason}; use a duration such as 15m, 1h, 24h or 7d (units s, m, h, d, w), or \"all\""
)]
pub struct SinceError {
    text: String,
    reason: &'static str,
}

impl FromStr for Since {
    type Err = SinceError;

    fn from_str(text: &str) -> Result<Self, SinceError> {
        let fail = |reason| SinceError {
            text: text.to_string(),
            reason,
        };
        let t = text.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(Since::All);
        }
        let split = t
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| fail("no unit"))?;
        let (number, unit) = t.split_at(split);
        if number.is_empty() {
            return Err(fail("no number"));
        }
        let number: u64 = number.parse().map_err(|_| fail("number too large"))?;
        if number == 0 {
            return Err(fail("the window must be longer than 0"));
        }
        let unit_seconds: u64 = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return Err(fail("unknown unit")),
        };
        let seconds = number
            .checked_mul(unit_seconds)
            .filter(|s| *s <= i64::MAX as u64 / 2)
            .ok_or_else(|| fail("window too long"))?;
        Ok(Since::Last {
            seconds,
            text: t.to_string(),
        })
    }
}

impl fmt::Display for Since {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Since::All => f.write_str("all"),
            Since::Last { text, .. } => f.write_str(text),
        }
    }
}

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// ALB access log index prefix: documents in `{prefix}-*`, failures in `{prefix}-failed-*`.
    pub prefix: String,
    /// ALB health check log index prefix: the target health figures come from `{prefix}-*`.
    pub health_check_prefix: String,
    /// More prefixes of each (the configuration's routes), read together with the first.
    pub routed_prefixes: Vec<String>,
    pub routed_health_check_prefixes: Vec<String>,
    pub since: Since,
    /// Now, in seconds since the epoch (the window ends here; its start is `now - since`).
    pub now: i64,
}

impl ReportOptions {
    /// Options for a report ending now.
    pub fn new(prefix: impl Into<String>, since: Since) -> Self {
        let now = crate::timestamp::now_epoch_seconds();
        Self {
            prefix: prefix.into(),
            health_check_prefix: DEFAULT_HEALTH_CHECK_PREFIX.into(),
            routed_prefixes: Vec::new(),
            routed_health_check_prefixes: Vec::new(),
            since,
            now,
        }
    }

    /// Also reads the documents under these prefixes (ALB access logs, health check logs).
    pub fn routed(mut self, alb: Vec<String>, health_check: Vec<String>) -> Self {
        self.routed_prefixes = alb;
        self.routed_health_check_prefixes = health_check;
        self
    }

    /// The health check log index prefix, when it is not the default one.
    pub fn health_check_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.health_check_prefix = prefix.into();
        self
    }

    pub fn health_check_pattern(&self) -> String {
        patterns(
            &self.health_check_prefix,
            &self.routed_health_check_prefixes,
            "-*",
        )
    }

    pub fn index_pattern(&self) -> String {
        patterns(&self.prefix, &self.routed_prefixes, "-*")
    }

    pub fn failure_pattern(&self) -> String {
        patterns(&self.prefix, &self.routed_prefixes, "-failed-*")
    }

    /// The window's start as RFC 3339 text, `None` for `all`.
    pub fn from(&self) -> Option<String> {
        match &self.since {
            Since::All => None,
            Since::Last { seconds, .. } => Some(crate::timestamp::format_epoch_seconds(
                self.now.saturating_sub(*seconds as i64),
            )),
        }
    }

    /// The window as a query clause on `@timestamp`, `None` for `all`.
    pub(super) fn time_filter(&self) -> Option<Value> {
        self.from()
            .map(|from| json!({"range": {"@timestamp": {"gte": from}}}))
    }
}

/// The shortest whole `--since` that reaches back to `newest` from `now` (both epoch seconds):
/// minutes up to 90, hours up to 48, days beyond.
pub fn suggest_since(now: i64, newest: i64) -> String {
    let age = (now - newest).max(0) as u64 + 1;
    let up = |unit: u64| age.div_ceil(unit);
    if up(60) <= 90 {
        format!("{}m", up(60))
    } else if up(3_600) <= 48 {
        format!("{}h", up(3_600))
    } else {
        format!("{}d", up(86_400))
    }
}

/// `a-*` or `a-*,b-*`: one index pattern per prefix (the multi-target syntax of both servers).
fn patterns(first: &str, more: &[String], suffix: &str) -> String {
    std::iter::once(first)
        .chain(more.iter().map(String::as_str))
        .map(|prefix| format!("{prefix}{suffix}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_windows_reach_the_newest_document() {
        let now = 1_000_000;
        assert_eq!(suggest_since(now, now - 30), "1m");
        assert_eq!(suggest_since(now, now - 3_600), "61m");
        assert_eq!(suggest_since(now, now - 2 * 3_600), "3h");
        assert_eq!(suggest_since(now, now - 7 * 86_400 - 5), "8d");
        // A newest document in the future (clock skew) still gets a window.
        assert_eq!(suggest_since(now, now + 100), "1m");
    }

    #[test]
    fn since_takes_durations_and_all() {
        for (text, seconds) in [
            ("15m", 900),
            ("1h", 3_600),
            ("24h", 86_400),
            ("7d", 604_800),
            ("30s", 30),
            ("2w", 1_209_600),
        ] {
            assert_eq!(
                text.parse::<Since>().unwrap(),
                Since::Last {
                    seconds,
                    text: text.into()
                },
                "{text}"
            );
            assert_eq!(text.parse::<Since>().unwrap().to_string(), text);
        }
        assert_eq!("all".parse::<Since>().unwrap(), Since::All);
        assert_eq!("ALL".parse::<Since>().unwrap(), Since::All);
        for bad in [
            "",
            "h",
            "0h",
            "5",
            "5y",
            "-1h",
            "1.5h",
            "99999999999999999999d",
        ] {
            let err = bad.parse::<Since>().unwrap_err().to_string();
            assert!(
                err.contains("--since") && err.contains("15m"),
                "{bad}: {err}"
            );
        }
    }
}
