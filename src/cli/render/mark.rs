//! How `gokeep mark` reads: its `--json` document and its text.

use gokeep::state::marks::MarkRecord;
use serde::Serialize;

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct MarkJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) mark: &'a MarkRecord,
    pub(crate) failures: &'a [gokeep::prune::Failure],
}
