//! How `gokeep status` reads: its `--json` document and its text.

use crate::cli::printer::{age, count, size};
use gokeep::report::CacheReport;
use gokeep::scan;
use gokeep::timestamp::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The `--json` document. Bump `schema_version` on any incompatible change.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct StatusJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) generated_at: Timestamp,
    pub(crate) caches: &'a [CacheReport],
    /// Caches at their default or environment location that go has not
    /// created yet: a normal state on a machine that has downloaded nothing.
    pub(crate) not_yet_created: &'a [NotYetCreated],
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct NotYetCreated {
    pub(crate) kind: scan::CacheKind,
    pub(crate) root: PathBuf,
}

pub(crate) fn render_not_yet(not_yet: &[NotYetCreated]) -> String {
    let mut s = String::new();
    for n in not_yet {
        let (what, when) = match n.kind {
            scan::CacheKind::ModCache => ("module cache", "the first download"),
            scan::CacheKind::BuildCache => ("build cache", "the first build"),
        };
        let _ = writeln!(s, "{}: no {what} yet at {} (go creates it on {when})", n.kind, n.root.display());
    }
    s
}

/// "1 module version", "3 entries": a cache's items, counted.
pub(crate) fn items(kind: scan::CacheKind, n: u64, long: bool) -> String {
    match (kind, long) {
        (scan::CacheKind::ModCache, true) => count(n, "module version", "module versions"),
        (scan::CacheKind::ModCache, false) => count(n, "version", "versions"),
        (scan::CacheKind::BuildCache, true) => count(n, "cache entry", "cache entries"),
        (scan::CacheKind::BuildCache, false) => count(n, "entry", "entries"),
    }
}

pub(crate) fn render(reports: &[CacheReport], now: Timestamp) -> String {
    let mut s = String::new();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let _ = writeln!(s, "{} {}", r.kind, r.root.display());
        let _ = writeln!(
            s,
            "  {} on disk ({} apparent), {} files, {}",
            size(r.disk_bytes),
            size(r.apparent_bytes),
            r.files,
            items(r.kind, r.items, true)
        );
        let _ = writeln!(s, "\n  {:<12} {:>12} {:>12} {:>9}", "category", "on disk", "apparent", "files");
        for c in &r.categories {
            let _ = writeln!(
                s,
                "  {:<12} {:>12} {:>12} {:>9}",
                c.category.name(),
                size(c.disk_bytes),
                size(c.apparent_bytes),
                c.files
            );
        }
        if !r.top_modules.is_empty() {
            let _ = writeln!(s, "\n  largest modules");
            for m in &r.top_modules {
                let _ = writeln!(
                    s,
                    "  {:>12}  {:<50} {:>3} version{}  used {}",
                    size(m.disk_bytes),
                    m.module,
                    m.versions,
                    if m.versions == 1 { " " } else { "s" },
                    age(m.last_used, now)
                );
            }
        }
        if !r.least_recently_used.is_empty() {
            let _ = writeln!(s, "\n  least recently used");
            for v in &r.least_recently_used {
                let _ = writeln!(
                    s,
                    "  {:>12}  {:<50} used {}",
                    size(v.disk_bytes),
                    format!("{}@{}", v.module, v.version),
                    age(v.last_used, now)
                );
            }
        }
        let _ = writeln!(s, "\n  untouched for");
        for b in &r.age {
            let _ = writeln!(
                s,
                "  > {:>2} days  {:>12}  {}",
                b.older_than_days,
                size(b.disk_bytes),
                items(r.kind, b.items, false)
            );
        }
    }
    s
}
