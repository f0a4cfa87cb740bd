//! Verification of Go's caches against every witness gokeep can find: the
//! module zip, `.ziphash`, the extracted tree, the `.mod` file, go.sum, the
//! checksum database's cache and GOCACHE's action entries. Nothing here
//! deletes: fixes are [`crate::prune::Plan`]s for the prune executor.

pub mod dirhash;
pub mod finding;
pub mod modcache;
pub mod sumdb;

pub use finding::{Finding, FindingKind, Severity, Tally};
pub mod explain;
pub mod gocache;
pub mod online;
pub mod project;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::layout::DownloadFile;
use crate::prune::{Plan, PlanItem, Reason, Target};
use crate::scan::VersionRecord;

use modcache::{ModcacheCheck, VersionPaths};

/// Everything one `verify` run found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub modcache: ModcacheCheck,
    pub gocache: Option<gocache::GocacheCheck>,
    pub projects: Vec<project::Project>,
    pub findings: Vec<Finding>,
    pub tally: Tally,
}

/// Runs the module cache checks, then the project and build cache checks.
/// `progress` is called once per module version and per GOCACHE shard.
pub fn verify(
    modcache: &Path,
    versions: &[VersionRecord],
    gocache: Option<&Path>,
    projects: Vec<project::Project>,
    progress: &(dyn Fn() + Sync),
) -> Result<VerifyReport, std::io::Error> {
    let (mc, gc) = rayon::join(
        || modcache::check_modcache(modcache, versions, progress),
        || gocache.map(|g| gocache::check_gocache(g, progress)),
    );
    let gc = gc.transpose()?;
    let mut findings: Vec<Finding> = mc.findings().cloned().collect();
    for p in &projects {
        findings.extend(project::check_project(p, &mc));
    }
    if let Some(g) = &gc {
        findings.extend(g.findings.iter().cloned());
    }
    let tally = Tally::of(&findings);
    Ok(VerifyReport { modcache: mc, gocache: gc, projects, findings, tally })
}

/// The removals that fix `findings` (warnings and errors only), one item per
/// target, merged per module version: a whole-version removal absorbs the
/// others, download files are united.
#[must_use]
pub fn fix_plan(findings: &[Finding], modcache: &Path) -> Plan {
    type Key = (String, String);
    let mut whole: BTreeMap<Key, String> = BTreeMap::new();
    let mut trees: BTreeMap<Key, String> = BTreeMap::new();
    let mut files: BTreeMap<Key, (Vec<DownloadFile>, String)> = BTreeMap::new();
    let mut others: Vec<(Target, String)> = Vec::new();
    for f in findings.iter().filter(|f| f.severity >= Severity::Warning) {
        let Some(fix) = &f.fix else { continue };
        let why = format!("{}: {}", f.kind.name(), f.detail);
        for t in &fix.targets {
            match t {
                Target::ModuleVersion { module, version } => {
                    whole.entry((module.clone(), version.clone())).or_insert_with(|| why.clone());
                }
                Target::ExtractedTree { module, version } => {
                    trees.entry((module.clone(), version.clone())).or_insert_with(|| why.clone());
                }
                Target::DownloadFiles { module, version, files: fs } => {
                    let e = files.entry((module.clone(), version.clone())).or_insert_with(|| (Vec::new(), why.clone()));
                    e.0.extend(fs.iter().copied());
                }
                other => {
                    if !others.iter().any(|(o, _)| o == other) {
                        others.push((other.clone(), why.clone()));
                    }
                }
            }
        }
    }
    // Measured now: the scan verify runs records trees without sizing them.
    let bytes_at = |paths: Vec<PathBuf>| {
        paths.iter().map(|p| crate::scan::measure(p)).fold((0, 0), |b, s| (b.0 + s.apparent_bytes, b.1 + s.disk_bytes))
    };
    let download_paths = |p: &VersionPaths, fs: &[DownloadFile]| -> Vec<PathBuf> {
        fs.iter()
            .flat_map(|f| match f.suffix() {
                Some(s) => vec![p.file(s)],
                None => p.temp_files(),
            })
            .collect()
    };
    let item = |target: Target, finding: String, bytes: (u64, u64)| PlanItem {
        target,
        reason: Reason::Corrupted { finding },
        apparent_bytes: bytes.0,
        disk_bytes: bytes.1,
        last_used: None,
    };
    let mut items = Vec::new();
    for (k, why) in &whole {
        let p = VersionPaths::new(modcache, &k.0, &k.1);
        let all =
            [DownloadFile::Zip, DownloadFile::Ziphash, DownloadFile::Info, DownloadFile::Mod, DownloadFile::Partial];
        let mut paths = download_paths(&p, &all);
        paths.extend(p.temp_files());
        paths.extend(p.extract_temps());
        paths.push(p.dir);
        let b = bytes_at(paths);
        items.push(item(Target::ModuleVersion { module: k.0.clone(), version: k.1.clone() }, why.clone(), b));
    }
    for (k, (mut fs, why)) in files {
        if whole.contains_key(&k) {
            continue;
        }
        fs.sort();
        fs.dedup();
        let bytes = bytes_at(download_paths(&VersionPaths::new(modcache, &k.0, &k.1), &fs));
        items.push(item(Target::DownloadFiles { module: k.0, version: k.1, files: fs }, why, bytes));
    }
    for (k, why) in trees {
        if whole.contains_key(&k) {
            continue;
        }
        let b = bytes_at(vec![VersionPaths::new(modcache, &k.0, &k.1).dir]);
        items.push(item(Target::ExtractedTree { module: k.0, version: k.1 }, why, b));
    }
    for (t, why) in others {
        items.push(item(t, why, (0, 0)));
    }
    items.sort_by(|a, b| a.target.cmp(&b.target));
    Plan { modcache: Some(modcache.to_owned()), gocache: None, items }
}

/// The module versions a plan removes download files of, which
/// `go mod download` can fetch back.
#[must_use]
pub fn redownloadable(plan: &Plan) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plan
        .items
        .iter()
        .filter_map(|i| match &i.target {
            Target::ModuleVersion { module, version } | Target::ExtractedTree { module, version } => {
                Some((module.clone(), version.clone()))
            }
            Target::DownloadFiles { module, version, files } if files.contains(&DownloadFile::Zip) => {
                Some((module.clone(), version.clone()))
            }
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where a version lives, for renderers.
#[must_use]
pub fn version_dir(modcache: &Path, module: &str, version: &str) -> PathBuf {
    VersionPaths::new(modcache, module, version).dir
}

/// What `prune --corrupted` (policy `remove_corrupted`) removes: the fix
/// targets of every corruption finding in the module cache, each with the
/// finding kind that selected it. Debris is the debris rule's business, and
/// projects' go.sum files are not consulted: a wrong go.sum line is not the
/// cache's fault.
#[must_use]
pub fn corrupted_targets(modcache: &Path, versions: &[VersionRecord]) -> Vec<(Target, String)> {
    let check = modcache::check_modcache(modcache, versions, &|| {});
    let mut out: Vec<(Target, String)> = check
        .findings()
        .filter(|f| f.severity == Severity::Error)
        .filter_map(|f| f.fix.as_ref().map(|fix| (fix, f.kind.name())))
        .flat_map(|(fix, kind)| fix.targets.iter().map(move |t| (t.clone(), kind.to_owned())))
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}
