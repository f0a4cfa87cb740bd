//! What prune leaves behind and how it is counted and reported: `--all`
//! leaves what `go clean -modcache` would not, `status` and `prune --debris`
//! agree on debris, `mark` beside a prune, and skip reasons that say what
//! gokeep saw.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const C: (&str, &str) = ("example.com/c", "v1.0.0");

/// Every entry below `root` whose name is not UTF-8, and every empty
/// directory outside `cache/`.
fn leftovers(root: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut bad_names, mut empty) = (Vec::new(), Vec::new());
    for e in walkdir::WalkDir::new(root).min_depth(1).follow_links(false) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(root).unwrap().to_owned();
        if e.file_name().to_str().is_none() {
            bad_names.push(rel.clone());
        }
        if e.file_type().is_dir() && !rel.starts_with("cache") && fs::read_dir(e.path()).unwrap().next().is_none() {
            empty.push(rel);
        }
    }
    (bad_names, empty)
}

#[test]
fn prune_all_leaves_neither_names_go_cannot_write_nor_empty_module_dirs() {
    let fx = Fixture::standard();
    let mc = fx.modcache();
    let bad = |s: &[u8]| OsStr::from_bytes(s).to_owned();
    fs::write(mc.join(bad(b"stray-\xff.txt")), "not go's\n").unwrap();
    let bad_dir = mc.join("example.com").join(bad(b"\xfe\xff"));
    fs::create_dir_all(bad_dir.join("sub")).unwrap();
    fs::write(bad_dir.join("sub/f"), "not go's\n").unwrap();
    // Left by an earlier removal.
    fs::create_dir_all(mc.join("example.org/gone/deeper")).unwrap();

    let (code, out, err) = run(fx.sandbox.gokeep().args(["prune", "--all", "--yes"]));
    assert_eq!(code, 0, "{out}\n{err}");
    let (bad_names, empty) = leftovers(&mc);
    assert!(bad_names.is_empty(), "names that are not UTF-8 are left: {bad_names:?}");
    assert!(empty.is_empty(), "empty module dirs are left: {empty:?}");
    assert!(cached_versions(&fx).is_empty());
    // The JSON plan names them too.
    fs::write(mc.join(bad(b"again-\xff")), "x").unwrap();
    let Run { code, json: v, stderr: err, .. } = cmd(fx.sandbox.gokeep().args(["prune", "--all", "--yes", "--json"]));
    assert_eq!(code, 0, "{err}");
    assert!(v["plan"]["items"].to_string().contains("again-"), "{v:#}");
    assert!(leftovers(&mc).0.is_empty());

    fx.consumer_go_build_ok();
    assert_go_ok(&fx.consumer_go_mod_verify(), "go mod verify");
}

fn category_disk_bytes(status: &Value, name: &str) -> u64 {
    status["caches"][0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == name)
        .map_or(0, |c| c["disk_bytes"].as_u64().unwrap())
}

#[test]
fn status_counts_as_debris_the_half_extracted_tree_prune_debris_frees() {
    let fx = Fixture::standard();
    // An extraction that was interrupted: the tree is marked incomplete.
    fs::write(fx.download_file(C.0, C.1, "partial"), "").unwrap();
    let (_, tree_disk) = du(&fx.extracted_dir(C.0, C.1));

    let Run { code, json: status, stderr: err, .. } = cmd(fx.sandbox.gokeep().args(["status", "--json"]));
    assert_eq!(code, 0, "{err}");
    let debris = category_disk_bytes(&status, "debris");
    assert!(debris >= tree_disk, "status counts the tree as debris: {debris} < {tree_disk}\n{status:#}");

    let Run { code, json: pruned, stderr: err, .. } =
        cmd(fx.sandbox.gokeep().args(["prune", "--debris", "--yes", "--json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(pruned["result"]["disk_bytes"].as_u64().unwrap(), debris, "{pruned:#}");
    assert!(!fx.extracted_dir(C.0, C.1).exists());

    let status = cmd_ok(fx.sandbox.gokeep().args(["status", "--json"]));
    assert_eq!(category_disk_bytes(&status, "debris"), 0, "{status:#}");
    fx.consumer_go_build_ok();
}

#[test]
fn the_fix_plan_sizes_a_tmp_extraction_dir() {
    let fx = Fixture::standard();
    let tmp = fx.modcache().join("example.com/c@v1.0.0.tmp-12345");
    fs::create_dir_all(&tmp).unwrap();
    fs::write(tmp.join("c.go"), "package c\n".repeat(1000)).unwrap();
    let (_, disk) = du(&tmp);

    let Run { code, json: v, stderr: err, .. } =
        cmd(fx.sandbox.gokeep().args(["verify", "--no-project", "--fix", "--json"]));
    assert_eq!(code, 1, "{err}");
    let items = v["fix"]["plan"]["items"].as_array().unwrap();
    let item = items.iter().find(|i| i["target"]["kind"] == "extract_temp").unwrap_or_else(|| panic!("{items:#?}"));
    assert_eq!(item["disk_bytes"].as_u64().unwrap(), disk, "{item:#}");
    assert!(!err.contains("[0 B]"), "{err}");
}

#[test]
fn mark_beside_files_that_vanish_is_not_an_error() {
    use rustix::fs::inotify;
    let fx = Fixture::standard();
    // A tree whose files a prune (or go) removes while the mark walks it:
    // as soon as the mark opens the first of them, files it has listed but
    // not reached yet are removed. Entries come in directory order, which
    // read_dir shows; the first few hundred are one getdents batch.
    let sub = fx.modcache().join("example.com/churn@v1.0.0/sub");
    fs::create_dir_all(&sub).unwrap();
    for i in 0..3000 {
        fs::write(sub.join(format!("f{i}.go")), "package churn\n").unwrap();
    }
    let order: Vec<PathBuf> = fs::read_dir(&sub).unwrap().map(|e| e.unwrap().path()).collect();
    let ino = inotify::init(inotify::CreateFlags::CLOEXEC).unwrap();
    inotify::add_watch(&ino, &sub, inotify::WatchFlags::OPEN).unwrap();
    let racer = std::thread::spawn(move || {
        let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
        let mut events = inotify::Reader::new(&ino, &mut buf);
        // Events for files inside the watched directory carry their name.
        while events.next().unwrap().file_name().is_none_or(std::ffi::CStr::is_empty) {}
        let mut removed = 0;
        for p in &order[150..600] {
            removed += usize::from(fs::remove_file(p).is_ok());
        }
        removed
    });
    let (code, out, err) = run(fx.sandbox.gokeep().arg("mark"));
    // Wakes the racer should the mark not have opened anything, so the test ends.
    drop(fs::File::open(sub.join("f2999.go")));
    assert!(racer.join().unwrap() > 0);
    assert_eq!(code, 0, "a vanished file is not an error:\n{out}\n{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn a_fresh_zip_without_a_tree_is_skipped_with_what_gokeep_saw() {
    let fx = Fixture::standard();
    let dir = fx.extracted_dir(C.0, C.1);
    GoSandbox::make_writable(&dir);
    fs::remove_dir_all(&dir).unwrap();
    let zip = fx.download_file(C.0, C.1, "zip");
    filetime::set_file_mtime(&zip, filetime::FileTime::now()).unwrap();

    let Run { code, json: v, stderr: err, .. } = cmd(fx.sandbox.gokeep().args(["prune", "--all", "--yes", "--json"]));
    assert_eq!(code, 0, "{err}");
    let skipped = v["result"]["skipped"].as_array().unwrap();
    let [s] = skipped.as_slice() else { panic!("{skipped:#?}") };
    let reason = s["reason"].as_str().unwrap();
    assert!(
        reason.contains("its zip was written")
            && reason.contains("s ago")
            && reason.contains("may be about to extract"),
        "{reason}"
    );
    assert!(!reason.contains("is using it"), "no go command was seen: {reason}");
    assert!(zip.is_file());
}
