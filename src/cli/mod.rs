//! The `albingest` command line: argument definitions and one module per subcommand.

mod parse;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser as ClapParser, Subcommand};

use crate::bulk::IndexPrefixes;
use crate::format::FormatChoice;
use crate::grok::PatternLibrary;
use crate::parse::Parser;

#[derive(Debug, ClapParser)]
#[command(
    name = "albingest",
    version,
    about = "Load AWS load balancer access logs into OpenSearch / Elasticsearch",
    long_about = "Parses AWS Application, Network and Classic Load Balancer logs (and ALB connection \
                  logs) into typed ECS documents with grok patterns, and loads them into daily \
                  OpenSearch / Elasticsearch indices."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse log files (plain or gzip) and print one JSON document per line.
    Parse(parse::ParseArgs),
}

/// How lines become documents: the flags every command that parses shares.
#[derive(Debug, Clone, Args)]
pub struct ParseOptions {
    /// Log format of every line: auto (from the object name, else from each line), alb,
    /// alb-connection, nlb or elb.
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub format: FormatChoice,

    /// Directory of pattern files read after the built-in ones; a definition with the same name
    /// replaces the built-in one.
    #[arg(long, env = "ALBINGEST_PATTERNS_DIR", value_name = "DIR")]
    pub patterns: Option<PathBuf>,

    /// Also keep the raw line in `event.original` (failure documents always keep it). Doubles the
    /// storage.
    #[arg(long)]
    pub keep_original: bool,

    /// Index name prefix: PREFIX for ALB access logs, or FORMAT=PREFIX (alb, alb-connection, nlb,
    /// elb). Repeatable. Defaults: alb-logs, alb-connection-logs, nlb-logs, elb-logs.
    #[arg(long = "index-prefix", value_name = "[FORMAT=]PREFIX")]
    pub index_prefixes: Vec<String>,
}

impl ParseOptions {
    pub fn parser(&self) -> Result<Parser, String> {
        let library =
            PatternLibrary::with_overrides(self.patterns.as_deref()).map_err(|e| e.to_string())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Ok(Parser::new(&library, self.format)
            .map_err(|e| e.to_string())?
            .keep_original(self.keep_original)
            .fallback_time(crate::timestamp::format_epoch_seconds(now)))
    }

    pub fn index_prefixes(&self) -> Result<IndexPrefixes, String> {
        let mut prefixes = IndexPrefixes::default();
        for spec in &self.index_prefixes {
            prefixes.apply(spec)?;
        }
        Ok(prefixes)
    }
}

/// Runs the command line; errors are printed to stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => parse::run(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("albingest: {message}");
            ExitCode::FAILURE
        }
    }
}
