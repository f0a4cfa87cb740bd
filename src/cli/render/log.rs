//! How `gokeep log` reads: its `--json` document and its text.

use gokeep::state::journal::{BadLine, JournalEntry};
use serde::Serialize;

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct LogJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) journal: &'a std::path::Path,
    pub(crate) entries: &'a [JournalEntry],
    pub(crate) unreadable_lines: &'a [BadLine],
}
