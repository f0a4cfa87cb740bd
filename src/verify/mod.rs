//! Verification of Go's caches against every witness gokeep can find: the
//! module zip, `.ziphash`, the extracted tree, the `.mod` file, go.sum, the
//! checksum database's cache and GOCACHE's action entries. Nothing here
//! deletes: fixes are [`crate::prune::Plan`]s for the prune executor.

pub mod dirhash;
pub mod finding;
pub mod modcache;
pub mod sumdb;
mod zipread;

pub use finding::{Finding, FindingKind, Severity, Tally};
pub mod explain;
pub mod gocache;
pub mod incremental;
pub mod paste;
pub mod project;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::layout::DownloadFile;
use crate::prune::{Plan, PlanItem, Reason, Target};
use crate::scan::VersionRecord;

use modcache::{ModcacheCheck, VersionPaths};

/// Everything one `verify` run found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VerifyReport {
    pub modcache: ModcacheCheck,
    pub gocache: Option<gocache::GocacheCheck>,
    pub projects: Vec<project::Project>,
    pub findings: Vec<Finding>,
    pub tally: Tally,
}

/// Runs the module cache checks, then the project and build cache checks.
/// `progress` is called once per module version and per GOCACHE shard.
/// With `memory`, module versions unchanged since they verified clean are
/// not hashed again ([`incremental`]).
pub fn verify(
    modcache: &Path,
    versions: &[VersionRecord],
    gocache: Option<&Path>,
    projects: Vec<project::Project>,
    memory: Option<&incremental::Memory>,
    progress: &(dyn Fn() + Sync),
) -> Result<VerifyReport, std::io::Error> {
    let (mc, gc) = rayon::join(
        || modcache::check_modcache(modcache, versions, memory, progress),
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

/// The removals that fix `findings` (warnings and errors only), merged as
/// [`merge_targets`] does and measured. Build cache entries are removed from
/// `gocache`; without it, findings about them get no fix.
#[must_use]
pub fn fix_plan(findings: &[Finding], modcache: &Path, gocache: Option<&Path>) -> Plan {
    let mut pairs = Vec::new();
    for f in findings.iter().filter(|f| f.severity >= Severity::Warning) {
        let why = format!("{}: {}", f.kind.name(), f.detail);
        for t in f.fix.iter().flat_map(|fix| &fix.targets).filter(|t| gocache.is_some() || !t.is_build()) {
            pairs.push((t.clone(), why.clone()));
        }
    }
    let mut plan = removal_plan(modcache, pairs);
    if let Some(g) = gocache {
        for item in &mut plan.items {
            if let Target::BuildEntry { entry } = &item.target {
                let s = crate::scan::measure(&g.join(entry));
                (item.apparent_bytes, item.disk_bytes) = (s.apparent_bytes, s.disk_bytes);
            }
        }
        if plan.items.iter().any(|i| i.target.is_build()) {
            plan.gocache = Some(g.to_owned());
        }
    }
    plan
}

/// A plan removing `targets` (each with why), merged as [`merge_targets`]
/// does, every item measured on disk now (the scan verify runs records
/// trees without sizing them).
#[must_use]
pub fn removal_plan(modcache: &Path, targets: impl IntoIterator<Item = (Target, String)>) -> Plan {
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
    let items = merge_targets(targets)
        .into_iter()
        .map(|(target, finding)| {
            let (apparent_bytes, disk_bytes) = match &target {
                Target::ModuleVersion { module, version } => {
                    let p = VersionPaths::new(modcache, module, version);
                    let all = [
                        DownloadFile::Zip,
                        DownloadFile::Ziphash,
                        DownloadFile::Info,
                        DownloadFile::Mod,
                        DownloadFile::Partial,
                        DownloadFile::Temp,
                    ];
                    let mut paths = download_paths(&p, &all);
                    paths.extend(p.extract_temps());
                    paths.push(p.dir);
                    bytes_at(paths)
                }
                Target::DownloadFiles { module, version, files } => {
                    bytes_at(download_paths(&VersionPaths::new(modcache, module, version), files))
                }
                Target::ExtractedTree { module, version } => {
                    bytes_at(vec![VersionPaths::new(modcache, module, version).dir])
                }
                // Absolute as verify names it, or relative to the root as a scan does.
                Target::ExtractTemp { dir, .. } => bytes_at(vec![modcache.join(dir)]),
                _ => (0, 0),
            };
            PlanItem { target, reason: Reason::Corrupted { finding }, apparent_bytes, disk_bytes, last_used: None }
        })
        .collect();
    Plan { modcache: Some(modcache.to_owned()), gocache: None, items, ..Plan::default() }
}

/// One target per thing to remove, sorted: a whole-version removal absorbs
/// the version's tree and download files, the download files of a version
/// are united, repeats go; each keeps the first reason given for it.
#[must_use]
pub fn merge_targets(targets: impl IntoIterator<Item = (Target, String)>) -> Vec<(Target, String)> {
    type Key = (String, String);
    let mut whole: BTreeMap<Key, String> = BTreeMap::new();
    let mut trees: BTreeMap<Key, String> = BTreeMap::new();
    let mut files: BTreeMap<Key, (Vec<DownloadFile>, String)> = BTreeMap::new();
    let mut others: Vec<(Target, String)> = Vec::new();
    for (t, why) in targets {
        match t {
            Target::ModuleVersion { module, version } => {
                whole.entry((module, version)).or_insert(why);
            }
            Target::ExtractedTree { module, version } => {
                trees.entry((module, version)).or_insert(why);
            }
            Target::DownloadFiles { module, version, files: fs } => {
                files.entry((module, version)).or_insert_with(|| (Vec::new(), why)).0.extend(fs);
            }
            other => {
                if !others.iter().any(|(o, _)| *o == other) {
                    others.push((other, why));
                }
            }
        }
    }
    let mut out = others;
    for (k, (mut fs, why)) in files {
        if !whole.contains_key(&k) {
            fs.sort();
            fs.dedup();
            out.push((Target::DownloadFiles { module: k.0, version: k.1, files: fs }, why));
        }
    }
    for (k, why) in trees {
        if !whole.contains_key(&k) {
            out.push((Target::ExtractedTree { module: k.0, version: k.1 }, why));
        }
    }
    out.extend(whole.into_iter().map(|(k, why)| (Target::ModuleVersion { module: k.0, version: k.1 }, why)));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
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
    let check = modcache::check_modcache(modcache, versions, None, &|| {});
    let pairs = check
        .findings()
        .filter(|f| f.severity == Severity::Error)
        .filter_map(|f| f.fix.as_ref().map(|fix| (fix, f.kind.name())))
        .flat_map(|(fix, kind)| fix.targets.iter().map(move |t| (t.clone(), kind.to_owned())));
    merge_targets(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_version_absorbs_its_parts_files_are_united_and_repeats_go() {
        let v = |m: &str| (m.to_owned(), "v1.0.0".to_owned());
        let whole = |m: &str| Target::ModuleVersion { module: v(m).0, version: v(m).1 };
        let tree = |m: &str| Target::ExtractedTree { module: v(m).0, version: v(m).1 };
        let files = |m: &str, fs: &[DownloadFile]| Target::DownloadFiles {
            module: v(m).0,
            version: v(m).1,
            files: fs.to_vec(),
        };
        let merged = merge_targets([
            (tree("a"), "tree".to_owned()),
            (whole("a"), "zip".to_owned()),
            (files("a", &[DownloadFile::Ziphash]), "ziphash".to_owned()),
            (files("b", &[DownloadFile::Temp]), "temp".to_owned()),
            (files("b", &[DownloadFile::Partial, DownloadFile::Temp]), "partial".to_owned()),
            (whole("c"), "first".to_owned()),
            (whole("c"), "second".to_owned()),
        ]);
        assert_eq!(
            merged,
            [
                (whole("a"), "zip".to_owned()),
                (whole("c"), "first".to_owned()),
                (files("b", &[DownloadFile::Partial, DownloadFile::Temp]), "temp".to_owned()),
            ]
        );
    }
}
