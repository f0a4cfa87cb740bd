//! `gokeep prune`, `mark`, `log` and `gocache refresh` on caches the real
//! `go` built; afterwards `go` must still build (offline where nothing needed
//! was removed) and `go mod verify` must pass.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::*;
use serde_json::Value;
use walkdir::WalkDir;

fn files_named(dir: &Path, suffix: &str) -> usize {
    WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
        .count()
}

#[test]
fn prune_all_empties_the_module_cache_but_its_locks_and_go_rebuilds_from_the_proxy() {
    let fx = Fixture::standard();
    let locks_before = files_named(&fx.modcache(), ".lock");
    assert!(locks_before >= fx.modules.len());

    let doc = cmd_ok(fx.sandbox.gokeep().args(["prune", "--all", "--yes", "--json"]));
    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["result"]["failures"].as_array().unwrap().len(), 0, "{doc:#}");
    assert!(doc["result"]["disk_bytes"].as_u64().unwrap() > 0);
    let planned = doc["plan"]["items"].as_array().unwrap();
    assert!(planned.iter().all(|i| i["reason"]["rule"] == "all"));

    assert!(cached_versions(&fx).is_empty(), "left: {:?}", cached_versions(&fx));
    for suffix in [".zip", ".ziphash", ".mod", ".info", ".partial"] {
        assert_eq!(files_named(&fx.modcache().join("cache/download"), suffix), 0, "{suffix} files left");
    }
    assert_eq!(files_named(&fx.modcache(), ".lock"), locks_before, "lock files are never removed");
    // Every @v/list that is left lists nothing: no version has a .mod any more.
    for e in WalkDir::new(fx.modcache()).into_iter().filter_map(Result::ok) {
        if e.file_name() == "list" {
            assert_eq!(fs::read_to_string(e.path()).unwrap(), "", "{}", e.path().display());
        }
    }

    // status counts no version held only by its lock.
    let status = cmd_ok(fx.sandbox.gokeep().args(["status", "--json"]));
    let modcache = status["caches"].as_array().unwrap().iter().find(|c| c["kind"] == "mod_cache").unwrap();
    assert_eq!(modcache["items"], 0, "{modcache:#}");
    assert_eq!(modcache["top_modules"].as_array().unwrap().len(), 0);
    let verified = cmd_ok(fx.sandbox.gokeep().args(["verify", "--json", "--no-project"]));
    assert_eq!(verified["modcache"]["versions_checked"], 0, "{verified:#}");

    fx.consumer_go_build_ok();
    assert_go_ok(&fx.consumer_go_mod_verify(), "go mod verify");
}

#[test]
fn dry_run_shows_the_plan_and_deletes_nothing() {
    let fx = Fixture::standard();
    let before = snapshot(&fx.modcache());
    let doc = cmd_ok(fx.sandbox.gokeep().args(["prune", "--all", "--dry-run", "--json"]));
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["dry_run"], true);
    assert!(doc["result"].is_null());
    let items = doc["plan"]["items"].as_array().unwrap();
    assert_eq!(items.len(), fx.modules.len(), "one item per version (no sumdb, no vcs here)");
    let first = &items[0];
    assert_eq!(first["target"]["kind"], "module_version");
    assert!(first["disk_bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        doc["plan"]["disk_bytes"].as_u64().unwrap(),
        items.iter().map(|i| i["disk_bytes"].as_u64().unwrap()).sum::<u64>()
    );
    assert_same(&before, &snapshot(&fx.modcache()));

    let text = run_ok(fx.sandbox.gokeep().args(["prune", "--all", "--dry-run"]));
    assert!(text.contains("example.com/Org/Lib@v1.1.0"), "{text}");
    assert_same(&before, &snapshot(&fx.modcache()));
}

#[test]
fn every_run_is_journaled_and_shown_by_log() {
    let fx = Fixture::standard();
    let state = fx.sandbox.root().join("state");
    run_ok(fx.sandbox.gokeep().env("GOKEEP_STATE_DIR", &state).args(["prune", "--all", "--yes", "--quiet"]));
    let journal = fs::read_to_string(state.join("journal.jsonl")).unwrap();
    assert_eq!(journal.lines().count(), 1);
    let line = parse_json("journal.jsonl", journal.lines().next().unwrap().as_bytes());
    assert!(line["command"].as_str().unwrap().contains("prune --all --yes"));
    assert!(line["disk_bytes"].as_u64().unwrap() > 0);

    let doc = cmd_ok(fx.sandbox.gokeep().env("GOKEEP_STATE_DIR", &state).args(["log", "--json"]));
    assert_eq!(doc["entries"].as_array().unwrap().len(), 1);
    assert_eq!(doc["entries"][0]["disk_bytes"], line["disk_bytes"]);
    let text = run_ok(fx.sandbox.gokeep().env("GOKEEP_STATE_DIR", &state).arg("log"));
    assert!(text.contains("prune --all --yes"), "{text}");

    // Without GOKEEP_STATE_DIR the journal lives in the user's state dir.
    run_ok(fx.sandbox.gokeep().args(["prune", "--all", "--yes", "--quiet"]));
    assert!(fx.sandbox.home().join(".local/state/gokeep/journal.jsonl").is_file());
}

/// A project using a subset of the cached modules: example.com/c and the pseudo-version.
fn subset_app(fx: &Fixture) -> std::path::PathBuf {
    let app = fx.sandbox.root().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(
        app.join("go.mod"),
        "module example.com/app\n\ngo 1.21\n\nrequire (\n\texample.com/c v1.0.0\n\texample.com/pseudo v0.0.0-20240101000000-abcdefabcdef\n)\n",
    )
    .unwrap();
    fs::write(
        app.join("app.go"),
        "package app\n\nimport (\n\t\"example.com/c\"\n\t\"example.com/pseudo\"\n)\n\nfunc Names() []string { return []string{c.Name(), pseudo.Name()} }\n",
    )
    .unwrap();
    app
}

#[test]
fn mark_then_build_then_prune_unused_since_mark_removes_exactly_what_the_build_did_not_read() {
    let fx = Fixture::standard();
    let app = subset_app(&fx);
    fx.sandbox.go_ok(&app, &["build", "./..."]);
    let state = fx.sandbox.root().join("state");
    // The cache was filled when the image was built, a while before the mark.
    let built = filetime::FileTime::from_unix_time(gokeep::timestamp::Timestamp::now().0 - 3 * 86_400, 0);
    for e in WalkDir::new(fx.modcache()).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
        filetime::set_file_mtime(e.path(), built).unwrap();
    }

    let mark = cmd_ok(fx.sandbox.gokeep().env("GOKEEP_STATE_DIR", &state).args(["mark", "--json"]));
    assert_eq!(mark["mark"]["versions"].as_u64().unwrap(), fx.modules.len() as u64);
    // Marking changes access times only.
    let f = fx.extracted_dir("example.com/a", "v1.0.0").join("a.go");
    let stamp = humantime::parse_rfc3339(mark["mark"]["stamp"].as_str().unwrap()).unwrap();
    let stamp = stamp.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(fs::metadata(&f).unwrap().atime(), stamp);
    assert_eq!(fs::metadata(&f).unwrap().mtime(), built.unix_seconds());

    fx.sandbox.go_ok(&app, &["build", "./..."]);
    run_ok(fx.sandbox.gokeep().env("GOKEEP_STATE_DIR", &state).args(["prune", "--unused-since-mark", "--yes"]));

    let mut left = cached_versions(&fx);
    left.sort();
    assert_eq!(
        left,
        vec![
            ("example.com/c".to_owned(), "v1.0.0".to_owned()),
            ("example.com/pseudo".to_owned(), "v0.0.0-20240101000000-abcdefabcdef".to_owned()),
        ]
    );
    assert_go_ok(&go_offline(&fx.sandbox, &app, &["build", "./..."]), "GOPROXY=off go build");
    assert_go_ok(&go_offline(&fx.sandbox, &app, &["mod", "verify"]), "go mod verify");
}

#[test]
fn prune_unused_since_mark_without_a_mark_is_a_usage_error() {
    let fx = Fixture::standard();
    let state = fx.sandbox.root().join("state");
    let (code, _, err) =
        run(fx.sandbox.gokeep().env("GOKEEP_STATE_DIR", &state).args(["prune", "--unused-since-mark"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("gokeep mark"), "{err}");
}

/// The action and output files of GOCACHE.
fn build_entries(gocache: &Path) -> Vec<std::path::PathBuf> {
    let mut entries = gocache_entries(gocache, "-a");
    entries.extend(gocache_entries(gocache, "-d"));
    entries.retain(|p| p.symlink_metadata().is_ok_and(|m| m.is_file()));
    entries
}

#[test]
fn gocache_max_age_removes_old_entries_only_and_keeps_go_bookkeeping() {
    let fx = Fixture::standard();
    let entries = build_entries(&fx.gocache());
    assert!(entries.len() > 4);
    let old = filetime::FileTime::from_unix_time(gokeep::timestamp::Timestamp::now().0 - 10 * 86_400, 0);
    let (aged, fresh) = entries.split_at(entries.len() / 2);
    for p in aged {
        filetime::set_file_mtime(p, old).unwrap();
    }
    // go wrote both: README on first use, trim.txt when its Close trimmed.
    for name in ["README", "trim.txt"] {
        filetime::set_file_mtime(fx.gocache().join(name), old).unwrap();
    }
    run_ok(fx.sandbox.gokeep().args(["prune", "--gocache-max-age", "5d", "--yes"]));
    assert!(aged.iter().all(|p| !p.exists()));
    assert!(fresh.iter().all(|p| p.exists()));
    for name in ["README", "trim.txt"] {
        assert!(fx.gocache().join(name).exists(), "{name} was removed");
    }
    fx.consumer_go_build_ok();
}

#[test]
fn gocache_refresh_sets_entry_mtimes_to_now() {
    let fx = Fixture::standard();
    let entries = build_entries(&fx.gocache());
    let old = filetime::FileTime::from_unix_time(gokeep::timestamp::Timestamp::now().0 - 4 * 86_400, 0);
    for p in &entries {
        filetime::set_file_mtime(p, old).unwrap();
    }
    let before = gokeep::timestamp::Timestamp::now().0;
    let doc = cmd_ok(fx.sandbox.gokeep().args(["gocache", "refresh", "--json"]));
    assert_eq!(doc["refreshed_entries"].as_u64().unwrap(), entries.len() as u64);
    for p in &entries {
        assert!(fs::metadata(p).unwrap().mtime() >= before, "{}", p.display());
    }
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    sorted(items.iter().map(|(p, v)| ((*p).to_owned(), (*v).to_owned())).collect())
}

const PSEUDO: (&str, &str) = ("example.com/pseudo", "v0.0.0-20240101000000-abcdefabcdef");

#[test]
fn pruning_by_age_size_and_roots_keeps_what_the_root_project_needs_offline() {
    let fx = Fixture::standard();
    let app = subset_app(&fx);
    let app_s = app.display().to_string();
    fx.sandbox.go_ok(&app, &["build", "./..."]);
    let offline_ok = |what: &str| {
        assert_go_ok(&go_offline(&fx.sandbox, &app, &["build", "./..."]), &format!("{what}: GOPROXY=off go build"));
        assert_go_ok(&go_offline(&fx.sandbox, &app, &["mod", "verify"]), &format!("{what}: go mod verify"));
    };

    // By age: everything was last used 60 days ago, then the app's build reads its two modules.
    age_tree(&fx.modcache(), 60);
    fx.sandbox.go_ok(&app, &["build", "./..."]);
    run_ok(fx.sandbox.gokeep().args(["prune", "--max-age", "30d", "--yes"]));
    assert_eq!(sorted(cached_versions(&fx)), pairs(&[("example.com/c", "v1.0.0"), PSEUDO]));
    offline_ok("--max-age");

    // By size, with the app as a GC root: everything else goes, the roots stay.
    fx.download_all();
    run_ok(fx.sandbox.gokeep().args(["prune", "--max-size", "1B", "--root", &app_s, "--yes"]));
    assert_eq!(sorted(cached_versions(&fx)), pairs(&[("example.com/c", "v1.0.0"), PSEUDO]));
    offline_ok("--max-size --root");

    // Only roots, plus a keep glob matched per path element (example.com/a and example.com/a/b).
    fx.download_all();
    run_ok(fx.sandbox.gokeep().args(["prune", "--only-roots", "--root", &app_s, "--keep", "example.com/a", "--yes"]));
    assert_eq!(
        sorted(cached_versions(&fx)),
        pairs(&[
            ("example.com/a", "v1.0.0"),
            ("example.com/a", "v1.2.0"),
            ("example.com/a/b", "v1.0.0"),
            ("example.com/c", "v1.0.0"),
            PSEUDO
        ])
    );
    offline_ok("--only-roots");
    fx.consumer_go_build_ok();
    assert_go_ok(&fx.consumer_go_mod_verify(), "consumer go mod verify");
}

#[test]
fn prune_corrupted_removes_exactly_the_version_whose_zip_was_damaged() {
    let fx = Fixture::standard();
    let zip = fx.download_file("example.com/a", "v1.0.0", "zip");
    let mut data = fs::read(&zip).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0x55;
    fs::write(&zip, &data).unwrap();
    let others: Vec<(String, String)> =
        cached_versions(&fx).into_iter().filter(|(m, v)| !(m == "example.com/a" && v == "v1.0.0")).collect();

    let doc = cmd_ok(fx.sandbox.gokeep().args(["prune", "--corrupted", "--yes", "--json"]));
    let items = doc["plan"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{doc:#}");
    assert_eq!(items[0]["reason"]["rule"], "corrupted");
    assert_eq!(items[0]["target"]["module"], "example.com/a");
    assert_eq!(items[0]["target"]["version"], "v1.0.0");

    assert!(!zip.exists(), "the damaged zip is gone");
    assert_eq!(cached_versions(&fx), others, "every other version is untouched");
    let (code, stdout, stderr) = run(fx.sandbox.gokeep().args(["verify", "--no-project"]));
    assert_eq!(code, 0, "the cache verifies clean afterwards:\n{stdout}\n{stderr}");
    fx.consumer_go_build_ok();
    assert_go_ok(&fx.consumer_go_mod_verify(), "go mod verify");
}

/// Leftover pre-Go-1.16 extraction dirs `<tree>.tmp-<n>` beside `tree`, read-only like a tree.
fn plant_extract_temps(tree: &Path, count: u32) -> Vec<std::path::PathBuf> {
    (0..count)
        .map(|n| {
            let dir = std::path::PathBuf::from(format!("{}.tmp-{}", tree.display(), 100_000 + n));
            fs::create_dir_all(dir.join("sub")).unwrap();
            fs::write(dir.join("sub/half.go"), "package sub\n").unwrap();
            for d in [dir.join("sub"), dir.clone()] {
                fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
            }
            dir
        })
        .collect()
}

#[test]
fn a_version_with_a_tree_and_tmp_extraction_dirs_loses_all_of_them_in_one_run() {
    let fx = Fixture::standard();
    let all_temps = |count| -> Vec<std::path::PathBuf> {
        fx.modules.iter().flat_map(|(p, v)| plant_extract_temps(&fx.extracted_dir(p, v), count)).collect()
    };
    let check = |doc: &Value, temps: &[std::path::PathBuf], what: &str| {
        let result = &doc["result"];
        assert_eq!(result["skipped"].as_array().unwrap().len(), 0, "{what}: nothing is locked by go here: {result:#}");
        assert_eq!(result["failures"].as_array().unwrap().len(), 0, "{what}: {result:#}");
        let left: Vec<_> = temps.iter().filter(|d| d.exists()).collect();
        assert!(left.is_empty(), "{what}: left {left:?}");
        let trees: Vec<_> = fx.modules.iter().filter(|(p, v)| fx.extracted_dir(p, v).exists()).collect();
        assert!(trees.is_empty(), "{what}: trees left {trees:?}");
    };

    // Trees only (zips kept), with their temp dirs as debris: tree and temp items of each version.
    let temps = all_temps(3);
    age_tree(&fx.modcache(), 10);
    let policy = fx.sandbox.root().join("trees.toml");
    fs::write(&policy, "[modcache]\nzips_only_after = \"1d\"\nremove_debris = true\n").unwrap();
    let doc = cmd_ok(fx.sandbox.gokeep().arg("prune").arg("--policy").arg(&policy).args(["--yes", "--json"]));
    let kinds: Vec<&str> =
        doc["plan"]["items"].as_array().unwrap().iter().filter_map(|i| i["target"]["kind"].as_str()).collect();
    assert!(kinds.contains(&"extracted_tree") && kinds.contains(&"extract_temp"), "{kinds:?}");
    check(&doc, &temps, "trees and temp dirs");
    assert!(fx.modules.iter().all(|(p, v)| fx.download_file(p, v, "zip").exists()), "zips are kept");

    // Whole versions with their temp dirs.
    fx.consumer_go_build_ok();
    let temps = all_temps(3);
    let doc = cmd_ok(fx.sandbox.gokeep().args(["prune", "--all", "--yes", "--json"]));
    check(&doc, &temps, "whole versions and temp dirs");
    fx.consumer_go_build_ok();
    assert_go_ok(&fx.consumer_go_mod_verify(), "go mod verify");
}

/// Issue 9 item 8: a mark may only move access times back. A version last used 100 days
/// ago keeps that age, so an age rule still removes it; a recent one goes back to the stamp.
#[test]
fn mark_never_moves_an_old_access_time_forward_so_age_rules_still_see_it() {
    let fx = Fixture::standard();
    let state = fx.sandbox.root().join("state");
    age_tree(&fx.modcache(), 100);
    let old = fx.extracted_dir("example.com/a", "v1.0.0").join("a.go");
    let before = fs::metadata(&old).unwrap().atime();

    run_ok(fx.sandbox.gokeep().env("GOKEEP_STATE_DIR", &state).args(["mark", "--json"]));
    assert_eq!(fs::metadata(&old).unwrap().atime(), before, "a 100-day-old access time stays 100 days old");

    let plan = cmd_ok(fx.sandbox.gokeep().env("GOKEEP_STATE_DIR", &state).args([
        "prune",
        "--max-age",
        "30d",
        "--dry-run",
        "--json",
    ]));
    let planned: Vec<&str> =
        plan["plan"]["items"].as_array().unwrap().iter().filter_map(|i| i["target"]["module"].as_str()).collect();
    assert!(planned.contains(&"example.com/a"), "max_age 30d still selects the old version: {plan:#}");
}

/// Issue 9 item 13: the toolchain GOTOOLCHAIN pins (environment or GOENV file) and one a
/// running process executes from are kept by `toolchains_keep_latest` and `--all`, and
/// the plan says why; older unused toolchains still go.
#[test]
fn toolchains_in_use_survive_every_rule_and_the_plan_says_why() {
    let platform = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let tc = |go: &str| format!("v0.0.1-go{go}.{}-{platform}", std::env::consts::OS);
    let fx = Fixture::standard();
    let versions = [tc("1.21.0"), tc("1.22.0"), tc("1.23.0"), tc("1.24.0")];
    for v in &versions {
        Module::new("golang.org/toolchain", v).file("bin/go", "#!/bin/sh\n").publish(&fx.sandbox.proxy_dir());
        fx.sandbox.go_ok(fx.sandbox.root(), &["mod", "download", &format!("golang.org/toolchain@{v}")]);
    }
    // A process runs from the 1.22.0 tree, as a build runs its compiler.
    let tree_of = |v: &str| fx.modcache().join(format!("golang.org/toolchain@{v}"));
    let tree = tree_of(&versions[1]);
    GoSandbox::make_writable(&tree);
    fs::copy("/bin/sleep", tree.join("bin/sleep")).unwrap();
    let mut running = std::process::Command::new(tree.join("bin/sleep")).arg("60").spawn().unwrap();
    // 1.21.0 is pinned in the GOENV file, as `go env -w GOTOOLCHAIN=go1.21.0` writes it.
    let goenv = fx.sandbox.root().join("goenv");
    fs::write(&goenv, "GOTOOLCHAIN=go1.21.0\n").unwrap();
    let policy = fx.sandbox.root().join("toolchains.toml");
    fs::write(&policy, "[modcache]\ntoolchains_keep_latest = 1\n").unwrap();
    let p = policy.display().to_string();

    for args in [["prune", "--policy", &p], ["prune", "--all", "--debris"]] {
        let gokeep = || {
            let mut c = fx.sandbox.gokeep();
            // The process environment would win over the GOENV file.
            c.env_remove("GOTOOLCHAIN").env("GOENV", &goenv).env("GOKEEP_STATE_DIR", fx.sandbox.root().join("state"));
            c
        };
        let text = run_ok(gokeep().args(args).arg("--dry-run"));
        assert!(
            text.contains(&format!("keeping golang.org/toolchain@{}: GOTOOLCHAIN=go1.21.0", versions[0])),
            "{text}"
        );
        assert!(
            text.contains(&format!("keeping golang.org/toolchain@{}: process {}", versions[1], running.id())),
            "{text}"
        );
        let plan = cmd_ok(gokeep().args(args).args(["--dry-run", "--json"]));
        let planned: Vec<&str> =
            plan["plan"]["items"].as_array().unwrap().iter().filter_map(|i| i["target"]["version"].as_str()).collect();
        assert!(planned.contains(&versions[2].as_str()), "an unused older toolchain still goes: {planned:?}");
        assert!(!planned.contains(&versions[0].as_str()) && !planned.contains(&versions[1].as_str()), "{planned:?}");
        assert_eq!(plan["plan"]["kept"].as_array().unwrap().len(), 2, "{plan:#}");
    }
    run_ok(fx.sandbox.gokeep().env("GOTOOLCHAIN", "go1.21.0+auto").args(["prune", "--all", "--yes"]));
    running.kill().unwrap();
    running.wait().unwrap();
    assert!(tree_of(&versions[0]).join("bin/go").exists());
    assert!(tree.join("bin/sleep").exists());
    assert!(!tree_of(&versions[2]).exists() && !tree_of(&versions[3]).exists());
}

/// Issue 12 item 5: every value gokeep adjusts is reported with the reason, durations print
/// as written, and a rule that acts (`refresh_kept`) says what it did in the text report.
#[test]
fn adjusted_values_and_refreshes_are_reported_in_the_text_output() {
    let fx = Fixture::standard();
    let out = run_ok(fx.sandbox.gokeep().args(["prune", "--gocache-max-age", "1h", "--dry-run"]));
    assert!(out.contains("adjusted gocache.max_age: 2h instead of 1h: go marks"), "{out}");
    let plan = cmd_ok(fx.sandbox.gokeep().args(["prune", "--gocache-max-age", "1h", "--dry-run", "--json"]));
    assert_eq!(plan["plan"]["adjusted"][0]["used"], "2h", "{plan:#}");

    let policy = fx.sandbox.root().join("refresh.toml");
    fs::write(&policy, "[gocache]\nmax_age = \"3h\"\nrefresh_kept = true\n").unwrap();
    let entries = build_entries(&fx.gocache()).len();
    let (code, _, err) = run(fx.sandbox.gokeep().args(["prune", "--policy", policy.to_str().unwrap(), "--yes"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("refresh_kept: set the mtime of {entries} build-cache entries to now")), "{err}");
}

#[test]
fn dry_run_text_lists_each_removal_and_the_total() {
    let fx = Fixture::standard();
    age_tree(&fx.modcache(), 40);
    let text = run_ok(fx.sandbox.gokeep().args(["prune", "--all", "--dry-run"]));
    report_settings(&fx.sandbox).bind(|| insta::assert_snapshot!("prune_dry_run_all_text", text));
}

#[test]
fn prune_without_a_terminal_and_without_yes_shows_the_plan_deletes_nothing_and_exits_5() {
    let fx = Fixture::standard();
    let before = cached_versions(&fx);
    assert!(!before.is_empty());
    // The harness runs gokeep with pipes: no terminal to ask on.
    let (code, out, err) = run(fx.sandbox.gokeep().args(["prune", "--all"]));
    assert_eq!(code, 5, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("total,"), "the plan is shown: {out}");
    assert!(err.contains("nothing deleted") && err.contains("--yes"), "{err}");
    assert_eq!(cached_versions(&fx), before, "nothing was removed");

    let (code, out, _) = run(fx.sandbox.gokeep().args(["prune", "--all", "--json"]));
    assert_eq!(code, 5);
    let doc = parse_json("gokeep prune --all --json", out.as_bytes());
    assert!(doc["result"].is_null() && !doc["plan"]["items"].as_array().unwrap().is_empty(), "{doc:#}");
    assert_eq!(cached_versions(&fx), before);
}

/// cmd/go creates a tree's parent with `os.MkdirAll` (stat, then mkdir each
/// missing level) under the lock of the version it extracts, not of the one
/// gokeep removes: a parent gokeep removed between those two steps fails
/// the extraction with "mkdir …: no such file or directory". So a rule that
/// removes versions beside running `go` leaves the directories on the way.
#[test]
fn a_version_removed_by_age_leaves_the_directories_on_the_way_to_its_tree() {
    let fx = Fixture::with_modules(vec![Module::named("example.com/only/one", "v1.0.0", "one", "one")]);
    let tree = fx.extracted_dir("example.com/only/one", "v1.0.0");
    age_tree(&fx.modcache(), 30);
    let doc = cmd_ok(fx.sandbox.gokeep().args(["prune", "--max-age", "7d", "--yes", "--json"]));
    assert_eq!(doc["plan"]["total_items"], 1, "{doc:#}");
    assert!(!tree.exists(), "{doc:#}");
    let parent = tree.parent().unwrap();
    assert!(parent.is_dir(), "{} was removed with the tree", parent.display());
    assert!(fx.modcache().join("example.com").is_dir());
    // And --all, which like `go clean -modcache` leaves no empty directory,
    // removes them.
    cmd_ok(fx.sandbox.gokeep().args(["prune", "--all", "--yes", "--json"]));
    assert!(!fx.modcache().join("example.com").exists());
}
