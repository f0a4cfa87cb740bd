//! How `gokeep prune` reads: its `--json` document and its text.

use crate::cli::Printer;
use crate::cli::printer::{SIZE, age, paint, size};
use gokeep::policy::format_duration;
use gokeep::prune::prepare::Notice;
use gokeep::prune::{Adjusted, KeptItem, Plan, PlanItem, Reason, Removal};
use gokeep::timestamp::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// The `--json` document. Bump `schema_version` on any incompatible change.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct PruneJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) dry_run: bool,
    pub(crate) modcache: Option<&'a Path>,
    pub(crate) gocache: Option<&'a Path>,
    pub(crate) plan: PlanJson<'a>,
    /// Absent on a dry run or when nothing was planned.
    pub(crate) result: Option<&'a Removal>,
    /// With `[gocache] refresh_kept`: build-cache entries whose mtime was set to now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refreshed_build_entries: Option<u64>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct PlanJson<'a> {
    pub(crate) items: &'a [PlanItem],
    pub(crate) kept: &'a [KeptItem],
    pub(crate) adjusted: &'a [Adjusted],
    pub(crate) total_items: usize,
    pub(crate) apparent_bytes: u64,
    pub(crate) disk_bytes: u64,
}

pub(crate) fn render_notices(notices: &[Notice], printer: &Printer) {
    for n in notices {
        match n {
            Notice::UnmatchedProject { origin, why } => {
                printer.warn(&format!("{origin}: roots.projects entry {why}; it protects nothing"));
            }
            Notice::Scan(w) => printer.warn(&format!("{}: {}", w.path.display(), w.message)),
            Notice::AgesFromMtime { why } => printer.note(&format!("gokeep: {why}")),
        }
    }
}

/// The text report of what a run removed, skipped and failed to remove.
pub(crate) fn report_removal(removal: &Removal, elapsed: std::time::Duration, printer: &Printer) {
    printer.note(&format!(
        "gokeep: freed {} on disk ({} apparent): {} files, {} directories in {:.1}s",
        size(removal.disk_bytes),
        size(removal.apparent_bytes),
        removal.files,
        removal.dirs,
        elapsed.as_secs_f64()
    ));
    for s in &removal.skipped {
        printer.note(&format!("gokeep: skipped {}: {}", s.target, s.reason));
    }
    for f in &removal.failures {
        printer.note(&format!("gokeep: failed: {}: {}", f.path.display(), f.message));
    }
}

/// The `--json` document of a plan that was not carried out.
pub(crate) fn unapplied<'a>(plan: &'a Plan, plan_json: PlanJson<'a>, dry_run: bool) -> PruneJson<'a> {
    PruneJson {
        schema_version: 1,
        dry_run,
        modcache: plan.modcache.as_deref(),
        gocache: plan.gocache.as_deref(),
        plan: plan_json,
        result: None,
        refreshed_build_entries: None,
    }
}

pub(crate) fn rule(r: &Reason) -> String {
    let days = |s: u64| format_duration(std::time::Duration::from_secs(s));
    match r {
        Reason::MaxAge { max_age_secs } => format!("max_age {}", days(*max_age_secs)),
        Reason::MaxSize { max_size_bytes } => format!("max_size {}", size(*max_size_bytes)),
        Reason::NotARoot => "only_roots".into(),
        Reason::KeepLatest { keep_latest } => format!("keep_latest {keep_latest}"),
        Reason::ToolchainsKeepLatest { keep_latest } => format!("toolchains_keep_latest {keep_latest}"),
        Reason::ZipsOnlyAfter { after_secs } => format!("zips_only_after {}", days(*after_secs)),
        Reason::VcsMaxAge { max_age_secs } => format!("vcs_max_age {}", days(*max_age_secs)),
        Reason::UnusedSinceMark { .. } => "unused_since_mark".into(),
        Reason::Corrupted { finding } => format!("corrupted: {finding}"),
        Reason::Debris => "debris".into(),
        Reason::All => "all".into(),
        Reason::Sumdb => "sumdb".into(),
        Reason::GocacheMaxAge { max_age_secs } => format!("gocache max_age {}", days(*max_age_secs)),
        Reason::GocacheMaxSize { max_size_bytes } => format!("gocache max_size {}", size(*max_size_bytes)),
        Reason::Fuzz => "fuzz".into(),
        Reason::Testcache => "testcache".into(),
    }
}

pub(crate) fn render_plan(plan: &Plan, now: Timestamp) -> String {
    let mut s = String::new();
    for a in &plan.adjusted {
        let _ = writeln!(s, "adjusted {}: {} instead of {}: {}", a.rule, a.used, a.asked, a.why);
    }
    for k in &plan.kept {
        let _ = writeln!(s, "keeping {}: {}", k.target, k.why);
    }
    if plan.items.is_empty() {
        s.push_str("nothing to remove\n");
        return s;
    }
    let _ = writeln!(s, "{:>10}  {:<24} {:<14} item", "on disk", "rule", "last used");
    for i in &plan.items {
        let _ = writeln!(
            s,
            "{}  {:<24} {:<14} {}",
            paint(SIZE, &format!("{:>10}", size(i.disk_bytes))),
            rule(&i.reason),
            if i.last_used.is_some() { age(i.last_used, now) } else { "-".into() },
            i.target
        );
    }
    let disk: u64 = plan.items.iter().map(|i| i.disk_bytes).sum();
    let _ = writeln!(s, "{:>10}  total, {} items", size(disk), plan.items.len());
    s
}
