//! `gokeep explain`: reads go's `checksum mismatch` output (argument or
//! stdin), lines up every witness and says in plain words which one is
//! wrong. `--online` adds the module proxy and the checksum database;
//! `--fix` removes the cache's copy when the cache is what is wrong (same
//! consent rules as `verify --fix`). It never suggests accepting a new hash.
//!
//! Exit code: 1 when a mismatch was decoded and explained, 2 when the input
//! holds no `checksum mismatch`, 3 for I/O errors.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use gokeep::goenv::GoEnv;
use gokeep::gosum::{GoSum, SumKind};
use gokeep::prune::Target;
use gokeep::timestamp::Timestamp;
use gokeep::verify::explain::{self, Against, Confidence, ExplainError, Explanation, External, Verdict};
use gokeep::verify::{modcache, online, project};

use super::status::cache_roots;
use super::verify::{FixJson, execute_with_consent};
use super::{GlobalArgs, Outcome, Printer};

pub const AFTER_HELP: &str = "\
Example:
  go build ./... 2>&1 | gokeep explain

Exit codes: 1 a mismatch was explained, 2 no \"checksum mismatch\" in the input, 3 I/O error.
gokeep never suggests accepting a different hash for a module.";

// Each bool is an independent command-line switch.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, clap::Args)]
pub struct Args {
    /// go's error output; read from stdin when absent or `-` (paste the whole `go build` output).
    #[arg(value_name = "TEXT")]
    pub text: Option<String>,
    /// The module or workspace whose go.sum to consult (default: the one containing the current directory).
    #[arg(long = "project", value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Also ask the module proxies in GOPROXY and the checksum database (GOSUMDB).
    /// Private modules (GOPRIVATE, GONOPROXY, GONOSUMDB) are never sent to them.
    #[arg(long)]
    pub online: bool,
    /// --fix: when the cache is what is wrong, remove its copy.
    #[command(flatten)]
    pub repair: super::verify::RepairArgs,
}

#[derive(Serialize)]
struct ExplainJson<'a> {
    schema_version: u32,
    generated_at: Timestamp,
    explanations: &'a [Explanation],
    fix: Option<FixJson>,
}

/// A Go variable as go resolves it (environment, GOENV file, `$GOROOT/go.env`).
fn env_or(env: &GoEnv, key: &str, default: &str) -> String {
    env.get(key).filter(|v| !v.is_empty()).map_or_else(|| default.to_owned(), str::to_owned)
}

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
        let mut mod_files = vec![p.root.join(if p.workspace { "go.work" } else { "go.mod" })];
        if p.workspace {
            mod_files.extend(p.sum_files.iter().filter_map(|s| s.parent().map(|d| d.join("go.mod"))));
        }
        for f in mod_files {
            let Ok(text) = std::fs::read_to_string(&f) else { continue };
            let mut in_block = false;
            for line in text.lines() {
                let t = line.split("//").next().unwrap_or("").trim();
                if t.starts_with("replace (") {
                    in_block = true;
                    continue;
                }
                if in_block && t == ")" {
                    in_block = false;
                    continue;
                }
                let body = if in_block { Some(t) } else { t.strip_prefix("replace ") };
                if let Some(body) = body.filter(|b| b.contains("=>"))
                    && body.split_whitespace().any(|tok| tok.trim_matches('"') == m.module)
                {
                    ext.replaces.push((f.clone(), t.to_owned()));
                }
            }
        }
    }
    if online_mode {
        // GONOPROXY defaults to GOPRIVATE (resolved by GoEnv).
        let noproxy = env_or(env, "GONOPROXY", "");
        if !gokeep::policy::match_prefix_patterns(&noproxy, &m.module) {
            let goproxy = env_or(env, "GOPROXY", "https://proxy.golang.org,direct");
            ext.proxy = online::proxy_hash(&goproxy, &m.module, &m.version, m.go_mod);
        }
    }
    ext
}

pub fn run(args: &Args, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let text = match args.text.as_deref() {
        Some(t) if t != "-" => t.to_owned(),
        _ => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("reading go's output from stdin")?;
            s
        }
    };
    let mismatches = explain::parse(&text);
    if mismatches.is_empty() {
        return Err(ExplainError::NothingFound.into());
    }
    let env = GoEnv::from_process();
    let (modcache, _) = cache_roots(global, &env)?;
    // --fix removes from the cache: recognised first, like every command that writes.
    let fix_root = if args.repair.fix {
        Some(super::cache_root::modcache_at(&modcache, global.modcache.is_some(), printer)?)
    } else {
        None
    };
    let modcache = fix_root.as_ref().map_or(modcache, |r| r.path().to_owned());
    let gowork_off = env.get("GOWORK") == Some("off");
    let proj = match &args.project {
        Some(d) => Some(project::find_project(d, gowork_off)?),
        None => std::env::current_dir().ok().and_then(|d| project::find_project(&d, gowork_off).ok()),
    };
    let dbs = gokeep::verify::sumdb::databases(&modcache);
    let mut explanations = Vec::new();
    // One version can fail twice (its zip and its go.mod): hash it once.
    let mut checked = std::collections::HashMap::new();
    for m in &mismatches {
        let check = checked
            .entry((m.module.clone(), m.version.clone()))
            .or_insert_with(|| {
                modcache::record_for(&modcache, &m.module, &m.version)
                    .map(|rec| modcache::check_version(&modcache, &rec, &dbs))
            })
            .clone();
        let mut ext = external(m, proj.as_ref(), args.online, &env);
        if args.online {
            let gosumdb = env_or(&env, "GOSUMDB", "sum.golang.org");
            let nosumdb = env_or(&env, "GONOSUMDB", "");
            let goproxy = env_or(&env, "GOPROXY", "https://proxy.golang.org,direct");
            if !matches!(gosumdb.trim(), "off" | "") && !gokeep::policy::match_prefix_patterns(&nosumdb, &m.module) {
                let (db, url, r) = online::sumdb_hash(&goproxy, &gosumdb, &m.module, &m.version, m.go_mod);
                ext.sumdb = Some((db, url, r));
            }
        }
        let e = explain::judge(m, &modcache, check.as_ref(), &ext);
        explanations.push(e);
    }

    let mut fix = None;
    if let Some(root) = &fix_root {
        let targets = explanations.iter().filter(|e| e.fix_removes_cache_copy).map(|e| {
            let t = Target::ModuleVersion { module: e.mismatch.module.clone(), version: e.mismatch.version.clone() };
            (t, format!("explain: {}", e.summary))
        });
        let plan = gokeep::verify::removal_plan(&modcache, targets);
        if plan.items.is_empty() {
            printer.note("gokeep: --fix: the cache is not what is wrong here; nothing to remove");
        }
        fix = Some(execute_with_consent(
            &plan,
            Some(root),
            args.repair.yes,
            args.repair.redownload,
            proj.as_ref().map(|p| p.root.as_path()),
            printer,
            global.threads.map(usize::from),
        )?);
    }

    if printer.json {
        printer.json(&ExplainJson {
            schema_version: 1,
            generated_at: Timestamp::now(),
            explanations: &explanations,
            fix,
        })?;
    } else if !printer.quiet {
        printer.out(&render(&explanations, &modcache))?;
    }
    Ok(Outcome::Findings)
}

fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::CacheCorrupted => "the module cache is corrupted",
        Verdict::GoSumWrong => "go.sum is wrong or was edited",
        Verdict::UpstreamChanged => "the upstream tag was moved (or the proxy serves other bits)",
        Verdict::LocalReplace => "a local replace is in play",
        Verdict::Undetermined => "undetermined",
    }
}

fn render(es: &[Explanation], modcache: &Path) -> String {
    let mut s = String::new();
    for e in es {
        let m = &e.mismatch;
        let against = match &m.against {
            Against::SumFile { label } => label.clone(),
            Against::Sumdb { db } => format!("checksum database {db}"),
        };
        let _ = writeln!(
            s,
            "{}@{}{}: checksum mismatch against {against}",
            m.module,
            m.version,
            if m.go_mod { "/go.mod" } else { "" }
        );
        let _ = writeln!(s, "  downloaded  {}", m.downloaded);
        let _ = writeln!(s, "  recorded    {}", m.recorded);
        s.push_str("\nWitnesses:\n");
        for w in &e.witnesses {
            let agree = match (w.hash.is_some(), w.agrees_with_downloaded, w.agrees_with_recorded) {
                (false, _, _) => "no say",
                (true, true, _) => "= downloaded",
                (true, false, true) => "= recorded",
                (true, false, false) => "= neither",
            };
            let _ = write!(s, "  {:<44} {:<13}", w.name, agree);
            if let Some(h) = &w.hash {
                let _ = write!(s, " {h}");
            }
            if let Some(n) = &w.note {
                let _ = write!(s, " ({n})");
            }
            s.push('\n');
            if let Some(p) = &w.path {
                let p = p
                    .strip_prefix(modcache)
                    .map_or_else(|_| p.display().to_string(), |r| format!("$GOMODCACHE/{}", r.display()));
                let _ = writeln!(s, "  {:<44} {p}", "");
            }
        }
        let conf = match e.confidence {
            Confidence::Confirmed => "",
            Confidence::Likely => " (likely)",
        };
        let _ = writeln!(s, "\nVerdict: {}{conf}", verdict_words(e.verdict));
        let _ = writeln!(s, "  {}", e.summary);
        let _ = writeln!(s, "What to do: {}", e.advice);
        s.push('\n');
    }
    s
}
