//! Incremental `gokeep verify`: after a clean verify, a version is hashed
//! again only when something it was verified from changed (by stat), and a
//! change of any kind is still caught. Caches made by the real `go`.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::Value;

const A: (&str, &str) = ("example.com/a", "v1.2.0");
const LIB: (&str, &str) = ("example.com/Org/Lib", "v1.1.0");
const C: (&str, &str) = ("example.com/c", "v1.0.0");

/// A fixture whose files are older than the window in which verify does
/// not trust a stat (`RACY_SECS`): a file changed that recently could change
/// again within the same timestamp tick, so its version is not remembered.
fn settled(fx: Fixture) -> Fixture {
    settle();
    fx
}

fn settle() {
    std::thread::sleep(Duration::from_secs(gokeep::verify::incremental::RACY_SECS as u64) + Duration::from_millis(200));
}

fn verify(fx: &Fixture, extra: &[&str]) -> Run {
    cmd(fx.sandbox.gokeep().args(["verify", "--json", "--project"]).arg(&fx.consumer).args(extra))
}

fn counts(v: &Value) -> (u64, u64, u64) {
    let m = &v["modcache"];
    (
        m["versions_hashed"].as_u64().unwrap(),
        m["versions_unchanged"].as_u64().unwrap(),
        m["bytes_hashed"].as_u64().unwrap(),
    )
}

/// `(kind, module@version)` of every warning or error.
fn flagged(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                format!("{}@{}", f["module"].as_str().unwrap(), f["version"].as_str().unwrap()),
            )
        })
        .collect();
    out.sort();
    out
}

fn state_file(fx: &Fixture) -> PathBuf {
    fx.sandbox.home().join(".local/state/gokeep/verified.json")
}

fn writable(path: &Path, f: impl FnOnce()) {
    let dir = path.parent().unwrap();
    let (dir_mode, file_mode) =
        (fs::metadata(dir).unwrap().permissions().mode(), fs::metadata(path).unwrap().permissions().mode());
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    f();
    fs::set_permissions(path, fs::Permissions::from_mode(file_mode)).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(dir_mode)).unwrap();
}

#[test]
fn an_unchanged_cache_is_verified_again_without_hashing_and_full_hashes_all() {
    let fx = settled(Fixture::standard());
    let n = fx.modules.len() as u64;
    let first = verify(&fx, &[]);
    assert_eq!((first.code, flagged(&first.json)), (0, vec![]), "{}", first.stderr);
    let (hashed, unchanged, bytes) = counts(&first.json);
    assert_eq!((hashed, unchanged), (n, 0));
    assert!(bytes > 0);
    assert!(state_file(&fx).is_file(), "the clean versions are remembered in gokeep's state directory");

    let second = verify(&fx, &[]);
    assert_eq!((second.code, flagged(&second.json)), (0, vec![]));
    assert_eq!(counts(&second.json), (0, n, 0), "nothing changed: nothing is hashed");
    assert_eq!(second.json["modcache"]["versions_checked"], n);

    // The remembered hashes still check the project's go.sum.
    let sum = fx.consumer.join("go.sum");
    let good = fs::read_to_string(&sum).unwrap();
    let wrong_h1 = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let line = good.lines().find(|l| l.starts_with("example.com/a v1.2.0 h1:")).expect("go.sum line for example.com/a");
    fs::write(&sum, good.replace(line, &format!("example.com/a v1.2.0 {wrong_h1}"))).unwrap();
    let against_sum = verify(&fx, &[]);
    assert_eq!(counts(&against_sum.json).0, 0);
    assert_eq!(against_sum.code, 1);
    assert!(
        flagged(&against_sum.json).iter().any(|(_, mv)| mv == "example.com/a@v1.2.0"),
        "{:#}",
        against_sum.json["findings"]
    );
    fs::write(&sum, good).unwrap();

    let text = run_ok(fx.sandbox.gokeep().args(["verify", "--project"]).arg(&fx.consumer));
    assert!(
        text.contains(&format!("{n} unchanged since the last verify (stat), 0 re-hashed"))
            && text.contains("--full re-hashes all"),
        "{text}"
    );

    let full = verify(&fx, &["--full"]);
    assert_eq!((full.code, flagged(&full.json)), (0, vec![]));
    assert_eq!(counts(&full.json), (n, 0, bytes), "--full hashes every version, as the first verify did");
}

#[test]
fn an_edited_tree_file_a_replaced_zip_and_a_touched_ziphash_are_hashed_again_and_judged() {
    let fx = settled(Fixture::standard());
    let n = fx.modules.len() as u64;
    let first = verify(&fx, &[]);
    assert_eq!((first.code, counts(&first.json).0), (0, n));

    // A tree file rewritten with as many bytes, its mtime put back: only ctime tells.
    let file = fx.extracted_dir(A.0, A.1).join("helper.go");
    let before = fs::metadata(&file).unwrap();
    let text = fs::read_to_string(&file).unwrap();
    let edited = text.replace("Double", "Triple");
    assert_eq!(edited.len(), text.len());
    writable(&file, || fs::write(&file, &edited).unwrap());
    filetime::set_file_mtime(&file, filetime::FileTime::from_last_modification_time(&before)).unwrap();
    let after = fs::metadata(&file).unwrap();
    assert_eq!((after.len(), after.modified().unwrap()), (before.len(), before.modified().unwrap()));

    // A zip replaced by a damaged copy of itself, same size, same mtime.
    let zip = fx.download_file(LIB.0, LIB.1, "zip");
    let zip_md = fs::metadata(&zip).unwrap();
    let mut bytes = fs::read(&zip).unwrap();
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0x55;
    let copy = zip.with_extension("copy");
    fs::write(&copy, &bytes).unwrap();
    filetime::set_file_mtime(&copy, filetime::FileTime::from_last_modification_time(&zip_md)).unwrap();
    fs::rename(&copy, &zip).unwrap();

    // A .ziphash touched, its content unchanged.
    let ziphash = fx.download_file(C.0, C.1, "ziphash");
    filetime::set_file_mtime(&ziphash, filetime::FileTime::now()).unwrap();

    settle();
    let second = verify(&fx, &[]);
    assert_eq!(second.code, 1);
    let (hashed, unchanged, bytes) = counts(&second.json);
    assert_eq!((hashed, unchanged), (3, n - 3), "exactly the three changed versions are hashed");
    assert!(bytes > 0 && bytes < counts(&first.json).2);
    let found = flagged(&second.json);
    let id = |m: (&str, &str)| format!("{}@{}", m.0, m.1);
    assert!(found.contains(&("dir_modified".to_owned(), id(A))), "{found:?}");
    assert!(found.iter().any(|(k, mv)| *mv == id(LIB) && k.starts_with("zip_")), "{found:?}");
    assert!(!found.iter().any(|(_, mv)| *mv == id(C)), "a touched .ziphash is hashed again and found good");

    // A finding is never remembered as good: both are hashed (and reported) again.
    let third = verify(&fx, &[]);
    assert_eq!(counts(&third.json).0, 2);
    assert_eq!(flagged(&third.json), found);
}

#[test]
fn an_unusable_state_file_is_ignored_with_a_warning_and_everything_is_hashed() {
    let fx = settled(Fixture::standard());
    let n = fx.modules.len() as u64;
    assert_eq!(verify(&fx, &[]).code, 0);
    for (content, says) in [
        (&b"{\"format\":1,\"roots\":{\"/x\":{\"rul"[..], "not a file gokeep wrote"),
        (&b"{\"format\":99,\"roots\":{}}"[..], "format 99"),
    ] {
        fs::write(state_file(&fx), content).unwrap();
        let r = verify(&fx, &[]);
        assert_eq!((r.code, flagged(&r.json)), (0, vec![]), "{}", r.stderr);
        assert_eq!(counts(&r.json).0, n, "everything is hashed");
        assert!(r.stderr.contains("warning") && r.stderr.contains(says), "{}", r.stderr);
        // The file is written anew: the next verify uses it.
        let again = verify(&fx, &[]);
        assert_eq!(counts(&again.json), (0, n, 0), "{}", again.stderr);
        assert!(!again.stderr.contains("warning"), "{}", again.stderr);
    }
}
