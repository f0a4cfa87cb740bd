//! `gokeep log`: the journal of past prune and mark runs.

use std::fmt::Write as _;

use gokeep::state::journal;

use crate::cli::printer::size;
use crate::cli::render::log::LogJson;
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
        let mut s = String::new();
        if entries.is_empty() {
            let _ = writeln!(s, "no runs recorded in {}", path.display());
        }
        for e in &entries {
            let _ = writeln!(
                s,
                "{}  {:>10} freed  {:>6} items  {:>7.1}s  {}{}{}",
                e.time.rfc3339(),
                size(e.disk_bytes),
                e.items,
                e.duration_ms as f64 / 1000.0,
                e.command,
                if e.failures > 0 { format!("  ({} failed)", e.failures) } else { String::new() },
                if e.skipped > 0 { format!("  ({} skipped)", e.skipped) } else { String::new() },
            );
        }
        printer.out(&s)?;
    }
    for b in &bad {
        printer.warn(&format!("{}:{}: unreadable journal line: {}", path.display(), b.line, b.message));
    }
    Ok(Outcome::Clean)
}
