//! `gokeep status` (alias `du`) on caches built by the real `go`.

mod common;

use common::*;

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
