//! Executables in the build cache. Since Go 1.24 `go run` and `go tool`
//! keep the program they built in GOCACHE, as a directory
//! `<xx>/<output id>-d/` holding that one file (`PutExecutable` in
//! cmd/go/internal/cache/cache.go). One real `go run` (it compiles the
//! runtime, so this file holds a single test) pins that status, verify,
//! prune and mark treat such a directory as the build cache entry it is.

mod common;

use std::fs;
use std::path::PathBuf;

use common::*;

/// The `<id>-d` directories of GOCACHE.
fn executable_entries(gocache: &std::path::Path) -> Vec<PathBuf> {
    gocache_entries(gocache, "-d").into_iter().filter(|p| p.symlink_metadata().is_ok_and(|m| m.is_dir())).collect()
}

#[test]
fn executables_go_run_keeps_are_build_cache_entries_for_status_verify_and_prune() {
    let sb = GoSandbox::new();
    fs::create_dir_all(sb.modcache().join("cache/download")).unwrap();
    let tool = sb.root().join("tool");
    fs::create_dir_all(&tool).unwrap();
    fs::write(tool.join("go.mod"), "module example.com/tool\n\ngo 1.24\n").unwrap();
    fs::write(tool.join("main.go"), "package main\n\nfunc main() { println(\"tool ran\") }\n").unwrap();
    sb.go_ok(&tool, &["run", "."]);
    let exes = executable_entries(&sb.gocache());
    let [exe_dir] = exes.as_slice() else { panic!("go run kept {} executable entries, expected one", exes.len()) };
    let exe = fs::read_dir(exe_dir).unwrap().flatten().next().unwrap().path();
    let exe_size = fs::metadata(&exe).unwrap().len();

    // status: the executable is build cache, not "other".
    let Run { code, json: status, .. } = cmd(sb.gokeep().args(["status", "--json", "--gocache"]).arg(sb.gocache()));
    assert_eq!(code, 0, "{status:#}");
    let build = status["caches"].as_array().unwrap().iter().find(|c| c["kind"] == "build_cache").unwrap();
    let bytes_of = |cat: &str| {
        build["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["category"] == cat)
            .map_or(0, |r| r["apparent_bytes"].as_u64().unwrap())
    };
    assert!(bytes_of("build_cache") >= exe_size, "{:#}", build["categories"]);
    assert!(bytes_of("other") < exe_size, "the executable was counted as other: {:#}", build["categories"]);

    // verify: a clean executable entry is no finding; a changed byte is.
    let verify = |sb: &GoSandbox| cmd(sb.gokeep().args(["verify", "--json", "--no-project", "--build-cache"]));
    let Run { code, json: v, .. } = verify(&sb);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (0, 0), "{:#}", v["findings"]);
    let mut data = fs::read(&exe).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 1;
    fs::write(&exe, &data).unwrap();
    let Run { code, json: v, .. } = verify(&sb);
    assert_eq!(code, 1);
    let f = &v["findings"][0];
    assert_eq!(f["kind"], "build_output_mismatch", "{f:#}");
    assert!(f.to_string().contains(&*exe.to_string_lossy()), "{f:#}");

    // gocache refresh marks the directory used, as go's markUsed does.
    let old = filetime::FileTime::from_unix_time(gokeep::timestamp::Timestamp::now().0 - 10 * 86_400, 0);
    filetime::set_file_mtime(exe_dir, old).unwrap();
    run_ok(sb.gokeep().args(["gocache", "refresh"]));
    let mtime = filetime::FileTime::from_last_modification_time(&fs::metadata(exe_dir).unwrap());
    assert!(mtime.unix_seconds() > old.unix_seconds() + 86_400, "gocache refresh left the executable entry old");

    // prune: an old executable entry goes whole, as go's Trim removes it.
    filetime::set_file_mtime(exe_dir, old).unwrap();
    run_ok(sb.gokeep().args(["prune", "--gocache-max-age", "5d", "--yes"]));
    assert!(!exe_dir.exists(), "the executable entry was left behind");
    // go builds it again and runs it.
    let ran = sb.go(&tool, &["run", "."]);
    assert!(String::from_utf8_lossy(&ran.stderr).contains("tool ran"), "{}", String::from_utf8_lossy(&ran.stderr));
}
