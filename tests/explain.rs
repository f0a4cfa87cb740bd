//! `gokeep explain` on `checksum mismatch` errors the real `go` printed.

mod common;

use std::fs;

use common::*;
use serde_json::Value;

const C: (&str, &str) = ("example.com/c", "v1.0.0");
const LIB: (&str, &str) = ("example.com/Org/Lib", "v1.1.0");

/// Runs `go build ./...` in the consumer, expecting it to fail; returns stderr.
fn failing_build(fx: &Fixture) -> String {
    let out = fx.sandbox.go(&fx.consumer, &["build", "./..."]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "go build should fail:\n{stderr}");
    assert!(stderr.contains("checksum mismatch"), "go build failed otherwise:\n{stderr}");
    stderr
}

fn explain_json(fx: &Fixture, input: &str, extra: &[&str]) -> (i32, Value) {
    let out = fx
        .sandbox
        .gokeep()
        .args(["explain", "--json", "--project"])
        .arg(&fx.consumer)
        .args(extra)
        .write_stdin(input.as_bytes().to_vec())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON ({e}):\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap(), v)
}

fn witness<'a>(e: &'a Value, name_prefix: &str) -> &'a Value {
    e["witnesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"].as_str().unwrap().starts_with(name_prefix))
        .unwrap_or_else(|| panic!("no witness {name_prefix}: {:#}", e["witnesses"]))
}

fn set_go_sum_hash(fx: &Fixture, module: &str, version_field: &str, new_hash: &str) -> String {
    let p = fx.consumer.join("go.sum");
    let sum = fs::read_to_string(&p).unwrap();
    let prefix = format!("{module} {version_field} ");
    let line =
        sum.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {prefix} in {sum}")).to_owned();
    fs::write(&p, sum.replace(&line, &format!("{prefix}{new_hash}"))).unwrap();
    line.rsplit(' ').next().unwrap().to_owned()
}

#[test]
fn edited_go_sum_line_is_blamed_on_go_sum() {
    let fx = Fixture::standard();
    let wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let right = set_go_sum_hash(&fx, C.0, C.1, wrong);
    let stderr = failing_build(&fx);
    assert!(stderr.contains(&format!("verifying {}@{}: checksum mismatch", C.0, C.1)), "{stderr}");

    let (code, v) = explain_json(&fx, &stderr, &[]);
    assert_eq!(code, 1);
    let e = &v["explanations"][0];
    assert_eq!(e["mismatch"]["module"], C.0);
    assert_eq!(e["mismatch"]["version"], C.1);
    assert_eq!(e["mismatch"]["go_mod"], false);
    assert_eq!(e["mismatch"]["against"]["label"], "go.sum");
    assert_eq!(e["mismatch"]["downloaded"], right.as_str());
    assert_eq!(e["mismatch"]["recorded"], wrong);
    assert_eq!(e["verdict"], "go_sum_wrong");
    let gs = witness(e, "go.sum");
    assert_eq!(gs["agrees_with_recorded"], true);
    assert_eq!(gs["path"], fx.consumer.join("go.sum").to_str().unwrap());
    for w in ["cached .ziphash", "cached zip", "extracted tree"] {
        assert_eq!(witness(e, w)["agrees_with_downloaded"], true, "{w}");
    }
    assert_eq!(e["fix_removes_cache_copy"], false);

    // The text names the verdict and never offers to accept the new hash.
    let text = fx
        .sandbox
        .gokeep()
        .args(["explain", "--project"])
        .arg(&fx.consumer)
        .write_stdin(stderr.into_bytes())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Verdict: go.sum is wrong or was edited"), "{text}");
    assert!(!text.contains(&format!("{} {} {right}", C.0, C.1)), "must not print a replacement go.sum line:\n{text}");
}

#[test]
fn edited_go_mod_line_is_decoded_as_the_go_mod_variant() {
    let fx = Fixture::standard();
    let wrong = "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";
    let right = set_go_sum_hash(&fx, LIB.0, &format!("{}/go.mod", LIB.1), wrong);
    let stderr = failing_build(&fx);
    assert!(stderr.contains(&format!("verifying {}@{}/go.mod: checksum mismatch", LIB.0, LIB.1)), "{stderr}");
    let (_, v) = explain_json(&fx, &stderr, &[]);
    let e = &v["explanations"][0];
    assert_eq!(e["mismatch"]["module"], LIB.0);
    assert_eq!(e["mismatch"]["go_mod"], true);
    assert_eq!(e["mismatch"]["downloaded"], right.as_str());
    assert_eq!(witness(e, "cached .mod")["agrees_with_downloaded"], true);
    assert_eq!(witness(e, "go.sum")["agrees_with_recorded"], true);
    assert_eq!(e["verdict"], "go_sum_wrong");
}

#[test]
fn tampered_cache_zip_is_blamed_on_the_cache_and_fixed() {
    let fx = Fixture::standard();
    // Bits nobody published: a well-formed zip with an extra file, no
    // .ziphash and no tree, so go re-hashes it against go.sum.
    let evil = fx.module(C.0, C.1).clone().file("evil.go", "package c\n\nvar Evil = 1\n");
    let zip = fx.download_file(C.0, C.1, "zip");
    fs::write(&zip, evil.zip_bytes()).unwrap();
    // Corruption found later, not a zip go wrote a second ago (the executor
    // leaves a fresh zip without a tree alone: that is go between download
    // and extraction).
    let hour_ago = filetime::FileTime::from_unix_time(filetime::FileTime::now().unix_seconds() - 3600, 0);
    filetime::set_file_mtime(&zip, hour_ago).unwrap();
    fs::remove_file(fx.download_file(C.0, C.1, "ziphash")).unwrap();
    let dir = fx.extracted_dir(C.0, C.1);
    GoSandbox::make_writable(&dir);
    fs::remove_dir_all(&dir).unwrap();
    let stderr = failing_build(&fx);

    // Offline, the cache holds one consistent copy: go.sum looks like the odd one out...
    let (_, v) = explain_json(&fx, &stderr, &[]);
    assert_eq!(v["explanations"][0]["confidence"], "likely");
    // ...the proxy (file:// here) settles it.
    let (_, v) = explain_json(&fx, &stderr, &["--online"]);
    let e = &v["explanations"][0];
    assert_eq!(e["verdict"], "cache_corrupted", "{e:#}");
    assert_eq!(e["confidence"], "confirmed");
    assert_eq!(witness(e, "module proxy")["agrees_with_recorded"], true);
    assert_eq!(witness(e, "cached zip")["agrees_with_downloaded"], true);
    assert_eq!(e["fix_removes_cache_copy"], true);

    let (_, v) = explain_json(&fx, &stderr, &["--online", "--fix", "--yes", "--redownload"]);
    assert_eq!(v["fix"]["applied"], true, "{:#}", v["fix"]);
    assert_eq!(v["fix"]["removal"]["skipped"], serde_json::json!([]), "{:#}", v["fix"]);
    assert_eq!(v["fix"]["redownloaded"], serde_json::json!(["example.com/c@v1.0.0"]));
    fx.consumer_go_build_ok();
    let out = fx.consumer_go_mod_verify();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn input_without_a_mismatch_is_a_usage_error() {
    let fx = Fixture::standard();
    fx.sandbox
        .gokeep()
        .args(["explain", "go: all good"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no \"checksum mismatch\""));
}
