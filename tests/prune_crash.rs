//! Crash safety: `gokeep prune` killed with SIGKILL at moments spread over a
//! whole run never leaves a module cache that `go` cannot use: afterwards
//! `go build` (with the `file://` proxy) and `go mod verify` always succeed.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::*;

const TRIALS: u32 = 32;

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

    let mut killed_mid_run = 0;
    for trial in 0..TRIALS {
        fresh_copy(&pristine, &fx.modcache());
        let (rule, full): (&[&str], _) =
            if trial % 2 == 0 { (&["--all"], full_all) } else { (&["--policy", &zips_only], full_trees) };
        let delay = full.mul_f64(f64::from(trial) / f64::from(TRIALS) * 1.1);
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
        if !status.success() {
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
    assert!(killed_mid_run >= TRIALS / 2, "only {killed_mid_run} of {TRIALS} runs were killed before they ended");
}
