//! Crash safety: `gokeep prune` stopped at any point never leaves a module
//! cache that `go` cannot use. Killed with SIGKILL at moments spread over a
//! whole run, and aborted right after each of its file-system mutations in
//! turn (`GOKEEP_FAILPOINT`): afterwards `go list -m` shows a complete tree
//! or none, `go mod verify` and `go build` (with the `file://` proxy)
//! succeed, and gokeep run again finishes the job.
//!
//! `GOKEEP_CRASH_TRIALS` raises the number of random kills (`bench/crash.sh`).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::*;

/// Random kills in CI; `GOKEEP_CRASH_TRIALS` asks for more.
fn trials() -> u32 {
    std::env::var("GOKEEP_CRASH_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(32)
}

/// More mutations than any run here makes: a failpoint loop that has not
/// finished by then is broken, not slow.
const MAX_FAILPOINT: u64 = 2_000;

/// Modules big enough that a prune takes a measurable while: each has a
/// package and a couple of hundred data files in nested directories.
fn bulky_modules() -> Vec<Module> {
    let mut mods = Vec::new();
    for i in 0..6 {
        for v in ["v1.0.0", "v1.1.0"] {
            let path = format!("example.com/bulk{i}");
            let mut m = Module::named(&path, v, &format!("bulk{i}"), &format!("{path}@{v}"));
            for f in 0..60 {
                m = m.file(&format!("data/d{}/f{f}.txt", f % 10), format!("{path}@{v} file {f}\n").repeat(20));
            }
            mods.push(m);
        }
    }
    mods
}

/// `to` replaced by a copy of `from`, last used an hour ago.
fn fresh_copy(from: &Path, to: &Path) {
    if to.exists() {
        GoSandbox::make_writable(to);
        std::fs::remove_dir_all(to).unwrap();
    }
    copy_tree(from, to);
    // Last used an hour ago, so that the extracted-tree rule below selects
    // every version. Set on each copy: cp's reads refresh the source's atimes.
    set_tree_times(to, 3600);
}

#[test]
fn prune_killed_at_any_moment_leaves_a_cache_go_builds_and_verifies_with() {
    let fx = Fixture::with_modules(bulky_modules());
    let pristine = fx.sandbox.root().join("pristine-modcache");
    fresh_copy(&fx.modcache(), &pristine);

    // How long an uninterrupted run of each kind takes, to spread the kills over it.
    let timed_run = |rule: &[&str]| {
        fresh_copy(&pristine, &fx.modcache());
        let t = Instant::now();
        run_ok(fx.sandbox.gokeep().arg("prune").args(rule).args(["--yes", "--quiet", "--threads", "1"]));
        t.elapsed()
    };
    let full_all = timed_run(&["--all"]);
    fx.consumer_go_build_ok();

    // Every other trial removes only extracted trees (zips stay), the other
    // removal protocol: lock, .partial, tree, .partial gone.
    let zips_only = fx.sandbox.root().join("zips-only.toml");
    std::fs::write(&zips_only, "[modcache]\nzips_only_after = \"1s\"\n").unwrap();
    let zips_only = zips_only.display().to_string();
    let full_trees = timed_run(&["--policy", &zips_only]);

    fresh_copy(&pristine, &fx.modcache());
    let planned = cmd_ok(fx.sandbox.gokeep().args(["prune", "--policy", &zips_only, "--dry-run", "--json"]));
    assert_eq!(planned["plan"]["total_items"].as_u64().unwrap(), fx.modules.len() as u64, "{planned:#}");

    let trials = trials();
    let mut killed_mid_run = 0;
    // The timed runs above saw one load; the trials may see another. A run
    // that finished before its kill shrinks the delays after it, so the
    // kills keep landing inside runs however busy the machine becomes.
    let mut scale = 1.0_f64;
    for trial in 0..trials {
        fresh_copy(&pristine, &fx.modcache());
        let (rule, full): (&[&str], _) =
            if trial % 2 == 0 { (&["--all"], full_all) } else { (&["--policy", &zips_only], full_trees) };
        let delay = full.mul_f64(f64::from(trial) / f64::from(trials) * 1.1 * scale);
        let mut child = Command::new(gokeep_bin())
            .current_dir(fx.sandbox.root())
            .env_clear()
            .envs(fx.sandbox.go_env())
            .arg("prune")
            .args(rule)
            .args(["--yes", "--quiet", "--threads", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting gokeep");
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            scale *= 0.7;
        } else {
            killed_mid_run += 1;
        }
        let what = format!("trial {trial} ({rule:?} killed after {delay:?})");
        // verify first: a build repairs (re-extracts, re-hashes) what verify would report.
        let verify = fx.consumer_go_mod_verify();
        assert_go_ok(&verify, &format!("{what}: go mod verify"));
        let build = fx.sandbox.go(&fx.consumer, &["build", "./..."]);
        assert_go_ok(&build, &format!("{what}: go build"));
        // And gokeep itself finishes the job afterwards.
        run_ok(fx.sandbox.gokeep().arg("prune").args(rule).args(["--yes", "--quiet"]));
    }
    eprintln!("{killed_mid_run} of {trials} runs killed before they ended");
    assert!(killed_mid_run >= trials / 2, "only {killed_mid_run} of {trials} runs were killed before they ended");
}

/// A module version small enough that a run over it makes a few dozen
/// mutations, with a nested directory (a second rmdir, a second chmod).
fn small_module() -> Module {
    Module::named("example.com/Fail", "v1.0.0", "fail", "example.com/Fail@v1.0.0")
        .file("sub/sub.go", "package sub\n\nconst N = 1\n")
        .file("README", "failpoints\n")
}

/// `go list -m -f {{.Dir}} <path>` in the consumer: Go's own answer to
/// "is this version's tree complete" (a dir only without `.partial` and with
/// `.ziphash`). A dir it names must hold exactly the zip's files.
fn assert_dir_complete_or_none(fx: &Fixture, m: &Module, what: &str) {
    let out = fx.sandbox.go(&fx.consumer, &["list", "-m", "-f", "{{.Dir}}", &m.path]);
    assert_go_ok(&out, &format!("{what}: go list -m"));
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if dir.is_empty() {
        return;
    }
    let want: BTreeMap<PathBuf, Vec<u8>> = m.zip_files().into_iter().map(|(n, b)| (PathBuf::from(n), b)).collect();
    let mut got = BTreeMap::new();
    for e in walkdir::WalkDir::new(&dir).follow_links(false) {
        let e = e.unwrap_or_else(|e| panic!("{what}: walking {dir}: {e}"));
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(&dir).unwrap().to_owned();
            got.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    assert!(got == want, "{what}: go names {dir} as the tree, but it holds {:?}", got.keys().collect::<Vec<_>>());
}

/// For n = 1, 2, …: a fresh copy of the cache, `gokeep prune <rule>`
/// aborted right after its n-th mutation, then the checks; until a run
/// makes fewer than n mutations and finishes. Returns how many runs stopped.
fn each_failpoint(fx: &Fixture, pristine: &Path, rule: &[&str]) -> u64 {
    let m = &fx.published[0];
    let rerun = fx.sandbox.root().join("rerun-modcache");
    for n in 1..MAX_FAILPOINT {
        fresh_copy(pristine, &fx.modcache());
        let stopped = run_to_failpoint(
            fx.sandbox.gokeep().arg("prune").args(rule).args(["--yes", "--quiet", "--threads", "1"]),
            n,
        );
        if stopped == Stopped::Finished {
            return n - 1;
        }
        let what = format!("prune {rule:?} stopped after mutation {n}");
        assert_dir_complete_or_none(fx, m, &what);
        assert_go_ok(&fx.consumer_go_mod_verify(), &format!("{what}: go mod verify"));
        // A re-run finishes the job on a copy of what was left (the build
        // below refills the cache) and a second finds nothing more to do.
        fresh_copy(&fx.modcache(), &rerun);
        let rerun_arg = rerun.display().to_string();
        let again =
            || cmd_ok(fx.sandbox.gokeep().arg("prune").args(rule).args(["--yes", "--json", "--modcache", &rerun_arg]));
        again();
        let second = again();
        assert_eq!(second["plan"]["total_items"], 0, "{what}: the second re-run found more to do: {second:#}");
        let build = fx.sandbox.go(&fx.consumer, &["build", "./..."]);
        assert_go_ok(&build, &format!("{what}: go build"));
    }
    panic!("prune {rule:?} made {MAX_FAILPOINT} mutations without finishing");
}

#[test]
fn prune_aborted_after_each_mutation_leaves_a_complete_tree_or_none_and_a_rerun_finishes() {
    let fx = Fixture::with_modules(vec![small_module()]);
    let pristine = fx.sandbox.root().join("pristine-modcache");
    fresh_copy(&fx.modcache(), &pristine);
    // The whole version (lock, zip, grace, lock, .partial, tree, files, list,
    // .partial), then only the tree (lock, .partial, tree, .partial).
    let whole = each_failpoint(&fx, &pristine, &["--all"]);
    let trees = fx.sandbox.root().join("trees-only.toml");
    std::fs::write(&trees, "[modcache]\nzips_only_after = \"1s\"\n").unwrap();
    let trees = trees.display().to_string();
    let tree_only = each_failpoint(&fx, &pristine, &["--policy", &trees]);
    eprintln!("stopped after each of {whole} mutations of a whole-version removal and {tree_only} of a tree removal");
    // Each removal makes at least: the lock, the marker, the tree's files
    // and directories, the marker again.
    let files = fx.published[0].zip_files().len() as u64;
    assert!(whole > files + 4 && tree_only > files + 3, "too few mutations counted: {whole}, {tree_only}");
}
