//! Incremental verify: a module version that verified clean is not hashed
//! again while nothing it was verified from has changed, as `stat` sees it.
//!
//! ## What a version's verdict is drawn from
//! Its zip, `.ziphash`, `.mod` and `.partial`, every file of its extracted
//! tree (when the tree is hashed: not a toolchain's, not a `.partial` one),
//! the checksum database's cached lookup record in every database the cache
//! has, and whether temporary download files or pre-1.16 extraction
//! directories lie beside it. For each file: whether it exists, its type and
//! mode, size, mtime, ctime and inode; for the tree, also the list of its
//! names, so an added or removed file counts. All of it goes into one
//! SHA-256 digest, remembered per version with the hashes the check
//! computed ([`crate::state::verified`]).
//!
//! ## What a skip can and cannot catch
//! Any write through the file system changes ctime (which cannot be set
//! back), so an edit, a replacement, a `touch`, a `chmod`, a restored mtime,
//! an added or removed file is seen and the version hashed again. A change
//! below the file system that keeps size, mtime, ctime and inode (a raw
//! write to the block device, bit rot on the medium) is not: `--full`
//! hashes everything.
//!
//! ## What is remembered
//! Only a version with no finding at all, whose every hash agreed with its
//! `.ziphash`. A version with a file changed less than [`RACY_SECS`] before
//! its snapshot is not remembered either: a second change within the same
//! timestamp tick (coarse on some file systems: a second on ext4 with small
//! inodes, two on FAT) would leave the same stat behind, the "racily clean"
//! problem git's index has. Records are tied to [`RULES`] and to the gokeep
//! version: another gokeep verifies everything again.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::modcache::{ModcacheCheck, VersionCheck, VersionPaths, Ziphash};
use crate::layout::DownloadFile;
use crate::scan::VersionRecord;
use crate::state::verified::{self, Loaded, RootRecord, VersionMemory};
use crate::timestamp::Timestamp;

/// What the snapshot covers and how a check is drawn from it. Bump on any
/// change to either, or to how gokeep hashes: older records are then
/// ignored, never trusted.
pub const RULES: u32 = 1;

/// A file changed this recently (seconds) before its snapshot makes the
/// version too fresh to remember.
pub const RACY_SECS: i64 = 2;

/// The clean versions of one cache, as a previous verify left them.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    record: Option<RootRecord>,
}

impl Memory {
    fn get(&self, module: &str, version: &str) -> Option<&VersionMemory> {
        self.record.as_ref()?.versions.get(&key(module, version))
    }

    /// Versions remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.record.as_ref().map_or(0, |r| r.versions.len())
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What [`recall`] found for a cache.
#[derive(Debug)]
pub enum Recall {
    /// Nothing remembered yet: every version is hashed.
    Nothing,
    Remembered(Memory),
    /// A record exists but cannot be trusted: why, in one sentence. Every
    /// version is hashed.
    Ignored(String),
}

fn key(module: &str, version: &str) -> String {
    format!("{module}@{version}")
}

/// The key a cache's record is filed under: its canonical path, so two
/// spellings of one cache share a record and two caches never do.
fn root_key(modcache: &Path) -> PathBuf {
    std::fs::canonicalize(modcache).unwrap_or_else(|_| modcache.to_owned())
}

/// What the previous verify of `modcache` left. Never an error: an unusable
/// state file is [`Recall::Ignored`], with the reason.
#[must_use]
pub fn recall(modcache: &Path) -> Recall {
    match verified::load(&root_key(modcache)) {
        Loaded::Nothing => Recall::Nothing,
        Loaded::Ignored(why) => Recall::Ignored(why),
        Loaded::Record(r) if r.rules != RULES => Recall::Ignored(format!(
            "the last verify of {} followed verify rules {}, this gokeep follows {RULES}",
            modcache.display(),
            r.rules
        )),
        Loaded::Record(r) if r.gokeep != env!("CARGO_PKG_VERSION") => Recall::Ignored(format!(
            "the last verify of {} was made by gokeep {}, this is {}",
            modcache.display(),
            r.gokeep,
            env!("CARGO_PKG_VERSION")
        )),
        Loaded::Record(r) => Recall::Remembered(Memory { record: Some(r) }),
    }
}

/// Remembers the clean versions of `check` for its cache, replacing what
/// was remembered of it; returns the state file's path.
pub fn remember(check: &ModcacheCheck) -> Result<PathBuf, verified::VerifiedError> {
    let record = RootRecord {
        rules: RULES,
        gokeep: env!("CARGO_PKG_VERSION").to_owned(),
        verified_at: Timestamp::now(),
        versions: check.clean.clone(),
    };
    verified::save(&root_key(&check.root), record)
}

/// What `stat` says about everything one version's verdict is drawn from.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// `None` when something could not be looked at: never remembered.
    digest: Option<String>,
    /// Bytes of the files a check reads: the zip, `.ziphash`, `.mod` and the
    /// tree's files (when the tree is hashed).
    pub bytes: u64,
    /// A file changed within [`RACY_SECS`] of the snapshot (or after it).
    racy: bool,
}

/// Feeds stat fields into the digest; remembers the newest time seen.
struct Hasher {
    sha: Sha256,
    newest_ns: i128,
    bytes: u64,
}

impl Hasher {
    fn bytes(&mut self, b: &[u8]) {
        self.sha.update((b.len() as u64).to_le_bytes());
        self.sha.update(b);
    }

    fn num(&mut self, n: i64) {
        self.sha.update(n.to_le_bytes());
    }

    fn meta(&mut self, md: &std::fs::Metadata) {
        self.sha.update([1]);
        self.num(i64::from(md.mode()));
        self.num(md.size() as i64);
        self.num(md.mtime());
        self.num(md.mtime_nsec());
        self.num(md.ctime());
        self.num(md.ctime_nsec());
        self.num(md.ino() as i64);
        for (s, ns) in [(md.mtime(), md.mtime_nsec()), (md.ctime(), md.ctime_nsec())] {
            self.newest_ns = self.newest_ns.max(i128::from(s) * 1_000_000_000 + i128::from(ns));
        }
    }

    /// `path`'s stat (the link itself, never its target), or its absence;
    /// adds its size to the bytes read when `read`.
    fn file(&mut self, tag: &str, path: &Path, read: bool) -> io::Result<()> {
        self.bytes(tag.as_bytes());
        match std::fs::symlink_metadata(path) {
            Ok(md) => {
                self.meta(&md);
                if read && md.is_file() {
                    self.bytes += md.len();
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.sha.update([0]);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Every entry below `dir` but directories, by name, with its stat.
    fn tree(&mut self, dir: &Path) -> io::Result<()> {
        for entry in WalkDir::new(dir).follow_links(false).sort_by_file_name() {
            let entry = entry.map_err(io::Error::from)?;
            if entry.depth() == 0 || entry.file_type().is_dir() {
                continue;
            }
            let rel = entry.path().strip_prefix(dir).expect("walkdir stays below its root");
            self.bytes(rel.as_os_str().as_bytes());
            let md = entry.metadata().map_err(io::Error::from)?;
            self.meta(&md);
            if md.is_file() {
                self.bytes += md.len();
            }
        }
        Ok(())
    }
}

fn now_ns() -> i128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128)
}

/// The snapshot of `rec` in `modcache`; `dbs` are the checksum databases
/// the cache has.
pub(crate) fn snapshot(modcache: &Path, rec: &VersionRecord, dbs: &[String]) -> Snapshot {
    let taken = now_ns();
    let mut h = Hasher { sha: Sha256::new(), newest_ns: i128::MIN, bytes: 0 };
    let ok = snapshot_into(&mut h, modcache, rec, dbs).is_ok();
    let racy = h.newest_ns >= taken - i128::from(RACY_SECS) * 1_000_000_000;
    let digest = ok.then(|| base64::engine::general_purpose::STANDARD_NO_PAD.encode(h.sha.finalize()));
    Snapshot { digest, bytes: h.bytes, racy }
}

fn snapshot_into(h: &mut Hasher, modcache: &Path, rec: &VersionRecord, dbs: &[String]) -> io::Result<()> {
    let p = VersionPaths::new(modcache, &rec.module, &rec.version);
    h.bytes(rec.module.as_bytes());
    h.bytes(rec.version.as_bytes());
    let flags = [rec.has(DownloadFile::Temp), rec.extract_temp.is_some(), rec.extracted.is_some()];
    h.sha.update(flags.map(u8::from));
    h.file("zip", &p.file("zip"), true)?;
    h.file("ziphash", &p.file("ziphash"), true)?;
    h.file("mod", &p.file("mod"), true)?;
    h.file("partial", &p.file("partial"), false)?;
    // The tree is part of the verdict only where the check hashes it.
    if rec.extracted.is_some() && !rec.has(DownloadFile::Partial) && !rec.is_toolchain() {
        h.tree(&p.dir)?;
    }
    for db in dbs {
        let lookup = super::sumdb::lookup_path(modcache, db, &rec.module, &rec.version);
        h.file(db, &lookup, false)?;
    }
    Ok(())
}

/// The check of `rec` remembered in `memory`, if `snap` says nothing changed.
pub(crate) fn recalled(
    memory: &Memory,
    modcache: &Path,
    rec: &VersionRecord,
    dbs: &[String],
    snap: &Snapshot,
) -> Option<VersionCheck> {
    let m = memory.get(&rec.module, &rec.version)?;
    if snap.digest.as_deref() != Some(m.stat.as_str()) {
        return None;
    }
    let h1 = m.ziphash.clone();
    Some(VersionCheck {
        module: rec.module.clone(),
        version: rec.version.clone(),
        ziphash: h1.clone().map_or(Ziphash::Missing, Ziphash::Valid),
        zip_h1: h1.clone().filter(|_| m.zip),
        dir_h1: h1.filter(|_| m.tree),
        mod_h1: m.go_mod.clone(),
        // The records' files are in the snapshot: these are the ones compared then.
        sumdb: super::sumdb::lookup(modcache, dbs, &rec.module, &rec.version),
        findings: Vec::new(),
    })
}

/// What to remember of a check: only a clean one, whose every hash is its
/// `.ziphash`, from a snapshot that was complete and not racy.
pub(crate) fn to_remember(c: &VersionCheck, snap: &Snapshot) -> Option<(String, VersionMemory)> {
    let stat = snap.digest.clone().filter(|_| !snap.racy && c.findings.is_empty())?;
    let ziphash = match &c.ziphash {
        Ziphash::Valid(h) => Some(h.clone()),
        Ziphash::Missing => None,
        Ziphash::Unreadable | Ziphash::Malformed(_) => return None,
    };
    let agrees = |h: &Option<String>| h.is_none() || (ziphash.is_some() && *h == ziphash);
    if !agrees(&c.zip_h1) || !agrees(&c.dir_h1) {
        return None;
    }
    let m =
        VersionMemory { stat, ziphash, zip: c.zip_h1.is_some(), tree: c.dir_h1.is_some(), go_mod: c.mod_h1.clone() };
    Some((key(&c.module, &c.version), m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_version(modcache: &Path) -> (VersionRecord, PathBuf) {
        let p = VersionPaths::new(modcache, "example.com/m", "v1.0.0");
        std::fs::create_dir_all(p.dir.join("sub")).unwrap();
        std::fs::write(p.dir.join("go.mod"), "module example.com/m\n").unwrap();
        std::fs::write(p.dir.join("sub/a.go"), "package sub\n").unwrap();
        let rec = super::super::modcache::record_for(modcache, "example.com/m", "v1.0.0").unwrap();
        (rec, p.dir)
    }

    #[test]
    fn a_same_size_rewrite_with_its_mtime_put_back_changes_the_snapshot() {
        let t = tempfile::tempdir().unwrap();
        let (rec, dir) = tree_version(t.path());
        let before = snapshot(t.path(), &rec, &[]);
        assert!(before.digest.is_some());
        assert!(before.racy, "files written a moment ago are too fresh to remember");
        assert_eq!(snapshot(t.path(), &rec, &[]).digest, before.digest);
        let f = dir.join("sub/a.go");
        let mtime = filetime::FileTime::from_last_modification_time(&std::fs::metadata(&f).unwrap());
        std::fs::write(&f, "package suB\n").unwrap();
        filetime::set_file_mtime(&f, mtime).unwrap();
        assert_ne!(snapshot(t.path(), &rec, &[]).digest, before.digest);
    }

    #[test]
    fn an_added_file_or_a_new_sumdb_record_changes_the_snapshot() {
        let t = tempfile::tempdir().unwrap();
        let (rec, dir) = tree_version(t.path());
        let before = snapshot(t.path(), &rec, &[]).digest;
        std::fs::write(dir.join("sub/b.go"), "").unwrap();
        let added = snapshot(t.path(), &rec, &[]).digest;
        assert_ne!(added, before);
        let dbs = ["sum.golang.org".to_owned()];
        let lookup = super::super::sumdb::lookup_path(t.path(), &dbs[0], &rec.module, &rec.version);
        let without = snapshot(t.path(), &rec, &dbs).digest;
        std::fs::create_dir_all(lookup.parent().unwrap()).unwrap();
        std::fs::write(&lookup, "1\n").unwrap();
        assert_ne!(snapshot(t.path(), &rec, &dbs).digest, without);
    }

    #[test]
    fn only_a_clean_check_from_a_settled_snapshot_is_remembered() {
        let h = "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=".to_owned();
        let clean = VersionCheck {
            module: "m".into(),
            version: "v1.0.0".into(),
            ziphash: Ziphash::Valid(h.clone()),
            zip_h1: Some(h.clone()),
            dir_h1: Some(h.clone()),
            mod_h1: None,
            sumdb: Vec::new(),
            findings: Vec::new(),
        };
        let snap = Snapshot { digest: Some("d".into()), bytes: 1, racy: false };
        let (key, m) = to_remember(&clean, &snap).unwrap();
        assert_eq!((key.as_str(), m.zip, m.tree, m.ziphash.as_deref()), ("m@v1.0.0", true, true, Some(h.as_str())));
        assert!(to_remember(&clean, &Snapshot { racy: true, ..snap.clone() }).is_none());
        assert!(to_remember(&clean, &Snapshot { digest: None, ..snap.clone() }).is_none());
        let mut found = clean.clone();
        found.findings.push(super::super::Finding::new(super::super::FindingKind::DirModified, "x"));
        assert!(to_remember(&found, &snap).is_none());
        let disagrees = VersionCheck { dir_h1: Some("h1:other".into()), ..clean };
        assert!(to_remember(&disagrees, &snap).is_none());
    }
}
