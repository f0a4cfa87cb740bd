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
    assert_eq!(code, 1, "what was found is still reported: {err}");
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
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["fix"]["redownloaded"], serde_json::json!([format!("{}@{}", C.0, C.1)]), "{:#}\n{err}", v["fix"]);
    assert!(zip.is_file(), "the zip is back in the cache that was fixed: {err}");
    let tree = other.join(fx.module(C.0, C.1).extracted_rel());
    assert!(tree.join("c.go").is_file(), "and its tree: {err}");
    assert_same(&env_cache_before, &snapshot(&fx.modcache()));

    let (code, v, _) = verify_json(&fx, &["--modcache", mc, "--no-project"]);
    assert_eq!(code, 0, "the fixed cache verifies: {:#}", v["findings"]);
}
