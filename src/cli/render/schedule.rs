//! How `gokeep schedule` reads: its `--json` document and its text.

use chrono::{DateTime, FixedOffset};
use gokeep::schedule::install::{Installed, Plan};
use gokeep::state::journal;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct FieldJson<'a> {
    pub(crate) field: &'static str,
    pub(crate) text: &'a str,
    pub(crate) values: Vec<u32>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ValidateJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) expression: &'a str,
    pub(crate) fields: Vec<FieldJson<'a>>,
    /// Day-of-month and day-of-week are OR-ed (both restricted).
    pub(crate) days_ored: bool,
    pub(crate) on_calendar: Vec<String>,
    /// null: the local zone.
    pub(crate) zone: Option<&'static str>,
    pub(crate) next_runs: Vec<DateTime<FixedOffset>>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct PlanJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) action: &'static str,
    pub(crate) backend: Option<Backend>,
    pub(crate) plan: &'a Plan,
    pub(crate) applied: bool,
    pub(crate) command_failures: Vec<String>,
}

pub(crate) fn render_plan(action: &str, plan: &Plan) -> String {
    let mut s = format!("gokeep: {action} will:\n");
    let cmd = |s: &mut String, c: &Vec<String>| {
        let _ = writeln!(s, "  run {}", c.join(" "));
    };
    plan.commands_before.iter().for_each(|c| cmd(&mut s, c));
    for d in &plan.create_dirs {
        let _ = writeln!(s, "  create directory {}", d.display());
    }
    for w in &plan.write {
        if w.unchanged {
            let _ = writeln!(s, "  keep {} (already up to date)", w.path.display());
            continue;
        }
        let _ = writeln!(s, "  write {}:", w.path.display());
        for l in w.contents.lines() {
            let _ = writeln!(s, "    | {l}");
        }
    }
    for p in &plan.remove {
        let _ = writeln!(s, "  remove {}", p.display());
    }
    if let Some(c) = &plan.crontab {
        let (verb, sign) = if action == "install" { ("add to", '+') } else { ("remove from", '-') };
        let _ = writeln!(s, "  {verb} {} (other lines are kept as they are):", c.target);
        for l in c.block.lines() {
            let _ = writeln!(s, "    {sign} {l}");
        }
    }
    plan.commands_after.iter().for_each(|c| cmd(&mut s, c));
    s
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ShowEntry {
    #[serde(flatten)]
    pub(crate) installed: Installed,
    pub(crate) next_run: Option<DateTime<FixedOffset>>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ShowJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) schedules: &'a [ShowEntry],
    /// The last prune recorded in the journal (any prune, scheduled or not).
    pub(crate) last_prune: Option<&'a journal::JournalEntry>,
    pub(crate) warnings: &'a [String],
}

/// Which scheduler a plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Backend {
    Systemd,
    Cron,
}
