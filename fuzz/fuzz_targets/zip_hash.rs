//! Module zips: any bytes, as a `.zip` in the cache, are hashed as cmd/go's
//! `HashZip` would or refused with an error, never a panic, a hang or an
//! allocation a hostile header asks for (bench/fuzz.sh runs this target with
//! a malloc limit); the same with a twin tree to compare against.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use gokeep::verify::dirhash::{hash_dir, hash_zip};
use libfuzzer_sys::fuzz_target;

struct Scratch {
    _dir: tempfile::TempDir,
    zip: PathBuf,
    tree: PathBuf,
}

fn scratch() -> &'static Scratch {
    static S: OnceLock<Scratch> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let zip = dir.path().join("v1.0.0.zip");
        let tree = dir.path().join("example.com").join("m@v1.0.0");
        std::fs::create_dir_all(tree.join("sub")).expect("tree");
        std::fs::write(tree.join("go.mod"), "module example.com/m\n").expect("tree");
        std::fs::write(tree.join("sub/a.go"), "package sub\n").expect("tree");
        Scratch { _dir: dir, zip, tree }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = scratch();
    std::fs::write(&s.zip, data).expect("write zip");
    let plain = hash_zip(&s.zip, None);
    let twin = hash_zip(&s.zip, Some((&s.tree, "example.com/m@v1.0.0")));
    match (&plain, &twin) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.tree, b.tree, "a twin changes no hash");
            let _ = hash_dir(&s.tree, "example.com/m@v1.0.0", Some(b));
        }
        (Err(_), Err(_)) => {}
        _ => panic!("with and without a twin disagree: {plain:?} / {twin:?}"),
    }
});
