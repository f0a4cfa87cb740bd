//! The run journal (`gokeep log`): a failed append leaves no torn line, and
//! every command that deletes records its run.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn state_dir(fx: &Fixture) -> PathBuf {
    fx.sandbox.root().join("state")
}

fn gokeep(fx: &Fixture) -> assert_cmd::Command {
    let mut cmd = fx.sandbox.gokeep();
    cmd.env("GOKEEP_STATE_DIR", state_dir(fx));
    cmd
}

/// `gokeep log --json`: the entries and the unreadable lines.
fn log(fx: &Fixture) -> (Vec<Value>, Vec<Value>, String) {
    let r = cmd(gokeep(fx).args(["log", "--json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json;
    let list = |k: &str| v[k].as_array().unwrap_or_else(|| panic!("no {k}: {v:#}")).clone();
    (list("entries"), list("unreadable_lines"), r.stderr)
}

/// gokeep with files limited to `limit` bytes (`RLIMIT_FSIZE`, set by
/// util-linux `prlimit`): a write past it fails with EFBIG after writing what
/// fits, as on a full disk. SIGXFSZ is ignored (`trap '' XFSZ`, inherited
/// through exec) so the write fails rather than killing the process.
fn gokeep_with_file_limit(fx: &Fixture, limit: u64, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("sh");
    cmd.current_dir(fx.sandbox.root()).env_clear().envs(fx.sandbox.go_env());
    cmd.env("GOKEEP_STATE_DIR", state_dir(fx));
    cmd.args(["-c", "trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$@\"", &limit.to_string()]);
    cmd.arg(gokeep_bin()).args(args);
    let out = cmd.output().expect("running sh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("prlimit: not found"), "this test needs util-linux `prlimit`: {err}");
    out
}

fn journal(fx: &Fixture) -> PathBuf {
    state_dir(fx).join("journal.jsonl")
}

fn len(p: &Path) -> u64 {
    fs::metadata(p).unwrap().len()
}

#[test]
fn an_append_that_fails_part_way_leaves_no_torn_line() {
    let fx = Fixture::standard();
    // Two runs that remove nothing are journaled too.
    for _ in 0..2 {
        run_ok(gokeep(&fx).args(["prune", "--max-age", "3650d", "--yes"]));
    }
    let before = fs::read_to_string(journal(&fx)).unwrap();
    // Room for a few bytes of the next line, not all of it.
    let out = gokeep_with_file_limit(&fx, before.len() as u64 + 16, &["prune", "--all", "--yes"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not journaled") && err.contains("File too large"), "the failure is said: {err}");
    assert!(cached_versions(&fx).is_empty(), "the prune itself ran: {err}");
    assert_eq!(fs::read_to_string(journal(&fx)).unwrap(), before, "the partial line was taken back");

    let (entries, bad, err) = log(&fx);
    assert!(bad.is_empty() && !err.contains("unreadable"), "{bad:?} {err}");
    assert_eq!(entries.len(), 2);
    // The next run is journaled as usual.
    run_ok(gokeep(&fx).args(["prune", "--all", "--yes"]));
    let (entries, bad, _) = log(&fx);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(entries.len(), 3);
    assert!(len(&journal(&fx)) > before.len() as u64);
}

/// Makes one file of `module@version`'s extracted tree differ from its zip.
fn edit_tree(fx: &Fixture, module: &str, version: &str) {
    let dir = fx.extracted_dir(module, version);
    GoSandbox::make_writable(&dir);
    let f = dir.join("helper.go");
    let mut perms = fs::metadata(&f).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    fs::set_permissions(&f, perms).unwrap();
    fs::write(&f, "package c\n\n// edited\n").unwrap();
}

#[test]
fn removals_by_verify_fix_are_journaled() {
    let fx = Fixture::standard();
    edit_tree(&fx, "example.com/c", "v1.0.0");
    let (code, _, err) = run(gokeep(&fx).args(["verify", "--no-project", "--fix", "--yes"]));
    assert_eq!(code, 0, "the fix repaired what was found, and the check after it is clean: {err}");
    assert!(!fx.extracted_dir("example.com/c", "v1.0.0").exists(), "the modified tree was removed: {err}");

    let (entries, bad, _) = log(&fx);
    assert!(bad.is_empty(), "{bad:?}");
    let [e] = entries.as_slice() else { panic!("one run journaled: {entries:#?}") };
    assert!(e["command"].as_str().unwrap().starts_with("verify"), "{e:#}");
    assert!(e["files"].as_u64().unwrap() >= 3, "the tree's files are counted: {e:#}");
    assert_eq!(e["items"], 1);
    assert_eq!(e["modcache"].as_str().map(PathBuf::from), Some(fx.modcache()));
}

#[test]
fn removals_by_explain_fix_are_journaled() {
    let fx = Fixture::standard();
    // The cached zip is not what was published; with no tree and no
    // .ziphash go re-hashes it against go.sum and fails.
    let (m, v) = ("example.com/c", "v1.0.0");
    let evil = fx.module(m, v).clone().file("evil.go", "package c\n\nvar Evil = 1\n");
    let zip = fx.download_file(m, v, "zip");
    fs::write(&zip, evil.zip_bytes()).unwrap();
    let hour_ago = filetime::FileTime::from_unix_time(filetime::FileTime::now().unix_seconds() - 3600, 0);
    filetime::set_file_mtime(&zip, hour_ago).unwrap();
    fs::remove_file(fx.download_file(m, v, "ziphash")).unwrap();
    let dir = fx.extracted_dir(m, v);
    GoSandbox::make_writable(&dir);
    fs::remove_dir_all(&dir).unwrap();
    let build = fx.sandbox.go(&fx.consumer, &["build", "./..."]);
    let stderr = String::from_utf8_lossy(&build.stderr).into_owned();
    assert!(stderr.contains("checksum mismatch"), "{stderr}");

    let out = gokeep(&fx)
        .args(["explain", "--online", "--fix", "--yes", "--project"])
        .arg(&fx.consumer)
        .write_stdin(stderr.into_bytes())
        .output()
        .unwrap();
    assert!(!zip.exists(), "the corrupted zip was removed: {}", String::from_utf8_lossy(&out.stderr));

    let (entries, bad, _) = log(&fx);
    assert!(bad.is_empty(), "{bad:?}");
    let [e] = entries.as_slice() else { panic!("one run journaled: {entries:#?}") };
    assert!(e["command"].as_str().unwrap().starts_with("explain"), "{e:#}");
    assert!(e["files"].as_u64().unwrap() >= 1, "{e:#}");
    assert!(e["disk_bytes"].as_u64().unwrap() > 0, "{e:#}");
}
