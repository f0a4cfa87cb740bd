//! Ctrl-C during `gokeep prune`: a real SIGINT stops the executor between
//! items. The run exits 130, every version is either whole, whole but for
//! its zip (a state go reads and `go mod verify` accepts) or gone, and no
//! version after the one in hand was touched.

mod common;

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn modules() -> Vec<Module> {
    (0..8)
        .map(|i| {
            let path = format!("example.com/many{i}");
            Module::new(&path, "v1.0.0").file(
                &format!("many{i}.go"),
                format!("// Package many{i} is a test fixture.\npackage many{i}\n\n// Name says which module this is.\nfunc Name() string {{ return \"{path}\" }}\n"),
            )
        })
        .collect()
}

#[test]
fn sigint_during_prune_exits_130_after_the_item_in_hand_and_go_mod_verify_passes() {
    let fx = Fixture::with_modules(modules());
    // The plan's order is the executor's order with one worker.
    let plan = run_ok(fx.sandbox.gokeep().args(["prune", "--all", "--dry-run", "--json", "--threads", "1"]));
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let versions: Vec<&Module> = plan["plan"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["target"]["kind"] == "module_version")
        .map(|i| fx.module(i["target"]["module"].as_str().unwrap(), i["target"]["version"].as_str().unwrap()))
        .collect();
    assert_eq!(versions.len(), fx.modules.len(), "{plan:#}");
    let held = 3;

    // Holding the fourth version's lock, as a running go command would,
    // keeps gokeep at that item until the signal has been sent.
    let lock = File::open(fx.modcache().join(versions[held].download_file_rel("lock"))).unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let mut child = Command::new(gokeep_bin())
        .current_dir(fx.sandbox.root())
        .env_clear()
        .envs(fx.sandbox.go_env())
        .args(["prune", "--all", "--yes", "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting gokeep");
    let zip = |m: &Module| fx.modcache().join(m.download_file_rel("zip"));
    let deadline = Instant::now() + Duration::from_secs(120);
    while zip(versions[held - 1]).exists() {
        assert!(child.try_wait().unwrap().is_none(), "gokeep ended before it reached the held version");
        assert!(Instant::now() < deadline, "gokeep never reached the held version");
        std::thread::sleep(Duration::from_millis(5));
    }
    let st = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    drop(lock);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");

    for m in &versions[held + 1..] {
        assert!(zip(m).exists(), "{} was started after the interrupt", m.id());
    }
    for m in &versions {
        let tree = fx.modcache().join(m.extracted_rel());
        let partial = fx.modcache().join(m.download_file_rel("partial"));
        let ziphash = fx.modcache().join(m.download_file_rel("ziphash"));
        assert!(
            partial.exists() || !tree.exists() || ziphash.exists(),
            "{}: a tree left without its .ziphash and without a .partial",
            m.id()
        );
    }
    assert_go_ok(&fx.consumer_go_mod_verify(), "go mod verify after the interrupt");
    fx.consumer_go_build_ok();
    // A second run finishes the job.
    run_ok(fx.sandbox.gokeep().args(["prune", "--all", "--yes"]));
    assert!(cached_versions(&fx).is_empty());
}
