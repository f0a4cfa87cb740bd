//! How `gokeep profile` reads: its `--json` document and its text.

use gokeep::proxy::lint::{Finding, Severity};
use gokeep::proxy::profile::{self, Profile};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub(crate) fn render_findings(s: &mut String, findings: &[Finding]) {
    for f in findings {
        let sev = match f.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let _ = writeln!(s, "  {sev:<7}  {}: {}", f.key, f.message);
        if let Some(fix) = &f.fix {
            let _ = writeln!(s, "           fix: {fix}");
        }
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ListJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) profiles: Vec<&'a Profile>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ShowJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) profile: &'a Profile,
    pub(crate) findings: &'a [Finding],
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct DiffJson<'a> {
    pub(crate) schema_version: u32,
    pub(crate) profile: &'a str,
    pub(crate) changes: &'a [profile::Change],
}

/// `list`, `show` and `diff` have always written their keys in sorted
/// order, nested objects included; a `Value` keeps them so.
pub(crate) fn sorted<T: Serialize>(document: &T) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(document)
}

pub(crate) fn render_changes(changes: &[profile::Change]) -> String {
    let mut s = String::new();
    for c in changes {
        let from = c.current_source.as_ref().map(ToString::to_string).unwrap_or_default();
        let _ = writeln!(s, "  {}: {:?} ({from}) → {:?}", c.key, c.current, c.wanted);
    }
    if changes.is_empty() {
        s.push_str("  no change\n");
    }
    s
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Applied<'a> {
    pub(crate) schema_version: u32,
    pub(crate) profile: &'a str,
    pub(crate) written: Option<String>,
    pub(crate) changes: &'a [profile::Change],
    pub(crate) findings: &'a [Finding],
}

/// `profile list`: one line per profile.
pub(crate) fn render_list(profiles: &BTreeMap<String, Profile>) -> String {
    let mut s = String::new();
    for p in profiles.values() {
        let _ = writeln!(s, "{:<16} {} variables  {}", p.name, p.vars.len(), p.source.display());
    }
    if profiles.is_empty() {
        s.push_str("no profiles (add [profiles.NAME] tables to gokeep.toml or <config dir>/gokeep/profiles.toml)\n");
    }
    s
}

/// `profile show`: its variables, then what the doctor finds in them.
pub(crate) fn render_show(p: &Profile, findings: &[Finding]) -> String {
    let mut s = format!("{} ({})\n", p.name, p.source.display());
    for (k, v) in &p.vars {
        let _ = writeln!(s, "  {k}={v}");
    }
    render_findings(&mut s, findings);
    s
}
