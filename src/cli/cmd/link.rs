//! `gokeep link`, `unlink`, `links` and `check`: managed local overrides.
//!
//! Commands that edit a user's go.mod or go.work show the change first as a
//! unified diff; on a terminal they ask; without one they write only with
//! `--yes`. `--dry-run` shows the change and writes nothing.

use std::path::PathBuf;

use gokeep::overrides::check::{self};
use gokeep::overrides::inspect::{self};
use gokeep::overrides::{self as ov, Mode};

use crate::cli::printer::{NOTE, paint};
use crate::cli::render::link::{
    CheckJson, FileJson, LinkJson, LinksJson, UnlinkJson, colour_diff, render_check, render_links, render_unlink_plan,
};
use crate::cli::{Outcome, Printer, Settings};

pub const LINK_HELP: &str = "\
By default the directory is added to go.work (created beside go.mod if there is none), so go.mod \
stays untouched; --mode replace adds `replace <module> => <dir>` to go.mod instead. gokeep records \
what it changed in its state directory (never in your repository), so `gokeep unlink` restores the \
file byte for byte. The change is shown first; on a terminal gokeep asks, without one it writes only \
with --yes.";

/// How a command that edits a user's file may go ahead.
#[derive(Debug, Clone, clap::Args)]
pub struct Consent {
    /// Write without asking (required when not on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the change, write nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
}

#[derive(Debug, clap::ValueEnum, Clone, Copy, Default)]
pub enum ModeArg {
    /// A `use` line in go.work.
    #[default]
    Work,
    /// A `replace` line in go.mod.
    Replace,
}

#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// The local checkout of the module to use.
    pub dir: PathBuf,
    /// A directory of the consuming module (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub mode: ModeArg,
    /// Replace only this version of the module (with --mode replace).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Link even if the consumer does not require the module.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub consent: Consent,
}

#[derive(Debug, clap::Args)]
pub struct UnlinkArgs {
    /// Module paths to unlink.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub modules: Vec<String>,
    /// Unlink every module gokeep linked in this consumer.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    #[command(flatten)]
    pub consent: Consent,
}

#[derive(Debug, clap::Args)]
pub struct LinksArgs {
    /// Only the overrides of the module at or above DIR (default: every consumer).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The tree to check (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Module paths (GOPRIVATE-style patterns) whose local replaces are deliberate. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub allow: Vec<String>,
}

fn project(p: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    Ok(match p {
        Some(p) => p.clone(),
        None => std::env::current_dir()?,
    })
}

/// The one consent rule ([`crate::cli::consent`]): `--dry-run` never writes,
/// `--yes` always does, a terminal is asked, and anything else writes nothing.
fn consent(c: &Consent, question: &str, printer: &Printer) -> anyhow::Result<bool> {
    if c.dry_run {
        printer.note("gokeep: dry run: nothing written");
        return Ok(false);
    }
    match crate::cli::consent::ask(c.yes, &format!("gokeep: {question}"))? {
        crate::cli::consent::Consent::Given => Ok(true),
        crate::cli::consent::Consent::Declined => Ok(false),
        crate::cli::consent::Consent::NoTerminal => {
            printer.note("gokeep: not a terminal and no --yes: nothing written (pass --yes to write)");
            Ok(false)
        }
    }
}

pub fn run_link(args: &LinkArgs, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let mode = match args.mode {
        ModeArg::Work => Mode::Work,
        ModeArg::Replace => Mode::Replace,
    };
    let req = ov::LinkRequest {
        project: project(args.project.as_ref())?,
        target: args.dir.clone(),
        mode,
        version: args.version.clone(),
        force: args.force,
    };
    let plan = ov::plan_link(&req, &inspect::Settings::of(&settings.env))?;
    for w in &plan.warnings {
        printer.warn(w);
    }
    let diff = if plan.nothing_to_do.is_some() { String::new() } else { plan.diff() };
    if let Some(why) = &plan.nothing_to_do {
        if printer.json {
            printer.json(&LinkJson { schema_version: 1, plan: &plan, diff, written: false })?;
        } else {
            printer.note(&format!("gokeep: nothing to do: {why}"));
        }
        return Ok(Outcome::Clean);
    }
    if !printer.json && !printer.quiet {
        printer.out(&format!(
            "Link {} to {} ({} mode):\n{}",
            plan.module,
            plan.target.display(),
            plan.mode,
            colour_diff(&diff)
        ))?;
    }
    let verb = if plan.creates_file { "Create" } else { "Change" };
    let written = consent(&args.consent, &format!("{verb} {}?", plan.file.display()), printer)?;
    if written {
        ov::apply_link(&plan)?;
        printer.note(&format!(
            "gokeep: linked {} to {} in {}; undo with `gokeep unlink {}`",
            plan.module,
            plan.target.display(),
            plan.file.display(),
            plan.module
        ));
    }
    if printer.json {
        printer.json(&LinkJson { schema_version: 1, plan: &plan, diff, written })?;
    }
    Ok(Outcome::Clean)
}

pub fn run_unlink(args: &UnlinkArgs, _settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let modules = if args.all { Vec::new() } else { args.modules.clone() };
    let plan = ov::plan_unlink(&project(args.project.as_ref())?, &modules)?;
    if plan.items.is_empty() {
        if printer.json {
            printer.json(&UnlinkJson {
                schema_version: 1,
                consumer: &plan.consumer,
                items: &[],
                files: Vec::new(),
                written: false,
            })?;
        } else {
            printer.note(&format!("gokeep: nothing linked in {}", plan.consumer.display()));
        }
        return Ok(Outcome::Clean);
    }
    for f in plan.files.iter().filter(|f| f.changed_since_link) {
        printer.warn(&format!(
            "{} changed since gokeep linked: only gokeep's lines are removed; the rest stays as it is now",
            f.file.display()
        ));
    }
    if !printer.json && !printer.quiet {
        printer.out(&render_unlink_plan(&plan))?;
    }
    let changes = plan.files.iter().filter(|f| f.current != f.new).count();
    let written = changes == 0 || consent(&args.consent, "Write these changes?", printer)?;
    if written {
        ov::apply_unlink(&plan)?;
        for i in &plan.items {
            printer.note(&format!(
                "gokeep: unlinked {} ({})",
                i.module,
                paint(NOTE, &format!("{:?}", i.how).to_lowercase())
            ));
        }
        for f in plan.files.iter().filter(|f| f.changed_since_link && !printer.json) {
            let left = f.left_diff();
            if !left.trim().is_empty() {
                printer
                    .note(&format!("gokeep: {} differs from before the link by changes made since:", f.file.display()));
                printer.note(colour_diff(&left).trim_end());
            }
        }
    }
    if printer.json {
        let files = plan
            .files
            .iter()
            .map(|f| FileJson { change: f, diff: f.diff(), left_diff: f.changed_since_link.then(|| f.left_diff()) })
            .collect();
        printer.json(&UnlinkJson {
            schema_version: 1,
            consumer: &plan.consumer,
            items: &plan.items,
            files,
            written,
        })?;
    }
    Ok(Outcome::Clean)
}

pub fn run_links(args: &LinksArgs, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let links = inspect::links(args.project.as_deref(), &inspect::Settings::of(&settings.env))?;
    if printer.json {
        printer.json(&LinksJson { schema_version: 1, links: &links })?;
        return Ok(Outcome::Clean);
    }
    if links.is_empty() {
        printer.note("gokeep: no links");
        return Ok(Outcome::Clean);
    }
    printer.out(&render_links(&links))?;
    Ok(Outcome::Clean)
}

pub fn run_check(args: &CheckArgs, _settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let report = check::check(&project(args.project.as_ref())?, &args.allow)?;
    if printer.json {
        printer.json(&CheckJson { schema_version: 1, report: &report })?;
    } else {
        let text = render_check(&report);
        if !text.is_empty() {
            printer.out(&text)?;
        }
        let summary = format!(
            "gokeep: checked {} go.mod and {} go.work{}",
            report.go_mods,
            report.go_works,
            if report.git { "" } else { " (not a git work tree: go.work not checked against git)" }
        );
        printer.note(&summary);
    }
    Ok(if report.findings.is_empty() { Outcome::Clean } else { Outcome::Findings })
}
