//! The five log formats found in load balancer log buckets, and how a line or object is routed
//! to one of them.

use std::fmt;
use std::ops::{AddAssign, Index, IndexMut};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Application Load Balancer access log (`_app.` objects).
    Alb,
    /// Application Load Balancer connection log (`conn_log_` objects).
    AlbConnection,
    /// Network Load Balancer access log (`_net.` objects).
    Nlb,
    /// Classic Load Balancer access log.
    Elb,
    /// Application Load Balancer health check log (`health_check_log_` objects, since 2025-11).
    AlbHealthCheck,
}

impl LogFormat {
    pub const ALL: [LogFormat; 5] = [
        Self::Alb,
        Self::AlbConnection,
        Self::Nlb,
        Self::Elb,
        Self::AlbHealthCheck,
    ];

    /// The format's place in [`Self::ALL`] (the variants are declared in that order).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The top-level pattern in `patterns/`.
    pub fn pattern_name(self) -> &'static str {
        match self {
            Self::Alb => "ALB_ACCESS_LOG",
            Self::AlbConnection => "ALB_CONNECTION_LOG",
            Self::Nlb => "NLB_ACCESS_LOG",
            Self::Elb => "ELB_ACCESS_LOG",
            Self::AlbHealthCheck => "ALB_HEALTH_CHECK_LOG",
        }
    }

    /// `alb, alb-connection, nlb or elb`: the names, for error messages.
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
        match names.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// The name used on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alb => "alb",
            Self::AlbConnection => "alb-connection",
            Self::Nlb => "nlb",
            Self::Elb => "elb",
            Self::AlbHealthCheck => "alb-health-check",
        }
    }

    /// "an ALB access log line", for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Alb => "an ALB access log line",
            Self::AlbConnection => "an ALB connection log line",
            Self::Nlb => "an NLB access log line",
            Self::Elb => "a Classic ELB access log line",
            Self::AlbHealthCheck => "an ALB health check log line",
        }
    }

    pub fn default_index_prefix(self) -> &'static str {
        match self {
            Self::Alb => "alb-logs",
            Self::AlbConnection => "alb-connection-logs",
            Self::Nlb => "nlb-logs",
            Self::Elb => "elb-logs",
            Self::AlbHealthCheck => "alb-health-check-logs",
        }
    }

    pub fn dataset(self) -> &'static str {
        match self {
            Self::AlbConnection => "aws.elb_connection_logs",
            Self::AlbHealthCheck => "aws.elb_health_check_logs",
            Self::Alb | Self::Nlb | Self::Elb => "aws.elb_logs",
        }
    }

    /// The format an object's file name says it holds (`None`: not a load balancer log name).
    ///
    /// The prefixed names come first: connection and health check log names also hold `_app.`.
    /// Names as AWS documents them: "Access logs", "Connection logs" and "Health check logs" for
    /// your Application Load Balancer, "Access logs for your Network Load Balancer",
    /// "Access logs for your Classic Load Balancer" (docs.aws.amazon.com/elasticloadbalancing).
    pub fn from_object_name(key: &str) -> Option<LogFormat> {
        let file = key.rsplit('/').next().unwrap_or(key);
        if file.starts_with("conn_log_") || file.starts_with("conn_log.") {
            Some(Self::AlbConnection)
        } else if file.starts_with("health_check_log_") {
            Some(Self::AlbHealthCheck)
        } else if file.contains("_app.") {
            Some(Self::Alb)
        } else if file.contains("_net.") {
            Some(Self::Nlb)
        } else if file.contains("_elasticloadbalancing_") {
            Some(Self::Elb)
        } else {
            None
        }
    }

    /// Guesses a line's format from its first tokens: an ALB line starts with a type word, an NLB
    /// line with `tls 1.0`/`tls 2.0`, the connection and Classic logs with a time (the Classic
    /// log's third token is `client:port`, the connection log's is a bare port). A health check
    /// line starts with a type word too, but its third token is the latency (a number, or `-`)
    /// where an access line has the load balancer's `app/…` id.
    pub fn sniff(line: &[u8]) -> LogFormat {
        let mut tokens = line.split(|b| *b == b' ');
        let first = tokens.next().unwrap_or_default();
        let second = tokens.next().unwrap_or_default();
        let third = tokens.next().unwrap_or_default();
        if first.first().is_some_and(u8::is_ascii_digit) {
            return if third.contains(&b':') {
                Self::Elb
            } else {
                Self::AlbConnection
            };
        }
        if first == b"tls" && second.first().is_some_and(u8::is_ascii_digit) {
            return Self::Nlb;
        }
        let latency = third == b"-"
            || (third.first().is_some_and(u8::is_ascii_digit)
                && third.iter().all(|b| b.is_ascii_digit() || *b == b'.'));
        if latency && second.first().is_some_and(u8::is_ascii_digit) {
            return Self::AlbHealthCheck;
        }
        Self::Alb
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `T` for each log format, indexed by [`LogFormat`] (in [`LogFormat::ALL`] order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PerFormat<T>([T; LogFormat::ALL.len()]);

impl<T> PerFormat<T> {
    /// `f` of each format.
    pub fn from_fn(f: impl FnMut(LogFormat) -> T) -> Self {
        Self(LogFormat::ALL.map(f))
    }

    /// `f` of each format, or its first error.
    pub fn try_from_fn<E>(mut f: impl FnMut(LogFormat) -> Result<T, E>) -> Result<Self, E> {
        // One name a format: a format added to `ALL` fails to compile here until it is added.
        let [alb, connection, nlb, elb, health_check] = LogFormat::ALL;
        Ok(Self([
            f(alb)?,
            f(connection)?,
            f(nlb)?,
            f(elb)?,
            f(health_check)?,
        ]))
    }

    /// A `U` for each format from this one's `T`.
    pub fn map<U>(&self, f: impl FnMut(&T) -> U) -> PerFormat<U> {
        PerFormat(self.0.each_ref().map(f))
    }

    /// The values, in [`LogFormat::ALL`] order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// Each format with its value.
    pub fn entries(&self) -> impl Iterator<Item = (LogFormat, &T)> {
        LogFormat::ALL.into_iter().zip(self.0.iter())
    }

    /// The values as a slice, in [`LogFormat::ALL`] order.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T> Index<LogFormat> for PerFormat<T> {
    type Output = T;
    fn index(&self, format: LogFormat) -> &T {
        &self.0[format.index()]
    }
}

impl<T> IndexMut<LogFormat> for PerFormat<T> {
    fn index_mut(&mut self, format: LogFormat) -> &mut T {
        &mut self.0[format.index()]
    }
}

/// Format by format (counts added up).
impl<T: AddAssign + Copy> AddAssign<&PerFormat<T>> for PerFormat<T> {
    fn add_assign(&mut self, other: &PerFormat<T>) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown format {s:?} (use {})", Self::names()))
    }
}

/// `--format`: one format for every line, or `auto` (by object name, else by each line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatChoice {
    #[default]
    Auto,
    Fixed(LogFormat),
}

impl FromStr for FormatChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "auto" {
            Ok(Self::Auto)
        } else {
            s.parse()
                .map(Self::Fixed)
                .map_err(|_| format!("unknown format {s:?} (use auto, {})", LogFormat::names()))
        }
    }
}

impl fmt::Display for FormatChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Fixed(format) => format.fmt(f),
        }
    }
}

/// Why a directory or S3-prefix walk leaves an object out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotALog {
    /// The name is none of the load balancer log names (`README.md`, `ELBAccessLogTestFile`).
    Name,
    /// A load balancer log name, but not `.log` or `.log.gz` (a copy, a partial download).
    Extension,
    /// The end time in its name is outside `--since`/`--until`.
    OutsideWindow,
    /// `--since`/`--until` select by the end time in the name, and this name holds none.
    NoTime,
}

impl fmt::Display for NotALog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "not a load balancer log name",
            Self::Extension => "not .log or .log.gz",
            Self::OutsideWindow => "ending outside --since/--until",
            Self::NoTime => "no end time in the name (--since/--until)",
        })
    }
}

/// Whether a walk (a directory, an S3 prefix) takes the object `key`: its file name is a load
/// balancer log name ([`LogFormat::from_object_name`], and the ALB health check log's
/// `health_check_log_…` shape) ending in `.log` or `.log.gz`. An object named explicitly is read
/// whatever its name; this rule is only for what a walk finds.
pub fn walk_takes(key: &str) -> Result<(), NotALog> {
    let file = key.rsplit('/').next().unwrap_or(key);
    let named =
        LogFormat::from_object_name(file).is_some() || file.starts_with("health_check_log_");
    if !named {
        Err(NotALog::Name)
    } else if !(file.ends_with(".log") || file.ends_with(".log.gz")) {
        Err(NotALog::Extension)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_route_formats() {
        let dir = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/";
        let cases = [
            ("123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz", Some(LogFormat::Alb)),
            ("conn_log_123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20140215T2340Z_10.0.0.1_20sg8hgm.log.gz", Some(LogFormat::AlbConnection)),
            ("conn_log.123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234_20140215T2340Z_10.0.0.1_x.log.gz", Some(LogFormat::AlbConnection)),
            ("123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20181220T0300Z_abcdef12.log.gz", Some(LogFormat::Nlb)),
            ("123456789012_elasticloadbalancing_us-east-2_my-clb_20140215T2340Z_172.160.001.192_20sg8hgm.log", Some(LogFormat::Elb)),
            // AWS's health check log name holds `_app.` too: it must not be read as an access log.
            ("health_check_log_123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20251121T1005Z_172.31.1.5_a1b2c3d4.log.gz", Some(LogFormat::AlbHealthCheck)),
            // A load balancer named like a prefix is still an access log.
            ("123456789012_elasticloadbalancing_us-east-2_app.health_check_log_lb.1234_20251121T1005Z_10.0.0.1_x.log.gz", Some(LogFormat::Alb)),
            ("123456789012_elasticloadbalancing_us-east-2_app.conn_log_lb.1234_20251121T1005Z_10.0.0.1_x.log.gz", Some(LogFormat::Alb)),
            ("ELBAccessLogTestFile", None),
        ];
        let hive = "logs/AWSLogs/aws-account-id=123456789012/elasticloadbalancing/region=us-east-2/year=2026/month=09/day=10/";
        for (file, want) in cases {
            for dir in [dir, hive, "", "my-own-destination/"] {
                assert_eq!(
                    LogFormat::from_object_name(&format!("{dir}{file}")),
                    want,
                    "{dir}{file}"
                );
            }
        }
    }

    #[test]
    fn per_format_values_are_indexed_by_their_format() {
        for (i, format) in LogFormat::ALL.into_iter().enumerate() {
            assert_eq!(format.index(), i, "{format}");
        }
        let mut counts = PerFormat::<u64>::default();
        counts[LogFormat::Nlb] += 2;
        counts[LogFormat::AlbHealthCheck] += 1;
        let mut total = PerFormat::from_fn(|f| u64::from(f == LogFormat::Nlb));
        total += &counts;
        assert_eq!(total.as_slice(), [0, 0, 3, 0, 1]);
        assert_eq!(total.iter().sum::<u64>(), 4);
        let names = PerFormat::from_fn(LogFormat::name);
        assert_eq!(names[LogFormat::Elb], "elb");
        assert_eq!(names.map(|n| n.len())[LogFormat::AlbConnection], 14);
        assert_eq!(
            names.entries().find(|(_, n)| **n == "nlb"),
            Some((LogFormat::Nlb, &"nlb"))
        );
        let failed: Result<PerFormat<u8>, LogFormat> = PerFormat::try_from_fn(|f| match f {
            LogFormat::Elb | LogFormat::AlbHealthCheck => Err(f),
            _ => Ok(1),
        });
        assert_eq!(failed, Err(LogFormat::Elb), "the first error");
        assert_eq!(
            PerFormat::try_from_fn(|f| Ok::<_, ()>(f.index())).map(|p| p.as_slice().to_vec()),
            Ok(vec![0, 1, 2, 3, 4])
        );
    }

    #[test]
    fn format_names_parse() {
        for format in LogFormat::ALL {
            assert_eq!(format.name().parse::<LogFormat>(), Ok(format));
        }
        assert_eq!(
            "alb-health-check".parse::<FormatChoice>(),
            Ok(FormatChoice::Fixed(LogFormat::AlbHealthCheck))
        );
        assert!("health".parse::<LogFormat>().is_err());
    }

    #[test]
    fn walks_take_load_balancer_log_names_only() {
        let dir = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/";
        for file in [
            "123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz",
            "conn_log_123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20140215T2340Z_10.0.0.1_20sg8hgm.log.gz",
            "123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20181220T0300Z_abcdef12.log.gz",
            "123456789012_elasticloadbalancing_us-east-2_my-clb_20140215T2340Z_172.160.001.192_20sg8hgm.log",
            "health_check_log_123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20251121T1005Z_172.31.1.5_a1b2c3d4.log.gz",
        ] {
            assert_eq!(walk_takes(&format!("{dir}{file}")), Ok(()), "{file}");
        }
        assert_eq!(walk_takes("samples/README.md"), Err(NotALog::Name));
        assert_eq!(
            walk_takes(&format!("{dir}ELBAccessLogTestFile")),
            Err(NotALog::Name)
        );
        assert_eq!(
            walk_takes("x/123456789012_elasticloadbalancing_us-east-2_app.lb.1_20140215T2340Z_1.2.3.4_a.log.gz.part"),
            Err(NotALog::Extension)
        );
        // The folder's name does not count, only the file's.
        assert_eq!(walk_takes("logs_app.x/notes.txt"), Err(NotALog::Name));
    }

    #[test]
    fn lines_are_sniffed() {
        assert_eq!(
            LogFormat::sniff(b"h2 2026-01-01T00:00:00.000000Z app/x/y"),
            LogFormat::Alb
        );
        assert_eq!(
            LogFormat::sniff(b"tls 2.0 2018-12-20T02:59:40 net/x/y"),
            LogFormat::Nlb
        );
        assert_eq!(
            LogFormat::sniff(b"2023-11-01T00:00:00.000000Z 1.2.3.4 50000 443 TLSv1.2"),
            LogFormat::AlbConnection
        );
        assert_eq!(
            LogFormat::sniff(
                b"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80"
            ),
            LogFormat::Elb
        );
        for line in [
            &b"http 2025-10-31T12:44:59.875678Z 0.019584011 172.31.20.97:80 HCLogsTestIPs PASS 200 -"[..],
            b"lambda 2025-11-21T10:00:00.123456Z 0.215 arn:aws:lambda:us-east-1:1:function:f tg PASS 200 -",
            b"http 2025-11-21T10:00:02.500000Z - 172.31.20.97:8080 tg FAIL - TimedOut",
        ] {
            assert_eq!(LogFormat::sniff(line), LogFormat::AlbHealthCheck);
        }
        // An access line's third token is the load balancer, even when it is broken.
        assert_eq!(
            LogFormat::sniff(b"http 2025-10-31T12:44:59.875678Z app/x/y 1.2.3.4:5 - 0.1 0.1 0.1"),
            LogFormat::Alb
        );
        assert_eq!(LogFormat::sniff(b"http garbage 0.1"), LogFormat::Alb);
        assert_eq!(LogFormat::sniff(b"garbage"), LogFormat::Alb);
        assert_eq!(LogFormat::sniff(b""), LogFormat::Alb);
    }
}
