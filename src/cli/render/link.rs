//! How `gokeep link` reads: its `--json` document and its text.

use crate::cli::printer::{ERROR, GOOD, NOTE, paint};
use gokeep::overrides::check;
use gokeep::overrides::inspect;
use gokeep::overrides::{self as ov};
use serde::Serialize;
use std::path::Path;

pub(crate) fn colour_diff(diff: &str) -> String {
    diff.lines()
        .map(|l| {
            if l.starts_with("+++") || l.starts_with("---") {
                l.to_owned()
            } else if l.starts_with('+') {
                paint(GOOD, l)
            } else if l.starts_with('-') {
                paint(ERROR, l)
            } else if l.starts_with("@@") {
                paint(NOTE, l)
            } else {
                l.to_owned()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct LinkJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) plan: &'a ov::LinkPlan,
    pub(crate) diff: String,
    pub(crate) written: bool,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct FileJson<'a> {
    #[serde(flatten)]
    pub(crate) change: &'a ov::ops::FileChange,
    pub(crate) diff: String,
    /// Changes others made since the link, which stay.
    pub(crate) left_diff: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct UnlinkJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) consumer: &'a Path,
    pub(crate) items: &'a [ov::ops::UnlinkItem],
    pub(crate) files: Vec<FileJson<'a>>,
    pub(crate) written: bool,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct LinksJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) links: &'a [inspect::LinkStatus],
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct CheckJson<'a> {
    pub(crate) schema_version: u32,
    #[serde(flatten)]
    pub(crate) report: &'a check::CheckReport,
}
