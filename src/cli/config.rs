//! `albingest config check FILE`: validates a configuration file and prints the effective
//! configuration (defaults filled in; the file holds no secret, so nothing is hidden).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::print_stdout;
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

pub fn run(args: ConfigArgs) -> Result<ExitCode, String> {
    match args.command {
        ConfigCommand::Check { file } => {
            let config = Config::from_file(&file).map_err(|e| e.to_string())?;
            // The rules compile (the checks above guarantee it; a mismatch is a bug to report).
            crate::rules::Rules::new(&config).map_err(|e| format!("{}: {e}", file.display()))?;
            print_stdout(&config.to_toml())?;
            to_stderr!("albingest config: {}: valid", file.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
