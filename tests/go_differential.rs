//! gokeep against the real `go` on the same cache, where both act on it.
//!
//! - The build cache: Go's own `Trim` (`cmd/go/internal/cache`: entries
//!   whose mtime is older than 5 days plus the 1 h mtime quantum go, at most
//!   once per 24 h by `trim.txt`) and gokeep's age rule at the same age run
//!   on copies of one cache whose `-a` and `-d` entries carry mtimes around
//!   the boundaries: everything Go keeps, gokeep keeps.
//! - Version locks (`@v/<v>.lock`, `flock` as `lockedfile` takes it on
//!   Linux), in both orders: while `go` holds one (a download stalled at the
//!   proxy), prune skips that version and says why; while gokeep holds one
//!   (stopped mid-removal), `go` waits, then succeeds.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::http::{Behaviour, TestProxy};
use common::*;
use filetime::FileTime;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Ages (seconds before now) given to the build-cache entries in turn:
/// either side of gokeep's two-hour floor, of Go's 5-day limit and of that
/// limit plus the hour Go adds for its mtime quantum. Each is ten minutes
/// from a boundary, far more than the seconds between setting and trimming.
const AGES: &[i64] = &[
    30 * 60,
    HOUR + 50 * 60,
    2 * HOUR + 10 * 60,
    DAY,
    5 * DAY - 10 * 60,
    5 * DAY + 10 * 60,
    5 * DAY + 30 * 60,
    5 * DAY + 50 * 60,
    5 * DAY + HOUR + 10 * 60,
    5 * DAY + 2 * HOUR,
    7 * DAY,
    40 * DAY,
];

/// `<shard>/<name>` → mtime of every `-a` and `-d` entry.
fn entries(gocache: &Path) -> BTreeMap<PathBuf, i64> {
    let mut out = BTreeMap::new();
    for suffix in ["-a", "-d"] {
        for e in gocache_entries(gocache, suffix) {
            let mtime = fs::symlink_metadata(&e).unwrap().mtime();
            out.insert(e.strip_prefix(gocache).unwrap().to_owned(), mtime);
        }
    }
    out
}

#[test]
fn gokeeps_build_cache_age_rule_keeps_everything_gos_trim_keeps() {
    let fx = Fixture::standard();
    let original = fx.gocache();
    let now = FileTime::now().unix_seconds();
    let mut set = BTreeMap::new();
    for (i, rel) in entries(&original).keys().enumerate() {
        let when = now - AGES[i % AGES.len()];
        let t = FileTime::from_unix_time(when, 0);
        filetime::set_symlink_file_times(original.join(rel), t, t).unwrap();
        set.insert(rel.clone(), when);
    }
    assert!(set.len() >= 2 * AGES.len(), "the fixture's build filled the cache: {} entries", set.len());
    let (by_go, by_gokeep) = (fx.sandbox.root().join("gocache-go"), fx.sandbox.root().join("gocache-gokeep"));
    copy_tree(&original, &by_go);
    copy_tree(&original, &by_gokeep);

    // Go's trim: due, since the last one was two days ago. Any build runs it when it ends.
    fs::write(by_go.join("trim.txt"), format!("{}", now - 2 * DAY)).unwrap();
    let hello = fx.sandbox.root().join("hello");
    fs::create_dir_all(&hello).unwrap();
    fs::write(hello.join("go.mod"), "module example.com/hello\n\ngo 1.21\n").unwrap();
    fs::write(hello.join("main.go"), "package main\n\nfunc main() {}\n").unwrap();
    let by_go_s = by_go.display().to_string();
    let out = fx.sandbox.go_with_env(&hello, &["build", "-o", "/dev/null", "."], &[("GOCACHE", &by_go_s)]);
    assert_go_ok(&out, "go build (which trims)");
    let trimmed_at: i64 = fs::read_to_string(by_go.join("trim.txt")).unwrap().trim().parse().unwrap();
    assert!(trimmed_at >= now, "go trimmed the cache");

    let by_gokeep_s = by_gokeep.display().to_string();
    run_ok(fx.sandbox.gokeep().args(["prune", "--gocache-max-age", "5d", "--yes", "--gocache", &by_gokeep_s]));

    let (after_go, after_gokeep) = (entries(&by_go), entries(&by_gokeep));
    // An entry the build used has a new mtime: Go kept it for that use, which
    // gokeep's copy never saw. Compare the entries go left as they were.
    let untouched: Vec<&PathBuf> = set.keys().filter(|k| after_go.get(*k).is_none_or(|m| *m == set[*k])).collect();
    let go_kept: Vec<&PathBuf> = untouched.iter().copied().filter(|k| after_go.contains_key(*k)).collect();
    let go_removed = untouched.len() - go_kept.len();
    assert!(go_removed > 0 && !go_kept.is_empty(), "go's trim kept some and removed some: {go_removed} removed");
    let lost: Vec<String> = go_kept
        .iter()
        .filter(|k| !after_gokeep.contains_key(**k))
        .map(|k| format!("{} (age {} s)", k.display(), now - set[*k]))
        .collect();
    assert!(lost.is_empty(), "gokeep removed entries go's own trim keeps:\n{}", lost.join("\n"));
    // And it is the same age rule: what Go removed, gokeep removed too.
    let extra: Vec<String> = untouched
        .iter()
        .filter(|k| !after_go.contains_key(**k) && after_gokeep.contains_key(**k))
        .map(|k| format!("{} (age {} s)", k.display(), now - set[*k]))
        .collect();
    assert!(extra.is_empty(), "gokeep kept entries go's trim removes at the same age:\n{}", extra.join("\n"));
}

// ---- Version locks ---------------------------------------------------------

/// `(pid, inode, waiting)` of every `flock` in `/proc/locks`.
fn flocks() -> Vec<(u32, u64, bool)> {
    let text = fs::read_to_string("/proc/locks").expect("reading /proc/locks");
    text.lines()
        .filter_map(|l| {
            let waiting = l.contains("->");
            let w: Vec<&str> = l.split_whitespace().filter(|w| *w != "->").collect();
            if w.get(1) != Some(&"FLOCK") {
                return None;
            }
            let pid = w.get(4)?.parse().ok()?;
            let inode = w.get(5)?.rsplit(':').next()?.parse().ok()?;
            Some((pid, inode, waiting))
        })
        .collect()
}

/// Every version lock file in the module cache, by inode.
fn version_locks(modcache: &Path) -> BTreeMap<u64, PathBuf> {
    walkdir::WalkDir::new(modcache.join("cache/download"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "lock"))
        .map(|e| (e.metadata().unwrap().ino(), e.path().to_owned()))
        .collect()
}

/// `(module path, version)` from `cache/download/<escaped path>/@v/<v>.lock`.
fn version_of(modcache: &Path, lock: &Path) -> (String, String) {
    let rel = lock.strip_prefix(modcache.join("cache/download")).unwrap();
    let at_v = rel.parent().unwrap();
    let path = gokeep::go::modpath::unescape_path(&at_v.parent().unwrap().display().to_string()).unwrap();
    let version = lock.file_stem().unwrap().to_string_lossy().into_owned();
    (path, version)
}

/// Whether go would find the version of `lock` incomplete and download it
/// under the lock: its `.partial` marker is there, or its zip, `.ziphash`
/// or tree is gone.
fn incomplete(modcache: &Path, lock: &Path) -> bool {
    let (path, version) = version_of(modcache, lock);
    let file = |ext: &str| lock.with_file_name(format!("{}.{ext}", lock.file_stem().unwrap().to_string_lossy()));
    let tree = modcache.join(gokeep::go::modpath::escape_path(&path).unwrap() + "@" + &version);
    file("partial").exists() || !file("zip").exists() || !file("ziphash").exists() || !tree.exists()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether the process is stopped (`T` in `/proc/<pid>/stat`).
fn stopped(pid: u32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('T'))
}

fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill").args([sig, &pid.to_string()]).status().expect("running kill");
    assert!(st.success(), "kill {sig} {pid}");
}

/// Kills and reaps a child left running by a failed assertion.
struct Reap(Option<Child>);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = Command::new("kill").args(["-CONT", &c.id().to_string()]).status();
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn while_go_downloads_a_version_prune_skips_it_and_go_finishes() {
    let fx = Fixture::standard();
    let (path, version) = ("example.com/c", "v1.0.0");
    let module = fx.module(path, version).clone();
    // .info and .mod stay cached, so the download go starts goes straight to
    // the zip, under the version lock.
    let tree = fx.extracted_dir(path, version);
    GoSandbox::make_writable(&tree);
    fs::remove_dir_all(&tree).unwrap();
    for suffix in ["zip", "ziphash"] {
        fs::remove_file(fx.download_file(path, version, suffix)).unwrap();
    }
    let proxy = TestProxy::start(Behaviour::Slow(Duration::from_secs(6), fx.sandbox.proxy_dir()));
    let mut go = Command::new("go");
    go.current_dir(&fx.consumer).env_clear().envs(fx.sandbox.go_env()).env("GOPROXY", proxy.url());
    go.args(["mod", "download", &module.id()]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut reap = Reap(Some(go.spawn().expect("starting go")));
    let go_pid = reap.0.as_ref().unwrap().id();
    let lock = fx.download_file(path, version, "lock");
    let ino = fs::metadata(&lock).unwrap().ino();
    wait_until("go to take the version lock", Duration::from_secs(60), || {
        flocks().iter().any(|(pid, i, waiting)| *pid == go_pid && *i == ino && !waiting)
    });

    let r = cmd(fx.sandbox.gokeep().args(["prune", "--all", "--yes", "--json"]));

    let skipped = r.json["result"]["skipped"].as_array().unwrap_or_else(|| panic!("{:#}", r.json));
    let ours = skipped
        .iter()
        .find(|s| s["target"]["module"] == path && s["target"]["version"] == version)
        .unwrap_or_else(|| panic!("the locked version is skipped: {:#}", r.json));
    assert!(ours["reason"].as_str().unwrap().contains("lock"), "the reason names the lock: {ours:#}");
    assert!(fx.download_file(path, version, "mod").is_file(), "nothing of the locked version is removed");
    assert!(!fx.extracted_dir("example.com/a", "v1.2.0").exists(), "the rest of the cache is pruned: {:#}", r.json);

    let out = reap.0.take().unwrap().wait_with_output().unwrap();
    assert_go_ok(&out, "the stalled go mod download");
    assert!(tree.join("go.mod").is_file(), "go extracted the version it was downloading");
    fx.sandbox.go_ok(&fx.consumer, &["mod", "download", &module.id()]);
}

/// `go mod download -json path@version` in `modcache`, outside any module
/// (go reads nothing but this version).
fn go_download(fx: &Fixture, modcache: &Path, path: &str, version: &str) -> Reap {
    let mut go = Command::new("go");
    go.current_dir(fx.sandbox.root()).env_clear().envs(fx.sandbox.go_env()).env("GOMODCACHE", modcache);
    go.args(["mod", "download", "-json", &format!("{path}@{version}")]).stdout(Stdio::piped()).stderr(Stdio::piped());
    Reap(Some(go.spawn().expect("starting go")))
}

/// Asserts a finished `go mod download -json` left a complete version.
fn assert_downloaded(out: &std::process::Output, what: &str) {
    assert_go_ok(out, what);
    let downloaded: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(downloaded.get("Error").is_none(), "{what}: {downloaded:#}");
    let dir = PathBuf::from(downloaded["Dir"].as_str().unwrap_or_else(|| panic!("{downloaded:#}")));
    assert!(dir.is_dir(), "{what}: the version's tree is there: {downloaded:#}");
    let zip = PathBuf::from(downloaded["Zip"].as_str().unwrap());
    assert!(zip.is_file() && !zip.with_extension("partial").exists(), "{what}: {downloaded:#}");
}

#[test]
fn while_gokeep_removes_a_version_go_waits_for_the_lock_then_succeeds() {
    let fx = Fixture::standard();
    let mut misses = Vec::new();
    for attempt in 0..30 {
        let mc = fx.sandbox.root().join(format!("attempt-{attempt}"));
        copy_tree(&fx.modcache(), &mc);
        let locks = version_locks(&mc);
        let mut c = Command::new("nice");
        c.current_dir(fx.sandbox.root()).env_clear().envs(fx.sandbox.go_env());
        c.args(["-n", "19"]).arg(gokeep_bin());
        c.args(["prune", "--all", "--yes", "--threads", "1", "--modcache"]).arg(&mc);
        let mut gokeep = Reap(Some(c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()));
        let pid = gokeep.0.as_ref().unwrap().id();
        // Version locks gokeep holds whose version go would find incomplete,
        // so that go, which locks only to download, has to wait.
        let held = || {
            flocks()
                .into_iter()
                .filter(|(p, i, w)| *p == pid && !w && locks.contains_key(i))
                .map(|(_, i, _)| locks[&i].clone())
                .find(|lock| incomplete(&mc, lock))
        };
        let mut found = None;
        while found.is_none() && gokeep.0.as_mut().unwrap().try_wait().unwrap().is_none() {
            found = held();
        }
        if found.is_none() {
            let _ = gokeep.0.take().unwrap().wait();
            continue;
        }
        signal(pid, "-STOP");
        // kill returns once the signal is sent, not once the process stops.
        wait_until("gokeep to stop", Duration::from_secs(30), || stopped(pid));
        let Some(lock) = held() else {
            signal(pid, "-CONT");
            let _ = gokeep.0.take().unwrap().wait();
            continue;
        };
        let (path, version) = version_of(&mc, &lock);
        let mut go = go_download(&fx, &mc, &path, &version);
        let go_pid = go.0.as_ref().unwrap().id();
        let start = Instant::now();
        let waited = loop {
            if go.0.as_mut().unwrap().try_wait().unwrap().is_some() {
                break false;
            }
            // The version lock, or the `@v/list` lock go takes on its way
            // there (writing the .mod gokeep removed) while gokeep, stopped,
            // rewrites the list: either way a lock gokeep holds.
            let now = flocks();
            let gokeeps = |i: u64| now.iter().any(|(p, j, w)| *p == pid && *j == i && !w);
            if now.iter().any(|(p, i, waiting)| *p == go_pid && *waiting && gokeeps(*i)) {
                break true;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "go neither waited for gokeep nor ended in 60 s: {now:?} (go {go_pid}, gokeep {pid}, {})",
                lock.display()
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        if waited {
            assert!(
                go.0.as_mut().unwrap().try_wait().unwrap().is_none(),
                "go waits while gokeep holds {}",
                lock.display()
            );
        }
        signal(pid, "-CONT");
        let gokeep_out = gokeep.0.take().unwrap().wait_with_output().unwrap();
        let go_out = go.0.take().unwrap().wait_with_output().unwrap();
        let what = format!("go mod download {path}@{version} beside gokeep's removal (waited: {waited})");
        assert_downloaded(&go_out, &what);
        assert_eq!(gokeep_out.status.code(), Some(0), "{}", String::from_utf8_lossy(&gokeep_out.stderr));
        if !waited {
            // Go found what it needed without the lock; not the interleaving sought.
            misses.push(format!("{path}@{version}"));
            continue;
        }
        let mc_s = mc.display().to_string();
        let verify =
            fx.sandbox.go_with_env(&fx.consumer, &["mod", "verify"], &[("GOMODCACHE", &mc_s), ("GOPROXY", "off")]);
        let text = String::from_utf8_lossy(&verify.stderr);
        assert!(!text.contains(&format!("{path} {version}:")), "go mod verify finds {path}@{version} sound: {text}");
        return;
    }
    panic!("go was never caught waiting for a version lock gokeep held, in 30 runs (go did not need it: {misses:?})");
}
