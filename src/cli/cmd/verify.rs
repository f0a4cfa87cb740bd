//! `gokeep verify`: checks every module version in GOMODCACHE (zip,
//! `.ziphash`, tree, `.mod`, sumdb cache, leftovers), the go.sum of the
//! current project (or `--project DIR`s) and, with `--build-cache`, GOCACHE's
//! entries. One finding per problem; `--fix` removes what is corrupted.
//!
//! ## `--fix` and consent
//! The removal plan is always printed first. On a terminal gokeep asks before
//! removing; `--yes` skips the question. Without a terminal and without
//! `--yes` nothing is removed: a script that forgot `--yes` gets the plan and
//! exit code 1, never a surprise deletion. go.sum is never edited, except the
//! lines of modules named with `--update-go-sum`.
//!
//! Exit code: 0 when nothing was found, or `--fix` repaired everything found
//! (what it removed is checked again); 1 when a warning or error remains
//! (notes such as "not in cache" do not count); 2 for usage errors, 3 for
//! I/O or environment errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use gokeep::fs::remove::CacheRoot;
use gokeep::goenv::GoEnv;
use gokeep::prune::{self, ExecOptions, Plan};
use gokeep::scan::{self, CacheKind, ScanError, ScanOptions};
use gokeep::timestamp::Timestamp;
use gokeep::verify::project::{self, Project};
use gokeep::verify::{self, VerifyReport};

use crate::cli::cache_root;
use crate::cli::consent::{self, Consent};
use crate::cli::exit::UsageError;
use crate::cli::interrupt;
use crate::cli::printer::{count, size};
use crate::cli::render::verify::{FixJson, VerifyJson, render, render_plan};
use crate::cli::{Outcome, Printer, Settings};

pub const AFTER_HELP: &str = "\
Exit codes:
  0  nothing found, or --fix repaired everything found (checked again after the fix; notes, such as
     go.sum lines for versions this cache never downloaded, do not count)
  1  warnings or errors found and not repaired
  2  usage error
  3  I/O or environment error
  4  the module cache directory does not exist

--fix removes only cache entries, through the same locked, crash-safe executor as prune.
Without a terminal it removes nothing unless --yes is given.

Incremental verify: a module version that verified clean is remembered in gokeep's state directory
(size, mtime, ctime and inode of its zip, .ziphash, .mod and every file of its extracted tree) and
is not hashed again while all of that is unchanged. Edits, replacements, touches, a restored mtime
(ctime still moves), added or removed files are caught. A change that leaves size, mtime, ctime
and inode as they were is not: raw writes to the block device, bit rot on the medium. Run with
--full now and then (say weekly) to hash everything.";

// Each bool is an independent command-line switch.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check this module's or workspace's go.sum against the cache (repeatable).
    /// Default: the module or workspace containing the current directory, if any.
    #[arg(long = "project", value_name = "DIR")]
    pub projects: Vec<PathBuf>,
    /// Do not check any project's go.sum, only the caches.
    #[arg(long, conflicts_with = "projects")]
    pub no_project: bool,
    /// Also check the build cache (GOCACHE): action entry format, output size and SHA-256.
    #[arg(long)]
    pub build_cache: bool,
    /// Also list, line by line, the go.sum entries for versions the cache does not hold
    /// (by default one summary line: go downloads them when needed).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Hash every module version, even those unchanged (by stat) since they last verified
    /// clean. The stat check misses only changes that keep size, mtime, ctime and inode
    /// (raw block-device writes, bit rot); --full catches those too.
    #[arg(long)]
    pub full: bool,
    #[command(flatten)]
    pub repair: RepairArgs,
    /// With --fix: also rewrite this module's go.sum lines that disagree with a whole
    /// cache copy, to the hash the checksum database's cached record gives, only when
    /// that record agrees with the cache (repeatable; never done unasked; refused, with
    /// the reason, when nothing independent confirms the cache's copy).
    #[arg(long = "update-go-sum", value_name = "MODULE", requires = "fix")]
    pub update_go_sum: Vec<String>,
}

/// The repair flags `verify` and `explain` share.
#[derive(Debug, clap::Args)]
pub struct RepairArgs {
    /// Remove the corrupted entries so that go downloads them again (asks first on a terminal).
    #[arg(long)]
    pub fix: bool,
    /// With --fix: do not ask (for scripts). Without a terminal, --fix does nothing unless --yes is given.
    #[arg(long, short = 'y', requires = "fix")]
    pub yes: bool,
    /// With --fix: run `go mod download <module>@<version>` for every removed version.
    #[arg(long, requires = "fix")]
    pub redownload: bool,
}

fn resolve_projects(args: &Args, env: &GoEnv) -> anyhow::Result<Vec<Project>> {
    let gowork_off = env.get("GOWORK") == Some("off");
    if args.no_project {
        return Ok(Vec::new());
    }
    if args.projects.is_empty() {
        let cwd = std::env::current_dir().context("reading the current directory")?;
        return Ok(project::find_project(&cwd, gowork_off).into_iter().collect());
    }
    args.projects
        .iter()
        .map(|d| {
            project::find_project(d, gowork_off)
                .map_err(|e| anyhow::Error::new(UsageError(format!("--project {}: {e}", d.display()))))
        })
        .collect()
}

fn progress_bar(printer: &Printer, len: u64) -> Option<ProgressBar> {
    printer.progress.then(|| {
        let pb = ProgressBar::new(len);
        pb.set_style(
            ProgressStyle::with_template("{spinner} verifying {pos}/{len} [{bar:30}] {eta}")
                .expect("static template")
                .progress_chars("=> "),
        );
        pb
    })
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let env = &settings.env;
    let named = settings.modcache()?;
    let gocache = settings.gocache()?;
    // Recognised before anything is scanned or printed: `--modcache /` or a
    // mistyped GOMODCACHE is an error here, not a walk and an empty report.
    let (modcache, mod_root) =
        cache_root::for_reading(cache_root::modcache_at(&named.path, named.from_flag, printer), &named.path)?;
    let gocache = if args.build_cache {
        let g = gocache.ok_or_else(|| UsageError("--build-cache: GOCACHE is off".into()))?;
        Some(cache_root::for_reading(cache_root::gocache_at(&g.path, g.from_flag, printer), &g.path)?)
    } else {
        None
    };
    let (gocache, gc_root) = match gocache {
        Some((path, root)) => (Some(path), root),
        None => (None, None),
    };
    let projects = resolve_projects(args, env)?;
    let memory = if args.full { None } else { recall(&modcache, printer) };
    let report = check(&modcache, named.from_flag, gocache.as_deref(), projects, memory.as_ref(), printer)?;

    // What was found comes first: --fix's plan and question follow it.
    let text = !printer.json && !printer.quiet;
    if text {
        printer.out(&render(&report, args.verbose))?;
    }
    let mut fix_json = None;
    let mut after = None;
    if args.repair.fix {
        let roots = FixRoots { modcache: mod_root.as_ref(), gocache: gc_root.as_ref(), recheck: None };
        let fix = apply_fix(args, &report, &roots, printer)?;
        // What was fixed is checked again: the result is the cache as it is now.
        if fix.applied && !fix.interrupted {
            let again = check(&modcache, true, gocache.as_deref(), report.projects.clone(), memory.as_ref(), printer)?;
            if text {
                printer.out(&format!("\nAfter --fix:\n{}", render(&again, args.verbose)))?;
            }
            after = Some(again);
        }
        fix_json = Some(fix);
    }
    let interrupted = fix_json.as_ref().is_some_and(|f| f.interrupted);
    let last = after.as_ref().unwrap_or(&report);
    if last.modcache.versions_checked > 0
        && let Err(e) = verify::incremental::remember(&last.modcache)
    {
        printer.warn(&format!("{e}; the next verify hashes every version again"));
    }
    let now = last.tally.failing();
    if printer.json {
        printer.json(&VerifyJson {
            schema_version: 1,
            generated_at: Timestamp::now(),
            report: &report,
            fix: fix_json,
            after_fix: after.as_ref(),
        })?;
    }
    if interrupted {
        return Ok(Outcome::Interrupted);
    }
    Ok(if now { Outcome::Findings } else { Outcome::Clean })
}

/// What the last verify of `modcache` found clean; an unusable record is
/// said and ignored.
fn recall(modcache: &Path, printer: &Printer) -> Option<verify::incremental::Memory> {
    match verify::incremental::recall(modcache) {
        verify::incremental::Recall::Remembered(m) => Some(m),
        verify::incremental::Recall::Nothing => None,
        verify::incremental::Recall::Ignored(why) => {
            printer.warn(&format!("ignoring what the last verify remembered ({why}): hashing every version"));
            None
        }
    }
}

/// Scans the module cache and checks it (and GOCACHE, and the projects' go.sum).
/// A module cache that does not exist is an error only when `named` on the command line.
fn check(
    modcache: &Path,
    named: bool,
    gocache: Option<&Path>,
    projects: Vec<Project>,
    memory: Option<&verify::incremental::Memory>,
    printer: &Printer,
) -> anyhow::Result<VerifyReport> {
    // verify needs to know which versions exist, not how big their trees are.
    let opts = ScanOptions { measure_units: false, ..ScanOptions::default() };
    let versions = match scan::scan_cache(CacheKind::ModCache, modcache, &opts) {
        Ok(mut inv) => {
            // A version pruned down to its lock file is not in the cache any more.
            inv.versions.retain(gokeep::scan::VersionRecord::holds_content);
            inv.versions
        }
        // go creates the cache on its first download: nothing to verify in it,
        // but a project's go.sum is still read (its lines are simply not in the cache).
        Err(ScanError::Missing { path, .. }) if !named => {
            printer.note(&format!(
                "gokeep: no module cache yet at {} (go creates it on the first download): nothing to verify there",
                path.display()
            ));
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let total = versions.len() as u64 + if gocache.is_some() { 256 } else { 0 };
    let pb = progress_bar(printer, total);
    let tick = || {
        if let Some(pb) = &pb {
            pb.inc(1);
        }
    };
    let report = verify::verify(modcache, &versions, gocache, projects, memory, &tick)
        .with_context(|| format!("reading GOCACHE {}", gocache.unwrap_or(Path::new("")).display()))?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    Ok(report)
}

fn apply_fix(args: &Args, report: &VerifyReport, roots: &FixRoots<'_>, printer: &Printer) -> anyhow::Result<FixJson> {
    let plan =
        verify::fix_plan(&report.findings, &report.modcache.root, report.gocache.as_ref().map(|g| g.root.as_path()));
    let go_dir = report.projects.first().map(|p| p.root.as_path());
    if !args.update_go_sum.is_empty() {
        printer.note(&format!(
            "gokeep: --fix will also rewrite the go.sum lines of {} that disagree with a cache copy the checksum database confirms",
            args.update_go_sum.join(", ")
        ));
    }
    // go.sum is fixed before anything is downloaded again: go refuses a
    // download that disagrees with go.sum.
    let mut out = execute_with_consent(&plan, roots, args.repair.yes, false, go_dir, printer)?;
    // go.sum is edited only with the same consent as removals.
    if !(out.applied || (plan.items.is_empty() && args.repair.yes)) {
        if !args.update_go_sum.is_empty() {
            printer.note("gokeep: --update-go-sum: go.sum left unchanged (no consent: pass --yes)");
        }
        return Ok(out);
    }
    for module in &args.update_go_sum {
        for p in &report.projects {
            for sum in &p.sum_files {
                let (changes, refused) = project::plan_line_updates(sum, module, &report.modcache)?;
                for r in refused {
                    printer.note(&format!("gokeep: --update-go-sum: {} left unchanged: {}", r.line, r.reason));
                    out.go_sum_refused.push(r);
                }
                let applied = project::rewrite_lines(sum, &report.modcache.root, &changes)?;
                for c in applied {
                    printer.note(&format!(
                        "gokeep: {}: {} {}{} {} -> {} (the checksum database's record, which the cache agrees with)",
                        sum.display(),
                        c.module,
                        c.version,
                        if c.kind == gokeep::gosum::SumKind::GoMod { "/go.mod" } else { "" },
                        c.from,
                        c.to
                    ));
                    out.go_sum_updated.push(c);
                }
            }
        }
    }
    if args.repair.redownload && out.applied {
        redownload_removed(&plan, go_dir, printer, &mut out);
    }
    Ok(out)
}

/// The recognised caches a fix removes from, and the evidence it re-checks
/// under each version's lock.
#[derive(Clone, Default)]
pub(crate) struct FixRoots<'a> {
    pub modcache: Option<&'a CacheRoot>,
    pub gocache: Option<&'a CacheRoot>,
    pub recheck: Option<gokeep::prune::execute::Recheck>,
}

/// Shows the plan, asks (or not, see the module docs), executes it through
/// the prune executor and optionally runs `go mod download` in `go_dir`.
pub(crate) fn execute_with_consent(
    plan: &Plan,
    roots: &FixRoots<'_>,
    yes: bool,
    redownload: bool,
    go_dir: Option<&Path>,
    printer: &Printer,
) -> anyhow::Result<FixJson> {
    let mut out = FixJson {
        plan: plan.clone(),
        applied: false,
        interrupted: false,
        removal: None,
        redownloaded: Vec::new(),
        go_sum_updated: Vec::new(),
        go_sum_refused: Vec::new(),
    };
    if plan.items.is_empty() {
        printer.note("gokeep: --fix: nothing to remove");
        return Ok(out);
    }
    printer.note(&render_plan(plan));
    let question = format!("Remove {}?", count(plan.items.len() as u64, "entry", "entries"));
    match consent::ask(yes, &question)? {
        Consent::Given => {}
        Consent::Declined => {
            printer.note("gokeep: nothing removed");
            return Ok(out);
        }
        Consent::NoTerminal => {
            printer.note(
                "gokeep: --fix: nothing removed: no terminal to ask and no --yes (pass --yes to remove what is listed)",
            );
            return Ok(out);
        }
    }
    let (started, at) = (std::time::Instant::now(), Timestamp::now());
    let stop = interrupt::watch()?;
    let opts = ExecOptions {
        stop: Some(std::sync::Arc::clone(&stop)),
        recheck: roots.recheck.clone(),
        ..ExecOptions::default()
    };
    // No root only for an empty directory, which has nothing to remove.
    let removal = prune::execute::execute_in(plan, roots.modcache, roots.gocache, &opts, &|_| {})?;
    out.applied = true;
    // Every deletion gokeep makes is journaled, whichever command made it.
    crate::cli::prune::journal_run(plan, &removal, at, started.elapsed(), printer);
    for f in &removal.failures {
        printer.note(&format!("gokeep: could not remove {}: {}", f.path.display(), f.message));
    }
    for s in &removal.skipped {
        printer.note(&format!("gokeep: skipped {}: {}", s.target, s.reason));
    }
    printer.note(&format!(
        "gokeep: removed {} files, {} directories ({})",
        removal.files,
        removal.dirs,
        size(removal.disk_bytes)
    ));
    if interrupt::stopped(&stop) {
        printer.note(&format!(
            "gokeep: interrupted: {} left as they were",
            count(removal.not_started, "planned entry", "planned entries")
        ));
        out.interrupted = true;
    }
    out.removal = Some(removal);
    if redownload {
        redownload_removed(plan, go_dir, printer, &mut out);
    }
    Ok(out)
}

/// Runs `go mod download` for what the plan removed, so the cache is whole
/// again now: into the cache the plan removed from, whatever the
/// environment's GOMODCACHE says.
fn redownload_removed(plan: &Plan, go_dir: Option<&Path>, printer: &Printer, out: &mut FixJson) {
    let ids: Vec<String> = verify::redownloadable(plan).into_iter().map(|(m, v)| format!("{m}@{v}")).collect();
    let Some(modcache) = plan.modcache.as_ref().filter(|_| !ids.is_empty()) else { return };
    // go refuses a relative GOMODCACHE, and runs in another directory.
    let modcache = std::path::absolute(modcache).unwrap_or_else(|_| modcache.clone());
    let dir = go_dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    // go's own output (errors included) goes to the user's stderr.
    match Command::new("go")
        .current_dir(&dir)
        .env("GOMODCACHE", &modcache)
        .args(["mod", "download"])
        .args(&ids)
        .stdout(std::process::Stdio::null())
        .status()
    {
        Ok(s) if s.success() => {
            printer.note(&format!("gokeep: downloaded again into {}: {}", modcache.display(), ids.join(" ")));
            out.redownloaded = ids;
        }
        Ok(s) => printer.note(&format!("gokeep: `go mod download` failed ({s}); go downloads on next use")),
        Err(e) => printer.note(&format!("gokeep: cannot run go ({e}); go downloads on next use")),
    }
}
