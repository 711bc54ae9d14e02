//! `albingest setup`: installs the index templates.

use std::process::ExitCode;

use clap::Args;

use super::{runtime, ParseOptions, SearchOptions, TemplateArgs};
use crate::bulk::IndexPrefixes;
use crate::search::templates::{self, TemplateOptions};
use crate::search::SearchClient;

#[derive(Debug, Args)]
#[command(
    after_help = "Installs a component template (albingest-mappings: the field types) and one \
composable index template per index prefix (albingest-PREFIX for PREFIX-*, with the index \
settings: shards, replicas, refresh). Running it again replaces them with the same content."
)]
pub struct SetupArgs {
    #[command(flatten)]
    pub search: SearchOptions,

    #[command(flatten)]
    pub templates: TemplateArgs,

    /// Index name prefix: PREFIX for ALB access logs, or FORMAT=PREFIX (alb, alb-connection, nlb,
    /// elb). Repeatable.
    #[arg(long = "index-prefix", value_name = "[FORMAT=]PREFIX")]
    pub index_prefixes: Vec<String>,
}

pub fn run(args: SetupArgs) -> Result<ExitCode, String> {
    let config = args.search.config()?;
    let prefixes = ParseOptions::prefixes_from(&args.index_prefixes)?;
    let options = args.templates.options();
    runtime()?.block_on(async {
        let client = SearchClient::connect(&config)
            .await
            .map_err(|e| e.to_string())?;
        install(&client, &prefixes, &options).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Installs the templates and says so on stderr.
pub async fn install(
    client: &SearchClient,
    prefixes: &IndexPrefixes,
    options: &TemplateOptions,
) -> Result<(), String> {
    let installed = templates::install(client, prefixes, options)
        .await
        .map_err(|e| format!("setup: {e}"))?;
    eprintln!(
        "albingest setup: {}: component templates {}; index templates {}{}",
        client.endpoint(),
        installed.component_templates.join(", "),
        installed.index_templates.join(", "),
        if installed.wildcard_as_keyword {
            " (this server has no wildcard field type: keyword used)"
        } else {
            ""
        }
    );
    Ok(())
}
