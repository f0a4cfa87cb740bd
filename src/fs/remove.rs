//! Cache-root recognition and the one place in gokeep that deletes.
//!
//! ## One rule for roots, whatever the spelling
//! A root is resolved once: the named path is opened (following any symbolic
//! link in or above it, so a `~/go` that links to another disk works, and
//! `dir/`, `dir/./` or `$GOMODCACHE` all name the same directory), its
//! canonical path is read back, and that descriptor is the root from then on.
//! When the named path was not the canonical one (a link was resolved),
//! [`CacheRoot::resolved_from`] says so and the command line tells the user.
//! Refusing a symlinked root instead would lock out everyone whose cache
//! lives on another disk, and the trailing-slash spelling showed that a
//! refusal keyed on the spelling cannot hold; resolving once and never
//! following a link *below* the root can.
//!
//! Every check is done on the resolved directory: `/`, `$HOME` and any
//! ancestor of `$HOME` are refused whatever they contain, and the directory
//! must look like what Go writes. A module cache has a `cache/download`
//! directory (cmd/go creates it on the first download; an empty or fresh
//! directory without it is refused, since nothing in it was written by Go),
//! a build cache has Go's `README` (written by
//! `cmd/go/internal/cache/default.go` on first use) *or* all 256 `00`..`ff`
//! shard directories (created eagerly by `cache.Open`), so a cache whose
//! README was removed by hand is still recognised. Those markers are looked
//! up relative to the root's descriptor, never through a link.
//!
//! Read-only commands recognise their roots the same way, so a mistyped
//! GOMODCACHE is an error, not an empty, healthy-looking cache.
//!
//! ## Deleting, and every other write
//! [`CacheRoot::remove_tree`] and [`CacheRoot::remove_file`] check that the
//! target is strictly inside the root lexically (no `..`), then open the
//! directories on the way relative to the root's descriptor with
//! `openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)` (or one `O_NOFOLLOW` open
//! per component where the kernel lacks openat2) and work relative to the
//! last one (`unlinkat`), so a directory swapped for a link at any moment is
//! refused, not followed. Creating, opening, renaming and setting times
//! inside a cache go the same way ([`super::beneath`]). A link is unlinked
//! as itself. Directories Go made read-only (extracted module trees are
//! 0555) are made owner-writable just before their children are removed, and
//! given their mode back when they cannot be removed after all. Something that vanished in the meantime is
//! not an error: another process removing it is the same outcome.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{
    AtFlags, CWD, Dir, FileType, Mode, OFlags, ResolveFlags, fchmod, fstat, openat, openat2, statat, unlinkat,
};
use rustix::io::{Errno, fcntl_dupfd_cloexec};

use serde::Serialize;

use super::failpoint;
use crate::layout::CacheKind;

/// The first words of the README cmd/go writes into every build cache.
pub const GOCACHE_README_PREFIX: &str = "This directory holds cached build artifacts from the Go build system.";

/// Something that could not be removed; the rest of the work still ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Failure {
    pub path: PathBuf,
    pub message: String,
}

/// What one checked removal freed, and what it could not remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Freed {
    pub files: u64,
    pub dirs: u64,
    pub apparent_bytes: u64,
    /// Blocks freed; a file with other hard links left frees none.
    pub disk_bytes: u64,
    pub failures: Vec<Failure>,
}

/// Why gokeep will not use a directory as a cache root, or a path inside one.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("refusing to use {path} as a cache root: it is the file system root")]
    FileSystemRoot { path: PathBuf },
    #[error("refusing to use {path} as a cache root: it is the home directory or contains it")]
    Home { path: PathBuf },
    #[error("refusing to use {path} as a cache root: it does not exist")]
    Missing { path: PathBuf },
    #[error("refusing to use {path} as a cache root: it is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("refusing to use {path} as a cache root: cannot read it: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a Go module cache (no cache/download directory)")]
    NotAModCache { path: PathBuf },
    #[error("{path} is not a Go build cache (no Go README and not the 256 shard directories)")]
    NotABuildCache { path: PathBuf },
    #[error("refusing to touch {target}: it is not strictly inside the cache root {root}")]
    Outside { target: PathBuf, root: PathBuf },
    #[error("refusing to touch {target}: {link} is a symbolic link (links below a cache root are never followed)")]
    ThroughSymlink { target: PathBuf, link: PathBuf },
}

/// A directory recognised as one of Go's caches, held open: everything
/// gokeep writes or deletes in a cache is relative to this descriptor.
#[derive(Debug, Clone)]
pub struct CacheRoot {
    kind: CacheKind,
    /// Canonical: the path the descriptor was opened as.
    path: PathBuf,
    /// As the user (or the Go environment) spelled it.
    named: PathBuf,
    fd: Arc<OwnedFd>,
}

impl PartialEq for CacheRoot {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.path == other.path
    }
}

impl Eq for CacheRoot {}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from).or_else(dirs::home_dir)
}

/// Opens `path` as a root: resolved once, then checked as what it resolved to.
fn open_root(path: &Path) -> Result<(PathBuf, OwnedFd), Refusal> {
    let unreadable = |e: std::io::Error| Refusal::Unreadable { path: path.to_owned(), source: e };
    // Following links here is the one resolution of the root (see the module docs).
    let fd = match openat(CWD, path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Err(Refusal::Missing { path: path.to_owned() }),
        Err(Errno::NOTDIR) => {
            return Err(match fs::metadata(path) {
                Err(e) if e.kind() == ErrorKind::NotFound => Refusal::Missing { path: path.to_owned() },
                _ => Refusal::NotADirectory { path: path.to_owned() },
            });
        }
        Err(e) => return Err(unreadable(e.into())),
    };
    let canonical = fs::canonicalize(path).map_err(unreadable)?;
    // The canonical path only names the root (in messages, the journal, the
    // scan): it must name the directory that was opened.
    let (opened, named) = (fstat(&fd).map_err(|e| unreadable(e.into()))?, fs::metadata(&canonical));
    if !named.is_ok_and(|m| m.dev() == opened.st_dev && m.ino() == opened.st_ino) {
        return Err(unreadable(std::io::Error::other("it was replaced while being opened")));
    }
    if canonical.parent().is_none() {
        return Err(Refusal::FileSystemRoot { path: path.to_owned() });
    }
    if let Some(home) = home_dir() {
        let home = fs::canonicalize(&home).unwrap_or(home);
        if home.starts_with(&canonical) {
            return Err(Refusal::Home { path: path.to_owned() });
        }
    }
    Ok((canonical, fd))
}

fn is_dir_at(dir: &OwnedFd, name: &str) -> bool {
    statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory)
}

/// Recognises a module cache (GOMODCACHE): it must hold `cache/download`.
pub fn recognise_modcache(path: &Path) -> Result<CacheRoot, Refusal> {
    let (canonical, fd) = open_root(path)?;
    let cache = openat(&fd, "cache", DIR_FLAGS, Mode::empty());
    if !cache.is_ok_and(|c| is_dir_at(&c, "download")) {
        return Err(Refusal::NotAModCache { path: path.to_owned() });
    }
    Ok(CacheRoot { kind: CacheKind::ModCache, path: canonical, named: path.to_owned(), fd: Arc::new(fd) })
}

/// How a build cache's README is opened: never through a link, and without
/// blocking on a FIFO planted under that name.
const README_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC).union(OFlags::NONBLOCK);

/// Recognises a build cache (GOCACHE): Go's README, or all 256 shard directories.
pub fn recognise_gocache(path: &Path) -> Result<CacheRoot, Refusal> {
    let (canonical, fd) = open_root(path)?;
    let mut head = vec![0u8; GOCACHE_README_PREFIX.len()];
    let has_readme = openat(&fd, "README", README_FLAGS, Mode::empty())
        .ok()
        .map(File::from)
        .filter(|f| f.metadata().is_ok_and(|m| m.is_file()))
        .is_some_and(|mut f| f.read_exact(&mut head).is_ok() && head == GOCACHE_README_PREFIX.as_bytes());
    if has_readme || (0..=255u8).all(|i| is_dir_at(&fd, &format!("{i:02x}"))) {
        Ok(CacheRoot { kind: CacheKind::BuildCache, path: canonical, named: path.to_owned(), fd: Arc::new(fd) })
    } else {
        Err(Refusal::NotABuildCache { path: path.to_owned() })
    }
}

/// `path` made absolute and lexically normal (no `.`, no `..`, no trailing
/// slash), without looking at the file system: what the name says when no
/// symbolic link is involved.
fn lexically_normal(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() { path.to_owned() } else { std::env::current_dir().unwrap_or_default().join(path) };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

impl CacheRoot {
    #[must_use]
    pub fn kind(&self) -> CacheKind {
        self.kind
    }

    /// The canonical root.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path as it was named, when reaching the root from it resolved a
    /// symbolic link: the caller tells the user which directory is really
    /// used. `None` when the name was the root, however spelled.
    #[must_use]
    pub fn resolved_from(&self) -> Option<&Path> {
        (lexically_normal(&self.named) != self.path).then_some(self.named.as_path())
    }

    /// The root's descriptor, for the in-cache I/O in [`super::beneath`].
    pub(super) fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// The components of `target` below the root, if it is strictly inside
    /// it lexically (no `..`, not the root itself).
    pub(super) fn parts_below<'t>(&self, target: &'t Path) -> Result<Vec<&'t std::ffi::OsStr>, Refusal> {
        let outside = || Refusal::Outside { target: target.to_owned(), root: self.path.clone() };
        let rel = target.strip_prefix(&self.path).map_err(|_| outside())?;
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(s) => parts.push(s),
                Component::CurDir => {}
                _ => return Err(outside()),
            }
        }
        if parts.is_empty() {
            return Err(outside());
        }
        Ok(parts)
    }

    /// The directory holding `target`, opened without following a link
    /// anywhere below the root, and the target's name in it. The removal
    /// then works relative to that descriptor, so there is no window between
    /// a check and the removal in which a directory swapped for a link would
    /// be followed. `Ok(None)`: a directory on the way is not there, so
    /// there is nothing to remove.
    pub(super) fn open_parent(&self, target: &Path) -> Result<Option<(OwnedFd, CString)>, Refusal> {
        let parts = self.parts_below(target)?;
        let (name, dirs) = parts.split_last().expect("parts_below: never empty");
        let name = CString::new(name.as_bytes())
            .map_err(|_| Refusal::Outside { target: target.to_owned(), root: self.path.clone() })?;
        match self.open_dirs(dirs) {
            Ok(fd) => Ok(Some((fd, name))),
            Err((Errno::NOENT | Errno::NOTDIR, _)) => Ok(None),
            Err((Errno::LOOP, link)) => Err(Refusal::ThroughSymlink { target: target.to_owned(), link }),
            Err((e, path)) => Err(Refusal::Unreadable { path, source: e.into() }),
        }
    }

    /// Opens the directory `dirs` below the root without following a link
    /// anywhere on the way; on failure, the error and the path it happened
    /// at (`LOOP`: that path is a symbolic link).
    pub(super) fn open_dirs(&self, dirs: &[&std::ffi::OsStr]) -> Result<OwnedFd, (Errno, PathBuf)> {
        if dirs.is_empty() {
            return fcntl_dupfd_cloexec(self.fd(), 0).map_err(|e| (e, self.path.clone()));
        }
        let rel: PathBuf = dirs.iter().collect();
        // One call where the kernel has openat2; a walk, one directory at a
        // time, where it does not (or a seccomp filter refuses it), and to
        // tell a link (refused, and named) from a file (nothing there).
        let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH;
        match openat2(self.fd(), &rel, DIR_FLAGS, Mode::empty(), resolve) {
            Err(Errno::NOSYS | Errno::PERM | Errno::LOOP | Errno::NOTDIR | Errno::XDEV | Errno::AGAIN) => {
                self.walk_down(dirs)
            }
            other => other.map_err(|e| (e, self.path.join(&rel))),
        }
    }

    /// [`Self::open_dirs`] one component at a time, each `O_NOFOLLOW`.
    fn walk_down(&self, dirs: &[&std::ffi::OsStr]) -> Result<OwnedFd, (Errno, PathBuf)> {
        let root = fcntl_dupfd_cloexec(self.fd(), 0).map_err(|e| (e, self.path.clone()))?;
        let (mut fd, mut at) = (root, self.path.clone());
        for d in dirs {
            at.push(d);
            fd = match openat(&fd, *d, DIR_FLAGS, Mode::empty()) {
                Ok(next) => next,
                // O_DIRECTORY on a link says ENOTDIR on some kernels: tell a link from a file.
                Err(Errno::NOTDIR | Errno::LOOP)
                    if statat(&fd, *d, AtFlags::SYMLINK_NOFOLLOW)
                        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink) =>
                {
                    return Err((Errno::LOOP, at));
                }
                Err(e) => return Err((e, at)),
            };
        }
        Ok(fd)
    }

    /// Removes a file or symbolic link (never what it points to) inside the root.
    pub fn remove_file(&self, target: &Path) -> Result<Freed, Refusal> {
        let mut r = Freed::default();
        let Some((parent, name)) = self.open_parent(target)? else { return Ok(r) };
        match statat(&parent, &name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                r.fail(target, "is a directory, expected a file");
            }
            Ok(st) => unlink_at(&parent, &name, &st, target, &mut r),
            Err(Errno::NOENT) => {}
            Err(e) => r.fail(target, std::io::Error::from(e)),
        }
        Ok(r)
    }

    /// Removes `target` if it is an empty directory (`rmdir`: a directory
    /// something was just created in stays). Returns whether it was removed.
    pub fn remove_empty_dir(&self, target: &Path) -> Result<bool, Refusal> {
        let Some((parent, name)) = self.open_parent(target)? else { return Ok(false) };
        Ok(failpoint::after(unlinkat(&parent, &name, AtFlags::REMOVEDIR)).is_ok())
    }

    /// Removes a directory tree (or a single file or link) inside the root.
    pub fn remove_tree(&self, target: &Path) -> Result<Freed, Refusal> {
        let mut r = Freed::default();
        let Some((parent, name)) = self.open_parent(target)? else { return Ok(r) };
        match openat(&parent, &name, DIR_FLAGS, Mode::empty()) {
            Ok(sub) => remove_subdir(&parent, &name, &sub, target, &mut r),
            // Not a directory: a file or a link, removed as itself.
            Err(Errno::NOTDIR | Errno::LOOP) => match statat(&parent, &name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => unlink_at(&parent, &name, &st, target, &mut r),
                Err(Errno::NOENT) => {}
                Err(e) => r.fail(target, std::io::Error::from(e)),
            },
            Err(Errno::NOENT) => {}
            Err(e) => r.fail(target, std::io::Error::from(e)),
        }
        Ok(r)
    }
}

/// How every directory on the way to a removal is opened: never through a link.
pub(super) const DIR_FLAGS: OFlags =
    OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

fn count(size: u64, blocks: u64, nlink: u64, is_dir: bool, r: &mut Freed) {
    r.apparent_bytes += size;
    // Removing one of several hard links frees nothing; the last one frees the blocks.
    if is_dir || nlink <= 1 {
        r.disk_bytes += blocks * 512;
    }
    if is_dir {
        r.dirs += 1;
    } else {
        r.files += 1;
    }
}

// The field types of `stat` differ between targets (st_nlink is u32 on some).
#[allow(clippy::unnecessary_cast, clippy::cast_sign_loss)]
fn count_stat(st: &rustix::fs::Stat, is_dir: bool, r: &mut Freed) {
    count(st.st_size as u64, st.st_blocks as u64, st.st_nlink as u64, is_dir, r);
}

fn unlink_at(dir: &OwnedFd, name: &CString, st: &rustix::fs::Stat, path: &Path, r: &mut Freed) {
    match failpoint::after(unlinkat(dir, name, AtFlags::empty())) {
        Ok(()) => count_stat(st, false, r),
        Err(Errno::NOENT) => {}
        Err(e) => r.fail(path, std::io::Error::from(e)),
    }
}

/// Depth-first removal relative to open directories (`openat` with
/// `O_NOFOLLOW`, `unlinkat`), so a directory swapped for a symbolic link
/// halfway through is never entered, and no path is resolved twice. A
/// directory without owner write or search permission is opened up first,
/// as Go's `modfetch.RemoveAll` does; its mode is irrelevant once it is gone.
fn remove_contents(dirfd: &OwnedFd, path: &Path, r: &mut Freed) {
    let mut entries: Vec<(CString, FileType)> = Vec::new();
    match Dir::read_from(dirfd) {
        Ok(mut d) => {
            while let Some(entry) = d.read() {
                match entry {
                    Ok(e) => {
                        let name = e.file_name();
                        if name != c"." && name != c".." {
                            entries.push((name.to_owned(), e.file_type()));
                        }
                    }
                    Err(e) => {
                        r.fail(path, std::io::Error::from(e));
                        break;
                    }
                }
            }
        }
        Err(e) => return r.fail(path, std::io::Error::from(e)),
    }
    for (name, ft) in entries {
        let child = || path.join(std::ffi::OsStr::from_bytes(name.as_bytes()));
        if ft == FileType::Directory || ft == FileType::Unknown {
            match openat(dirfd, &name, DIR_FLAGS, Mode::empty()) {
                Ok(sub) => {
                    remove_subdir(dirfd, &name, &sub, &child(), r);
                    continue;
                }
                Err(Errno::NOENT) => continue,
                // Not a directory (any more): a file or a link, removed as itself below.
                Err(Errno::NOTDIR | Errno::LOOP) => {}
                Err(e) => {
                    r.fail(&child(), std::io::Error::from(e));
                    continue;
                }
            }
        }
        match statat(dirfd, &name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => unlink_at(dirfd, &name, &st, &child(), r),
            Err(Errno::NOENT) => {}
            Err(e) => r.fail(&child(), std::io::Error::from(e)),
        }
    }
}

fn remove_subdir(parent: &OwnedFd, name: &CString, sub: &OwnedFd, path: &Path, r: &mut Freed) {
    let st = match fstat(sub) {
        Ok(st) => st,
        Err(e) => return r.fail(path, std::io::Error::from(e)),
    };
    let opened = st.st_mode & 0o700 != 0o700
        && failpoint::after(fchmod(sub, Mode::from_raw_mode((st.st_mode | 0o700) & 0o7777))).is_ok();
    remove_contents(sub, path, r);
    match failpoint::after(unlinkat(parent, name, AtFlags::REMOVEDIR)) {
        Ok(()) => count_stat(&st, true, r),
        Err(Errno::NOENT) => {}
        Err(e) => {
            // A directory that stays keeps the mode its owner gave it: Go's
            // read-only trees stay read-only around what could not be removed.
            if opened {
                let _ = failpoint::after(fchmod(sub, Mode::from_raw_mode(st.st_mode & 0o7777)));
            }
            r.fail(path, std::io::Error::from(e));
        }
    }
}

impl Freed {
    pub fn fail(&mut self, path: &Path, message: impl std::fmt::Display) {
        self.failures.push(Failure::new(path, message));
    }
}

impl Failure {
    /// A failure names its path once: where the message repeats it (an
    /// error wrapping an error about the same file), the repeats go.
    pub fn new(path: &Path, message: impl std::fmt::Display) -> Failure {
        // Only the path itself, not a longer path it begins (`dir` in `dir/sub`).
        let p = path.display().to_string();
        let mut message = message.to_string().replace(&format!(" {p}: "), ": ");
        if let Some(m) = message.strip_suffix(&format!(" {p}")) {
            message = m.to_owned();
        }
        Failure { path: path.to_owned(), message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn modcache() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(t.path()).unwrap().join("mod");
        fs::create_dir_all(root.join("cache/download")).unwrap();
        (t, root)
    }

    #[test]
    fn a_failure_names_its_path_once() {
        let p = Path::new("/c/cache/download/m/@v/v1.0.0.lock");
        let f = Failure::new(
            p,
            format!("cannot open lock file {0}: refusing to touch {0}: /c/cache is a symbolic link", p.display()),
        );
        assert_eq!(f.message, "cannot open lock file: refusing to touch: /c/cache is a symbolic link");
        let dir = Path::new("/c/m@v1.0.0");
        let f = Failure::new(dir, "refusing to touch /c/m@v1.0.0/sub: /c/m@v1.0.0/sub is a symbolic link");
        assert_eq!(
            f.message, "refusing to touch /c/m@v1.0.0/sub: /c/m@v1.0.0/sub is a symbolic link",
            "a longer path stays"
        );
    }

    #[test]
    fn module_cache_needs_cache_download() {
        let (t, root) = modcache();
        assert!(recognise_modcache(&root).is_ok());
        let empty = t.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert!(matches!(recognise_modcache(&empty), Err(Refusal::NotAModCache { .. })));
        assert!(matches!(recognise_modcache(&t.path().join("nope")), Err(Refusal::Missing { .. })));
        let file = t.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(matches!(recognise_modcache(&file), Err(Refusal::NotADirectory { .. })));
    }

    #[test]
    fn slash_and_home_are_refused() {
        assert!(matches!(recognise_modcache(Path::new("/")), Err(Refusal::FileSystemRoot { .. })));
        if let Some(home) = home_dir().filter(|h| h.is_dir()) {
            assert!(matches!(recognise_modcache(&home), Err(Refusal::Home { .. })));
            assert!(matches!(recognise_gocache(&home), Err(Refusal::Home { .. })));
        }
    }

    #[test]
    fn every_spelling_of_a_root_resolves_to_one_directory_and_a_link_is_said() {
        let (t, root) = modcache();
        let link = t.path().join("link");
        symlink(&root, &link).unwrap();
        let plain = recognise_modcache(&root).unwrap();
        assert_eq!(plain.resolved_from(), None);
        let dotdot = format!("{}/../{}/", root.display(), root.file_name().unwrap().to_string_lossy());
        for spelling in [format!("{}/", root.display()), format!("{}/./", root.display()), dotdot] {
            let r = recognise_modcache(Path::new(&spelling)).unwrap();
            assert_eq!((r.path(), r.resolved_from()), (root.as_path(), None), "{spelling}");
        }
        for spelling in [link.display().to_string(), format!("{}/", link.display()), format!("{}/.", link.display())] {
            let r = recognise_modcache(Path::new(&spelling)).unwrap();
            assert_eq!(r.path(), root, "{spelling}");
            assert_eq!(r.resolved_from(), Some(Path::new(&spelling)));
        }
    }

    #[test]
    fn a_link_to_slash_or_home_is_refused_as_what_it_resolves_to() {
        let t = tempfile::tempdir().unwrap();
        let link = t.path().join("slash");
        symlink("/", &link).unwrap();
        assert!(matches!(recognise_modcache(&link), Err(Refusal::FileSystemRoot { .. })));
        assert!(matches!(
            recognise_modcache(Path::new(&format!("{}/", link.display()))),
            Err(Refusal::FileSystemRoot { .. })
        ));
        if let Some(home) = home_dir().filter(|h| h.is_dir()) {
            let link = t.path().join("home");
            symlink(&home, &link).unwrap();
            assert!(matches!(recognise_gocache(&link), Err(Refusal::Home { .. })));
        }
    }

    #[test]
    fn build_cache_needs_readme_or_all_shards() {
        let t = tempfile::tempdir().unwrap();
        let g = t.path().join("g");
        fs::create_dir(&g).unwrap();
        assert!(matches!(recognise_gocache(&g), Err(Refusal::NotABuildCache { .. })));
        fs::write(g.join("README"), "hello").unwrap();
        assert!(recognise_gocache(&g).is_err(), "a README that is not Go's does not count");
        for i in 0..=255u8 {
            fs::create_dir(g.join(format!("{i:02x}"))).unwrap();
        }
        assert!(recognise_gocache(&g).is_ok());
        let fifo = t.path().join("fifo");
        fs::create_dir(&fifo).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(fifo.join("README")).status().unwrap().success());
        assert!(
            matches!(recognise_gocache(&fifo), Err(Refusal::NotABuildCache { .. })),
            "a FIFO README does not block"
        );
        let g2 = t.path().join("g2");
        fs::create_dir(&g2).unwrap();
        fs::write(g2.join("README"), format!("{GOCACHE_README_PREFIX}\nMore.\n")).unwrap();
        assert!(recognise_gocache(&g2).is_ok());
    }

    #[test]
    fn targets_outside_or_through_links_are_refused() {
        let (t, root) = modcache();
        let r = recognise_modcache(&root).unwrap();
        let outside = t.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("keep"), "x").unwrap();
        assert!(matches!(r.remove_tree(&outside), Err(Refusal::Outside { .. })));
        assert!(matches!(r.remove_tree(r.path()), Err(Refusal::Outside { .. })));
        assert!(matches!(r.remove_tree(&r.path().join("a/../../outside")), Err(Refusal::Outside { .. })));
        symlink(&outside, root.join("escape")).unwrap();
        assert!(matches!(r.remove_tree(&root.join("escape/keep")), Err(Refusal::ThroughSymlink { .. })));
        // The link itself is removed as a link; what it points to stays.
        let removed = r.remove_tree(&root.join("escape")).unwrap();
        assert_eq!(removed.files, 1);
        assert!(outside.join("keep").exists());
        assert!(fs::symlink_metadata(root.join("escape")).is_err());
    }

    #[test]
    fn read_only_trees_are_removed_and_links_inside_not_followed() {
        let (t, root) = modcache();
        let r = recognise_modcache(&root).unwrap();
        let outside = t.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("keep"), "x").unwrap();
        let tree = root.join("example.com/a@v1.0.0");
        fs::create_dir_all(tree.join("sub")).unwrap();
        fs::write(tree.join("sub/f.go"), "package a").unwrap();
        symlink(&outside, tree.join("link")).unwrap();
        for d in [tree.join("sub"), tree.clone()] {
            fs::set_permissions(&d, fs::Permissions::from_mode(0o555)).unwrap();
        }
        let removed = r.remove_tree(&tree).unwrap();
        assert!(removed.failures.is_empty(), "{:?}", removed.failures);
        assert_eq!((removed.files, removed.dirs), (2, 2));
        assert!(!tree.exists());
        assert!(outside.join("keep").exists());
        // Vanished targets are fine.
        let again = r.remove_tree(&tree).unwrap();
        assert_eq!(again.files + again.dirs, 0);
    }
}
