//! A racer that swaps directories inside a cache for symbolic links to a
//! canary tree, and back, as fast as it can, while gokeep prunes, fixes and
//! refreshes: gokeep may fail, skip or leave the cache half-done, but it
//! never writes, creates, truncates, removes or touches a time outside the
//! cache. The canary tree is compared byte for byte, modification times
//! and access times included, before and after. Besides prune, verify --fix
//! and refresh, the racer meets mark (which stamps access times), prune
//! --unused-since-mark, the build-cache age rule and explain --fix.
//!
//! The canary is a copy of each swapped directory with its lock files left
//! out and every `@v/list` replaced by other text, so that a lock file
//! created through a link, a list rewritten through one, a `.partial`
//! written through one, a removal and a time set through one all show.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use walkdir::WalkDir;

use common::*;

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
                if f.extension().is_some_and(|e| e == "lock") {
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
    handle: Option<thread::JoinHandle<()>>,
}

fn aside(d: &Path) -> PathBuf {
    let mut s = d.as_os_str().to_owned();
    s.push(".racer");
    PathBuf::from(s)
}

/// Puts `d`, moved aside by the racer, back where it was, whatever gokeep
/// created in its place meanwhile.
fn restore(d: &Path) {
    if fs::symlink_metadata(d).is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = fs::remove_file(d);
    }
    if fs::rename(aside(d), d).is_err() {
        // gokeep made a new directory there while `d` was aside (a lock's
        // parent, created as cmd/go does): the racer's cache, the racer's call.
        if fs::symlink_metadata(d).is_ok_and(|m| m.is_dir()) {
            let _ = fs::remove_dir_all(d);
        }
        let _ = fs::rename(aside(d), d);
    }
}

/// A pause about as long as swapping `dirs` takes, made of system calls
/// rather than sleeps or spins, which a loaded machine stretches to
/// milliseconds.
fn dwell(dirs: &[PathBuf]) {
    for d in dirs {
        for _ in 0..4 {
            let _ = fs::symlink_metadata(d);
        }
    }
}

impl Racer {
    /// `dirs` must not be nested in one another: each is swapped on its own.
    fn start(dirs: Vec<PathBuf>, canaries: Vec<PathBuf>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), swaps.clone());
        let handle = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                // Only what was moved aside is put back: a directory gokeep
                // removed stays removed.
                let mut moved = Vec::new();
                for (d, c) in dirs.iter().zip(&canaries) {
                    if fs::rename(d, aside(d)).is_ok() {
                        moved.push(d);
                        let _ = symlink(c, d);
                    }
                }
                // About as long with the links in place as without them.
                dwell(&dirs);
                for d in moved {
                    restore(d);
                }
                n.fetch_add(1, Ordering::Relaxed);
                dwell(&dirs);
            }
        });
        Self { stop, swaps, handle: Some(handle) }
    }

    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().expect("started").join().expect("racer thread");
        self.swaps.load(Ordering::Relaxed)
    }
}

/// A test that fails half-way still stops its racer before the sandbox goes.
impl Drop for Racer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// gokeep at the lowest priority, so that the racer, at normal priority,
/// swaps many times between any two of gokeep's steps however loaded the
/// machine is.
fn gokeep_slowly(sb: &GoSandbox) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new("nice");
    cmd.current_dir(sb.root()).env_clear().envs(sb.go_env());
    cmd.args(["-n", "19"]).arg(gokeep_bin());
    cmd
}

static ONE_RACE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `command` (a gokeep invocation, repeated `times`) while `dirs` are
/// swapped for links into a canary; the canary must be untouched.
/// Returns each run's exit code and last line of stderr.
fn race(
    sb: &GoSandbox,
    what: &str,
    dirs: &[PathBuf],
    times: usize,
    command: &dyn Fn() -> assert_cmd::Command,
) -> Vec<(i32, String)> {
    // One race at a time: a racer starved of CPU by another test's gokeep swaps too rarely to find anything.
    let _one = ONE_RACE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let canary_root = sb.root().join(format!("canary-{}", what.replace(' ', "-")));
    let canaries = make_canary(dirs, &canary_root);
    let before = snapshot_with_times(&canary_root);
    // Taken after the snapshot, whose reads may have moved access times.
    let atimes_before = atimes(&canary_root);
    let racer = Racer::start(dirs.to_vec(), canaries);
    let mut outcomes = Vec::new();
    for _ in 0..times {
        let (code, _, err) = run(&mut command());
        outcomes.push((code, err.lines().last().unwrap_or("").to_owned()));
    }
    let swaps = racer.stop();
    let atimes_after = atimes(&canary_root);
    let after = snapshot_with_times(&canary_root);
    let stamped: Vec<_> = atimes_after.iter().filter(|(k, v)| atimes_before.get(*k) != Some(*v)).take(8).collect();
    assert!(
        stamped.is_empty(),
        "{what}: gokeep set access times outside the cache through a swapped directory ({swaps} swaps): {stamped:#?}"
    );
    if before != after {
        let changed: Vec<_> = after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).take(8).collect();
        let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).take(8).collect();
        panic!(
            "{what}: gokeep wrote outside the cache through a swapped directory ({swaps} swaps)\n\
             new or changed in the canary: {changed:#?}\ngone from the canary: {gone:#?}\noutcomes: {outcomes:?}"
        );
    }
    assert!(swaps > 0, "{what}: the racer never swapped");
    outcomes
}

/// The access time of everything under `dir`, read with `lstat` only (no
/// read that could move it): `mark` stamps access times, nothing else does.
fn atimes(dir: &Path) -> std::collections::BTreeMap<PathBuf, (i64, i64)> {
    WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let md = e.metadata().unwrap();
            (e.path().to_owned(), (md.atime(), md.atime_nsec()))
        })
        .collect()
}

/// Versions of `example.com/many`: enough locks, markers and list
/// rewrites in one run for a racer to meet.
const MANY: usize = 24;

fn many_version(i: usize) -> String {
    format!("v1.0.{i}")
}

/// The standard modules and [`MANY`] versions of one more, downloaded.
fn fixture() -> Fixture {
    let mut modules = standard_modules();
    for i in 0..MANY {
        let v = many_version(i);
        modules.push(Module::named("example.com/many", &v, "many", &v));
    }
    Fixture::with_modules(modules)
}

/// Some of the versions a test breaks or litters: in every module the racer swaps.
fn victims(fx: &Fixture) -> Vec<&Module> {
    let mut v = vec![fx.module("example.com/a", "v1.2.0"), fx.module("example.com/Org/Lib", "v1.1.0")];
    v.extend((0..MANY).step_by(2).map(|i| fx.module("example.com/many", &many_version(i))));
    v
}

/// Directories on the way to `@v/list`, `.lock`, `.partial` and trees,
/// one level per trial (directories of one trial are not nested, so each is
/// swapped for a link on its own): the host directory under
/// `cache/download`; the `@v` directories and a trees' parent; the module
/// directories under `cache/download` and the trees' host directory.
fn module_dirs(modcache: &Path, trial: usize) -> Vec<PathBuf> {
    let rel: &[&str] = match trial % 3 {
        0 => &["cache/download/example.com"],
        1 => &["cache/download/example.com/many/@v", "cache/download/example.com/!org/!lib/@v", "example.com/!org"],
        _ => &["cache/download/example.com/many", "cache/download/example.com/a", "example.com"],
    };
    rel.iter().map(|r| modcache.join(r)).collect()
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
    for trial in 0..6 {
        let mc = modcache_copy(&fx, trial);
        let mc_s = mc.display().to_string();
        race(&fx.sandbox, &format!("prune --all {trial}"), &module_dirs(&mc, trial), 1, &|| {
            let mut c = gokeep_slowly(&fx.sandbox);
            c.args(["prune", "--all", "--yes", "--threads", "1", "--modcache", &mc_s]);
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
        for module in victims(&fx) {
            let at_v = mc.join(module.download_rel());
            fs::write(at_v.join(format!("{}.partial", module.escaped_version())), "").unwrap();
            let temp = at_v.join(format!("{}.info123456.tmp", module.escaped_version()));
            fs::write(&temp, "{}").unwrap();
            set_tree_times(&temp, 86_400);
        }
        let mc_s = mc.display().to_string();
        race(&fx.sandbox, &format!("prune --debris {trial}"), &module_dirs(&mc, trial), 1, &|| {
            let mut c = gokeep_slowly(&fx.sandbox);
            c.args(["prune", "--debris", "--yes", "--threads", "1", "--modcache", &mc_s]);
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
        for module in victims(&fx) {
            let tree = mc.join(module.extracted_rel());
            GoSandbox::make_writable(&tree);
            fs::write(tree.join("go.mod"), "module tampered\n").unwrap();
        }
        let mc_s = mc.display().to_string();
        race(&fx.sandbox, &format!("verify --fix {trial}"), &module_dirs(&mc, trial), 1, &|| {
            let mut c = gokeep_slowly(&fx.sandbox);
            c.args(["verify", "--fix", "--yes", "--no-project", "-j", "1", "--modcache", &mc_s]);
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
        let mut c = gokeep_slowly(&fx.sandbox);
        c.args(["gocache", "refresh", "--threads", "1"]);
        c
    });
}

/// What one row of [`other_writers_never_write_through_a_swapped_directory`]
/// prepares in a trial's module cache and build cache copies; returns what
/// gokeep reads on stdin.
type Prepare = fn(&Fixture, &Path, &Path) -> String;

fn nothing_to_prepare(_: &Fixture, _: &Path, _: &Path) -> String {
    String::new()
}

/// `gokeep mark` on the trial's copy, with no racer.
fn marked(fx: &Fixture, mc: &Path, _: &Path) -> String {
    let mut c = fx.sandbox.gokeep();
    c.args(["mark", "--modcache", &mc.display().to_string()]);
    run_ok(&mut c);
    String::new()
}

/// Every build-cache entry old enough to be trimmed.
fn aged_gocache(_: &Fixture, _: &Path, gc: &Path) -> String {
    for i in 0..=255u8 {
        let shard = gc.join(format!("{i:02x}"));
        if shard.is_dir() {
            set_tree_times(&shard, 10 * 86_400);
        }
    }
    String::new()
}

/// A tampered zip of `example.com/a` v1.2.0 (tree and .ziphash gone, so go
/// reads the zip), and the error `go build` prints for it.
fn tampered(fx: &Fixture, mc: &Path, _: &Path) -> String {
    let m = fx.module("example.com/a", "v1.2.0");
    let evil = m.clone().file("evil.go", "package a\n\nvar Evil = 1\n");
    let zip = mc.join(m.download_file_rel("zip"));
    fs::write(&zip, evil.zip_bytes()).unwrap();
    set_tree_times(&zip, 3600);
    fs::remove_file(mc.join(m.download_file_rel("ziphash"))).unwrap();
    let tree = mc.join(m.extracted_rel());
    GoSandbox::make_writable(&tree);
    fs::remove_dir_all(&tree).unwrap();
    let mc_s = mc.display().to_string();
    let out = fx.sandbox.go_with_env(&fx.consumer, &["build", "./..."], &[("GOMODCACHE", &mc_s)]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("checksum mismatch"), "go build fails on the tampered zip:\n{stderr}");
    stderr
}

/// Build-cache shards holding entries, for the racer to swap.
fn shards(gc: &Path) -> Vec<PathBuf> {
    (0..=255u8)
        .map(|i| gc.join(format!("{i:02x}")))
        .filter(|s| fs::read_dir(s).is_ok_and(|mut d| d.next().is_some()))
        .take(4)
        .collect()
}

/// One row: what it is, what to prepare, which directories the racer
/// swaps, gokeep's arguments (`{mc}`, `{gc}` and `{consumer}` replaced).
struct Row {
    name: &'static str,
    prepare: Prepare,
    gocache_dirs: bool,
    args: &'static [&'static str],
    /// Which of [`module_dirs`]' levels (or, for the build cache, runs) to race.
    trials: &'static [usize],
}

#[test]
fn other_writers_never_write_through_a_swapped_directory() {
    let rows = [
        Row {
            name: "mark",
            prepare: nothing_to_prepare,
            gocache_dirs: false,
            args: &["mark", "--modcache", "{mc}"],
            trials: &[1, 2],
        },
        Row {
            name: "prune --unused-since-mark",
            prepare: marked,
            gocache_dirs: false,
            args: &["prune", "--unused-since-mark", "--yes", "--threads", "1", "--modcache", "{mc}"],
            trials: &[0, 2],
        },
        Row {
            name: "prune --gocache-max-age",
            prepare: aged_gocache,
            gocache_dirs: true,
            args: &["prune", "--gocache-max-age", "5d", "--yes", "--threads", "1", "--gocache", "{gc}"],
            trials: &[0],
        },
        Row {
            name: "explain --fix",
            prepare: tampered,
            gocache_dirs: false,
            args: &["explain", "--online", "--fix", "--yes", "--project", "{consumer}", "--modcache", "{mc}"],
            trials: &[1, 2],
        },
    ];
    let fx = fixture();
    let mut n = 100;
    for row in &rows {
        for &trial in row.trials {
            n += 1;
            let mc = modcache_copy(&fx, n);
            let gc = mc.parent().unwrap().join("gocache");
            copy_tree(&fx.gocache(), &gc);
            let stdin = (row.prepare)(&fx, &mc, &gc);
            let dirs = if row.gocache_dirs { shards(&gc) } else { module_dirs(&mc, trial) };
            assert!(!dirs.is_empty(), "{}: directories to swap", row.name);
            let args: Vec<String> = row
                .args
                .iter()
                .map(|a| {
                    a.replace("{mc}", &mc.display().to_string())
                        .replace("{gc}", &gc.display().to_string())
                        .replace("{consumer}", &fx.consumer.display().to_string())
                })
                .collect();
            let outcomes = race(&fx.sandbox, &format!("{} {trial}", row.name), &dirs, 1, &|| {
                let mut c = gokeep_slowly(&fx.sandbox);
                c.args(&args).write_stdin(stdin.clone());
                c
            });
            // The command itself was right: it ran, whatever the racer did to it.
            assert!(outcomes.iter().all(|(code, _)| *code != 2), "{}: {outcomes:?}", row.name);
        }
    }
}
