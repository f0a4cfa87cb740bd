//! `gokeep status` (alias `du`): what the caches hold.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use gokeep::goenv::GoEnv;
use gokeep::report::{self, CacheReport};
use gokeep::scan::{self, ScanError, ScanOptions};
use gokeep::timestamp::Timestamp;

use crate::cli::cache_root;
use crate::cli::metrics;
use crate::cli::printer::{age, count, size};
use crate::cli::{GlobalArgs, Outcome, Printer};

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

/// Resolves the two cache roots: flags first, then the Go environment.
/// GOCACHE=off yields `None`.
pub fn cache_roots(global: &GlobalArgs, env: &GoEnv) -> anyhow::Result<(PathBuf, Option<PathBuf>)> {
    let modcache = match &global.modcache {
        Some(p) => p.clone(),
        None => env.modcache_dir().context("resolving GOMODCACHE (use --modcache DIR to choose one)")?,
    };
    let gocache = match &global.gocache {
        Some(p) => Some(p.clone()),
        None => match env.gocache_dir() {
            Ok(p) => Some(p),
            Err(gokeep::goenv::EnvError::CacheOff) => None,
            Err(e) => return Err(e).context("resolving GOCACHE (use --gocache DIR to choose one)"),
        },
    };
    Ok((modcache, gocache))
}

/// What the caches hold, measured as `status` measures them.
pub struct Measured {
    pub reports: Vec<CacheReport>,
    not_yet: Vec<NotYetCreated>,
    /// The first cache named on the command line that does not exist.
    missing: Option<ScanError>,
}

/// Recognises and scans both caches (`top`: how many modules and versions
/// each report lists). Used by `status` and by `prune` for its metrics.
pub fn measure(global: &GlobalArgs, printer: &Printer, top: usize, now: Timestamp) -> anyhow::Result<Measured> {
    let env = GoEnv::from_process();
    let (modcache, gocache) = cache_roots(global, &env)?;
    // Recognised before anything is counted: a directory that is not a Go
    // cache is an error, not a report. One that does not exist is reported
    // by the scan, as before; an empty one is an empty cache.
    let (modcache, _) =
        cache_root::for_reading(cache_root::modcache_at(&modcache, global.modcache.is_some(), printer), &modcache)?;
    let gocache = match gocache {
        Some(g) => Some(cache_root::for_reading(cache_root::gocache_at(&g, global.gocache.is_some(), printer), &g)?.0),
        None => None,
    };
    let inventory = scan::scan(Some(&modcache), gocache.as_deref(), &ScanOptions::default());
    let mut out = Measured { reports: Vec::new(), not_yet: Vec::new(), missing: None };
    for result in [inventory.modcache, inventory.gocache].into_iter().flatten() {
        match result {
            Ok(inv) => out.reports.push(report::cache_report(&inv, top, now)),
            // Named on the command line: a mistake (exit 4). From the Go
            // environment: go creates it on its first download or build.
            Err(ScanError::Missing { kind, path }) if !named_explicitly(kind, global) => {
                out.not_yet.push(NotYetCreated { kind, root: path });
            }
            // The first missing cache becomes the error (printed once, at
            // exit); a second one is noted here.
            Err(e @ ScanError::Missing { .. }) => {
                if out.missing.is_some() {
                    printer.note(&format!("gokeep: {e}"));
                }
                out.missing.get_or_insert(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

pub fn run(args: &Args, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let now = Timestamp::now();
    let Measured { reports, not_yet, missing } = measure(global, printer, args.top, now)?;
    let metrics_on_stdout = args.metrics.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(path) = &args.metrics {
        let text = gokeep::metrics::status(&reports, now);
        if metrics_on_stdout {
            printer.out(&text)?;
        } else {
            metrics::write(path, &text)?;
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

/// Whether the cache of `kind` was named with `--modcache`/`--gocache`.
fn named_explicitly(kind: scan::CacheKind, global: &GlobalArgs) -> bool {
    match kind {
        scan::CacheKind::ModCache => global.modcache.is_some(),
        scan::CacheKind::BuildCache => global.gocache.is_some(),
    }
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
