//! Checks every module version in GOMODCACHE against the witnesses the
//! cache itself holds: the zip, `.ziphash`, the extracted tree, the `.mod`
//! file and the checksum database's cached record.
//!
//! ## What counts as the reference
//! `.ziphash` is what cmd/go compares go.sum with (`checkMod` in
//! `modfetch/fetch.go`) and what `go mod verify` compares the zip and the
//! tree with (`modcmd/verify.go`). gokeep does the same, and adds the cases
//! `go mod verify` cannot tell apart: when zip and tree agree with each
//! other but not with `.ziphash`, the `.ziphash` is what is wrong.
//!
//! ## What is skipped, like cmd/go
//! - A tree with a `.partial` marker is incomplete by definition
//!   (`DownloadDir`): it is reported as a leftover, not hashed.
//! - Toolchain modules (`golang.org/toolchain`) are modified by cmd/go after
//!   extraction (execute bits, `go.mod` copies), so their trees are not
//!   compared with `.ziphash`; their zips are.
//!
//! A `.ziphash` is read the way cmd/go reads it: surrounding white space is
//! trimmed (a trailing newline is accepted), and anything that is not 47
//! bytes without NUL starting with `h1:` is malformed (`isValidSum`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::dirhash::{self, TreeHash, ZipHash};
use super::finding::{Finding, FindingKind as K};
use super::incremental::{self, Memory};
use super::sumdb::{self, SumdbRecord};
use crate::go::modpath::escape;
use crate::layout::DownloadFile;
use crate::prune::Target;
use crate::scan::VersionRecord;
use crate::state::verified::VersionMemory;

/// The file names of one module version in the cache.
#[derive(Debug, Clone)]
pub struct VersionPaths {
    pub download_dir: PathBuf,
    pub dir: PathBuf,
    esc_version: String,
}

impl VersionPaths {
    #[must_use]
    pub fn new(modcache: &Path, module: &str, version: &str) -> Self {
        VersionPaths {
            download_dir: crate::layout::version_dir(modcache, module),
            dir: crate::layout::extracted_dir(modcache, module, version),
            esc_version: escape(version),
        }
    }

    #[must_use]
    pub fn file(&self, suffix: &str) -> PathBuf {
        self.download_dir.join(format!("{}.{suffix}", self.esc_version))
    }

    /// `<version>.<suffix><digits>.tmp` files.
    #[must_use]
    pub fn temp_files(&self) -> Vec<PathBuf> {
        let prefix = format!("{}.", self.esc_version);
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&self.download_dir) {
            for e in rd.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if let Some(rest) = name.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tmp")) {
                    let stem = rest.trim_end_matches(|c: char| c.is_ascii_digit());
                    if ["zip", "ziphash", "info", "mod"].contains(&stem) {
                        out.push(e.path());
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// `<module>@<version>.tmp-*` directories.
    #[must_use]
    pub fn extract_temps(&self) -> Vec<PathBuf> {
        let (Some(parent), Some(base)) = (self.dir.parent(), self.dir.file_name()) else { return Vec::new() };
        let prefix = format!("{}.tmp-", base.to_string_lossy());
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(parent) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    out.push(e.path());
                }
            }
        }
        out.sort();
        out
    }
}

/// `.ziphash` as cmd/go reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Ziphash {
    Missing,
    /// It exists but could not be read (permissions, I/O): reported, never
    /// a reason to remove anything.
    Unreadable,
    /// Not a valid sum; the value is a printable rendering of what is there.
    Malformed(String),
    Valid(String),
}

/// Reads `.ziphash` with cmd/go's rules (`bytes.TrimSpace`, `isValidSum`, `h1:`).
#[must_use]
pub fn parse_ziphash(data: &[u8]) -> Ziphash {
    let t = data.trim_ascii();
    if t.len() == 47 && !t.contains(&0) && t.starts_with(b"h1:") && t.is_ascii() {
        Ziphash::Valid(String::from_utf8_lossy(t).into_owned())
    } else {
        Ziphash::Malformed(t.escape_ascii().to_string().chars().take(120).collect())
    }
}

fn read_ziphash(path: &Path) -> Result<Ziphash, std::io::Error> {
    use std::io::Read as _;
    let mut f = match crate::fs::noatime::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ziphash::Missing),
        Err(e) => return Err(e),
    };
    // Under a shared lock, as lockedfile.Read: go writes it with
    // lockedfile.Create, Truncate (NUL bytes), then WriteAt (`hashZip`), and
    // an unlocked read in between would call a good version malformed.
    f.lock_shared()?;
    let mut data = Vec::new();
    f.read_to_end(&mut data)?;
    Ok(parse_ziphash(&data))
}

/// Everything learnt about one module version; kept so that go.sum lines
/// and `gokeep explain` can be compared with it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VersionCheck {
    pub module: String,
    pub version: String,
    pub ziphash: Ziphash,
    /// The zip's `h1:` as computed now.
    pub zip_h1: Option<String>,
    /// The tree's `h1:` as computed now (not for toolchains or `.partial` trees).
    pub dir_h1: Option<String>,
    /// The `h1:` of the `.mod` file, as the `/go.mod` go.sum line records it.
    pub mod_h1: Option<String>,
    pub sumdb: Vec<SumdbRecord>,
    pub findings: Vec<Finding>,
}

impl VersionCheck {
    /// The hash go.sum's `h1:` line is compared with: `.ziphash` when valid
    /// (what cmd/go uses), else the zip's or the tree's computed hash. When
    /// zip and tree agree with each other and only `.ziphash` differs, the
    /// `.ziphash` is the one wrong witness (`ziphash_wrong`): the others are
    /// compared with the content, so they are not blamed for its fault.
    #[must_use]
    pub fn zip_reference(&self) -> Option<&str> {
        reference(&self.ziphash, self.zip_h1.as_deref(), self.dir_h1.as_deref())
    }
}

/// See [`VersionCheck::zip_reference`].
fn reference<'a>(ziphash: &'a Ziphash, zip_h1: Option<&'a str>, dir_h1: Option<&'a str>) -> Option<&'a str> {
    match ziphash {
        Ziphash::Valid(h) => match (zip_h1, dir_h1) {
            (Some(z), Some(d)) if z == d && z != h => Some(z),
            _ => Some(h),
        },
        _ => zip_h1.or(dir_h1),
    }
}

fn tree_targets(module: &str, version: &str) -> Vec<Target> {
    vec![Target::ExtractedTree { module: module.to_owned(), version: version.to_owned() }]
}

fn download_targets(module: &str, version: &str, files: &[DownloadFile]) -> Target {
    Target::DownloadFiles { module: module.to_owned(), version: version.to_owned(), files: files.to_vec() }
}

/// The whole version: one item, so the executor handles zip, `.ziphash`
/// and tree under one hold of the version lock, in its crash-safe order.
fn redownload_targets(module: &str, version: &str) -> Vec<Target> {
    vec![Target::ModuleVersion { module: module.to_owned(), version: version.to_owned() }]
}

const REDOWNLOAD: &str =
    "remove the version (zip, .ziphash, tree, .info, .mod); go re-downloads it and re-verifies it against go.sum";

/// One version being checked: its names and what was found so far.
struct Checker<'a> {
    rec: &'a VersionRecord,
    paths: VersionPaths,
    /// `<module>@<version>`, the dirhash prefix.
    prefix: String,
    findings: Vec<Finding>,
}

impl Checker<'_> {
    fn finding(&self, kind: K, detail: impl Into<String>) -> Finding {
        Finding::new(kind, detail).module(&self.rec.module, &self.rec.version)
    }

    fn whole(&self) -> Vec<Target> {
        redownload_targets(&self.rec.module, &self.rec.version)
    }

    fn tree(&self) -> Vec<Target> {
        tree_targets(&self.rec.module, &self.rec.version)
    }

    fn read_ziphash(&mut self) -> Ziphash {
        let path = self.paths.file("ziphash");
        match read_ziphash(&path) {
            Ok(z) => z,
            Err(e) => {
                let f = self.finding(K::ZiphashMalformed, format!("cannot read .ziphash: {e}")).path(&path);
                self.findings.push(f);
                Ziphash::Unreadable
            }
        }
    }

    /// Hashes the zip; with `tree`, also compares it with the tree (see
    /// [`dirhash::hash_zip`]).
    fn hash_zip(&mut self, tree: Option<&Path>) -> Option<ZipHash> {
        let zip_path = self.paths.file("zip");
        match dirhash::hash_zip(&zip_path, tree.map(|d| (d, self.prefix.as_str()))) {
            Ok(z) => {
                let bad: Vec<&str> = z
                    .tree
                    .files
                    .iter()
                    .map(|f| f.name.as_str())
                    .filter(|n| !n.strip_prefix(&self.prefix).is_some_and(|r| r.starts_with('/')) || n.contains("/../"))
                    .collect();
                if !bad.is_empty() {
                    let detail = format!("zip has files outside {}/: {}", self.prefix, bad.join(", "));
                    let f = self.finding(K::ZipUnexpectedFile, detail).path(&zip_path).fix(REDOWNLOAD, self.whole());
                    self.findings.push(f);
                }
                if z.has_duplicates {
                    let f = self
                        .finding(K::ZipUnreadable, "zip lists the same file name more than once")
                        .path(&zip_path)
                        .fix(REDOWNLOAD, self.whole());
                    self.findings.push(f);
                }
                Some(z)
            }
            // A zip that cannot be opened or read (permissions, I/O) is not
            // known to be corrupt: report it, remove nothing.
            // Gone since the scan saw it: a prune or `go clean` beside us, not damage.
            Err(dirhash::HashError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => None,
            Err(e @ dirhash::HashError::Io { .. }) => {
                self.findings.push(self.finding(K::ZipUnreadable, e.to_string()).path(&zip_path));
                None
            }
            Err(e) => {
                let f = self.finding(K::ZipUnreadable, e.to_string()).path(&zip_path).fix(REDOWNLOAD, self.whole());
                self.findings.push(f);
                None
            }
        }
    }

    /// The tree to hash, unless it is incomplete (`.partial`) or a toolchain.
    fn tree_to_hash(&mut self) -> Option<PathBuf> {
        let (rec, dir) = (self.rec, self.paths.dir.clone());
        let has_dir = rec.extracted.is_some();
        if rec.has(DownloadFile::Partial) {
            let f = if has_dir {
                self.finding(K::Partial, "extraction was interrupted (.partial marker); go re-extracts on next use")
                    .path(self.paths.file("partial"))
                    .path(&dir)
                    .fix("remove the incomplete tree and its .partial marker", self.tree())
            } else {
                let target = download_targets(&rec.module, &rec.version, &[DownloadFile::Partial]);
                self.finding(K::Partial, "leftover .partial marker without a tree")
                    .path(self.paths.file("partial"))
                    .fix("remove the .partial marker", vec![target])
            };
            self.findings.push(f);
            return None;
        }
        (has_dir && !rec.is_toolchain()).then_some(dir)
    }

    fn hash_tree(&mut self, dir: &Path, zip: Option<&ZipHash>) -> Option<TreeHash> {
        match dirhash::hash_dir(dir, &self.prefix, zip) {
            Ok(t) => Some(t),
            Err(dirhash::HashError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => None,
            Err(e @ dirhash::HashError::Io { .. }) => {
                self.findings.push(self.finding(K::DirUnreadable, within(&e, dir)).path(dir));
                None
            }
            Err(e) => {
                let f = self
                    .finding(K::DirUnreadable, within(&e, dir))
                    .path(dir)
                    .fix("remove the extracted tree; go re-extracts it from the zip", self.tree());
                self.findings.push(f);
                None
            }
        }
    }

    /// Zip and tree against a valid `.ziphash`.
    fn compare_valid(&mut self, h: &str, zip: Option<&TreeHash>, dir: Option<&TreeHash>) {
        let zip_h1 = zip.and_then(|t| t.h1.as_deref());
        let dir_h1 = dir.and_then(|t| t.h1.as_deref());
        let zip_bad = zip.is_some() && zip_h1 != Some(h);
        let dir_bad = dir.is_some() && dir_h1 != Some(h);
        if zip_bad && dir_bad && zip_h1.is_some() && zip_h1 == dir_h1 {
            let f = self
                .finding(K::ZiphashWrong, "zip and extracted tree agree with each other but not with .ziphash")
                .path(self.paths.file("ziphash"))
                .hashes(Some(h), zip_h1)
                .fix(REDOWNLOAD, self.whole());
            self.findings.push(f);
            return;
        }
        if zip_bad {
            let f = self
                .finding(K::ZipModified, "zip has been modified since it was downloaded")
                .path(self.paths.file("zip"))
                .hashes(Some(h), zip_h1)
                .fix(REDOWNLOAD, self.whole());
            self.findings.push(f);
        }
        if let Some(d) = dir.filter(|_| dir_bad) {
            let diff = zip.map(|z| dirhash::diff(d, z, &self.prefix));
            let mut f = self
                .finding(K::DirModified, dir_detail(diff.as_ref(), Some(d)))
                .path(&self.paths.dir)
                .hashes(Some(h), dir_h1);
            f.diff = diff;
            f = if zip_bad || zip.is_none() {
                f.fix(REDOWNLOAD, self.whole())
            } else {
                f.fix("remove the extracted tree; go re-extracts it from the verified zip", self.tree())
            };
            self.findings.push(f);
        }
    }

    /// Whether the zip is there now: a prune beside us may have removed it
    /// since the scan saw it.
    fn zip_is_there(&self) -> bool {
        self.rec.has(DownloadFile::Zip) && std::fs::symlink_metadata(self.paths.file("zip")).is_ok()
    }

    /// A missing or malformed `.ziphash`: nothing to compare with, so zip and
    /// tree are compared with each other.
    fn compare_without(&mut self, ziphash: &Ziphash, zip: Option<&TreeHash>, dir: Option<&TreeHash>) {
        let has_zip = self.zip_is_there();
        let zip_h1 = zip.and_then(|t| t.h1.as_deref());
        let dir_h1 = dir.and_then(|t| t.h1.as_deref());
        let what = match ziphash {
            // Already reported by read_ziphash, without a fix.
            Ziphash::Valid(_) | Ziphash::Unreadable => return,
            Ziphash::Missing if !has_zip => {
                let f = self
                    .finding(
                        K::ExtractedWithoutDownload,
                        "extracted tree has neither zip nor .ziphash; go treats it as incomplete",
                    )
                    .path(&self.paths.dir)
                    .hashes(None, dir_h1)
                    .fix("remove the tree; go downloads and re-verifies it", self.tree());
                self.findings.push(f);
                return;
            }
            Ziphash::Missing => (K::ZiphashMissing, "missing".to_owned()),
            Ziphash::Malformed(s) => (K::ZiphashMalformed, format!("malformed ({s:?})")),
        };
        let f = self
            .finding(what.0, format!(".ziphash is {}: the zip and tree cannot be checked", what.1))
            .path(self.paths.file("ziphash"))
            .hashes(None, zip_h1)
            .fix(REDOWNLOAD, self.whole());
        self.findings.push(f);
        if let (Some(d), Some(z)) = (dir, zip) {
            let diff = dirhash::diff(d, z, &self.prefix);
            if !diff.is_empty() || dir_h1 != zip_h1 {
                let mut f = self
                    .finding(K::DirModified, dir_detail(Some(&diff), Some(d)))
                    .path(&self.paths.dir)
                    .hashes(zip_h1, dir_h1)
                    .fix("remove the extracted tree; go re-extracts it from the zip", self.tree());
                f.diff = Some(diff);
                self.findings.push(f);
            }
        }
    }

    /// The `.mod` file against the go.mod in the zip (or the tree); returns its `h1:`.
    fn check_mod(&mut self, inside: Option<&TreeHash>) -> Option<String> {
        let mod_path = self.paths.file("mod");
        if !self.rec.has(DownloadFile::Mod) {
            return None;
        }
        let data = match crate::fs::noatime::read(&mod_path) {
            Ok(d) => d,
            Err(e) => {
                let f = self.finding(K::ModMismatch, format!("cannot read .mod: {e}")).path(&mod_path);
                self.findings.push(f);
                return None;
            }
        };
        let inner = inside.map(|t| t.file(&format!("{}/go.mod", self.prefix)));
        if let Some(inner) = inner.filter(|_| !self.rec.is_toolchain()) {
            let have: [u8; 32] = Sha256::digest(&data).into();
            let (want, what) = match inner {
                Some(f) => (f.sha256, "the go.mod inside the module"),
                None => (
                    Some(Sha256::digest(legacy_go_mod(&self.rec.module).as_bytes()).into()),
                    "`module <path>`, which go writes for modules without go.mod",
                ),
            };
            if want.is_some_and(|w| w != have) {
                let f = self
                    .finding(K::ModMismatch, format!("downloaded .mod differs from {what}"))
                    .path(&mod_path)
                    .fix("remove the version's download files; go re-downloads them", self.whole());
                self.findings.push(f);
            }
        }
        Some(dirhash::hash_go_mod(&data))
    }

    /// The checksum database's cached records against the zip and `.mod` hashes.
    fn check_sumdb(&mut self, records: &[SumdbRecord], zip_ref: Option<&str>, mod_h1: Option<&str>) {
        for r in records {
            let pairs = [
                (r.zip.as_deref(), zip_ref, "the module zip", self.paths.file("ziphash")),
                (r.go_mod.as_deref(), mod_h1, "go.mod", self.paths.file("mod")),
            ];
            for (want, have, what, local) in pairs {
                if let (Some(want), Some(have)) = (want, have)
                    && want != have
                {
                    let f = self
                        .finding(K::SumdbMismatch, format!("{} records a different hash for {what}", r.db))
                        .path(&r.path)
                        .path(local)
                        .hashes(Some(want), Some(have))
                        .fix(REDOWNLOAD, self.whole());
                    self.findings.push(f);
                }
            }
        }
    }

    fn check_leftovers(&mut self) {
        let rec = self.rec;
        let (m, v) = (rec.module.as_str(), rec.version.as_str());
        if rec.has(DownloadFile::Temp) {
            let mut f = self
                .finding(K::TempFile, "temporary download files left by an interrupted go command")
                .fix("remove the temporary files", vec![download_targets(m, v, &[DownloadFile::Temp])]);
            f.paths = self.paths.temp_files();
            self.findings.push(f);
        }
        if rec.extract_temp.is_some() {
            for dir in self.paths.extract_temps() {
                let target = Target::ExtractTemp { module: m.to_owned(), version: v.to_owned(), dir: dir.clone() };
                let f = self
                    .finding(K::ExtractTemp, "extraction directory left by Go before 1.16")
                    .path(&dir)
                    .fix("remove the directory", vec![target]);
                self.findings.push(f);
            }
        }
    }
}

/// The most characters a finding's one sentence takes.
const MAX_DETAIL: usize = 300;

/// `e` said about a file of the tree at `dir`, which the finding names in
/// its path: the file relative to the tree, and short even for a deep one.
fn within(e: &dirhash::HashError, dir: &Path) -> String {
    let text = e.to_string().replace(&format!("{}/", dir.display()), "");
    if text.chars().count() <= MAX_DETAIL {
        return text;
    }
    let chars: Vec<char> = text.chars().collect();
    let half = MAX_DETAIL / 2;
    format!("{}…{}", chars[..half].iter().collect::<String>(), chars[chars.len() - half..].iter().collect::<String>())
}

/// Checks one version. Never fails: unreadable files become findings.
#[must_use]
pub fn check_version(modcache: &Path, rec: &VersionRecord, dbs: &[String]) -> VersionCheck {
    let mut c = Checker {
        rec,
        paths: VersionPaths::new(modcache, &rec.module, &rec.version),
        prefix: format!("{}@{}", rec.module, rec.version),
        findings: Vec::new(),
    };
    let ziphash = c.read_ziphash();
    let tree_dir = c.tree_to_hash();
    let zip = if rec.has(DownloadFile::Zip) { c.hash_zip(tree_dir.as_deref()) } else { None };
    let tree = tree_dir.and_then(|d| c.hash_tree(&d, zip.as_ref()));
    let zip = zip.map(|z| z.tree);
    match &ziphash {
        Ziphash::Valid(h) => c.compare_valid(h, zip.as_ref(), tree.as_ref()),
        other if c.zip_is_there() || tree.is_some() => c.compare_without(other, zip.as_ref(), tree.as_ref()),
        _ => {}
    }
    let mod_h1 = c.check_mod(zip.as_ref().or(tree.as_ref()));
    let zip_h1 = zip.as_ref().and_then(|t| t.h1.clone());
    let dir_h1 = tree.as_ref().and_then(|t| t.h1.clone());
    // Without a .ziphash the sumdb is compared with the zip alone, as before.
    let zip_ref = match &ziphash {
        Ziphash::Valid(_) => reference(&ziphash, zip_h1.as_deref(), dir_h1.as_deref()),
        _ => zip_h1.as_deref(),
    };
    let records = sumdb::lookup(modcache, dbs, &rec.module, &rec.version);
    c.check_sumdb(&records, zip_ref, mod_h1.as_deref());
    c.check_leftovers();
    VersionCheck {
        module: rec.module.clone(),
        version: rec.version.clone(),
        ziphash,
        zip_h1,
        dir_h1,
        mod_h1,
        sumdb: records,
        findings: c.findings,
    }
}

/// A [`VersionRecord`] for one version, from a few `lstat`s instead of a
/// scan: which download files exist and whether the tree does. `None` when
/// the cache holds nothing for it.
#[must_use]
pub fn record_for(modcache: &Path, module: &str, version: &str) -> Option<VersionRecord> {
    let p = VersionPaths::new(modcache, module, version);
    let mut rec = VersionRecord { module: module.to_owned(), version: version.to_owned(), ..VersionRecord::default() };
    for f in [
        DownloadFile::Zip,
        DownloadFile::Ziphash,
        DownloadFile::Info,
        DownloadFile::Mod,
        DownloadFile::Lock,
        DownloadFile::Partial,
    ] {
        if let Some(s) = f.suffix()
            && std::fs::symlink_metadata(p.file(s)).is_ok_and(|m| m.is_file())
        {
            rec.download_by_file.insert(f, crate::scan::Stats::default());
        }
    }
    if !p.temp_files().is_empty() {
        rec.download_by_file.insert(DownloadFile::Temp, crate::scan::Stats::default());
    }
    if std::fs::symlink_metadata(&p.dir).is_ok_and(|m| m.is_dir()) {
        rec.extracted = Some(crate::scan::Stats::default());
    }
    if !p.extract_temps().is_empty() {
        rec.extract_temp = Some(crate::scan::Stats::default());
    }
    (!rec.download_by_file.is_empty() || rec.extracted.is_some()).then_some(rec)
}

/// The go.mod cmd/go synthesises for a module without one (`LegacyGoMod`).
#[must_use]
pub fn legacy_go_mod(module: &str) -> String {
    // modfile.AutoQuote quotes only paths with spaces or quotes, which
    // module paths cannot contain.
    format!("module {module}\n")
}

fn dir_detail(diff: Option<&dirhash::TreeDiff>, tree: Option<&TreeHash>) -> String {
    let mut parts = Vec::new();
    if let Some(d) = diff {
        let list = |v: &[String]| {
            let mut s = v.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            if v.len() > 5 {
                let _ = write!(s, " and {} more", v.len() - 5);
            }
            s
        };
        if !d.modified.is_empty() {
            parts.push(format!("modified: {}", list(&d.modified)));
        }
        if !d.added.is_empty() {
            parts.push(format!("added: {}", list(&d.added)));
        }
        if !d.removed.is_empty() {
            parts.push(format!("removed: {}", list(&d.removed)));
        }
    }
    if tree.is_some_and(|t| t.h1.is_none()) && parts.is_empty() {
        parts.push("holds symbolic links or special files, which go never extracts".to_owned());
    }
    if parts.is_empty() {
        "extracted tree has been modified since it was extracted".to_owned()
    } else {
        format!("extracted tree has been modified ({})", parts.join("; "))
    }
}

/// Every version's check, in the inventory's order.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ModcacheCheck {
    pub root: PathBuf,
    pub versions_checked: usize,
    /// Versions whose files were read and hashed in this run.
    pub versions_hashed: usize,
    /// Versions not hashed again: they verified clean before and nothing
    /// they were verified from has changed since, as `stat` sees it (size,
    /// mtime, ctime and inode of every file, the tree's file list).
    pub versions_unchanged: usize,
    /// Bytes of the files read to hash the versions hashed: zips,
    /// `.ziphash` and `.mod` files, extracted trees.
    pub bytes_hashed: u64,
    /// Versions the checksum database cache has a record for.
    pub sumdb_records: usize,
    pub sumdb_databases: Vec<String>,
    #[serde(skip)]
    pub versions: Vec<VersionCheck>,
    /// What a later verify may take as verified, keyed `<module>@<version>`.
    #[serde(skip)]
    pub clean: BTreeMap<String, VersionMemory>,
}

impl ModcacheCheck {
    #[must_use]
    pub fn get(&self, module: &str, version: &str) -> Option<&VersionCheck> {
        self.versions
            .binary_search_by(|c| (c.module.as_str(), c.version.as_str()).cmp(&(module, version)))
            .ok()
            .map(|i| &self.versions[i])
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.versions.iter().flat_map(|v| v.findings.iter())
    }
}

/// Checks every version, in parallel; `progress` is called once per version.
/// With `memory`, a version that verified clean before and whose files are
/// unchanged since (see [`incremental`]) is taken from it, not hashed.
#[must_use]
#[allow(clippy::type_complexity)]
pub fn check_modcache(
    modcache: &Path,
    versions: &[VersionRecord],
    memory: Option<&Memory>,
    progress: &(dyn Fn() + Sync),
) -> ModcacheCheck {
    let dbs = sumdb::databases(modcache);
    // Each check, the bytes read to hash it (none when taken from memory), and what to remember of it.
    let mut checks: Vec<(VersionCheck, Option<u64>, Option<(String, VersionMemory)>)> = versions
        .par_iter()
        .with_max_len(1)
        .map(|rec| {
            // Taken before hashing: a change while the check reads moves ctime
            // past it, and the next verify hashes the version again.
            let snap = incremental::snapshot(modcache, rec, &dbs);
            let (c, hashed) = match memory.and_then(|m| incremental::recalled(m, modcache, rec, &dbs, &snap)) {
                Some(c) => (c, None),
                None => (check_version(modcache, rec, &dbs), Some(snap.bytes)),
            };
            let keep = incremental::to_remember(&c, &snap);
            progress();
            (c, hashed, keep)
        })
        .collect();
    checks
        .sort_by(|a, b| (a.0.module.as_str(), a.0.version.as_str()).cmp(&(b.0.module.as_str(), b.0.version.as_str())));
    let versions_hashed = checks.iter().filter(|c| c.1.is_some()).count();
    let bytes_hashed = checks.iter().filter_map(|c| c.1).sum();
    let mut clean = BTreeMap::new();
    let mut out = Vec::with_capacity(checks.len());
    for (c, _, keep) in checks {
        clean.extend(keep);
        out.push(c);
    }
    ModcacheCheck {
        root: modcache.to_owned(),
        versions_checked: out.len(),
        versions_hashed,
        versions_unchanged: out.len() - versions_hashed,
        bytes_hashed,
        sumdb_records: out.iter().filter(|c| !c.sumdb.is_empty()).count(),
        sumdb_databases: dbs,
        versions: out,
        clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ziphash_go_is_writing_is_read_once_written() {
        use std::io::{Seek, Write as _};
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("v1.0.0.ziphash");
        let h = "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=";
        // hashZip: lockedfile.Create, Truncate to the length (NUL bytes), WriteAt.
        let mut w = std::fs::File::create(&path).unwrap();
        w.lock().unwrap();
        w.set_len(h.len() as u64).unwrap();
        let reader = std::thread::spawn({
            let path = path.clone();
            move || read_ziphash(&path).unwrap()
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        w.rewind().unwrap();
        w.write_all(h.as_bytes()).unwrap();
        drop(w);
        assert_eq!(reader.join().unwrap(), Ziphash::Valid(h.into()));
    }

    #[test]
    fn ziphash_is_read_like_cmd_go() {
        let h = "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=";
        assert_eq!(parse_ziphash(h.as_bytes()), Ziphash::Valid(h.into()));
        // TrimSpace: a trailing newline is accepted.
        assert_eq!(parse_ziphash(format!("{h}\n").as_bytes()), Ziphash::Valid(h.into()));
        // isValidSum: NUL bytes from a torn write, wrong length, binary garbage.
        let mut torn = h.as_bytes().to_vec();
        torn[10] = 0;
        assert!(matches!(parse_ziphash(&torn), Ziphash::Malformed(_)));
        assert!(matches!(parse_ziphash(&h.as_bytes()[..40]), Ziphash::Malformed(_)));
        assert!(matches!(parse_ziphash(&[0xff; 47]), Ziphash::Malformed(_)));
        assert!(matches!(parse_ziphash(b""), Ziphash::Malformed(_)));
        // A 47-byte value without h1: is what checkMod calls an unexpected ziphash.
        assert!(matches!(parse_ziphash(format!("h2:{}", &h[3..]).as_bytes()), Ziphash::Malformed(_)));
    }

    fn cache_with_zip(entries: &[(&str, &[u8])]) -> (tempfile::TempDir, VersionRecord) {
        use std::io::Write as _;
        let t = tempfile::tempdir().unwrap();
        let p = VersionPaths::new(t.path(), "example.com/m", "v1.0.0");
        std::fs::create_dir_all(&p.download_dir).unwrap();
        let mut w = zip::ZipWriter::new(std::fs::File::create(p.file("zip")).unwrap());
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        let rec = record_for(t.path(), "example.com/m", "v1.0.0").unwrap();
        (t, rec)
    }

    #[test]
    fn zip_entries_escaping_the_prefix_are_a_finding() {
        for bad in ["example.com/m@v1.0.0/../../evil.go", "other@v1.0.0/x.go", "/etc/passwd", "example.com/m@v1.0.0x/y"]
        {
            let (t, rec) = cache_with_zip(&[("example.com/m@v1.0.0/go.mod", b"module example.com/m\n"), (bad, b"x")]);
            let c = check_version(t.path(), &rec, &[]);
            let kinds: Vec<K> = c.findings.iter().map(|f| f.kind).collect();
            assert!(kinds.contains(&K::ZipUnexpectedFile), "{bad}: {kinds:?}");
        }
    }

    #[test]
    fn truncated_zip_and_binary_ziphash_are_findings() {
        let (t, rec) = cache_with_zip(&[("example.com/m@v1.0.0/go.mod", b"module example.com/m\n")]);
        let p = VersionPaths::new(t.path(), "example.com/m", "v1.0.0");
        let data = std::fs::read(p.file("zip")).unwrap();
        std::fs::write(p.file("zip"), &data[..data.len() / 2]).unwrap();
        std::fs::write(p.file("ziphash"), [0u8, 159, 146, 150]).unwrap();
        let c = check_version(t.path(), &rec, &[]);
        let kinds: Vec<K> = c.findings.iter().map(|f| f.kind).collect();
        assert!(kinds.contains(&K::ZipUnreadable), "{kinds:?}");
        assert!(kinds.contains(&K::ZiphashMalformed), "{kinds:?}");
    }

    #[test]
    fn toolchain_trees_changed_by_go_are_not_corruption() {
        let (module, version) = ("golang.org/toolchain", "v0.0.1-go1.99.0.linux-amd64");
        let tmp = tempfile::tempdir().unwrap();
        let paths = VersionPaths::new(tmp.path(), module, version);
        std::fs::create_dir_all(&paths.download_dir).unwrap();
        {
            use std::io::Write as _;
            let mut writer = zip::ZipWriter::new(std::fs::File::create(paths.file("zip")).unwrap());
            writer
                .start_file(format!("{module}@{version}/src/_go.mod"), zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(b"module std\n").unwrap();
            writer.finish().unwrap();
        }
        let h1 = dirhash::hash_zip(&paths.file("zip"), None).unwrap().tree.h1.unwrap();
        std::fs::write(paths.file("ziphash"), &h1).unwrap();
        // What toolchain.Exec does after extraction: copy _go.mod to go.mod.
        std::fs::create_dir_all(paths.dir.join("src")).unwrap();
        std::fs::write(paths.dir.join("src/_go.mod"), b"module std\n").unwrap();
        std::fs::write(paths.dir.join("src/go.mod"), b"module std\n").unwrap();
        let rec = record_for(tmp.path(), module, version).unwrap();
        let checked = check_version(tmp.path(), &rec, &[]);
        assert!(checked.findings.is_empty(), "{:?}", checked.findings);
    }

    #[test]
    fn a_version_removed_after_the_scan_is_no_finding() {
        let (t, rec) = cache_with_zip(&[("m@v1.0.0/go.mod", b"module m\n")]);
        let paths = VersionPaths::new(t.path(), &rec.module, &rec.version);
        let mut rec = rec;
        rec.extracted = Some(crate::scan::Stats::default());
        std::fs::remove_file(paths.file("zip")).unwrap();
        let checked = check_version(t.path(), &rec, &[]);
        let kinds: Vec<_> = checked.findings.iter().map(|f| f.kind).collect();
        assert!(!kinds.contains(&K::ZipUnreadable) && !kinds.contains(&K::DirUnreadable), "{kinds:?}");
    }

    #[test]
    fn paths_are_escaped_like_cmd_go() {
        let p = VersionPaths::new(Path::new("/m"), "example.com/Foo/bar", "v1.0.0-RC");
        assert_eq!(p.file("zip"), Path::new("/m/cache/download/example.com/!foo/bar/@v/v1.0.0-!r!c.zip"));
        assert_eq!(p.dir, Path::new("/m/example.com/!foo/bar@v1.0.0-!r!c"));
    }
}
