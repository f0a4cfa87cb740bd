//! `gokeep prune`: plan what to remove from a policy file and/or flags, show
//! the plan, ask on a terminal, execute it safely, journal the run.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use gokeep::goenv::GoEnv;
use gokeep::prune::execute::{self, ExecOptions, Removal};
use gokeep::prune::journal::{self, JournalEntry};
use gokeep::prune::safety::{self, CacheRoot};
use gokeep::prune::{Plan, PlanItem, Reason, Target, mark};
use gokeep::scan::{self, CacheInventory};
use gokeep::timestamp::Timestamp;

use super::exit::UsageError;
use super::printer::{age, size};
use super::status::{cache_roots, scan_options};
use super::{GlobalArgs, Outcome, Printer};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Without --yes, gokeep asks before deleting when stdin and stderr are a terminal, and runs \
without asking otherwise (timers, CI). --dry-run never deletes.

Deleting is safe beside running go commands: each module version is removed under the lock \
file cmd/go takes for it, a .partial marker is written before its extracted tree goes (so go \
re-extracts rather than reads a half-removed tree), versions a go command holds are skipped, \
and build-cache entries used within the last hour are never removed. Every run is recorded in \
the journal shown by `gokeep log`.")]
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
    /// Remove build-cache entries unused for this long (never less than an hour).
    #[arg(long, value_name = "AGE")]
    pub gocache_max_age: Option<String>,
    /// Show the plan, delete nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
}

/// The `--json` document. Bump `schema_version` on any incompatible change.
#[derive(Serialize)]
struct PruneJson<'a> {
    schema_version: u32,
    dry_run: bool,
    modcache: Option<&'a Path>,
    gocache: Option<&'a Path>,
    plan: PlanJson<'a>,
    /// Absent on a dry run or when nothing was planned.
    result: Option<&'a Removal>,
}

#[derive(Serialize)]
struct PlanJson<'a> {
    items: &'a [PlanItem],
    total_items: usize,
    apparent_bytes: u64,
    disk_bytes: u64,
}

fn needs_modcache(t: &Target) -> bool {
    !matches!(t, Target::BuildEntriesBefore { .. } | Target::FuzzCache)
}

fn command_line() -> String {
    std::env::args().skip(1).collect::<Vec<_>>().join(" ")
}

pub fn run(args: &Args, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let now = Timestamp::now();
    let env = GoEnv::from_process();
    let (modcache, gocache) = cache_roots(global, &env)?;
    let wants_gocache = args.gocache_max_age.is_some() || args.policy.is_some();
    let wants_modcache = args.all
        || args.unused_since_mark
        || args.max_age.is_some()
        || args.max_size.is_some()
        || args.only_roots
        || args.corrupted
        || args.debris
        || args.policy.is_some();
    if !wants_gocache && !wants_modcache {
        return Err(UsageError(
            "nothing to prune: give --policy FILE or a rule (--max-age, --max-size, --only-roots, --corrupted, \
             --debris, --all, --unused-since-mark, --gocache-max-age)"
                .into(),
        )
        .into());
    }
    // Recognise the roots before anything else looks at them: a refused root
    // is not even scanned.
    let mod_root = if wants_modcache { Some(safety::recognise_modcache(&modcache)?) } else { None };
    let build_root = match (&gocache, wants_gocache) {
        (Some(g), true) => Some(safety::recognise_gocache(g)?),
        (None, true) if args.gocache_max_age.is_some() => {
            return Err(UsageError("--gocache-max-age: Go's build cache is off (GOCACHE=off)".into()).into());
        }
        _ => None,
    };
    let inventory = scan::scan(
        mod_root.as_ref().map(CacheRoot::path),
        build_root.as_ref().map(CacheRoot::path),
        &scan_options(global),
    );
    let mod_inv = inventory.modcache.transpose()?;
    let build_inv = inventory.gocache.transpose()?;
    for inv in mod_inv.iter().chain(build_inv.iter()) {
        for w in &inv.warnings {
            printer.note(&format!("gokeep: warning: {}: {}", w.path.display(), w.message));
        }
    }
    let plan = make_plan(args, mod_root.as_ref(), build_root.as_ref(), mod_inv.as_ref(), build_inv.as_ref(), now)?;

    let total_apparent: u64 = plan.items.iter().map(|i| i.apparent_bytes).sum();
    let total_disk: u64 = plan.items.iter().map(|i| i.disk_bytes).sum();
    let plan_json =
        PlanJson { items: &plan.items, total_items: plan.items.len(), apparent_bytes: total_apparent, disk_bytes: total_disk };

    if args.dry_run || plan.items.is_empty() {
        if printer.json {
            printer.json(&PruneJson {
                schema_version: 1,
                dry_run: args.dry_run,
                modcache: plan.modcache.as_deref(),
                gocache: plan.gocache.as_deref(),
                plan: plan_json,
                result: None,
            })?;
        } else if !printer.quiet {
            printer.out(&render_plan(&plan, now))?;
            if args.dry_run {
                printer.note("gokeep: dry run: nothing was deleted");
            }
        }
        return Ok(Outcome::Clean);
    }

    if !printer.json && !printer.quiet {
        printer.out(&render_plan(&plan, now))?;
    }
    if !args.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() && !confirm(&plan, total_disk)? {
        printer.note("gokeep: nothing deleted");
        return Ok(Outcome::Clean);
    }

    let bar = printer.progress.then(|| {
        let b = indicatif::ProgressBar::new(plan.items.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let opts = ExecOptions { threads: global.threads.map(usize::from), ..ExecOptions::default() };
    let removal = execute::execute(&plan, &opts, &|_item| {
        if let Some(b) = &bar {
            b.inc(1);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let elapsed = started.elapsed();
    let entry = JournalEntry {
        time: now,
        command: command_line(),
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
        printer.note(&format!("gokeep: warning: not journaled: {e}"));
    }

    if printer.json {
        printer.json(&PruneJson {
            schema_version: 1,
            dry_run: false,
            modcache: plan.modcache.as_deref(),
            gocache: plan.gocache.as_deref(),
            plan: plan_json,
            result: Some(&removal),
        })?;
    } else {
        printer.note(&format!(
            "gokeep: freed {} on disk ({} apparent): {} files, {} directories in {:.1}s",
            size(removal.disk_bytes),
            size(removal.apparent_bytes),
            removal.files,
            removal.dirs,
            elapsed.as_secs_f64()
        ));
        for s in &removal.skipped {
            printer.note(&format!("gokeep: skipped {}: {}", describe(&s.target), s.reason));
        }
        for f in &removal.failures {
            printer.note(&format!("gokeep: failed: {}: {}", f.path.display(), f.message));
        }
    }
    if removal.failures.is_empty() {
        Ok(Outcome::Clean)
    } else {
        anyhow::bail!("{} of the planned removals failed", removal.failures.len())
    }
}

fn confirm(plan: &Plan, disk: u64) -> anyhow::Result<bool> {
    eprint!("gokeep: remove {} items ({})? [y/N] ", plan.items.len(), size(disk));
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Builds the plan from the flags.
fn make_plan(
    args: &Args,
    mod_root: Option<&CacheRoot>,
    build_root: Option<&CacheRoot>,
    mod_inv: Option<&CacheInventory>,
    _build_inv: Option<&CacheInventory>,
    now: Timestamp,
) -> anyhow::Result<Plan> {
    let mut items = Vec::new();
    if let (Some(root), Some(inv)) = (mod_root, mod_inv) {
        if args.all {
            items.extend(all_items(root, inv));
        } else if args.unused_since_mark {
            let m = mark::load(root.path())?.ok_or_else(|| {
                UsageError(format!("--unused-since-mark: {} has no mark; run `gokeep mark` first", root.path().display()))
            })?;
            items.extend(mark::unused_since(inv, &m));
        }
    }
    if let (Some(_), Some(max_age)) = (build_root, &args.gocache_max_age) {
        let age = humantime::parse_duration(max_age)
            .map_err(|e| UsageError(format!("--gocache-max-age {max_age:?}: {e}")))?;
        items.push(PlanItem {
            target: Target::BuildEntriesBefore { cutoff: Timestamp(now.0 - age.as_secs() as i64) },
            reason: Reason::GocacheMaxAge { max_age_secs: age.as_secs() },
            apparent_bytes: 0,
            disk_bytes: 0,
            last_used: None,
        });
    }
    let needs_mod = items.iter().any(|i| needs_modcache(&i.target));
    Ok(Plan {
        modcache: needs_mod.then(|| mod_root.map(|r| r.path().to_owned())).flatten(),
        gocache: build_root.map(|r| r.path().to_owned()),
        items,
    })
}

/// `--all`: every module version, the sumdb cache and the VCS repositories.
fn all_items(root: &CacheRoot, inv: &CacheInventory) -> Vec<PlanItem> {
    let mut items: Vec<PlanItem> = inv
        .versions
        .iter()
        .map(|v| {
            let t = v.total();
            PlanItem {
                target: Target::ModuleVersion { module: v.module.clone(), version: v.version.clone() },
                reason: Reason::All,
                apparent_bytes: t.apparent_bytes,
                disk_bytes: t.disk_bytes,
                last_used: t.last_used(),
            }
        })
        .collect();
    if root.path().join("cache/download/sumdb").exists() {
        items.push(PlanItem {
            target: Target::Sumdb,
            reason: Reason::All,
            apparent_bytes: 0,
            disk_bytes: 0,
            last_used: None,
        });
    }
    if let Ok(rd) = std::fs::read_dir(root.path().join("cache/vcs")) {
        for e in rd.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.len() == 64 && e.file_type().is_ok_and(|t| t.is_dir()) {
                items.push(PlanItem {
                    target: Target::VcsRepo { hash: name },
                    reason: Reason::All,
                    apparent_bytes: 0,
                    disk_bytes: 0,
                    last_used: None,
                });
            }
        }
    }
    items
}

fn describe(t: &Target) -> String {
    match t {
        Target::ModuleVersion { module, version } => format!("{module}@{version}"),
        Target::ExtractedTree { module, version } => format!("{module}@{version} (extracted tree)"),
        Target::DownloadFiles { module, version, files } => {
            let names: Vec<&str> = files.iter().map(|f| f.suffix().unwrap_or("tmp")).collect();
            format!("{module}@{version} ({})", names.join(", "))
        }
        Target::ExtractTemp { module, version, .. } => format!("{module}@{version} (old extraction dir)"),
        Target::VcsRepo { hash } => format!("cache/vcs/{hash}"),
        Target::Sumdb => "cache/download/sumdb".into(),
        Target::BuildEntriesBefore { cutoff } => format!("build cache entries unused since {}", cutoff.rfc3339()),
        Target::FuzzCache => "build cache fuzz/".into(),
    }
}

fn rule(r: &Reason) -> String {
    let days = |s: u64| format!("{}d", s / 86_400);
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
    }
}

fn render_plan(plan: &Plan, now: Timestamp) -> String {
    let mut s = String::new();
    if plan.items.is_empty() {
        s.push_str("nothing to remove\n");
        return s;
    }
    let _ = writeln!(s, "{:>10}  {:<24} {:<14} item", "on disk", "rule", "last used");
    for i in &plan.items {
        let _ = writeln!(
            s,
            "{:>10}  {:<24} {:<14} {}",
            size(i.disk_bytes),
            rule(&i.reason),
            if i.last_used.is_some() { age(i.last_used, now) } else { "-".into() },
            describe(&i.target)
        );
    }
    let disk: u64 = plan.items.iter().map(|i| i.disk_bytes).sum();
    let _ = writeln!(s, "{:>10}  total, {} items", size(disk), plan.items.len());
    s
}
