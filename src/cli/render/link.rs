//! How `gokeep link` reads: its `--json` document and its text.

use crate::cli::printer::{ERROR, GOOD, NOTE, WARNING, paint};
use gokeep::overrides::check::{self, Finding};
use gokeep::overrides::inspect::{self, Applied};
use gokeep::overrides::{self as ov};
use serde::Serialize;
use std::fmt::Write as _;
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

/// What `unlink` will change: the links taken back, then each file's diff.
pub(crate) fn render_unlink_plan(plan: &ov::UnlinkPlan) -> String {
    let mut text = String::new();
    for i in &plan.items {
        let _ = writeln!(text, "Unlink {} ({} mode, {}):", i.module, i.mode, i.target.display());
    }
    for f in plan.files.iter().filter(|f| f.current != f.new) {
        text.push_str(&colour_diff(&f.diff()));
    }
    text
}

/// Each link gokeep made and whether Go honours it, with the reasons it does not.
pub(crate) fn render_links(links: &[inspect::LinkStatus]) -> String {
    let mut text = String::new();
    for l in links {
        let state = if l.in_effect { paint(GOOD, "in effect") } else { paint(WARNING, "NOT in effect") };
        let _ = writeln!(
            text,
            "{} => {} ({} mode, {}) in {}: {state}",
            l.module,
            l.target.display(),
            l.mode,
            l.file.display(),
            l.consumer.display()
        );
        for why in &l.not_in_effect {
            let _ = writeln!(text, "    {why}");
        }
        if l.applied == Applied::Edited {
            text.push_str("    the file was edited since the link (gokeep's line is still there)\n");
        }
        if l.target_go_newer {
            let _ = writeln!(
                text,
                "    the target needs go {}, newer than the consumer's go {}",
                l.target_go.as_deref().unwrap_or("?"),
                l.consumer_go.as_deref().unwrap_or("?")
            );
        }
        if l.target_uncommitted == Some(true) {
            text.push_str("    the target has uncommitted changes\n");
        }
    }
    text
}

/// `check`: each local replace or committed go.work, with its fix.
pub(crate) fn render_check(report: &check::CheckReport) -> String {
    let mut text = String::new();
    for f in &report.findings {
        match f {
            Finding::LocalReplace { file, line, text: t, fix, .. } => {
                let _ = write!(text, "{}:{line}: local replace: {t}\n    fix: {fix}\n", file.display());
            }
            Finding::TrackedGoWork { file, fix } => {
                let _ = write!(text, "{}: go.work is tracked by git\n    fix: {fix}\n", file.display());
            }
            Finding::StagedGoWork { file, fix } => {
                let _ = write!(text, "{}: go.work is staged for commit\n    fix: {fix}\n", file.display());
            }
        }
    }
    text
}
