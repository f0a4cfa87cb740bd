//! `gokeep status` (alias `du`): what the caches hold.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use gokeep::report::{self, CacheReport};
use gokeep::scan::{self, ScanError, ScanOptions};
use gokeep::timestamp::Timestamp;

use crate::cli::cache_root;
use crate::cli::metrics;
use crate::cli::printer::{age, count, size};
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many modules and versions to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Also write Prometheus textfile-collector metrics to FILE (atomically;
    /// `-` for stdout instead of the report).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
}

/// The `--json` document. Bump `schema_version` on any incompatible change.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct StatusJson<'a> {
    schema_version: u32,
    generated_at: Timestamp,
    caches: &'a [CacheReport],
    /// Caches at their default or environment location that go has not
    /// created yet: a normal state on a machine that has downloaded nothing.
    not_yet_created: &'a [NotYetCreated],
}

#[derive(Serialize, schemars::JsonSchema)]
struct NotYetCreated {
    kind: scan::CacheKind,
    root: PathBuf,
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let modcache = settings.modcache()?;
    let gocache = settings.gocache()?;
    // Recognised before anything is counted: a directory that is not a Go
    // cache is an error, not a report. One that does not exist is reported
    // by the scan, as before; an empty one is an empty cache.
    let (modcache, _) =
        cache_root::for_reading(cache_root::modcache_at(&modcache.path, modcache.from_flag, printer), &modcache.path)?;
    let gocache = match gocache {
        Some(g) => Some(cache_root::for_reading(cache_root::gocache_at(&g.path, g.from_flag, printer), &g.path)?.0),
        None => None,
    };
    let inventory = scan::scan(Some(&modcache), gocache.as_deref(), &ScanOptions::default());
    let now = Timestamp::now();
    let mut reports = Vec::new();
    let mut missing: Option<ScanError> = None;
    let mut not_yet = Vec::new();
    for result in [inventory.modcache, inventory.gocache].into_iter().flatten() {
        match result {
            Ok(inv) => reports.push(report::cache_report(&inv, args.top, now)),
            // Named on the command line: a mistake (exit 4). From the Go
            // environment: go creates it on its first download or build.
            Err(ScanError::Missing { kind, path }) if !settings.named_on_command_line(kind) => {
                not_yet.push(NotYetCreated { kind, root: path });
            }
            // The first missing cache becomes the error (printed once, at
            // exit); a second one is noted here.
            Err(e @ ScanError::Missing { .. }) => {
                if missing.is_some() {
                    printer.note(&format!("gokeep: {e}"));
                }
                missing.get_or_insert(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let metrics_on_stdout = args.metrics.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(path) = &args.metrics {
        let text = metrics::render(&reports, now);
        if metrics_on_stdout {
            printer.out(&text)?;
        } else {
            metrics::write_atomically(path, &text)?;
        }
    }
    if metrics_on_stdout {
        // stdout carries the metrics alone.
    } else if printer.json {
        printer.json(&StatusJson {
            schema_version: 1,
            generated_at: now,
            caches: &reports,
            not_yet_created: &not_yet,
        })?;
    } else if !printer.quiet {
        let mut text = render_not_yet(&not_yet);
        if !text.is_empty() && !reports.is_empty() {
            text.push('\n');
        }
        text.push_str(&render(&reports, now));
        printer.out(&text)?;
    }
    for r in &reports {
        for w in &r.warnings {
            printer.warn(&format!("{}: {}", w.path.display(), w.message));
        }
    }
    finish(missing)
}

fn render_not_yet(not_yet: &[NotYetCreated]) -> String {
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

fn finish(missing: Option<ScanError>) -> anyhow::Result<Outcome> {
    match missing {
        Some(e) => Err(e.into()),
        None => Ok(Outcome::Clean),
    }
}

/// "1 module version", "3 entries": a cache's items, counted.
fn items(kind: scan::CacheKind, n: u64, long: bool) -> String {
    match (kind, long) {
        (scan::CacheKind::ModCache, true) => count(n, "module version", "module versions"),
        (scan::CacheKind::ModCache, false) => count(n, "version", "versions"),
        (scan::CacheKind::BuildCache, true) => count(n, "cache entry", "cache entries"),
        (scan::CacheKind::BuildCache, false) => count(n, "entry", "entries"),
    }
}

fn render(reports: &[CacheReport], now: Timestamp) -> String {
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
