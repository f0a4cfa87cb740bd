//! The lock files cmd/go takes in GOMODCACHE, taken the same way; the only
//! module in gokeep that calls file-lock functions.
//!
//! ## Interoperating with `go`
//! cmd/go's `lockedfile` package locks with `flock(2)` on Linux, BSD and macOS
//! (`cmd/go/internal/lockedfile/internal/filelock/filelock_unix.go`), and so do
//! Rust's `File::lock` / `File::try_lock`: a lock gokeep holds excludes `go`
//! and the other way round.
//!
//! - A module version's mutex is `cache/download/<module>/@v/<version>.lock`,
//!   opened `O_RDWR|O_CREATE` with mode 0666 exactly as `lockedfile.MutexAt`
//!   does (`modfetch/cache.go` `lockVersion`). cmd/go holds it while it
//!   downloads the zip and, separately, while it extracts the tree.
//! - A VCS repository's mutex is `cache/vcs/<hash>.lock`.
//! - `@v/list` is rewritten under an exclusive lock on the list file itself,
//!   like `lockedfile.Edit` in `rewriteVersionList`.
//!
//! Lock files are never deleted: a process may hold the old inode while
//! another creates a new file with the same name, and then both "hold" the lock.
//!
//! ## Busy locks
//! gokeep never waits long for a lock: a version that a running `go` command
//! holds is being downloaded or extracted right now, so it is skipped (and
//! reported) rather than waited for. [`try_lock_for`] retries for a short
//! while to get past a lock that is only briefly held.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::layout::{self, DownloadFile};

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot open lock file {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot lock {path}: {source}")]
    Lock { path: PathBuf, source: std::io::Error },
    #[error("cannot rewrite {path}: {source}")]
    Rewrite { path: PathBuf, source: std::io::Error },
}

/// An exclusive lock held until dropped (closing the file releases it).
#[derive(Debug)]
pub struct HeldLock {
    _file: File,
    path: PathBuf,
}

impl HeldLock {
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

use crate::layout::download_path;

fn open_lock_file(path: &Path) -> Result<File, LockError> {
    if let Some(parent) = path.parent() {
        // cmd/go does the same MkdirAll(0777) before locking.
        fs::create_dir_all(parent).map_err(|e| LockError::Open { path: path.to_owned(), source: e })?;
    }
    open_rw(path).map_err(|e| LockError::Open { path: path.to_owned(), source: e })
}

/// How lockedfile opens a file it locks (`O_RDWR|O_CREATE`, 0666), plus
/// `O_NOFOLLOW`: a symbolic link planted in the cache is an error, never a
/// way to make gokeep write elsewhere.
fn open_rw(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Tries to take the exclusive lock on `path` for up to `wait`; `Ok(None)`
/// when someone else still holds it.
pub fn try_lock_for(path: &Path, wait: Duration) -> Result<Option<HeldLock>, LockError> {
    let file = open_lock_file(path)?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(HeldLock { _file: file, path: path.to_owned() })),
            Err(TryLockError::WouldBlock) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(None);
                }
                std::thread::sleep(pause.min(deadline - now));
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(TryLockError::Error(e)) => return Err(LockError::Lock { path: path.to_owned(), source: e }),
        }
    }
}

/// Takes the exclusive lock on `path`, waiting as long as it takes.
pub fn lock_blocking(path: &Path) -> Result<HeldLock, LockError> {
    let file = open_lock_file(path)?;
    file.lock().map_err(|e| LockError::Lock { path: path.to_owned(), source: e })?;
    Ok(HeldLock { _file: file, path: path.to_owned() })
}

/// The version mutex cmd/go's `lockVersion` takes.
#[derive(Debug)]
pub struct VersionLock(pub HeldLock);

impl VersionLock {
    /// Waits up to `wait` for `<version>.lock`; `Ok(None)` if a running `go` still holds it.
    pub fn try_acquire(
        modcache: &Path,
        module: &str,
        version: &str,
        wait: Duration,
    ) -> Result<Option<Self>, LockError> {
        Ok(try_lock_for(&download_path(modcache, module, version, DownloadFile::Lock), wait)?.map(Self))
    }

    /// Waits for `<version>.lock` as long as it takes.
    pub fn acquire(modcache: &Path, module: &str, version: &str) -> Result<Self, LockError> {
        Ok(Self(lock_blocking(&download_path(modcache, module, version, DownloadFile::Lock))?))
    }
}

/// `cache/vcs/<hash>.lock`, guarding a bare repository and its `.info`.
pub fn try_lock_vcs(modcache: &Path, hash: &str, wait: Duration) -> Result<Option<HeldLock>, LockError> {
    try_lock_for(&modcache.join("cache/vcs").join(format!("{hash}.lock")), wait)
}

/// `module.CanonicalVersion(v) == v`: a full `vX.Y.Z[-pre]` with no build
/// suffix other than `+incompatible`. cmd/go compares the *escaped* file name,
/// so versions with upper-case letters (`!`-escaped) are never listed.
fn is_canonical(v: &str) -> bool {
    let Some(s) = layout::parse_semver(v) else { return false };
    let core = v[1..].split(['-', '+']).next().unwrap_or("");
    core.split('.').count() == 3 && (s.build.is_empty() || s.build == "incompatible")
}

/// The contents cmd/go's `rewriteVersionList` would give `@v/list` for the
/// `.mod` files named in `names`: canonical versions, semver-sorted, one per
/// line, newline-terminated (empty when no `.mod` is left).
#[must_use]
pub fn version_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut list: Vec<String> = names
        .into_iter()
        .filter_map(|n| n.strip_suffix(".mod"))
        .filter(|v| is_canonical(v))
        .map(str::to_owned)
        .collect();
    list.sort_by(|a, b| layout::compare_versions(a, b).then_with(|| a.cmp(b)));
    list.dedup();
    let mut s = String::new();
    for v in list {
        s.push_str(&v);
        s.push('\n');
    }
    s
}

/// Rewrites `@v/list` after `.mod` files were removed, with cmd/go's own
/// protocol: exclusive lock on the list file (`lockedfile.Edit`), list the
/// directory under the lock, leave the file alone if it is already right,
/// else truncate to 0, truncate to the new size (zero-filled, so a torn write
/// shows as NUL bytes) and write. Does nothing when the `@v` directory is gone.
pub fn rewrite_version_list(at_v: &Path) -> Result<(), LockError> {
    let list = at_v.join("list");
    let err = |e: std::io::Error| LockError::Rewrite { path: list.clone(), source: e };
    // lstat, not is_dir: a symlinked @v would take the write out of the cache.
    if !fs::symlink_metadata(at_v).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let mut f = open_rw(&list).map_err(err)?;
    f.lock().map_err(|e| LockError::Lock { path: list.clone(), source: e })?;
    let names: Vec<String> = fs::read_dir(at_v)
        .map_err(err)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    let want = version_list(names.iter().map(String::as_str));
    let mut old = Vec::new();
    f.read_to_end(&mut old).map_err(err)?;
    if old == want.as_bytes() {
        return Ok(());
    }
    f.set_len(0).map_err(err)?;
    f.set_len(want.len() as u64).map_err(err)?;
    f.seek(SeekFrom::Start(0)).map_err(err)?;
    if let Err(e) = f.write_all(want.as_bytes()) {
        let _ = f.set_len(0);
        return Err(err(e));
    }
    Ok(())
}

/// What `go clean -testcache` does (`cmd/go/internal/clean/clean.go`): under
/// an exclusive lock on `GOCACHE/testexpire.txt` (`lockedfile.Edit`), if
/// `now_nanos` is later than the stored time, replace it with
/// `<now_nanos>\n`; cached test results older than that are then ignored.
pub fn expire_test_results(gocache: &Path, now_nanos: i128) -> Result<(), LockError> {
    let path = gocache.join("testexpire.txt");
    let err = |e: std::io::Error| LockError::Rewrite { path: path.clone(), source: e };
    let mut f = open_rw(&path).map_err(err)?;
    f.lock().map_err(|e| LockError::Lock { path: path.clone(), source: e })?;
    let mut old = String::new();
    f.read_to_string(&mut old).map_err(err)?;
    let prev: i128 = old.trim().parse().unwrap_or(0);
    if now_nanos > prev {
        f.set_len(0).map_err(err)?;
        f.seek(SeekFrom::Start(0)).map_err(err)?;
        f.write_all(format!("{now_nanos}\n").as_bytes()).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_semver_sorted_and_newline_terminated() {
        let names = ["v1.10.0.mod", "v1.2.0.mod", "v1.2.0.zip", "v1.0.0-pre.mod", "list", "v2.0.0+incompatible.mod"];
        assert_eq!(version_list(names), "v1.0.0-pre\nv1.2.0\nv1.10.0\nv2.0.0+incompatible\n");
        assert_eq!(version_list(["v1.0.0.zip"]), "");
        assert_eq!(version_list(["v1.0.0-!r!c1.mod", "v1.mod", "v1.0.0+meta.mod"]), "");
    }

    #[test]
    fn rewrite_lists_versions_that_still_have_a_mod() {
        let t = tempfile::tempdir().unwrap();
        let at_v = t.path().join("@v");
        fs::create_dir(&at_v).unwrap();
        fs::write(at_v.join("list"), "v1.0.0\nv1.1.0\n").unwrap();
        fs::write(at_v.join("v1.1.0.mod"), "module x\n").unwrap();
        fs::write(at_v.join("v1.0.0.info"), "{}").unwrap();
        rewrite_version_list(&at_v).unwrap();
        assert_eq!(fs::read_to_string(at_v.join("list")).unwrap(), "v1.1.0\n");
        fs::remove_file(at_v.join("v1.1.0.mod")).unwrap();
        rewrite_version_list(&at_v).unwrap();
        assert_eq!(fs::read_to_string(at_v.join("list")).unwrap(), "");
    }

    #[test]
    fn a_symlinked_at_v_directory_gets_no_list_written_through_it() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("v1.0.0.mod"), "module x\n").unwrap();
        let at_v = t.path().join("@v");
        std::os::unix::fs::symlink(&outside, &at_v).unwrap();
        rewrite_version_list(&at_v).unwrap();
        assert!(!outside.join("list").exists());
    }

    #[test]
    fn test_results_expire_only_forward() {
        let t = tempfile::tempdir().unwrap();
        expire_test_results(t.path(), 2_000).unwrap();
        assert_eq!(fs::read_to_string(t.path().join("testexpire.txt")).unwrap(), "2000\n");
        expire_test_results(t.path(), 1_000).unwrap();
        assert_eq!(fs::read_to_string(t.path().join("testexpire.txt")).unwrap(), "2000\n");
    }

    #[test]
    fn a_held_version_lock_is_busy_for_others_and_the_file_stays() {
        let t = tempfile::tempdir().unwrap();
        let held = VersionLock::acquire(t.path(), "example.com/A", "v1.0.0").unwrap();
        assert!(held.0.path().ends_with("cache/download/example.com/!a/@v/v1.0.0.lock"));
        let other = VersionLock::try_acquire(t.path(), "example.com/A", "v1.0.0", Duration::from_millis(20)).unwrap();
        assert!(other.is_none());
        drop(held);
        let again = VersionLock::try_acquire(t.path(), "example.com/A", "v1.0.0", Duration::ZERO).unwrap();
        assert!(again.is_some());
        drop(again);
        assert!(download_path(t.path(), "example.com/A", "v1.0.0", DownloadFile::Lock).exists());
    }
}
