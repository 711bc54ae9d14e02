//! The `albingest` command line: argument definitions and one module per subcommand.

/// `eprintln!` that cannot panic: when stderr is a pipe whose reader has gone, the message is
/// lost and the run keeps the status it earned (`eprintln!` panics on the EPIPE, exit 101).
/// `clippy.toml` disallows `eprintln!` so every message goes through here.
macro_rules! to_stderr {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod cleanup;
mod config;
mod ingest;
mod parse;
mod replay;
mod report;
mod setup;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser as ClapParser, Subcommand};

use crate::bulk::{IndexPrefixError, IndexPrefixes};
use crate::config::{Config, ConfigError, PrefixesError};
use crate::enrich::{EnrichConfig, EnrichError, Enricher};
use crate::format::FormatChoice;
use crate::grok::{GrokError, PatternLibrary};
use crate::parse::Parser;
use crate::rules::RulesError;
use crate::search::templates::TemplateOptions;
use crate::search::{Auth, SearchConfig, SearchError};

/// Why a command failed: [`main`] prints `albingest: {error}` and exits with status 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The search server flags do not make a configuration.
    #[error(transparent)]
    Search(#[from] SearchOptionsError),
    /// `setup` without a search server configuration, and more than only dashboards to import.
    #[error("{0} (or give only --dashboards-url URL to import the dashboards)")]
    SearchForTemplates(SearchOptionsError),
    /// The search client cannot be built (endpoint, CA bundle, credentials).
    #[error(transparent)]
    Connect(#[from] SearchError),
    /// The configuration file (`--config`) cannot be read or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The configuration file's rules do not compile (the checks should have refused it).
    #[error("{}: {source}", .path.display())]
    ConfigRules {
        path: PathBuf,
        #[source]
        source: RulesError,
    },
    /// The configuration file's prefixes (with the flags over them) do not make index prefixes,
    /// for a command that names the file in the error (`cleanup`, `report`).
    #[error("{}: {source}", .path.display())]
    ConfigPrefixes {
        path: PathBuf,
        #[source]
        source: PrefixesError,
    },
    /// `--index-prefix` values over a configuration file do not make index prefixes.
    #[error("--index-prefix: {0}")]
    IndexPrefixes(PrefixesError),
    /// A prefix flag's value is not a `[FORMAT=]PREFIX`.
    #[error("{flag} {spec}: {source}")]
    PrefixFlag {
        flag: &'static str,
        spec: String,
        #[source]
        source: IndexPrefixError,
    },
    /// A `cleanup --prefix` value is not a `[FORMAT=]PREFIX`.
    #[error("--prefix: {0}")]
    CleanupPrefix(IndexPrefixError),
    /// The pattern files (`--patterns`) do not load, or a format's pattern does not compile.
    #[error(transparent)]
    Patterns(#[from] GrokError),
    /// The rules of the configuration do not compile.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// An enrichment database or the user-agent patterns cannot be loaded.
    #[error(transparent)]
    Enrich(#[from] EnrichError),
    /// The async runtime does not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Standard output refuses a write (other than a closed pipe, which ends quietly).
    #[error("writing to standard output: {0}")]
    Stdout(#[source] std::io::Error),
    /// `setup --lifecycle` is not a lifecycle choice.
    #[error(transparent)]
    Lifecycle(#[from] crate::search::lifecycle::UnknownLifecycle),
    /// `setup --apply-existing` without a lifecycle.
    #[error("--apply-existing needs --lifecycle ism, ilm or auto")]
    ApplyExistingWithoutLifecycle,
    /// `setup --retention-days` without a lifecycle.
    #[error("--retention-days needs --lifecycle ism, ilm or auto")]
    RetentionWithoutLifecycle,
    /// `setup --lifecycle` without `--retention-days`.
    #[error("--lifecycle needs --retention-days DAYS")]
    LifecycleWithoutRetention,
    /// `setup --lifecycle` without a search server.
    #[error("--lifecycle needs --endpoint (or ALBINGEST_ENDPOINT)")]
    LifecycleWithoutEndpoint,
    /// The lifecycle policy cannot be resolved or installed.
    #[error("setup: {0}")]
    LifecycleSetup(#[source] crate::search::lifecycle::LifecycleError),
    /// The index templates cannot be installed.
    #[error("setup: {0}")]
    Templates(#[source] crate::search::templates::SetupError),
    /// `setup --dashboards-flavor` names no product.
    #[error(transparent)]
    Flavor(#[from] crate::dashboards::UnknownFlavor),
    /// The dashboards cannot be imported.
    #[error("setup: dashboards: {0}")]
    Dashboards(#[source] crate::dashboards::DashboardsError),
    /// `cleanup --retention-days` or its prefixes cannot make a retention.
    #[error(transparent)]
    Retention(#[from] crate::retention::RetentionError),
    /// The cleanup failed or refused (a suspect clock).
    #[error(transparent)]
    Cleanup(#[from] crate::cleanup::CleanupError),
    /// `report --since` is not a window.
    #[error(transparent)]
    Since(#[from] crate::report::SinceError),
    /// The report's search failed or its answer does not read.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// The report does not serialise as JSON (`report --json`).
    #[error("report: cannot write JSON: {0}")]
    ReportJson(#[source] serde_json::Error),
    /// A dead-letter location cannot be used.
    #[error(transparent)]
    DeadLetter(#[from] crate::search::dead_letter::LocationError),
    /// The replay failed (reading, listing or sending the dead letters).
    #[error(transparent)]
    Replay(#[from] crate::replay::ReplayError),
    /// `albingest ingest` could not run.
    #[error(transparent)]
    Ingest(Box<ingest::RunError>),
    /// The search server does not answer (`replay`).
    #[error(transparent)]
    ServerUnavailable(#[from] ingest::ServerUnavailable),
}

/// The search server flags that do not make a configuration ([`SearchOptions::config`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchOptionsError {
    /// Neither `--endpoint` nor `ALBINGEST_ENDPOINT`.
    #[error("no search server: give --endpoint URL or set ALBINGEST_ENDPOINT")]
    NoEndpoint,
    /// Both SigV4 and basic authentication.
    #[error("--aws-sigv4 and --username exclude each other")]
    SigV4AndUsername,
    /// An API key and another way to authenticate.
    #[error("ALBINGEST_API_KEY excludes --aws-sigv4 and --username: use one way to authenticate")]
    ApiKeyAndOther,
    /// `--username` without `ALBINGEST_PASSWORD`.
    #[error("--username needs the password in the ALBINGEST_PASSWORD environment variable")]
    NoPassword,
}

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

// One value per process, parsed once: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse log files (plain or gzip) and print one JSON document per line.
    Parse(parse::ParseArgs),
    /// Load log objects (files, directories, s3://bucket/prefix) into OpenSearch/Elasticsearch.
    Ingest(Box<ingest::IngestArgs>),
    /// Install the index templates (mappings and settings of the daily indices).
    Setup(setup::SetupArgs),
    /// Delete the daily indices older than the retention (what the cleanup function does).
    Cleanup(cleanup::CleanupArgs),
    /// Send dead-lettered documents again (after fixing what refused them), with their ids.
    Replay(replay::ReplayArgs),
    /// Summarise the ALB access logs in the search server: status classes, latency, top lists.
    Report(report::ReportArgs),
    /// Work with the configuration file (`config check FILE`).
    Config(config::ConfigArgs),
}

/// The search server and how to reach it: the flags `ingest`, `setup`, `cleanup` and `report`
/// share. No option shows its environment value in `--help` (`hide_env_values`): an endpoint
/// may carry a password.
#[derive(Debug, Clone, Args)]
pub struct SearchOptions {
    /// Search server URL (OpenSearch or Elasticsearch), e.g. https://search-x.us-east-1.es.amazonaws.com.
    #[arg(
        long,
        env = "ALBINGEST_ENDPOINT",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub endpoint: Option<String>,

    /// User for HTTP basic authentication; the password is read from the ALBINGEST_PASSWORD
    /// environment variable only (never a flag, never printed). For an Elasticsearch API key,
    /// set ALBINGEST_API_KEY to the encoded key instead (sent as `Authorization: ApiKey …`).
    #[arg(
        long,
        env = "ALBINGEST_USERNAME",
        hide_env_values = true,
        value_name = "USER"
    )]
    pub username: Option<String>,

    /// Sign requests with AWS SigV4, credentials from the default AWS chain: `es` for Amazon
    /// OpenSearch Service (the default when the flag has no value), `aoss` for Serverless.
    #[arg(long, value_name = "SERVICE", num_args = 0..=1, default_missing_value = "es",
          value_parser = ["es", "aoss"])]
    pub aws_sigv4: Option<String>,

    /// AWS region for SigV4 (default: from the AWS configuration chain).
    #[arg(long, value_name = "REGION")]
    pub aws_region: Option<String>,

    /// PEM file of CA certificates to trust for an https:// endpoint, besides the system's
    /// (e.g. a self-managed Elasticsearch 8's http_ca.crt).
    #[arg(long, env = "ALBINGEST_CA_BUNDLE", value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
}

impl SearchOptions {
    /// The server's configuration; `_bulk` bodies gzip-compressed (`ingest --no-gzip` turns that
    /// off; the other commands send none).
    pub fn config(&self) -> Result<SearchConfig, SearchOptionsError> {
        let endpoint = self
            .endpoint
            .clone()
            .ok_or(SearchOptionsError::NoEndpoint)?;
        // An Elasticsearch API key only ever comes from the environment: a flag would show in
        // `ps` and shell history.
        let api_key = std::env::var("ALBINGEST_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty());
        let auth = match (&self.aws_sigv4, &self.username) {
            (Some(_), Some(_)) => {
                return Err(SearchOptionsError::SigV4AndUsername);
            }
            (Some(_), None) | (None, Some(_)) if api_key.is_some() => {
                return Err(SearchOptionsError::ApiKeyAndOther);
            }
            (Some(service), None) => Auth::SigV4 {
                service: service.clone(),
                region: self.aws_region.clone(),
            },
            (None, Some(username)) => Auth::Basic {
                username: username.clone(),
                password: std::env::var("ALBINGEST_PASSWORD")
                    .map_err(|_| SearchOptionsError::NoPassword)?,
            },
            (None, None) => api_key.map_or(Auth::None, Auth::ApiKey),
        };
        Ok(SearchConfig {
            endpoint,
            auth,
            gzip: true,
            ca_bundle: self.ca_bundle.clone(),
        })
    }
}

/// Index settings `setup` installs (and `ingest` when it runs setup).
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// Primary shards of each daily index (shipped default: 1).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,

    /// Replicas of each daily index (shipped default: 1).
    #[arg(long, value_name = "N")]
    pub replicas: Option<u32>,

    /// Refresh interval of each daily index, e.g. 5s, 30s, -1 (shipped default: 5s).
    #[arg(long, value_name = "INTERVAL")]
    pub refresh_interval: Option<String>,
}

impl TemplateArgs {
    pub fn options(&self) -> TemplateOptions {
        TemplateOptions {
            shards: self.shards,
            replicas: self.replicas,
            refresh_interval: self.refresh_interval.clone(),
            ilm_policy: None,
        }
    }
}

/// The async runtime of a command: a few worker threads (the parsing runs on blocking threads).
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// Writes `text` to standard output. A closed stdout (its reader went away: `| head`, `| true`)
/// is not an error: the command has nothing more to do there and ends quietly with its own
/// status, as ripgrep does, instead of panicking as `print!` would.
pub fn print_stdout(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Stdout(e)),
        _ => Ok(()),
    }
}

/// Log lines on stderr, `warn` and above unless `ALBINGEST_LOG` (or `RUST_LOG`) says otherwise.
fn init_logging() {
    let filter = std::env::var("ALBINGEST_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// How lines become documents: the flags every command that parses shares.
#[derive(Debug, Clone, Args)]
pub struct ParseOptions {
    /// Log format of every line: auto (from the object name, else from each line), alb,
    /// alb-connection, nlb, elb or alb-health-check.
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub format: FormatChoice,

    /// Directory of pattern files read after the built-in ones; a definition with the same name
    /// replaces the built-in one.
    #[arg(
        long,
        env = "ALBINGEST_PATTERNS_DIR",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub patterns: Option<PathBuf>,

    /// Also keep the raw line in `event.original` (failure documents always keep it). Doubles the
    /// storage.
    #[arg(long)]
    pub keep_original: bool,

    /// Index name prefix: PREFIX for ALB access logs, or FORMAT=PREFIX (alb, alb-connection, nlb,
    /// elb, alb-health-check). Repeatable. Defaults: alb-logs, alb-connection-logs, nlb-logs,
    /// elb-logs, alb-health-check-logs.
    #[arg(long = "index-prefix", value_name = "[FORMAT=]PREFIX")]
    pub index_prefixes: Vec<String>,

    /// GeoIP City (or Country) database, MaxMind format (GeoLite2, GeoIP2, DB-IP): adds
    /// `source.geo.*` (and `destination.geo.*`). A local path or s3://BUCKET/KEY.
    #[arg(long, env = "ALBINGEST_GEOIP_CITY", value_name = "PATH")]
    pub geoip_city: Option<String>,

    /// GeoIP ASN database, MaxMind format: adds `source.as.number` and
    /// `source.as.organization.name`. A local path or s3://BUCKET/KEY.
    #[arg(long, env = "ALBINGEST_GEOIP_ASN", value_name = "PATH")]
    pub geoip_asn: Option<String>,

    /// Parse `user_agent.original` into `user_agent.name`, `.version`, `.os.*` and
    /// `.device.name` (uap-core's patterns, as Elasticsearch's user_agent processor).
    #[arg(long, env = "ALBINGEST_USER_AGENT")]
    pub user_agent: bool,
    /// Configuration file (TOML): labels, tags, index routing, drop and sample rules, privacy,
    /// enrichment. --index-prefix and --keep-original override its keys.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The configuration file, or the built-in behaviour without one.
pub fn load_config(path: Option<&Path>) -> Result<Config, ConfigError> {
    match path {
        Some(path) => Config::from_file(path),
        None => Ok(Config::default()),
    }
}

impl ParseOptions {
    /// The configuration file with this command's flags over its keys.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let mut config = load_config(self.config.as_deref())?;
        config.override_index_prefixes(&self.index_prefixes);
        config.override_keep_original(self.keep_original.then_some(true));
        Ok(config)
    }

    pub fn parser(&self) -> Result<Parser, CliError> {
        let config = self.config()?;
        let library = PatternLibrary::with_overrides(self.patterns.as_deref())?;
        let rules = crate::rules::Rules::compile(&config)?;
        Ok(Parser::new(&library, self.format)?
            .keep_original(config.keep_original.unwrap_or(false))
            .fallback_time(crate::timestamp::now())
            .with_rules(rules))
    }

    /// The `[enrich]` configuration: the flags (and their environment variables) over the
    /// configuration file's section.
    pub fn enrich_config(&self) -> Result<EnrichConfig, ConfigError> {
        let flags = EnrichConfig {
            geoip_city: self.geoip_city.clone(),
            geoip_asn: self.geoip_asn.clone(),
            user_agent: self.user_agent,
        };
        Ok(flags.over(load_config(self.config.as_deref())?.enrich))
    }

    /// The enrichment asked for, databases opened (`s3://` ones downloaded first).
    pub async fn enricher(&self, s3_endpoint: Option<&str>) -> Result<Enricher, CliError> {
        Ok(Enricher::load(&self.enrich_config()?, s3_endpoint).await?)
    }

    pub fn index_prefixes(&self) -> Result<IndexPrefixes, CliError> {
        if self.config.is_none() {
            return Self::prefixes_from("--index-prefix", &self.index_prefixes);
        }
        self.config()?.prefixes().map_err(CliError::IndexPrefixes)
    }

    /// The prefixes after applying the values of `flag` (`--index-prefix`, `--prefix`); an error
    /// names the flag and the value.
    pub fn prefixes_from(flag: &'static str, specs: &[String]) -> Result<IndexPrefixes, CliError> {
        let mut prefixes = IndexPrefixes::default();
        for spec in specs {
            prefixes
                .apply(spec)
                .map_err(|source| CliError::PrefixFlag {
                    flag,
                    spec: spec.clone(),
                    source,
                })?;
        }
        Ok(prefixes)
    }
}

/// Runs the command line; errors are printed to stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::Ingest(args) => ingest::run(*args).map_err(|e| CliError::Ingest(Box::new(e))),
        Command::Setup(args) => setup::run(args),
        Command::Cleanup(args) => cleanup::run(args),
        Command::Report(args) => report::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Config(args) => config::run(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            to_stderr!("albingest: {message}");
            ExitCode::FAILURE
        }
    }
}
