//! `albingest cleanup`: what the scheduled cleanup function does, from a terminal.

use std::process::ExitCode;

use clap::Args;

use crate::bulk::IndexPrefixes;
use crate::cleanup::{cleanup, CleanupOptions};
use crate::retention::{today, Retention};
use crate::search::SearchClient;

use super::{print_stdout, runtime, CliError, SearchOptions};

#[derive(Debug, Args)]
#[command(
    after_help = "Deletes, by explicit name, the daily indices {prefix}-YYYY.MM.DD and \
{prefix}-failed-YYYY.MM.DD whose whole day (UTC) is older than the retention. Never touches an \
index whose name it cannot date, an index under another prefix, or a system index (starting with \
'.'). Lists only GET /_cat/indices/{prefix}-*,{prefix}-failed-*, so a role limited to those \
patterns suffices. Prints every index with its verdict. An index already gone (404) counts as \
deleted. Refuses to delete anything when the newest index is more than the retention plus 31 days \
old (a wrong clock would delete everything) unless --force. Exit status 1 when a delete failed \
(the others are still deleted)."
)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub search: SearchOptions,

    /// Days to keep (at least 1).
    #[arg(long, value_name = "N")]
    pub retention_days: i64,

    /// Index prefix to clean up: PREFIX or FORMAT=PREFIX, as for --index-prefix of ingest.
    /// Repeatable; exactly the prefixes given are cleaned up. Default: the four built-in
    /// prefixes.
    #[arg(long = "prefix", value_name = "[FORMAT=]PREFIX")]
    pub prefixes: Vec<String>,

    /// Configuration file: without --prefix, every prefix it uses (its index_prefixes, the
    /// defaults of the formats it leaves alone, and each [[routing]] prefix) is cleaned up.
    #[arg(long, value_name = "FILE", conflicts_with = "prefixes")]
    pub config: Option<std::path::PathBuf>,

    /// List what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Delete even when the newest index is far older than the clock's today claims.
    #[arg(long)]
    pub force: bool,

    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: CleanupArgs) -> Result<ExitCode, CliError> {
    let prefixes = match &args.config {
        Some(path) => super::load_config(Some(path))?
            .prefixes()
            .map_err(|source| CliError::ConfigPrefixes {
                path: path.clone(),
                source,
            })?
            .all(),
        None => IndexPrefixes::named(&args.prefixes).map_err(CliError::CleanupPrefix)?,
    };
    let retention = Retention::new(args.retention_days, &prefixes)?;
    let config = args.search.config()?;
    let report = runtime()?.block_on(async {
        let client = SearchClient::connect(&config).await?;
        let options = CleanupOptions {
            dry_run: args.dry_run,
            force: args.force,
        };
        Ok::<_, CliError>(cleanup(&client, &retention, today(), options).await?)
    })?;
    if args.json {
        print_stdout(&format!("{}\n", crate::lambda::report_json(&report)))?;
    } else {
        let mut text = String::new();
        for verdict in &report.verdicts {
            text.push_str(&format!("{verdict}\n"));
        }
        for (index, error) in &report.failed {
            text.push_str(&format!("FAILED to delete {index}: {error}\n"));
        }
        print_stdout(&text)?;
        to_stderr!(
            "albingest cleanup: {} {}, {} kept, {} failed{}",
            report.deleted.len(),
            if args.dry_run {
                "would be deleted"
            } else {
                "deleted"
            },
            report.kept(),
            report.failed.len(),
            if args.dry_run { " (dry run)" } else { "" }
        );
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
