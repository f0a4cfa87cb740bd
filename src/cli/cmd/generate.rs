//! `gokeep generate`: shell completions and man pages, generated from the
//! clap definitions so they never drift from the real flags.

use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Print a completion script for SHELL on stdout.
    Completions { shell: clap_complete::Shell },
    /// Write man pages (gokeep.1 and one per subcommand) into DIR.
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

pub fn run(args: &Args, _settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    match &args.what {
        What::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "gokeep", &mut buf);
            printer.out(&String::from_utf8_lossy(&buf))?;
        }
        What::Man { dir } => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir).with_context(|| format!("writing man pages into {}", dir.display()))?;
            printer.note(&format!("man pages written to {}", dir.display()));
        }
    }
    Ok(Outcome::Clean)
}
