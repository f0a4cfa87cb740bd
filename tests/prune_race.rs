//! A racer that swaps directories inside a cache for symbolic links to a
//! canary tree, and back, as fast as it can, while gokeep prunes, fixes and
//! refreshes: gokeep may fail, skip or leave the cache half-done, but it
//! never writes, creates, truncates, removes or touches a time outside the
//! cache. The canary tree is compared byte for byte, modification times
//! included, before and after.
//!
//! The canary is a copy of each swapped directory with its lock files left
//! out and every `@v/list` replaced by other text, so that a lock file
//! created through a link, a list rewritten through one, a `.partial`
//! written through one, a removal and a time set through one all show.

mod common;
mod prune_common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use common::*;
use prune_common::*;

/// Everything under `dir` with contents, modes and modification times.
fn snapshot_with_times(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in WalkDir::new(dir).follow_links(false) {
        let e = e.expect("walking the canary");
        let md = e.metadata().expect("lstat");
        let rel = e.path().strip_prefix(dir).unwrap().to_owned();
        let what = if md.file_type().is_symlink() {
            format!("link {}", fs::read_link(e.path()).unwrap().display())
        } else if md.is_dir() {
            format!("dir {:o}", md.mode())
        } else {
            format!("file {:o} {:?}", md.mode(), Sha256::digest(fs::read(e.path()).unwrap()).as_slice())
        };
        out.insert(rel, format!("{what} mtime {}.{:09}", md.mtime(), md.mtime_nsec()));
    }
    out
}

/// `cp -a`, which keeps modes and times.
fn copy_tree(from: &Path, to: &Path) {
    let st = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("running cp");
    assert!(st.success(), "cp -a {} {}", from.display(), to.display());
}

/// Copies each directory to be swapped into `canary/<i>`, without lock
/// files and with every `list` holding text no rewrite would produce.
fn make_canary(dirs: &[PathBuf], canary: &Path) -> Vec<PathBuf> {
    fs::create_dir_all(canary).unwrap();
    dirs.iter()
        .enumerate()
        .map(|(i, d)| {
            let c = canary.join(i.to_string());
            copy_tree(d, &c);
            let files: Vec<PathBuf> = WalkDir::new(&c)
                .follow_links(false)
                .into_iter()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().is_file())
                .map(|e| e.path().to_owned())
                .collect();
            for f in files {
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                if name.ends_with(".lock") {
                    let dir = f.parent().unwrap();
                    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
                    fs::remove_file(&f).unwrap();
                } else if name == "list" {
                    fs::write(&f, "canary\n").unwrap();
                }
            }
            c
        })
        .collect()
}

/// Swaps `dirs` (deepest first) for links to their canaries and back until
/// stopped; returns how many times it swapped.
struct Racer {
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicU64>,
    handle: thread::JoinHandle<()>,
}

fn aside(d: &Path) -> PathBuf {
    let mut s = d.as_os_str().to_owned();
    s.push(".racer");
    PathBuf::from(s)
}

/// Puts `d` back where it was, whatever gokeep created in its place meanwhile.
fn restore(d: &Path) {
    if fs::symlink_metadata(d).is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = fs::remove_file(d);
    }
    if fs::rename(aside(d), d).is_err() && aside(d).exists() {
        // gokeep made a new directory there (a lock's parent): the racer's cache, the racer's call.
        if fs::symlink_metadata(d).is_ok_and(|m| m.is_dir()) {
            let _ = fs::remove_dir_all(d);
        }
        let _ = fs::rename(aside(d), d);
    }
}

impl Racer {
    fn start(dirs: Vec<PathBuf>, canaries: Vec<PathBuf>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), swaps.clone());
        let handle = thread::spawn(move || {
            // Deepest first in, shallowest first out.
            let mut order: Vec<usize> = (0..dirs.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(dirs[i].components().count()));
            while !s.load(Ordering::Relaxed) {
                for &i in &order {
                    if fs::rename(&dirs[i], aside(&dirs[i])).is_ok() {
                        let _ = symlink(&canaries[i], &dirs[i]);
                    }
                }
                thread::sleep(Duration::from_micros(100));
                for &i in order.iter().rev() {
                    restore(&dirs[i]);
                }
                n.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_micros(100));
            }
            for &i in order.iter().rev() {
                restore(&dirs[i]);
            }
        });
        Self { stop, swaps, handle }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("racer thread");
        self.swaps.load(Ordering::Relaxed)
    }
}

/// Runs `command` (a gokeep invocation, repeated `times`) while `dirs` are
/// swapped for links into a canary; the canary must be untouched.
fn race(sb: &GoSandbox, what: &str, dirs: &[PathBuf], times: usize, command: &dyn Fn() -> assert_cmd::Command) {
    let canary_root = sb.root().join(format!("canary-{}", what.replace(' ', "-")));
    let canaries = make_canary(dirs, &canary_root);
    let before = snapshot_with_times(&canary_root);
    let racer = Racer::start(dirs.to_vec(), canaries);
    let mut outcomes = Vec::new();
    for _ in 0..times {
        let (code, _, err) = run(&mut command());
        outcomes.push((code, err.lines().last().unwrap_or("").to_owned()));
    }
    let swaps = racer.stop();
    let after = snapshot_with_times(&canary_root);
    if before != after {
        let changed: Vec<_> = after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).take(8).collect();
        let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).take(8).collect();
        panic!(
            "{what}: gokeep wrote outside the cache through a swapped directory ({swaps} swaps)\n\
             new or changed in the canary: {changed:#?}\ngone from the canary: {gone:#?}\noutcomes: {outcomes:?}"
        );
    }
    assert!(swaps > 0, "{what}: the racer never swapped");
}

/// The standard fixture, every tree made read-only as Go leaves it.
fn fixture() -> Fixture {
    Fixture::standard()
}

/// Directories on the way to `@v/list`, `.lock`, `.partial` and trees.
fn module_dirs(modcache: &Path) -> Vec<PathBuf> {
    vec![
        modcache.join("cache/download/example.com"),
        modcache.join("cache/download/example.com/a/@v"),
        modcache.join("cache/download/example.com/!org/!lib/@v"),
        modcache.join("example.com/!org"),
    ]
}

/// A fresh copy of the fixture's module cache for one trial.
fn modcache_copy(fx: &Fixture, n: usize) -> PathBuf {
    let dir = fx.sandbox.root().join(format!("trial-{n}"));
    fs::create_dir_all(&dir).unwrap();
    copy_tree(&fx.modcache(), &dir.join("mod"));
    dir.join("mod")
}

#[test]
fn prune_all_never_writes_through_a_swapped_directory() {
    let fx = fixture();
    for trial in 0..3 {
        let mc = modcache_copy(&fx, trial);
        let mc_s = mc.display().to_string();
        race(&fx.sandbox, &format!("prune --all {trial}"), &module_dirs(&mc), 1, &|| {
            let mut c = fx.sandbox.gokeep();
            c.args(["prune", "--all", "--yes", "--modcache", &mc_s]);
            c
        });
    }
}

#[test]
fn prune_debris_never_writes_through_a_swapped_directory() {
    let fx = fixture();
    for trial in 0..3 {
        let mc = modcache_copy(&fx, trial);
        // Debris in every module the racer swaps: a .partial beside a tree,
        // and a stale temp file, as a killed go leaves them.
        for (m, v) in [("example.com/a", "v1.0.0"), ("example.com/Org/Lib", "v1.1.0"), ("example.com/c", "v1.0.0")] {
            let module = fx.module(m, v);
            let at_v = mc.join(module.download_rel());
            fs::write(at_v.join(format!("{}.partial", module.escaped_version())), "").unwrap();
            let temp = at_v.join(format!("{}.info123456.tmp", module.escaped_version()));
            fs::write(&temp, "{}").unwrap();
            set_tree_times(&temp, 86_400);
        }
        let mc_s = mc.display().to_string();
        race(&fx.sandbox, &format!("prune --debris {trial}"), &module_dirs(&mc), 1, &|| {
            let mut c = fx.sandbox.gokeep();
            c.args(["prune", "--debris", "--yes", "--modcache", &mc_s]);
            c
        });
    }
}

#[test]
fn verify_fix_never_writes_through_a_swapped_directory() {
    let fx = fixture();
    for trial in 0..3 {
        let mc = modcache_copy(&fx, trial);
        // Corrupt a tree of each module the racer swaps, so --fix removes them.
        for (m, v) in
            [("example.com/a", "v1.2.0"), ("example.com/Org/Lib", "v1.0.0"), ("example.com/Org/Lib", "v1.1.0")]
        {
            let tree = mc.join(fx.module(m, v).extracted_rel());
            GoSandbox::make_writable(&tree);
            fs::write(tree.join("go.mod"), "module tampered\n").unwrap();
        }
        let mc_s = mc.display().to_string();
        race(&fx.sandbox, &format!("verify --fix {trial}"), &module_dirs(&mc), 1, &|| {
            let mut c = fx.sandbox.gokeep();
            c.args(["verify", "--fix", "--yes", "--no-project", "--modcache", &mc_s]);
            c
        });
    }
}

#[test]
fn gocache_refresh_never_sets_a_time_through_a_swapped_shard() {
    let fx = fixture();
    let gc = fx.gocache();
    // Shards holding entries, old enough that a refresh shows.
    let shards: Vec<PathBuf> = (0..=255u8)
        .map(|i| gc.join(format!("{i:02x}")))
        .filter(|s| fs::read_dir(s).is_ok_and(|mut d| d.next().is_some()))
        .take(4)
        .collect();
    assert!(shards.len() >= 2, "the fixture's build left entries in GOCACHE");
    for s in &shards {
        set_tree_times(s, 10 * 86_400);
    }
    race(&fx.sandbox, "gocache refresh", &shards, 30, &|| {
        let mut c = fx.sandbox.gokeep();
        c.args(["gocache", "refresh"]);
        c
    });
}
