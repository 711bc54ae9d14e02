//! `albingest report`: a terminal summary of the ALB access logs in the search server.

use std::process::ExitCode;

use clap::Args;

use super::{print_stdout, runtime, CliError, SearchOptions};
use crate::bulk::IndexPrefixes;
use crate::format::LogFormat;
use crate::report::{self, ReportOptions, Since};
use crate::search::SearchClient;

#[derive(Debug, Args)]
#[command(
    after_help = "Summarises the ALB access log documents in PREFIX-* whose @timestamp is within \
the window: requests, status classes, the top URL paths of 5xx responses, target processing time \
percentiles, top client IPs, user agents and error reasons, and the failure documents in \
PREFIX-failed-*. One _search (size 0, aggregations) and one _count. A figure the server cannot \
compute (an aggregation type it lacks) is reported as unavailable, with the server's reason. \
Then the target health from the ALB health check logs in HEALTH_PREFIX-*: checks, failed checks, \
the failing targets and reason codes (one more _search)."
)]
pub struct ReportArgs {
    #[command(flatten)]
    pub search: SearchOptions,

    /// Time window ending now, on @timestamp: 15m, 1h, 24h, 7d (units s, m, h, d, w), or `all`.
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub since: String,

    /// Index prefix of the ALB access logs (documents in PREFIX-*, failures in PREFIX-failed-*).
    #[arg(long, default_value = report::DEFAULT_PREFIX, value_name = "PREFIX")]
    pub index_prefix: String,

    /// Index prefix of the ALB health check logs (the target health figures).
    #[arg(
        long,
        default_value = report::DEFAULT_HEALTH_CHECK_PREFIX,
        value_name = "HEALTH_PREFIX"
    )]
    pub health_check_index_prefix: String,

    /// Configuration file: the report reads every ALB (and health check) prefix it routes to,
    /// besides the two above.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// Print the report as JSON (for scripts).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ReportArgs) -> Result<ExitCode, CliError> {
    let since: Since = args.since.parse()?;
    // The same rules as --index-prefix of ingest.
    let mut prefixes = IndexPrefixes::default();
    prefixes
        .apply(&format!("alb={}", args.index_prefix))
        .map_err(|source| CliError::PrefixFlag {
            flag: "--index-prefix",
            spec: args.index_prefix.clone(),
            source,
        })?;
    prefixes
        .apply(&format!(
            "alb-health-check={}",
            args.health_check_index_prefix
        ))
        .map_err(|source| CliError::PrefixFlag {
            flag: "--health-check-index-prefix",
            spec: args.health_check_index_prefix.clone(),
            source,
        })?;
    let (mut routed, mut routed_health) = (Vec::new(), Vec::new());
    if let Some(path) = &args.config {
        let configured = super::load_config(Some(path))?
            .prefixes()
            .map_err(|source| CliError::ConfigPrefixes {
                path: path.clone(),
                source,
            })?;
        let others = |format, given: &str| -> Vec<String> {
            configured
                .every(format)
                .into_iter()
                .filter(|p| *p != given)
                .map(String::from)
                .collect()
        };
        routed = others(LogFormat::Alb, prefixes.get(LogFormat::Alb));
        routed_health = others(
            LogFormat::AlbHealthCheck,
            prefixes.get(LogFormat::AlbHealthCheck),
        );
    }
    let options = ReportOptions::new(prefixes.get(LogFormat::Alb), since)
        .health_check_prefix(prefixes.get(LogFormat::AlbHealthCheck))
        .routed(routed, routed_health);
    let config = args.search.config()?;
    let report = runtime()?.block_on(async {
        let client = SearchClient::connect(&config).await?;
        Ok::<_, CliError>(report::report(&client, &options).await?)
    })?;
    if args.json {
        let text = serde_json::to_string_pretty(&report).map_err(CliError::ReportJson)?;
        print_stdout(&format!("{text}\n"))?;
    } else {
        print_stdout(&report.to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}
