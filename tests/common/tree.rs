//! Looking at trees on disk: byte-for-byte snapshots and cache listings.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::fixture::Fixture;

/// Everything under `dir`: type, mode, and content hash or link target,
/// per relative path. Equal snapshots mean a byte-identical tree.
#[allow(dead_code)]
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in WalkDir::new(dir).follow_links(false) {
        let e = e.expect("walking for a snapshot");
        let md = e.metadata().expect("lstat");
        let rel = e.path().strip_prefix(dir).unwrap().to_owned();
        let what = if md.file_type().is_symlink() {
            format!("link {}", fs::read_link(e.path()).unwrap().display())
        } else if md.is_dir() {
            format!("dir {:o}", md.mode())
        } else {
            let bytes = fs::read(e.path()).expect("reading for a snapshot");
            format!("file {:o} {:?}", md.mode(), Sha256::digest(&bytes).as_slice())
        };
        out.insert(rel, what);
    }
    out
}

/// [`snapshot`] with each entry's modification time: equal snapshots mean
/// nothing was written, not even the same bytes again.
#[allow(dead_code)]
pub fn snapshot_with_times(dir: &Path) -> BTreeMap<PathBuf, String> {
    snapshot(dir)
        .into_iter()
        .map(|(rel, what)| {
            let md = fs::symlink_metadata(dir.join(&rel)).expect("lstat for a snapshot");
            let timed = format!("{what} mtime {}.{:09}", md.mtime(), md.mtime_nsec());
            (rel, timed)
        })
        .collect()
}

/// `cp -a from to`, which keeps modes, times and links as links.
#[allow(dead_code)]
pub fn copy_tree(from: &Path, to: &Path) {
    let st = std::process::Command::new("cp").arg("-a").arg(from).arg(to).status().expect("running cp");
    assert!(st.success(), "cp -a {} {}", from.display(), to.display());
}

/// Asserts two snapshots are equal, naming the first differences.
#[allow(dead_code)]
pub fn assert_same<V: PartialEq + std::fmt::Debug>(before: &BTreeMap<PathBuf, V>, after: &BTreeMap<PathBuf, V>) {
    if before == after {
        return;
    }
    let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).take(5).collect();
    let new: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).take(5).collect();
    let changed: Vec<_> = before.iter().filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v)).take(5).collect();
    panic!("tree changed: gone {gone:?}, new {new:?}, changed {changed:?}");
}

/// `(path, version)` pairs whose extracted tree or zip is in the cache.
#[allow(dead_code)]
pub fn cached_versions(fx: &Fixture) -> Vec<(String, String)> {
    fx.modules
        .iter()
        .filter(|(p, v)| fx.extracted_dir(p, v).exists() || fx.download_file(p, v, "zip").exists())
        .cloned()
        .collect()
}

/// The build cache's entries (`<shard>/<hash>-a` action entries and
/// `<shard>/<hash>-d` outputs, files or, for kept executables, directories)
/// whose names end with `suffix`, sorted. Links are listed, never followed.
#[allow(dead_code)]
pub fn gocache_entries(gocache: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = WalkDir::new(gocache)
        .min_depth(2)
        .max_depth(2)
        .follow_links(false)
        .into_iter()
        .map(|e| e.unwrap_or_else(|e| panic!("walking {}: {e}", gocache.display())))
        .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
        .map(walkdir::DirEntry::into_path)
        .collect();
    found.sort();
    found
}
