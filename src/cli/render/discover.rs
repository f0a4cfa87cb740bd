//! How `gokeep status --discover` and `gokeep prune --discover` read: their
//! `--json` documents and their text, one line per cache with its owner.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use gokeep::discover::{FoundBy, Owner, Refused};
use gokeep::layout::CacheKind;
use gokeep::report::CacheReport;
use gokeep::timestamp::Timestamp;

use crate::cli::Printer;
use crate::cli::printer::{count, size};

/// One discovered cache in `status --discover --json`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct StatusEntry<'a> {
    pub(crate) owner: &'a Owner,
    pub(crate) found_by: &'a [FoundBy],
    pub(crate) report: CacheReport,
}

/// The `status --discover --json` document. Bump `schema_version` on any incompatible change.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct StatusDiscoverJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) generated_at: Timestamp,
    /// The effective uid that looked; anything but 0 sees only what it may read.
    pub(crate) viewer_uid: u32,
    pub(crate) caches: Vec<StatusEntry<'a>>,
    pub(crate) refused: Vec<Refused>,
}

/// One cache of `prune --discover`.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct PruneEntry {
    pub(crate) owner: Owner,
    pub(crate) kind: CacheKind,
    pub(crate) root: PathBuf,
    pub(crate) found_by: Vec<FoundBy>,
    /// The exit code of the owner's gokeep run.
    pub(crate) exit_code: Option<i32>,
    /// That run's `gokeep prune --json` document (or its error document).
    pub(crate) prune: Option<Value>,
    /// Why the run failed: what it said on stderr, or why it could not start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// What a run that succeeded said on stderr (notes and warnings).
    pub(crate) notes: Vec<String>,
}

/// The `prune --discover --json` document. Bump `schema_version` on any incompatible change.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct PruneDiscoverJson {
    pub(crate) schema_version: u32,
    pub(crate) dry_run: bool,
    pub(crate) viewer_uid: u32,
    pub(crate) caches: Vec<PruneEntry>,
    /// Candidates not used, and discovered caches not pruned (the policy has
    /// no rule for them, or they belong to someone else and this is not root).
    pub(crate) refused: Vec<Refused>,
}

pub(crate) fn found_by(found: &[FoundBy]) -> String {
    found.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

pub(crate) fn owner_label(o: &Owner) -> String {
    o.name.clone().unwrap_or_else(|| format!("uid {}", o.uid))
}

pub(crate) fn warn_refused(refused: &[Refused], printer: &Printer) {
    for r in refused {
        let whose = r.owner.as_ref().map(|o| format!(" ({o})")).unwrap_or_default();
        printer.warn(&format!("refused {}{whose}, found by {}: {}", r.path.display(), found_by(&r.found_by), r.reason));
    }
}

pub(crate) fn render_status(caches: &[StatusEntry<'_>]) -> String {
    let mut s = String::new();
    if caches.is_empty() {
        s.push_str("no Go caches found\n");
        return s;
    }
    let _ = writeln!(s, "{:<16} {:<10} {:>12} {:>18}  root (found by)", "owner", "cache", "on disk", "items");
    let mut total = 0;
    for c in caches {
        let r = &c.report;
        total += r.disk_bytes;
        let items = match r.kind {
            CacheKind::ModCache => count(r.items, "module version", "module versions"),
            CacheKind::BuildCache => count(r.items, "entry", "entries"),
        };
        let _ = writeln!(
            s,
            "{:<16} {:<10} {:>12} {:>18}  {} ({})",
            owner_label(c.owner),
            r.kind.to_string(),
            size(r.disk_bytes),
            items,
            r.root.display(),
            found_by(c.found_by)
        );
    }
    let _ = writeln!(
        s,
        "{:<16} {:<10} {:>12}  {}",
        "total",
        "",
        size(total),
        count(caches.len() as u64, "cache", "caches")
    );
    s
}

/// The caches `prune --discover` is about to hand to their owners.
pub(crate) fn render_todo(todo: &[(&Owner, CacheKind, &std::path::Path)]) -> String {
    let mut s = String::new();
    if todo.is_empty() {
        s.push_str("no Go caches to prune\n");
        return s;
    }
    let _ = writeln!(s, "{:<16} {:<10} root (pruned as its owner)", "owner", "cache");
    for (owner, kind, root) in todo {
        let _ = writeln!(s, "{:<16} {:<10} {}", owner_label(owner), kind.to_string(), root.display());
    }
    s
}

/// What one owner's run did, as a note (or a warning when it failed).
pub(crate) fn report_entry(e: &PruneEntry, dry_run: bool, printer: &Printer) {
    let who = format!("{} {} {}", owner_label(&e.owner), e.kind, e.root.display());
    if e.exit_code != Some(0) {
        let why = e.error.as_deref().unwrap_or("failed");
        printer.warn(&format!("{who}: not pruned: {why}"));
        return;
    }
    let doc = e.prune.as_ref();
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let planned = n(doc.and_then(|d| d.pointer("/plan/total_items")));
    let line = if doc.is_none() {
        // A run that found its owner's run lock busy under --if-idle prints no document.
        format!("{who}: skipped")
    } else if dry_run {
        let bytes = n(doc.and_then(|d| d.pointer("/plan/disk_bytes")));
        format!("{who}: would remove {} ({})", count(planned, "item", "items"), size(bytes))
    } else if planned == 0 {
        format!("{who}: nothing to remove")
    } else {
        let bytes = n(doc.and_then(|d| d.pointer("/result/disk_bytes")));
        format!("{who}: freed {} ({})", size(bytes), count(planned, "item", "items"))
    };
    printer.note(&format!("gokeep: {line}"));
    for n in &e.notes {
        printer.note(&format!("  {}", n.strip_prefix("gokeep: ").unwrap_or(n)));
    }
}
