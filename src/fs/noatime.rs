//! Reading cache files without marking them used.
//!
//! GOMODCACHE has no last-use record but the files' access times, and prune
//! decides by them. If a nightly `gokeep verify` bumped the atime of every
//! file it hashed, every version would look used every day and no age rule
//! would ever fire. So gokeep opens cache files with `O_NOATIME` where the
//! kernel allows it (the caller owns the file or has `CAP_FOWNER`), and
//! falls back to a plain open where it does not.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Opens the cache file `path` for reading without updating its access time
/// where possible. A symbolic link in its place is an error (Go never
/// leaves one there; following it would read outside the cache), and a
/// FIFO reads as empty instead of blocking the run until someone writes.
pub fn open(path: &Path) -> io::Result<File> {
    open_with(path, (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
}

/// [`open`], named for callers that rely on its refusing a link.
pub fn open_no_follow(path: &Path) -> io::Result<File> {
    open(path)
}

/// Opens `rel` below the open directory `dir` like [`open_no_follow`]: the
/// kernel resolves only `rel`, not the directory's whole path again.
pub fn open_at_no_follow(dir: &File, rel: &Path) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags, openat};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let open = |extra| openat(dir, rel, flags | extra, Mode::empty());
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let fd = match open(OFlags::NOATIME) {
        Err(rustix::io::Errno::PERM) => open(OFlags::empty()),
        other => other,
    }?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let fd = open(OFlags::empty())?;
    Ok(File::from(fd))
}

/// Opens the directory `path` (not a symlink to one) for [`open_at_no_follow`].
pub fn open_dir(path: &Path) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags, openat};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(File::from(openat(rustix::fs::CWD, path, flags, Mode::empty())?))
}

fn open_with(path: &Path, flags: i32) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = |extra| std::fs::OpenOptions::new().read(true).custom_flags(flags | extra).open(path);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    match open(rustix::fs::OFlags::NOATIME.bits() as i32) {
        // EPERM: not our file; the kernel refuses O_NOATIME, not the read.
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => open(0),
        other => other,
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    open(0)
}

/// Reads a whole (small) file without updating its access time where possible.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut f = open(path)?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use filetime::FileTime;

    #[test]
    fn reading_leaves_the_access_time_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        // An atime older than the mtime is what relatime updates on any read.
        let old = FileTime::from_unix_time(1_000_000_000, 0);
        filetime::set_file_atime(&p, old).unwrap();
        assert_eq!(read(&p).unwrap(), b"hello");
        let after = FileTime::from_last_access_time(&std::fs::metadata(&p).unwrap());
        assert_eq!(after, old);
    }

    #[test]
    fn opening_below_a_directory_leaves_the_access_time_alone_and_refuses_links() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        std::os::unix::fs::symlink(&p, dir.path().join("link")).unwrap();
        let old = FileTime::from_unix_time(1_000_000_000, 0);
        filetime::set_file_atime(&p, old).unwrap();
        let d = open_dir(dir.path()).unwrap();
        let mut s = String::new();
        open_at_no_follow(&d, Path::new("f")).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        assert_eq!(FileTime::from_last_access_time(&std::fs::metadata(&p).unwrap()), old);
        assert!(open_at_no_follow(&d, Path::new("link")).is_err(), "a symlink is not followed");
        assert!(open_dir(&dir.path().join("link")).is_err());
    }
}
