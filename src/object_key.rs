//! What an object's key says about its lines: account, region, delivery time, format.
//!
//! `prefix/AWSLogs/[org-id/]{account}/elasticloadbalancing/{region}/{yyyy}/{mm}/{dd}/{file}` where
//! the file name holds `_{end-time}_` as `YYYYMMDDTHHMMZ`, the end of the 5-minute window.

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
        if let Some(i) = parts.iter().position(|p| *p == "elasticloadbalancing") {
            let account = i.checked_sub(1).map(|a| parts[a]);
            if let Some(account) = account.filter(|a| is_account_id(a)) {
                info.account_id = Some(account.to_string());
            }
            if let Some(region) = parts.get(i + 1).filter(|r| is_region(r)) {
                info.region = Some(region.to_string());
            }
        }
        let file = parts.last().copied().unwrap_or_default();
        info.delivery_time = file.split(['_', '.']).find_map(window_end);
        info
    }
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
}
