//! `gokeep verify` against caches the real `go` built, with one fault
//! injected at a time, compared with `go mod verify` on the same cache.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use serde_json::Value;

/// A module the consumer builds with (so `go mod verify` checks it too).
const A: (&str, &str) = ("example.com/a", "v1.2.0");
const LIB: (&str, &str) = ("example.com/Org/Lib", "v1.1.0");
const C: (&str, &str) = ("example.com/c", "v1.0.0");
const OLD: (&str, &str) = ("example.com/old", "v2.0.0+incompatible");

fn verify_json(fx: &Fixture, extra: &[&str]) -> (i32, Value) {
    let r = cmd(fx.sandbox.gokeep().args(["verify", "--json", "--project"]).arg(&fx.consumer).args(extra));
    (r.code, r.json)
}

/// `(kind, module@version)` of every warning or error.
fn flagged(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            let mv = format!("{}@{}", f["module"].as_str().unwrap_or(""), f["version"].as_str().unwrap_or(""));
            (f["kind"].as_str().unwrap().to_owned(), mv)
        })
        .collect()
}

fn finding<'a>(v: &'a Value, kind: &str, m: (&str, &str)) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind && f["module"] == m.0 && f["version"] == m.1)
        .unwrap_or_else(|| panic!("no {kind} finding for {}@{} in {:#}", m.0, m.1, v["findings"]))
}

/// The module versions `go mod verify` (run in the consumer) complains about.
fn go_mod_verify_flags(fx: &Fixture) -> (bool, BTreeSet<String>) {
    let out = fx.consumer_go_mod_verify();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut set = BTreeSet::new();
    for line in stderr.lines() {
        // `<path> <version>: zip has been modified (...)`, `... missing ziphash`, ...
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 2 && words[1].ends_with(':') && words[1].starts_with('v') {
            set.insert(format!("{}@{}", words[0], words[1].trim_end_matches(':')));
        }
        // `verifying <path>@<version>[/go.mod]: checksum mismatch`
        if let Some(rest) = line.split("verifying ").nth(1)
            && let Some(id) = rest.strip_suffix(": checksum mismatch")
        {
            set.insert(id.trim_end_matches("/go.mod").to_owned());
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.success(), stdout.contains("all modules verified"), "go mod verify: {stdout}\n{stderr}");
    (out.status.success(), set)
}

/// Every module `go mod verify` flags, gokeep flags too; `go_must_flag`
/// pins that go does see the fault (so the comparison is not vacuous).
fn assert_gokeep_covers_go(fx: &Fixture, v: &Value, go_must_flag: Option<(&str, &str)>) {
    let (_, go_flags) = go_mod_verify_flags(fx);
    if let Some((m, ver)) = go_must_flag {
        assert!(go_flags.contains(&format!("{m}@{ver}")), "go mod verify does not flag {m}@{ver}: {go_flags:?}");
    }
    let ours: BTreeSet<String> = flagged(v).into_iter().map(|(_, mv)| mv).collect();
    for m in &go_flags {
        assert!(ours.contains(m), "go mod verify flags {m}, gokeep does not: {ours:?}");
    }
}

/// Runs `f` on an extracted tree made writable, then makes it read-only again.
fn with_writable_tree(dir: &Path, f: impl FnOnce()) {
    GoSandbox::make_writable(dir);
    f();
    for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if e.file_type().is_dir() {
            fs::set_permissions(e.path(), fs::Permissions::from_mode(0o555)).unwrap();
        }
    }
}

#[test]
fn clean_cache_gokeep_and_go_mod_verify_both_report_nothing() {
    let fx = Fixture::standard();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{:#}", v["findings"]);
    assert_eq!(code, 0);
    assert_eq!(v["modcache"]["versions_checked"], fx.modules.len());
    let (ok, flags) = go_mod_verify_flags(&fx);
    assert!(ok && flags.is_empty());
    // The text form says so too.
    fx.sandbox
        .gokeep()
        .args(["verify", "--project"])
        .arg(&fx.consumer)
        .assert()
        .success()
        .stdout(predicates::str::contains("no problems found"));
}

/// `go build` fetches `.info` only for versions it resolves from a query;
/// versions pinned in a go.mod get just `.mod` and `.zip`. Such a cache is
/// as go leaves it, not an incomplete download.
#[test]
fn zips_go_fetched_without_info_by_building_are_no_finding() {
    // example.com/x needs example.com/w only on Windows: go mod tidy, which
    // loads every build tag, downloads w's zip; nothing asks for its .info.
    let mut modules = standard_modules();
    modules.push(
        Module::new("example.com/w", "v1.0.0")
            .file("w.go", "package w\n\n// Name is w's.\nfunc Name() string { return \"w\" }\n"),
    );
    modules.push(
        Module::new("example.com/x", "v1.0.0")
            .require("example.com/w", "v1.0.0")
            .file("x.go", "package x\n\n// Name is x's.\nfunc Name() string { return \"x\" }\n")
            .file("x_windows.go", "package x\n\nimport _ \"example.com/w\"\n"),
    );
    let fx = Fixture::published_only(modules);
    fs::write(fx.consumer.join("go.mod"), "module example.com/consumer\n\ngo 1.21\n\nrequire example.com/x v1.0.0\n")
        .unwrap();
    fs::write(
        fx.consumer.join("consumer.go"),
        "package consumer\n\nimport \"example.com/x\"\n\n// Name is x's.\nfunc Name() string { return x.Name() }\n",
    )
    .unwrap();
    fx.sandbox.go_ok(&fx.consumer, &["mod", "tidy"]);
    fx.consumer_go_build_ok();
    let without_info: Vec<_> = fx
        .modules
        .iter()
        .filter(|(p, v)| fx.download_file(p, v, "zip").exists() && !fx.download_file(p, v, "info").exists())
        .collect();
    assert!(!without_info.is_empty(), "go build fetched .info for every version: the test no longer pins anything");
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{:#}", v["findings"]);
    assert_eq!(code, 0);
    let (ok, flags) = go_mod_verify_flags(&fx);
    assert!(ok && flags.is_empty());
}

#[test]
fn hashes_match_what_go_wrote_in_ziphash_and_go_sum() {
    // A clean cache means every zip and tree hashed to its .ziphash and every
    // go.sum line matched: check that the go.sum lines were actually compared.
    let fx = Fixture::standard();
    let sum = fs::read_to_string(fx.consumer.join("go.sum")).unwrap();
    assert!(sum.lines().count() >= 10, "{sum}");
    let lib_hash = fs::read_to_string(fx.download_file(LIB.0, LIB.1, "ziphash")).unwrap();
    assert!(sum.contains(&format!("{} {} {lib_hash}", LIB.0, LIB.1)), "go.sum and .ziphash agree");
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 0, "{:#}", v["findings"]);
    // Tamper with nothing but the expected value: gokeep must notice.
    let wrong = sum.replace(&lib_hash, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    fs::write(fx.consumer.join("go.sum"), wrong).unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let f = finding(&v, "go_sum_mismatch", LIB);
    assert_eq!(f["actual"], lib_hash.as_str());
}

#[test]
fn flipped_byte_in_zip_is_flagged_like_go_mod_verify() {
    let fx = Fixture::standard();
    let zip = fx.download_file(A.0, A.1, "zip");
    let mut data = fs::read(&zip).unwrap();
    let mid = data.len() / 3;
    data[mid] ^= 0x55;
    fs::write(&zip, data).unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let kinds: Vec<(String, String)> = flagged(&v);
    assert!(
        kinds.iter().any(|(k, mv)| (k == "zip_modified" || k == "zip_unreadable") && mv == "example.com/a@v1.2.0"),
        "{kinds:?}"
    );
    assert_gokeep_covers_go(&fx, &v, Some(A));
}

#[test]
fn edited_file_in_tree_is_named_as_modified() {
    let fx = Fixture::standard();
    let dir = fx.extracted_dir(A.0, A.1);
    with_writable_tree(&dir, || {
        let f = dir.join("helper.go");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&f, "package a\n\n// edited\n").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o444)).unwrap();
    });
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let f = finding(&v, "dir_modified", A);
    assert_eq!(f["diff"]["modified"], serde_json::json!(["helper.go"]));
    assert_eq!(f["diff"]["added"], serde_json::json!([]));
    assert_eq!(f["expected"], fs::read_to_string(fx.download_file(A.0, A.1, "ziphash")).unwrap().as_str());
    assert_eq!(f["fix"]["targets"][0]["kind"], "extracted_tree");
    assert_gokeep_covers_go(&fx, &v, Some(A));
}

#[test]
fn added_file_in_tree_is_named_as_added() {
    let fx = Fixture::standard();
    let dir = fx.extracted_dir(LIB.0, LIB.1);
    with_writable_tree(&dir, || fs::write(dir.join("sub/extra.go"), "package sub\n").unwrap());
    let (_, v) = verify_json(&fx, &[]);
    let f = finding(&v, "dir_modified", LIB);
    assert_eq!(f["diff"]["added"], serde_json::json!(["sub/extra.go"]));
    assert_gokeep_covers_go(&fx, &v, Some(LIB));
}

#[test]
fn deleted_file_in_tree_is_named_as_removed() {
    let fx = Fixture::standard();
    let dir = fx.extracted_dir(C.0, C.1);
    with_writable_tree(&dir, || fs::remove_file(dir.join("helper.go")).unwrap());
    let (_, v) = verify_json(&fx, &[]);
    let f = finding(&v, "dir_modified", C);
    assert_eq!(f["diff"]["removed"], serde_json::json!(["helper.go"]));
    assert_gokeep_covers_go(&fx, &v, Some(C));
}

#[test]
fn wrong_ziphash_is_blamed_when_zip_and_tree_agree() {
    let fx = Fixture::standard();
    let other = fs::read_to_string(fx.download_file(C.0, C.1, "ziphash")).unwrap();
    fs::write(fx.download_file(A.0, A.1, "ziphash"), &other).unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let f = finding(&v, "ziphash_wrong", A);
    assert_eq!(f["expected"], other.as_str());
    assert_gokeep_covers_go(&fx, &v, Some(A));
}

#[test]
fn missing_ziphash_is_flagged_like_go_mod_verify() {
    let fx = Fixture::standard();
    fs::remove_file(fx.download_file(OLD.0, OLD.1, "ziphash")).unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    finding(&v, "ziphash_missing", OLD);
    let (ok, go) = go_mod_verify_flags(&fx);
    assert!(!ok && go.contains("example.com/old@v2.0.0+incompatible"), "{go:?}");
    assert_gokeep_covers_go(&fx, &v, Some(OLD));
}

#[test]
fn binary_ziphash_is_malformed_not_a_crash() {
    let fx = Fixture::standard();
    fs::write(fx.download_file(A.0, A.1, "ziphash"), [0u8, 0xff, 0x13, 0x37, 0]).unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    finding(&v, "ziphash_malformed", A);
    assert_gokeep_covers_go(&fx, &v, Some(A));
}

#[test]
fn ziphash_with_trailing_newline_is_accepted_like_go() {
    let fx = Fixture::standard();
    let p = fx.download_file(A.0, A.1, "ziphash");
    let h = fs::read_to_string(&p).unwrap();
    assert_eq!(h.len(), 47, "go writes the hash without a newline");
    fs::write(&p, format!("{h}\n")).unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 0, "{:#}", v["findings"]);
    let (ok, _) = go_mod_verify_flags(&fx);
    assert!(ok);
}

#[test]
fn leftover_partial_is_reported_and_its_tree_not_hashed() {
    let fx = Fixture::standard();
    fs::write(fx.download_file(A.0, A.1, "partial"), b"").unwrap();
    // Also modify the tree: go mod verify skips trees with .partial, so must gokeep.
    let dir = fx.extracted_dir(A.0, A.1);
    with_writable_tree(&dir, || fs::write(dir.join("junk.go"), "package a\n").unwrap());
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let f = finding(&v, "partial", A);
    assert_eq!(f["severity"], "warning");
    assert!(flagged(&v).iter().all(|(k, _)| k != "dir_modified"), "{:#}", v["findings"]);
    assert_gokeep_covers_go(&fx, &v, None);
}

#[test]
fn wrong_h1_line_in_go_sum_is_flagged() {
    let fx = Fixture::standard();
    let sum_path = fx.consumer.join("go.sum");
    let sum = fs::read_to_string(&sum_path).unwrap();
    let right = fs::read_to_string(fx.download_file(C.0, C.1, "ziphash")).unwrap();
    let wrong = fs::read_to_string(fx.download_file(A.0, A.1, "ziphash")).unwrap();
    fs::write(&sum_path, sum.replace(&format!("{} {} {right}", C.0, C.1), &format!("{} {} {wrong}", C.0, C.1)))
        .unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let f = finding(&v, "go_sum_mismatch", C);
    assert_eq!(f["expected"], wrong.as_str());
    assert_eq!(f["actual"], right.as_str());
    // No cache finding: the cache is fine, and the fix never touches go.sum.
    assert!(f["fix"]["targets"].as_array().unwrap().is_empty());
    assert_gokeep_covers_go(&fx, &v, None);
}

#[test]
fn wrong_go_mod_line_in_go_sum_is_flagged() {
    let fx = Fixture::standard();
    let sum_path = fx.consumer.join("go.sum");
    let sum = fs::read_to_string(&sum_path).unwrap();
    let prefix = format!("{} {}/go.mod ", LIB.0, LIB.1);
    let line = sum.lines().find(|l| l.starts_with(&prefix)).expect("go.mod line").to_owned();
    let bad = format!("{prefix}h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=");
    fs::write(&sum_path, sum.replace(&line, &bad)).unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let f = finding(&v, "go_sum_go_mod_mismatch", LIB);
    assert_eq!(f["actual"], line.rsplit(' ').next().unwrap());
    let (ok, go) = go_mod_verify_flags(&fx);
    assert!(!ok && go.contains("example.com/Org/Lib@v1.1.0"), "{go:?}");
    assert_gokeep_covers_go(&fx, &v, Some(LIB));
}

#[test]
fn go_sum_garbage_lines_are_findings_not_a_crash() {
    let fx = Fixture::standard();
    let sum_path = fx.consumer.join("go.sum");
    let mut sum = fs::read(&sum_path).unwrap();
    sum.extend_from_slice(b"\x00\xffgarbage line\nexample.com/x v1.0.0\n");
    fs::write(&sum_path, sum).unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let n = v["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "go_sum_malformed").count();
    assert_eq!(n, 2, "{:#}", v["findings"]);
}

#[test]
fn fix_yes_repairs_every_fault_and_go_builds_again() {
    let fx = Fixture::standard();
    // A corrupted zip, an edited tree, a missing .ziphash and a .partial at once.
    let zip = fx.download_file(A.0, A.1, "zip");
    let mut data = fs::read(&zip).unwrap();
    let mid = data.len() / 3;
    data[mid] ^= 0x55;
    fs::write(&zip, data).unwrap();
    let dir = fx.extracted_dir(LIB.0, LIB.1);
    with_writable_tree(&dir, || fs::remove_file(dir.join("LICENSE")).unwrap());
    fs::remove_file(fx.download_file(OLD.0, OLD.1, "ziphash")).unwrap();
    fs::write(fx.download_file(C.0, C.1, "partial"), b"").unwrap();
    let (ok, _) = go_mod_verify_flags(&fx);
    assert!(!ok);

    // Without a terminal and without --yes, --fix only shows the plan.
    let before = fs::read(&zip).unwrap();
    let (code, v) = verify_json(&fx, &["--fix"]);
    assert_eq!(code, 1);
    assert_eq!(v["fix"]["applied"], false);
    assert!(v["fix"]["plan"]["items"].as_array().unwrap().len() >= 4, "{:#}", v["fix"]);
    assert_eq!(fs::read(&zip).unwrap(), before, "dry run removed something");

    let (code, v) = verify_json(&fx, &["--fix", "--yes", "--redownload"]);
    assert_eq!(code, 0, "everything found was repaired, and the check after the fix is clean");
    assert!(!v["findings"].as_array().unwrap().is_empty(), "what was found is still reported");
    assert_eq!(v["after_fix"]["tally"]["errors"], 0, "{:#}", v["after_fix"]);
    assert_eq!(v["fix"]["applied"], true, "{:#}", v["fix"]);
    assert!(v["fix"]["removal"]["failures"].as_array().unwrap().is_empty(), "{:#}", v["fix"]);
    assert_eq!(v["fix"]["removal"]["skipped"], serde_json::json!([]), "{:#}", v["fix"]);

    let (ok, flags) = go_mod_verify_flags(&fx);
    assert!(ok, "go mod verify still flags {flags:?}");
    fx.consumer_go_build_ok();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 0, "{:#}", v["findings"]);
}

#[test]
fn build_cache_entries_are_checked_against_their_format_and_hash() {
    let fx = Fixture::standard();
    let (code, v) = verify_json(&fx, &["--build-cache"]);
    assert_eq!(code, 0, "{:#}", v["findings"]);
    assert!(v["gocache"]["actions_checked"].as_u64().unwrap() > 0);
    // Corrupt one output in place (same size) and truncate one action entry
    // that does not name that output, so each finding has its own cause.
    let outputs: Vec<_> = gocache_entries(&fx.gocache(), "-d")
        .into_iter()
        .filter(|p| p.symlink_metadata().is_ok_and(|m| m.is_file() && m.len() > 10))
        .collect();
    let out = &outputs[0];
    let out_id = out.file_name().unwrap().to_string_lossy().trim_end_matches("-d").to_owned();
    let mut data = fs::read(out).unwrap();
    data[5] ^= 1;
    fs::write(out, data).unwrap();
    let action = gocache_entries(&fx.gocache(), "-a")
        .into_iter()
        .find(|a| !String::from_utf8_lossy(&fs::read(a).unwrap()).contains(&out_id))
        .expect("an action entry naming another output");
    fs::write(&action, b"v1 short\n").unwrap();
    let (code, v) = verify_json(&fx, &["--build-cache"]);
    assert_eq!(code, 1);
    let kinds: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"build_action_malformed"), "{kinds:?}");
    let text = v["findings"].to_string();
    assert!(
        kinds.contains(&"build_output_mismatch") && text.contains(&*out.file_name().unwrap().to_string_lossy()),
        "{:#}",
        v["findings"]
    );
}

#[test]
fn usage_and_environment_errors_have_their_exit_codes() {
    let fx = Fixture::standard();
    let empty = fx.sandbox.root().join("not-a-project");
    fs::create_dir_all(&empty).unwrap();
    let nope = fx.sandbox.root().join("nope");
    let cases: &[(&str, &[&OsStr], i32)] = &[
        ("a project directory without go.mod", &["--project".as_ref(), empty.as_ref()], 2),
        ("--yes without --fix", &["--yes".as_ref()], 2),
        ("a missing module cache", &["--modcache".as_ref(), nope.as_ref()], 4),
    ];
    for (case, args, code) in cases {
        let (got, out, err) = run(fx.sandbox.gokeep().arg("verify").args(*args));
        assert_eq!(got, *code, "{case}:\n--- stdout\n{out}\n--- stderr\n{err}");
    }
}

#[test]
fn go_sum_is_only_edited_for_named_modules_and_never_from_the_cache_alone() {
    let fx = Fixture::standard();
    let sum_path = fx.consumer.join("go.sum");
    let sum = fs::read_to_string(&sum_path).unwrap();
    let right = fs::read_to_string(fx.download_file(C.0, C.1, "ziphash")).unwrap();
    let wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let edited = sum.replace(&format!("{} {} {right}", C.0, C.1), &format!("{} {} {wrong}", C.0, C.1));
    fs::write(&sum_path, &edited).unwrap();

    // --fix --yes alone never touches go.sum; naming another module neither.
    verify_json(&fx, &["--fix", "--yes"]);
    verify_json(&fx, &["--fix", "--yes", "--update-go-sum", "example.com/a"]);
    assert_eq!(fs::read_to_string(&sum_path).unwrap(), edited);

    // GOSUMDB=off: no checksum database record confirms the cache's copy,
    // which could be a tampered one consistent with itself. Refused, and why.
    let (_, v) = verify_json(&fx, &["--fix", "--yes", "--update-go-sum", C.0]);
    assert_eq!(v["fix"]["go_sum_updated"], serde_json::json!([]));
    let refused = &v["fix"]["go_sum_refused"][0];
    assert_eq!(refused["line"], format!("{} {} {wrong}", C.0, C.1));
    assert!(refused["reason"].as_str().unwrap().contains("no checksum database record"), "{refused:#}");
    assert_eq!(fs::read_to_string(&sum_path).unwrap(), edited);
}

/// Sets a 32-bit little-endian field of the first central-directory (`PK\1\2`) or
/// local (`PK\3\4`) header of a zip to 0xFFFFFFFF, leaving the data as it was.
fn claim_max_size(zip: &Path, signature: [u8; 4], offsets: &[usize]) {
    let mut data = fs::read(zip).unwrap();
    let at = data.windows(4).position(|w| w == signature).expect("header signature");
    for off in offsets {
        data[at + off..at + off + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    fs::write(zip, data).unwrap();
}

/// Issue 9 item 10: sizes are read as archive/zip reads them. A central directory that
/// claims 0xFFFFFFFF bytes without a zip64 record is `unexpected EOF` (uncompressed) or not
/// a valid zip (compressed) to go; the local header's sizes are not read by go at all.
#[test]
fn zip_headers_claiming_four_gibibytes_are_judged_as_go_judges_them() {
    let cases: &[(&str, &[u8; 4], &[usize], bool)] = &[
        ("central directory: uncompressed size", b"PK\x01\x02", &[24], true),
        ("central directory: compressed size", b"PK\x01\x02", &[20], true),
        ("central directory: both sizes", b"PK\x01\x02", &[20, 24], true),
        ("local header: both sizes", b"PK\x03\x04", &[18, 22], false),
    ];
    for (name, signature, offsets, go_flags_it) in cases {
        let fx = Fixture::standard();
        claim_max_size(&fx.download_file(A.0, A.1, "zip"), **signature, offsets);
        let (code, v) = verify_json(&fx, &[]);
        let (_, go_flags) = go_mod_verify_flags(&fx);
        let a = format!("{}@{}", A.0, A.1);
        assert_eq!(go_flags.contains(&a), *go_flags_it, "{name}: go mod verify flags {go_flags:?}");
        let ours: BTreeSet<String> = flagged(&v).into_iter().map(|(_, mv)| mv).collect();
        assert_eq!(ours.contains(&a), *go_flags_it, "{name}: gokeep flags {ours:?} (exit {code})");
        assert_eq!(code, i32::from(*go_flags_it), "{name}: exit code");
    }
}

#[test]
fn verify_text_reports_each_finding_with_what_to_do() {
    let fx = Fixture::standard();
    let clean = run_ok(fx.sandbox.gokeep().args(["verify", "--project"]).arg(&fx.consumer));
    let other = fs::read_to_string(fx.download_file(C.0, C.1, "ziphash")).unwrap();
    fs::write(fx.download_file(LIB.0, LIB.1, "ziphash"), &other).unwrap();
    let tree = fx.extracted_dir(A.0, A.1);
    with_writable_tree(&tree, || fs::write(tree.join("extra.txt"), "added\n").unwrap());
    let (code, faults, stderr) = run(fx.sandbox.gokeep().args(["verify", "--project"]).arg(&fx.consumer));
    assert_eq!(code, 1, "{faults}\n{stderr}");
    report_settings(&fx.sandbox).bind(|| {
        insta::assert_snapshot!("verify_text_clean", clean);
        insta::assert_snapshot!("verify_text_findings", format!("{faults}--- stderr\n{stderr}"));
    });
}

/// Go's `HashDir` opens every file of a tree: it reads through a symlink
/// and blocks forever on a FIFO. gokeep opens nothing it did not find to be a
/// regular file and never a link, so such a tree is flagged instead, even
/// when the link points at a copy of the very bytes go extracted.
#[test]
fn tree_with_a_fifo_and_a_symlink_out_of_the_cache_is_flagged_without_reading_through_it() {
    let fx = Fixture::standard();
    let dir = fx.extracted_dir(A.0, A.1);
    let outside = fx.sandbox.root().join("outside-helper.go");
    fs::copy(dir.join("helper.go"), &outside).unwrap();
    let before = fs::read(&outside).unwrap();
    // An atime older than the mtime is what relatime updates on any read.
    let old = filetime::FileTime::from_unix_time(1_000_000_000, 0);
    filetime::set_file_atime(&outside, old).unwrap();
    with_writable_tree(&dir, || {
        fs::remove_file(dir.join("helper.go")).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("helper.go")).unwrap();
        let fifo = dir.join("pipe");
        rustix::fs::mknodat(rustix::fs::CWD, &fifo, rustix::fs::FileType::Fifo, 0o644.into(), 0).unwrap();
    });
    let out = fx
        .sandbox
        .gokeep()
        .args(["verify", "--json", "--project"])
        .arg(&fx.consumer)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("running gokeep");
    assert_eq!(
        out.status.code(),
        Some(1),
        "gokeep verify ends with findings: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = parse_json("gokeep verify --json", &out.stdout);
    let f = finding(&v, "dir_modified", A);
    assert!(f["actual"].is_null(), "a tree with a link has no h1: {f:#}");
    assert_eq!(f["diff"]["added"], serde_json::json!(["pipe"]), "{f:#}");
    assert_eq!(f["diff"]["modified"], serde_json::json!(["helper.go"]), "{f:#}");
    let atime = filetime::FileTime::from_last_access_time(&fs::metadata(&outside).unwrap());
    assert_eq!(atime, old, "the file behind the link was not read");
    assert_eq!(fs::read(&outside).unwrap(), before);
}

/// Issue 12 item 4: on a partial cache, go.sum lines for versions never
/// downloaded are one summary line (each one with `--verbose`, and always in
/// JSON), and a zip without its `.mod`, which `go mod tidy` leaves, is no finding.
#[test]
fn a_partial_cache_is_one_summary_line_and_a_zip_without_mod_is_not_a_finding() {
    let fx = Fixture::standard();
    let gone = fx.module("example.com/c", "v1.0.0");
    let dir = fx.modcache().join(gone.extracted_rel());
    GoSandbox::make_writable(&dir);
    fs::remove_dir_all(&dir).unwrap();
    for suffix in ["zip", "ziphash", "mod", "info"] {
        let _ = fs::remove_file(fx.modcache().join(gone.download_file_rel(suffix)));
    }
    let kept = fx.module("example.com/a", "v1.0.0");
    fs::remove_file(fx.modcache().join(kept.download_file_rel("mod"))).unwrap();

    let text = |extra: &[&str]| {
        let out = fx.sandbox.gokeep().args(["verify", "--project"]).arg(&fx.consumer).args(extra).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let short = text(&[]);
    assert!(short.contains("go.sum entries name versions not in the cache; go downloads them when needed"), "{short}");
    assert!(!short.contains("not_in_cache"), "no line-by-line notes by default:\n{short}");
    assert!(!short.contains("incomplete") && !short.contains("without .mod"), "{short}");
    let long = text(&["--verbose"]);
    assert_eq!(long.matches("not_in_cache").count(), 2, "the h1: line and the /go.mod line:\n{long}");

    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 0);
    let kinds: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["not_in_cache", "not_in_cache"], "{:#}", v["findings"]);
}

/// Issue 12 item 7: a `dir_unreadable` finding names the tree in its path and
/// the file relative to it, and stays short for a file deep in the tree.
#[test]
fn dir_unreadable_is_short_and_names_the_tree_once() {
    let fx = Fixture::standard();
    let tree = fx.extracted_dir("example.com/c", "v1.0.0");
    GoSandbox::make_writable(&tree);
    let mut deep = tree.clone();
    for i in 0..30 {
        deep.push(format!("{i:02}{}", "d".repeat(98)));
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("bad\nname.go"), "package x\n").unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "dir_unreadable").expect("dir_unreadable");
    let detail = f["detail"].as_str().unwrap();
    assert!(detail.chars().count() <= 301, "{} characters: {detail}", detail.len());
    assert!(
        !detail.contains(&*tree.display().to_string()),
        "the tree is the finding's path, not in its sentence: {detail}"
    );
    assert!(detail.contains("newline"), "{detail}");
}

/// Issue 12 item 4: a corrupted `.ziphash` is one finding, its root cause;
/// go.sum, which agrees with the zip and the tree, is not blamed for it.
#[test]
fn a_wrong_ziphash_is_one_finding_and_go_sum_is_not_blamed() {
    let fx = Fixture::standard();
    let m = fx.module("example.com/c", "v1.0.0");
    let ziphash = fx.modcache().join(m.download_file_rel("ziphash"));
    fs::write(&ziphash, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    let (code, v) = verify_json(&fx, &[]);
    assert_eq!(code, 1);
    let about_c: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["module"] == "example.com/c" && f["severity"] != "info")
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(about_c, ["ziphash_wrong"], "{:#}", v["findings"]);
}
