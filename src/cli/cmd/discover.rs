//! `gokeep status --discover` and `gokeep prune --discover`: every user's
//! caches on the host, for a system timer.
//!
//! `status` reads each cache in this process (reading follows no link below
//! a root). `prune` never deletes from here: for each cache it runs a child
//! gokeep as the cache's owner (their uid and primary gid, no supplementary
//! groups, their HOME), with only that cache (`--modcache`/`--gocache` and
//! `--only-cache`) and the same policy, handed over on stdin so that a policy
//! only root can read still reaches it. The child recognises the root again
//! with the owner's rights, takes the owner's run lock and writes its journal
//! entry in the owner's state directory: one entry per cache, where the
//! owner's `gokeep log` shows what was done to their cache, and nothing
//! written by root into a directory a user controls.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use gokeep::discover::{self, Cache, Discovery, Refused};
use gokeep::error::UsageError;
use gokeep::layout::CacheKind;
use gokeep::policy::{DiscoverPolicy, Policy, PolicyError};
use gokeep::report;
use gokeep::scan::{self, ScanOptions};
use gokeep::timestamp::Timestamp;

use crate::cli::consent::{self, Consent};
use crate::cli::printer::count;
use crate::cli::render::discover::{
    PruneDiscoverJson, PruneEntry, StatusDiscoverJson, StatusEntry, render_status, render_todo, report_entry,
    warn_refused,
};
use crate::cli::{Outcome, Printer, Settings};

/// `--discover` looks for the caches itself.
fn no_cache_flags(settings: &Settings) -> anyhow::Result<()> {
    if settings.named_on_command_line(CacheKind::ModCache) || settings.named_on_command_line(CacheKind::BuildCache) {
        return Err(UsageError("--discover finds the caches itself: drop --modcache/--gocache".into()).into());
    }
    Ok(())
}

/// The policy text (empty without `--policy`) and what it says.
fn read_policy(path: Option<&Path>) -> anyhow::Result<(String, Policy)> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| PolicyError::Read { path: p.to_owned(), source })?;
            let policy = Policy::from_toml(&text, p)?;
            Ok((text, policy))
        }
        None => Ok((String::new(), Policy::default())),
    }
}

fn find(policy: &DiscoverPolicy, printer: &Printer) -> anyhow::Result<Discovery> {
    let d = discover::discover(policy)?;
    if d.viewer != 0 {
        let hidden = match d.unreadable {
            0 => String::new(),
            n => format!(" ({} it may not read)", count(n as u64, "place", "places")),
        };
        printer.note(&format!(
            "gokeep: not running as root: only the caches uid {} can read are seen{hidden}, and only its own are pruned",
            d.viewer
        ));
    }
    Ok(d)
}

pub fn status(policy: Option<&Path>, top: usize, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    no_cache_flags(settings)?;
    let (_, policy) = read_policy(policy)?;
    let d = find(&policy.discover, printer)?;
    let now = Timestamp::now();
    let mut caches = Vec::new();
    let mut refused = d.refused.clone();
    for c in &d.caches {
        let path = c.root.path();
        let inv = match c.root.kind() {
            CacheKind::ModCache => scan::scan(Some(path), None, &ScanOptions::default()).modcache,
            CacheKind::BuildCache => scan::scan(None, Some(path), &ScanOptions::default()).gocache,
        };
        match inv {
            Some(Ok(inv)) => caches.push(StatusEntry {
                owner: &c.owner,
                found_by: &c.found_by,
                report: report::cache_report(&inv, top, now),
            }),
            Some(Err(e)) => refused.push(Refused {
                path: path.to_owned(),
                kind: Some(c.root.kind()),
                owner: Some(c.owner.clone()),
                found_by: c.found_by.clone(),
                reason: e.to_string(),
            }),
            None => {}
        }
    }
    if printer.json {
        printer.json(&StatusDiscoverJson {
            schema_version: 1,
            generated_at: now,
            viewer_uid: d.viewer,
            caches,
            refused,
        })?;
        return Ok(Outcome::Clean);
    }
    if !printer.quiet {
        printer.out(&render_status(&caches))?;
    }
    warn_refused(&refused, printer);
    Ok(Outcome::Clean)
}

/// What `prune --discover` passes on to each owner's run besides the policy.
pub struct PruneFlags {
    pub policy: Option<PathBuf>,
    /// Rule flags, as given (`--max-age=30d`, `--corrupted`, ...).
    pub rules: Vec<String>,
    /// The policy with the rule flags applied, to tell which caches it touches.
    pub effective: Policy,
    pub dry_run: bool,
    pub yes: bool,
}

pub fn prune(flags: &PruneFlags, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    no_cache_flags(settings)?;
    let (text, _) = read_policy(flags.policy.as_deref())?;
    let policy = &flags.effective;
    if !policy.touches(CacheKind::ModCache) && !policy.touches(CacheKind::BuildCache) {
        return Err(gokeep::prune::prepare::PrepareError::NothingToPrune.into());
    }
    let d = find(&policy.discover, printer)?;
    let mut refused = d.refused.clone();
    let mut todo: Vec<&Cache> = Vec::new();
    for c in &d.caches {
        let not = |reason: String| Refused {
            path: c.root.path().to_owned(),
            kind: Some(c.root.kind()),
            owner: Some(c.owner.clone()),
            found_by: c.found_by.clone(),
            reason,
        };
        if !policy.touches(c.root.kind()) {
            refused.push(not(format!("the policy has no rule for a {}", c.root.kind())));
        } else if d.viewer != 0 && c.owner.uid != d.viewer {
            refused.push(not(format!("it belongs to {}: only root prunes another user's cache", c.owner)));
        } else {
            todo.push(c);
        }
    }
    if !printer.json && !printer.quiet {
        let listed: Vec<_> = todo.iter().map(|c| (&c.owner, c.root.kind(), c.root.path())).collect();
        printer.out(&render_todo(&listed))?;
    }
    warn_refused(&refused, printer);
    if !flags.dry_run && !todo.is_empty() {
        let question = format!("Prune {} as their owners?", count(todo.len() as u64, "cache", "caches"));
        match consent::ask(flags.yes, &question)? {
            Consent::Given => {}
            Consent::Declined => {
                printer.note("gokeep: nothing deleted");
                return Ok(Outcome::Clean);
            }
            Consent::NoTerminal => {
                printer.note(
                    "gokeep: nothing deleted: no terminal to ask and no --yes (pass --yes to prune these caches)",
                );
                return Ok(Outcome::NotConsented);
            }
        }
    }
    let exe = std::env::current_exe()?;
    let mut entries = Vec::new();
    for c in todo {
        let entry = run_as_owner(&exe, c, &text, flags, settings);
        if !printer.json {
            report_entry(&entry, flags.dry_run, printer);
        }
        entries.push(entry);
    }
    let failed = entries.iter().filter(|e| e.exit_code != Some(0)).count();
    if printer.json {
        printer.json(&PruneDiscoverJson {
            schema_version: 1,
            dry_run: flags.dry_run,
            viewer_uid: d.viewer,
            caches: entries,
            refused,
        })?;
    }
    if failed > 0 {
        anyhow::bail!("{failed} of the discovered caches could not be pruned");
    }
    Ok(Outcome::Clean)
}

/// Runs `gokeep prune` for one cache as its owner and reads what it printed.
fn run_as_owner(exe: &Path, c: &Cache, policy_text: &str, flags: &PruneFlags, settings: &Settings) -> PruneEntry {
    let (cache_flag, only) = match c.root.kind() {
        CacheKind::ModCache => ("--modcache", "modcache"),
        CacheKind::BuildCache => ("--gocache", "gocache"),
    };
    let mut cmd = discover::command_as(exe, &c.owner);
    cmd.arg("--json");
    if settings.if_idle {
        cmd.arg("--if-idle");
    }
    if let Some(n) = settings.threads {
        cmd.arg("--threads").arg(n.to_string());
    }
    cmd.args(["prune", "--policy", "-", "--only-cache", only, cache_flag]).arg(c.root.path());
    cmd.args(&flags.rules);
    cmd.arg(if flags.dry_run { "--dry-run" } else { "--yes" });
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut entry = PruneEntry {
        owner: c.owner.clone(),
        kind: c.root.kind(),
        root: c.root.path().to_owned(),
        found_by: c.found_by.clone(),
        exit_code: None,
        prune: None,
        error: None,
        notes: Vec::new(),
    };
    let output = cmd.spawn().and_then(|mut child| {
        if let Some(mut stdin) = child.stdin.take() {
            // A child that exits before reading its policy says why on stderr.
            let _ = stdin.write_all(policy_text.as_bytes());
        }
        child.wait_with_output()
    });
    match output {
        Ok(out) => {
            entry.exit_code = out.status.code();
            entry.prune = serde_json::from_slice(&out.stdout).ok();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            if entry.exit_code == Some(0) {
                entry.notes = said.iter().map(|l| (*l).to_owned()).collect();
            } else if said.is_empty() {
                entry.error = Some(format!("gokeep ended with {}", out.status));
            } else {
                entry.error = Some(said.join("\n"));
            }
        }
        Err(e) => entry.error = Some(format!("cannot run {} as {}: {e}", exe.display(), c.owner)),
    }
    entry
}
