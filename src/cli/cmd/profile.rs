//! `gokeep profile list|show|diff|apply NAME`: named Go environment profiles
//! from `<user config dir>/gokeep/profiles.toml` and the repository's
//! `gokeep.toml`. `apply` lints the profile with the doctor's rules, shows
//! what changes, then writes the GOENV file as `go env -w` does, or with
//! `--shell` prints `export` lines instead. `--json` on every subcommand.
//!
//! Writing the GOENV file edits a user file: on a terminal gokeep asks; without
//! one it writes only with `--yes`. A profile with error findings is refused
//! unless `--force`.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use gokeep::goenv::GoEnv;
use gokeep::proxy::lint::{self, Finding, Severity};
use gokeep::proxy::profile::{self, Profile, Shell};

use crate::cli::exit::UsageError;
use crate::cli::render::profile::{
    Applied, DiffJson, ListJson, ShowJson, render_changes, render_findings, render_list, render_show, sorted,
};
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// List the profiles and where each is defined.
    List,
    /// Show a profile's variables and the doctor's findings about it.
    Show { name: String },
    /// Show what a profile would change in the effective environment.
    Diff { name: String },
    /// Write a profile to the GOENV file (as `go env -w`), or print export lines with --shell.
    Apply {
        name: String,
        /// Print export lines for this shell instead of writing the GOENV file.
        #[arg(long, value_enum)]
        shell: Option<ShellArg>,
        /// Write without asking (required without a terminal).
        #[arg(long)]
        yes: bool,
        /// Apply even when the doctor finds errors in the profile.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ShellArg {
    Sh,
    Fish,
    Powershell,
}

fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect()
}

fn find<'a>(profiles: &'a BTreeMap<String, Profile>, name: &str) -> anyhow::Result<&'a Profile> {
    profiles.get(name).ok_or_else(|| {
        let known: Vec<&str> = profiles.keys().map(String::as_str).collect();
        UsageError(format!(
            "no profile named {name:?} (known: {})",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ))
        .into()
    })
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let process = process_env();
    let cwd = std::env::current_dir()?;
    let profiles = profile::load(&profile::default_paths(&process, &cwd)).map_err(|e| UsageError(e.to_string()))?;
    let env = &settings.env;
    let inputs = lint::Inputs::read(process, env);
    match &args.action {
        Action::List => {
            if printer.json {
                printer.json(&sorted(&ListJson { schema_version: 1, profiles: profiles.values().collect() })?)?;
            } else if !printer.quiet {
                printer.out(&render_list(&profiles))?;
            }
            Ok(Outcome::Clean)
        }
        Action::Show { name } => {
            let p = find(&profiles, name)?;
            let findings = profile::lint_profile(p, env, &inputs);
            if printer.json {
                printer.json(&sorted(&ShowJson { schema_version: 1, profile: p, findings: &findings })?)?;
            } else if !printer.quiet {
                printer.out(&render_show(p, &findings))?;
            }
            Ok(if findings.iter().any(|f| f.severity >= Severity::Warning) {
                Outcome::Findings
            } else {
                Outcome::Clean
            })
        }
        Action::Diff { name } => {
            let p = find(&profiles, name)?;
            let changes = profile::diff(p, env);
            if printer.json {
                printer.json(&sorted(&DiffJson { schema_version: 1, profile: &p.name, changes: &changes })?)?;
            } else if !printer.quiet {
                printer.out(&render_changes(&changes))?;
            }
            Ok(if changes.is_empty() { Outcome::Clean } else { Outcome::Findings })
        }
        Action::Apply { name, shell, yes, force } => {
            let p = find(&profiles, name)?;
            let findings = profile::lint_profile(p, env, &inputs);
            if let Some(shell) = shell {
                let shell = match shell {
                    ShellArg::Sh => Shell::Sh,
                    ShellArg::Fish => Shell::Fish,
                    ShellArg::Powershell => Shell::Powershell,
                };
                printer.out(&profile::exports(p, shell))?;
                return Ok(Outcome::Clean);
            }
            apply(p, env, &findings, *yes, *force, printer)
        }
    }
}

fn apply(
    p: &Profile,
    env: &GoEnv,
    findings: &[Finding],
    yes: bool,
    force: bool,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let changes = profile::diff(p, env);
    if !printer.json && !printer.quiet {
        let mut s =
            format!("profile {} → {}\n", p.name, env.get("GOENV").filter(|g| !g.is_empty()).unwrap_or("(GOENV=off)"));
        s.push_str(&render_changes(&changes));
        render_findings(&mut s, findings);
        printer.out(&s)?;
    }
    if findings.iter().any(|f| f.severity == Severity::Error) && !force {
        return Err(UsageError(format!("profile {} has errors (above); fix them or pass --force", p.name)).into());
    }
    // Under --json nobody reads a question: only --yes writes.
    let go_ahead = yes
        || (!printer.json
            && crate::cli::consent::ask(false, "write these values to the GOENV file?")?
                == crate::cli::consent::Consent::Given);
    if !go_ahead {
        if !std::io::stdin().is_terminal() {
            printer.note("nothing written: without a terminal, pass --yes to write the GOENV file");
        }
        return Ok(Outcome::Findings);
    }
    let written = profile::apply(p, env).map_err(|e| match e {
        profile::ProfileError::NoEnvFile => anyhow::Error::new(UsageError(e.to_string())),
        e => anyhow::Error::new(e),
    })?;
    if printer.json {
        printer.json(&Applied {
            schema_version: 1,
            profile: &p.name,
            written: Some(written.display().to_string()),
            changes: &changes,
            findings,
        })?;
    } else if !printer.quiet {
        printer.out(&format!("wrote {}\n", written.display()))?;
    }
    Ok(Outcome::Clean)
}
