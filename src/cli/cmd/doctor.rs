//! `gokeep doctor`: lints the effective Go environment and prints the route
//! Go takes for each module; `--chain MODULE[@VERSION]` walks one module
//! through every layer. `--json` is `{"schema_version": 1, "findings": [...],
//! "routes": [...]}` or, with `--chain`, `{"schema_version": 1, "chain": {...}}`.
//!
//! Exit code: 0 when nothing was found, 1 for findings (warnings, errors,
//! a broken layer), 2 for usage errors.

use std::time::Duration;

use gokeep::go::gosum::GoSum;
use gokeep::go::modfile::ModFile;
use gokeep::goenv::GoEnv;
use gokeep::proxy::chain::{self, Witnesses};
use gokeep::proxy::lint::{self, Severity};
use gokeep::proxy::probe::Timeouts;

use crate::cli::exit::UsageError;
use crate::cli::render::doctor::{ChainJson, DoctorJson, RouteReport, render, render_chain};
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the route for this module path, `PATH[@VERSION]` (repeatable), and
    /// unless --offline ask each hop for it as Go would. Default: every module
    /// path in the current project's go.mod (routes only).
    #[arg(long = "module", value_name = "PATH")]
    pub modules: Vec<String>,
    /// Send nothing over the network (skips the checksum-database reachability check).
    #[arg(long)]
    pub offline: bool,
    /// Walk one module through every layer (env, route, DNS, TCP, TLS, list,
    /// info, mod, zip, checksum) and stop at the first broken one.
    #[arg(long, value_name = "MODULE[@VERSION]", conflicts_with = "offline")]
    pub chain: Option<String>,
    /// Seconds each network stage may take.
    #[arg(long, value_name = "SECS", default_value = "10")]
    pub timeout: f64,
}

pub(crate) fn timeouts(secs: f64) -> Result<Timeouts, UsageError> {
    if !(secs.is_finite() && secs > 0.0 && secs <= 600.0) {
        return Err(UsageError(format!("--timeout {secs}: give seconds between 0 and 600")));
    }
    Ok(Timeouts::uniform(Duration::from_secs_f64(secs)))
}

fn process_env() -> std::collections::BTreeMap<String, String> {
    std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect()
}

/// The module paths of the go.mod governing the current directory.
pub(crate) fn project_modules() -> Vec<String> {
    let Ok(cwd) = std::env::current_dir() else { return Vec::new() };
    let Some(dir) = cwd.ancestors().find(|d| d.join("go.mod").is_file()) else { return Vec::new() };
    let Ok(data) = std::fs::read(dir.join("go.mod")) else { return Vec::new() };
    let Ok(file) = ModFile::parse("go.mod", &data) else { return Vec::new() };
    let mut out: Vec<String> = file.require.iter().map(|r| r.path.clone()).collect();
    out.sort();
    out.dedup();
    out
}

fn project_go_sum() -> Option<GoSum> {
    let cwd = std::env::current_dir().ok()?;
    let dir = cwd.ancestors().find(|d| d.join("go.mod").is_file())?;
    GoSum::read(&dir.join("go.sum")).ok()
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let timeouts = timeouts(args.timeout)?;
    let env = &settings.env;
    if let Some(spec) = &args.chain {
        return run_chain(spec, env, &timeouts, printer);
    }
    let inputs = lint::Inputs::read(process_env(), env);
    let mut findings = lint::lint(env, &inputs);
    let modules = if args.modules.is_empty() { project_modules() } else { args.modules.clone() };
    let routes: Vec<RouteReport> = modules
        .iter()
        .map(|spec| {
            let (m, version) = match spec.split_once('@') {
                Some((m, v)) if !v.is_empty() && v != "latest" => (m, Some(v.to_owned())),
                Some((m, _)) => (m, None),
                None => (spec.as_str(), None),
            };
            let route = gokeep::proxy::route(env, m);
            // Only modules named on the command line are looked up: the
            // project's whole require list would be a crawl.
            let resolution = (!args.offline && !args.modules.is_empty())
                .then(|| chain::resolve(&route, version.as_deref(), &timeouts));
            RouteReport { finding: lint::lint_route(&route), route, version, resolution }
        })
        .collect();
    if !args.offline {
        findings.extend(chain::sumdb_reachability(env, &timeouts));
    }
    let found = findings.iter().any(|f| f.severity >= Severity::Warning)
        || routes.iter().any(|r| r.finding.is_some() || r.resolution.as_ref().is_some_and(|x| x.served_by.is_none()));
    if printer.json {
        printer.json(&DoctorJson { schema_version: 1, findings: &findings, routes: &routes })?;
    } else if !printer.quiet {
        printer.out(&render(&findings, &routes))?;
    }
    Ok(if found { Outcome::Findings } else { Outcome::Clean })
}

fn run_chain(spec: &str, env: &GoEnv, timeouts: &Timeouts, printer: &Printer) -> anyhow::Result<Outcome> {
    let (module, version) = match spec.split_once('@') {
        Some((m, v)) if !v.is_empty() && v != "latest" => (m, Some(v)),
        Some((m, _)) => (m, None),
        None => (spec, None),
    };
    if module.is_empty() {
        return Err(UsageError(format!("--chain {spec:?}: give MODULE or MODULE@VERSION")).into());
    }
    let go_sum = project_go_sum();
    let modcache = env.modcache_dir().ok();
    let w = Witnesses { go_sum: go_sum.as_ref(), modcache: modcache.as_deref() };
    let c = chain::walk(env, module, version, timeouts, &w);
    if printer.json {
        printer.json(&ChainJson { schema_version: 1, chain: &c })?;
    } else if !printer.quiet {
        printer.out(&render_chain(&c, version))?;
    }
    Ok(if c.broken.is_some() { Outcome::Findings } else { Outcome::Clean })
}
