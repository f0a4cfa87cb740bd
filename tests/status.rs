//! `gokeep status` (alias `du`) on caches built by the real `go`, checked
//! against `du` and against the files on disk.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use common::*;
use gokeep::layout::{self, BuildPath, DownloadFile, ModPath};
use gokeep::scan::{CacheKind, ScanOptions, scan_cache};
use serde_json::Value;
use walkdir::WalkDir;

/// Runs `gokeep status --json <args>` and returns the parsed document; the
/// command must succeed.
fn status_json(cmd: &mut assert_cmd::Command, args: &[&str]) -> Value {
    cmd_ok(cmd.arg("status").arg("--json").args(args))
}

/// The report of one cache (`"mod_cache"` or `"build_cache"`).
fn cache<'a>(doc: &'a Value, kind: &str) -> &'a Value {
    doc["caches"]
        .as_array()
        .expect("caches is an array")
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {doc:#}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("{v} is not an unsigned integer"))
}

fn explicit_roots(fx: &Fixture) -> [String; 4] {
    ["--modcache".into(), fx.modcache().display().to_string(), "--gocache".into(), fx.gocache().display().to_string()]
}

#[test]
fn standard_fixture_has_every_published_version_downloaded_and_extracted() {
    let fx = Fixture::standard();
    for (path, version) in &fx.modules {
        let dir = fx.extracted_dir(path, version);
        assert!(dir.is_dir(), "{} missing", dir.display());
        for suffix in ["info", "mod", "zip", "ziphash"] {
            let f = fx.download_file(path, version, suffix);
            assert!(f.is_file(), "{} missing", f.display());
        }
    }
    // x/mod/zip leaves nested modules out of the outer module's zip.
    assert!(!fx.extracted_dir("example.com/a", "v1.2.0").join("b").exists());
    assert!(!fx.extracted_dir("example.com/old", "v2.0.0+incompatible").join("go.mod").exists());
}

#[test]
fn totals_equal_du_for_both_caches_resolved_from_the_go_environment() {
    let fx = Fixture::standard();
    let doc = status_json(&mut fx.sandbox.gokeep(), &[]);
    for (kind, dir) in [("mod_cache", fx.modcache()), ("build_cache", fx.gocache())] {
        let c = cache(&doc, kind);
        assert_eq!(c["root"], dir.display().to_string(), "{kind} root resolved from GOMODCACHE/GOCACHE");
        let (apparent, disk) = du(&dir);
        assert_eq!(u(&c["apparent_bytes"]), apparent, "{kind} apparent bytes vs du -sb");
        assert_eq!(u(&c["disk_bytes"]), disk, "{kind} on-disk bytes vs du -sB1");
        assert!(u(&c["files"]) > 0, "{kind} has files");
    }
    assert!(u(&cache(&doc, "mod_cache")["items"]) >= fx.modules.len() as u64);
    assert!(u(&cache(&doc, "build_cache")["items"]) > 0, "go build left action and output entries");
}

#[test]
fn explicit_cache_flags_override_the_environment() {
    let fx = Fixture::standard();
    let mut cmd = fx.sandbox.gokeep();
    // An environment pointing elsewhere must lose against the flags.
    cmd.env("GOMODCACHE", fx.sandbox.root().join("elsewhere-mod")).env("GOCACHE", fx.sandbox.root().join("elsewhere"));
    let args = explicit_roots(&fx);
    let doc = status_json(&mut cmd, &args.iter().map(String::as_str).collect::<Vec<_>>());
    for (kind, dir) in [("mod_cache", fx.modcache()), ("build_cache", fx.gocache())] {
        let c = cache(&doc, kind);
        assert_eq!(c["root"], dir.display().to_string());
        assert_eq!(u(&c["apparent_bytes"]), du(&dir).0, "{kind}");
    }
}

/// Apparent and on-disk bytes of every `cache/download/<path>/@v/<version>.*` file.
fn download_file_bytes(fx: &Fixture, m: &Module) -> (u64, u64) {
    let prefix = format!("{}.", m.escaped_version());
    let mut sum = (0, 0);
    for e in fs::read_dir(fx.modcache().join(m.download_rel())).expect("reading @v dir") {
        let e = e.expect("reading @v entry");
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            let md = e.metadata().expect("lstat download file");
            sum.0 += md.len();
            sum.1 += md.blocks() * 512;
        }
    }
    sum
}

#[test]
fn per_version_and_per_module_bytes_equal_du_of_extracted_dir_plus_download_files() {
    let fx = Fixture::standard();
    let inv = scan_cache(CacheKind::ModCache, &fx.modcache(), &ScanOptions::default()).expect("scanning modcache");
    let mut expected_by_module: BTreeMap<&str, (u64, u64, usize)> = BTreeMap::new();
    for m in &fx.published {
        let rec = inv
            .versions
            .iter()
            .find(|r| r.module == m.path && r.version == m.version)
            .unwrap_or_else(|| panic!("{} not in the inventory", m.id()));
        let extracted = rec.extracted.unwrap_or_else(|| panic!("{} has no extracted tree", m.id()));
        let (tree_apparent, tree_disk) = du(&fx.modcache().join(m.extracted_rel()));
        assert_eq!(extracted.apparent_bytes, tree_apparent, "{} extracted vs du -sb", m.id());
        assert_eq!(extracted.disk_bytes, tree_disk, "{} extracted vs du -sB1", m.id());
        let (files_apparent, files_disk) = download_file_bytes(&fx, m);
        assert_eq!(rec.download().apparent_bytes, files_apparent, "{} download files", m.id());
        assert_eq!(rec.download().disk_bytes, files_disk, "{} download files on disk", m.id());
        let total = rec.total();
        assert_eq!(total.apparent_bytes, tree_apparent + files_apparent, "{}", m.id());
        let e = expected_by_module.entry(&m.path).or_default();
        e.0 += tree_apparent + files_apparent;
        e.1 += tree_disk + files_disk;
        e.2 += 1;
    }
    assert_eq!(inv.versions.len(), fx.published.len(), "no version counted that go did not download");

    let doc = status_json(&mut fx.sandbox.gokeep(), &["--top", "1000"]);
    let rows = cache(&doc, "mod_cache")["top_modules"].as_array().expect("top_modules").clone();
    assert_eq!(rows.len(), expected_by_module.len(), "{rows:#?}");
    for row in &rows {
        let module = row["module"].as_str().expect("module is a string");
        let (apparent, disk, versions) = expected_by_module[module];
        assert_eq!(u(&row["apparent_bytes"]), apparent, "{module}: all versions, du of trees + download files");
        assert_eq!(u(&row["disk_bytes"]), disk, "{module} on disk");
        assert_eq!(u(&row["versions"]), versions as u64, "{module} version count");
    }
}

#[test]
fn every_path_go_wrote_is_classified() {
    let fx = Fixture::standard();
    // More of what go writes: version queries and a test-cache reset.
    let mut args = vec!["list", "-m", "-u", "-versions"];
    for m in &fx.published {
        if !args.contains(&m.path.as_str()) {
            args.push(&m.path);
        }
    }
    fx.sandbox.go_ok(&fx.consumer, &args);
    fx.sandbox.go_ok(&fx.consumer, &["clean", "-testcache"]);
    assert!(fx.gocache().join("testexpire.txt").is_file());
    let published: Vec<(String, String)> = fx.modules.clone();
    let mut unknown = Vec::new();
    let modcache = fx.modcache();
    for e in WalkDir::new(&modcache) {
        let e = e.expect("walking modcache");
        let rel = e.path().strip_prefix(&modcache).expect("under modcache");
        let class = layout::classify_modcache(rel, e.file_type().is_dir());
        if class == ModPath::Unknown {
            unknown.push(e.path().to_owned());
        }
        if let Some((m, v)) = class.module_version() {
            assert!(published.contains(&(m.to_owned(), v.to_owned())), "{} read as {m}@{v}", rel.display());
        }
    }
    let gocache = fx.gocache();
    let mut entries = 0;
    for e in WalkDir::new(&gocache) {
        let e = e.expect("walking gocache");
        let rel = e.path().strip_prefix(&gocache).expect("under gocache");
        match layout::classify_gocache(rel, e.file_type().is_dir()) {
            BuildPath::Unknown => unknown.push(e.path().to_owned()),
            BuildPath::Action { .. } | BuildPath::Output { .. } => entries += 1,
            _ => {}
        }
    }
    assert!(unknown.is_empty(), "paths go wrote that gokeep calls unknown: {unknown:#?}");
    assert!(entries > 0, "go build wrote build cache entries");
}

#[test]
fn upper_case_module_is_reported_unescaped_and_found_escaped_on_disk() {
    let fx = Fixture::standard();
    let on_disk = fx.modcache().join("example.com/!org/!lib@v1.0.0");
    assert!(on_disk.is_dir(), "go stores example.com/Org/Lib escaped");
    assert!(fx.modcache().join("cache/download/example.com/!org/!lib/@v/v1.1.0.zip").is_file());

    let doc = status_json(&mut fx.sandbox.gokeep(), &["--top", "1000"]);
    let c = cache(&doc, "mod_cache");
    let row = c["top_modules"]
        .as_array()
        .expect("top_modules")
        .iter()
        .find(|r| r["module"] == "example.com/Org/Lib")
        .unwrap_or_else(|| panic!("example.com/Org/Lib not reported: {c:#}"));
    assert_eq!(u(&row["versions"]), 2);
    let text = doc.to_string();
    assert!(!text.contains("!org") && !text.contains("!lib"), "escaped names leak into the report");

    let out = fx.sandbox.gokeep().args(["status", "--top", "1000"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("example.com/Org/Lib"), "{stdout}");
}

#[test]
fn symlink_pointing_outside_the_cache_is_counted_as_a_link_and_not_followed() {
    let fx = Fixture::standard();
    let outside = fx.sandbox.root().join("outside");
    fs::create_dir_all(&outside).expect("mkdir outside");
    let big = 4 << 20;
    fs::write(outside.join("big.bin"), vec![7u8; big]).expect("writing big file");

    let before = status_json(&mut fx.sandbox.gokeep(), &[]);
    // One link between units, one inside an extracted (read-only) tree, one in GOCACHE.
    let tree = fx.extracted_dir("example.com/a", "v1.2.0");
    let links =
        [fx.modcache().join("example.com/outside-link"), tree.join("outside-link"), fx.gocache().join("outside-link")];
    let mode = fs::metadata(&tree).expect("stat tree").permissions().mode();
    fs::set_permissions(&tree, fs::Permissions::from_mode(0o755)).expect("chmod tree");
    for l in &links {
        std::os::unix::fs::symlink(&outside, l).expect("creating symlink");
    }
    fs::set_permissions(&tree, fs::Permissions::from_mode(mode)).expect("chmod tree back");

    let after = status_json(&mut fx.sandbox.gokeep(), &[]);
    for (kind, dir, n) in [("mod_cache", fx.modcache(), 2), ("build_cache", fx.gocache(), 1)] {
        let (b, a) = (cache(&before, kind), cache(&after, kind));
        let (apparent, disk) = du(&dir);
        assert_eq!(u(&a["apparent_bytes"]), apparent, "{kind}: du -sb does not follow links either");
        assert_eq!(u(&a["disk_bytes"]), disk, "{kind}");
        assert_eq!(u(&a["files"]), u(&b["files"]) + n, "{kind}: each link is one entry");
        assert!(
            u(&a["apparent_bytes"]) < u(&b["apparent_bytes"]) + big as u64,
            "{kind}: the outside file was counted through the link"
        );
    }
    let inv = scan_cache(CacheKind::ModCache, &fx.modcache(), &ScanOptions::default()).expect("scan");
    let rec = inv.versions.iter().find(|r| r.module == "example.com/a" && r.version == "v1.2.0").expect("a@v1.2.0");
    assert_eq!(rec.extracted.expect("extracted").apparent_bytes, du(&tree).0, "link inside a tree is not followed");
}

#[test]
fn hard_linked_files_are_counted_once_like_du() {
    let fx = Fixture::standard();
    let zip = fx.download_file("example.com/c", "v1.0.0", "zip");
    fs::hard_link(&zip, fx.modcache().join("cache/download/example.com/c/@v/v1.0.0.zip.hardlink")).expect("link");
    fs::hard_link(&zip, fx.modcache().join("example.com/c-copy.zip")).expect("link");
    let doc = status_json(&mut fx.sandbox.gokeep(), &[]);
    let c = cache(&doc, "mod_cache");
    let (apparent, disk) = du(&fx.modcache());
    assert_eq!(u(&c["apparent_bytes"]), apparent);
    assert_eq!(u(&c["disk_bytes"]), disk);
}

#[test]
fn unreadable_directory_is_a_warning_and_the_rest_is_counted() {
    let fx = Fixture::standard();
    fx.sandbox.make_world_readable();
    // One extracted tree (a scan unit) and one directory between units.
    let tree = fx.extracted_dir("example.com/c", "v1.0.0");
    let between = fx.modcache().join("cache/download/example.com/pseudo");
    let mut expected = du(&fx.modcache()).0;
    for d in [&tree, &between] {
        expected = expected - du(d).0 + fs::symlink_metadata(d).expect("lstat").len();
    }
    for d in [&tree, &between] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o700)).expect("chmod 0700");
    }

    let out = fx
        .sandbox
        .gokeep_as_nobody()
        .args(["status", "--json"])
        .args(explicit_roots(&fx))
        .output()
        .expect("running gokeep as nobody");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "unreadable dirs are warnings, not failures:\n{stderr}");
    let doc = parse_json("gokeep status --json (as nobody)", &out.stdout);
    let c = cache(&doc, "mod_cache");
    assert_eq!(u(&c["apparent_bytes"]), expected, "everything readable is counted, each unreadable dir as itself");
    let warnings: Vec<PathBuf> = c["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| PathBuf::from(w["path"].as_str().unwrap()))
        .collect();
    for d in [&tree, &between] {
        assert!(warnings.iter().any(|w| w.starts_with(d)), "no JSON warning for {}: {warnings:?}", d.display());
        assert!(stderr.contains(&d.display().to_string()), "no stderr warning for {}:\n{stderr}", d.display());
    }
    assert!(stderr.contains("warning"), "{stderr}");
    assert_eq!(u(&cache(&doc, "build_cache")["apparent_bytes"]), du(&fx.gocache()).0);
}

#[test]
fn missing_modcache_exits_4_and_names_the_path() {
    let sb = GoSandbox::new();
    let missing = sb.root().join("no-such-modcache");
    let out = sb
        .gokeep()
        .args(["status", "--modcache"])
        .arg(&missing)
        .arg("--gocache")
        .arg(sb.gocache())
        .output()
        .expect("running gokeep");
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&missing.display().to_string()), "message names the path: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn du_alias_prints_both_caches_as_text() {
    let fx = Fixture::standard();
    let out = fx.sandbox.gokeep().arg("du").assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for needle in [
        "GOMODCACHE".to_owned(),
        "GOCACHE".to_owned(),
        fx.modcache().display().to_string(),
        fx.gocache().display().to_string(),
    ] {
        assert!(stdout.contains(&needle), "`gokeep du` output lacks {needle}:\n{stdout}");
    }
    let status = fx.sandbox.gokeep().args(["status", "--json"]).output().expect("status");
    let du_json = fx.sandbox.gokeep().args(["du", "--json"]).output().expect("du");
    let totals = |o: &std::process::Output| {
        let v = parse_json("gokeep status/du --json", &o.stdout);
        (u(&cache(&v, "mod_cache")["apparent_bytes"]), u(&cache(&v, "build_cache")["apparent_bytes"]))
    };
    assert_eq!(totals(&status), totals(&du_json), "du is status under another name");
}

/// Ages one module version: its extracted tree and every download file.
fn age_version(fx: &Fixture, path: &str, version: &str, days: u64) {
    let m = fx.module(path, version);
    age_tree(&fx.modcache().join(m.extracted_rel()), days);
    let prefix = format!("{}.", m.escaped_version());
    for e in fs::read_dir(fx.modcache().join(m.download_rel())).expect("reading @v dir") {
        let e = e.expect("@v entry");
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            age_tree(&e.path(), days);
        }
    }
}

#[test]
fn least_recently_used_versions_and_age_buckets_follow_file_times() {
    let fx = Fixture::standard();
    age_version(&fx, "example.com/c", "v1.0.0", 100);
    age_version(&fx, "example.com/Org/Lib", "v1.0.0", 40);
    let doc = status_json(&mut fx.sandbox.gokeep(), &["--top", "3"]);
    let c = cache(&doc, "mod_cache");
    let lru: Vec<(String, String)> = c["least_recently_used"]
        .as_array()
        .expect("least_recently_used")
        .iter()
        .map(|r| (r["module"].as_str().unwrap().to_owned(), r["version"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(lru.len(), 3, "--top bounds the list");
    assert_eq!(lru[0], ("example.com/c".to_owned(), "v1.0.0".to_owned()));
    assert_eq!(lru[1], ("example.com/Org/Lib".to_owned(), "v1.0.0".to_owned()));

    let bucket = |days: u64| {
        c["age"]
            .as_array()
            .expect("age")
            .iter()
            .find(|b| u(&b["older_than_days"]) == days)
            .unwrap_or_else(|| panic!("no {days}-day bucket in {c:#}"))
            .clone()
    };
    assert_eq!(u(&bucket(7)["items"]), 2);
    assert_eq!(u(&bucket(30)["items"]), 2);
    assert_eq!(u(&bucket(90)["items"]), 1);
    let m = fx.module("example.com/c", "v1.0.0");
    let expected = du(&fx.modcache().join(m.extracted_rel())).0 + download_file_bytes(&fx, m).0;
    assert_eq!(u(&bucket(90)["apparent_bytes"]), expected, "the old version's tree and download files");
}

#[test]
fn hard_linked_download_files_still_count_for_every_version_that_has_them() {
    let fx = Fixture::standard();
    // What a dedup tool (rdfind, jdupes) does to identical files: every
    // version's empty .lock becomes a link to one inode.
    let locks: Vec<PathBuf> = fx.published.iter().map(|m| fx.download_file(&m.path, &m.version, "lock")).collect();
    for l in &locks[1..] {
        fs::remove_file(l).expect("rm lock");
        fs::hard_link(&locks[0], l).expect("link lock");
    }
    let inv = scan_cache(CacheKind::ModCache, &fx.modcache(), &ScanOptions::default()).expect("scan");
    for m in &fx.published {
        let rec = inv.versions.iter().find(|r| r.module == m.path && r.version == m.version).expect("version");
        assert!(rec.has(DownloadFile::Lock), "{}@{} lost its .lock to another link", m.path, m.version);
    }
    // A second link to a file with content adds no bytes, as for du.
    let m = &fx.published[0];
    fs::hard_link(fx.download_file(&m.path, &m.version, "zip"), fx.modcache().join("cache/download/zip-link"))
        .expect("link zip");
    let inv = scan_cache(CacheKind::ModCache, &fx.modcache(), &ScanOptions::default()).expect("scan");
    assert_eq!(inv.total.apparent_bytes, du(&fx.modcache()).0, "bytes still counted once");
}

#[test]
fn status_text_names_both_caches_and_their_categories() {
    let fx = Fixture::standard();
    // Each version a different age, so the least-recently-used list has one
    // order and every age bucket holds something.
    for (i, (path, version)) in fx.modules.iter().enumerate() {
        age_version(&fx, path, version, 5 + 12 * i as u64);
    }
    let text = run_ok(fx.sandbox.gokeep().arg("status"));
    // Which of two small modules takes more disk depends on the file
    // system's block size: the largest-modules rows are compared as a set.
    let mut lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == "largest modules").expect("a largest-modules list") + 1;
    let end = start + lines[start..].iter().position(|l| l.is_empty()).expect("a blank line after the list");
    lines[start..end].sort_by_key(|l| l.split_whitespace().find(|w| w.contains('/')).unwrap_or_default().to_owned());
    let text = lines.join("\n");
    report_settings(&fx.sandbox).bind(|| insta::assert_snapshot!("status_text_standard_fixture", text));
}

/// Issue 12 item 1: on a machine where go has downloaded nothing, the first
/// screen is not an error: the caches go creates lazily are reported as not
/// there yet, what exists is shown, and the exit code is 0.
#[test]
fn a_cache_go_has_not_created_yet_is_a_normal_state_unless_named_explicitly() {
    let sb = GoSandbox::new();
    // As on a fresh machine: GOMODCACHE's directory is not there.
    fs::remove_dir(sb.modcache()).unwrap();
    // go builds something, so the build cache exists and the module cache does not.
    let app = sb.root().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(app.join("go.mod"), "module example.com/app\n\ngo 1.21\n").unwrap();
    fs::write(app.join("main.go"), "package main\n\nfunc main() {}\n").unwrap();
    sb.go_ok(&app, &["build", "./..."]);
    assert!(!sb.modcache().exists() && sb.gocache().is_dir());

    let out = sb.gokeep().arg("status").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let expected = format!("no module cache yet at {} (go creates it on the first download)", sb.modcache().display());
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.contains(&format!("GOCACHE {}", sb.gocache().display())), "the build cache is shown: {stdout}");

    let doc: serde_json::Value =
        serde_json::from_slice(&sb.gokeep().args(["status", "--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(doc["not_yet_created"][0]["kind"], "mod_cache", "{doc:#}");
    assert_eq!(doc["caches"].as_array().unwrap().len(), 1, "{doc:#}");

    let out = sb.gokeep().args(["verify", "--no-project"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "nothing to verify is not an error: {out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no module cache yet"), "{out:?}");

    // Named on the command line, a cache that does not exist is a mistake.
    for cmd in ["status", "verify"] {
        let out = sb.gokeep().args([cmd, "--modcache"]).arg(sb.modcache()).output().unwrap();
        assert_eq!(out.status.code(), Some(4), "{cmd}: {out:?}");
    }
}
