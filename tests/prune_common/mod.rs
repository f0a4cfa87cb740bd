//! Helpers shared by the prune test files: tree snapshots and cache listings.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::common::{Fixture, GoSandbox};

/// Everything under `dir`: type, mode, and content hash or link target,
/// per relative path. Equal snapshots mean a byte-identical tree.
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

/// Asserts two snapshots are equal, naming the first differences.
pub fn assert_same(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>) {
    if before == after {
        return;
    }
    let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).take(5).collect();
    let new: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).take(5).collect();
    let changed: Vec<_> = before.iter().filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v)).take(5).collect();
    panic!("tree changed: gone {gone:?}, new {new:?}, changed {changed:?}");
}

/// `(path, version)` pairs whose extracted tree or zip is in the cache.
pub fn cached_versions(fx: &Fixture) -> Vec<(String, String)> {
    fx.modules
        .iter()
        .filter(|(p, v)| fx.extracted_dir(p, v).exists() || fx.download_file(p, v, "zip").exists())
        .cloned()
        .collect()
}

/// Runs gokeep and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().expect("running gokeep");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs gokeep, which must succeed; returns stdout.
pub fn run_ok(cmd: &mut assert_cmd::Command) -> String {
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "gokeep failed ({code}):\n--- stdout\n{out}\n--- stderr\n{err}");
    out
}

/// `go` with GOPROXY=off: only what is in the module cache can be used.
pub fn go_offline(sb: &GoSandbox, dir: &Path, args: &[&str]) -> std::process::Output {
    sb.go_with_env(dir, args, &[("GOPROXY", "off")])
}

pub fn assert_go_ok(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
