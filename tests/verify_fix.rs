//! `gokeep verify --fix` acts on what verify found, in the caches it checked:
//! build cache findings carry fixes, and `--redownload` fills the module
//! cache that was fixed, not the environment's.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

const C: (&str, &str) = ("example.com/c", "v1.0.0");

fn verify_json(fx: &Fixture, args: &[&str]) -> (i32, Value, String) {
    let r = cmd(fx.sandbox.gokeep().arg("verify").arg("--json").args(args));
    (r.code, r.json, r.stderr)
}

/// Every `-d` output larger than a few bytes and every `-a` action entry, sorted.
fn build_entries(gocache: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let outputs = gocache_entries(gocache, "-d")
        .into_iter()
        .filter(|p| p.symlink_metadata().is_ok_and(|m| m.is_file() && m.len() > 10))
        .collect();
    (outputs, gocache_entries(gocache, "-a"))
}

#[test]
fn build_cache_findings_are_removed_by_fix_and_verify_then_passes() {
    let fx = Fixture::standard();
    let (outputs, actions) = build_entries(&fx.gocache());
    // One output corrupted in place (same size), one action entry truncated.
    let output = &outputs[0];
    let mut data = fs::read(output).unwrap();
    data[5] ^= 1;
    fs::write(output, data).unwrap();
    let action = &actions[actions.len() / 2];
    fs::write(action, b"v1 short\n").unwrap();

    let (code, v, _) = verify_json(&fx, &["--no-project", "--build-cache"]);
    assert_eq!(code, 1, "{:#}", v["findings"]);
    for f in v["findings"].as_array().unwrap() {
        let targets = f["fix"]["targets"].as_array().unwrap_or_else(|| panic!("no fix: {f:#}"));
        assert!(!targets.is_empty(), "{f:#}");
    }

    let (code, v, err) = verify_json(&fx, &["--no-project", "--build-cache", "--fix", "--yes"]);
    assert_eq!(code, 0, "everything found was repaired and checked again: {err}");
    assert!(!v["findings"].as_array().unwrap().is_empty(), "what was found is still reported");
    assert_eq!(v["after_fix"]["findings"], serde_json::json!([]), "{:#}", v["after_fix"]);
    assert_eq!(v["fix"]["applied"], true, "{:#}\n{err}", v["fix"]);
    assert_eq!(v["fix"]["removal"]["failures"], serde_json::json!([]), "{:#}", v["fix"]);
    assert!(!output.exists() && !action.exists(), "both bad entries were removed: {err}");

    let (code, v, _) = verify_json(&fx, &["--no-project", "--build-cache"]);
    assert_eq!(code, 0, "verify passes after the fix: {:#}", v["findings"]);
    // go takes the missing entries for misses and rebuilds.
    fx.consumer_go_build_ok();
    let (code, v, _) = verify_json(&fx, &["--no-project", "--build-cache"]);
    assert_eq!(code, 0, "{:#}", v["findings"]);
}

#[test]
fn redownload_fills_the_module_cache_given_with_modcache_not_the_environments() {
    let fx = Fixture::standard();
    let other = fx.sandbox.root().join("other-modcache");
    let status = Command::new("cp").arg("-a").arg(fx.modcache()).arg(&other).status().unwrap();
    assert!(status.success());
    let env_cache_before = snapshot(&fx.modcache());
    // The other cache's copy of C has a modified zip.
    let rel = fx.download_file(C.0, C.1, "zip").strip_prefix(fx.modcache()).unwrap().to_owned();
    let zip = other.join(&rel);
    let mut data = fs::read(&zip).unwrap();
    let n = data.len();
    data[n / 2] ^= 1;
    fs::write(&zip, data).unwrap();

    let mc = other.to_str().unwrap();
    let (code, v, err) = verify_json(&fx, &["--modcache", mc, "--no-project", "--fix", "--yes", "--redownload"]);
    assert_eq!(code, 0, "repaired and downloaded again: {err}");
    assert_eq!(v["fix"]["redownloaded"], serde_json::json!([format!("{}@{}", C.0, C.1)]), "{:#}\n{err}", v["fix"]);
    assert!(zip.is_file(), "the zip is back in the cache that was fixed: {err}");
    let tree = other.join(fx.module(C.0, C.1).extracted_rel());
    assert!(tree.join("c.go").is_file(), "and its tree: {err}");
    assert_same(&env_cache_before, &snapshot(&fx.modcache()));

    let (code, v, _) = verify_json(&fx, &["--modcache", mc, "--no-project"]);
    assert_eq!(code, 0, "the fixed cache verifies: {:#}", v["findings"]);
}

/// Issue 12 item 3, on a real terminal (`script` gives gokeep a pty): what
/// was found and the plan with its reasons come before the question, the
/// question counts in plain words, and after the fix the removed entries are
/// checked again, so a repaired cache exits 0.
#[test]
fn on_a_terminal_fix_shows_the_findings_and_reasons_then_asks_then_checks_again() {
    let fx = Fixture::standard();
    let tree = fx.extracted_dir(C.0, C.1);
    GoSandbox::make_writable(&tree);
    fs::write(tree.join("helper.go"), "package c\n\n// Edited by hand.\n").unwrap();
    let cmd = format!("{} verify --no-project --fix", gokeep_bin().display());
    let mut script = Command::new("script");
    script.args(["-qec", &cmd, "/dev/null"]).current_dir(fx.sandbox.root()).env_clear().envs(fx.sandbox.go_env());
    script.env("TERM", "dumb").env("NO_COLOR", "1");
    let out = script.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut child = out;
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"YES\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert_eq!(out.status.code(), Some(0), "{text}");
    let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"));
    let finding = at("dir_modified");
    let because = at("because dir_modified");
    let question = at("Remove 1 entry? [y/N]");
    let after = at("After --fix:");
    assert!(finding < because && because < question && question < after, "{text}");
    assert!(text[after..].contains("All verified"), "{text}");
    assert!(!tree.exists(), "the modified tree was removed: {text}");
}
