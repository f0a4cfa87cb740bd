//! `gokeep log`: the journal of past prune and mark runs.

use gokeep::state::journal;

use crate::cli::render::log::{LogJson, render};
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show only the last N runs.
    #[arg(long, short = 'n', value_name = "N")]
    pub last: Option<usize>,
}

pub fn run(args: &Args, _settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let path = journal::journal_path()?;
    let (mut entries, bad) = journal::read_from(&path)?;
    if let Some(n) = args.last {
        entries.drain(..entries.len().saturating_sub(n));
    }
    if printer.json {
        printer.json(&LogJson { schema_version: 1, journal: &path, entries: &entries, unreadable_lines: &bad })?;
    } else if !printer.quiet {
        printer.out(&render(&path, &entries))?;
    }
    for b in &bad {
        printer.warn(&format!("{}:{}: unreadable journal line: {}", path.display(), b.line, b.message));
    }
    Ok(Outcome::Clean)
}
