//! `gokeep schedule`: check a crontab expression, and install, show or
//! remove the timer (systemd) or crontab line that runs `gokeep prune`.
//!
//! Install and uninstall plan first and show the plan (every file with its
//! contents, the crontab lines added or removed, the `systemctl` calls);
//! on a terminal they ask, without one they act only with `--yes`, and
//! `--dry-run` prints the plan and stops.

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};

use gokeep::policy::{Policy, parse_duration};
use gokeep::schedule::install::{self, CrontabTarget, Plan, Scope, UnitDir};
use gokeep::schedule::units::{self, Job, ServiceOptions};
use gokeep::schedule::{CronError, CronExpr, Zone, calendar};
use gokeep::state::journal;

use crate::cli::consent::{self, Consent};
use crate::cli::exit::UsageError;
use crate::cli::render::schedule::{
    Backend, FieldJson, PlanJson, ShowEntry, ShowJson, ValidateJson, render_plan, render_show, render_validate,
};
use crate::cli::{Outcome, Printer, Settings};

const AFTER_HELP: &str = "\
Expressions are crontab's: minute hour day-of-month month day-of-week (0 and 7 are Sunday; names \
such as mon and jan work), lists, ranges and steps, or @yearly, @monthly, @weekly, @daily, \
@hourly. As in crontab, when both day fields are restricted (neither starts with *) a day matching \
either runs: `0 3 1 * 1` runs on the 1st and on every Monday. A systemd timer gets one OnCalendar= \
line per day field then.

Tests and image builds can redirect install: GOKEEP_SYSTEMD_DIR (units go there, systemctl is not \
run), GOKEEP_CRONTAB_FILE (a file edited as the crontab) or GOKEEP_CRONTAB_CMD (the crontab program).";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Check a crontab expression and print its next runs.
    Validate(ValidateArgs),
    /// Install a systemd timer (default) or a crontab line that runs `gokeep prune` on a schedule.
    Install(InstallArgs),
    /// Show the installed schedules with their next and last runs.
    Show(ShowArgs),
    /// Remove exactly what install wrote.
    Uninstall(UninstallArgs),
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// A crontab expression in quotes, e.g. "0 2 * * *" or @daily.
    pub expression: String,
    /// How many next runs to print.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub next: usize,
    /// Time zone for the runs (IANA name, e.g. Europe/Berlin); default the local zone.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Compute the runs after this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub after: Option<String>,
}

/// Where the schedule lives.
#[derive(Debug, clap::Args)]
pub struct Where {
    /// A unit in the user's systemd instance (default).
    #[arg(long, conflicts_with = "system")]
    pub user: bool,
    /// A system unit in /etc/systemd/system that runs as the cache's owner.
    #[arg(long)]
    pub system: bool,
    /// Write units here instead of systemd's directory; systemctl is not run.
    #[arg(long, value_name = "DIR", env = install::SYSTEMD_DIR_ENV)]
    pub unit_dir: Option<PathBuf>,
    /// Edit this file as the crontab instead of running the crontab program.
    #[arg(long, value_name = "FILE", env = install::CRONTAB_FILE_ENV)]
    pub crontab_file: Option<PathBuf>,
    /// The crontab program (run as `CMD -l` and `CMD -`).
    #[arg(long, value_name = "CMD", env = install::CRONTAB_CMD_ENV, default_value = "crontab")]
    pub crontab_cmd: String,
}

impl Where {
    fn scope(&self) -> Scope {
        if self.system { Scope::System } else { Scope::User }
    }

    fn unit_dir(&self) -> anyhow::Result<UnitDir> {
        Ok(UnitDir::resolve(self.scope(), self.unit_dir.clone())?)
    }

    fn crontab(&self) -> CrontabTarget {
        match &self.crontab_file {
            Some(f) => CrontabTarget::File(f.clone()),
            None => CrontabTarget::Command(self.crontab_cmd.clone()),
        }
    }
}

#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools, reason = "one field per command-line switch")]
pub struct InstallArgs {
    /// The prune policy the schedule runs (default: the shipped nightly.toml).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// When to run, as a crontab expression.
    #[arg(long, value_name = "CRON", default_value = "0 2 * * *")]
    pub at: String,
    /// Install a systemd service and timer (default).
    #[arg(long, conflicts_with = "cron")]
    pub systemd: bool,
    /// Merge a line into the user's crontab instead.
    #[arg(long)]
    pub cron: bool,
    #[command(flatten)]
    pub place: Where,
    /// Time zone of the schedule (systemd only; IANA name). Default: the machine's.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// The timer starts up to this much later, at random (`RandomizedDelaySec=`).
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub randomized_delay: String,
    /// Print what would be written and stop.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not ask. Without a terminal nothing is written unless --yes is given.
    #[arg(long, short)]
    pub yes: bool,
    /// The host-wide job: a system unit that runs `prune --discover` as root,
    /// which prunes every user's caches as their owner (see `status --discover`).
    #[arg(long, requires = "system", conflicts_with = "cron")]
    pub discover: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub place: Where,
}

#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools, reason = "one field per command-line switch")]
pub struct UninstallArgs {
    /// Remove only the systemd units.
    #[arg(long, conflicts_with = "cron")]
    pub systemd: bool,
    /// Remove only the crontab block.
    #[arg(long)]
    pub cron: bool,
    #[command(flatten)]
    pub place: Where,
    /// Print what would be removed and stop.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not ask. Without a terminal nothing is removed unless --yes is given.
    #[arg(long, short)]
    pub yes: bool,
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    match &args.action {
        Action::Validate(a) => validate(a, printer),
        Action::Install(a) => install_cmd(a, settings, printer),
        Action::Show(a) => show(a, printer),
        Action::Uninstall(a) => uninstall(a, printer),
    }
}

/// A bad expression is a usage error (exit 2), shown with the field pointed at.
fn parse_expr(text: &str) -> anyhow::Result<CronExpr> {
    CronExpr::parse(text).map_err(|e| {
        let mut msg = e.to_string();
        if let CronError::Field { line, column, text, .. } = &e {
            let _ = write!(msg, "\n    {line}\n    {}{}", " ".repeat(*column), "^".repeat(text.chars().count().max(1)));
        }
        UsageError(msg).into()
    })
}

fn parse_zone(tz: Option<&str>) -> anyhow::Result<Zone> {
    tz.map_or(Ok(Zone::Local), |z| Zone::parse(z).map_err(|e| UsageError(e.to_string()).into()))
}

fn validate(args: &ValidateArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let expr = parse_expr(&args.expression)?;
    let zone = parse_zone(args.tz.as_deref())?;
    let after = match &args.after {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|e| UsageError(format!("--after {t}: not an RFC 3339 time ({e})")))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let runs = expr.next_runs(&zone, after, args.next);
    let on_cal = calendar::on_calendar(&expr, zone.name());
    if printer.json {
        let fields = expr
            .fields
            .iter()
            .map(|f| FieldJson { field: f.kind.name(), text: &f.text, values: f.values.iter().copied().collect() })
            .collect();
        printer.json(&ValidateJson {
            schema_version: 1,
            expression: &expr.source,
            fields,
            days_ored: expr.days_ored(),
            on_calendar: on_cal,
            zone: zone.name(),
            next_runs: runs,
        })?;
        return Ok(Outcome::Clean);
    }
    if printer.quiet {
        return Ok(Outcome::Clean);
    }
    printer.out(&render_validate(&expr, &on_cal, zone, &runs))?;
    Ok(Outcome::Clean)
}

/// The policy a schedule runs: the given file, or the nightly policy the package ships.
fn policy_path(given: Option<&Path>, exe: &Path) -> anyhow::Result<PathBuf> {
    let path = if let Some(p) = given {
        p.to_owned()
    } else {
        // Beside the binary's prefix (`<prefix>/bin/gokeep` → `<prefix>/share/…`,
        // spelled without `..` so the unit reads plainly), else the package's.
        let nightly = "share/gokeep/schedules/nightly.toml";
        let prefix = exe.parent().and_then(Path::parent);
        let shipped = [prefix.map(|p| p.join(nightly)), Some(Path::new("/usr").join(nightly))];
        shipped.into_iter().flatten().find(|p| p.is_file()).ok_or_else(|| {
            UsageError("no --policy given and the shipped nightly.toml is not installed: pass --policy FILE".into())
        })?
    };
    // The unit runs with another working directory: the path must be absolute.
    let path = std::path::absolute(&path).with_context(|| format!("resolving {}", path.display()))?;
    Policy::from_file(&path)?;
    Ok(path)
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))
}

fn install_cmd(args: &InstallArgs, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let expr = parse_expr(&args.at)?;
    let zone = parse_zone(args.tz.as_deref())?;
    let backend = if args.cron { Backend::Cron } else { Backend::Systemd };
    if backend == Backend::Cron && args.tz.is_some() {
        return Err(
            UsageError("--tz: crontab has no portable time-zone setting; use --systemd or drop --tz".into()).into()
        );
    }
    if backend == Backend::Cron && args.place.system {
        return Err(UsageError("--system: a crontab line is per user; use --systemd --system".into()).into());
    }
    let delay = parse_duration(&args.randomized_delay)
        .map_err(|e| UsageError(format!("--randomized-delay {}: {e}", args.randomized_delay)))?;
    let exe = std::env::current_exe().context("locating the gokeep binary")?;
    let policy = policy_path(args.policy.as_deref(), &exe)?;
    let modcache = absolute(&settings.modcache()?.path)?;
    let gocache = settings.gocache()?.map(|d| absolute(&d.path)).transpose()?;
    let scope = args.place.scope();
    let state_dir = match scope {
        Scope::User => gokeep::state::state_dir()?,
        Scope::System => PathBuf::from("/var/lib/gokeep"),
    };
    let host_wide = if args.discover {
        let rules = Policy::from_file(&policy)?.discover;
        let found = gokeep::discover::discover(&rules)?;
        Some(gokeep::discover::writable_roots(&rules, &found))
    } else {
        None
    };
    let job = Job { exe, policy, modcache, gocache, state_dir, host_wide };
    let plan = match backend {
        Backend::Systemd => {
            let opts = match scope {
                Scope::User => ServiceOptions::default(),
                // Root starts it; each owner's run drops to its owner.
                Scope::System if job.host_wide.is_some() => {
                    ServiceOptions { owner: None, state_directory: Some("gokeep".into()) }
                }
                Scope::System => {
                    let md = std::fs::metadata(&job.modcache).with_context(|| {
                        format!("{}: a system unit runs as the module cache's owner", job.modcache.display())
                    })?;
                    ServiceOptions { owner: Some((md.uid(), md.gid())), state_directory: Some("gokeep".into()) }
                }
            };
            let service = units::service(&job, &opts);
            let timer = units::timer(&expr, zone.name(), delay.as_secs());
            // ProtectSystem=strict cannot make a missing directory writable: the state dir must exist.
            let dirs = if scope == Scope::User { vec![job.state_dir.clone()] } else { Vec::new() };
            install::plan_systemd_install(&args.place.unit_dir()?, service, timer, &dirs).map_err(usage_if_not_ours)?
        }
        Backend::Cron => install::plan_cron_install(&args.place.crontab(), &units::crontab_block(&expr, &job))
            .map_err(usage_if_not_ours)?,
    };
    execute("install", Some(backend), &plan, &args.place, args.dry_run, args.yes, printer)
}

fn usage_if_not_ours(e: install::InstallError) -> anyhow::Error {
    match e {
        install::InstallError::NotOurs { .. } | install::InstallError::UnterminatedBlock { .. } => {
            UsageError(e.to_string()).into()
        }
        e => e.into(),
    }
}

/// Shows the plan, asks (or not, see the module docs), applies it.
fn execute(
    action: &'static str,
    backend: Option<Backend>,
    plan: &Plan,
    place: &Where,
    dry_run: bool,
    yes: bool,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let mut out = PlanJson { schema_version: 1, action, backend, plan, applied: false, command_failures: Vec::new() };
    let text = render_plan(action, plan);
    if plan.is_empty() {
        if printer.json {
            printer.json(&out)?;
        } else {
            printer.note(&format!("gokeep: {action}: nothing to do"));
        }
        return Ok(Outcome::Clean);
    }
    if dry_run {
        if printer.json {
            printer.json(&out)?;
        } else {
            printer.out(&text)?;
        }
        return Ok(Outcome::Clean);
    }
    printer.note(text.trim_end());
    let question = if action == "install" { "Install?" } else { "Remove?" };
    match consent::ask(yes, question)? {
        Consent::Given => {}
        Consent::Declined => {
            printer.note("gokeep: nothing changed");
            return Ok(Outcome::Clean);
        }
        Consent::NoTerminal => {
            printer.note(&format!("gokeep: {action}: nothing changed: no terminal to ask and no --yes"));
            if printer.json {
                printer.json(&out)?;
            }
            return Ok(Outcome::NotConsented);
        }
    }
    let applied = install::apply(plan, plan.crontab.as_ref().map(|_| place.crontab()).as_ref())?;
    out.applied = true;
    out.command_failures.clone_from(&applied.command_failures);
    for f in &applied.command_failures {
        printer.note(&format!("gokeep: warning: {f}"));
    }
    if printer.json {
        printer.json(&out)?;
    } else {
        printer.note(&format!("gokeep: {action}: done"));
    }
    Ok(Outcome::Clean)
}

fn uninstall(args: &UninstallArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let mut plan = Plan::default();
    let mut backend = None;
    if !args.cron {
        plan = install::plan_systemd_uninstall(&args.place.unit_dir()?).map_err(usage_if_not_ours)?;
        backend = Some(Backend::Systemd);
    }
    if !args.systemd && !args.place.system {
        let target = args.place.crontab();
        match install::plan_cron_uninstall(&target) {
            Ok(p) => {
                plan.crontab = p.crontab;
                backend = if args.cron { Some(Backend::Cron) } else { None };
            }
            // No crontab program on a systemd-only host: nothing of gokeep's can be there.
            Err(e) if !args.cron && matches!(target, CrontabTarget::Command(_)) => {
                printer.note(&format!("gokeep: crontab not checked: {e}"));
            }
            Err(e) => return Err(usage_if_not_ours(e)),
        }
    }
    execute("uninstall", backend, &plan, &args.place, args.dry_run, args.yes, printer)
}

fn show(args: &ShowArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    let dirs = if args.place.unit_dir.is_some() {
        vec![args.place.unit_dir()?]
    } else {
        vec![UnitDir::resolve(Scope::User, None)?, UnitDir::resolve(Scope::System, None)?]
    };
    for d in &dirs {
        match install::installed_systemd(d) {
            Ok(i) => found.extend(i),
            Err(e) => warnings.push(e.to_string()),
        }
    }
    match install::installed_cron(&args.place.crontab()) {
        Ok(i) => found.extend(i),
        Err(e) => warnings.push(format!("crontab not checked: {e}")),
    }
    let now = Utc::now();
    let entries: Vec<ShowEntry> = found
        .into_iter()
        .map(|i| {
            let next_run = i.cron.as_deref().and_then(|c| CronExpr::parse(c).ok()).and_then(|e| {
                let zone = i.zone.as_deref().and_then(|z| Zone::parse(z).ok()).unwrap_or(Zone::Local);
                e.next_runs(&zone, now, 1).into_iter().next()
            });
            ShowEntry { installed: i, next_run }
        })
        .collect();
    let entries_log = journal::journal_path().ok().and_then(|p| journal::read_from(&p).ok()).map(|(e, _)| e);
    let last =
        entries_log.as_ref().and_then(|e| e.iter().rev().find(|e| e.command.split_whitespace().any(|w| w == "prune")));
    if printer.json {
        printer.json(&ShowJson { schema_version: 1, schedules: &entries, last_prune: last, warnings: &warnings })?;
    } else if !printer.quiet {
        printer.out(&render_show(&entries, last))?;
        for w in &warnings {
            printer.note(&format!("gokeep: warning: {w}"));
        }
    }
    Ok(Outcome::Clean)
}
