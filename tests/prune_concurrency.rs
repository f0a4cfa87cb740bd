//! Pruning beside running `go` commands, a soak: while `go build` and
//! `go test -count=1` loop over a project using module set A, `go mod
//! download` loops over module set B and `go clean -cache` empties the build
//! cache now and then, `gokeep prune` (set A kept) and `gokeep verify --fix`
//! run every 100 ms. No `go` command may fail, and at the end the cache
//! verifies clean. And several `gokeep mark` runs at once, sharing one state
//! dir, each keep their record.
//!
//! `go clean -cache` never runs during a `go build` or `go test` of the
//! soak: cmd/go's own cache is not safe against that (a build that found an
//! entry fails when clean removes it; clean fails on a directory a build
//! writes into), whatever else runs. It does run beside the downloads, the
//! prunes and `verify --fix`.
//!
//! `GOKEEP_SOAK_CYCLES` sets the number of prune cycles (`bench/soak.sh`).

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Prune cycles in CI; `GOKEEP_SOAK_CYCLES` asks for more.
fn cycles() -> u32 {
    std::env::var("GOKEEP_SOAK_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(100)
}

/// Not a measure of speed: only turns a hung `go` or gokeep into a failure.
const HANG_BOUND: Duration = Duration::from_secs(1800);

fn module(path: &str, version: &str, package: &str) -> Module {
    let mut m = Module::named(path, version, package, &format!("{path}@{version}"));
    for i in 0..20 {
        m = m.file(&format!("data/f{i}.txt"), format!("{path}@{version} {i}\n").repeat(50));
    }
    m
}

/// One `go` command in a loop, `pause` before each round, until told to stop;
/// counts rounds and keeps the stderr of every failure.
struct Worker<'a> {
    dir: &'a Path,
    args: &'a [&'a str],
    pause: Duration,
    /// `go clean -cache` excludes the builds (see the module docs).
    excludes_builds: bool,
    /// Rounds finished before the soak may end, so that it ran beside the prunes.
    min_rounds: u32,
    /// Rounds after which it stops.
    max_rounds: u32,
    rounds: AtomicU32,
}

impl Worker<'_> {
    fn new<'a>(dir: &'a Path, args: &'a [&'a str]) -> Worker<'a> {
        Worker {
            dir,
            args,
            pause: Duration::ZERO,
            excludes_builds: false,
            min_rounds: 2,
            max_rounds: u32::MAX,
            rounds: AtomicU32::new(0),
        }
    }

    fn run(&self, sb: &GoSandbox, stop: &AtomicBool, builds: &RwLock<()>, failures: &Mutex<Vec<String>>) {
        loop {
            // The pause comes first, and ends early when the soak does.
            let paused = Instant::now();
            while paused.elapsed() < self.pause && !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(50));
            }
            if stop.load(Ordering::SeqCst) || self.rounds() >= self.max_rounds {
                return;
            }
            let out = if self.excludes_builds {
                let _alone = builds.write().unwrap();
                sb.go(self.dir, self.args)
            } else if self.args[0] == "mod" {
                sb.go(self.dir, self.args)
            } else {
                let _shared = builds.read().unwrap();
                sb.go(self.dir, self.args)
            };
            if !out.status.success() {
                failures.lock().unwrap().push(format!(
                    "go {} (round {}): {}",
                    self.args.join(" "),
                    self.rounds.load(Ordering::SeqCst),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            self.rounds.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn rounds(&self) -> u32 {
        self.rounds.load(Ordering::SeqCst)
    }
}

/// Project A builds and tests with set A; project B only downloads set B.
fn write_projects(sb: &GoSandbox, set_b: &[Module]) -> (PathBuf, PathBuf) {
    let proj_a = sb.root().join("proj-a");
    std::fs::create_dir_all(&proj_a).unwrap();
    std::fs::write(
        proj_a.join("go.mod"),
        "module example.com/proja\n\ngo 1.21\n\nrequire (\n\texample.com/keep/x v1.0.0\n\texample.com/keep/y v1.0.0\n)\n",
    )
    .unwrap();
    std::fs::write(
        proj_a.join("a.go"),
        "package proja\n\nimport (\n\t\"example.com/keep/x\"\n\t\"example.com/keep/y\"\n)\n\nfunc Names() []string { return []string{x.Name(), y.Name()} }\n",
    )
    .unwrap();
    std::fs::write(
        proj_a.join("a_test.go"),
        "package proja\n\nimport \"testing\"\n\nfunc TestNames(t *testing.T) {\n\tif n := Names(); n[0] != \"example.com/keep/x@v1.0.0\" || n[1] != \"example.com/keep/y@v1.0.0\" {\n\t\tt.Fatal(n)\n\t}\n}\n",
    )
    .unwrap();
    let proj_b = sb.root().join("proj-b");
    std::fs::create_dir_all(&proj_b).unwrap();
    let requires = set_b.iter().fold(String::new(), |mut acc, m| {
        let _ = writeln!(acc, "\t{} {}", m.path, m.version);
        acc
    });
    std::fs::write(proj_b.join("go.mod"), format!("module example.com/projb\n\ngo 1.21\n\nrequire (\n{requires})\n"))
        .unwrap();
    (proj_a, proj_b)
}

#[test]
fn soak_prune_and_verify_fix_beside_go_build_test_download_and_clean_make_no_go_command_fail() {
    let set_a = vec![module("example.com/keep/x", "v1.0.0", "x"), module("example.com/keep/y", "v1.0.0", "y")];
    let set_b: Vec<Module> =
        (0..4).map(|i| module(&format!("example.com/churn/p{i}"), "v1.0.0", &format!("p{i}"))).collect();
    let fx = Fixture::published_only(set_a.iter().chain(&set_b).cloned().collect());
    let sb = &fx.sandbox;

    let (proj_a, proj_b) = write_projects(sb, &set_b);
    sb.go_ok(&proj_a, &["test", "-count=1", "./..."]);
    let download_b = ["mod", "download"];
    sb.go_ok(&proj_b, &download_b);
    // Build-cache entries from days ago: the prune's age rule selects every
    // one the workers do not use (and so mark) again.
    age_tree(&sb.gocache(), 3);

    // Every cycle removes debris and old build-cache entries; every tenth
    // also removes whole versions of set B by age (zips, trees and all),
    // which waits out the zip grace once. A tree a build reads takes no
    // lock, so set A (which the builds read) is kept by path.
    let keep = ["--keep", "example.com/keep", "--debris", "--gocache-max-age", "2h", "--yes", "--json"];
    let light: Vec<&str> = ["prune"].into_iter().chain(keep).collect();
    let whole: Vec<&str> = ["prune", "--max-age", "1s"].into_iter().chain(keep).collect();

    let cycles = cycles();
    let workers = [
        Worker::new(&proj_a, &["build", "./..."]),
        Worker::new(&proj_a, &["test", "-count=1", "./..."]),
        Worker::new(&proj_b, &download_b),
        // Emptying the build cache makes the others rebuild the standard
        // library (for the test, slowly): once per hundred prune cycles,
        // at most every 20 s.
        Worker {
            pause: Duration::from_secs(20),
            excludes_builds: true,
            min_rounds: 1,
            max_rounds: cycles.div_ceil(100),
            ..Worker::new(&proj_a, &["clean", "-cache"])
        },
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let builds = RwLock::new(());
    let failures = Mutex::new(Vec::new());
    let (mut prune_cycles, mut removed_files, mut skipped) = (0, 0u64, 0usize);
    let (verify_runs, fixed_files, verify_findings) = (AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0));
    let verify_errors = Mutex::new(Vec::new());
    let started = Instant::now();
    thread::scope(|s| {
        for w in &workers {
            let (stop, builds, failures) = (&stop, &builds, &failures);
            s.spawn(move || w.run(sb, stop, builds, failures));
        }
        // `verify --fix` every 100 ms, beside the prunes.
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                let v = cmd(sb.gokeep().args(["verify", "--fix", "--yes", "--no-project", "--json"]));
                if v.code > 1 {
                    verify_errors.lock().unwrap().push(format!("exit {}: {}\n{}", v.code, v.stdout, v.stderr));
                }
                let fixed = v.json["fix"]["removal"]["files"].as_u64().unwrap_or(0);
                fixed_files.fetch_add(u32::try_from(fixed).unwrap(), Ordering::SeqCst);
                verify_findings.fetch_add(u32::from(v.code == 1), Ordering::SeqCst);
                verify_runs.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(100));
            }
        });
        // Set once this loop ends, or fails: nothing is left looping.
        let _stop_on_exit = StopOnDrop(&stop);
        while prune_cycles < cycles || workers.iter().any(|w| w.rounds() < w.min_rounds) {
            assert!(started.elapsed() < HANG_BOUND, "the soak has not ended after {HANG_BOUND:?}");
            let args = if prune_cycles % 10 == 0 { &whole } else { &light };
            let doc = cmd_ok(sb.gokeep().args(args));
            removed_files += doc["result"]["files"].as_u64().unwrap_or(0);
            skipped += doc["result"]["skipped"].as_array().map_or(0, Vec::len);
            let failed = doc["result"]["failures"].as_array().map_or(0, Vec::len);
            assert_eq!(failed, 0, "prune cycle {prune_cycles} failed to remove: {doc:#}");
            prune_cycles += 1;
            thread::sleep(Duration::from_millis(100));
        }
    });
    let verify_errors = verify_errors.into_inner().unwrap();
    assert!(verify_errors.is_empty(), "verify --fix failed:\n{}", verify_errors.join("\n"));

    let rounds: Vec<String> = workers.iter().map(|w| format!("{} × go {}", w.rounds(), w.args.join(" "))).collect();
    eprintln!(
        "{prune_cycles} prune cycles removed {removed_files} files and skipped {skipped} locked items; \
         verify --fix ran {} times (removed {} files, left findings {} times); beside {} in {:?}",
        verify_runs.into_inner(),
        fixed_files.into_inner(),
        verify_findings.into_inner(),
        rounds.join(", "),
        started.elapsed()
    );
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} go commands failed:\n{}", failures.len(), failures.join("\n"));
    assert!(removed_files > 0, "the prunes never removed anything");
    // Set A was never touched; everything verifies.
    for m in &set_a {
        assert!(fx.extracted_dir(&m.path, &m.version).is_dir());
    }
    assert_go_ok(&go_offline(sb, &proj_a, &["mod", "verify"]), "go mod verify (A)");
    sb.go_ok(&proj_b, &download_b);
    assert_go_ok(&sb.go(&proj_b, &["mod", "verify"]), "go mod verify (B)");
    // Nothing the racing go commands left is debris.
    let plan = cmd_ok(sb.gokeep().args(["prune", "--debris", "--dry-run", "--json"]));
    assert_eq!(plan["plan"]["items"].as_array().unwrap().len(), 0, "{plan:#}");
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn marks_of_several_caches_at_once_each_keep_their_record() {
    let fx = Fixture::with_modules(vec![module("example.com/marked", "v1.0.0", "marked")]);
    let sb = &fx.sandbox;
    // Copies of the cache go filled: each mark has a root of its own, and all
    // share one state dir, as parallel CI jobs on one runner do.
    std::fs::create_dir_all(sb.root().join("caches")).unwrap();
    let caches: Vec<PathBuf> = (0..8)
        .map(|i| {
            let c = sb.root().join(format!("caches/c{i}"));
            let st = Command::new("cp").arg("-a").arg(fx.modcache()).arg(&c).status().expect("running cp");
            assert!(st.success(), "cp -a {} {}: {st}", fx.modcache().display(), c.display());
            // Filled a while before the mark, as a CI image is.
            age_tree(&c, 3);
            c
        })
        .collect();
    let state = sb.root().join("state");

    let children: Vec<_> = caches
        .iter()
        .map(|c| {
            Command::new(gokeep_bin())
                .current_dir(sb.root())
                .env_clear()
                .envs(sb.go_env())
                .env("GOKEEP_STATE_DIR", &state)
                .args(["mark", "--json", "--modcache"])
                .arg(c)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starting gokeep mark")
        })
        .collect();
    for (c, child) in caches.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "gokeep mark --modcache {} failed ({}): {}",
            c.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let text = std::fs::read_to_string(state.join("marks.json")).unwrap();
    let marks: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let recorded: BTreeSet<PathBuf> =
        marks["marks"].as_object().unwrap_or_else(|| panic!("{marks:#}")).keys().map(PathBuf::from).collect();
    assert_eq!(recorded, caches.iter().cloned().collect::<BTreeSet<_>>(), "a concurrent mark dropped a record");
    // Each cache's mark is the one prune finds: its version was not read since.
    for c in &caches {
        let doc = cmd_ok(
            sb.gokeep()
                .env("GOKEEP_STATE_DIR", &state)
                .args(["prune", "--unused-since-mark", "--dry-run", "--json", "--modcache"])
                .arg(c),
        );
        let items = doc["plan"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}: {doc:#}", c.display());
        assert_eq!(items[0]["reason"]["rule"], "unused_since_mark", "{}: {doc:#}", c.display());
        assert_eq!(items[0]["reason"]["mark"], marks["marks"][c.to_str().unwrap()]["marked_at"]);
    }
}
