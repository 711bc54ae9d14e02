//! `albingest config check FILE`: validates a configuration file and prints the effective
//! configuration (defaults filled in; the file holds no secret, so nothing is hidden).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{print_stdout, CliError};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check FILE (exit status 1 with the file, the key and the reason when it is invalid) and
    /// print the effective configuration as TOML.
    Check {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

pub fn run(args: ConfigArgs) -> Result<ExitCode, CliError> {
    match args.command {
        ConfigCommand::Check { file } => {
            let config = Config::from_file(&file)?;
            // The rules compile (the checks above guarantee it; a mismatch is a bug to report).
            if let Err(source) = crate::rules::Rules::compile(&config) {
                return Err(CliError::ConfigRules { path: file, source });
            }
            print_stdout(&config.to_toml())?;
            to_stderr!("albingest config: {}: valid", file.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
