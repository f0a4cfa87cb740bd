//! Parallel walk of GOMODCACHE and GOCACHE into an [`Inventory`].
//!
//! ## Units
//! The walk recurses in parallel (rayon) through the directories *between*
//! the units Go itself manages: an extracted `<module>@<version>/` tree, a
//! `cache/download/<module>/@v/` directory, `cache/download/sumdb/`, a
//! `cache/vcs/<hash>` repository, a GOCACHE shard or `fuzz/`. Each unit is then
//! walked sequentially and summed without classifying every file, which
//! keeps the per-file cost at one `statx` relative to the open directory.
//!
//! ## Memory
//! Nothing is kept per file: sizes and times are summed per module version
//! and per category, so memory grows with the number of module versions.
//!
//! ## Safety
//! Symbolic links are counted as themselves and never followed; directories
//! on another file system are skipped (unless asked) and reported; a file with
//! several hard links is counted once, by `(dev, inode)`. Unreadable entries
//! become warnings and the walk goes on.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::Serialize;

use crate::layout::{self, BuildPath, Category, DownloadFile, ModPath};
use crate::timestamp::Timestamp;

/// Why a cache could not be scanned at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{kind} directory {path} does not exist")]
    Missing { kind: CacheKind, path: PathBuf },
    #[error("{kind} path {path} is not a directory")]
    NotADirectory { kind: CacheKind, path: PathBuf },
    #[error("cannot read {kind} directory {path}: {source}")]
    Unreadable { kind: CacheKind, path: PathBuf, source: std::io::Error },
}

/// Which of Go's two caches (defined with the cache layout).
pub use crate::layout::CacheKind;

/// How to walk.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Stay on the file system of the cache root (default), like `du -x`.
    pub one_file_system: bool,
    /// Sum every file inside the units (extracted trees, `.tmp-` dirs, vcs
    /// repositories, the sumdb cache), as `status` and `prune` need. `false`
    /// records each unit by its own directory entry only: enough for callers
    /// that need to know which versions the cache holds and which files they
    /// have (`verify`), at a fraction of the `statx` calls.
    pub measure_units: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self { one_file_system: true, measure_units: true }
    }
}

/// Sizes and times summed over a set of files and directories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Stats {
    /// Sum of `st_size` (what `du -sb` counts).
    pub apparent_bytes: u64,
    /// Sum of `st_blocks × 512` (what `du -sB1` counts).
    pub disk_bytes: u64,
    /// Regular files, symbolic links and other non-directories.
    pub files: u64,
    pub dirs: u64,
    /// File times only: reading a directory updates its atime, so
    /// directory times would say "used" for every scan.
    pub oldest_mtime: Option<Timestamp>,
    pub newest_mtime: Option<Timestamp>,
    pub oldest_atime: Option<Timestamp>,
    pub newest_atime: Option<Timestamp>,
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) | (None, x) => x,
    }
}

fn max_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    a.max(b)
}

impl Stats {
    /// Counts one entry from its (not followed) metadata.
    pub fn add_entry(&mut self, md: &Metadata) {
        self.apparent_bytes += md.len();
        self.disk_bytes += md.blocks() * 512;
        if md.is_dir() {
            self.dirs += 1;
        } else {
            self.files += 1;
            let mtime = Some(Timestamp(md.mtime()));
            let atime = Some(Timestamp(md.atime()));
            self.oldest_mtime = min_opt(self.oldest_mtime, mtime);
            self.newest_mtime = max_opt(self.newest_mtime, mtime);
            self.oldest_atime = min_opt(self.oldest_atime, atime);
            self.newest_atime = max_opt(self.newest_atime, atime);
        }
    }

    /// The last time anything here was read or written, as far as the file
    /// system records it.
    #[must_use]
    pub fn last_used(&self) -> Option<Timestamp> {
        max_opt(self.newest_atime, self.newest_mtime)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files == 0 && self.dirs == 0
    }
}

impl std::ops::AddAssign<&Stats> for Stats {
    fn add_assign(&mut self, o: &Stats) {
        self.apparent_bytes += o.apparent_bytes;
        self.disk_bytes += o.disk_bytes;
        self.files += o.files;
        self.dirs += o.dirs;
        self.oldest_mtime = min_opt(self.oldest_mtime, o.oldest_mtime);
        self.newest_mtime = max_opt(self.newest_mtime, o.newest_mtime);
        self.oldest_atime = min_opt(self.oldest_atime, o.oldest_atime);
        self.newest_atime = max_opt(self.newest_atime, o.newest_atime);
    }
}

/// Sizes and times of one file or tree, measured as a scan measures a unit:
/// links are not followed, a hard link met twice counts once, and nothing
/// at `path` gives zeros. For the few paths a caller needs sized after a
/// scan that did not measure units.
#[must_use]
pub fn measure(path: &Path) -> Stats {
    let Ok(md) = fs::symlink_metadata(path) else { return Stats::default() };
    if !md.is_dir() {
        let mut s = Stats::default();
        s.add_entry(&md);
        return s;
    }
    let walker = Walker {
        root: path.to_owned(),
        root_dev: md.dev(),
        one_file_system: true,
        measure_units: true,
        seen_links: Mutex::new(HashSet::new()),
    };
    walker.sum_tree(path, &md, &mut Acc::default())
}

/// Everything the module cache holds for one `module@version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct VersionRecord {
    /// Unescaped module path (`example.com/Org/Lib`).
    pub module: String,
    /// Unescaped version.
    pub version: String,
    /// The extracted `<module>@<version>/` tree, if present.
    pub extracted: Option<Stats>,
    /// Which download files exist (`.tmp` files once, however many) and
    /// their bytes, so that a plan removing only some of them (debris) can
    /// say how many bytes that frees.
    pub download_by_file: BTreeMap<DownloadFile, Stats>,
    /// Pre-Go-1.16 `<module>@<version>.tmp-*` extraction leftovers.
    pub extract_temp: Option<Stats>,
    /// Those leftover directories, relative to the cache root.
    pub extract_temp_dirs: BTreeSet<PathBuf>,
}

/// Go ≥ 1.24 unpacks this module from GOROOT: its tree has no `.ziphash`
/// by design, and is no orphan.
pub const FIPS140_MODULE: &str = "golang.org/fips140";

/// What of a module version is debris: what Go would discard or redo by
/// itself. The one classification `status` counts and `prune --debris` removes.
// Independent facts about one version, each a yes or no.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Debris {
    /// The extracted tree is incomplete: a `.partial` marks it, or its
    /// `.ziphash` is gone (Go then re-extracts it).
    pub tree: bool,
    /// Beside such an orphan tree there is nothing but the lock: the whole
    /// version goes.
    pub whole: bool,
    /// A `.partial` marker without a tree.
    pub partial_alone: bool,
    /// `<version>.<suffix><digits>.tmp` downloads.
    pub temps: bool,
    /// A `.ziphash` with neither zip nor tree.
    pub lone_ziphash: bool,
    /// Pre-Go-1.16 `.tmp-` extraction dirs.
    pub extract_temps: bool,
}

impl Debris {
    #[must_use]
    pub fn any(&self) -> bool {
        *self != Debris::default()
    }
}

impl VersionRecord {
    /// What of this version is debris (see [`Debris`]). A zip without
    /// `.mod`/`.info` is not: Go uses it once it has fetched the `.mod`.
    /// `.lock` files never are.
    #[must_use]
    pub fn debris(&self) -> Debris {
        let only_lock = self.download_kinds().all(|f| f == DownloadFile::Lock);
        let partial = self.has(DownloadFile::Partial);
        let orphan = self.extracted.is_some() && !self.has(DownloadFile::Ziphash) && self.module != FIPS140_MODULE;
        let tree = self.extracted.is_some() && (partial || orphan);
        Debris {
            tree,
            whole: tree && !partial && only_lock,
            partial_alone: partial && self.extracted.is_none(),
            temps: self.has(DownloadFile::Temp),
            lone_ziphash: self.has(DownloadFile::Ziphash) && !self.has(DownloadFile::Zip) && self.extracted.is_none(),
            extract_temps: self.extract_temp.is_some(),
        }
    }

    /// Every `cache/download/<module>/@v/<version>.*` file.
    #[must_use]
    pub fn download(&self) -> Stats {
        let mut t = Stats::default();
        for s in self.download_by_file.values() {
            t += s;
        }
        t
    }

    /// Extracted tree + download files + leftovers.
    #[must_use]
    pub fn total(&self) -> Stats {
        let mut t = self.download();
        if let Some(e) = &self.extracted {
            t += e;
        }
        if let Some(e) = &self.extract_temp {
            t += e;
        }
        t
    }

    /// Whether the version holds anything but Go's lock file, which
    /// outlives every removal (prune never deletes a lock).
    #[must_use]
    pub fn holds_content(&self) -> bool {
        self.extracted.is_some()
            || self.extract_temp.is_some()
            || self.download_kinds().any(|k| k != DownloadFile::Lock)
    }

    #[must_use]
    pub fn has(&self, f: DownloadFile) -> bool {
        self.download_by_file.contains_key(&f)
    }

    /// The kinds of download file this version has.
    pub fn download_kinds(&self) -> impl Iterator<Item = DownloadFile> + '_ {
        self.download_by_file.keys().copied()
    }

    #[must_use]
    pub fn is_toolchain(&self) -> bool {
        self.module == layout::TOOLCHAIN_MODULE
    }
}

/// Something the walk could not read; the rest of the cache was still counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ScanWarning {
    pub path: PathBuf,
    pub message: String,
}

/// What one cache holds.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CacheInventory {
    pub kind: CacheKind,
    /// The canonical root that was walked.
    pub root: PathBuf,
    pub total: Stats,
    /// Every counted byte is in exactly one category.
    pub categories: BTreeMap<Category, Stats>,
    /// Module cache: one record per module version, sorted by module path
    /// then semantic version. Empty for the build cache.
    pub versions: Vec<VersionRecord>,
    /// Build cache: action and output entries bucketed by the UTC day
    /// (days since the Unix epoch) of their mtime, which Go refreshes on use.
    pub build_entries_by_day: BTreeMap<i64, Stats>,
    /// Module cache: each `cache/vcs/<hash>` repository with its `<hash>.info`
    /// and `<hash>.lock`, by hash, so that repositories can age out one by one.
    pub vcs_repos: BTreeMap<String, Stats>,
    /// Module cache, relative to the root: entries whose name is not valid
    /// UTF-8, so cmd/go cannot have written them (module paths and versions
    /// are ASCII), each measured whole; and empty directories on the way to
    /// extracted trees (a module path's `example.com/`), which removing the
    /// trees left. `go clean -modcache` removes both; so does `prune --all`.
    #[serde(skip)]
    pub leftovers: BTreeMap<PathBuf, Stats>,
    pub warnings: Vec<ScanWarning>,
}

/// Both caches, each scanned if it could be.
#[derive(Debug, Default)]
pub struct Inventory {
    pub modcache: Option<Result<CacheInventory, ScanError>>,
    pub gocache: Option<Result<CacheInventory, ScanError>>,
}

#[derive(Default)]
struct Acc {
    total: Stats,
    categories: HashMap<Category, Stats>,
    versions: HashMap<(String, String), VersionRecord>,
    by_day: BTreeMap<i64, Stats>,
    vcs: BTreeMap<String, Stats>,
    leftovers: BTreeMap<PathBuf, Stats>,
    warnings: Vec<ScanWarning>,
}

impl Acc {
    fn merge(self, other: Acc) -> Acc {
        let (mut big, small) = if self.versions.len() >= other.versions.len() { (self, other) } else { (other, self) };
        big.total += &small.total;
        for (c, s) in small.categories {
            *big.categories.entry(c).or_default() += &s;
        }
        for (k, v) in small.versions {
            let r = big.versions.entry(k).or_default();
            merge_record(r, v);
        }
        for (d, s) in small.by_day {
            *big.by_day.entry(d).or_default() += &s;
        }
        for (h, s) in small.vcs {
            *big.vcs.entry(h).or_default() += &s;
        }
        big.leftovers.extend(small.leftovers);
        big.warnings.extend(small.warnings);
        big
    }

    fn add(&mut self, category: Category, s: &Stats) {
        self.total += s;
        *self.categories.entry(category).or_default() += s;
    }

    fn version(&mut self, module: &str, version: &str) -> &mut VersionRecord {
        self.versions.entry((module.to_owned(), version.to_owned())).or_insert_with(|| VersionRecord {
            module: module.to_owned(),
            version: version.to_owned(),
            ..VersionRecord::default()
        })
    }

    fn warn(&mut self, path: &Path, message: impl std::fmt::Display) {
        self.warnings.push(ScanWarning { path: path.to_owned(), message: message.to_string() });
    }
}

fn add_opt(slot: &mut Option<Stats>, s: Option<Stats>) {
    if let Some(s) = s {
        *slot.get_or_insert_with(Stats::default) += &s;
    }
}

fn merge_record(into: &mut VersionRecord, from: VersionRecord) {
    if into.module.is_empty() {
        into.module = from.module;
        into.version = from.version;
    }
    add_opt(&mut into.extracted, from.extracted);
    add_opt(&mut into.extract_temp, from.extract_temp);
    for (f, s) in from.download_by_file {
        *into.download_by_file.entry(f).or_default() += &s;
    }
    into.extract_temp_dirs.extend(from.extract_temp_dirs);
}

/// The repository hash of a `cache/vcs/<hash>[.info|.lock]` path.
fn vcs_hash(rel: &Path) -> Option<String> {
    let name = rel.strip_prefix("cache/vcs").ok()?.components().next()?.as_os_str().to_str()?;
    let hash = name.strip_suffix(".info").or_else(|| name.strip_suffix(".lock")).unwrap_or(name);
    Some(hash.to_owned())
}

struct Walker {
    root: PathBuf,
    root_dev: u64,
    one_file_system: bool,
    measure_units: bool,
    /// Only files with more than one link go in here, so it stays small.
    seen_links: Mutex<HashSet<(u64, u64)>>,
}

impl Walker {
    /// False when this entry was already counted through another hard link.
    fn first_sighting(&self, md: &Metadata) -> bool {
        if md.is_dir() || md.nlink() < 2 {
            return true;
        }
        self.seen_links.lock().expect("hard-link set poisoned").insert((md.dev(), md.ino()))
    }

    fn crosses_fs(&self, md: &Metadata) -> bool {
        self.one_file_system && md.is_dir() && md.dev() != self.root_dev
    }

    fn rel<'a>(&self, p: &'a Path) -> &'a Path {
        p.strip_prefix(&self.root).unwrap_or(p)
    }

    /// Sums a whole unit (`dir`, whose own metadata is `md`) sequentially;
    /// directories below it on another file system are skipped with a
    /// warning.
    ///
    /// This is the hot loop: one `statx` per entry, relative to the open
    /// directory (`DirEntry::metadata`), instead of a full-path `lstat` that
    /// makes the kernel resolve every component again (what walkdir's
    /// `DirEntry::metadata` does); that halves the system time on trees of
    /// small files.
    fn sum_tree(&self, dir: &Path, md: &Metadata, acc: &mut Acc) -> Stats {
        let mut s = Stats::default();
        s.add_entry(md);
        if !self.measure_units {
            return s;
        }
        let mut pending = vec![dir.to_owned()];
        while let Some(d) = pending.pop() {
            let rd = match fs::read_dir(&d) {
                Ok(rd) => rd,
                Err(e) => {
                    acc.warn(&d, e);
                    continue;
                }
            };
            for entry in rd {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        acc.warn(&d, e);
                        continue;
                    }
                };
                match entry.metadata() {
                    Ok(md) if self.crosses_fs(&md) => acc.warn(&entry.path(), "on another file system; not counted"),
                    Ok(md) => {
                        if self.first_sighting(&md) {
                            s.add_entry(&md);
                        }
                        if md.is_dir() {
                            pending.push(entry.path());
                        }
                    }
                    Err(e) => acc.warn(&entry.path(), e),
                }
            }
        }
        s
    }

    /// Lists a directory: `(path, metadata)` of each child, warnings for the rest.
    fn children(&self, dir: &Path, acc: &mut Acc) -> Vec<(PathBuf, Metadata)> {
        let rd = match fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                acc.warn(dir, e);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for entry in rd {
            match entry.and_then(|e| {
                let md = e.metadata()?;
                Ok((e.path(), md))
            }) {
                Ok((p, md)) if self.crosses_fs(&md) => acc.warn(&p, "on another file system; not counted"),
                Ok(pm) => out.push(pm),
                Err(e) => acc.warn(dir, e),
            }
        }
        out
    }

    /// Whether `path`'s own name is not UTF-8 (see [`CacheInventory::leftovers`]).
    fn is_stray(&self, path: &Path) -> bool {
        self.rel(path).file_name().is_some_and(|n| n.to_str().is_none())
    }

    fn modcache_dir(&self, dir: &Path, md: &Metadata) -> Acc {
        let mut acc = Acc::default();
        if self.is_stray(dir) {
            let s = self.sum_tree(dir, md, &mut acc);
            acc.add(Category::Other, &s);
            acc.leftovers.insert(self.rel(dir).to_owned(), s);
            return acc;
        }
        let class = layout::classify_modcache(self.rel(dir), true);
        let is_unit = matches!(
            class,
            ModPath::ExtractedRoot { .. } | ModPath::ExtractTemp { .. } | ModPath::Sumdb | ModPath::Vcs
        );
        if is_unit {
            let s = self.sum_tree(dir, md, &mut acc);
            acc.add(class.category(), &s);
            match class {
                ModPath::ExtractedRoot { module, version } => {
                    add_opt(&mut acc.version(&module, &version).extracted, Some(s));
                }
                ModPath::ExtractTemp { module, version } => {
                    let rel = self.rel(dir).to_owned();
                    let r = acc.version(&module, &version);
                    add_opt(&mut r.extract_temp, Some(s));
                    r.extract_temp_dirs.insert(rel);
                }
                ModPath::Vcs => {
                    if let Some(hash) = vcs_hash(self.rel(dir)) {
                        *acc.vcs.entry(hash).or_default() += &s;
                    }
                }
                _ => {}
            }
            return acc;
        }
        let rel = self.rel(dir);
        if class == ModPath::Structure
            && !rel.starts_with("cache")
            && rel.file_name().is_some()
            && fs::read_dir(dir).is_ok_and(|mut rd| rd.next().is_none())
        {
            let mut s = Stats::default();
            s.add_entry(md);
            acc.leftovers.insert(rel.to_owned(), s);
        }
        self.fan_out(dir, md, class.category(), acc, Self::modcache_file, Self::modcache_dir)
    }

    /// Counts a directory between units, then its files with `file`, and
    /// walks its subdirectories with `subdir`, in parallel.
    fn fan_out(
        &self,
        dir: &Path,
        md: &Metadata,
        category: Category,
        mut acc: Acc,
        file: fn(&Self, &Path, &Metadata, &mut Acc),
        subdir: fn(&Self, &Path, &Metadata) -> Acc,
    ) -> Acc {
        let mut own = Stats::default();
        own.add_entry(md);
        acc.add(category, &own);
        let children = self.children(dir, &mut acc);
        let (dirs, files): (Vec<_>, Vec<_>) = children.into_iter().partition(|(_, m)| m.is_dir());
        for (path, m) in files {
            file(self, &path, &m, &mut acc);
        }
        dirs.into_par_iter().map(|(p, m)| subdir(self, &p, &m)).reduce(Acc::default, Acc::merge).merge(acc)
    }

    fn modcache_file(&self, path: &Path, md: &Metadata, acc: &mut Acc) {
        // A second hard link adds no bytes, but it still tells which files a
        // version has: prune decides by that, whichever link the walk met first.
        let mut s = Stats::default();
        if self.first_sighting(md) {
            s.add_entry(md);
        }
        if self.is_stray(path) {
            acc.add(Category::Other, &s);
            acc.leftovers.insert(self.rel(path).to_owned(), s);
            return;
        }
        let class = layout::classify_modcache(self.rel(path), false);
        acc.add(class.category(), &s);
        match class {
            ModPath::Download { module, version, file } => {
                let r = acc.version(&module, &version);
                *r.download_by_file.entry(file).or_default() += &s;
            }
            ModPath::Vcs => {
                if let Some(hash) = vcs_hash(self.rel(path)) {
                    *acc.vcs.entry(hash).or_default() += &s;
                }
            }
            _ => {}
        }
    }

    fn gocache_dir(&self, dir: &Path, md: &Metadata) -> Acc {
        let mut acc = Acc::default();
        let class = layout::classify_gocache(self.rel(dir), true);
        if matches!(class, BuildPath::Fuzz | BuildPath::Unknown | BuildPath::Output { .. }) {
            let s = self.sum_tree(dir, md, &mut acc);
            if matches!(class, BuildPath::Output { .. }) {
                // An executable entry: go marks the directory used, not the file in it.
                *acc.by_day.entry(md.mtime().div_euclid(86_400)).or_default() += &s;
            }
            acc.add(class.category(), &s);
            return acc;
        }
        self.fan_out(dir, md, class.category(), acc, Self::gocache_file, Self::gocache_dir)
    }

    fn gocache_file(&self, path: &Path, md: &Metadata, acc: &mut Acc) {
        if !self.first_sighting(md) {
            return;
        }
        let mut s = Stats::default();
        s.add_entry(md);
        let class = layout::classify_gocache(self.rel(path), false);
        if matches!(class, BuildPath::Action { .. } | BuildPath::Output { .. }) {
            *acc.by_day.entry(md.mtime().div_euclid(86_400)).or_default() += &s;
        }
        acc.add(class.category(), &s);
    }
}

fn open_root(kind: CacheKind, path: &Path) -> Result<(PathBuf, Metadata), ScanError> {
    let root = fs::canonicalize(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ScanError::Missing { kind, path: path.to_owned() },
        _ => ScanError::Unreadable { kind, path: path.to_owned(), source: e },
    })?;
    let md = fs::symlink_metadata(&root).map_err(|e| ScanError::Unreadable { kind, path: root.clone(), source: e })?;
    if !md.is_dir() {
        return Err(ScanError::NotADirectory { kind, path: path.to_owned() });
    }
    fs::read_dir(&root).map_err(|e| ScanError::Unreadable { kind, path: root.clone(), source: e })?;
    Ok((root, md))
}

/// Moves what [`VersionRecord::debris`] calls debris but the walk counted by
/// its place (a half-extracted tree as extracted, a lone `.ziphash` as a
/// zip) to [`Category::Debris`], so the report counts what `prune --debris`
/// removes. The times of the category moved from stay as they were: they
/// bound what is left.
fn recount_debris(versions: &[VersionRecord], categories: &mut BTreeMap<Category, Stats>) {
    let mut moves: Vec<(Category, Stats)> = Vec::new();
    for v in versions {
        let d = v.debris();
        let place = |c| if v.is_toolchain() { Category::Toolchains } else { c };
        if let Some(tree) = v.extracted.filter(|_| d.tree) {
            moves.push((place(Category::Extracted), tree));
        }
        if let Some(z) = v.download_by_file.get(&DownloadFile::Ziphash).filter(|_| d.lone_ziphash) {
            moves.push((place(Category::Zips), *z));
        }
    }
    for (from, s) in moves {
        if let Some(c) = categories.get_mut(&from) {
            c.apparent_bytes = c.apparent_bytes.saturating_sub(s.apparent_bytes);
            c.disk_bytes = c.disk_bytes.saturating_sub(s.disk_bytes);
            c.files = c.files.saturating_sub(s.files);
            c.dirs = c.dirs.saturating_sub(s.dirs);
            if c.is_empty() {
                categories.remove(&from);
            }
        }
        *categories.entry(Category::Debris).or_default() += &s;
    }
}

/// Scans one cache. The root is canonicalised once; nothing below it is
/// followed through a symbolic link.
pub fn scan_cache(kind: CacheKind, path: &Path, opts: &ScanOptions) -> Result<CacheInventory, ScanError> {
    let (root, md) = open_root(kind, path)?;
    let walker = Walker {
        root: root.clone(),
        root_dev: md.dev(),
        one_file_system: opts.one_file_system,
        measure_units: opts.measure_units,
        seen_links: Mutex::new(HashSet::new()),
    };
    let run = || match kind {
        CacheKind::ModCache => walker.modcache_dir(&root, &md),
        CacheKind::BuildCache => walker.gocache_dir(&root, &md),
    };
    // In the caller's pool: the binary builds the one pool and installs it.
    let acc = run();
    let mut versions: Vec<VersionRecord> = acc.versions.into_values().collect();
    versions.sort_by(|a, b| {
        a.module.cmp(&b.module).then_with(|| crate::go::version::compare_versions(&a.version, &b.version))
    });
    let mut warnings = acc.warnings;
    warnings.sort_by(|a, b| a.path.cmp(&b.path));
    let mut categories = acc.categories.into_iter().collect();
    if kind == CacheKind::ModCache {
        recount_debris(&versions, &mut categories);
    }
    Ok(CacheInventory {
        kind,
        root,
        total: acc.total,
        categories,
        versions,
        build_entries_by_day: acc.by_day,
        vcs_repos: acc.vcs,
        leftovers: acc.leftovers,
        warnings,
    })
}

/// Scans both caches in parallel, in the caller's pool; `None` for a cache that is not in use
/// (GOCACHE=off) or was not asked for.
#[must_use]
pub fn scan(modcache: Option<&Path>, gocache: Option<&Path>, opts: &ScanOptions) -> Inventory {
    let (m, g) = rayon::join(
        || modcache.map(|p| scan_cache(CacheKind::ModCache, p, opts)),
        || gocache.map(|p| scan_cache(CacheKind::BuildCache, p, opts)),
    );
    Inventory { modcache: m, gocache: g }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, bytes: usize) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, vec![b'x'; bytes]).unwrap();
    }

    #[test]
    fn without_measuring_units_every_version_and_file_is_still_recorded_and_measure_sizes_a_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for v in ["v1.0.0", "v1.1.0"] {
            write(root, &format!("cache/download/example.com/a/@v/{v}.zip"), 5);
            write(root, &format!("cache/download/example.com/a/@v/{v}.ziphash"), 47);
            write(root, &format!("example.com/a@{v}/a.go"), 11);
            write(root, &format!("example.com/a@{v}/sub/b.go"), 13);
        }
        let full = scan_cache(CacheKind::ModCache, root, &ScanOptions::default()).unwrap();
        let quick =
            scan_cache(CacheKind::ModCache, root, &ScanOptions { measure_units: false, ..Default::default() }).unwrap();
        assert_eq!(quick.versions.len(), 2);
        for (f, q) in full.versions.iter().zip(&quick.versions) {
            assert_eq!((&f.module, &f.version), (&q.module, &q.version));
            assert_eq!(f.download_by_file, q.download_by_file, "download files are always measured");
            let (fe, qe) = (f.extracted.unwrap(), q.extracted.unwrap());
            assert_eq!((fe.files, fe.dirs), (2, 2));
            assert_eq!((qe.files, qe.dirs), (0, 1), "only the tree's own directory");
            let tree = root.join(format!("example.com/a@{}", f.version));
            assert_eq!(measure(&tree), fe);
        }
        assert_eq!(measure(&root.join("nothing here")), Stats::default());
    }

    #[test]
    fn prune_units_are_recorded_per_file_kind_temp_dir_and_vcs_repo() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let at_v = "cache/download/example.com/!a/@v";
        write(root, &format!("{at_v}/v1.0.0.zip"), 5);
        write(root, &format!("{at_v}/v1.0.0.mod"), 3);
        write(root, &format!("{at_v}/v1.0.0.lock"), 0);
        write(root, &format!("{at_v}/v1.0.0.zip123.tmp"), 7);
        write(root, "example.com/!a@v1.0.0/a.go", 11);
        write(root, "example.com/!a@v1.0.0.tmp-999/a.go", 13);
        write(root, "cache/vcs/abcd/HEAD", 17);
        write(root, "cache/vcs/abcd.info", 19);
        write(root, "cache/vcs/abcd.lock", 0);
        let inv = scan_cache(CacheKind::ModCache, root, &ScanOptions::default()).unwrap();
        let [v] = inv.versions.as_slice() else { panic!("{:?}", inv.versions) };
        assert_eq!((v.module.as_str(), v.version.as_str()), ("example.com/A", "v1.0.0"));
        let bytes = |f| v.download_by_file.get(&f).map(|s: &Stats| s.apparent_bytes);
        assert_eq!(bytes(DownloadFile::Zip), Some(5));
        assert_eq!(bytes(DownloadFile::Mod), Some(3));
        assert_eq!(bytes(DownloadFile::Temp), Some(7));
        assert_eq!(bytes(DownloadFile::Lock), Some(0));
        assert_eq!(v.download().apparent_bytes, 15);
        assert_eq!(v.extract_temp_dirs.iter().collect::<Vec<_>>(), [Path::new("example.com/!a@v1.0.0.tmp-999")]);
        let repo = &inv.vcs_repos["abcd"];
        assert_eq!((repo.files, repo.dirs), (3, 1), "HEAD, .info, .lock and the repository dir");
        assert_eq!(inv.vcs_repos.len(), 1);
    }
}
