//! `gokeep status` (alias `du`): what the caches hold.

use std::path::PathBuf;

use gokeep::report;
use gokeep::scan::{self, ScanError, ScanOptions};
use gokeep::timestamp::Timestamp;

use crate::cli::cache_root;
use crate::cli::metrics;
use crate::cli::render::status::{NotYetCreated, StatusJson, render, render_not_yet};
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
    /// Every user's caches on the host (homes, systemd user units, the
    /// policy's `[discover] globs`): one line per cache with its owner.
    /// Run as root to see them all.
    #[arg(long, conflicts_with = "metrics")]
    pub discover: bool,
    /// Policy whose `[discover]` section says where `--discover` looks.
    #[arg(long, value_name = "FILE", requires = "discover")]
    pub policy: Option<PathBuf>,
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    if args.discover {
        return super::discover::status(args.policy.as_deref(), args.top, settings, printer);
    }
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

fn finish(missing: Option<ScanError>) -> anyhow::Result<Outcome> {
    match missing {
        Some(e) => Err(e.into()),
        None => Ok(Outcome::Clean),
    }
}
