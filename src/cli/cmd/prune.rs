//! `gokeep prune`: plan what to remove from a policy file and/or flags, show
//! the plan, ask on a terminal, execute it safely, journal the run.

use std::path::PathBuf;
use std::sync::Arc;

use std::time::Instant;

use gokeep::fs::remove::CacheRoot;
use gokeep::layout::CacheKind;
use gokeep::policy::{Overrides, Policy, PolicyError, parse_duration, parse_size};
use gokeep::prune::execute::{self, ExecOptions};
use gokeep::prune::prepare::{self, PrepareError, Prepared, Request};
use gokeep::prune::{Plan, Removal, mark};
use gokeep::state::journal::{self, JournalEntry};
use gokeep::timestamp::Timestamp;

use crate::cli::cache_root;
use crate::cli::consent::{self, Consent};
use crate::cli::interrupt;
use crate::cli::printer::{count, size};
use crate::cli::render::prune::{PlanJson, PruneJson, render_notices, render_plan, report_removal, unapplied};
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The plan is shown first. On a terminal gokeep then asks; without a terminal (timers, CI) it \
deletes only with --yes, and otherwise deletes nothing and exits 5. --dry-run never deletes.

Deleting is safe beside go commands that are downloading or extracting: each module version \
is removed under the lock file cmd/go takes for it, a .partial marker is written before its \
extracted tree goes (so go re-extracts rather than reads a half-removed tree), versions a go \
command holds are skipped, and build-cache entries used within the last hour are never removed. \
A go build that is already reading an extracted tree takes no lock, so removing that very \
version under it can fail that build (as `go clean -modcache` can): age, size and root rules \
pick versions not in use. Every run is recorded in the journal shown by `gokeep log`.")]
#[allow(clippy::struct_excessive_bools, reason = "one field per command-line switch")]
pub struct Args {
    /// TOML policy file (see schedules/ for examples); flags add to it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Remove module versions not used for this long (e.g. 30d).
    #[arg(long, value_name = "AGE")]
    pub max_age: Option<String>,
    /// Evict least recently used module versions until the module cache fits (e.g. 10GiB).
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
    /// Never remove modules matching this path glob (repeatable; matched per path element like GOPRIVATE).
    #[arg(long = "keep", value_name = "GLOB")]
    pub keep: Vec<String>,
    /// Project directory (or glob) whose go.mod/go.sum/go.work requirements are never removed (repeatable).
    #[arg(long = "root", value_name = "DIR")]
    pub roots: Vec<String>,
    /// Remove every module version the --root projects do not need (CI-image mode).
    #[arg(long, requires = "roots")]
    pub only_roots: bool,
    /// The --root projects replace the policy's `[roots] projects` instead of adding to them.
    #[arg(long, requires = "roots")]
    pub roots_only: bool,
    /// Remove module versions that fail verification.
    #[arg(long)]
    pub corrupted: bool,
    /// Remove debris: .partial markers, stale temp files, old extraction dirs, orphans.
    #[arg(long)]
    pub debris: bool,
    /// Remove every module version, the checksum-database cache and VCS repositories
    /// (the `go clean -modcache` equivalent, taking go's locks).
    #[arg(long)]
    pub all: bool,
    /// Remove exactly the module versions nothing read since `gokeep mark`.
    #[arg(long)]
    pub unused_since_mark: bool,
    /// Remove build-cache entries unused for this long (never less than two hours: go marks an entry used at most hourly).
    #[arg(long, value_name = "AGE")]
    pub gocache_max_age: Option<String>,
    /// Show the plan, delete nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Delete without asking (required without a terminal: timers, CI, scripts).
    #[arg(long, short)]
    pub yes: bool,
    /// Prune every user's caches on the host (see `status --discover`), each
    /// by a gokeep run as the cache's owner with the same policy. For a
    /// system timer, as root.
    #[arg(long, conflicts_with_all = ["roots", "only_roots", "roots_only", "all", "only_cache"])]
    pub discover: bool,
    /// Prune only this cache; the policy's rules for the other one are left out.
    #[arg(long, value_name = "CACHE")]
    pub only_cache: Option<OnlyCache>,
}

/// `--only-cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnlyCache {
    Modcache,
    Gocache,
}

/// `--policy FILE`, or `--policy -`: the policy on stdin (how a host-wide
/// run hands its policy to each owner's run).
fn policy(args: &Args) -> anyhow::Result<Policy> {
    Ok(match &args.policy {
        Some(p) if p.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|source| PolicyError::Read { path: p.clone(), source })?;
            Policy::from_toml(&text, std::path::Path::new("<stdin>"))?
        }
        Some(p) => Policy::from_file(p)?,
        None => Policy::default(),
    })
}

/// The command-line rule flags as data.
fn overrides(args: &Args) -> anyhow::Result<Overrides> {
    let flag = |flag: &str, message: String| PolicyError::Flag { flag: flag.into(), message };
    Ok(Overrides {
        max_age: args.max_age.as_deref().map(parse_duration).transpose().map_err(|m| flag("--max-age", m))?,
        max_size: args.max_size.as_deref().map(parse_size).transpose().map_err(|m| flag("--max-size", m))?,
        keep: args.keep.clone(),
        roots: args.roots.clone(),
        roots_only: args.roots_only,
        only_roots: args.only_roots,
        corrupted: args.corrupted,
        debris: args.debris,
        all: args.all,
    })
}

fn gocache_max_age(args: &Args) -> anyhow::Result<Option<std::time::Duration>> {
    let flag = |message: String| PolicyError::Flag { flag: "--gocache-max-age".into(), message };
    Ok(args.gocache_max_age.as_deref().map(parse_duration).transpose().map_err(flag)?)
}

/// The prune request the flags and `--policy` file add up to.
fn request(args: &Args, settings: &Settings) -> anyhow::Result<Request> {
    let policy = policy(args)?;
    let overrides = overrides(args)?;
    let gocache_max_age = gocache_max_age(args)?;
    // With --only-cache the other cache is not resolved: an owner's run
    // started by `--discover` may have no home for Go's defaults.
    let (modcache, gocache) = match args.only_cache {
        None => (settings.modcache()?.path, settings.gocache()?.map(|d| d.path)),
        Some(OnlyCache::Modcache) => (settings.modcache()?.path, None),
        Some(OnlyCache::Gocache) => {
            let gocache = settings.gocache()?.ok_or(PrepareError::BuildCacheOff)?;
            (PathBuf::new(), Some(gocache.path))
        }
    };
    Ok(Request {
        policy,
        from_file: args.policy.is_some(),
        overrides,
        gocache_max_age,
        unused_since_mark: args.unused_since_mark,
        modcache,
        gocache,
        // `~` is the user's home, from the process environment: Go's environment has no HOME.
        home: dirs::home_dir(),
        only: args.only_cache.map(|o| match o {
            OnlyCache::Modcache => CacheKind::ModCache,
            OnlyCache::Gocache => CacheKind::BuildCache,
        }),
    })
}

/// `prune --discover`: the rules as given, for each owner's run.
fn discover(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    if args.policy.as_ref().is_some_and(|p| p.as_os_str() == "-") {
        return Err(gokeep::error::UsageError("--discover reads --policy from a file, not stdin".into()).into());
    }
    let mut effective = policy(args)?.with_overrides(&overrides(args)?)?;
    if let Some(a) = gocache_max_age(args)? {
        effective.gocache.max_age = Some(a);
    }
    let mut rules = Vec::new();
    for (flag, v) in
        [("--max-age", &args.max_age), ("--max-size", &args.max_size), ("--gocache-max-age", &args.gocache_max_age)]
    {
        if let Some(v) = v {
            rules.push(format!("{flag}={v}"));
        }
    }
    rules.extend(args.keep.iter().map(|k| format!("--keep={k}")));
    for (on, flag) in
        [(args.corrupted, "--corrupted"), (args.debris, "--debris"), (args.unused_since_mark, "--unused-since-mark")]
    {
        if on {
            rules.push(flag.to_owned());
        }
    }
    let flags = super::discover::PruneFlags {
        policy: args.policy.clone(),
        rules,
        effective,
        dry_run: args.dry_run,
        yes: args.yes,
    };
    super::discover::prune(&flags, settings, printer)
}

/// A prepare error keeps its type: it knows its exit code.
fn prepare_error(e: PrepareError) -> anyhow::Error {
    e.into()
}

/// Recognises, scans and plans through the library, saying what it noticed;
/// a run that deletes takes gokeep's run lock once the request is known to
/// be good (`None`: a scheduled run found it busy).
fn prepare(
    args: &Args,
    settings: &Settings,
    printer: &Printer,
    now: Timestamp,
) -> anyhow::Result<Option<(Prepared, Option<crate::cli::run_lock::Taken>)>> {
    let env = &settings.env;
    let ready = prepare::recognise(request(args, settings)?).map_err(prepare_error)?;
    if let Some(r) = &ready.mod_root {
        cache_root::note_resolution(r, settings.named_on_command_line(CacheKind::ModCache), printer);
    }
    if let Some(r) = &ready.build_root {
        cache_root::note_resolution(r, settings.named_on_command_line(CacheKind::BuildCache), printer);
    }
    render_notices(&ready.notices, printer);
    let shown = ready.notices.len();
    // A dry run deletes nothing and takes no run lock.
    let lock = if args.dry_run {
        None
    } else {
        match crate::cli::run_lock::take(settings, printer)? {
            crate::cli::run_lock::Taken::Skip => return Ok(None),
            lock => Some(lock),
        }
    };
    let prepared = ready
        .prepare(env, &gokeep::scan::ScanOptions::default(), now, &gokeep::verify::corrupted_targets)
        .map_err(prepare_error)?;
    render_notices(&prepared.notices[shown..], printer);
    Ok(Some((prepared, lock)))
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    if args.discover {
        return discover(args, settings, printer);
    }
    let started = Instant::now();
    let now = Timestamp::now();
    let Some((Prepared { plan, policy, mod_root, build_root, .. }, _run_lock)) = prepare(args, settings, printer, now)?
    else {
        return Ok(Outcome::Clean);
    };
    run_prepared(args, printer, started, now, (plan, policy, mod_root, build_root))
}

fn run_prepared(
    args: &Args,
    printer: &Printer,
    started: Instant,
    now: Timestamp,
    prepared: (Plan, Policy, Option<CacheRoot>, Option<CacheRoot>),
) -> anyhow::Result<Outcome> {
    let (plan, policy, mod_root, build_root) = prepared;

    let total_apparent: u64 = plan.items.iter().map(|i| i.apparent_bytes).sum();
    let total_disk: u64 = plan.items.iter().map(|i| i.disk_bytes).sum();
    let plan_json = PlanJson {
        items: &plan.items,
        kept: &plan.kept,
        adjusted: &plan.adjusted,
        total_items: plan.items.len(),
        apparent_bytes: total_apparent,
        disk_bytes: total_disk,
    };

    if args.dry_run || plan.items.is_empty() {
        if printer.json {
            printer.json(&unapplied(&plan, plan_json, args.dry_run))?;
        } else if !printer.quiet {
            printer.out(&render_plan(&plan, now))?;
            if args.dry_run {
                printer.note("gokeep: dry run: nothing was deleted");
            }
        }
        if !args.dry_run {
            refresh_kept(&policy, build_root.as_ref(), printer);
            journal_run(&plan, &Removal::default(), now, started.elapsed(), printer);
        }
        return Ok(Outcome::Clean);
    }

    if !printer.json && !printer.quiet {
        printer.out(&render_plan(&plan, now))?;
    }
    let question = format!("Remove {} ({})?", count(plan.items.len() as u64, "item", "items"), size(total_disk));
    match consent::ask(args.yes, &question)? {
        Consent::Given => {}
        Consent::Declined => {
            printer.note("gokeep: nothing deleted");
            return Ok(Outcome::Clean);
        }
        Consent::NoTerminal => {
            printer
                .note("gokeep: nothing deleted: no terminal to ask and no --yes (pass --yes to delete what is listed)");
            if printer.json {
                printer.json(&unapplied(&plan, plan_json, false))?;
            }
            return Ok(Outcome::NotConsented);
        }
    }

    let bar = printer.progress.then(|| {
        let b = indicatif::ProgressBar::new(plan.items.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let stop = interrupt::watch()?;
    let opts = ExecOptions { stop: Some(Arc::clone(&stop)), ..ExecOptions::default() };
    let removal = execute::execute_in(&plan, mod_root.as_ref(), build_root.as_ref(), &opts, &|_item| {
        if let Some(b) = &bar {
            b.inc(1);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let refreshed = refresh_kept(&policy, build_root.as_ref(), printer);
    let elapsed = started.elapsed();
    journal_run(&plan, &removal, now, elapsed, printer);

    if printer.json {
        printer.json(&PruneJson {
            schema_version: 1,
            dry_run: false,
            modcache: plan.modcache.as_deref(),
            gocache: plan.gocache.as_deref(),
            plan: plan_json,
            result: Some(&removal),
            refreshed_build_entries: refreshed,
        })?;
    } else {
        report_removal(&removal, elapsed, printer);
    }
    if interrupt::stopped(&stop) {
        printer.note(&format!(
            "gokeep: interrupted: {} left as they were (the items in hand were finished)",
            count(removal.not_started, "planned item", "planned items")
        ));
        return Ok(Outcome::Interrupted);
    }
    if removal.failures.is_empty() {
        Ok(Outcome::Clean)
    } else {
        anyhow::bail!("{} of the planned removals failed", removal.failures.len())
    }
}

/// One journal line per run that was not a dry run; failing to write it is only a warning.
pub(super) fn journal_run(
    plan: &Plan,
    removal: &Removal,
    now: Timestamp,
    elapsed: std::time::Duration,
    printer: &Printer,
) {
    let entry = JournalEntry {
        time: now,
        command: crate::cli::command_line(),
        modcache: plan.modcache.clone(),
        gocache: plan.gocache.clone(),
        items: plan.items.len() as u64,
        files: removal.files,
        dirs: removal.dirs,
        apparent_bytes: removal.apparent_bytes,
        disk_bytes: removal.disk_bytes,
        duration_ms: elapsed.as_millis() as u64,
        failures: removal.failures.len() as u64,
        skipped: removal.skipped.len() as u64,
    };
    if let Err(e) = journal::append(&entry) {
        printer.warn(&format!("not journaled: {e}"));
    }
}

/// `[gocache] refresh_kept`: after pruning, what is left counts as used now.
fn refresh_kept(policy: &Policy, root: Option<&CacheRoot>, printer: &Printer) -> Option<u64> {
    let root = root.filter(|_| policy.gocache.refresh_kept)?;
    let r = mark::refresh_build_entries(root, Timestamp::now());
    for f in &r.failures {
        printer.warn(&format!("not refreshed: {}: {}", f.path.display(), f.message));
    }
    if !printer.json {
        printer.note(&format!(
            "gokeep: refresh_kept: set the mtime of {} to now (go's own trim then keeps them 5 more days)",
            count(r.entries, "build-cache entry", "build-cache entries")
        ));
    }
    Some(r.entries)
}
