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
//! directory. Zip entries up to 4 MiB (`WHOLE_ENTRY_MAX`) are read in one `pread`
//! and inflated in one libdeflate call into per-thread buffers of that
//! bounded size; larger entries stream through the 64 KiB buffer.
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
//! and the tree then has no `h1:` ([`TreeHash::h1`] is `None`). Module zips
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
    #[error("cannot read {name} in {path}: {source}")]
    ZipEntry { path: PathBuf, name: String, source: io::Error },
    #[error("{path}: file name {name:?} contains a newline, which dirhash does not support")]
    Newline { path: PathBuf, name: String },
}

/// What a listed entry is. Only regular files (and zip entries) have content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// SHA-256 of a whole file, streamed.
pub fn sha256_file(path: &Path) -> Result<[u8; 32], HashError> {
    let io = |source| HashError::Io { path: path.to_owned(), source };
    let mut f = crate::fs::noatime::open(path).map_err(io)?;
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
            let sha256 = match kind {
                EntryKind::File => match zip.and_then(|z| z.identical_in_twin(&name)) {
                    Some(sum) => Some(sum),
                    None => Some(sha256_file(&path)?),
                },
                _ => None,
            };
            Ok(FileHash { name, kind, sha256 })
        })
        .collect::<Result<Vec<_>, HashError>>()?;
    Ok(TreeHash::from_files(files))
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

/// `buf[..n]`, growing `buf` if needed; never shrinks, so that the zeroing
/// a growth costs is paid once per thread, not once per entry.
fn sized(buf: &mut Vec<u8>, n: usize) -> &mut [u8] {
    if buf.len() < n {
        buf.resize(n, 0);
    }
    &mut buf[..n]
}

/// Entries up to this size (compressed and inflated) are read and inflated
/// whole, in one `pread` and one libdeflate call: that is about 1.4 times
/// as fast as streaming inflate on Go source. Larger entries are streamed
/// through the fixed buffers, so memory stays bounded.
const WHOLE_ENTRY_MAX: u64 = 4 << 20;

thread_local! {
    static COMPRESSED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static INFLATED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static INFLATER: RefCell<libdeflater::Decompressor> = RefCell::new(libdeflater::Decompressor::new());
}

/// What the central directory says of an entry read whole.
struct WholeEntry {
    deflated: bool,
    size: usize,
    compressed: usize,
    crc32: u32,
    header_start: u64,
    name_len: usize,
}

/// The fixed part of a local file header (APPNOTE 4.3.7).
const LOCAL_HEADER_LEN: usize = 30;
/// Read past the name on the chance that the local extra field is no
/// longer, so that one `pread` usually brings header and data together.
const LOCAL_EXTRA_SLACK: usize = 128;

impl WholeEntry {
    /// `None` when the entry is too large, encrypted or compressed other
    /// than by Store or Deflate: then the zip crate streams it (and refuses
    /// what Go's `archive/zip` refuses).
    fn of(e: &zip::read::ZipFileEntry<'_>) -> Option<Self> {
        use zip::CompressionMethod as M;
        let fits = !e.encrypted()
            && e.size() <= WHOLE_ENTRY_MAX
            && e.compressed_size() <= WHOLE_ENTRY_MAX
            && matches!(e.compression(), M::Stored | M::Deflated);
        let usize_of = |n: u64| usize::try_from(n).expect("bounded by WHOLE_ENTRY_MAX");
        fits.then(|| WholeEntry {
            deflated: e.compression() == M::Deflated,
            size: usize_of(e.size()),
            compressed: usize_of(e.compressed_size()),
            crc32: e.crc32(),
            header_start: e.header_start(),
            name_len: e.name_raw().len(),
        })
    }

    /// The entry's stored bytes: past the local header, whose name and
    /// extra field lengths say where the data starts (`findBodyOffset` in
    /// Go's `archive/zip`).
    /// Also returns the CRC-32 of the data descriptor that follows the data
    /// when the local header's flag 0x8 says there is one (`readDataDescriptor`;
    /// its signature is optional).
    fn stored_bytes<'b>(&self, zip: &File, buf: &'b mut Vec<u8>) -> io::Result<(&'b [u8], Option<u32>)> {
        let corrupt = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
        let want = LOCAL_HEADER_LEN + self.name_len + LOCAL_EXTRA_SLACK + self.compressed + DATA_DESCRIPTOR_LEN;
        let got = read_at_most(zip, sized(buf, want), self.header_start)?;
        let header = &buf[..got];
        if got < LOCAL_HEADER_LEN || header[..4] != *b"PK\x03\x04" {
            return Err(corrupt("zip: not a valid zip file (no local file header where the directory says)"));
        }
        let le16 = |at: usize| usize::from(u16::from_le_bytes([header[at], header[at + 1]]));
        let has_descriptor = le16(6) & 0x8 != 0;
        let start = LOCAL_HEADER_LEN + le16(26) + le16(28);
        let tail = if has_descriptor { DATA_DESCRIPTOR_LEN } else { 0 };
        if start + self.compressed + tail > got {
            let data = sized(buf, self.compressed + tail);
            zip.read_exact_at(data, self.header_start + start as u64)?;
            return Ok(split_descriptor(data, self.compressed, has_descriptor));
        }
        Ok(split_descriptor(&buf[start..start + self.compressed + tail], self.compressed, has_descriptor))
    }

    /// Reads the entry's stored bytes, inflates them, checks size and
    /// CRC-32 as Go's `archive/zip` does, hashes them and compares them
    /// with `twin`.
    fn hash(&self, zip: &File, twin: Option<File>) -> io::Result<([u8; 32], bool)> {
        let corrupt = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        COMPRESSED.with_borrow_mut(|buf| {
            let (stored, descriptor_crc) = self.stored_bytes(zip, buf)?;
            INFLATED.with_borrow_mut(|inflated| {
                let data: &[u8] = if self.deflated {
                    let inflated = sized(inflated, self.size);
                    let n = INFLATER
                        .with_borrow_mut(|d| d.deflate_decompress(stored, inflated))
                        .map_err(|e| corrupt(format!("inflate: {e}")))?;
                    if n != self.size {
                        return Err(corrupt(format!("inflates to {n} bytes, the zip directory says {}", self.size)));
                    }
                    inflated
                } else if self.compressed == self.size {
                    stored
                } else {
                    return Err(corrupt("stored entry whose sizes differ".to_owned()));
                };
                let (crc32, sha256, same) = digest_and_compare(data, twin);
                // As checksumReader: with a descriptor, both CRCs must match;
                // without one, a zero CRC in the directory is not checked.
                let checked = match descriptor_crc {
                    Some(d) => d == self.crc32 && crc32 == self.crc32,
                    None => self.crc32 == 0 || crc32 == self.crc32,
                };
                if !checked {
                    return Err(corrupt("zip: checksum error (CRC-32 differs from the zip directory's)".to_owned()));
                }
                Ok((sha256, same))
            })
        })
    }
}

/// Longest data descriptor: signature, CRC-32 and two 32-bit sizes
/// (`dataDescriptorLen`).
const DATA_DESCRIPTOR_LEN: usize = 16;

/// The entry's data and, if `has_descriptor`, the CRC-32 in the descriptor
/// that follows it.
fn split_descriptor(bytes: &[u8], len: usize, has_descriptor: bool) -> (&[u8], Option<u32>) {
    let (data, tail) = bytes.split_at(len);
    let crc = has_descriptor.then(|| {
        let le32 = |at: usize| u32::from_le_bytes([tail[at], tail[at + 1], tail[at + 2], tail[at + 3]]);
        if le32(0) == 0x0807_4b50 { le32(4) } else { le32(0) }
    });
    (data, crc)
}

/// Fills `buf` from `offset` as far as the file goes; returns how much.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
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
        zip::ZipArchive::new(reader).map_err(|e| HashError::Zip { path: path.to_owned(), message: e.to_string() })?;
    // A tree that cannot be opened is no twin: hash_dir reports it.
    let twin = twin.and_then(|(dir, prefix)| Some((crate::fs::noatime::open_dir(dir).ok()?, prefix)));
    let has_duplicates = archive.metadata().has_duplicate_names();
    let files = (0..archive.len())
        .into_par_iter()
        .map_init(
            || archive.clone(),
            |archive, i| {
                let zip_err =
                    |e: zip::result::ZipError| HashError::Zip { path: path.to_owned(), message: e.to_string() };
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
                    whole.hash(&file, twin_file)
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
        let huge: Vec<u8> = (0..=WHOLE_ENTRY_MAX).map(|i| (i % 253) as u8).collect();
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
