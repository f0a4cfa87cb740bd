//! `gokeep prune --all` across the permissions a module cache meets: Go's
//! read-only trees, `-modcacherw` trees, a subtree owned by another user, an
//! immutable file, a read-only mount. In every case gokeep deletes what can
//! be deleted, reports the rest, and leaves every surviving file and
//! directory with the mode it had before: it never opens up a directory it
//! then fails to remove.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use walkdir::WalkDir;

const STUCK: &str = "example.com/stuck";
const OTHER: &str = "example.com/other";
const V1: &str = "v1.0.0";

fn module(path: &str, package: &str) -> Module {
    Module::named(path, V1, package, &format!("{path}@{V1}"))
        .file("data/keep.txt", format!("{path}@{V1}\n"))
        .file("data/deep/more.txt", "more\n")
}

/// Undoes what a row did to the file system (an attribute, a mount), on
/// panic too, so the sandbox can be removed.
struct Undo(Vec<Vec<String>>);

impl Drop for Undo {
    fn drop(&mut self) {
        for argv in self.0.iter().rev() {
            let _ = Command::new(&argv[0]).args(&argv[1..]).status();
        }
    }
}

fn sh(argv: &[&str]) {
    let out = Command::new(argv[0]).args(&argv[1..]).output().unwrap_or_else(|e| panic!("running {argv:?}: {e}"));
    assert!(out.status.success(), "{argv:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn p(path: &Path) -> &str {
    path.to_str().expect("sandbox paths are UTF-8")
}

/// Who runs gokeep.
#[derive(Clone, Copy)]
enum As {
    Root,
    /// uid 65534, owning the whole sandbox except what the row gives to root.
    Nobody,
}

/// One row: how the cache is made, what is done to the stuck version's
/// tree, who runs gokeep, and whether the stuck tree can be removed.
struct Case {
    name: &'static str,
    modcacherw: bool,
    runner: As,
    /// Makes part of `tree` undeletable; returns how to undo it.
    harden: fn(&Path) -> Undo,
    /// Paths (relative to the stuck tree) that must survive, none when the tree can go.
    survivors: &'static [&'static str],
}

fn nothing(_: &Path) -> Undo {
    Undo(Vec::new())
}

fn immutable_file(tree: &Path) -> Undo {
    let f = tree.join("data/deep/more.txt");
    sh(&["chattr", "+i", p(&f)]);
    Undo(vec![vec!["chattr".into(), "-i".into(), p(&f).into()]])
}

fn owned_by_root(tree: &Path) -> Undo {
    // The row's chown gave everything to nobody; this subtree goes back to root.
    sh(&["chown", "-R", "0:0", p(&tree.join("data"))]);
    Undo(Vec::new())
}

fn read_only_mount(tree: &Path) -> Undo {
    let data = tree.join("data");
    let d = p(&data);
    sh(&["mount", "--bind", d, d]);
    let undo = Undo(vec![vec!["umount".into(), "-l".into(), d.into()]]);
    sh(&["mount", "-o", "remount,bind,ro", d, d]);
    undo
}

fn cases() -> Vec<Case> {
    vec![
        Case { name: "go's read-only tree", modcacherw: false, runner: As::Root, harden: nothing, survivors: &[] },
        Case { name: "-modcacherw tree", modcacherw: true, runner: As::Root, harden: nothing, survivors: &[] },
        Case {
            name: "read-only tree as its owner",
            modcacherw: false,
            runner: As::Nobody,
            harden: nothing,
            survivors: &[],
        },
        Case {
            name: "immutable file in a read-only tree",
            modcacherw: false,
            runner: As::Root,
            harden: immutable_file,
            survivors: &["", "data", "data/deep", "data/deep/more.txt"],
        },
        Case {
            name: "immutable file in a -modcacherw tree",
            modcacherw: true,
            runner: As::Root,
            harden: immutable_file,
            survivors: &["", "data", "data/deep", "data/deep/more.txt"],
        },
        Case {
            name: "read-only subtree owned by another user",
            modcacherw: false,
            runner: As::Nobody,
            harden: owned_by_root,
            survivors: &["", "data", "data/keep.txt", "data/deep", "data/deep/more.txt"],
        },
        Case {
            name: "writable subtree owned by another user",
            modcacherw: true,
            runner: As::Nobody,
            harden: owned_by_root,
            survivors: &["", "data", "data/keep.txt", "data/deep", "data/deep/more.txt"],
        },
        Case {
            name: "read-only mount",
            modcacherw: false,
            runner: As::Root,
            harden: read_only_mount,
            survivors: &["", "data", "data/keep.txt", "data/deep", "data/deep/more.txt"],
        },
    ]
}

/// Type and permission bits of everything under `dir`, links not followed.
fn modes(dir: &Path) -> BTreeMap<PathBuf, u32> {
    WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .map(|e| e.expect("walking the cache"))
        .map(|e| (e.path().to_owned(), e.metadata().expect("lstat").mode()))
        .collect()
}

fn failure_paths(doc: &Value) -> Vec<PathBuf> {
    doc["result"]["failures"]
        .as_array()
        .unwrap_or_else(|| panic!("no failures array: {doc:#}"))
        .iter()
        .map(|f| PathBuf::from(f["path"].as_str().unwrap()))
        .collect()
}

fn run_case(case: &Case) {
    let name = case.name;
    let fx = Fixture::published_only(vec![module(STUCK, "stuck"), module(OTHER, "other")]);
    let ids = [format!("{STUCK}@{V1}"), format!("{OTHER}@{V1}")];
    let flags = if case.modcacherw { "-mod=mod -modcacherw" } else { "-mod=mod" };
    let out = fx.sandbox.go_with_env(&fx.consumer, &["mod", "download", &ids[0], &ids[1]], &[("GOFLAGS", flags)]);
    assert_go_ok(&out, &format!("{name}: go mod download"));
    let tree = fx.extracted_dir(STUCK, V1);
    let data_mode = fs::symlink_metadata(tree.join("data")).unwrap().mode() & 0o777;
    assert_eq!(data_mode, if case.modcacherw { 0o755 } else { 0o555 }, "{name}: the tree is as go left it");
    if matches!(case.runner, As::Nobody) {
        sh(&["chown", "-R", "65534:65534", p(fx.sandbox.root())]);
    }
    let _undo = (case.harden)(&tree);
    let modcache = fx.modcache();
    let before = modes(&modcache);

    let mut command = match case.runner {
        As::Root => fx.sandbox.gokeep(),
        As::Nobody => fx.sandbox.gokeep_as_nobody(),
    };
    let r = cmd(command.args(["prune", "--all", "--yes", "--json", "--modcache", p(&modcache)]));

    let after = modes(&modcache);
    let changed: Vec<_> = after
        .iter()
        .filter_map(|(path, mode)| {
            before.get(path).filter(|b| *b != mode).map(|b| (path, format!("{b:o} -> {mode:o}")))
        })
        .collect();
    assert!(
        changed.is_empty(),
        "{name}: gokeep changed the mode of what it did not delete: {changed:#?}\n{:#}",
        r.json
    );

    let mut left: Vec<String> =
        after.keys().filter_map(|k| k.strip_prefix(&tree).ok()).map(|rel| rel.display().to_string()).collect();
    left.sort();
    let mut expected: Vec<String> = case.survivors.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(left, expected, "{name}: what is left of the stuck tree: {:#}", r.json);
    assert!(!fx.extracted_dir(OTHER, V1).exists(), "{name}: the other version's tree is removed");
    assert!(!fx.download_file(OTHER, V1, "zip").exists(), "{name}: the other version's zip is removed");
    if case.survivors.is_empty() {
        assert_eq!(r.code, 0, "{name}: {:#}\n{}", r.json, r.stderr);
        assert!(failure_paths(&r.json).is_empty(), "{name}: {:#}", r.json);
    } else {
        assert_eq!(r.code, 3, "{name}: what could not be removed is an I/O error: {:#}", r.json);
        let fails = failure_paths(&r.json);
        assert!(fails.iter().any(|f| f.starts_with(&tree)), "{name}: the stuck tree is reported: {fails:?}");
        assert!(fails.iter().all(|f| f.starts_with(&tree)), "{name}: only the stuck tree is reported: {fails:?}");
    }
}

#[test]
fn prune_deletes_what_it_can_reports_the_rest_and_changes_no_surviving_mode() {
    for case in cases() {
        run_case(&case);
    }
}
