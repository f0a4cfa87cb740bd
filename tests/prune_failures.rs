//! `gokeep prune` when part of a removal cannot be done: a file that cannot
//! be unlinked, a lock or marker path that is a symbolic link. The failure
//! is reported for the version it belongs to, the run exits 3, the rest of
//! the plan still runs, and what is left is something `go` copes with.
//!
//! We run as root, so permissions cannot make a file undeletable; the
//! immutable attribute (`chattr +i`) can, on ext4, xfs and btrfs.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// A file made immutable (`chattr +i`) for as long as the guard lives:
/// not even root can unlink it. Dropping the guard, on panic too, clears
/// the attribute again, or the test's temp dir could not be removed.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Self {
        let out = Command::new("chattr").arg("+i").arg(path).output().unwrap_or_else(|e| {
            panic!("this test needs `chattr` (e2fsprogs) to make a file undeletable for root; running it failed: {e}")
        });
        assert!(
            out.status.success(),
            "`chattr +i {}` failed ({}): {}\nthis test needs a file system with the immutable attribute \
             (ext4, xfs, btrfs) under the temp dir",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        Self(path.to_owned())
    }

    /// `path` and everything below it.
    fn set_tree(path: &Path) -> Self {
        let out = Command::new("chattr").arg("-R").arg("+i").arg(path).output().expect("running chattr");
        assert!(
            out.status.success(),
            "`chattr -R +i {}` failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Self(path.to_owned())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-R").arg("-i").arg(&self.0).status();
    }
}

fn module(path: &str, version: &str, package: &str) -> Module {
    Module::named(path, version, package, &format!("{path}@{version}"))
        .file("data/keep.txt", format!("{path}@{version}\n"))
}

const FROZEN: &str = "example.com/frozen";
const OTHER: &str = "example.com/other";
const V1: &str = "v1.0.0";

/// Two module versions, downloaded and built: one the test makes hard to
/// remove, one that must be removed all the same.
fn two_versions() -> Fixture {
    Fixture::with_modules(vec![module(FROZEN, V1, "frozen"), module(OTHER, V1, "other")])
}

fn prune_all_json(fx: &Fixture) -> (i32, Value) {
    let r = cmd(fx.sandbox.gokeep().args(["prune", "--all", "--yes", "--json"]));
    (r.code, r.json)
}

/// `(path, message)` of every failure in a prune's JSON result.
fn failures(doc: &Value) -> Vec<(PathBuf, String)> {
    doc["result"]["failures"]
        .as_array()
        .unwrap_or_else(|| panic!("no failures array: {doc:#}"))
        .iter()
        .map(|f| (PathBuf::from(f["path"].as_str().unwrap()), f["message"].as_str().unwrap().to_owned()))
        .collect()
}

fn skipped(doc: &Value) -> &Vec<Value> {
    doc["result"]["skipped"].as_array().unwrap_or_else(|| panic!("no skipped array: {doc:#}"))
}

fn assert_other_gone(fx: &Fixture) {
    assert!(!fx.extracted_dir(OTHER, V1).exists(), "the other version's tree is gone");
    for suffix in ["zip", "ziphash", "mod", "info", "partial"] {
        assert!(!fx.download_file(OTHER, V1, suffix).exists(), "the other version's .{suffix} is gone");
    }
}

#[test]
fn a_tree_that_cannot_be_removed_whole_keeps_its_partial_marker_and_fails_the_run() {
    let fx = two_versions();
    let stuck = fx.extracted_dir(FROZEN, V1).join("data/keep.txt");
    let guard = Immutable::set(&stuck);

    let (code, doc) = prune_all_json(&fx);

    assert_eq!(code, 3, "a failed removal is an I/O error: {doc:#}");
    let fails = failures(&doc);
    assert!(
        fails.iter().any(|(p, m)| *p == stuck && m.contains("Operation not permitted")),
        "the undeletable file is named with the OS error: {fails:?}"
    );
    assert!(skipped(&doc).is_empty(), "{doc:#}");
    // The marker stays: go must take the tree for incomplete and re-extract it.
    assert!(fx.download_file(FROZEN, V1, "partial").is_file(), ".partial was removed from a half-removed tree");
    assert!(stuck.is_file());
    assert!(fx.download_file(FROZEN, V1, "ziphash").is_file(), "nothing after the tree was removed");
    let dir = fx.extracted_dir(FROZEN, V1);
    assert!(
        fails.iter().any(|(p, m)| *p == dir
            && m.contains("1 files and 1 directories are left")
            && m.contains("gokeep prune --debris")
            && m.contains("go clean -modcache")),
        "what is left, and how to finish, is said for the tree: {fails:?}"
    );
    assert_other_gone(&fx);

    // Once the file can go, go repairs the version by itself.
    drop(guard);
    fx.consumer_go_build_ok();
    assert!(!fx.download_file(FROZEN, V1, "partial").exists(), "go re-extracted the tree");
    assert_go_ok(&fx.consumer_go_mod_verify(), "go mod verify");
}

#[test]
fn a_tree_of_which_nothing_can_be_removed_stays_complete_and_usable_without_a_partial_marker() {
    let fx = two_versions();
    let dir = fx.extracted_dir(FROZEN, V1);
    let _guard = Immutable::set_tree(&dir);

    let (code, doc) = prune_all_json(&fx);

    assert_eq!(code, 3, "a failed removal is an I/O error: {doc:#}");
    let fails = failures(&doc);
    assert!(
        fails.iter().any(|(p, m)| p.starts_with(&dir) && m.contains("Operation not permitted")),
        "the undeletable tree is named with the OS error: {fails:?}"
    );
    assert!(dir.join("data/keep.txt").is_file());
    assert!(
        !fx.download_file(FROZEN, V1, "partial").exists(),
        "a tree of which nothing was removed is complete: a .partial would make go try to re-extract it"
    );
    assert_other_gone(&fx);

    // go uses the tree as it is, though it cannot remove it.
    fx.sandbox.go_ok(&fx.consumer, &["mod", "download", &format!("{FROZEN}@{V1}")]);
    fx.consumer_go_build_ok();
    assert_go_ok(&fx.consumer_go_mod_verify(), "go mod verify");
}

#[test]
fn a_zip_that_cannot_be_removed_is_a_reported_failure_not_a_concurrent_download() {
    let fx = two_versions();
    let zip = fx.download_file(FROZEN, V1, "zip");
    let guard = Immutable::set(&zip);

    let (code, doc) = prune_all_json(&fx);

    assert_eq!(code, 3, "a failed removal is an I/O error: {doc:#}");
    let fails = failures(&doc);
    assert_eq!(fails.len(), 1, "{fails:?}");
    let (path, message) = &fails[0];
    assert_eq!(*path, zip);
    assert!(message.contains("cannot remove the zip") && message.contains("Operation not permitted"), "{message}");
    assert!(skipped(&doc).is_empty(), "not reported as downloaded again: {doc:#}");
    // The rest of the version is left as it was: a complete tree with its zip and ziphash.
    assert!(fx.extracted_dir(FROZEN, V1).join("data/keep.txt").is_file());
    for suffix in ["ziphash", "mod", "info"] {
        assert!(fx.download_file(FROZEN, V1, suffix).is_file(), ".{suffix} was removed");
    }
    assert!(!fx.download_file(FROZEN, V1, "partial").exists());
    assert_other_gone(&fx);

    // The text report says the same.
    let (code, _, err) = run(fx.sandbox.gokeep().args(["prune", "--all", "--yes"]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains(&zip.display().to_string()) && err.contains("Operation not permitted"), "{err}");
    assert!(!err.contains("downloaded again"), "{err}");

    drop(guard);
    assert_go_ok(&fx.consumer_go_mod_verify(), "go mod verify");
}

/// A file outside the cache with an old mtime, so a write through a link would show.
fn outside_file(fx: &Fixture, name: &str) -> (PathBuf, i64) {
    let p = fx.sandbox.root().join("outside").join(name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, format!("{name}: not gokeep's\n")).unwrap();
    let old = gokeep::timestamp::Timestamp::now().0 - 30 * 86_400;
    filetime::set_file_mtime(&p, filetime::FileTime::from_unix_time(old, 0)).unwrap();
    (p, old)
}

fn assert_untouched(p: &Path, mtime: i64) {
    let name = p.file_name().unwrap().to_string_lossy();
    assert_eq!(fs::read_to_string(p).unwrap(), format!("{name}: not gokeep's\n"), "{} was written", p.display());
    assert_eq!(fs::symlink_metadata(p).unwrap().mtime(), mtime, "{} was modified", p.display());
}

#[test]
fn lock_and_partial_paths_that_are_symlinks_are_errors_never_written_through() {
    let (by_partial, by_lock, dangling) = ("example.com/bypartial", "example.com/bylock", "example.com/dangling");
    let fx = Fixture::with_modules(vec![
        module(by_partial, V1, "bypartial"),
        module(by_lock, V1, "bylock"),
        module(dangling, V1, "dangling"),
    ]);
    let (target_p, mtime_p) = outside_file(&fx, "partial-target");
    let (target_l, mtime_l) = outside_file(&fx, "lock-target");
    let nowhere = fx.sandbox.root().join("outside/never-created");
    let partial_link = fx.download_file(by_partial, V1, "partial");
    symlink(&target_p, &partial_link).unwrap();
    let lock_link = fx.download_file(by_lock, V1, "lock");
    fs::remove_file(&lock_link).unwrap();
    symlink(&target_l, &lock_link).unwrap();
    let dangling_link = fx.download_file(dangling, V1, "partial");
    symlink(&nowhere, &dangling_link).unwrap();

    let (code, doc) = prune_all_json(&fx);

    assert_untouched(&target_p, mtime_p);
    assert_untouched(&target_l, mtime_l);
    assert!(fs::symlink_metadata(&nowhere).is_err(), "a file was created through a dangling link");
    assert_eq!(code, 3, "{doc:#}");
    let fails = failures(&doc);
    for link in [&partial_link, &lock_link, &dangling_link] {
        assert!(
            fails.iter().any(|(p, m)| p == link && m.contains("Too many levels of symbolic links")),
            "no failure reported for {}: {fails:?}",
            link.display()
        );
    }
    // Issue 12 item 7: each failure names its file once (the message does not repeat it).
    for (p, m) in &fails {
        assert!(!m.contains(p.to_str().unwrap()), "{} is named again in {m:?}", p.display());
    }
    assert!(skipped(&doc).is_empty(), "{doc:#}");
    // Without its marker (or its lock) a tree is never touched.
    for m in [by_partial, by_lock, dangling] {
        assert!(fx.extracted_dir(m, V1).join("data/keep.txt").is_file(), "{m}'s tree was removed");
        assert!(fx.download_file(m, V1, "ziphash").is_file(), "{m}'s .ziphash was removed");
    }
    assert!(fx.download_file(by_lock, V1, "zip").is_file(), "nothing of a version is removed without its lock");
}
