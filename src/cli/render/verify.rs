//! How `gokeep verify` reads: its `--json` document and its text.

use crate::cli::printer::{self, count, size};
use gokeep::prune::{self, Plan, Removal};
use gokeep::timestamp::Timestamp;
use gokeep::verify::project;
use gokeep::verify::{Finding, FindingKind, Severity, VerifyReport};
use serde::Serialize;
use std::fmt::Write as _;

/// The `--json` document. Bump `schema_version` on any incompatible change.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct VerifyJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) generated_at: Timestamp,
    #[serde(flatten)]
    pub(crate) report: &'a VerifyReport,
    pub(crate) fix: Option<FixJson>,
    /// The same checks run again after `--fix` removed what it planned.
    pub(crate) after_fix: Option<&'a VerifyReport>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct FixJson {
    pub(crate) plan: Plan,
    pub(crate) applied: bool,
    /// Ctrl-C stopped the removal between entries.
    pub(crate) interrupted: bool,
    pub(crate) removal: Option<Removal>,
    pub(crate) redownloaded: Vec<String>,
    /// go.sum lines rewritten to the hash an independent witness gave.
    pub(crate) go_sum_updated: Vec<project::LineChange>,
    /// go.sum lines `--update-go-sum` left alone, and why.
    pub(crate) go_sum_refused: Vec<project::Refusal>,
}

pub(crate) fn render_plan(plan: &Plan) -> String {
    let mut s = format!("gokeep: --fix would remove {}:\n", count(plan.items.len() as u64, "entry", "entries"));
    for i in &plan.items {
        let _ = writeln!(s, "  - {}  [{}]", i.target, size(i.disk_bytes));
        if let prune::Reason::Corrupted { finding } = &i.reason {
            let _ = writeln!(s, "      because {finding}");
        }
    }
    s.pop();
    s
}

pub(crate) fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub(crate) fn render_finding(s: &mut String, f: &Finding) {
    let style = match f.severity {
        Severity::Error => printer::ERROR,
        Severity::Warning => printer::WARNING,
        Severity::Info => printer::NOTE,
    };
    let word = printer::paint(style, &format!("{:<8}", severity_word(f.severity)));
    let _ = writeln!(s, "{word} {:<26} {}", f.kind.name(), f.module_version());
    let _ = writeln!(s, "         {}", f.detail);
    if let Some(e) = &f.expected {
        let _ = writeln!(s, "         expected {e}");
    }
    if let Some(a) = &f.actual {
        let _ = writeln!(s, "         actual   {a}");
    }
    for p in &f.paths {
        let _ = writeln!(s, "         path     {}", p.display());
    }
    if let Some(fix) = &f.fix {
        let _ = writeln!(s, "         fix      {}", fix.action);
    }
}

pub(crate) fn render(r: &VerifyReport, verbose: bool) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "Checked {} in {}",
        count(r.modcache.versions_checked as u64, "module version", "module versions"),
        r.modcache.root.display()
    );
    if r.modcache.sumdb_records > 0 {
        let _ = write!(s, " ({} with a checksum database record)", r.modcache.sumdb_records);
    } else {
        s.push_str(" (no checksum database records cached)");
    }
    s.push('\n');
    let m = &r.modcache;
    if m.versions_unchanged > 0 {
        let _ = writeln!(
            s,
            "  {} unchanged since the last verify (stat), {} re-hashed ({}); --full re-hashes all",
            m.versions_unchanged,
            m.versions_hashed,
            size(m.bytes_hashed)
        );
    }
    for p in &r.projects {
        let _ = writeln!(
            s,
            "Checked {} ({}) against the cache",
            p.sum_files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "),
            if p.workspace { "workspace" } else { "module" }
        );
        if p.sum_files.is_empty() {
            let _ = writeln!(s, "  {} has no go.sum", p.root.display());
        }
    }
    if let Some(g) = &r.gocache {
        let _ = writeln!(
            s,
            "Checked {} action entries and {} outputs in {}",
            g.actions_checked,
            g.outputs_checked,
            g.root.display()
        );
    }
    // A go.sum line for a version never downloaded is normal (a partial
    // cache, a module not built here yet): one line, unless asked for each.
    let not_in_cache = r.findings.iter().filter(|f| f.kind == FindingKind::NotInCache).count();
    let shown: Vec<&Finding> = r.findings.iter().filter(|f| verbose || f.kind != FindingKind::NotInCache).collect();
    if !shown.is_empty() || not_in_cache > 0 {
        s.push('\n');
    }
    if not_in_cache > 0 && !verbose {
        let what = if not_in_cache == 1 {
            "1 go.sum entry names a version not in the cache".to_owned()
        } else {
            format!("{not_in_cache} go.sum entries name versions not in the cache")
        };
        let _ = writeln!(s, "{what}; go downloads them when needed (--verbose lists them)");
    }
    for f in shown {
        render_finding(&mut s, f);
    }
    let t = r.tally;
    if r.findings.is_empty() {
        let _ = writeln!(s, "\n{}", printer::paint(printer::GOOD, "All verified: no problems found."));
    } else {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        let _ = writeln!(
            s,
            "\n{}, {}, {}",
            plural(t.errors, "error"),
            plural(t.warnings, "warning"),
            plural(t.infos, "note")
        );
    }
    s
}
