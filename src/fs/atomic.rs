//! Replacing a whole file so that a crash leaves either the old or the new
//! contents, never a torn one: temp file in the same directory, fsync,
//! rename, fsync the directory. Used for a user's go.sum, the mark record
//! and Prometheus textfiles.

use std::ffi::OsString;
use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::failpoint;

/// Writes `bytes` to `path` atomically. An existing file keeps its
/// permission bits (a temp file is created 0600, which would hide a go.sum
/// from the group or a textfile from `node_exporter`); a new one gets 0644.
/// A symbolic link is written through, not replaced by a plain file.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let resolved = match fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::read_link(path) {
            // A dangling link: write where it points, as writing through it would.
            Ok(target) => path.parent().unwrap_or(Path::new("")).join(target),
            Err(_) => path.to_owned(),
        },
        Err(e) => return Err(e),
    };
    let path = resolved.as_path();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mode = match fs::metadata(path) {
        Ok(md) => md.permissions().mode() & 0o7777,
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0o644,
        Err(e) => return Err(e),
    };
    let (prefix, suffix) = temp_affixes(path);
    let builder = tempfile::Builder::new().prefix(&prefix).suffix(suffix).tempfile_in(dir);
    let mut tmp = failpoint::after(builder).map_err(without_temp_path)?;
    failpoint::after(tmp.write_all(bytes)).map_err(without_temp_path)?;
    failpoint::after(tmp.as_file().set_permissions(Permissions::from_mode(mode)))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| without_temp_path(e.error))?;
    failpoint::mutated();
    File::open(dir)?.sync_all()
}

/// The temp file of `path` is `.<name>.<random>.gokeep-tmp`, beside it: a
/// process killed before its rename leaves one, which says whose it is and
/// which [`remove_stale_temps`] finds.
fn temp_affixes(path: &Path) -> (OsString, &'static str) {
    let mut prefix = OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    (prefix, TEMP_SUFFIX)
}

const TEMP_SUFFIX: &str = ".gokeep-tmp";

/// Removes the temp files [`replace_file`] left beside `path` when it was
/// stopped before its rename. Only for a caller holding the lock that every
/// writer of `path` takes (a live writer's temp file would go too).
pub fn remove_stale_temps(path: &Path) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let (prefix, suffix) = temp_affixes(path);
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for e in entries {
        let e = e?;
        let name = e.file_name();
        let bytes = name.as_bytes();
        let ours = bytes.len() > prefix.len() + suffix.len()
            && bytes.starts_with(prefix.as_bytes())
            && bytes.ends_with(suffix.as_bytes());
        if ours && e.file_type()?.is_file() {
            match failpoint::after(fs::remove_file(e.path())) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// tempfile names its random file in every error ("… at path dir/.tmpXy12");
/// the caller names the file being replaced, which is the one the user knows.
fn without_temp_path(e: io::Error) -> io::Error {
    let raw = e
        .get_ref()
        .and_then(|inner| inner.source())
        .and_then(|s| s.downcast_ref::<io::Error>())
        .and_then(io::Error::raw_os_error);
    raw.map_or(e, io::Error::from_raw_os_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dangling_link_is_written_through_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("metrics.prom");
        std::os::unix::fs::symlink("real.prom", &link).unwrap();
        replace_file(&link, b"x 1\n").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(dir.path().join("real.prom")).unwrap(), b"x 1\n");
    }

    #[test]
    fn replaces_contents_and_keeps_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("go.sum");
        fs::write(&p, "old contents, longer than the new\n").unwrap();
        fs::set_permissions(&p, Permissions::from_mode(0o640)).unwrap();
        replace_file(&p, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new\n");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }

    #[test]
    fn a_symlinked_file_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.sum");
        let link = dir.path().join("go.sum");
        fs::write(&target, "old\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        replace_file(&link, b"new\n").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), "new\n");
    }

    #[test]
    fn stale_temps_of_the_file_go_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("go.mod");
        fs::write(&p, "module m\n").unwrap();
        for name in
            [".go.mod.x1Yz.gokeep-tmp", ".go.mod.gokeep-tmp", ".go.work.a.gokeep-tmp", ".go.mod.a.tmp", "go.sum"]
        {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        remove_stale_temps(&p).unwrap();
        let mut left: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [".go.mod.a.tmp", ".go.mod.gokeep-tmp", ".go.work.a.gokeep-tmp", "go.mod", "go.sum"]);
    }

    #[test]
    fn a_new_file_is_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("gokeep.prom");
        replace_file(&p, b"x 1\n").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o644);
    }
}
