//! The time window of a backfill (`ingest --since … --until …`): which log objects it reads,
//! chosen by the end time in their names (`…_{YYYYMMDDTHHMMZ}_…`, the end of the 5-minute window
//! the object covers), and which day folders of an `AWSLogs/{account}/elasticloadbalancing/{region}/`
//! tree can hold them, so that a backfill lists those folders instead of the whole bucket.
//!
//! An object is in the window when `since < end ≤ until`: its lines were written in
//! `[end − 5 min, end)`, so windows on 5-minute bounds take exactly the objects whose lines fall
//! inside, and two adjacent windows (`--until T`, then `--since T`) never read an object twice.

use crate::object_key::ObjectInfo;

/// `(since, until]` in seconds since the epoch; either bound may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    since: Option<i64>,
    until: Option<i64>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WindowError {
    #[error("{flag} {value:?}: not a UTC date or time (use e.g. 2026-11-01, 2026-11-03T12:00Z or 2026-11-03T12:00:00Z)")]
    Time { flag: &'static str, value: String },
    #[error("--since {since} is not before --until {until}: the window holds no object")]
    Empty { since: String, until: String },
}

/// A day, in seconds.
const DAY: i64 = 86_400;
/// How long one object's window is.
const OBJECT_MINUTES: i64 = 5;

impl TimeWindow {
    /// The window of `--since` and `--until`; `None` when neither is given.
    pub fn new(since: Option<&str>, until: Option<&str>) -> Result<Option<Self>, WindowError> {
        let since_at = since.map(|s| parse_time("--since", s)).transpose()?;
        let until_at = until.map(|u| parse_time("--until", u)).transpose()?;
        if let (Some(s), Some(u)) = (since_at, until_at) {
            if s >= u {
                return Err(WindowError::Empty {
                    since: since.unwrap_or_default().to_string(),
                    until: until.unwrap_or_default().to_string(),
                });
            }
        }
        Ok((since.is_some() || until.is_some()).then_some(Self {
            since: since_at,
            until: until_at,
        }))
    }

    /// Whether the object `key` ends inside the window; `None` when its name holds no time.
    pub fn takes(&self, key: &str) -> Option<bool> {
        let file = key.rsplit('/').next().unwrap_or(key);
        let end = ObjectInfo::local(file).delivery_time?;
        let end = crate::timestamp::parse(&end)?.epoch_micros / 1_000_000;
        Some(self.since.is_none_or(|s| end > s) && self.until.is_none_or(|u| end <= u))
    }

    /// The day folders (`{base}/YYYY/MM/DD/`, or Hive-style `year=YYYY/month=MM/day=DD/`) to
    /// list when `prefix` is an `AWSLogs/…/elasticloadbalancing/{region}[/]` folder and the window
    /// has a start (`now`, seconds since the epoch, ends an open window). The folder is the
    /// delivery date: from the day of the first object's window start to the day after `until`
    /// (an object ending late on the last day can be delivered after midnight). `None`: list
    /// `prefix` whole.
    pub fn day_prefixes(&self, prefix: &str, now: i64) -> Option<Vec<String>> {
        let since = self.since?;
        let until = self.until.unwrap_or(now);
        let segments: Vec<&str> = prefix.split('/').collect();
        let at = segments.iter().position(|s| *s == "AWSLogs")?;
        let after: Vec<&str> = segments[at + 1..].to_vec();
        let after = match after.as_slice() {
            [rest @ .., ""] => rest,
            all => all,
        };
        if !in_tree(after) || region_depth(after) != after.len() {
            return None;
        }
        let region = after.last()?;
        let base = segments[..=at + after.len()].join("/");
        let hive = region.starts_with("region=");
        let first = (since - OBJECT_MINUTES * 60).div_euclid(DAY);
        let last = until.div_euclid(DAY) + 1;
        Some(
            (first..=last)
                .map(|day| {
                    let date = crate::timestamp::format_epoch_seconds(day * DAY);
                    let (y, m, d) = (&date[0..4], &date[5..7], &date[8..10]);
                    if hive {
                        format!("{base}/year={y}/month={m}/day={d}/")
                    } else {
                        format!("{base}/{y}/{m}/{d}/")
                    }
                })
                .collect(),
        )
    }
}

/// What a listing does with a folder `prefix` (empty or ending in `/`) on its way to the day
/// folders: list its child folders and keep those [`TimeWindow::leads_to_days`] accepts, or
/// list it whole.
pub fn descend(prefix: &str) -> bool {
    if !(prefix.is_empty() || prefix.ends_with('/')) {
        return false;
    }
    let segments: Vec<&str> = prefix.trim_end_matches('/').split('/').collect();
    match segments.iter().position(|s| *s == "AWSLogs") {
        // Above the tree: one look for an `AWSLogs/` folder below.
        None => true,
        Some(at) => {
            let after = &segments[at + 1..];
            in_tree(after) && after.len() < region_depth(after)
        }
    }
}

/// Whether a child folder found by [`descend`] can lead to day folders.
pub fn leads_to_days(parent: &str, child: &str) -> bool {
    let parent_in_tree = parent.split('/').any(|s| s == "AWSLogs");
    let name = child
        .strip_prefix(parent)
        .unwrap_or(child)
        .trim_end_matches('/');
    if !parent_in_tree {
        return name == "AWSLogs";
    }
    let segments: Vec<&str> = child.trim_end_matches('/').split('/').collect();
    let at = segments.iter().position(|s| *s == "AWSLogs").unwrap_or(0);
    in_tree(&segments[at + 1..])
}

/// The segments after `AWSLogs/` follow `[o-org/]{account}/elasticloadbalancing/{region}`
/// (as far as they go).
fn in_tree(after: &[&str]) -> bool {
    let skip = usize::from(after.first().is_some_and(|s| s.starts_with("o-")));
    let rest = &after[skip..];
    let steps: [fn(&str) -> bool; 3] = [is_account, |s| s == "elasticloadbalancing", is_region];
    rest.len() <= steps.len() && rest.iter().zip(steps).all(|(s, ok)| ok(s))
}

/// How many segments after `AWSLogs/` reach the region (with or without an organization).
fn region_depth(after: &[&str]) -> usize {
    usize::from(after.first().is_some_and(|s| s.starts_with("o-"))) + 3
}

fn is_account(s: &str) -> bool {
    let s = s.strip_prefix("aws-account-id=").unwrap_or(s);
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_region(s: &str) -> bool {
    let s = s.strip_prefix("region=").unwrap_or(s);
    !s.is_empty()
        && s.contains('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `2026-11-01`, `2026-11-03T12:00Z`, `2026-11-03T12:00`, `2026-11-03T12:00:00Z` (UTC) as
/// seconds since the epoch.
fn parse_time(flag: &'static str, value: &str) -> Result<i64, WindowError> {
    let text = value.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    let full = match text.len() {
        10 => format!("{text}T00:00:00Z"),
        16 => format!("{text}:00Z"),
        _ => format!("{text}Z"),
    };
    crate::timestamp::parse(&full)
        .map(|t| t.epoch_micros.div_euclid(1_000_000))
        .ok_or_else(|| WindowError::Time {
            flag,
            value: value.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(since: &str, until: &str) -> TimeWindow {
        TimeWindow::new(Some(since), Some(until)).unwrap().unwrap()
    }

    const ALB: &str = "123456789012_elasticloadbalancing_us-east-1_app.my-lb.1234567890abcdef";

    #[test]
    fn objects_ending_inside_the_window_and_on_its_bounds() {
        let w = window("2026-11-01", "2026-11-03T12:00Z");
        let key = |end: &str| format!("AWSLogs/x/{ALB}_{end}_10.0.0.1_abcd1234.log.gz");
        // The object ending at --since holds the lines before it: out; at --until: in.
        assert_eq!(w.takes(&key("20261101T0000Z")), Some(false));
        assert_eq!(w.takes(&key("20261101T0005Z")), Some(true));
        assert_eq!(w.takes(&key("20261103T1200Z")), Some(true));
        assert_eq!(w.takes(&key("20261103T1205Z")), Some(false));
        assert_eq!(w.takes(&key("20261031T2355Z")), Some(false));
        // Every layout that carries the end time.
        for name in [
            "conn_log_123456789012_elasticloadbalancing_us-east-1_app.lb.1_20261102T0000Z_10.0.0.1_r.log.gz",
            "health_check_log_123456789012_elasticloadbalancing_us-east-1_app.lb.1_20261102T0000Z_10.0.0.1_r.log.gz",
            "123456789012_elasticloadbalancing_us-east-1_net.nlb.1_20261102T0000Z_r.log.gz",
            "123456789012_elasticloadbalancing_us-east-1_my-clb_20261102T0000Z_10.0.0.1_r.log",
        ] {
            assert_eq!(w.takes(name), Some(true), "{name}");
        }
        assert_eq!(w.takes("manual/upload.log.gz"), None);
        let open = TimeWindow::new(None, Some("2026-11-01")).unwrap().unwrap();
        assert_eq!(open.takes(&key("20201101T0000Z")), Some(true));
    }

    #[test]
    fn times_are_utc_dates_or_minutes_and_the_window_is_not_empty() {
        assert_eq!(parse_time("--since", "2026-11-01"), Ok(1_793_491_200));
        assert_eq!(
            parse_time("--since", "2026-11-01T00:05Z"),
            Ok(1_793_491_500)
        );
        assert_eq!(parse_time("--since", "2026-11-01T00:05"), Ok(1_793_491_500));
        assert_eq!(
            parse_time("--since", "2026-11-01T00:05:00Z"),
            Ok(1_793_491_500)
        );
        let bad = parse_time("--until", "2026-13-01").unwrap_err().to_string();
        assert!(bad.starts_with("--until \"2026-13-01\""), "{bad}");
        assert!(TimeWindow::new(Some("2026-11-02"), Some("2026-11-01")).is_err());
        assert_eq!(TimeWindow::new(None, None), Ok(None));
    }

    #[test]
    fn the_day_folders_of_a_region() {
        let w = window("2026-11-01", "2026-11-03T12:00Z");
        let base = "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-1";
        let days = w.day_prefixes(&format!("{base}/"), 0).unwrap();
        assert_eq!(
            days,
            ["10/31", "11/01", "11/02", "11/03", "11/04"].map(|d| format!("{base}/2026/{d}/"))
        );
        assert_eq!(w.day_prefixes(base, 0).unwrap(), days);
        let hive = "AWSLogs/aws-account-id=123456789012/elasticloadbalancing/region=eu-west-1/";
        assert_eq!(
            w.day_prefixes(hive, 0).unwrap()[1],
            format!("{hive}year=2026/month=11/day=01/")
        );
        let org = "AWSLogs/o-abc123/123456789012/elasticloadbalancing/us-east-1/";
        assert_eq!(w.day_prefixes(org, 0).unwrap().len(), 5);
        // Not a region folder: listed whole, or descended.
        assert_eq!(w.day_prefixes("AWSLogs/123456789012/", 0), None);
        assert_eq!(w.day_prefixes(&format!("{base}/2026/11/"), 0), None);
        assert_eq!(w.day_prefixes("exports/alb/", 0), None);
        let until_only = TimeWindow::new(None, Some("2026-11-01")).unwrap().unwrap();
        assert_eq!(until_only.day_prefixes(&format!("{base}/"), 0), None);
    }

    #[test]
    fn the_way_down_to_the_regions() {
        assert!(descend(""));
        assert!(descend("logs/"));
        assert!(descend("AWSLogs/"));
        assert!(descend("AWSLogs/123456789012/"));
        assert!(descend("AWSLogs/o-abc/123456789012/elasticloadbalancing/"));
        assert!(!descend("AWSLogs/123456789012/CloudTrail/"));
        assert!(!descend(
            "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/"
        ));
        assert!(!descend("AWSLogs/1234"));
        assert!(leads_to_days("", "AWSLogs/"));
        assert!(!leads_to_days("", "other/"));
        assert!(leads_to_days("AWSLogs/", "AWSLogs/123456789012/"));
        assert!(!leads_to_days(
            "AWSLogs/123456789012/",
            "AWSLogs/123456789012/CloudTrail/"
        ));
        assert!(leads_to_days(
            "AWSLogs/123456789012/elasticloadbalancing/",
            "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/"
        ));
    }
}
