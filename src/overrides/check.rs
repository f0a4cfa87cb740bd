//! `gokeep check`: overrides that must not be committed. A go.mod `replace`
//! to a local directory breaks every other machine's build; a go.work in
//! git makes every clone build against whatever sits next to it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use super::OverrideError;
use super::ops::read_opt;
use crate::go::modfile::ModFile;
use crate::go::pattern::match_prefix_patterns;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// `replace <module> => <dir>` in a go.mod.
    LocalReplace { file: PathBuf, line: usize, text: String, module: String, dir: String, fix: String },
    /// A go.work committed to git.
    TrackedGoWork { file: PathBuf, fix: String },
    /// A go.work staged for the next commit.
    StagedGoWork { file: PathBuf, fix: String },
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    pub root: PathBuf,
    pub go_mods: usize,
    pub go_works: usize,
    /// Whether `root` is in a git work tree (go.work findings need one).
    pub git: bool,
    pub findings: Vec<Finding>,
    /// Local replaces `--allow` let through.
    pub allowed: usize,
}

/// Directories Go itself skips when it looks for packages and modules.
fn skipped(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_') || name == "testdata" || name == "vendor"
}

/// Checks every go.mod and go.work under `root` (symbolic links are not
/// followed); `allow` holds GOPRIVATE-style patterns of modules that may be
/// replaced by a directory.
pub fn check(root: &Path, allow: &[String]) -> Result<CheckReport, OverrideError> {
    let root = std::fs::canonicalize(root).map_err(|e| OverrideError::Read { path: root.to_owned(), source: e })?;
    let mut report = CheckReport { root: root.clone(), ..CheckReport::default() };
    let allow = allow.join(",");
    let mut works = Vec::new();
    let walk = walkdir::WalkDir::new(&root).follow_links(false).sort_by_file_name().into_iter();
    for e in
        walk.filter_entry(|e| e.depth() == 0 || !(e.file_type().is_dir() && skipped(&e.file_name().to_string_lossy())))
    {
        let e = e.map_err(|e| OverrideError::Read {
            path: e.path().map_or_else(|| root.clone(), Path::to_path_buf),
            source: e.into(),
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        match e.file_name().to_str() {
            Some("go.mod") => {
                report.go_mods += 1;
                let Some(data) = read_opt(e.path())? else { continue };
                let f = ModFile::parse(&e.path().display().to_string(), &data)?;
                for r in f.replace.iter().filter(|r| r.is_local()) {
                    if match_prefix_patterns(&allow, &r.old.path) {
                        report.allowed += 1;
                        continue;
                    }
                    let v = if r.old.version.is_empty() { String::new() } else { format!("@{}", r.old.version) };
                    report.findings.push(Finding::LocalReplace {
                        file: e.path().to_owned(),
                        line: r.at.line,
                        text: f.syntax.line_text(r.at).unwrap_or_default().trim().to_owned(),
                        module: r.old.path.clone(),
                        dir: r.new.path.clone(),
                        fix: format!(
                            "drop it before committing: `gokeep unlink {m}` if gokeep made it, else `go mod edit -dropreplace={m}{v}`; \
                             for local work prefer `gokeep link` (go.work); if it is deliberate, pass --allow {m}",
                            m = r.old.path
                        ),
                    });
                }
            }
            Some("go.work") => {
                report.go_works += 1;
                works.push(e.path().to_owned());
            }
            _ => {}
        }
    }
    let git = Git::at(&root)?;
    report.git = git.is_some();
    if let Some(g) = git {
        for w in works {
            let rel = w.strip_prefix(&root).unwrap_or(&w).to_string_lossy().into_owned();
            if g.staged.contains(&rel) {
                let fix = format!(
                    "unstage it: `git restore --staged {rel}` (a new file: `git rm --cached {rel}`), and add go.work to .gitignore"
                );
                report.findings.push(Finding::StagedGoWork { file: w, fix });
            } else if g.tracked.contains(&rel) {
                let fix = format!("stop tracking it: `git rm --cached {rel}`, add go.work to .gitignore and commit");
                report.findings.push(Finding::TrackedGoWork { file: w, fix });
            }
        }
    }
    Ok(report)
}

/// What git says about the files under a directory, as paths relative to it.
struct Git {
    tracked: Vec<String>,
    staged: Vec<String>,
}

impl Git {
    fn at(dir: &Path) -> Result<Option<Git>, OverrideError> {
        let run = |args: &[&str]| -> Result<Option<Vec<String>>, OverrideError> {
            let out = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .output()
                .map_err(|e| OverrideError::Git { dir: dir.to_owned(), source: e })?;
            if !out.status.success() {
                return Ok(None);
            }
            Ok(Some(
                out.stdout
                    .split(|&b| b == 0)
                    .filter(|p| !p.is_empty())
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect(),
            ))
        };
        let inside = match run(&["rev-parse", "--is-inside-work-tree"]) {
            Ok(o) => o.is_some(),
            // No git on this machine: nothing can be tracked.
            Err(OverrideError::Git { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(e),
        };
        if !inside {
            return Ok(None);
        }
        // The index: committed files and files staged new.
        let tracked = run(&["ls-files", "-z", "--cached", "--", "go.work", "*/go.work"])?.unwrap_or_default();
        // Staged additions and changes (no HEAD yet: everything in the index is staged).
        let staged = match run(&["diff", "--cached", "--name-only", "--relative", "--diff-filter=ACMR", "-z"])? {
            Some(s) => s,
            None => tracked.clone(),
        };
        Ok(Some(Git { tracked, staged }))
    }
}
