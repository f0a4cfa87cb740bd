//! `gokeep explain`: reads what go printed (argument, file or stdin, any
//! bytes), finds every error about a module's bytes or checksums in it,
//! lines up the witnesses on this machine and says in plain words which one
//! is wrong now. `--online` adds the module proxy and the checksum database;
//! `--fix` removes the cache's copy only when a local witness proves it wrong
//! (same consent rules as `verify --fix`); `--update-go-sum` rewrites a
//! go.sum line only to a hash an independent witness confirms. It never
//! suggests accepting a hash nothing independent vouches for.
//!
//! Exit code: 1 when an error was decoded and explained, 2 when the input
//! holds none (or too little of one: what is missing is said), 3 for I/O
//! errors.

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};

use anyhow::Context;

use gokeep::fs::remove::CacheRoot;
use gokeep::go::{modpath, version};
use gokeep::goenv::GoEnv;
use gokeep::gosum::{GoSum, SumKind};
use gokeep::proxy::fetch;
use gokeep::prune::Target;
use gokeep::timestamp::Timestamp;
use gokeep::verify::explain::{self, Against, ErrorExplanation, ExplainError, Explanation, External, Verdict};
use gokeep::verify::paste::{self, Incomplete};
use gokeep::verify::{modcache, project};

use crate::cli::render::explain::{ExplainJson, render, render_errors, render_incomplete, verdict_words};
use crate::cli::render::verify::FixJson;
use crate::cli::verify::{FixRoots, execute_with_consent};
use crate::cli::{Outcome, Printer, Settings};

pub const AFTER_HELP: &str = "\
Examples:
  go build ./... 2>&1 | gokeep explain
  gokeep explain build.log
  gokeep explain -- 'verifying example.com/m@v1.0.0: checksum mismatch ...'

Reads checksum mismatches (go.sum and checksum database, every Go since 1.11), zip errors,
missing/unexpected ziphash, `go mod verify` output, missing go.sum entries and proxy or
checksum-database failures, through CI, BuildKit, Markdown and JSON-log decorations.

Exit codes: 1 an error was explained, 2 no such error in the input, 3 I/O error.
gokeep never suggests accepting a hash that nothing independent confirms.";

// Each bool is an independent command-line switch.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, clap::Args)]
pub struct Args {
    /// go's error output, or a file holding it; read from stdin when absent or `-`.
    /// Text that starts with `-` works too (or put `--` before it).
    // Only the first word may start with `-` (go's `-> unzip …` lines), so
    // that flags after the text still count as flags.
    #[arg(value_name = "TEXT|FILE", allow_hyphen_values = true)]
    pub first: Option<std::ffi::OsString>,
    /// More words of the text (as a shell splits an unquoted paste).
    #[arg(value_name = "MORE", hide = true)]
    pub rest: Vec<std::ffi::OsString>,
    /// The module or workspace whose go.sum to consult (default: the one containing the current directory).
    #[arg(long = "project", value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Also ask the module proxies in GOPROXY and the checksum database (GOSUMDB).
    /// Private modules (GOPRIVATE, GONOPROXY, GONOSUMDB) are never sent to them.
    #[arg(long)]
    pub online: bool,
    /// --fix: when the cache is what is wrong, remove its copy.
    #[command(flatten)]
    pub repair: crate::cli::verify::RepairArgs,
    /// With --fix: rewrite a wrong go.sum line to the hash the checksum database or the
    /// module proxy gives, only when that hash agrees with the cache's copy; refused, with
    /// the reason, otherwise.
    #[arg(long = "update-go-sum", requires = "fix")]
    pub update_go_sum: bool,
}

/// The `replace` lines of the project (its go.mod, or its go.work and the
/// go.mod of each module the workspace uses) that replace `module` at
/// `version` or at every version, each as written. Read by `go::modfile`;
/// a file go would refuse is skipped (go itself would have said so first).
fn replaces_of(p: &project::Project, module: &str, version: &str) -> Vec<(PathBuf, String)> {
    use gokeep::go::modfile::{ModFile, Replace, Syntax, WorkFile};
    let read = |f: &Path| std::fs::read(f).ok();
    let mut files: Vec<(PathBuf, Vec<Replace>, Syntax)> = Vec::new();
    if p.workspace {
        let work = p.root.join("go.work");
        if let Some(w) = read(&work).and_then(|d| WorkFile::parse(&work.display().to_string(), &d).ok()) {
            for u in &w.uses {
                let gomod = p.root.join(&u.path).join("go.mod");
                if let Some(m) = read(&gomod).and_then(|d| ModFile::parse(&gomod.display().to_string(), &d).ok()) {
                    files.push((gomod, m.replace, m.syntax));
                }
            }
            files.push((work, w.replace, w.syntax));
        }
    } else {
        let gomod = p.root.join("go.mod");
        if let Some(m) = read(&gomod).and_then(|d| ModFile::parse(&gomod.display().to_string(), &d).ok()) {
            files.push((gomod, m.replace, m.syntax));
        }
    }
    let mut out = Vec::new();
    for (file, replaces, syntax) in files {
        for r in
            replaces.iter().filter(|r| r.old.path == module && (r.old.version.is_empty() || r.old.version == version))
        {
            if let Some(line) = syntax.line_text(r.at) {
                out.push((file.clone(), line.trim().to_owned()));
            }
        }
    }
    out
}

/// The witnesses outside the module cache: go.sum lines, replace lines and, online, the module proxy.
fn external(m: &explain::Mismatch, project: Option<&project::Project>, online_mode: bool, env: &GoEnv) -> External {
    let mut ext = External::default();
    if let Some(p) = project {
        let kind = if m.go_mod { SumKind::GoMod } else { SumKind::Zip };
        for f in &p.sum_files {
            if let Ok(sum) = GoSum::read(f) {
                for l in sum.lines.iter().filter(|l| l.module == m.module && l.version == m.version && l.kind == kind) {
                    ext.go_sum.push((f.clone(), l.line, l.hash.clone()));
                }
            }
        }
        for (file, line) in replaces_of(p, &m.module, &m.version) {
            ext.replaces.push((file, line));
        }
    }
    if online_mode {
        // The proxies Go would ask, in its order: none for a GONOPROXY path.
        ext.proxy = fetch::proxy_hash(&gokeep::proxy::route(env, &m.module), &m.version, m.go_mod);
    }
    ext
}

/// The text to explain: an argument (or a file it names), else stdin. Any
/// bytes: only go's lines matter, so invalid UTF-8 is replaced, not fatal.
fn read_input(args: &Args, printer: &Printer) -> anyhow::Result<String> {
    let from_stdin = |printer: &Printer| -> anyhow::Result<String> {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            printer.note("Paste go's output, then press Ctrl-D on an empty line (Ctrl-Z then Enter on Windows):");
        }
        let mut bytes = Vec::new();
        stdin.lock().read_to_end(&mut bytes).context("reading go's output from stdin")?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let words: Vec<&std::ffi::OsString> = args.first.iter().chain(&args.rest).collect();
    match words.as_slice() {
        [] => from_stdin(printer),
        [one] if *one == "-" => from_stdin(printer),
        [one] => {
            let text = one.to_string_lossy();
            // A single argument without whitespace that names a file is the file.
            let p = Path::new(one);
            if !text.contains(char::is_whitespace) && p.is_file() {
                let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                return Ok(String::from_utf8_lossy(&bytes).into_owned());
            }
            Ok(text.into_owned())
        }
        many => Ok(many.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")),
    }
}

/// A paste with both hashes but no module path: the project's go.sum names
/// the version that records the pasted hash.
fn resolve_by_hash(inc: &Incomplete, project: Option<&project::Project>) -> Option<explain::Mismatch> {
    let (Some(dl), Some(rec)) = (&inc.downloaded, &inc.recorded) else { return None };
    if inc.module.is_some() {
        return None;
    }
    let label = inc.label.clone().unwrap_or_else(|| "go.sum".into());
    if !(label.ends_with("go.sum") || label.ends_with("go.work.sum")) {
        return None;
    }
    let mut found = Vec::new();
    for f in &project?.sum_files {
        let Ok(sum) = GoSum::read(f) else { continue };
        for l in sum.lines.iter().filter(|l| &l.hash == rec) {
            found.push((l.module.clone(), l.version.clone(), l.kind == SumKind::GoMod));
        }
    }
    found.dedup();
    match found.as_slice() {
        [(module, version, go_mod)] => Some(explain::Mismatch {
            module: module.clone(),
            version: version.clone(),
            go_mod: *go_mod,
            against: Against::SumFile { label },
            downloaded: dl.clone(),
            recorded: rec.clone(),
        }),
        _ => None,
    }
}

/// The cache's view of `module@version` now, when Go would accept both and
/// the cache holds it. Nothing is read for anything else.
fn cache_view(modcache: &Path, dbs: &[String], module: &str, version: &str) -> Option<modcache::VersionCheck> {
    modpath::check_path(module).ok()?;
    version::check_canonical(version).ok()?;
    modcache::record_for(modcache, module, version).map(|rec| modcache::check_version(modcache, &rec, dbs))
}

struct Judged {
    explanations: Vec<Explanation>,
    /// What each explanation's witnesses outside the cache said, in step with `explanations`.
    externals: Vec<External>,
    errors: Vec<ErrorExplanation>,
}

fn judge_all(
    decoded: &paste::Decoded,
    mismatches: &[explain::Mismatch],
    args: &Args,
    env: &GoEnv,
    modcache: &Path,
    proj: Option<&project::Project>,
) -> Judged {
    let dbs = gokeep::verify::sumdb::databases(modcache);
    let mut explanations = Vec::new();
    let mut externals = Vec::new();
    // One version can fail twice (its zip and its go.mod): hash it once.
    let mut checked = std::collections::HashMap::new();
    for m in mismatches {
        let check = checked
            .entry((m.module.clone(), m.version.clone()))
            .or_insert_with(|| cache_view(modcache, &dbs, &m.module, &m.version))
            .clone();
        let mut ext = external(m, proj, args.online, env);
        if args.online {
            // Never for a GONOSUMDB path or with GOSUMDB=off: the route says so.
            ext.sumdb = fetch::sumdb_hash(&gokeep::proxy::route(env, &m.module), &m.version, m.go_mod);
        }
        explanations.push(explain::judge(m, modcache, check.as_ref(), &ext));
        externals.push(ext);
    }
    let errors = decoded
        .errors
        .iter()
        .map(|e| {
            let check = match (&e.module, &e.version) {
                (Some(m), Some(v)) if e.kind.is_cache_problem() => {
                    checked.entry((m.clone(), v.clone())).or_insert_with(|| cache_view(modcache, &dbs, m, v)).clone()
                }
                _ => None,
            };
            explain::judge_error(e, modcache, check.as_ref())
        })
        .collect();
    Judged { explanations, externals, errors }
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let env = &settings.env;
    let named = settings.modcache()?;
    let modcache = named.path.clone();
    // --fix removes from the cache: recognised first, like every command that
    // writes, before any input is read.
    let fix_root = if args.repair.fix {
        Some(crate::cli::cache_root::modcache_at(&named.path, named.from_flag, printer)?)
    } else {
        None
    };
    let modcache = fix_root.as_ref().map_or(modcache, |r| r.path().to_owned());
    let text = read_input(args, printer)?;
    let decoded = paste::decode(&text);
    if decoded.is_empty() {
        return Err(ExplainError::NothingFound.into());
    }
    let gowork_off = env.get("GOWORK") == Some("off");
    let proj = match &args.project {
        Some(d) => Some(project::find_project(d, gowork_off)?),
        None => std::env::current_dir().ok().and_then(|d| project::find_project(&d, gowork_off).ok()),
    };
    let mut mismatches = decoded.mismatches.clone();
    let mut incomplete = Vec::new();
    for inc in &decoded.incomplete {
        match resolve_by_hash(inc, proj.as_ref()) {
            Some(m) if !mismatches.contains(&m) => mismatches.push(m),
            Some(_) => {}
            None => incomplete.push(inc.clone()),
        }
    }
    if mismatches.is_empty() && decoded.errors.is_empty() {
        // Something was found, but not enough to explain: say what is missing.
        if printer.json {
            printer.json(&ExplainJson {
                schema_version: 1,
                generated_at: Timestamp::now(),
                explanations: &[],
                errors: &[],
                incomplete: &incomplete,
                fix: None,
            })?;
        } else {
            printer.out(&render_incomplete(&incomplete))?;
        }
        let what: Vec<String> = incomplete.iter().map(|i| format!("{}: {}", i.text, i.missing)).collect();
        return Err(crate::cli::exit::UsageError(format!(
            "a \"checksum mismatch\" was found but cannot be explained: {}",
            what.join("; ")
        ))
        .into());
    }
    let judged = judge_all(&decoded, &mismatches, args, env, &modcache, proj.as_ref());
    let fix = match &fix_root {
        Some(root) => Some(apply_fix(args, &decoded, &mismatches, &judged, env, root, proj.as_ref(), printer)?),
        None => None,
    };
    let interrupted = fix.as_ref().is_some_and(|f| f.interrupted);

    if printer.json {
        printer.json(&ExplainJson {
            schema_version: 1,
            generated_at: Timestamp::now(),
            explanations: &judged.explanations,
            errors: &judged.errors,
            incomplete: &incomplete,
            fix,
        })?;
    } else if !printer.quiet {
        let mut out = render(&judged.explanations, &modcache);
        out.push_str(&render_errors(&judged.errors));
        out.push_str(&render_incomplete(&incomplete));
        printer.out(&out)?;
    }
    Ok(if interrupted { Outcome::Interrupted } else { Outcome::Findings })
}

/// `--fix`: the cache's copies a local witness proves wrong, judged again
/// just before the plan is made (the cache may have changed since), then
/// `--update-go-sum`'s rewrites.
#[allow(clippy::too_many_arguments)]
fn apply_fix(
    args: &Args,
    decoded: &paste::Decoded,
    mismatches: &[explain::Mismatch],
    judged: &Judged,
    env: &GoEnv,
    root: &CacheRoot,
    proj: Option<&project::Project>,
    printer: &Printer,
) -> anyhow::Result<FixJson> {
    let modcache = root.path();
    let again = judge_all(decoded, mismatches, args, env, modcache, proj);
    let mut targets: Vec<(Target, String)> = Vec::new();
    for (before, now) in judged.explanations.iter().zip(&again.explanations) {
        if before.fix_removes_cache_copy && now.fix_removes_cache_copy {
            let m = &now.mismatch;
            let t = Target::ModuleVersion { module: m.module.clone(), version: m.version.clone() };
            targets.push((t, format!("explain: {}", now.summary)));
        }
    }
    for (before, now) in judged.errors.iter().zip(&again.errors) {
        if !before.fix_targets.is_empty() {
            for t in &now.fix_targets {
                targets.push((t.clone(), format!("explain: {}", now.summary)));
            }
        }
    }
    let plan = gokeep::verify::removal_plan(modcache, targets);
    if plan.items.is_empty() {
        printer.note("gokeep: --fix: no local witness proves the cache wrong here; nothing to remove");
    }
    let recheck = still_proven_wrong(decoded, mismatches, &again.externals, modcache);
    let mut fix = execute_with_consent(
        &plan,
        &FixRoots { modcache: Some(root), gocache: None, recheck: Some(recheck) },
        args.repair.yes,
        args.repair.redownload,
        proj.map(|p| p.root.as_path()),
        printer,
    )?;
    if args.update_go_sum {
        update_go_sum(args, &again.explanations, modcache, proj, printer, &mut fix)?;
    }
    Ok(fix)
}

/// Asked under a version's lock just before `--fix` removes anything of it:
/// does a local witness still prove this copy wrong? The cache may have been
/// repaired (or replaced) by a go command since the paste was judged.
fn still_proven_wrong(
    decoded: &paste::Decoded,
    mismatches: &[explain::Mismatch],
    externals: &[External],
    modcache: &Path,
) -> gokeep::prune::execute::Recheck {
    let errors = decoded.errors.clone();
    let judged: Vec<(explain::Mismatch, External)> =
        mismatches.iter().cloned().zip(externals.iter().cloned()).collect();
    let modcache = modcache.to_owned();
    std::sync::Arc::new(move |target: &Target| {
        let (module, version) = target.module_version()?;
        let dbs = gokeep::verify::sumdb::databases(&modcache);
        // The witnesses outside the cache are as judged a moment ago; the cache's own are read now.
        let check = cache_view(&modcache, &dbs, module, version);
        let still = judged
            .iter()
            .filter(|(m, _)| m.module == module && m.version == version)
            .any(|(m, ext)| explain::judge(m, &modcache, check.as_ref(), ext).fix_removes_cache_copy)
            || errors
                .iter()
                .filter(|e| e.module.as_deref() == Some(module) && e.version.as_deref() == Some(version))
                .any(|e| !explain::judge_error(e, &modcache, check.as_ref()).fix_targets.is_empty());
        (!still).then(|| "no witness proves this copy wrong any more".to_owned())
    })
}

/// Rewrites the go.sum lines that an independent witness (checksum database,
/// module proxy) proves wrong, to that witness's hash; refuses otherwise.
fn update_go_sum(
    args: &Args,
    explanations: &[Explanation],
    modcache: &Path,
    proj: Option<&project::Project>,
    printer: &Printer,
    fix: &mut FixJson,
) -> anyhow::Result<()> {
    if !args.repair.yes {
        printer.note("gokeep: --update-go-sum: go.sum left unchanged (no consent: pass --yes)");
        return Ok(());
    }
    for e in explanations {
        let m = &e.mismatch;
        let line = format!("{} {}{} {}", m.module, m.version, if m.go_mod { "/go.mod" } else { "" }, m.recorded);
        let refuse = |reason: String, fix: &mut FixJson| {
            printer.note(&format!("gokeep: --update-go-sum: {line} left unchanged: {reason}"));
            fix.go_sum_refused.push(project::Refusal { line: line.clone(), reason });
        };
        if !matches!(m.against, Against::SumFile { .. }) {
            continue;
        }
        let Some(to) = explain::independent_hash(e).filter(|_| e.verdict == Verdict::GoSumWrong) else {
            refuse(format!("go.sum is not proven wrong (verdict: {}): {}", verdict_words(e.verdict), e.advice), fix);
            continue;
        };
        let Some(p) = proj else {
            refuse("no project: pass --project DIR".into(), fix);
            continue;
        };
        let change = project::LineChange {
            module: m.module.clone(),
            version: m.version.clone(),
            kind: if m.go_mod { SumKind::GoMod } else { SumKind::Zip },
            from: m.recorded.clone(),
            to,
        };
        for sum in &p.sum_files {
            let applied = project::rewrite_lines(sum, modcache, std::slice::from_ref(&change))?;
            for c in applied {
                printer.note(&format!(
                    "gokeep: {}: {line} -> {} (confirmed by an independent witness that agrees with the cache)",
                    sum.display(),
                    c.to
                ));
                fix.go_sum_updated.push(c);
            }
        }
    }
    Ok(())
}
