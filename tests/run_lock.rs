//! gokeep's run lock: a scheduled run (`--if-idle`, as the timer and the
//! crontab line run it) skips while another gokeep run holds the lock; a run
//! started by hand says who holds it and waits.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;

use common::*;
use gokeep::state::run_lock::{self, Attempt, RunLock};

fn state_dir(fx: &Fixture) -> PathBuf {
    fx.sandbox.root().join("state")
}

/// The run lock, held the way a running gokeep holds it.
fn hold(fx: &Fixture) -> RunLock {
    match run_lock::try_acquire(&state_dir(fx), "prune --policy nightly.toml --yes").unwrap() {
        Attempt::Acquired(l) => l,
        Attempt::Busy { .. } => panic!("nothing else holds this sandbox's run lock"),
    }
}

#[test]
fn a_scheduled_prune_skips_while_another_run_holds_the_lock() {
    let fx = Fixture::standard();
    fx.download_all();
    let before = cached_versions(&fx);
    assert!(!before.is_empty());
    let lock = hold(&fx);
    for (case, env) in [("--if-idle flag", None), ("GOKEEP_IF_IDLE=1", Some(("GOKEEP_IF_IDLE", "1")))] {
        let mut cmd = fx.sandbox.gokeep();
        cmd.env("GOKEEP_STATE_DIR", state_dir(&fx));
        if let Some((k, v)) = env {
            cmd.env(k, v).args(["prune", "--all", "--yes"]);
        } else {
            cmd.args(["--if-idle", "prune", "--all", "--yes"]);
        }
        let (code, _, err) = run(&mut cmd);
        assert_eq!(code, 0, "{case}: {err}");
        let holder = format!("pid {} (prune --policy nightly.toml --yes)", std::process::id());
        assert!(err.contains("skipped") && err.contains(&holder), "{case}: {err}");
        assert_eq!(cached_versions(&fx), before, "{case}: a skipped run removed something");
    }
    drop(lock);
    let mut cmd = fx.sandbox.gokeep();
    cmd.env("GOKEEP_STATE_DIR", state_dir(&fx)).args(["--if-idle", "prune", "--all", "--yes"]);
    run_ok(&mut cmd);
    assert!(cached_versions(&fx).is_empty(), "an idle scheduled run prunes");
}

#[test]
fn a_prune_started_by_hand_says_who_holds_the_lock_and_waits_for_it() {
    let fx = Fixture::standard();
    fx.download_all();
    let before = cached_versions(&fx);
    let lock = hold(&fx);
    let mut child = std::process::Command::new(gokeep_bin())
        .current_dir(fx.sandbox.root())
        .env_clear()
        .envs(fx.sandbox.go_env())
        .env("GOKEEP_STATE_DIR", state_dir(&fx))
        .args(["prune", "--all", "--yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let holder = format!("pid {} (prune --policy nightly.toml --yes)", std::process::id());
    assert!(line.contains("waiting for") && line.contains(&holder), "{line}");
    // It says so before it blocks on the lock this test holds: nothing can have gone.
    assert_eq!(cached_versions(&fx), before);
    drop(lock);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{rest}");
    assert!(cached_versions(&fx).is_empty(), "the waiting run pruned once the lock was free: {rest}");
}
