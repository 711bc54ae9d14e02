//! `albingest setup`: installs the index templates, and imports the dashboards.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{runtime, CliError, ParseOptions, SearchOptions, SearchOptionsError, TemplateArgs};
use crate::bulk::IndexPrefixes;
use crate::dashboards::{self, DashboardsConfig, Flavor};
use crate::search::lifecycle::{self, LifecycleChoice, LifecycleKind};
use crate::search::templates::{self, TemplateOptions};
use crate::search::SearchClient;

#[derive(Debug, Args)]
#[command(
    after_help = "Installs a component template (albingest-mappings: the field types) and one \
composable index template per index prefix (albingest-PREFIX for PREFIX-*, with the index \
settings: shards, replicas, refresh). Running it again replaces them with the same content. \
First reads GET / and prints the target it found (OpenSearch, OpenSearch Serverless, \
Elasticsearch, Elasticsearch Serverless, and the version): no wildcard field type where the \
target has none, no index settings on serverless targets; Elasticsearch before 7.8 is refused. \
Then checks with POST _index_template/_simulate_index/NAME that a new daily index gets our \
template, and fails naming the template that overrides it.\n\n\
With --dashboards-url, also imports the saved objects of the \"ALB overview\", \"ALB target \
health\", \"NLB overview\" and \"ALB connection log overview\" dashboards (index patterns, \
visualizations, dashboards) into OpenSearch Dashboards or Kibana with \
POST URL/api/saved_objects/_import?overwrite=true; importing again updates them in place. Without \
--endpoint (or ALBINGEST_ENDPOINT), only the dashboards are imported. Basic auth from \
--username/ALBINGEST_USERNAME and ALBINGEST_PASSWORD applies to both (SigV4 only to the search \
server).\n\n\
With --lifecycle ism|ilm|auto and --retention-days N, also installs the policy \
albingest-retention that deletes each daily index N days after its creation: an OpenSearch ISM \
policy (PUT _plugins/_ism/policies/albingest-retention, attached to new indices by its \
ism_template over every prefix) or an Elasticsearch ILM policy (PUT \
_ilm/policy/albingest-retention, attached to new indices by index.lifecycle.name in the index \
templates); auto picks by the target. --apply-existing attaches it to the indices already there \
too. Serverless targets have neither and are refused. The cleanup function stays the default: it \
deletes by the date in the index name, which ISM/ILM do not read."
)]
pub struct SetupArgs {
    #[command(flatten)]
    pub search: SearchOptions,

    #[command(flatten)]
    pub templates: TemplateArgs,

    /// Index name prefix: PREFIX for ALB access logs, or FORMAT=PREFIX (alb, alb-connection, nlb,
    /// elb, alb-health-check). Repeatable. The imported index patterns follow the ALB, health
    /// check, NLB and connection log prefixes.
    #[arg(long = "index-prefix", value_name = "[FORMAT=]PREFIX")]
    pub index_prefixes: Vec<String>,

    /// Configuration file: the templates are installed for each prefix it routes to too.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// OpenSearch Dashboards or Kibana URL (e.g. https://DOMAIN/_dashboards, or
    /// https://KIBANA/s/SPACE for a Kibana space): import the dashboards there.
    #[arg(long, value_name = "URL")]
    pub dashboards_url: Option<String>,

    /// The product at --dashboards-url: opensearch (OpenSearch Dashboards) or kibana. Default:
    /// detected from GET URL/api/status.
    #[arg(long, value_name = "FLAVOR", value_parser = ["opensearch", "kibana"],
          requires = "dashboards_url")]
    pub dashboards_flavor: Option<String>,

    /// Retention on the server: ism (OpenSearch), ilm (Elasticsearch), auto (by the target) or
    /// none (the cleanup function deletes old indices).
    #[arg(long, value_name = "KIND", default_value = "none",
          value_parser = ["ism", "ilm", "auto", "none"])]
    pub lifecycle: String,

    /// Days a daily index lives after its creation, with --lifecycle.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub retention_days: Option<u32>,

    /// With --lifecycle: attach the policy to the existing indices of the prefixes too.
    #[arg(long)]
    pub apply_existing: bool,
}

pub fn run(args: SetupArgs) -> Result<ExitCode, CliError> {
    let prefixes = match &args.config {
        None => ParseOptions::prefixes_from("--index-prefix", &args.index_prefixes)?,
        Some(path) => {
            let mut config = super::load_config(Some(path))?;
            config.override_index_prefixes(&args.index_prefixes);
            config.prefixes().map_err(CliError::IndexPrefixes)?
        }
    };
    let mut options = args.templates.options();
    let lifecycle: LifecycleChoice = args.lifecycle.parse()?;
    let retention = match (lifecycle, args.retention_days) {
        (LifecycleChoice::None, Some(_)) | (LifecycleChoice::None, None) if args.apply_existing => {
            return Err(CliError::ApplyExistingWithoutLifecycle)
        }
        (LifecycleChoice::None, Some(_)) => return Err(CliError::RetentionWithoutLifecycle),
        (LifecycleChoice::None, None) => 0,
        (_, Some(days)) => days,
        (_, None) => return Err(CliError::LifecycleWithoutRetention),
    };
    if lifecycle != LifecycleChoice::None && args.search.endpoint.is_none() {
        return Err(CliError::LifecycleWithoutEndpoint);
    }
    let dashboards = match &args.dashboards_url {
        Some(url) => Some(DashboardsConfig {
            url: url.clone(),
            flavor: args
                .dashboards_flavor
                .as_deref()
                .map(str::parse::<Flavor>)
                .transpose()?,
            basic_auth: match &args.search.username {
                Some(user) => Some((
                    user.clone(),
                    std::env::var("ALBINGEST_PASSWORD")
                        .map_err(|_| SearchOptionsError::NoPassword)?,
                )),
                None => None,
            },
            index_prefixes: prefixes.clone(),
        }),
        None => None,
    };
    // Templates need the search server; with only --dashboards-url, they are left alone.
    let search = match (&args.search.endpoint, &dashboards) {
        (None, Some(_)) => None,
        _ => Some(args.search.config().map_err(CliError::SearchForTemplates)?),
    };
    runtime()?.block_on(async {
        if let Some(config) = search {
            let client = SearchClient::connect(&config).await?;
            // The policy first: ISM attaches it to indices created after it exists, and the
            // ILM index templates name it.
            let kind = lifecycle::resolve(&client, lifecycle)
                .await
                .map_err(CliError::LifecycleSetup)?;
            if let Some(kind) = kind {
                let installed =
                    lifecycle::install(&client, kind, &prefixes, retention, args.apply_existing)
                        .await
                        .map_err(CliError::LifecycleSetup)?;
                if kind == LifecycleKind::Ilm {
                    options.ilm_policy = Some(installed.policy.clone());
                }
                to_stderr!("albingest setup: {installed}");
            }
            install(&client, &prefixes, &options).await?;
        }
        if let Some(config) = dashboards {
            let imported = dashboards::import(&config)
                .await
                .map_err(CliError::Dashboards)?;
            to_stderr!("albingest setup: {imported}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Installs the templates and says so on stderr.
pub async fn install(
    client: &SearchClient,
    prefixes: &IndexPrefixes,
    options: &TemplateOptions,
) -> Result<(), CliError> {
    let installed = templates::install(client, prefixes, options)
        .await
        .map_err(CliError::Templates)?;
    to_stderr!(
        "albingest setup: {}: target {}",
        client.endpoint(),
        installed.profile
    );
    if installed.refused_existing {
        to_stderr!(
            "albingest setup: no privilege to manage index templates (403); the installed ones \
             are used as they are"
        );
    } else {
        to_stderr!(
            "albingest setup: component templates {}; index templates {}{}{}",
            installed.component_templates.join(", "),
            installed.index_templates.join(", "),
            if installed.wildcard_as_keyword {
                " (this server has no wildcard field type: keyword used)"
            } else {
                ""
            },
            if installed.profile.index_settings() {
                ""
            } else {
                " (serverless: no index settings)"
            }
        );
    }
    Ok(())
}
