//! Which daily indices are past their retention: a pure decision over index names, so that the
//! cleanup function and `albingest cleanup` delete exactly what a test says they would.
//!
//! An index is deleted only when its name is `{prefix}-YYYY.MM.DD` or `{prefix}-failed-YYYY.MM.DD`
//! for one of the configured prefixes and that UTC day is older than the retention. Names that
//! start with `.` (system indices), names under other prefixes and names without a valid date
//! are never touched.

use std::fmt;

/// How long daily indices are kept, and which index families are ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    days: u32,
    prefixes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("retention must be at least 1 day, got {0}")]
    TooShort(i64),
    #[error("no index prefix given")]
    NoPrefix,
    #[error("index prefix {0:?} is not allowed (use lower-case letters, digits, '-', '_' and '.', not first '.', '-' or '_')")]
    BadPrefix(String),
    #[error(
        "refusing to delete: the newest index ({newest}) is {age} days older than today ({today}) \
         claims, more than the retention ({days} days) plus {SUSPECT_AFTER_DAYS} days: is the clock \
         wrong? Check it, or force the cleanup"
    )]
    ClockSuspect {
        newest: String,
        today: String,
        age: i64,
        days: u32,
    },
}

/// Why an index name is not one of ours ([`Retention::judge`] keeps it, with this reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotOurs {
    /// The name starts with `.`.
    #[error("system index")]
    SystemIndex,
    /// The name is not `{prefix}-…` for any of the prefixes.
    #[error("not under our prefixes")]
    OtherPrefix,
    /// Under a prefix, but without `YYYY.MM.DD` (or `failed-YYYY.MM.DD`) after it.
    #[error("no date in the name")]
    NoDate,
}

/// Days past the retention after which an all-old set of indices makes the clock suspect: a
/// clock set decades ahead (2100) would otherwise delete every dated index at once.
pub const SUSPECT_AFTER_DAYS: i64 = 31;

/// The verdict on one index, with the reason that goes in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub index: String,
    pub delete: bool,
    pub reason: String,
}

impl Retention {
    pub fn new(days: i64, prefixes: &[String]) -> Result<Self, RetentionError> {
        if days < 1 {
            return Err(RetentionError::TooShort(days));
        }
        if prefixes.is_empty() {
            return Err(RetentionError::NoPrefix);
        }
        let allowed = |p: &String| {
            !p.is_empty()
                && !p.starts_with(['.', '-', '_'])
                && p.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
                })
        };
        if let Some(bad) = prefixes.iter().find(|p| !allowed(p)) {
            return Err(RetentionError::BadPrefix(bad.clone()));
        }
        Ok(Self {
            days: u32::try_from(days).unwrap_or(u32::MAX),
            prefixes: prefixes.to_vec(),
        })
    }

    pub fn days(&self) -> u32 {
        self.days
    }

    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// The verdict for every index, given today's UTC date as days since 1970-01-01.
    pub fn judge<'a>(
        &self,
        indices: impl IntoIterator<Item = &'a str>,
        today: i64,
    ) -> Vec<Verdict> {
        let oldest_kept = today - i64::from(self.days);
        indices
            .into_iter()
            .map(|index| {
                let (delete, reason) = match self.date_of(index) {
                    Err(why) => (false, why.to_string()),
                    Ok(day) if day < oldest_kept => {
                        (true, format!("older than {} days", self.days))
                    }
                    Ok(_) => (false, format!("within {} days", self.days)),
                };
                Verdict {
                    index: index.to_string(),
                    delete,
                    reason,
                }
            })
            .collect()
    }

    /// Refuses a cleanup whose "today" is far past every index of ours: when the newest dated
    /// index is more than [`SUSPECT_AFTER_DAYS`] days past the retention, either the clock is
    /// wrong or the logs stopped long ago; both deserve a person's look (`--force`) rather than
    /// deleting everything.
    pub fn check_clock<'a>(
        &self,
        indices: impl IntoIterator<Item = &'a str>,
        today: i64,
    ) -> Result<(), RetentionError> {
        let newest = indices
            .into_iter()
            .filter_map(|index| Some((self.date_of(index).ok()?, index)))
            .max();
        match newest {
            Some((day, index)) if today - day > i64::from(self.days) + SUSPECT_AFTER_DAYS => {
                Err(RetentionError::ClockSuspect {
                    newest: index.to_string(),
                    today: crate::timestamp::format_epoch_seconds(today * 86_400)[..10].to_string(),
                    age: today - day,
                    days: self.days,
                })
            }
            _ => Ok(()),
        }
    }

    /// The day (days since the epoch) in an index name of ours, or why it is not one.
    fn date_of(&self, index: &str) -> Result<i64, NotOurs> {
        if index.starts_with('.') {
            return Err(NotOurs::SystemIndex);
        }
        // The longest matching prefix wins (`alb-logs` vs a user's `alb-logs-eu`).
        let rest = self
            .prefixes
            .iter()
            .filter_map(|p| index.strip_prefix(p.as_str())?.strip_prefix('-'))
            .min_by_key(|rest| rest.len())
            .ok_or(NotOurs::OtherPrefix)?;
        let date = rest.strip_prefix("failed-").unwrap_or(rest);
        parse_day(date).ok_or(NotOurs::NoDate)
    }
}

/// `YYYY.MM.DD` as days since 1970-01-01.
fn parse_day(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'.' || b[7] != b'.' {
        return None;
    }
    let iso = format!("{}-{}-{}T00:00:00Z", &text[0..4], &text[5..7], &text[8..10]);
    crate::timestamp::parse(&iso).map(|t| t.epoch_micros.div_euclid(86_400_000_000))
}

/// Today's UTC date as days since 1970-01-01.
pub fn today() -> i64 {
    crate::timestamp::now_epoch_seconds().div_euclid(86_400)
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = if self.delete { "delete" } else { "keep" };
        write!(f, "{action} {}: {}", self.index, self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> i64 {
        parse_day(text).unwrap()
    }

    fn verdicts(days: i64, names: &[&str]) -> Vec<(String, bool)> {
        let prefixes = vec!["alb-logs".to_string(), "nlb-logs".to_string()];
        Retention::new(days, &prefixes)
            .unwrap()
            .judge(names.iter().copied(), day("2026.11.26"))
            .into_iter()
            .map(|v| (v.index, v.delete))
            .collect()
    }

    #[test]
    fn the_default_prefixes_cover_the_health_check_indices() {
        let defaults = crate::bulk::IndexPrefixes::default();
        let retention = Retention::new(7, &defaults.all()).unwrap();
        let got: Vec<(String, bool)> = retention
            .judge(
                [
                    "alb-health-check-logs-2026.11.01",
                    "alb-health-check-logs-failed-2026.11.01",
                    "alb-health-check-logs-2026.11.25",
                    "alb-logs-2026.11.01",
                ],
                day("2026.11.26"),
            )
            .into_iter()
            .map(|v| (v.index, v.delete))
            .collect();
        assert_eq!(
            got,
            [
                ("alb-health-check-logs-2026.11.01".to_string(), true),
                ("alb-health-check-logs-failed-2026.11.01".to_string(), true),
                ("alb-health-check-logs-2026.11.25".to_string(), false),
                ("alb-logs-2026.11.01".to_string(), true),
            ]
        );
    }

    #[test]
    fn deletes_only_dated_indices_of_ours_past_retention() {
        let got = verdicts(
            7,
            &[
                "alb-logs-2026.11.18",
                "alb-logs-2026.11.19",
                "alb-logs-failed-2026.11.01",
                "nlb-logs-2025.01.01",
                ".kibana_1",
                ".opensearch-observability",
                "alb-logs-foo",
                "alb-logs-2026.13.01",
                "other-logs-2020.01.01",
                "alb-logsx-2020.01.01",
                "alb-logs",
            ],
        );
        let deleted: Vec<&str> = got
            .iter()
            .filter(|(_, d)| *d)
            .map(|(i, _)| i.as_str())
            .collect();
        assert_eq!(
            deleted,
            [
                "alb-logs-2026.11.18",
                "alb-logs-failed-2026.11.01",
                "nlb-logs-2025.01.01"
            ]
        );
    }

    #[test]
    fn refuses_a_retention_below_one_day_and_system_prefixes() {
        let p = vec!["alb-logs".to_string()];
        assert_eq!(Retention::new(0, &p), Err(RetentionError::TooShort(0)));
        assert_eq!(Retention::new(-3, &p), Err(RetentionError::TooShort(-3)));
        assert!(Retention::new(1, &[".kibana".to_string()]).is_err());
        assert!(Retention::new(1, &["logs-*".to_string()]).is_err());
        assert!(Retention::new(1, &["a,b".to_string()]).is_err());
        assert!(Retention::new(1, &[]).is_err());
    }

    #[test]
    fn a_clock_far_past_every_index_is_suspect() {
        let p = vec!["alb-logs".to_string()];
        let r = Retention::new(1, &p).unwrap();
        let names = [
            "alb-logs-2026.11.20",
            "alb-logs-failed-2026.11.25",
            "other-2020.01.01",
        ];
        let err = r.check_clock(names, day("2100.01.01")).unwrap_err();
        assert!(
            matches!(&err, RetentionError::ClockSuspect { newest, .. } if newest == "alb-logs-failed-2026.11.25"),
            "{err}"
        );
        assert!(err.to_string().contains("2100-01-01"), "{err}");
        // Days past the retention, within the slack: an ordinary cleanup.
        assert!(r.check_clock(names, day("2026.12.20")).is_ok());
        // Nothing of ours: nothing to protect.
        assert!(r
            .check_clock(["other-2020.01.01"], day("2100.01.01"))
            .is_ok());
    }

    #[test]
    fn deletes_an_index_only_when_all_of_its_day_is_past_retention() {
        assert_eq!(
            verdicts(
                1,
                &[
                    "alb-logs-2026.11.26",
                    "alb-logs-2026.11.25",
                    "alb-logs-2026.11.24"
                ]
            ),
            vec![
                ("alb-logs-2026.11.26".into(), false),
                ("alb-logs-2026.11.25".into(), false),
                ("alb-logs-2026.11.24".into(), true)
            ]
        );
    }
}
