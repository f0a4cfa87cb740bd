//! How `gokeep gocache` reads: its `--json` document and its text.

use serde::Serialize;

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct RefreshJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) gocache: &'a std::path::Path,
    pub(crate) refreshed_entries: u64,
    pub(crate) failures: &'a [gokeep::prune::Failure],
}
