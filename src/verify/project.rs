//! A project's go.sum lines against the module cache: the check cmd/go
//! makes at download time (`checkModSum`: go.sum against `.ziphash`, and
//! `checkGoMod`: go.sum against the hash of the `.mod` file), done for every
//! line at once instead of failing at the first.
//!
//! A project is a module (its `go.sum`) or a workspace (`go.work.sum` plus
//! the `go.sum` of every `use`d module), found the way cmd/go finds them:
//! the nearest `go.work` (unless `GOWORK=off`), else the nearest `go.mod`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::finding::{Finding, FindingKind as K, Severity};
use super::modcache::{ModcacheCheck, VersionCheck, VersionPaths, Ziphash};
use crate::go::gosum::{GoSum, SumKind};
use crate::go::modfile::{ParseError, WorkFile};
use crate::prune::Target;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{dir} holds no go.mod or go.work (and none above it)")]
    NotAProject { dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("go would refuse {path}:\n{source}")]
    GoWork { path: PathBuf, source: ParseError },
}

/// A module or workspace and the sum files it trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Project {
    /// The directory holding go.mod or go.work.
    pub root: PathBuf,
    pub workspace: bool,
    /// The sum files that exist.
    pub sum_files: Vec<PathBuf>,
}

/// Finds the project containing `dir` (upwards), as cmd/go would.
pub fn find_project(dir: &Path, gowork_off: bool) -> Result<Project, ProjectError> {
    let dir = std::fs::canonicalize(dir).map_err(|source| ProjectError::Io { path: dir.to_owned(), source })?;
    if !gowork_off {
        for d in dir.ancestors() {
            if d.join("go.work").is_file() {
                return workspace(d);
            }
        }
    }
    for d in dir.ancestors() {
        if d.join("go.mod").is_file() {
            let sum = d.join("go.sum");
            let sum_files = if sum.is_file() { vec![sum] } else { Vec::new() };
            return Ok(Project { root: d.to_owned(), workspace: false, sum_files });
        }
    }
    Err(ProjectError::NotAProject { dir })
}

fn workspace(root: &Path) -> Result<Project, ProjectError> {
    let path = root.join("go.work");
    let data = std::fs::read(&path).map_err(|source| ProjectError::Io { path: path.clone(), source })?;
    let work = WorkFile::parse(&path.display().to_string(), &data)
        .map_err(|source| ProjectError::GoWork { path: path.clone(), source })?;
    let mut sum_files = Vec::new();
    let ws = root.join("go.work.sum");
    if ws.is_file() {
        sum_files.push(ws);
    }
    for u in &work.uses {
        let sum = root.join(&u.path).join("go.sum");
        if sum.is_file() && !sum_files.contains(&sum) {
            sum_files.push(sum);
        }
    }
    Ok(Project { root: root.to_owned(), workspace: true, sum_files })
}

/// Compares every line of the project's sum files with the cache.
#[must_use]
pub fn check_project(project: &Project, cache: &ModcacheCheck) -> Vec<Finding> {
    let mut findings = Vec::new();
    for path in &project.sum_files {
        let sum = match GoSum::read(path) {
            Ok(s) => s,
            Err(e) => {
                findings.push(Finding::new(K::GoSumMalformed, e.to_string()).path(path));
                continue;
            }
        };
        findings.extend(check_sum(&sum, cache));
    }
    findings
}

/// The comparison itself, for one parsed sum file.
#[must_use]
pub fn check_sum(sum: &GoSum, cache: &ModcacheCheck) -> Vec<Finding> {
    let mut findings = Vec::new();
    for bad in &sum.bad {
        findings.push(
            Finding::new(K::GoSumMalformed, format!("line {}: {} ({:?})", bad.line, bad.reason, bad.text))
                .path(&sum.path),
        );
    }
    let at = |line: usize| format!("{}:{line}", sum.path.display());
    for l in &sum.lines {
        if !l.hash.starts_with("h1:") {
            // cmd/go warns about unknown algorithms and adds an h1: line.
            continue;
        }
        let (m, v) = (l.module.as_str(), l.version.as_str());
        let check = cache.get(m, v);
        let paths = VersionPaths::new(&cache.root, m, v);
        match l.kind {
            SumKind::Zip => {
                let have = check.and_then(|c| c.zip_reference());
                match have {
                    None => findings.push(
                        Finding::new(K::NotInCache, format!("{} names a module version this cache does not hold", at(l.line)))
                            .module(m, v)
                            .path(&sum.path),
                    ),
                    Some(have) if have != l.hash => {
                        let (what, witness) = match check.map(|c| &c.ziphash) {
                            Some(Ziphash::Valid(_)) => (".ziphash", paths.file("ziphash")),
                            _ => ("the cached zip", paths.file("zip")),
                        };
                        findings.push(
                            Finding::new(
                                K::GoSumMismatch,
                                format!("{} records a different hash than {what}", at(l.line)),
                            )
                            .module(m, v)
                            .path(&sum.path)
                            .path(witness)
                            .hashes(Some(&l.hash), Some(have))
                            .fix(
                                "run `gokeep explain` to see which witness is wrong; go.sum is only changed for modules named with --update-go-sum",
                                Vec::<Target>::new(),
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
            SumKind::GoMod => match check.and_then(|c| c.mod_h1.as_deref()) {
                None => findings.push(
                    Finding::new(K::NotInCache, format!("{} names a go.mod this cache does not hold", at(l.line)))
                        .module(m, &format!("{v}/go.mod"))
                        .path(&sum.path),
                ),
                Some(have) if have != l.hash => findings.push(
                    Finding::new(K::GoSumGoModMismatch, format!("{} records a different go.mod hash than the cached .mod", at(l.line)))
                        .module(m, v)
                        .path(&sum.path)
                        .path(paths.file("mod"))
                        .hashes(Some(&l.hash), Some(have))
                        .fix(
                            "run `gokeep explain` to see which witness is wrong; go.sum is only changed for modules named with --update-go-sum",
                            Vec::<Target>::new(),
                        ),
                ),
                Some(_) => {}
            },
        }
    }
    findings
}

/// One go.sum line to rewrite: `from` is what it says, `to` what an
/// independent witness says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LineChange {
    pub module: String,
    pub version: String,
    pub kind: SumKind,
    pub from: String,
    pub to: String,
}

/// A go.sum line `--update-go-sum` leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Refusal {
    pub line: String,
    pub reason: String,
}

/// The hash a go.sum line may be rewritten to, or why not. The cache's copy
/// is only trusted when it is whole (no error finding) and the checksum
/// database's record cached beside it agrees with it: a cache copy alone
/// could be a tampered one that is consistent with itself.
fn verified_hash(check: &VersionCheck, kind: SumKind) -> Result<String, String> {
    if let Some(f) = check.findings.iter().find(|f| f.severity == Severity::Error) {
        return Err(format!("the cache's copy is not whole ({}): run `gokeep verify --fix` first", f.kind.name()));
    }
    let cache = match kind {
        SumKind::Zip => match &check.ziphash {
            Ziphash::Valid(h) => Some(h.clone()),
            _ => check.zip_h1.clone().or_else(|| check.dir_h1.clone()),
        },
        SumKind::GoMod => check.mod_h1.clone(),
    }
    .ok_or_else(|| "the cache holds no copy to compare with".to_owned())?;
    let record = |r: &super::sumdb::SumdbRecord| match kind {
        SumKind::Zip => r.zip.clone(),
        SumKind::GoMod => r.go_mod.clone(),
    };
    if check.sumdb.iter().filter_map(record).any(|h| h == cache) {
        Ok(cache)
    } else if check.sumdb.is_empty() {
        Err(format!(
            "no checksum database record of {}@{} is cached, so nothing independent confirms the cache's copy ({cache}); \
             for a private module fetch it again from its origin and compare (`gokeep explain --online`, or \
             `cd \"$(mktemp -d)\" && GOMODCACHE=\"$PWD/mod\" GOFLAGS=-modcacherw GOPROXY=direct go mod download -json {}@{}`)",
            check.module, check.version, check.module, check.version
        ))
    } else {
        Err(format!(
            "the checksum database's record disagrees with the cache's copy ({cache}): the cache is suspect, not go.sum"
        ))
    }
}

/// The lines of `module` in `sum_file` that disagree with a verified cache
/// copy ([`verified_hash`]), and those left alone with the reason.
pub fn plan_line_updates(
    sum_file: &Path,
    module: &str,
    cache: &ModcacheCheck,
) -> Result<(Vec<LineChange>, Vec<Refusal>), ProjectError> {
    let sum = GoSum::read(sum_file).map_err(|e| ProjectError::Io { path: e.path, source: e.source })?;
    let (mut changes, mut refused) = (Vec::new(), Vec::new());
    for l in sum.lines.iter().filter(|l| l.module == module && l.hash.starts_with("h1:")) {
        let Some(check) = cache.get(&l.module, &l.version) else { continue };
        let text =
            format!("{} {}{} {}", l.module, l.version, if l.kind == SumKind::GoMod { "/go.mod" } else { "" }, l.hash);
        match verified_hash(check, l.kind) {
            Ok(h) if h == l.hash => {}
            Ok(h) => changes.push(LineChange {
                module: l.module.clone(),
                version: l.version.clone(),
                kind: l.kind,
                from: l.hash.clone(),
                to: h,
            }),
            Err(reason) => {
                let disagrees = match l.kind {
                    SumKind::Zip => check.zip_reference().is_some_and(|h| h != l.hash),
                    SumKind::GoMod => check.mod_h1.as_ref().is_some_and(|h| *h != l.hash),
                };
                if disagrees {
                    refused.push(Refusal { line: text, reason });
                }
            }
        }
    }
    Ok((changes, refused))
}

/// Rewrites go.sum lines in place, each to the hash an independent witness
/// gave, so that the project still builds afterwards (dropping a line
/// would leave go with `missing go.sum entry`); a wrong line beside a line
/// that already says the right hash is dropped instead. Only lines still
/// saying `from` are touched, under the side lock cmd/go takes while it
/// writes go.sum; the file is replaced atomically. Returns what was applied.
pub fn rewrite_lines(
    sum_file: &Path,
    modcache: &Path,
    changes: &[LineChange],
) -> Result<Vec<LineChange>, ProjectError> {
    let io = |source| ProjectError::Io { path: sum_file.to_owned(), source };
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let side_lock = modcache.join("cache/lock");
    let _lock = crate::golock::lock_blocking(&side_lock)
        .map_err(|e| ProjectError::Io { path: side_lock.clone(), source: std::io::Error::other(e.to_string()) })?;
    let text = std::fs::read_to_string(sum_file).map_err(io)?;
    let sum = GoSum::parse(sum_file, &text);
    let mut out = String::with_capacity(text.len());
    let mut applied = Vec::new();
    for line in text.split_inclusive('\n') {
        let f: Vec<&str> = line.split_whitespace().collect();
        let change = match f.as_slice() {
            [m, v, h] => {
                let (ver, kind) = v.strip_suffix("/go.mod").map_or((*v, SumKind::Zip), |v| (v, SumKind::GoMod));
                changes.iter().find(|c| c.module == *m && c.version == ver && c.kind == kind && c.from == *h)
            }
            _ => None,
        };
        let Some(c) = change else {
            out.push_str(line);
            continue;
        };
        let has_right = sum
            .lines
            .iter()
            .any(|l| l.module == c.module && l.version == c.version && l.kind == c.kind && l.hash == c.to);
        if !has_right {
            out.push_str(f[0]);
            out.push(' ');
            out.push_str(f[1]);
            out.push(' ');
            out.push_str(&c.to);
            if line.ends_with('\n') {
                out.push('\n');
            }
        }
        applied.push(c.clone());
    }
    if !applied.is_empty() {
        crate::fs::atomic::replace_file(sum_file, out.as_bytes())
            .map_err(|source| ProjectError::Write { path: sum_file.to_owned(), source })?;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_trusts_the_sums_of_its_use_directives_in_both_forms() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        for d in ["a", "b", "c d"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
            std::fs::write(root.join(d).join("go.sum"), "").unwrap();
        }
        let t = "go 1.22\n\nuse ./a\nuse (\n\t./b // comment\n\t\"./c d\"\n)\n";
        std::fs::write(root.join("go.work"), t).unwrap();
        let p = find_project(&root, false).unwrap();
        assert!(p.workspace);
        assert_eq!(p.sum_files, ["a", "b", "c d"].map(|d| root.join(d).join("go.sum")));
    }

    #[test]
    fn a_go_work_go_would_refuse_is_an_error_naming_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("go.work"), "go 1.22\nuse ./a ./b\n").unwrap();
        let e = find_project(tmp.path(), false).unwrap_err();
        assert!(e.to_string().ends_with("go.work:2: usage: use local/dir"), "{e}");
    }

    #[test]
    fn garbage_go_sum_lines_become_findings() {
        let cache = ModcacheCheck { root: PathBuf::from("/nonexistent"), ..ModcacheCheck::default() };
        let sum = GoSum::parse(Path::new("go.sum"), "\u{0}\u{1}garbage\nm v1.0.0 h1:x=\nonly two\n");
        let f = check_sum(&sum, &cache);
        let kinds: Vec<K> = f.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [K::GoSumMalformed, K::GoSumMalformed, K::NotInCache]);
    }
}
