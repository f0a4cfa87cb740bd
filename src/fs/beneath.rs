//! Everything gokeep writes inside a cache other than removals: opening and
//! creating files (Go's lock files, `@v/list`, `.partial`), creating
//! directories, renaming, listing and setting file times. Like removal
//! ([`super::remove`]), each resolves relative to the root's descriptor
//! and never through a symbolic link: the directories on the way are opened
//! with `openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)` (or one `O_NOFOLLOW`
//! open per component), the last component is opened with `O_NOFOLLOW` or
//! changed with `AT_SYMLINK_NOFOLLOW`, and nothing is checked by path first
//! and used later. A directory that a racer swaps for a link is therefore an
//! error at whatever moment it happens, never a write elsewhere.

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{
    AtFlags, Dir, FileType, Mode, OFlags, Stat, Timespec, Timestamps, UTIME_OMIT, mkdirat, openat, renameat, statat,
    utimensat,
};
use rustix::io::Errno;

use super::failpoint;
use super::remove::{CacheRoot, DIR_FLAGS, Refusal};

/// A refusal as an I/O error, so callers that report I/O errors report it.
fn refused(r: Refusal) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, r)
}

/// `(errno, where)` from a directory walk as an I/O error naming the link
/// when it was one.
fn walk_error(target: &Path, (e, at): (Errno, PathBuf)) -> io::Error {
    if e == Errno::LOOP {
        refused(Refusal::ThroughSymlink { target: target.to_owned(), link: at })
    } else {
        io::Error::from(e)
    }
}

/// A file's times to set; `None` leaves that time as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Times {
    pub accessed: Option<i64>,
    pub modified: Option<i64>,
}

impl Times {
    fn timestamps(self) -> Timestamps {
        let t = |s: Option<i64>| match s {
            Some(secs) => Timespec { tv_sec: secs, tv_nsec: 0 },
            None => Timespec { tv_sec: 0, tv_nsec: UTIME_OMIT },
        };
        Timestamps { last_access: t(self.accessed), last_modification: t(self.modified) }
    }
}

/// One entry of a directory opened beneath a root.
#[derive(Debug)]
pub struct EntryAt {
    pub name: CString,
    pub file_type: FileType,
}

impl EntryAt {
    /// The name as a path component.
    #[must_use]
    pub fn os_name(&self) -> &OsStr {
        OsStr::from_bytes(self.name.as_bytes())
    }
}

/// The entries of an open directory, `.` and `..` left out.
pub fn read_entries(dir: &OwnedFd) -> io::Result<Vec<EntryAt>> {
    let mut out = Vec::new();
    for entry in Dir::read_from(dir)? {
        let e = entry?;
        let name = e.file_name();
        if name != c"." && name != c".." {
            out.push(EntryAt { name: name.to_owned(), file_type: e.file_type() });
        }
    }
    Ok(out)
}

/// `lstat` of `name` in an open directory; `None` when it is not there.
pub fn lstat_at(dir: &OwnedFd, name: &CStr) -> io::Result<Option<Stat>> {
    match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Sets the times of `name` in an open directory, a link as itself.
pub fn set_times_at(dir: &OwnedFd, name: &CStr, times: Times) -> io::Result<()> {
    Ok(failpoint::after(utimensat(dir, name, &times.timestamps(), AtFlags::SYMLINK_NOFOLLOW))?)
}

/// Opens the directory `name` in an open directory, never through a link.
pub fn open_dir_at(dir: &OwnedFd, name: &CStr) -> io::Result<OwnedFd> {
    Ok(openat(dir, name, DIR_FLAGS, Mode::empty())?)
}

/// Opens (or creates, with `OFlags::CREATE`) the file `name` in an open
/// directory; the file itself is never a link followed.
pub fn open_file_at(dir: &OwnedFd, name: &CStr, flags: OFlags, mode: Mode) -> io::Result<File> {
    let fd = openat(dir, name, flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY, mode)?;
    if flags.contains(OFlags::CREATE) {
        failpoint::mutated();
    }
    Ok(File::from(fd))
}

/// Walks the tree below the open directory `dir` (whose path is `path`)
/// depth-first, entering directories only with `O_NOFOLLOW`, and calls
/// `file` with each entry that is not a directory: its directory, the entry,
/// its path and its `lstat`. Something that vanished meanwhile is skipped
/// (another process removing it is not an error); other errors go to `error`.
pub fn walk_files(
    dir: &OwnedFd,
    path: &Path,
    file: &mut dyn FnMut(&OwnedFd, &EntryAt, &Path, &Stat),
    error: &mut dyn FnMut(&Path, io::Error),
) {
    let entries = match read_entries(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => return error(path, e),
    };
    for e in entries {
        let child = path.join(e.os_name());
        if matches!(e.file_type, FileType::Directory | FileType::Unknown) {
            match openat(dir, &e.name, DIR_FLAGS, Mode::empty()) {
                Ok(sub) => {
                    walk_files(&sub, &child, file, error);
                    continue;
                }
                Err(Errno::NOENT) => continue,
                // Not a directory (any more): looked at as what it is below.
                Err(Errno::NOTDIR | Errno::LOOP) => {}
                Err(err) => {
                    error(&child, err.into());
                    continue;
                }
            }
        }
        match lstat_at(dir, &e.name) {
            Ok(Some(st)) => file(dir, &e, &child, &st),
            Ok(None) => {}
            Err(err) => error(&child, err),
        }
    }
}

impl CacheRoot {
    /// The components of `target` below the root; the root itself is `[]`.
    fn parts_or_root<'t>(&self, target: &'t Path) -> io::Result<Vec<&'t OsStr>> {
        if target == self.path() {
            return Ok(Vec::new());
        }
        self.parts_below(target).map_err(refused)
    }

    /// Opens the directory `dir` (the root or a directory inside it) without
    /// following a link. A directory that is not there is `NotFound`.
    pub fn open_dir(&self, dir: &Path) -> io::Result<OwnedFd> {
        let parts = self.parts_or_root(dir)?;
        self.open_dirs(&parts).map_err(|e| walk_error(dir, e))
    }

    /// Opens the directory `dir` inside the root, creating what is missing
    /// on the way with `mode` (before the umask), as `os.MkdirAll` does,
    /// one component at a time and never through a link.
    pub fn create_dirs(&self, dir: &Path, mode: Mode) -> io::Result<OwnedFd> {
        let parts = self.parts_or_root(dir)?;
        // Most directories already exist: one call then.
        match self.open_dirs(&parts) {
            Ok(fd) => return Ok(fd),
            Err((Errno::NOENT, _)) => {}
            Err(e) => return Err(walk_error(dir, e)),
        }
        let mut fd = self.open_dirs(&[]).map_err(|e| walk_error(dir, e))?;
        let mut at = self.path().to_owned();
        for part in parts {
            at.push(part);
            match mkdirat(&fd, part, mode) {
                Ok(()) => failpoint::mutated(),
                Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            fd = match openat(&fd, part, DIR_FLAGS, Mode::empty()) {
                Ok(next) => next,
                Err(Errno::LOOP | Errno::NOTDIR)
                    if lstat_at(&fd, &CString::new(part.as_bytes()).map_err(io::Error::other)?)
                        .ok()
                        .flatten()
                        .is_some_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink) =>
                {
                    return Err(refused(Refusal::ThroughSymlink { target: dir.to_owned(), link: at }));
                }
                Err(e) => return Err(e.into()),
            };
        }
        Ok(fd)
    }

    /// The open directory holding `target` and `target`'s name in it. With
    /// `create_parents`, missing directories are created 0777 (before the
    /// umask) as cmd/go does before it locks.
    pub fn parent_of(&self, target: &Path, create_parents: bool) -> io::Result<(OwnedFd, CString)> {
        let parts = self.parts_below(target).map_err(refused)?;
        let (name, dirs) = parts.split_last().expect("parts_below: never empty");
        let name = CString::new(name.as_bytes()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let dir = if create_parents {
            let parent: PathBuf = self.path().join(dirs.iter().collect::<PathBuf>());
            self.create_dirs(&parent, Mode::from_raw_mode(0o777))?
        } else {
            self.open_dirs(dirs).map_err(|e| walk_error(target, e))?
        };
        Ok((dir, name))
    }

    /// Opens (with `OFlags::CREATE`, creates with `mode`) the file `target`
    /// inside the root; see [`Self::parent_of`] for `create_parents`.
    pub fn open_file(&self, target: &Path, flags: OFlags, mode: Mode, create_parents: bool) -> io::Result<File> {
        let (dir, name) = self.parent_of(target, create_parents)?;
        open_file_at(&dir, &name, flags, mode)
    }

    /// `lstat` of `target` inside the root; `None` when it, or a directory
    /// on the way, is not there. A link on the way is an error: what is
    /// there cannot be told without following it.
    pub fn lstat(&self, target: &Path) -> io::Result<Option<Stat>> {
        let parts = self.parts_below(target).map_err(refused)?;
        let (name, dirs) = parts.split_last().expect("parts_below: never empty");
        let dir = match self.open_dirs(dirs) {
            Ok(d) => d,
            Err((Errno::NOENT | Errno::NOTDIR, _)) => return Ok(None),
            Err(e) => return Err(walk_error(target, e)),
        };
        let name = CString::new(name.as_bytes()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        lstat_at(&dir, &name)
    }

    /// Whether `target` may be there (as itself: a link counts). Only a
    /// definite "not there" is `false`: every caller then leaves alone
    /// what it cannot see, rather than act as if it were gone.
    #[must_use]
    pub fn exists(&self, target: &Path) -> bool {
        !matches!(self.lstat(target), Ok(None))
    }

    /// Sets the times of `target` inside the root, a link as itself.
    pub fn set_times(&self, target: &Path, times: Times) -> io::Result<()> {
        let (dir, name) = self.parent_of(target, false)?;
        set_times_at(&dir, &name, times)
    }

    /// Renames `from` to `to` within the directory `dir` inside the root.
    pub fn rename_in(&self, dir: &Path, from: &OsStr, to: &OsStr) -> io::Result<()> {
        // Names, not paths: neither may leave the directory.
        for n in [from, to] {
            if n.as_bytes().contains(&b'/') || n == ".." || n == "." || n.is_empty() {
                return Err(refused(Refusal::Outside { target: dir.join(n), root: self.path().to_owned() }));
            }
        }
        let fd = self.open_dir(dir)?;
        Ok(failpoint::after(renameat(&fd, from, &fd, to))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::remove::recognise_modcache;
    use std::fs;
    use std::io::Write;
    use std::os::unix::fs::symlink;

    fn modcache() -> (tempfile::TempDir, CacheRoot) {
        let t = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(t.path()).unwrap().join("mod");
        fs::create_dir_all(root.join("cache/download")).unwrap();
        let r = recognise_modcache(&root).unwrap();
        (t, r)
    }

    #[test]
    fn files_are_created_beneath_the_root_with_their_directories() {
        let (_t, r) = modcache();
        let lock = r.path().join("cache/download/example.com/a/@v/v1.0.0.lock");
        let f = r.open_file(&lock, OFlags::RDWR | OFlags::CREATE, Mode::from_raw_mode(0o666), true).unwrap();
        drop(f);
        assert!(lock.is_file());
        assert!(r.exists(&lock));
        r.rename_in(lock.parent().unwrap(), OsStr::new("v1.0.0.lock"), OsStr::new("moved")).unwrap();
        assert!(lock.with_file_name("moved").is_file());
    }

    #[test]
    fn a_directory_on_the_way_that_is_a_link_is_never_written_through() {
        let (t, r) = modcache();
        let outside = t.path().join("outside");
        fs::create_dir_all(outside.join("@v")).unwrap();
        fs::write(outside.join("@v/list"), "v1.0.0\n").unwrap();
        symlink(&outside, r.path().join("cache/download/example.com")).unwrap();
        let list = r.path().join("cache/download/example.com/@v/list");
        for create in [false, true] {
            let err =
                r.open_file(&list, OFlags::RDWR | OFlags::CREATE, Mode::from_raw_mode(0o666), create).unwrap_err();
            assert!(err.to_string().contains("is a symbolic link"), "{err}");
        }
        let lock = r.path().join("cache/download/example.com/new/@v/v1.lock");
        assert!(r.open_file(&lock, OFlags::RDWR | OFlags::CREATE, Mode::from_raw_mode(0o666), true).is_err());
        assert!(r.set_times(&list, Times { modified: Some(0), ..Times::default() }).is_err());
        assert!(r.lstat(&list).is_err(), "a link on the way is not \"nothing there\"");
        assert!(!outside.join("new").exists());
        assert_eq!(fs::read_to_string(outside.join("@v/list")).unwrap(), "v1.0.0\n");
        assert!(r.open_dir(&r.path().join("cache/download/example.com")).is_err());
    }

    #[test]
    fn the_last_component_is_not_followed_either() {
        let (t, r) = modcache();
        let victim = t.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let link = r.path().join("cache/download/list");
        symlink(&victim, &link).unwrap();
        assert!(r.open_file(&link, OFlags::RDWR | OFlags::CREATE, Mode::from_raw_mode(0o666), false).is_err());
        let before = fs::metadata(&victim).unwrap().modified().unwrap();
        // A link's own times may be set; what it points to keeps its own.
        r.set_times(&link, Times { modified: Some(1_000), accessed: None }).unwrap();
        assert_eq!(fs::metadata(&victim).unwrap().modified().unwrap(), before);
        let mut f = r
            .open_file(&r.path().join("cache/f"), OFlags::WRONLY | OFlags::CREATE, Mode::from_raw_mode(0o644), false)
            .unwrap();
        f.write_all(b"x").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
    }

    #[test]
    fn paths_outside_the_root_are_refused() {
        let (t, r) = modcache();
        let out = t.path().join("x");
        assert!(r.open_file(&out, OFlags::RDWR | OFlags::CREATE, Mode::from_raw_mode(0o666), true).is_err());
        assert!(
            r.open_file(&r.path().join("a/../../x"), OFlags::RDWR | OFlags::CREATE, Mode::from_raw_mode(0o666), true)
                .is_err()
        );
        assert!(!out.exists());
        assert!(r.rename_in(r.path(), OsStr::new("cache"), OsStr::new("../cache")).is_err());
    }
}
