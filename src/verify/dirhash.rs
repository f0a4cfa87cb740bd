//! Go's `h1:` directory hash (`golang.org/x/mod/sumdb/dirhash`, `Hash1`),
//! computed exactly as cmd/go does for module zips (`HashZip`), extracted
//! trees (`HashDir`) and lone go.mod files (`goModSum` in
//! `cmd/go/internal/modfetch/fetch.go`).
//!
//! `Hash1` is the SHA-256 of a summary made of one `"<sha256 hex>  <name>\n"`
//! line per file, sorted byte-wise by name, encoded as standard base64 with
//! padding. Unlike cmd/go, which only returns the final string, every function
//! here also returns the per-file hashes, so that a tree that disagrees with
//! its zip can be diffed file by file.
//!
//! ## Streaming and parallelism
//! Files are read through one 64 KiB buffer per worker thread and hashed in
//! parallel with rayon; a zip is opened once and read with positioned reads
//! (`pread`), so workers share one file descriptor and one parsed central
//! directory. Zip entries up to 4 MiB are read whole ([`super::zipread`]);
//! larger entries stream through the 64 KiB buffer.
//!
//! ## A tree is compared with its zip, not hashed twice
//! `go mod verify` hashes every file twice: inflated out of the zip and read
//! from the extracted tree. When [`hash_zip`] is given the tree, it compares
//! each entry's content byte for byte with the tree's file of the same name
//! while hashing the entry, and [`hash_dir`] then takes the entry's SHA-256
//! for every file found identical: equal bytes have equal hashes, so the
//! resulting `h1:` is exactly the one hashing the tree would give, at half
//! the SHA-256 work. Files that differ, or that the zip lacks, are hashed.
//!
//! ## Symbolic links and special files
//! `HashDir` in Go walks with `lstat` but then *opens* every non-directory
//! entry, following symbolic links (and blocking on a FIFO). gokeep never
//! follows links: a symlink or special file is listed with no content hash,
//! and the tree then has no `h1:` ([`TreeHash::h1`] is `None`). A file the
//! walk saw as regular is opened below the tree's descriptor with no link
//! resolved on the way, without blocking, and checked again, so one swapped
//! after the walk is listed the same way. Module zips
//! cannot contain symlinks (`golang.org/x/mod/zip` refuses them), so such an
//! entry in an extracted tree is always a modification.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::zipread::WholeEntry;

/// Size of the per-thread read buffer.
const BUF_SIZE: usize = 64 * 1024;

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; BUF_SIZE]);
    /// The tree file's bytes, compared with [`BUF`]'s.
    static TWIN_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; BUF_SIZE]);
}

/// Why a hash could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a valid zip file: {message}")]
    Zip { path: PathBuf, message: String },
    #[error("{path} is not a valid zip file: {source}")]
    Archive { path: PathBuf, source: zip::result::ZipError },
    #[error("cannot read {name} in {path}: {source}")]
    ZipEntry { path: PathBuf, name: String, source: io::Error },
    #[error("{path}: file name {name:?} contains a newline, which dirhash does not support")]
    Newline { path: PathBuf, name: String },
}

/// What a listed entry is. Only regular files (and zip entries) have content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Symlink,
    /// A FIFO, socket or device: never opened.
    Special,
}

/// One file of a hashed tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHash {
    /// The name as it enters the summary: `<module>@<version>/<path>`.
    pub name: String,
    pub kind: EntryKind,
    /// SHA-256 of the content; `None` for entries that are not opened.
    pub sha256: Option<[u8; 32]>,
}

/// A tree's `h1:` hash and the per-file hashes it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHash {
    /// `None` when the tree holds entries gokeep does not open (symlinks,
    /// special files): cmd/go's value would depend on what they point to.
    pub h1: Option<String>,
    /// Sorted by name, byte-wise, as `Hash1` sorts them.
    pub files: Vec<FileHash>,
}

impl TreeHash {
    fn from_files(mut files: Vec<FileHash>) -> Self {
        files.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Self::from_sorted(files)
    }

    fn from_sorted(files: Vec<FileHash>) -> Self {
        let h1 = summarize(&files);
        TreeHash { h1, files }
    }

    #[must_use]
    pub fn file(&self, name: &str) -> Option<&FileHash> {
        self.files.binary_search_by(|f| f.name.as_bytes().cmp(name.as_bytes())).ok().map(|i| &self.files[i])
    }
}

/// The summary hash over already sorted file hashes.
fn summarize(files: &[FileHash]) -> Option<String> {
    let mut h = Sha256::new();
    let mut line = String::with_capacity(128);
    for f in files {
        let sum = f.sha256?;
        line.clear();
        line.push_str(&to_hex(&sum));
        line.push_str("  ");
        line.push_str(&f.name);
        line.push('\n');
        h.update(line.as_bytes());
    }
    Some(format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(h.finalize())))
}

/// `Hash1` over explicit `(name, content)` pairs; the building block the
/// other functions share, and the reference the tests compare them with.
#[must_use]
pub fn hash1_bytes(files: &[(&str, &[u8])]) -> String {
    let list = files
        .iter()
        .map(|(name, data)| FileHash {
            name: (*name).to_owned(),
            kind: EntryKind::File,
            sha256: Some(Sha256::digest(data).into()),
        })
        .collect();
    TreeHash::from_files(list).h1.expect("every entry has content")
}

/// The hash of a go.mod file as the `<version>/go.mod` go.sum line records
/// it: a one-file tree whose file is named just `go.mod` (no module prefix).
#[must_use]
pub fn hash_go_mod(data: &[u8]) -> String {
    hash1_bytes(&[("go.mod", data)])
}

/// Streams `r` through the thread's buffer into SHA-256.
fn sha256_reader(r: &mut impl Read) -> io::Result<[u8; 32]> {
    BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        let mut h = Sha256::new();
        loop {
            match r.read(&mut buf) {
                Ok(0) => return Ok(h.finalize().into()),
                Ok(n) => h.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    })
}

/// Streams `r` into SHA-256 like [`sha256_reader`] and compares every chunk
/// with the next bytes of `twin`; says whether `twin` held exactly the same
/// bytes. A twin that cannot be read is simply not the same.
fn sha256_and_compare(r: &mut impl Read, mut twin: Option<File>) -> io::Result<([u8; 32], bool)> {
    BUF.with(|buf| {
        TWIN_BUF.with(|tbuf| {
            let (mut buf, mut tbuf) = (buf.borrow_mut(), tbuf.borrow_mut());
            let mut h = Sha256::new();
            loop {
                let n = match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                h.update(&buf[..n]);
                if let Some(t) = twin.as_mut()
                    && (t.read_exact(&mut tbuf[..n]).is_err() || tbuf[..n] != buf[..n])
                {
                    twin = None;
                }
            }
            let same = twin.is_some_and(|mut t| matches!(t.read(&mut tbuf[..1]), Ok(0)));
            Ok((h.finalize().into(), same))
        })
    })
}

/// A zip32 size or offset field that says "the real value is in the zip64 record".
const ZIP32_UNKNOWN: u64 = 0xFFFF_FFFF;

/// Counts what an entry inflates to: archive/zip's `checksumReader` compares it
/// with the directory's size, which the zip crate does not.
struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// `checksumReader.Read`: fewer bytes than the directory says is
/// `unexpected EOF`, more is `zip: not a valid zip file`.
fn check_inflated_size(got: u64, want: u64) -> io::Result<()> {
    match got.cmp(&want) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("unexpected EOF (inflates to {got} bytes, the zip directory says {want})"),
        )),
        std::cmp::Ordering::Greater => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("zip: not a valid zip file (inflates to {got} bytes, the zip directory says {want})"),
        )),
    }
}

/// The tree's regular file for zip entry `name`, if the name is a plain
/// path below `<prefix>/` and the file has the entry's size. Opened without
/// following a final symlink and without blocking on a FIFO; a symlink
/// higher up is caught by [`hash_dir`]'s walk, which then lists an entry the
/// zip does not have.
fn open_twin(dir: &File, prefix: &str, name: &str, size: u64) -> Option<File> {
    let rel = name.strip_prefix(prefix)?.strip_prefix('/')?;
    if rel.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return None;
    }
    let f = crate::fs::noatime::open_at_no_follow(dir, Path::new(rel)).ok()?;
    let meta = f.metadata().ok()?;
    (meta.is_file() && meta.len() == size).then_some(f)
}

/// SHA-256 of a whole file, streamed; a symlink is an error, not followed.
pub fn sha256_file(path: &Path) -> Result<[u8; 32], HashError> {
    let io = |source| HashError::Io { path: path.to_owned(), source };
    let mut f = crate::fs::noatime::open_no_follow(path).map_err(io)?;
    sha256_reader(&mut f).map_err(io)
}

/// Lower-case hex, as `%x` prints it.
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    // Two summaries per version, one line per file: formatting machinery
    // per byte showed in profiles.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// `HashDir(dir, prefix)`: every non-directory entry below `dir`, named
/// `<prefix>/<relative path>`. `prefix` is `<module>@<version>` (unescaped).
/// With `zip`, the result of [`hash_zip`] given this `dir` as its twin, a
/// file that was found identical to its zip entry takes the entry's hash
/// instead of being read again.
pub fn hash_dir(dir: &Path, prefix: &str, zip: Option<&ZipHash>) -> Result<TreeHash, HashError> {
    let root = crate::fs::noatime::open_dir(dir).map_err(|source| HashError::Io { path: dir.to_owned(), source })?;
    let mut entries: Vec<(String, PathBuf, EntryKind)> = Vec::new();
    for entry in WalkDir::new(dir).follow_links(false) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_owned();
            HashError::Io { path, source: e.into() }
        })?;
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        if entry.depth() == 0 {
            return Err(HashError::Io { path: dir.to_owned(), source: io::Error::other("not a directory") });
        }
        let rel = entry.path().strip_prefix(dir).expect("walkdir stays below its root");
        let rel = String::from_utf8_lossy(rel.as_os_str().as_bytes());
        let name = format!("{prefix}/{rel}");
        if name.contains('\n') {
            return Err(HashError::Newline { path: entry.path().to_owned(), name });
        }
        let kind = if ft.is_file() {
            EntryKind::File
        } else if ft.is_symlink() {
            EntryKind::Symlink
        } else {
            EntryKind::Special
        };
        entries.push((name, entry.into_path(), kind));
    }
    let files = entries
        .into_par_iter()
        .map(|(name, path, kind)| {
            let (kind, sha256) = match kind {
                EntryKind::File => match zip.and_then(|z| z.identical_in_twin(&name)) {
                    Some(sum) => (kind, Some(sum)),
                    None => hash_listed_file(&root, dir, &path)?,
                },
                _ => (kind, None),
            };
            Ok(FileHash { name, kind, sha256 })
        })
        .collect::<Result<Vec<_>, HashError>>()?;
    Ok(TreeHash::from_files(files))
}

/// Hashes a file the walk listed as regular. It is opened below the tree's
/// descriptor without following a link anywhere on the way and without
/// blocking, then checked again: between the walk and the open it may have
/// become a link (not followed: [`EntryKind::Symlink`]) or a FIFO, socket or
/// device (not read: [`EntryKind::Special`]).
fn hash_listed_file(root: &File, dir: &Path, path: &Path) -> Result<(EntryKind, Option<[u8; 32]>), HashError> {
    use rustix::fs::{FileType, Mode, OFlags, ResolveFlags, fstat, openat2};
    use rustix::io::Errno;
    let io = |source| HashError::Io { path: path.to_owned(), source };
    let rel = path.strip_prefix(dir).expect("walkdir stays below its root");
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
    let opened = match openat2(root, rel, flags | OFlags::NOATIME, Mode::empty(), resolve) {
        // Not our file: the kernel refuses O_NOATIME, not the read.
        Err(Errno::PERM) => openat2(root, rel, flags, Mode::empty(), resolve),
        other => other,
    };
    let fd = match opened {
        Ok(fd) => fd,
        // No openat2 (old kernel, seccomp): only the last component is
        // guarded, but the walk saw no link above it a moment ago.
        Err(Errno::NOSYS) => match crate::fs::noatime::open_at_no_follow(root, rel) {
            Ok(f) => f.into(),
            Err(e) if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => return Ok((EntryKind::Symlink, None)),
            Err(e) if e.raw_os_error() == Some(Errno::NXIO.raw_os_error()) => return Ok((EntryKind::Special, None)),
            Err(e) => return Err(io(e)),
        },
        Err(Errno::LOOP) => return Ok((EntryKind::Symlink, None)),
        // A socket cannot be opened at all.
        Err(Errno::NXIO) => return Ok((EntryKind::Special, None)),
        Err(e) => return Err(io(e.into())),
    };
    let st = fstat(&fd).map_err(|e| io(e.into()))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Ok((EntryKind::Special, None));
    }
    let mut f = File::from(fd);
    Ok((EntryKind::File, Some(sha256_reader(&mut f).map_err(io)?)))
}

/// A file read with positioned reads, so clones share one descriptor and
/// never disturb each other's offsets. Small reads are served from a
/// read-ahead buffer: the zip crate parses the central directory field by
/// field, which would otherwise cost three `pread`s per entry.
#[derive(Clone)]
struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
    ahead: Vec<u8>,
    ahead_at: u64,
}

/// Reads at least this large bypass the read-ahead buffer.
const READ_AHEAD: usize = 8 * 1024;

impl SharedFile {
    fn new(file: File, len: u64) -> Self {
        SharedFile { file: Arc::new(file), pos: 0, len, ahead: Vec::new(), ahead_at: 0 }
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.len() >= READ_AHEAD {
            let n = self.file.read_at(buf, self.pos)?;
            self.pos += n as u64;
            return Ok(n);
        }
        let in_ahead = |s: &Self| s.pos >= s.ahead_at && s.pos < s.ahead_at + s.ahead.len() as u64;
        if !in_ahead(self) {
            self.ahead.resize(READ_AHEAD, 0);
            let n = self.file.read_at(&mut self.ahead, self.pos)?;
            self.ahead.truncate(n);
            self.ahead_at = self.pos;
            if n == 0 {
                return Ok(0);
            }
        }
        let off = usize::try_from(self.pos - self.ahead_at).expect("inside the read-ahead buffer");
        let n = buf.len().min(self.ahead.len() - off);
        buf[..n].copy_from_slice(&self.ahead[off..off + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

/// A module zip's entries, as `HashZip` sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipHash {
    pub tree: TreeHash,
    /// Whether a name appears more than once in the central directory.
    /// cmd/go's `HashZip` then hashes the last entry twice and `modzip.Unzip`
    /// refuses the zip; the per-file list here holds each name once.
    pub has_duplicates: bool,
    /// Parallel to `tree.files`: whether the twin tree given to [`hash_zip`]
    /// holds a regular file of that name with exactly the entry's bytes.
    identical: Vec<bool>,
}

impl ZipHash {
    /// The entry's SHA-256 if the twin tree's file `name` has the same bytes.
    fn identical_in_twin(&self, name: &str) -> Option<[u8; 32]> {
        let i = self.tree.files.binary_search_by(|f| f.name.as_bytes().cmp(name.as_bytes())).ok()?;
        if self.identical[i] { self.tree.files[i].sha256 } else { None }
    }
}

/// CRC-32 and SHA-256 of `data`, and whether `twin` (whose size
/// [`open_twin`] found equal) holds exactly `data`. One pass in chunks of
/// the read buffer's size, so that each chunk is checksummed, hashed and
/// compared while it is still in the CPU cache, and the copy out of the
/// page cache lands in a buffer that stays there.
fn digest_and_compare(data: &[u8], mut twin: Option<File>) -> (u32, [u8; 32], bool) {
    TWIN_BUF.with_borrow_mut(|buf| {
        let (mut crc, mut sha) = (libdeflater::Crc::new(), Sha256::new());
        for chunk in data.chunks(buf.len()) {
            crc.update(chunk);
            sha.update(chunk);
            if let Some(t) = twin.as_mut() {
                let got = &mut buf[..chunk.len()];
                if t.read_exact(got).is_err() || got != chunk {
                    twin = None;
                }
            }
        }
        (crc.sum(), sha.finalize().into(), twin.is_some())
    })
}

/// `HashZip(zipfile)`: every entry name as stored (directory entries
/// included, hashed as empty), content decompressed and CRC-checked. With
/// `twin` (the version's extracted tree and its `<module>@<version>`
/// prefix), every entry is also compared with the tree's file, for
/// [`hash_dir`].
pub fn hash_zip(path: &Path, twin: Option<(&Path, &str)>) -> Result<ZipHash, HashError> {
    let io = |source| HashError::Io { path: path.to_owned(), source };
    let file = crate::fs::noatime::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    hash_archive(path, SharedFile::new(file, len), twin)
}

/// [`hash_zip`] over the open zip.
fn hash_archive(path: &Path, reader: SharedFile, twin: Option<(&Path, &str)>) -> Result<ZipHash, HashError> {
    let file = Arc::clone(&reader.file);
    let archive =
        zip::ZipArchive::new(reader).map_err(|source| HashError::Archive { path: path.to_owned(), source })?;
    // A tree that cannot be opened is no twin: hash_dir reports it.
    let twin = twin.and_then(|(dir, prefix)| Some((crate::fs::noatime::open_dir(dir).ok()?, prefix)));
    let has_duplicates = archive.metadata().has_duplicate_names();
    let files = (0..archive.len())
        .into_par_iter()
        .map_init(
            || archive.clone(),
            |archive, i| {
                let zip_err = |source| HashError::Archive { path: path.to_owned(), source };
                let entry = archive.by_index_data(i).map_err(zip_err)?;
                let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
                if name.contains('\n') {
                    return Err(HashError::Newline { path: path.to_owned(), name });
                }
                if name.ends_with('/') {
                    // archive/zip reads a directory entry as empty, whatever its
                    // method and CRC, unless it claims content (`File.Open`).
                    if entry.size() != 0 {
                        let message = format!("zip: not a valid zip file (directory {name} has content)");
                        return Err(HashError::Zip { path: path.to_owned(), message });
                    }
                    let sha256 = Some(Sha256::digest(b"").into());
                    return Ok((FileHash { name, kind: EntryKind::File, sha256 }, false));
                }
                // archive/zip takes a 32-bit 0xFFFFFFFF as "see the zip64 record"; without
                // one, a compressed size (or offset) of 2³²-1 is ErrFormat, while an
                // uncompressed size of 2³²-1 is believed and the short read fails later.
                if entry.compressed_size() == ZIP32_UNKNOWN || entry.header_start() == ZIP32_UNKNOWN {
                    let message = format!("zip: not a valid zip file ({name} claims 4 GiB without a zip64 record)");
                    return Err(HashError::Zip { path: path.to_owned(), message });
                }
                let size = entry.size();
                let twin_file = twin.as_ref().and_then(|(dir, prefix)| open_twin(dir, prefix, &name, size));
                let hashed = if let Some(whole) = WholeEntry::of(&entry) {
                    whole.read(&file, |data| {
                        let (crc32, sha256, same) = digest_and_compare(data, twin_file);
                        (crc32, (sha256, same))
                    })
                } else {
                    let mut counted = CountingReader { inner: archive.by_index(i).map_err(zip_err)?, n: 0 };
                    sha256_and_compare(&mut counted, twin_file).and_then(|h| {
                        check_inflated_size(counted.n, size)?;
                        Ok(h)
                    })
                };
                let (sum, same) = hashed.map_err(|source| HashError::ZipEntry {
                    path: path.to_owned(),
                    name: name.clone(),
                    source,
                })?;
                Ok((FileHash { name, kind: EntryKind::File, sha256: Some(sum) }, same))
            },
        )
        .collect::<Result<Vec<_>, HashError>>()?;
    let mut files = files;
    files.sort_by(|a, b| a.0.name.as_bytes().cmp(b.0.name.as_bytes()));
    let (files, identical) = files.into_iter().unzip();
    Ok(ZipHash { tree: TreeHash::from_sorted(files), has_duplicates, identical })
}

/// How an extracted tree differs from its zip, file by file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TreeDiff {
    /// In both, different content (or not a regular file in the tree).
    pub modified: Vec<String>,
    /// In the tree only.
    pub added: Vec<String>,
    /// In the zip only.
    pub removed: Vec<String>,
}

impl TreeDiff {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.modified.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

/// Compares an extracted tree with its zip. Names are reported relative to
/// the `<module>@<version>/` prefix. Directory entries of the zip (names
/// ending in `/`) never exist as files in a tree and are ignored here,
/// although they do change the zip's `h1:`.
#[must_use]
pub fn diff(tree: &TreeHash, zip: &TreeHash, prefix: &str) -> TreeDiff {
    let strip = |n: &str| n.strip_prefix(prefix).and_then(|n| n.strip_prefix('/')).unwrap_or(n).to_owned();
    let mut out = TreeDiff::default();
    let (mut i, mut j) = (0, 0);
    let zfiles: Vec<&FileHash> = zip.files.iter().filter(|f| !f.name.ends_with('/')).collect();
    while i < tree.files.len() || j < zfiles.len() {
        match (tree.files.get(i), zfiles.get(j)) {
            (Some(a), Some(b)) => match a.name.as_bytes().cmp(b.name.as_bytes()) {
                std::cmp::Ordering::Less => {
                    out.added.push(strip(&a.name));
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.removed.push(strip(&b.name));
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if a.sha256.is_none() || a.sha256 != b.sha256 {
                        out.modified.push(strip(&a.name));
                    }
                    i += 1;
                    j += 1;
                }
            },
            (Some(a), None) => {
                out.added.push(strip(&a.name));
                i += 1;
            }
            (None, Some(b)) => {
                out.removed.push(strip(&b.name));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn sha_hex(data: &[u8]) -> String {
        to_hex(&Sha256::digest(data))
    }

    #[test]
    fn hash1_matches_the_documented_summary_construction() {
        // Hash1 = base64(sha256("<hex>  <name>\n" for each sorted name)).
        let summary = format!("{}  a/b\n{}  a/c\n", sha_hex(b"two"), sha_hex(b"one"));
        let expected =
            format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes())));
        assert_eq!(hash1_bytes(&[("a/c", b"one"), ("a/b", b"two")]), expected);
        assert_eq!(expected.len(), 47);
    }

    #[test]
    fn hex_is_lower_case_and_zero_padded_like_go_percent_x() {
        assert_eq!(to_hex(&[0x00, 0x0a, 0xab, 0xff, 0x10]), "000aabff10");
    }

    #[test]
    fn empty_go_mod_hash_is_the_one_cmd_go_drops() {
        // fetch.go: emptyGoModHash, written by an old bug for non-modules.
        assert_eq!(hash_go_mod(b""), crate::go::gosum::EMPTY_GO_MOD_HASH);
    }

    fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        for (name, data) in entries {
            let opts = zip::write::SimpleFileOptions::default();
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn zip_and_dir_with_same_files_hash_the_same_and_diff_names_changes() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        write_zip(&zip, &[("m@v1/go.mod", b"module m\n"), ("m@v1/a.go", b"package m\n"), ("m@v1/b.go", b"x")]);
        let dir = t.path().join("d");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("go.mod"), b"module m\n").unwrap();
        std::fs::write(dir.join("a.go"), b"package m\n").unwrap();
        std::fs::write(dir.join("b.go"), b"x").unwrap();
        let z = hash_zip(&zip, None).unwrap();
        let d = hash_dir(&dir, "m@v1", None).unwrap();
        assert_eq!(z.tree.h1, d.h1);
        assert!(diff(&d, &z.tree, "m@v1").is_empty());

        std::fs::write(dir.join("a.go"), b"package evil\n").unwrap();
        std::fs::remove_file(dir.join("b.go")).unwrap();
        std::fs::write(dir.join("c.go"), b"new").unwrap();
        let d = hash_dir(&dir, "m@v1", None).unwrap();
        assert_ne!(z.tree.h1, d.h1);
        let df = diff(&d, &z.tree, "m@v1");
        assert_eq!(df.modified, ["a.go"]);
        assert_eq!(df.added, ["c.go"]);
        assert_eq!(df.removed, ["b.go"]);
    }

    type Fault = Box<dyn Fn(&Path)>;

    /// Every way a tree can differ from its zip: the hash that reuses the
    /// zip's per-file hashes must be the one reading every file gives.
    #[test]
    fn tree_hash_reusing_identical_zip_entries_equals_hashing_every_file() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let entries: [(&str, &[u8]); 5] = [
            ("m@v1/go.mod", b"module m\n"),
            ("m@v1/a.go", b"package m\n"),
            ("m@v1/big.bin", &big),
            ("m@v1/sub/b.go", b"package sub\n"),
            ("m@v1/sub/c.go", b"package sub // c\n"),
        ];
        write_zip(&zip, &entries);
        let mut faults: Vec<(&str, Fault)> = vec![
            ("none", Box::new(|_: &Path| {})),
            ("edited, same size", Box::new(|d: &Path| std::fs::write(d.join("a.go"), b"package x\n").unwrap())),
            ("last byte of a large file", {
                let mut b = big.clone();
                *b.last_mut().unwrap() ^= 1;
                Box::new(move |d: &Path| std::fs::write(d.join("big.bin"), &b).unwrap())
            }),
            ("longer", Box::new(|d: &Path| std::fs::write(d.join("go.mod"), b"module m\n\n").unwrap())),
            ("added", Box::new(|d: &Path| std::fs::write(d.join("extra.go"), b"package m\n").unwrap())),
            ("removed", Box::new(|d: &Path| std::fs::remove_file(d.join("sub/c.go")).unwrap())),
            (
                "file replaced by a symlink to identical content",
                Box::new(|d: &Path| {
                    std::fs::write(d.join("../copy"), b"package m\n").unwrap();
                    std::fs::remove_file(d.join("a.go")).unwrap();
                    std::os::unix::fs::symlink(d.join("../copy"), d.join("a.go")).unwrap();
                }),
            ),
            (
                "directory replaced by a symlink to an identical directory",
                Box::new(|d: &Path| {
                    std::fs::rename(d.join("sub"), d.join("../sub-elsewhere")).unwrap();
                    std::os::unix::fs::symlink(d.join("../sub-elsewhere"), d.join("sub")).unwrap();
                }),
            ),
        ];
        for (i, (what, fault)) in faults.drain(..).enumerate() {
            let case = t.path().join(format!("case{i}"));
            let dir = case.join("tree");
            for (name, data) in &entries {
                let p = dir.join(name.strip_prefix("m@v1/").unwrap());
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, data).unwrap();
            }
            fault(&dir);
            let z = hash_zip(&zip, Some((&dir, "m@v1"))).unwrap();
            assert_eq!(z.tree, hash_zip(&zip, None).unwrap().tree, "{what}: the zip's own hash");
            let reused = hash_dir(&dir, "m@v1", Some(&z)).unwrap();
            assert_eq!(reused, hash_dir(&dir, "m@v1", None).unwrap(), "{what}");
            assert_eq!(reused.h1 == z.tree.h1, what == "none", "{what}");
        }
    }

    #[test]
    fn entries_too_large_to_read_whole_are_streamed_with_the_same_result() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        let huge: Vec<u8> = (0..=crate::verify::zipread::WHOLE_ENTRY_MAX).map(|i| (i % 253) as u8).collect();
        let entries: [(&str, &[u8]); 2] = [("m@v1/go.mod", b"module m\n"), ("m@v1/huge.bin", &huge)];
        write_zip(&zip, &entries);
        let dir = t.path().join("tree");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("go.mod"), b"module m\n").unwrap();
        std::fs::write(dir.join("huge.bin"), &huge).unwrap();
        let z = hash_zip(&zip, Some((&dir, "m@v1"))).unwrap();
        assert_eq!(z.tree.h1.as_deref(), Some(hash1_bytes(&entries).as_str()));
        assert_eq!(z.identical, [true, true]);
        assert_eq!(hash_dir(&dir, "m@v1", Some(&z)).unwrap().h1, z.tree.h1);
    }

    /// Local headers, central directory and data all come from the file:
    /// whatever byte is damaged, hashing ends in a hash or an error (a panic
    /// fails the test), and comparing with a tree never changes which.
    #[test]
    fn any_damaged_byte_gives_a_hash_or_an_error_and_the_tree_comparison_changes_neither() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        let big: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 256) as u8).collect();
        write_zip(&zip, &[("m@v1/go.mod", b"module m\n"), ("m@v1/a.go", &big), ("m@v1/sub/b.go", b"package sub\n")]);
        let good = std::fs::read(&zip).unwrap();
        let dir = t.path().join("tree");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.go"), &big).unwrap();
        let good_h1 = hash_zip(&zip, None).unwrap().tree.h1;
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let (mut errors, mut changed) = (0, 0);
        for _ in 0..400 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let mut data = good.clone();
            let at = usize::try_from(seed >> 33).unwrap() % data.len();
            data[at] ^= u8::try_from(seed & 0xff).unwrap() | 1;
            std::fs::write(&zip, &data).unwrap();
            let alone = hash_zip(&zip, None).map(|z| z.tree.h1).map_err(|e| e.to_string());
            let with_tree = hash_zip(&zip, Some((&dir, "m@v1"))).map(|z| z.tree.h1).map_err(|e| e.to_string());
            assert_eq!(alone, with_tree, "byte {at}");
            match alone {
                Err(_) => errors += 1,
                Ok(h1) if h1 != good_h1 => changed += 1,
                Ok(_) => {}
            }
        }
        // Most damage is caught; a flip in a date or an unused field is not damage to the content.
        assert!(errors + changed > 300, "{errors} errors, {changed} changed hashes of 400");
    }

    /// Go writes every module zip entry with a data descriptor (flag 0x8);
    /// archive/zip checks the descriptor's CRC-32 too.
    #[test]
    fn data_descriptors_are_read_and_their_crc_checked() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        let mut out = Vec::new();
        {
            let mut w = zip::ZipWriter::new_stream(&mut out);
            for (name, data) in [("m@v1/go.mod", &b"module m\n"[..]), ("m@v1/a.go", &[b'a'; 3000][..])] {
                w.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        assert_ne!(u16::from_le_bytes([out[6], out[7]]) & 0x8, 0, "the writer used no data descriptor");
        std::fs::write(&zip, &out).unwrap();
        let want = hash1_bytes(&[("m@v1/go.mod", b"module m\n"), ("m@v1/a.go", &[b'a'; 3000])]);
        assert_eq!(hash_zip(&zip, None).unwrap().tree.h1.as_deref(), Some(want.as_str()));
        // The descriptor after go.mod's data: its signature, then the CRC.
        let sig = out.windows(4).position(|w| w == b"PK\x07\x08").unwrap();
        out[sig + 4] ^= 1;
        std::fs::write(&zip, &out).unwrap();
        let err = hash_zip(&zip, None).unwrap_err().to_string();
        assert!(err.contains("checksum error"), "{err}");
    }

    #[test]
    fn stored_entry_with_a_flipped_byte_fails_its_crc_like_go() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        let mut w = zip::ZipWriter::new(File::create(&zip).unwrap());
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        w.start_file("m@v1/a.txt", opts).unwrap();
        w.write_all(b"0123456789abcdef").unwrap();
        w.finish().unwrap();
        let mut data = std::fs::read(&zip).unwrap();
        let at = data.windows(16).position(|w| w == b"0123456789abcdef").unwrap();
        data[at + 3] ^= 1;
        std::fs::write(&zip, &data).unwrap();
        let err = hash_zip(&zip, None).unwrap_err().to_string();
        assert!(err.contains("checksum error") && err.contains("a.txt"), "{err}");
    }

    #[test]
    fn symlinks_are_listed_but_never_followed() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("secret"), b"s").unwrap();
        let dir = t.path().join("d");
        std::fs::create_dir(&dir).unwrap();
        std::os::unix::fs::symlink(t.path().join("secret"), dir.join("link")).unwrap();
        let d = hash_dir(&dir, "m@v1", None).unwrap();
        assert_eq!(d.h1, None);
        assert_eq!(d.files[0].kind, EntryKind::Symlink);
        assert_eq!(d.files[0].sha256, None);
    }

    /// The walk lists a regular file; before it is opened, it is swapped for
    /// a link out of the tree, a FIFO, or sits below a directory swapped for
    /// a link. None is read through or blocks.
    #[test]
    fn a_file_swapped_after_the_walk_is_neither_followed_nor_waited_on() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("secret"), b"s").unwrap();
        std::fs::create_dir(t.path().join("outside")).unwrap();
        std::fs::write(t.path().join("outside/x"), b"x").unwrap();
        let dir = t.path().join("d");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("plain"), b"p").unwrap();
        std::os::unix::fs::symlink(t.path().join("secret"), dir.join("link")).unwrap();
        std::os::unix::fs::symlink(t.path().join("outside"), dir.join("sub")).unwrap();
        rustix::fs::mknodat(rustix::fs::CWD, dir.join("pipe"), rustix::fs::FileType::Fifo, 0o644.into(), 0).unwrap();
        let root = crate::fs::noatime::open_dir(&dir).unwrap();
        let hash = |name: &str| hash_listed_file(&root, &dir, &dir.join(name)).unwrap();
        assert_eq!(hash("plain"), (EntryKind::File, Some(Sha256::digest(b"p").into())));
        assert_eq!(hash("link"), (EntryKind::Symlink, None));
        assert_eq!(hash("sub/x"), (EntryKind::Symlink, None));
        assert_eq!(hash("pipe"), (EntryKind::Special, None));
    }

    #[test]
    fn truncated_zip_is_an_error_not_a_panic() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        write_zip(&zip, &[("m@v1/go.mod", b"module m\n"), ("m@v1/a.go", &[7u8; 5000])]);
        let data = std::fs::read(&zip).unwrap();
        for cut in [0, 10, data.len() / 2, data.len() - 10] {
            std::fs::write(&zip, &data[..cut]).unwrap();
            assert!(hash_zip(&zip, None).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn flipped_content_byte_is_detected_by_crc_or_hash() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        write_zip(&zip, &[("m@v1/a.go", &[b'a'; 3000])]);
        let good = hash_zip(&zip, None).unwrap().tree.h1;
        let mut data = std::fs::read(&zip).unwrap();
        data[45] ^= 0xff;
        std::fs::write(&zip, &data).unwrap();
        match hash_zip(&zip, None) {
            Ok(z) => assert_ne!(z.tree.h1, good),
            Err(e) => assert!(e.to_string().contains("m.zip"), "{e}"),
        }
    }

    #[test]
    fn zip_directory_entries_count_in_the_hash_but_not_in_the_diff() {
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("m.zip");
        write_zip(&zip, &[("m@v1/sub/", b""), ("m@v1/sub/a.go", b"a")]);
        let z = hash_zip(&zip, None).unwrap();
        assert_eq!(z.tree.files.len(), 2);
        assert_eq!(z.tree.h1.as_deref(), Some(hash1_bytes(&[("m@v1/sub/", b""), ("m@v1/sub/a.go", b"a")]).as_str()));
        let dir = t.path().join("d/sub");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.go"), b"a").unwrap();
        let d = hash_dir(&t.path().join("d"), "m@v1", None).unwrap();
        assert!(diff(&d, &z.tree, "m@v1").is_empty());
        assert_ne!(d.h1, z.tree.h1);
    }
}
