//! What an object's key says about its lines: account, region, delivery time, format.
//!
//! `prefix/AWSLogs/[org-id/]{account}/elasticloadbalancing/{region}/{yyyy}/{mm}/{dd}/{file}` where
//! the file name holds `_{end-time}_` as `YYYYMMDDTHHMMZ`, the end of the 5-minute window.
//! AWS's newer log delivery can write the folders Hive-style
//! (`AWSLogs/aws-account-id={account}/elasticloadbalancing/region={region}/year=…/month=…/day=…/`),
//! and objects copied or delivered under a destination prefix of the user's may have no such
//! folders at all: the account and region are then read from the file name
//! (`[conn_log_|health_check_log_]{account}_elasticloadbalancing_{region}_…`), and left out when
//! neither holds them.

use crate::format::LogFormat;

/// Where a line came from: the provenance fields every document carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectInfo {
    /// S3 bucket; `None` for a local file.
    pub bucket: Option<String>,
    /// S3 key, or the local path.
    pub key: String,
    /// `s3://bucket/key` or the local path.
    pub file_path: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// The window end in the file name, as RFC 3339 (`2014-02-15T23:40:00Z`).
    pub delivery_time: Option<String>,
    /// The format the file name says, if it says one.
    pub format: Option<LogFormat>,
    /// When the object was opened for reading (RFC 3339): the time of a failure document that
    /// has no time of its own, in an object whose name gives none either.
    pub read_at: Option<String>,
}

impl ObjectInfo {
    pub fn s3(bucket: &str, key: &str) -> Self {
        Self {
            bucket: Some(bucket.to_string()),
            file_path: format!("s3://{bucket}/{key}"),
            ..Self::from_key(key)
        }
    }

    pub fn local(path: &str) -> Self {
        Self {
            file_path: path.to_string(),
            ..Self::from_key(path)
        }
    }

    fn from_key(key: &str) -> Self {
        let mut info = Self {
            key: key.to_string(),
            format: LogFormat::from_object_name(key),
            ..Self::default()
        };
        let parts: Vec<&str> = key.split('/').collect();
        let file = parts.last().copied().unwrap_or_default();
        let (file_account, file_region) = file_name_provenance(file);
        if let Some(i) = parts.iter().position(|p| *p == "elasticloadbalancing") {
            let account = i.checked_sub(1).map(|a| parts[a]);
            info.account_id = account
                .map(|a| a.strip_prefix("aws-account-id=").unwrap_or(a))
                .filter(|a| is_account_id(a))
                .map(str::to_string);
            info.region = parts
                .get(i + 1)
                .map(|r| r.strip_prefix("region=").unwrap_or(r))
                .filter(|r| is_region(r))
                .map(str::to_string);
        }
        info.account_id = info.account_id.or(file_account.map(str::to_string));
        info.region = info.region.or(file_region.map(str::to_string));
        info.delivery_time = file.split(['_', '.']).find_map(window_end);
        info
    }
}

/// The account and region at the start of a load balancer log's file name.
fn file_name_provenance(file: &str) -> (Option<&str>, Option<&str>) {
    let name = ["conn_log_", "conn_log.", "health_check_log_"]
        .iter()
        .find_map(|p| file.strip_prefix(p))
        .unwrap_or(file);
    let Some((account, rest)) = name.split_once("_elasticloadbalancing_") else {
        return (None, None);
    };
    let region = rest.split('_').next().filter(|r| is_region(r));
    (Some(account).filter(|a| is_account_id(a)), region)
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_region(s: &str) -> bool {
    s.len() >= 9
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.contains('-')
}

/// `20140215T2340Z` as `2014-02-15T23:40:00Z`.
fn window_end(token: &str) -> Option<String> {
    let b = token.as_bytes();
    let shape = b.len() == 14
        && b[8] == b'T'
        && b[13] == b'Z'
        && b[..8].iter().chain(&b[9..13]).all(u8::is_ascii_digit);
    let text = format!(
        "{}-{}-{}T{}:{}:00Z",
        token.get(0..4)?,
        token.get(4..6)?,
        token.get(6..8)?,
        token.get(9..11)?,
        token.get(11..13)?
    );
    (shape && crate::timestamp::parse(&text).is_some()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_account_region_window_and_format() {
        let key = "prefix/a/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz";
        let info = ObjectInfo::s3("my-bucket", key);
        assert_eq!(info.account_id.as_deref(), Some("123456789012"));
        assert_eq!(info.region.as_deref(), Some("us-east-2"));
        assert_eq!(info.delivery_time.as_deref(), Some("2014-02-15T23:40:00Z"));
        assert_eq!(info.format, Some(LogFormat::Alb));
        assert_eq!(info.file_path, format!("s3://my-bucket/{key}"));
    }

    #[test]
    fn organization_segment_and_odd_keys() {
        let key = "AWSLogs/o-abc123/123456789012/elasticloadbalancing/eu-west-1/2026/01/01/x_20260101T0005Z_y.log.gz";
        let info = ObjectInfo::s3("b", key);
        assert_eq!(info.account_id.as_deref(), Some("123456789012"));
        assert_eq!(info.region.as_deref(), Some("eu-west-1"));
        let info = ObjectInfo::local("ELBAccessLogTestFile");
        assert_eq!(
            info,
            ObjectInfo {
                key: "ELBAccessLogTestFile".into(),
                file_path: "ELBAccessLogTestFile".into(),
                ..Default::default()
            }
        );
        assert_eq!(ObjectInfo::local("x_20261399T9999Z_y").delivery_time, None);
    }

    #[test]
    fn hive_style_folders_and_custom_prefixes() {
        let file = "health_check_log_123456789012_elasticloadbalancing_us-east-1_app.my-lb.1234567890abcdef_20260910T0005Z_10.0.0.1_abcd1234.log.gz";
        let hive = format!("logs/AWSLogs/aws-account-id=123456789012/elasticloadbalancing/region=us-east-1/year=2026/month=09/day=10/{file}");
        let info = ObjectInfo::s3("b", &hive);
        assert_eq!(info.account_id.as_deref(), Some("123456789012"));
        assert_eq!(info.region.as_deref(), Some("us-east-1"));
        assert_eq!(info.delivery_time.as_deref(), Some("2026-09-10T00:05:00Z"));
        assert_eq!(info.format, Some(LogFormat::AlbHealthCheck));

        // No AWSLogs tree: the file name still says it.
        let info = ObjectInfo::s3("b", &format!("my/own/destination/{file}"));
        assert_eq!(info.account_id.as_deref(), Some("123456789012"));
        assert_eq!(info.region.as_deref(), Some("us-east-1"));
        let conn = "2026/09/10/conn_log_210987654321_elasticloadbalancing_eu-west-1_app.x.1_20260910T0005Z_10.0.0.1_r.log.gz";
        let info = ObjectInfo::s3("b", conn);
        assert_eq!(info.account_id.as_deref(), Some("210987654321"));
        assert_eq!(info.region.as_deref(), Some("eu-west-1"));

        // Folders and name say nothing: nothing is guessed.
        for key in [
            "exports/alb/2026-09-10/part-0001.log.gz",
            "AWSLogs/aws-account-id=notanaccount/elasticloadbalancing/region=Moon/x.log.gz",
            "AWSLogs/123/elasticloadbalancing/us/x_elasticloadbalancing_y_app.z.log.gz",
        ] {
            let info = ObjectInfo::s3("b", key);
            assert_eq!((info.account_id, info.region), (None, None), "{key}");
        }
    }
}
