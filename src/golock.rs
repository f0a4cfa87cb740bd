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
//! Inside a cache every lock file, and `@v/list`, is opened relative to the
//! recognised root's descriptor ([`crate::fs::beneath`]): a directory on the way
//! swapped for a symbolic link makes the open fail, it never creates or
//! truncates a file elsewhere. Only the state directory's own locks (outside
//! any cache) are opened by path.
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

use rustix::fs::{Mode, OFlags};

use crate::layout::{self, DownloadFile};

use crate::fs::beneath::{open_file_at, read_entries};
use crate::fs::failpoint;
use crate::fs::remove::CacheRoot;

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
    file: File,
    path: PathBuf,
}

impl HeldLock {
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The locked file, for a lock that records its holder in itself.
    #[must_use]
    pub fn file(&self) -> &File {
        &self.file
    }
}

use crate::layout::download_path;

/// How lockedfile opens a file it locks: `O_RDWR|O_CREATE`, 0666.
const LOCK_FLAGS: OFlags = OFlags::RDWR.union(OFlags::CREATE);
const LOCK_MODE: Mode = Mode::from_raw_mode(0o666);

/// A lock file inside a cache: its directory made as cmd/go's `MkdirAll(0777)`
/// does, then the file opened as lockedfile does, all beneath the root.
fn open_lock_in(root: &CacheRoot, path: &Path) -> Result<File, LockError> {
    root.open_file(path, LOCK_FLAGS, LOCK_MODE, true).map_err(|e| LockError::Open { path: path.to_owned(), source: e })
}

/// A lock file outside any cache (gokeep's state directory).
fn open_lock_file(path: &Path) -> Result<File, LockError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| LockError::Open { path: path.to_owned(), source: e })?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| LockError::Open { path: path.to_owned(), source: e })
}

/// Tries to take the exclusive lock on `path` (outside any cache) for up
/// to `wait`; `Ok(None)` when someone else still holds it.
pub fn try_lock_for(path: &Path, wait: Duration) -> Result<Option<HeldLock>, LockError> {
    try_lock_file(open_lock_file(path)?, path, wait)
}

/// [`try_lock_for`] on a lock file inside a cache.
pub fn try_lock_in(root: &CacheRoot, path: &Path, wait: Duration) -> Result<Option<HeldLock>, LockError> {
    try_lock_file(open_lock_in(root, path)?, path, wait)
}

fn try_lock_file(file: File, path: &Path, wait: Duration) -> Result<Option<HeldLock>, LockError> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(HeldLock { file, path: path.to_owned() })),
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

/// Takes the exclusive lock on `path` (outside any cache), waiting as long as it takes.
pub fn lock_blocking(path: &Path) -> Result<HeldLock, LockError> {
    lock_file(open_lock_file(path)?, path)
}

fn lock_file(file: File, path: &Path) -> Result<HeldLock, LockError> {
    file.lock().map_err(|e| LockError::Lock { path: path.to_owned(), source: e })?;
    Ok(HeldLock { file, path: path.to_owned() })
}

/// The version mutex cmd/go's `lockVersion` takes.
#[derive(Debug)]
pub struct VersionLock(pub HeldLock);

impl VersionLock {
    /// Waits up to `wait` for `<version>.lock`; `Ok(None)` if a running `go` still holds it.
    pub fn try_acquire(
        modcache: &CacheRoot,
        module: &str,
        version: &str,
        wait: Duration,
    ) -> Result<Option<Self>, LockError> {
        let path = download_path(modcache.path(), module, version, DownloadFile::Lock);
        Ok(try_lock_in(modcache, &path, wait)?.map(Self))
    }

    /// Waits for `<version>.lock` as long as it takes.
    pub fn acquire(modcache: &CacheRoot, module: &str, version: &str) -> Result<Self, LockError> {
        let path = download_path(modcache.path(), module, version, DownloadFile::Lock);
        Ok(Self(lock_file(open_lock_in(modcache, &path)?, &path)?))
    }
}

/// `cache/vcs/<hash>.lock`, guarding a bare repository and its `.info`.
pub fn try_lock_vcs(modcache: &CacheRoot, hash: &str, wait: Duration) -> Result<Option<HeldLock>, LockError> {
    try_lock_in(modcache, &modcache.path().join("cache/vcs").join(format!("{hash}.lock")), wait)
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
/// shows as NUL bytes) and write. Does nothing when the `@v` directory is
/// gone. `@v` is opened once, beneath the root, and both the listing and the
/// list file are relative to that descriptor.
pub fn rewrite_version_list(root: &CacheRoot, at_v: &Path) -> Result<(), LockError> {
    let list = at_v.join("list");
    let err = |e: std::io::Error| LockError::Rewrite { path: list.clone(), source: e };
    let dir = match root.open_dir(at_v) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(err(e)),
    };
    let mut f = open_file_at(&dir, c"list", LOCK_FLAGS, LOCK_MODE).map_err(err)?;
    f.lock().map_err(|e| LockError::Lock { path: list.clone(), source: e })?;
    let names: Vec<String> =
        read_entries(&dir).map_err(err)?.into_iter().filter_map(|e| e.name.into_string().ok()).collect();
    let want = version_list(names.iter().map(String::as_str));
    let mut old = Vec::new();
    f.read_to_end(&mut old).map_err(err)?;
    if old == want.as_bytes() {
        return Ok(());
    }
    failpoint::after(f.set_len(0)).map_err(err)?;
    failpoint::after(f.set_len(want.len() as u64)).map_err(err)?;
    f.seek(SeekFrom::Start(0)).map_err(err)?;
    if let Err(e) = f.write_all(want.as_bytes()) {
        let _ = f.set_len(0);
        return Err(err(e));
    }
    failpoint::mutated();
    Ok(())
}

/// What `go clean -testcache` does (`cmd/go/internal/clean/clean.go`): under
/// an exclusive lock on `GOCACHE/testexpire.txt` (`lockedfile.Edit`), if
/// `now_nanos` is later than the stored time, replace it with
/// `<now_nanos>\n`; cached test results older than that are then ignored.
pub fn expire_test_results(gocache: &CacheRoot, now_nanos: i128) -> Result<(), LockError> {
    let path = gocache.path().join("testexpire.txt");
    let err = |e: std::io::Error| LockError::Rewrite { path: path.clone(), source: e };
    let mut f = gocache.open_file(&path, LOCK_FLAGS, LOCK_MODE, false).map_err(err)?;
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

    fn modcache() -> (tempfile::TempDir, CacheRoot) {
        let t = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(t.path()).unwrap().join("mod");
        fs::create_dir_all(root.join("cache/download")).unwrap();
        let r = crate::fs::remove::recognise_modcache(&root).unwrap();
        (t, r)
    }

    #[test]
    fn rewrite_lists_versions_that_still_have_a_mod() {
        let (_t, root) = modcache();
        let at_v = root.path().join("cache/download/@v");
        fs::create_dir(&at_v).unwrap();
        fs::write(at_v.join("list"), "v1.0.0\nv1.1.0\n").unwrap();
        fs::write(at_v.join("v1.1.0.mod"), "module x\n").unwrap();
        fs::write(at_v.join("v1.0.0.info"), "{}").unwrap();
        rewrite_version_list(&root, &at_v).unwrap();
        assert_eq!(fs::read_to_string(at_v.join("list")).unwrap(), "v1.1.0\n");
        fs::remove_file(at_v.join("v1.1.0.mod")).unwrap();
        rewrite_version_list(&root, &at_v).unwrap();
        assert_eq!(fs::read_to_string(at_v.join("list")).unwrap(), "");
    }

    #[test]
    fn a_symlinked_directory_on_the_way_to_the_list_gets_nothing_written_through_it() {
        let (t, root) = modcache();
        let outside = t.path().join("outside");
        fs::create_dir_all(outside.join("@v")).unwrap();
        fs::write(outside.join("@v/v1.0.0.mod"), "module x\n").unwrap();
        fs::write(outside.join("@v/list"), "v0.1.0\n").unwrap();
        let host = root.path().join("cache/download/example.com");
        std::os::unix::fs::symlink(&outside, &host).unwrap();
        assert!(rewrite_version_list(&root, &host.join("@v")).is_err());
        fs::remove_file(&host).unwrap();
        fs::create_dir(&host).unwrap();
        std::os::unix::fs::symlink(outside.join("@v"), host.join("@v")).unwrap();
        assert!(rewrite_version_list(&root, &host.join("@v")).is_err());
        assert_eq!(fs::read_to_string(outside.join("@v/list")).unwrap(), "v0.1.0\n");
    }

    #[test]
    fn a_lock_is_never_created_through_a_symlinked_directory() {
        let (t, root) = modcache();
        let outside = t.path().join("outside");
        fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.path().join("cache/download/example.com")).unwrap();
        assert!(VersionLock::try_acquire(&root, "example.com/a", "v1.0.0", Duration::ZERO).is_err());
        assert!(VersionLock::acquire(&root, "example.com/a", "v1.0.0").is_err());
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn test_results_expire_only_forward() {
        let t = tempfile::tempdir().unwrap();
        let g = fs::canonicalize(t.path()).unwrap();
        fs::write(g.join("README"), crate::fs::remove::GOCACHE_README_PREFIX).unwrap();
        let root = crate::fs::remove::recognise_gocache(&g).unwrap();
        expire_test_results(&root, 2_000).unwrap();
        assert_eq!(fs::read_to_string(g.join("testexpire.txt")).unwrap(), "2000\n");
        expire_test_results(&root, 1_000).unwrap();
        assert_eq!(fs::read_to_string(g.join("testexpire.txt")).unwrap(), "2000\n");
    }

    #[test]
    fn a_held_version_lock_is_busy_for_others_and_the_file_stays() {
        let (_t, root) = modcache();
        let held = VersionLock::acquire(&root, "example.com/A", "v1.0.0").unwrap();
        assert!(held.0.path().ends_with("cache/download/example.com/!a/@v/v1.0.0.lock"));
        let other = VersionLock::try_acquire(&root, "example.com/A", "v1.0.0", Duration::from_millis(20)).unwrap();
        assert!(other.is_none());
        drop(held);
        let again = VersionLock::try_acquire(&root, "example.com/A", "v1.0.0", Duration::ZERO).unwrap();
        assert!(again.is_some());
        drop(again);
        assert!(download_path(root.path(), "example.com/A", "v1.0.0", DownloadFile::Lock).exists());
    }
}
