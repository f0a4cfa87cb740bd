//! What `gokeep links` reports of each override: whether it is still in
//! the file, whether its target is still the module it was, and whether Go
//! honours it at all (GOWORK, `-mod=vendor`, a vendor directory, another
//! go.work), each by the rule cmd/go's modload applies.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use super::ops::read_opt;
use super::plan::same_dir;
use super::state::{self, LinkRecord};
use super::{Mode, OverrideError};
use crate::go::modfile::{ModFile, WorkFile};
use crate::go::pattern::match_prefix_patterns;
use crate::go::version;
use crate::goenv::GoEnv;

/// The Go settings an override depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// GOWORK (not part of `GoEnv`'s keys): `None` when unset.
    pub gowork: Option<String>,
    pub goflags: String,
    pub goroot: Option<PathBuf>,
    pub goproxy: String,
    pub gosumdb: String,
    pub gonoproxy: String,
    pub gonosumdb: String,
    pub goprivate: String,
}

impl Settings {
    #[must_use]
    pub fn from_env(env: &GoEnv, gowork: Option<String>) -> Self {
        let get = |k: &str| env.get(k).unwrap_or_default().to_owned();
        Settings {
            gowork,
            goflags: get("GOFLAGS"),
            goroot: env.get("GOROOT").filter(|g| !g.is_empty()).map(PathBuf::from),
            goproxy: get("GOPROXY"),
            gosumdb: get("GOSUMDB"),
            gonoproxy: get("GONOPROXY"),
            gonosumdb: get("GONOSUMDB"),
            goprivate: get("GOPRIVATE"),
        }
    }

    /// The settings of a resolved Go environment, GOWORK included.
    #[must_use]
    pub fn of(env: &GoEnv) -> Self {
        Settings::from_env(env, env.gowork.clone())
    }

    /// The `-mod` value of GOFLAGS, if set (the last one wins, as in cmd/go).
    fn mod_flag(&self) -> Option<&str> {
        self.goflags.split_whitespace().rev().find_map(|f| f.strip_prefix("-mod=").or(f.strip_prefix("--mod=")))
    }
}

/// `findWorkspaceFile`: the nearest go.work at or above `dir`, not crossing GOROOT.
#[must_use]
pub fn find_go_work(dir: &Path, s: &Settings) -> Option<PathBuf> {
    for d in dir.ancestors() {
        let f = d.join("go.work");
        if f.is_file() {
            return Some(f);
        }
        if d.parent().is_some_and(|p| Some(p) == s.goroot.as_deref()) {
            return None;
        }
    }
    None
}

/// The go.work Go uses for commands run in `dir` (`FindGoWork`).
fn effective_go_work(dir: &Path, s: &Settings) -> Option<PathBuf> {
    match s.gowork.as_deref() {
        Some("off") => None,
        None | Some("" | "auto") => find_go_work(dir, s),
        Some(p) => Some(PathBuf::from(p)),
    }
}

/// Why Go would not use an override of `module` (empty: it would).
#[must_use]
pub fn not_in_effect(
    mode: Mode,
    file: &Path,
    consumer: &Path,
    module: &str,
    target: &Path,
    s: &Settings,
) -> Vec<String> {
    let mut why = Vec::new();
    let mut work = effective_go_work(consumer, s);
    // A go.work a link is about to create beside or above the consumer is the one go will find.
    if work.is_none()
        && mode == Mode::Work
        && matches!(s.gowork.as_deref(), None | Some("" | "auto"))
        && file.parent().is_some_and(|d| consumer.starts_with(d))
        && !file.exists()
    {
        work = Some(file.to_owned());
    }
    match mode {
        Mode::Work => {
            if s.gowork.as_deref() == Some("off") {
                why.push("GOWORK=off: go ignores go.work".to_owned());
            } else if work.as_deref() != Some(file) {
                match &work {
                    Some(w) => why.push(format!("go uses {} instead of {}", w.display(), file.display())),
                    None => why.push(format!("go does not find {} from {}", file.display(), consumer.display())),
                }
            }
            if work.as_deref() == Some(file) && matches!(s.mod_flag(), Some(m) if m != "readonly" && m != "vendor") {
                why.push(format!(
                    "GOFLAGS has -mod={}: go refuses it in workspace mode",
                    s.mod_flag().unwrap_or_default()
                ));
            }
        }
        Mode::Replace => {
            if let Some(w) = &work
                && let Ok(Some(data)) = read_opt(w)
                && let Ok(wf) = WorkFile::parse(&w.display().to_string(), &data)
            {
                let dir = w.parent().unwrap_or(Path::new("/"));
                if wf.replace.iter().any(|r| r.old.path == module) {
                    why.push(format!("{} replaces {module} itself, and its replace wins", w.display()));
                }
                for u in &wf.uses {
                    let used = dir.join(&u.path);
                    let m = read_opt(&used.join("go.mod"))
                        .ok()
                        .flatten()
                        .and_then(|d| ModFile::parse("go.mod", &d).ok().and_then(|f| f.module.map(|m| m.path)));
                    let same = std::fs::canonicalize(&used).is_ok_and(|d| d == target);
                    if m.as_deref() == Some(module) && !same {
                        why.push(format!(
                            "{} uses {} as {module}: the workspace module wins over go.mod's replace",
                            w.display(),
                            u.path
                        ));
                    }
                }
            }
        }
    }
    if let Some(m) = s.mod_flag() {
        if m == "vendor" {
            why.push("GOFLAGS has -mod=vendor: go builds from the vendor directory".to_owned());
        }
    } else {
        // setDefaultBuildMod: a vendor directory beside go.work (workspace
        // mode) or go.mod, with go >= 1.14, makes -mod=vendor the default.
        let (vendor, go) = match &work {
            Some(w) => (
                w.parent().unwrap_or(Path::new("/")).join("vendor"),
                read_opt(w).ok().flatten().and_then(|d| WorkFile::parse("go.work", &d).ok()).and_then(|f| f.go),
            ),
            None => (
                consumer.join("vendor"),
                read_opt(&consumer.join("go.mod"))
                    .ok()
                    .flatten()
                    .and_then(|d| ModFile::parse("go.mod", &d).ok())
                    .and_then(|f| f.go),
            ),
        };
        if vendor.is_dir() && go.is_some_and(|g| version::compare_go(&g, "1.14").is_ge()) {
            why.push(format!("{} exists: go builds from it (-mod=vendor is the default)", vendor.display()));
        }
    }
    why
}

fn proxies(goproxy: &str) -> Vec<&str> {
    goproxy.split([',', '|']).map(str::trim).filter(|p| !p.is_empty() && *p != "direct" && *p != "off").collect()
}

/// A warning when, once unlinked, `go` would send `module`'s path to a
/// proxy or checksum database: a private module should be in GOPRIVATE.
#[must_use]
pub fn privacy_warning(module: &str, s: &Settings) -> Option<String> {
    let proxy = if match_prefix_patterns(&s.gonoproxy, module) { Vec::new() } else { proxies(&s.goproxy) };
    let sumdb = !match_prefix_patterns(&s.gonosumdb, module) && !s.gosumdb.is_empty() && s.gosumdb != "off";
    if proxy.is_empty() && !sumdb {
        return None;
    }
    let mut asks = Vec::new();
    if !proxy.is_empty() {
        asks.push(format!("the proxy {}", proxy.join(", ")));
    }
    if sumdb {
        asks.push(format!("the checksum database {}", s.gosumdb));
    }
    Some(format!(
        "{module} is not covered by GOPRIVATE (nor GONOPROXY/GONOSUMDB): without the link, go asks {} for it. \
         If it is private: go env -w GOPRIVATE={}",
        asks.join(" and "),
        extend_list(&s.goprivate, module)
    ))
}

fn extend_list(list: &str, module: &str) -> String {
    if list.is_empty() { module.to_owned() } else { format!("{list},{module}") }
}

/// Whether the file still holds what the link wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    /// The file holds exactly what gokeep wrote.
    Yes,
    /// The file was edited since, and still holds gokeep's line.
    Edited,
    /// The file still holds the old bytes: the link was interrupted.
    Interrupted,
    /// gokeep's line, or the file, is gone.
    Removed,
}

/// One override, as `gokeep links` reports it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[allow(clippy::struct_excessive_bools, reason = "the --json schema: one yes/no per question links answers")]
pub struct LinkStatus {
    pub consumer: PathBuf,
    pub module: String,
    pub target: PathBuf,
    pub mode: Mode,
    pub version: Option<String>,
    pub file: PathBuf,
    pub applied: Applied,
    pub target_exists: bool,
    /// The module path the target's go.mod declares now.
    pub target_module: Option<String>,
    pub target_module_changed: bool,
    pub target_go: Option<String>,
    pub consumer_go: Option<String>,
    pub target_go_newer: bool,
    /// `git status --porcelain` in the target is not empty (`None`: no git there).
    pub target_uncommitted: Option<bool>,
    pub in_effect: bool,
    pub not_in_effect: Vec<String>,
}

fn go_of(dir: &Path) -> Option<ModFile> {
    let d = read_opt(&dir.join("go.mod")).ok().flatten()?;
    ModFile::parse(&dir.join("go.mod").display().to_string(), &d).ok()
}

fn git_dirty(dir: &Path) -> Option<bool> {
    let out = Command::new("git").arg("-C").arg(dir).args(["status", "--porcelain"]).output().ok()?;
    out.status.success().then_some(!out.stdout.is_empty())
}

fn status_of(rec: &LinkRecord, consumer: &Path, s: &Settings) -> LinkStatus {
    let current = read_opt(&rec.file).ok().flatten();
    let has_line = |data: &[u8]| match rec.mode {
        Mode::Work => {
            WorkFile::parse("go.work", data).is_ok_and(|w| w.uses.iter().any(|u| same_dir(&u.path, &rec.written_path)))
        }
        Mode::Replace => ModFile::parse("go.mod", data)
            .is_ok_and(|f| f.replace.iter().any(|r| r.old.path == rec.module && r.new.path == rec.written_path)),
    };
    let applied = match &current {
        Some(c) if Some(c) == rec.after.as_ref() => Applied::Yes,
        Some(c) if Some(c) == rec.before.as_ref() => Applied::Interrupted,
        Some(c) if has_line(c) => Applied::Edited,
        _ => Applied::Removed,
    };
    let target_exists = rec.target.is_dir();
    let target = go_of(&rec.target);
    let target_module = target.as_ref().and_then(|f| f.module.as_ref().map(|m| m.path.clone()));
    let target_go = target.as_ref().and_then(|f| f.go.clone());
    let consumer_go = go_of(consumer).and_then(|f| f.go);
    let target_go_newer = matches!((&target_go, &consumer_go), (Some(t), Some(c)) if version::compare_go(t, c).is_gt());
    let mut not_in_effect = Vec::new();
    if matches!(applied, Applied::Interrupted | Applied::Removed) {
        not_in_effect.push(format!("{} no longer holds the override", rec.file.display()));
    }
    if !target_exists {
        not_in_effect.push(format!("{} does not exist", rec.target.display()));
    } else if target_module.as_deref() != Some(rec.module.as_str()) {
        not_in_effect.push(format!(
            "{} now declares {}, not {}",
            rec.target.display(),
            target_module.as_deref().unwrap_or("no module"),
            rec.module
        ));
    }
    not_in_effect.extend(not_in_effect_for(rec, consumer, s));
    LinkStatus {
        consumer: consumer.to_owned(),
        module: rec.module.clone(),
        target: rec.target.clone(),
        mode: rec.mode,
        version: rec.version.clone(),
        file: rec.file.clone(),
        applied,
        target_exists,
        target_module_changed: target_exists && target_module.as_deref() != Some(rec.module.as_str()),
        target_module,
        target_go,
        consumer_go,
        target_go_newer,
        target_uncommitted: if target_exists { git_dirty(&rec.target) } else { None },
        in_effect: not_in_effect.is_empty(),
        not_in_effect,
    }
}

fn not_in_effect_for(rec: &LinkRecord, consumer: &Path, s: &Settings) -> Vec<String> {
    not_in_effect(rec.mode, &rec.file, consumer, &rec.module, &rec.target, s)
}

/// Every override gokeep made, or those of the consumer at or above `project`.
pub fn links(project: Option<&Path>, s: &Settings) -> Result<Vec<LinkStatus>, OverrideError> {
    let dir = state::links_dir()?;
    let all = match project {
        Some(p) => {
            let consumer = super::ops::find_consumer(p)?;
            vec![state::load(&dir, &consumer)?]
        }
        None => state::load_all(&dir)?,
    };
    Ok(all.iter().flat_map(|rs| rs.links.iter().map(|r| status_of(r, &rs.consumer, s))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_route_is_warned_about_with_the_fixing_line() {
        let s = Settings {
            goproxy: "https://proxy.golang.org,direct".into(),
            gosumdb: "sum.golang.org".into(),
            gonosumdb: "corp.example".into(),
            gonoproxy: "corp.example".into(),
            goprivate: "corp.example".into(),
            ..Settings::default()
        };
        let w = privacy_warning("git.example/team/lib", &s).unwrap();
        assert!(w.contains("the proxy https://proxy.golang.org and the checksum database sum.golang.org"), "{w}");
        assert!(w.ends_with("go env -w GOPRIVATE=corp.example,git.example/team/lib"), "{w}");
        assert_eq!(privacy_warning("corp.example/lib", &s), None);
        let off = Settings { goproxy: "off".into(), gosumdb: "off".into(), ..Settings::default() };
        assert_eq!(privacy_warning("git.example/lib", &off), None);
    }

    #[test]
    fn the_last_mod_flag_wins() {
        let s = Settings { goflags: "-mod=mod -trimpath -mod=vendor".into(), ..Settings::default() };
        assert_eq!(s.mod_flag(), Some("vendor"));
    }
}
