//! How `gokeep schedule` reads: its `--json` document and its text.

use chrono::{DateTime, FixedOffset};
use gokeep::schedule::CronExpr;
use gokeep::schedule::Zone;
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

/// `schedule validate`: the fields, the systemd translation, the next runs.
pub(crate) fn render_validate(
    expr: &CronExpr,
    on_cal: &[String],
    zone: Zone,
    runs: &[DateTime<FixedOffset>],
) -> String {
    let mut s = format!("{}: valid\n", expr.source);
    for f in &expr.fields {
        let _ = writeln!(s, "  {:<13} {}", f.kind.name(), f.text);
    }
    if expr.days_ored() {
        s.push_str("  runs on a day matching day-of-month OR day-of-week (both are restricted)\n");
    }
    for c in on_cal {
        let _ = writeln!(s, "  systemd: OnCalendar={c}");
    }
    let _ = writeln!(
        s,
        "next {} ({}):",
        crate::cli::printer::count(runs.len() as u64, "run", "runs"),
        zone.name().unwrap_or("local time")
    );
    for r in runs {
        let _ = writeln!(s, "  {}", r.format("%a %Y-%m-%d %H:%M %:z"));
    }
    s
}

/// `schedule show`: what is installed, when it runs next, when a prune last ran.
pub(crate) fn render_show(entries: &[ShowEntry], last: Option<&journal::JournalEntry>) -> String {
    let mut s = String::new();
    if entries.is_empty() {
        s.push_str("no gokeep schedule installed\n");
    }
    for e in entries {
        let _ = writeln!(
            s,
            "{}  {}  {}{}",
            e.installed.kind,
            e.installed.cron.as_deref().unwrap_or("?"),
            e.installed.location,
            e.installed.zone.as_deref().map(|z| format!("  (TZ {z})")).unwrap_or_default()
        );
        let next = e.next_run.map_or_else(|| "unknown".to_owned(), |t| t.format("%a %Y-%m-%d %H:%M %:z").to_string());
        let _ = writeln!(s, "  next run: {next}");
    }
    let _ = writeln!(s, "last prune: {}", last.map_or_else(|| "none recorded".to_owned(), |e| e.time.rfc3339()));
    s
}
