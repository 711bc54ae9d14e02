//! The terminal report: aligned columns, no colours, a section a figure.

use std::fmt;

use super::answer::share;
use super::query::{
    BACKEND_TIME, CLIENT, ERROR_REASON, HEALTH_REASON, HEALTH_TARGET, PATH, STATUS, USER_AGENT,
};
use super::{Figure, Report, StatusClass, TargetHealth, TermCount};

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_heading(f)?;
        self.write_totals(f)?;
        self.write_status(f)?;
        self.write_latency(f)?;
        for (title, column, figure, top) in [
            (
                "Top URL paths of 5xx responses",
                PATH,
                Figure::Top5xxPaths,
                &self.top_5xx_paths,
            ),
            (
                "Top client IPs",
                CLIENT,
                Figure::TopClients,
                &self.top_clients,
            ),
            (
                "Top user agents",
                USER_AGENT,
                Figure::TopUserAgents,
                &self.top_user_agents,
            ),
            (
                "Top error reasons",
                ERROR_REASON,
                Figure::TopErrorReasons,
                &self.top_error_reasons,
            ),
        ] {
            self.write_top(f, title, column, figure, top)?;
        }
        self.write_target_health(f)?;
        self.write_warnings(f)
    }
}

impl Report {
    /// What, where and when; and where the documents are when the window holds none.
    fn write_heading(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.from {
            Some(from) => writeln!(
                f,
                "ALB access logs in {} at {}, since {from} (last {})",
                self.index_pattern, self.endpoint, self.since
            )?,
            None => writeln!(
                f,
                "ALB access logs in {} at {}, all time",
                self.index_pattern, self.endpoint
            )?,
        }
        let Some(empty) = &self.empty_window else {
            return Ok(());
        };
        match (&empty.newest, &empty.suggested_since) {
            (Some(newest), Some(since)) => writeln!(
                f,
                "  No requests in this window. The newest ALB access log document is from \
                 {newest}: --since {since} shows it."
            ),
            (Some(newest), None) => writeln!(
                f,
                "  No requests in this window. The newest ALB access log document is from \
                 {newest}."
            ),
            (None, _) => writeln!(
                f,
                "  No requests in this window, and no ALB access log documents in {} at all.",
                self.index_pattern
            ),
        }
    }

    /// Requests and failure documents.
    fn write_totals(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        let failures = match self.failures {
            Some(n) => thousands(n),
            None => "unavailable".into(),
        };
        table(
            f,
            &[
                vec!["requests".into(), thousands(self.requests)],
                vec![
                    "failure documents".into(),
                    format!("{failures} (in {})", self.failure_index_pattern),
                ],
            ],
            &[false, false],
        )?;
        if let Some(reason) = self.unavailable_reason(Figure::Failures) {
            writeln!(f, "  failure documents unavailable: {reason}")?;
        }
        Ok(())
    }

    fn write_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        writeln!(f, "Status classes ({STATUS})")?;
        let Some(classes) = &self.status else {
            return self.write_unavailable(f, Figure::Status);
        };
        let mut rows = vec![vec![
            "class".to_string(),
            "requests".to_string(),
            "share".to_string(),
        ]];
        rows.extend(classes.iter().map(|c| {
            let class = match c.class.as_str() {
                "none" => "no status".to_string(),
                other => other.to_string(),
            };
            vec![class, thousands(c.count), percent(c.share)]
        }));
        if let Some(rate) = self.error_rate {
            rows.push(vec![
                "4xx+5xx".to_string(),
                thousands(StatusClass::errors(classes)),
                percent(rate),
            ]);
        }
        table(f, &rows, &[false, true, true])
    }

    fn write_latency(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        writeln!(f, "Target processing time ({BACKEND_TIME})")?;
        let Some(latency) = &self.latency else {
            return self.write_unavailable(f, Figure::Latency);
        };
        table(
            f,
            &[
                vec!["measured".into(), thousands(latency.measured)],
                vec!["p50".into(), seconds(latency.p50)],
                vec!["p95".into(), seconds(latency.p95)],
                vec!["p99".into(), seconds(latency.p99)],
            ],
            &[false, true],
        )
    }

    fn write_top(
        &self,
        f: &mut fmt::Formatter<'_>,
        title: &str,
        column: &str,
        figure: Figure,
        top: &Option<Vec<TermCount>>,
    ) -> fmt::Result {
        writeln!(f)?;
        writeln!(f, "{title}")?;
        match top {
            None => self.write_unavailable(f, figure),
            Some(top) if top.is_empty() => writeln!(f, "  (none)"),
            Some(top) => top_table(f, "requests", column, top),
        }
    }

    fn write_target_health(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        let Some(health) = &self.target_health else {
            writeln!(f, "Target health")?;
            return self.write_unavailable(f, Figure::TargetHealth);
        };
        writeln!(
            f,
            "Target health (health check logs in {})",
            health.index_pattern
        )?;
        write_health(f, health)
    }

    fn write_warnings(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.warnings.is_empty() {
            return Ok(());
        }
        writeln!(f)?;
        writeln!(f, "Warnings")?;
        for warning in &self.warnings {
            writeln!(f, "  {warning}")?;
        }
        Ok(())
    }

    fn write_unavailable(&self, f: &mut fmt::Formatter<'_>, figure: Figure) -> fmt::Result {
        match self.unavailable_reason(figure) {
            Some(reason) => writeln!(f, "  unavailable: {reason}"),
            None => writeln!(f, "  unavailable"),
        }
    }
}

/// Checks, failed checks, and the targets and reason codes of the failures.
fn write_health(f: &mut fmt::Formatter<'_>, health: &TargetHealth) -> fmt::Result {
    table(
        f,
        &[
            vec!["health checks".into(), thousands(health.checks)],
            vec![
                "failed".into(),
                format!(
                    "{} ({})",
                    thousands(health.failed),
                    percent(share(health.failed, health.checks))
                ),
            ],
        ],
        &[false, false],
    )?;
    for (title, column, top) in [
        (
            "failing targets",
            HEALTH_TARGET,
            &health.top_failing_targets,
        ),
        ("reason codes", HEALTH_REASON, &health.top_reason_codes),
    ] {
        if top.is_empty() {
            continue;
        }
        writeln!(f, "  {title}")?;
        top_table(f, "failed checks", column, top)?;
    }
    Ok(())
}

/// A top list: the count (`counted`) right-aligned beside the value of `column`.
fn top_table(
    f: &mut fmt::Formatter<'_>,
    counted: &str,
    column: &str,
    top: &[TermCount],
) -> fmt::Result {
    let mut rows = vec![vec![counted.to_string(), column.to_string()]];
    rows.extend(
        top.iter()
            .map(|t| vec![thousands(t.count), t.value.clone()]),
    );
    table(f, &rows, &[true, false])
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn seconds(value: Option<f64>) -> String {
    match value {
        Some(v) if v.abs() < 0.001 && v != 0.0 => format!("{v:.6} s"),
        Some(v) => format!("{v:.3} s"),
        None => "-".into(),
    }
}

/// Rows of aligned columns (`right`: which columns are right-aligned), indented by two spaces;
/// the last column is not padded.
fn table(f: &mut fmt::Formatter<'_>, rows: &[Vec<String>], right: &[bool]) -> fmt::Result {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c].saturating_sub(cell.chars().count());
            let last = c + 1 == row.len();
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if !last {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{opensearch_answer, options};
    use super::super::{parse_search, Agg, Unavailable};
    use super::*;

    #[test]
    fn the_table_is_aligned_and_says_what_is_missing() {
        let mut r = parse_search(&opensearch_answer(), &Agg::ALL, &options("1h")).unwrap();
        r.endpoint = "http://search:9200".into();
        r.failures = Some(1234);
        r.latency = None;
        r.unavailable.push(Unavailable {
            figure: Figure::Latency,
            reason: "the server has no `percentiles` aggregation".into(),
        });
        let text = r.to_string();
        assert!(
            text.starts_with(
                "ALB access logs in alb-logs-* at http://search:9200, since 2026-11-26T02:00:00Z (last 1h)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  failure documents  1,234 (in alb-logs-failed-*)\n"),
            "{text}"
        );
        assert!(text.contains("  class      requests  share\n"), "{text}");
        assert!(text.contains("  2xx              60  60.0%\n"), "{text}");
        assert!(text.contains("  4xx+5xx          23  23.0%\n"), "{text}");
        assert!(
            text.contains("Target processing time (aws.elb.backend_processing_time.sec)\n  unavailable: the server has no `percentiles` aggregation\n"),
            "{text}"
        );
        assert!(
            text.contains("  requests  source.ip\n         3  2001:db8::7\n"),
            "{text}"
        );
        assert!(text.contains("Top error reasons\n  (none)\n"), "{text}");
        assert!(!text.lines().any(|l| l.ends_with(' ')), "{text}");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }
}
