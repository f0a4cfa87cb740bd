//! How `gokeep log` reads: its `--json` document and its text.

use std::fmt::Write as _;
use std::path::Path;

use gokeep::state::journal::{BadLine, JournalEntry};

use crate::cli::printer::size;
use serde::Serialize;

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct LogJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) journal: &'a std::path::Path,
    pub(crate) entries: &'a [JournalEntry],
    pub(crate) unreadable_lines: &'a [BadLine],
}

/// One line per recorded run, oldest first.
pub(crate) fn render(path: &Path, entries: &[JournalEntry]) -> String {
    let mut s = String::new();
    if entries.is_empty() {
        let _ = writeln!(s, "no runs recorded in {}", path.display());
    }
    for e in entries {
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
    s
}
