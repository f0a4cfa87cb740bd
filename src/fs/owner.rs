//! Who owns what a path goes through, for gokeep running as root on other
//! users' files (`--discover`).
//!
//! A path found in a user's home or configuration is that user's to write:
//! `~/go` may be a link anywhere, `go env -w GOMODCACHE=` may name any
//! directory. Before such a path is treated as the user's cache, root must
//! know where it leads and whose hands were on the way: every symbolic link
//! resolved, and who owns it. [`trace`] resolves a path one component at a
//! time, as the kernel would, recording each link; [`search_denied`] tells
//! whether an unprivileged user could even reach the result. Small files a
//! user keeps (their Go env file, their systemd units) are read with
//! [`read_beneath`], which follows no link below the directory it starts
//! from and reads only files the expected owner (or root) owns.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{CWD, FileType, Mode, OFlags, fstat, openat};

use super::remove::DIR_FLAGS;

/// How many links one path may go through before it counts as a loop (Linux's limit).
const MAX_LINKS: usize = 40;

/// The most bytes read of a user's small configuration file.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A symbolic link a path went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStep {
    /// The link itself (its parent directories already resolved).
    pub link: PathBuf,
    /// The link's owner.
    pub uid: u32,
    /// What it pointed to, as written.
    pub target: PathBuf,
}

/// Where a path leads, and the links on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The path with every link resolved (what `realpath` prints).
    pub resolved: PathBuf,
    pub links: Vec<LinkStep>,
}

/// Resolves the absolute `path` one component at a time, never trusting a
/// link without recording it. The last component must exist.
pub fn trace(path: &Path) -> io::Result<Trace> {
    if !path.is_absolute() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not absolute", path.display())));
    }
    let mut pending: Vec<OsString> = components(path);
    pending.reverse();
    let mut at = PathBuf::from("/");
    let mut links = Vec::new();
    while let Some(part) = pending.pop() {
        if part == ".." {
            at.pop();
            continue;
        }
        let next = at.join(&part);
        let md = std::fs::symlink_metadata(&next)?;
        if !md.file_type().is_symlink() {
            at = next;
            continue;
        }
        if links.len() == MAX_LINKS {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("too many links at {}", next.display())));
        }
        let target = std::fs::read_link(&next)?;
        let mut rest = components(&target);
        rest.reverse();
        pending.extend(rest);
        if target.is_absolute() {
            at = PathBuf::from("/");
        }
        links.push(LinkStep { link: next, uid: md.uid(), target });
    }
    Ok(Trace { resolved: at, links })
}

/// The normal components of a path, `..` kept (it is resolved against what
/// the links before it led to), `.` and the root dropped.
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

/// The first directory above `dir` (a resolved path) that user `uid` with
/// the one group `gid` (supplementary groups are dropped before gokeep acts
/// as a user) may not search, so could not reach `dir` through. Root passes
/// everywhere.
pub fn search_denied(dir: &Path, uid: u32, gid: u32) -> io::Result<Option<PathBuf>> {
    if uid == 0 {
        return Ok(None);
    }
    for ancestor in dir.ancestors().skip(1) {
        let md = std::fs::metadata(ancestor)?;
        let mode = md.mode();
        let bit = if md.uid() == uid {
            0o100
        } else if md.gid() == gid {
            0o010
        } else {
            0o001
        };
        if mode & bit == 0 {
            return Ok(Some(ancestor.to_owned()));
        }
    }
    Ok(None)
}

/// Reads the small file `rel` below the directory `dir` (the directory
/// itself is opened as named), following no link below `dir`. `None`: it is
/// not there, or it is not a regular file owned by `uid` or root (a file
/// someone else placed in a user's directory says nothing about the user).
pub fn read_beneath(dir: &Path, rel: &Path, uid: u32) -> io::Result<Option<String>> {
    let Some(file) = open_beneath(dir, rel, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK)? else {
        return Ok(None);
    };
    let file = File::from(file);
    let md = file.metadata()?;
    if !md.is_file() || (md.uid() != uid && md.uid() != 0) {
        return Ok(None);
    }
    let mut text = String::new();
    match file.take(MAX_CONFIG_BYTES).read_to_string(&mut text) {
        Ok(_) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => Ok(None),
        Err(e) => Err(e),
    }
}

/// The names in the directory `rel` below `dir` (opened as [`read_beneath`]
/// opens a file); empty when it is not there or not owned by `uid` or root.
pub fn list_beneath(dir: &Path, rel: &Path, uid: u32) -> io::Result<Vec<OsString>> {
    let Some(fd) = open_beneath(dir, rel, DIR_FLAGS)? else { return Ok(Vec::new()) };
    let st = fstat(&fd)?;
    if st.st_uid != uid && st.st_uid != 0 {
        return Ok(Vec::new());
    }
    let mut names: Vec<OsString> = super::beneath::read_entries(&fd)?.iter().map(|e| e.os_name().to_owned()).collect();
    names.sort();
    Ok(names)
}

/// Opens `dir`, then each component of `rel` with `O_NOFOLLOW`, the last
/// with `last_flags`. `None` when something on the way is missing, is not a
/// directory or is a link.
fn open_beneath(dir: &Path, rel: &Path, last_flags: OFlags) -> io::Result<Option<std::os::fd::OwnedFd>> {
    let absent = |e: rustix::io::Errno| {
        use rustix::io::Errno;
        if matches!(e, Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::ACCESS) { Ok(None) } else { Err(e.into()) }
    };
    let mut fd = match openat(CWD, dir, DIR_FLAGS.difference(OFlags::NOFOLLOW), Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => return absent(e),
    };
    let parts: Vec<&std::ffi::OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s),
            _ => None,
        })
        .collect();
    let Some((last, dirs)) = parts.split_last() else { return Ok(Some(fd)) };
    for d in dirs {
        fd = match openat(&fd, *d, DIR_FLAGS, Mode::empty()) {
            Ok(next) => next,
            Err(e) => return absent(e),
        };
    }
    let flags = last_flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY;
    match openat(&fd, *last, flags, Mode::empty()) {
        Ok(f) => {
            // A FIFO or device opened non-blocking is not read.
            let st = fstat(&f)?;
            let kind = FileType::from_raw_mode(st.st_mode);
            if kind == FileType::RegularFile || kind == FileType::Directory { Ok(Some(f)) } else { Ok(None) }
        }
        Err(e) => absent(e),
    }
}

impl super::remove::CacheRoot {
    /// Who owns the root directory, read from the descriptor it was recognised through.
    pub fn owner_uid(&self) -> io::Result<u32> {
        Ok(fstat(self.fd())?.st_uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn trace_records_every_link_and_resolves_like_the_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(base.join("real/pkg/mod")).unwrap();
        symlink(base.join("real"), base.join("abs")).unwrap();
        symlink("abs/pkg", base.join("rel")).unwrap();
        symlink("../real", base.join("real/up")).unwrap();
        let t = trace(&base.join("rel/mod")).unwrap();
        assert_eq!(t.resolved, base.join("real/pkg/mod"));
        assert_eq!(t.links.iter().map(|l| l.link.clone()).collect::<Vec<_>>(), [base.join("rel"), base.join("abs")]);
        assert_eq!(t.resolved, std::fs::canonicalize(base.join("rel/mod")).unwrap());
        let t = trace(&base.join("real/up/pkg/../pkg/mod")).unwrap();
        assert_eq!(t.resolved, base.join("real/pkg/mod"));
        assert_eq!(t.links.len(), 1);
        assert!(trace(&base.join("missing")).is_err());
        symlink("loop", base.join("loop")).unwrap();
        assert!(trace(&base.join("loop")).is_err());
    }

    #[test]
    fn search_denied_names_the_first_directory_a_user_cannot_pass() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(base.join("private/cache")).unwrap();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(base.join("private"), std::fs::Permissions::from_mode(0o750)).unwrap();
        let md = std::fs::metadata(&base).unwrap();
        let (me, my_group) = (md.uid(), md.gid());
        let stranger = if me == 4_000_000 { 4_000_001 } else { 4_000_000 };
        let cache = base.join("private/cache");
        assert_eq!(search_denied(&cache, stranger, stranger).unwrap(), Some(base.join("private")));
        assert_eq!(search_denied(&cache, stranger, my_group).unwrap(), None, "the group may pass 0750");
        assert_eq!(search_denied(&cache, 0, 0).unwrap(), None);
        std::fs::set_permissions(base.join("private"), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(search_denied(&cache, stranger, stranger).unwrap(), None);
    }

    #[test]
    fn read_beneath_follows_no_link() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("home/.config/go")).unwrap();
        std::fs::write(base.join("home/.config/go/env"), "GOMODCACHE=/x\n").unwrap();
        std::fs::write(base.join("secret"), "GOMODCACHE=/secret\n").unwrap();
        let uid = rustix::process::getuid().as_raw();
        let rel = Path::new(".config/go/env");
        assert_eq!(read_beneath(&base.join("home"), rel, uid).unwrap().as_deref(), Some("GOMODCACHE=/x\n"));
        std::fs::remove_file(base.join("home/.config/go/env")).unwrap();
        symlink(base.join("secret"), base.join("home/.config/go/env")).unwrap();
        assert_eq!(read_beneath(&base.join("home"), rel, uid).unwrap(), None);
        std::fs::remove_file(base.join("home/.config/go/env")).unwrap();
        std::fs::remove_dir(base.join("home/.config/go")).unwrap();
        std::fs::create_dir(base.join("elsewhere")).unwrap();
        std::fs::write(base.join("elsewhere/env"), "GOMODCACHE=/y\n").unwrap();
        symlink(base.join("elsewhere"), base.join("home/.config/go")).unwrap();
        assert_eq!(read_beneath(&base.join("home"), rel, uid).unwrap(), None);
        assert!(list_beneath(&base.join("home"), Path::new(".config/go"), uid).unwrap().is_empty());
        assert_eq!(list_beneath(base, Path::new("elsewhere"), uid).unwrap(), [OsString::from("env")]);
    }
}
